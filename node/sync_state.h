// What the daemon keeps in the store's `cursors` database, and the custody
// marks read from it (also by the CLI, with or without a running daemon).
//
//   rx/<peer>                 how far this node holds the peer's log
//                             (sync::CursorValue), written in the same
//                             transaction as the batch it describes
//   up/<upstream>             custody of this node's own log at that
//                             upstream: be64 acked LSN, be64 top LSN
//   map/<child>/<be64 lsn>    be64 child LSN: after this node's log reached
//                             `lsn`, it held the child's log up to the value
//                             (maps the top's acks of ours back to the child)
//   mule/...                  bundles' bookkeeping (node/bundle.h); mule/<parent>
//                             is custody from a receipt, read with up/<parent>
//   rcpt/<event id>           the case id: a hand-over stored in a batch whose
//                             receipt (已接收) is not made yet; written in the
//                             batch's transaction, cleared once it is made
//
// Thread contract: plain functions over a Store (itself thread-safe).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "node/refusals.h"
#include "protocol/status.h"
#include "protocol/sync_codec.h"
#include "storage/store.h"

namespace liandong::node {

std::string rx_key(std::string_view peer);
std::string custody_key(std::string_view upstream);
std::string map_prefix(std::string_view child);
std::string map_key(std::string_view child, uint64_t lsn);
inline constexpr std::string_view kReceiptPrefix = "rcpt/";
std::string receipt_key(const Id& handed);

struct CustodyMark {
  uint64_t acked = 0;  // the upstream holds our log up to here
  uint64_t top = 0;    // the top of the tree holds our log up to here
};
std::string encode_custody(const CustodyMark& m);
CustodyMark decode_custody(std::string_view bytes);

// Where this node's own events are: for an event it originated at LSN x,
// it is at its parent if x <= parent, at the top of the tree (the county)
// if x <= top. A node with no upstream marks are all zero (unknown).
struct Custody {
  std::string parent_code;  // the node's immediate parent ("" for a county)
  uint64_t parent = 0;
  uint64_t top = 0;
  bool is_top = false;  // this node is the county (6 digits or fewer)
  // Events a level above refused (node/refusals.h): never shown as
  // delivered, whatever the marks above say.
  std::map<Id, Refusal> refused;
  const Refusal* refusal_of(const Id& id) const {
    auto it = refused.find(id);
    return it == refused.end() ? nullptr : &it->second;
  }
};
Result<Custody> read_custody(const storage::Store& store);

}  // namespace liandong::node
