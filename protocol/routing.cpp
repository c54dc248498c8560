#include "protocol/routing.h"

#include "protocol/ids.h"

namespace liandong {

bool belongs_at(std::string_view node, const RouteKey& ev) {
  if (ev.broadcast) return within(node, ev.origin);
  if (ev.lineage) return within(node, ev.origin) || within(ev.origin, node);
  return within(ev.home, node);
}

bool send_up(std::string_view child, std::string_view parent, const RouteKey& ev) {
  return within(ev.origin, child) && belongs_at(parent, ev);
}

bool send_down(std::string_view child, const RouteKey& ev) {
  return !within(ev.origin, child) && belongs_at(child, ev);
}

}  // namespace liandong
