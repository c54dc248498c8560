#include "node/sync/log_view.h"

#include "protocol/routing.h"

namespace liandong::sync {

Result<bool> cursor_matches(const LogView& log, const CursorValue& c) {
  if (c.lsn == 0) return true;
  if (c.store_id != log.store_id()) return false;
  auto at = log.id_at(c.lsn);
  if (!at.ok()) return at.status();
  return at->has_value() && **at == c.at;
}

bool routed(const Route& route, uint64_t lsn, const RouteInfo& r) {
  const RouteKey key{r.id.origin, r.home, r.broadcast, r.lineage};
  if (route.peer_is_parent ? send_up(route.self, route.peer, key) : send_down(route.peer, key))
    return true;
  return lsn <= route.recover_until && belongs_at(route.peer, key);
}

Status authorize(const Authority& a, const Id& id, std::string_view home, bool broadcast,
                 bool lineage) {
  const RouteKey key{id.origin, home, broadcast, lineage};
  if (!belongs_at(a.self, key))
    return Status::invalid("event " + format_id(id) + " does not belong at " + a.self);
  if (a.peer_is_parent) return Status::ok();
  // Recovering us, a child also sends back what came down to it from here
  // or above. Never anything from beside its subtree: a child that only
  // claims we were restored widens nothing.
  if (a.asked_recover && within(a.self, id.origin)) return Status::ok();
  if (broadcast) return Status::invalid("a child may not send broadcasts up");
  if (!within(id.origin, a.peer))
    return Status::invalid("origin " + id.origin + " is outside child " + a.peer);
  if (!within(home, a.peer))
    return Status::invalid("case home " + std::string(home) + " is outside " + a.peer);
  return Status::ok();
}

}  // namespace liandong::sync
