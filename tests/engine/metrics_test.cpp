// The engine's step counters: each engine counts its own steps, whichever
// thread counts them and however many series there are.

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "engine/metrics.hpp"

using namespace orca;

namespace {

/// The value of orca_steps_total for one series, as the text shows it; -1
/// when the text has no such series.
double steps_counted(engine_metrics& m, const std::string& flow,
                     const std::string& kind, const std::string& outcome) {
  auto text = m.text({});
  auto series = "orca_steps_total{flow=\"" + flow + "\",kind=\"" + kind
    + "\",outcome=\"" + outcome + "\"} ";
  auto at = text.find(series);
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + series.size()));
}

} // namespace

TEST_CASE("two engines on one thread count their steps apart") {
  const char* validate = "validate_order";
  std::string flow = "Order to invoice";
  std::vector<double> counted;
  {
    engine_metrics first;
    first.step_ended(flow, validate, step_outcome::succeeded);
    first.step_ended(flow, validate, step_outcome::succeeded);
    engine_metrics second;
    second.step_ended(flow, validate, step_outcome::succeeded);
    second.step_ended(flow, validate, step_outcome::failed);
    first.step_ended(flow, validate, step_outcome::succeeded);
    CHECK(steps_counted(first, flow, validate, "succeeded") == 3);
    CHECK(steps_counted(first, flow, validate, "failed") == -1);
    CHECK(steps_counted(second, flow, validate, "succeeded") == 1);
    CHECK(steps_counted(second, flow, validate, "failed") == 1);
  }
  // A later engine, maybe where the first ones were in memory, starts at 0.
  engine_metrics third;
  third.step_ended(flow, validate, step_outcome::failed);
  CHECK(steps_counted(third, flow, validate, "failed") == 1);
  CHECK(steps_counted(third, flow, validate, "succeeded") == -1);
}

TEST_CASE("flows whose names differ count apart, however many there are") {
  engine_metrics m;
  const char* kind = "custom";
  // More series than a thread keeps at hand, each counted three times, in
  // rounds so that every series is met again after all the others.
  constexpr int flows = 150;
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < flows; ++i)
      m.step_ended("F" + std::to_string(i), kind,
                   i % 2 ? step_outcome::failed : step_outcome::succeeded);
  for (int i = 0; i < flows; ++i) {
    auto flow = "F" + std::to_string(i);
    CHECK(steps_counted(m, flow, kind, i % 2 ? "failed" : "succeeded") == 3);
    CHECK(steps_counted(m, flow, kind, i % 2 ? "succeeded" : "failed") == -1);
  }
}

TEST_CASE("steps counted on several threads add up") {
  engine_metrics m;
  std::string flow = "Order to invoice";
  constexpr int per_thread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        m.step_ended(flow, "send_to_fulfillment", step_outcome::succeeded);
    });
  for (auto& t : threads)
    t.join();
  CHECK(steps_counted(m, flow, "send_to_fulfillment", "succeeded")
        == 4 * per_thread);
}

TEST_CASE("provider answers are timed per engine, provider and result") {
  auto answers = [](engine_metrics& m, const std::string& provider,
                    const std::string& result) {
    auto text = m.text({});
    auto series = "orca_provider_call_seconds_count{provider=\"" + provider
      + "\",result=\"" + result + "\"} ";
    auto at = text.find(series);
    return at == std::string::npos ? -1
                                   : std::stod(text.substr(at + series.size()));
  };
  engine_metrics first;
  engine_metrics second;
  // A flow may bear a provider's name: its steps are another series.
  first.step_ended("erp", "custom", step_outcome::succeeded);
  for (int i = 0; i < 3; ++i) {
    first.provider_answered("erp", 0.001, true);
    first.provider_answered("dom", 0.002, false);
    second.provider_answered("erp", 0.003, false);
  }
  first.step_ended("erp", "custom", step_outcome::succeeded);
  CHECK(answers(first, "erp", "ok") == 3);
  CHECK(answers(first, "erp", "failed") == -1);
  CHECK(answers(first, "dom", "failed") == 3);
  CHECK(answers(second, "erp", "failed") == 3);
  CHECK(answers(second, "erp", "ok") == -1);
  CHECK(steps_counted(first, "erp", "custom", "succeeded") == 2);
}

TEST_CASE("orders and ended journeys are counted per engine and series") {
  auto counted = [](engine_metrics& m, const std::string& series) {
    auto text = m.text({});
    auto at = text.find(series + " ");
    return at == std::string::npos
      ? -1
      : std::stod(text.substr(at + series.size() + 1));
  };
  engine_metrics first;
  engine_metrics second;
  std::string accepted = "accepted"; // not the literal intake passes
  for (int i = 0; i < 3; ++i) {
    first.order("accepted");
    first.order(accepted.c_str());
    first.order("busy");
    second.order("rejected");
    first.journey_ended("F", journey_state::completed);
    first.journey_ended("G", journey_state::completed);
    second.journey_ended("F", journey_state::failed);
  }
  CHECK(counted(first, R"(orca_orders_total{status="accepted"})") == 6);
  CHECK(counted(first, R"(orca_orders_total{status="busy"})") == 3);
  CHECK(counted(first, R"(orca_orders_total{status="rejected"})") == -1);
  CHECK(counted(second, R"(orca_orders_total{status="rejected"})") == 3);
  CHECK(
    counted(first, R"(orca_journeys_ended_total{flow="F",state="completed"})")
    == 3);
  CHECK(
    counted(first, R"(orca_journeys_ended_total{flow="G",state="completed"})")
    == 3);
  CHECK(counted(second, R"(orca_journeys_ended_total{flow="F",state="failed"})")
        == 3);
  CHECK(
    counted(second, R"(orca_journeys_ended_total{flow="F",state="completed"})")
    == -1);
}
