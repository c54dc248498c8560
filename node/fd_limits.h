// The daemon's open-descriptor budget: every connection a node holds costs
// one descriptor, so the soft limit is raised at start, and the children's
// listening socket admits only as many connections as the limit leaves
// room for (node/listen_guard.h).
//
// Thread contract: none; called by the daemon's main thread at start-up.
#pragma once

#include <cstddef>

namespace liandong::node {

// Raises the soft limit of open descriptors to the hard one, and logs
// whether it could.
void raise_fd_limit();

// How many connections the children's listening socket may hold at once:
// at most kMaxChildConnections, and under the descriptor limit less
// kReservedFds (the store, the control socket, the upstream links,
// libzmq's own descriptors); never fewer than 64.
inline constexpr std::size_t kMaxChildConnections = 4096;
inline constexpr std::size_t kReservedFds = 256;
std::size_t max_child_connections();

}  // namespace liandong::node
