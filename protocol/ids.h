// Division codes, event ids and case ids: the addresses of Liandong.
//
// A division code (GB/T 2260 style) is 2, 4, 6, 9 or 12 decimal digits:
// province, city, county, township, village. A node's jurisdiction is every
// code that starts with its own. An event id is (origin code, per-origin
// sequence number); a case id is the id of the case's `submitted` event and
// prints as "360723101007-000042".
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liandong {

constexpr std::size_t kMaxCodeLen = 12;

// True for 2, 4, 6, 9 or 12 ASCII digits.
bool valid_code(std::string_view code);

// True when `code` lies in the jurisdiction of `node`: `node` is a prefix of
// `code` (a node is in its own jurisdiction).
bool within(std::string_view code, std::string_view node);

// The parent's code: 12 -> 9 -> 6 -> 4 -> 2 digits; empty for a province.
std::string parent_code(std::string_view code);

// "village", "township", "county", "city", "province" by length.
const char* level_name(std::string_view code);
// 村, 乡镇, 县, 市, 省.
const char* level_name_zh(std::string_view code);

struct Id {
  std::string origin;
  uint64_t seq = 0;
  bool empty() const { return origin.empty(); }
  auto operator<=>(const Id&) const = default;
  bool operator==(const Id&) const = default;
};

// "360723101007-000042" (at least six digits of sequence).
std::string format_id(const Id& id);
// Parses what format_id prints; nullopt on anything else.
std::optional<Id> parse_id(std::string_view text);

// Fixed-width, order-preserving key bytes: origin padded with NUL to 12
// bytes, then the sequence number big-endian. 20 bytes.
constexpr std::size_t kIdKeyLen = kMaxCodeLen + 8;
std::string id_key(const Id& id);
Id id_from_key(std::string_view key);

void put_be64(std::string& out, uint64_t v);
uint64_t get_be64(std::string_view in);

}  // namespace liandong
