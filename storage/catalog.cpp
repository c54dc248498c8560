#include "storage/catalog.h"

#include <toml++/toml.h>

#include <initializer_list>
#include <set>
#include <sstream>

#include "storage/store.h"

namespace liandong::storage {

const char* level_name(DecidingLevel l) {
  switch (l) {
    case DecidingLevel::village:
      return "village";
    case DecidingLevel::township:
      return "township";
    case DecidingLevel::county:
      return "county";
  }
  return "?";
}

const char* level_name_zh(DecidingLevel l) {
  switch (l) {
    case DecidingLevel::village:
      return "村";
    case DecidingLevel::township:
      return "乡镇";
    case DecidingLevel::county:
      return "县";
  }
  return "?";
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

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}

std::string a_type(const toml::node& node) {
  if (node.is_array_of_tables()) return "an array of tables";
  if (node.is_floating_point()) return "a floating-point number";
  std::ostringstream o;
  o << node.type();
  const std::string name = o.str();
  const bool vowel = !name.empty() && (name.front() == 'a' || name.front() == 'i');
  return (vowel ? "an " : "a ") + name;
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Typed, checked access that records the first problem as
// "SOURCE:LINE: PATH: WHAT"; every accessor does nothing once failed.
class Checker {
 public:
  explicit Checker(std::string_view source) : source_(source) {}

  void fail(std::size_t line, const std::string& path, const std::string& what) {
    if (!error_.empty()) return;
    error_ = source_ + ":" + std::to_string(line) + ": " + path + ": " + what;
  }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  static std::string at(std::string_view path, std::string_view key) {
    return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
  }

  void allow_only(const toml::table& t, std::string_view path,
                  std::initializer_list<std::string_view> allowed) {
    for (auto&& entry : t) {
      if (failed()) return;
      bool known = false;
      for (auto name : allowed)
        known = known || entry.first.str() == name;
      if (!known)
        fail(entry.first.source().begin.line, at(path, entry.first.str()),
             "unknown key (expected " + join(allowed) + ")");
    }
  }

  // A non-empty single-line string without control characters.
  std::optional<std::string> string(const toml::table& t, std::string_view path,
                                    std::string_view key, bool required) {
    if (failed()) return std::nullopt;
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (required) fail(line_of(t), at(path, key), "missing");
      return std::nullopt;
    }
    return text(*node, at(path, key));
  }

  std::optional<std::string> text(const toml::node& node, const std::string& path) {
    if (failed()) return std::nullopt;
    const auto* v = node.as_string();
    if (v == nullptr) {
      fail(line_of(node), path, "must be a string, not " + a_type(node));
      return std::nullopt;
    }
    const std::string& s = v->get();
    if (s.empty()) {
      fail(line_of(node), path, "must not be empty");
      return std::nullopt;
    }
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        fail(line_of(node), path, "must not contain control characters");
        return std::nullopt;
      }
    }
    return s;
  }

  std::optional<int64_t> integer(const toml::table& t, std::string_view path, std::string_view key,
                                 int64_t min, int64_t max, bool required = false) {
    if (failed()) return std::nullopt;
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (required) fail(line_of(t), at(path, key), "missing");
      return std::nullopt;
    }
    const auto* v = node->as_integer();
    if (v == nullptr) {
      fail(line_of(*node), at(path, key), "must be an integer, not " + a_type(*node));
      return std::nullopt;
    }
    if (v->get() < min || v->get() > max) {
      fail(line_of(*node), at(path, key),
           std::to_string(v->get()) + " is out of range (allowed " + std::to_string(min) + ".." +
               std::to_string(max) + ")");
      return std::nullopt;
    }
    return v->get();
  }

  std::optional<bool> boolean(const toml::table& t, std::string_view path, std::string_view key) {
    if (failed()) return std::nullopt;
    const toml::node* node = t.get(key);
    if (node == nullptr) return std::nullopt;
    const auto* v = node->as_boolean();
    if (v == nullptr) {
      fail(line_of(*node), at(path, key), "must be true or false, not " + a_type(*node));
      return std::nullopt;
    }
    return v->get();
  }

  // A list of non-empty strings; `required`: present and non-empty.
  std::vector<std::string> strings(const toml::table& t, std::string_view path,
                                   std::string_view key, bool required) {
    std::vector<std::string> out;
    if (failed()) return out;
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (required) fail(line_of(t), at(path, key), "missing");
      return out;
    }
    const auto* arr = node->as_array();
    if (arr == nullptr) {
      fail(line_of(*node), at(path, key), "must be a list of strings, not " + a_type(*node));
      return out;
    }
    if (arr->empty() && required) fail(line_of(*node), at(path, key), "must not be empty");
    for (std::size_t i = 0; i < arr->size() && !failed(); ++i) {
      auto s = text(*arr->get(i), at(path, key) + "[" + std::to_string(i) + "]");
      if (s) out.push_back(std::move(*s));
    }
    return out;
  }

  // The [[key]] tables of `t`; empty if absent.
  std::vector<const toml::table*> tables(const toml::table& t, std::string_view path,
                                         std::string_view key) {
    std::vector<const toml::table*> out;
    if (failed()) return out;
    const toml::node* node = t.get(key);
    if (node == nullptr) return out;
    const auto* arr = node->as_array();
    if (arr == nullptr || !(arr->empty() || arr->is_array_of_tables())) {
      fail(line_of(*node), at(path, key),
           "must be [[" + std::string(key) + "]] tables, not " + a_type(*node));
      return out;
    }
    for (std::size_t i = 0; i < arr->size(); ++i)
      out.push_back(arr->get(i)->as_table());
    return out;
  }

 private:
  std::string source_;
  std::string error_;
};

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

void parse_limits(Checker& ck, const toml::table& t, const std::string& path, StepLimits& out) {
  ck.allow_only(
      t, path,
      {"village_forward", "township_handle", "county_decide", "township_reply", "village_notify"});
  auto get = [&](std::string_view key, uint32_t& field) {
    if (auto v = ck.integer(t, path, key, 0, kMaxStepDays)) field = static_cast<uint32_t>(*v);
  };
  get("village_forward", out.village_forward);
  get("township_handle", out.township_handle);
  get("county_decide", out.county_decide);
  get("township_reply", out.township_reply);
  get("village_notify", out.village_notify);
}

void parse_material(Checker& ck, const toml::table& t, const std::string& path,
                    CatalogMaterial& out) {
  ck.allow_only(t, path, {"name", "form", "count", "later_ok", "note"});
  if (auto v = ck.string(t, path, "name", true)) out.name = *v;
  if (auto v = ck.string(t, path, "form", false)) {
    if (*v == "original" || *v == "原件") {
      out.original = true;
    } else if (*v == "copy" || *v == "复印件") {
      out.original = false;
    } else {
      ck.fail(line_of(*t.get("form")), Checker::at(path, "form"),
              "'" + *v + "' is not original or copy");
    }
  }
  if (auto v = ck.integer(t, path, "count", 1, kMaxMaterialCount))
    out.count = static_cast<uint32_t>(*v);
  if (auto v = ck.boolean(t, path, "later_ok")) out.later_ok = *v;
  if (auto v = ck.string(t, path, "note", false)) out.note = *v;
}

void parse_item(Checker& ck, const toml::table& t, const std::string& path,
                const std::string& default_phone, CatalogItem& out) {
  ck.allow_only(t, path,
                {"code", "name", "category", "level", "departments", "handling", "material",
                 "limits", "fee_fen", "fee_note", "legal_basis", "conditions", "procedure", "staff",
                 "complaint_phone", "note"});
  if (auto v = ck.string(t, path, "code", true)) {
    if (!valid_item_code(*v))
      ck.fail(line_of(*t.get("code")), Checker::at(path, "code"),
              "'" + *v + "' is not an item code (up to 32 letters, digits, '-', '_', '.')");
    out.code = *v;
  }
  if (auto v = ck.string(t, path, "name", true)) out.name = *v;
  if (auto v = ck.string(t, path, "category", true)) out.category = *v;
  if (auto v = ck.string(t, path, "level", true)) {
    auto l = level_from(*v);
    if (!l)
      ck.fail(line_of(*t.get("level")), Checker::at(path, "level"),
              "'" + *v + "' is not village, township or county");
    if (l) out.level = *l;
  }
  if (auto v = ck.string(t, path, "handling", true)) {
    auto h = handling_from(*v);
    if (!h)
      ck.fail(line_of(*t.get("handling")), Checker::at(path, "handling"),
              "'" + *v + "' is not immediate, promised, joint, escalated or consult");
    if (h) out.handling = *h;
  }
  out.departments = ck.strings(t, path, "departments", true);
  if (!ck.failed()) {
    std::set<std::string> seen;
    for (const auto& d : out.departments) {
      if (!seen.insert(d).second)
        ck.fail(line_of(*t.get("departments")), Checker::at(path, "departments"),
                "department '" + d + "' is listed twice");
    }
  }
  out.procedure = ck.strings(t, path, "procedure", false);
  if (auto v = ck.string(t, path, "legal_basis", true)) out.legal_basis = *v;
  if (auto v = ck.string(t, path, "conditions", false)) out.conditions = *v;
  if (auto v = ck.integer(t, path, "fee_fen", 0, kMaxFeeFen)) out.fee_fen = *v;
  if (auto v = ck.string(t, path, "fee_note", false)) out.fee_note = *v;
  if (auto v = ck.string(t, path, "staff", false)) out.staff = *v;
  out.complaint_phone = default_phone;
  if (auto v = ck.string(t, path, "complaint_phone", false)) out.complaint_phone = *v;
  if (auto v = ck.string(t, path, "note", false)) out.note = *v;

  if (const toml::node* n = t.get("limits"); n != nullptr && !ck.failed()) {
    if (const auto* lt = n->as_table()) {
      parse_limits(ck, *lt, Checker::at(path, "limits"), out.limits);
    } else {
      ck.fail(line_of(*n), Checker::at(path, "limits"),
              "must be a table ([item.limits]), not " + a_type(*n));
    }
  }
  const auto materials = ck.tables(t, path, "material");
  std::set<std::string> names;
  for (std::size_t i = 0; i < materials.size() && !ck.failed(); ++i) {
    const std::string mpath = Checker::at(path, "material") + "[" + std::to_string(i) + "]";
    CatalogMaterial m;
    parse_material(ck, *materials[i], mpath, m);
    if (!ck.failed() && !names.insert(m.name).second)
      ck.fail(line_of(*materials[i]), Checker::at(mpath, "name"),
              "material '" + m.name + "' is listed twice");
    out.materials.push_back(std::move(m));
  }
  if (ck.failed()) return;

  // Values that cannot all be true at once.
  const std::size_t line = line_of(t);
  if (out.handling == Handling::joint && out.departments.size() < 2)
    ck.fail(line, Checker::at(path, "departments"),
            "a joint item (联办) needs at least two departments");
  if (out.handling != Handling::joint && out.departments.size() > 1)
    ck.fail(line, Checker::at(path, "handling"),
            "several departments handle this item: handling must be joint");
  if (out.handling == Handling::escalated && out.level == DecidingLevel::village)
    ck.fail(line, Checker::at(path, "handling"),
            "an escalated item (上报件) is decided above the village: level cannot be village");
  if (out.level != DecidingLevel::county && out.limits.county_decide != 0)
    ck.fail(line, Checker::at(path, "limits.county_decide"),
            std::string("the county does not decide a ") + level_name(out.level) + " item");
  if (out.level == DecidingLevel::village && out.limits.township_handle != 0)
    ck.fail(line, Checker::at(path, "limits.township_handle"),
            "the township does not handle a village item");
  if (out.handling == Handling::immediate &&
      (out.limits.township_handle > 1 || out.limits.county_decide > 1))
    ck.fail(line, Checker::at(path, "limits"),
            "an immediate item (即办件) is decided the same day: at most 1 day to decide");
}

}  // namespace

Result<Catalog> parse_catalog(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::string description(e.description());
    for (char& c : description) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return Status::invalid(std::string(source) + ":" + std::to_string(e.source().begin.line) +
                           ": syntax: " + description);
  }
  Checker ck(source);
  Catalog cat;
  ck.allow_only(root, "", {"version", "title", "complaint_phone", "item"});
  if (auto v = ck.integer(root, "", "version", 1, kMaxCatalogVersion, true))
    cat.version = static_cast<uint32_t>(*v);
  if (auto v = ck.string(root, "", "title", false)) cat.title = *v;
  std::string phone;
  if (auto v = ck.string(root, "", "complaint_phone", false)) phone = *v;
  const auto items = ck.tables(root, "", "item");
  if (!ck.failed() && items.empty()) ck.fail(1, "item", "the catalog lists no [[item]]");
  std::set<std::string> codes;
  for (std::size_t i = 0; i < items.size() && !ck.failed(); ++i) {
    const std::string path = "item[" + std::to_string(i) + "]";
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
  auto notices = store.notices(EventKind::catalog_published);
  if (!notices.ok()) return notices.status();
  const std::string& code = store.code();
  const std::string county = code.size() >= 6 ? code.substr(0, 6) : std::string();
  // Ordered by version, then issuer: walk from the newest.
  for (auto it = notices->rbegin(); it != notices->rend(); ++it) {
    if (!county.empty() && it->origin != county) continue;
    if (version != 0 && it->number != version) continue;
    auto cat = parse_catalog(it->document, "catalog v" + std::to_string(it->number));
    if (!cat.ok()) {
      if (version != 0) return cat.status();
      continue;
    }
    // The event's version is the one that counts.
    cat->version = static_cast<uint32_t>(it->number);
    return std::optional<Catalog>(std::move(cat).value());
  }
  if (version != 0)
    return Status::not_found("catalog version " + std::to_string(version) + " is not held here");
  return std::optional<Catalog>();
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
