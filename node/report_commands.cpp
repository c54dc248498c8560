// The `liandong` commands of the report module (see node/commands.h):
//   report [--from D --to D]
//          [--by village|township|item|department|level|month|person]
//          [--home PREFIX] [--as-of D] [--json|--csv]    统计表 (统计分析)
//          [--format text|json|csv|xlsx] [--out FILE]
//          [--ledger]                                    台账: one row per case
// XLSX is written to --out only (never to the terminal); CSV is UTF-8 with
// a BOM; both have Chinese headers (node/report_export.h).
//   case trace ID [--json]                               倒查
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "node/app/figures.h"
#include "node/commands.h"
#include "node/input_checks.h"
#include "node/render.h"
#include "node/report.h"
#include "node/report_export.h"
#include "node/report_ledger.h"
#include "node/trace.h"

namespace liandong::node {

namespace {

struct ReportArgs : app::ReportRequest {
  bool csv = false;
  bool ledger = false;
  std::string format;  // text, json, csv, xlsx; empty: by --json / --csv
  std::string out;     // a file; empty: the terminal
};

// The output, to --out or the terminal.
void emit(const std::string& bytes, const std::string& out) {
  if (out.empty()) return print(bytes);
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) fail(Status::internal("无法写入 " + out));
  print("已保存 " + out + "\n");
}

// Where libxlsxwriter makes its temporary file: beside the output.
std::filesystem::path work_dir_of(const std::string& out) {
  const auto parent = std::filesystem::absolute(out).parent_path();
  return parent.empty() ? std::filesystem::current_path() : parent;
}

int cmd_report(const std::string& data, const ReportArgs& a, bool json) {
  std::string format = a.format;
  if ((json && a.csv) || (!format.empty() && (json || a.csv)))
    fail(Status::invalid("--json、--csv 和 --format 只能选一个 (choose one)"));
  if (format.empty()) format = json ? "json" : a.csv ? "csv" : "text";
  if (format != "text" && format != "json" && format != "csv" && format != "xlsx")
    fail(Status::invalid("输出格式应为 text、json、csv 或 xlsx (--format)"));
  if (format == "xlsx" && a.out.empty())
    fail(Status::invalid("XLSX 须用 --out 指定文件 (--format xlsx needs --out FILE)"));
  if (a.ledger) {
    if (!a.by.empty()) fail(Status::invalid("台账逐件列出，不分组 (--ledger takes no --by)"));
    if (format == "json" || format == "text")
      fail(Status::invalid("台账为 CSV 或 XLSX (--ledger takes --format csv or xlsx)"));
  }
  auto node = open_node(data);
  const app::Context ctx{*node.store, node.identity.sign};
  const auto places = places_here(*node.store);
  const storage::Divisions* names = places ? &*places : nullptr;
  if (a.ledger) {
    auto l = app::ledger(ctx, a);
    if (!l.ok()) fail_with(l.error());
    if (format == "csv") {
      emit(render_ledger_csv(l->lines), a.out);
    } else {
      auto bytes = xlsx_bytes({ledger_sheet(l->lines, l->node_code, l->from, l->to, names)},
                              work_dir_of(a.out));
      if (!bytes.ok()) fail(bytes.status());
      emit(*bytes, a.out);
    }
    return 0;
  }
  auto r = app::report(ctx, a);
  if (!r.ok()) throw CommandError{r.error().status, r.error().refused};
  if (format == "xlsx") {
    auto bytes = xlsx_bytes({report_sheet(*r, names)}, work_dir_of(a.out));
    if (!bytes.ok()) fail(bytes.status());
    emit(*bytes, a.out);
    return 0;
  }
  emit(format == "json"  ? render_report_json(*r)
       : format == "csv" ? render_report_csv(*r, names)
                         : render_report(*r, names),
       a.out);
  return 0;
}

int cmd_trace(const std::string& data, const std::string& id_text, bool json) {
  auto id = parse_id(id_text);
  if (!id) fail(Status::invalid("'" + id_text + "' is not a case number like 360723101007-000042"));
  auto node = open_node(data);
  auto t = trace_case(*node.store, *id);
  if (!t.ok()) fail(t.status());
  print(json ? render_trace_json(*t) : render_trace(*t));
  return 0;
}

}  // namespace

void add_report_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<ReportArgs>();
  auto* c_report = app.add_subcommand("report", "statistics and ledgers (统计表, 台账)");
  shared.add_data(c_report);
  c_report->add_option("--from", args->from, "first day of the period (YYYY-MM-DD, 北京时间)");
  c_report->add_option("--to", args->to, "last day of the period (YYYY-MM-DD)");
  c_report->add_option("--by", args->by,
                       "group by village, township, item, department, level (each level's own "
                       "figures: 县/乡镇/村), month (YYYY-MM of registration) or person "
                       "(绩效考评: who accepted and who decided)");
  c_report->add_option("--home", args->home, "only cases homed under this code");
  c_report->add_option("--as-of", args->as_of,
                       "count overdue cases as of this day (default today)");
  c_report->add_flag("--json", shared.json, "print JSON");
  c_report->add_flag("--csv", args->csv, "print CSV (UTF-8 with BOM) for a spreadsheet");
  c_report->add_option("--format", args->format,
                       "text, json, csv or xlsx (XLSX needs --out; default text)");
  c_report->add_option("--out", args->out, "write to this file instead of the terminal");
  c_report->add_flag("--ledger", args->ledger,
                     "the 台账 instead: one row per case registered in the period (csv, xlsx)");
  std::string& data = shared.data;
  bool& json = shared.json;
  out.push_back(
      {.app = c_report, .run = [args, &data, &json] { return cmd_report(data, *args, json); }});

  auto* c_case = app.get_subcommand("case");
  auto trace_id = std::make_shared<std::string>();
  auto* c_trace = c_case->add_subcommand("trace", "trace every step of one case (倒查)");
  shared.add_data(c_trace);
  c_trace->add_option("id", *trace_id, "case number, e.g. 360723101007-000001")->required();
  c_trace->add_flag("--json", shared.json, "print JSON");
  out.push_back({.app = c_trace,
                 .run = [trace_id, &data, &json] { return cmd_trace(data, *trace_id, json); }});
}

}  // namespace liandong::node
