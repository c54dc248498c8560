#include "node/desk/loop_jobs.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <exception>

namespace liandong::desk {

struct LoopJobs::Pending {
  LoopJob job;
  std::mutex mu;
  std::condition_variable cv;
  enum class State { queued, running, done, dropped } state = State::queued;
};

LoopJobs::LoopJobs() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

LoopJobs::~LoopJobs() {
  if (fd_ >= 0) ::close(fd_);
}

void LoopJobs::post(LoopJob job) {
  auto p = std::make_shared<Pending>();
  p->job = std::move(job);
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    queue_.push_back(p);
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

bool LoopJobs::run(LoopJob job, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<Pending>();
  p->job = std::move(job);
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    queue_.push_back(p);
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
  std::unique_lock lock(p->mu);
  p->cv.wait_for(lock, timeout, [&] { return p->state != Pending::State::queued; });
  if (p->state == Pending::State::queued) {
    p->state = Pending::State::dropped;  // the loop will skip it
    return false;
  }
  p->cv.wait(lock, [&] { return p->state != Pending::State::running; });
  return p->state == Pending::State::done;
}

std::size_t LoopJobs::drain(LoopServices& services) {
  uint64_t counter = 0;
  [[maybe_unused]] const ssize_t n = ::read(fd_, &counter, sizeof counter);
  std::deque<std::shared_ptr<Pending>> jobs;
  {
    std::lock_guard lock(mu_);
    jobs.swap(queue_);
  }
  std::size_t ran = 0;
  for (auto& p : jobs) {
    {
      std::lock_guard lock(p->mu);
      if (p->state != Pending::State::queued) continue;
      p->state = Pending::State::running;
    }
    try {
      p->job(services);
    } catch (const std::exception& e) {
      spdlog::error("desk job failed: {}", e.what());
    }
    ++ran;
    {
      std::lock_guard lock(p->mu);
      p->state = Pending::State::done;
    }
    p->cv.notify_all();
  }
  return ran;
}

void LoopJobs::close() {
  std::deque<std::shared_ptr<Pending>> jobs;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    jobs.swap(queue_);
  }
  for (auto& p : jobs) {
    {
      std::lock_guard lock(p->mu);
      p->state = Pending::State::dropped;
    }
    p->cv.notify_all();
  }
}

}  // namespace liandong::desk
