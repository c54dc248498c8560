// The names of roles (角色) and levels (层级) people read and type: one
// table, so the CLI, the desk, the roster and the refusals name a role or a
// level the same way.
//
// Roles: agent 代理员 (village point), clerk 窗口人员, reviewer 审查员,
// officer 首席代表, director 分管领导, and system 系统 for what a node does
// by itself. Levels: village 村, township 乡镇, county 县 (12, 9 and 6
// digits); the names by code, with 市 and 省 above, are protocol/ids.h
// level_name and level_name_zh, which this table's levels come from.
//
// Thread contract: pure functions over constant tables; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/records.capnp.h"

namespace liandong::storage {

struct RoleName {
  proto::Role role;
  const char* name;     // "agent": what a roster and the CLI's --role take
  const char* name_zh;  // "代理员"
};

// Every role, the people's roles first in the order a county lists them
// (agent, clerk, reviewer, officer, director), system last.
std::span<const RoleName> role_names();

const char* role_label(proto::Role r);     // "agent"; "unknown" for a value not in the table
const char* role_label_zh(proto::Role r);  // "代理员"; "未知角色" for a value not in the table

// A person's role by its English name ("agent"), or also by its Chinese name
// ("代理员") when `accept_zh`. Never system: no person acts as the node.
std::optional<proto::Role> role_from_label(std::string_view name, bool accept_zh);

// The levels a node stands at and a case is decided at, upward: a level
// compares greater than the ones below it.
enum class Level : uint8_t { village, township, county };

// The level of a node by its code: 12 digits village, 9 township, else county.
Level level_of(std::string_view code);

// The length of the level's division codes: 12, 9, 6.
std::size_t code_digits(Level l);
const char* level_label(Level l);     // "village"
const char* level_label_zh(Level l);  // "村"

}  // namespace liandong::storage
