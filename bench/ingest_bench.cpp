// Ingest throughput of a Liandong store, with 1 KiB events and sync commits:
//   (a) Store::apply of events already parsed and verified, against a raw
//       LMDB baseline in the same run (the same sealed bytes, one mdb_put
//       per event, one synced commit per batch);
//   (b) the full ingest path for outside bytes (IngestPipeline: parse,
//       Ed25519 check on a VerifyPool, apply), against libsodium's raw
//       crypto_sign_verify_detached rate on every core in the same run.
// Each figure is the median of several runs, each on a fresh store in a
// temporary directory that is removed afterwards. Run by bench/run.sh.
//
// Usage: ingest_bench [--markdown FILE] [--dir DIR] [--quick] [--only apply|ingest|lmdb]
//   --only  measures one targeted figure alone (apply: (a) in batches of
//           1,000; ingest: (b) in batches of 1,000 against raw verify;
//           lmdb: the raw LMDB baseline in batches of 1,000), for
//           profiling it, e.g. under `perf record`; writes no table
#include <lmdb.h>
#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_corpus.h"
#include "bench/bench_machine.h"
#include "bench/bench_util.h"
#include "storage/ingest_pipeline.h"
#include "storage/store.h"

using namespace liandong;
using namespace liandong::storage;
using liandong::bench::Corpus;
using liandong::bench::grouped;

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kApplyTarget = 150000;  // events/s, batches of 1,000
constexpr double kLmdbTarget = 0.50;     // Store::apply / raw LMDB puts, batches of 1,000
constexpr double kRatioTarget = 0.80;    // full ingest / raw verify on every core

struct Settings {
  std::filesystem::path tmp_parent = std::filesystem::temp_directory_path();
  std::string markdown;
  bool quick = false;
  int reps = 3;      // runs per figure
  int key_reps = 5;  // runs for the figures with targets (and raw verify)
  std::string only;  // "", "apply" or "ingest"
};

// One measured run: events handled and the wall time they took.
struct Run {
  std::size_t events = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // this process, every thread, user + system
  double rate() const { return seconds > 0 ? events / seconds : 0; }
  double cpu_us_per_event() const { return events > 0 ? cpu_seconds * 1e6 / events : 0; }
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double process_cpu_seconds() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// Wall and CPU time from construction to stop().
class Timer {
 public:
  Timer() : t0_(Clock::now()), cpu0_(process_cpu_seconds()) {}
  double elapsed() const { return seconds_since(t0_); }
  void stop(Run& run) const {
    run.seconds = elapsed();
    run.cpu_seconds = process_cpu_seconds() - cpu0_;
  }

 private:
  Clock::time_point t0_;
  double cpu0_;
};

// A benchmark that cannot do what it measures stops: main() prints the
// reason; unwinding removes the temporary stores.
[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

std::unique_ptr<Store> fresh_store(const bench::TempDir& dir, const Corpus& c, bool keys) {
  StoreOptions opts;
  opts.dir = dir.path() / "store";
  opts.initial_map_bytes = std::size_t{1} << 30;  // no resize inside a timed run
  auto s = Store::create(opts, bench::kHubCode);
  if (!s.ok()) fail("cannot create store: " + s.status().to_string());
  if (keys) {
    for (std::size_t k = 0; k < c.origins.size(); ++k) {
      if (auto st = (*s)->put_key(c.origins[k], c.keys[k].pub); !st) fail(st.to_string());
    }
  }
  return std::move(s).value();
}

void expect_all_stored(const Result<std::vector<IngestResult>>& r, std::size_t n) {
  if (!r.ok()) fail("ingest failed: " + r.status().to_string());
  if (r->size() != n) fail("wrong number of results");
  for (const auto& x : *r) {
    if (x.outcome != Outcome::stored) fail("an event was not stored: " + x.status.to_string());
  }
}

// (a) Store::apply on parsed, verified events.
Run run_apply(const Settings& s, const Corpus& c, std::size_t batch, std::size_t max_events,
              double max_seconds) {
  bench::TempDir dir(s.tmp_parent);
  auto store = fresh_store(dir, c, false);
  std::vector<const EventView*> ptrs;
  for (std::size_t i = 0; i < std::min(max_events, c.views.size()); ++i)
    ptrs.push_back(&c.views[i]);
  Run run;
  const Timer timer;
  for (std::size_t at = 0; at < ptrs.size(); at += batch) {
    const std::size_t n = std::min(batch, ptrs.size() - at);
    expect_all_stored(store->apply(std::span(ptrs).subspan(at, n)), n);
    run.events += n;
    if (timer.elapsed() > max_seconds) break;
  }
  timer.stop(run);
  return run;
}

// The baseline of (a): LMDB alone, as the store opens it (MDB_NOTLS, the
// same 1 GiB map, every commit synced with LMDB's defaults), one database,
// one plain mdb_put per event of its sealed bytes under an 8-byte
// big-endian key in arrival order (a bare log, no index), one transaction
// per batch.
Run run_raw_lmdb(const Settings& s, const Corpus& c, std::size_t batch, std::size_t max_events,
                 double max_seconds) {
  bench::TempDir dir(s.tmp_parent);
  const std::filesystem::path path = dir.path() / "raw";
  std::filesystem::create_directories(path);
  auto check = [](int rc, const char* what) {
    if (rc != MDB_SUCCESS) fail(std::string("raw LMDB: ") + what + ": " + mdb_strerror(rc));
  };
  MDB_env* env = nullptr;
  check(mdb_env_create(&env), "mdb_env_create");
  std::unique_ptr<MDB_env, void (*)(MDB_env*)> owned(env, mdb_env_close);
  check(mdb_env_set_mapsize(env, std::size_t{1} << 30), "mdb_env_set_mapsize");
  check(mdb_env_set_maxdbs(env, 4), "mdb_env_set_maxdbs");
  check(mdb_env_open(env, path.c_str(), MDB_NOTLS, 0600), "mdb_env_open");
  MDB_dbi dbi = 0;
  {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, "log", MDB_CREATE, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  const std::size_t total = std::min(max_events, c.sealed.size());
  Run run;
  const Timer timer;
  for (std::size_t at = 0; at < total; at += batch) {
    const std::size_t n = std::min(batch, total - at);
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = at; i < at + n; ++i) {
      unsigned char key[8];
      for (int b = 0; b < 8; ++b)
        key[b] = static_cast<unsigned char>((i + 1) >> (8 * (7 - b)));
      MDB_val k{sizeof key, key};
      MDB_val v{c.sealed[i].size(), const_cast<char*>(c.sealed[i].data())};
      const int rc = mdb_put(txn, dbi, &k, &v, 0);
      if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        check(rc, "mdb_put");
      }
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
    run.events += n;
    if (timer.elapsed() > max_seconds) break;
  }
  timer.stop(run);
  return run;
}

// (b) The full pipeline: sealed bytes in, committed results out.
Run run_pipeline(const Settings& s, const Corpus& c, std::size_t batch, std::size_t max_events,
                 double max_seconds) {
  bench::TempDir dir(s.tmp_parent);
  auto store = fresh_store(dir, c, true);
  const std::size_t total = std::min(max_events, c.sealed.size());
  std::vector<std::vector<std::string>> batches;
  for (std::size_t at = 0; at < total; at += batch) {
    batches.emplace_back(c.sealed.begin() + at, c.sealed.begin() + std::min(total, at + batch));
  }
  std::atomic<std::size_t> stored{0}, bad{0};
  Run run;
  {
    IngestPipeline pipeline(*store);
    const Timer timer;
    for (auto& b : batches) {
      run.events += b.size();
      pipeline.submit(std::move(b), [&](Result<std::vector<IngestResult>> r) {
        if (!r.ok()) {
          ++bad;
          return;
        }
        for (const auto& x : *r)
          ++(x.outcome == Outcome::stored ? stored : bad);
      });
      if (timer.elapsed() > max_seconds) break;
    }
    pipeline.drain();
    timer.stop(run);
  }
  if (bad != 0 || stored != run.events) fail("pipeline did not store every event");
  return run;
}

// For comparison: Store::ingest, which verifies then applies with no overlap.
Run run_store_ingest(const Settings& s, const Corpus& c, std::size_t batch, std::size_t max_events,
                     double max_seconds) {
  bench::TempDir dir(s.tmp_parent);
  auto store = fresh_store(dir, c, true);
  VerifyPool pool;
  const std::size_t total = std::min(max_events, c.sealed.size());
  Run run;
  const Timer timer;
  for (std::size_t at = 0; at < total; at += batch) {
    const std::size_t n = std::min(batch, total - at);
    expect_all_stored(store->ingest(std::span(c.sealed).subspan(at, n), &pool), n);
    run.events += n;
    if (timer.elapsed() > max_seconds) break;
  }
  timer.stop(run);
  return run;
}

// libsodium alone: crypto_sign_verify_detached over the same event bytes,
// split evenly over `threads` threads.
Run run_raw_verify(const Corpus& c, unsigned threads, std::size_t max_events) {
  const std::size_t total = std::min(max_events, c.views.size());
  std::atomic<std::size_t> bad{0};
  std::vector<std::thread> workers;
  const Timer timer;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = t; i < total; i += threads) {
        const EventView& v = c.views[i];
        const PublicKey& key = c.keys[i % c.origins.size()].pub;
        const auto msg = v.event_bytes();
        const auto sig = v.signature();
        if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                        reinterpret_cast<const unsigned char*>(msg.data()),
                                        msg.size(), key.data()) != 0)
          ++bad;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  Run run;
  run.events = total;
  timer.stop(run);
  if (bad != 0) fail("raw verify rejected a good signature");
  return run;
}

// The runs of one figure; the figure is their median by rate.
struct Series {
  std::vector<Run> runs;
  Run median() const {
    std::vector<Run> sorted = runs;
    std::sort(sorted.begin(), sorted.end(),
              [](const Run& a, const Run& b) { return a.rate() < b.rate(); });
    return sorted[sorted.size() / 2];
  }
  double min_rate() const {
    double m = runs.front().rate();
    for (const auto& r : runs)
      m = std::min(m, r.rate());
    return m;
  }
  double max_rate() const {
    double m = runs.front().rate();
    for (const auto& r : runs)
      m = std::max(m, r.rate());
    return m;
  }
};

// One line of the table.
struct Row {
  std::string figure, batch;
  Series series;
  std::string vs_raw, target, met;  // empty where they do not apply
};

std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string percent(double part, double whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * part / whole);
  return buf;
}

std::string markdown(const std::vector<Row>& rows, const bench::Machine& machine, const Settings& s,
                     const Corpus& corpus, const std::string& load_after,
                     const std::string& disturbance) {
  std::ostringstream md;
  md << "Run " << machine.date << ", Release build. Each figure is the median of its runs (each on "
     << "a fresh store); `runs` gives their number and range. CPU µs/event is this process's "
     << "user + system time over all threads."
     << (s.quick ? " --quick: 1/10 of the events, one run each; not for quoting." : "") << "\n\n";
  md << "| figure | batch | events | events/s | runs: min–max | CPU µs/event | vs baseline | "
        "target | met |\n";
  md << "|---|---:|---:|---:|---|---:|---:|---|---|\n";
  for (const auto& r : rows) {
    const Run run = r.series.median();
    md << "| " << r.figure << " | " << (r.batch.empty() ? "-" : r.batch) << " | "
       << grouped(static_cast<double>(run.events)) << " | " << grouped(run.rate()) << " | "
       << r.series.runs.size() << ": " << grouped(r.series.min_rate()) << "–"
       << grouped(r.series.max_rate()) << " | " << fixed1(run.cpu_us_per_event()) << " | "
       << r.vs_raw << " | " << r.target << " | " << r.met << " |\n";
  }
  md << "\n```\n"
     << machine.text() << "load after:    " << load_after << "\n"
     << "during run:    " << disturbance << "\n"
     << "events:        " << corpus.sealed.size() << " signed `submitted` events, "
     << corpus.sealed_bytes / corpus.sealed.size() << " bytes sealed on average, "
     << corpus.origins.size() << " origins\n```\n";
  return md.str();
}

// Measures every figure and prints (and, with --markdown, writes) the table.
void run_all(const Settings& s) {
  if (!crypto_ready()) fail("libsodium did not initialize");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t scale = s.quick ? 10 : 1;
  const std::size_t n_big = 60000 / scale;

  const bench::Machine machine = bench::describe_machine(s.tmp_parent);
  const bench::Activity start = bench::sample_activity(machine.disk);
  std::cout << machine.text() << std::flush;

  const auto t_gen = Clock::now();
  const Corpus corpus = bench::make_corpus(n_big, 8, cores);
  const double avg_bytes = static_cast<double>(corpus.sealed_bytes) / corpus.sealed.size();
  std::printf(
      "corpus: %zu signed `submitted` events, %.0f bytes sealed on average, made in %.1f s\n",
      corpus.sealed.size(), avg_bytes, seconds_since(t_gen));
  std::fflush(stdout);

  auto repeat = [&](int n, const std::function<Run()>& fn) {
    Series series;
    for (int r = 0; r < n; ++r)
      series.runs.push_back(fn());
    return series;
  };
  std::vector<Row> rows;
  auto report = [&](std::string figure, std::string batch, Series series, std::string vs_raw = "",
                    std::string target = "", std::string met = "") {
    const Run run = series.median();
    std::printf("  %-44s %6s %7zu events %9s events/s %6.1f us CPU/event %6s %s %s\n",
                figure.c_str(), batch.c_str(), run.events, grouped(run.rate()).c_str(),
                run.cpu_us_per_event(), vs_raw.c_str(), target.c_str(), met.c_str());
    std::fflush(stdout);
    rows.push_back(Row{std::move(figure), std::move(batch), std::move(series), std::move(vs_raw),
                       std::move(target), std::move(met)});
  };
  auto met = [](bool ok) { return std::string(ok ? "met" : "NOT met"); };

  if (s.only == "apply") {
    report("(a) Store::apply, verified events", "1,000",
           repeat(s.key_reps, [&] { return run_apply(s, corpus, 1000, n_big, 20.0); }));
    return;
  }
  if (s.only == "lmdb") {
    report("raw LMDB, one put per event", "1,000",
           repeat(s.key_reps, [&] { return run_raw_lmdb(s, corpus, 1000, n_big, 20.0); }));
    return;
  }
  if (s.only == "ingest") {
    Series raw, full;
    for (int r = 0; r < s.key_reps; ++r) {
      raw.runs.push_back(run_raw_verify(corpus, cores, n_big));
      full.runs.push_back(run_pipeline(s, corpus, 1000, n_big, 30.0));
    }
    report("raw Ed25519 verify, " + std::to_string(cores) + " threads", "", raw, "100 %");
    report("(b) full ingest, IngestPipeline", "1,000", full,
           percent(full.median().rate(), raw.median().rate()));
    return;
  }

  // (a) Store::apply, verified events, and the raw LMDB baseline, interleaved
  // run by run so that both see the same machine and disk.
  const std::string fig_a = "(a) Store::apply, verified events";
  const std::string fig_lmdb = "raw LMDB, one put per event (baseline of (a))";
  struct Sizes {
    std::string batch;
    std::size_t n, events;
    double seconds;
    int reps;
  };
  const Sizes sizes[] = {{"1", 1, 2000 / scale, 3.0, s.reps},
                         {"100", 100, 30000 / scale, 10.0, s.reps},
                         {"1,000", 1000, n_big, 20.0, s.key_reps}};
  std::vector<std::pair<Series, Series>> a_runs;  // (apply, raw LMDB) per batch size
  for (const Sizes& z : sizes) {
    Series apply, lmdb;
    for (int r = 0; r < z.reps; ++r) {
      apply.runs.push_back(run_apply(s, corpus, z.n, z.events, z.seconds));
      lmdb.runs.push_back(run_raw_lmdb(s, corpus, z.n, z.events, z.seconds));
    }
    a_runs.emplace_back(std::move(apply), std::move(lmdb));
  }
  const double a_rate = a_runs[2].first.median().rate();
  const double lmdb_rate = a_runs[2].second.median().rate();
  const double a_vs_lmdb = a_rate / lmdb_rate;
  for (std::size_t k = 0; k < std::size(sizes); ++k) {
    const auto& [apply, lmdb] = a_runs[k];
    const std::string vs = percent(apply.median().rate(), lmdb.median().rate()) + " of LMDB";
    if (k == 2) {
      report(fig_a, sizes[k].batch, apply, vs,
             ">= " + grouped(kApplyTarget) + "/s; >= 50 % of LMDB",
             met(a_rate >= kApplyTarget) + "; " + met(a_vs_lmdb >= kLmdbTarget));
    } else {
      report(fig_a, sizes[k].batch, apply, vs);
    }
  }
  for (std::size_t k = 0; k < std::size(sizes); ++k)
    report(fig_lmdb, sizes[k].batch, a_runs[k].second, "100 % of LMDB");

  // Raw verification on every core and full ingest, interleaved run by run
  // so that both see the same machine.
  Series raw_runs, full_runs;
  for (int r = 0; r < s.key_reps; ++r) {
    raw_runs.runs.push_back(run_raw_verify(corpus, cores, n_big));
    full_runs.runs.push_back(run_pipeline(s, corpus, 1000, n_big, 30.0));
  }
  const double raw_rate = raw_runs.median().rate();
  const double ratio = full_runs.median().rate() / raw_rate;
  auto vs_raw = [&](const Series& x) {
    return percent(x.median().rate(), raw_rate) + " of verify";
  };
  const std::string fig_b = "(b) full ingest, IngestPipeline";
  const Series b1 = repeat(s.reps, [&] { return run_pipeline(s, corpus, 1, 20000 / scale, 5.0); });
  report(fig_b, "1", b1, vs_raw(b1));
  const Series b100 = repeat(s.reps, [&] { return run_pipeline(s, corpus, 100, n_big, 20.0); });
  report(fig_b, "100", b100, vs_raw(b100));
  report(fig_b, "1,000", full_runs, vs_raw(full_runs), ">= 80 % of raw",
         met(ratio >= kRatioTarget));
  const Series plain =
      repeat(s.reps, [&] { return run_store_ingest(s, corpus, 1000, n_big, 30.0); });
  report("(b) full ingest, Store::ingest (no overlap)", "1,000", plain, vs_raw(plain));
  report("raw Ed25519 verify, 1 thread", "",
         repeat(s.reps, [&] { return run_raw_verify(corpus, 1, n_big / 3); }));
  report("raw Ed25519 verify, " + std::to_string(cores) + " threads", "", raw_runs,
         "100 % of verify");

  std::printf("full ingest / raw %u-core verify = %.1f %% (target %.0f %%: %s)\n", cores,
              100.0 * ratio, 100.0 * kRatioTarget, met(ratio >= kRatioTarget).c_str());
  std::printf("store apply, batches of 1,000 = %s events/s (target %s: %s)\n",
              grouped(a_rate).c_str(), grouped(kApplyTarget).c_str(),
              met(a_rate >= kApplyTarget).c_str());
  std::printf("store apply / raw LMDB puts, batches of 1,000 = %.1f %% (target %.0f %%: %s)\n",
              100.0 * a_vs_lmdb, 100.0 * kLmdbTarget, met(a_vs_lmdb >= kLmdbTarget).c_str());
  const std::string load_after = bench::load_average();
  const std::string disturbance =
      bench::describe_disturbance(start, bench::sample_activity(machine.disk), machine.cores);
  std::printf("load after:    %s\nduring run:    %s\n", load_after.c_str(), disturbance.c_str());

  if (!s.markdown.empty()) {
    std::ofstream out(s.markdown);
    out << markdown(rows, machine, s, corpus, load_after, disturbance);
    if (!out) fail("cannot write " + s.markdown);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--markdown" && i + 1 < argc) {
      s.markdown = argv[++i];
    } else if (arg == "--dir" && i + 1 < argc) {
      s.tmp_parent = argv[++i];
    } else if (arg == "--quick") {
      s.quick = true;
      s.reps = 1;
      s.key_reps = 1;
    } else if (arg == "--only" && i + 1 < argc &&
               (std::string(argv[i + 1]) == "apply" || std::string(argv[i + 1]) == "ingest" ||
                std::string(argv[i + 1]) == "lmdb")) {
      s.only = argv[++i];
    } else {
      std::cerr << "usage: ingest_bench [--markdown FILE] [--dir DIR] [--quick] [--only "
                   "apply|ingest|lmdb]\n";
      return 2;
    }
  }
  try {
    run_all(s);
  } catch (const std::exception& e) {
    std::cerr << "ingest_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
