// The ingest pipeline for outside bytes: batches of sealed events received
// from peers (or imported from a USB stick) go through two stages that
// overlap in time:
//
//   stage one  (verifier thread + VerifyPool) parses each event with limits
//              (EventView::parse) and checks its signature against the key
//              directory (Store::key of its origin);
//   stage two  (the single writer thread) applies the events that passed
//              with Store::apply: dedup, append, fold, index, one write
//              transaction committed with sync.
//
// While the writer applies and syncs batch k, the pool already verifies
// batch k+1, so signature checks (which bound ingest) keep every core busy.
// When several batches are queued at a stage, that stage takes them together
// (up to max_group_events): the pool verifies them in one run and the writer
// applies them in one transaction (group commit). Each batch still gets its
// own results, in submission order.
//
// Thread contract: submit(), try_submit(), drain() and pending_events() may
// be called from any thread, but not from a `Done` callback (which runs on
// the writer thread). Batches complete, and their callbacks run, strictly in
// the order their submit()/try_submit() calls returned. A callback runs only
// after the transaction holding its batch committed with sync, so every
// event it reports `stored` or `duplicate` is durable and readable by any
// reader. Callbacks must be quick and must not throw. Only the writer thread
// writes to `store` (Store::apply); the pool threads only read it
// (Store::key). Writes made elsewhere (append_local, the CLI in another
// process) are serialized with it by LMDB's writer lock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/status.h"
#include "protocol/verify_pool.h"
#include "storage/store.h"

namespace liandong::storage {

struct IngestPipelineOptions {
  // Threads checking signatures, counting the verifier thread itself;
  // 0: one per hardware thread.
  unsigned verify_threads = 0;
  // Events submitted but not yet completed. Beyond this, submit() waits and
  // try_submit() refuses; a single batch larger than this is still taken
  // when nothing else is pending.
  std::size_t max_pending_events = 16384;
  // Most events a stage takes together (one pool run, one transaction). A
  // single larger batch is taken whole. Larger groups commit less often;
  // smaller ones report sooner (a batch's results wait for its group).
  std::size_t max_group_events = 4096;
};

class IngestPipeline {
 public:
  // The outcome of one submitted batch: a result per event, in the order of
  // the batch, or a failed Status (no_space, corruption, internal) when the
  // transaction could not commit; then nothing of the batch was stored and
  // the sender must not be acknowledged. Later batches are still attempted.
  using Done = std::function<void(Result<std::vector<IngestResult>>)>;

  // `store` must outlive the pipeline. Starts the verifier, the pool's
  // workers and the writer.
  explicit IngestPipeline(Store& store, IngestPipelineOptions opts = {});
  // Completes every submitted batch (their callbacks run), then joins.
  ~IngestPipeline();
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;

  // Queues a batch of sealed events; `done` gets its results later, on the
  // writer thread. Waits while max_pending_events are pending.
  void submit(std::vector<std::string> sealed, Done done);

  // Like submit() but never waits: overloaded (back off, stop reading from
  // the peer) when the batch does not fit now; then `sealed` and `done` are
  // left untouched and `done` is never called.
  Status try_submit(std::vector<std::string>&& sealed, Done&& done);

  // Returns when every batch submitted before the call has completed and its
  // callback has returned.
  void drain();

  // Events submitted and not yet completed.
  std::size_t pending_events() const;

 private:
  struct Batch {
    std::size_t events = 0;
    std::vector<std::string> sealed;  // released once stage one is done
    Done done;
    std::vector<std::optional<EventView>> views;  // set for events that passed stage one
    std::vector<Status> errors;                   // the reason, for events that did not
  };

  bool has_room(std::size_t events) const;  // with mu_ held
  void enqueue(std::vector<std::string>&& sealed, Done&& done);
  void verify_loop();
  void write_loop();
  void verify(std::vector<Batch>& group);
  void write(std::vector<Batch>& group);

  Store& store_;
  const IngestPipelineOptions opts_;
  VerifyPool pool_;  // used by the verifier thread only

  mutable std::mutex mu_;
  std::condition_variable to_verify_cv_, to_write_cv_, progress_cv_;
  std::deque<Batch> to_verify_, to_write_;
  std::size_t pending_events_ = 0;
  uint64_t submitted_ = 0, completed_ = 0;  // batches
  bool stopping_ = false, verifier_done_ = false;

  std::thread verifier_, writer_;  // last: started once the rest exists
};

}  // namespace liandong::storage
