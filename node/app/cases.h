// Reading cases: one case with its history (case show) and the cases held
// here that match a filter (case list).
//
// Thread contract: as node/app/context.h (reads only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "node/app/context.h"
#include "node/app/result.h"
#include "node/render.h"
#include "node/sync_state.h"
#include "storage/case_fold.h"
#include "storage/store.h"

namespace liandong::app {

// One case as `case show` shows it.
struct CaseView {
  storage::CaseState state;
  std::vector<storage::StoredEvent> events;  // its history, in log order
  node::Custody custody;                     // where this node's events are stored
  // The item is handled as a 咨询 (consult) in the catalog the case was
  // submitted with (else the newest held): its summary is the question.
  bool consult = false;
};

// The case numbered `id_text` (办件编号): invalid when it is not a case
// number, not_found when no such case is held here.
AppResult<CaseView> show_case(const Context& ctx, const std::string& id_text);

// The filter of `case list`: a status by name (English or Chinese;
// "conflict" or 冲突待处理 for cases in conflict), or only conflicts.
struct ListRequest {
  std::string status;
  bool conflict = false;
};
// The store's filter for `req`: invalid for an unknown status.
AppResult<storage::CaseFilter> case_filter(const ListRequest& req);

struct CaseList {
  std::vector<storage::CaseState> cases;
  // Case -> what a level above refused in it, not re-issued yet.
  node::RefusedCases refused;
};
AppResult<CaseList> list_cases(const Context& ctx, const ListRequest& req);

// What case `st` waits for at node `node` ("待受理", "待补正", "待转报乡镇",
// "待办理", "待决定", "待送达", "待评价销号", "冲突待处理"), or nullptr when
// it waits for nothing here: the node that holds it acts until it passes
// it on or decides; the result then waits at the case's home.
const char* waiting_here(const storage::CaseState& st, std::string_view node);

// The statuses a case may wait in (waiting_here), for scanning an index.
const std::vector<storage::CaseStatus>& waiting_statuses();

}  // namespace liandong::app
