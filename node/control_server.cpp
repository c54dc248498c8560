#include "node/control_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <vector>

#include "node/input_files.h"
#include "protocol/control_codec.h"

namespace liandong::node {

namespace {

// The socket file of an ipc:// endpoint, or "" for another transport.
std::string ipc_path(const std::string& endpoint) {
  return endpoint.rfind("ipc://", 0) == 0 ? endpoint.substr(6) : std::string();
}

}  // namespace

Status ControlServer::open(zmq::context_t& ctx, const std::string& endpoint) {
  endpoint_ = endpoint;
  sock_ = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::router);
  sock_->set(zmq::sockopt::linger, 0);
  sock_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxControlMessageBytes));
  const std::string path = ipc_path(endpoint);
  if (!path.empty()) ::unlink(path.c_str());
  try {
    sock_->bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::internal("cannot open control socket " + endpoint + ": " + e.what());
  }
  // Only this OS user may connect (connecting needs write permission).
  if (!path.empty()) ::chmod(path.c_str(), 0600);
  return Status::ok();
}

void ControlServer::close() {
  if (!sock_) return;
  sock_->close();
  if (const std::string path = ipc_path(endpoint_); !path.empty()) ::unlink(path.c_str());
}

void ControlServer::drain(const ControlHandler& handler, const DaemonContext& context,
                          const std::function<void()>& after_each) {
  for (int i = 0; i < 16; ++i) {
    std::vector<std::string> frames;
    zmq::message_t m;
    if (!sock_->recv(m, zmq::recv_flags::dontwait)) return;
    frames.push_back(m.to_string());
    while (m.more() && frames.size() < 4) {
      if (!sock_->recv(m)) break;
      frames.push_back(m.to_string());
    }
    while (m.more() && sock_->recv(m)) {
    }
    // [client id, "", request] from a REQ socket (protocol/control.capnp).
    if (frames.size() < 2 || !frames[1].empty()) continue;
    ControlReply reply;
    auto request = frames.size() == 3
                       ? decode_control_request(frames[2], kMaxForwardedFileBytes)
                       : Result<ControlRequest>(Status::invalid(
                             "control request: not one message (a liandong of another version?)"));
    if (!request.ok()) {
      reply.exit_code = 2;
      reply.err = "错误：" + request.status().message() + "\n";
    } else {
      DaemonContext ctx = context;
      reply = handler(*request, ctx);
    }
    const std::string bytes = encode_control_reply(reply);
    try {
      sock_->send(zmq::buffer(frames[0]), zmq::send_flags::sndmore);
      sock_->send(zmq::str_buffer(""), zmq::send_flags::sndmore);
      sock_->send(zmq::buffer(bytes), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      spdlog::warn("control reply failed: {}", e.what());
    }
    after_each();
  }
}

}  // namespace liandong::node
