// The audit log (审计日志): recording what a node's operators and its
// county must be able to trace — links admitted and refused, events
// refused, role refusals, key changes, administrative commands — as
// `audit` events in the store (records.capnp), signed by the node. Audit
// events travel up like the node's own events, so the county holds the
// whole tree's trail.
//
// Recording never fails the action it records: a write that fails (a full
// store, anything else) is logged at debug and dropped, and never itself
// recorded.
//
// Thread contract: AuditLog is used by one thread (the daemon's loop);
// record_audit may be called from any thread that may write the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/records.capnp.h"
#include "storage/store.h"

namespace liandong::node {

// One happening to record.
struct AuditNote {
  proto::AuditWhat what = proto::AuditWhat::ADMIN_COMMAND;
  std::string peer_code;  // division code of the peer or node involved, or empty
  std::string who;        // peer address or key, or the person
  std::string subject;    // refused event id, command, key, ...
  std::string reason;
  // What repeats are grouped by instead of `reason` (e.g. the reason with
  // the refused event's id left out); empty: the reason.
  std::string group;
  // The event's actor: the person acting, or (empty name) the node itself.
  std::string actor_name;
  proto::Role actor_role = proto::Role::SYSTEM;
  uint32_t count = 1;
  uint64_t first_ms = 0, last_ms = 0;  // 0: now
};

// A note of the node itself (actor: the node, role system).
inline AuditNote audit_note(proto::AuditWhat what, std::string peer_code, std::string who,
                            std::string subject, std::string reason, std::string group = {}) {
  AuditNote n;
  n.what = what;
  n.peer_code = std::move(peer_code);
  n.who = std::move(who);
  n.subject = std::move(subject);
  n.reason = std::move(reason);
  n.group = std::move(group);
  return n;
}

// Appends one audit event to `store`, signed with `key`. Returns false
// (after a debug log line) when it could not be stored.
bool record_audit(storage::Store& store, const SigningKey& key, const AuditNote& note);

// The daemon's recorder: repeats of the same (what, peer, who, reason) are
// aggregated, so at most one event per key per `window` is written. The
// first of a key is written at once (count 1); repeats within the window
// are counted and written by flush() once the window is over, as one event
// carrying the count and the first and last time.
//
// Until set_ready(), records are held in memory (at most kMaxHeld) and
// written by the first flush() after it: a store restored from an old copy
// must learn from a peer which of its own sequence numbers are taken
// (Hello/Welcome `yourNextSeq`) before it makes events of its own.
class AuditLog {
 public:
  using Clock = std::chrono::steady_clock;
  AuditLog(storage::Store& store, const SigningKey& key,
           std::chrono::milliseconds window = std::chrono::minutes(1))
      : store_(store), key_(key), window_(window) {}

  static constexpr std::size_t kMaxHeld = 1024;
  // Keys aggregated at once; beyond them (a flood from many addresses) new
  // happenings share one key per kind and reason, with `who` "(many)".
  static constexpr std::size_t kMaxKeys = 4096;

  // Records now (or holds it until ready), without aggregation. Returns
  // whether it was stored now.
  bool record(const AuditNote& note);
  void set_ready() { ready_ = true; }
  bool ready() const { return ready_; }
  // Records or counts a repeatable happening. Returns whether an event was
  // written now.
  bool note(const AuditNote& note, Clock::time_point now = Clock::now());
  // Writes the held records (once ready) and the counts whose window is
  // over (`all`: every pending count, at shutdown). Returns how many events
  // were written.
  int flush(Clock::time_point now = Clock::now(), bool all = false);

 private:
  using Key = std::tuple<int, std::string, std::string, std::string>;
  struct Pending {
    Clock::time_point window_start;
    AuditNote note;  // count = repeats since window_start
  };
  storage::Store& store_;
  const SigningKey& key_;
  std::chrono::milliseconds window_;
  std::map<Key, Pending> pending_;
  bool ready_ = false;
  std::vector<AuditNote> held_;
};

}  // namespace liandong::node
