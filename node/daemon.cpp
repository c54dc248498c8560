#include "node/daemon.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "node/audit_log.h"
#include "node/bundle.h"
#include "node/control_server.h"
#include "node/daemon_context.h"
#include "node/daemon_start.h"
#include "node/desk/loop_jobs.h"
#include "node/desk/server.h"
#include "node/enroll.h"
#include "node/export/pg_export.h"
#include "node/fd_limits.h"
#include "node/identity.h"
#include "node/key_directory.h"
#include "node/links.h"
#include "node/metrics_server.h"
#include "node/net_watch.h"
#include "node/receipt_keeper.h"
#include "node/render.h"
#include "node/status_report.h"
#include "node/store_watch.h"
#include "node/sync/abuse.h"
#include "node/sync/clock.h"
#include "node/zap_handler.h"
#include "node/zmq_transport.h"
#include "protocol/hlc.h"
#include "protocol/verify_pool.h"
#include "storage/store.h"

namespace liandong::node {

namespace {

using std::chrono::milliseconds;

// Refusal to start: one line on stderr, exit code 2.
struct StartupError {
  std::string message;
};

// Each loop turn takes a few messages from each socket in turn, so a busy
// side (thirty villages catching up) cannot starve another (the county's
// acks that reopen our window to it) or the control socket.
constexpr int kMessagesPerTurn = 8;

// The node at run time: the wiring of its parts and the poll loop. The
// sync links (node/links.h) carry the protocol; this class owns the
// sockets' context, the control socket, the ZAP handler, the desk and the
// signals.
class Daemon {
 public:
  Daemon(const config::NodeConfig& cfg, std::filesystem::path config_file, std::string log_override,
         std::unique_ptr<storage::Store> store, Identity id, ControlHandler control)
      : cfg_(cfg),
        config_file_(std::move(config_file)),
        log_override_(std::move(log_override)),
        store_(std::move(store)),
        id_(std::move(id)),
        control_handler_(std::move(control)) {}

  void start(int signal_fd);
  int loop();
  // The desk (node/desk/): serves on threads of its own; its writes come
  // to this loop through the jobs' descriptor. Stopped when the loop ends.
  Status start_desk();
  // The metrics endpoint ([metrics] listen), after the desk (it counts the
  // desk's requests). Stopped when the loop ends.
  Status start_metrics();

 private:
  // Runs the commands waiting on the control socket; new local events go
  // out after each.
  void drain_control();
  void drain_desk();
  // One turn of the loop's sockets after a poll.
  void dispatch(const std::vector<zmq::pollitem_t>& items, const std::vector<std::size_t>& ups);
  void tick();
  // Links and transfers for the metrics endpoint, while someone scrapes.
  void publish_metrics();
  void stop_desk();
  // SIGHUP (`systemctl reload liandong`): the config file read again;
  // children, upstreams, [sync] timings and the log level take effect, a
  // bad file is refused with its line and the running config kept.
  void reload();
  // The children the ZAP handler and the links admit: the config's and
  // the enrolled ones (node/enroll.h).
  void apply_children();
  uint16_t sync_port();
  // `liandong sync now`: every upstream that is not up is dialled, refused
  // ones included, and every peer is sent what it lacks.
  void sync_now();
  StatusReport status();

  // The running config: reload() changes it in place, and the parts
  // below hold references to it.
  config::NodeConfig cfg_;
  std::filesystem::path config_file_;
  std::string log_override_;
  std::unique_ptr<storage::Store> store_;
  Identity id_;
  sync::SystemClock clock_;
  // Signature checks of received batches use every core: they, not LMDB,
  // bound how fast a node catches up.
  VerifyPool verify_pool_{0};
  zmq::context_t ctx_{1};
  ControlServer control_;
  ControlHandler control_handler_;
  desk::LoopJobs desk_jobs_;
  std::unique_ptr<desk::DeskServer> desk_;
  std::unique_ptr<MetricsServer> metrics_;
  int signal_fd_ = -1;
  bool stop_ = false;
  uint64_t started_wall_ms_ = wall_clock_ms();
  // Every log line a peer can trigger goes through here (10 a kind per
  // 10 s, then a count of those left out).
  LogLimiter peer_log_;
  sync::TimePoint guard_swept_{};
  // Link, address and route changes: a returning network is used at once.
  NetWatch net_watch_;
  sync::TimePoint net_changed_{};
  // The audit log (审计日志): links admitted and refused, events refused,
  // keys learned; repeats aggregated per minute.
  AuditLog audit_{*store_, id_.sign};
  // ZAP handler for the children's CurveZMQ handshakes; polled like the
  // other sockets.
  ZapHandler zap_{peer_log_, audit_};
  KeyDirectory keys_{*store_, id_.sign, cfg_.code, cfg_.upstreams.empty(), peer_log_, audit_};
  ReceiptKeeper receipts_{*store_, id_.sign, cfg_.code};
  StoreWatch store_watch_{*store_};
  ZmqTransport transport_{ctx_, cfg_, id_, peer_log_};
  Links links_{Links::Deps{cfg_, *store_, transport_, audit_, peer_log_, keys_, receipts_,
                           store_watch_, verify_pool_, clock_}};
  Enrollment enroll_{Enrollment::Deps{cfg_, *store_, id_, audit_, peer_log_,
                                      [this] { apply_children(); },
                                      [this] { return sync_port(); }}};
};

uint16_t Daemon::sync_port() {
  zmq::socket_t* s = transport_.listen_socket();
  if (s == nullptr) return 0;
  const std::string ep = s->get(zmq::sockopt::last_endpoint);
  const auto colon = ep.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint16_t>(std::strtoul(ep.c_str() + colon + 1, nullptr, 10));
}

void Daemon::apply_children() {
  auto enrolled = enrolled_children(*store_);
  if (!enrolled.ok()) {
    spdlog::error("cannot read the enrolled children: {}", enrolled.status().message());
    return;
  }
  const auto all = admitted_children(cfg_, *enrolled);
  if (auto s = zap_.set_children(all); !s) {
    spdlog::error("children not changed: {}", s.message());
    return;
  }
  links_.set_admitted(all);
}

void Daemon::reload() {
  auto loaded = config::load_config(config_file_);
  if (auto* err = std::get_if<config::ConfigError>(&loaded)) {
    spdlog::error("reload refused, the running config is kept: {}", err->message);
    audit_.record(audit_note(proto::AuditWhat::ADMIN_COMMAND, "", "SIGHUP", "reload",
                             "配置文件有误，未重新加载：" + err->message));
    return;
  }
  const config::NodeConfig& next = std::get<config::NodeConfig>(loaded);
  if (next.code != cfg_.code || next.data != cfg_.data) {
    spdlog::error(
        "reload refused, the running config is kept: {} is the config of {} at {}, this node is {} "
        "at {}",
        config_file_.string(), next.code, next.data.string(), cfg_.code, cfg_.data.string());
    return;
  }
  std::vector<std::string> at_restart;
  if (next.listen_endpoint != cfg_.listen_endpoint) at_restart.push_back("[listen]");
  if (next.control_endpoint != cfg_.control_endpoint) at_restart.push_back("[control]");
  if (next.desk != cfg_.desk) at_restart.push_back("[desk]");
  if (next.attachments != cfg_.attachments) at_restart.push_back("[attachments]");
  if (next.enroll != cfg_.enroll) at_restart.push_back("[enroll]");
  if (next.metrics != cfg_.metrics) at_restart.push_back("[metrics]");
  if (next.sync.max_message_bytes != cfg_.sync.max_message_bytes ||
      next.sync.window_bytes != cfg_.sync.window_bytes)
    at_restart.push_back("sync.max_message_bytes, sync.window_bytes");
  if (!cfg_.listen_endpoint && !next.children.empty())
    at_restart.push_back("[[child]] (no [listen] yet)");
  std::vector<std::string> changed;
  if (next.log_level != cfg_.log_level) {
    cfg_.log_level = next.log_level;
    if (log_override_.empty()) spdlog::set_level(spdlog::level::from_str(next.log_level));
    changed.push_back("log_level");
  }
  config::SyncSettings sync = next.sync;
  sync.max_message_bytes = cfg_.sync.max_message_bytes;
  sync.window_bytes = cfg_.sync.window_bytes;
  if (sync != cfg_.sync) {
    cfg_.sync = sync;
    links_.retune();
    changed.push_back("[sync]");
  }
  const bool ups_changed = next.upstreams != cfg_.upstreams;
  const bool children_changed = next.children != cfg_.children && cfg_.listen_endpoint;
  if (ups_changed) cfg_.upstreams = next.upstreams;
  if (children_changed) cfg_.children = next.children;
  if (ups_changed || children_changed) {
    if (auto s = trust_config_keys(cfg_, *store_, audit_); !s)
      spdlog::error("reload: keys of the config not stored: {}", s.message());
  }
  if (ups_changed) {
    if (auto s = links_.reset_upstreams(); !s) spdlog::error("reload: upstreams: {}", s.message());
    changed.push_back("[[upstream]]");
  }
  if (children_changed) {
    apply_children();
    changed.push_back("[[child]]");
  }
  std::string summary = changed.empty() ? std::string("nothing changed") : "changed:";
  for (const auto& c : changed)
    summary += " " + c;
  std::string later;
  for (const auto& c : at_restart)
    later += (later.empty() ? "" : ", ") + c;
  spdlog::info("config reloaded from {}: {}; {} upstream(s), {} child(ren) in the file",
               config_file_.string(), summary, cfg_.upstreams.size(), cfg_.children.size());
  if (!later.empty())
    spdlog::warn("config reload: {} changed in the file but take effect at the next restart",
                 later);
  audit_.record(audit_note(
      proto::AuditWhat::ADMIN_COMMAND, "", "SIGHUP", "reload",
      "重新加载配置：" + summary + (later.empty() ? std::string() : "；重启后生效：" + later)));
}

void Daemon::drain_control() {
  DaemonContext ctx;
  ctx.store = store_.get();
  ctx.identity = &id_;
  ctx.data = cfg_.data;
  ctx.status = [this] { return status(); };
  ctx.sync_now = [this] { sync_now(); };
  ctx.cfg = &cfg_;
  ctx.enroll = &enroll_;
  control_.drain(control_handler_, ctx, [this] { links_.pump_all(); });
}

Status Daemon::start_desk() {
  if (!cfg_.desk.enabled) return Status::ok();
  desk::DeskOptions o{cfg_.desk, cfg_.data, cfg_.code, cfg_.attachments};
  // 数据包 from the desk to a USB drive (node/bundle.h), on the desk's own
  // threads: it only reads the store. The config and keys as they are now
  // (a reload's [[upstream]] change reaches the desk at the next restart).
  for (const auto& u : cfg_.upstreams)
    o.upstreams.push_back(u.code);
  o.export_bundle = [cfg = cfg_, id = id_, store = store_.get()](
                        const std::string& for_code, const std::filesystem::path& file,
                        uint64_t max_bytes) -> Result<desk::DeskBundle> {
    auto enrolled = enrolled_children(*store);
    if (!enrolled.ok()) return enrolled.status();
    BundleNode node{cfg, *store, id, admitted_children(cfg, *enrolled), wall_clock_ms()};
    auto rep = export_bundle(node, BundleExport{for_code, file, max_bytes, 0});
    if (!rep.ok()) return rep.status();
    return desk::DeskBundle{file.string(), rep->bytes, rep->counts.events, rep->files,
                            rep->complete};
  };
  auto server = desk::DeskServer::start(o, *store_, desk_jobs_);
  if (!server.ok()) return server.status();
  desk_ = std::move(server).value();
  return Status::ok();
}

Status Daemon::start_metrics() {
  if (!cfg_.metrics.enabled) return Status::ok();
  MetricsServer::Options o{cfg_.metrics, cfg_.data, cfg_.code, started_wall_ms_,
                           storage::StoreOptions{}.max_map_bytes};
  auto server = MetricsServer::start(o, *store_, desk_ ? &desk_->requests() : nullptr);
  if (!server.ok()) return server.status();
  metrics_ = std::move(server).value();
  return Status::ok();
}

void Daemon::publish_metrics() {
  const auto t0 = std::chrono::steady_clock::now();
  LoopFigures f;
  f.at_ms = clock_.wall_ms();
  f.links = links_.reports();
  f.store_full_since_ms = store_watch_.full() ? store_watch_.full_since_wall_ms() : uint64_t{0};
  const auto& t = links_.transfers();
  f.attachments = {
      t.wanted(),          t.stats().chunks_in, t.stats().chunks_out,     t.stats().bytes_in,
      t.stats().bytes_out, t.stats().refused,   t.stats().files_completed};
  f.took_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics_->publish(std::move(f));
}

void Daemon::drain_desk() {
  const app::Context ctx{*store_, id_.sign};
  desk::LoopServices services{ctx, [this] { return status(); }};
  if (desk_jobs_.drain(services) > 0) links_.pump_all();  // new local events go out at once
}

void Daemon::sync_now() {
  spdlog::info(
      "sync now: redialing every upstream that is not up and pumping "
      "every peer");
  links_.redial_now(true);
  links_.pump_all();
}

StatusReport Daemon::status() {
  // A refused local write marks the store too.
  store_watch_.note(Status::ok(), "local writes", clock_.now());
  NodeFacts node{
      .code = cfg_.code,
      .store_id = store_->store_id(),
      .pid = static_cast<int64_t>(::getpid()),
      .started_ms = started_wall_ms_,
      .store_full_since_ms = store_watch_.full() ? store_watch_.full_since_wall_ms() : uint64_t{0},
      .stats = {}};
  if (auto st = store_->stats(); st.ok()) node.stats = *st;
  StatusReport r = status_report(node, links_.reports());
  const auto& t = links_.transfers();
  r.attachments = {
      t.wanted(),          t.stats().chunks_in, t.stats().chunks_out,     t.stats().bytes_in,
      t.stats().bytes_out, t.stats().refused,   t.stats().files_completed};
  return r;
}

void Daemon::start(int signal_fd) {
  signal_fd_ = signal_fd;
  // Keys named in the config are the administrator's word.
  if (auto s = trust_config_keys(cfg_, *store_, audit_); !s) throw StartupError{s.message()};
  if (auto st = store_->stats(); !st.ok())
    throw StartupError{"cannot read the store: " + st.status().message()};
  if (auto s = control_.open(ctx_, cfg_.control_endpoint); !s) throw StartupError{s.message()};
  auto enrolled = enrolled_children(*store_);
  if (!enrolled.ok())
    throw StartupError{"cannot read the enrolled children: " + enrolled.status().message()};
  const auto children = admitted_children(cfg_, *enrolled);
  if (cfg_.listen_endpoint) {
    if (auto s = zap_.open(ctx_, children); !s) throw StartupError{s.message()};
  }
  links_.set_admitted(children);
  if (auto s = transport_.open(); !s) throw StartupError{s.message()};
  if (auto s = enroll_.open(ctx_); !s) throw StartupError{s.message()};
  // A node with no peers has no one to learn its sequence numbers from.
  if (cfg_.upstreams.empty() && cfg_.children.empty()) audit_.set_ready();
}

void Daemon::tick() {
  const auto now = clock_.now();
  audit_.flush(now);
  peer_log_.flush(now);
  if (ListenGuard* guard = transport_.guard(); guard && now - guard_swept_ >= milliseconds(5000)) {
    guard_swept_ = now;
    guard->sweep();
  }
  links_.tick();
  store_watch_.settle(now);
  if (metrics_ && metrics_->wanted()) publish_metrics();
}

void Daemon::dispatch(const std::vector<zmq::pollitem_t>& items,
                      const std::vector<std::size_t>& ups) {
  auto readable = [&](std::size_t at) { return (items[at].revents & ZMQ_POLLIN) != 0; };
  if (readable(1)) drain_control();
  std::size_t next = 2;
  if (transport_.listen_socket()) {
    if (readable(next))
      transport_.drain_children(
          kMessagesPerTurn,
          [this](const std::string& rid, const std::string& user, const std::string& bytes) {
            links_.on_child_message(rid, user, bytes);
          });
    ++next;
  }
  if (zap_.socket()) {
    if (readable(next)) zap_.drain(kMessagesPerTurn);
    ++next;
  }
  if (transport_.guard()) {
    if (readable(next)) transport_.guard()->drain();
    ++next;
  }
  if (net_watch_.fd() >= 0) {
    if (readable(next) && net_watch_.drain() && !cfg_.upstreams.empty()) {
      // At most once a second: an interface that flaps costs few dials.
      const auto now = clock_.now();
      if (now - net_changed_ >= milliseconds(1000)) {
        net_changed_ = now;
        spdlog::info(
            "network changed (link, address or route up): redialing "
            "upstreams now");
        links_.redial_now(false);
      }
    }
    ++next;
  }
  if (desk_) {
    if (readable(next)) drain_desk();
    ++next;
  }
  if (enroll_.socket()) {
    if (readable(next)) enroll_.drain(kMessagesPerTurn);
    ++next;
  }
  for (std::size_t i : ups) {
    if (readable(next))
      transport_.drain_up(i, kMessagesPerTurn, [this, i](const std::string& bytes) {
        links_.on_upstream_message(i, bytes);
      });
    ++next;
  }
}

int Daemon::loop() {
  spdlog::info("node {} ({}) running: log at {}, {} upstream(s), {} child(ren)", cfg_.code,
               level_name(cfg_.code), links_.log_end(), cfg_.upstreams.size(),
               cfg_.children.size());
  while (!stop_) {
    std::vector<zmq::pollitem_t> items;
    items.push_back({nullptr, signal_fd_, ZMQ_POLLIN, 0});
    items.push_back({control_.socket().handle(), 0, ZMQ_POLLIN, 0});
    if (auto* s = transport_.listen_socket()) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
    if (zap_.socket()) items.push_back({zap_.socket()->handle(), 0, ZMQ_POLLIN, 0});
    if (auto* g = transport_.guard()) items.push_back({g->events().handle(), 0, ZMQ_POLLIN, 0});
    if (net_watch_.fd() >= 0) items.push_back({nullptr, net_watch_.fd(), ZMQ_POLLIN, 0});
    if (desk_) items.push_back({nullptr, desk_jobs_.fd(), ZMQ_POLLIN, 0});
    if (auto* e = enroll_.socket()) items.push_back({e->handle(), 0, ZMQ_POLLIN, 0});
    std::vector<std::size_t> ups;
    for (std::size_t i = 0; i < cfg_.upstreams.size(); ++i) {
      if (auto* s = transport_.up_socket(i)) {
        items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
        ups.push_back(i);
      }
    }
    zmq::poll(items.data(), items.size(), milliseconds(20));
    if (items[0].revents & ZMQ_POLLIN) {
      signalfd_siginfo info;
      const bool got = ::read(signal_fd_, &info, sizeof info) == sizeof info;
      if (got && info.ssi_signo == SIGHUP) {
        spdlog::info("SIGHUP: reading the config again");
        reload();
      } else if (got) {
        spdlog::info("signal {}: stopping", info.ssi_signo);
        // Commands already asked for are answered, not dropped.
        drain_control();
        stop_ = true;
        break;
      }
    }
    dispatch(items, ups);
    tick();
  }
  stop_desk();
  if (metrics_) metrics_->stop();
  // Clean stop: every transaction is committed by now (writes are
  // synchronous); say goodbye so peers need not wait for a timeout.
  links_.stop();
  audit_.flush(clock_.now(), /*all=*/true);
  transport_.close_all();
  enroll_.close();
  zap_.close();
  control_.close();
  spdlog::info("stopped");
  return 0;
}

// The desk first: requests in hand finish (their writes run here), then no
// job runs any more.
void Daemon::stop_desk() {
  if (!desk_) return;
  std::atomic<bool> stopped{false};
  std::thread stopper([this, &stopped] {
    desk_->stop();
    stopped = true;
  });
  for (int i = 0; i < 1500 && !stopped; ++i) {
    drain_desk();
    std::this_thread::sleep_for(milliseconds(10));
  }
  desk_jobs_.close();  // a request still waiting is told the node stops
  stopper.join();
}

// The PostgreSQL export of `liandong run` (node/export/pg_export.h), or
// none without [export] postgres_dsn. A DSN libpq cannot parse refuses the
// start; a server that is down is retried by the thread.
std::unique_ptr<pg::ExportThread> start_export(const config::NodeConfig& cfg,
                                               const storage::Store& store) {
  if (cfg.export_pg.postgres_dsn.empty()) return nullptr;
  if (auto s = pg::check_dsn(cfg.export_pg.postgres_dsn); !s.is_ok())
    throw StartupError{"[export] postgres_dsn: " + s.message()};
  pg::ExportOptions o;
  o.dsn = cfg.export_pg.postgres_dsn;
  o.id_numbers = cfg.export_pg.id_numbers;
  auto t = std::make_unique<pg::ExportThread>(store, std::move(o));
  t->start();
  spdlog::info("postgres export started (ID numbers {})",
               cfg.export_pg.id_numbers ? "exported" : "masked");
  return t;
}

}  // namespace

int run_daemon(const config::NodeConfig& cfg, const std::filesystem::path& config_file,
               const std::string& log_level_override, ControlHandler control) {
  // Signals arrive on a descriptor polled by the loop; every thread started
  // from here on (ZeroMQ's I/O threads) inherits the mask.
  const int sfd = watch_stop_signals();
  set_up_logging(cfg, log_level_override);
  // Whatever the daemon creates (the control socket among them) is its own
  // user's only.
  ::umask(077);
  raise_fd_limit();
  try {
    if (sfd < 0) throw StartupError{"cannot watch signals"};
    auto node = open_node(cfg);
    if (!node.ok()) throw StartupError{node.status().message()};
    const storage::Store& store = *node->store;
    Daemon d(cfg, config_file, log_level_override, std::move(node->store), std::move(node->id),
             std::move(control));
    d.start(sfd);
    if (auto s = d.start_desk(); !s) throw StartupError{s.message()};
    if (auto s = d.start_metrics(); !s) throw StartupError{s.message()};
    // [export] postgres_dsn: the export to PostgreSQL on its own thread,
    // stopped before the daemon (and its store) goes.
    auto exporter = start_export(cfg, store);
    const int rc = d.loop();
    exporter.reset();
    ::close(sfd);
    return rc;
  } catch (const StartupError& e) {
    std::fprintf(stderr, "错误：%s\n", e.message.c_str());
    return 2;
  }
}

}  // namespace liandong::node
