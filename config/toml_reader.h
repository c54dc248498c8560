// Typed, checked access to a parsed TOML document for the config parser:
// rejects unknown keys, wrong types, missing required keys and out-of-range
// integers, naming the key path ("upstream[0].code") and its line.
// Internal to config/.
//
// Thread contract: one Reader per parse, used from one thread.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "config/node_config.h"

namespace liandong::config {

// A value and the line it was written on.
template <typename T>
struct Located {
  T value;
  std::size_t line = 0;
};

enum class Need { kOptional, kRequired };

// "sync" + "heartbeat_ms" -> "sync.heartbeat_ms"; "" + "node" -> "node".
std::string key_path(std::string_view path, std::string_view key);

// The 1-based line a TOML node (table, value, array) starts on.
std::size_t line_of(const toml::node& node);

// Records the first problem found; every accessor returns nullopt/nullptr
// once it has recorded one (so callers may carry on and check failed() at
// the end of a section).
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  // Records "SOURCE:LINE: KEY_PATH: WHAT" unless a problem is already recorded.
  void fail(std::size_t line, std::string_view key_path, std::string_view what);
  bool failed() const { return error_.has_value(); }
  // The recorded problem; call only when failed().
  const ConfigError& error() const { return *error_; }

  // Fails on the first key of `table` (whose path is `path`) not in `allowed`.
  void allow_only(const toml::table& table, std::string_view path,
                  std::initializer_list<std::string_view> allowed);

  // The table at parent[key] ([key] or an inline table); nullptr if absent or
  // not a table (then failed()).
  const toml::table* table(const toml::table& parent, std::string_view path, std::string_view key);

  // The array of tables at parent[key] ([[key]]); nullptr if absent or not an
  // array of tables (then failed()).
  const toml::array* table_array(const toml::table& parent, std::string_view path,
                                 std::string_view key);

  // A non-empty string without control characters.
  std::optional<Located<std::string>> string(const toml::table& table, std::string_view path,
                                             std::string_view key, Need need);

  // An integer within [min, max]; always optional.
  std::optional<Located<std::int64_t>> integer(const toml::table& table, std::string_view path,
                                               std::string_view key, std::int64_t min,
                                               std::int64_t max);

 private:
  std::string source_;
  std::optional<ConfigError> error_;
};

}  // namespace liandong::config
