// The daemon's end of the control path (node/control.h): a ROUTER on the
// control endpoint (ipc:// by default, readable and writable only by the
// daemon's OS user) where the CLI's REQ sockets bring one checked command
// each (protocol/control.capnp). Each command is decoded with its limits,
// run by the ControlHandler main's wiring gave the daemon, and answered
// with its exit code and output; a malformed request is answered (exit
// code 2) and nothing runs.
//
// Thread contract: owned by the daemon's loop thread, which polls socket()
// and calls drain() when it is readable; the handler runs on that thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "node/daemon_context.h"
#include "protocol/status.h"

namespace liandong::node {

class ControlServer {
 public:
  // Binds `endpoint` in `ctx`, removing first the stale socket file a
  // killed daemon left behind (the daemon lock, held by the caller, proves
  // no other daemon uses it). internal: it cannot be bound.
  [[nodiscard]] Status open(zmq::context_t& ctx, const std::string& endpoint);

  zmq::socket_t& socket() { return *sock_; }
  // Runs up to 16 pending commands with `handler`, each on its own copy of
  // `context`, and calls `after_each` after each answer.
  void drain(const ControlHandler& handler, const DaemonContext& context,
             const std::function<void()>& after_each);
  // Closes the socket and removes its ipc:// file.
  void close();

 private:
  std::unique_ptr<zmq::socket_t> sock_;
  std::string endpoint_;
};

}  // namespace liandong::node
