#include "node/fd_limits.h"

#include <sys/resource.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstdint>

namespace liandong::node {

std::size_t max_child_connections() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return kMaxChildConnections;
  const std::size_t soft = static_cast<std::size_t>(rl.rlim_cur);
  if (soft <= kReservedFds + 64) return 64;
  return std::min(kMaxChildConnections, soft - kReservedFds);
}

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t before = rl.rlim_cur;
  rlim_t want = rl.rlim_max;
  if (want == RLIM_INFINITY) want = rlim_t{1} << 20;
  if (want <= before) return;
  rl.rlim_cur = want;
  if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
    spdlog::info("open files limit raised from {} to {}", static_cast<uint64_t>(before),
                 static_cast<uint64_t>(want));
  } else {
    spdlog::warn("cannot raise the open files limit from {}", static_cast<uint64_t>(before));
  }
}

}  // namespace liandong::node
