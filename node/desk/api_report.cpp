// The desk API's reports (统计报表, docs/DESK.md "Reports"): the statistics
// table (统计表) as JSON for the page and its charts, or as a CSV or XLSX
// download, and the 台账 (one row per case) as CSV or XLSX. Reads only.

#include <httplib.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "node/app/figures.h"
#include "node/desk/api.h"
#include "node/desk/api_parts.h"
#include "node/render.h"
#include "node/report_export.h"
#include "node/report_ledger.h"
#include "node/xlsx_sheet.h"

namespace liandong::desk {

using node::Json;
using namespace api_parts;

namespace {

constexpr auto kXlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr auto kCsvType = "text/csv; charset=utf-8";

const char* kind_name(node::ColumnKind k) {
  switch (k) {
    case node::ColumnKind::count:
      return "count";
    case node::ColumnKind::rate:
      return "rate";
    case node::ColumnKind::average:
      return "average";
    case node::ColumnKind::yuan:
      return "yuan";
  }
  return "count";
}

Json cells_json(const node::Figures& f) {
  Json cells = Json::array();
  for (const auto& c : node::report_columns()) {
    const node::ReportValue v = c.value(f);
    cells.push_back(v.number ? Json(*v.number) : Json());
  }
  return cells;
}

// The query's parameters, each known and short; else answered 400.
bool read_query(const httplib::Request& req, httplib::Response& res,
                std::initializer_list<std::string_view> known, app::ReportRequest& out,
                std::string& format) {
  for (const auto& [key, value] : req.params) {
    bool ok = false;
    for (auto k : known)
      ok = ok || key == k;
    if (!ok) {
      // Named back only when it is a plain word: a hostile key is not echoed.
      const bool plain = key.size() <= 20 && std::all_of(key.begin(), key.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || c == '_';
                         });
      fail(res, 400, plain ? "不认识的查询参数“" + key + "”" : std::string("不认识的查询参数"),
           plain ? key : std::string());
      return false;
    }
    if (value.size() > 32) {
      fail(res, 400, "查询参数 " + key + " 过长", key);
      return false;
    }
    if (req.params.count(key) > 1) {
      fail(res, 400, "查询参数 " + key + " 重复", key);
      return false;
    }
  }
  out.from = req.get_param_value("from");
  out.to = req.get_param_value("to");
  out.by = req.get_param_value("by");
  out.home = req.get_param_value("home");
  format = req.get_param_value("format");
  if (format.empty()) format = "json";
  return true;
}

}  // namespace

// TODO(perf): each answer reads every case of the period and its events
// (build_report_from_store); the page asks for five groupings at a time. A
// county with tens of thousands of cases a year wants one pass for all.
void Api::report(const Req& req, Res& res) {
  auto s = session(req, res);
  if (!s) return;
  app::ReportRequest r;
  std::string format;
  if (!read_query(req, res, {"from", "to", "by", "home", "format"}, r, format)) return;
  if (format != "json" && format != "csv" && format != "xlsx")
    return fail(res, 400, "格式应为 json、csv 或 xlsx", "format");
  const bool persons = r.by == "person" || r.by == "人员";
  const bool may_see_persons = app::may_see_person_figures(s->role, o_.code);
  if (persons && !may_see_persons)
    return fail(res, 403, "人员绩效只有首席代表和分管领导可以查看", "by");
  // The store's position before reading: a change after it is news.
  auto stats = store_.stats();
  if (!stats.ok()) return fail(res, 500, node::error_text_zh(stats.status()));
  app::Context ctx{store_, read_key(), o_.now};
  auto report = app::report(ctx, r);
  if (!report.ok()) return fail(res, report.error());
  const auto places = node::places_here(store_);
  const storage::Divisions* names = places ? &*places : nullptr;
  const auto& o = report->options;
  const std::string node_name = node::place_name(names, o_.code);
  if (format == "csv" || format == "xlsx") {
    std::string bytes;
    if (format == "csv") {
      bytes = node::render_report_csv(*report, names);
    } else {
      auto x = node::xlsx_bytes({node::report_sheet(*report, names)}, o_.data / "tmp");
      if (!x.ok()) return fail(res, 500, "无法生成 Excel 文件：" + node::error_text_zh(x.status()));
      bytes = std::move(x).value();
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition",
                   content_disposition(
                       true, node::export_file_name("统计表", node_name, o.from, o.to, format)));
    return res.set_content(std::move(bytes), format == "csv" ? kCsvType : kXlsxType);
  }
  Json j = Json::parse(node::render_report_json(*report));
  j["node_name"] = node_name;
  j["by_zh"] = node::group_by_zh(o.by);
  j["period_zh"] = node::report_period_zh(o);
  j["may_see_persons"] = may_see_persons;
  j["lsn"] = stats->last_lsn;
  Json columns = Json::array();
  for (const auto& c : node::report_columns())
    columns.push_back(
        Json{{"header", c.header}, {"kind", kind_name(c.value(node::Figures{}).kind)}});
  j["columns"] = std::move(columns);
  auto& rows = j["rows"];
  for (std::size_t i = 0; i < report->rows.size() && i < rows.size(); ++i) {
    rows[i]["name"] = node::report_row_name(*report, report->rows[i].key, names);
    rows[i]["cells"] = cells_json(report->rows[i].figures);
  }
  j["total"]["cells"] = cells_json(report->total);
  reply(res, 200, j);
}

void Api::ledger(const Req& req, Res& res) {
  if (!session(req, res)) return;
  app::ReportRequest r;
  std::string format;
  if (!read_query(req, res, {"from", "to", "home", "format"}, r, format)) return;
  if (format != "csv" && format != "xlsx")
    return fail(res, 400, "台账格式应为 csv 或 xlsx", "format");
  app::Context ctx{store_, read_key(), o_.now};
  auto l = app::ledger(ctx, r);
  if (!l.ok()) return fail(res, l.error());
  const auto places = node::places_here(store_);
  const storage::Divisions* names = places ? &*places : nullptr;
  std::string bytes;
  if (format == "csv") {
    bytes = node::render_ledger_csv(l->lines);
  } else {
    auto x = node::xlsx_bytes({node::ledger_sheet(l->lines, l->node_code, l->from, l->to, names)},
                              o_.data / "tmp");
    if (!x.ok()) return fail(res, 500, "无法生成 Excel 文件：" + node::error_text_zh(x.status()));
    bytes = std::move(x).value();
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header(
      "Content-Disposition",
      content_disposition(true, node::export_file_name("台账", node::place_name(names, o_.code),
                                                       l->from, l->to, format)));
  res.set_content(std::move(bytes), format == "csv" ? kCsvType : kXlsxType);
}

}  // namespace liandong::desk
