// The ZAP handler (ZeroMQ's authentication protocol, RFC 27) for the
// children's CurveZMQ handshakes on the listening socket: admits only the
// public keys the config names, and binds each to its child's code (the
// User-Id every message on that connection then carries). Anything else —
// an unknown key, a malformed request — is refused. Admissions and
// refusals go to the audit log; every log line is rate-limited.
//
// Thread contract: owned by the daemon's loop thread, which polls
// socket() and calls drain() when it is readable.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/node_config.h"
#include "node/abuse.h"
#include "node/audit_log.h"
#include "protocol/status.h"

namespace liandong::node {

class ZapHandler {
 public:
  ZapHandler(LogLimiter& log, AuditLog& audit) : log_(log), audit_(audit) {}

  // Reads the children's keys and binds the handler in `ctx`. invalid: a
  // child's curve_key is not a Z85 key (the daemon refuses to start).
  // With LIANDONG_FAULT_NO_ZAP=1 (a test switch) no handler is bound, so
  // that the links' fail-closed behaviour can be shown; socket() is then
  // null.
  [[nodiscard]] Status open(zmq::context_t& ctx, const std::vector<config::Child>& children);

  // The handler's socket, or null when none is bound.
  zmq::socket_t* socket() { return sock_.get(); }
  // The children admitted from now on (a reloaded config, a child that
  // joined or was removed): later handshakes are judged by these.
  // invalid: a curve_key is not a Z85 key (the old set is kept).
  [[nodiscard]] Status set_children(const std::vector<config::Child>& children);
  // Answers up to `max` pending requests: 200 with the child's code as user
  // id for a configured key, else 400.
  void drain(int max);
  void close();

 private:
  LogLimiter& log_;
  AuditLog& audit_;
  std::unique_ptr<zmq::socket_t> sock_;
  std::map<std::string, std::string> child_by_curve_key_;  // raw 32-byte key -> code
};

}  // namespace liandong::node
