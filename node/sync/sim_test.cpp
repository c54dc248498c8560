// A county, a township and thirty villages in one process, over a
// simulated network (node/sync/sim.h): the invariants of the multi-process
// sync tests, checked in milliseconds.
#include "node/sync/sim.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace liandong::sync;
using namespace liandong::sync::sim;
using namespace std::chrono_literals;

namespace {

const std::string kCounty = "360723";
const std::string kTown = "360723101";

std::string village(int i) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03d", i);
  return kTown + buf;
}

// County above a township above `villages` villages; each village lists
// the township first, the county as its fallback.
void build_tree(Network& net, int villages) {
  std::vector<std::string> vs;
  for (int i = 1; i <= villages; ++i)
    vs.push_back(village(i));
  std::vector<std::string> county_children = vs;
  county_children.insert(county_children.begin(), kTown);
  net.add(kCounty, {}, county_children);
  net.add(kTown, {kCounty}, vs);
  for (const auto& v : vs)
    net.add(v, {kTown, kCounty}, {});
}

// A working mix of events: villages' own cases, the township's and the
// county's decisions about villages' cases, the county's broadcasts, a
// village's key rotation.
void make_events(Network& net, int villages, std::mt19937_64& rng, int count) {
  std::uniform_int_distribution<int> pick(1, villages), kind(0, 9);
  for (int i = 0; i < count; ++i) {
    const std::string v = village(pick(rng));
    switch (kind(rng)) {
      case 0:
        net.node(kTown).make_event(v);
        break;
      case 1:
        net.node(kCounty).make_event(v);
        break;
      case 2:
        net.node(kCounty).make_event("", true);
        break;
      case 3:
        net.node(kTown).make_event(kTown);
        break;
      case 4:
        net.node(v).make_event(v, false, true);
        break;
      default:
        net.node(v).make_event(v, false, false, static_cast<std::size_t>(kind(rng)) * 40);
    }
  }
}

std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += s + "\n";
  return out;
}

}  // namespace

TEST_CASE("sim: a township and thirty villages converge to the routing rule's sets",
          "[sync][sim]") {
  Network net(1, fast_settings());
  build_tree(net, 30);
  std::mt19937_64 rng(11);
  make_events(net, 30, rng, 600);
  REQUIRE_FALSE(net.check().empty());  // the test can fail
  CHECK(net.run_until_converged(60s));
  INFO(lines(net.check()));
  CHECK(net.check().empty());
  // Every village streams to its township, not the county.
  for (int i = 1; i <= 30; ++i)
    CHECK(net.node(village(i)).policy->active() == std::optional<std::size_t>(0));
  // Events made while the links are up go too.
  make_events(net, 30, rng, 200);
  CHECK(net.run_until_converged(30s));
  INFO(lines(net.check()));
  CHECK(net.check().empty());
}

TEST_CASE(
    "sim: random loss, duplication and reordering over simulated time always converge to the "
    "routing rule's sets, with no duplicates",
    "[sync][sim][property]") {
  for (uint64_t seed : {2u, 3u, 5u, 8u, 13u}) {
    CAPTURE(seed);
    Network net(seed, fast_settings());
    build_tree(net, 30);
    std::mt19937_64 rng(seed * 7 + 1);
    std::uniform_real_distribution<double> p(0, 1);
    net.faults.drop = 0.05 + 0.15 * p(rng);
    net.faults.duplicate = 0.05 + 0.15 * p(rng);
    net.faults.jitter = std::chrono::milliseconds(static_cast<int>(20 + 80 * p(rng)));
    // Events arrive while the network misbehaves.
    for (int round = 0; round < 20; ++round) {
      make_events(net, 30, rng, 15);
      net.run(500ms);
    }
    net.faults = Faults{};
    const bool converged = net.run_until_converged(120s);
    INFO(lines(net.check()));
    CHECK(converged);
    CHECK(net.dropped > 0);
  }
}

TEST_CASE("sim: villages fail over to the county when their township stops, and return",
          "[sync][sim][failover]") {
  Network net(4, fast_settings());
  build_tree(net, 30);
  std::mt19937_64 rng(4);
  make_events(net, 30, rng, 200);
  REQUIRE(net.run_until_converged(60s));
  net.kill(kTown);
  net.run(3s);
  for (int i = 1; i <= 30; ++i) {
    CAPTURE(i);
    CHECK(net.node(village(i)).policy->active() == std::optional<std::size_t>(1));
  }
  // Villages' cases reach the county directly meanwhile.
  std::vector<liandong::Id> made;
  for (int i = 1; i <= 30; ++i)
    made.push_back(net.node(village(i)).make_event(village(i)));
  net.run(3s);
  for (const auto& id : made)
    CHECK(net.node(kCounty).store.holds(id));
  // The township returns: the villages go back to it, and it is brought up
  // to date (once each event, though it came by two paths).
  net.restart(kTown);
  net.run(8s);
  for (int i = 1; i <= 30; ++i) {
    CAPTURE(i);
    CHECK(net.node(village(i)).policy->active() == std::optional<std::size_t>(0));
  }
  CHECK(net.run_until_converged(30s));
  INFO(lines(net.check()));
  CHECK(net.check().empty());
}

TEST_CASE("sim: a township restored from an old copy asks for recovery and gets everything back",
          "[sync][sim][restore]") {
  Network net(6, fast_settings());
  build_tree(net, 30);
  std::mt19937_64 rng(6);
  make_events(net, 30, rng, 200);
  REQUIRE(net.run_until_converged(60s));
  const MemStore copy = net.snapshot(kTown);
  make_events(net, 30, rng, 300);
  REQUIRE(net.run_until_converged(60s));
  const uint64_t before = net.node(kTown).store.end();
  net.restore(kTown, copy);
  REQUIRE(net.node(kTown).store.end() < before);
  CHECK(net.run_until_converged(60s));
  INFO(lines(net.check()));
  CHECK(net.check().empty());
  // It found out from the cursors its peers hold of its log.
  CHECK(net.node(kTown).recovers_sent > 0);
}
