// The `liandong` commands of the sync module (see node/commands.h):
//   sync now [--wait SECONDS]    立即同步: redial every upstream at once and
//                                send every peer what it lacks, then say how
//                                the links stand
//
// `sync now` needs the running daemon (联网服务): the CLI asks it over the
// control socket, then asks again a few times a second (without redialing)
// until every upstream is up or --wait runs out, and prints the outcome in
// one line. Inside the daemon the command only acts and reports the links in
// a line format of its own (`upstream CODE STATE`, `children UP ALL`).
#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include "node/cli.h"
#include "node/commands.h"
#include "node/control.h"

namespace liandong::node {

namespace {

struct SyncNowArgs {
  int wait_s = 5;
  bool no_request = false;  // inside the daemon: report only
};

struct LinkLine {
  std::string code, state;
};
struct SyncView {
  std::vector<LinkLine> upstreams;
  int children_up = 0, children = 0;
  bool all_up() const {
    for (const auto& u : upstreams)
      if (u.state != "up") return false;
    return true;
  }
};

// The daemon's side: act (unless only asked for the state), then report.
int in_daemon_sync_now(const SyncNowArgs& a) {
  const DaemonContext* ctx = daemon_context();
  if (ctx == nullptr || !ctx->status) fail(Status::internal("no daemon context"));
  if (!a.no_request && ctx->sync_now) ctx->sync_now();
  const StatusReport r = ctx->status();
  std::ostringstream o;
  int up = 0, all = 0;
  for (const auto& l : r.links) {
    if (l.up_link) {
      o << "upstream " << l.peer << " " << l.state << "\n";
    } else {
      ++all;
      if (l.state == "up") ++up;
    }
  }
  o << "children " << up << " " << all << "\n";
  print(o.str());
  return 0;
}

SyncView parse_view(const std::string& text) {
  SyncView v;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if (word == "upstream") {
      LinkLine l;
      in >> l.code >> l.state;
      v.upstreams.push_back(l);
    } else if (word == "children") {
      in >> v.children_up >> v.children;
    }
  }
  return v;
}

const char* state_zh(const std::string& state) {
  if (state == "up") return "已连接";
  if (state == "connecting") return "正在连接";
  return "未连通，稍后自动重试";
}

std::string render_view(const SyncView& v) {
  std::string s = "已请求立即同步：";
  if (v.upstreams.empty()) {
    s += "本机没有上级";
  } else {
    for (std::size_t i = 0; i < v.upstreams.size(); ++i) {
      if (i > 0) s += "，";
      s += "上级 " + v.upstreams[i].code + " " + state_zh(v.upstreams[i].state);
    }
  }
  if (v.children > 0)
    s += "；下级在线 " + std::to_string(v.children_up) + "/" + std::to_string(v.children) + " 个";
  return s + "\n";
}

// The CLI's side: ask the daemon, wait for the upstreams, say the outcome.
int cmd_sync_now(const std::string& data, const SyncNowArgs& a) {
  if (data.empty())
    fail(Status::invalid("--data (or $LIANDONG_DATA) names the node's data directory"));
  if (a.wait_s < 0 || a.wait_s > 600) fail(Status::invalid("--wait must be 0..600 seconds"));
  auto d = find_daemon(data);
  if (!d)
    refuse(Status::disconnected("联网服务未启动：" + data +
                                " 上没有运行中的 liandong run，无法立即同步（先启动联网服务："
                                "liandong run --config 配置文件）"));
  const auto alive = [&] {
    auto now = find_daemon(data);
    return now && now->pid == d->pid;
  };
  auto ask = [&](bool request) -> SyncView {
    std::vector<std::string> args = {"sync", "now", "--data", data};
    if (!request) args.push_back("--no-request");
    auto reply =
        call_daemon(d->control_endpoint, ControlRequest{args, {}}, std::chrono::seconds(10), alive);
    if (!reply.ok())
      refuse(Status::disconnected("联网服务未响应（pid " + std::to_string(d->pid) + "）：" +
                                  reply.status().message()));
    if (reply->exit_code != 0) refuse(Status::internal("联网服务未能执行立即同步：" + reply->err));
    return parse_view(reply->out);
  };
  SyncView v = ask(true);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.wait_s);
  // Bounded in time and in count (at most 5 asks a second).
  for (int i = 0; i < a.wait_s * 5 + 1 && !v.all_up(); ++i) {
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    v = ask(false);
  }
  print(render_view(v));
  return v.all_up() ? 0 : 1;
}

}  // namespace

void add_sync_commands(CLI::App& app, CliShared& shared, CommandSet& out) {
  auto args = std::make_shared<SyncNowArgs>();
  auto* c_sync = app.add_subcommand("sync", "the links to parent and children (联网同步)");
  c_sync->require_subcommand(1);
  auto* c_now = c_sync->add_subcommand(
      "now", "立即同步: redial every upstream at once and send every peer what it lacks");
  shared.add_data(c_now);
  c_now->add_option("--wait", args->wait_s,
                    "seconds to wait for the upstreams to come up (default 5)");
  // Used by the CLI when it asks the daemon again: report, do not redial.
  c_now->add_flag("--no-request", args->no_request, "only report the links")->group("");
  out.push_back(CommandSpec{c_now, [args, &shared] {
                              return in_daemon() ? in_daemon_sync_now(*args)
                                                 : cmd_sync_now(shared.data, *args);
                            }});
}

}  // namespace liandong::node
