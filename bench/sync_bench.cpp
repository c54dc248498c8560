// Sync benchmarks: real `liandong run` daemons on 127.0.0.1, in the tree
//
//   county 360723
//     township 360723101: villages 360723101001, 360723101002, 360723101007
//     township 360723102: village 360723102003
//
// with 1 KiB signed `submitted` events, measuring
//   (1) catch-up: 25,000 events made offline at each village, then the links
//       come up; the time until the county holds all 100,000, against the CPU
//       ceiling of signing once and verifying at each receiving hop (township,
//       county) on every core: cores / (t_sign + 2 t_verify), with t_sign and
//       t_verify measured here on events of the same corpus;
//   (2) latency: single submissions at village 360723101007 through its
//       daemon's control socket at 10/s; the time from just before the submit
//       until the county's store holds the event (polled every ~1 ms,
//       only read, from this process);
//   (3) bytes on the wire per event, from `status --json` (application bytes
//       of ZeroMQ messages per link), over the latency run and a sustained
//       run (the same village submitting back to back), against each event's
//       zstd level-3 size alone;
//   (4) peak RSS (VmHWM) of an idle village daemon and of the county after
//       catch-up.
// Everything runs in a scratch directory that is removed afterwards; the
// daemons are this process's children and are stopped (SIGTERM) at the end.
// Run by bench/run_sync.sh.
//
// Usage: sync_bench [--markdown FILE] [--dir DIR] [--liandong PATH] [--quick]
//                   [--events-per-village N] [--latency-seconds N]
//                   [--sustained-seconds N] [--log-level LEVEL] [--logs-to DIR]
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <capnp/message.h>
#include <kj/io.h>

#include "bench/bench_machine.h"
#include "bench/bench_util.h"
#include "bench/sync_bench_tree.h"
#include "node/identity.h"
#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/sync_codec.h"
#include "storage/store.h"

using namespace liandong;
namespace fs = std::filesystem;

namespace {

using bench::check_interrupted;
using bench::children_cpu_s;
using bench::default_liandong;
using bench::fmt;
using bench::grouped;
using bench::mib;
using bench::seconds_since;
using bench::self_cpu_s;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr double kCeilingTarget = 0.60;  // catch-up rate / CPU ceiling
constexpr double kP50TargetMs = 20;
constexpr double kP99TargetMs = 100;
constexpr double kBytesTarget = 1.2;  // wire bytes per event / zstd size alone

const char* const kCounty = "360723";
const char* const kTownship1 = "360723101";
const char* const kTownship2 = "360723102";
const std::vector<std::string> kVillages = {"360723101001", "360723101002", "360723101007",
                                            "360723102003"};
const char* const kLatencyVillage = "360723101007";
const char* const kIdleVillage = "360723101002";

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Settings {
  fs::path liandong, tmp_parent = fs::temp_directory_path(), logs_to;
  std::string markdown, log_level = "info";
  bool quick = false;
  std::size_t events_per_village = 25000;
  double latency_seconds = 100, rate = 10, sustained_seconds = 20;
  double catchup_deadline_s = 300;
};

// ---- the CPU ceiling ------------------------------------------------------------------------

struct Ceiling {
  double sign_us = 0, verify_us = 0, rate = 0;
  std::size_t sample = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Single-thread Ed25519 sign and verify (check_signature: SHA-512 over the
// event included) over events read back from a village store, median of 5.
Ceiling measure_ceiling(const bench::TreeNode& village, std::size_t sample, unsigned cores) {
  auto store = bench::open_store(village);
  auto id = node::load_identity(village.data);
  if (!id.ok()) throw std::runtime_error(id.status().message());
  std::vector<EventView> views;
  auto s = store->scan_log(0, sample, [&](uint64_t, std::string_view v) {
    auto view = EventView::parse(v);
    if (view.ok()) views.push_back(std::move(view).value());
    return true;
  });
  if (!s || views.empty()) throw std::runtime_error("cannot read events back for the ceiling");
  std::vector<double> sign_us, verify_us;
  std::size_t bad = 0;
  // This thread's CPU time, not the wall clock: a thread that the machine's
  // other work preempts would otherwise count the wait as signing cost.
  auto thread_cpu_s = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
  };
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = thread_cpu_s();
    volatile uint8_t sink = 0;  // keeps the signing from being optimized away
    for (const auto& v : views)
      sink = static_cast<uint8_t>(sink ^ sign(id->sign, v.event_bytes())[0]);
    sign_us.push_back((thread_cpu_s() - t0) * 1e6 / views.size());
    t0 = thread_cpu_s();
    for (const auto& v : views)
      if (!check_signature(v, id->sign.pub)) ++bad;
    verify_us.push_back((thread_cpu_s() - t0) * 1e6 / views.size());
  }
  if (bad > 0) throw std::runtime_error("events of the corpus do not verify");
  Ceiling c;
  c.sign_us = median(sign_us);
  c.verify_us = median(verify_us);
  c.rate = cores * 1e6 / (c.sign_us + 2 * c.verify_us);
  c.sample = views.size();
  return c;
}

// ---- bytes ---------------------------------------------------------------------------------

// zstd level 3 of each event alone, summed.
class AloneSize {
 public:
  AloneSize() : cctx_(ZSTD_createCCtx()) {}
  ~AloneSize() { ZSTD_freeCCtx(cctx_); }
  AloneSize(const AloneSize&) = delete;
  AloneSize& operator=(const AloneSize&) = delete;
  std::size_t of(std::string_view sealed) {
    buf_.resize(ZSTD_compressBound(sealed.size()));
    const std::size_t n =
        ZSTD_compressCCtx(cctx_, buf_.data(), buf_.size(), sealed.data(), sealed.size(), 3);
    return ZSTD_isError(n) ? sealed.size() : n;
  }

 private:
  ZSTD_CCtx* cctx_;
  std::string buf_;
};

// What one link carried during one run, both directions.
struct LinkRow {
  std::string run, child, parent;
  uint64_t events = 0, alone_bytes = 0, raw_bytes = 0;
  bench::LinkCounters up, down;  // sent by the child / by the parent
};

LinkRow link_row(const std::string& run, const std::string& child, const std::string& parent,
                 const bench::LinkSnapshot& before, const bench::LinkSnapshot& after,
                 uint64_t events, uint64_t alone_bytes, uint64_t raw_bytes) {
  LinkRow r{run, child, parent, events, alone_bytes, raw_bytes, {}, {}};
  r.up = bench::link_delta(before, after, child, parent);
  r.down = bench::link_delta(before, after, parent, child);
  return r;
}

// Sizes of the sync messages the daemon sends, built with the same codec and
// field values as node/daemon.cpp (pump, send_ack, tick_peer).
struct MessageSize {
  std::size_t bytes = 0;  // as sent: Cap'n Proto's packed encoding (sync::encode)
};
struct MessageSizes {
  MessageSize batch_envelope, empty_batch, ack, heartbeat;  // envelope: without the payload
};

MessageSize size_of(capnp::MessageBuilder& msg, std::size_t minus = 0) {
  return MessageSize{sync::encode(msg).size() - minus};
}

MessageSizes message_sizes(const std::string& event) {
  MessageSizes m;
  for (bool empty : {false, true}) {
    std::vector<std::string> events;
    if (!empty) events.push_back(event);
    const auto packed = sync::pack_events(events, true);
    capnp::MallocMessageBuilder msg;
    auto b = msg.initRoot<proto::SyncMessage>().initBatch();
    b.setFromLsn(123456);
    b.setToLsn(123457);
    write_id(b.initLastId(), Id{kLatencyVillage, 100000});
    b.setCount(static_cast<uint32_t>(events.size()));
    b.setCompression(packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
    b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(packed.data.data()),
                                    packed.data.size()));
    b.setRawBytes(packed.raw_bytes);
    (empty ? m.empty_batch : m.batch_envelope) = size_of(msg, packed.data.size());
  }
  {
    capnp::MallocMessageBuilder msg;
    auto a = msg.initRoot<proto::SyncMessage>().initAck();
    sync::write_cursor(a.initHave(), sync::CursorValue{"", 123457, Id{kLatencyVillage, 100000}});
    a.setResend(false);
    a.setTopLsn(123457);
    m.ack = size_of(msg);
  }
  {
    capnp::MallocMessageBuilder msg;
    auto h = msg.initRoot<proto::SyncMessage>().initHeartbeat();
    h.setSentMs(1'700'000'000'000ULL);
    h.setEchoMs(1'700'000'000'000ULL);
    m.heartbeat = size_of(msg);
  }
  return m;
}

// ---- figures --------------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t k = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

std::string met(bool ok) {
  return ok ? "met" : "**missed**";
}

// What a daemon's event-loop thread did during the catch-up.
struct LoopProfile {
  double run_s = 0, runqueue_s = 0;  // on a CPU; runnable but waiting for one
  std::map<char, int> states;        // sampled scheduler states ('R', 'S', 'D')
  int samples = 0;
};

struct CatchUp {
  std::map<std::string, LoopProfile> loops;
  std::size_t events = 0;
  uint64_t county_events = 0;
  double seconds = 0, steady_rate = 0;
  std::map<std::string, double> done_s;  // township: when it held all its villages' events
  std::map<std::string, double> cpu_s;   // per node, during the catch-up
  Ceiling before, after;
  double ceiling = 0;
  bench::ProcStats county_mem;
  std::map<std::string, uint64_t> village_hwm_kib;
  uint64_t county_at_t1_done = 0;  // what the county held when township 1 held all
  double self_cpu_s = 0;           // this process (polling stores and /proc) meanwhile
  double villages_started_s = 0;   // when every village's control socket answered
  double first_s = 0;              // when the county held its first application
};

struct Latency {
  std::size_t submitted = 0, arrived = 0;
  std::vector<double> ms, submit_ms;
  double seconds = 0;
};

struct Report {
  bench::Machine machine;
  Settings settings;
  double fill_s = 0;
  double avg_sealed = 0;
  CatchUp catchup;
  bench::ProcStats idle;
  Latency latency;
  std::size_t sustained_events = 0;
  double sustained_s = 0;
  std::vector<LinkRow> links;
  std::map<std::string, std::pair<uint64_t, uint64_t>> tree_totals;  // run -> (bytes, events)
  std::map<std::string, double> disk_written;  // run -> bytes the bench disk took (diskstats)
  MessageSizes sizes;
  std::size_t alone_one = 0;
  std::string load_after, disturbance;
  bool clean_exit = true;
};

std::string markdown(const Report& r) {
  const Settings& s = r.settings;
  const CatchUp& c = r.catchup;
  std::ostringstream md;
  md << "Run " << r.machine.date << ", Release build, 7 daemons on 127.0.0.1 (county, 2 "
     << "townships, 4 villages), [sync] defaults, log level " << s.log_level << "."
     << (s.quick ? " --quick: small runs; not for quoting." : "") << "\n\n";
  const double achieved = c.seconds > 0 ? c.events / c.seconds : 0;
  const double ratio = c.ceiling > 0 ? achieved / c.ceiling : 0;
  const double p50 = percentile(r.latency.ms, 50), p90 = percentile(r.latency.ms, 90),
               p99 = percentile(r.latency.ms, 99);
  const double mx =
      r.latency.ms.empty() ? NAN : *std::max_element(r.latency.ms.begin(), r.latency.ms.end());
  const bool all_arrived = r.latency.arrived == r.latency.submitted;
  md << "| figure | measured | target | met |\n|---|---|---|---|\n";
  md << "| (1) catch-up: " << grouped(c.events) << " events from 4 villages held at the county | "
     << fmt("%.2f s", c.seconds) << ", " << grouped(achieved) << " events/s (steady part "
     << grouped(c.steady_rate) << "/s) | | |\n";
  md << "| (1) CPU ceiling: " << r.machine.cores << " / (t_sign + 2 t_verify), t_sign "
     << fmt("%.1f", c.before.sign_us) << "/" << fmt("%.1f", c.after.sign_us) << " µs, t_verify "
     << fmt("%.1f", c.before.verify_us) << "/" << fmt("%.1f", c.after.verify_us)
     << " µs (before/after) | " << grouped(c.ceiling) << " events/s | | |\n";
  md << "| (1) catch-up / ceiling | " << fmt("%.1f %%", 100 * ratio) << " | >= 60 % | "
     << met(ratio >= kCeilingTarget) << " |\n";
  md << "| (2) latency p50, " << grouped(r.latency.submitted) << " submissions at "
     << fmt("%.0f/s", s.rate) << " | " << fmt("%.1f ms", p50) << " | <= 20 ms | "
     << met(all_arrived && p50 <= kP50TargetMs) << " |\n";
  md << "| (2) latency p90 | " << fmt("%.1f ms", p90) << " | | |\n";
  md << "| (2) latency p99 | " << fmt("%.1f ms", p99) << " | <= 100 ms | "
     << met(all_arrived && p99 <= kP99TargetMs) << " |\n";
  md << "| (2) latency max (" << r.latency.arrived << " of " << r.latency.submitted
     << " arrived) | " << fmt("%.1f ms", mx) << " | | |\n";
  md << "| (2) submit round trip (control socket, incl. the village's commit) p50 / p99 | "
     << fmt("%.1f", percentile(r.latency.submit_ms, 50)) << " / "
     << fmt("%.1f ms", percentile(r.latency.submit_ms, 99)) << " | | |\n";
  for (const auto& l : r.links) {
    if (l.run == "catch-up") continue;
    const double per = static_cast<double>(l.up.bytes_sent + l.down.bytes_sent) / l.events;
    const double alone = static_cast<double>(l.alone_bytes) / l.events;
    md << "| (3) wire bytes/event, " << l.run << ", " << l.child << " ⇄ " << l.parent
       << ", both directions | " << fmt("%.0f B", per) << " = " << fmt("%.2f×", per / alone)
       << " zstd alone (" << fmt("%.0f B", alone) << ") | <= 1.2× | "
       << met(per / alone <= kBytesTarget) << " |\n";
  }
  auto memory = [&](const bench::ProcStats& p) {
    return mib(p.hwm_kib) + " (now " + mib(p.rss_kib) + ": anonymous " + mib(p.anon_kib) +
           ", file-backed " + mib(p.file_kib) + ")";
  };
  md << "| (4) peak RSS (VmHWM), idle village " << kIdleVillage
     << " (restarted after catch-up, link up, idle 3 s) | " << memory(r.idle) << " | | |\n";
  md << "| (4) peak RSS (VmHWM), county after catch-up | " << memory(c.county_mem) << " | | |\n";

  md << "\nCatch-up, where the CPU went (utime + stime of each daemon from /proc/PID/stat over "
     << "the catch-up, " << fmt("%.2f s", c.seconds) << " wall; a node's \"busy\" is CPU / wall):"
     << "\n\n| node | events stored | done at | CPU s | busy | CPU µs/event |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [code, cpu] : c.cpu_s) {
    const std::size_t stored = code == kCounty      ? c.events
                               : code == kTownship1 ? 3 * s.events_per_village
                               : code == kTownship2 ? s.events_per_village
                                                    : 0;
    const std::size_t sent = stored == 0 ? s.events_per_village : stored;
    std::string done = "";
    if (auto it = c.done_s.find(code); it != c.done_s.end()) done = fmt("%.2f s", it->second);
    if (code == kCounty) done = fmt("%.2f s", c.seconds);
    md << "| " << code << " | " << (stored ? grouped(stored) : "(sent " + grouped(sent) + ")")
       << " | " << done << " | " << fmt("%.2f", cpu) << " | "
       << fmt("%.0f %%", 100 * cpu / c.seconds) << " | " << fmt("%.1f", cpu * 1e6 / sent) << " |\n";
  }

  md << "| (this benchmark: starting the villages, polling the stores and /proc) | | | "
     << fmt("%.2f", c.self_cpu_s) << " | " << fmt("%.0f %%", 100 * c.self_cpu_s / c.seconds)
     << " | |\n";

  if (auto it = c.done_s.find(kTownship1); it != c.done_s.end() && c.seconds > it->second) {
    const double tail_s = c.seconds - it->second;
    const double left = static_cast<double>(c.events - c.county_at_t1_done);
    md << "\nWhen township " << kTownship1 << " held all its villages' events (at "
       << fmt("%.2f s", it->second) << "), the county held " << grouped(c.county_at_t1_done)
       << "; the remaining " << grouped(left) << " took it " << fmt("%.2f s", tail_s) << " ("
       << grouped(left / tail_s) << " events/s) with no other daemon busy.";
  }
  md << " Peak RSS (VmHWM) of the villages after sending their events:";
  for (const auto& [code, kib] : c.village_hwm_kib)
    md << " " << code << " " << mib(kib) << (code == kVillages.back() ? "." : ",");
  md << " The villages' daemons (started at once) all answered on their control sockets "
     << fmt("%.2f s", c.villages_started_s) << " after the clock started; the county held its "
     << "first application at " << fmt("%.2f s", c.first_s) << ".\n";
  md << "\nThe event-loop thread of each receiving node over the catch-up (schedstat: ran "
        "(the rest of the node's CPU is ZeroMQ's I/O thread), waited for a CPU while runnable, "
        "otherwise blocked; and its scheduler state sampled "
        "every ~1 ms: R running or runnable, S sleeping (zmq_poll, or an fdatasync in "
        "progress shows as D)):\n\n| node | ran | waited for a CPU | blocked | samples R / S / "
        "D |\n|---|---:|---:|---:|---|\n";
  for (const auto& loop : c.loops) {
    // Named copies: clang 14 cannot capture structured bindings in lambdas.
    const auto& code = loop.first;
    const auto& p = loop.second;
    auto pct = [&](char st) {
      auto it = p.states.find(st);
      const int n = it == p.states.end() ? 0 : it->second;
      return fmt("%.0f %%", p.samples > 0 ? 100.0 * n / p.samples : 0.0);
    };
    const double blocked = std::max(0.0, c.seconds - p.run_s - p.runqueue_s);
    md << "| " << code << " | " << fmt("%.2f s", p.run_s) << " | " << fmt("%.2f s", p.runqueue_s)
       << " | " << fmt("%.2f s", blocked) << " | " << pct('R') << " / " << pct('S') << " / "
       << pct('D') << " |\n";
  }

  md << "\nBytes on the wire per link (application bytes of ZeroMQ messages, from `status "
        "--json`; up = sent by the child, down = sent by the parent). zstd alone = each event "
        "compressed alone at level 3 (sealed average "
     << fmt("%.0f", r.avg_sealed) << " B):\n\n"
     << "| run | link | events | up B/event | down B/event | total B/event | zstd alone "
        "B/event | total / alone | up / alone | batches up / down |\n"
     << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& l : r.links) {
    const double e = static_cast<double>(l.events);
    const double alone = l.alone_bytes / e;
    md << "| " << l.run << " | " << l.child << " ⇄ " << l.parent << " | " << grouped(e) << " | "
       << fmt("%.0f", l.up.bytes_sent / e) << " | " << fmt("%.0f", l.down.bytes_sent / e) << " | "
       << fmt("%.0f", (l.up.bytes_sent + l.down.bytes_sent) / e) << " | " << fmt("%.0f", alone)
       << " | " << fmt("%.2f×", (l.up.bytes_sent + l.down.bytes_sent) / e / alone) << " | "
       << fmt("%.2f×", l.up.bytes_sent / e / alone) << " | " << grouped(l.up.batches_sent) << " / "
       << grouped(l.down.batches_sent) << " |\n";
  }
  for (const auto& [run, t] : r.tree_totals) {
    md << "\nWhole tree, " << run << ": " << grouped(t.first) << " bytes sent over all 6 links for "
       << grouped(t.second) << " events = " << fmt("%.0f", double(t.first) / t.second)
       << " B/event";
    if (auto it = r.disk_written.find(run); it != r.disk_written.end() && !r.machine.disk.empty())
      md << "; the disk (" << r.machine.disk << ") took "
         << fmt("%.0f KiB", it->second / 1024.0 / t.second)
         << " of writes per event (/proc/diskstats, whole machine)";
    md << ".";
  }
  auto both = [](const MessageSize& m) { return std::to_string(m.bytes) + " B"; };
  md << "\n\nSync message sizes, built with protocol/sync_codec (packed encoding) and the field "
     << "values the daemon sets: batch envelope " << both(r.sizes.batch_envelope)
     << " + the zstd payload (one event alone: " << r.alone_one
     << " B, plus its 4-byte length prefix), empty batch (moves the cursor, no events) "
     << both(r.sizes.empty_batch) << ", ack " << both(r.sizes.ack) << ", heartbeat "
     << both(r.sizes.heartbeat) << ".\n";
  md << "\n```\n"
     << r.machine.text() << "load after:    " << r.load_after << "\n"
     << "during run:    " << r.disturbance << "\n"
     << "fill:          " << grouped(4 * s.events_per_village) << " events appended offline in "
     << fmt("%.1f s", r.fill_s) << " (Store::append_local, 1,000 per transaction)\n"
     << "sustained:     " << grouped(r.sustained_events) << " submissions back to back in "
     << fmt("%.1f s", r.sustained_s) << " (" << grouped(r.sustained_events / r.sustained_s)
     << "/s) at " << kLatencyVillage << "\n"
     << "daemons:       " << (r.clean_exit ? "all exited 0 on SIGTERM" : "NOT all exited 0")
     << "\n```\n";
  return md.str();
}

// ---- the runs -------------------------------------------------------------------------------

CatchUp run_catchup(bench::Tree& tree, const Settings& s, unsigned cores) {
  CatchUp c;
  c.events = kVillages.size() * s.events_per_village;
  const std::size_t sample = s.quick ? 1000 : 3000;
  c.before = measure_ceiling(tree.node(kVillages[0]), sample, cores);
  std::printf("ceiling (before): sign %.1f us, verify %.1f us\n", c.before.sign_us,
              c.before.verify_us);
  for (const char* code : {kCounty, kTownship1, kTownship2}) {
    tree.start(code);
    std::printf("started %s: pid %d\n", code, static_cast<int>(tree.node(code).pid));
  }
  std::fflush(stdout);
  tree.wait_links_up({kTownship1, kTownship2}, milliseconds(30000));
  auto county = bench::open_store(tree.node(kCounty));
  auto t1 = bench::open_store(tree.node(kTownship1));
  auto t2 = bench::open_store(tree.node(kTownship2));
  std::map<std::string, double> cpu0;
  for (const char* code : {kCounty, kTownship1, kTownship2})
    cpu0[code] = tree.stats(code).cpu_s;
  std::map<std::string, bench::ThreadSample> loop0;
  for (const char* code : {kCounty, kTownship1, kTownship2})
    loop0[code] = bench::main_thread(tree.node(code).pid);

  const double self0 = self_cpu_s();
  const auto t0 = Clock::now();
  // All four at once, as villages come online independently (starting them
  // one after another would put three daemon start-ups into the clock).
  tree.start_many(kVillages);
  c.villages_started_s = seconds_since(t0);
  std::vector<std::pair<double, uint64_t>> samples;
  uint64_t held = 0;
  for (int round = 0; round < 10'000'000; ++round) {
    check_interrupted();
    held = bench::cases_in(*county);
    const double now = seconds_since(t0);
    if (samples.empty() || now - samples.back().first >= 0.1) samples.emplace_back(now, held);
    if (held > 0 && c.first_s == 0) c.first_s = now;
    if (!c.done_s.count(kTownship1) && bench::cases_in(*t1) >= 3 * s.events_per_village) {
      c.done_s[kTownship1] = now;
      c.county_at_t1_done = held;
    }
    if (!c.done_s.count(kTownship2) && bench::cases_in(*t2) >= s.events_per_village)
      c.done_s[kTownship2] = now;
    if (held >= c.events || now > s.catchup_deadline_s) break;
    for (const char* code : {kCounty, kTownship1, kTownship2}) {
      LoopProfile& p = c.loops[code];
      ++p.states[bench::main_thread(tree.node(code).pid).state];
      ++p.samples;
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  c.seconds = seconds_since(t0);
  c.self_cpu_s = self_cpu_s() - self0;
  c.county_events = held;
  for (const char* code : {kCounty, kTownship1, kTownship2})
    c.cpu_s[code] = tree.stats(code).cpu_s - cpu0[code];
  for (const auto& v : kVillages)
    c.cpu_s[v] = tree.stats(v).cpu_s;
  for (const char* code : {kCounty, kTownship1, kTownship2}) {
    const bench::ThreadSample t = bench::main_thread(tree.node(code).pid);
    c.loops[code].run_s = t.run_s - loop0[code].run_s;
    c.loops[code].runqueue_s = t.runqueue_s - loop0[code].runqueue_s;
  }
  if (held < c.events)
    throw std::runtime_error("catch-up: the county holds " + std::to_string(held) + " of " +
                             std::to_string(c.events) + " events after " +
                             fmt("%.0f s", c.seconds));
  // The steady part: from 10 % to 90 % of the events.
  double ta = 0, tb = 0;
  uint64_t ea = 0, eb = 0;
  for (const auto& [t, e] : samples) {
    if (ea == 0 && e >= c.events / 10) std::tie(ta, ea) = std::pair(t, e);
    if (eb == 0 && e >= c.events * 9 / 10) std::tie(tb, eb) = std::pair(t, e);
  }
  c.steady_rate = tb > ta ? (eb - ea) / (tb - ta) : 0;
  c.county_mem = tree.stats(kCounty);
  for (const auto& v : kVillages)
    c.village_hwm_kib[v] = tree.stats(v).hwm_kib;
  c.after = measure_ceiling(tree.node(kVillages[0]), sample, cores);
  // The ceiling from the faster of the two measurements: the ratio is then
  // the lower (conservative) one.
  c.ceiling = std::max(c.before.rate, c.after.rate);
  std::printf("catch-up: %zu events in %.2f s = %.0f events/s; ceiling %.0f/s -> %.1f %%\n",
              c.events, c.seconds, c.events / c.seconds, c.ceiling,
              100.0 * c.events / c.seconds / c.ceiling);
  std::printf("catch-up CPU s: county %.2f, townships %.2f + %.2f, this benchmark %.2f\n",
              c.cpu_s[kCounty], c.cpu_s[kTownship1], c.cpu_s[kTownship2], c.self_cpu_s);
  // Every node holds exactly what the routing rule sends it, out of the
  // events actually made: the applications, and the county's key directory
  // broadcasts (those may still be on their way down: waited for, bounded).
  std::string mismatch;
  const auto check0 = Clock::now();
  for (int round = 0; round < 1000; ++round) {
    std::map<std::string, std::map<Id, bench::RoutedEvent>> held_by;
    for (const auto& n : tree.nodes())
      held_by[n->code] = bench::routed_events(*bench::open_store(*n));
    mismatch = bench::routing_mismatch(held_by);
    if (mismatch.empty() || seconds_since(check0) > 20) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  if (!mismatch.empty())
    throw std::runtime_error("catch-up: a node holds more or fewer events than routed to it: " +
                             mismatch);
  return c;
}

Id submit(bench::Tree& tree, const bench::TreeNode& v, std::size_t i) {
  const bench::ControlReply r = tree.control(v.code, bench::submit_args(v, bench::application(i)));
  auto j = r.exit_code == 0 ? bench::parse_json(r.out) : std::nullopt;
  auto id = j ? parse_id(j->str("case")) : std::nullopt;
  if (!id) throw std::runtime_error("submit at " + v.code + " failed: " + r.err + r.out);
  return *id;
}

// The sum of each event's zstd size alone and of the sealed sizes.
std::pair<uint64_t, uint64_t> alone_sizes(storage::Store& county, const std::vector<Id>& ids) {
  AloneSize z;
  uint64_t alone = 0, raw = 0;
  for (const Id& id : ids) {
    auto lsn = county.find(id);
    if (!lsn.ok() || !*lsn) throw std::runtime_error("event " + format_id(id) + " not at county");
    auto bytes = county.read_log(**lsn);
    if (!bytes.ok() || !*bytes) throw std::runtime_error("cannot read " + format_id(id));
    alone += z.of(**bytes);
    raw += (*bytes)->size();
  }
  return {alone, raw};
}

void add_path_rows(Report& r, const std::string& run, const bench::LinkSnapshot& before,
                   const bench::LinkSnapshot& after, uint64_t events,
                   std::pair<uint64_t, uint64_t> sizes) {
  r.links.push_back(
      link_row(run, kLatencyVillage, kTownship1, before, after, events, sizes.first, sizes.second));
  r.links.push_back(
      link_row(run, kTownship1, kCounty, before, after, events, sizes.first, sizes.second));
  r.tree_totals[run] = {bench::bytes_sent_total(before, after), events};
}

Latency run_latency(bench::Tree& tree, storage::Store& county, const Settings& s, Report& r) {
  Latency lat;
  const bench::TreeNode& v = tree.node(kLatencyVillage);
  const std::size_t n = static_cast<std::size_t>(s.latency_seconds * s.rate);
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / s.rate));
  const bench::LinkSnapshot before = tree.link_counters();
  std::vector<Id> ids;
  std::vector<Clock::time_point> sent;
  {
    bench::ArrivalWatch watch(county);
    const auto start = Clock::now() + milliseconds(50);
    for (std::size_t i = 0; i < n; ++i) {
      check_interrupted();
      std::this_thread::sleep_until(start + i * period);
      const auto t0 = Clock::now();
      const Id id = submit(tree, v, 1'000'000 + i);
      lat.submit_ms.push_back(ms_between(t0, Clock::now()));
      ids.push_back(id);
      sent.push_back(t0);
      watch.add(id);
      if (i % 100 == 99) std::printf("  latency: %zu of %zu submitted\n", i + 1, n);
      std::fflush(stdout);
    }
    const auto wait0 = Clock::now();
    while (watch.pending() > 0 && seconds_since(wait0) < 10) {
      check_interrupted();
      std::this_thread::sleep_for(milliseconds(5));
    }
    lat.seconds = seconds_since(start);
    lat.submitted = n;
    for (std::size_t i = 0; i < n; ++i) {
      if (auto at = watch.arrival(i)) {
        lat.ms.push_back(ms_between(sent[i], *at));
        ++lat.arrived;
      }
    }
  }
  std::this_thread::sleep_for(milliseconds(300));  // the last acks
  const bench::LinkSnapshot after = tree.link_counters();
  std::vector<Id> arrived_ids;
  for (const Id& id : ids) {
    auto f = county.find(id);
    if (f.ok() && *f) arrived_ids.push_back(id);
  }
  add_path_rows(r, "latency run", before, after, arrived_ids.size(),
                alone_sizes(county, arrived_ids));
  std::printf("latency: %zu of %zu arrived; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n", lat.arrived,
              lat.submitted, percentile(lat.ms, 50), percentile(lat.ms, 90),
              percentile(lat.ms, 99));
  return lat;
}

void run_sustained(bench::Tree& tree, storage::Store& county, const Settings& s, Report& r) {
  const bench::TreeNode& v = tree.node(kLatencyVillage);
  const bench::LinkSnapshot before = tree.link_counters();
  std::vector<Id> ids;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < 1'000'000 && seconds_since(t0) < s.sustained_seconds; ++i) {
    check_interrupted();
    ids.push_back(submit(tree, v, 2'000'000 + i));
  }
  r.sustained_s = seconds_since(t0);
  r.sustained_events = ids.size();
  const auto w0 = Clock::now();
  for (int round = 0; round < 1'000'000; ++round) {
    check_interrupted();
    auto f = county.find(ids.back());
    if (f.ok() && *f) break;
    if (seconds_since(w0) > 60) throw std::runtime_error("sustained: events did not reach county");
    std::this_thread::sleep_for(milliseconds(5));
  }
  std::this_thread::sleep_for(milliseconds(300));
  const bench::LinkSnapshot after = tree.link_counters();
  add_path_rows(r, "sustained run", before, after, ids.size(), alone_sizes(county, ids));
  std::printf("sustained: %zu submissions in %.1f s\n", ids.size(), r.sustained_s);
}

// Catch-up bytes: each link carried the events of the villages below it.
void add_catchup_rows(Report& r, bench::Tree& tree, const bench::LinkSnapshot& before,
                      const bench::LinkSnapshot& after) {
  auto county = bench::open_store(tree.node(kCounty));
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_origin;  // alone, raw
  AloneSize z;
  Status s = county->scan_log(0, 10'000'000, [&](uint64_t, std::string_view v) {
    auto info = sync::route_info(v);
    if (info.ok()) {
      auto& o = by_origin[info->id.origin];
      o.first += z.of(v);
      o.second += v.size();
    }
    return true;
  });
  if (!s) throw std::runtime_error("cannot scan the county's log: " + s.message());
  const uint64_t per = r.settings.events_per_village;
  for (const auto& v : kVillages) {
    const auto& o = by_origin[v];
    r.links.push_back(
        link_row("catch-up", v, v.substr(0, 9), before, after, per, o.first, o.second));
  }
  for (const char* t : {kTownship1, kTownship2}) {
    uint64_t alone = 0, raw = 0, events = 0;
    for (const auto& v : kVillages) {
      if (v.rfind(t, 0) != 0) continue;
      alone += by_origin[v].first;
      raw += by_origin[v].second;
      events += per;
    }
    r.links.push_back(link_row("catch-up", t, kCounty, before, after, events, alone, raw));
  }
  uint64_t raw_all = 0;
  for (const auto& [o, v] : by_origin)
    raw_all += v.second;
  r.avg_sealed = static_cast<double>(raw_all) / r.catchup.events;
  r.tree_totals["catch-up"] = {bench::bytes_sent_total(before, after), r.catchup.events};
}

// Like bench::describe_disturbance, with this run's CPU = this process's
// plus its daemons' (`children_s`). The daemons' own disk writes cannot be
// told from others' (/proc/PID/io counts dirtied page-cache folios, not
// what reached the disk), so the disk figure is the whole machine's.
std::string disturbance(const bench::Activity& from, const bench::Activity& to, double children_s,
                        unsigned cores) {
  const double ours = (to.self_s - from.self_s) + children_s;
  const double others = std::max(0.0, (to.machine_busy_s - from.machine_busy_s) - ours);
  const double capacity = (to.wall_s - from.wall_s) * cores;
  const double share = capacity > 0 ? 100.0 * others / capacity : 0;
  return "other processes used " + fmt("%.1f", others) + " of " + fmt("%.0f", capacity) +
         " core-seconds (" + fmt("%.0f %%", share) + "; this run " + fmt("%.0f", ours) +
         "); the disk took " +
         fmt("%.0f MiB", (to.disk_written_bytes - from.disk_written_bytes) / (1 << 20)) +
         " of writes, this run's included: " +
         (share < 5 ? "quiet" : "NOT quiet, figures may be low");
}

void copy_logs(bench::Tree& tree, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  for (const auto& n : tree.nodes())
    fs::copy_file(n->log, to / (n->code + ".log"), fs::copy_options::overwrite_existing, ec);
}

void run_all(const Settings& s) {
  if (!crypto_ready()) throw std::runtime_error("libsodium did not initialize");
  if (!fs::exists(s.liandong))
    throw std::runtime_error("no liandong binary at " + s.liandong.string());
  Report r;
  r.settings = s;
  r.machine = bench::describe_machine(s.tmp_parent);
  const unsigned cores = r.machine.cores;
  const bench::Activity start = bench::sample_activity(r.machine.disk);
  std::cout << r.machine.text() << std::flush;

  bench::TempDir scratch(s.tmp_parent);
  std::vector<std::pair<std::string, std::string>> layout = {
      {kCounty, ""}, {kTownship1, kCounty}, {kTownship2, kCounty}};
  for (const auto& v : kVillages)
    layout.emplace_back(v, v.substr(0, 9));
  bench::Tree tree(s.liandong, scratch.path(), layout, "", s.log_level);
  try {
    tree.init_all();
    r.fill_s = bench::fill_offline(tree, kVillages, s.events_per_village, std::max(1u, cores),
                                   [] { return bench::interrupted(); });
    check_interrupted();
    std::printf("filled %zu events per village in %.1f s\n", s.events_per_village, r.fill_s);

    const bench::LinkSnapshot zero;
    double written = bench::sample_activity(r.machine.disk).disk_written_bytes;
    auto written_since = [&] {
      const double now = bench::sample_activity(r.machine.disk).disk_written_bytes;
      return now - std::exchange(written, now);
    };
    r.catchup = run_catchup(tree, s, cores);
    std::this_thread::sleep_for(milliseconds(300));
    add_catchup_rows(r, tree, zero, tree.link_counters());
    r.disk_written["catch-up"] = written_since();

    // An idle village: restarted with its events all delivered, link up.
    if (tree.stop(kIdleVillage) != 0) r.clean_exit = false;
    tree.start(kIdleVillage);
    tree.wait_links_up({kIdleVillage}, milliseconds(30000));
    std::this_thread::sleep_for(milliseconds(3000));
    const bench::ProcStats idle = tree.stats(kIdleVillage);
    r.idle = idle;

    auto county = bench::open_store(tree.node(kCounty));
    (void)written_since();
    r.latency = run_latency(tree, *county, s, r);
    r.disk_written["latency run"] = written_since();
    run_sustained(tree, *county, s, r);
    r.disk_written["sustained run"] = written_since();
    {
      std::string one;
      (void)county->scan_log(0, 1, [&](uint64_t, std::string_view v) {
        one = std::string(v);
        return false;
      });
      r.sizes = message_sizes(one);
      AloneSize z;
      r.alone_one = z.of(one);
    }
    county.reset();

    r.load_after = bench::load_average();
    const bench::Activity end = bench::sample_activity(r.machine.disk);
    double live_cpu = 0;
    for (const auto& n : tree.nodes())
      if (n->pid > 0) live_cpu += tree.stats(n->code).cpu_s;
    r.disturbance = disturbance(start, end, children_cpu_s() + live_cpu, cores);
    if (!tree.stop_all()) r.clean_exit = false;
  } catch (...) {
    if (!s.logs_to.empty()) copy_logs(tree, s.logs_to);
    throw;
  }
  if (!s.logs_to.empty()) copy_logs(tree, s.logs_to);

  const std::string md = markdown(r);
  std::cout << "\n" << md;
  if (!s.markdown.empty()) {
    std::ofstream out(s.markdown);
    out << md;
    if (!out) throw std::runtime_error("cannot write " + s.markdown);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  s.liandong = default_liandong(argv[0]);
  auto number = [&](int& i) {
    if (i + 1 >= argc) throw std::invalid_argument(argv[i]);
    return std::stod(argv[++i]);
  };
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--markdown" && i + 1 < argc) {
        s.markdown = argv[++i];
      } else if (arg == "--dir" && i + 1 < argc) {
        s.tmp_parent = argv[++i];
      } else if (arg == "--liandong" && i + 1 < argc) {
        s.liandong = argv[++i];
      } else if (arg == "--logs-to" && i + 1 < argc) {
        s.logs_to = argv[++i];
      } else if (arg == "--log-level" && i + 1 < argc) {
        s.log_level = argv[++i];
      } else if (arg == "--quick") {
        s.quick = true;
        s.events_per_village = 2500;
        s.latency_seconds = 10;
        s.sustained_seconds = 5;
        s.catchup_deadline_s = 120;
      } else if (arg == "--events-per-village") {
        s.events_per_village = static_cast<std::size_t>(number(i));
      } else if (arg == "--latency-seconds") {
        s.latency_seconds = number(i);
      } else if (arg == "--sustained-seconds") {
        s.sustained_seconds = number(i);
      } else {
        throw std::invalid_argument(arg);
      }
    }
    if (s.events_per_village < 10 || s.events_per_village > 1'000'000 || s.latency_seconds < 1 ||
        s.latency_seconds > 600 || s.sustained_seconds < 1 || s.sustained_seconds > 600)
      throw std::invalid_argument("a count or duration out of range");
  } catch (const std::exception& e) {
    std::cerr << "sync_bench: bad argument (" << e.what() << ")\n"
              << "usage: sync_bench [--markdown FILE] [--dir DIR] [--liandong PATH] [--quick]\n"
                 "                  [--events-per-village N] [--latency-seconds N]\n"
                 "                  [--sustained-seconds N] [--log-level LEVEL] [--logs-to DIR]\n";
    return 2;
  }
  bench::catch_interrupts();
  try {
    run_all(s);
  } catch (const std::exception& e) {
    std::cerr << "sync_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
