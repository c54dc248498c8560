// The clocks a sync session reads, injected so that tests drive time: a
// monotonic clock for timeouts, heartbeats and backoff, and the wall clock
// that travels in Hello, Welcome and Heartbeat.
//
// SystemClock reads the machine's clocks; ManualClock moves only when a
// test advances it (the simulated network of node/sync/sim_test.cpp).
//
// Thread contract: a clock is read by the thread that owns the sessions;
// ManualClock is advanced by that same thread.
#pragma once

#include <chrono>
#include <cstdint>

#include "protocol/hlc.h"

namespace liandong::sync {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time: never goes back, unrelated to the calendar.
  virtual TimePoint now() const = 0;
  // Milliseconds since the Unix epoch, as the machine's calendar says.
  virtual uint64_t wall_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return SteadyClock::now(); }
  // The node's one wall clock (protocol/hlc.h), the same that stamps
  // events and checks the parent's clock.
  uint64_t wall_ms() const override { return wall_clock_ms(); }
};

// Starts at an arbitrary monotonic origin and at `wall_ms` on the calendar;
// both move together by advance().
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t wall_ms = 1'800'000'000'000) : wall_(wall_ms) {}
  TimePoint now() const override { return now_; }
  uint64_t wall_ms() const override { return wall_; }
  void advance(std::chrono::milliseconds d) {
    now_ += d;
    wall_ += static_cast<uint64_t>(d.count());
  }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
  uint64_t wall_;
};

// Whole milliseconds from `a` to `b` (negative when b is earlier).
inline int64_t ms_between(TimePoint a, TimePoint b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace liandong::sync
