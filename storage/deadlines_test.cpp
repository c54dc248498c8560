#include "storage/deadlines.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "storage/test_documents.h"
#include "storage/test_events.h"

using namespace liandong;
using namespace liandong::storage;
using liandong::test::kCounty;
using liandong::test::kTownship;
using liandong::test::kVillage;

namespace {

using liandong::test::calendar_2026;

// ms of `hour`:00 China time on a civil date.
uint64_t at(int y, int m, int day, int hour = 10) {
  return static_cast<uint64_t>(days_from_date(Date{y, m, day})) * 86'400'000 +
         static_cast<uint64_t>(hour - 8) * 3'600'000;
}

// One case's history: "who did what, when", in the order written.
class History {
 public:
  explicit History(uint64_t submitted_ms, const std::string& origin = kVillage) {
    add(forge_.submit(origin, kVillage, make_hlc(submitted_ms, 0)));
    case_ = views_.front().id();
  }
  History& then(const std::string& origin, uint64_t ms, const test::BodyFill& body) {
    add(forge_.act(origin, case_, kVillage, make_hlc(ms, 0), body));
    return *this;
  }
  CaseDeadlines at(uint64_t now_ms, const StepLimits& limits = {},
                   const Calendar& cal = Calendar()) const {
    std::vector<const EventView*> ptrs;
    for (const auto& v : views_)
      ptrs.push_back(&v);
    return compute_deadlines(ptrs, limits, cal, now_ms);
  }

 private:
  void add(const std::string& sealed) { views_.push_back(test::must_parse(sealed)); }
  test::Forge forge_{false};
  std::vector<EventView> views_;
  Id case_;
};

const StepDeadline& step(const CaseDeadlines& d, Step s) {
  for (const auto& x : d.steps) {
    if (x.step == s) return x;
  }
  FAIL("no step " << step_name(s));
  static const StepDeadline kNone;
  return kNone;
}

}  // namespace

TEST_CASE("deadlines: the village's forwarding clock runs across a weekend", "[deadlines]") {
  // Submitted Friday 2026-11-20: two working days end Tuesday 11-24.
  History h(at(2026, 11, 20));
  auto d = h.at(at(2026, 11, 20));
  REQUIRE(d.steps.size() == 1);
  const auto& s = d.steps[0];
  CHECK(s.step == Step::village_forward);
  CHECK(s.holder == kVillage);
  CHECK(s.limit == 2);
  CHECK(s.due == Date{2026, 11, 24});
  CHECK(s.flag == DeadlineFlag::ok);
  CHECK(s.days_left == 2);
  CHECK(h.at(at(2026, 11, 22)).open_flag == DeadlineFlag::ok);       // Sunday: 2 left
  CHECK(h.at(at(2026, 11, 23)).open_flag == DeadlineFlag::warning);  // Monday: 1 left
  CHECK(h.at(at(2026, 11, 24, 23)).open_flag == DeadlineFlag::warning);
  auto late = h.at(at(2026, 11, 25, 9));
  CHECK(late.open_flag == DeadlineFlag::overdue);
  CHECK(late.steps[0].days_left == -1);
}

TEST_CASE("deadlines: a public holiday is not counted", "[deadlines]") {
  const Calendar cal = calendar_2026();
  // Submitted the day before 国庆节: due Friday 10-09, not Friday 10-02.
  History h(at(2026, 9, 30));
  CHECK(step(h.at(at(2026, 9, 30), {}, cal), Step::village_forward).due == Date{2026, 10, 9});
  CHECK(h.at(at(2026, 10, 6), {}, cal).open_flag == DeadlineFlag::ok);
  CHECK(h.at(at(2026, 10, 6), {}, Calendar()).open_flag == DeadlineFlag::overdue);
  SECTION("forwarded on the first working day after the holiday: done in time") {
    h.then(kVillage, at(2026, 10, 8), test::escalated_body(kTownship));
    auto d = h.at(at(2026, 10, 20), {}, cal);
    const auto& f = step(d, Step::village_forward);
    CHECK(f.done);
    CHECK(f.flag == DeadlineFlag::ok);
    CHECK(!d.late);
  }
}

TEST_CASE("deadlines: a make-up working day (调休) counts", "[deadlines]") {
  const Calendar cal = calendar_2026();
  // Friday 10-09 + 2: Saturday 10-10 is worked, so due Monday 10-12.
  History h(at(2026, 10, 9));
  CHECK(step(h.at(at(2026, 10, 9), {}, cal), Step::village_forward).due == Date{2026, 10, 12});
  CHECK(step(h.at(at(2026, 10, 9)), Step::village_forward).due == Date{2026, 10, 13});
  // Monday 10-12 is the last day: warning, not overdue; Tuesday: overdue.
  CHECK(h.at(at(2026, 10, 12), {}, cal).open_flag == DeadlineFlag::warning);
  CHECK(h.at(at(2026, 10, 13), {}, cal).open_flag == DeadlineFlag::overdue);
}

TEST_CASE("deadlines: each level's clock runs on its own events", "[deadlines]") {
  StepLimits limits;
  limits.township_handle = 5;
  SECTION("a village offline for three days is not blamed for the township's delay") {
    // The village forwards on Tuesday while offline; the township stores
    // it on Friday (its receipt) and decides three weeks later.
    History h(at(2026, 11, 2));
    h.then(kVillage, at(2026, 11, 3), test::escalated_body(kTownship));
    h.then(kTownship, at(2026, 11, 6), test::received_body());
    h.then(kTownship, at(2026, 11, 24), test::decided_body());
    auto d = h.at(at(2026, 11, 25), limits);
    const auto& f = step(d, Step::village_forward);
    CHECK(f.done);
    CHECK(f.done_ms == at(2026, 11, 3));
    CHECK(f.flag == DeadlineFlag::ok);
    const auto& t = step(d, Step::township_handle);
    CHECK(t.holder == kTownship);
    CHECK(t.started_ms == at(2026, 11, 6));
    CHECK(t.due == Date{2026, 11, 13});
    CHECK(t.done);
    CHECK(t.flag == DeadlineFlag::overdue);
    CHECK(d.late);
    // The township holds its own decision at once; the village point's
    // clock waits for the result to be stored there.
    const auto& r = step(d, Step::township_reply);
    CHECK(r.done);
    CHECK(r.flag == DeadlineFlag::ok);
    for (const auto& x : d.steps)
      CHECK(x.step != Step::village_notify);
    CHECK(d.open_flag == DeadlineFlag::ok);
    SECTION("the village, offline when the result came back, stores it a week later") {
      h.then(kVillage, at(2026, 12, 1), test::received_body());
      auto back = h.at(at(2026, 12, 2), limits);
      const auto& v = step(back, Step::village_notify);
      CHECK(v.started_ms == at(2026, 12, 1));
      CHECK(v.due == Date{2026, 12, 3});
      CHECK(v.flag == DeadlineFlag::warning);
      CHECK(step(back, Step::township_reply).flag == DeadlineFlag::ok);
    }
  }
  SECTION("the township is not blamed for the village's delay") {
    // The village sits on the case for a week, then goes offline; the
    // township decides the day the case arrives.
    History h(at(2026, 11, 2));
    h.then(kVillage, at(2026, 11, 9), test::escalated_body(kTownship));
    h.then(kTownship, at(2026, 11, 12), test::decided_body());
    auto d = h.at(at(2026, 11, 12, 18), limits);
    CHECK(step(d, Step::village_forward).flag == DeadlineFlag::overdue);
    CHECK(step(d, Step::township_handle).flag == DeadlineFlag::ok);
  }
  SECTION("an open step is judged against today") {
    History h(at(2026, 11, 2));
    h.then(kVillage, at(2026, 11, 3), test::escalated_body(kTownship));
    // Not yet stored at the township: the case is the link's (在途).
    auto transit = h.at(at(2026, 11, 11), limits);
    CHECK(transit.steps.size() == 1);
    CHECK(transit.open_flag == DeadlineFlag::ok);
    h.then(kTownship, at(2026, 11, 3, 11), test::received_body());
    auto d = h.at(at(2026, 11, 11), limits);
    CHECK(step(d, Step::village_forward).flag == DeadlineFlag::ok);
    CHECK(step(d, Step::township_handle).flag == DeadlineFlag::overdue);
    CHECK(d.open_flag == DeadlineFlag::overdue);
  }
}

TEST_CASE("deadlines: an escalated case runs through every step", "[deadlines]") {
  StepLimits limits;
  limits.township_handle = 3;
  limits.county_decide = 10;
  History h(at(2026, 11, 2));
  h.then(kVillage, at(2026, 11, 3), test::escalated_body(kTownship));
  h.then(kTownship, at(2026, 11, 3, 11), test::received_body());
  h.then(kTownship, at(2026, 11, 4), test::escalated_body(kCounty));
  h.then(kCounty, at(2026, 11, 4, 11), test::received_body());
  h.then(kCounty, at(2026, 11, 16), test::assigned_body({"林业局"}));
  h.then(kCounty, at(2026, 11, 17), test::decided_body());
  auto mid = h.at(at(2026, 11, 18), limits);
  CHECK(step(mid, Step::county_decide).holder == kCounty);
  CHECK(step(mid, Step::county_decide).due == Date{2026, 11, 18});
  CHECK(step(mid, Step::county_decide).flag == DeadlineFlag::ok);
  CHECK(step(mid, Step::township_reply).holder == kTownship);
  CHECK(!step(mid, Step::township_reply).done);
  // The township stores the county's decision: its part of the return
  // is done; the village point acts on the result before its receipt is
  // held (a store from before receipts): the reply leg ends and the
  // village's own two days start.
  h.then(kTownship, at(2026, 11, 17, 12), test::received_body());
  CHECK(step(h.at(at(2026, 11, 18), limits), Step::township_reply).done);
  h.then(kVillage, at(2026, 11, 19), test::comment_body("已收到县林业局批复"));
  auto after = h.at(at(2026, 11, 23), limits);
  CHECK(step(after, Step::township_reply).done);
  const auto& v = step(after, Step::village_notify);
  CHECK(v.holder == kVillage);
  CHECK(v.due == Date{2026, 11, 23});
  CHECK(after.open_flag == DeadlineFlag::warning);
  h.then(kVillage, at(2026, 11, 23), test::delivered_body());
  auto done = h.at(at(2026, 11, 30), limits);
  CHECK(done.open_flag == DeadlineFlag::ok);
  CHECK(!done.late);
  REQUIRE(done.steps.size() == 5);
  for (const auto& s : done.steps)
    CHECK(s.done);
}

TEST_CASE("deadlines: waiting for materials (补正) stops the clock", "[deadlines]") {
  History h(at(2026, 11, 2));
  h.then(kVillage, at(2026, 11, 2, 11), test::supplement_requested_body());
  auto waiting = h.at(at(2026, 11, 20));
  CHECK(step(waiting, Step::village_forward).paused);
  CHECK(waiting.open_flag == DeadlineFlag::ok);
  h.then(kVillage, at(2026, 11, 20), test::supplemented_body());
  auto d = h.at(at(2026, 11, 23));
  CHECK(step(d, Step::village_forward).due == Date{2026, 11, 24});
  CHECK(d.open_flag == DeadlineFlag::warning);
}

TEST_CASE("deadlines: zero limits never warn, a withdrawal ends every step", "[deadlines]") {
  History h(at(2026, 11, 2));
  h.then(kVillage, at(2026, 11, 3), test::escalated_body(kTownship));
  h.then(kTownship, at(2026, 11, 3, 11), test::received_body());
  auto d = h.at(at(2027, 1, 1));
  CHECK(!step(d, Step::township_handle).due);
  CHECK(d.open_flag == DeadlineFlag::ok);
  StepLimits none{0, 0, 0, 0, 0};
  CHECK(History(at(2026, 11, 2)).at(at(2027, 1, 1), none).open_flag == DeadlineFlag::ok);
  History w(at(2026, 11, 2));
  w.then(kVillage, at(2026, 11, 3), test::withdrawn_body());
  auto wd = w.at(at(2027, 1, 1));
  CHECK(wd.open_flag == DeadlineFlag::ok);
  CHECK(wd.steps[0].done);
}
