#include "node/desk/request_stats.h"

namespace liandong::desk {

const char* route_class_name(RouteClass c) {
  switch (c) {
    case RouteClass::page:
      return "page";
    case RouteClass::read:
      return "read";
    case RouteClass::write:
      return "write";
    case RouteClass::file:
      return "file";
    case RouteClass::public_results:
      return "public";
    case RouteClass::other:
      break;
  }
  return "other";
}

RouteClass route_class(std::string_view method, std::string_view path) {
  const bool api = path.starts_with("/api/");
  if (method == "POST") return api ? RouteClass::write : RouteClass::other;
  if (method != "GET" && method != "HEAD") return RouteClass::other;
  if (!api) return RouteClass::page;
  if (path.starts_with("/api/public")) return RouteClass::public_results;
  // /api/cases/ID/files/HASH: the bytes of one attachment.
  if (path.starts_with("/api/cases/")) {
    const auto files = path.find("/files/");
    if (files != std::string_view::npos && files + 7 < path.size()) return RouteClass::file;
  }
  return RouteClass::read;
}

void RequestStats::add(RouteClass c, int status, double seconds) {
  const auto at = static_cast<std::size_t>(c);
  const std::size_t cls =
      status >= 100 && status < 600 ? static_cast<std::size_t>(status / 100 - 1) : std::size_t{4};
  requests_[at][cls].fetch_add(1, std::memory_order_relaxed);
  if (seconds < 0) return;
  std::size_t b = 0;
  while (b < kLatencyBounds.size() && seconds > kLatencyBounds[b])
    ++b;
  buckets_[at][b].fetch_add(1, std::memory_order_relaxed);
  sum_us_[at].fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

RequestStats::Snapshot RequestStats::snapshot() const {
  Snapshot s;
  for (std::size_t c = 0; c < kRouteClasses; ++c) {
    for (std::size_t k = 0; k < 5; ++k)
      s.requests[c][k] = requests_[c][k].load(std::memory_order_relaxed);
    for (std::size_t b = 0; b < buckets_[c].size(); ++b)
      s.latency[c].buckets[b] = buckets_[c][b].load(std::memory_order_relaxed);
    s.latency[c].sum_seconds =
        static_cast<double>(sum_us_[c].load(std::memory_order_relaxed)) / 1e6;
  }
  return s;
}

}  // namespace liandong::desk
