#include "node/app/actor.h"

#include "node/audit_log.h"
#include "node/render.h"
#include "storage/authority.h"
#include "storage/roster.h"

namespace liandong::app {

proto::Role actor_role(const Actor& a, const std::string& node_code) {
  if (!a.role.empty()) {
    if (auto r = node::role_from_name(a.role)) return *r;
  }
  return node_code.size() == 12 ? proto::Role::AGENT : proto::Role::CLERK;
}

AppResult<bool> check_level(const Actor& a, const std::string& node_code) {
  if (a.role.empty()) return true;
  const auto role = node::role_from_name(a.role);
  if (!role) return AppError{Status::invalid("unknown role '" + a.role + "'")};
  // Rule 2 of storage/authority.h, as for any action at this node.
  storage::ActContext ctx;
  ctx.node = node_code;
  ctx.role = *role;
  ctx.kind = EventKind::comment;
  if (auto s = storage::may_act(ctx); !s) return AppError{std::move(s), true};
  return true;
}

void fill_actor(proto::Actor::Builder b, const Actor& a, const std::string& node_code) {
  b.setName(a.name);
  b.setRole(actor_role(a, node_code));
  b.setStaffId(a.staff_id);
  b.setOnBehalfOf(a.on_behalf_of);
}

AppResult<Actor> checked_person(const Context& ctx, const Actor& actor, EventKind kind,
                                const std::string& subject) {
  auto roster = storage::held_roster(ctx.store);
  if (!roster.ok()) return AppError{roster.status()};
  if (!*roster) return actor;
  const std::string code = ctx.store.code();
  const std::optional<proto::Role> claimed =
      actor.role.empty() ? std::nullopt : node::role_from_name(actor.role);
  auto role = storage::check_person(**roster, code, actor.name, actor.staff_id, claimed,
                                    actor.on_behalf_of);
  if (!role.ok())
    return AppError{role.status(), true,
                    RoleRefusal{actor.name, actor_role(actor, code), kind, subject}};
  Actor out = actor;
  out.role = node::role_name(*role);
  return out;
}

void record_role_refusal(const Context& ctx, const RoleRefusal& r, const Status& why) {
  node::AuditNote n;
  n.what = proto::AuditWhat::ROLE_REFUSED;
  n.peer_code = ctx.store.code();
  n.who = r.actor_name;
  n.actor_name = r.actor_name;
  n.actor_role = r.role;
  n.subject = std::string(kind_name(r.kind)) + (r.subject.empty() ? "" : " " + r.subject);
  n.reason = why.message();
  n.count = r.count;
  node::record_audit(ctx.store, ctx.signer, n);
}

AppError recorded(const Context& ctx, AppError e) {
  if (e.role_refusal) record_role_refusal(ctx, *e.role_refusal, e.status);
  return e;
}

}  // namespace liandong::app
