#include "persistence/provider_ledger.hpp"

#include "persistence/keys.hpp"
#include "persistence/record_scan.hpp"

namespace orca {

void provider_ledger::perform(const std::string& provider,
                              const std::string& key,
                              std::function<void(caf::expected<bool>)> done) {
  auto first = std::make_shared<bool>(false);
  auto what = "provider_calls/" + quote(provider) + "/" + quote(key);
  write_request req;
  req.ops.push_back(
    write_op::modify(db_.provider_calls, provider_call_key(provider, key),
                     [first, what](std::optional<std::string_view> current)
                       -> caf::expected<std::optional<std::string>> {
                       ledger_entry entry;
                       if (current) {
                         auto decoded = decode<ledger_entry>(*current, what);
                         if (!decoded)
                           return decoded.error();
                         entry = *decoded;
                       }
                       if (entry.performed == 0) {
                         entry.performed = 1;
                         *first = true;
                       } else {
                         ++entry.repeats;
                       }
                       return std::optional<std::string>{encode(entry)};
                     }));
  req.done = [first, done = std::move(done)](const write_result& r) {
    if (!done)
      return;
    if (r.applied)
      done(*first);
    else
      done(r.error ? r.error
                   : make_error(errc::storage_failure,
                                "the ledger entry was not written"));
  };
  writer_.submit(std::move(req));
}

caf::expected<std::map<std::string, ledger_entry>>
provider_ledger::entries(const std::string& provider) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  std::map<std::string, ledger_entry> result;
  auto prefix = provider_call_prefix(provider);
  auto id_of = [&](std::string_view key) {
    return std::string{key.substr(prefix.size())};
  };
  auto err = scan_records<ledger_entry>(
    *txn, db_.provider_calls, prefix,
    [&](std::string_view key) {
      return "provider_calls/" + quote(provider) + "/" + quote(id_of(key));
    },
    [&](std::string_view key, ledger_entry entry) {
      result[id_of(key)] = std::move(entry);
      return true;
    });
  if (err)
    return err;
  return result;
}

} // namespace orca
