#include "node/ledger_import.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <kj/exception.h>
#include <sodium.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "node/render.h"
#include "protocol/submission_json.h"
#include "storage/calendar.h"

namespace liandong::node {

namespace {

struct KnownHeader {
  const char* header;
  ColumnKind kind;
};

// Headers as ledgers write them (after normalise_header).
constexpr KnownHeader kHeaders[] = {
    {"序号", ColumnKind::ignored},
    {"申请人姓名", ColumnKind::name},
    {"申请人", ColumnKind::name},
    {"姓名", ColumnKind::name},
    {"户主姓名", ColumnKind::name},
    {"身份证号码", ColumnKind::id_number},
    {"身份证号", ColumnKind::id_number},
    {"公民身份号码", ColumnKind::id_number},
    {"申请人身份证号码", ColumnKind::id_number},
    {"联系电话", ColumnKind::phone},
    {"电话", ColumnKind::phone},
    {"手机号码", ColumnKind::phone},
    {"联系方式", ColumnKind::phone},
    {"住址", ColumnKind::address},
    {"家庭住址", ColumnKind::address},
    {"地址", ColumnKind::address},
    {"事项编码", ColumnKind::item_code},
    {"事项代码", ColumnKind::item_code},
    {"事项名称", ColumnKind::item_name},
    {"申请事由", ColumnKind::summary},
    {"事由", ColumnKind::summary},
    {"申请内容", ColumnKind::summary},
    {"材料", ColumnKind::materials},
    {"已交材料", ColumnKind::materials},
    {"申报材料", ColumnKind::materials},
    {"提交材料", ColumnKind::materials},
    {"所属村", ColumnKind::home},
    {"所属村代码", ColumnKind::home},
    {"所属村编码", ColumnKind::home},
    {"应收费用", ColumnKind::fee_due},
    {"收费金额", ColumnKind::fee_due},
    {"应收费用元", ColumnKind::fee_due},
    {"台账编号", ColumnKind::ledger_number},
    {"登记编号", ColumnKind::ledger_number},
    {"登记日期", ColumnKind::date},
    {"受理日期", ColumnKind::date},
    {"申请日期", ColumnKind::date},
    {"备注", ColumnKind::note},
    {"目录版本", ColumnKind::catalog_version},
    {"home", ColumnKind::home},
};

// Spaces, "*" (required marks) and brackets dropped: "应收费用（元）*" ->
// "应收费用元".
std::string normalise_header(std::string_view h) {
  std::string out;
  std::size_t i = 0;
  while (i < h.size()) {
    const std::string_view rest = h.substr(i);
    bool dropped = false;
    for (std::string_view skip : {" ", "\t", "*", "(", ")", "\xE3\x80\x80" /* 　 */,
                                  "\xEF\xBC\x88" /* （ */, "\xEF\xBC\x89" /* ） */}) {
      if (rest.substr(0, skip.size()) == skip) {
        i += skip.size();
        dropped = true;
        break;
      }
    }
    if (!dropped) out.push_back(h[i++]);
  }
  return out;
}

// "材料：户口簿" or "材料:户口簿" -> "户口簿" for prefix "材料".
std::optional<std::string> after_prefix(std::string_view h, std::string_view prefix) {
  if (h.substr(0, prefix.size()) != prefix) return std::nullopt;
  h.remove_prefix(prefix.size());
  for (std::string_view colon : {":", "\xEF\xBC\x9A" /* ： */}) {
    if (h.substr(0, colon.size()) == colon) {
      h.remove_prefix(colon.size());
      while (!h.empty() && h.front() == ' ')
        h.remove_prefix(1);
      if (h.empty()) return std::nullopt;
      return std::string(h);
    }
  }
  return std::nullopt;
}

const char* kind_label(ColumnKind k) {
  switch (k) {
    case ColumnKind::name:
      return "申请人姓名";
    case ColumnKind::id_number:
      return "身份证号码";
    case ColumnKind::phone:
      return "联系电话";
    case ColumnKind::address:
      return "住址";
    case ColumnKind::item_code:
      return "事项编码";
    case ColumnKind::item_name:
      return "事项名称";
    case ColumnKind::summary:
      return "申请事由";
    case ColumnKind::materials:
      return "材料";
    case ColumnKind::home:
      return "所属村";
    case ColumnKind::fee_due:
      return "应收费用";
    case ColumnKind::ledger_number:
      return "台账编号";
    case ColumnKind::date:
      return "登记日期";
    case ColumnKind::note:
      return "备注";
    case ColumnKind::catalog_version:
      return "目录版本";
    default:
      return "";
  }
}

// Splits on 、，,;；/ and newlines.
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t i = 0;
  auto flush = [&] {
    std::string t = ledger_trimmed(cur);
    if (!t.empty()) out.push_back(std::move(t));
    cur.clear();
  };
  while (i < s.size()) {
    bool sep = false;
    for (std::string_view d : {"\xE3\x80\x81" /* 、 */, "\xEF\xBC\x8C" /* ， */,
                               "\xEF\xBC\x9B" /* ； */, ",", ";", "\n", "\r"}) {
      if (s.substr(i, d.size()) == d) {
        flush();
        i += d.size();
        sep = true;
        break;
      }
    }
    if (!sep) cur.push_back(s[i++]);
  }
  flush();
  return out;
}

// Splits "名称:容缺:复印件" (either colon) into parts.
std::vector<std::string> split_colons(std::string_view s) {
  std::vector<std::string> out(1);
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ':') {
      out.emplace_back();
      ++i;
    } else if (s.substr(i, 3) == "\xEF\xBC\x9A") {
      out.emplace_back();
      i += 3;
    } else {
      out.back().push_back(s[i++]);
    }
  }
  for (auto& p : out)
    p = ledger_trimmed(p);
  return out;
}

struct MaterialMark {
  bool given = false;
  proto::MaterialState state = proto::MaterialState::PROVIDED;
  bool original = true;
};

// A material column's cell: nullopt when the mark is not one we know.
std::optional<MaterialMark> material_mark(const std::string& v) {
  static const char* const kNone[] = {"", "无", "否", "缺", "未交", "×", "✗", "0", "n", "N", "no"};
  static const char* const kYes[] = {"有", "是", "√", "✓",   "✔",    "已交",  "已提交",
                                     "1",  "y",  "Y", "yes", "提供", "已提供"};
  for (const char* n : kNone)
    if (v == n) return MaterialMark{};
  for (const char* y : kYes)
    if (v == y) return MaterialMark{true};
  if (v == "原件") return MaterialMark{true, proto::MaterialState::PROVIDED, true};
  if (v == "复印件") return MaterialMark{true, proto::MaterialState::PROVIDED, false};
  if (v == "容缺" || v == "后补" || v == "later")
    return MaterialMark{true, proto::MaterialState::LATER, true};
  return std::nullopt;
}

std::optional<proto::MaterialState> material_state(std::string_view s) {
  if (s == "provided" || s == "已提交" || s == "已交") return proto::MaterialState::PROVIDED;
  if (s == "later" || s == "容缺" || s == "后补") return proto::MaterialState::LATER;
  return std::nullopt;
}

// A date as ledgers write it: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日,
// or an XLSX date serial; "YYYY-MM-DD" or nullopt if no such day.
std::optional<std::string> ledger_date(const LedgerCell& c) {
  const std::string v = ledger_trimmed(c.text);
  if (c.number) {
    char* end = nullptr;
    const double serial = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !(serial >= 1 && serial < 2958466)) return std::nullopt;
    // Day 25569 is 1970-01-01 in the 1900 date system.
    return storage::format_date(
        storage::date_from_days(static_cast<int64_t>(std::floor(serial)) - 25569));
  }
  int y = 0, m = 0, d = 0;
  std::vector<int> parts;
  std::string num;
  for (char ch : v + "-") {
    if (ch >= '0' && ch <= '9') {
      num.push_back(ch);
    } else if (!num.empty()) {
      if (num.size() > 4) return std::nullopt;
      parts.push_back(std::atoi(num.c_str()));
      num.clear();
    }
  }
  if (parts.size() != 3) return std::nullopt;
  y = parts[0];
  m = parts[1];
  d = parts[2];
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  if (!storage::parse_date(buf)) return std::nullopt;
  return std::string(buf);
}

// A number cell's text as digits ("1.3912345678E10" -> "13912345678").
std::string number_text(const LedgerCell& c) {
  const std::string v = ledger_trimmed(c.text);
  if (!c.number || v.find_first_of("eE.") == std::string::npos) return v;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || x < 0 || x >= 9007199254740992.0 || x != std::floor(x))
    return v;
  return std::to_string(static_cast<uint64_t>(x));
}

// "3.60723E+17", "3.60723197603021E+17": a number shown in scientific form.
bool scientific(std::string_view v) {
  const auto e = v.find_first_of("eE");
  if (e == std::string_view::npos || e == 0) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char ch = v[i];
    if (i == e || (ch >= '0' && ch <= '9') || ch == '.' || ch == '+') continue;
    return false;
  }
  return true;
}

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(d[p[i] >> 4]);
    out.push_back(d[p[i] & 15]);
  }
  return out;
}

std::string row_hash(std::string_view canonical) {
  std::array<unsigned char, 16> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(canonical.data()),
                     canonical.size(), nullptr, 0);
  return hex(h.data(), h.size());
}

std::string to_json(proto::Submitted::Reader sub) {
  capnp::JsonCodec codec;
  auto text = codec.encode(sub);
  return std::string(text.cStr(), text.size());
}

// A row without what every application needs.
constexpr const char* kNoApplicant = "缺少申请人姓名 (no applicant)";
constexpr const char* kNoItem = "缺少事项编码 (no item code)";

// The index of the (single) column of `kind`; map_columns made sure there is one.
std::size_t column_of(const std::vector<Column>& columns, ColumnKind kind) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].kind == kind) return i;
  }
  return 0;
}

// Gives each "row:HASH" its occurrence: identical rows stay distinct.
class KeyMaker {
 public:
  std::string key(const std::string& canonical) {
    const std::string h = row_hash(canonical);
    const std::size_t n = seen_[h]++;
    return "row:" + h + ":" + std::to_string(n);
  }

 private:
  std::map<std::string, std::size_t> seen_;
};

}  // namespace

std::string column_letter(std::size_t index) {
  std::string out;
  std::size_t n = index + 1;
  while (n > 0) {
    out.insert(out.begin(), static_cast<char>('A' + (n - 1) % 26));
    n = (n - 1) / 26;
  }
  return out;
}

Result<std::vector<Column>> map_columns(const std::vector<std::string>& headers) {
  std::vector<Column> out;
  std::map<ColumnKind, std::size_t> single;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    Column c;
    c.header = headers[i];
    const std::string h = normalise_header(headers[i]);
    if (h.empty()) {
      c.kind = ColumnKind::ignored;
    } else if (auto m = after_prefix(h, "材料")) {
      c.kind = ColumnKind::material_one;
      c.name = ledger_trimmed(after_prefix(headers[i], "材料").value_or(*m));
    } else if (auto f = after_prefix(h, "表单")) {
      c.kind = ColumnKind::field;
      c.name = ledger_trimmed(after_prefix(headers[i], "表单").value_or(*f));
    } else {
      for (const auto& k : kHeaders) {
        if (h == k.header) c.kind = k.kind;
      }
    }
    if (c.kind != ColumnKind::unknown && c.kind != ColumnKind::ignored &&
        c.kind != ColumnKind::material_one && c.kind != ColumnKind::field) {
      if (auto it = single.find(c.kind); it != single.end())
        return Status::invalid("表头第 " + column_letter(it->second) + " 列“" +
                               headers[it->second] + "”与第 " + column_letter(i) + " 列“" +
                               headers[i] + "”都是" + kind_label(c.kind) +
                               "，请只留一列 (two columns for one thing)");
      single[c.kind] = i;
    }
    out.push_back(std::move(c));
  }
  for (ColumnKind need : {ColumnKind::name, ColumnKind::item_code}) {
    if (single.count(need) == 0)
      return Status::invalid(std::string("表头中没有“") + kind_label(need) +
                             "”列，无法导入（列名见 README“导入纸质台账”）(no " +
                             (need == ColumnKind::name ? "applicant name" : "item code") +
                             " column)");
  }
  return out;
}

std::string row_problem_text(const RowProblem& p) {
  std::string s = "第 " + std::to_string(p.line) + " 行";
  if (!p.column.empty()) s += " " + p.column;
  return s + "：" + p.message;
}

std::string column_of_part(const std::vector<Column>& columns, app::RequestPart part) {
  ColumnKind want = ColumnKind::unknown;
  switch (part) {
    case app::RequestPart::item:
      want = ColumnKind::item_code;
      break;
    case app::RequestPart::id_number:
      want = ColumnKind::id_number;
      break;
    case app::RequestPart::phone:
      want = ColumnKind::phone;
      break;
    case app::RequestPart::materials:
      want = ColumnKind::materials;
      break;
    case app::RequestPart::home:
      want = ColumnKind::home;
      break;
    default:
      return {};
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].kind == want) return column_letter(i) + " 列（" + columns[i].header + "）";
  }
  return {};
}

Result<PreparedLedger> prepare_table(const LedgerTable& t, const std::string& home) {
  auto mapped = map_columns(t.headers);
  if (!mapped.ok()) return mapped.status();
  PreparedLedger out;
  out.columns = std::move(mapped).value();
  out.encoding = t.encoding;
  out.total = t.rows.size();
  for (std::size_t i = 0; i < out.columns.size(); ++i) {
    if (out.columns[i].kind == ColumnKind::unknown)
      out.unknown.push_back(column_letter(i) + " 列“" + out.columns[i].header + "”");
  }
  KeyMaker keys;
  for (const auto& row : t.rows) {
    capnp::MallocMessageBuilder msg(256);
    auto sub = msg.initRoot<proto::Submitted>();
    auto ap = sub.initApplicant();
    std::vector<std::pair<std::string, std::string>> fields;
    struct M {
      std::string name;
      proto::MaterialState state;
      bool original;
    };
    std::vector<M> materials;
    std::string row_home = home, ledger_no, canonical;
    std::optional<RowProblem> bad;
    auto problem = [&](std::size_t col, std::string msg_text) {
      if (!bad)
        bad = RowProblem{row.line, column_letter(col) + " 列（" + out.columns[col].header + "）",
                         std::move(msg_text)};
    };
    if (row.cells.size() > out.columns.size()) {
      for (std::size_t c = out.columns.size(); c < row.cells.size(); ++c) {
        if (!ledger_trimmed(row.cells[c].text).empty()) {
          bad = RowProblem{row.line, column_letter(c) + " 列",
                           "表头之外有内容（没有列名的列）(a cell outside the header)"};
          break;
        }
      }
    }
    for (std::size_t c = 0; c < out.columns.size() && c < row.cells.size() && !bad; ++c) {
      const Column& col = out.columns[c];
      const LedgerCell& cell = row.cells[c];
      const std::string v = ledger_trimmed(cell.text);
      if (col.kind == ColumnKind::unknown || col.kind == ColumnKind::ignored) continue;
      canonical += col.header + "\x1f" + v + "\x1e";
      if (v.empty()) continue;
      switch (col.kind) {
        case ColumnKind::name:
          ap.setName(v);
          break;
        case ColumnKind::id_number:
          if (cell.number || scientific(v)) {
            problem(c, "身份证号码在表格中存成了数字，末几位已丢失（" + v +
                           "），请把该列设为“文本”后按原件重新录入 (the ID number was stored as "
                           "a number and lost digits)");
            break;
          }
          ap.setIdNumber(v);
          break;
        case ColumnKind::phone:
          ap.setPhone(number_text(cell));
          break;
        case ColumnKind::address:
          ap.setAddress(v);
          break;
        case ColumnKind::item_code:
          sub.setItemCode(v);
          break;
        case ColumnKind::item_name:
          sub.setItemName(v);
          break;
        case ColumnKind::summary:
          sub.setSummary(v);
          break;
        case ColumnKind::materials:
          for (const auto& entry : split_list(v)) {
            auto parts = split_colons(entry);
            if (parts[0].empty() || parts.size() > 3) {
              problem(c, "材料“" + entry + "”写法不对，应为 名称[:容缺][:复印件] (bad material)");
              break;
            }
            M m{parts[0], proto::MaterialState::PROVIDED, true};
            for (std::size_t k = 1; k < parts.size(); ++k) {
              if (auto st = material_state(parts[k])) {
                m.state = *st;
              } else if (parts[k] == "复印件" || parts[k] == "copy") {
                m.original = false;
              } else if (parts[k] == "原件" || parts[k] == "original") {
                m.original = true;
              } else {
                problem(c, "材料“" + entry + "”中的“" + parts[k] +
                               "”不是 容缺/已交/原件/复印件 (bad material mark)");
                break;
              }
            }
            materials.push_back(std::move(m));
          }
          break;
        case ColumnKind::material_one: {
          auto mark = material_mark(v);
          if (!mark) {
            problem(c, "“" + v + "”不是材料标记（有/无/√/原件/复印件/容缺）(bad material mark)");
            break;
          }
          if (mark->given) materials.push_back(M{col.name, mark->state, mark->original});
          break;
        }
        case ColumnKind::field:
          fields.emplace_back(col.name, v);
          break;
        case ColumnKind::home:
          row_home = number_text(cell);
          break;
        case ColumnKind::fee_due: {
          auto fen = parse_yuan(number_text(cell));
          if (!fen) {
            problem(c, "“" + v + "”不是以元为单位的金额 (not an amount in yuan)");
            break;
          }
          sub.setFeeDue(*fen);
          break;
        }
        case ColumnKind::ledger_number:
          ledger_no = number_text(cell);
          break;
        case ColumnKind::date: {
          auto d = ledger_date(cell);
          if (!d) {
            problem(c, "“" + v + "”不是存在的日期 (no such date)");
            break;
          }
          fields.emplace_back("登记日期", *d);
          break;
        }
        case ColumnKind::note:
          fields.emplace_back("备注", v);
          break;
        case ColumnKind::catalog_version: {
          char* end = nullptr;
          const std::string n = number_text(cell);
          const unsigned long ver = std::strtoul(n.c_str(), &end, 10);
          if (end == n.c_str() || *end != '\0' || ver == 0 || ver > 0xFFFFFFFFul) {
            problem(c, "“" + v + "”不是目录版本号 (not a catalog version)");
            break;
          }
          sub.setCatalogVersion(static_cast<uint32_t>(ver));
          break;
        }
        default:
          break;
      }
    }
    // The cells every application needs (map_columns found their columns).
    if (!bad && ap.getName().size() == 0)
      problem(column_of(out.columns, ColumnKind::name), kNoApplicant);
    if (!bad && sub.getItemCode().size() == 0)
      problem(column_of(out.columns, ColumnKind::item_code), kNoItem);
    if (bad) {
      out.problems.push_back(std::move(*bad));
      continue;
    }
    auto fl = sub.initFields(static_cast<unsigned>(fields.size()));
    for (unsigned k = 0; k < fields.size(); ++k) {
      fl[k].setKey(fields[k].first);
      fl[k].setValue(fields[k].second);
    }
    auto ml = sub.initMaterials(static_cast<unsigned>(materials.size()));
    for (unsigned k = 0; k < materials.size(); ++k) {
      ml[k].setName(materials[k].name);
      ml[k].setState(materials[k].state);
      ml[k].setOriginal(materials[k].original);
      ml[k].setCount(1);
    }
    ImportRow r;
    r.line = row.line;
    r.home = row_home;
    r.key = ledger_no.empty() ? keys.key(canonical) : "no:" + ledger_no;
    r.json = to_json(sub.asReader());
    if (r.json.size() > kMaxImportRowBytes) {
      out.problems.push_back(RowProblem{row.line, "",
                                        "该行内容过多，超过一件申请能容纳的 " +
                                            std::to_string(kMaxImportRowBytes) +
                                            " 字节 (the row is too large)"});
      continue;
    }
    out.rows.push_back(std::move(r));
  }
  return out;
}

Result<PreparedLedger> prepare_jsonl(std::string_view bytes, const std::string& home) {
  std::string encoding;
  auto text = ledger_text_utf8(bytes, &encoding);
  if (!text.ok()) return text.status();
  PreparedLedger out;
  out.encoding = encoding;
  KeyMaker keys;
  std::size_t line = 0, pos = 0;
  const std::string& s = *text;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    ++line;
    const std::string l = ledger_trimmed(std::string_view(s).substr(pos, nl - pos));
    pos = nl + 1;
    if (l.empty()) continue;
    ++out.total;
    if (out.total > kMaxLedgerRows) return Status::invalid("台账文件超出上限：行 最多 1000000");
    capnp::MallocMessageBuilder msg(256);
    auto sub = msg.initRoot<proto::Submitted>();
    if (auto st = decode_submission_json(l, sub); !st) {
      out.problems.push_back(RowProblem{line, "", "不是一件申请的 JSON：" + st.message()});
      continue;
    }
    if (sub.getApplicant().getName().size() == 0 || sub.getItemCode().size() == 0) {
      out.problems.push_back(
          RowProblem{line, "", sub.getApplicant().getName().size() == 0 ? kNoApplicant : kNoItem});
      continue;
    }
    ImportRow r;
    r.line = line;
    r.home = home;
    r.key = keys.key(to_json(sub.asReader()));
    r.json = to_json(sub.asReader());
    if (r.json.size() > kMaxImportRowBytes) {
      out.problems.push_back(RowProblem{line, "",
                                        "该行内容过多，超过一件申请能容纳的 " +
                                            std::to_string(kMaxImportRowBytes) +
                                            " 字节 (the row is too large)"});
      continue;
    }
    out.rows.push_back(std::move(r));
  }
  return out;
}

std::string encode_rows(const std::vector<ImportRow>& rows, std::size_t begin, std::size_t end) {
  std::string out;
  for (std::size_t i = begin; i < end && i < rows.size(); ++i) {
    const auto& r = rows[i];
    out += std::to_string(r.line) + "\t" + r.key + "\t" + r.home + "\t" + r.json + "\n";
  }
  return out;
}

Result<std::vector<ImportRow>> decode_rows(std::string_view text) {
  std::vector<ImportRow> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view l = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (l.empty()) continue;
    std::string_view parts[4];
    std::size_t at = 0;
    for (int k = 0; k < 3; ++k) {
      const std::size_t tab = l.find('\t', at);
      if (tab == std::string_view::npos) return Status::invalid("malformed import rows");
      parts[k] = l.substr(at, tab - at);
      at = tab + 1;
    }
    parts[3] = l.substr(at);
    ImportRow r;
    char* end = nullptr;
    const std::string line(parts[0]);
    r.line = std::strtoull(line.c_str(), &end, 10);
    if (end == line.c_str() || *end != '\0') return Status::invalid("malformed import rows");
    r.key = parts[1];
    r.home = parts[2];
    r.json = parts[3];
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace liandong::node
