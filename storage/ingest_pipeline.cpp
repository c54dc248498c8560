#include "storage/ingest_pipeline.h"

#include <utility>

namespace liandong::storage {

namespace {

// Moves batches from the front of `queue` into a group: at least one, then
// more while the group stays within `max_events`.
template <typename Batch>
std::vector<Batch> take_group(std::deque<Batch>& queue, std::size_t max_events) {
  std::vector<Batch> group;
  std::size_t events = 0;
  while (!queue.empty()) {
    const std::size_t n = queue.front().events;
    if (!group.empty() && events + n > max_events) break;
    events += n;
    group.push_back(std::move(queue.front()));
    queue.pop_front();
  }
  return group;
}

}  // namespace

IngestPipeline::IngestPipeline(Store& store, IngestPipelineOptions opts)
    : store_(store), opts_(opts), pool_(opts.verify_threads) {
  verifier_ = std::thread([this] { verify_loop(); });
  writer_ = std::thread([this] { write_loop(); });
}

IngestPipeline::~IngestPipeline() {
  drain();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  to_verify_cv_.notify_all();
  to_write_cv_.notify_all();
  verifier_.join();
  writer_.join();
}

bool IngestPipeline::has_room(std::size_t events) const {
  return pending_events_ == 0 || pending_events_ + events <= opts_.max_pending_events;
}

void IngestPipeline::enqueue(std::vector<std::string>&& sealed, Done&& done) {
  pending_events_ += sealed.size();
  ++submitted_;
  Batch b;
  b.events = sealed.size();
  b.sealed = std::move(sealed);
  b.done = std::move(done);
  to_verify_.push_back(std::move(b));
}

void IngestPipeline::submit(std::vector<std::string> sealed, Done done) {
  {
    std::unique_lock lock(mu_);
    progress_cv_.wait(lock, [&] { return has_room(sealed.size()); });
    enqueue(std::move(sealed), std::move(done));
  }
  to_verify_cv_.notify_one();
}

Status IngestPipeline::try_submit(std::vector<std::string>&& sealed, Done&& done) {
  {
    std::lock_guard lock(mu_);
    if (!has_room(sealed.size()))
      return Status::overloaded("ingest pipeline has " + std::to_string(pending_events_) +
                                " events pending");
    enqueue(std::move(sealed), std::move(done));
  }
  to_verify_cv_.notify_one();
  return Status::ok();
}

void IngestPipeline::drain() {
  std::unique_lock lock(mu_);
  const uint64_t target = submitted_;
  progress_cv_.wait(lock, [&] { return completed_ >= target; });
}

std::size_t IngestPipeline::pending_events() const {
  std::lock_guard lock(mu_);
  return pending_events_;
}

void IngestPipeline::verify_loop() {
  for (;;) {
    std::vector<Batch> group;
    {
      std::unique_lock lock(mu_);
      to_verify_cv_.wait(lock, [&] { return stopping_ || !to_verify_.empty(); });
      if (to_verify_.empty()) {  // stopping, and everything submitted went on
        verifier_done_ = true;
        break;
      }
      group = take_group(to_verify_, opts_.max_group_events);
    }
    verify(group);
    {
      std::lock_guard lock(mu_);
      for (auto& b : group)
        to_write_.push_back(std::move(b));
    }
    to_write_cv_.notify_one();
  }
  to_write_cv_.notify_one();
}

void IngestPipeline::verify(std::vector<Batch>& group) {
  // One flat index over the group so the pool spreads every event of every
  // batch over all threads.
  struct Slot {
    Batch* batch;
    std::size_t i;
  };
  std::vector<Slot> slots;
  for (auto& b : group) {
    b.views.resize(b.sealed.size());
    b.errors.resize(b.sealed.size());
    for (std::size_t i = 0; i < b.sealed.size(); ++i)
      slots.push_back(Slot{&b, i});
  }
  pool_.run(slots.size(), [&](std::size_t k) {
    Batch& b = *slots[k].batch;
    const std::size_t i = slots[k].i;
    auto view = EventView::parse(b.sealed[i]);
    if (!view.ok()) {
      b.errors[i] = view.status();
      return;
    }
    const auto key = store_.signing_key_of(*view);
    if (!key.ok() || !*key) {
      b.errors[i] = key.ok()
                        ? Status::invalid("no public key known for origin " + view->id().origin)
                        : key.status();
      return;
    }
    if (auto s = check_signature(*view, **key); !s) {
      b.errors[i] = std::move(s);
      return;
    }
    b.views[i] = std::move(view).value();
  });
  // The views hold their own copies of the bytes.
  for (auto& b : group)
    std::vector<std::string>().swap(b.sealed);
}

void IngestPipeline::write_loop() {
  for (;;) {
    std::vector<Batch> group;
    {
      std::unique_lock lock(mu_);
      to_write_cv_.wait(lock, [&] { return !to_write_.empty() || verifier_done_; });
      if (to_write_.empty()) break;  // the verifier has stopped and passed on everything
      group = take_group(to_write_, opts_.max_group_events);
    }
    write(group);
  }
}

void IngestPipeline::write(std::vector<Batch>& group) {
  std::vector<const EventView*> good;
  for (const auto& b : group) {
    for (const auto& v : b.views) {
      if (v) good.push_back(&*v);
    }
  }
  Result<std::vector<IngestResult>> applied = std::vector<IngestResult>();
  if (!good.empty()) applied = store_.apply(good);
  // Committed (or failed as a whole): report each batch in order.
  std::size_t next = 0, events = 0;
  for (auto& b : group) {
    events += b.events;
    if (!applied.ok()) {
      b.done(applied.status());
    } else {
      std::vector<IngestResult> out(b.events);
      for (std::size_t i = 0; i < b.events; ++i) {
        out[i] = b.views[i] ? std::move((*applied)[next++])
                            : IngestResult{Outcome::rejected, 0, std::move(b.errors[i])};
      }
      b.done(std::move(out));
    }
    b.views.clear();  // free the events before the next batch reports
  }
  // Once per group, not per batch: with many small batches, waking the
  // submitter for each would cost more than the batches themselves.
  {
    std::lock_guard lock(mu_);
    pending_events_ -= events;
    completed_ += group.size();
  }
  progress_cv_.notify_all();
}

}  // namespace liandong::storage
