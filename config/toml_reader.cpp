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

// "item[0].limits" -> "item.limits": how a table's header is written.
std::string header_name(std::string_view path) {
  std::string out;
  bool in_index = false;
  for (char c : path) {
    if (c == '[') in_index = true;
    if (!in_index) out += c;
    if (c == ']') in_index = false;
  }
  return out;
}

}  // namespace

std::optional<toml::table> parse_toml(std::string_view text, std::string_view source,
                                      std::string& error) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::string description(e.description());
    for (char& c : description) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    const std::size_t line = e.source().begin.line == 0 ? 1 : e.source().begin.line;
    error = std::string(source) + ":" + std::to_string(line) + ": syntax: " + description;
    return std::nullopt;
  }
}

std::string key_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

std::string index_path(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

std::size_t line_of(const toml::node& node) {
  const std::size_t line = node.source().begin.line;
  return line == 0 ? 1 : line;
}

void Reader::fail(std::size_t line, std::string_view key_path, std::string_view what) {
  if (error_) return;
  error_ = source_ + ":" + std::to_string(line) + ": " + std::string(key_path) + ": " +
           std::string(what);
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
    const std::size_t line =
        key.source().begin.line == 0 ? line_of(value) : key.source().begin.line;
    fail(line, key_path(path, key.str()), what + " (expected " + one_of(allowed) + ")");
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
       "must be a table ([" + header_name(key_path(path, key)) + "]), not " + a_type(*node));
  return nullptr;
}

const toml::array* Reader::table_array(const toml::table& parent, std::string_view path,
                                       std::string_view key) {
  if (failed()) return nullptr;
  const toml::node* node = parent.get(key);
  if (node == nullptr) return nullptr;
  const auto* array = node->as_array();
  if (array != nullptr && (array->empty() || array->is_array_of_tables())) return array;
  const std::string shape = "[[" + header_name(key_path(path, key)) + "]]";
  if (node->is_table()) {
    fail(line_of(*node), key_path(path, key),
         "must be written " + shape + " (one per entry), not [" + std::string(key) + "]");
  } else {
    fail(line_of(*node), key_path(path, key), "must be " + shape + " tables, not " + a_type(*node));
  }
  return nullptr;
}

std::vector<const toml::table*> Reader::tables(const toml::table& parent, std::string_view path,
                                               std::string_view key, std::size_t max_entries) {
  std::vector<const toml::table*> out;
  const toml::array* array = table_array(parent, path, key);
  if (array == nullptr) return out;
  if (max_entries != 0 && array->size() > max_entries) {
    fail(line_of(*array), key_path(path, key),
         "more than " + std::to_string(max_entries) + " entries");
    return out;
  }
  for (const auto& node : *array)
    out.push_back(node.as_table());
  return out;
}

std::optional<Located<std::string>> Reader::checked_text(const toml::node& node,
                                                         std::string_view path,
                                                         std::size_t max_bytes, Text text) {
  const auto* value = node.as_string();
  if (value == nullptr) {
    fail(line_of(node), path, "must be a string, not " + a_type(node));
    return std::nullopt;
  }
  const std::string& s = value->get();
  if (text == Text::kLine && s.empty()) {
    fail(line_of(node), path, "must not be empty");
    return std::nullopt;
  }
  if (max_bytes != 0 && s.size() > max_bytes) {
    fail(line_of(node), path, "must be at most " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  if (text == Text::kLine) {
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        fail(line_of(node), path, "must not contain control characters");
        return std::nullopt;
      }
    }
  }
  return Located<std::string>{s, line_of(node)};
}

std::optional<Located<std::string>> Reader::string(const toml::table& table, std::string_view path,
                                                   std::string_view key, Need need,
                                                   std::size_t max_bytes, Text text) {
  if (failed()) return std::nullopt;
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (need == Need::kRequired) fail(line_of(table), key_path(path, key), "missing");
    return std::nullopt;
  }
  return checked_text(*node, key_path(path, key), max_bytes, text);
}

std::optional<Located<std::string>> Reader::string_at(const toml::node& node,
                                                      std::string_view path) {
  if (failed()) return std::nullopt;
  return checked_text(node, path, 0, Text::kLine);
}

std::vector<Located<std::string>> Reader::strings(const toml::table& table, std::string_view path,
                                                  std::string_view key, Need need) {
  std::vector<Located<std::string>> out;
  if (failed()) return out;
  const std::string at = key_path(path, key);
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (need == Need::kRequired) fail(line_of(table), at, "missing");
    return out;
  }
  const auto* array = node->as_array();
  if (array == nullptr) {
    fail(line_of(*node), at, "must be a list of strings, not " + a_type(*node));
    return out;
  }
  if (array->empty() && need == Need::kRequired) fail(line_of(*node), at, "must not be empty");
  for (std::size_t i = 0; i < array->size() && !failed(); ++i) {
    if (auto s = string_at(*array->get(i), index_path(at, i))) out.push_back(std::move(*s));
  }
  return out;
}

std::optional<Located<std::int64_t>> Reader::integer(const toml::table& table,
                                                     std::string_view path, std::string_view key,
                                                     std::int64_t min, std::int64_t max,
                                                     Need need) {
  if (failed()) return std::nullopt;
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    if (need == Need::kRequired) fail(line_of(table), key_path(path, key), "missing");
    return std::nullopt;
  }
  const auto* value = node->as_integer();
  if (value == nullptr) {
    fail(line_of(*node), key_path(path, key), "must be an integer, not " + a_type(*node));
    return std::nullopt;
  }
  const std::int64_t v = value->get();
  if (v < min || v > max) {
    const std::string range = std::to_string(min) + ".." + std::to_string(max);
    const bool positive_wanted = min >= 1 && v <= 0;
    fail(line_of(*node), key_path(path, key),
         std::to_string(v) + (positive_wanted ? " is not a positive integer" : " is out of range") +
             " (allowed " + range + ")");
    return std::nullopt;
  }
  return Located<std::int64_t>{v, line_of(*node)};
}

std::optional<Located<bool>> Reader::boolean(const toml::table& table, std::string_view path,
                                             std::string_view key) {
  if (failed()) return std::nullopt;
  const toml::node* node = table.get(key);
  if (node == nullptr) return std::nullopt;
  const auto* value = node->as_boolean();
  if (value == nullptr) {
    fail(line_of(*node), key_path(path, key), "must be true or false, not " + a_type(*node));
    return std::nullopt;
  }
  return Located<bool>{value->get(), line_of(*node)};
}

}  // namespace liandong::config
