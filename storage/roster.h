// The staff roster (人员名册) the county publishes: who holds which role at
// which node. Where a node holds a roster, a local action names a person
// the roster lists at that node, with the role it lists (AB角: the backup
// must be listed at the node, the person it stands in for with the role).
// Where it holds none, only the level rules of storage/authority.h apply.
//
// The document is TOML (config/roster-example.toml):
//
//   version = 2                  # > 0; each publication raises it
//   [[staff]]
//   name = "王小红"               # required
//   staff_id = "DB-007"          # optional; if given, --staff-id must match
//   role = "agent"               # agent | clerk | reviewer | officer | director
//   node = "360723101007"        # the division code where the person works
//
// It travels inside a `rosterPublished {version, document}` broadcast from
// the county; the bytes are kept verbatim, so every node parses the same.
//
// parse_roster and check_person are pure logic, safe from any thread;
// held_roster reads the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/records.capnp.h"
#include "protocol/status.h"

namespace liandong::storage {

class Store;

struct StaffEntry {
  std::string name, staff_id, node;
  proto::Role role = proto::Role::AGENT;
};

struct Roster {
  uint32_t version = 0;
  std::vector<StaffEntry> staff;
};

constexpr std::size_t kMaxRosterStaff = 20000;

// Parses and checks a roster; errors read "SOURCE:LINE: PATH: WHAT".
Result<Roster> parse_roster(std::string_view text, std::string_view source);

// The newest roster held here from this node's county (nullopt: none).
Result<std::optional<Roster>> held_roster(const Store& store);

// The person acting at `node`: `name` (with `staff_id` if given) listed
// there. Returns the role to act with: `role` if given (it must be the
// listed one), else the listed role. With `on_behalf_of` (AB角) the backup
// is listed at the node with any role and the role is the primary's.
Result<proto::Role> check_person(const Roster& roster, std::string_view node, std::string_view name,
                                 std::string_view staff_id, std::optional<proto::Role> role,
                                 std::string_view on_behalf_of);

// The role a roster names: "agent", "clerk", "reviewer", "officer", "director".
std::optional<proto::Role> roster_role(std::string_view name);

}  // namespace liandong::storage
