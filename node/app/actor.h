// Who acts (node/app/): the person behind an action, the role and level
// rules (storage/authority.h) and the staff roster (storage/roster.h)
// applied to them, and the audit record of a refusal.
//
// Thread contract: as node/app/context.h.
#pragma once

#include <string>

#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/records.capnp.h"

namespace liandong::app {

// The person acting, as given (by the CLI's --actor, --role, ...).
struct Actor {
  std::string name;
  std::string role;  // agent, clerk, reviewer, officer, director (or Chinese)
  std::string staff_id;
  std::string on_behalf_of;  // AB角: the primary (A) this backup acts for
};

// The role an action is recorded with: the actor's role, or by level (an
// agent at a village, a clerk above).
proto::Role actor_role(const Actor& a, const std::string& node_code);

// Refuses a role that does not act at this node's level: an agent acts
// only at a village, every other role only at a township or above
// (storage/authority.h, rule 2). No role: nothing to check. An unknown role
// is bad input.
AppResult<bool> check_level(const Actor& a, const std::string& node_code);

// Fills the actor of an event (default role from the level).
void fill_actor(proto::Actor::Builder b, const Actor& a, const std::string& node_code);

// The staff roster (storage/roster.h): where this node holds one, the actor
// must be listed here, and acts with the role it lists (the returned
// actor). A refusal carries its RoleRefusal; nothing is written.
AppResult<Actor> checked_person(const Context& ctx, const Actor& actor, EventKind kind,
                                const std::string& subject);

// Records a person's action refused by the role rules or the roster in the
// audit log (node/audit_log.h). Never fails.
void record_role_refusal(const Context& ctx, const RoleRefusal& r, const Status& why);

// Records `e`'s role refusal, if it has one; returns `e`.
AppError recorded(const Context& ctx, AppError e);

}  // namespace liandong::app
