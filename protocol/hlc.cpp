#include "protocol/hlc.h"

#include <chrono>

namespace liandong {

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

uint64_t Hlc::now() {
  const uint64_t physical = make_hlc(clock_(), 0);
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void Hlc::observe(uint64_t remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace liandong
