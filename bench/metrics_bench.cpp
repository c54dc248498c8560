// What one scrape of the metrics endpoint costs at a township's or a
// county's size (node/metrics.h): the snapshot of 400 children's links (and
// an upstream) turned into families and written in the text format, and the
// copy of the links the HTTP thread takes from what the loop published.
// Prints one line per size: microseconds per scrape (median of the runs) and
// the bytes of text. Not a test; run by hand:
//   build/bench/metrics_bench [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "node/metrics.h"

using namespace liandong;

namespace {

node::metrics::MetricsSnapshot snapshot(int children) {
  node::metrics::MetricsSnapshot s;
  s.code = "360723";
  s.version = "0.1.0";
  s.started_ms = 1'800'000'000'000;
  s.loop_at_ms = 1'800'000'100'000;
  for (int i = 0; i <= children; ++i) {
    node::LinkReport l;
    l.up_link = i == 0;
    const std::string code =
        "360723" + std::to_string(101 + i / 20) + std::to_string(1001 + i % 20).substr(1);
    l.peer = l.up_link ? "36" : code;
    l.state = i % 7 == 0 ? "down" : "up";
    l.active = l.state == "up";
    l.rtt_ms = 3.25 + i;
    l.bytes_sent = 1'000'000u + static_cast<uint64_t>(i) * 7919;
    l.bytes_received = 2'000'000u + static_cast<uint64_t>(i) * 104729;
    l.events_sent = 1000u + static_cast<uint64_t>(i);
    l.events_received = 5000u + static_cast<uint64_t>(i) * 3;
    l.unacked_events = static_cast<uint64_t>(i % 5);
    l.oldest_unacked_age_ms = i % 5 == 0 ? -1 : 1234 * i;
    l.last_heard_ms = 1'800'000'099'000u + static_cast<uint64_t>(i);
    s.links.push_back(l);
  }
  s.store = storage::StoreStats{.events = 4'000'000,
                                .cases = 400'000,
                                .last_lsn = 4'000'000,
                                .next_seq = 9,
                                .map_bytes = 8ull << 30,
                                .used_bytes = 5ull << 30};
  s.map_max_bytes = 1ull << 40;
  s.disk_free_bytes = 100ull << 30;
  s.disk_size_bytes = 500ull << 30;
  s.deadlines = node::DeadlineCounts{.overdue = 12, .warning = 40};
  s.quarantined = 0;
  s.slow_at_ms = 1'800'000'090'000;
  s.desk = desk::RequestStats().snapshot();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  for (int children : {20, 400}) {
    const auto s = snapshot(children);
    std::vector<double> us;
    std::size_t bytes = 0;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      node::metrics::MetricsSnapshot copy = s;  // what the HTTP thread copies
      const std::string text = node::metrics::render(copy);
      const auto t1 = std::chrono::steady_clock::now();
      bytes = text.size();
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf(
        "metrics scrape, %3d children + 1 upstream: %8.0f us median, %8.0f us p90, "
        "%7zu bytes of text\n",
        children, us[us.size() / 2], us[us.size() * 9 / 10], bytes);
  }
  return 0;
}
