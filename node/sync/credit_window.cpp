#include "node/sync/credit_window.h"

#include <algorithm>

namespace liandong::sync {

void CreditWindow::restart(uint64_t from, TimePoint now) {
  acked_ = sent_ = from;
  flights_.clear();
  bytes_ = 0;
  last_progress_ = now;
}

void CreditWindow::drop_in_flight() {
  flights_.clear();
  bytes_ = 0;
  sent_ = acked_;
}

void CreditWindow::set_acked(uint64_t acked) {
  acked_ = acked;
  sent_ = std::max(sent_, acked);
}

void CreditWindow::on_sent(uint64_t to, std::size_t bytes, TimePoint now) {
  if (to <= sent_) return;
  if (flights_.empty()) last_progress_ = now;
  flights_.push_back(Flight{to, bytes});
  bytes_ += bytes;
  sent_ = to;
  last_batch_ = now;
}

void CreditWindow::unsend(uint64_t lsn) {
  lsn = std::max(lsn, acked_);
  while (!flights_.empty() && flights_.back().to > lsn) {
    bytes_ -= flights_.back().bytes;
    flights_.pop_back();
  }
  sent_ = std::min(sent_, lsn);
}

bool CreditWindow::on_ack(uint64_t lsn, TimePoint now) {
  lsn = std::min(lsn, sent_);
  if (lsn <= acked_) return false;
  acked_ = lsn;
  last_progress_ = now;
  while (!flights_.empty() && flights_.front().to <= lsn) {
    bytes_ -= flights_.front().bytes;
    flights_.pop_front();
  }
  return true;
}

void CreditWindow::on_resend(uint64_t lsn, uint64_t limit, TimePoint now) {
  restart(std::min(lsn, std::max(limit, sent_)), now);
}

bool CreditWindow::expire(TimePoint now, std::chrono::milliseconds timeout) {
  if (flights_.empty() || now - last_progress_ <= timeout) return false;
  flights_.clear();
  bytes_ = 0;
  sent_ = acked_;
  last_progress_ = now;
  return true;
}

bool CreditWindow::release(const Built& b, TimePoint now,
                           std::chrono::milliseconds heartbeat) const {
  if (!b.reached_end) return true;
  if (!b.has_events) return flights_.empty() && now - last_batch_ >= heartbeat;
  if (!b.full && !flights_.empty()) return false;
  return true;
}

}  // namespace liandong::sync
