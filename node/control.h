// The local control path between the CLI and a running daemon.
//
// A daemon holds an exclusive flock on DATA/daemon.lock for as long as it
// runs (so two daemons never share a data directory) and writes its pid and
// control endpoint into it. The CLI finds a running daemon through that
// lock and sends it the command's arguments and files over the control
// socket (protocol/control.capnp; ZeroMQ REQ -> ROUTER, ipc:// by default); the daemon runs the
// command on its own store through its single writer and returns exit code, stdout and stderr.
//
// Thread contract: DaemonLock is owned by the daemon's main thread;
// find_daemon and call_daemon are plain functions.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "protocol/control_codec.h"
#include "protocol/status.h"

namespace liandong::node {

class DaemonLock {
 public:
  // Takes the lock or fails with the pid of the daemon that holds it.
  static Result<DaemonLock> acquire(const std::filesystem::path& data,
                                    const std::string& control_endpoint);
  DaemonLock(DaemonLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DaemonLock& operator=(DaemonLock&&) = delete;
  ~DaemonLock();

 private:
  explicit DaemonLock(int fd) : fd_(fd) {}
  int fd_;
};

struct RunningDaemon {
  long pid = 0;
  std::string control_endpoint;
};
// The daemon running on `data`, if one holds its lock.
std::optional<RunningDaemon> find_daemon(const std::filesystem::path& data);

// The one client of the control socket: sends `request`
// (protocol/control.capnp) and waits for the reply: disconnected when no
// answer came within `timeout`, or as soon as `alive` (asked a few times a
// second) says the daemon is gone; corruption for a reply that is not one.
Result<ControlReply> call_daemon(const std::string& endpoint, const ControlRequest& request,
                                 std::chrono::milliseconds timeout,
                                 const std::function<bool()>& alive = {});

}  // namespace liandong::node
