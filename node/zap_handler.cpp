#include "node/zap_handler.h"

#include <spdlog/spdlog.h>
#include <cstdlib>

#include "protocol/crypto.h"

namespace liandong::node {

Status ZapHandler::set_children(const std::vector<config::Child>& children) {
  std::map<std::string, std::string> next;
  for (const auto& c : children) {
    auto raw = from_z85(c.curve_key);
    if (!raw || raw->size() != 32)
      return Status::invalid("config: the curve_key of child " + c.code + " is not a Z85 key");
    next[*raw] = c.code;
  }
  child_by_curve_key_ = std::move(next);
  return Status::ok();
}

Status ZapHandler::open(zmq::context_t& ctx, const std::vector<config::Child>& children) {
  if (auto s = set_children(children); !s) return s;
  if (const char* f = std::getenv("LIANDONG_FAULT_NO_ZAP"); f != nullptr && *f == '1') {
    spdlog::warn("fault injection: no ZAP handler; every child will be refused");
    return Status::ok();
  }
  sock_ = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::rep);
  sock_->set(zmq::sockopt::linger, 0);
  sock_->bind("inproc://zeromq.zap.01");
  return Status::ok();
}

void ZapHandler::close() {
  if (sock_) sock_->close();
}

// One request: [version "1.0", request id, domain, address, routing id,
// mechanism, credentials...]; anything malformed is refused.
void ZapHandler::drain(int max) {
  if (!sock_) return;
  for (int i = 0; i < max; ++i) {
    std::vector<std::string> f;
    zmq::message_t m;
    if (!sock_->recv(m, zmq::recv_flags::dontwait)) return;
    f.push_back(m.to_string());
    while (m.more() && f.size() < 16) {
      if (!sock_->recv(m)) break;
      f.push_back(m.to_string());
    }
    const std::string version = f.size() > 0 ? f[0] : "";
    const std::string request = f.size() > 1 ? f[1] : "";
    std::string status = "400", text = "refused", user;
    if (f.size() >= 7 && f[0] == "1.0" && f[2] == "liandong" && f[5] == "CURVE") {
      const std::string& address = f[3];
      auto it = child_by_curve_key_.find(f[6]);
      if (it != child_by_curve_key_.end()) {
        status = "200";
        text = "OK";
        user = it->second;
        log_.debug("admitted child", "admitted child {} from {}", user, printable(address));
        audit_.note(audit_note(proto::AuditWhat::CONNECTION_ADMITTED, user, address,
                               "CurveZMQ " + to_z85(f[6]), ""));
      } else {
        text = "unknown key";
        log_.warn("unknown key",
                  "refused a connection from {}: its CurveZMQ key {} is not a configured child",
                  printable(address), to_z85(f[6]));
        audit_.note(audit_note(proto::AuditWhat::CONNECTION_REFUSED, "", address,
                               "CurveZMQ " + to_z85(f[6]), "unknown key: not a configured child"));
      }
    } else {
      log_.warn("malformed ZAP request", "refused a malformed ZAP request ({} frames)", f.size());
      audit_.note(audit_note(proto::AuditWhat::CONNECTION_REFUSED, "", f.size() > 3 ? f[3] : "", "",
                             "malformed ZAP request"));
    }
    try {
      sock_->send(zmq::buffer(version.empty() ? std::string("1.0") : version),
                  zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(request), zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(status), zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(text), zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(user), zmq::send_flags::sndmore);
      sock_->send(zmq::str_buffer(""), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      log_.error("ZAP reply failed", "ZAP reply failed: {}", e.what());
    }
  }
}

}  // namespace liandong::node
