// The 统计表 and the 台账 as files people download or save (`liandong report
// --format xlsx`, the desk's 下载 buttons): their XLSX sheets, taking their
// columns from report_columns() and ledger_columns() (never listed twice),
// and the file's Chinese name (统计表_大余县_2026-11-01至2026-11-30.xlsx).
//
// Thread contract: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/report.h"
#include "node/report_ledger.h"
#include "node/xlsx_sheet.h"
#include "storage/divisions.h"

namespace liandong::node {

// The statistics table: a title row (node, period, grouping, as-of day),
// the headers, one row per group, 合计 (bold), and the definitions below.
XlsxSheet report_sheet(const Report& r, const storage::Divisions* places);

// The 台账 of `node_code` for the period [from, to].
XlsxSheet ledger_sheet(const std::vector<LedgerLine>& lines, const std::string& node_code,
                       std::optional<int64_t> from, std::optional<int64_t> to,
                       const storage::Divisions* places);

// "统计表_大余县_2026-11-01至2026-11-30.xlsx": `kind` (统计表, 台账), the
// node's name, the period ("全部" when open at both ends), `ext` (xlsx,
// csv). No character a file system refuses.
std::string export_file_name(const std::string& kind, const std::string& node_name,
                             std::optional<int64_t> from, std::optional<int64_t> to,
                             const std::string& ext);

}  // namespace liandong::node
