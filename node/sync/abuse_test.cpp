#include "node/sync/abuse.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

using liandong::sync::AbuseLedger;
using liandong::sync::claimed_code;
using liandong::sync::LogLimiter;
using liandong::sync::make_routing_id;
using liandong::sync::printable;
using namespace std::chrono_literals;

namespace {

// Captures spdlog's default logger's lines for the life of the object.
class CapturedLog {
 public:
  CapturedLog() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::debug);
  }
  ~CapturedLog() { spdlog::set_default_logger(old_); }
  std::string text() const { return out_.str(); }
  std::size_t lines() const {
    const std::string t = out_.str();
    return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
};

}  // namespace

TEST_CASE("abuse: a routing id claims the code before its nonce", "[abuse]") {
  CHECK(claimed_code("360723101007") == "360723101007");
  CHECK(claimed_code("360723101007/00000000deadbeef") == "360723101007");
  CHECK(claimed_code("/x") == "");
  CHECK(claimed_code("") == "");
  const std::string rid = make_routing_id("360723101007", 0xdeadbeefULL);
  CHECK(rid == "360723101007/00000000deadbeef");
  CHECK(claimed_code(rid) == "360723101007");
  CHECK(make_routing_id("360723101007", 1) != make_routing_id("360723101007", 2));
}

TEST_CASE("abuse: text from a peer is cut and shown without control bytes", "[abuse]") {
  CHECK(printable("360723101007") == "360723101007");
  CHECK(printable(std::string("a\x1b[31mb\n\0c", 10)) == "a?[31mb??c");
  CHECK(printable(std::string(200, 'x')) == std::string(64, 'x') + "...");
  CHECK(printable("\xe4\xb9\xa1") == "???");
}

TEST_CASE("abuse: offences are counted per code and the tenth within a minute bans it", "[abuse]") {
  AbuseLedger ledger;
  const auto t0 = AbuseLedger::Clock::now();
  for (int i = 0; i < 9; ++i)
    CHECK_FALSE(ledger.charge("360723101003", t0 + std::chrono::milliseconds(i)));
  CHECK(ledger.count("360723101003", t0 + 10ms) == 9);
  // Another code's count is its own: the sibling's offences never reach it.
  CHECK(ledger.count("360723101001", t0 + 10ms) == 0);
  CHECK_FALSE(ledger.banned("360723101001", t0 + 10ms));
  CHECK(ledger.charge("360723101003", t0 + 10ms));
  CHECK(ledger.banned("360723101003", t0 + 11ms));
  CHECK_FALSE(ledger.banned("360723101001", t0 + 11ms));
  // Offences while banned do not extend the ban.
  CHECK_FALSE(ledger.charge("360723101003", t0 + 1s));
  CHECK(ledger.banned("360723101003", t0 + 299s));
  CHECK_FALSE(ledger.banned("360723101003", t0 + 301s));
}

TEST_CASE("abuse: offences spread wider than the window never ban", "[abuse]") {
  AbuseLedger ledger;
  const auto t0 = AbuseLedger::Clock::now();
  for (int i = 0; i < 100; ++i)
    CHECK_FALSE(ledger.charge("360723101003", t0 + i * 7s));
}

TEST_CASE("abuse: a flood of one kind of log line writes ten and then one count", "[abuse][log]") {
  CapturedLog log;
  LogLimiter limiter(10, 10s);
  const auto t0 = LogLimiter::Clock::now();
  int written = 0;
  for (int i = 0; i < 413'000; ++i) {
    if (limiter.allow("malformed message from a child", t0 + std::chrono::microseconds(i))) {
      ++written;
      spdlog::warn("malformed message from child 360723101003: {}", i);
    }
  }
  CHECK(written == 10);
  CHECK(limiter.suppressed_total() == 412'990);
  // Another kind has its own allowance.
  CHECK(limiter.allow("unknown key", t0 + 1s));
  limiter.flush(t0 + 5s);
  CHECK(log.lines() == 10);
  limiter.flush(t0 + 10s + 1ms);
  CHECK(log.lines() == 11);
  CHECK_THAT(log.text(), Catch::Contains("malformed message from a child: 412990 more suppressed "
                                         "in the last 10 s"));
  // The next window starts afresh.
  CHECK(limiter.allow("malformed message from a child", t0 + 11s));
}

TEST_CASE("abuse: the limiter's helpers log only what the level lets through", "[abuse][log]") {
  CapturedLog log;
  LogLimiter limiter(2, 10s);
  for (int i = 0; i < 5; ++i)
    limiter.warn("refused", "refused {}: {}", "360723101003", "no session: send Hello first");
  CHECK(log.lines() == 2);
  spdlog::set_level(spdlog::level::info);
  for (int i = 0; i < 5; ++i)
    limiter.debug("admitted child", "admitted child {}", i);
  CHECK(log.lines() == 2);
  // Lines below the level are not counted as suppressed.
  CHECK(limiter.suppressed_total() == 3);
}
