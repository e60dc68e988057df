#pragma once

// The one way tests wait for what another thread or process does: ask a
// question again and again until it is answered yes or a time limit passes.
// A test never sleeps for "long enough"; it waits for the thing itself.

#include <chrono>
#include <functional>
#include <thread>

namespace orca::test {

/// Polls `done` every `every` until it holds (true) or `limit` passes
/// (false, after one last look).
inline bool
eventually(const std::function<bool()>& done,
           std::chrono::milliseconds limit = std::chrono::seconds(10),
           std::chrono::milliseconds every = std::chrono::milliseconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

} // namespace orca::test
