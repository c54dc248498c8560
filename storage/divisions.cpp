#include "storage/divisions.h"

#include "config/toml_reader.h"
#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "storage/held_document.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

constexpr int64_t kMaxDivisionsVersion = 1'000'000'000;

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
  using config::Need;
  std::string syntax_error;
  const std::optional<toml::table> root = config::parse_toml(text, source, syntax_error);
  if (!root) return Status::invalid(syntax_error);
  config::Reader reader(source);
  reader.allow_only(*root, "", {"version", "division"});
  Divisions d;
  if (auto v = reader.integer(*root, "", "version", 1, kMaxDivisionsVersion, Need::kRequired))
    d.version = static_cast<uint32_t>(v->value);
  const auto list = reader.tables(*root, "", "division", kMaxDivisions);
  if (!reader.failed() && list.empty())
    reader.fail(1, "division", "the table lists no [[division]]");
  for (std::size_t i = 0; i < list.size() && !reader.failed(); ++i) {
    const std::string path = config::index_path("division", i);
    const toml::table& t = *list[i];
    reader.allow_only(t, path, {"code", "name"});
    const auto code = reader.string(t, path, "code", Need::kRequired);
    const auto name = reader.string(t, path, "name", Need::kRequired, kMaxDivisionNameBytes);
    if (reader.failed()) break;
    if (!valid_code(code->value) || code->value.size() < 6)
      reader.fail(code->line, path + ".code",
                  "'" + code->value + "' is not the code of a county, township or village " +
                      "(6, 9 or 12 digits)");
    else if (name->value.find_first_not_of(" \t") == std::string::npos)
      reader.fail(name->line, path + ".name", "must not be blank");
    else if (!d.names.emplace(code->value, name->value).second)
      reader.fail(code->line, path + ".code", code->value + " is listed twice");
  }
  if (reader.failed()) return Status::invalid(reader.error());
  return d;
}

Result<std::optional<Divisions>> held_divisions(const Store& store) {
  return held_document<Divisions>(store, EventKind::divisions_published, "divisions",
                                  parse_divisions);
}

}  // namespace liandong::storage
