// The routing rule (DESIGN.md section 1), as pure functions of codes.
//
// An event about a case homed at H belongs at every node whose code is a
// prefix of H. A broadcast issued by node B belongs at B's whole subtree.
// A lineage event of B (a key rotation) belongs at B's ancestors and at B's
// whole subtree: every node that checks B's signatures.
// Between neighbours an event travels up only if it originated in the
// sender's own subtree, and down only if it did not originate in the
// receiving child's subtree: so it is never sent back toward its origin,
// and a child's events reach its parent from the child itself.
//
// Thread contract: pure functions.
#pragma once

#include <string_view>

namespace liandong {

struct RouteKey {
  std::string_view origin;  // code of the node that made the event
  std::string_view home;    // the case's home; the issuer for broadcasts
  bool broadcast = false;
  bool lineage = false;  // belongs at the origin's ancestors and whole subtree
};

// Whether `node` stores the event.
bool belongs_at(std::string_view node, const RouteKey& ev);

// Whether `child` sends the event up to its parent `parent`.
bool send_up(std::string_view child, std::string_view parent, const RouteKey& ev);

// Whether `parent` sends the event down to its child `child`.
bool send_down(std::string_view child, const RouteKey& ev);

}  // namespace liandong
