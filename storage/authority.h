// Who may take which action on a case, where (办事权限): the node's level
// and jurisdiction, the actor's role, the level handling the case now and
// the catalog item's deciding level. A node refuses, before writing
// anything, a local action its actor may not take.
//
// Levels by code length: 12 village (村代理点), 9 township (乡镇便民服务中心),
// 6 county (县行政服务中心); 2 and 4 (province, city) count as "above the
// county" and follow the county's rules. N is the acting node's code, H the
// case's home, K the level handling the case now (CaseState::handler).
//
// Rules, checked in this order; the first that fails is the refusal:
//
// 1. Role `system` (the node itself) takes no case action at all; it only
//    publishes broadcasts (catalog, calendar).
// 2. Role and level: `agent` (代理员) acts only at a village node; `clerk`
//    (窗口), `reviewer` (审查员), `officer` (首席代表) and `director`
//    (分管领导) act only at a township or above. (A village point has
//    agents, no windows or departments.)
// 3. Jurisdiction: N acts only on cases homed in its subtree (H starts with
//    N). A clerk of one township cannot touch another township's case; a
//    village cannot touch its neighbour's.
// 4. Role and action. AB角: an actor with `onBehalfOf` set acts with A's
//    role (the `role` field carries it); nothing else changes.
//
//    action (event kind)          roles                     where (5.)
//    submit (submitted)           agent clerk director      H in N's subtree
//    accept (accepted, 受理)      agent clerk director      at or above K
//    not-accept (不予受理)        agent clerk director      at or above K
//    request-supplement (补正)    agent clerk director      at or above K
//    supplement (supplemented)    agent clerk director      at H or at K
//    escalate (escalated, 上报)   agent clerk director      at or above K
//    assign (assigned, 分派)      clerk director            at K
//    opinion (部门意见)           reviewer officer director at or above K (a)
//    decide (decided, 办结)       officer director; clerk,  at K (6.)
//                                 agent only per (6.)
//    reply (replied, 答复)        clerk officer director    at K (7.)
//    deliver (delivered, 回复)    agent clerk director      at H
//    rate (rated, 一事一评)       agent clerk director      at H
//    collect-fee (fee_collected)  agent clerk director      at H
//    close (closed, 销号)         agent clerk director      at H
//    withdraw (withdrawn, 撤回)   agent clerk director      at H or at K
//    comment (备注)               every role but system     anywhere (b)
//    complain (complaint, 投诉)   every role but system     anywhere (b)
//    supervise (supervised, 督办) director                  at or above K
//    answer (answered, 答复)      every role but system     anywhere (c)
//
//    (a) only once departments are assigned (the workflow checks which).
//    (b) anywhere in N's jurisdiction (rule 3).
//    (c) which level answers what (an order: the level holding the case; a
//        complaint: the level above the one complained about; 整改: the
//        level that decided) is node/app/supervise.h's rule.
//    director (分管领导) may do whatever a clerk or an officer at its level
//    may; "agent" rows apply at a village, "clerk" rows at a township or
//    county (rule 2).
// 5. Where, against the handling level K:
//    - "at K": N == K. A village cannot decide a case it has escalated; the
//      county cannot decide a case the township has not escalated.
//    - "at or above K": N == K or N is an ancestor of K (a township window
//      accepts a case its village registered, taking it over; a township
//      escalates a case still registered at its village; a county
//      department gives its opinion on a joint case the township assigned).
//    - "at H": N == H, the point that serves the applicant (the village, or
//      the township or county window where the case was submitted).
// 6. decide, with the catalog item of the version the case was submitted
//    with (the newest catalog held when this node does not hold that
//    version; "item unknown" when no held catalog lists it):
//    - no level may decide an item whose deciding level is above its own:
//      a township escalates a county-level item (上报);
//    - officer and director decide at any township or county, subject to
//      the above (item unknown: allowed);
//    - a clerk decides only at a township, only the township's own items
//      (deciding level township; item unknown: refused);
//    - an agent decides only village-level items at its village (item
//      unknown: refused), e.g. 村代理员不能办结县级事项.
// 7. reply answers a consultation (handling `consult`); decide is refused
//    on a consult item (answer it with reply). Item unknown: both allowed.
//
// The workflow itself (may this event follow the case's status?) is
// storage::check in case_fold.h; this module judges only who and where.
//
// Pure logic: no I/O, no clocks; safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "protocol/event_codec.h"
#include "protocol/records.capnp.h"
#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"
#include "storage/divisions.h"
#include "storage/role_names.h"

namespace liandong::storage {

// What the catalog says about a case's item, for the rules above.
struct ItemRules {
  DecidingLevel level = DecidingLevel::county;
  Handling handling = Handling::promised;
  int64_t fee_fen = 0;  // 收费标准 (fees.h)
};

// One proposed action.
struct ActContext {
  std::string node;  // code of the acting node (the event's origin)
  proto::Role role = proto::Role::AGENT;
  EventKind kind = EventKind::comment;
  // The case as held here; nullptr for `submitted` (a new case).
  const CaseState* state = nullptr;
  // For `submitted`: the new case's home (empty: the node itself).
  std::string home;
  // The case's catalog item; nullopt when no catalog with it is held.
  std::optional<ItemRules> item;
  // The division table held here (storage/divisions.h), for naming places
  // in a refusal; nullptr: codes are named bare.
  const Divisions* places = nullptr;
};

// Status::ok(), or invalid() with a one-line refusal, Chinese then English:
// "村代理员不能办结县级事项 (a village agent may not decide a county-level item)".
Status may_act(const ActContext& ctx);

// Who may publish a notice for a whole subtree (发布通知): the service
// catalog (事项目录), the working-day calendar (工作日历) and the staff
// roster (人员名册) are published by the county (a 6-digit code; 2 and 4,
// above it, follow its rules) only; a township or village that made one,
// however validly signed, is refused.
// Checked where the event is made (Store::append_local) and again wherever
// it is received (Store::apply, for peers and imports alike). Other kinds
// pass: Status::ok(). Invalid with a one-line reason, Chinese then English.
Status may_publish(const EventView& ev);

// The rules of `code` in `catalog`; nullopt if the item is not in it.
std::optional<ItemRules> item_rules(const Catalog& catalog, const std::string& code);

}  // namespace liandong::storage
