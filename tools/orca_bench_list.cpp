// orca-bench --list: how long a journey listing by flow and state takes
// with millions of journeys in the store.

#include <algorithm>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "persistence/group_commit.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/records.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

namespace {

[[noreturn]] void fail(const caf::error& err) {
  throw std::runtime_error(orca::describe(err));
}

std::unique_ptr<orca::Engine> open_engine(const options& opts,
                                          const std::string& dir) {
  auto e = orca::Engine::open(engine_options_for(opts, dir));
  if (!e)
    fail(e.error());
  return std::move(*e);
}

/// Runs one example order through the flow of `opts.flow_file` to its end
/// and returns the flow's name and the journey as stored.
std::pair<std::string, journey_snapshot>
one_real_journey(const options& opts, const std::string& dir,
                 const std::vector<std::string>& tmpl) {
  std::string flow;
  {
    auto engine = open_engine(opts, dir);
    auto created =
      engine->create_flow(read_file(opts.flow_file), opts.flow_file);
    if (!created)
      fail(created.error());
    flow = created->name;
    if (auto v = engine->publish_flow(flow); !v)
      fail(v.error());
    auto order = make_order(tmpl, 0);
    auto r = engine->submit(order);
    if (r.status != submit_status::accepted)
      throw std::runtime_error("the example order was not accepted: "
                               + r.error);
    if (auto err = engine->event(r.order_id, "fulfillment_shipped"))
      fail(err);
    auto deadline = clock_type::now() + std::chrono::seconds(30);
    for (;;) {
      auto js = engine->journeys(r.order_id);
      if (js && js->size() == 1 && is_terminal((*js)[0].state))
        break;
      if (clock_type::now() > deadline)
        throw std::runtime_error("the example journey did not end in 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  auto db = store::open(dir);
  if (!db)
    fail(db.error());
  group_committer writer{**db};
  journey_store journeys{**db, writer};
  auto snap = journeys.load_snapshot({"B-0", flow, 1});
  if (!snap)
    fail(snap.error());
  return {flow, std::move(*snap)};
}

/// The state of fill journey `i`: one in a hundred failed, one in a
/// hundred thousand cancelled, the others completed.
journey_state state_of(std::size_t i) {
  if (i % 100000 == 99999)
    return journey_state::cancelled;
  if (i % 100 == 42)
    return journey_state::failed;
  return journey_state::completed;
}

/// Writes `n` copies of `model` (ids L-000000000 on) straight into the
/// store, without fsync, in transactions of 100,000.
void fill(const std::string& dir, const journey_snapshot& model,
          std::size_t n) {
  store::options so;
  so.durable = false;
  auto db = store::open(dir, so);
  if (!db)
    fail(db.error());
  auto& s = **db;
  auto start = clock_type::now();
  constexpr std::size_t per_txn = 100000;
  for (std::size_t first = 0; first < n; first += per_txn) {
    auto written = s.write([&](lmdb_txn& txn) -> caf::expected<bool> {
      auto snap = model;
      for (auto i = first; i < std::min(n, first + per_txn); ++i) {
        snap.order_id = fmt::format("L-{:09}", i);
        snap.state = state_of(i);
        auto key = journey_key(snap.order_id, snap.flow, snap.version);
        if (auto err = txn.put(s.journeys, key, encode(snap)))
          return err;
      }
      return true;
    });
    if (!written)
      fail(written.error());
    if ((first / per_txn) % 10 == 9)
      fmt::print("  {} journeys written\n", first + per_txn);
  }
  if (int rc = mdb_env_sync(s.env(), 1); rc != MDB_SUCCESS)
    fail(lmdb_error("mdb_env_sync", rc));
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  fmt::print("filled {} journeys of {} bytes each in {:.1f} s\n", n,
             encode(model).size(), secs);
}

} // namespace

int run_list(const options& opts, const std::vector<std::string>& tmpl) {
  bool own_dir = opts.data.empty();
  auto dir = own_dir ? make_temp_dir("orca-bench-list") : opts.data;
  const std::size_t n = opts.list;
  auto [flow, model] = one_real_journey(opts, dir, tmpl);
  fill(dir, model, n);

  auto start = clock_type::now();
  auto engine = open_engine(opts, dir);
  fmt::print("engine opened on {} journeys in {:.2f} s (recovery included)\n",
             n + 1,
             std::chrono::duration<double>(clock_type::now() - start).count());

  struct listing {
    std::string what;
    journey_query q;
  };
  auto query = [](std::optional<std::string> f,
                  std::optional<journey_state> s) {
    journey_query q;
    q.flow = std::move(f);
    q.state = s;
    q.limit = 50;
    return q;
  };
  std::vector<listing> listings = {
    {"--flow F --state failed", query(flow, journey_state::failed)},
    {"--flow F --state cancelled", query(flow, journey_state::cancelled)},
    {"--flow F --state completed", query(flow, journey_state::completed)},
    {"--flow F --state waiting (none)", query(flow, journey_state::waiting)},
    {"--state failed", query(std::nullopt, journey_state::failed)},
    {"--flow F", query(flow, std::nullopt)},
    {"(no filter)", query(std::nullopt, std::nullopt)},
  };
  fmt::print("journey list ... --limit 50 over {} journeys (first page, then "
             "the next page after it; ms, best and worst of 5):\n",
             n + 1);
  for (auto& l : listings) {
    std::vector<double> first_ms;
    std::vector<double> next_ms;
    std::size_t shown = 0;
    for (int round = 0; round < 5; ++round) {
      auto t0 = clock_type::now();
      auto page = engine->list_journeys(l.q);
      auto t1 = clock_type::now();
      if (!page)
        fail(page.error());
      shown = page->size();
      first_ms.push_back(
        std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (page->empty())
        continue;
      auto next = l.q;
      const auto& last = page->back();
      next.after = journey_id{last.order_id, last.flow, last.version};
      auto t2 = clock_type::now();
      auto second = engine->list_journeys(next);
      auto t3 = clock_type::now();
      if (!second)
        fail(second.error());
      next_ms.push_back(
        std::chrono::duration<double, std::milli>(t3 - t2).count());
    }
    auto range = [](std::vector<double>& v) {
      if (v.empty())
        return std::string{"-"};
      std::sort(v.begin(), v.end());
      return fmt::format("{:.2f}..{:.2f}", v.front(), v.back());
    };
    fmt::print("  {:<34} {:>3} journeys  first page {:>14}  next page {:>14}\n",
               l.what, shown, range(first_ms), range(next_ms));
  }
  engine.reset();
  if (own_dir)
    remove_dir(dir);
  return 0;
}

} // namespace orca::bench
