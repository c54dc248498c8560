#include "node/store_watch.h"

#include <spdlog/spdlog.h>

namespace liandong::node {

void StoreWatch::note(const Status& s, const char* what, TimePoint now) {
  if (s.code() == Code::no_space) tried_ = now;
  const uint64_t since = store_.full_since_ms();
  if (since != 0 && !full_) {
    full_ = true;
    full_since_wall_ms_ = since;
    if (room_pending_) {
      room_pending_ = false;  // the same episode: said already
      return;
    }
    full_since_ = now;
    spdlog::error(
        "store is full, {} not stored: {}. Refusing batches from peers (they keep and resend "
        "them) and local submissions until there is room; reads and status go on",
        what, s.code() == Code::no_space ? s.message() : "a write was refused for lack of space");
  } else if (since == 0 && full_) {
    full_ = false;
    room_pending_ = true;
    room_since_ = now;
  }
}

void StoreWatch::settle(TimePoint now) {
  if (!room_pending_ || now - room_since_ < kRoomSettle) return;
  room_pending_ = false;
  spdlog::info(
      "store has room again after {} s; accepting batches",
      std::chrono::duration_cast<std::chrono::milliseconds>(room_since_ - full_since_).count() /
          1000);
}

}  // namespace liandong::node
