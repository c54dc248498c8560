// Bringing a paper ledger (台账) in: the rows of a spreadsheet
// (node/ledger_table.h) or the lines of a JSON-lines file made into
// applications (`Submitted`, protocol/records.capnp), each with the row
// number it came from and a row key that makes a second import of the same
// row a no-op.
//
// Columns are known by their Chinese header (README.md, "Bringing paper
// ledgers in", has the table): 申请人姓名, 身份证号码, 联系电话, 住址,
// 事项编码, 事项名称, 申请事由, 材料, 材料：NAME, 表单：NAME, 所属村,
// 应收费用, 台账编号, 登记日期, 备注, 目录版本, 序号. Other headers are
// reported and their cells not imported.
//
// Row key (the `imports` database, docs/FORMAT.md): "no:" and the ledger
// number when the ledger has a 台账编号 column and the row fills it; else
// "row:", a BLAKE2b hash of the row's imported cells (header and value,
// in header order) and how many identical rows came before it in the file.
// So importing a file again, or a corrected copy of it, stores only the
// rows not stored before; a row edited after it was imported is new.
//
// Pure logic (no store, no clock): any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/app/import.h"
#include "node/app/result.h"
#include "node/ledger_table.h"
#include "protocol/status.h"

namespace liandong::node {

// A row whose application takes more than this (as JSON) is refused: one
// event could not hold it (protocol/event_codec.h, kMaxEventBytes).
constexpr std::size_t kMaxImportRowBytes = 512 * 1024;

// What a column holds.
enum class ColumnKind : uint8_t {
  ignored,  // 序号: the ledger's own row count
  name,
  id_number,
  phone,
  address,
  item_code,
  item_name,
  summary,
  materials,      // a list: 居民身份证、户口簿:复印件、设计图:容缺
  material_one,   // 材料：NAME — 有/√/是/原件/复印件/容缺, or empty
  field,          // 表单：NAME — a form field
  home,           // 所属村 (12-digit code)
  fee_due,        // yuan
  ledger_number,  // 台账编号
  date,           // 登记日期: kept as the form field 登记日期, YYYY-MM-DD
  note,           // 备注: kept as the form field 备注
  catalog_version,
  unknown,
};

struct Column {
  ColumnKind kind = ColumnKind::unknown;
  std::string header;  // as the file has it
  std::string name;    // material_one / field: the name after the colon
};

// "A", "B", ... "AA" for a 0-based column index.
std::string column_letter(std::size_t index);

// The meaning of each header. invalid (one line) when a column needed for
// every application is missing (申请人姓名, 事项编码) or two columns mean
// the same single thing.
Result<std::vector<Column>> map_columns(const std::vector<std::string>& headers);

// One row made into an application (the JSON on one line), ready to be
// checked and stored (app::import_rows).
using ImportRow = app::ImportRow;

// A row that cannot be imported, with its line and (when known) column.
struct RowProblem {
  std::size_t line = 0;
  std::string column;  // "C（身份证号码）", or empty
  std::string message;
};

// "第 12 行 C 列（身份证号码）：…" — how a bad row is reported.
std::string row_problem_text(const RowProblem& p);

struct PreparedLedger {
  std::vector<ImportRow> rows;
  std::vector<RowProblem> problems;  // rows refused before any check of the store
  std::vector<std::string> unknown;  // "F 列“经办人”": headers not imported
  std::size_t total = 0;             // data rows (or JSON lines) seen
  std::string encoding;              // of the file
  std::vector<Column> columns;       // empty for JSON lines
};

// A table's rows made into applications; `home`: the case home of rows
// with no 所属村 of their own (empty: the node itself).
Result<PreparedLedger> prepare_table(const LedgerTable& t, const std::string& home);

// JSON lines (`submit --json` objects, one a line; blank lines skipped).
Result<PreparedLedger> prepare_jsonl(std::string_view bytes, const std::string& home);

// The column a problem with `part` of an application is about, for the
// header row `columns` ("C 列（身份证号码）"); empty for JSON lines or none.
std::string column_of_part(const std::vector<Column>& columns, app::RequestPart part);

// The rows as the daemon receives them: "LINE\tKEY\tHOME\tJSON\n" each.
std::string encode_rows(const std::vector<ImportRow>& rows, std::size_t begin, std::size_t end);
Result<std::vector<ImportRow>> decode_rows(std::string_view text);

}  // namespace liandong::node
