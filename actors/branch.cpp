#include "actors/branch.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include <caf/all.hpp>

namespace orca {

namespace {

class branch_actor final : public path_actor {
public:
  branch_actor(caf::actor_config& cfg, path_context context, path_state start,
               caf::actor parent)
      : path_actor(cfg, std::move(context), std::move(start)),
        parent_(std::move(parent)) {
  }

  const char* name() const override {
    return "orca.branch";
  }

  void on_exit() override {
    parent_ = nullptr;
    path_actor::on_exit();
  }

  caf::behavior make_behavior() override {
    if (quit_if_stopping())
      return {};
    runner().on_restore();
    changed();
    return path_handlers();
  }

protected:
  // -- journey-wide effects: buffered into the next report --------------------

  void step_ended(step_result result) override {
    report_.steps.push_back(std::move(result));
  }

  void add_fulfillment(std::vector<source_group> groups) override {
    for (auto& g : groups)
      report_.new_fulfillment.push_back(std::move(g));
  }

  void journal(journal_entry&& entry) override {
    // Room for the journal of a few steps at once, so that the list is not
    // moved as it grows.
    if (report_.journal.empty())
      report_.journal.reserve(journal_room);
    report_.journal.push_back(std::move(entry));
  }

  void path_failed(const path_state& at_step) override {
    report_.failed.push_back(at_step);
  }

  std::optional<std::vector<fulfillment_order>>
  claim_unsent(const path_state& p,
               const std::vector<std::string>& scope) override {
    // Asked with the report of this boundary (changed()): the journey must
    // see what this branch did so far (such as the fulfillment orders it
    // just created) before it answers the claim.
    claim_scope_ = scope;
    claimant_ = p.seq;
    return std::nullopt;
  }

  void fulfillment_done(const std::vector<std::string>& ids,
                        bool sent) override {
    auto& target = sent ? report_.sent : report_.released;
    target.insert(target.end(), ids.begin(), ids.end());
  }

  void set_invoice(std::string id) override {
    report_.invoice_id = std::move(id);
  }

  /// Each as this branch claimed it last, or else as the journey's
  /// snapshot had it when this branch was restored (a restored path that
  /// was sending them sends them again).
  std::vector<fulfillment_order>
  orders_for(const std::vector<std::string>& ids) const override {
    std::vector<fulfillment_order> result;
    for (const auto& id : ids)
      for (const auto* known : {&claimed_, &ctx_.sending}) {
        auto found = std::find_if(known->begin(), known->end(),
                                  [&](const auto& fo) { return fo.id == id; });
        if (found != known->end()) {
          result.push_back(*found);
          break;
        }
      }
    return result;
  }

  void branches_started(const std::vector<path_state>& children) override {
    report_.started.insert(report_.started.end(), children.begin(),
                           children.end());
    // At once, before the children exist (see path_actor::start_branches).
    flush();
  }

  // The sides of this branch's conditions are kept here, and told to the
  // journey with every report.
  path_state* side_state(sequence_id seq) override {
    auto found = sides_kept_.find(seq);
    return found != sides_kept_.end() ? &found->second : nullptr;
  }

  void keep_side(path_state start) override {
    auto seq = start.seq;
    sides_kept_.insert_or_assign(seq, std::move(start));
  }

  void side_ended(const path_state& p) override {
    report_.sides.push_back(p);
    sides_kept_.erase(p.seq);
  }

  void changed() override {
    run_sides();
    if (claim_scope_) {
      claim();
      return;
    }
    if (path_.phase != path_phase::ended) {
      flush();
      return;
    }
    // The last report; a parent that is the journey takes it as the
    // branch's end too.
    if (parent_ == ctx_.journey) {
      report_.done = true;
      flush();
    } else {
      flush();
      send(parent_, branch_done_atom::value, path_.seq, path_.failed);
    }
    // Ended as it should: the parent needs no exit message from the link.
    unlink_from(parent_);
    quit();
  }

private:
  /// Sends the journey this path's state and what changed since the last
  /// report.
  void flush() {
    stand();
    send(ctx_.journey, std::move(report_));
    report_ = path_report{};
  }

  /// Puts in the report how this branch's paths stand now.
  void stand() {
    report_.state = path_;
    report_.heard = heard();
    for (auto seq : sides_)
      report_.sides.push_back(sides_kept_.at(seq));
  }

  /// Asks the journey for the unsent fulfillment orders in claim_scope_,
  /// with the report of what changed so far.
  void claim() {
    stand();
    auto seq = claimant_;
    auto token = hosted(seq)->token;
    request(ctx_.journey, caf::infinite, claim_atom::value, std::move(report_),
            std::move(*claim_scope_), seq)
      .then(
        [this, seq, token](std::vector<fulfillment_order>& orders) {
          auto* p = hosted(seq);
          if (p == nullptr || token != p->token)
            return;
          claimed_ = orders;
          path_runner{*this, *p}.on_claimed(std::move(orders));
          changed();
        },
        [this](caf::error& err) { quit(err); });
    report_ = path_report{};
    claim_scope_.reset();
  }

  static constexpr std::size_t journal_room = 8;

  caf::actor parent_;
  std::vector<fulfillment_order> claimed_;
  path_report report_;
  /// A claim to make at the end of this boundary (see claim_unsent), and
  /// the path that makes it.
  std::optional<std::vector<std::string>> claim_scope_;
  sequence_id claimant_ = 0;
  /// The states of the sides this branch runs (path_actor::sides_).
  std::map<sequence_id, path_state> sides_kept_;
};

} // namespace

caf::actor spawn_branch(path_actor* parent, path_context context,
                        path_state start) {
  auto self = caf::actor_cast<caf::actor>(parent);
  return parent->spawn<branch_actor, caf::linked>(std::move(context),
                                                  std::move(start), self);
}

} // namespace orca
