// A small pool of threads that checks Ed25519 signatures in parallel.
//
// Signature checks, not LMDB, bound ingest (about 70 us each); the pool lets
// every core verify while the single store writer applies the previous batch.
//
// Thread contract: run() may be called from one thread at a time; it blocks
// until every job of the call is done. Destruction joins the workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace liandong {

class VerifyPool {
 public:
  // threads == 0: one per hardware thread.
  explicit VerifyPool(unsigned threads = 0);
  ~VerifyPool();
  VerifyPool(const VerifyPool&) = delete;
  VerifyPool& operator=(const VerifyPool&) = delete;

  // Calls fn(i) for every i in [0, n), spread over the workers and the
  // calling thread; returns when all are done.
  void run(std::size_t n, const std::function<void(std::size_t)>& fn);
  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

 private:
  void work();
  bool take(std::size_t* i);

  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(std::size_t)>* fn_ = nullptr;
  std::size_t next_ = 0, total_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace liandong
