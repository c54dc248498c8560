// What goes to a peer next from our log (docs/PROTOCOL.md §4.1, §4.2): the
// next batch after the position sent so far, by the routing rule, closed at
// batch_max_events events or batch_max_bytes bytes; and whether it goes now
// (CreditWindow::release decides that: Nagle, cursor-only batches).
//
// Thread contract: pure functions over a LogView.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/sync/log_view.h"

namespace liandong::sync {

struct BatchLimits {
  std::size_t max_events = 512;
  std::size_t max_bytes = 256 * 1024;
};

// A stretch (from, to] of our log in which nothing is routed to the peer
// under `route`; `to_id` is the event at `to`. A session keeps the one its
// last plan found, so that a batch held back (Nagle, or a cursor-only one
// waiting for the heartbeat) is not planned by reading the same entries
// again on the next pump: at a county with hundreds of children, every
// stored batch pumps every child.
struct QuietStretch {
  uint64_t from = 0, to = 0;
  Id to_id;
  uint64_t recover_until = 0;  // the route's, when it was found
};

// The range (from, to] of our log, with the events of it routed to the
// peer. An empty `events` only moves the peer's cursor.
struct PlannedBatch {
  uint64_t from = 0, to = 0;
  Id last_id;  // the event at `to`, routed or not
  std::vector<std::string> events;
  std::size_t bytes = 0;
  bool reached_end = false;  // `to` is the end of the log
  bool full = false;         // as many events or bytes as a batch takes
  // (from, quiet.to]: the entries read before the first one routed.
  QuietStretch quiet;
};

// The next batch after `from`; nullopt when the log ends at `from`. Reads
// at most 8 * max_events entries: a long stretch with nothing for the peer
// is sent as several cursor-only batches. With `known` (a quiet stretch
// from `from` found earlier under the same route) the reading starts at
// its end. A log read error is returned.
Result<std::optional<PlannedBatch>> plan_batch(const LogView& log, const Route& route,
                                               uint64_t from, const BatchLimits& limits,
                                               const QuietStretch* known = nullptr);

}  // namespace liandong::sync
