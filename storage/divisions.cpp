#include "storage/divisions.h"

#include <toml++/toml.h>

#include <algorithm>

#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

constexpr int64_t kMaxDivisionsVersion = 1'000'000'000;

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

}  // namespace

std::optional<std::string> Divisions::name_of(std::string_view code) const {
  auto it = names.find(code);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

std::string Divisions::label(std::string_view code) const {
  auto name = name_of(code);
  if (!name) return std::string(code);
  return *name + "（" + std::string(code) + "）";
}

std::string Divisions::short_label(std::string_view code) const {
  auto name = name_of(code);
  return name ? *name : std::string(code);
}

std::string place_label(const Divisions* table, std::string_view code) {
  return table != nullptr ? table->label(code) : std::string(code);
}

std::string place_short_label(const Divisions* table, std::string_view code) {
  return table != nullptr ? table->short_label(code) : std::string(code);
}

Result<Divisions> parse_divisions(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::invalid(std::string(source) + ":" + std::to_string(e.source().begin.line) +
                           ": syntax: " + one_line(e.description()));
  }
  auto where = [&](const toml::node& n, const std::string& path, const std::string& what) {
    return Status::invalid(std::string(source) + ":" + std::to_string(n.source().begin.line) +
                           ": " + path + ": " + what);
  };
  for (auto&& [k, v] : root) {
    if (k.str() != "version" && k.str() != "division")
      return where(v, std::string(k.str()), "unknown key (expected version, division)");
  }
  Divisions d;
  const auto* version = root.get("version");
  if (version == nullptr || !version->is_integer())
    return Status::invalid(std::string(source) + ":1: version: required, a whole number");
  const int64_t ver = version->as_integer()->get();
  if (ver < 1 || ver > kMaxDivisionsVersion)
    return where(*version, "version", "must be from 1 to " + std::to_string(kMaxDivisionsVersion));
  d.version = static_cast<uint32_t>(ver);
  const auto* list = root.get("division");
  if (list == nullptr || !list->is_array_of_tables() || list->as_array()->empty())
    return Status::invalid(std::string(source) + ":1: division: the table lists no [[division]]");
  if (list->as_array()->size() > kMaxDivisions)
    return where(*list, "division", "more than " + std::to_string(kMaxDivisions) + " entries");
  std::size_t i = 0;
  for (const auto& node : *list->as_array()) {
    const std::string path = "division[" + std::to_string(i++) + "]";
    const auto& t = *node.as_table();
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (key != "code" && key != "name")
        return where(v, path + "." + key, "unknown key (expected code, name)");
      if (!v.is_string()) return where(v, path + "." + key, "must be a string");
    }
    auto at = [&](const char* key) -> const toml::node& {
      const toml::node* n = t.get(key);
      return n != nullptr ? *n : static_cast<const toml::node&>(t);
    };
    const std::string code = t["code"].value_or(std::string());
    const std::string name = t["name"].value_or(std::string());
    if (!valid_code(code) || code.size() < 6)
      return where(at("code"), path + ".code",
                   "'" + code + "' is not the code of a county, township or village " +
                       "(6, 9 or 12 digits)");
    if (name.empty() || name.size() > kMaxDivisionNameBytes ||
        name.find_first_not_of(" \t") == std::string::npos || has_control(name))
      return where(at("name"), path + ".name",
                   "required, one line without control characters, at most " +
                       std::to_string(kMaxDivisionNameBytes) + " bytes");
    if (!d.names.emplace(code, name).second)
      return where(at("code"), path + ".code", code + " is listed twice");
  }
  return d;
}

Result<std::optional<Divisions>> held_divisions(const Store& store) {
  auto notices = store.notices(EventKind::divisions_published);
  if (!notices.ok()) return notices.status();
  const std::string& code = store.code();
  const std::string county = code.size() >= 6 ? code.substr(0, 6) : std::string();
  // Notices come in (version, seq) order: the last one that parses is the
  // newest in force.
  for (auto it = notices->rbegin(); it != notices->rend(); ++it) {
    if (!county.empty() && it->origin != county) continue;
    auto d = parse_divisions(it->document, "divisions v" + std::to_string(it->number));
    if (!d.ok()) continue;
    d->version = static_cast<uint32_t>(it->number);
    return std::optional<Divisions>(std::move(d).value());
  }
  return std::optional<Divisions>();
}

}  // namespace liandong::storage
