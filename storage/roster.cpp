#include "storage/roster.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

constexpr int64_t kMaxRosterVersion = 1'000'000'000;

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::optional<proto::Role> roster_role(std::string_view name) {
  static const std::pair<std::string_view, proto::Role> kRoles[] = {
      {"agent", proto::Role::AGENT},
      {"clerk", proto::Role::CLERK},
      {"reviewer", proto::Role::REVIEWER},
      {"officer", proto::Role::OFFICER},
      {"director", proto::Role::DIRECTOR}};
  for (const auto& [n, r] : kRoles) {
    if (n == name) return r;
  }
  return std::nullopt;
}

Result<Roster> parse_roster(std::string_view text, std::string_view source) {
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
  Roster r;
  for (auto&& [k, v] : root) {
    if (k.str() != "version" && k.str() != "staff")
      return where(v, std::string(k.str()), "unknown key (expected version, staff)");
  }
  const auto* version = root.get("version");
  if (version == nullptr || !version->is_integer())
    return Status::invalid(std::string(source) + ":1: version: required, a whole number");
  const int64_t ver = version->as_integer()->get();
  if (ver < 1 || ver > kMaxRosterVersion)
    return where(*version, "version", "must be from 1 to " + std::to_string(kMaxRosterVersion));
  r.version = static_cast<uint32_t>(ver);
  const auto* staff = root.get("staff");
  if (staff == nullptr || !staff->is_array_of_tables() || staff->as_array()->empty())
    return Status::invalid(std::string(source) + ":1: staff: the roster lists no [[staff]]");
  if (staff->as_array()->size() > kMaxRosterStaff)
    return where(*staff, "staff", "more than " + std::to_string(kMaxRosterStaff) + " entries");
  std::set<std::pair<std::string, std::string>> seen;
  std::size_t i = 0;
  for (const auto& node : *staff->as_array()) {
    const std::string path = "staff[" + std::to_string(i++) + "]";
    const auto& t = *node.as_table();
    StaffEntry e;
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (key != "name" && key != "staff_id" && key != "role" && key != "node")
        return where(v, path + "." + key, "unknown key (expected name, staff_id, role, node)");
      if (!v.is_string()) return where(v, path + "." + key, "must be a string");
    }
    auto text_of = [&](const char* key) { return t[key].value_or(std::string()); };
    // The line of the key when it is there, else of the [[staff]] table.
    auto at = [&](const char* key) -> const toml::node& {
      const toml::node* n = t.get(key);
      return n != nullptr ? *n : static_cast<const toml::node&>(t);
    };
    e.name = text_of("name");
    e.staff_id = text_of("staff_id");
    e.node = text_of("node");
    if (e.name.empty() || e.name.size() > 200)
      return where(at("name"), path + ".name", "required, at most 200 bytes");
    if (e.name.find_first_not_of(" \t") == std::string::npos ||
        std::any_of(e.name.begin(), e.name.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
      return where(at("name"), path + ".name", "a name, not blank, without control characters");
    if (e.staff_id.size() > 64)
      return where(at("staff_id"), path + ".staff_id", "at most 64 bytes");
    if (!valid_code(e.node))
      return where(at("node"), path + ".node", "'" + e.node + "' is not a division code");
    auto role = roster_role(text_of("role"));
    if (!role)
      return where(
          at("role"), path + ".role",
          "'" + text_of("role") + "' is not a role (agent, clerk, reviewer, officer, director)");
    e.role = *role;
    // Rule 2 of storage/authority.h: an agent works at a village point,
    // every other role at a township or above.
    const bool village = e.node.size() == 12;
    if (e.role == proto::Role::AGENT && !village)
      return where(at("role"), path + ".role",
                   "an agent (代理员) works at a village point (12 digits), not at " + e.node);
    if (e.role != proto::Role::AGENT && village)
      return where(at("role"), path + ".role",
                   "a village point has agents only; '" + text_of("role") + "' works at " +
                       "a township or above, not at " + e.node);
    if (!seen.emplace(e.node, e.name).second)
      return where(t, path, e.name + " is listed twice at " + e.node);
    r.staff.push_back(std::move(e));
  }
  return r;
}

Result<std::optional<Roster>> held_roster(const Store& store) {
  auto notices = store.notices(EventKind::roster_published);
  if (!notices.ok()) return notices.status();
  const std::string& code = store.code();
  const std::string county = code.size() >= 6 ? code.substr(0, 6) : std::string();
  for (auto it = notices->rbegin(); it != notices->rend(); ++it) {
    if (!county.empty() && it->origin != county) continue;
    auto r = parse_roster(it->document, "roster v" + std::to_string(it->number));
    if (!r.ok()) continue;
    r->version = static_cast<uint32_t>(it->number);
    return std::optional<Roster>(std::move(r).value());
  }
  return std::optional<Roster>();
}

Result<proto::Role> check_person(const Roster& roster, std::string_view node, std::string_view name,
                                 std::string_view staff_id, std::optional<proto::Role> role,
                                 std::string_view on_behalf_of) {
  auto find = [&](std::string_view who) -> const StaffEntry* {
    for (const auto& e : roster.staff) {
      if (e.node == node && e.name == who) return &e;
    }
    return nullptr;
  };
  const std::string roster_v = "人员名册 v" + std::to_string(roster.version);
  const StaffEntry* me = find(name);
  if (me == nullptr)
    return Status::invalid(std::string(name) + " 不在本节点 " + std::string(node) + " 的" +
                           roster_v + "中 (not listed at " + std::string(node) +
                           " in the staff roster)");
  if (!staff_id.empty() && !me->staff_id.empty() && staff_id != me->staff_id)
    return Status::invalid(std::string(name) + " 的工号与" + roster_v +
                           "不符 (staff id does not match the roster)");
  const StaffEntry* as = me;
  if (!on_behalf_of.empty()) {
    as = find(on_behalf_of);
    if (as == nullptr)
      return Status::invalid(std::string(on_behalf_of) + " 不在本节点 " + std::string(node) +
                             " 的" + roster_v +
                             "中，不能由他人代行 (the person stood in for "
                             "is not listed here)");
  }
  if (role && *role != as->role)
    return Status::invalid(roster_v + "中 " + as->name + " 的角色不是所填角色 (the roster " +
                           "lists another role for " + as->name + ")");
  return as->role;
}

}  // namespace liandong::storage
