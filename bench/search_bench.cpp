// Finding cases in a large store: the real `liandong case list` (a page, a
// search by name, ID number, phone, case number and status, and the whole
// list streamed) on a store of 100,000 cases built through the storage API,
// timed as a user meets it (process start to exit) with the process's peak
// RSS; and, in-process, storage::find_cases alone and the one-time building
// of the search indexes when an older store is opened.
//
// Usage: search_bench --liandong PATH [--cases N] [--runs N] [--quick]
//                     [--dir DIR] [--markdown FILE] [--keep DIR] [--build NAME]
//   --keep DIR  leave the node (store and keys) at DIR afterwards
#include <fcntl.h>
#include <lmdb.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_corpus.h"
#include "bench/bench_machine.h"
#include "storage/case_query.h"
#include "storage/store.h"

extern char** environ;

using namespace liandong;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Run {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system
  int exit_code = -1;
};

// Runs `args` with stdout and stderr to /dev/null; wall time from spawn to
// reaped, CPU time from wait4's rusage. (Not its ru_maxrss: a child spawned
// from this process counts this process's pages until it execs.)
Run run_cli(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  Run r;
  const auto t0 = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    throw std::runtime_error("cannot start " + args[0]);
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) != pid) throw std::runtime_error("wait4 failed");
  r.wall_ms = ms_since(t0);
  r.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Peak RSS (KiB) of `args`, measured by GNU time (/usr/bin/time -f %M),
// whose own small process is the one that execs it.
long peak_rss_kib(const std::vector<std::string>& args, const fs::path& scratch) {
  const fs::path out = scratch / "rss.txt";
  std::vector<std::string> timed = {"/usr/bin/time", "-f", "%M", "-o", out.string()};
  timed.insert(timed.end(), args.begin(), args.end());
  if (run_cli(timed).exit_code != 0) throw std::runtime_error("failed under /usr/bin/time");
  std::ifstream in(out);
  long kib = 0;
  in >> kib;
  return kib;
}

// Output of a command (for reading a cursor), stdout only.
std::string output_of(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args)
    cmd += "'" + a + "' ";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    out.append(buf, n);
  ::pclose(p);
  return out;
}

template <typename T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Row {
  std::string what, command;
  std::size_t listed = 0;
  double wall_median = 0, wall_max = 0, cpu_median = 0;
  long rss_median_kib = 0, rss_max_kib = 0;
  bool target = false;  // a page: the 50 ms target applies
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string liandong, markdown, keep, build = "unnamed";
  std::size_t cases = 100000;
  int runs = 7;
  fs::path parent = fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--liandong")
      liandong = next();
    else if (a == "--cases")
      cases = std::stoul(next());
    else if (a == "--runs")
      runs = std::stoi(next());
    else if (a == "--dir")
      parent = next();
    else if (a == "--markdown")
      markdown = next();
    else if (a == "--build")
      build = next();
    else if (a == "--keep")
      keep = next();
    else if (a == "--quick") {
      cases = 10000;
      runs = 3;
    } else
      throw std::runtime_error("unknown option " + a);
  }
  if (liandong.empty()) {
    std::cerr << "usage: search_bench --liandong PATH [--cases N] [--runs N] [--quick]\n";
    return 2;
  }
  const bench::Machine machine = bench::describe_machine(parent);
  const bench::Activity start = bench::sample_activity(machine.disk);
  std::cout << machine.text() << std::flush;
  bench::TempDir tmp(parent);
  const fs::path data = tmp.path() / "node";
  const std::string d = data.string();

  // The store: a township hub's real node, holding `cases` applications
  // from 20 villages, built through the storage API.
  if (run_cli({liandong, "init", "--data", d, "--code", bench::kHubCode}).exit_code != 0)
    throw std::runtime_error("liandong init failed");
  const auto t_corpus = Clock::now();
  bench::Corpus corpus = bench::make_corpus(cases, 20, std::max(1u, machine.cores));
  const double corpus_ms = ms_since(t_corpus);
  double fill_ms = 0, reindex_ms = 0;
  storage::StoreOptions opts;
  opts.dir = data / "store";
  opts.initial_map_bytes = std::size_t{1} << 30;
  {
    auto store = storage::Store::open(opts);
    if (!store.ok()) throw std::runtime_error(store.status().to_string());
    for (std::size_t k = 0; k < corpus.origins.size(); ++k)
      if (!(*store)->put_key(corpus.origins[k], corpus.keys[k].pub))
        throw std::runtime_error("put_key failed");
    const auto t0 = Clock::now();
    for (std::size_t at = 0; at < corpus.views.size(); at += 1000) {
      std::vector<const EventView*> batch;
      for (std::size_t i = at; i < std::min(at + 1000, corpus.views.size()); ++i)
        batch.push_back(&corpus.views[i]);
      auto r = (*store)->apply(batch);
      if (!r.ok()) throw std::runtime_error(r.status().to_string());
    }
    fill_ms = ms_since(t0);
  }

  // In-process: find_cases alone (no process start, no store open).
  std::vector<double> inproc;
  {
    auto store = storage::Store::open(opts);
    if (!store.ok()) throw std::runtime_error(store.status().to_string());
    for (int r = 0; r < runs; ++r) {
      storage::CaseQuery q;
      q.limit = 50;
      const auto t0 = Clock::now();
      auto page = storage::find_cases(**store, q);
      inproc.push_back(ms_since(t0));
      if (!page.ok() || page->cases.size() != 50) throw std::runtime_error("find_cases failed");
    }
  }

  // Values to search for: those of the corpus's 12,345th application.
  const std::size_t pick = std::min<std::size_t>(12345, cases - 1);
  const EventView& ev = corpus.views[pick];
  auto applicant = ev.event().getBody().getSubmitted().getApplicant();
  const std::string name = applicant.getName().cStr();
  const std::string id_number = applicant.getIdNumber().cStr();
  const std::string phone = applicant.getPhone().cStr();
  const std::string tail = format_id(ev.id()).substr(13);
  // A cursor from the middle of the store.
  // A cursor from the middle of the store (case-id order: by village, then
  // sequence number).
  const std::string middle = format_id(Id{corpus.origins[10], cases / 20 / 2});

  struct Query {
    std::string what;
    std::vector<std::string> args;
    bool target;
  };
  const std::vector<Query> queries = {
      {"first page", {"--limit", "50"}, true},
      {"page from the middle", {"--limit", "50", "--after", middle}, true},
      {"first page, JSON", {"--limit", "50", "--json"}, true},
      {"by name (a common name)", {"--name", name}, true},
      {"by ID number", {"--id-number", id_number}, true},
      {"by phone", {"--phone", phone}, true},
      {"by case number tail (20 villages)", {"--case", tail}, true},
      {"by status", {"--status", "submitted", "--limit", "50"}, true},
      {"every case, streamed (text)", {}, false},
      {"every case, streamed (JSON)", {"--json"}, false},
  };
  std::vector<Row> rows;
  for (const auto& q : queries) {
    std::vector<std::string> args = {liandong, "case", "list", "--data", d};
    args.insert(args.end(), q.args.begin(), q.args.end());
    Row row;
    row.what = q.what;
    row.target = q.target;
    row.command = "liandong case list";
    for (const auto& a : q.args)
      row.command += " " + (a == middle ? std::string("CURSOR") : a);
    // How many it lists (outside the timing).
    std::vector<std::string> counted = args;
    if (std::find(counted.begin(), counted.end(), "--json") == counted.end())
      counted.push_back("--json");
    const std::string out = output_of(counted);
    for (auto at = out.find("\"case\":"); at != std::string::npos;
         at = out.find("\"case\":", at + 1))
      ++row.listed;
    std::vector<double> wall, cpu;
    std::vector<long> rss;
    for (int r = 0; r < runs; ++r) {
      const Run run = run_cli(args);
      if (run.exit_code != 0) throw std::runtime_error("failed: " + row.command);
      wall.push_back(run.wall_ms);
      cpu.push_back(run.cpu_ms);
      rss.push_back(peak_rss_kib(args, tmp.path()));
    }
    row.wall_median = median(wall);
    row.cpu_median = median(cpu);
    row.wall_max = *std::max_element(wall.begin(), wall.end());
    row.rss_median_kib = median(rss);
    row.rss_max_kib = *std::max_element(rss.begin(), rss.end());
    std::cout << row.what << ": " << fixed(row.wall_median, 1) << " ms (CPU "
              << fixed(row.cpu_median, 1) << " ms), " << fixed(row.rss_median_kib / 1024.0, 1)
              << " MiB, " << row.listed << " listed\n"
              << std::flush;
    rows.push_back(std::move(row));
  }

  // An older store: the search indexes and their key removed; the next
  // open builds them (every case folded again).
  {
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    bool ok = mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 32) == 0 &&
              mdb_env_set_mapsize(env, opts.initial_map_bytes) == 0 &&
              mdb_env_open(env, opts.dir.c_str(), 0, 0600) == 0 &&
              mdb_txn_begin(env, nullptr, 0, &txn) == 0;
    for (const char* n : {"by_name", "by_idno", "by_phone", "by_item"}) {
      MDB_dbi dbi;
      ok = ok && mdb_dbi_open(txn, n, 0, &dbi) == 0 && mdb_drop(txn, dbi, 1) == 0;
    }
    ok = ok && mdb_txn_commit(txn) == 0;
    mdb_env_close(env);
    if (!ok) throw std::runtime_error("cannot make the store older");
    const auto t0 = Clock::now();
    auto store = storage::Store::open(opts);
    if (!store.ok()) throw std::runtime_error(store.status().to_string());
    reindex_ms = ms_since(t0);
  }

  // The floor: starting the process at all.
  std::vector<double> hw, hc;
  for (int r = 0; r < runs; ++r) {
    const Run run = run_cli({liandong, "--help"});
    hw.push_back(run.wall_ms);
    hc.push_back(run.cpu_ms);
  }
  const double help_wall = median(hw), help_cpu = median(hc);

  const std::string load_after = bench::load_average();
  const std::string disturbance =
      bench::describe_disturbance(start, bench::sample_activity(machine.disk), machine.cores);
  std::ostringstream md;
  md << "Run " << machine.date << ", " << build << " build, a township store (" << bench::kHubCode
     << ") of " << with_commas(cases) << " cases from 20 villages. Each figure is over " << runs
     << " runs of the real `liandong` process (spawn to exit, output to /dev/null): wall time, "
        "its CPU time (user + system, from wait4) and its peak RSS (GNU time's %M, a run of "
        "its own).\n\n"
     << "| query | command | cases listed | wall ms, median (max) | CPU ms, median | peak RSS "
        "MiB, median (max) | target: page <= 50 ms | met "
        "|\n|---|---|---:|---:|---:|---:|---|---|\n";
  for (const auto& r : rows) {
    md << "| " << r.what << " | `" << r.command << "` | " << with_commas(r.listed) << " | "
       << fixed(r.wall_median, 1) << " (" << fixed(r.wall_max, 1) << ") | "
       << fixed(r.cpu_median, 1) << " | " << fixed(r.rss_median_kib / 1024.0, 1) << " ("
       << fixed(r.rss_max_kib / 1024.0, 1) << ") | " << (r.target ? "page" : "") << " | "
       << (r.target ? (r.wall_median <= 50 ? "met" : "missed") : "") << " |\n";
  }
  md << "\n`liandong --help` (process start, no store): wall " << fixed(help_wall, 1) << " ms, CPU "
     << fixed(help_cpu, 1) << " ms (medians).\n\n```\n"
     << machine.text() << "load after:    " << load_after << "\n"
     << "during run:    " << disturbance << "\n"
     << "store:         " << with_commas(cases) << " signed `submitted` events made in "
     << fixed(corpus_ms / 1000, 1) << " s, stored with Store::apply (1,000 per transaction) in "
     << fixed(fill_ms / 1000, 1) << " s\n"
     << "find_cases:    first page of 50 in-process, median " << fixed(median(inproc), 2) << " ms\n"
     << "older store:   building the four search indexes at open took "
     << fixed(reindex_ms / 1000, 1) << " s (once)\n"
     << "```\n";
  std::cout << md.str();
  if (!keep.empty()) fs::rename(data, keep);
  if (!markdown.empty()) std::ofstream(markdown) << md.str();
  return 0;
}
