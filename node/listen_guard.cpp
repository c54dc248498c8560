#include "node/listen_guard.h"

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstring>

namespace liandong::node {

namespace {

// Handshake events carry no descriptor (libzmq 4.3 reports 0 or an error
// code), so they cannot name the connection: a connection counts as
// authenticated once a message with a User-Id arrives from its descriptor
// (mark_authenticated).
constexpr int kWatched = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED;

// Bytes the peer has sent on the connection: 0 for a connection that has
// not even sent a greeting. -1 if unknown.
int64_t bytes_received(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
    return -1;
  return static_cast<int64_t>(info.tcpi_bytes_received);
}

std::string ip_text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  } else if (a.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  } else {
    return "?";
  }
  return buf;
}

bool same_address(const sockaddr_storage& a, socklen_t alen, const sockaddr_storage& b,
                  socklen_t blen) {
  return alen == blen && std::memcmp(&a, &b, alen) == 0;
}

}  // namespace

ListenGuard::ListenGuard(zmq::context_t& ctx, zmq::socket_t& listen, Limits limits, LogLimiter& log)
    : listen_(listen), events_(ctx, zmq::socket_type::pair), limits_(limits), log_(log) {
  // The monitor's own socket blocks libzmq's I/O thread when its queue is
  // full; with no limit on our side of the pipe it never is (the loop
  // drains it every turn, a few dozen bytes an event).
  events_.set(zmq::sockopt::rcvhwm, 0);
  events_.set(zmq::sockopt::linger, 0);
  static int instance = 0;
  const std::string ep = "inproc://listen-guard-" + std::to_string(++instance);
  if (zmq_socket_monitor(listen_.handle(), ep.c_str(), kWatched) != 0) throw zmq::error_t();
  events_.connect(ep);
}

ListenGuard::~ListenGuard() {
  // Stop the events first: libzmq would block on a monitor socket whose
  // reader is gone.
  zmq_socket_monitor(listen_.handle(), nullptr, 0);
  events_.close();
}

void ListenGuard::drain(int max) {
  for (int i = 0; i < max; ++i) {
    zmq::message_t head, address;
    if (!events_.recv(head, zmq::recv_flags::dontwait)) return;
    if (head.more()) (void)events_.recv(address);
    if (head.size() < 6) continue;
    uint16_t event = 0;
    uint32_t value = 0;
    std::memcpy(&event, head.data(), 2);
    std::memcpy(&value, static_cast<const char*>(head.data()) + 2, 4);
    const int fd = static_cast<int>(value);
    switch (event) {
      case ZMQ_EVENT_ACCEPTED:
        on_accepted(fd);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        on_gone(fd);
        break;
      default:
        break;
    }
  }
}

void ListenGuard::on_accepted(int fd) {
  auto old = conns_.find(fd);
  if (old != conns_.end()) on_gone(fd);  // its close went unreported
  Conn c;
  c.seq = ++seq_;
  c.local_len = sizeof c.local;
  c.remote_len = sizeof c.remote;
  c.known = ::getsockname(fd, reinterpret_cast<sockaddr*>(&c.local), &c.local_len) == 0 &&
            ::getpeername(fd, reinterpret_cast<sockaddr*>(&c.remote), &c.remote_len) == 0;
  c.source = c.known ? ip_text(c.remote) : "?";
  ++accepted_;
  ++live_;
  ++pending_;
  ++pending_count_[c.source];
  pending_all_.emplace_back(fd, c.seq);
  pending_by_source_[c.source].emplace_back(fd, c.seq);
  const std::string source = c.source;
  conns_.emplace(fd, std::move(c));
  enforce(source);
}

void ListenGuard::stop_pending(Conn& c) {
  if (c.authenticated || c.shut) return;
  --pending_;
  auto it = pending_count_.find(c.source);
  if (it != pending_count_.end() && --it->second == 0) {
    pending_count_.erase(it);
    pending_by_source_.erase(c.source);
  }
}

void ListenGuard::mark_authenticated(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end() || it->second.authenticated || it->second.shut) return;
  stop_pending(it->second);
  it->second.authenticated = true;
}

void ListenGuard::on_gone(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (!it->second.shut) {
    stop_pending(it->second);
    --live_;
  }
  conns_.erase(it);
}

bool ListenGuard::still_same(int fd, const Conn& c) const {
  if (!c.known) return false;
  sockaddr_storage local{}, remote{};
  socklen_t llen = sizeof local, rlen = sizeof remote;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0 ||
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &rlen) != 0)
    return false;
  return same_address(local, llen, c.local, c.local_len) &&
         same_address(remote, rlen, c.remote, c.remote_len);
}

bool ListenGuard::shut_oldest(std::deque<std::pair<int, uint64_t>>& queue, const char* why) {
  auto valid = [&](const std::pair<int, uint64_t>& e) {
    auto it = conns_.find(e.first);
    return it != conns_.end() && it->second.seq == e.second && !it->second.authenticated &&
           !it->second.shut;
  };
  while (!queue.empty() && !valid(queue.front()))
    queue.pop_front();
  if (queue.empty()) return false;
  // The oldest connection that has sent nothing at all goes first (a
  // client that dials sends its greeting at once); failing that, the
  // oldest. Bounded scan.
  std::size_t pick = 0;
  int scanned = 0;
  for (std::size_t i = 0; i < queue.size() && scanned < 64; ++i) {
    if (!valid(queue[i])) continue;
    ++scanned;
    if (bytes_received(queue[i].first) == 0) {
      pick = i;
      break;
    }
  }
  const int fd = queue[pick].first;
  queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(pick));
  Conn& c = conns_.find(fd)->second;
  // Counted as gone now: libzmq closes it once it sees the shutdown.
  if (still_same(fd, c)) ::shutdown(fd, SHUT_RDWR);
  const std::string source = c.source;
  stop_pending(c);
  c.shut = true;
  --live_;
  ++shut_down_;
  log_.warn("connection limit",
            "closed a connection from {} that had not authenticated: {} (limits: {} "
            "connections, {} unauthenticated per source)",
            source, why, limits_.max_connections, limits_.max_pending_per_source);
  return true;
}

void ListenGuard::enforce(const std::string& source) {
  for (int guard = 0; guard < 64; ++guard) {
    auto n = pending_count_.find(source);
    if (n == pending_count_.end() || n->second <= limits_.max_pending_per_source) break;
    auto q = pending_by_source_.find(source);
    if (q == pending_by_source_.end() || !shut_oldest(q->second, "too many from one source")) break;
  }
  for (int guard = 0; guard < 64 && live_ > limits_.max_connections; ++guard) {
    if (!shut_oldest(pending_all_, "too many connections")) break;
  }
  // The queues keep stale entries until they reach the front; keep them
  // from growing without bound under churn.
  if (pending_all_.size() > 2 * pending_ + 1024) {
    std::deque<std::pair<int, uint64_t>> kept;
    for (const auto& e : pending_all_) {
      auto it = conns_.find(e.first);
      if (it != conns_.end() && it->second.seq == e.second && !it->second.authenticated &&
          !it->second.shut)
        kept.push_back(e);
    }
    pending_all_.swap(kept);
  }
  if (auto q = pending_by_source_.find(source);
      q != pending_by_source_.end() && q->second.size() > 2 * limits_.max_pending_per_source + 64) {
    std::deque<std::pair<int, uint64_t>> kept;
    for (const auto& e : q->second) {
      auto it = conns_.find(e.first);
      if (it != conns_.end() && it->second.seq == e.second && !it->second.authenticated &&
          !it->second.shut)
        kept.push_back(e);
    }
    q->second.swap(kept);
  }
}

void ListenGuard::sweep() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    const Conn& c = it->second;
    if (still_same(it->first, c)) {
      ++it;
      continue;
    }
    // Closed without an event we saw (or never readable): forget it.
    const int fd = it->first;
    ++it;
    on_gone(fd);
  }
}

ListenGuard::Counts ListenGuard::counts() const {
  Counts c;
  c.connections = live_;
  c.pending = pending_;
  c.accepted = accepted_;
  c.shut_down = shut_down_;
  return c;
}

}  // namespace liandong::node
