#include "storage/role_names.h"

#include "protocol/ids.h"

namespace liandong::storage {

namespace {

using R = proto::Role;

constexpr RoleName kRoles[] = {
    {R::AGENT, "agent", "代理员"},         {R::CLERK, "clerk", "窗口人员"},
    {R::REVIEWER, "reviewer", "审查员"},   {R::OFFICER, "officer", "首席代表"},
    {R::DIRECTOR, "director", "分管领导"}, {R::SYSTEM, "system", "系统"},
};

const RoleName* find(R r) {
  for (const auto& n : kRoles) {
    if (n.role == r) return &n;
  }
  return nullptr;
}

// A code of the level's length: the names by length are protocol/ids.h's.
std::string_view code_shape(Level l) {
  static constexpr std::string_view kDigits = "000000000000";
  return kDigits.substr(0, code_digits(l));
}

}  // namespace

std::span<const RoleName> role_names() {
  return kRoles;
}

const char* role_label(proto::Role r) {
  const RoleName* n = find(r);
  return n != nullptr ? n->name : "unknown";
}

const char* role_label_zh(proto::Role r) {
  const RoleName* n = find(r);
  return n != nullptr ? n->name_zh : "未知角色";
}

std::optional<proto::Role> role_from_label(std::string_view name, bool accept_zh) {
  for (const auto& n : kRoles) {
    if (n.role == R::SYSTEM) continue;
    if (name == n.name || (accept_zh && name == n.name_zh)) return n.role;
  }
  return std::nullopt;
}

Level level_of(std::string_view code) {
  if (code.size() >= 12) return Level::village;
  if (code.size() >= 9) return Level::township;
  return Level::county;
}

std::size_t code_digits(Level l) {
  switch (l) {
    case Level::village:
      return 12;
    case Level::township:
      return 9;
    case Level::county:
      return 6;
  }
  return 6;
}

const char* level_label(Level l) {
  return liandong::level_name(code_shape(l));
}

const char* level_label_zh(Level l) {
  return liandong::level_name_zh(code_shape(l));
}

}  // namespace liandong::storage
