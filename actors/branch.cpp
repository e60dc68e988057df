#include "actors/branch.hpp"

#include <algorithm>
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
    for (const auto& fo : ctx_.sending)
      if (std::find(path_.sending.begin(), path_.sending.end(), fo.id)
          != path_.sending.end())
        claimed_.push_back(fo);
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
  claim_unsent(const std::vector<std::string>& scope) override {
    // Asked with the report of this boundary (changed()): the journey must
    // see what this branch did so far (such as the fulfillment orders it
    // just created) before it answers the claim.
    claim_scope_ = scope;
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

  std::vector<fulfillment_order>
  orders_for(const std::vector<std::string>& ids) const override {
    std::vector<fulfillment_order> result;
    for (const auto& fo : claimed_)
      if (std::find(ids.begin(), ids.end(), fo.id) != ids.end())
        result.push_back(fo);
    return result;
  }

  void branches_started(const std::vector<path_state>& children) override {
    report_.started.insert(report_.started.end(), children.begin(),
                           children.end());
    // At once, before the children exist (see path_actor::start_branches).
    flush();
  }

  void changed() override {
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
    report_.state = path_;
    send(ctx_.journey, std::move(report_));
    report_ = path_report{};
  }

  /// Asks the journey for the unsent fulfillment orders in claim_scope_,
  /// with the report of what changed so far.
  void claim() {
    report_.state = path_;
    auto token = path_.token;
    request(ctx_.journey, caf::infinite, claim_atom::value, std::move(report_),
            std::move(*claim_scope_))
      .then(
        [this, token](std::vector<fulfillment_order>& orders) {
          if (token != path_.token)
            return;
          claimed_ = orders;
          runner().on_claimed(std::move(orders));
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
  /// A claim to make at the end of this boundary (see claim_unsent).
  std::optional<std::vector<std::string>> claim_scope_;
};

} // namespace

caf::actor spawn_branch(path_actor* parent, path_context context,
                        path_state start) {
  auto self = caf::actor_cast<caf::actor>(parent);
  return parent->spawn<branch_actor, caf::linked>(std::move(context),
                                                  std::move(start), self);
}

} // namespace orca
