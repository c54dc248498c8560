// Crash tests with real processes: crash_writer (tests/crash/crash_writer.cpp)
// appends to a store until it is killed with SIGKILL at a random moment;
// then this process opens the store and checks that every event the writer
// reported as stored is there exactly once, at the LSN reported, and that
// the log, the ids and the indexes agree.
//
// Set LIANDONG_CRASH_SEED to replay a failing run's schedule (the seed is
// printed with every failure); kill moments depend on timing as well.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/store.h"

#ifndef LIANDONG_CRASH_WRITER
#error "LIANDONG_CRASH_WRITER must name the crash_writer binary"
#endif

namespace {

using namespace liandong;
using storage::Store;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kCode = "360723101007";  // a village of 大余县 南安镇
constexpr int kRounds = 60;
constexpr int kMaxKillDelayMs = 300;
// The writer's pace: bounds the store (and each round's full integrity
// check) to about kRounds * 150 ms * kWriterRate events on any disk.
constexpr const char* kWriterRate = "10000";
constexpr auto kDrainLimit = std::chrono::seconds(10);  // output left after the kill

using liandong::test::TempDir;

// A crash_writer child with its stdout on a pipe. Owns the child: the
// destructor kills (SIGKILL) and reaps it if the test has not, so a failed
// REQUIRE never leaves a writer running.
class WriterProcess {
 public:
  WriterProcess(const fs::path& dir, uint64_t seed) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    fd_ = fds[0];
    REQUIRE(::fcntl(fd_, F_SETFL, O_NONBLOCK) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    const std::string seed_text = std::to_string(seed);
    std::vector<std::string> args = {
        LIANDONG_CRASH_WRITER, "--data",   dir.string(), "--code", kCode, "--seed", seed_text,
        "--max-rate",          kWriterRate};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) pid_ = -1;
    REQUIRE(rc == 0);
  }
  ~WriterProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;

  // Reads what the writer prints until `deadline`, end of output, or
  // `stop(output)` holds. Returns false at end of output.
  template <typename Stop>
  bool read_until(Clock::time_point deadline, Stop stop) {
    char buf[1 << 16];
    for (int i = 0; i < 1'000'000; ++i) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || stop(out_)) return true;
      pollfd p{fd_, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
      if (rc < 0 && errno == EINTR) continue;
      REQUIRE(rc >= 0);
      if (rc == 0) continue;
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      REQUIRE(n >= 0);
      if (n == 0) return false;
      out_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  bool read_until(Clock::time_point deadline) {
    return read_until(deadline, [](const std::string&) { return false; });
  }

  // Kills the writer with SIGKILL, reaps it and reads the rest of what it
  // printed. Returns its wait status.
  int kill_and_reap() {
    REQUIRE(pid_ > 0);
    REQUIRE(::kill(pid_, SIGKILL) == 0);
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, 0);
    pid_ = -1;
    REQUIRE(r > 0);
    // The child is gone: the pipe ends once its buffered bytes are read.
    REQUIRE_FALSE(read_until(Clock::now() + kDrainLimit));
    return status;
  }

  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

struct Report {
  bool stored = false;  // false: duplicate
  Id id;
  uint64_t lsn = 0;
};

// Parses every complete line ("stored ID lsn N" / "duplicate ID lsn N"); a
// last line without its newline was cut by the kill and is ignored. Returns
// nullopt and sets `bad` on any other line.
std::optional<std::vector<Report>> parse_reports(const std::string& out, std::string& bad) {
  std::vector<Report> reports;
  std::size_t start = 0;
  for (std::size_t nl = out.find('\n'); nl != std::string::npos;
       start = nl + 1, nl = out.find('\n', start)) {
    std::istringstream line(out.substr(start, nl - start));
    std::string what, id_text, lsn_word, rest;
    uint64_t lsn = 0;
    line >> what >> id_text >> lsn_word >> lsn;
    auto id = parse_id(id_text);
    if (!line || (line >> rest) || (what != "stored" && what != "duplicate") || !id ||
        lsn_word != "lsn" || lsn == 0) {
      bad = out.substr(start, nl - start);
      return std::nullopt;
    }
    reports.push_back(Report{what == "stored", *id, lsn});
  }
  return reports;
}

// What the rounds have established so far, and the checks of one round.
class Ledger {
 public:
  // Checks the store against this round's reports and what earlier rounds
  // reported. Returns the first problem found, or "" if there is none.
  std::string check_round(const Store& store, const std::vector<Report>& reports) {
    if (auto s = store.check_integrity(); !s) return "check_integrity: " + s.to_string();
    auto stats = store.stats();
    if (!stats.ok()) return "stats: " + stats.status().to_string();
    if (stats->events != stats->last_lsn) return "the log is not dense";
    // The writer's own numbers: dense 1..next_seq-1, never going back.
    if (stats->next_seq < own_next_)
      return "next_seq went back from " + std::to_string(own_next_) + " to " +
             std::to_string(stats->next_seq);
    uint64_t expect_own = own_next_;
    for (uint64_t seq = own_next_; seq < stats->next_seq; ++seq) {
      if (auto p = check_at(store, Id{kCode, seq}, std::nullopt); !p.empty()) return p;
    }
    auto beyond = store.find(Id{kCode, stats->next_seq});
    if (!beyond.ok() || *beyond) return "an own event at or above next_seq";
    for (const auto& r : reports) {
      if (auto p = check_at(store, r.id, r.lsn); !p.empty()) return p;
      if (!r.stored) {
        auto it = stored_.find(r.id);
        if (it != stored_.end() && it->second != r.lsn)
          return format_id(r.id) + " is a duplicate at another LSN than it was stored";
        continue;
      }
      if (!stored_.emplace(r.id, r.lsn).second)
        return format_id(r.id) + " was reported stored twice";
      if (!lsn_owner_.emplace(r.lsn, r.id).second)
        return "LSN " + std::to_string(r.lsn) + " was reported for two events";
      if (r.id.origin == kCode) {
        // Reported own events continue the sequence where the last round left it.
        if (r.id.seq != expect_own)
          return "own event " + format_id(r.id) + " reported where seq " +
                 std::to_string(expect_own) + " was next";
        ++expect_own;
      }
      ++checked_;
    }
    own_next_ = stats->next_seq;
    return "";
  }

  // The whole log, once: every event appears once, own numbers are exactly
  // 1..next_seq-1, signatures check against the key directory, and every
  // report of every round still holds.
  std::string check_all(const Store& store) const {
    auto stats = store.stats();
    if (!stats.ok()) return stats.status().to_string();
    std::set<Id> seen;
    uint64_t own = 0;
    for (uint64_t lsn = 1; lsn <= stats->last_lsn; ++lsn) {
      auto bytes = store.read_log(lsn);
      if (!bytes.ok() || !*bytes) return "log hole at " + std::to_string(lsn);
      auto view = EventView::parse(**bytes);
      if (!view.ok()) return "log " + std::to_string(lsn) + ": " + view.status().to_string();
      if (!seen.insert(view->id()).second) return format_id(view->id()) + " is stored twice";
      auto key = store.key(view->id().origin);
      if (!key.ok()) return "key directory: " + key.status().to_string();
      if (!*key || !check_signature(*view, **key))
        return format_id(view->id()) + " does not verify against the key directory";
      if (view->id().origin == kCode) ++own;
    }
    if (own + 1 != stats->next_seq)
      return std::to_string(own) + " own events for next_seq " + std::to_string(stats->next_seq);
    for (const auto& [id, lsn] : stored_) {
      auto at = store.find(id);
      if (!at.ok() || !*at || **at != lsn) return format_id(id) + " moved from its LSN";
    }
    return "";
  }

  uint64_t checked() const { return checked_; }
  std::size_t reported() const { return stored_.size(); }
  uint64_t own_next() const { return own_next_; }

 private:
  // `id` is found exactly at `lsn` (at any LSN if nullopt), and the log entry
  // there holds `id`.
  static std::string check_at(const Store& store, const Id& id, std::optional<uint64_t> lsn) {
    auto at = store.find(id);
    if (!at.ok()) return "find: " + at.status().to_string();
    if (!*at) return format_id(id) + " is not in the store";
    if (lsn && **at != *lsn)
      return format_id(id) + " is at LSN " + std::to_string(**at) + ", reported " +
             std::to_string(*lsn);
    auto bytes = store.read_log(**at);
    if (!bytes.ok() || !*bytes) return "no log entry at LSN " + std::to_string(**at);
    auto view = EventView::parse(**bytes);
    if (!view.ok() || view->id() != id)
      return "the log entry at LSN " + std::to_string(**at) + " is not " + format_id(id);
    return "";
  }

  std::map<Id, uint64_t> stored_;     // every event reported stored
  std::map<uint64_t, Id> lsn_owner_;  // and the LSN it was reported at
  uint64_t own_next_ = 1;             // next_seq after the last round
  uint64_t checked_ = 0;
};

uint64_t test_seed() {
  if (const char* s = std::getenv("LIANDONG_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

storage::StoreOptions store_options(const fs::path& dir) {
  storage::StoreOptions o;
  o.dir = dir;
  return o;
}

// The writer died by our SIGKILL, not by itself.
void require_killed(int status, const std::string& output) {
  INFO("writer output: " << output.substr(output.size() > 2000 ? output.size() - 2000 : 0));
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
}

}  // namespace

TEST_CASE(
    "crash: a writer killed with SIGKILL at random moments loses nothing it reported and "
    "duplicates nothing",
    "[crash]") {
  const uint64_t seed = test_seed();
  INFO("seed " << seed << " (LIANDONG_CRASH_SEED replays it)");
  std::mt19937_64 rng(seed);
  TempDir tmp("liandong-crash");
  const fs::path dir = tmp.path() / "store";
  Ledger ledger;
  const auto started = Clock::now();
  int rounds = 0, kills_before_store = 0;
  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    const int delay_ms = static_cast<int>(rng() % (kMaxKillDelayMs + 1));
    CAPTURE(delay_ms);
    std::vector<Report> reports;
    {
      WriterProcess writer(dir, rng());
      // Exits early only if the writer does; the kill below then finds a zombie.
      writer.read_until(Clock::now() + milliseconds(delay_ms));
      const int status = writer.kill_and_reap();
      require_killed(status, writer.output());
      std::string bad;
      auto parsed = parse_reports(writer.output(), bad);
      INFO("unparsable writer line: " << bad);
      REQUIRE(parsed);
      reports = std::move(*parsed);
    }
    ++rounds;
    auto store = Store::open(store_options(dir));
    if (!store.ok() && store.status().code() == Code::not_found && reports.empty() &&
        ledger.reported() == 0) {
      ++kills_before_store;  // killed before it made the store
      continue;
    }
    INFO("open: " << store.status().to_string());
    REQUIRE(store.ok());
    const std::string problem = ledger.check_round(**store, reports);
    INFO(problem);
    REQUIRE(problem.empty());
    // The store is closed here, before the next writer starts.
  }
  {
    auto store = Store::open(store_options(dir));
    INFO("open: " << store.status().to_string());
    REQUIRE(store.ok());
    const std::string problem = ledger.check_all(**store);
    INFO(problem);
    REQUIRE(problem.empty());
    // The writer's key survived every kill: its file still holds the key
    // the store checks the writer's events with.
    struct stat st {};
    REQUIRE(::stat((dir / "writer.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(st.st_size == 64);
    std::ifstream in(dir / "writer.key", std::ios::binary);
    const std::string secret((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    auto key = signing_key_from_secret(secret);
    REQUIRE(key);
    auto held = (*store)->key(kCode);
    REQUIRE(held.ok());
    REQUIRE(*held == std::optional<PublicKey>(key->pub));
  }
  const auto secs =
      std::chrono::duration_cast<std::chrono::duration<double>>(Clock::now() - started).count();
  WARN("crash: " << rounds << " rounds (" << kills_before_store << " before the store existed), "
                 << ledger.checked() << " reported events checked, next own seq "
                 << ledger.own_next() << ", " << secs << " s");
  CHECK(rounds >= 50);
  CHECK(ledger.checked() > 0);
}

TEST_CASE("crash: a writer restarted after a kill continues its sequence where it stopped",
          "[crash]") {
  const uint64_t seed = test_seed();
  INFO("seed " << seed << " (LIANDONG_CRASH_SEED replays it)");
  std::mt19937_64 rng(seed);
  TempDir tmp("liandong-crash");
  const fs::path dir = tmp.path() / "store";
  const std::string own_prefix = std::string("stored ") + kCode + "-";
  uint64_t next = 1;  // the own seq the next writer must use first
  for (int restart = 0; restart < 5; ++restart) {
    CAPTURE(restart);
    std::vector<uint64_t> own;
    {
      WriterProcess writer(dir, rng());
      // Wait (bounded) for its first own event, then let it run a little.
      writer.read_until(Clock::now() + std::chrono::seconds(20), [&](const std::string& out) {
        const auto at = out.find(own_prefix);
        return at != std::string::npos && out.find('\n', at) != std::string::npos;
      });
      writer.read_until(Clock::now() + milliseconds(rng() % 50));
      const int status = writer.kill_and_reap();
      require_killed(status, writer.output());
      std::string bad;
      auto reports = parse_reports(writer.output(), bad);
      INFO("unparsable writer line: " << bad);
      REQUIRE(reports);
      for (const auto& r : *reports) {
        if (r.stored && r.id.origin == kCode) own.push_back(r.id.seq);
      }
    }
    REQUIRE_FALSE(own.empty());
    // It starts exactly where the killed one stopped and counts up by one.
    CHECK(own.front() == next);
    for (std::size_t i = 1; i < own.size(); ++i)
      REQUIRE(own[i] == own[i - 1] + 1);
    auto store = Store::open(store_options(dir));
    INFO("open: " << store.status().to_string());
    REQUIRE(store.ok());
    auto stats = (*store)->stats();
    REQUIRE(stats.ok());
    // Events committed but not yet printed when the kill came are kept too.
    REQUIRE(stats->next_seq > own.back());
    REQUIRE((*store)->check_integrity().is_ok());
    next = stats->next_seq;
  }
}

// Regression: a kill between creating data.mdb and committing the store's
// metadata once left a store that open() called corrupt and create()
// refused. Now the metadata is the store: without it, create() starts over.
TEST_CASE("crash: a writer killed while it creates the store leaves a store that opens",
          "[crash]") {
  const uint64_t seed = test_seed();
  INFO("seed " << seed << " (LIANDONG_CRASH_SEED replays it)");
  std::mt19937_64 rng(seed);
  constexpr int kAttempts = 40;
  constexpr int kMaxCreateKillMs = 15;  // creating the store takes a few ms
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    CAPTURE(attempt);
    TempDir tmp("liandong-crash");
    const fs::path dir = tmp.path() / "store";
    const int delay_ms = static_cast<int>(rng() % (kMaxCreateKillMs + 1));
    CAPTURE(delay_ms);
    {
      WriterProcess writer(dir, rng());
      writer.read_until(Clock::now() + milliseconds(delay_ms));
      require_killed(writer.kill_and_reap(), writer.output());
    }
    auto store = Store::open(store_options(dir));
    if (!store.ok() && store.status().code() == Code::not_found) continue;  // killed before
    INFO("open: " << store.status().to_string());
    REQUIRE(store.ok());
    REQUIRE((*store)->check_integrity().is_ok());
  }
}
