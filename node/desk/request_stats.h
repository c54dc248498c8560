// What the desk served, counted for the metrics endpoint (node/metrics.h):
// requests by route class and status class, and how long they took, as a
// histogram per route class.
//
// Thread contract: add() from any of the desk's threads, snapshot() from
// any thread; relaxed atomics, no lock: counting costs a request a few
// uncontended increments.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace liandong::desk {

// The kinds of route the desk has (docs/DESK.md):
//   page    GET of a page or asset (anything not under /api/)
//   read    GET /api/... (lists, a case, the catalog, reports)
//   write   POST /api/... (login, an application, an action)
//   file    GET of an attachment's bytes (/api/cases/ID/files/HASH)
//   public  GET /api/public... (办事结果公开, no login)
//   other   any other method
enum class RouteClass : uint8_t { page, read, write, file, public_results, other };
inline constexpr std::size_t kRouteClasses = 6;
const char* route_class_name(RouteClass c);  // "page", "read", ...
RouteClass route_class(std::string_view method, std::string_view path);

// Upper bounds of the latency buckets, in seconds; a last bucket above them.
inline constexpr std::array<double, 11> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,   1,    2.5,   5,    10};

class RequestStats {
 public:
  struct Snapshot {
    // [route class][status class]: 1xx .. 5xx (index 0 .. 4; anything
    // outside 100..599 counts as 5xx).
    std::array<std::array<uint64_t, 5>, kRouteClasses> requests{};
    struct Latency {
      std::array<uint64_t, kLatencyBounds.size() + 1> buckets{};  // per bucket, not cumulative
      double sum_seconds = 0;
    };
    std::array<Latency, kRouteClasses> latency{};
  };

  // One request answered with `status` after `seconds` (negative: not
  // timed, counted only).
  void add(RouteClass c, int status, double seconds);
  Snapshot snapshot() const;

 private:
  std::array<std::array<std::atomic<uint64_t>, 5>, kRouteClasses> requests_{};
  std::array<std::array<std::atomic<uint64_t>, kLatencyBounds.size() + 1>, kRouteClasses>
      buckets_{};
  std::array<std::atomic<uint64_t>, kRouteClasses> sum_us_{};
};

}  // namespace liandong::desk
