#include "node/ledger_table.h"

#include <expat.h>
#include <iconv.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <memory>

namespace liandong::node {

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return false;  // overlong
    if (c == 0xED && c1 > 0x9F) return false;  // surrogates
    if (c == 0xF0 && c1 < 0x90) return false;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return false;  // above U+10FFFF
    i += n + 1;
  }
  return true;
}

Result<std::string> gb18030_to_utf8(std::string_view in) {
  iconv_t cd = ::iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1))
    return Status::internal("本机不支持 GB18030 转换 (iconv has no GB18030)");
  std::string out(in.size() * 2 + 16, '\0');
  char* src = const_cast<char*>(in.data());
  std::size_t src_left = in.size();
  char* dst = out.data();
  std::size_t dst_left = out.size();
  Status bad;
  while (src_left > 0) {
    if (::iconv(cd, &src, &src_left, &dst, &dst_left) != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      const std::size_t used = static_cast<std::size_t>(dst - out.data());
      out.resize(out.size() * 2);
      dst = out.data() + used;
      dst_left = out.size() - used;
      continue;
    }
    const std::size_t at = in.size() - src_left;
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(
                                     in.begin(), in.begin() + static_cast<long>(at), '\n'));
    bad = Status::invalid("文件既不是 UTF-8 也不是 GBK/GB18030 编码（第 " + std::to_string(line) +
                          " 行，第 " + std::to_string(at) +
                          " 字节）(the file is neither UTF-8 nor GBK/GB18030)");
    break;
  }
  ::iconv_close(cd);
  if (!bad) return bad;
  out.resize(static_cast<std::size_t>(dst - out.data()));
  return out;
}

bool all_empty(const std::vector<LedgerCell>& cells) {
  return std::all_of(cells.begin(), cells.end(),
                     [](const LedgerCell& c) { return ledger_trimmed(c.text).empty(); });
}

// Moves the first non-empty row into the headers.
Status take_header(std::vector<LedgerRow>&& rows, LedgerTable& t) {
  std::size_t first = 0;
  while (first < rows.size() && all_empty(rows[first].cells))
    ++first;
  if (first == rows.size())
    return Status::invalid("文件中没有表头，也没有数据 (the file is empty)");
  t.header_line = rows[first].line;
  for (auto& c : rows[first].cells)
    t.headers.push_back(ledger_trimmed(c.text));
  while (!t.headers.empty() && t.headers.back().empty())
    t.headers.pop_back();
  for (std::size_t i = first + 1; i < rows.size(); ++i) {
    if (all_empty(rows[i].cells)) continue;
    t.rows.push_back(std::move(rows[i]));
  }
  return Status::ok();
}

Status too_big(const char* what, std::size_t limit) {
  return Status::invalid(std::string("台账文件超出上限：") + what + " 最多 " +
                         std::to_string(limit) + " (the ledger is larger than " +
                         std::to_string(limit) + " " + what + " allows)");
}

}  // namespace

std::string ledger_trimmed(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  // A full-width space (U+3000) typed around a value.
  while (s.size() >= 3 && s.substr(0, 3) == "\xE3\x80\x80")
    s.remove_prefix(3);
  while (s.size() >= 3 && s.substr(s.size() - 3) == "\xE3\x80\x80")
    s.remove_suffix(3);
  return std::string(s);
}

Result<std::string> ledger_text_utf8(std::string_view bytes, std::string* encoding) {
  if (bytes.size() >= 2 &&
      ((bytes[0] == '\xFF' && bytes[1] == '\xFE') || (bytes[0] == '\xFE' && bytes[1] == '\xFF')))
    return Status::invalid(
        "文件为 UTF-16 编码（“Unicode 文本”），请另存为“CSV（逗号分隔）”或 xlsx 后再导入 (UTF-16 "
        "is not read: save as CSV or XLSX)");
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    bytes.remove_prefix(3);
    if (!valid_utf8(bytes))
      return Status::invalid("文件以 UTF-8 标记开头，内容却不是 UTF-8 (BOM but not UTF-8)");
    if (encoding) *encoding = "UTF-8 (BOM)";
    return std::string(bytes);
  }
  if (valid_utf8(bytes)) {
    if (encoding) *encoding = "UTF-8";
    return std::string(bytes);
  }
  if (encoding) *encoding = "GB18030";
  return gb18030_to_utf8(bytes);
}

Result<LedgerTable> read_ledger_csv(std::string_view bytes) {
  LedgerTable t;
  auto text = ledger_text_utf8(bytes, &t.encoding);
  if (!text.ok()) return text.status();
  const std::string& s = *text;
  // Tab separated when the first line has tabs and no commas.
  char sep = ',';
  {
    const std::string_view first(s.data(), std::min(s.size(), s.find('\n')));
    if (first.find('\t') != std::string_view::npos && first.find(',') == std::string_view::npos)
      sep = '\t';
  }
  std::vector<LedgerRow> rows;
  LedgerRow row;
  row.line = 1;
  std::string cell;
  bool quoted = false;      // inside quotes
  bool was_quoted = false;  // this cell began with a quote
  std::size_t i = 0;
  auto end_cell = [&]() -> Status {
    if (row.cells.size() >= kMaxLedgerColumns) return too_big("列", kMaxLedgerColumns);
    row.cells.push_back(LedgerCell{std::move(cell), false});
    cell.clear();
    was_quoted = false;
    return Status::ok();
  };
  auto end_row = [&]() -> Status {
    if (auto st = end_cell(); !st) return st;
    if (rows.size() >= kMaxLedgerRows) return too_big("行", kMaxLedgerRows);
    const std::size_t next = row.line + 1;
    rows.push_back(std::move(row));
    row = LedgerRow{};
    row.line = next;
    return Status::ok();
  };
  while (i < s.size()) {
    const char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          cell.push_back('"');
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      cell.push_back(c);
      ++i;
    } else if (c == '"' && (cell.empty() && !was_quoted)) {
      quoted = was_quoted = true;
      ++i;
      continue;
    } else if (c == sep) {
      if (auto st = end_cell(); !st) return st;
      ++i;
      continue;
    } else if (c == '\r' || c == '\n') {
      if (auto st = end_row(); !st) return st;
      i += (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
      continue;
    } else {
      cell.push_back(c);
      ++i;
    }
    if (cell.size() > kMaxLedgerCellBytes)
      return Status::invalid("第 " + std::to_string(row.line) + " 行：单元格超过 " +
                             std::to_string(kMaxLedgerCellBytes) + " 字节 (cell too large)");
  }
  if (quoted)
    return Status::invalid("第 " + std::to_string(row.line) +
                           " 行：引号未闭合，文件不完整 (a quoted field never ends)");
  if (!cell.empty() || !row.cells.empty()) {
    if (auto st = end_row(); !st) return st;
  }
  if (auto st = take_header(std::move(rows), t); !st) return st;
  return t;
}

// ---- XLSX -----------------------------------------------------------------

namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};

// The bytes of one part of the package, or not_found.
Result<std::string> read_part(zip_t* z, const std::string& name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, name.c_str(), 0, &st) != 0) return Status::not_found(name);
  if ((st.valid & ZIP_STAT_SIZE) == 0 || st.size > kMaxXlsxPartBytes)
    return too_big("字节（解压后）", kMaxXlsxPartBytes);
  zip_file_t* f = zip_fopen(z, name.c_str(), 0);
  if (f == nullptr) return Status::invalid("xlsx 文件损坏，无法读取 " + name + " (broken xlsx)");
  std::string out(static_cast<std::size_t>(st.size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const zip_int64_t n = zip_fread(f, out.data() + got, out.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  zip_fclose(f);
  if (got != out.size())
    return Status::invalid("xlsx 文件损坏，" + name + " 不完整 (broken xlsx part)");
  return out;
}

// Expat with one handler object; element names without namespace prefix.
class Xml {
 public:
  virtual ~Xml() = default;
  Status parse(const std::string& doc, const std::string& part) {
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> p(XML_ParserCreate("UTF-8"),
                                                                   &XML_ParserFree);
    if (!p) return Status::internal("expat");
    XML_SetUserData(p.get(), this);
    XML_SetElementHandler(
        p.get(),
        [](void* self, const XML_Char* name, const XML_Char** attrs) {
          static_cast<Xml*>(self)->start(local(name), attrs);
        },
        [](void* self, const XML_Char* name) { static_cast<Xml*>(self)->end(local(name)); });
    XML_SetCharacterDataHandler(p.get(), [](void* self, const XML_Char* s, int len) {
      static_cast<Xml*>(self)->text(std::string_view(s, static_cast<std::size_t>(len)));
    });
    if (XML_Parse(p.get(), doc.data(), static_cast<int>(doc.size()), 1) == XML_STATUS_ERROR)
      return Status::invalid("xlsx 文件损坏：" + part + " 第 " +
                             std::to_string(XML_GetCurrentLineNumber(p.get())) + " 行 " +
                             XML_ErrorString(XML_GetErrorCode(p.get())) + " (broken xlsx)");
    return failure_;
  }

 protected:
  static std::string_view local(const XML_Char* name) {
    std::string_view n(name);
    const auto colon = n.rfind(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
  }
  static std::string attr(const XML_Char** attrs, std::string_view want) {
    for (int i = 0; attrs[i] != nullptr; i += 2) {
      if (local(attrs[i]) == want) return attrs[i + 1];
    }
    return {};
  }
  virtual void start(std::string_view name, const XML_Char** attrs) = 0;
  virtual void end(std::string_view name) = 0;
  virtual void text(std::string_view) {}
  Status failure_;
};

// xl/workbook.xml: the relationship id of the first sheet.
class WorkbookXml : public Xml {
 public:
  std::string first_rid;

 private:
  void start(std::string_view name, const XML_Char** attrs) override {
    if (name == "sheet" && first_rid.empty()) first_rid = attr(attrs, "id");
  }
  void end(std::string_view) override {}
};

// xl/_rels/workbook.xml.rels: id -> target.
class RelsXml : public Xml {
 public:
  std::map<std::string, std::string> targets;

 private:
  void start(std::string_view name, const XML_Char** attrs) override {
    if (name == "Relationship") targets[attr(attrs, "Id")] = attr(attrs, "Target");
  }
  void end(std::string_view) override {}
};

// xl/sharedStrings.xml: <si> items; their text is every <t> not inside a
// phonetic run (<rPh>).
class SharedStringsXml : public Xml {
 public:
  std::vector<std::string> strings;

 private:
  void start(std::string_view name, const XML_Char**) override {
    if (name == "si") {
      in_si_ = true;
      cur_.clear();
    } else if (name == "rPh") {
      in_rph_ = true;
    } else if (name == "t") {
      in_t_ = true;
    }
  }
  void end(std::string_view name) override {
    if (name == "si") {
      in_si_ = false;
      if (strings.size() >= kMaxLedgerRows * 8) {
        failure_ = too_big("共享字符串", kMaxLedgerRows * 8);
        return;
      }
      strings.push_back(std::move(cur_));
      cur_.clear();
    } else if (name == "rPh") {
      in_rph_ = false;
    } else if (name == "t") {
      in_t_ = false;
    }
  }
  void text(std::string_view s) override {
    if (in_si_ && in_t_ && !in_rph_ && cur_.size() < kMaxLedgerCellBytes) cur_.append(s);
  }
  bool in_si_ = false, in_rph_ = false, in_t_ = false;
  std::string cur_;
};

// "BC12" -> column 54 (0-based 54 - 1); -1 when not a cell reference.
long column_of(std::string_view ref) {
  long col = 0;
  std::size_t i = 0;
  while (i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z') {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > 16384) return -1;
    ++i;
  }
  return i == 0 ? -1 : col - 1;
}

class SheetXml : public Xml {
 public:
  explicit SheetXml(const std::vector<std::string>& shared) : shared_(shared) {}
  std::vector<LedgerRow> rows;

 private:
  void start(std::string_view name, const XML_Char** attrs) override {
    if (!failure_.is_ok()) return;
    if (name == "row") {
      in_row_ = true;
      row_ = LedgerRow{};
      const std::string r = attr(attrs, "r");
      row_.line = r.empty() ? last_line_ + 1 : std::strtoul(r.c_str(), nullptr, 10);
      if (row_.line <= last_line_) row_.line = last_line_ + 1;
      next_col_ = 0;
    } else if (name == "c" && in_row_) {
      in_c_ = true;
      type_ = attr(attrs, "t");
      const long col = column_of(attr(attrs, "r"));
      col_ = col >= 0 ? static_cast<std::size_t>(col) : next_col_;
      value_.clear();
    } else if (name == "v" || (name == "t" && in_c_)) {
      in_v_ = true;
    } else if (name == "rPh") {
      in_rph_ = true;
    }
  }
  void end(std::string_view name) override {
    if (!failure_.is_ok()) return;
    if (name == "v" || name == "t") {
      in_v_ = false;
    } else if (name == "rPh") {
      in_rph_ = false;
    } else if (name == "c" && in_c_) {
      in_c_ = false;
      if (col_ >= kMaxLedgerColumns) {
        failure_ = too_big("列", kMaxLedgerColumns);
        return;
      }
      LedgerCell cell;
      if (type_ == "s") {
        const unsigned long k = std::strtoul(value_.c_str(), nullptr, 10);
        if (k >= shared_.size()) {
          failure_ = Status::invalid("xlsx 文件损坏：第 " + std::to_string(row_.line) +
                                     " 行引用了不存在的共享字符串 (broken xlsx)");
          return;
        }
        cell.text = shared_[k];
      } else if (type_ == "b") {
        cell.text = value_ == "1" ? "是" : "否";
      } else {
        cell.text = value_;
        cell.number = type_.empty() || type_ == "n";
        if (type_ == "e") cell.text.clear();  // #N/A and the like
      }
      if (row_.cells.size() <= col_) row_.cells.resize(col_ + 1);
      row_.cells[col_] = std::move(cell);
      next_col_ = col_ + 1;
    } else if (name == "row" && in_row_) {
      in_row_ = false;
      last_line_ = row_.line;
      if (rows.size() >= kMaxLedgerRows) {
        failure_ = too_big("行", kMaxLedgerRows);
        return;
      }
      rows.push_back(std::move(row_));
    }
  }
  void text(std::string_view s) override {
    if (in_c_ && in_v_ && !in_rph_ && value_.size() < kMaxLedgerCellBytes) value_.append(s);
  }
  const std::vector<std::string>& shared_;
  bool in_row_ = false, in_c_ = false, in_v_ = false, in_rph_ = false;
  LedgerRow row_;
  std::size_t last_line_ = 0, col_ = 0, next_col_ = 0;
  std::string type_, value_;
};

}  // namespace

Result<LedgerTable> read_ledger_xlsx(std::string_view bytes) {
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &zerr);
  if (src == nullptr) {
    zip_error_fini(&zerr);
    return Status::internal("libzip: cannot make a source");
  }
  std::unique_ptr<zip_t, ZipCloser> z(zip_open_from_source(src, ZIP_RDONLY, &zerr));
  zip_error_fini(&zerr);
  if (!z) {
    zip_source_free(src);
    return Status::invalid("不是 xlsx 文件（无法按 zip 打开）(not an xlsx file)");
  }
  std::string sheet_part = "xl/worksheets/sheet1.xml";
  if (auto wb = read_part(z.get(), "xl/workbook.xml"); wb.ok()) {
    WorkbookXml w;
    if (auto s = w.parse(*wb, "xl/workbook.xml"); !s) return s;
    auto rels = read_part(z.get(), "xl/_rels/workbook.xml.rels");
    if (rels.ok() && !w.first_rid.empty()) {
      RelsXml r;
      if (auto s = r.parse(*rels, "workbook.xml.rels"); !s) return s;
      if (auto it = r.targets.find(w.first_rid); it != r.targets.end()) {
        const std::string& target = it->second;
        sheet_part = target.rfind("/", 0) == 0 ? target.substr(1) : "xl/" + target;
      }
    }
  } else if (wb.status().code() != Code::not_found) {
    return wb.status();
  } else {
    return Status::invalid("不是 xlsx 文件（缺少 xl/workbook.xml）(not an xlsx workbook)");
  }
  SharedStringsXml shared;
  if (auto ss = read_part(z.get(), "xl/sharedStrings.xml"); ss.ok()) {
    if (auto s = shared.parse(*ss, "xl/sharedStrings.xml"); !s) return s;
  } else if (ss.status().code() != Code::not_found) {
    return ss.status();
  }
  auto sheet = read_part(z.get(), sheet_part);
  if (!sheet.ok()) {
    if (sheet.status().code() == Code::not_found)
      return Status::invalid("xlsx 文件中找不到第一张工作表 " + sheet_part +
                             " (no first worksheet)");
    return sheet.status();
  }
  SheetXml sx(shared.strings);
  if (auto s = sx.parse(*sheet, sheet_part); !s) return s;
  LedgerTable t;
  t.encoding = "XLSX";
  if (auto s = take_header(std::move(sx.rows), t); !s) return s;
  return t;
}

}  // namespace liandong::node
