// The division table (行政区划表) the county publishes: the name of each
// division code under it — the county itself (县), its townships (乡镇)
// and their village points (村) — so that every node shows a place by
// name ("南安镇（360723101）") instead of a bare code.
//
// The document is TOML (config/divisions-example.toml):
//
//   version = 1                  # > 0; each publication raises it
//   [[division]]
//   code = "360723101"           # 6, 9 or 12 digits
//   name = "南安镇"               # required, one line, at most 100 bytes
//
// It travels inside a `divisionsPublished {version, document}` broadcast
// from the county; the bytes are kept verbatim, so every node parses the
// same. Where a node holds no table, codes are shown bare.
//
// parse_divisions and the Divisions lookups are pure logic, safe from any
// thread; held_divisions reads the store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/status.h"

namespace liandong::storage {

class Store;

constexpr std::size_t kMaxDivisions = 20000;
constexpr std::size_t kMaxDivisionNameBytes = 100;

struct Divisions {
  uint32_t version = 0;
  std::map<std::string, std::string, std::less<>> names;  // code -> name

  // The name of `code`, or nullopt when the table does not list it.
  std::optional<std::string> name_of(std::string_view code) const;
  // "南安镇（360723101）" when the table names `code`, else the code alone.
  std::string label(std::string_view code) const;
  // "南安镇" when the table names `code`, else the code alone.
  std::string short_label(std::string_view code) const;
};

// Parses and checks a table; errors read "SOURCE:LINE: PATH: WHAT".
Result<Divisions> parse_divisions(std::string_view text, std::string_view source);

// The newest table held here from this node's county (nullopt: none).
Result<std::optional<Divisions>> held_divisions(const Store& store);

// The label of `code` with `table` when one is held: Divisions::label, or
// the bare code.
std::string place_label(const Divisions* table, std::string_view code);
std::string place_short_label(const Divisions* table, std::string_view code);

}  // namespace liandong::storage
