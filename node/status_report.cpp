#include "node/status_report.h"

#include "protocol/event_codec.h"

namespace liandong::node {

UnackedCount count_unacked(const storage::Store& store, uint64_t acked, uint64_t last_lsn,
                           uint64_t now_ms,
                           const std::function<bool(uint64_t, const sync::RouteInfo&)>& routed) {
  UnackedCount n;
  if (acked >= last_lsn) return n;
  (void)store.scan_log(acked, 200'000, [&](uint64_t lsn, std::string_view v) {
    auto r = sync::route_info(v);
    if (!r.ok() || !routed(lsn, *r)) return true;
    if (n.events == 0) {
      auto ev = EventView::parse(v);
      if (ev.ok()) {
        const uint64_t at = ev->hlc() >> 16;
        n.oldest_age_ms = now_ms > at ? static_cast<int64_t>(now_ms - at) : 0;
      }
    }
    ++n.events;
    return true;
  });
  return n;
}

StatusReport status_report(const NodeFacts& node, std::vector<LinkReport> links) {
  StatusReport r;
  r.code = node.code;
  r.store_id = node.store_id;
  r.running = true;
  r.pid = node.pid;
  r.started_ms = node.started_ms;
  r.store_full_since_ms = node.store_full_since_ms;
  if (node.stats) {
    r.events = node.stats->events;
    r.cases = node.stats->cases;
    r.last_lsn = node.stats->last_lsn;
    r.next_seq = node.stats->next_seq;
  }
  r.links = std::move(links);
  return r;
}

}  // namespace liandong::node
