// Defences of the daemon against what a peer can make it do: abuse charged
// to the peer it can be proven to come from, and log lines a peer can
// trigger written at a bounded rate.
//
// A child's code is proven by its CurveZMQ key alone (the ZAP handler binds
// each admitted key to one code; libzmq hands that code on as the message's
// "User-Id"). What a connection claims — its ZeroMQ routing id, the code in
// its Hello — is checked against that binding and never charged: a sibling
// that claims another village's code is charged itself, and the village it
// named is left alone.
//
// Both classes are pure logic over a steady clock, with no sockets, so they
// are tested without any (node/abuse_test.cpp).
//
// Thread contract: one thread (the daemon's loop) uses each object.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace liandong::sync {

// The code a connection claims by its routing id. A child of this version
// dials with `CODE/NONCE` (a fresh random nonce each dial, so no other
// connection can take its routing id over); one of an older version with
// `CODE`. Empty when the routing id names no code at all.
std::string claimed_code(std::string_view routing_id);

// `text` fit for a log line: at most 64 bytes, every byte outside printable
// ASCII shown as '?' (routing ids and codes a peer sends are arbitrary
// bytes).
std::string printable(std::string_view text);

// A routing id for one dial of `code`: `CODE/` and 16 random hex digits.
std::string make_routing_id(const std::string& code, uint64_t nonce);

// Offences counted per authenticated code: `limit` of them within `window`
// start a ban of `ban`. Only codes bound to admitted keys (or the node's
// configured upstreams) are ever charged, so the ledger is bounded by the
// config.
class AbuseLedger {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  struct Limits {
    int limit = 10;
    std::chrono::milliseconds window{60'000}, ban{300'000};
  };

  AbuseLedger() = default;
  explicit AbuseLedger(Limits limits) : limits_(limits) {}

  // Counts one offence of `code`; true when it is the one that starts a
  // ban (the count starts again after it).
  bool charge(const std::string& code, TimePoint now);
  bool banned(const std::string& code, TimePoint now) const;
  // Offences of `code` in its current window (0 when banned or unknown).
  int count(const std::string& code, TimePoint now) const;
  const Limits& limits() const { return limits_; }

 private:
  struct Entry {
    int count = 0;
    TimePoint window_start{}, banned_until{};
  };
  Limits limits_;
  std::map<std::string, Entry> entries_;
};

// Rate limit for log lines a peer can trigger. Each kind of line (a fixed
// string naming the call site, never text from the peer) may be written
// `lines` times per `window`; the rest are counted, and once the window is
// over one line says how many were left out:
//   "malformed message from a child: 412 more suppressed in the last 10 s"
// So a flood, however fast and from however many peers, adds at most
// lines + 1 lines per kind and window to the log.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  explicit LogLimiter(int lines = 10,
                      std::chrono::milliseconds window = std::chrono::milliseconds(10'000))
      : lines_(lines), window_(window) {}

  // Whether a line of `kind` may be written now. Writes the summary of a
  // window that is over first.
  bool allow(std::string_view kind, TimePoint now);
  // Writes the summaries of every window that is over (call from a timer).
  void flush(TimePoint now);
  // Lines left out so far, over all kinds (for tests and status).
  uint64_t suppressed_total() const { return suppressed_total_; }

  template <typename... Args>
  void log(spdlog::level::level_enum level, std::string_view kind,
           spdlog::format_string_t<Args...> fmt, Args&&... args) {
    if (!spdlog::should_log(level)) return;
    if (allow(kind, Clock::now())) spdlog::log(level, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(std::string_view kind, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::warn, kind, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(std::string_view kind, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::err, kind, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(std::string_view kind, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::info, kind, fmt, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void debug(std::string_view kind, spdlog::format_string_t<Args...> fmt, Args&&... args) {
    log(spdlog::level::debug, kind, fmt, std::forward<Args>(args)...);
  }

 private:
  struct Window {
    TimePoint start{};
    int written = 0;
    uint64_t suppressed = 0;
  };
  void close_window(const std::string& kind, Window& w);

  int lines_;
  std::chrono::milliseconds window_;
  std::map<std::string, Window, std::less<>> windows_;
  uint64_t suppressed_total_ = 0;
};

}  // namespace liandong::sync
