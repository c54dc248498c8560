// The `liandong` commands of the PostgreSQL export (see node/commands.h):
//   export postgres [--dsn DSN] [--config FILE | --data DIR]
//                   [--id-numbers] [--batch N] [--follow]
// Writes every event and every case's current state into the analytics
// schema (docs/ANALYTICS.md), exactly once, from where the last export
// stopped. --follow keeps exporting until SIGINT/SIGTERM (`liandong run`
// does the same on its own thread when the config's [export] names a DSN).
// The DSN comes from --dsn or the config's [export] postgres_dsn; it may
// hold a password and is never printed.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include "config/node_config.h"
#include "node/commands.h"
#include "node/export/pg_export.h"

namespace liandong::node {

namespace {

struct ExportArgs {
  std::string dsn;
  bool id_numbers = false;
  std::size_t batch = 20000;
  bool follow = false;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop = true;
}

std::string summary(const pg::ExportTotals& t) {
  return "已导出事件 " + std::to_string(t.events) + " 条，写入办件 " + std::to_string(t.cases) +
         " 件次（" + std::to_string(t.batches) + " 批），已到日志序号 " + std::to_string(t.lsn) +
         "\n";
}

int cmd_export_postgres(const std::string& data, const std::string* config_file,
                        const ExportArgs& a) {
  if (in_daemon())
    fail(Status::invalid("导出须在命令行运行，不经守护进程 (run it from the shell)"));
  pg::ExportOptions o;
  o.dsn = a.dsn;
  o.id_numbers = a.id_numbers;
  if (config_file != nullptr && !config_file->empty()) {
    auto cfg = config::load_config(*config_file);
    if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
    const auto& e = std::get<config::NodeConfig>(cfg).export_pg;
    if (o.dsn.empty()) o.dsn = e.postgres_dsn;
    o.id_numbers = o.id_numbers || e.id_numbers;
  }
  if (o.dsn.empty())
    fail(
        Status::invalid("未指定 PostgreSQL 连接串：用 --dsn，或在配置文件 [export] 中写 "
                        "postgres_dsn"));
  if (a.batch < 1 || a.batch > 1'000'000) fail(Status::invalid("--batch 应在 1 至 1000000 之间"));
  o.batch_events = a.batch;
  if (auto s = pg::check_dsn(o.dsn); !s.is_ok()) fail(s);
  auto node = open_node(data);
  pg::PgExporter ex(*node.store, o);
  // Once: no server is a failure. --follow keeps exporting: a server not up
  // yet (or restarting) is waited for, as one lost later is.
  if (auto s = ex.connect(); !s.is_ok() && (!a.follow || s.code() == Code::invalid)) fail(s);
  if (!a.follow) {
    auto t = ex.catch_up();
    if (!t.ok()) fail(t.status());
    print(summary(*t));
    return 0;
  }
  g_stop = false;
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  pg::ExportTotals all;
  auto keep_going = [] { return !g_stop.load(); };
  std::chrono::milliseconds backoff(500);
  while (!g_stop) {
    auto t = ex.catch_up(keep_going);
    if (!t.ok()) {
      // A bad schema or DSN does not heal: stop. A lost server may come back.
      if (t.status().code() == Code::invalid) fail(t.status());
      print_error(t.status().message() + "（" + std::to_string(backoff.count()) + " 毫秒后重试）");
      for (int i = 0; i < backoff.count() / 50 && !g_stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      continue;
    }
    backoff = std::chrono::milliseconds(500);
    all.events += t->events;
    all.cases += t->cases;
    all.batches += t->batches;
    all.lsn = t->lsn;
    if (t->events == 0) {
      for (int i = 0; i < 10 && !g_stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  print(summary(all));
  return 0;
}

}  // namespace

void add_export_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<ExportArgs>();
  auto* c_export = app.add_subcommand("export", "export to an analytical database (数据导出)");
  c_export->require_subcommand(1);
  auto* c_pg = c_export->add_subcommand(
      "postgres", "export every event and case to PostgreSQL, exactly once (docs/ANALYTICS.md)");
  shared.add_data(c_pg);
  c_pg->add_option("--dsn", args->dsn,
                   "libpq connection string or URI (default: the config's [export] "
                   "postgres_dsn; prefer ~/.pgpass for the password)");
  c_pg->add_flag("--id-numbers", args->id_numbers,
                 "export applicants' ID numbers and phones unmasked");
  c_pg->add_option("--batch", args->batch, "log entries per transaction (default 20000)");
  c_pg->add_flag("--follow", args->follow, "keep exporting new events until stopped");
  std::string& data = shared.data;
  const std::string* config = shared.config;
  out.push_back({.app = c_pg, .run = [args, &data, config] {
                   return cmd_export_postgres(data, config, *args);
                 }});
}

}  // namespace liandong::node
