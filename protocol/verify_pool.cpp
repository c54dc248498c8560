#include "protocol/verify_pool.h"

namespace liandong {

VerifyPool::VerifyPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  // The caller's thread works too.
  for (unsigned i = 1; i < threads; ++i)
    workers_.emplace_back([this] { work(); });
}

VerifyPool::~VerifyPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_)
    t.join();
}

bool VerifyPool::take(std::size_t* i) {
  if (fn_ == nullptr || next_ >= total_) return false;
  *i = next_++;
  return true;
}

void VerifyPool::run(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  std::unique_lock lock(mu_);
  fn_ = &fn;
  next_ = 0;
  total_ = n;
  finished_ = 0;
  ++generation_;
  wake_.notify_all();
  std::size_t i;
  while (take(&i)) {
    lock.unlock();
    fn(i);
    lock.lock();
    ++finished_;
  }
  done_.wait(lock, [&] { return finished_ == total_; });
  fn_ = nullptr;
}

void VerifyPool::work() {
  std::unique_lock lock(mu_);
  uint64_t seen = 0;
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || (generation_ != seen && fn_ != nullptr); });
    if (stop_) return;
    seen = generation_;
    std::size_t i;
    while (take(&i)) {
      const auto* fn = fn_;
      lock.unlock();
      (*fn)(i);
      lock.lock();
      if (++finished_ == total_) done_.notify_all();
    }
  }
}

}  // namespace liandong
