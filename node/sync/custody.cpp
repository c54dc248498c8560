#include "node/sync/custody.h"

#include <algorithm>

namespace liandong::sync {

bool CustodyMarks::update(std::size_t i, Mark m) {
  const uint64_t before = our_top();
  if (!(marks_[i] == m)) dirty_ = true;
  marks_[i] = m;
  return our_top() != before;
}

std::optional<std::vector<Mark>> CustodyMarks::due(TimePoint now, bool force) const {
  if (!dirty_) return std::nullopt;
  if (!force && now - written_ < kWriteEvery) return std::nullopt;
  return marks_;
}

void CustodyMarks::written(TimePoint now) {
  dirty_ = false;
  written_ = now;
}

uint64_t CustodyMarks::our_top() const {
  uint64_t top = 0;
  for (const auto& m : marks_)
    top = std::max(top, m.top);
  return top;
}

uint64_t CustodyMarks::child_top(bool we_are_top, std::optional<uint64_t> map_floor,
                                 uint64_t rx_lsn) {
  if (we_are_top) return rx_lsn;
  if (!map_floor) return 0;
  return std::min(*map_floor, rx_lsn);
}

}  // namespace liandong::sync
