// A small JSON reader for the CLI's --json output, used by the
// integration tests and the benchmarks that drive real `liandong` processes.
// Numbers keep their text, so 64-bit integers (hlc) survive.
//
// Thread contract: parse_json is a plain function; a Json is a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liandong::test {

// A parsed JSON value. Numbers keep their text so 64-bit integers (hlc) survive.
struct Json {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  std::string text;  // string value, or the number as written
  std::vector<Json> items;
  // An object's members: keys[i] names values[i]. (Two vectors, not one of
  // pairs: a pair needs Json complete, a vector does not.)
  std::vector<std::string> keys;
  std::vector<Json> values;

  // The member `key` of an object, or nullptr.
  const Json* get(std::string_view key) const;
  // The string member `key`, or "" when absent or not a string.
  std::string str(std::string_view key) const;
  // The integer member `key`, or `fallback` when absent or not a number.
  std::uint64_t u64(std::string_view key, std::uint64_t fallback = 0) const;
  // The boolean member `key`, or false.
  bool flag(std::string_view key) const;
};

// Parses one JSON document (surrounding whitespace allowed); nullopt if malformed.
std::optional<Json> parse_json(std::string_view text);

}  // namespace liandong::test
