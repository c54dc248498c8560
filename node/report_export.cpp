#include "node/report_export.h"

#include <algorithm>

#include "node/render.h"

namespace liandong::node {

namespace {

XlsxFormat format_of(ColumnKind k) {
  switch (k) {
    case ColumnKind::count:
      return XlsxFormat::integer;
    case ColumnKind::rate:
      return XlsxFormat::percent;
    case ColumnKind::average:
      return XlsxFormat::decimal;
    case ColumnKind::yuan:
      return XlsxFormat::money;
  }
  return XlsxFormat::text;
}

XlsxCell cell_of(const ReportValue& v) {
  XlsxCell c;
  c.format = format_of(v.kind);
  if (v.number) {
    c.number = v.number;
  } else {
    c.text = "-";
  }
  return c;
}

std::string period_words(std::optional<int64_t> from, std::optional<int64_t> to) {
  if (!from && !to) return "全部";
  return (from ? format_date(*from) : std::string()) + "至" + (to ? format_date(*to) : "今");
}

}  // namespace

XlsxSheet report_sheet(const Report& r, const storage::Divisions* places) {
  const auto& o = r.options;
  XlsxSheet s;
  s.name = "统计表";
  s.title = "统计表　" + place_zh(places, r.node_code) + "　统计期间 " + report_period_zh(o) +
            "　分组 " + group_by_zh(o.by) + "　统计截至 " + format_date(o.as_of);
  s.headers.push_back(o.by == GroupBy::none ? "分组" : group_by_zh(o.by));
  int key_width = 8;
  for (const auto& row : r.rows)
    key_width = std::max(key_width, display_width(report_row_name(r, row.key, places)));
  s.widths.push_back(std::min(key_width + 2, 40));
  for (const auto& c : report_columns()) {
    s.headers.push_back(c.header);
    // Headers wrap onto two lines: half their width, and room for "100.0%".
    s.widths.push_back(std::max(8.0, display_width(c.header) / 2.0 + 2));
  }
  auto line = [&](const std::string& key, const Figures& f) {
    std::vector<XlsxCell> cells;
    cells.push_back(XlsxCell{key, std::nullopt, XlsxFormat::text});
    for (const auto& c : report_columns())
      cells.push_back(cell_of(c.value(f)));
    s.rows.push_back(std::move(cells));
  };
  for (const auto& row : r.rows)
    line(report_row_name(r, row.key, places), row.figures);
  line("合计", r.total);
  s.total_rows = 1;
  s.note =
      "说明: 按时办结率 = 按时办结 / 办结; 即办率 = 即办 / 办结; 好评率 = (非常满意 + 满意 + "
      "基本满意) / 评价数; 红牌超期 = 在办且已过承诺办结日期。";
  return s;
}

XlsxSheet ledger_sheet(const std::vector<LedgerLine>& lines, const std::string& node_code,
                       std::optional<int64_t> from, std::optional<int64_t> to,
                       const storage::Divisions* places) {
  ReportOptions period;
  period.from = from;
  period.to = to;
  XlsxSheet s;
  s.name = "台账";
  s.title = "办件台账　" + place_zh(places, node_code) + "　登记期间 " + report_period_zh(period) +
            "　共 " + std::to_string(lines.size()) + " 件";
  for (const auto& c : ledger_columns()) {
    s.headers.push_back(c.header);
    s.widths.push_back(c.width);
  }
  int64_t fees = 0;
  for (const auto& l : lines) {
    std::vector<XlsxCell> cells;
    for (const auto& c : ledger_columns()) {
      if (c.number != nullptr) {
        cells.push_back(cell_of(c.number(l)));
      } else {
        cells.push_back(XlsxCell{c.text(l), std::nullopt, XlsxFormat::text});
      }
    }
    fees += l.fee_fen;
    s.rows.push_back(std::move(cells));
  }
  // 合计: the number of cases and the fees collected.
  std::vector<XlsxCell> total(ledger_columns().size());
  total[0].text = "合计 " + std::to_string(lines.size()) + " 件";
  for (std::size_t i = 0; i < ledger_columns().size(); ++i) {
    if (ledger_columns()[i].number != nullptr) {
      total[i].number = static_cast<double>(fees) / 100.0;
      total[i].format = XlsxFormat::money;
    }
  }
  s.rows.push_back(std::move(total));
  s.total_rows = 1;
  s.note = "注: 台账为内部资料, 身份证号已隐去中间部分。";
  return s;
}

std::string export_file_name(const std::string& kind, const std::string& node_name,
                             std::optional<int64_t> from, std::optional<int64_t> to,
                             const std::string& ext) {
  std::string name = kind + "_" + node_name + "_" + period_words(from, to) + "." + ext;
  for (char& c : name) {
    if (std::string_view("/\\:*?\"<>|").find(c) != std::string_view::npos ||
        static_cast<unsigned char>(c) < 0x20)
      c = '_';
  }
  return name;
}

}  // namespace liandong::node
