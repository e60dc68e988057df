// The Boost.MSM definition of a journey's lifecycle. The only translation
// unit that includes MSM.

#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 30
#define BOOST_MPL_LIMIT_MAP_SIZE 30

#include "actors/journey_lifecycle.hpp"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace orca {

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;

// Events.
struct ev_start {};
struct ev_work {};
struct ev_wait {};
struct ev_hold {};
struct ev_complete {};
struct ev_fail {};
struct ev_skip {};
struct ev_cancel {};
struct ev_redrive {};

struct lifecycle_def : msm::front::state_machine_def<lifecycle_def> {
  /// Mirrors the active state; every state writes itself here on entry.
  journey_state current = journey_state::received;

  /// Events are never posted from actions, so the machine needs no queue
  /// (which would cost every journey a std::deque).
  using no_message_queue = int;

  template <journey_state S>
  struct state_of : msm::front::state<> {
    template <class Event, class Fsm>
    void on_entry(const Event&, Fsm& fsm) {
      fsm.current = S;
    }
  };

  using received = state_of<journey_state::received>;
  using running = state_of<journey_state::running>;
  using waiting = state_of<journey_state::waiting>;
  using paused = state_of<journey_state::paused>;
  using completed = state_of<journey_state::completed>;
  using failed = state_of<journey_state::failed>;
  using cancelled = state_of<journey_state::cancelled>;
  using skipped = state_of<journey_state::skipped>;

  using initial_state = received;

  using d = lifecycle_def;

  // clang-format off
  struct transition_table : mpl::vector<
    //    source     event        target
    _row< received,  ev_start,    running   >,
    _row< received,  ev_hold,     paused    >,
    _row< received,  ev_fail,     failed    >,
    _row< received,  ev_cancel,   cancelled >,
    _row< running,   ev_work,     running   >,
    _row< running,   ev_wait,     waiting   >,
    _row< running,   ev_hold,     paused    >,
    _row< running,   ev_complete, completed >,
    _row< running,   ev_fail,     failed    >,
    _row< running,   ev_skip,     skipped   >,
    _row< running,   ev_cancel,   cancelled >,
    _row< waiting,   ev_wait,     waiting   >,
    _row< waiting,   ev_work,     running   >,
    _row< waiting,   ev_hold,     paused    >,
    _row< waiting,   ev_fail,     failed    >,
    _row< waiting,   ev_cancel,   cancelled >,
    _row< paused,    ev_hold,     paused    >,
    _row< paused,    ev_work,     running   >,
    _row< paused,    ev_wait,     waiting   >,
    _row< paused,    ev_fail,     failed    >,
    _row< paused,    ev_cancel,   cancelled >,
    _row< failed,    ev_redrive,  running   >
  > {};
  // clang-format on

  /// Terminal states and impossible moves do not transition; fire() then
  /// throws impossible_move.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
  }
};

using lifecycle_machine = msm::back::state_machine<lifecycle_def>;

template <class Event>
bool process(lifecycle_machine& sm) {
  return sm.process_event(Event{}) == msm::back::HANDLED_TRUE;
}

bool dispatch(lifecycle_machine& sm, lifecycle_event e) {
  switch (e) {
    case lifecycle_event::start: return process<ev_start>(sm);
    case lifecycle_event::work: return process<ev_work>(sm);
    case lifecycle_event::wait: return process<ev_wait>(sm);
    case lifecycle_event::hold: return process<ev_hold>(sm);
    case lifecycle_event::complete: return process<ev_complete>(sm);
    case lifecycle_event::fail: return process<ev_fail>(sm);
    case lifecycle_event::skip: return process<ev_skip>(sm);
    case lifecycle_event::cancel: return process<ev_cancel>(sm);
    case lifecycle_event::redrive: return process<ev_redrive>(sm);
  }
  return false;
}

} // namespace

const char* to_string(lifecycle_event e) {
  switch (e) {
    case lifecycle_event::start: return "start";
    case lifecycle_event::work: return "work";
    case lifecycle_event::wait: return "wait";
    case lifecycle_event::hold: return "hold";
    case lifecycle_event::complete: return "complete";
    case lifecycle_event::fail: return "fail";
    case lifecycle_event::skip: return "skip";
    case lifecycle_event::cancel: return "cancel";
    case lifecycle_event::redrive: return "redrive";
  }
  return "?";
}

struct journey_lifecycle::machine {
  lifecycle_machine sm;
};

namespace {

/// Starts `sm` and moves it into `state` along the shortest legal path.
void restore(lifecycle_machine& sm, journey_state state) {
  sm.start();
  switch (state) {
    case journey_state::received: break;
    case journey_state::running: dispatch(sm, lifecycle_event::start); break;
    case journey_state::waiting:
      dispatch(sm, lifecycle_event::start);
      dispatch(sm, lifecycle_event::wait);
      break;
    case journey_state::paused: dispatch(sm, lifecycle_event::hold); break;
    case journey_state::completed:
      dispatch(sm, lifecycle_event::start);
      dispatch(sm, lifecycle_event::complete);
      break;
    case journey_state::failed: dispatch(sm, lifecycle_event::fail); break;
    case journey_state::cancelled: dispatch(sm, lifecycle_event::cancel); break;
    case journey_state::skipped:
      dispatch(sm, lifecycle_event::start);
      dispatch(sm, lifecycle_event::skip);
      break;
  }
}

} // namespace

journey_lifecycle::journey_lifecycle(journey_state state)
    : machine_(std::make_unique<machine>()) {
  // A restored journey re-enters its state along the shortest legal path.
  restore(machine_->sm, state);
}

journey_lifecycle::~journey_lifecycle() = default;
journey_lifecycle::journey_lifecycle(journey_lifecycle&&) noexcept = default;
journey_lifecycle&
journey_lifecycle::operator=(journey_lifecycle&&) noexcept = default;

impossible_move::impossible_move(journey_state from, lifecycle_event e)
    : std::logic_error(std::string{"journey lifecycle: no move \""}
                       + to_string(e) + "\" from " + to_string(from)) {
}

void journey_lifecycle::fire(lifecycle_event e) {
  auto from = state();
  if (!dispatch(machine_->sm, e))
    throw impossible_move(from, e);
}

bool journey_lifecycle::allows(lifecycle_event e) const {
  // A machine of its own, in the same state, tries it.
  lifecycle_machine trial;
  restore(trial, state());
  return dispatch(trial, e);
}

journey_state journey_lifecycle::state() const {
  return machine_->sm.current;
}

} // namespace orca
