// Hybrid logical clock: physical milliseconds plus a counter, packed in 64
// bits as (ms << 16) | counter. Events made after a node has seen another
// event always carry a larger hlc, so folding in hlc order respects
// causality while staying close to wall-clock time.
//
// Thread contract: not thread-safe; the node's single writer owns its Hlc.
#pragma once

#include <cstdint>
#include <functional>

namespace liandong {

constexpr uint64_t hlc_ms(uint64_t hlc) {
  return hlc >> 16;
}
constexpr uint64_t make_hlc(uint64_t ms, uint64_t counter) {
  return (ms << 16) | (counter & 0xffff);
}

uint64_t wall_clock_ms();

class Hlc {
 public:
  using Clock = std::function<uint64_t()>;  // milliseconds since the epoch
  explicit Hlc(Clock clock = wall_clock_ms) : clock_(std::move(clock)) {}

  // A timestamp for a new local event: larger than every one issued or
  // observed before.
  uint64_t now();
  // Folds in a timestamp seen on a received event.
  void observe(uint64_t remote);
  uint64_t last() const { return last_; }

 private:
  Clock clock_;
  uint64_t last_ = 0;
};

}  // namespace liandong
