// The one checked reader of the TOML files people write: the node config,
// and the catalog (事项目录), working-day calendar (工作日历), staff roster
// (人员名册) and division table (行政区划表) a county publishes. It parses
// with a one-line syntax error and gives typed access that rejects unknown
// keys, wrong types, missing required keys, out-of-range integers, empty
// strings and control characters. Every problem reads
// "SOURCE:LINE: KEY_PATH: WHAT" ("catalog.toml:15: item[0].fee: unknown key
// (expected ...)"), one line, so a CLI can print it as it is.
//
// Used by config/ (node_config.cpp, sync_section.cpp) and storage/ (catalog,
// calendar, roster, divisions). Depends on nothing of ours.
//
// Thread contract: parse_toml is a pure function; one Reader per document,
// used from one thread.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liandong::config {

// A value and the line it was written on.
template <typename T>
struct Located {
  T value;
  std::size_t line = 0;
};

enum class Need { kOptional, kRequired };

// What a string value may hold.
enum class Text {
  kLine,  // not empty, no control characters (U+0000..U+001F, U+007F)
  kAny,   // anything TOML allows, the empty string too
};

// Parses `text`; on a syntax error returns nullopt and sets `error` to
// "SOURCE:LINE: syntax: WHAT" on one line.
std::optional<toml::table> parse_toml(std::string_view text, std::string_view source,
                                      std::string& error);

// "sync" + "heartbeat_ms" -> "sync.heartbeat_ms"; "" + "node" -> "node".
std::string key_path(std::string_view path, std::string_view key);

// "item[2]" + 0 -> "item[2][0]": the path of an array element.
std::string index_path(std::string_view path, std::size_t index);

// The 1-based line a TOML node (table, value, array) starts on; 1 for a node
// that has no source position (the root of an empty document).
std::size_t line_of(const toml::node& node);

// Records the first problem found; every accessor returns nullopt / nullptr /
// an empty list once it has recorded one, so a caller may read a whole
// section and check failed() at its end.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  // Records "SOURCE:LINE: KEY_PATH: WHAT" unless a problem is already recorded.
  void fail(std::size_t line, std::string_view key_path, std::string_view what);
  bool failed() const { return error_.has_value(); }
  // The recorded problem; call only when failed().
  const std::string& error() const { return *error_; }

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

  // The [[key]] tables of `parent`, in order; empty if absent. Fails when
  // there are more than `max_entries` (0: no limit).
  std::vector<const toml::table*> tables(const toml::table& parent, std::string_view path,
                                         std::string_view key, std::size_t max_entries = 0);

  // A string at table[key] as `text` allows, at most `max_bytes` long (0: no
  // limit).
  std::optional<Located<std::string>> string(const toml::table& table, std::string_view path,
                                             std::string_view key, Need need,
                                             std::size_t max_bytes = 0, Text text = Text::kLine);

  // A string element of an array (or any node) as Text::kLine allows;
  // `path` names the node itself ("departments[1]").
  std::optional<Located<std::string>> string_at(const toml::node& node, std::string_view path);

  // A list of strings as Text::kLine allows. kRequired: present and not empty.
  std::vector<Located<std::string>> strings(const toml::table& table, std::string_view path,
                                            std::string_view key, Need need);

  // An integer within [min, max].
  std::optional<Located<std::int64_t>> integer(const toml::table& table, std::string_view path,
                                               std::string_view key, std::int64_t min,
                                               std::int64_t max, Need need = Need::kOptional);

  // true or false; always optional.
  std::optional<Located<bool>> boolean(const toml::table& table, std::string_view path,
                                       std::string_view key);

 private:
  std::optional<Located<std::string>> checked_text(const toml::node& node, std::string_view path,
                                                   std::size_t max_bytes, Text text);

  std::string source_;
  std::optional<std::string> error_;
};

}  // namespace liandong::config
