// The figures a node reports: the ledger and statistics of `report` (台帐,
// 统计分析) and the node's status (`status`: links, totals, deadlines,
// refusals).
//
// Thread contract: as node/app/context.h (reads only).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/app/context.h"
#include "node/app/result.h"
#include "node/render.h"
#include "node/report.h"
#include "node/report_ledger.h"
#include "protocol/records.capnp.h"

namespace liandong::app {

// Dates are YYYY-MM-DD (China days); empty: open, or today for `as_of`.
struct ReportRequest {
  std::string from, to;
  // village, township, item, department, level, month, person; empty: no
  // grouping. Who may see `person` is the entry point's rule.
  std::string by;
  std::string home;  // only cases homed under this code
  std::string as_of;
};
// invalid: a date that is not one, --from after --to, an unknown grouping,
// a home that is not a division code.
// Messages are Chinese first, the option's English gloss after.
AppResult<node::Report> report(const Context& ctx, const ReportRequest& req);

// The 台账 of the cases registered in the period (`by` and `as_of` unused).
struct Ledger {
  std::string node_code;
  std::optional<int64_t> from, to;
  std::vector<node::LedgerLine> lines;
};
AppResult<Ledger> ledger(const Context& ctx, const ReportRequest& req);

// Who may see the figures per person (绩效考评, `by` person): a 首席代表
// (officer) or 分管领导 (director) at a township or the county, over the
// cases their node holds (its subtree). Agents, clerks and reviewers see
// the other groupings only. The CLI is the node administrator's and shows
// everything.
bool may_see_person_figures(proto::Role role, const std::string& node_code);

struct StatusRequest {
  std::string as_of;  // judge deadlines as of the end of this day; empty: now
};
// The node's status. `live`: what a running daemon knows (links, totals);
// null: what the store alone can tell. Deadlines, quarantine and refusals
// are read from the store either way.
AppResult<node::StatusReport> status(const Context& ctx, const StatusRequest& req,
                                     const node::StatusReport* live);

}  // namespace liandong::app
