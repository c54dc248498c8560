// The figures a node reports: the ledger and statistics of `report` (台帐,
// 统计分析) and the node's status (`status`: links, totals, deadlines,
// refusals).
//
// Thread contract: as node/app/context.h (reads only).
#pragma once

#include <string>

#include "node/app/context.h"
#include "node/app/result.h"
#include "node/render.h"
#include "node/report.h"

namespace liandong::app {

// Dates are YYYY-MM-DD (China days); empty: open, or today for `as_of`.
struct ReportRequest {
  std::string from, to;
  std::string by;    // village, township, item, department, level; empty: no grouping
  std::string home;  // only cases homed under this code
  std::string as_of;
};
// invalid: a date that is not one, --from after --to, an unknown grouping,
// a home that is not a division code.
AppResult<node::Report> report(const Context& ctx, const ReportRequest& req);

struct StatusRequest {
  std::string as_of;  // judge deadlines as of the end of this day; empty: now
};
// The node's status. `live`: what a running daemon knows (links, totals);
// null: what the store alone can tell. Deadlines, quarantine and refusals
// are read from the store either way.
AppResult<node::StatusReport> status(const Context& ctx, const StatusRequest& req,
                                     const node::StatusReport* live);

}  // namespace liandong::app
