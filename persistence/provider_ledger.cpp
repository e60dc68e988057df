#include "persistence/provider_ledger.hpp"

#include "persistence/format.hpp"
#include "persistence/records.hpp"

namespace orca {

namespace {

std::string ledger_key(const std::string& provider, const std::string& key) {
  std::string result = provider;
  result.push_back(format::key_separator);
  result += key;
  return result;
}

} // namespace

void provider_ledger::perform(const std::string& provider,
                              const std::string& key,
                              std::function<void(caf::expected<bool>)> done) {
  auto first = std::make_shared<bool>(false);
  auto what = "provider_calls/" + quote(provider) + "/" + quote(key);
  write_request req;
  req.ops.push_back(write_op::modify(
    db_.provider_calls, ledger_key(provider, key),
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
  caf::error failure;
  auto prefix = provider;
  prefix.push_back(format::key_separator);
  auto err = txn->scan(db_.provider_calls, prefix,
                       [&](std::string_view key, std::string_view value) {
                         std::string id{key.substr(prefix.size())};
                         auto entry = decode<ledger_entry>(
                           value, "provider_calls/" + quote(provider) + "/"
                                    + quote(id));
                         if (!entry) {
                           failure = entry.error();
                           return false;
                         }
                         result[id] = *entry;
                         return true;
                       });
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
}

} // namespace orca
