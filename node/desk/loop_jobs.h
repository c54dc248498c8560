// Work the desk hands to the daemon's loop thread, the store's single
// writer: an HTTP handler thread queues a job and waits for it; the loop
// polls fd() and runs what is queued (drain) between its other work.
//
// Thread contract: run/post from any thread; drain and close on the loop
// thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "node/app/context.h"
#include "node/render.h"

namespace liandong::desk {

// What a job gets on the loop thread.
struct LoopServices {
  const app::Context& app;                     // the store and the node's signing key
  std::function<node::StatusReport()> status;  // the daemon's links and totals
};

using LoopJob = std::function<void(LoopServices&)>;

class LoopJobs {
 public:
  LoopJobs();
  ~LoopJobs();
  LoopJobs(const LoopJobs&) = delete;
  LoopJobs& operator=(const LoopJobs&) = delete;

  // Becomes readable when jobs are queued (an eventfd).
  int fd() const { return fd_; }

  // Runs `job` on the loop and waits for it. False when it did not run: the
  // loop is stopping, or did not start it within `timeout` (then it never
  // will). Once started, a job is waited for to its end.
  bool run(LoopJob job, std::chrono::milliseconds timeout);
  // Queues `job` without waiting (dropped if the loop is stopping).
  void post(LoopJob job);

  // The loop: runs every job queued; returns how many ran.
  std::size_t drain(LoopServices& services);
  // The loop, stopping: no job runs after this; waiters are told so.
  void close();

 private:
  struct Pending;
  std::mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool closed_ = false;
  int fd_ = -1;
};

}  // namespace liandong::desk
