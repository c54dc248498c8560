// Refusals as custody information: an event a level above refused (a clock
// stamped ahead, a key it did not accept, authority) is never shown as
// delivered. The refusal travels back to the origin hop by hop (Ack.rejected
// from the refusing node, then SyncMessage.refusals relayed down by each
// node between), and every node on the way keeps it in the store's
// `cursors` database:
//
//   refused/<id_key>           a refusal of this event (shown by case show,
//                              case list, status; the origin may re-issue)
//   relay/<child>/<id_key>     a refusal still to be handed to that child
//                              (kept across restarts until it is taken)
//
// Values: be64(at_ms) ‖ u8 cause ‖ u8 len ‖ by ‖ u8 len ‖ origin ‖
// be64(seq) ‖ reason.
//
// Thread contract: plain functions over a Store (itself thread-safe).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/sync.capnp.h"
#include "storage/store.h"

namespace liandong::node {

struct Refusal {
  Id id;
  std::string by;  // code of the node that refused
  proto::RefusalCause cause = proto::RefusalCause::OTHER;
  std::string reason;  // the refusing node's words (English)
  uint64_t at_ms = 0;
};

std::string encode_refusal(const Refusal& r);
std::optional<Refusal> decode_refusal(std::string_view bytes);

std::string refused_key(const Id& id);
std::string relay_prefix(std::string_view child);

// The cause of a refusal from the receiver's reason text and outcome.
proto::RefusalCause refusal_cause(std::string_view reason, bool quarantined);
const char* cause_name(proto::RefusalCause c);     // "clock_ahead"
const char* cause_name_zh(proto::RefusalCause c);  // "时间戳超前"
const char* cause_name_en(proto::RefusalCause c);  // "clock ahead"

// "被乡镇拒收：时间戳超前 (refused by 360723101: clock ahead)".
std::string refusal_text(const Refusal& r);

// Keeps refusals that arrived from upstream (`from`: the peer that sent
// them; fills an empty `by`). Each is kept under refused/; one of an event
// of a child's subtree is also queued for that child (`children`: the
// codes this node admits). One transaction per entry, each committed with
// sync; refusals of the same event from the same level overwrite.
Status keep_refusals(storage::Store& store, std::span<const Refusal> refusals,
                     const std::string& from, const std::vector<std::string>& children);

// The refusals queued for `child`, oldest id first; and forgetting them
// once the child has taken them.
Result<std::vector<Refusal>> relays_for(const storage::Store& store, const std::string& child);
Status forget_relays(storage::Store& store, const std::string& child, std::span<const Id> ids);

// Every refusal held here, by event id.
Result<std::vector<Refusal>> refusals(const storage::Store& store);

// A refusal of one of this node's own events, with the case it belongs to
// and whether it is still open: a case event not re-issued yet (a refused
// audit record or broadcast is listed, never open: nothing to re-issue).
struct OwnRefusal {
  Refusal refusal;
  Id case_id;
  bool open = true;
  std::optional<Id> reissued_as;
};
Result<std::vector<OwnRefusal>> own_refusals(const storage::Store& store);

// RejectedEvent <-> Refusal.
void write_refusal(proto::RejectedEvent::Builder b, const Refusal& r);
Refusal read_refusal(proto::RejectedEvent::Reader r);

}  // namespace liandong::node
