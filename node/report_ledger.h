// The 台账 (per-case register): one row per case registered in a period,
// with the columns county and township staff keep on paper — 登记时间,
// 办件编号, 申请人, 身份证号 (masked), 联系电话, 事项, 办理路径 (the levels the
// case went through, by name: 水城村→南安镇→大余县), 办理结果, 受理日期,
// 承诺办结日期, 办结日期, 送达日期, 收费(元), 评价. Beside the statistics table
// (统计表, node/report.h), which counts; the 台账 lists.
//
// A 台账 is internal (it stays with staff), so names and phone numbers are
// kept; ID numbers are not: the middle is masked (360723********2153), as
// the logs mask them.
//
// Thread contract: pure functions, except ledger_from_store (reads the
// store; the store is thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/report.h"
#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/divisions.h"
#include "storage/store.h"

namespace liandong::node {

struct LedgerLine {
  std::string registered;  // 登记时间 "2026-11-22 09:03" (China time)
  std::string case_number;
  std::string applicant, id_number, phone;  // id_number masked
  std::string item;                         // "农村危房改造（ZJ-002）"
  std::string route;                        // "水城村→南安镇→大余县"
  std::string result;  // 准予许可, 不予许可, 已答复, 在办（待县办理）...
  std::string accepted, due, decided, delivered;  // YYYY-MM-DD, or empty
  int64_t fee_fen = 0;                            // collected (代收)
  std::string rating;                             // 非常满意 ... 非常不满意, or empty
};

// A ledger column: its Chinese header, its width in display columns, and
// its cell (a number for 收费).
struct LedgerColumn {
  const char* header;
  int width;
  ReportValue (*number)(const LedgerLine&);  // nullptr: a text column
  std::string (*text)(const LedgerLine&);
};
const std::vector<LedgerColumn>& ledger_columns();

// "360723195803172153" -> "360723********2153": region code and last four
// kept; anything shorter than 10 characters is masked whole.
std::string mask_id_number(std::string_view id);

// One case's row. `events` in fold order (Store::case_events).
LedgerLine ledger_line(const storage::CaseState& st,
                       const std::vector<storage::StoredEvent>& events,
                       const storage::Divisions* places);

// The cases held (optionally only under `home_prefix`) registered in
// [from, to] (China days, inclusive; empty: open), in order of
// registration.
Result<std::vector<LedgerLine>> ledger_from_store(const storage::Store& store,
                                                  std::optional<int64_t> from,
                                                  std::optional<int64_t> to,
                                                  const std::string& home_prefix,
                                                  const storage::Divisions* places);

// CSV (UTF-8 with a BOM, Chinese headers, CRLF) for a spreadsheet.
std::string render_ledger_csv(const std::vector<LedgerLine>& lines);

}  // namespace liandong::node
