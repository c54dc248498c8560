#include "node/sync/batch_plan.h"

namespace liandong::sync {

Result<std::optional<PlannedBatch>> plan_batch(const LogView& log, const Route& route,
                                               uint64_t from, const BatchLimits& limits,
                                               const QuietStretch* known) {
  const uint64_t end = log.end();
  if (from >= end) return std::optional<PlannedBatch>{};
  PlannedBatch b;
  b.from = b.to = from;
  if (known && known->from == from && known->recover_until == route.recover_until &&
      known->to > from && known->to <= end) {
    b.to = known->to;
    b.last_id = known->to_id;
  }
  bool quiet = true;
  b.quiet = QuietStretch{from, b.to, b.last_id, route.recover_until};
  const std::size_t max_events = limits.max_events == 0 ? 1 : limits.max_events;
  auto s = log.scan(b.to, max_events * 8, [&](const LogEntry& e) {
    if (routed(route, e.lsn, *e.route)) {
      quiet = false;
      // A single larger event still goes alone.
      if (!b.events.empty() && b.bytes + e.sealed.size() > limits.max_bytes) return false;
      b.events.emplace_back(e.sealed);
      b.bytes += e.sealed.size();
    }
    b.to = e.lsn;
    b.last_id = e.route->id;
    if (quiet) {
      b.quiet.to = e.lsn;
      b.quiet.to_id = e.route->id;
    }
    return b.events.size() < max_events;
  });
  if (!s) return s;
  if (b.to == from) return std::optional<PlannedBatch>{};
  // The log may have grown since end() was read: what the scan read is
  // part of it.
  b.reached_end = b.to >= std::max(end, log.end());
  b.full = b.events.size() >= max_events || b.bytes >= limits.max_bytes;
  return std::optional<PlannedBatch>(std::move(b));
}

}  // namespace liandong::sync
