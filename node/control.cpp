#include "node/control.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <zmq.hpp>

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

fs::path lock_path(const fs::path& data) {
  return data / "daemon.lock";
}

}  // namespace

Result<DaemonLock> DaemonLock::acquire(const fs::path& data, const std::string& control_endpoint) {
  const fs::path path = lock_path(data);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::invalid("cannot open " + path.string() + ": " + std::strerror(errno));
  // A CLI command probing for a daemon (find_daemon) holds a shared lock
  // for an instant: a start that meets one tries again for a while; a
  // running daemon holds the lock for good.
  bool locked = false;
  for (int attempt = 0; attempt < 100 && !locked; ++attempt) {
    locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!locked) {
    ::close(fd);
    auto running = find_daemon(data);
    return Status::invalid("another liandong daemon runs on " + data.string() +
                           (running ? " (pid " + std::to_string(running->pid) + ")" : ""));
  }
  const std::string text = std::to_string(::getpid()) + "\n" + control_endpoint + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
    ::close(fd);
    return Status::invalid("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return DaemonLock(fd);
}

DaemonLock::~DaemonLock() {
  if (fd_ >= 0) {
    (void)::ftruncate(fd_, 0);
    ::close(fd_);  // releases the flock
  }
}

std::optional<RunningDaemon> find_daemon(const fs::path& data) {
  const fs::path path = lock_path(data);
  // O_NONBLOCK: a FIFO put in place of the lock file must not block the CLI.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const bool free = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  if (free) {
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return std::nullopt;
  }
  ::close(fd);
  std::ifstream in(path);
  RunningDaemon d;
  in >> d.pid >> d.control_endpoint;
  if (d.control_endpoint.empty()) return std::nullopt;
  return d;
}

Result<ControlReply> call_daemon(const std::string& endpoint, const ControlRequest& request,
                                 std::chrono::milliseconds timeout,
                                 const std::function<bool()>& alive) {
  try {
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::req);
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
    sock.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxControlMessageBytes));
    sock.connect(endpoint);
    const std::string bytes = encode_control_request(request);
    if (bytes.size() > kMaxControlMessageBytes)
      return Status::invalid("the command and its files are larger than the daemon takes (" +
                             std::to_string(kMaxControlMessageBytes) + " bytes)");
    if (!sock.send(zmq::buffer(bytes), zmq::send_flags::none))
      return Status::disconnected("the daemon at " + endpoint + " does not take commands");
    // Wait in slices, so a daemon that stops or dies meanwhile is noticed
    // at once instead of after the whole timeout.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(200));
      if (item.revents & ZMQ_POLLIN) break;
      if (std::chrono::steady_clock::now() >= deadline)
        return Status::disconnected("no answer from the daemon at " + endpoint);
      if (alive && !alive())
        return Status::disconnected(
            "the daemon stopped before answering; check with `liandong case list` whether the "
            "command was carried out");
    }
    zmq::message_t m;
    if (!sock.recv(m, zmq::recv_flags::dontwait))
      return Status::disconnected("torn answer from the daemon at " + endpoint);
    if (m.more()) return Status::corruption("malformed answer from the daemon");
    auto reply = decode_control_reply(m.to_string_view());
    if (!reply.ok())
      return Status::corruption("malformed answer from the daemon: " + reply.status().message());
    return std::move(reply).value();
  } catch (const zmq::error_t& e) {
    return Status::disconnected("cannot reach the daemon at " + endpoint + ": " + e.what());
  }
}

}  // namespace liandong::node
