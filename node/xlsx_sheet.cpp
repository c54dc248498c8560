#include "node/xlsx_sheet.h"

#include <xlsxwriter.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <system_error>

namespace liandong::node {

namespace {

// Removes the file when it goes out of scope.
struct TempFile {
  std::filesystem::path path;
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

std::filesystem::path fresh_path(const std::filesystem::path& dir) {
  static std::atomic<uint64_t> counter{0};
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return dir / (".xlsx-" + std::to_string(::getpid()) + "-" + std::to_string(now) + "-" +
                std::to_string(counter.fetch_add(1)) + ".tmp");
}

// A sheet name Excel accepts: no []:*?/\, at most 31 characters (UTF-8
// characters counted), never empty.
std::string sheet_name(const std::string& want, std::size_t index) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < want.size() && chars < 31;) {
    const auto c = static_cast<unsigned char>(want[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len == 1 && std::string_view("[]:*?/\\").find(want[i]) != std::string_view::npos) {
      ++i;
      continue;
    }
    out += want.substr(i, len);
    i += len;
    ++chars;
  }
  return out.empty() ? "Sheet" + std::to_string(index + 1) : out;
}

struct Formats {
  lxw_format* title = nullptr;
  lxw_format* header = nullptr;
  lxw_format* note = nullptr;
  // [bold][format]
  lxw_format* cell[2][5] = {};
};

Formats make_formats(lxw_workbook* wb) {
  Formats f;
  f.title = workbook_add_format(wb);
  format_set_bold(f.title);
  format_set_font_size(f.title, 13);
  format_set_align(f.title, LXW_ALIGN_VERTICAL_CENTER);
  f.header = workbook_add_format(wb);
  format_set_bold(f.header);
  format_set_text_wrap(f.header);
  format_set_align(f.header, LXW_ALIGN_CENTER);
  format_set_align(f.header, LXW_ALIGN_VERTICAL_CENTER);
  format_set_border(f.header, LXW_BORDER_THIN);
  format_set_bg_color(f.header, 0xE8EEF4);
  f.note = workbook_add_format(wb);
  format_set_italic(f.note);
  const char* num[5] = {nullptr, "0", "0.0%", "0.0", "#,##0.00"};
  for (int bold = 0; bold < 2; ++bold) {
    for (int k = 0; k < 5; ++k) {
      lxw_format* x = workbook_add_format(wb);
      format_set_border(x, LXW_BORDER_THIN);
      if (num[k] != nullptr) format_set_num_format(x, num[k]);
      if (k == 0) format_set_text_wrap(x);
      if (bold != 0) format_set_bold(x);
      f.cell[bold][k] = x;
    }
  }
  return f;
}

void write_sheet(lxw_workbook* wb, const Formats& f, const XlsxSheet& s, std::size_t index) {
  const std::string name = sheet_name(s.name, index);
  lxw_worksheet* ws = workbook_add_worksheet(wb, name.c_str());
  const auto cols = static_cast<lxw_col_t>(std::max<std::size_t>(s.headers.size(), 1));
  // Row 1: the title over the whole width; row 2: the headers.
  if (cols > 1) {
    worksheet_merge_range(ws, 0, 0, 0, static_cast<lxw_col_t>(cols - 1), s.title.c_str(), f.title);
  } else {
    worksheet_write_string(ws, 0, 0, s.title.c_str(), f.title);
  }
  worksheet_set_row(ws, 0, 24, nullptr);
  int header_lines = 1;
  for (std::size_t c = 0; c < s.headers.size(); ++c) {
    worksheet_write_string(ws, 1, static_cast<lxw_col_t>(c), s.headers[c].c_str(), f.header);
    const double width = c < s.widths.size() ? s.widths[c] : 10.0;
    // A header wider than its column wraps onto more lines.
    const int lines = static_cast<int>(display_width(s.headers[c]) / std::max(width, 1.0)) + 1;
    header_lines = std::max(header_lines, std::min(lines, 3));
    worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), width, nullptr);
  }
  worksheet_set_row(ws, 1, 16.0 * header_lines + 4, nullptr);
  worksheet_freeze_panes(ws, 2, 1);
  for (std::size_t r = 0; r < s.rows.size(); ++r) {
    const auto row = static_cast<lxw_row_t>(r + 2);
    const int bold = r + s.total_rows >= s.rows.size() ? 1 : 0;
    for (std::size_t c = 0; c < s.rows[r].size(); ++c) {
      const XlsxCell& cell = s.rows[r][c];
      lxw_format* fmt = f.cell[bold][static_cast<int>(cell.format)];
      const auto col = static_cast<lxw_col_t>(c);
      if (cell.number) {
        worksheet_write_number(ws, row, col, *cell.number, fmt);
      } else {
        worksheet_write_string(ws, row, col, cell.text.c_str(), f.cell[bold][0]);
      }
    }
  }
  if (!s.note.empty())
    worksheet_write_string(ws, static_cast<lxw_row_t>(s.rows.size() + 3), 0, s.note.c_str(),
                           f.note);
  worksheet_set_landscape(ws);
  worksheet_set_paper(ws, 9);  // A4
  worksheet_repeat_rows(ws, 0, 1);
  worksheet_fit_to_pages(ws, 1, 0);
}

}  // namespace

int display_width(const std::string& s) {
  int w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += len >= 3 ? 2 : 1;
    i += len;
  }
  return w;
}

Result<std::string> xlsx_bytes(const std::vector<XlsxSheet>& sheets,
                               const std::filesystem::path& tmp_dir) {
  std::error_code ec;
  std::filesystem::create_directories(tmp_dir, ec);
  if (ec) return Status::internal("cannot make " + tmp_dir.string() + ": " + ec.message());
  TempFile file{fresh_path(tmp_dir)};
  std::string dir = tmp_dir.string();
  lxw_workbook_options opts{};
  opts.constant_memory = LXW_FALSE;
  opts.tmpdir = dir.data();
  opts.use_zip64 = LXW_FALSE;
  lxw_workbook* wb = workbook_new_opt(file.path.c_str(), &opts);
  if (wb == nullptr) return Status::internal("libxlsxwriter: cannot start a workbook");
  const Formats f = make_formats(wb);
  for (std::size_t i = 0; i < sheets.size(); ++i)
    write_sheet(wb, f, sheets[i], i);
  const lxw_error err = workbook_close(wb);  // frees the workbook
  if (err != LXW_NO_ERROR)
    return Status::internal(std::string("libxlsxwriter: ") + lxw_strerror(err));
  std::ifstream in(file.path, std::ios::binary);
  if (!in) return Status::internal("cannot read back " + file.path.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace liandong::node
