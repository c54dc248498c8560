// `liandong backup` and `liandong restore` (node/backup.h): parse, run,
// print. Both run in the CLI's own process (node/command_table.h: local).
//
//   liandong backup DEST [--config FILE | --data DIR] [--keys --passphrase-file FILE] [--json]
//   liandong restore SRC [--config FILE | --data DIR] [--passphrase-file FILE] [--replace]
#include <fmt/format.h>

#include <memory>

#include "config/node_config.h"
#include "node/backup.h"
#include "node/commands.h"
#include "node/control.h"
#include "node/json_text.h"
#include "node/sealed_keys.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// A passphrase for --keys must not be trivially short.
constexpr std::size_t kMinPassphraseChars = 8;

struct Where {
  std::string config_file;
  fs::path data;
  std::string code;  // from the config; empty without one
};

// The node's data directory (and code) from --config or --data.
Where where(const CLI::App* c, const std::string& config_file, const std::string& data) {
  Where w;
  if (!config_file.empty()) {
    if (c->count("--data") > 0)
      fail(Status::invalid("--config 与 --data 只能给一个 (give --config or --data, not both)"));
    auto cfg = config::load_config(config_file);
    if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
    const auto& nc = std::get<config::NodeConfig>(cfg);
    w.data = nc.data;
    w.code = nc.code;
    return w;
  }
  if (data.empty())
    fail(Status::invalid("没有指定节点：请给 --config FILE 或 --data DIR (no data directory)"));
  w.data = data;
  return w;
}

// DEST or SRC as an absolute path without a trailing slash.
fs::path folder(const std::string& given) {
  fs::path p = fs::absolute(fs::path(given)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p;
}

std::string mib(uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

struct BackupArgs {
  std::string dest, config_file, passphrase_file;
  bool keys = false;
};

int cmd_backup(const CLI::App* c, const BackupArgs& a, const std::string& data, bool json) {
  const Where w = where(c, a.config_file, data);
  if (a.keys && a.passphrase_file.empty())
    fail(Status::invalid("--keys 需要同时给 --passphrase-file FILE（用于加密密钥的口令）"));
  if (!a.keys && !a.passphrase_file.empty())
    fail(Status::invalid("--passphrase-file 只在加 --keys 备份密钥时使用"));
  BackupRequest r;
  r.data = w.data;
  r.dest = folder(a.dest);
  r.now_ms = wall_clock_ms();
  if (a.keys) {
    auto p = read_passphrase_file(a.passphrase_file, kMinPassphraseChars);
    if (!p.ok()) fail(p.status());
    r.passphrase = std::move(p).value();
  }
  auto done = make_backup(r);
  if (!done.ok()) fail(done.status());
  const Manifest& m = done->manifest;
  if (json) {
    print(json_text(Json{{"dest", done->dest.string()},
                         {"code", m.code},
                         {"store_id", m.store_id},
                         {"created", m.created},
                         {"log_end", m.log_end},
                         {"events", m.events},
                         {"cases", m.cases},
                         {"store_bytes", m.store.bytes},
                         {"bytes", done->total_bytes},
                         {"took_ms", done->took_ms},
                         {"keys", m.keys}}) +
          "\n");
    return 0;
  }
  print(
      fmt::format("已备份节点 {}（{}）到 {}：事件 {} 条，办件 {} 件，共 {}，用时 {:.1f} 秒；{}。\n",
                  m.code, level_name_zh(m.code), done->dest.string(), m.events, m.cases,
                  mib(done->total_bytes), static_cast<double>(done->took_ms) / 1000.0,
                  m.keys ? "含密钥（已用口令加密）" : "不含密钥（恢复时沿用本机现有密钥）"));
  return 0;
}

struct RestoreArgs {
  std::string src, config_file, passphrase_file;
  bool replace = false;
};

int cmd_restore(const CLI::App* c, const RestoreArgs& a, const std::string& data) {
  const Where w = where(c, a.config_file, data);
  if (auto d = find_daemon(w.data))
    refuse(Status::invalid("节点正在运行（pid " + std::to_string(d->pid) +
                           "），请先停止（systemctl stop liandong）再恢复；未作任何改动"));
  RestoreRequest r;
  r.data = w.data;
  r.code = w.code;
  r.src = folder(a.src);
  r.replace = a.replace;
  r.now_ms = wall_clock_ms();
  if (!a.passphrase_file.empty()) {
    auto p = read_passphrase_file(a.passphrase_file, 0);
    if (!p.ok()) fail(p.status());
    r.passphrase = std::move(p).value();
  }
  auto done = restore_backup(r);
  if (!done.ok()) fail(done.status());
  const Manifest& m = done->manifest;
  std::string out =
      fmt::format("已从 {} 恢复节点 {}（{}）的存储：备份时间 {}，事件 {} 条，办件 {} 件。\n",
                  r.src.string(), m.code, level_name_zh(m.code), m.created, m.events, m.cases);
  if (!done->store_kept.empty()) out += "原存储已改名保留：" + done->store_kept.string() + "\n";
  out += done->keys_restored ? "密钥：已恢复备份中的密钥" : "密钥：沿用本机现有密钥";
  out += done->keys_kept.empty() ? "\n" : "（原密钥目录保留为 " + done->keys_kept.string() + "）\n";
  out += "启动节点后，上下级节点会补发备份之后的事件。\n";
  print(out);
  return 0;
}

}  // namespace

void add_backup_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  std::string& data = shared.data;
  bool& json = shared.json;
  // --config comes with --data (CliShared::config).
  const std::string* config = shared.config;

  auto b = std::make_shared<BackupArgs>();
  auto* c_backup = app.add_subcommand(
      "backup", "copy the store (compacted, while the node runs) into a new folder");
  c_backup->add_option("DEST", b->dest, "a new or empty folder")->required();
  shared.add_data(c_backup);
  c_backup->add_flag("--keys", b->keys, "also the node's keys, sealed with a passphrase");
  c_backup->add_option("--passphrase-file", b->passphrase_file,
                       "with --keys: a file whose first line is the passphrase");
  c_backup->add_flag("--json", json, "print JSON");
  out.push_back({.app = c_backup, .run = [c_backup, b, &data, &json, config] {
                   if (config != nullptr) b->config_file = *config;
                   return cmd_backup(c_backup, *b, data, json);
                 }});

  auto rs = std::make_shared<RestoreArgs>();
  auto* c_restore = app.add_subcommand(
      "restore", "put a backup back (the node stopped); neighbours send what it lacks");
  c_restore->add_option("SRC", rs->src, "a folder `liandong backup` made")->required();
  shared.add_data(c_restore);
  c_restore->add_option("--passphrase-file", rs->passphrase_file,
                        "also restore the backup's keys, opened with this passphrase");
  c_restore->add_flag("--replace", rs->replace,
                      "replace the store there is (kept aside as DATA/store.before-restore-TIME)");
  out.push_back({.app = c_restore, .run = [c_restore, rs, &data, config] {
                   if (config != nullptr) rs->config_file = *config;
                   return cmd_restore(c_restore, *rs, data);
                 }});
}

}  // namespace liandong::node
