// One sync session with one neighbour, as a pure state machine
// (docs/PROTOCOL.md §4-§5): a decoded message, a timer tick, the outcome of
// an ingest or a lost link go in, each with the time; a list of actions
// comes out, for the caller to carry out in order — send a message, store
// a batch, accept keys, close the link. The session reads its own node
// through NodeView (its log, its durable cursor of the peer, the keys it
// vouches for) and never writes: every write is an action.
//
// The same class serves both ends of a link: `peer_is_parent` says which.
// A child's session with its parent dials (Hello) and waits for Welcome; a
// parent's session with a child answers Hello. Then both sides stream
// batches in the credit window, acknowledge what they stored, send
// heartbeats, resend after ack_timeout, and detect restored or replaced
// stores at the handshake.
//
// Handshakes are checked whole before any state changes: a Hello or a
// Welcome that cannot be accepted, or a store that cannot be read while
// checking it, leaves the session down and says why. A store read error is
// never taken for "restored from a backup" (no Recover comes of it).
//
// Thread contract: one thread (the owner of the links) drives a session;
// the caller carries out each list of actions before the next input.
// After an Ingest action, the next input must be on_ingested().
#pragma once

#include <spdlog/common.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/node_config.h"
#include "node/sync/batch_plan.h"
#include "node/sync/clock.h"
#include "node/sync/credit_window.h"
#include "node/sync/log_view.h"
#include "node/sync/messages.h"

namespace liandong::sync {

// The time of an input: the monotonic clock and the wall clock.
struct Now {
  TimePoint mono{};
  uint64_t wall_ms = 0;
};

// What a session reads of its node besides what arrives from the peer.
class NodeView {
 public:
  virtual ~NodeView() = default;
  virtual const LogView& log() const = 0;
  // Our durable cursor of `peer`'s log (rx/<peer>); an empty cursor when
  // there is none. An error means the store could not be read.
  virtual Result<CursorValue> rx_cursor(const std::string& peer) const = 0;
  // The keys we vouch for to `peer` (§4): our subtree's to a parent,
  // ourselves and our ancestors to a child.
  virtual std::vector<KeyEntry> keys_for(const std::string& peer, bool peer_is_parent) const = 0;
  // 1 + the highest sequence number of `code`'s events held here.
  virtual uint64_t next_seq_of(const std::string& code) const = 0;
  // For a child: its LSN up to which the top of the tree holds its events
  // (§7), given that we hold its log up to `rx_lsn`.
  virtual uint64_t top_for_child(const std::string& child, uint64_t rx_lsn) const = 0;
};

struct SessionSettings {
  std::string self;             // our code
  std::string peer;             // the neighbour's code
  bool peer_is_parent = false;  // the neighbour is one of our upstreams
  // We have an upstream: batches from children get custody map entries.
  bool have_upstream = false;
  config::SyncSettings sync;
};

// ---- actions ----
struct Send {
  Message message;
};
// Store `events` from the peer, checked by `authority`, and the cursor
// `next` in the same transaction (with a custody map entry at our log's
// end when `custody_map`); then report with on_ingested().
struct Ingest {
  std::vector<std::string> events;
  CursorValue next;
  uint64_t from = 0, to = 0;
  Authority authority;
  bool custody_map = false;
};
// The handshake is done: the session is up.
struct Up {};
// The session is down; for an upstream the caller closes the link and
// backs off. `refused`: the parent refused us (a configuration error).
struct Down {
  std::string why;
  bool refused = false;
};
// The peer did something that counts as abuse (node/sync/abuse.h).
struct Offence {
  std::string what;
};
// Keys the peer vouched for: accept those it may vouch for (§4).
struct AcceptKeys {
  std::vector<KeyEntry> keys;
};
// Raise our next sequence number to at least this.
struct ReserveSeq {
  uint64_t next = 0;
};
// The parent's wall clock from its Welcome (§7.2).
struct ParentClock {
  uint64_t wall_ms = 0;
};
// Our store was restored: custody map entries past our log's end name a
// timeline we no longer have.
struct ForgetFutureMarks {};
// Refusals to keep (and relay down) (§7.1).
struct KeepRefusals {
  std::vector<Rejected> list;
};
// The child took these relayed refusals.
struct ForgetRelays {
  std::vector<Id> ids;
};
// Hand the child the refusals queued for it; report with relays_sent().
struct SendRelays {};
// Our custody marks at this upstream: it holds our log up to `acked`, the
// top up to `top`.
struct CustodyMoved {
  uint64_t acked = 0, top = 0;
};
// A log line; `kind` is a fixed string naming the call site (for rate
// limits: node/sync/abuse.h LogLimiter).
struct Log {
  spdlog::level::level_enum level = spdlog::level::info;
  const char* kind = "";
  std::string text;
};

using Action =
    std::variant<Send, Ingest, Up, Down, Offence, AcceptKeys, ReserveSeq, ParentClock,
                 ForgetFutureMarks, KeepRefusals, ForgetRelays, SendRelays, CustodyMoved, Log>;
using Actions = std::vector<Action>;

// What came of an Ingest.
struct IngestResult {
  Status status;                   // not ok: nothing stored, nothing is acked
  std::vector<Rejected> rejected;  // refused or quarantined events, for the Ack
  std::size_t events = 0, stored = 0;
};

class Session {
 public:
  enum class State { down, connecting, up };
  struct Stats {
    uint64_t bytes_sent = 0, bytes_received = 0, batches_sent = 0, batches_received = 0,
             events_received = 0, events_rejected = 0, events_quarantined = 0;
    uint64_t events_sent = 0;  // in batches sent; a resent batch counts again
    double rtt_ms = -1;
  };

  Session(SessionSettings settings, const NodeView& node);

  // Child side: a dial went out; say Hello.
  Actions dial(Now now);
  // Parent side: the child said Hello (its code proven by its key).
  Actions on_hello(const Hello& h, Now now);
  // Any other message from the peer (a Hello goes to on_hello).
  Actions on_message(const Message& m, Now now);
  // The outcome of the last Ingest.
  Actions on_ingested(const IngestResult& r, Now now);
  // Timers: peer_timeout, ack_timeout, heartbeats, batches due.
  Actions tick(Now now);
  // Sends what the credit window allows (call when the log grew).
  Actions pump(Now now);
  // Parent side: re-ack the child when its top mark moved.
  Actions refresh_custody(Now now);
  // The transport lost the link (or the caller closed it).
  Actions link_down(Now now, const std::string& why);
  // The transport could not send `m` (high-water mark, not connected): a
  // batch is sent again, a Hello said again; the rest is as if lost.
  void send_failed(const Message& m);
  // Child side: this upstream is the one in use (batches go to it).
  void set_streaming(bool on) { streaming_ = on; }
  // Parent side: relayed refusals went to the child (`pending`: some are
  // queued), to be sent again after ack_timeout while not taken.
  void relays_sent(bool pending, Now now);
  // Wire bytes received from and sent to the peer, for status.
  void count_received(std::size_t bytes) { stats_.bytes_received += bytes; }
  void count_sent(std::size_t bytes) { stats_.bytes_sent += bytes; }
  // Whether the event at `lsn` of our log goes to this peer now.
  bool routes(uint64_t lsn, const RouteInfo& r) const { return routed(route(), lsn, r); }

  // An attachment message came from the peer (node/transfers.h): the peer
  // is alive.
  void heard(Now now) {
    last_heard_ = now.mono;
    last_heard_wall_ms_ = now.wall_ms;
  }
  // No batch of ours is waiting for the peer's ack: a chunk may go now
  // (batches go first, §4.6).
  bool batches_idle() const { return credit_.idle(); }

  State state() const { return state_; }
  const SessionSettings& settings() const { return settings_; }
  // New timings and batch sizes (a reloaded config) from the next message
  // or timer on; the credit window and the message size limit stay as
  // the session began with them.
  void retune(const config::SyncSettings& s) {
    const std::size_t window = settings_.sync.window_bytes;
    const std::size_t max_message = settings_.sync.max_message_bytes;
    settings_.sync = s;
    settings_.sync.window_bytes = window;
    settings_.sync.max_message_bytes = max_message;
  }
  const std::string& peer() const { return settings_.peer; }
  const CursorValue& rx() const { return rx_; }
  const CreditWindow& credit() const { return credit_; }
  const Stats& stats() const { return stats_; }
  const std::string& peer_store_id() const { return peer_store_id_; }
  uint64_t top() const { return top_; }  // parent peer: the top holds our log to here
  uint64_t since_wall_ms() const { return since_wall_ms_; }
  // When a message from the peer last came (wall clock); 0: never.
  uint64_t last_heard_wall_ms() const { return last_heard_wall_ms_; }
  bool streaming() const;
  // Restore the custody marks read back at start-up (parent peer).
  void restore_custody(uint64_t acked, uint64_t top);

 private:
  void go_down(Now now);
  void handshake_done(const Handshake& h, const CursorValue& rx, bool match, Now now, Actions& out);
  void begin_sending(uint64_t from, bool we_were_restored, Now now, Actions& out);
  void send(Message m, Now now, Actions& out);
  void send_ack(bool resend, std::vector<Rejected> rejected, Now now, Actions& out);
  void pump_into(Now now, Actions& out);
  void on_batch(const Batch& b, Now now, Actions& out);
  void on_ack(const Ack& a, Now now, Actions& out);
  Hello make_hello(Now now) const;
  Route route() const;
  void log(Actions& out, spdlog::level::level_enum level, const char* kind, std::string text) const;

  SessionSettings settings_;
  const NodeView& node_;
  State state_ = State::down;
  TimePoint since_{}, last_heard_{}, last_sent_{}, relays_at_{};
  uint64_t since_wall_ms_ = 0, last_heard_wall_ms_ = 0;
  std::string peer_store_id_;
  CursorValue rx_;  // how far we hold the peer's log
  CreditWindow credit_;
  // What the last plan read after credit_.sent() with nothing routed to the
  // peer (plan_batch uses it only while sent() and the route are unchanged).
  std::optional<QuietStretch> quiet_;
  uint64_t recover_until_ = 0;
  bool asked_recover_ = false;
  uint64_t top_ = 0, top_sent_ = 0;
  bool hello_pending_ = false;
  bool streaming_ = false;
  bool relays_pending_ = false;
  std::optional<CursorValue> ingesting_;
  Stats stats_;
};

}  // namespace liandong::sync
