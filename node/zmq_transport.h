// The ZeroMQ side of the sync links (docs/PROTOCOL.md §1, §6): the
// children's listening ROUTER (CurveZMQ server, ZAP domain, its
// ListenGuard), and one DEALER per upstream dial (CurveZMQ client, a fresh
// CODE/NONCE routing id, no ZeroMQ reconnect, a monitor that tells a lost
// or refused connection at once). It moves bytes and reports connection
// events; what the bytes mean is the sessions' business (node/sync/).
//
// zmq::error_t never leaves this module while the node runs: a failed
// send is a SendResult, a failed dial a Status. Opening the listening
// socket at start-up may fail with a Status the daemon prints.
//
// Thread contract: owned by the daemon's loop thread, like every socket.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/node_config.h"
#include "node/identity.h"
#include "node/listen_guard.h"
#include "protocol/status.h"

namespace liandong::node {

class LinkMonitor;

class ZmqTransport {
 public:
  ZmqTransport(zmq::context_t& ctx, const config::NodeConfig& cfg, const Identity& id,
               LogLimiter& log);
  ~ZmqTransport();
  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  // Binds the children's socket when the config has [listen]. invalid: an
  // upstream's curve_key is not a Z85 key; internal: it cannot bind.
  [[nodiscard]] Status open();

  enum class SendResult { sent, again, gone };
  // One message to a child by its routing id. `gone`: it is not connected
  // (ROUTER_MANDATORY); `again`: the pipe is full.
  SendResult send_child(const std::string& routing_id, const std::string& bytes);
  // One message to upstream `i` on its current dial.
  SendResult send_up(std::size_t i, const std::string& bytes);

  // A fresh dial of upstream `i` (the previous one closed first).
  [[nodiscard]] Status dial(std::size_t i);
  void close_up(std::size_t i);
  bool dialed(std::size_t i) const;
  // The TCP connection of the dial is up (the handshake may not be).
  bool tcp_connected(std::size_t i) const;

  // What the monitor of upstream `i` saw since last asked.
  struct LinkEvents {
    bool lost = false;              // the connection closed or never came
    bool connected = false;         // TCP came up at some point of this dial
    bool key_problem = false;       // the CurveZMQ handshake failed on keys
    std::string handshake_failure;  // why the handshake failed, if it did
  };
  LinkEvents link_events(std::size_t i);

  // Polling: the loop adds these sockets, then calls drain_* for the ones
  // that are readable (at most `max` messages each).
  zmq::socket_t* listen_socket() { return listen_.get(); }
  zmq::socket_t* up_socket(std::size_t i);
  ListenGuard* guard() { return guard_.get(); }
  // `user` is the code the ZAP handler bound to the connection's key
  // ("" when none did).
  using ChildHandler = std::function<void(const std::string& routing_id, const std::string& user,
                                          const std::string& bytes)>;
  void drain_children(int max, const ChildHandler& on_message);
  void drain_up(std::size_t i, int max, const std::function<void(const std::string&)>& on_message);

  // The config's [[upstream]] list changed: every upstream socket is
  // closed and one slot made per upstream now listed (not dialled).
  [[nodiscard]] Status reset_ups();

  // Bye to the children and the upstreams is the sessions'; this closes
  // every socket (linger bounded).
  void close_all();

 private:
  struct Up;
  zmq::context_t& ctx_;
  const config::NodeConfig& cfg_;
  const Identity& id_;
  LogLimiter& log_;
  std::unique_ptr<zmq::socket_t> listen_;
  std::unique_ptr<ListenGuard> guard_;  // destroyed before listen_ is closed
  std::vector<std::unique_ptr<Up>> ups_;
};

}  // namespace liandong::node
