// orcactl's order commands: `order submit` (with --wait) and `order event`
// / `order cancel`.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "tools/orcactl.hpp"
#include "tools/orcactl_output.hpp"
#include "tools/tool_support.hpp"

namespace orca::ctl {

namespace {

/// Keeps `r` unless `latest` has a newer record of its journey (an update
/// that was queued may come after the state read from the node).
void keep_newer(
  std::map<std::pair<std::string, std::string>, journey_record>& latest,
  const journey_record& r) {
  auto [it, added] = latest.try_emplace({r.order_id, r.flow}, r);
  if (!added && r.updated_on >= it->second.updated_on)
    it->second = r;
}

/// Settled: nothing more will happen without an event, a resume or a redrive.
bool settled(journey_state s) {
  return is_terminal(s) || s == journey_state::waiting
    || s == journey_state::paused;
}

} // namespace

int order_submit(client& c, const options& opts) {
  auto text = tools::read_input(opts.file);
  if (!text)
    return exit_usage;
  std::vector<std::string> orders;
  std::vector<std::size_t> line_numbers;
  {
    std::istringstream lines{*text};
    std::string line;
    std::size_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      orders.push_back(line);
      line_numbers.push_back(number);
    }
  }
  // With --wait, listen before submitting so that no update is missed, to
  // the journeys of these orders only.
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::pair<std::string, std::string>, journey_record> latest;
  if (opts.wait) {
    std::set<std::string> submitted;
    for (const auto& o : orders)
      if (auto id = order_id_of(o); !id.empty())
        submitted.insert(std::move(id));
    if (submitted.empty())
      submitted.insert(""); // nothing to follow: an empty list means all
    auto err = c.subscribe({submitted.begin(), submitted.end()},
                           [&](const journey_record& r) {
                             std::lock_guard<std::mutex> guard{mutex};
                             keep_newer(latest, r);
                             changed.notify_all();
                           });
    if (err)
      return fail(err);
  }
  bool tty = ::isatty(STDERR_FILENO) != 0 && orders.size() > 1000;
  auto progress = [&](std::size_t done) {
    if (tty)
      std::cerr << "\rsubmitted " << done << "/" << orders.size() << std::flush;
  };
  auto results = c.submit_pipelined(orders, 500, 8, progress);
  if (tty)
    std::cerr << "\n";
  if (!results)
    return fail(results.error());
  bool rejected = false;
  bool busy = false;
  std::size_t accepted = 0;
  std::size_t duplicates = 0;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (opts.json)
      std::cout << ctl::submit_json(r) << "\n";
    else if (!opts.wait && orders.size() <= 1000)
      std::cout << r.status << " "
                << (r.order_id.empty() ? "(no id)" : r.order_id) << "\n";
    if (r.status == "rejected" || r.status == "busy") {
      (r.status == "busy" ? busy : rejected) = true;
      std::cerr << "error: " << opts.file << ":" << line_numbers[i] << ": "
                << r.error << "\n";
    } else if (r.status == "accepted") {
      ++accepted;
    } else {
      ++duplicates;
    }
  }
  if (!opts.json && (opts.wait || orders.size() > 1000))
    std::cout << accepted << " accepted, " << duplicates << " duplicate, "
              << (results->size() - accepted - duplicates) << " rejected\n";
  // Orders the node did not take (busy, store full) are a runtime failure:
  // they may be sent again.
  int code = busy ? exit_failure : rejected ? exit_invalid : exit_ok;
  if (!opts.wait)
    return code;

  // The journeys of the accepted orders, as the node knows them now.
  std::set<std::string> ids;
  for (const auto& r : *results)
    if (r.status != "rejected")
      ids.insert(r.order_id);
  std::map<std::pair<std::string, std::string>, journey_record> expected;
  for (const auto& id : ids) {
    auto views = c.show_journeys(id, "");
    if (!views)
      continue; // no published flow took it
    for (auto& v : *views)
      expected[{v.record.order_id, v.record.flow}] = v.record;
  }
  auto deadline = std::chrono::steady_clock::now()
    + std::chrono::milliseconds(static_cast<int64_t>(opts.timeout * 1000));
  auto print = [&](const journey_record& record) {
    if (opts.json)
      std::cout << ctl::journey_json(record) << "\n";
    else
      std::cout << ctl::journey_text(record);
    std::cout << std::flush;
  };
  // Each journey is printed once, as soon as it settles.
  std::set<std::pair<std::string, std::string>> printed;
  bool timed_out = false;
  for (;;) {
    std::vector<std::string> unsettled;
    std::vector<journey_record> now_settled;
    bool done = false;
    bool quiet = false; ///< a second went by with nothing new
    {
      std::unique_lock<std::mutex> guard{mutex};
      auto news = [&] {
        bool any = false;
        for (auto& [key, record] : expected) {
          auto it = latest.find(key);
          if (it != latest.end())
            record = it->second;
          any = any || (settled(record.state) && printed.count(key) == 0);
        }
        return any || printed.size() == expected.size();
      };
      auto slice = std::min(
        deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      quiet = !changed.wait_until(guard, slice, news);
      for (const auto& [key, record] : expected) {
        if (printed.count(key) > 0)
          continue;
        if (settled(record.state)) {
          printed.insert(key);
          now_settled.push_back(record);
        } else {
          unsettled.push_back(key.first);
        }
      }
      done = printed.size() == expected.size();
    }
    for (const auto& record : now_settled)
      print(record);
    if (done)
      break;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    if (!quiet)
      continue;
    // The node drops updates for a subscriber that falls far behind: ask
    // for the journeys not settled yet.
    std::sort(unsettled.begin(), unsettled.end());
    unsettled.erase(std::unique(unsettled.begin(), unsettled.end()),
                    unsettled.end());
    for (const auto& id : unsettled) {
      auto views = c.show_journeys(id, "");
      if (!views)
        continue;
      std::lock_guard<std::mutex> guard{mutex};
      for (auto& v : *views)
        keep_newer(latest, v.record);
      changed.notify_all();
    }
  }
  // At the time-out, the journeys that did not settle, as they are.
  for (const auto& [key, record] : expected)
    if (printed.count(key) == 0)
      print(record);
  if (timed_out) {
    std::cerr << "error: not every journey settled within " << opts.timeout
              << " s\n";
    return exit_failure;
  }
  return code;
}

int order_event(client& c, const options& opts, const std::string& type) {
  if (auto err = c.event(opts.order_id, type))
    return fail(err);
  if (opts.json) {
    // The order's journeys as they are once the event is durable; each
    // takes it at its next step boundary (`journey show` tells the rest).
    auto views = c.show_journeys(opts.order_id, "");
    if (!views)
      return fail(views.error());
    for (const auto& v : *views)
      std::cout << ctl::journey_json(v.record) << "\n";
  } else
    std::cout << "event " << type << " recorded for order " << opts.order_id
              << "\n";
  return exit_ok;
}

} // namespace orca::ctl
