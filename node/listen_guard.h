// Guard of the socket the children dial: bounds how many TCP connections it
// holds, and how many of them from one source address have not yet
// authenticated, so that idle or half-open connections from a host with no
// key cannot take every file descriptor of the daemon.
//
// libzmq has no per-listener connection limit (ZMQ_MAX_SOCKETS counts
// ZeroMQ sockets, not the connections of one; ZMQ_BACKLOG only bounds the
// kernel's queue of connections not yet accepted), and unbinding a TCP
// listener closes the connections it accepted, admitted children's too. So
// the guard watches the listening socket's monitor events — accepted (with
// the connection's descriptor) and disconnected — and learns that a
// connection authenticated when a message carrying a User-Id (the CurveZMQ
// handshake done, the ZAP handler admitted the key) arrives from its
// descriptor (ZMQ_SRCFD; libzmq's handshake events name no descriptor).
// When a limit is passed it shuts down (shutdown(2), never close(2): the
// descriptor stays libzmq's, which then closes the connection as a peer's
// hang-up) a connection that has not authenticated, from the source that
// is over its limit or from any source when the total is: the oldest that
// has not sent a single byte (TCP_INFO; a client that dials sends its
// greeting at once), else the oldest. Authenticated connections are never
// shut down by the guard. Handshakes that never
// finish end at the listening socket's ZMQ_HANDSHAKE_IVL anyway.
//
// Events reach the guard after the fact, so a descriptor it names may have
// been closed and reused meanwhile: before shutting one down the guard
// checks that the descriptor still carries the same TCP connection (local
// and remote address and port, as recorded when it was accepted), and
// forgets connections a periodic sweep finds gone.
//
// Thread contract: the daemon's loop thread owns the guard and the socket
// it watches; create the guard before binding the socket, destroy it
// before closing the socket.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <zmq.hpp>

#include "node/abuse.h"

namespace liandong::node {

class ListenGuard {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::size_t max_connections = 4096;       // all connections of the listening socket
    std::size_t max_pending_per_source = 32;  // not yet authenticated, per source address
  };
  struct Counts {
    std::size_t connections = 0, pending = 0;
    uint64_t accepted = 0, shut_down = 0;
  };

  // Starts watching `listen`. Throws zmq::error_t if libzmq cannot monitor it.
  ListenGuard(zmq::context_t& ctx, zmq::socket_t& listen, Limits limits, LogLimiter& log);
  ~ListenGuard();
  ListenGuard(const ListenGuard&) = delete;
  ListenGuard& operator=(const ListenGuard&) = delete;

  // The socket the loop polls for the monitor's events.
  zmq::socket_t& events() { return events_; }
  // Handles the events waiting (at most `max`), shutting connections down
  // as the limits say.
  void drain(int max = 4096);
  // A message with a User-Id (an admitted key) came from descriptor `fd`
  // (ZeroMQ's ZMQ_SRCFD): the guard never shuts that connection down.
  void mark_authenticated(int fd);
  // Forgets connections whose descriptor no longer carries them (call now
  // and then; cheap).
  void sweep();
  Counts counts() const;
  const Limits& limits() const { return limits_; }

 private:
  struct Conn {
    uint64_t seq = 0;
    std::string source;  // remote IP address, as text
    sockaddr_storage local{}, remote{};
    socklen_t local_len = 0, remote_len = 0;
    bool known = false;  // the addresses could be read at accept time
    bool authenticated = false;
    bool shut = false;  // shut down by the guard; libzmq has not said it closed yet
  };
  void on_accepted(int fd);
  void on_gone(int fd);
  void enforce(const std::string& source);
  // Shuts down the oldest pending connection in `queue`; false if none.
  bool shut_oldest(std::deque<std::pair<int, uint64_t>>& queue, const char* why);
  bool still_same(int fd, const Conn& c) const;
  void stop_pending(Conn& c);

  zmq::socket_t& listen_;
  zmq::socket_t events_;
  Limits limits_;
  LogLimiter& log_;
  std::map<int, Conn> conns_;  // by descriptor
  // Pending connections in accept order (descriptor, seq); entries that no
  // longer match conns_ are skipped and dropped lazily.
  std::deque<std::pair<int, uint64_t>> pending_all_;
  std::map<std::string, std::deque<std::pair<int, uint64_t>>> pending_by_source_;
  std::map<std::string, std::size_t> pending_count_;
  std::size_t live_ = 0, pending_ = 0;  // not counting those shut down
  uint64_t seq_ = 0, accepted_ = 0, shut_down_ = 0;
};

}  // namespace liandong::node
