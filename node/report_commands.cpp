// The `liandong` commands of the report module (see node/commands.h):
//   report [--from D --to D] [--by village|township|item|department|level]
//          [--home PREFIX] [--as-of D] [--json|--csv]    台帐, 统计分析
//   case trace ID [--json]                               倒查
#include <chrono>
#include <memory>

#include "node/app/figures.h"
#include "node/commands.h"
#include "node/input_checks.h"
#include "node/render.h"
#include "node/report.h"
#include "node/trace.h"

namespace liandong::node {

namespace {

struct ReportArgs : app::ReportRequest {
  bool csv = false;
};

int cmd_report(const std::string& data, const ReportArgs& a, bool json) {
  if (json && a.csv) fail(Status::invalid("--json and --csv: choose one"));
  auto node = open_node(data);
  auto r = app::report(app::Context{*node.store, node.identity.sign}, a);
  if (!r.ok()) throw CommandError{r.error().status, r.error().refused};
  const auto places = places_here(*node.store);
  const storage::Divisions* names = places ? &*places : nullptr;
  print(json    ? render_report_json(*r)
        : a.csv ? render_report_csv(*r, names)
                : render_report(*r, names));
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
  auto* c_report = app.add_subcommand("report", "ledgers and statistics (台帐, 统计分析)");
  shared.add_data(c_report);
  c_report->add_option("--from", args->from, "first day of the period (YYYY-MM-DD, 北京时间)");
  c_report->add_option("--to", args->to, "last day of the period (YYYY-MM-DD)");
  c_report->add_option("--by", args->by,
                       "group by village, township, item, department or level (each level's own "
                       "figures: 县/乡镇/村)");
  c_report->add_option("--home", args->home, "only cases homed under this code");
  c_report->add_option("--as-of", args->as_of,
                       "count overdue cases as of this day (default today)");
  c_report->add_flag("--json", shared.json, "print JSON");
  c_report->add_flag("--csv", args->csv, "print CSV (UTF-8 with BOM) for a spreadsheet");
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
