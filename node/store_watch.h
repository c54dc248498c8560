// What the daemon knows of a full store (no room on its disk): it tells
// the log once when the store fills and once when room has lasted, not at
// every retry, and paces the batches it tries to store meanwhile.
//
// The store keeps its own mark (Store::full_since_ms): set by any write
// refused for lack of space — local submissions and CLI writes included —
// and cleared by the first write that commits. StoreWatch follows that
// mark; it does no I/O of its own but the log line, and takes "now" from
// its caller.
//
// Thread contract: none; owned by the daemon's loop thread.
#pragma once

#include <chrono>
#include <cstdint>

#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

class StoreWatch {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // How long a full store must keep its room again before the log says so.
  static constexpr std::chrono::milliseconds kRoomSettle{3000};

  explicit StoreWatch(const storage::Store& store) : store_(store) {}

  // Reports the outcome `s` of a write of `what`: the first no_space is
  // logged once (not per retry), and room again once it has lasted.
  void note(const Status& s, const char* what, TimePoint now);
  // Says "room again" once the room has lasted kRoomSettle.
  void settle(TimePoint now);
  // While the store is full, a batch is tried at most once a second; the
  // others are dropped unacked (their senders keep them and resend).
  bool retry_now(TimePoint now) const { return now - tried_ >= std::chrono::seconds(1); }

  bool full() const { return full_; }
  // The store's mark when the watch saw it full (wall clock, ms).
  uint64_t full_since_wall_ms() const { return full_since_wall_ms_; }

 private:
  const storage::Store& store_;
  bool full_ = false;
  TimePoint full_since_{}, tried_{};
  // A store at the edge of its disk may take a small write (in pages LMDB
  // already holds) and refuse the next: the flag follows every such turn,
  // the log says "room again" only once the room has lasted kRoomSettle.
  bool room_pending_ = false;
  TimePoint room_since_{};
  uint64_t full_since_wall_ms_ = 0;
};

}  // namespace liandong::node
