#include "node/net_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace liandong::node {

NetWatch::NetWatch() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return;
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups =
      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

NetWatch::~NetWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool NetWatch::drain() {
  if (fd_ < 0) return false;
  bool came_up = false;
  alignas(nlmsghdr) char buf[8192];
  // Bounded: a flood of notifications cannot hold the loop.
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      // ENOBUFS: notifications were lost; something changed, so say so.
      if (errno == ENOBUFS) came_up = true;
      break;
    }
    if (n == 0) break;
    auto len = static_cast<unsigned>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      switch (h->nlmsg_type) {
        case RTM_NEWLINK: {
          if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) break;
          const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
          if ((ifi->ifi_flags & IFF_UP) != 0 && (ifi->ifi_flags & IFF_RUNNING) != 0) came_up = true;
          break;
        }
        case RTM_NEWADDR:
        case RTM_NEWROUTE:
          came_up = true;
          break;
        default:
          break;
      }
    }
  }
  return came_up;
}

}  // namespace liandong::node
