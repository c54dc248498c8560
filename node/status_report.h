// `liandong status` as the running daemon answers it (node/render.h
// StatusReport): the node's totals and, per link, how much of our log the
// peer has not acknowledged yet and how old the oldest of it is.
//
// status_report is pure (plain data in, the report out); count_unacked
// reads the store's log and nothing else.
//
// Thread contract: none; the daemon calls both on its loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "node/render.h"
#include "protocol/sync_codec.h"
#include "storage/store.h"

namespace liandong::node {

struct UnackedCount {
  uint64_t events = 0;
  int64_t oldest_age_ms = -1;  // -1: nothing unacked
};
// The events of our log after `acked` that `routed` (lsn, route) says go
// to the peer, and the age at `now_ms` (wall clock) of the first of them.
// Bounded: a status call must not stall the loop behind a huge backlog;
// past 200,000 log entries the count reads as "at least". Nothing when
// `acked` is at or past `last_lsn`.
UnackedCount count_unacked(const storage::Store& store, uint64_t acked, uint64_t last_lsn,
                           uint64_t now_ms,
                           const std::function<bool(uint64_t, const sync::RouteInfo&)>& routed);

// What the daemon knows of itself at the moment of the report.
struct NodeFacts {
  std::string code, store_id;
  int64_t pid = 0;
  uint64_t started_ms = 0;
  uint64_t store_full_since_ms = 0;          // 0: the store has room
  std::optional<storage::StoreStats> stats;  // none: the store's totals are unreadable
};
StatusReport status_report(const NodeFacts& node, std::vector<LinkReport> links);

}  // namespace liandong::node
