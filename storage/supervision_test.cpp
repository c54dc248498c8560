// storage/supervision.h: the 督办 orders, complaints and 整改 of one case
// read from its events — who answers, by when, on time or late.
#include <catch2/catch.hpp>

#include "storage/store.h"
#include "storage/supervision.h"
#include "storage/test_events.h"

using namespace liandong;
using namespace liandong::storage;
using liandong::test::Forge;
using liandong::test::hlc_at;
using liandong::test::kCounty;
using liandong::test::kTownship;
using liandong::test::kVillage;

namespace {

constexpr uint64_t kDay = 86'400'000;

struct History {
  Forge forge{false};
  Id case_id;
  std::vector<StoredEvent> events;
  uint64_t t = 0;

  History() {
    add(forge.submit(kVillage, kVillage, hlc_at(t)));
    case_id = events.back().view.id();
  }
  Id add(const std::string& sealed) {
    events.push_back(StoredEvent{events.size() + 1, liandong::test::must_parse(sealed)});
    return events.back().view.id();
  }
  // An event of `origin`, `days` after the application.
  Id act(const std::string& origin, int days, const liandong::test::BodyFill& body) {
    return add(forge.act(origin, case_id, kVillage,
                         hlc_at(static_cast<uint64_t>(days) * kDay + 60'000 + ++t), body));
  }
  CaseState state() const {
    std::vector<const EventView*> v;
    for (const auto& e : events)
      v.push_back(&e.view);
    return fold(v);
  }
};

int64_t day(const char* text) {
  return days_from_date(*parse_date(text));
}

}  // namespace

TEST_CASE("supervision: an order is answered by the level holding the case, on time or late",
          "[supervision]") {
  History h;  // day 0 is Wednesday 2023-11-15, China time
  h.act(kVillage, 0, liandong::test::accepted_body("2023-11-24"));
  const Id order = h.act(kCounty, 1, liandong::test::supervised_body("2023-11-17", kVillage));
  const Calendar weekends;
  auto items = supervision_items(h.state(), h.events, weekends);
  REQUIRE(items.size() == 1);
  CHECK(items[0].kind == proto::AnswerTo::ORDER);
  CHECK(items[0].level == kVillage);
  CHECK(items[0].issued_by == kCounty);
  CHECK_FALSE(items[0].answered);
  CHECK_FALSE(items[0].late(day("2023-11-17")));
  CHECK(items[0].late(day("2023-11-18")));
  CHECK(h.state().supervision == 1);

  SECTION("the case moved up: the township holding it now answers") {
    h.act(kVillage, 1, liandong::test::escalated_body(kTownship));
    items = supervision_items(h.state(), h.events, weekends);
    CHECK(items[0].level == kTownship);
  }
  SECTION("answered after its date: late, once") {
    h.act(kVillage, 5, liandong::test::answered_body(order));
    h.act(kVillage, 6, liandong::test::answered_body(order));  // a second answer is ignored
    items = supervision_items(h.state(), h.events, weekends);
    REQUIRE(items[0].answered);
    CHECK(items[0].answered_day == day("2023-11-20"));
    CHECK_FALSE(items[0].on_time());
    CHECK(items[0].late(day("2023-11-30")));
  }
  SECTION("an answer of another kind does not close it") {
    h.act(kVillage, 2, liandong::test::answered_body(order, proto::AnswerTo::COMPLAINT));
    CHECK_FALSE(supervision_items(h.state(), h.events, weekends)[0].answered);
  }
}

TEST_CASE("supervision: a complaint goes to the level above, a poor rating to the decider",
          "[supervision]") {
  History h;
  h.act(kVillage, 0, liandong::test::accepted_body("2023-11-24"));
  const Id complaint = h.act(kCounty, 0, [](proto::Event::Builder ev) {
    auto c = ev.getBody().initComplaint();
    c.setText("代理员多次让我跑腿");
    c.setAgainst(kVillage);
    c.setComplainant("张三");
    c.setChannel("phone");
    c.setDueDate("2023-11-21");
  });
  h.act(kVillage, 1, liandong::test::escalated_body(kTownship));
  h.act(kTownship, 2, liandong::test::decided_body(true));
  h.act(kVillage, 3, liandong::test::delivered_body());
  h.act(kVillage, 3, liandong::test::rated_body(2));
  h.act(kVillage, 4, liandong::test::rated_body(1));  // refused by the fold: rated already
  h.act(kTownship, 4, liandong::test::answered_body(complaint, proto::AnswerTo::COMPLAINT, true));
  const Calendar weekends;
  const auto items = supervision_items(h.state(), h.events, weekends);
  REQUIRE(items.size() == 2);
  CHECK(items[0].kind == proto::AnswerTo::COMPLAINT);
  CHECK(items[0].level == kTownship);
  CHECK(items[0].against == kVillage);
  CHECK(items[0].answered);
  CHECK(items[0].upheld);
  CHECK(items[0].on_time());
  CHECK(items[1].kind == proto::AnswerTo::RECTIFICATION);
  CHECK(items[1].level == kTownship);
  CHECK(items[1].score == 2);
  // Rated on Saturday 2023-11-18: five working days on is Friday 2023-11-24.
  CHECK(items[1].due == "2023-11-24");
  CHECK(complaint_handler(kVillage) == kTownship);
  CHECK(complaint_handler(kTownship) == kCounty);
  CHECK(complaint_handler(kCounty) == kCounty);
}

TEST_CASE("supervision: the revisit sample is one case in ten, the same everywhere",
          "[supervision]") {
  int sampled = 0;
  for (uint64_t seq = 1; seq <= 2000; ++seq)
    sampled += in_revisit_sample(Id{kVillage, seq}) ? 1 : 0;
  CHECK(sampled > 140);
  CHECK(sampled < 260);
  CHECK(in_revisit_sample(Id{kVillage, 7}) == in_revisit_sample(Id{kVillage, 7}));
}
