// What the sync session reads of its own node's log, and the routing rule
// between two neighbours over it (docs/PROTOCOL.md §2, §3, §5).
//
// LogView is implemented by the store in the daemon and by an in-memory
// log in tests; the rest of this file is pure functions over it.
//
// Thread contract: a LogView is read by the thread that owns the sessions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/sync_codec.h"

namespace liandong::sync {

// One entry of a log: its position, routing fields and sealed bytes.
struct LogEntry {
  uint64_t lsn = 0;
  const RouteInfo* route = nullptr;
  std::string_view sealed;
};

class LogView {
 public:
  virtual ~LogView() = default;
  // This store's id (a cursor of our log names it).
  virtual const std::string& store_id() const = 0;
  // The last LSN of the log (0: empty).
  virtual uint64_t end() const = 0;
  // Calls `fn` with each entry after `from`, in order, at most `limit`
  // of them, until it returns false. An entry whose routing fields cannot
  // be read, or a failed read, is an error (`corruption`, `internal`).
  virtual Status scan(uint64_t from, std::size_t limit,
                      const std::function<bool(const LogEntry&)>& fn) const = 0;
  // The id of the event at `lsn`; nullopt when the log is shorter. A read
  // error is an error, never "absent".
  virtual Result<std::optional<Id>> id_at(uint64_t lsn) const = 0;
};

// Whether a peer's cursor of our log names this store and, at its LSN, the
// event it says. false: our store was restored from an old copy or
// replaced (the peer must re-send from zero, §5). An error: we could not
// tell — the caller must retry, never take it for "restored".
Result<bool> cursor_matches(const LogView& log, const CursorValue& c);

// Who sends what to one neighbour (§2): `self` is our code, `peer` the
// neighbour's. Events at or below `recover_until` that belong at the peer
// go to it whatever their origin (§5: it lost its store).
struct Route {
  std::string self, peer;
  bool peer_is_parent = false;
  uint64_t recover_until = 0;
};
bool routed(const Route& route, uint64_t lsn, const RouteInfo& r);

// Whether an event received from a neighbour may be stored here (§2,
// "authority"; §5 for `asked_recover`). `invalid` with the reason when not.
struct Authority {
  std::string self, peer;
  bool peer_is_parent = false;
  // We asked the peer to recover us: a child may also send back what this
  // node or its ancestors made.
  bool asked_recover = false;
};
Status authorize(const Authority& a, const Id& id, std::string_view home, bool broadcast,
                 bool lineage);

}  // namespace liandong::sync
