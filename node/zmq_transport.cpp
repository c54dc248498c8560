#include "node/zmq_transport.h"

#include <spdlog/spdlog.h>

#include <random>

#include "node/fd_limits.h"
#include "node/sync/abuse.h"
#include "node/sync/redial.h"
#include "protocol/crypto.h"

namespace liandong::node {

namespace {

// The children's listening socket under a flood of connections (see
// node/listen_guard.h): handshakes end after kHandshakeTimeout; at most
// kMaxPendingPerSource connections from one address may be handshaking at
// once.
constexpr std::chrono::milliseconds kHandshakeTimeout{10'000};
constexpr std::size_t kMaxPendingPerSource = 32;

}  // namespace

// Connection events of an upstream socket: a refused connect or a dropped
// connection is known at once, not after peer_timeout (with our own redial
// ZeroMQ does not reconnect, and with IMMEDIATE it drops a dead pipe's
// unread messages, a peer's Bye among them).
class LinkMonitor : public zmq::monitor_t {
 public:
  ZmqTransport::LinkEvents seen;
  bool connected = false;
  void on_event_handshake_failed_no_detail(const zmq_event_t&, const char*) override {
    seen.handshake_failure = "handshake failed";
  }
  void on_event_handshake_failed_protocol(const zmq_event_t&, const char*) override {
    seen.key_problem = true;
    seen.handshake_failure =
        "handshake failed: the parent's key is not the one configured (curve_key), or it "
        "does not speak CurveZMQ";
  }
  void on_event_handshake_failed_auth(const zmq_event_t&, const char*) override {
    seen.key_problem = true;
    seen.handshake_failure = "the parent refused our key (is this node in its [[child]] list?)";
  }
  void on_event_connected(const zmq_event_t&, const char*) override {
    connected = seen.connected = true;
  }
  void on_event_disconnected(const zmq_event_t&, const char*) override { seen.lost = true; }
  void on_event_closed(const zmq_event_t&, const char*) override { seen.lost = true; }
};

struct ZmqTransport::Up {
  std::unique_ptr<zmq::socket_t> sock;
  std::unique_ptr<LinkMonitor> monitor;  // destroyed before `sock`
  uint64_t dials = 0;
  std::string server_key;  // the parent's CurveZMQ public key, 32 raw bytes
};

ZmqTransport::ZmqTransport(zmq::context_t& ctx, const config::NodeConfig& cfg, const Identity& id,
                           LogLimiter& log)
    : ctx_(ctx), cfg_(cfg), id_(id), log_(log) {
  for (std::size_t i = 0; i < cfg_.upstreams.size(); ++i)
    ups_.push_back(std::make_unique<Up>());
}

ZmqTransport::~ZmqTransport() {
  close_all();
}

Status ZmqTransport::reset_ups() {
  for (std::size_t i = 0; i < ups_.size(); ++i)
    close_up(i);
  ups_.clear();
  for (std::size_t i = 0; i < cfg_.upstreams.size(); ++i) {
    auto raw = from_z85(cfg_.upstreams[i].curve_key);
    if (!raw || raw->size() != 32)
      return Status::invalid("config: the curve_key of upstream " + cfg_.upstreams[i].code +
                             " is not a Z85 key");
    ups_.push_back(std::make_unique<Up>());
    ups_.back()->server_key = *raw;
  }
  return Status::ok();
}

Status ZmqTransport::open() {
  if (auto s = reset_ups(); !s) return s;
  if (!cfg_.listen_endpoint) return Status::ok();
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
  // admitted carries no User-Id, and the daemon refuses every message on
  // it: the link still fails closed, one layer up.
  constexpr int kZapEnforceDomain = 93;
  const int on = 1;
  if (zmq_setsockopt(s.handle(), kZapEnforceDomain, &on, sizeof on) != 0)
    spdlog::debug("libzmq has no ZAP domain enforcement; User-Id checks enforce it");
  // Connections are counted from the first: the guard watches before bind.
  ListenGuard::Limits limits;
  limits.max_connections = max_child_connections();
  limits.max_pending_per_source = kMaxPendingPerSource;
  try {
    guard_ = std::make_unique<ListenGuard>(ctx_, s, limits, log_);
    s.bind(*cfg_.listen_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::internal("cannot listen on " + *cfg_.listen_endpoint + ": " + e.what());
  }
  spdlog::info(
      "listening for children on {} (at most {} connections, {} unauthenticated per source, "
      "handshakes time out after {} s)",
      s.get(zmq::sockopt::last_endpoint), limits.max_connections, limits.max_pending_per_source,
      kHandshakeTimeout.count() / 1000);
  return Status::ok();
}

Status ZmqTransport::dial(std::size_t i) {
  close_up(i);
  Up& up = *ups_[i];
  try {
    up.sock = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
    auto& s = *up.sock;
    // A fresh routing id each dial, CODE/NONCE: the parent binds the code to
    // our key; the nonce, which only travels encrypted, keeps any other
    // connection from claiming our routing id.
    std::random_device entropy;
    const uint64_t nonce = (uint64_t{entropy()} << 32) | entropy();
    s.set(zmq::sockopt::routing_id, sync::make_routing_id(cfg_.code, nonce));
    // We redial ourselves, with backoff and jitter: ZeroMQ's own reconnect
    // has none once capped, and thirty villages would redial in step.
    s.set(zmq::sockopt::reconnect_ivl, -1);
    // A SYN lost to a dead link is retried by the kernel only after seconds
    // that double; a dial waits kConnectTimeout for TCP, then counts as
    // failed and the next one goes after the (capped) backoff.
    s.set(zmq::sockopt::connect_timeout, static_cast<int>(sync::kConnectTimeout.count()));
    // Sends fail (EAGAIN) while not connected instead of queueing for a
    // pipe that may never come up.
    s.set(zmq::sockopt::immediate, 1);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(cfg_.sync.max_message_bytes + 4096));
    s.set(zmq::sockopt::sndhwm, 1000);
    s.set(zmq::sockopt::rcvhwm, 1000);
    s.set(zmq::sockopt::tcp_keepalive, 1);
    // CurveZMQ client: our key pair, and the parent's public key pinned
    // from the config (a server with another key fails the handshake).
    s.set(zmq::sockopt::curve_serverkey,
          zmq::const_buffer(up.server_key.data(), up.server_key.size()));
    s.set(zmq::sockopt::curve_publickey,
          zmq::const_buffer(id_.curve.pub.data(), id_.curve.pub.size()));
    s.set(zmq::sockopt::curve_secretkey,
          zmq::const_buffer(id_.curve.secret.data(), id_.curve.secret.size()));
    up.monitor = std::make_unique<LinkMonitor>();
    up.monitor->init(s, "inproc://monitor-" + std::to_string(i) + "-" + std::to_string(++up.dials),
                     ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
                         ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    s.connect(cfg_.upstreams[i].endpoint);
  } catch (const zmq::error_t& e) {
    // Out of descriptors, say: tried again later rather than end the node.
    close_up(i);
    return Status::internal(e.what());
  }
  spdlog::debug("dialing upstream {} at {}", cfg_.upstreams[i].code, cfg_.upstreams[i].endpoint);
  return Status::ok();
}

void ZmqTransport::close_up(std::size_t i) {
  ups_[i]->monitor.reset();
  ups_[i]->sock.reset();
}

bool ZmqTransport::dialed(std::size_t i) const {
  return ups_[i]->sock != nullptr;
}

bool ZmqTransport::tcp_connected(std::size_t i) const {
  return ups_[i]->monitor && ups_[i]->monitor->connected;
}

zmq::socket_t* ZmqTransport::up_socket(std::size_t i) {
  return ups_[i]->sock.get();
}

ZmqTransport::LinkEvents ZmqTransport::link_events(std::size_t i) {
  Up& up = *ups_[i];
  if (!up.monitor) return {};
  for (int k = 0; k < 16 && up.monitor->check_event(0); ++k) {
  }
  LinkEvents out = up.monitor->seen;
  up.monitor->seen = LinkEvents{};
  return out;
}

ZmqTransport::SendResult ZmqTransport::send_child(const std::string& routing_id,
                                                  const std::string& bytes) {
  if (!listen_) return SendResult::gone;
  try {
    if (!listen_->send(zmq::buffer(routing_id),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return SendResult::again;
    if (!listen_->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return SendResult::again;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) return SendResult::gone;
    log_.warn("send failed", "send to a child failed: {}", e.what());
    return SendResult::again;
  }
  return SendResult::sent;
}

ZmqTransport::SendResult ZmqTransport::send_up(std::size_t i, const std::string& bytes) {
  Up& up = *ups_[i];
  if (!up.sock) return SendResult::gone;
  try {
    if (!up.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return SendResult::again;
  } catch (const zmq::error_t& e) {
    log_.warn("send failed", "send to upstream {} failed: {}", cfg_.upstreams[i].code, e.what());
    return SendResult::again;
  }
  return SendResult::sent;
}

void ZmqTransport::drain_children(int max, const ChildHandler& on_message) {
  if (!listen_) return;
  for (int i = 0; i < max; ++i) {
    zmq::message_t rid, body;
    try {
      if (!listen_->recv(rid, zmq::recv_flags::dontwait)) return;
      if (!rid.more()) continue;
      (void)listen_->recv(body);
      while (body.more()) {  // extra frames: not ours; drop them
        zmq::message_t extra;
        (void)listen_->recv(extra);
        if (!extra.more()) break;
      }
    } catch (const zmq::error_t& e) {
      log_.warn("receive failed", "receive from the children's socket failed: {}", e.what());
      return;
    }
    // The code the ZAP handler bound to this connection's key.
    const char* user = body.gets("User-Id");
    if (guard_ && user != nullptr && *user != '\0') {
      const int fd = zmq_msg_get(body.handle(), ZMQ_SRCFD);
      if (fd >= 0) guard_->mark_authenticated(fd);
    }
    on_message(rid.to_string(), user != nullptr ? user : "", body.to_string());
  }
}

void ZmqTransport::drain_up(std::size_t i, int max,
                            const std::function<void(const std::string&)>& on_message) {
  for (int k = 0; k < max; ++k) {
    // The handler may close the link (a Refused, a Bye).
    zmq::socket_t* s = ups_[i]->sock.get();
    if (s == nullptr) return;
    zmq::message_t body;
    try {
      if (!s->recv(body, zmq::recv_flags::dontwait)) return;
      if (body.more()) {
        zmq::message_t extra;
        while (s->recv(extra, zmq::recv_flags::dontwait) && extra.more()) {
        }
        continue;
      }
    } catch (const zmq::error_t& e) {
      log_.warn("receive failed", "receive from upstream {} failed: {}", cfg_.upstreams[i].code,
                e.what());
      return;
    }
    on_message(body.to_string());
  }
}

void ZmqTransport::close_all() {
  for (std::size_t i = 0; i < ups_.size(); ++i)
    close_up(i);
  guard_.reset();
  if (listen_) listen_->close();
  listen_.reset();
}

}  // namespace liandong::node
