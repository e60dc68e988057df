#include "actors/scheduler.hpp"

#include <mutex>
#include <thread>
#include <unordered_set>

#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace orca {
namespace {

/// CAF's clock, told of an actor's end only if the actor set a timeout.
class quiet_clock final : public caf::detail::thread_safe_actor_clock {
public:
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    note(self);
    super::set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_multi_timeout(t, self, type, id);
  }

  /// Called by every actor when it ends (local_actor::cleanup).
  void cancel_timeouts(caf::abstract_actor* self) override {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (timed_.erase(self) == 0)
        return;
    }
    super::cancel_timeouts(self);
  }

private:
  void note(caf::abstract_actor* self) {
    std::lock_guard<std::mutex> guard{mutex_};
    timed_.insert(self);
  }

  std::mutex mutex_;
  /// Actors that set a timeout and have not ended (an actor's end takes it
  /// out; were one left behind, a later actor at its address would only
  /// cost the clock one needless cancel).
  std::unordered_set<caf::abstract_actor*> timed_;
};

/// CAF's coordinator with a quiet_clock. The base keeps its own clock and
/// thread, which nothing is scheduled on.
template <class Policy>
class coordinator final : public caf::scheduler::coordinator<Policy> {
public:
  using super = caf::scheduler::coordinator<Policy>;

  explicit coordinator(caf::actor_system& sys) : super(sys) {
  }

  static caf::actor_system::module* make(caf::actor_system& sys,
                                         caf::detail::type_list<>) {
    return new coordinator(sys);
  }

  caf::detail::thread_safe_actor_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    timer_ = std::thread{[this] {
      caf::detail::set_thread_name("orca.timeouts");
      clock_.run_dispatch_loop();
    }};
    super::start();
  }

  void stop() override {
    super::stop();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  quiet_clock clock_;
  std::thread timer_;
};

} // namespace

void load_scheduler(caf::actor_system_config& cfg, bool sharing) {
  if (sharing)
    cfg.load<coordinator<caf::policy::work_sharing>>();
  else
    cfg.load<coordinator<caf::policy::work_stealing>>();
}

} // namespace orca
