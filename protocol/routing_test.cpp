#include "protocol/routing.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "protocol/ids.h"

using namespace liandong;

namespace {

// County 360723; townships 360723101 (three villages) and 360723102 (one).
const std::vector<std::string> kTree = {"360723",       "360723101", "360723101007", "360723101008",
                                        "360723101009", "360723102", "360723102001"};

// Which nodes an event reaches when every link forwards by the rule,
// starting from its origin: a flood along the tree.
std::vector<std::string> flood(const RouteKey& ev) {
  std::vector<std::string> reached = {std::string(ev.origin)};
  for (int round = 0; round < 8; ++round) {
    for (std::size_t i = 0; i < reached.size(); ++i) {
      const std::string at = reached[i];
      for (const auto& peer : kTree) {
        bool sends = false;
        if (peer == parent_code(at)) sends = send_up(at, peer, ev);
        if (at == parent_code(peer)) sends = send_down(peer, ev);
        if (sends && std::find(reached.begin(), reached.end(), peer) == reached.end())
          reached.push_back(peer);
      }
    }
  }
  std::sort(reached.begin(), reached.end());
  return reached;
}

std::vector<std::string> expected(const RouteKey& ev) {
  std::vector<std::string> out;
  for (const auto& n : kTree) {
    if (belongs_at(n, ev) || n == ev.origin) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("routing: a case event belongs on the path from its home to the top", "[routing]") {
  const RouteKey ev{"360723101007", "360723101007", false};
  CHECK(belongs_at("360723101007", ev));
  CHECK(belongs_at("360723101", ev));
  CHECK(belongs_at("360723", ev));
  CHECK_FALSE(belongs_at("360723101008", ev));  // a sibling village never holds it
  CHECK_FALSE(belongs_at("360723102", ev));     // nor the other township
}

TEST_CASE("routing: a broadcast belongs to the issuer's whole subtree", "[routing]") {
  const RouteKey catalog{"360723", "360723", true};
  for (const auto& n : kTree)
    CHECK(belongs_at(n, catalog));
  const RouteKey township_notice{"360723101", "360723101", true};
  CHECK(belongs_at("360723101009", township_notice));
  CHECK_FALSE(belongs_at("360723", township_notice));
  CHECK_FALSE(belongs_at("360723102001", township_notice));
}

TEST_CASE("routing: events go up only from their own subtree, never back down to it", "[routing]") {
  const RouteKey village_app{"360723101007", "360723101007", false};
  CHECK(send_up("360723101007", "360723101", village_app));
  CHECK(send_up("360723101", "360723", village_app));
  CHECK_FALSE(send_down("360723101007", village_app));  // never back to its origin

  const RouteKey county_decision{"360723", "360723101007", false};
  CHECK_FALSE(send_up("360723101", "360723", county_decision));  // never back up
  CHECK(send_down("360723101", county_decision));
  CHECK(send_down("360723101007", county_decision));
  CHECK_FALSE(send_down("360723101008", county_decision));  // not the sibling

  const RouteKey township_accept{"360723101", "360723101007", false};
  CHECK(send_up("360723101", "360723", township_accept));
  CHECK(send_down("360723101007", township_accept));
}

TEST_CASE("routing: flooding by the rule reaches exactly the nodes that hold the event",
          "[routing]") {
  for (const auto& origin : kTree) {
    for (const auto& home : kTree) {
      if (!within(home, origin)) continue;  // only nodes on the path act on a case
      const RouteKey ev{origin, home, false};
      INFO("origin " << origin << " home " << home);
      CHECK(flood(ev) == expected(ev));
    }
    const RouteKey bc{origin, origin, true};
    INFO("broadcast from " << origin);
    CHECK(flood(bc) == expected(bc));
  }
}

TEST_CASE("routing: an audit event belongs at its origin and every ancestor only", "[routing]") {
  // Not a broadcast; its home is its origin (event_codec: validate_event).
  const RouteKey village{"360723101007", "360723101007", false};
  CHECK(belongs_at("360723101007", village));
  CHECK(belongs_at("360723101", village));
  CHECK(belongs_at("360723", village));
  CHECK_FALSE(belongs_at("360723101008", village));  // never at a sibling
  CHECK_FALSE(belongs_at("360723102", village));
  CHECK(flood(village) == expected(village));
  CHECK(flood(village) == std::vector<std::string>{"360723", "360723101", "360723101007"});

  const RouteKey township{"360723101", "360723101", false};
  for (const auto& child : {"360723101007", "360723101008", "360723101009"}) {
    CHECK_FALSE(belongs_at(child, township));  // never at a descendant
    CHECK_FALSE(send_down(child, township));
  }
  CHECK(send_up("360723101", "360723", township));
  CHECK(flood(township) == std::vector<std::string>{"360723", "360723101"});

  const RouteKey county{"360723", "360723", false};
  CHECK(flood(county) == std::vector<std::string>{"360723"});
  for (const auto& n : kTree)
    CHECK(belongs_at(n, county) == (n == "360723"));
}
