// Custody marks (docs/PROTOCOL.md §7): for each upstream, how far it holds
// our log (`acked`) and how far the top of the tree does (`top`); when they
// are written to the store (debounced to 4 writes a second, and at once at
// a link loss or a stop); and the mark a child is told, from the custody
// map entry at or below our own top mark.
//
// Pure bookkeeping: the caller reads and writes the store and passes "now".
//
// Thread contract: one thread (the owner of the links) uses an object.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "node/sync/clock.h"

namespace liandong::sync {

struct Mark {
  uint64_t acked = 0;  // the upstream holds our log up to here
  uint64_t top = 0;    // the top of the tree holds our log up to here
  friend bool operator==(const Mark&, const Mark&) = default;
};

class CustodyMarks {
 public:
  static constexpr std::chrono::milliseconds kWriteEvery{250};

  explicit CustodyMarks(std::size_t upstreams) : marks_(upstreams) {}

  // Read back at start-up: not dirty.
  void restore(std::size_t i, Mark m) { marks_[i] = m; }
  // Upstream `i`'s acks moved the marks. Returns whether our top mark (the
  // highest over all upstreams) moved: children are then re-acked.
  bool update(std::size_t i, Mark m);
  // The marks to write now, if any: every upstream's that is not all zero,
  // when they changed and the last write is kWriteEvery old (or `force`).
  // The caller writes them, then calls written(now) — or leaves them dirty
  // when the store refused (no room).
  std::optional<std::vector<Mark>> due(TimePoint now, bool force) const;
  void written(TimePoint now);
  // Something must be written at the next force (a stop, a lost link).
  void touch() { dirty_ = true; }

  uint64_t our_top() const;
  const Mark& mark(std::size_t i) const { return marks_[i]; }

  // The top mark a child is told: the custody map's value at or below our
  // top (`map_floor`: none when no entry), never above what we hold of the
  // child's log (an entry of an older store of the child names its LSNs).
  // At the top of the tree it is simply what we hold.
  static uint64_t child_top(bool we_are_top, std::optional<uint64_t> map_floor, uint64_t rx_lsn);

 private:
  std::vector<Mark> marks_;
  bool dirty_ = false;
  TimePoint written_{};
};

}  // namespace liandong::sync
