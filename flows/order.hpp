#pragma once

// An order as it enters Orca (SPEC §4): free JSON with a required `id` and
// `lines`, each line with a unique `id`. Parsed once at intake and then
// shared, read-only, by every journey and branch that works on it.

#include <memory>

#include <rapidjson/allocators.h>
#include <string>
#include <string_view>
#include <vector>

#include "flows/json.hpp"

namespace orca {

/// Event types that mean something to every flow (SPEC §2.3): each order
/// has had `new_order` from its arrival; `cancel_order` cancels its journeys.
namespace event_types {
constexpr const char new_order[] = "new_order";
constexpr const char cancel_order[] = "cancel_order";
} // namespace event_types

/// Index of a line within its order.
using line_index = uint16_t;

/// The lines a path works on: indices into the order's lines.
using line_set = std::vector<line_index>;

class order;
using order_ptr = std::shared_ptr<const order>;

class order {
public:
  /// Parses and checks an order against `lim` (size, depth, id, lines).
  /// Errors name the offending field or limit, e.g.
  /// `lines[1].id: duplicate line id "1"`.
  static caf::expected<order> parse(std::string_view text,
                                    const limits& lim = default_limits());

  order(order&&) = default;
  order& operator=(order&&) = default;

  const std::string& id() const noexcept {
    return id_;
  }

  /// The original JSON text, as persisted.
  const std::string& text() const noexcept {
    return text_;
  }

  /// The whole order object (header scope for predicates).
  const json_value& header() const noexcept {
    return doc_;
  }

  std::size_t line_count() const noexcept {
    return doc_["lines"].Size();
  }

  /// Line `index` (line scope for predicates).
  const json_value& line(std::size_t index) const {
    return doc_["lines"][static_cast<rapidjson::SizeType>(index)];
  }

  std::string_view line_id(std::size_t index) const {
    return view_of(line(index)["id"]);
  }

private:
  friend order_ptr with_lines(const order_ptr& o, const line_set& lines);

  order() = default;

  std::string id_;
  std::string text_;
  /// The parsed document's memory, sized to the order (RapidJSON's default
  /// pool chunk is 64 KiB, far more than an order needs). Declared before
  /// doc_, which uses it.
  std::unique_ptr<rapidjson::MemoryPoolAllocator<>> pool_;
  json_document doc_;
  /// For an order with some of the lines of another (with_lines): that
  /// order, whose text, parsed in place, holds the strings of this one's
  /// values (RapidJSON copies a value's strings only when it owns them).
  order_ptr whole_;
};

/// The `id` of an order's text if it has a readable one of at most
/// `max_bytes` (for reporting an order that did not parse), else "".
std::string order_id_of(std::string_view text,
                        std::size_t max_bytes = default_limits().name_bytes);

/// The order `o` with only the lines `lines` (SPEC §2.3: what a provider
/// sees of a path that works on them), in their order; `o` itself when they
/// are all its lines.
order_ptr with_lines(const order_ptr& o, const line_set& lines);

/// Every line of `o`.
line_set all_lines(const order& o);

} // namespace orca
