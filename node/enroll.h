// Enrollment (入网) at a parent: one-time join codes, the children that
// joined with one, and the [enroll] socket new nodes talk to
// (protocol/enroll.capnp). The new node's side is `liandong join`
// (node/join_command.cpp). docs/OPERATIONS.md tells the procedure.
//
// Kept in the store's sync bookkeeping (Store::sync_put), so a backup
// carries them and only the daemon, the single writer, changes them:
//   enroll/code/CODE   "1 HASH CREATED_MS EXPIRES_MS pending|used"
//                      HASH: BLAKE2b-256 of the secret, hex
//   enroll/child/CODE  "CURVE_Z85 SIGN_HEX AT_MS"
// A code is used once: the join that uses it marks it `used` in the same
// transaction that admits the child. Joins and refusals are audited
// (入网 / 入网拒绝); the audit events travel up to the county.
//
// Thread contract: the daemon's loop thread only (it polls socket()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "config/node_config.h"
#include "node/abuse.h"
#include "node/audit_log.h"
#include "node/identity.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

struct EnrolledChild {
  std::string code;
  std::string curve_key;  // Z85
  std::string sign_key;   // hex
  uint64_t at_ms = 0;
};

struct JoinCodeRecord {
  std::string code;
  std::string state;  // "pending" or "used"
  uint64_t created_ms = 0, expires_ms = 0;
};

Result<std::vector<EnrolledChild>> enrolled_children(const storage::Store& store);
Result<std::vector<JoinCodeRecord>> join_code_records(const storage::Store& store);
// The children this node admits: the config's, then the enrolled ones the
// config does not name.
std::vector<config::Child> admitted_children(const config::NodeConfig& cfg,
                                             const std::vector<EnrolledChild>& enrolled);

struct IssuedCode {
  std::string text;  // "LD-…"
  std::string code;  // the new node's
  std::string host;
  uint16_t port = 0;
  uint64_t expires_ms = 0;
};

class Enrollment {
 public:
  struct Deps {
    const config::NodeConfig& cfg;
    storage::Store& store;
    const Identity& id;
    AuditLog& audit;
    LogLimiter& log;
    // Called after a child joined or was removed: the daemon reloads the
    // children its ZAP handler and links admit.
    std::function<void()> children_changed;
    // The port of the children's [listen] socket as bound.
    std::function<uint16_t()> sync_port;
  };
  explicit Enrollment(Deps d) : d_(std::move(d)) {}

  // Binds [enroll] endpoint; nothing when the config has none.
  [[nodiscard]] Status open(zmq::context_t& ctx);
  zmq::socket_t* socket() { return sock_.get(); }
  // Answers up to `max` waiting messages.
  void drain(int max);
  void close();

  // `liandong enroll create`: a code for `code` (a node inside this one's
  // jurisdiction not yet admitted), valid for `valid`; `address` overrides
  // [enroll] address. invalid: bad input (exit 2); not_found:
  // refused (already a child, no address known).
  Result<IssuedCode> issue(const std::string& code, std::chrono::seconds valid,
                           const std::string& address);
  // `liandong enroll remove`: the child no longer admitted (a stolen
  // laptop: the county revokes its keys too). not_found: not enrolled.
  Status remove(const std::string& code, const std::string& reason, const std::string& actor);

 private:
  std::string answer(const std::string& bytes, const std::string& address);
  std::string join(const std::string& box_sender, const std::string& request,
                   const std::string& address, std::string& reason);
  void refused(const std::string& code, const std::string& address, const std::string& reason);

  Deps d_;
  std::unique_ptr<zmq::socket_t> sock_;
  uint16_t port_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
  int window_joins_ = 0;
};

}  // namespace liandong::node
