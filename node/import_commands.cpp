// `liandong import FILE [--format csv|xlsx|jsonl] [--home CODE] --actor NAME`
// (导入纸质台账): brings a paper ledger typed into a spreadsheet in.
//
// The CLI reads and decodes the file (node/ledger_table.h), makes each row
// an application with its row key (node/ledger_import.h), then has the
// rows checked as `submit` checks one and the good ones stored
// (app::import_rows, node/app/import.h), kImportBatchRows at a time, each batch one write
// transaction of the single writer: through the daemon's control socket
// when a daemon runs on the data directory (the hidden command
// `import-rows`, one control request per batch, so the daemon's loop
// serves its links between batches), else on the store directly.
//
// Every bad row is reported with its row number (and column) and nothing
// is stored from it; a row imported before is counted and not stored again.
// Exit 0 when no row was bad, 1 when some were (the good ones are stored),
// 2 when the file as a whole cannot be read.
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "node/app/import.h"
#include "node/cli.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/input_checks.h"
#include "node/input_files.h"
#include "node/json_text.h"
#include "node/ledger_import.h"
#include "node/ledger_table.h"
#include "node/render.h"

namespace liandong::node {

namespace {

constexpr std::size_t kMaxLedgerFileBytes = std::size_t{256} << 20;
constexpr std::size_t kImportBatchRows = 1000;
// A batch sent to the daemon stays well under what one request may carry.
constexpr std::size_t kMaxBatchBytes = kMaxForwardedFileBytes / 2;

struct ImportArgs {
  std::string file, format, home;
  std::size_t batch = kImportBatchRows;
};

using app::RowOutcome;

// One row's outcome as a person reads it: the case number, or why nothing
// was stored from the row, in the words `submit` uses for the same
// application (error_text_zh, node/render.h).
struct RowReport {
  std::size_t line = 0;
  RowOutcome::Kind kind = RowOutcome::bad;
  app::RequestPart part = app::RequestPart::whole;
  std::string text;
};

// Checks and stores `rows` on `node`'s store (app::import_rows), or fails
// the command.
std::vector<RowReport> store_rows(const Opened& node, const ActorOptions& actor,
                                  const std::vector<ImportRow>& rows) {
  auto out = app::import_rows(app_context(node), actor, rows);
  if (!out.ok()) throw CommandError{out.error().status, out.error().refused};
  std::vector<RowReport> reports;
  reports.reserve(out->size());
  for (const auto& o : *out) {
    reports.push_back(
        RowReport{o.line, o.kind, o.part,
                  o.kind == RowOutcome::bad ? error_text_zh(o.error) : o.case_number});
  }
  return reports;
}

// The daemon's reply for a batch: one line per row.
std::string encode_outcomes(const std::vector<RowReport>& out) {
  std::string s;
  for (const auto& o : out) {
    std::string text = o.text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    s += fmt::format("{}\t{}\t{}\t{}\n", o.line, static_cast<int>(o.kind), static_cast<int>(o.part),
                     text);
  }
  return s;
}

std::vector<RowReport> decode_outcomes(const std::string& s) {
  std::vector<RowReport> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    const std::string l = s.substr(pos, nl - pos);
    pos = nl + 1;
    RowReport o;
    unsigned long kind = 0, part = 0;
    std::size_t a = l.find('\t'), b = l.find('\t', a + 1), c = l.find('\t', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos)
      fail(Status::internal("联网服务的导入回复无法识别 (malformed reply)"));
    o.line = std::strtoull(l.substr(0, a).c_str(), nullptr, 10);
    kind = std::strtoul(l.substr(a + 1, b - a - 1).c_str(), nullptr, 10);
    part = std::strtoul(l.substr(b + 1, c - b - 1).c_str(), nullptr, 10);
    if (kind > RowOutcome::bad || part > static_cast<unsigned long>(app::kLastRequestPart))
      fail(Status::internal("联网服务的导入回复无法识别 (malformed reply)"));
    o.kind = static_cast<RowOutcome::Kind>(kind);
    o.part = static_cast<app::RequestPart>(part);
    o.text = l.substr(c + 1);
    out.push_back(std::move(o));
  }
  return out;
}

// Inside the daemon: `import-rows NAME`, the rows the CLI prepared.
int cmd_import_rows(const std::string& data, const std::string& name, const ActorOptions& actor) {
  if (!in_daemon())
    fail(Status::invalid("import-rows is how `liandong import` talks to the daemon; use import"));
  auto rows = decode_rows(read_file(name, kMaxForwardedFileBytes));
  if (!rows.ok()) fail(rows.status());
  auto node = open_node(data);
  print(encode_outcomes(store_rows(node, actor, *rows)));
  return 0;
}

std::string format_of(const ImportArgs& a) {
  if (!a.format.empty()) return a.format;
  std::string ext = std::filesystem::path(a.file).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".xlsx") return "xlsx";
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return "jsonl";
  if (ext == ".xls" || ext == ".et")
    fail(Status::invalid(
        "不能读取旧版 .xls/.et 文件，请在 WPS 或 Excel 中另存为 .xlsx 或 CSV 后再导入 "
        "(save as .xlsx or CSV)"));
  return "csv";
}

int cmd_import(const std::string& data, const ImportArgs& a, const ActorOptions& actor, bool json) {
  if (in_daemon()) fail(Status::invalid("import reads its file in the CLI"));
  if (data.empty()) fail(Status::invalid("no data directory: give --data DIR"));
  if (a.batch == 0 || a.batch > 10000) fail(Status::invalid("--batch must be 1..10000 rows"));
  if (!a.home.empty() && !plausible_code(a.home))
    fail(Status::invalid("--home " + a.home + " 不是行政区划代码 (not a division code)"));
  const std::string format = format_of(a);
  const std::string bytes = read_file(a.file, kMaxLedgerFileBytes);
  Result<PreparedLedger> prepared = Status::internal("unset");
  if (format == "jsonl") {
    prepared = prepare_jsonl(bytes, a.home);
  } else {
    auto table = format == "xlsx" ? read_ledger_xlsx(bytes) : read_ledger_csv(bytes);
    if (!table.ok()) fail(Status::invalid(a.file + "：" + table.status().message()));
    prepared = prepare_table(*table, a.home);
  }
  if (!prepared.ok()) fail(Status::invalid(a.file + "：" + prepared.status().message()));
  PreparedLedger& p = *prepared;

  std::vector<RowReport> outcomes;
  outcomes.reserve(p.rows.size());
  const auto daemon = find_daemon(data);
  std::optional<Opened> node;
  for (std::size_t begin = 0, end = 0; begin < p.rows.size(); begin = end) {
    // At most --batch rows, and few enough bytes to travel in one request.
    std::size_t batch_bytes = 0;
    end = begin;
    while (end < p.rows.size() && end - begin < a.batch) {
      batch_bytes += p.rows[end].json.size() + p.rows[end].key.size() + 64;
      if (end > begin && batch_bytes > kMaxBatchBytes) break;
      ++end;
    }
    std::vector<RowReport> got;
    if (daemon) {
      ControlRequest r;
      r.args = {"import-rows", "batch", "--data", data, "--actor", actor.name};
      if (!actor.role.empty()) r.args.insert(r.args.end(), {"--role", actor.role});
      if (!actor.staff_id.empty()) r.args.insert(r.args.end(), {"--staff-id", actor.staff_id});
      if (!actor.on_behalf_of.empty())
        r.args.insert(r.args.end(), {"--on-behalf-of", actor.on_behalf_of});
      r.files.emplace("batch", encode_rows(p.rows, begin, end));
      auto reply = call_daemon(daemon->control_endpoint, r, std::chrono::seconds(120), [&] {
        auto now = find_daemon(data);
        return now && now->pid == daemon->pid;
      });
      if (!reply.ok())
        fail(Status::disconnected("联网服务（pid " + std::to_string(daemon->pid) +
                                  "）未响应，已导入前 " + std::to_string(begin) +
                                  " 行之内的好行；再次导入同一文件不会重复登记：" +
                                  reply.status().message()));
      if (reply->exit_code != 0) {
        std::string why = reply->err;
        if (why.rfind("错误：", 0) == 0) why = why.substr(std::string("错误：").size());
        while (!why.empty() && why.back() == '\n')
          why.pop_back();
        CommandError e{Status::invalid(why), reply->exit_code == 1};
        throw e;
      }
      got = decode_outcomes(reply->out);
    } else {
      if (!node) node.emplace(open_node(data));
      std::vector<ImportRow> batch(p.rows.begin() + static_cast<long>(begin),
                                   p.rows.begin() + static_cast<long>(end));
      got = store_rows(*node, actor, batch);
    }
    outcomes.insert(outcomes.end(), got.begin(), got.end());
  }

  std::vector<RowProblem> problems = p.problems;
  std::size_t stored = 0, duplicates = 0;
  for (const auto& o : outcomes) {
    if (o.kind == RowOutcome::stored) {
      ++stored;
    } else if (o.kind == RowOutcome::duplicate) {
      ++duplicates;
    } else {
      problems.push_back(RowProblem{o.line, column_of_part(p.columns, o.part), o.text});
    }
  }
  std::stable_sort(problems.begin(), problems.end(),
                   [](const RowProblem& x, const RowProblem& y) { return x.line < y.line; });
  if (json) {
    Json j = Json::object();
    j["file"] = a.file;
    j["encoding"] = p.encoding;
    j["rows"] = p.total;
    j["stored"] = stored;
    j["duplicates"] = duplicates;
    j["bad"] = Json::array();
    for (const auto& pr : problems)
      j["bad"].push_back(Json{{"line", pr.line}, {"column", pr.column}, {"error", pr.message}});
    j["unknownColumns"] = p.unknown;
    print(json_text(j) + "\n");
  } else {
    for (const auto& u : p.unknown)
      print("未识别的列（未导入）：" + u + "\n");
    for (const auto& pr : problems)
      print(row_problem_text(pr) + "\n");
    print(
        fmt::format("导入 {}（{}）：共 {} 行，新登记 {} 件，此前已导入 {} 行（未重复登记），有误 "
                    "{} 行（均未登记）\n",
                    a.file, p.encoding, p.total, stored, duplicates, problems.size()));
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace

void add_import_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<ImportArgs>();
  auto* c = app.add_subcommand(
      "import", "导入纸质台账: register the applications of a ledger (CSV, XLSX or JSON lines)");
  c->add_option("file", args->file, "the ledger: .csv (UTF-8 or GBK), .xlsx or .jsonl")->required();
  c->add_option("--format", args->format, "csv, xlsx or jsonl (default: from the file name)")
      ->check(CLI::IsMember({"csv", "xlsx", "jsonl"}));
  c->add_option("--home", args->home, "home code of rows without 所属村 (default: this node)");
  c->add_option("--batch", args->batch, "rows per write transaction (default 1000)");
  c->add_flag("--json", shared.json, "print the outcome as JSON");
  shared.add_data(c);
  shared.add_actor(c);
  out.push_back(CommandSpec{
      c, [args, &shared] { return cmd_import(shared.data, *args, shared.actor, shared.json); }});

  // How the CLI hands one batch to the daemon (not for people).
  auto name = std::make_shared<std::string>();
  auto* r = app.add_subcommand("import-rows", "");
  r->group("");
  r->add_option("name", *name)->required();
  shared.add_data(r);
  shared.add_actor(r);
  out.push_back(CommandSpec{
      r, [name, &shared] { return cmd_import_rows(shared.data, *name, shared.actor); }});
}

}  // namespace liandong::node
