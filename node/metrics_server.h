// The metrics endpoint ([metrics] listen, docs/OPERATIONS.md 监控 / Metrics):
// a small HTTP listener of its own that answers GET /metrics in the
// Prometheus text format (node/metrics.h) and nothing else (other methods
// 405, other paths 404).
//
// Where the figures come from, so that a scrape never holds up the loop:
//   - the daemon's loop publishes what only it may read (the links'
//     sessions, attachment transfers, the store-full mark) with publish(),
//     at most once a second and only while someone scrapes (wanted()); a
//     scrape finding them older than 2 s waits up to 1 s for fresh ones.
//     Taking them counts each link's unacknowledged events in the log: when
//     that took long (a county with a backlog), the next waits 20 times as
//     long, so that the loop spends at most a twentieth of its time on it;
//   - the HTTP thread reads the store's totals and statvfs of the data
//     directory at the scrape (short read transactions);
//   - a thread of its own counts overdue/warning cases and the quarantine
//     (they walk the cases) when a scrape finds them older than 30 s; the
//     first scrape waits up to 1 s for them, later ones show the last count.
//
// Thread contract: start, wanted, publish and stop from the daemon's loop
// thread; the listener's and the counter's threads read the store
// (thread-safe) and what publish() handed over, under a mutex.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/desk/request_stats.h"
#include "node/render.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

// What the loop hands over.
struct LoopFigures {
  uint64_t at_ms = 0;       // wall clock
  double took_seconds = 0;  // the loop's time taking them
  std::vector<LinkReport> links;
  uint64_t store_full_since_ms = 0;
  StatusReport::Attachments attachments;
};

class MetricsServer {
 public:
  struct Options {
    config::MetricsSettings settings;
    std::filesystem::path data;  // statvfs target; DATA/metrics/address is written
    std::string code;
    uint64_t started_ms = 0;
    uint64_t map_max_bytes = 0;
  };
  // Binds (a port in use: an error saying so in one line) and serves on
  // threads of its own. `desk`: the desk's request counters, or nullptr
  // (no desk); it must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const Options& options,
                                                      const storage::Store& store,
                                                      const desk::RequestStats* desk);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "http://127.0.0.1:9617/metrics"
  const std::string& url() const;
  // True when publish() is due: scraped in the last 5 minutes, and the last
  // figures are a second old (or 20 times what taking them took), or a
  // scrape waits for fresh ones and the last were taken 20 times as long
  // ago as they took.
  bool wanted() const;
  void publish(LoopFigures figures);
  // Stops accepting, finishes the scrapes in hand, joins the threads.
  void stop();

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace liandong::node
