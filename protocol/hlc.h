// Hybrid logical clock: physical milliseconds plus a counter, packed in 64
// bits as (ms << 16) | counter. Events made after a node has seen another
// event always carry a larger hlc, so folding in hlc order respects
// causality while staying close to wall-clock time.
//
// Also the node's view of its wall clock against its parent's: a child
// learns its parent's time at each handshake (ParentClock) and, while its
// own clock is off by more than kMaxClockSkewMs, makes no events (they would
// be refused upstream, or carry a wrong time for ever).
//
// Thread contract: not thread-safe; the node's single writer owns its Hlc.
// The free functions are safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace liandong {

constexpr uint64_t hlc_ms(uint64_t hlc) {
  return hlc >> 16;
}
constexpr uint64_t make_hlc(uint64_t ms, uint64_t counter) {
  return (ms << 16) | (counter & 0xffff);
}

// Event times a node makes or accepts: from 2020-01-01 to 2100-01-01 (UTC).
// A clock outside this range is broken (a dead RTC battery reads 1970 or
// earlier); its stamps would never fold or count right.
constexpr uint64_t kMinStampMs = 1577836800000ULL;  // 2020-01-01T00:00:00Z
constexpr uint64_t kMaxStampMs = 4102444800000ULL;  // 2100-01-01T00:00:00Z
constexpr bool stamp_in_range(uint64_t ms) {
  return ms >= kMinStampMs && ms < kMaxStampMs;
}

// How far an event's stamp may run ahead of the receiver's clock, and how
// far a node's clock may be from its parent's before it stops making events.
constexpr uint64_t kMaxClockSkewMs = 24ULL * 3600 * 1000;

// The system's wall clock in ms since the epoch; 0 for a clock set before
// 1970 (never a wrapped value). For tests only, the environment variable
// LIANDONG_TEST_CLOCK_OFFSET_MS (a signed number of ms, read once per
// process) shifts it, so one process can run with a fast or slow clock.
uint64_t wall_clock_ms();

// A monotonic clock that also counts suspended time (CLOCK_BOOTTIME, ms),
// and the id of the current boot ("" where the system has none). Setting
// the wall clock moves neither.
uint64_t boot_clock_ms();
const std::string& boot_id();

// What a child learned of its parent's clock at its last handshake: the
// parent's wall clock then, and its own boot clock and boot id then.
struct ParentClock {
  uint64_t parent_wall_ms = 0;
  uint64_t boot_ms = 0;
  std::string boot_id;
  std::string parent_code;
};
std::string encode_parent_clock(const ParentClock& c);
std::optional<ParentClock> decode_parent_clock(std::string_view bytes);

// How far this node's wall clock (`wall_ms`) is ahead of its parent's now
// (negative: behind), estimated from the last handshake and the boot clock
// elapsed since. nullopt when unknown: no handshake yet, or one from an
// earlier boot (the boot clock restarted).
std::optional<int64_t> clock_skew_ms(const ParentClock& c, uint64_t wall_ms, uint64_t boot_ms,
                                     const std::string& current_boot_id);

// The refusal a person reads when the clock is off by more than
// kMaxClockSkewMs: "本机时钟比上级快 2 天，请先校准时间 (...)"; "" within it.
std::string clock_fault_message(int64_t skew_ms, const std::string& parent_code);
// "本机时钟不正确（...），请先校准时间" for a wall clock outside the stamp range.
std::string clock_range_message(uint64_t wall_ms);

class Hlc {
 public:
  using Clock = std::function<uint64_t()>;  // milliseconds since the epoch
  explicit Hlc(Clock clock = wall_clock_ms) : clock_(std::move(clock)) {}

  // A timestamp for a new local event: larger than every one issued or
  // observed before.
  uint64_t now();
  // Folds in a timestamp seen on a received event.
  void observe(uint64_t remote);
  // Folds in a stamp this node issued or saw earlier (the persisted last
  // stamp), unless it lies more than kMaxClockSkewMs ahead of the clock:
  // such a stamp was made while the clock ran fast, and inheriting it would
  // stamp every later event in the future. Returns whether it was taken.
  bool resume(uint64_t persisted);
  uint64_t last() const { return last_; }

 private:
  Clock clock_;
  uint64_t last_ = 0;
};

}  // namespace liandong
