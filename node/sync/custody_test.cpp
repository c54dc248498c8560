#include "node/sync/custody.h"

#include <catch2/catch.hpp>

using namespace liandong::sync;
using namespace std::chrono_literals;

namespace {
const TimePoint t0 = TimePoint{} + 1h;
}

TEST_CASE("custody: marks are written at most four times a second, and at once when forced",
          "[sync][custody]") {
  CustodyMarks c(2);
  CHECK_FALSE(c.due(t0, true));  // nothing changed
  c.update(0, Mark{5, 3});
  auto d = c.due(t0, false);
  REQUIRE(d);
  CHECK((*d)[0] == Mark{5, 3});
  c.written(t0);
  c.update(0, Mark{6, 3});
  CHECK_FALSE(c.due(t0 + 100ms, false));
  CHECK(c.due(t0 + 100ms, true));
  CHECK(c.due(t0 + 250ms, false));
  SECTION("an unchanged mark makes nothing due") {
    c.written(t0 + 250ms);
    c.update(0, Mark{6, 3});
    CHECK_FALSE(c.due(t0 + 1h, true));
  }
}

TEST_CASE("custody: our top is the highest over the upstreams; children hear when it moves",
          "[sync][custody]") {
  CustodyMarks c(2);
  c.restore(0, Mark{10, 8});
  CHECK(c.our_top() == 8);
  CHECK_FALSE(c.update(1, Mark{4, 4}));  // the fallback's lower top moves nothing
  CHECK(c.update(1, Mark{12, 12}));
  CHECK(c.our_top() == 12);
}

TEST_CASE("custody: a child's top mark comes from the map, capped by what we hold of it",
          "[sync][custody]") {
  CHECK(CustodyMarks::child_top(true, std::nullopt, 40) == 40);
  CHECK(CustodyMarks::child_top(false, std::nullopt, 40) == 0);
  CHECK(CustodyMarks::child_top(false, 25, 40) == 25);
  // An entry of an older store of the child names LSNs it no longer has.
  CHECK(CustodyMarks::child_top(false, 90, 40) == 40);
}
