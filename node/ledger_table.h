// A paper ledger (台账) as typed into a spreadsheet, read into rows of
// text cells: CSV as WPS and Excel save it (UTF-8 with or without a BOM,
// or GBK/GB18030; quoted fields, CRLF, commas and newlines inside quotes,
// comma or tab separated) and XLSX (the first worksheet; shared strings,
// inline strings, numbers and booleans). What the cells mean is
// node/ledger_import.h's job.
//
// Rows are numbered as the spreadsheet shows them: the header is row 1 of
// a CSV (a quoted newline does not start a new row), and an XLSX row keeps
// its own number (`<row r="12">`). Empty rows are skipped.
//
// Bounds against hostile or broken files: kMaxLedgerRows rows,
// kMaxLedgerColumns columns, kMaxLedgerCellBytes per cell, and for XLSX at
// most kMaxXlsxPartBytes uncompressed per part read. Past a bound the
// whole file is refused (invalid, one line, Chinese first).
//
// Pure functions of the bytes given: no files, no clocks; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"

namespace liandong::node {

constexpr std::size_t kMaxLedgerRows = 1'000'000;
constexpr std::size_t kMaxLedgerColumns = 256;
constexpr std::size_t kMaxLedgerCellBytes = 64 * 1024;
constexpr std::size_t kMaxXlsxPartBytes = std::size_t{512} << 20;

struct LedgerCell {
  std::string text;     // UTF-8
  bool number = false;  // an XLSX cell of type number: `text` is its value as written
};

struct LedgerRow {
  std::size_t line = 0;  // the row number the spreadsheet shows
  std::vector<LedgerCell> cells;
};

struct LedgerTable {
  std::size_t header_line = 0;
  std::vector<std::string> headers;  // trimmed
  std::vector<LedgerRow> rows;       // after the header; none empty
  std::string encoding;              // "UTF-8", "UTF-8 (BOM)", "GB18030", "XLSX"
};

// A cell's text without the spaces, tabs, line breaks and full-width
// spaces (U+3000) around it.
std::string ledger_trimmed(std::string_view s);

// `bytes` as UTF-8 text: a UTF-8 BOM is dropped; valid UTF-8 is taken as
// is; anything else is decoded as GB18030 (GBK and GB2312 are subsets).
// invalid when it is neither, or UTF-16 (saved as "Unicode text").
Result<std::string> ledger_text_utf8(std::string_view bytes, std::string* encoding);

// A CSV file's bytes (any encoding above) as a table: the first non-empty
// row is the header.
Result<LedgerTable> read_ledger_csv(std::string_view bytes);

// An XLSX file's bytes: the workbook's first worksheet as a table.
Result<LedgerTable> read_ledger_xlsx(std::string_view bytes);

}  // namespace liandong::node
