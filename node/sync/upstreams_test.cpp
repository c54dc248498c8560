#include "node/sync/upstreams.h"

#include <catch2/catch.hpp>

using namespace liandong::sync;
using namespace std::chrono_literals;
using State = UpstreamPolicy::State;

namespace {
const UpstreamPolicy::Settings kSettings{100ms, 5000ms, 1000ms};
const TimePoint t0 = TimePoint{} + 1h;
}  // namespace

TEST_CASE("upstreams: the most preferred is dialled first, one dial at a time", "[sync][up]") {
  UpstreamPolicy p(2, kSettings, std::mt19937_64(1));
  REQUIRE(p.due(t0) == std::optional<std::size_t>(0));
  p.dialing(0, t0);
  CHECK_FALSE(p.due(t0));  // a dial in flight
  CHECK(p.timed_out(t0 + 500ms).empty());
  CHECK(p.timed_out(t0 + 1001ms) == std::vector<std::size_t>{0});
}

TEST_CASE("upstreams: failover to the fallback, and back to the preferred one", "[sync][up]") {
  UpstreamPolicy p(2, kSettings, std::mt19937_64(1));
  p.dialing(0, t0);
  p.failed(0, t0 + 1s, false);  // the township does not answer
  CHECK(p.state(0) == State::down);
  // The township is not due yet; the county is.
  REQUIRE(p.due(t0 + 1s) == std::optional<std::size_t>(1));
  p.dialing(1, t0 + 1s);
  CHECK_FALSE(p.welcomed(1, t0 + 1s).has_value());
  CHECK(p.active() == std::optional<std::size_t>(1));
  // While on the county, the township is probed once its backoff is due.
  CHECK_FALSE(p.due(t0 + 1s));
  const TimePoint later = p.next_dial(0);
  CHECK(later > t0 + 1s);
  REQUIRE(p.due(later) == std::optional<std::size_t>(0));
  p.dialing(0, later);
  // Its Welcome makes it the one in use; the county is left.
  CHECK(p.welcomed(0, later) == std::optional<std::size_t>(1));
  CHECK(p.active() == std::optional<std::size_t>(0));
  CHECK(p.state(1) == State::down);
  CHECK(p.failures(0) == 0);
  // A fallback is never dialled while the preferred one is in use.
  CHECK_FALSE(p.due(later + 1h));
}

TEST_CASE("upstreams: a lost link in use is redialled after a short backoff", "[sync][up]") {
  UpstreamPolicy p(1, kSettings, std::mt19937_64(3));
  p.dialing(0, t0);
  p.welcomed(0, t0);
  p.failed(0, t0, false);
  CHECK_FALSE(p.active());
  const auto wait = p.next_dial(0) - t0;
  CHECK(wait >= 50ms);
  CHECK(wait < 150ms);
}

TEST_CASE("upstreams: a refusal backs off to redial_max until the next Welcome", "[sync][up]") {
  UpstreamPolicy p(1, kSettings, std::mt19937_64(3));
  p.dialing(0, t0);
  p.failed(0, t0, true);
  CHECK(p.refused(0));
  CHECK(p.next_dial(0) - t0 >= 2500ms);
  SECTION("the network coming back does not redial a refused link") {
    p.due_now(t0, false);
    CHECK_FALSE(p.due(t0));
  }
  SECTION("a person's sync now does") {
    p.due_now(t0, true);
    CHECK(p.due(t0) == std::optional<std::size_t>(0));
  }
}

TEST_CASE("upstreams: the backoff's jitter comes from the random source handed in", "[sync][up]") {
  auto delays = [](uint64_t seed) {
    UpstreamPolicy p(1, kSettings, std::mt19937_64(seed));
    std::vector<int64_t> out;
    for (int i = 0; i < 8; ++i) {
      p.dialing(0, t0);
      p.failed(0, t0, false);
      out.push_back(
          std::chrono::duration_cast<std::chrono::milliseconds>(p.next_dial(0) - t0).count());
    }
    return out;
  };
  CHECK(delays(5) == delays(5));
  CHECK(delays(5) != delays(6));
}

TEST_CASE("upstreams: a link held for abuse is not dialled before its time", "[sync][up]") {
  UpstreamPolicy p(1, kSettings, std::mt19937_64(1));
  p.hold(0, t0 + 300s);
  CHECK_FALSE(p.due(t0 + 299s));
  p.due_now(t0 + 1s, true);  // not even a person's sync now
  CHECK_FALSE(p.due(t0 + 299s));
  CHECK(p.due(t0 + 300s) == std::optional<std::size_t>(0));
}
