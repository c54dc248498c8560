// Receipts (已接收): when a case is handed to a level — escalated to it, or
// its decision or reply come back down to it — the receiving node
// records a `received` event the moment it stores the hand-over. The
// sender's clock (转报乡镇, 乡镇承办 when passed up, 结果回传) stops and the
// receiver's starts there (storage/deadlines.h): a level is charged from
// when the case is really in its hands, never for a link that was down
// before it got there.
//
// Pure logic: no I/O; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

#include "protocol/event_codec.h"
#include "protocol/ids.h"

namespace liandong::storage {

// Whether node `node`, having just stored `ev` from a peer, owes a receipt
// for it: `ev` escalates a case to `node`, or is the decision or reply of
// a case homed at or below `node` made above it (the home, and the
// township a county decision passes through). The id of the event to name.
std::optional<Id> receipt_owed(std::string_view node, const EventView& ev);

}  // namespace liandong::storage
