// Taking a workflow action on a case (受理, 补正, 上报, 办结, ...): the
// event's body built from a typed request, who may act (role, level,
// roster, the catalog's handling of the item), the fee rules, and storing
// the event through the store's writer.
//
// Thread contract: as node/app/context.h.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/app/actor.h"
#include "node/app/attachments.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/ids.h"
#include "storage/authority.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"

namespace liandong::app {

// The actions, by the names the CLI gives them (`liandong act ID NAME`),
// with the event kind each makes.
struct ActionName {
  const char* name;
  EventKind kind;
};
const std::vector<ActionName>& action_names();
// The event kind of action `name`, or nullopt.
std::optional<EventKind> action_kind(const std::string& name);

// One action. Which fields count depends on the action:
//   accept: due, note                 request-supplement: missing, note
//   supplement: provided, note        escalate: to (default: the parent), note
//   assign: departments, note         opinion: department, approve|reject, text
//   decide: approve|reject, reason, basis, certificate
//   reply: text     deliver: method, note     rate: score, comment
//   collect-fee: amount (yuan), receipt, reason     close: note
//   withdraw: reason     comment: text
//   complain (效能投诉): text, against (default: the level holding the
//     case), department, person, channel, complainant, phone; due (default:
//     today plus storage::kComplaintDays working days)
//   rate: score, comment, reasons (required for 不满意 and worse), channel
//   supervise (督办, a director): note, due (the new deadline, today or later)
//   answer: about (the order, complaint or rating answered; for a revisit
//     the case's decision, or empty), answer_to (order, complaint,
//     rectification, revisit), text; a complaint's upheld (成立) or not;
//     a revisit's score (0: the applicant was not reached)
// Which level answers what is storage/supervision.h's rule, checked here.
struct ActRequest {
  std::string action;   // "accept", "decide", ... (action_names)
  std::string case_id;  // 办件编号, "360723101007-000042"
  // accept: the promised date (empty: the catalog's) and why it is later
  // than the catalog's limit, when it is (storage/due_date.h).
  std::string due, extend_reason;
  std::string note, to, reason, basis, certificate, text, method, comment, amount, receipt, against,
      department;
  std::vector<std::string> missing, provided, departments;
  // 效能投诉, 好差评, 督办 and their answers (above).
  std::string about, answer_to, channel, complainant, phone, person;
  std::vector<std::string> reasons;
  bool upheld = false;
  bool approve = false, reject = false;
  bool settle = false;  // settles the case's conflict with this action
  int score = 0;
  Actor actor;
  // supplement (补正材料): photos of the supplied materials, each naming
  // one of the case's materials; decide (办结): the decision's papers,
  // named freely (批复文书). Other actions take none.
  std::vector<GivenFile> files{};
};

struct ActResult {
  Id event;
  EventKind kind = EventKind::comment;
  std::string case_id;       // as the request gave it
  storage::CaseState after;  // the case once the action is folded in
  uint64_t lsn = 0;
};

// Checks the request (bad input first, before anything is read for the
// rules), the actor (roster, role, level: a refusal is recorded in the
// audit log) and the fee, then stores the action.
AppResult<ActResult> act(const Context& ctx, const ActRequest& req);

// The actions `actor` may take on case `st` here and now: those the
// workflow (storage::check), the role and level rules (storage::may_act),
// the roster and the 容缺 rule allow, each judged on a probe of the
// action with typical arguments; nothing is stored or recorded. A person
// the roster does not list here may take none.
std::vector<ActionName> open_actions(const Context& ctx, const Actor& actor,
                                     const storage::CaseState& st);

// The materials of case `st` whose attached scan is kept as taken (the
// catalog's original_scan), from the catalog case_item_rules reads.
std::vector<std::string> original_scan_materials(const storage::Store& store,
                                                 const storage::CaseState& st);

// The catalog rules of the case's item: from the catalog version the case
// was submitted with, or the newest held when that version is not held
// here (or the case named none); nullopt when no held catalog lists it.
std::optional<storage::ItemRules> case_item_rules(const storage::Store& store,
                                                  const storage::CaseState& st);

}  // namespace liandong::app
