// Spreadsheets people open in WPS or Excel (统计表, 台账), written as XLSX
// with libxlsxwriter: a bold title row naming the node and the period, a
// bold header row frozen with the first column, column widths sized for
// Chinese text, numbers as numbers (rates as percentages, money with two
// decimals), bold 合计 rows at the end, and an optional note below.
//
// libxlsxwriter writes to a file: xlsx_bytes writes to a fresh file in the
// directory given (the node's data dir, so nothing leaves it), reads it back
// and removes it, whatever happens.
//
// Thread contract: any thread; each call uses its own file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/status.h"

namespace liandong::node {

enum class XlsxFormat : uint8_t {
  text,
  integer,  // 12
  percent,  // the number is a share: 0.875 shows "87.5%"
  decimal,  // 1.5 (one decimal)
  money,    // 20.00 (yuan)
};

struct XlsxCell {
  std::string text;              // written when `number` is empty
  std::optional<double> number;  // written as a number in `format`
  XlsxFormat format = XlsxFormat::text;
};

struct XlsxSheet {
  std::string name;   // the tab's name (at most 31 characters, no []:*?/\)
  std::string title;  // row 1
  std::vector<std::string> headers;
  std::vector<double> widths;  // per column, in characters (a CJK character counts 2)
  std::vector<std::vector<XlsxCell>> rows;
  std::size_t total_rows = 0;  // the last this many rows are totals (bold)
  std::string note;            // a line under the table; empty: none
};

// Display width of `s`: CJK and full-width characters count 2.
int display_width(const std::string& s);

// The workbook as XLSX bytes. internal: libxlsxwriter failed (its reason);
// the temporary file is removed either way.
Result<std::string> xlsx_bytes(const std::vector<XlsxSheet>& sheets,
                               const std::filesystem::path& tmp_dir);

}  // namespace liandong::node
