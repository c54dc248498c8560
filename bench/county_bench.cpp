// A county at full size on one machine: real `liandong run` daemons on
// 127.0.0.1, one county (360723), 20 townships (360723101-360723120) and
// 20 villages under each (TOWNSHIP001-TOWNSHIP020), 421 processes. Each
// village lists its township, then the county, as upstreams (as
// config/examples/village.toml does), so the county admits every village.
//
//   (1) start: the time to start every daemon and until every link is up;
//   (2) a working day: every village registers `--per-village` applications
//       through its daemon's control socket (as `liandong submit` does),
//       round robin over the villages, while each township is restarted once
//       (SIGTERM, then started again), one after another, spread over the
//       day; then the time until the county and every township hold every
//       application (converged), and that every node holds exactly what the
//       routing rule sends it (key directory broadcasts included);
//   (3) failover: all 20 townships stop at once; the time until the county
//       sees all 400 villages' links up, then every village registers one
//       more application and the time until the county holds them all; then
//       the townships start again and the time until every village is back
//       on its township;
// with the county's CPU time, peak RSS and open file descriptors for each
// phase, a township's and a village's, and the bytes per event on each tier
// (on the wire, from `status --json`, and in the stores, from data.mdb).
// Everything runs in a scratch directory that is removed afterwards; the
// daemons are this process's children (stopped by pid; PR_SET_PDEATHSIG
// kills them if this process dies), and every wait is bounded.
// Run by bench/run_county.sh.
//
// Usage: county_bench [--markdown FILE] [--dir DIR] [--liandong PATH]
//                     [--townships N] [--villages N] [--per-village N]
//                     [--log-level LEVEL] [--logs-to DIR]
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_machine.h"
#include "bench/bench_util.h"
#include "bench/sync_bench_tree.h"
#include "node/identity.h"
#include "protocol/crypto.h"
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

const char* const kCounty = "360723";

struct Settings {
  fs::path liandong, tmp_parent = fs::temp_directory_path(), logs_to;
  std::string markdown, log_level = "info";
  int townships = 20, villages = 20;  // villages per township
  int per_village = 10;               // applications per village in the day
  double phase_limit_s = 600;         // every wait of a phase is bounded by this
};

// The county's, a township's and a village's process figures at one moment.
struct Snapshot {
  bench::ProcStats county, township, village;
  int county_fds = 0, township_fds = 0, village_fds = 0;
};

struct Phase {
  std::string name;
  double seconds = 0;
  double county_cpu_s = 0;
  Snapshot at_end;
  std::string load;  // uptime's load average at the end
};

struct Report {
  Settings settings;
  bench::Machine machine;
  double init_s = 0, start_s = 0, links_s = 0;
  double day_s = 0, converge_s = 0, routing_check_s = 0;
  std::size_t day_events = 0;
  std::vector<double> submit_ms;
  std::vector<double> restart_s;  // each township's stop + start
  double failover_links_s = 0, failover_events_s = 0, return_s = 0;
  double county_status_s = 0;  // one `status` at the county, every village up (< 0: no answer)
  std::size_t failover_events = 0;
  std::vector<Phase> phases;
  uint64_t peak_county_fds = 0;
  // Bytes on the wire per event of the day, per tier (both directions).
  double wire_village_tier = 0, wire_township_tier = 0, wire_failover = 0;
  // Stored bytes (data.mdb) per event held, per tier.
  double store_village = 0, store_township = 0, store_county = 0;
  uint64_t county_events = 0;
  std::string load_after, disturbance;
  bool clean_exit = true;
};

std::string village_code(const std::string& township, int k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03d", k);
  return township + buf;
}

// Which peers `code` sees up, from one `status --json`.
std::set<std::string> peers_up(bench::Tree& tree, const std::string& code) {
  std::set<std::string> up;
  const bench::Json st = tree.status(code);
  if (const bench::Json* links = st.get("links"))
    for (const auto& l : links->items)
      if (l.str("state") == "up") up.insert(l.str("peer"));
  return up;
}

double median(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
}

uint64_t data_bytes(const bench::TreeNode& n) {
  struct stat st {};
  const fs::path f = node::store_dir(n.data) / "data.mdb";
  if (::stat(f.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;  // allocated, not the map's size
}

class CountyBench {
 public:
  explicit CountyBench(const Settings& s) : s_(s) {
    for (int t = 1; t <= s.townships; ++t) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%03d", 100 + t);
      townships_.push_back(std::string(kCounty) + buf);
    }
    for (const auto& t : townships_)
      for (int v = 1; v <= s.villages; ++v)
        villages_.push_back(village_code(t, v));
  }

  Report run();

 private:
  Snapshot snapshot();
  void phase(const std::string& name, Clock::time_point t0, double cpu0);
  void wait_all_links(double limit_s);
  void wait_converged(double limit_s);
  void check_routing(double limit_s);
  void working_day();
  void failover();
  double wait_villages_on(const std::function<std::string(const std::string&)>& want,
                          const std::string& what);
  // data.mdb bytes allocated and events held, per tier (county, townships, villages).
  struct StoreSizes {
    uint64_t bytes[3] = {0, 0, 0}, events[3] = {0, 0, 0};
  };
  StoreSizes store_sizes();
  StoreSizes day_start_;

  const Settings& s_;
  std::vector<std::string> townships_, villages_;
  std::unique_ptr<bench::TempDir> scratch_;
  std::unique_ptr<bench::Tree> tree_;
  Report r_;
  std::map<std::string, std::size_t> made_;  // applications made per village
};

Snapshot CountyBench::snapshot() {
  Snapshot x;
  bench::Tree& tree = *tree_;
  x.county = tree.stats(kCounty);
  x.township = tree.stats(townships_[0]);
  x.village = tree.stats(villages_[0]);
  x.county_fds = tree.node(kCounty).pid > 0 ? bench::open_fds(tree.node(kCounty).pid) : 0;
  x.township_fds =
      tree.node(townships_[0]).pid > 0 ? bench::open_fds(tree.node(townships_[0]).pid) : 0;
  x.village_fds =
      tree.node(villages_[0]).pid > 0 ? bench::open_fds(tree.node(villages_[0]).pid) : 0;
  r_.peak_county_fds = std::max<uint64_t>(r_.peak_county_fds, std::max(0, x.county_fds));
  return x;
}

void CountyBench::phase(const std::string& name, Clock::time_point t0, double cpu0) {
  Phase p;
  p.name = name;
  p.seconds = seconds_since(t0);
  p.at_end = snapshot();
  p.county_cpu_s = p.at_end.county.cpu_s - cpu0;
  p.load = bench::load_average();
  std::printf("%s: %.1f s, county CPU %.1f s, county RSS %.1f MiB (peak %.1f), %d fds; load %s\n",
              name.c_str(), p.seconds, p.county_cpu_s, p.at_end.county.rss_kib / 1024.0,
              p.at_end.county.hwm_kib / 1024.0, p.at_end.county_fds, p.load.c_str());
  std::fflush(stdout);
  r_.phases.push_back(std::move(p));
}

// Every township up at the county and every village up at its township.
void CountyBench::wait_all_links(double limit_s) {
  const auto t0 = Clock::now();
  std::set<std::string> pending(townships_.begin(), townships_.end());
  pending.insert(villages_.begin(), villages_.end());
  while (!pending.empty()) {
    check_interrupted();
    if (seconds_since(t0) > limit_s)
      throw std::runtime_error(std::to_string(pending.size()) + " nodes' upstream links not up");
    std::set<std::string> still;
    std::map<std::string, std::set<std::string>> up;  // observer -> peers up
    for (const auto& code : pending) {
      const std::string parent = tree_->node(code).parent;
      if (!up.count(parent)) up[parent] = peers_up(*tree_, parent);
      if (!up[parent].count(code)) still.insert(code);
    }
    pending = std::move(still);
    if (!pending.empty()) std::this_thread::sleep_for(milliseconds(200));
  }
}

// The county holds every application made, and each township its villages'.
void CountyBench::wait_converged(double limit_s) {
  const auto t0 = Clock::now();
  std::size_t total = 0;
  std::map<std::string, std::size_t> want;
  for (const auto& [v, n] : made_) {
    total += n;
    want[v.substr(0, 9)] += n;
  }
  auto county = bench::open_store(tree_->node(kCounty));
  std::set<std::string> left(townships_.begin(), townships_.end());
  for (int round = 0;; ++round) {
    check_interrupted();
    const uint64_t held = bench::cases_in(*county);
    for (auto it = left.begin(); it != left.end();) {
      auto st = bench::open_store(tree_->node(*it));
      it = bench::cases_in(*st) >= want[*it] ? left.erase(it) : std::next(it);
    }
    if (held >= total && left.empty()) return;
    if (seconds_since(t0) > limit_s)
      throw std::runtime_error("not converged after " + fmt("%.0f s", limit_s) + ": county holds " +
                               std::to_string(held) + " of " + std::to_string(total) + ", " +
                               std::to_string(left.size()) + " townships short");
    std::this_thread::sleep_for(milliseconds(round < 100 ? 20 : 200));
  }
}

// Every node holds exactly what the routing rule sends it (the key
// directory broadcasts still travelling down are waited for, bounded).
void CountyBench::check_routing(double limit_s) {
  const auto t0 = Clock::now();
  std::string mismatch;
  for (int round = 0; round < 1000; ++round) {
    check_interrupted();
    std::map<std::string, std::map<Id, bench::RoutedEvent>> held;
    for (const auto& n : tree_->nodes())
      held[n->code] = bench::routed_events(*bench::open_store(*n));
    mismatch = bench::routing_mismatch(held);
    if (mismatch.empty()) return;
    if (seconds_since(t0) > limit_s) break;
    std::this_thread::sleep_for(milliseconds(1000));
  }
  if (mismatch.size() > 2000) mismatch = mismatch.substr(0, 2000) + "...";
  throw std::runtime_error("a node holds more or fewer events than routed to it: " + mismatch);
}

// What a node's counters of its link to `peer` grew by; a link made anew
// in between (the counters start again) counts from zero.
uint64_t link_bytes(const bench::LinkSnapshot& before, const bench::LinkSnapshot& after,
                    const std::string& node, const std::string& peer) {
  auto a = after.find({node, peer});
  if (a == after.end()) return 0;
  const uint64_t now = a->second.bytes_sent + a->second.bytes_received;
  auto b = before.find({node, peer});
  const uint64_t then = b == before.end() ? 0 : b->second.bytes_sent + b->second.bytes_received;
  return now >= then ? now - then : now;
}

Id submit(bench::Tree& tree, const bench::TreeNode& v, std::size_t i) {
  const bench::ControlReply r = tree.control(v.code, bench::submit_args(v, bench::application(i)));
  auto j = r.exit_code == 0 ? bench::parse_json(r.out) : std::nullopt;
  auto id = j ? parse_id(j->str("case")) : std::nullopt;
  if (!id) throw std::runtime_error("submit at " + v.code + " failed: " + r.err + r.out);
  return *id;
}

// The upstream a village streams to now (its active link, up), or "".
// A village's status is cheap (its own short log); the county's is not
// with hundreds of children up (see docs/PERFORMANCE.md), so the phases
// below ask the villages.
std::string active_upstream(bench::Tree& tree, const std::string& village) {
  const bench::Json st = tree.status(village);
  if (const bench::Json* links = st.get("links"))
    for (const auto& l : links->items)
      if (l.str("direction") == "up" && l.str("state") == "up" && l.flag("active"))
        return l.str("peer");
  return "";
}

// Adds `code`'s counters of each of its links, from its `status --json`.
void add_links(bench::LinkSnapshot& out, const std::string& code, const bench::Json& status) {
  if (const bench::Json* links = status.get("links"))
    for (const auto& l : links->items)
      out[{code, l.str("peer")}] =
          bench::LinkCounters{l.u64("bytes_sent"), l.u64("bytes_received"), l.u64("batches_sent"),
                              l.u64("batches_received")};
}

// Each village's counters of its links, from the villages' own status.
bench::LinkSnapshot village_links(bench::Tree& tree, const std::vector<std::string>& villages) {
  bench::LinkSnapshot out;
  for (const auto& v : villages)
    add_links(out, v, tree.status(v));
  return out;
}

// The villages' counters of their links and the county's of its links (a
// `status` at the county may take long: see failover()).
bench::LinkSnapshot tier_links(bench::Tree& tree, const std::vector<std::string>& villages) {
  bench::LinkSnapshot out = village_links(tree, villages);
  add_links(out, kCounty, tree.status(kCounty, milliseconds(300000)));
  return out;
}

// Polls the villages until each one's active upstream is `want(village)`.
CountyBench::StoreSizes CountyBench::store_sizes() {
  StoreSizes z;
  for (const auto& n : tree_->nodes()) {
    auto st = bench::open_store(*n)->stats();
    if (!st.ok()) throw std::runtime_error("stats of " + n->code + ": " + st.status().message());
    const int tier = n->code == kCounty ? 0 : n->code.size() == 9 ? 1 : 2;
    z.bytes[tier] += data_bytes(*n);
    z.events[tier] += st->events;
  }
  return z;
}

void CountyBench::working_day() {
  bench::Tree& tree = *tree_;
  day_start_ = store_sizes();
  const double cpu0 = tree.stats(kCounty).cpu_s;
  const bench::LinkSnapshot before = tier_links(tree, villages_);
  const std::size_t total = villages_.size() * static_cast<std::size_t>(s_.per_village);
  const auto t0 = Clock::now();
  std::size_t done = 0, next_restart = 0;
  for (int round = 0; round < s_.per_village; ++round) {
    for (std::size_t k = 0; k < villages_.size(); ++k) {
      check_interrupted();
      if (seconds_since(t0) > s_.phase_limit_s)
        throw std::runtime_error("the working day took over " + fmt("%.0f s", s_.phase_limit_s));
      // Township j restarts when (j + 0.5) / townships of the day is done.
      if (next_restart < townships_.size() &&
          done * townships_.size() >= (2 * next_restart + 1) * total / 2) {
        const auto r0 = Clock::now();
        const std::string& t = townships_[next_restart++];
        if (tree.stop(t) != 0) r_.clean_exit = false;
        tree.start(t);
        r_.restart_s.push_back(seconds_since(r0));
        std::printf("  restarted %s in %.2f s (%zu of %zu submitted)\n", t.c_str(),
                    r_.restart_s.back(), done, total);
      }
      const bench::TreeNode& v = tree.node(villages_[k]);
      const auto s0 = Clock::now();
      (void)submit(tree, v, 2'000'000 + done);
      r_.submit_ms.push_back(1000 * seconds_since(s0));
      ++made_[v.code];
      ++done;
      if (done % 400 == 0) {
        std::printf("  %zu of %zu submitted, %.1f s\n", done, total, seconds_since(t0));
        std::fflush(stdout);
      }
    }
  }
  r_.day_s = seconds_since(t0);
  r_.day_events = done;
  const auto c0 = Clock::now();
  wait_converged(s_.phase_limit_s);
  r_.converge_s = seconds_since(c0);
  phase("working day, until converged", t0, cpu0);
  const auto k0 = Clock::now();
  check_routing(60);
  r_.routing_check_s = seconds_since(k0);

  // Bytes on the wire per event: the village side of each village's links
  // (its counters cover the whole day: villages do not restart), and the
  // county side of each township's link.
  const bench::LinkSnapshot after = tier_links(tree, villages_);
  uint64_t village_tier = 0, township_tier = 0;
  for (const auto& v : villages_) {
    for (const std::string& peer : {v.substr(0, 9), std::string(kCounty)})
      village_tier += link_bytes(before, after, v, peer);
  }
  for (const auto& t : townships_)
    township_tier += link_bytes(before, after, kCounty, t);
  r_.wire_village_tier = double(village_tier) / done;
  r_.wire_township_tier = double(township_tier) / done;

  // Stored bytes per event: what each tier's data.mdb files grew by over
  // the day, per event they took in.
  const StoreSizes end = store_sizes();
  auto per_event = [&](int tier) {
    const double events = double(end.events[tier]) - double(day_start_.events[tier]);
    return events > 0 ? (double(end.bytes[tier]) - double(day_start_.bytes[tier])) / events : 0;
  };
  r_.store_village = per_event(2);
  r_.store_township = per_event(1);
  r_.store_county = per_event(0);
  r_.county_events = end.events[0];
}

double CountyBench::wait_villages_on(const std::function<std::string(const std::string&)>& want,
                                     const std::string& what) {
  const auto t0 = Clock::now();
  std::vector<std::string> pending = villages_;
  while (!pending.empty()) {
    check_interrupted();
    std::vector<std::string> still;
    for (const auto& v : pending)
      if (active_upstream(*tree_, v) != want(v)) still.push_back(v);
    pending = std::move(still);
    (void)snapshot();
    if (pending.empty()) break;
    if (seconds_since(t0) > s_.phase_limit_s)
      throw std::runtime_error(what + ": " + std::to_string(pending.size()) + " of " +
                               std::to_string(villages_.size()) + " villages not there, e.g. " +
                               pending[0]);
    std::this_thread::sleep_for(milliseconds(100));
  }
  return seconds_since(t0);
}

void CountyBench::failover() {
  bench::Tree& tree = *tree_;
  const double cpu0 = tree.stats(kCounty).cpu_s;
  const bench::LinkSnapshot before = village_links(tree, villages_);
  const auto t0 = Clock::now();
  for (const auto& t : tree.stop_many(townships_)) {
    r_.clean_exit = false;
    std::fprintf(stderr, "county_bench: township %s did not exit with 0\n", t.c_str());
  }
  std::printf("  townships stopped in %.2f s\n", seconds_since(t0));
  std::fflush(stdout);
  (void)wait_villages_on([](const std::string&) { return std::string(kCounty); },
                         "failover to the county");
  r_.failover_links_s = seconds_since(t0);
  phase("failover: every village streaming to the county", t0, cpu0);
  // One `status` at the county with every village up: how long its event
  // loop is taken by it.
  {
    const auto q0 = Clock::now();
    try {
      (void)tree.status(kCounty, milliseconds(300000));
      r_.county_status_s = seconds_since(q0);
    } catch (const std::exception&) {
      r_.county_status_s = -seconds_since(q0);
    }
    std::printf("  status at the county: %.1f s\n", r_.county_status_s);
  }

  // One application at every village, straight to the county.
  const auto e0 = Clock::now();
  const double cpu1 = tree.stats(kCounty).cpu_s;
  auto county = bench::open_store(tree.node(kCounty));
  std::size_t total = 0;
  for (const auto& [v, n] : made_)
    total += n;
  for (std::size_t k = 0; k < villages_.size(); ++k) {
    check_interrupted();
    (void)submit(tree, tree.node(villages_[k]), 3'000'000 + k);
    ++made_[villages_[k]];
    ++total;
  }
  r_.failover_events = villages_.size();
  for (;;) {
    check_interrupted();
    if (bench::cases_in(*county) >= total) break;
    if (seconds_since(e0) > s_.phase_limit_s)
      throw std::runtime_error("failover: the county does not hold the villages' applications");
    std::this_thread::sleep_for(milliseconds(20));
  }
  r_.failover_events_s = seconds_since(e0);
  phase("failover: one application per village held at the county", e0, cpu1);
  const bench::LinkSnapshot after = village_links(tree, villages_);
  uint64_t bytes = 0;
  for (const auto& v : villages_)
    bytes += link_bytes(before, after, v, kCounty);
  r_.wire_failover = double(bytes) / r_.failover_events;

  // The townships come back; each village returns to its township.
  const auto b0 = Clock::now();
  const double cpu2 = tree.stats(kCounty).cpu_s;
  for (const auto& t : townships_)
    tree.start(t);
  (void)wait_villages_on([](const std::string& v) { return v.substr(0, 9); },
                         "return to the townships");
  r_.return_s = seconds_since(b0);
  wait_converged(s_.phase_limit_s);
  phase("return: every village back on its township, townships converged", b0, cpu2);
  check_routing(120);
}

Report CountyBench::run() {
  r_.settings = s_;
  r_.machine = bench::describe_machine(s_.tmp_parent);
  const bench::Activity start = bench::sample_activity(r_.machine.disk);
  std::cout << r_.machine.text() << std::flush;
  scratch_ = std::make_unique<bench::TempDir>(s_.tmp_parent);
  std::vector<std::pair<std::string, std::string>> layout = {{kCounty, ""}};
  for (const auto& t : townships_)
    layout.emplace_back(t, kCounty);
  for (const auto& v : villages_)
    layout.emplace_back(v, v.substr(0, 9));
  tree_ = std::make_unique<bench::Tree>(s_.liandong, scratch_->path(), layout, "", s_.log_level);
  bench::Tree& tree = *tree_;
  tree.set_fallback_to_grandparent(true);
  try {
    auto t0 = Clock::now();
    tree.init_all(std::max(1u, r_.machine.cores));
    r_.init_s = seconds_since(t0);
    std::printf("init: %zu nodes in %.1f s\n", tree.nodes().size(), r_.init_s);
    std::fflush(stdout);

    t0 = Clock::now();
    tree.start(kCounty);
    for (const auto& t : townships_)
      tree.start(t);
    for (const auto& v : villages_) {
      check_interrupted();
      tree.start(v);
    }
    r_.start_s = seconds_since(t0);
    wait_all_links(s_.phase_limit_s);
    r_.links_s = seconds_since(t0);
    phase("start: every daemon running, every link up", t0, 0);

    working_day();
    failover();

    r_.load_after = bench::load_average();
    // The daemons are this run's too: those running now, and those reaped
    // (restarted townships, `liandong init`).
    double ours = children_cpu_s();
    for (const auto& n : tree.nodes())
      if (n->pid > 0) ours += tree.stats(n->code).cpu_s;
    const bench::Activity end = bench::sample_activity(r_.machine.disk);
    const double others = std::max(
        0.0, (end.machine_busy_s - start.machine_busy_s) - (end.self_s - start.self_s) - ours);
    const double capacity = (end.wall_s - start.wall_s) * r_.machine.cores;
    const double share = capacity > 0 ? 100.0 * others / capacity : 0;
    r_.disturbance = "other processes used " + fmt("%.0f", others) + " of " +
                     fmt("%.0f", capacity) + " core-seconds (" + fmt("%.0f %%", share) +
                     "; this run's daemons " + fmt("%.0f", ours) +
                     "): " + (share < 5 ? "quiet" : "NOT quiet, figures may be low");
    if (!tree.stop_all()) r_.clean_exit = false;
  } catch (...) {
    if (!s_.logs_to.empty()) {
      std::error_code ec;
      fs::create_directories(s_.logs_to, ec);
      for (const auto& n : tree.nodes())
        fs::copy_file(n->log, s_.logs_to / (n->code + ".log"), fs::copy_options::overwrite_existing,
                      ec);
    }
    throw;
  }
  tree_.reset();
  scratch_.reset();
  return r_;
}

std::string markdown(const Report& r) {
  const Settings& s = r.settings;
  std::ostringstream md;
  const std::size_t villages = static_cast<std::size_t>(s.townships) * s.villages;
  md << "Run " << r.machine.date << ", " << LIANDONG_BENCH_BUILD_TYPE << " build, "
     << 1 + s.townships + villages << " daemons on 127.0.0.1 (county, " << s.townships
     << " townships, " << villages << " villages), [sync] defaults, log level " << s.log_level
     << ".\n\n";
  md << "| figure | measured |\n|---|---|\n";
  md << "| `liandong init` of every node (" << r.machine.cores << " at a time) | "
     << fmt("%.1f s", r.init_s) << " |\n";
  md << "| start every daemon, one after another | " << fmt("%.1f s", r.start_s) << " |\n";
  md << "| ... until every link is up | " << fmt("%.1f s", r.links_s) << " |\n";
  md << "| working day: " << grouped(r.day_events) << " applications (" << s.per_village
     << " per village) submitted round robin, each township restarted once | "
     << fmt("%.1f s", r.day_s) << " (" << grouped(r.day_events / r.day_s) << "/s) |\n";
  md << "| submit round trip (control socket, incl. the village's commit) p50 / p99 / max | "
     << fmt("%.1f", median(r.submit_ms, 0.5)) << " / " << fmt("%.1f", median(r.submit_ms, 0.99))
     << " / " << fmt("%.1f ms", median(r.submit_ms, 1.0)) << " |\n";
  md << "| township restart (SIGTERM, exit, start, control socket answers) p50 / max | "
     << fmt("%.2f", median(r.restart_s, 0.5)) << " / " << fmt("%.2f s", median(r.restart_s, 1.0))
     << " |\n";
  md << "| converged: after the last submission, until the county and every township hold every "
        "application | "
     << fmt("%.2f s", r.converge_s) << " |\n";
  md << "| routing check: every node holds exactly what the routing rule sends it | passed ("
     << fmt("%.1f s", r.routing_check_s) << " to read all " << 1 + s.townships + villages
     << " stores) |\n";
  md << "| failover: all townships stopped at once, until every village streams to the county "
        "(its own status) | "
     << fmt("%.1f s", r.failover_links_s) << " |\n";
  md << "| one `status` at the county with every village up (its event loop answers nothing "
        "else meanwhile) | "
     << (r.county_status_s >= 0 ? fmt("%.1f s", r.county_status_s)
                                : "no answer within " + fmt("%.0f s", -r.county_status_s))
     << " |\n";
  md << "| ... then one application at each village, until the county holds all "
     << r.failover_events << " | " << fmt("%.2f s", r.failover_events_s) << " |\n";
  md << "| return: townships started, until every village is back on its township and "
        "converged | "
     << fmt("%.1f s", r.return_s) << " |\n";
  md << "| wire bytes per event of the day, village tier (village ⇄ township, and ⇄ county "
        "while its township restarted; both directions) | "
     << fmt("%.0f B", r.wire_village_tier) << " |\n";
  md << "| wire bytes per event of the day, township tier (township ⇄ county, both directions) | "
     << fmt("%.0f B", r.wire_township_tier) << " |\n";
  md << "| wire bytes per event, failover (village ⇄ county, both directions) | "
     << fmt("%.0f B", r.wire_failover) << " |\n";
  md << "| store bytes per event (data.mdb growth over the day / events taken in): village, "
        "township, county | "
     << fmt("%.0f", r.store_village) << " / " << fmt("%.0f", r.store_township) << " / "
     << fmt("%.0f B", r.store_county) << " |\n";
  md << "| county's peak open file descriptors | " << r.peak_county_fds << " |\n";

  md << "\nPer phase: the county's CPU time over the phase, and the county's, township "
     << "360723101's and village 360723101001's memory (VmRSS, peak VmHWM) and open file "
     << "descriptors at its end:\n\n";
  md << "| phase | wall | county CPU | county RSS (peak; anonymous) | county fds | township RSS "
        "(peak) | "
        "township fds | village RSS (peak) | village fds | load (1, 5, 15 min) |\n";
  md << "|---|---:|---:|---|---:|---|---:|---|---:|---|\n";
  for (const auto& p : r.phases) {
    const Snapshot& x = p.at_end;
    md << "| " << p.name << " | " << fmt("%.1f s", p.seconds) << " | "
       << fmt("%.1f s", p.county_cpu_s) << " | " << mib(x.county.rss_kib) << " ("
       << mib(x.county.hwm_kib) << "; anonymous " << mib(x.county.anon_kib) << ") | "
       << x.county_fds << " | " << mib(x.township.rss_kib) << " (" << mib(x.township.hwm_kib)
       << ") | " << x.township_fds << " | " << mib(x.village.rss_kib) << " ("
       << mib(x.village.hwm_kib) << ") | " << x.village_fds << " | " << p.load << " |\n";
  }
  md << "\n```\n"
     << r.machine.text() << "load after:    " << r.load_after << "\n"
     << "during run:    " << r.disturbance << "\n"
     << "county holds:  " << grouped(r.county_events)
     << " events after the day (applications, key directory broadcasts, audit records)\n"
     << "daemons:       " << (r.clean_exit ? "all exited 0 on SIGTERM" : "NOT all exited 0")
     << "\n```\n";
  return md.str();
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  s.liandong = default_liandong(argv[0]);
  try {
    auto number = [&](int& i) {
      if (i + 1 >= argc) throw std::invalid_argument(argv[i]);
      return std::stoi(argv[++i]);
    };
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
      } else if (arg == "--townships") {
        s.townships = number(i);
      } else if (arg == "--villages") {
        s.villages = number(i);
      } else if (arg == "--per-village") {
        s.per_village = number(i);
      } else {
        throw std::invalid_argument(arg);
      }
    }
    if (s.townships < 1 || s.townships > 99 || s.villages < 1 || s.villages > 99 ||
        s.per_village < 1 || s.per_village > 10000)
      throw std::invalid_argument("a count out of range");
  } catch (const std::exception& e) {
    std::cerr << "county_bench: bad argument (" << e.what() << ")\n"
              << "usage: county_bench [--markdown FILE] [--dir DIR] [--liandong PATH]\n"
                 "                    [--townships N] [--villages N] [--per-village N]\n"
                 "                    [--log-level LEVEL] [--logs-to DIR]\n";
    return 2;
  }
  bench::catch_interrupts();
  if (!crypto_ready()) {
    std::cerr << "county_bench: libsodium did not initialize\n";
    return 1;
  }
  try {
    CountyBench bench(s);
    const Report r = bench.run();
    const std::string md = markdown(r);
    std::cout << "\n" << md;
    if (!s.markdown.empty()) {
      std::ofstream out(s.markdown);
      out << md;
      if (!out) throw std::runtime_error("cannot write " + s.markdown);
    }
  } catch (const std::exception& e) {
    std::cerr << "county_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
