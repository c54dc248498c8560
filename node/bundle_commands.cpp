// `liandong bundle export|import|show` (node/bundle.h, docs/OPERATIONS.md
// "Bundles"): run in the CLI's own process beside a running daemon (LMDB
// serializes writers; the daemon sees new events within 20 ms and sends
// them on).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>

#include "node/bundle.h"
#include "node/commands.h"
#include "node/enroll.h"
#include "node/json_text.h"
#include "node/time_text.h"
#include "protocol/hlc.h"

namespace liandong::node {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultConfig = "/etc/liandong/liandong.toml";

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// The node's config: --config, else the package's when it names this
// data directory. Bundles need the neighbours' keys it lists.
config::NodeConfig load_node_config(const std::string& given, const std::string& data) {
  std::string path = given;
  if (path.empty()) {
    std::error_code ec;
    if (!fs::exists(kDefaultConfig, ec))
      fail(Status::invalid("请用 --config 指明本节点的配置文件（数据包要用其中上级、下级的密钥）"));
    path = kDefaultConfig;
  }
  auto cfg = config::load_config(path);
  if (auto* err = std::get_if<config::ConfigError>(&cfg)) fail(Status::invalid(err->message));
  auto c = std::get<config::NodeConfig>(std::move(cfg));
  if (!data.empty() && fs::absolute(data) != fs::absolute(c.data))
    fail(Status::invalid("配置文件 " + path + " 的数据目录是 " + c.data.string() + "，不是 " +
                         data));
  return c;
}

struct NodeAt {
  config::NodeConfig cfg;
  Opened opened;
  std::vector<config::Child> children;
};

// What the store's helpers log goes to stderr, warnings only: stdout is
// the command's answer (--json).
void quiet_logs() {
  if (in_daemon()) return;
  auto logger = spdlog::stderr_color_st("bundle");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

NodeAt open_at(const std::string& config_path, const std::string& data) {
  quiet_logs();
  NodeAt n{load_node_config(config_path, data), {}, {}};
  n.opened = open_node(n.cfg.data, n.cfg.attachments.max_store_bytes());
  if (n.opened.store->code() != n.cfg.code)
    fail(
        Status::invalid("数据目录属于 " + n.opened.store->code() + "，配置文件属于 " + n.cfg.code));
  auto enrolled = enrolled_children(*n.opened.store);
  if (!enrolled.ok()) fail(enrolled.status());
  n.children = admitted_children(n.cfg, *enrolled);
  return n;
}

int cmd_bundle_export(const std::string& config_path, const std::string& data,
                      const std::string& for_code, const std::string& to, uint64_t max_mib,
                      const std::string& expires, bool json) {
  const auto life = parse_duration(expires);
  if (!life || life->count() <= 0)
    fail(Status::invalid("--expires '" + expires + "': 应为如 30d、72h 的时长"));
  if (max_mib == 0 || max_mib > 64 * 1024) fail(Status::invalid("--max-mib 应在 1 到 65536 之间"));
  if (!valid_code(for_code)) fail(Status::invalid("--for '" + for_code + "' 不是区划代码"));
  std::error_code ec;
  if (fs::exists(to, ec))
    fail(Status::invalid(to + " 已存在：请换一个文件名（不会覆盖已有的数据包）"));
  NodeAt n = open_at(config_path, data);
  const uint64_t now = wall_clock_ms();
  BundleNode node{n.cfg, *n.opened.store, n.opened.identity, n.children, now};
  BundleExport what{for_code, to, max_mib << 20, now + static_cast<uint64_t>(life->count()) * 1000};
  auto rep = export_bundle(node, what);
  if (!rep.ok()) fail(rep.status());
  const bool up = rep->kind == proto::BundleKind::UP;
  if (json) {
    print(json_text(Json{{"file", to},
                         {"kind", up ? "up" : "down"},
                         {"for", for_code},
                         {"bytes", rep->bytes},
                         {"ranges", rep->counts.ranges},
                         {"events", rep->counts.events},
                         {"chunks", rep->counts.chunks},
                         {"files", rep->files},
                         {"from_lsn", rep->from_lsn},
                         {"to_lsn", rep->to_lsn},
                         {"complete", rep->complete},
                         {"expires_ms", what.expires_ms}}) +
          "\n");
    return 0;
  }
  print(std::string(up ? "已导出数据包，交 " : "已导出回执包，交 ") + for_code + "：" + to + "\n" +
        "  事件 " + std::to_string(rep->counts.events) + " 条，附件 " + std::to_string(rep->files) +
        " 个（" + std::to_string(rep->counts.chunks) + " 块），共 " + mib(rep->bytes) + "；" +
        local_time(what.expires_ms) + " 前有效。\n" +
        (rep->complete
             ? ""
             : "  大小已到上限，还有内容未装下：导入后请再导出一次，或加大 --max-mib。\n") +
        "  数据包已签名并加密，只有 " + for_code + " 能读取；U盘丢失不会泄露内容。\n");
  return 0;
}

int cmd_bundle_import(const std::string& config_path, const std::string& data,
                      const std::string& file, const std::string& receipt, bool json) {
  NodeAt n = open_at(config_path, data);
  std::error_code ec;
  if (!receipt.empty() && fs::exists(receipt, ec))
    fail(Status::invalid(receipt + " 已存在：请换一个回执文件名"));
  const uint64_t now = wall_clock_ms();
  BundleNode node{n.cfg, *n.opened.store, n.opened.identity, n.children, now};
  auto rep = import_bundle(node, file);
  if (!rep.ok()) {
    if (rep.status().code() == Code::invalid) fail(rep.status());
    refuse(rep.status());
  }
  std::optional<BundleExportReport> back;
  if (!receipt.empty()) {
    BundleExport what{rep->header.from, receipt, uint64_t{1} << 30, 0};
    auto r = export_bundle(node, what);
    if (!r.ok()) fail(r.status());
    back = *r;
  }
  const bool up = rep->header.kind == proto::BundleKind::UP;
  if (json) {
    Json j{{"from", rep->header.from},
           {"kind", up ? "up" : "down"},
           {"created_ms", rep->header.created_ms},
           {"events", rep->events},
           {"stored", rep->stored},
           {"duplicates", rep->duplicates},
           {"rejected", rep->rejected},
           {"chunks", rep->chunks},
           {"chunks_stored", rep->chunks_stored},
           {"files_completed", rep->files_completed},
           {"cursor_before", rep->cursor_before},
           {"cursor_after", rep->cursor_after},
           {"custody_acked", rep->custody_acked},
           {"custody_top", rep->custody_top},
           {"refusals", rep->refusals}};
    if (back) {
      j["receipt"] = Json{{"file", receipt},
                          {"bytes", back->bytes},
                          {"events", back->counts.events},
                          {"chunks", back->counts.chunks}};
    }
    print(json_text(j) + "\n");
    return 0;
  }
  std::string out = std::string("已导入 ") + rep->header.from + " 的" + (up ? "数据包" : "回执包") +
                    "（" + local_time(rep->header.created_ms) + " 导出）：\n  事件 " +
                    std::to_string(rep->events) + " 条：新存 " + std::to_string(rep->stored) +
                    "，已有 " + std::to_string(rep->duplicates) + "，拒收 " +
                    std::to_string(rep->rejected) + "；附件块 " + std::to_string(rep->chunks) +
                    " 个，新存 " + std::to_string(rep->chunks_stored) + "，" +
                    std::to_string(rep->files_completed) + " 个文件已完整。\n";
  if (!up)
    out += "  本机事件已达上级至第 " + std::to_string(rep->custody_acked) + " 条、已达县至第 " +
           std::to_string(rep->custody_top) + " 条" +
           (rep->refusals > 0 ? "；拒收通知 " + std::to_string(rep->refusals) + " 条" : "") +
           "。\n";
  if (rep->rejected > 0) out += "  拒收的事件会随回执包告知 " + rep->header.from + "。\n";
  if (back)
    out += "回执包已写入 " + receipt + "（" + mib(back->bytes) + "，事件 " +
           std::to_string(back->counts.events) + " 条），请带回 " + rep->header.from + " 导入。\n";
  print(out);
  return 0;
}

int cmd_bundle_show(const std::string& file, bool json) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(Status::invalid("无法打开 " + file));
  auto h = BundleReader::peek(in);
  if (!h.ok()) fail(h.status());
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  const BundleHeader& b = h->header;
  const bool up = b.kind == proto::BundleKind::UP;
  if (json) {
    print(json_text(Json{{"kind", up ? "up" : "down"},
                         {"from", b.from},
                         {"to", b.to},
                         {"created_ms", b.created_ms},
                         {"expires_ms", b.expires_ms},
                         {"bytes", ec ? 0 : size}}) +
          "\n");
    return 0;
  }
  print(std::string(up ? "数据包" : "回执包") + "：由 " + b.from + " 交 " + b.to + "，" +
        local_time(b.created_ms) + " 导出，" + local_time(b.expires_ms) + " 前有效，" +
        mib(ec ? 0 : size) + "。\n内容已加密，只有 " + b.to + " 能导入。\n");
  return 0;
}

}  // namespace

void add_bundle_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto* bundle = app.add_subcommand(
      "bundle", "data bundles on a USB stick for a link that is down for days (数据包)");
  bundle->require_subcommand(1);
  std::string& data = shared.data;
  bool& json = shared.json;
  const std::string* config = shared.config;

  struct ExportArgs {
    std::string for_code, to, expires = "30d";
    uint64_t max_mib = 1024;
  };
  auto ea = std::make_shared<ExportArgs>();
  auto* c_export = bundle->add_subcommand(
      "export", "write what the parent (or child) lacks to a file, signed and encrypted for it");
  shared.add_data(c_export);
  c_export->add_option("--for", ea->for_code, "the receiver: this node's upstream or a child")
      ->required();
  c_export->add_option("--to", ea->to, "the bundle file to write, e.g. /media/usb/….ldb")
      ->required();
  c_export->add_option("--max-mib", ea->max_mib, "size limit in MiB (default 1024)");
  c_export->add_option("--expires", ea->expires, "valid for (default 30d)");
  c_export->add_flag("--json", shared.json, "print JSON");
  out.push_back({.app = c_export, .run = [ea, &data, &json, config] {
                   return cmd_bundle_export(*config, data, ea->for_code, ea->to, ea->max_mib,
                                            ea->expires, json);
                 }});

  struct ImportArgs {
    std::string file, receipt;
  };
  auto ia = std::make_shared<ImportArgs>();
  auto* c_import = bundle->add_subcommand(
      "import", "store a bundle from a neighbour; --receipt writes the answer to carry back");
  shared.add_data(c_import);
  c_import->add_option("file", ia->file, "the bundle file")->required();
  c_import->add_option("--receipt", ia->receipt,
                       "write the receipt bundle for the sender to this file");
  c_import->add_flag("--json", shared.json, "print JSON");
  out.push_back({.app = c_import, .run = [ia, &data, &json, config] {
                   return cmd_bundle_import(*config, data, ia->file, ia->receipt, json);
                 }});

  auto sa = std::make_shared<std::string>();
  auto* c_show = bundle->add_subcommand("show", "who a bundle is from and for (no key needed)");
  c_show->add_option("file", *sa, "the bundle file")->required();
  c_show->add_flag("--json", shared.json, "print JSON");
  out.push_back({.app = c_show, .run = [sa, &json] { return cmd_bundle_show(*sa, json); }});
}

}  // namespace liandong::node
