#include "storage/roster.h"

#include <set>

#include "config/toml_reader.h"
#include "protocol/ids.h"
#include "storage/held_document.h"
#include "storage/role_names.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

constexpr int64_t kMaxRosterVersion = 1'000'000'000;

}  // namespace

std::optional<proto::Role> roster_role(std::string_view name) {
  return role_from_label(name, /*accept_zh=*/false);
}

Result<Roster> parse_roster(std::string_view text, std::string_view source) {
  using config::Need;
  std::string syntax_error;
  const std::optional<toml::table> root = config::parse_toml(text, source, syntax_error);
  if (!root) return Status::invalid(syntax_error);
  config::Reader reader(source);
  reader.allow_only(*root, "", {"version", "staff"});
  Roster r;
  if (auto v = reader.integer(*root, "", "version", 1, kMaxRosterVersion, Need::kRequired))
    r.version = static_cast<uint32_t>(v->value);
  const auto staff = reader.tables(*root, "", "staff", kMaxRosterStaff);
  if (!reader.failed() && staff.empty()) reader.fail(1, "staff", "the roster lists no [[staff]]");
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < staff.size() && !reader.failed(); ++i) {
    const std::string path = config::index_path("staff", i);
    const toml::table& t = *staff[i];
    reader.allow_only(t, path, {"name", "staff_id", "role", "node"});
    const auto name = reader.string(t, path, "name", Need::kRequired, 200);
    // A staff id may be left empty (no id on the roster).
    const auto staff_id =
        reader.string(t, path, "staff_id", Need::kOptional, 64, config::Text::kAny);
    const auto node = reader.string(t, path, "node", Need::kRequired);
    const auto role_name = reader.string(t, path, "role", Need::kRequired);
    if (reader.failed()) break;
    StaffEntry e;
    e.name = name->value;
    e.staff_id = staff_id ? staff_id->value : std::string();
    e.node = node->value;
    if (e.name.find_first_not_of(" \t") == std::string::npos) {
      reader.fail(name->line, path + ".name", "must not be blank");
      break;
    }
    if (!valid_code(e.node)) {
      reader.fail(node->line, path + ".node", "'" + e.node + "' is not a division code");
      break;
    }
    auto role = roster_role(role_name->value);
    if (!role) {
      reader.fail(
          role_name->line, path + ".role",
          "'" + role_name->value + "' is not a role (agent, clerk, reviewer, officer, director)");
      break;
    }
    e.role = *role;
    // Rule 2 of storage/authority.h: an agent works at a village point,
    // every other role at a township or above.
    const bool village = e.node.size() == 12;
    if (e.role == proto::Role::AGENT && !village)
      reader.fail(role_name->line, path + ".role",
                  "an agent (代理员) works at a village point (12 digits), not at " + e.node);
    if (e.role != proto::Role::AGENT && village)
      reader.fail(role_name->line, path + ".role",
                  "a village point has agents only; '" + role_name->value + "' works at " +
                      "a township or above, not at " + e.node);
    if (!reader.failed() && !seen.emplace(e.node, e.name).second)
      reader.fail(config::line_of(t), path, e.name + " is listed twice at " + e.node);
    r.staff.push_back(std::move(e));
  }
  if (reader.failed()) return Status::invalid(reader.error());
  return r;
}

Result<std::optional<Roster>> held_roster(const Store& store) {
  return held_document<Roster>(store, EventKind::roster_published, "roster", parse_roster);
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
