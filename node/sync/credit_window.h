// The sending half of one sync session (docs/PROTOCOL.md, "Credit"): how
// far our log was sent to a peer, how far the peer acknowledged it, the
// batches in flight between the two, and when a built batch may go.
//
// Pure bookkeeping: no I/O and no clock of its own (the caller passes
// "now"), so that the session's ack arithmetic is tested without sockets.
//
// Invariants: acked() <= sent(); the batches in flight are exactly those
// sent after acked(), in order, each named by the last LSN it covers. An
// ack names at most what was sent: the receiver cannot hold more of our
// log than we gave it in this session, so a larger value (a confused or
// hostile peer) counts as everything sent — never less than what was
// sent, or the batches it covers would stay in flight until ack_timeout.
//
// Thread contract: none; a CreditWindow belongs to its session's owner
// (the daemon's loop thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

namespace liandong::sync {

class CreditWindow {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // A new session (or a rewind): the peer holds our log up to `from`,
  // nothing is in flight.
  void restart(uint64_t from, TimePoint now);
  // The link went down: nothing is in flight any more; acked() stays (it
  // is what the peer durably holds), sent() falls back to it.
  void drop_in_flight();
  // Custody read back at start-up: the peer held our log up to `acked`.
  void set_acked(uint64_t acked);

  // A batch covering (sent(), to] of `bytes` on the wire went out.
  void on_sent(uint64_t to, std::size_t bytes, TimePoint now);
  // The batches after `lsn` never left (the transport refused them): they
  // are no longer in flight and sent() falls back to `lsn` (not below
  // acked()).
  void unsend(uint64_t lsn);
  // Ack{upTo = lsn}: every batch ending at or before it is released.
  // Values above sent() count as sent(); values below acked() (a late,
  // reordered ack) change nothing. Returns whether acked() moved.
  bool on_ack(uint64_t lsn, TimePoint now);
  // Ack{resend}: the receiver holds our log up to `lsn` and dropped what
  // came after; sending restarts there. `lsn` above `limit` (the end of
  // our log) counts as `limit`.
  void on_resend(uint64_t lsn, uint64_t limit, TimePoint now);
  // Batches in flight with no ack moving for longer than `timeout`: rewinds
  // to acked() (they are sent again) and returns true.
  bool expire(TimePoint now, std::chrono::milliseconds timeout);

  uint64_t acked() const { return acked_; }
  uint64_t sent() const { return sent_; }
  std::size_t bytes_in_flight() const { return bytes_; }
  bool idle() const { return flights_.empty(); }
  // Room for another batch under a window of `window_bytes`.
  bool open(std::size_t window_bytes) const { return bytes_ < window_bytes; }

  // What the sender built from its log, starting at sent().
  struct Built {
    bool reached_end = false;  // it runs to the end of the log
    bool has_events = false;   // false: only moves the peer's cursor
    bool full = false;         // as many events or bytes as a batch takes
  };
  // Whether a built batch goes now:
  //  - a cursor-only batch at the end of the log waits until no batch went
  //    for `heartbeat` (it then stands in for the heartbeat): a busy log of
  //    events for others does not cost one message each. What counts is
  //    the last *batch*: heartbeats, acks and handshakes do not hold it.
  //  - a small batch at the end of the log waits while another is in
  //    flight (Nagle): at a trickle each event goes at once, under load
  //    they share batches; the ack in flight releases it.
  //  - anything else goes.
  bool release(const Built& b, TimePoint now, std::chrono::milliseconds heartbeat) const;

 private:
  struct Flight {
    uint64_t to = 0;
    std::size_t bytes = 0;
  };
  uint64_t acked_ = 0, sent_ = 0;
  std::deque<Flight> flights_;
  std::size_t bytes_ = 0;
  TimePoint last_progress_{}, last_batch_{};
};

}  // namespace liandong::sync
