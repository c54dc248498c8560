#include "storage/catalog.h"

#include <set>

#include "config/toml_reader.h"
#include "storage/held_document.h"
#include "storage/store.h"

namespace liandong::storage {

const char* level_name(DecidingLevel l) {
  return level_label(l);
}

const char* level_name_zh(DecidingLevel l) {
  return level_label_zh(l);
}

const char* handling_name(Handling h) {
  switch (h) {
    case Handling::immediate:
      return "immediate";
    case Handling::promised:
      return "promised";
    case Handling::joint:
      return "joint";
    case Handling::escalated:
      return "escalated";
    case Handling::consult:
      return "consult";
  }
  return "?";
}

const char* handling_name_zh(Handling h) {
  switch (h) {
    case Handling::immediate:
      return "即办件";
    case Handling::promised:
      return "承诺件";
    case Handling::joint:
      return "联办件";
    case Handling::escalated:
      return "上报件";
    case Handling::consult:
      return "咨询";
  }
  return "?";
}

uint32_t CatalogItem::total_days() const {
  return limits.village_forward + limits.township_handle + limits.county_decide +
         limits.township_reply + limits.village_notify;
}

const CatalogItem* Catalog::find(std::string_view code) const {
  for (const auto& item : items) {
    if (item.code == code) return &item;
  }
  return nullptr;
}

namespace {

using config::key_path;
using config::line_of;
using config::Need;
using config::Reader;

std::optional<DecidingLevel> level_from(std::string_view s) {
  if (s == "village") return DecidingLevel::village;
  if (s == "township") return DecidingLevel::township;
  if (s == "county") return DecidingLevel::county;
  return std::nullopt;
}

std::optional<Handling> handling_from(std::string_view s) {
  if (s == "immediate") return Handling::immediate;
  if (s == "promised") return Handling::promised;
  if (s == "joint") return Handling::joint;
  if (s == "escalated") return Handling::escalated;
  if (s == "consult") return Handling::consult;
  return std::nullopt;
}

bool valid_item_code(std::string_view code) {
  if (code.empty() || code.size() > 32) return false;
  for (char c : code) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

void parse_limits(Reader& ck, const toml::table& t, const std::string& path, StepLimits& out) {
  ck.allow_only(
      t, path,
      {"village_forward", "township_handle", "county_decide", "township_reply", "village_notify"});
  auto get = [&](std::string_view key, uint32_t& field) {
    if (auto v = ck.integer(t, path, key, 0, kMaxStepDays)) field = static_cast<uint32_t>(v->value);
  };
  get("village_forward", out.village_forward);
  get("township_handle", out.township_handle);
  get("county_decide", out.county_decide);
  get("township_reply", out.township_reply);
  get("village_notify", out.village_notify);
}

void parse_material(Reader& ck, const toml::table& t, const std::string& path,
                    CatalogMaterial& out) {
  ck.allow_only(t, path, {"name", "form", "count", "later_ok", "original_scan", "note"});
  if (auto v = ck.string(t, path, "name", Need::kRequired)) out.name = v->value;
  if (auto v = ck.string(t, path, "form", Need::kOptional)) {
    if (v->value == "original" || v->value == "原件") {
      out.original = true;
    } else if (v->value == "copy" || v->value == "复印件") {
      out.original = false;
    } else {
      ck.fail(v->line, key_path(path, "form"), "'" + v->value + "' is not original or copy");
    }
  }
  if (auto v = ck.integer(t, path, "count", 1, kMaxMaterialCount))
    out.count = static_cast<uint32_t>(v->value);
  if (auto v = ck.boolean(t, path, "later_ok")) out.later_ok = v->value;
  if (auto v = ck.boolean(t, path, "original_scan")) out.original_scan = v->value;
  if (auto v = ck.string(t, path, "note", Need::kOptional)) out.note = v->value;
}

void parse_item(Reader& ck, const toml::table& t, const std::string& path,
                const std::string& default_phone, CatalogItem& out) {
  ck.allow_only(t, path,
                {"code", "name", "category", "level", "departments", "handling", "material",
                 "limits", "fee_fen", "fee_note", "legal_basis", "conditions", "procedure", "staff",
                 "complaint_phone", "note"});
  if (auto v = ck.string(t, path, "code", Need::kRequired)) {
    if (!valid_item_code(v->value))
      ck.fail(v->line, key_path(path, "code"),
              "'" + v->value + "' is not an item code (up to 32 letters, digits, '-', '_', '.')");
    out.code = v->value;
  }
  if (auto v = ck.string(t, path, "name", Need::kRequired)) out.name = v->value;
  if (auto v = ck.string(t, path, "category", Need::kRequired)) out.category = v->value;
  if (auto v = ck.string(t, path, "level", Need::kRequired)) {
    auto l = level_from(v->value);
    if (!l)
      ck.fail(v->line, key_path(path, "level"),
              "'" + v->value + "' is not village, township or county");
    if (l) out.level = *l;
  }
  if (auto v = ck.string(t, path, "handling", Need::kRequired)) {
    auto h = handling_from(v->value);
    if (!h)
      ck.fail(v->line, key_path(path, "handling"),
              "'" + v->value + "' is not immediate, promised, joint, escalated or consult");
    if (h) out.handling = *h;
  }
  std::set<std::string> seen;
  for (auto& d : ck.strings(t, path, "departments", Need::kRequired)) {
    if (!seen.insert(d.value).second)
      ck.fail(d.line, key_path(path, "departments"),
              "department '" + d.value + "' is listed twice");
    out.departments.push_back(std::move(d.value));
  }
  for (auto& step : ck.strings(t, path, "procedure", Need::kOptional))
    out.procedure.push_back(std::move(step.value));
  if (auto v = ck.string(t, path, "legal_basis", Need::kRequired)) out.legal_basis = v->value;
  if (auto v = ck.string(t, path, "conditions", Need::kOptional)) out.conditions = v->value;
  if (auto v = ck.integer(t, path, "fee_fen", 0, kMaxFeeFen)) out.fee_fen = v->value;
  if (auto v = ck.string(t, path, "fee_note", Need::kOptional)) out.fee_note = v->value;
  if (auto v = ck.string(t, path, "staff", Need::kOptional)) out.staff = v->value;
  out.complaint_phone = default_phone;
  if (auto v = ck.string(t, path, "complaint_phone", Need::kOptional))
    out.complaint_phone = v->value;
  if (auto v = ck.string(t, path, "note", Need::kOptional)) out.note = v->value;

  if (const toml::table* limits = ck.table(t, path, "limits"))
    parse_limits(ck, *limits, key_path(path, "limits"), out.limits);
  const auto materials = ck.tables(t, path, "material");
  std::set<std::string> names;
  for (std::size_t i = 0; i < materials.size() && !ck.failed(); ++i) {
    const std::string mpath = config::index_path(key_path(path, "material"), i);
    CatalogMaterial m;
    parse_material(ck, *materials[i], mpath, m);
    if (!ck.failed() && !names.insert(m.name).second)
      ck.fail(line_of(*materials[i]), key_path(mpath, "name"),
              "material '" + m.name + "' is listed twice");
    out.materials.push_back(std::move(m));
  }
  if (ck.failed()) return;

  // Values that cannot all be true at once.
  const std::size_t line = line_of(t);
  if (out.handling == Handling::joint && out.departments.size() < 2)
    ck.fail(line, key_path(path, "departments"),
            "a joint item (联办) needs at least two departments");
  if (out.handling != Handling::joint && out.departments.size() > 1)
    ck.fail(line, key_path(path, "handling"),
            "several departments handle this item: handling must be joint");
  if (out.handling == Handling::escalated && out.level == DecidingLevel::village)
    ck.fail(line, key_path(path, "handling"),
            "an escalated item (上报件) is decided above the village: level cannot be village");
  if (out.level != DecidingLevel::county && out.limits.county_decide != 0)
    ck.fail(line, key_path(path, "limits.county_decide"),
            std::string("the county does not decide a ") + level_name(out.level) + " item");
  if (out.level == DecidingLevel::village && out.limits.township_handle != 0)
    ck.fail(line, key_path(path, "limits.township_handle"),
            "the township does not handle a village item");
  if (out.handling == Handling::immediate &&
      (out.limits.township_handle > 1 || out.limits.county_decide > 1))
    ck.fail(line, key_path(path, "limits"),
            "an immediate item (即办件) is decided the same day: at most 1 day to decide");
}

}  // namespace

Result<Catalog> parse_catalog(std::string_view text, std::string_view source) {
  std::string syntax_error;
  const std::optional<toml::table> root = config::parse_toml(text, source, syntax_error);
  if (!root) return Status::invalid(syntax_error);
  Reader ck(source);
  Catalog cat;
  ck.allow_only(*root, "", {"version", "title", "complaint_phone", "item"});
  if (auto v = ck.integer(*root, "", "version", 1, kMaxCatalogVersion, Need::kRequired))
    cat.version = static_cast<uint32_t>(v->value);
  if (auto v = ck.string(*root, "", "title", Need::kOptional)) cat.title = v->value;
  std::string phone;
  if (auto v = ck.string(*root, "", "complaint_phone", Need::kOptional)) phone = v->value;
  const auto items = ck.tables(*root, "", "item");
  if (!ck.failed() && items.empty()) ck.fail(1, "item", "the catalog lists no [[item]]");
  std::set<std::string> codes;
  for (std::size_t i = 0; i < items.size() && !ck.failed(); ++i) {
    const std::string path = config::index_path("item", i);
    CatalogItem item;
    parse_item(ck, *items[i], path, phone, item);
    if (!ck.failed() && !codes.insert(item.code).second)
      ck.fail(line_of(*items[i]->get("code")), path + ".code",
              "item code '" + item.code + "' is used twice");
    cat.items.push_back(std::move(item));
  }
  if (ck.failed()) return Status::invalid(ck.error());
  return cat;
}

Result<std::optional<Catalog>> held_catalog(const Store& store, uint32_t version) {
  return held_document<Catalog>(store, EventKind::catalog_published, "catalog", parse_catalog,
                                version);
}

uint32_t submitted_catalog_version(const std::vector<StoredEvent>& case_events) {
  for (const auto& e : case_events) {
    if (e.view.kind() == EventKind::submitted)
      return e.view.event().getBody().getSubmitted().getCatalogVersion();
  }
  return 0;
}

Result<const Catalog*> CatalogCache::get(uint32_t version) {
  auto it = by_version_.find(version);
  if (it == by_version_.end()) {
    auto held = held_catalog(store_, version);
    if (!held.ok() && version != 0) {
      auto newest = get(0);
      if (!newest.ok()) return newest.status();
      by_version_.emplace(version, *newest ? std::optional<Catalog>(**newest) : std::nullopt);
      return get(version);
    }
    if (!held.ok()) return held.status();
    it = by_version_.emplace(version, std::move(held).value()).first;
  }
  return it->second ? &*it->second : nullptr;
}

Result<StepLimits> case_step_limits(CatalogCache& catalogs, const CaseState& st,
                                    const std::vector<StoredEvent>& case_events) {
  auto catalog = catalogs.get(submitted_catalog_version(case_events));
  if (!catalog.ok()) return catalog.status();
  if (*catalog != nullptr) {
    if (const auto* item = (*catalog)->find(st.item_code)) return item->limits;
  }
  return StepLimits{};
}

}  // namespace liandong::storage
