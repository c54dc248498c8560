#include "node/sync/redial.h"

#include <catch2/catch.hpp>

using liandong::sync::kLinkRedialCap;
using liandong::sync::redial_delay;
using namespace std::chrono_literals;

// The regression: with village.toml's redial_max of 5 minutes, a village
// whose uplink was down for an hour waited up to 7.5 minutes to notice it
// had come back.
TEST_CASE(
    "redial: a link that was never refused is dialled again within a few seconds, "
    "however long it was down",
    "[redial]") {
  std::mt19937_64 rng(7);
  for (int failures = 1; failures <= 5000; failures += failures < 40 ? 1 : 997) {
    for (int k = 0; k < 50; ++k) {
      const auto d = redial_delay(failures, false, 1000ms, 300000ms, rng);
      CAPTURE(failures, d.count());
      CHECK(d >= 500ms);
      CHECK(d < kLinkRedialCap * 3 / 2);
    }
  }
}

TEST_CASE("redial: a refused link backs off to redial_max", "[redial]") {
  std::mt19937_64 rng(7);
  for (int k = 0; k < 200; ++k) {
    const auto d = redial_delay(30, true, 1000ms, 300000ms, rng);
    CHECK(d >= 150000ms);
    CHECK(d < 450000ms);
  }
  // The first failures still start small.
  for (int k = 0; k < 200; ++k)
    CHECK(redial_delay(1, true, 1000ms, 300000ms, rng) < 1500ms);
}

TEST_CASE("redial: the backoff doubles from redial_min and a lower redial_max still caps it",
          "[redial]") {
  std::mt19937_64 rng(11);
  for (int k = 0; k < 200; ++k) {
    const auto d2 = redial_delay(2, false, 500ms, 30000ms, rng);
    CHECK(d2 >= 500ms);
    CHECK(d2 < 1500ms);
    const auto capped = redial_delay(20, false, 50ms, 500ms, rng);
    CHECK(capped >= 250ms);
    CHECK(capped < 750ms);
  }
  // redial_min above the cap: the operator's minimum holds.
  for (int k = 0; k < 200; ++k) {
    const auto d = redial_delay(20, false, 10000ms, 60000ms, rng);
    CHECK(d >= 5000ms);
    CHECK(d < 15000ms);
  }
}
