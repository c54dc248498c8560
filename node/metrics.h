// The node's figures for Prometheus (docs/OPERATIONS.md, 监控 / Metrics):
// what a scrape shows (MetricsSnapshot: links, store, disk, deadlines, the
// desk's requests), turned into metric families and written in the text
// exposition format 0.0.4 (# HELP, # TYPE, escaped label values, histogram
// buckets). The HTTP listener that serves it is node/metrics_server.h.
//
// Thread contract: pure functions over values; no I/O, no clock (the
// snapshot carries its times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/desk/request_stats.h"
#include "node/render.h"
#include "node/report.h"
#include "storage/store.h"

namespace liandong::node::metrics {

// ---- the exposition format --------------------------------------------------

enum class Type { counter, gauge, histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

// One histogram's series: `buckets[i]` requests took at most `bounds[i]`
// (not cumulative); buckets.size() == bounds.size() + 1, the last one above
// every bound. `bounds` ascending.
struct HistogramSample {
  Labels labels;
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  double sum = 0;
};

// A metric family: a name ([a-zA-Z_:][a-zA-Z0-9_:]*, counters ending in
// _total), its help text, its type and its series. A family without series
// is left out of the output.
struct Family {
  std::string name, help;
  Type type = Type::gauge;
  std::vector<Sample> samples;              // counter, gauge
  std::vector<HistogramSample> histograms;  // histogram
};

// A label value as the format wants it: \ " and newline escaped.
std::string escape_label_value(std::string_view v);
// HELP text: \ and newline escaped.
std::string escape_help(std::string_view v);
// A sample value: integers as integers (no exponent up to 2^53), else the
// shortest text that reads back the same; NaN, +Inf, -Inf.
std::string format_value(double v);
// Appends the family to `out` in the text format; nothing without series.
void append_family(std::string& out, const Family& f);
std::string format(const std::vector<Family>& families);

// ---- the node's figures ----------------------------------------------------

// Everything one scrape shows; each part may be missing (then its metrics
// are left out rather than shown as zero).
struct MetricsSnapshot {
  std::string code, version;
  uint64_t started_ms = 0;  // the daemon's start (wall clock)
  // From the daemon's loop (at most about a second old).
  std::optional<uint64_t> loop_at_ms;  // when the loop's part was taken
  double loop_took_seconds = 0;        // and how long taking it held the loop
  std::vector<LinkReport> links;
  uint64_t store_full_since_ms = 0;  // 0: the store has room
  StatusReport::Attachments attachments;
  // The store, read at the scrape.
  std::optional<storage::StoreStats> store;
  uint64_t map_max_bytes = 0;  // the most the store's map may grow to
  std::optional<uint64_t> attachment_bytes;
  // statvfs of the data directory, read at the scrape.
  std::optional<uint64_t> disk_free_bytes, disk_size_bytes;
  // Refreshed at most every 30 s off the loop (walks the cases).
  std::optional<DeadlineCounts> deadlines;
  std::optional<uint64_t> quarantined;
  uint64_t slow_at_ms = 0;  // when deadlines and quarantined were counted
  // The desk's requests (no desk: none).
  std::optional<desk::RequestStats::Snapshot> desk;
};

// The families of a snapshot, in a fixed order. A link's `peer` label is
// its division code, `direction` "up" (our upstream) or "down" (our child).
// A link never heard from since the daemon started shows the start time as
// its last heard (silent at least since then).
std::vector<Family> families(const MetricsSnapshot& s);

// families() and format() in one.
std::string render(const MetricsSnapshot& s);

}  // namespace liandong::node::metrics
