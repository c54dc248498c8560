#include "node/sync/batch_plan.h"

#include <catch2/catch.hpp>

#include "node/sync/sim.h"

using namespace liandong;
using namespace liandong::sync;

namespace {

const std::string kTown = "360723101";

void add(sim::MemStore& log, const std::string& origin, const std::string& home, int n,
         std::size_t pad = 0, bool broadcast = false) {
  for (int i = 0; i < n; ++i) {
    RouteInfo r;
    r.id = Id{origin, log.max_seq(origin) + 1};
    r.home = home;
    r.broadcast = broadcast;
    log.append(r, sim::event_bytes(r, pad));
  }
}

}  // namespace

TEST_CASE("batch plan: only what the routing rule sends to the peer, in log order",
          "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101001", 2);           // down to village 001
  add(log, kTown, "360723101002", 1);           // down to 002 only
  add(log, "360723", "", 1, 0, true);           // the county's broadcast: everyone below
  add(log, "360723101001", "360723101001", 1);  // 001's own: never back to it
  const Route to_001{kTown, "360723101001", false, 0};
  auto p = plan_batch(log, to_001, 0, BatchLimits{});
  REQUIRE(p.ok());
  REQUIRE(p->has_value());
  const PlannedBatch& b = **p;
  CHECK(b.from == 0);
  CHECK(b.to == 5);
  CHECK(b.last_id == Id{"360723101001", 1});
  CHECK(b.events.size() == 3);
  CHECK(b.reached_end);
  CHECK_FALSE(b.full);

  SECTION("nothing past the end") {
    auto none = plan_batch(log, to_001, 5, BatchLimits{});
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  }
  SECTION("recovery: the peer's own events go back up to its recovery mark") {
    const Route recovering{kTown, "360723101001", false, 5};
    auto r = plan_batch(log, recovering, 0, BatchLimits{});
    REQUIRE(r.ok());
    CHECK((*r)->events.size() == 4);
  }
  SECTION("up to the county: what originated below the town") {
    const Route up{kTown, "360723", true, 0};
    auto r = plan_batch(log, up, 0, BatchLimits{});
    REQUIRE(r.ok());
    CHECK((*r)->events.size() == 4);  // not the county's own broadcast
  }
}

TEST_CASE("batch plan: a batch closes at its event or byte limit", "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101001", 10, 100);
  const Route r{kTown, "360723101001", false, 0};
  SECTION("events") {
    auto p = plan_batch(log, r, 0, BatchLimits{4, 1 << 20});
    REQUIRE(p.ok());
    CHECK((*p)->events.size() == 4);
    CHECK((*p)->to == 4);
    CHECK((*p)->full);
    CHECK_FALSE((*p)->reached_end);
  }
  SECTION("bytes") {
    const std::size_t one =
        sim::event_bytes(RouteInfo{Id{kTown, 1}, "360723101001", false, false, std::nullopt}, 100)
            .size();
    auto p = plan_batch(log, r, 0, BatchLimits{100, one * 3 + 1});
    REQUIRE(p.ok());
    CHECK((*p)->events.size() == 3);
  }
  SECTION("a single larger event still goes alone") {
    auto p = plan_batch(log, r, 0, BatchLimits{100, 10});
    REQUIRE(p.ok());
    CHECK((*p)->events.size() == 1);
    CHECK((*p)->full);
  }
}

TEST_CASE("batch plan: a long stretch with nothing for the peer only moves its cursor",
          "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101002", 100);
  const Route r{kTown, "360723101001", false, 0};
  auto p = plan_batch(log, r, 0, BatchLimits{4, 1 << 20});
  REQUIRE(p.ok());
  CHECK((*p)->events.empty());
  CHECK((*p)->to == 32);  // reads at most 8 batches' worth
  CHECK_FALSE((*p)->reached_end);
}

// Counts the entries a plan reads.
class CountingLog : public LogView {
 public:
  explicit CountingLog(const LogView& log) : log_(log) {}
  const std::string& store_id() const override { return log_.store_id(); }
  uint64_t end() const override { return log_.end(); }
  Status scan(uint64_t from, std::size_t limit,
              const std::function<bool(const LogEntry&)>& fn) const override {
    return log_.scan(from, limit, [&](const LogEntry& e) {
      ++read;
      return fn(e);
    });
  }
  Result<std::optional<Id>> id_at(uint64_t lsn) const override { return log_.id_at(lsn); }
  mutable std::size_t read = 0;

 private:
  const LogView& log_;
};

TEST_CASE("batch plan: a quiet stretch found before is not read again", "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101002", 20);  // nothing for 001
  add(log, kTown, "360723101001", 2);   // for 001 at LSN 21, 22
  const Route r{kTown, "360723101001", false, 0};
  CountingLog counted(log);
  auto first = plan_batch(counted, r, 0, BatchLimits{});
  REQUIRE(first.ok());
  const QuietStretch quiet = (*first)->quiet;
  CHECK(quiet.from == 0);
  CHECK(quiet.to == 20);
  CHECK(quiet.to_id == Id{kTown, 20});
  CHECK(counted.read == 22);

  add(log, kTown, "360723101001", 1);  // the log grows; the batch was held back
  counted.read = 0;
  auto again = plan_batch(counted, r, 0, BatchLimits{}, &quiet);
  REQUIRE(again.ok());
  const PlannedBatch& b = **again;
  CHECK(counted.read == 3);  // LSN 21..23 only
  CHECK(b.from == 0);
  CHECK(b.to == 23);
  CHECK(b.events.size() == 3);
  CHECK(b.quiet.to == 20);  // the same stretch, still the one before the first routed

  SECTION("the same as a plan read from the start") {
    auto full = plan_batch(log, r, 0, BatchLimits{});
    REQUIRE(full.ok());
    CHECK((*full)->to == b.to);
    CHECK((*full)->last_id == b.last_id);
    CHECK((*full)->events == b.events);
  }
  SECTION("not used from another position or under another recovery mark") {
    counted.read = 0;
    (void)plan_batch(counted, r, 5, BatchLimits{}, &quiet);
    CHECK(counted.read == 18);
    counted.read = 0;
    const Route recovering{kTown, "360723101001", false, 23};
    (void)plan_batch(counted, recovering, 0, BatchLimits{}, &quiet);
    CHECK(counted.read == 23);
  }
}

TEST_CASE("batch plan: a read error is an error", "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101001", 3);
  log.fail_reads = true;
  CHECK_FALSE(plan_batch(log, Route{kTown, "360723101001", false, 0}, 0, BatchLimits{}).ok());
  auto m = cursor_matches(log, CursorValue{"s", 2, Id{kTown, 2}});
  CHECK_FALSE(m.ok());  // not "false": we could not tell
}

TEST_CASE("cursor match: store id and the event at the LSN", "[sync][plan]") {
  sim::MemStore log("s");
  add(log, kTown, "360723101001", 3);
  CHECK(*cursor_matches(log, CursorValue{"", 0, {}}));
  CHECK(*cursor_matches(log, CursorValue{"s", 2, Id{kTown, 2}}));
  CHECK_FALSE(*cursor_matches(log, CursorValue{"s", 2, Id{kTown, 3}}));
  CHECK_FALSE(*cursor_matches(log, CursorValue{"s", 9, Id{kTown, 9}}));  // shorter log
  CHECK_FALSE(*cursor_matches(log, CursorValue{"other", 2, Id{kTown, 2}}));
}

TEST_CASE("authority: what a child may send up, and a parent down", "[sync][plan]") {
  const Authority from_child{kTown, "360723101001", false, false};
  CHECK(authorize(from_child, Id{"360723101001", 1}, "360723101001", false, false));
  CHECK_FALSE(authorize(from_child, Id{"360723101002", 1}, "360723101002", false, false));
  CHECK_FALSE(authorize(from_child, Id{"360723101001", 1}, "360723101002", false, false));
  CHECK_FALSE(authorize(from_child, Id{"360723101001", 1}, "360723101001", true, false));
  // The town's own event, back from a child, only when the town asked.
  CHECK_FALSE(authorize(from_child, Id{kTown, 1}, "360723101001", false, false));
  const Authority recovering{kTown, "360723101001", false, true};
  CHECK(authorize(recovering, Id{kTown, 1}, "360723101001", false, false));
  CHECK_FALSE(authorize(recovering, Id{"360723101002", 1}, "360723101002", false, false));
  const Authority from_parent{kTown, "360723", true, false};
  CHECK(authorize(from_parent, Id{"360723", 1}, "360723101001", false, false));
  CHECK_FALSE(authorize(from_parent, Id{"360723", 1}, "360723102001", false, false));
}
