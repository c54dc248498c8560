#include "config/toml_reader.h"

#include <sstream>

namespace liandong::config {

namespace {

std::string type_name(const toml::node& node) {
  if (node.is_array_of_tables()) return "array of tables";
  if (node.is_floating_point()) return "floating-point number";
  std::ostringstream o;
  o << node.type();
  return o.str();
}

std::string a_type(const toml::node& node) {
  const std::string name = type_name(node);
  const bool vowel = name.front() == 'a' || name.front() == 'i';
  return (vowel ? "an " : "a ") + name;
}

std::string one_of(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (auto name : allowed) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

std::string key_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}

void Reader::fail(std::size_t line, std::string_view key_path, std::string_view what) {
  if (error_) return;
  error_ = ConfigError{source_ + ":" + std::to_string(line) + ": " + std::string(key_path) + ": " +
                       std::string(what)};
}

void Reader::allow_only(const toml::table& table, std::string_view path,
                        std::initializer_list<std::string_view> allowed) {
  if (failed()) return;
  for (const auto& [key, value] : table) {
    bool known = false;
    for (auto name : allowed)
      known = known || key.str() == name;
    if (known) continue;
    std::string what;
    if (path.empty() && value.is_table()) {
      what = "unknown table [" + std::string(key.str()) + "]";
    } else if (path.empty() && value.is_array_of_tables()) {
      what = "unknown table [[" + std::string(key.str()) + "]]";
    } else {
      what = "unknown key";
    }
    fail(key.source().begin.line, key_path(path, key.str()),
         what + " (expected " + one_of(allowed) + ")");
    return;
  }
}

const toml::table* Reader::table(const toml::table& parent, std::string_view path,
                                 std::string_view key) {
  if (failed()) return nullptr;
  const toml::node* node = parent.get(key);
  if (node == nullptr) return nullptr;
  if (const auto* t = node->as_table()) return t;
  fail(line_of(*node), key_path(path, key),
       "must be a table ([" + std::string(key) + "]), not " + a_type(*node));
  return nullptr;
}

const toml::array* Reader::table_array(const toml::table& parent, std::string_view path,
                                       std::string_view key) {
  if (failed()) return nullptr;
  const toml::node* node = parent.get(key);
  if (node == nullptr) return nullptr;
  const auto* array = node->as_array();
  if (array != nullptr && (array->empty() || array->is_array_of_tables())) return array;
  const std::string shape = "[[" + std::string(key) + "]]";
  if (node->is_table()) {
    fail(line_of(*node), key_path(path, key),
         "must be written " + shape + " (one per entry), not [" + std::string(key) + "]");
  } else {
    fail(line_of(*node), key_path(path, key), "must be " + shape + " tables, not " + a_type(*node));
  }
  return nullptr;
}

std::optional<Located<std::string>> Reader::string(const toml::table& table, std::string_view path,
                                                   std::string_view key, Need need) {
  if (failed()) return std::nullopt;
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (need == Need::kRequired) fail(line_of(table), key_path(path, key), "missing");
    return std::nullopt;
  }
  const auto* value = node->as_string();
  if (value == nullptr) {
    fail(line_of(*node), key_path(path, key), "must be a string, not " + a_type(*node));
    return std::nullopt;
  }
  const std::string& text = value->get();
  if (text.empty()) {
    fail(line_of(*node), key_path(path, key), "must not be empty");
    return std::nullopt;
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      fail(line_of(*node), key_path(path, key), "must not contain control characters");
      return std::nullopt;
    }
  }
  return Located<std::string>{text, line_of(*node)};
}

std::optional<Located<std::int64_t>> Reader::integer(const toml::table& table,
                                                     std::string_view path, std::string_view key,
                                                     std::int64_t min, std::int64_t max) {
  if (failed()) return std::nullopt;
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_integer();
  if (value == nullptr) {
    fail(line_of(*node), key_path(path, key), "must be an integer, not " + a_type(*node));
    return std::nullopt;
  }
  const std::int64_t v = value->get();
  if (v < min || v > max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    fail(line_of(*node), key_path(path, key),
         std::to_string(v) + (v <= 0 ? " is not a positive integer" : " is out of range") +
             " (allowed " + range + ")");
    return std::nullopt;
  }
  return Located<std::int64_t>{v, line_of(*node)};
}

}  // namespace liandong::config
