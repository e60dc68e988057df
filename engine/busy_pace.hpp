#pragma once

// How a sender paces its offers to a node that answers busy (SPEC §8's
// orders_in_flight): the offers it may have on their way are halved at each
// busy answer and grow back by one with each offer taken, so that a busy
// node is not sent what it would refuse again; an offer refused with
// nothing else on its way waits 1 ms before it goes again, then twice as
// long each time in a row, up to 16 ms. Used by client::submit_pipelined
// and orca-bench --http. Not thread-safe.

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace orca {

class busy_pace {
public:
  /// At most `most` offers on their way (at least one).
  explicit busy_pace(std::size_t most)
      : most_(std::max<std::size_t>(1, most)), allowed_(most_) {
  }

  /// How many offers may be on their way now.
  std::size_t allowed() const {
    return allowed_;
  }

  /// An offer was taken.
  void taken() {
    allowed_ = std::min(allowed_ + 1, most_);
    pause_ = first_pause;
  }

  /// An offer was refused busy; `alone`: nothing else was on its way.
  /// Returns how long to wait before offering it again.
  std::chrono::milliseconds refused(bool alone) {
    allowed_ = std::max<std::size_t>(1, allowed_ / 2);
    if (!alone)
      return std::chrono::milliseconds{0};
    auto wait = pause_;
    pause_ = std::min(2 * pause_, longest_pause);
    return wait;
  }

private:
  static constexpr std::chrono::milliseconds first_pause{1};
  static constexpr std::chrono::milliseconds longest_pause{16};

  std::size_t most_;
  std::size_t allowed_;
  std::chrono::milliseconds pause_ = first_pause;
};

} // namespace orca
