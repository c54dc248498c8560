#include "node/daemon.h"

#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "node/abuse.h"
#include "node/audit_log.h"
#include "node/control_server.h"
#include "node/credit_window.h"
#include "node/daemon_context.h"
#include "node/daemon_start.h"
#include "node/desk/loop_jobs.h"
#include "node/desk/server.h"
#include "node/fd_limits.h"
#include "node/identity.h"
#include "node/key_directory.h"
#include "node/listen_guard.h"
#include "node/net_watch.h"
#include "node/receipt_keeper.h"
#include "node/redial.h"
#include "node/refusals.h"
#include "node/render.h"
#include "node/status_report.h"
#include "node/store_watch.h"
#include "node/sync_state.h"
#include "node/zap_handler.h"
#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/routing.h"
#include "protocol/sync_codec.h"
#include "protocol/verify_pool.h"
#include "storage/store.h"

namespace liandong::node {

namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::milliseconds;

int64_t ms_between(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<milliseconds>(b - a).count();
}

// Refusal to start: one line on stderr, exit code 2.
struct StartupError {
  std::string message;
};

// Each loop turn takes a few messages from each socket in turn, so a busy
// side (thirty villages catching up) cannot starve another (the county's
// acks that reopen our window to it) or the control socket.
constexpr int kMessagesPerTurn = 8;

// The children's listening socket under a flood of connections (see
// node/listen_guard.h): handshakes end after kHandshakeTimeout; at most
// kMaxPendingPerSource connections from one address may be handshaking at
// once; all connections together stay under max_child_connections()
// (node/fd_limits.h).
constexpr milliseconds kHandshakeTimeout{10'000};
constexpr std::size_t kMaxPendingPerSource = 32;

// A quarantined event is refused too, as seen from its origin: the reason
// in the Ack starts with this.
constexpr std::string_view kQuarantinedPrefix = "quarantined: ";

enum class LinkState { down, connecting, up };

const char* state_name(LinkState s) {
  switch (s) {
    case LinkState::down:
      return "down";
    case LinkState::connecting:
      return "connecting";
    case LinkState::up:
      return "up";
  }
  return "down";
}

// One neighbour, seen from this node: the session state, what we hold of
// its log (rx), and what it holds of ours (the credit window: acked, sent,
// in flight).
struct Peer {
  std::string code;
  bool parent = false;  // the peer is one of our upstreams
  LinkState state = LinkState::down;
  TimePoint since{}, last_heard{}, last_sent{};
  uint64_t since_wall_ms = 0;
  std::string store_id;  // the peer's, from the handshake
  sync::CursorValue rx;  // how far we hold its log (durable copy: rx/<code>)
  CreditWindow credit;   // how far it holds ours, what we sent, what is in flight
  // The peer was restored or replaced: events up to here that originated
  // on its side go to it as well (it may have lost them).
  uint64_t recover_until = 0;
  // We asked it to recover us (our store was restored or replaced): it may
  // send what came from anywhere, as long as it belongs here.
  bool asked_recover = false;
  uint64_t top = 0;       // parent only: our LSN up to which the top holds ours
  uint64_t top_sent = 0;  // child only: the last topLsn we told it
  uint64_t bytes_sent = 0, bytes_received = 0, batches_sent = 0, batches_received = 0,
           events_received = 0, events_rejected = 0, events_quarantined = 0;
  double rtt_ms = -1;
  std::string routing_id;   // child only
  TimePoint relays_sent{};  // child only: refusals last handed down (node/refusals.h)
};

// Connection events of an upstream socket: a refused connect or a dropped
// connection is known at once, not after peer_timeout (with our own redial
// ZeroMQ does not reconnect, and with IMMEDIATE it drops a dead pipe's
// unread messages, a peer's Bye among them).
class LinkMonitor : public zmq::monitor_t {
 public:
  bool connected = false, lost = false;
  std::string handshake_failure;  // why the CurveZMQ handshake failed, if it did
  // The handshake failed on keys (not on a connection that broke during it).
  bool key_problem = false;
  void on_event_handshake_failed_no_detail(const zmq_event_t&, const char*) override {
    handshake_failure = "handshake failed";
  }
  void on_event_handshake_failed_protocol(const zmq_event_t&, const char*) override {
    key_problem = true;
    handshake_failure =
        "handshake failed: the parent's key is not the one configured (curve_key), or it "
        "does not speak CurveZMQ";
  }
  void on_event_handshake_failed_auth(const zmq_event_t&, const char*) override {
    key_problem = true;
    handshake_failure = "the parent refused our key (is this node in its [[child]] list?)";
  }
  void on_event_connected(const zmq_event_t&, const char*) override { connected = true; }
  void on_event_disconnected(const zmq_event_t&, const char*) override { lost = true; }
  void on_event_closed(const zmq_event_t&, const char*) override { lost = true; }
};

struct UpLink {
  std::size_t index = 0;
  config::Upstream cfg;
  std::unique_ptr<zmq::socket_t> sock;
  std::unique_ptr<LinkMonitor> monitor;  // destroyed before `sock`
  uint64_t dials = 0;
  std::string server_key;  // the parent's CurveZMQ public key, 32 raw bytes
  Peer peer;
  bool hello_pending = false;
  int failures = 0;
  // The parent refused us (Refused, or the CurveZMQ handshake failed on
  // keys) since the last Welcome: redial backs off to redial_max instead
  // of kLinkRedialCap (node/redial.h).
  bool refused = false;
  TimePoint next_dial{};
};

class Daemon {
 public:
  Daemon(const config::NodeConfig& cfg, std::unique_ptr<storage::Store> store, Identity id,
         ControlHandler control)
      : cfg_(cfg),
        store_(std::move(store)),
        id_(std::move(id)),
        rng_(std::random_device{}()),
        control_handler_(std::move(control)) {}

  void start(int signal_fd);
  int loop();
  // The desk (node/desk/): serves on threads of its own; its writes come
  // to this loop through the jobs' descriptor. Stopped when the loop ends.
  Status start_desk();

 private:
  // ---- sockets ----
  void open_listen();
  void dial(UpLink& link);
  void close_link(UpLink& link, bool send_bye);
  bool send_to(Peer& p, const std::string& bytes);
  bool send_msg(Peer& p, capnp::MessageBuilder& msg);

  // ---- messages ----
  void drain_listen();
  void drain_upstream(UpLink& link);
  // Runs the commands waiting on the control socket; new local events go
  // out after each.
  void drain_control();
  void on_child_message(const std::string& rid, const std::string& user, const std::string& bytes);
  void on_upstream_message(UpLink& link, const std::string& bytes);
  void on_session_message(Peer& p, proto::SyncMessage::Reader msg);
  void on_hello(const std::string& rid, proto::Hello::Reader hello);
  void on_welcome(UpLink& link, proto::Welcome::Reader w);
  void on_batch(Peer& p, proto::Batch::Reader b);
  void on_ack(Peer& p, proto::Ack::Reader a);
  void on_heartbeat(Peer& p, proto::Heartbeat::Reader h);
  void on_recover(Peer& p);
  void refuse(const std::string& rid, proto::RefusalReason reason, const std::string& text);

  // ---- session helpers ----
  sync::CursorValue load_rx(const std::string& code);
  bool cursor_matches_our_log(const sync::CursorValue& c);
  uint64_t next_seq_of(const std::string& code);
  void begin_sending(Peer& p, uint64_t from, bool we_were_restored);
  void forget_future_marks();
  bool routed(const Peer& p, uint64_t lsn, const sync::RouteInfo& r) const;
  Status authorize(const Peer& p, const EventView& ev) const;
  void send_ack(Peer& p, bool resend, const std::vector<std::pair<Id, std::string>>& rejected);
  uint64_t top_for_child(const Peer& child);
  uint64_t our_top() const;
  void refresh_children_custody();
  void peer_down(Peer& p, const char* why);
  // ---- refusals as custody (node/refusals.h) ----
  // Refusals in an Ack from `p` (our events, or our children's we sent
  // on): kept, and queued for the child they belong to.
  void keep_refusals_from(Peer& p, capnp::List<proto::RejectedEvent>::Reader list);
  // Hands `child` the refusals queued for it (again after ack_timeout).
  void send_relays(Peer& child);
  void on_refusals(Peer& p, capnp::List<proto::RejectedEvent>::Reader list);
  void on_refusals_taken(Peer& p, capnp::List<proto::EventId>::Reader ids);
  // The parent's wall clock from its Welcome: kept for the writer's clock
  // check (protocol/hlc.h ParentClock).
  void note_parent_clock(const std::string& code, uint64_t parent_wall_ms);

  // Records an event refused from `p` in the audit log (aggregated).
  void note_refused_event(const Peer& p, const Id& id, const std::string& reason);

  // ---- sending ----
  void pump(Peer& p);
  void pump_all();
  bool streaming(const Peer& p) const;

  // ---- time ----
  void tick();
  void tick_peer(Peer& p, TimePoint now);
  void tick_upstreams(TimePoint now);
  milliseconds backoff(const UpLink& link);
  // The network came back (NetWatch) or a person asked for a sync now:
  // every upstream that is down, or still waiting for its TCP connection,
  // is dialled at once. `force` (a person asked) includes refused ones.
  void redial_now(bool force);
  // `liandong sync now`: redial_now(true), then pump every peer.
  void sync_now();
  void persist_custody(bool force);

  // ---- abuse ----
  // A peer that keeps misbehaving — sending what cannot be read, claiming
  // another code than its key's, talking outside a session: each offence
  // is charged to the code its CurveZMQ key is bound to (never to a code a
  // message claims) and gets its error reply; AbuseLedger's limit (10
  // within 60 s) drops that key's link for 5 minutes (a child's messages,
  // Hello included, are ignored meanwhile; an upstream is not redialed).
  // The node's other links go on.
  // Counts one offence of `code`; true when that drops the link.
  bool abused(const std::string& code, const std::string& what);
  bool banned(const std::string& code) const;
  // A child's message from a connection that has no session (or an older
  // one than its key's current session): refused and charged at most once
  // a second per key, so a child that missed its own link going down is
  // told once, and a flood is still dropped within seconds.
  void out_of_session(const std::string& rid, const std::string& user);

  // ---- status ----
  StatusReport status();
  LinkReport link_report(const Peer& p, bool active, uint64_t now_ms);

  const config::NodeConfig& cfg_;
  std::unique_ptr<storage::Store> store_;
  Identity id_;
  std::mt19937_64 rng_;
  // Signature checks of received batches use every core: they, not LMDB,
  // bound how fast a node catches up.
  VerifyPool verify_pool_{0};
  zmq::context_t ctx_{1};
  std::unique_ptr<zmq::socket_t> listen_;
  ControlServer control_;
  ControlHandler control_handler_;
  desk::LoopJobs desk_jobs_;
  std::unique_ptr<desk::DeskServer> desk_;
  void drain_desk();  // runs a command from the control socket
  std::vector<std::unique_ptr<UpLink>> ups_;
  std::map<std::string, config::Child> admitted_;
  std::map<std::string, Peer> children_;  // by code (= routing id)
  int active_ = -1;                       // index into ups_ of the upstream in use
  int signal_fd_ = -1;
  bool stop_ = false;
  uint64_t last_lsn_ = 0;
  TimePoint last_lsn_check_{}, custody_written_{};
  bool custody_dirty_ = false;
  // Our top mark moved; children hear of it at most a few times a second.
  bool custody_refresh_due_ = false;
  TimePoint custody_refreshed_{};
  uint64_t started_wall_ms_ = wall_clock_ms();
  AbuseLedger abuse_;                                 // by authenticated code
  std::map<std::string, TimePoint> told_no_session_;  // by authenticated code
  // Every log line a peer can trigger goes through here (10 a kind per
  // 10 s, then a count of those left out).
  LogLimiter peer_log_;
  std::unique_ptr<ListenGuard> guard_;  // destroyed before listen_ is closed
  TimePoint guard_swept_{};
  // Link, address and route changes: a returning network is used at once.
  NetWatch net_watch_;
  TimePoint net_changed_{};
  // The audit log (审计日志): links admitted and refused, events refused,
  // keys learned; repeats aggregated per minute.
  AuditLog audit_{*store_, id_.sign};
  // ZAP handler for the children's CurveZMQ handshakes; polled like the
  // other sockets.
  ZapHandler zap_{peer_log_, audit_};
  KeyDirectory keys_{*store_, id_.sign, cfg_.code, cfg_.upstreams.empty(), peer_log_, audit_};
  ReceiptKeeper receipts_{*store_, id_.sign, cfg_.code};
  StoreWatch store_watch_{*store_};
};

// ---------------------------------------------------------------------------
// Sockets

void Daemon::open_listen() {
  if (!cfg_.listen_endpoint) return;
  listen_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
  auto& s = *listen_;
  // No connection takes over another's routing id: with handover, anyone
  // with a key could claim a village's routing id and have that village's
  // pipe closed and its messages sent to them. A child dials with a fresh
  // routing id each time (CODE/NONCE), so it needs no handover to come back.
  s.set(zmq::sockopt::router_handover, 0);
  // Sending to a child that is gone fails loudly instead of vanishing.
  s.set(zmq::sockopt::router_mandatory, 1);
  s.set(zmq::sockopt::linger, 500);
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.sync.max_message_bytes + 4096));
  // The credit window bounds bytes in flight per peer; the high-water marks
  // only need room for a window of batches plus control messages.
  s.set(zmq::sockopt::sndhwm, 1000);
  s.set(zmq::sockopt::rcvhwm, 1000);
  s.set(zmq::sockopt::tcp_keepalive, 1);
  // A connection that has not finished its handshake (CurveZMQ and the ZAP
  // handler's answer) by then is closed.
  s.set(zmq::sockopt::handshake_ivl, static_cast<int>(kHandshakeTimeout.count()));
  // Every link is encrypted and authenticated (CurveZMQ). Domain
  // enforcement makes the link fail closed: with no ZAP handler answering,
  // libzmq would otherwise let a CURVE client in.
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey,
        zmq::const_buffer(id_.curve.secret.data(), id_.curve.secret.size()));
  s.set(zmq::sockopt::zap_domain, "liandong");
  // ZMQ_ZAP_ENFORCE_DOMAIN is a draft option of libzmq 4.3 (93): set it
  // where the library has it. Where it does not, a connection no handler
  // admitted carries no User-Id, and on_child_message refuses every message
  // on it: the link still fails closed, one layer up.
  constexpr int kZapEnforceDomain = 93;
  const int on = 1;
  if (zmq_setsockopt(s.handle(), kZapEnforceDomain, &on, sizeof on) != 0)
    spdlog::debug("libzmq has no ZAP domain enforcement; User-Id checks enforce it");
  // Connections are counted from the first: the guard watches before bind.
  ListenGuard::Limits limits;
  limits.max_connections = max_child_connections();
  limits.max_pending_per_source = kMaxPendingPerSource;
  try {
    guard_ = std::make_unique<ListenGuard>(ctx_, s, limits, peer_log_);
    s.bind(*cfg_.listen_endpoint);
  } catch (const zmq::error_t& e) {
    throw StartupError{"cannot listen on " + *cfg_.listen_endpoint + ": " + e.what()};
  }
  spdlog::info(
      "listening for children on {} (at most {} connections, {} unauthenticated per source, "
      "handshakes time out after {} s)",
      s.get(zmq::sockopt::last_endpoint), limits.max_connections, limits.max_pending_per_source,
      kHandshakeTimeout.count() / 1000);
}

void Daemon::dial(UpLink& link) {
  link.sock = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  auto& s = *link.sock;
  // A fresh routing id each dial, CODE/NONCE: the parent binds the code to
  // our key; the nonce, which only travels encrypted, keeps any other
  // connection from claiming our routing id.
  std::random_device entropy;
  const uint64_t nonce = (uint64_t{entropy()} << 32) | entropy();
  s.set(zmq::sockopt::routing_id, make_routing_id(cfg_.code, nonce));
  // We redial ourselves, with backoff and jitter: ZeroMQ's own reconnect
  // has none once capped, and thirty villages would redial in step.
  s.set(zmq::sockopt::reconnect_ivl, -1);
  // A SYN lost to a dead link is retried by the kernel only after seconds
  // that double; a dial waits kConnectTimeout for TCP, then counts as failed
  // and the next one goes after the (capped) backoff: a returning link is
  // noticed within seconds (node/redial.h).
  s.set(zmq::sockopt::connect_timeout, static_cast<int>(kConnectTimeout.count()));
  // Sends fail (EAGAIN) while not connected instead of queueing for a pipe
  // that may never come up.
  s.set(zmq::sockopt::immediate, 1);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.sync.max_message_bytes + 4096));
  s.set(zmq::sockopt::sndhwm, 1000);
  s.set(zmq::sockopt::rcvhwm, 1000);
  s.set(zmq::sockopt::tcp_keepalive, 1);
  // CurveZMQ client: our key pair, and the parent's public key pinned from
  // the config (a server with another key fails the handshake).
  s.set(zmq::sockopt::curve_serverkey,
        zmq::const_buffer(link.server_key.data(), link.server_key.size()));
  s.set(zmq::sockopt::curve_publickey,
        zmq::const_buffer(id_.curve.pub.data(), id_.curve.pub.size()));
  s.set(zmq::sockopt::curve_secretkey,
        zmq::const_buffer(id_.curve.secret.data(), id_.curve.secret.size()));
  link.monitor = std::make_unique<LinkMonitor>();
  link.monitor->init(
      s, "inproc://monitor-" + std::to_string(link.index) + "-" + std::to_string(++link.dials),
      ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
          ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
          ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  s.connect(link.cfg.endpoint);
  Peer& p = link.peer;
  // A redial does not make the link any less down: the time it has been
  // out of contact runs on from when it was last up (or first dialed).
  const uint64_t out_since =
      p.state != LinkState::up && p.since_wall_ms != 0 ? p.since_wall_ms : wall_clock_ms();
  p = Peer{};
  p.code = link.cfg.code;
  p.parent = true;
  p.state = LinkState::connecting;
  p.since = p.last_heard = Clock::now();
  p.since_wall_ms = out_since;
  link.hello_pending = true;
  spdlog::debug("dialing upstream {} at {}", link.cfg.code, link.cfg.endpoint);
}

void Daemon::close_link(UpLink& link, bool send_bye) {
  if (link.sock && send_bye && link.peer.state == LinkState::up) {
    capnp::MallocMessageBuilder msg(64);
    msg.initRoot<proto::SyncMessage>().setBye();
    send_msg(link.peer, msg);
  }
  link.monitor.reset();
  link.sock.reset();
  const bool was_up = link.peer.state == LinkState::up;
  link.peer.state = LinkState::down;
  link.peer.credit.drop_in_flight();
  link.peer.since = Clock::now();
  if (was_up || link.peer.since_wall_ms == 0) link.peer.since_wall_ms = wall_clock_ms();
  link.hello_pending = false;
  if (active_ == static_cast<int>(link.index)) active_ = -1;
  if (was_up) persist_custody(true);
}

bool Daemon::send_to(Peer& p, const std::string& bytes) {
  try {
    if (p.parent) {
      UpLink* link = nullptr;
      for (auto& u : ups_)
        if (u->cfg.code == p.code) link = u.get();
      if (link == nullptr || !link->sock) return false;
      if (!link->sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return false;
    } else {
      if (!listen_) return false;
      if (!listen_->send(zmq::buffer(p.routing_id),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait))
        return false;
      listen_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      peer_down(p, "unreachable");
      return false;
    }
    peer_log_.warn("send failed", "send to {} failed: {}", p.code, e.what());
    return false;
  }
  p.bytes_sent += bytes.size();
  p.last_sent = Clock::now();
  return true;
}

bool Daemon::send_msg(Peer& p, capnp::MessageBuilder& msg) {
  return send_to(p, sync::encode(msg));
}

void Daemon::refuse(const std::string& rid, proto::RefusalReason reason, const std::string& text) {
  // Logged and audited by the claimed code: a fresh nonce each dial would
  // otherwise make each refusal of one child a record of its own.
  const std::string who = claimed_code(printable(rid));
  peer_log_.warn("refused", "refused {}: {}", who, text);
  audit_.note(audit_note(proto::AuditWhat::CONNECTION_REFUSED, who, who, "refused message", text));
  capnp::MallocMessageBuilder msg(256);
  auto r = msg.initRoot<proto::SyncMessage>().initRefused();
  r.setReason(reason);
  r.setText(text);
  const std::string bytes = sync::encode(msg);
  try {
    if (listen_->send(zmq::buffer(rid), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      listen_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

// ---------------------------------------------------------------------------
// Receiving

void Daemon::drain_listen() {
  for (int i = 0; i < kMessagesPerTurn && !stop_; ++i) {
    zmq::message_t rid, body;
    auto got = listen_->recv(rid, zmq::recv_flags::dontwait);
    if (!got) return;
    if (!rid.more()) continue;
    (void)listen_->recv(body);
    while (body.more()) {  // extra frames: not ours; drop them
      zmq::message_t extra;
      (void)listen_->recv(extra);
      if (!extra.more()) break;
    }
    // The code the ZAP handler bound to this connection's key.
    const char* user = body.gets("User-Id");
    if (guard_ && user != nullptr && *user != '\0') {
      const int fd = zmq_msg_get(body.handle(), ZMQ_SRCFD);
      if (fd >= 0) guard_->mark_authenticated(fd);
    }
    on_child_message(rid.to_string(), user != nullptr ? user : "", body.to_string());
  }
}

void Daemon::drain_upstream(UpLink& link) {
  for (int i = 0; i < kMessagesPerTurn && link.sock && !stop_; ++i) {
    zmq::message_t body;
    if (!link.sock->recv(body, zmq::recv_flags::dontwait)) return;
    if (body.more()) {
      zmq::message_t extra;
      while (link.sock->recv(extra, zmq::recv_flags::dontwait) && extra.more()) {
      }
      continue;
    }
    on_upstream_message(link, body.to_string());
  }
}

void Daemon::drain_control() {
  DaemonContext ctx;
  ctx.store = store_.get();
  ctx.identity = &id_;
  ctx.data = cfg_.data;
  ctx.status = [this] { return status(); };
  ctx.sync_now = [this] { sync_now(); };
  control_.drain(control_handler_, ctx, [this] { pump_all(); });
}

void Daemon::on_child_message(const std::string& rid, const std::string& user,
                              const std::string& bytes) {
  // Who sent this is what its key proves (the code the ZAP handler bound to
  // it), nothing else. Every check below that fails charges that code.
  if (user.empty()) {
    // No handler admitted this connection's key (see open_listen): there is
    // nobody to charge, and nothing it sends is read.
    peer_log_.warn("message without an admitted key",
                   "dropped a message from a connection no key was admitted for (routing id '{}')",
                   printable(rid));
    return;
  }
  if (banned(user)) return;
  const std::string claimed = claimed_code(rid);
  if (claimed != user) {
    // The connection claims another code than its key's — a sibling
    // posing as a village, or a child whose key the config binds to
    // another code. Dropped before anything of the code it claims is
    // touched; charged to the key's own code.
    refuse(rid, proto::RefusalReason::CODE_MISMATCH,
           "this link's key belongs to " + user + ", not to " + printable(claimed));
    abused(user, "claimed to be " + printable(claimed));
    return;
  }
  auto parsed = sync::SyncReader::parse(bytes, cfg_.sync.max_message_bytes + 4096);
  if (!parsed.ok()) {
    peer_log_.warn("malformed message from a child", "malformed message from child {}: {}", user,
                   parsed.status().message());
    refuse(rid, proto::RefusalReason::MALFORMED, parsed.status().message());
    abused(user, parsed.status().message());
    return;
  }
  auto msg = parsed->root();
  try {
    if (msg.which() == proto::SyncMessage::HELLO) {
      const auto c = msg.getHello().getCode();
      const std::string code(c.begin(), c.size());
      if (code != user) {
        refuse(rid, proto::RefusalReason::CODE_MISMATCH,
               "this link's key belongs to " + user + ", not to " + printable(code));
        abused(user, "said Hello as " + printable(code));
        return;
      }
      on_hello(rid, msg.getHello());
      return;
    }
    auto it = children_.find(user);
    if (it == children_.end() || it->second.state != LinkState::up ||
        it->second.routing_id != rid) {
      if (msg.which() != proto::SyncMessage::BYE) out_of_session(rid, user);
      return;
    }
    it->second.bytes_received += bytes.size();
    on_session_message(it->second, msg);
  } catch (const kj::Exception& e) {
    peer_log_.warn("malformed message from a child", "malformed message from child {}: {}", user,
                   e.getDescription().cStr());
    refuse(rid, proto::RefusalReason::MALFORMED, e.getDescription().cStr());
    abused(user, e.getDescription().cStr());
  }
}

void Daemon::out_of_session(const std::string& rid, const std::string& user) {
  const auto now = Clock::now();
  auto [it, first] = told_no_session_.try_emplace(user, now);
  if (!first && now - it->second < milliseconds(1000)) return;
  it->second = now;
  refuse(rid, proto::RefusalReason::MALFORMED, "no session: send Hello first");
  abused(user, "messages outside a session");
}

void Daemon::on_upstream_message(UpLink& link, const std::string& bytes) {
  Peer& p = link.peer;
  auto parsed = sync::SyncReader::parse(bytes, cfg_.sync.max_message_bytes + 4096);
  if (!parsed.ok()) {
    peer_log_.warn("malformed message from upstream", "malformed message from upstream {}: {}",
                   p.code, parsed.status().message());
    abused(p.code, parsed.status().message());
    return;
  }
  auto msg = parsed->root();
  try {
    p.bytes_received += bytes.size();
    p.last_heard = Clock::now();
    switch (msg.which()) {
      case proto::SyncMessage::WELCOME:
        on_welcome(link, msg.getWelcome());
        return;
      case proto::SyncMessage::REFUSED: {
        auto r = msg.getRefused();
        peer_log_.error("upstream refused us", "upstream {} refused us: {}", p.code,
                        printable(r.getText().cStr()));
        const bool fatal = r.getReason() != proto::RefusalReason::MALFORMED &&
                           r.getReason() != proto::RefusalReason::SHUTTING_DOWN;
        close_link(link, false);
        link.failures = fatal ? 30 : link.failures + 1;
        if (fatal) link.refused = true;
        link.next_dial = Clock::now() + backoff(link);
        return;
      }
      default:
        if (p.state != LinkState::up) return;
        on_session_message(p, msg);
    }
  } catch (const kj::Exception& e) {
    peer_log_.warn("malformed message from upstream", "malformed message from upstream {}: {}",
                   p.code, e.getDescription().cStr());
    abused(p.code, e.getDescription().cStr());
  }
}

void Daemon::on_session_message(Peer& p, proto::SyncMessage::Reader msg) {
  p.last_heard = Clock::now();
  switch (msg.which()) {
    case proto::SyncMessage::BATCH:
      on_batch(p, msg.getBatch());
      break;
    case proto::SyncMessage::ACK:
      on_ack(p, msg.getAck());
      break;
    case proto::SyncMessage::HEARTBEAT:
      on_heartbeat(p, msg.getHeartbeat());
      break;
    case proto::SyncMessage::BYE:
      peer_down(p, "said goodbye");
      break;
    case proto::SyncMessage::RECOVER:
      on_recover(p);
      break;
    case proto::SyncMessage::REFUSALS:
      on_refusals(p, msg.getRefusals());
      break;
    case proto::SyncMessage::REFUSALS_TAKEN:
      on_refusals_taken(p, msg.getRefusalsTaken());
      break;
    case proto::SyncMessage::HELLO:
    case proto::SyncMessage::WELCOME:
    case proto::SyncMessage::REFUSED:
      peer_log_.warn("handshake message in session",
                     "unexpected handshake message from {} in session", p.code);
      break;
    default:
      peer_log_.warn("unknown message kind", "unknown message kind from {} (a newer protocol?)",
                     p.code);
  }
}

sync::CursorValue Daemon::load_rx(const std::string& code) {
  auto v = store_->sync_get(rx_key(code));
  if (!v.ok() || !*v) return {};
  auto c = sync::decode_cursor(**v);
  if (!c.ok()) {
    spdlog::error("cursor of {} is unreadable ({}); starting from zero", code,
                  c.status().message());
    return {};
  }
  return *c;
}

// Whether a peer's cursor of our log names our store and, at its LSN, the
// event it says. A shorter or different log means we were restored from
// an old copy (or replaced).
bool Daemon::cursor_matches_our_log(const sync::CursorValue& c) {
  if (c.lsn == 0) return true;
  if (c.store_id != store_->store_id()) return false;
  auto bytes = store_->read_log(c.lsn);
  if (!bytes.ok() || !*bytes) return false;
  auto r = sync::route_info(**bytes);
  return r.ok() && r->id == c.at;
}

uint64_t Daemon::next_seq_of(const std::string& code) {
  auto m = store_->max_seq(code);
  return m.ok() ? *m + 1 : 1;
}

void Daemon::begin_sending(Peer& p, uint64_t from, bool we_were_restored) {
  p.credit.restart(from, Clock::now());
  if (we_were_restored) {
    p.asked_recover = true;
    forget_future_marks();
    peer_log_.warn("cursor does not match",
                   "{} holds a cursor of our log that our log does not match: this store was "
                   "restored from an old copy or replaced; asking it for everything that belongs "
                   "here",
                   p.code);
    capnp::MallocMessageBuilder msg(64);
    msg.initRoot<proto::SyncMessage>().setRecover();
    send_msg(p, msg);
  }
}

// Custody map entries past our log's end name a timeline this store no
// longer has (it was restored from an old copy): they must not vouch for
// anything now.
void Daemon::forget_future_marks() {
  auto entries = store_->sync_scan("map/");
  if (!entries.ok()) return;
  std::vector<std::string> stale;
  for (const auto& [key, value] : *entries) {
    if (key.size() >= 8 && get_be64(std::string_view(key).substr(key.size() - 8)) > last_lsn_)
      stale.push_back(key);
  }
  if (stale.empty()) return;
  if (auto s = store_->sync_erase(stale); !s) {
    spdlog::error("cannot drop stale custody marks: {}", s.message());
  } else {
    spdlog::info("dropped {} custody marks of a timeline this store no longer has", stale.size());
  }
}

void Daemon::on_hello(const std::string& rid, proto::Hello::Reader hello) {
  if (hello.getVersion() != sync::kProtocolVersion) {
    refuse(rid, proto::RefusalReason::VERSION,
           "protocol version " + std::to_string(hello.getVersion()) + " is not " +
               std::to_string(sync::kProtocolVersion));
    return;
  }
  const std::string code(hello.getCode().begin(), hello.getCode().size());
  if (admitted_.find(code) == admitted_.end()) {
    refuse(rid, proto::RefusalReason::OUTSIDE_JURISDICTION,
           "code " + code + " is not a child this node admits");
    return;
  }
  if (claimed_code(rid) != code) {
    refuse(rid, proto::RefusalReason::CODE_MISMATCH,
           "routing id '" + printable(rid) + "' is not the node's code " + code);
    return;
  }
  Peer& p = children_[code];
  const bool was_up = p.state == LinkState::up;
  const uint64_t top_sent = p.top_sent;
  const auto stats = std::make_tuple(p.bytes_sent, p.bytes_received, p.batches_sent,
                                     p.batches_received, p.events_received, p.events_rejected);
  p = Peer{};
  std::tie(p.bytes_sent, p.bytes_received, p.batches_sent, p.batches_received, p.events_received,
           p.events_rejected) = stats;
  p.top_sent = top_sent;
  p.code = code;
  p.routing_id = rid;
  p.state = LinkState::up;
  p.since = p.last_heard = Clock::now();
  p.since_wall_ms = wall_clock_ms();
  p.store_id.assign(hello.getStoreId().begin(), hello.getStoreId().size());
  p.rx = load_rx(code);
  if (p.rx.store_id != p.store_id) {
    if (p.rx.lsn > 0) {
      peer_log_.warn("child has a new store",
                     "child {} has a new store ({} -> {}): re-syncing it from zero", code,
                     printable(p.rx.store_id), printable(p.store_id));
      p.recover_until = last_lsn_;
    }
    p.rx = sync::CursorValue{p.store_id, 0, {}};
  }
  keys_.accept(p.code, p.parent, hello.getKeys());
  if (hello.getYourNextSeq() > 0) {
    if (auto s = store_->reserve_seq(hello.getYourNextSeq()); !s)
      spdlog::error("cannot reserve sequence numbers: {}", s.message());
  }
  if (cfg_.upstreams.empty()) {
    audit_.set_ready();  // the top hears of its numbers from children
    keys_.publish_directory();
  }
  const auto have = sync::read_cursor(hello.getHave());
  const bool match = cursor_matches_our_log(have);

  capnp::MallocMessageBuilder msg(1024);
  auto w = msg.initRoot<proto::SyncMessage>().initWelcome();
  w.setVersion(sync::kProtocolVersion);
  w.setCode(cfg_.code);
  w.setStoreId(store_->store_id());
  sync::write_cursor(w.initHave(), p.rx);
  w.initCapabilities(1).set(0, "zstd");
  const auto codes = keys_.codes_for(p.parent, admitted_);
  keys_.fill(w.initKeys(static_cast<unsigned>(codes.size())), codes);
  w.setYourNextSeq(next_seq_of(code));
  w.setWallMs(wall_clock_ms());
  send_msg(p, msg);
  peer_log_.info("child connected", "child {} {} (it holds our log to {}, we hold its to {})", code,
                 was_up ? "reconnected" : "connected", have.lsn, p.rx.lsn);
  if (const uint64_t child_ms = hello.getWallMs(); child_ms != 0) {
    const int64_t skew = static_cast<int64_t>(child_ms) - static_cast<int64_t>(wall_clock_ms());
    if (!clock_fault_message(skew, cfg_.code).empty())
      peer_log_.warn("child clock off",
                     "child {}'s clock is {} min {} ours: it makes no events until it is set right",
                     code, (skew < 0 ? -skew : skew) / 60000, skew > 0 ? "ahead of" : "behind");
  }
  begin_sending(p, match ? have.lsn : 0, !match);
  send_ack(p, false, {});
  send_relays(p);
  pump(p);
}

void Daemon::on_welcome(UpLink& link, proto::Welcome::Reader w) {
  Peer& p = link.peer;
  if (p.state != LinkState::connecting) return;
  const std::string code(w.getCode().begin(), w.getCode().size());
  if (w.getVersion() != sync::kProtocolVersion || code != link.cfg.code) {
    spdlog::error("upstream at {} answered as {} (version {}), expected {} (version {})",
                  link.cfg.endpoint, code, w.getVersion(), link.cfg.code, sync::kProtocolVersion);
    close_link(link, false);
    link.failures = 30;
    link.refused = true;
    link.next_dial = Clock::now() + backoff(link);
    return;
  }
  p.state = LinkState::up;
  p.since = p.last_heard = Clock::now();
  p.since_wall_ms = wall_clock_ms();
  p.store_id.assign(w.getStoreId().begin(), w.getStoreId().size());
  p.rx = load_rx(code);
  if (p.rx.store_id != p.store_id) {
    if (p.rx.lsn > 0) {
      spdlog::warn("upstream {} has a new store ({} -> {}): re-syncing it from zero", code,
                   p.rx.store_id, p.store_id);
      p.recover_until = last_lsn_;
    }
    p.rx = sync::CursorValue{p.store_id, 0, {}};
  }
  keys_.accept(p.code, p.parent, w.getKeys());
  if (w.getYourNextSeq() > 0) {
    if (auto s = store_->reserve_seq(w.getYourNextSeq()); !s)
      spdlog::error("cannot reserve sequence numbers: {}", s.message());
  }
  audit_.set_ready();  // our own numbers are known safe now
  link.failures = 0;
  link.refused = false;
  if (w.getWallMs() != 0) note_parent_clock(code, w.getWallMs());
  const auto have = sync::read_cursor(w.getHave());
  const bool match = cursor_matches_our_log(have);
  // The custody marks we had stay valid only for the same store of ours.
  if (!match) p.top = 0;
  spdlog::info("upstream {} up (it holds our log to {}, we hold its to {})", code, have.lsn,
               p.rx.lsn);
  const int prev = active_;
  if (prev < 0 || static_cast<int>(link.index) < prev) {
    active_ = static_cast<int>(link.index);
    if (prev >= 0) {
      spdlog::info("back on preferred upstream {}; leaving {}", code, ups_[prev]->cfg.code);
      close_link(*ups_[prev], true);
      ups_[prev]->next_dial = Clock::now();
    }
  }
  begin_sending(p, match ? have.lsn : 0, !match);
  pump(p);
}

bool Daemon::routed(const Peer& p, uint64_t lsn, const sync::RouteInfo& r) const {
  const RouteKey key{r.id.origin, r.home, r.broadcast, r.lineage};
  if (p.parent) {
    if (send_up(cfg_.code, p.code, key)) return true;
  } else {
    if (send_down(p.code, key)) return true;
  }
  // Recovery: the peer may have lost what came from its own side.
  return lsn <= p.recover_until && belongs_at(p.code, key);
}

Status Daemon::authorize(const Peer& p, const EventView& ev) const {
  const std::string home(ev.event().getHome().begin(), ev.event().getHome().size());
  const RouteKey key{ev.id().origin, home, is_broadcast(ev.kind()), is_lineage(ev.kind())};
  if (!belongs_at(cfg_.code, key))
    return Status::invalid("event " + format_id(ev.id()) + " does not belong at " + cfg_.code);
  if (p.parent) return Status::ok();
  // Recovering us (our store was restored or replaced), a child also sends
  // back what came down to it from here or above: events this node or an
  // ancestor made, which we lost. Never anything from beside its subtree:
  // a child that only claims we were restored widens nothing.
  if (p.asked_recover && within(cfg_.code, ev.id().origin)) return Status::ok();
  // From a child: only what its own subtree made, about its own cases.
  if (key.broadcast) return Status::invalid("a child may not send broadcasts up");
  if (!within(ev.id().origin, p.code))
    return Status::invalid("origin " + ev.id().origin + " is outside child " + p.code);
  if (!within(home, p.code)) return Status::invalid("case home " + home + " is outside " + p.code);
  return Status::ok();
}

void Daemon::on_batch(Peer& p, proto::Batch::Reader b) {
  const uint64_t from = b.getFromLsn(), to = b.getToLsn();
  if (to <= from) {
    peer_log_.warn("batch with a bad range",
                   "batch from {} with an empty or reversed range ({}, {}]", p.code, from, to);
    return;
  }
  if (from != p.rx.lsn && from != 0) {
    // Lost or stale: tell the sender where we are.
    send_ack(p, true, {});
    return;
  }
  if (store_->full_since_ms() != 0 && !store_watch_.retry_now(Clock::now())) return;
  auto events =
      sync::unpack_events(b, cfg_.sync.max_message_bytes + kMaxSignedEventBytes + 64 * 1024);
  if (!events.ok()) {
    peer_log_.error("unreadable batch", "unreadable batch ({}, {}] from {}: {}", from, to, p.code,
                    events.status().message());
    if (abused(p.code, events.status().message())) return;
    send_ack(p, true, {});
    return;
  }
  sync::CursorValue next{p.store_id, to, read_id(b.getLastId())};
  const bool map_for_top = !p.parent && !cfg_.upstreams.empty();
  // Receipts this batch may owe (storage/receipts.h): marked pending in the
  // batch's own transaction, so a crash before they are made loses none.
  const std::vector<OwedReceipt> owed = receipts_.owed(*events);
  storage::IngestOptions opts;
  if (events->size() >= 16) opts.pool = &verify_pool_;
  opts.authorize = [&](const EventView& ev) { return authorize(p, ev); };
  opts.also = [&](storage::SyncWriter& w) {
    w.put(rx_key(p.code), sync::encode_cursor(next));
    if (map_for_top) {
      std::string v;
      put_be64(v, to);
      w.put(map_key(p.code, w.last_lsn()), v);
    }
    for (const auto& o : owed)
      w.put(receipt_key(o.handed), format_id(o.case_id));
  };
  auto results = store_->ingest(*events, opts);
  if (!results.ok()) {
    // Nothing stored, nothing acked: the sender resends after ack_timeout.
    if (results.status().code() == Code::no_space) {
      store_watch_.note(results.status(), "batches from peers", Clock::now());
    } else {
      spdlog::error("cannot store batch from {}: {}", p.code, results.status().message());
    }
    return;
  }
  store_watch_.note(Status::ok(), "batches from peers", Clock::now());
  std::vector<std::pair<Id, std::string>> rejected;
  std::size_t stored = 0;
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (r.outcome == storage::Outcome::stored) {
      ++stored;
      keys_.publish_rotation((*events)[i]);
    }
    if (r.outcome == storage::Outcome::quarantined) {
      // Held here for review; the sender need not send it again.
      auto info = sync::route_info((*events)[i]);
      const std::string shown = info.ok() ? format_id(info->id) : "?";
      peer_log_.warn("quarantined event", "quarantined event {} from {}: {}", shown, p.code,
                     r.status.message());
      ++p.events_quarantined;
      audit_.note(audit_note(proto::AuditWhat::EVENT_QUARANTINED, p.code, p.code, shown,
                             r.status.message(), r.status.message()));
      // Not stored here either: the origin must not see it as delivered.
      if (info.ok())
        rejected.emplace_back(info->id, std::string(kQuarantinedPrefix) + r.status.message());
    }
    if (r.outcome == storage::Outcome::rejected) {
      auto info = sync::route_info((*events)[i]);
      const Id id = info.ok() ? info->id : Id{};
      peer_log_.warn("rejected event", "rejected event {} from {}: {}",
                     id.origin.empty() ? "?" : format_id(id), p.code, r.status.message());
      rejected.emplace_back(id, r.status.message());
      ++p.events_rejected;
      note_refused_event(p, id, r.status.message());
    }
  }
  receipts_.record(owed, *results);
  p.rx = next;
  ++p.batches_received;
  p.events_received += events->size();
  peer_log_.debug("batch received", "batch ({}, {}] from {}: {} events, {} new", from, to, p.code,
                  events->size(), stored);
  send_ack(p, false, rejected);
  if (stored > 0) pump_all();
}

void Daemon::note_refused_event(const Peer& p, const Id& id, const std::string& reason) {
  const std::string shown = id.origin.empty() ? std::string("?") : format_id(id);
  // Repeats are grouped by the reason without the event's own id.
  std::string group = reason;
  if (!id.origin.empty()) {
    for (auto at = group.find(shown); at != std::string::npos; at = group.find(shown))
      group.replace(at, shown.size(), "*");
  }
  audit_.note(audit_note(proto::AuditWhat::EVENT_REFUSED, p.code, p.code, shown, reason, group));
}

void Daemon::send_ack(Peer& p, bool resend, const std::vector<std::pair<Id, std::string>>& rej) {
  capnp::MallocMessageBuilder msg(512);
  auto a = msg.initRoot<proto::SyncMessage>().initAck();
  // Within a session the store is the peer's own: its id stays out.
  sync::write_cursor(a.initHave(), sync::CursorValue{"", p.rx.lsn, p.rx.at});
  a.setResend(resend);
  if (!p.parent) {
    p.top_sent = top_for_child(p);
    a.setTopLsn(p.top_sent);
  }
  if (!rej.empty()) {
    auto list = a.initRejected(static_cast<unsigned>(std::min<std::size_t>(rej.size(), 1024)));
    const uint64_t now = wall_clock_ms();
    for (unsigned i = 0; i < list.size(); ++i) {
      const std::string& reason = rej[i].second;
      const bool held = reason.starts_with(kQuarantinedPrefix);
      write_refusal(list[i],
                    Refusal{rej[i].first, cfg_.code, refusal_cause(reason, held), reason, now});
    }
  }
  send_msg(p, msg);
}

uint64_t Daemon::our_top() const {
  uint64_t top = 0;
  for (const auto& u : ups_)
    top = std::max(top, u->peer.top);
  return top;
}

uint64_t Daemon::top_for_child(const Peer& child) {
  if (cfg_.upstreams.empty()) return child.rx.lsn;  // we are the top
  const uint64_t top = our_top();
  if (top == 0) return 0;
  auto floor = store_->sync_floor(map_prefix(child.code), map_key(child.code, top));
  if (!floor.ok() || !*floor) return 0;
  const uint64_t v = get_be64((*floor)->second);
  // A map entry of an older store of the child would name its LSNs.
  return std::min(v, child.rx.lsn);
}

void Daemon::refresh_children_custody() {
  for (auto& [code, c] : children_) {
    if (c.state != LinkState::up) continue;
    if (top_for_child(c) != c.top_sent) send_ack(c, false, {});
  }
}

void Daemon::on_ack(Peer& p, proto::Ack::Reader a) {
  const auto have = sync::read_cursor(a.getHave());
  if (!have.store_id.empty() && have.store_id != store_->store_id() && have.lsn > 0)
    return;  // about another store of ours
  // The credit window caps an ack at what was sent (never at a cached end
  // of our log, which may lag behind what the pump read and sent).
  if (a.getResend()) {
    // The receiver is at `have.lsn`: everything we sent after it is void.
    peer_log_.debug("resend asked", "{} asks us to resend from {}", p.code, have.lsn);
    p.credit.on_resend(have.lsn, last_lsn_, Clock::now());
  } else {
    p.credit.on_ack(have.lsn, Clock::now());
  }
  if (p.parent) {
    const uint64_t old_top = our_top();
    p.top = std::min(a.getTopLsn(), last_lsn_);
    custody_dirty_ = true;
    if (our_top() != old_top) custody_refresh_due_ = true;
  }
  if (a.hasRejected() && a.getRejected().size() > 0) keep_refusals_from(p, a.getRejected());
  pump(p);
}

void Daemon::keep_refusals_from(Peer& p, capnp::List<proto::RejectedEvent>::Reader list) {
  std::vector<Refusal> got;
  for (auto r : list) {
    Refusal x = read_refusal(r);
    if (x.id.origin.empty()) continue;
    spdlog::error("{} refused {} event {}: {}", p.code, x.id.origin == cfg_.code ? "our" : "the",
                  format_id(x.id), x.reason);
    got.push_back(std::move(x));
  }
  std::vector<std::string> children;
  for (const auto& [code, c] : admitted_)
    children.push_back(code);
  if (auto s = keep_refusals(*store_, got, p.code, children); !s) {
    spdlog::error("cannot keep the refusals from {}: {}", p.code, s.message());
    return;
  }
  for (auto& [code, c] : children_) {
    if (c.state != LinkState::up) continue;
    for (const auto& x : got) {
      if (x.id.origin != cfg_.code && within(x.id.origin, code)) {
        send_relays(c);
        break;
      }
    }
  }
}

void Daemon::send_relays(Peer& child) {
  auto pending = relays_for(*store_, child.code);
  if (!pending.ok() || pending->empty()) {
    child.relays_sent = TimePoint{};
    return;
  }
  capnp::MallocMessageBuilder msg(1024);
  const unsigned n = static_cast<unsigned>(std::min<std::size_t>(pending->size(), 1024));
  auto list = msg.initRoot<proto::SyncMessage>().initRefusals(n);
  for (unsigned i = 0; i < n; ++i)
    write_refusal(list[i], (*pending)[i]);
  if (send_msg(child, msg)) child.relays_sent = Clock::now();
}

void Daemon::on_refusals(Peer& p, capnp::List<proto::RejectedEvent>::Reader list) {
  if (!p.parent) {
    peer_log_.warn("refusals from a child", "child {} sent refusals: only a parent relays them",
                   p.code);
    return;
  }
  keep_refusals_from(p, list);
  capnp::MallocMessageBuilder msg(1024);
  auto ids = msg.initRoot<proto::SyncMessage>().initRefusalsTaken(list.size());
  for (unsigned i = 0; i < list.size(); ++i) {
    if (list[i].hasId()) ids.setWithCaveats(i, list[i].getId());
  }
  send_msg(p, msg);
}

void Daemon::on_refusals_taken(Peer& p, capnp::List<proto::EventId>::Reader list) {
  if (p.parent) return;
  std::vector<Id> ids;
  for (auto id : list)
    ids.push_back(read_id(id));
  if (auto s = forget_relays(*store_, p.code, ids); !s)
    spdlog::error("cannot forget the refusals {} took: {}", p.code, s.message());
}

void Daemon::note_parent_clock(const std::string& code, uint64_t parent_wall_ms) {
  ParentClock c{parent_wall_ms, boot_clock_ms(), boot_id(), code};
  if (auto s = store_->note_parent_clock(c); !s)
    spdlog::error("cannot keep the parent's clock: {}", s.message());
  const int64_t skew = static_cast<int64_t>(wall_clock_ms()) - static_cast<int64_t>(parent_wall_ms);
  if (auto m = clock_fault_message(skew, code); !m.empty())
    spdlog::error("{}: no new events are made here until the clock is set right", m);
}

void Daemon::on_heartbeat(Peer& p, proto::Heartbeat::Reader h) {
  if (h.getEchoMs() == 0) {
    capnp::MallocMessageBuilder msg(64);
    auto r = msg.initRoot<proto::SyncMessage>().initHeartbeat();
    r.setSentMs(wall_clock_ms());
    r.setEchoMs(h.getSentMs());
    send_msg(p, msg);
  } else {
    const uint64_t now = wall_clock_ms();
    if (now >= h.getEchoMs()) p.rtt_ms = static_cast<double>(now - h.getEchoMs());
  }
}

void Daemon::on_recover(Peer& p) {
  peer_log_.warn("peer restored",
                 "{} was restored or replaced: re-sending everything that belongs there", p.code);
  p.recover_until = last_lsn_;
  p.credit.restart(0, Clock::now());
  pump(p);
}

void Daemon::peer_down(Peer& p, const char* why) {
  if (p.state == LinkState::down) return;
  peer_log_.info("peer down", "{} {} is down: {}", p.parent ? "upstream" : "child", p.code, why);
  if (p.parent) {
    for (auto& u : ups_) {
      if (&u->peer == &p) {
        close_link(*u, false);
        ++u->failures;
        u->next_dial = Clock::now() + backoff(*u);
      }
    }
  } else {
    p.state = LinkState::down;
    p.since = Clock::now();
    p.since_wall_ms = wall_clock_ms();
    p.credit.drop_in_flight();
  }
}

// ---------------------------------------------------------------------------
// Sending

bool Daemon::streaming(const Peer& p) const {
  if (p.state != LinkState::up) return false;
  if (!p.parent) return true;
  return active_ >= 0 && ups_[active_]->cfg.code == p.code;
}

void Daemon::pump(Peer& p) {
  if (!streaming(p)) return;
  const std::size_t max_events = cfg_.sync.batch_max_events;
  const std::size_t max_bytes = cfg_.sync.batch_max_bytes;
  for (int round = 0; round < 64; ++round) {
    const uint64_t from = p.credit.sent();
    if (!p.credit.open(cfg_.sync.window_bytes) || from >= last_lsn_) return;
    std::vector<std::string> events;
    std::size_t bytes = 0;
    uint64_t to = from;
    Id last_id;
    bool bad = false;
    // Scan a bounded stretch of the log; a stretch with nothing routed to
    // this peer still moves its cursor (an empty batch).
    auto s = store_->scan_log(from, max_events * 8, [&](uint64_t lsn, std::string_view v) {
      auto r = sync::route_info(v);
      if (!r.ok()) {
        spdlog::error("log entry {} is unreadable: {}", lsn, r.status().message());
        bad = true;
        return false;
      }
      if (routed(p, lsn, *r)) {
        if (!events.empty() && bytes + v.size() > max_bytes) return false;
        events.emplace_back(v);
        bytes += v.size();
      }
      to = lsn;
      last_id = r->id;
      return events.size() < max_events;
    });
    if (!s || bad || to == from) return;
    // The log may have grown since last_lsn_ was read (the node's own
    // writes: audit records, key directory entries): what the scan read
    // is part of our log, and the end we know must not lag behind it.
    if (to > last_lsn_) last_lsn_ = to;
    CreditWindow::Built built;
    built.reached_end = to == last_lsn_;
    built.has_events = !events.empty();
    built.full = events.size() >= max_events || bytes >= max_bytes;
    // A cursor-only batch waits for a heartbeat interval without batches;
    // a small one waits for the ack in flight (CreditWindow::release).
    if (!p.credit.release(built, Clock::now(), cfg_.sync.heartbeat)) return;
    const auto packed = sync::pack_events(events, true);
    capnp::MallocMessageBuilder msg(packed.data.size() / 8 + 64);
    auto b = msg.initRoot<proto::SyncMessage>().initBatch();
    b.setFromLsn(from);
    b.setToLsn(to);
    write_id(b.initLastId(), last_id);
    b.setCount(static_cast<uint32_t>(events.size()));
    b.setCompression(packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
    b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(packed.data.data()),
                                    packed.data.size()));
    b.setRawBytes(packed.raw_bytes);
    const std::string wire = sync::encode(msg);
    if (!send_to(p, wire)) return;  // HWM or gone: the next tick tries again
    p.credit.on_sent(to, wire.size(), Clock::now());
    ++p.batches_sent;
    if (p.recover_until > 0 && to >= p.recover_until) p.recover_until = 0;
  }
}

void Daemon::pump_all() {
  auto st = store_->stats();
  if (st.ok()) last_lsn_ = st->last_lsn;
  last_lsn_check_ = Clock::now();
  for (auto& u : ups_)
    pump(u->peer);
  for (auto& [code, c] : children_)
    pump(c);
}

// ---------------------------------------------------------------------------
// Time

milliseconds Daemon::backoff(const UpLink& link) {
  return redial_delay(link.failures, link.refused, cfg_.sync.redial_min, cfg_.sync.redial_max,
                      rng_);
}

void Daemon::redial_now(bool force) {
  const auto now = Clock::now();
  for (auto& u : ups_) {
    UpLink& link = *u;
    if (banned(link.cfg.code) || (link.refused && !force)) continue;
    if (link.peer.state == LinkState::connecting && link.monitor && !link.monitor->connected) {
      // Its SYN may have gone into the dead link: a fresh dial beats the
      // kernel's retransmission.
      close_link(link, false);
    }
    if (link.peer.state != LinkState::down) continue;
    link.failures = 0;
    link.next_dial = now;
  }
  tick_upstreams(now);
}

void Daemon::sync_now() {
  spdlog::info("sync now: redialing every upstream that is not up and pumping every peer");
  redial_now(true);
  pump_all();
}

void Daemon::tick_peer(Peer& p, TimePoint now) {
  if (p.state == LinkState::up) {
    if (ms_between(p.last_heard, now) > cfg_.sync.peer_timeout.count()) {
      peer_down(p, "silent too long");
      return;
    }
    if (p.credit.expire(now, cfg_.sync.ack_timeout)) {
      spdlog::info("no ack from {} for {} ms: resending from {}", p.code,
                   cfg_.sync.ack_timeout.count(), p.credit.acked());
    }
    // The pump first: a cursor-only batch due now stands in for the
    // heartbeat (sent first, the heartbeat would make it wait forever).
    pump(p);
    if (p.state == LinkState::up && ms_between(p.last_sent, now) >= cfg_.sync.heartbeat.count()) {
      capnp::MallocMessageBuilder msg(64);
      msg.initRoot<proto::SyncMessage>().initHeartbeat().setSentMs(wall_clock_ms());
      send_msg(p, msg);
    }
    if (p.state == LinkState::up && !p.parent && p.relays_sent != TimePoint{} &&
        ms_between(p.relays_sent, now) > cfg_.sync.ack_timeout.count())
      send_relays(p);
  }
}

void Daemon::tick_upstreams(TimePoint now) {
  for (auto& u : ups_) {
    UpLink& link = *u;
    if (link.monitor) {
      for (int i = 0; i < 16 && link.monitor->check_event(0); ++i) {
      }
      if (!link.monitor->handshake_failure.empty()) {
        // Once per streak of failures: a misconfigured link must be visible
        // without flooding the log at every redial.
        if (link.failures == 0 || link.failures % 20 == 0)
          spdlog::warn("upstream {} at {}: {}", link.cfg.code, link.cfg.endpoint,
                       link.monitor->handshake_failure);
        link.monitor->handshake_failure.clear();
        link.monitor->lost = true;
        // Keys: redialing changes nothing until a config does.
        if (link.monitor->key_problem) link.refused = true;
      }
      if (link.monitor->lost) {
        link.monitor->lost = false;
        if (link.peer.state == LinkState::up) {
          peer_down(link.peer, "connection lost");
        } else if (link.peer.state == LinkState::connecting) {
          if (link.monitor->connected && (link.failures == 0 || link.failures % 20 == 0)) {
            // TCP came up and the encrypted handshake did not: a key problem.
            spdlog::warn(
                "upstream {} at {} dropped the connection during the handshake: check that its "
                "curve_key in our config is the parent's key, and that the parent lists this "
                "node's key among its children",
                link.cfg.code, link.cfg.endpoint);
          }
          spdlog::debug("upstream {} at {}: no connection", link.cfg.code, link.cfg.endpoint);
          close_link(link, false);
          ++link.failures;
          link.next_dial = now + backoff(link);
        }
        continue;
      }
    }
    if (link.peer.state != LinkState::connecting) continue;
    if (link.hello_pending) {
      capnp::MallocMessageBuilder msg(1024);
      auto h = msg.initRoot<proto::SyncMessage>().initHello();
      h.setVersion(sync::kProtocolVersion);
      h.setCode(cfg_.code);
      h.setStoreId(store_->store_id());
      sync::write_cursor(h.initHave(), load_rx(link.cfg.code));
      h.initCapabilities(1).set(0, "zstd");
      const auto codes = keys_.codes_for(link.peer.parent, admitted_);
      keys_.fill(h.initKeys(static_cast<unsigned>(codes.size())), codes);
      h.setYourNextSeq(next_seq_of(link.cfg.code));
      h.setWallMs(wall_clock_ms());
      if (send_msg(link.peer, msg)) link.hello_pending = false;
    }
    if (ms_between(link.peer.since, now) > cfg_.sync.peer_timeout.count()) {
      spdlog::info("upstream {} did not answer", link.cfg.code);
      close_link(link, false);
      ++link.failures;
      link.next_dial = now + backoff(link);
    }
  }
  // Dial: with no upstream in use, the due one most preferred; with a
  // fallback in use, probe a more preferred one when it is due.
  const int limit = active_ < 0 ? static_cast<int>(ups_.size()) : active_;
  bool dialing = false;
  for (int i = 0; i < static_cast<int>(ups_.size()); ++i) {
    if (i != active_ && ups_[i]->peer.state == LinkState::connecting) dialing = true;
  }
  if (dialing) return;
  UpLink* best = nullptr;
  for (int i = 0; i < limit; ++i) {
    UpLink& link = *ups_[i];
    if (link.peer.state != LinkState::down || link.next_dial > now) continue;
    best = &link;
    break;
  }
  if (best == nullptr && active_ < 0) {
    // Nothing due: nothing to do until the earliest is due.
    return;
  }
  if (best == nullptr) return;
  try {
    dial(*best);
  } catch (const zmq::error_t& e) {
    // Out of descriptors, say: try again later rather than end the node.
    spdlog::error("cannot dial upstream {}: {}", best->cfg.code, e.what());
    close_link(*best, false);
    ++best->failures;
    best->next_dial = now + backoff(*best);
  }
}

bool Daemon::abused(const std::string& code, const std::string& what) {
  const auto now = Clock::now();
  if (!abuse_.charge(code, now)) return false;
  const auto& l = abuse_.limits();
  const auto banned_until = now + l.ban;
  spdlog::error(
      "dropping the link with {}: {} malformed or unauthorised messages within {} s (last: {}); "
      "ignoring it for {} s",
      code, l.limit, l.window.count() / 1000, printable(what), l.ban.count() / 1000);
  if (auto it = children_.find(code); it != children_.end()) {
    peer_down(it->second, "dropped for repeated malformed or unauthorised messages");
    return true;
  }
  for (auto& u : ups_) {
    if (u->cfg.code != code) continue;
    peer_down(u->peer, "dropped for repeated malformed messages");
    close_link(*u, false);
    u->next_dial = banned_until;
  }
  return true;
}

bool Daemon::banned(const std::string& code) const {
  return abuse_.banned(code, Clock::now());
}

void Daemon::persist_custody(bool force) {
  if (!custody_dirty_) return;
  const auto now = Clock::now();
  if (!force && ms_between(custody_written_, now) < 250) return;
  for (auto& u : ups_) {
    const std::string v = encode_custody(CustodyMark{u->peer.credit.acked(), u->peer.top});
    auto old = store_->sync_get(custody_key(u->cfg.code));
    if (old.ok() && *old && **old == v) continue;
    if (u->peer.credit.acked() == 0 && u->peer.top == 0) continue;
    if (auto s = store_->sync_put(custody_key(u->cfg.code), v); !s) {
      if (s.code() == Code::no_space) {
        store_watch_.note(s, "custody marks", Clock::now());
        return;  // stays dirty: written once there is room
      }
      spdlog::error("cannot record custody marks: {}", s.message());
    }
  }
  custody_dirty_ = false;
  custody_written_ = now;
}

void Daemon::tick() {
  const auto now = Clock::now();
  audit_.flush(now);
  peer_log_.flush(now);
  if (guard_ && ms_between(guard_swept_, now) >= 5000) {
    guard_swept_ = now;
    guard_->sweep();
  }
  if (ms_between(last_lsn_check_, now) >= 20) {
    // Local writes by another process (the CLI without the daemon's help).
    auto st = store_->stats();
    last_lsn_check_ = now;
    if (st.ok() && st->last_lsn != last_lsn_) pump_all();
  }
  for (auto& u : ups_)
    tick_peer(u->peer, now);
  for (auto& [code, c] : children_)
    tick_peer(c, now);
  tick_upstreams(now);
  if (custody_refresh_due_ && ms_between(custody_refreshed_, now) >= 250) {
    custody_refresh_due_ = false;
    custody_refreshed_ = now;
    refresh_children_custody();
  }
  persist_custody(false);
  store_watch_.settle(now);
}

// ---------------------------------------------------------------------------
// Status

Status Daemon::start_desk() {
  if (!cfg_.desk.enabled) return Status::ok();
  desk::DeskOptions o{cfg_.desk, cfg_.data, cfg_.code};
  auto server = desk::DeskServer::start(o, *store_, desk_jobs_);
  if (!server.ok()) return server.status();
  desk_ = std::move(server).value();
  return Status::ok();
}

void Daemon::drain_desk() {
  const app::Context ctx{*store_, id_.sign};
  desk::LoopServices services{ctx, [this] { return status(); }};
  if (desk_jobs_.drain(services) > 0) pump_all();  // new local events go out at once
}

LinkReport Daemon::link_report(const Peer& p, bool active, uint64_t now_ms) {
  LinkReport l{
      .peer = p.code,
      .up_link = p.parent,
      .state = state_name(p.state),
      .active = active,
      .since_ms = p.since_wall_ms,
      .for_ms = p.since_wall_ms == 0 ? 0 : now_ms - std::min(now_ms, p.since_wall_ms),
      .rtt_ms = p.rtt_ms,
      .bytes_sent = p.bytes_sent,
      .bytes_received = p.bytes_received,
      .batches_sent = p.batches_sent,
      .batches_received = p.batches_received,
      .events_received = p.events_received,
      .events_rejected = p.events_rejected,
      .acked_lsn = p.credit.acked(),
      .sent_lsn = p.credit.sent(),
      .held_lsn = p.rx.lsn,
      .top_lsn = p.top,
      .unacked_events = 0,
      .oldest_unacked_age_ms = -1,
  };
  // A fallback upstream not in use owes us nothing: what it would carry
  // goes through the one in use.
  if (!p.parent || active) {
    const auto n =
        count_unacked(*store_, p.credit.acked(), last_lsn_, now_ms,
                      [&](uint64_t lsn, const sync::RouteInfo& r) { return routed(p, lsn, r); });
    l.unacked_events = n.events;
    l.oldest_unacked_age_ms = n.oldest_age_ms;
  }
  return l;
}

StatusReport Daemon::status() {
  // A refused local write marks the store too.
  store_watch_.note(Status::ok(), "local writes", Clock::now());
  NodeFacts node{
      .code = cfg_.code,
      .store_id = store_->store_id(),
      .pid = static_cast<int64_t>(::getpid()),
      .started_ms = started_wall_ms_,
      .store_full_since_ms = store_watch_.full() ? store_watch_.full_since_wall_ms() : uint64_t{0},
      .stats = {}};
  if (auto st = store_->stats(); st.ok()) node.stats = *st;
  const uint64_t now = wall_clock_ms();
  std::vector<LinkReport> links;
  for (const auto& u : ups_)
    links.push_back(link_report(u->peer, active_ == static_cast<int>(u->index), now));
  for (const auto& [code, c] : admitted_) {
    auto it = children_.find(code);
    if (it != children_.end()) {
      links.push_back(link_report(it->second, it->second.state == LinkState::up, now));
    } else {
      Peer idle;
      idle.code = code;
      idle.rx = load_rx(code);
      links.push_back(link_report(idle, false, now));
    }
  }
  return status_report(node, std::move(links));
}

// ---------------------------------------------------------------------------

void Daemon::start(int signal_fd) {
  signal_fd_ = signal_fd;
  for (const auto& c : cfg_.children)
    admitted_[c.code] = c;
  for (std::size_t i = 0; i < cfg_.upstreams.size(); ++i) {
    auto u = std::make_unique<UpLink>();
    u->index = i;
    u->cfg = cfg_.upstreams[i];
    u->peer.code = u->cfg.code;
    u->peer.parent = true;
    auto mark = store_->sync_get(custody_key(u->cfg.code));
    if (mark.ok() && *mark) {
      const auto m = decode_custody(**mark);
      u->peer.credit.set_acked(m.acked);
      u->peer.top = m.top;
    }
    ups_.push_back(std::move(u));
  }
  // Keys named in the config are the administrator's word.
  if (auto s = trust_config_keys(cfg_, *store_, audit_); !s) throw StartupError{s.message()};
  auto st = store_->stats();
  if (!st.ok()) throw StartupError{"cannot read the store: " + st.status().message()};
  last_lsn_ = st->last_lsn;
  for (auto& u : ups_) {
    auto raw = from_z85(u->cfg.curve_key);
    if (!raw || raw->size() != 32)
      throw StartupError{"config: the curve_key of upstream " + u->cfg.code + " is not a Z85 key"};
    u->server_key = *raw;
  }
  if (auto s = control_.open(ctx_, cfg_.control_endpoint); !s) throw StartupError{s.message()};
  if (cfg_.listen_endpoint) {
    if (auto s = zap_.open(ctx_, cfg_.children); !s) throw StartupError{s.message()};
  }
  open_listen();
  // A node with no peers has no one to learn its sequence numbers from.
  if (cfg_.upstreams.empty() && cfg_.children.empty()) audit_.set_ready();
}

int Daemon::loop() {
  spdlog::info("node {} ({}) running: log at {}, {} upstream(s), {} child(ren)", cfg_.code,
               level_name(cfg_.code), last_lsn_, ups_.size(), admitted_.size());
  while (!stop_) {
    std::vector<zmq::pollitem_t> items;
    items.push_back({nullptr, signal_fd_, ZMQ_POLLIN, 0});
    items.push_back({control_.socket().handle(), 0, ZMQ_POLLIN, 0});
    if (listen_) items.push_back({listen_->handle(), 0, ZMQ_POLLIN, 0});
    if (zap_.socket()) items.push_back({zap_.socket()->handle(), 0, ZMQ_POLLIN, 0});
    if (guard_) items.push_back({guard_->events().handle(), 0, ZMQ_POLLIN, 0});
    if (net_watch_.fd() >= 0) items.push_back({nullptr, net_watch_.fd(), ZMQ_POLLIN, 0});
    if (desk_) items.push_back({nullptr, desk_jobs_.fd(), ZMQ_POLLIN, 0});
    std::vector<UpLink*> polled;
    for (auto& u : ups_) {
      if (u->sock) {
        items.push_back({u->sock->handle(), 0, ZMQ_POLLIN, 0});
        polled.push_back(u.get());
      }
    }
    zmq::poll(items.data(), items.size(), milliseconds(20));
    if (items[0].revents & ZMQ_POLLIN) {
      signalfd_siginfo info;
      if (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        spdlog::info("signal {}: stopping", info.ssi_signo);
        // Commands already asked for are answered, not dropped.
        drain_control();
        stop_ = true;
        break;
      }
    }
    if (items[1].revents & ZMQ_POLLIN) drain_control();
    std::size_t next = 2;
    if (listen_) {
      if (items[next].revents & ZMQ_POLLIN) drain_listen();
      ++next;
    }
    if (zap_.socket()) {
      if (items[next].revents & ZMQ_POLLIN) zap_.drain(kMessagesPerTurn);
      ++next;
    }
    if (guard_) {
      if (items[next].revents & ZMQ_POLLIN) guard_->drain();
      ++next;
    }
    if (net_watch_.fd() >= 0) {
      if ((items[next].revents & ZMQ_POLLIN) && net_watch_.drain() && !ups_.empty()) {
        // At most once a second: an interface that flaps costs few dials.
        const auto now = Clock::now();
        if (ms_between(net_changed_, now) >= 1000) {
          net_changed_ = now;
          spdlog::info("network changed (link, address or route up): redialing upstreams now");
          redial_now(false);
        }
      }
      ++next;
    }
    if (desk_) {
      if (items[next].revents & ZMQ_POLLIN) drain_desk();
      ++next;
    }
    for (UpLink* u : polled) {
      if (items[next].revents & ZMQ_POLLIN) drain_upstream(*u);
      ++next;
    }
    tick();
  }
  // The desk first: requests in hand finish (their writes run here), then
  // no job runs any more.
  if (desk_) {
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
  // Clean stop: every transaction is committed by now (writes are
  // synchronous); say goodbye so peers need not wait for a timeout.
  for (auto& [code, c] : children_) {
    if (c.state == LinkState::up) {
      capnp::MallocMessageBuilder msg(64);
      msg.initRoot<proto::SyncMessage>().setBye();
      send_msg(c, msg);
    }
  }
  for (auto& u : ups_)
    close_link(*u, true);
  custody_dirty_ = true;
  persist_custody(true);
  audit_.flush(Clock::now(), /*all=*/true);
  guard_.reset();
  if (listen_) listen_->close();
  zap_.close();
  control_.close();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int run_daemon(const config::NodeConfig& cfg, const std::string& log_level_override,
               ControlHandler control) {
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
    Daemon d(cfg, std::move(node->store), std::move(node->id), std::move(control));
    d.start(sfd);
    if (auto s = d.start_desk(); !s) throw StartupError{s.message()};
    const int rc = d.loop();
    ::close(sfd);
    return rc;
  } catch (const StartupError& e) {
    std::fprintf(stderr, "错误：%s\n", e.message.c_str());
    return 2;
  }
}

}  // namespace liandong::node
