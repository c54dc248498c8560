// Notice that the network came back: a netlink socket subscribed to link,
// address and route changes (RTMGRP_LINK, RTMGRP_IPV4_IFADDR,
// RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_*). When an interface comes up or a
// route or address appears, the daemon redials its upstreams at once
// instead of waiting for the backoff: a village's 4G modem that regains
// its link is used within a second.
//
// Best effort: where netlink is not available (another OS, a sandbox
// without it) the watcher stays closed and the short redial backoff of
// node/sync/redial.h alone brings the link back.
//
// Thread contract: owned and polled by the daemon's loop thread.
#pragma once

#include <chrono>

namespace liandong::node {

class NetWatch {
 public:
  NetWatch();
  ~NetWatch();
  NetWatch(const NetWatch&) = delete;
  NetWatch& operator=(const NetWatch&) = delete;

  // The descriptor to poll for input, or -1 when not watching.
  int fd() const { return fd_; }
  // Reads what arrived (without blocking). True when it says a link came
  // up, or an address or route was added: worth redialing now.
  bool drain();

 private:
  int fd_ = -1;
};

}  // namespace liandong::node
