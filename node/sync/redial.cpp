#include "node/sync/redial.h"

#include <algorithm>
#include <cstdint>

namespace liandong::sync {

std::chrono::milliseconds redial_delay(int failures, bool refused, std::chrono::milliseconds min,
                                       std::chrono::milliseconds max, std::mt19937_64& rng) {
  const int64_t lo = std::max<int64_t>(min.count(), 1);
  int64_t hi = std::max<int64_t>(max.count(), lo);
  if (!refused) hi = std::max(lo, std::min<int64_t>(hi, kLinkRedialCap.count()));
  int64_t d = lo;
  for (int i = 1; i < failures && d < hi; ++i)
    d *= 2;
  d = std::min(d, hi);
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(d, 1) - 1);
  return std::chrono::milliseconds(d / 2 + jitter(rng));
}

}  // namespace liandong::sync
