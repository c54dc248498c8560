// Unit tests of the case state machine (storage/case_fold): the transition
// table from every reachable status, the special rules, conflicts and their
// settling, and the property that the fold of a set of events does not
// depend on the order the events arrived in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "storage/case_fold.h"
#include "storage/test_events.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;
using S = CaseStatus;
using K = EventKind;

namespace {

std::string describe(const CaseState& s) {
  std::ostringstream o;
  o << "{case " << format_id(s.case_id) << " " << status_name(s.status) << " prior "
    << status_name(s.prior) << " handler " << s.handler << (s.conflict ? " CONFLICT[" : " [");
  for (const auto& c : s.conflicts)
    o << format_id(c) << " ";
  o << "] depts[";
  for (const auto& d : s.departments)
    o << d << " ";
  o << "] opinions[";
  for (const auto& op : s.opinions)
    o << op.department << (op.approve ? "+ " : "- ");
  o << "] decided " << s.has_decision << "/" << s.approved << " rating " << int(s.rating) << " fee "
    << s.fee_collected << "/" << s.fee_due << " complaints " << s.complaints << " events "
    << s.event_count << " last " << s.last.hlc << ":" << format_id(s.last.id) << "}";
  return o.str();
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<liandong::storage::CaseState> {
  static std::string convert(const liandong::storage::CaseState& s) { return describe(s); }
};
}  // namespace Catch

namespace {

// One case's history, written event by event; each new event is stamped
// 10 ms after the previous one unless a test stamps it itself.
class History {
 public:
  explicit History(Forge& forge, std::string home = kVillage)
      : forge_(forge), home_(std::move(home)) {}

  // The application, made at the village point where the case is homed.
  const EventView& submit(const BodyFill& body = submitted_body()) {
    const EventView& v = keep(must_parse(forge_.submit(home_, home_, tick(), body)));
    case_ = v.id();
    return v;
  }
  // For a case whose application has not arrived.
  void expect_case(const Id& id) { case_ = id; }

  const EventView& act(const std::string& origin, const BodyFill& body,
                       std::vector<Id> settles = {}) {
    return keep(make(origin, body, std::move(settles)));
  }
  // An event made now, not part of the history (yet).
  EventView make(const std::string& origin, const BodyFill& body, std::vector<Id> settles = {},
                 std::optional<uint64_t> hlc = std::nullopt) {
    return must_parse(
        forge_.act(origin, case_, home_, hlc ? *hlc : tick(), body, std::move(settles)));
  }
  const EventView& keep(EventView v) {
    events_.push_back(std::move(v));
    return events_.back();
  }

  std::vector<const EventView*> views() const {
    std::vector<const EventView*> out;
    for (const auto& e : events_)
      out.push_back(&e);
    return out;
  }
  CaseState state() const { return fold(views()); }
  const Id& case_id() const { return case_; }
  const std::string& home() const { return home_; }
  Forge& forge() { return forge_; }
  uint64_t tick() { return hlc_at(10 * ++t_); }

 private:
  Forge& forge_;
  std::string home_;
  Id case_;
  uint64_t t_ = 0;
  std::deque<EventView> events_;
};

// Drives `h` through a real event sequence to `target`: the village takes
// the application, the township accepts and escalates to the county, the
// county assigns it to forestry (林业) and decides, the village delivers and
// closes.
void reach(History& h, S target) {
  if (target == S::incomplete) {
    h.expect_case(Id{kVillage, 999});
    h.act(kTownship, accepted_body());
    return;
  }
  h.submit();
  if (target == S::submitted) return;
  if (target == S::supplement_requested) {
    h.act(kTownship, supplement_requested_body());
    return;
  }
  if (target == S::withdrawn) {
    h.act(kVillage, withdrawn_body());
    return;
  }
  if (target == S::not_accepted) {
    h.act(kTownship, not_accepted_body());
    return;
  }
  h.act(kTownship, accepted_body());
  if (target == S::accepted) return;
  h.act(kTownship, escalated_body(kCounty));
  if (target == S::escalated) return;
  h.act(kCounty, assigned_body({"林业"}));
  if (target == S::assigned) return;
  h.act(kCounty, decided_body());
  if (target == S::decided) return;
  h.act(kVillage, delivered_body());
  if (target == S::delivered) return;
  h.act(kVillage, closed_body());
}

// The event of kind `k` a node would plausibly make next for a case in `st`.
EventView candidate(History& h, const CaseState& st, K k) {
  switch (k) {
    case K::submitted: {
      // The application again under the case's own id, with other content
      // (a re-signed copy): the only `submitted` that can name this case.
      const Id id = h.case_id();
      return must_parse(
          h.forge().make(Head{.id = id, .case_id = id, .home = h.home(), .hlc = h.tick()},
                         submitted_body("李四")));
    }
    case K::accepted:
      return h.make(kTownship, accepted_body());
    case K::supplement_requested:
      return h.make(kTownship, supplement_requested_body());
    case K::supplemented:
      return h.make(kVillage, supplemented_body());
    case K::escalated: {
      const std::string from = st.handler.empty() ? kTownship : st.handler;
      return h.make(from, escalated_body(parent_code(from)));
    }
    case K::assigned:
      return h.make(kCounty, assigned_body({"林业"}));
    case K::opinion: {
      std::string dept = "林业";
      for (const auto& d : st.departments) {
        const bool given = std::any_of(st.opinions.begin(), st.opinions.end(),
                                       [&](const DeptOpinion& o) { return o.department == d; });
        if (!given) {
          dept = d;
          break;
        }
      }
      return h.make(kCounty, opinion_body(dept));
    }
    case K::decided:
      return h.make(kCounty, decided_body());
    case K::delivered:
      return h.make(kVillage, delivered_body());
    case K::rated:
      return h.make(kVillage, rated_body(5));
    case K::fee_collected:
      return h.make(kVillage, fee_collected_body());
    case K::closed:
      return h.make(kVillage, closed_body());
    case K::withdrawn:
      return h.make(kVillage, withdrawn_body());
    case K::comment:
      return h.make(kTownship, comment_body());
    case K::complaint:
      return h.make(kVillage, complaint_body());
    case K::replied:
      return h.make(kCounty, replied_body());
    case K::catalog_published:
      return must_parse(h.forge().broadcast(kCounty, h.tick(), catalog_body()));
    case K::calendar_published:
      return must_parse(h.forge().broadcast(kCounty, h.tick(), calendar_body()));
    case K::audit:  // no case, home = origin: made like a broadcast
      return must_parse(h.forge().broadcast(kTownship, h.tick(), audit_body()));
    case K::key_rotated: {  // no case, home = origin: made like a broadcast
      const SigningKey next = generate_signing_key();
      return must_parse(h.forge().broadcast(
          kTownship, h.tick(), rotated_body(kTownship, h.forge().key(kTownship), next)));
    }
    case K::roster_published:
      return must_parse(h.forge().broadcast(kCounty, h.tick(), [](proto::Event::Builder ev) {
        ev.getBody().initRosterPublished().setVersion(1);
      }));
    case K::divisions_published:
      return must_parse(h.forge().broadcast(kCounty, h.tick(), [](proto::Event::Builder ev) {
        ev.getBody().initDivisionsPublished().setVersion(1);
      }));
    case K::keys_published:
      return must_parse(h.forge().broadcast(
          kCounty, h.tick(),
          keys_body(kVillage, generate_signing_key().pub, proto::KeyState::REVOKED, 3, "stolen")));
    case K::not_accepted:
      return h.make(kTownship, not_accepted_body());
    case K::received:
      return h.make(kTownship, received_body());
    case K::supervised:
      return h.make(kCounty, supervised_body());
    case K::answered:
      return h.make(kVillage, answered_body(Id{kCounty, 1}));
  }
  throw std::logic_error("unknown kind");
}

// The transition table, written from the workflow (DESIGN.md, DOMAIN.md):
// which event kinds a node may add to a case in each status. The cases here
// hold a 容缺 material (土地承包合同, LATER) not yet supplied, so a
// supplement may follow while the case is handled, until it is closed.
const std::map<S, std::set<K>>& allowed_table() {
  static const std::map<S, std::set<K>> table = {
      {S::incomplete, {K::submitted}},
      {S::submitted,
       {K::accepted, K::supplement_requested, K::supplemented, K::escalated, K::withdrawn,
        K::comment, K::complaint, K::received, K::replied, K::not_accepted, K::supervised,
        K::answered}},
      {S::supplement_requested,
       {K::supplemented, K::withdrawn, K::comment, K::complaint, K::received, K::not_accepted,
        K::supervised, K::answered}},
      {S::accepted,
       {K::supplement_requested, K::supplemented, K::escalated, K::assigned, K::decided,
        K::fee_collected, K::withdrawn, K::comment, K::complaint, K::received, K::replied,
        K::supervised, K::answered}},
      {S::escalated,
       {K::supplement_requested, K::supplemented, K::escalated, K::assigned, K::decided,
        K::fee_collected, K::withdrawn, K::comment, K::complaint, K::received, K::replied,
        K::supervised, K::answered}},
      {S::assigned,
       {K::supplement_requested, K::supplemented, K::assigned, K::opinion, K::decided,
        K::fee_collected, K::withdrawn, K::comment, K::complaint, K::received, K::replied,
        K::supervised, K::answered}},
      {S::decided,
       {K::supplemented, K::delivered, K::fee_collected, K::comment, K::complaint, K::received,
        K::supervised, K::answered}},
      {S::delivered,
       {K::supplemented, K::rated, K::fee_collected, K::closed, K::comment, K::complaint,
        K::received, K::supervised, K::answered}},
      {S::closed, {K::rated, K::comment, K::complaint, K::received, K::answered}},
      {S::withdrawn, {K::comment, K::complaint, K::received, K::answered}},
      {S::not_accepted, {K::comment, K::complaint, K::received, K::answered}},
  };
  return table;
}

// The status an allowed event leads to.
S next_status(const CaseState& st, K k) {
  static const std::map<K, S> moves = {{K::submitted, S::submitted},
                                       {K::accepted, S::accepted},
                                       {K::supplement_requested, S::supplement_requested},
                                       {K::escalated, S::escalated},
                                       {K::assigned, S::assigned},
                                       {K::decided, S::decided},
                                       {K::replied, S::decided},
                                       {K::delivered, S::delivered},
                                       {K::closed, S::closed},
                                       {K::withdrawn, S::withdrawn},
                                       {K::not_accepted, S::not_accepted}};
  // The candidate supplies what the request named: the case goes on.
  if (k == K::supplemented) return st.status == S::supplement_requested ? st.prior : st.status;
  auto it = moves.find(k);
  return it == moves.end() ? st.status : it->second;
}

// `st` after a refused event: only the conflict bookkeeping changes.
CaseState refused_into(CaseState st, const EventView& ev) {
  st.conflict = true;
  st.conflicts.push_back(ev.id());
  ++st.event_count;
  st.last = order_key(ev);
  return st;
}

}  // namespace

// ---- the transition table ---------------------------------------------------

TEST_CASE("fold: every reachable status allows exactly the table's events", "[fold]") {
  std::size_t pairs = 0;
  for (int si = 0; si < kCaseStatusCount; ++si) {
    const S status = static_cast<S>(si);
    CAPTURE(status_name(status));
    Forge forge(false);
    History h(forge);
    reach(h, status);
    const CaseState st = h.state();
    REQUIRE(st.status == status);
    REQUIRE_FALSE(st.conflict);
    const auto& allowed = allowed_table().at(status);
    for (int ki = 0; ki < kEventKindCount; ++ki) {
      const K kind = static_cast<K>(ki);
      CAPTURE(kind_name(kind));
      const EventView ev = candidate(h, st, kind);
      REQUIRE(ev.kind() == kind);
      const bool ok = allowed.count(kind) > 0;
      const Status s = check(&st, ev);
      CAPTURE(s.to_string());
      CHECK(s.is_ok() == ok);
      ++pairs;
      if (!ok) {
        CHECK_FALSE(s.message().empty());
        if (!names_case(kind)) {
          CHECK(s.code() == Code::invalid);
        } else if (status == S::incomplete) {
          CHECK(s.code() == Code::not_found);
        } else {
          CHECK(s.code() == Code::invalid);
        }
      }
      if (status == S::incomplete) {
        // No state at all behaves like a state still waiting for its application.
        const Status none = check(nullptr, ev);
        CHECK(none.is_ok() == s.is_ok());
        CHECK(none.code() == s.code());
      }
      if (!names_case(kind)) continue;  // never folded into a case

      CaseState after = st;
      apply(after, ev);
      CHECK(after.event_count == st.event_count + 1);
      CHECK(after.last == order_key(ev));
      if (status == S::incomplete && kind != K::submitted) {
        // Held until the application arrives: not a conflict.
        CHECK(after.status == S::incomplete);
        CHECK_FALSE(after.conflict);
      } else if (ok) {
        CHECK_FALSE(after.conflict);
        CHECK(after.status == next_status(st, kind));
      } else {
        CHECK(after == refused_into(st, ev));
      }
    }
  }
  CHECK(pairs == std::size_t{kCaseStatusCount} * kEventKindCount);
}

TEST_CASE("fold: the happy path of an escalated joint case reaches closed", "[fold]") {
  Forge forge(false);
  History h(forge);
  const EventView& sub = h.submit(submitted_body("张三", "农村宅基地建房", 5000));
  h.act(kTownship, accepted_body("2023-11-24"));
  h.act(kTownship, escalated_body(kCounty));
  h.act(kCounty, assigned_body({"国土", "林业"}));
  h.act(kCounty, opinion_body("国土", true));
  h.act(kCounty, opinion_body("林业", false));
  h.act(kCounty, decided_body(true));
  h.act(kVillage, fee_collected_body(2000));
  h.act(kVillage, fee_collected_body(3000));
  h.act(kVillage, delivered_body());
  h.act(kVillage, rated_body(4));
  h.act(kVillage, complaint_body());
  h.act(kVillage, closed_body());
  const CaseState st = h.state();
  INFO(describe(st));
  CHECK(st.status == S::closed);
  CHECK_FALSE(st.conflict);
  CHECK(st.case_id == sub.id());
  CHECK(st.home == kVillage);
  CHECK(st.applicant_name == "张三");
  CHECK(st.item_name == "农村宅基地建房");
  CHECK(st.handler == kCounty);
  CHECK(st.due_date == "2023-11-24");
  CHECK(st.departments == std::vector<std::string>{"国土", "林业"});
  REQUIRE(st.opinions.size() == 2);
  CHECK(st.opinions[1].department == "林业");
  CHECK_FALSE(st.opinions[1].approve);
  CHECK(st.has_decision);
  CHECK(st.approved);
  CHECK(st.fee_due == 5000);
  CHECK(st.fee_collected == 5000);
  CHECK(st.rating == 4);
  CHECK(st.complaints == 1);
  CHECK(st.event_count == 13);
  CHECK(st.submitted_hlc == sub.hlc());
  CHECK(st.accepted_hlc > st.submitted_hlc);
  CHECK(st.decided_hlc > st.accepted_hlc);
  CHECK(st.delivered_hlc > st.decided_hlc);
  CHECK(st.closed_hlc > st.delivered_hlc);
}

// ---- special rules ------------------------------------------------------------

TEST_CASE("fold: escalation goes only to a higher level on the case's path", "[fold]") {
  Forge forge(false);
  History h(forge);
  h.submit();
  SECTION("from the village point, any level above it on the path") {
    const CaseState st = h.state();
    REQUIRE(st.handler == kVillage);
    for (const std::string& to : {kTownship, kCounty, std::string("3607"), std::string("36")}) {
      CAPTURE(to);
      CHECK(check(&st, h.make(kVillage, escalated_body(to))));
    }
  }
  SECTION("after the township accepted: above the township only") {
    h.act(kTownship, accepted_body());
    const CaseState st = h.state();
    REQUIRE(st.handler == kTownship);
    CHECK(check(&st, h.make(kTownship, escalated_body(kCounty))));
    CHECK(check(&st, h.make(kTownship, escalated_body("3607"))));
    for (const std::string& to :
         {kTownship, kVillage, std::string("360723102"), std::string("360723101008"),
          std::string("360724"), std::string("3608"), std::string("37")}) {
      CAPTURE(to);
      const Status s = check(&st, h.make(kTownship, escalated_body(to)));
      CHECK(s.code() == Code::invalid);
      CHECK_THAT(s.message(), Catch::Contains("escalation must go"));
    }
  }
  SECTION("once at the county, only the city or province is above") {
    h.act(kTownship, accepted_body());
    h.act(kTownship, escalated_body(kCounty));
    const CaseState st = h.state();
    REQUIRE(st.handler == kCounty);
    CHECK_FALSE(check(&st, h.make(kCounty, escalated_body(kCounty))));
    CHECK_FALSE(check(&st, h.make(kCounty, escalated_body(kTownship))));
    CHECK(check(&st, h.make(kCounty, escalated_body("3607"))));
  }
  SECTION("applied anyway, a wrong escalation is a conflict and changes no handler") {
    h.act(kTownship, accepted_body());
    const CaseState before = h.state();
    const EventView& bad = h.act(kTownship, escalated_body("360723102"));
    const CaseState st = h.state();
    CHECK(st == refused_into(before, bad));
    CHECK(st.handler == kTownship);
  }
}

TEST_CASE("fold: only an assigned department gives an opinion, and only once", "[fold]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::escalated);
  h.act(kCounty, assigned_body({"林业", "国土"}));
  CaseState st = h.state();
  const Status stranger = check(&st, h.make(kCounty, opinion_body("民政")));
  CHECK_THAT(stranger.message(), Catch::Contains("not assigned"));
  CHECK(check(&st, h.make(kCounty, opinion_body("林业"))));
  const EventView& first = h.act(kCounty, opinion_body("林业"));
  st = h.state();
  REQUIRE(st.opinions.size() == 1);
  CHECK(st.opinions[0].event == first.id());
  const Status again = check(&st, h.make(kCounty, opinion_body("林业", false)));
  CHECK(again.code() == Code::invalid);
  CHECK_THAT(again.message(), Catch::Contains("already given"));
  CHECK(check(&st, h.make(kCounty, opinion_body("国土"))));

  SECTION("a second opinion that raced in is kept as a conflict") {
    const EventView& dup = h.act(kCounty, opinion_body("林业", false));
    const CaseState after = h.state();
    CHECK(after == refused_into(st, dup));
    CHECK(after.opinions.size() == 1);
    CHECK(after.opinions[0].approve);
  }
  SECTION("no opinion before the case is assigned") {
    Forge f2(false);
    History fresh(f2);
    reach(fresh, S::escalated);
    const CaseState esc = fresh.state();
    CHECK_FALSE(check(&esc, fresh.make(kCounty, opinion_body("林业"))));
  }
}

TEST_CASE("fold: a joint case is decided only after every department's opinion", "[fold]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::escalated);
  SECTION("one department is not a joint case: no opinion needed") {
    h.act(kCounty, assigned_body({"林业"}));
    const CaseState st = h.state();
    CHECK(check(&st, h.make(kCounty, decided_body())));
  }
  SECTION("two departments: both opinions first, whatever they say") {
    h.act(kCounty, assigned_body({"林业", "国土"}));
    CaseState st = h.state();
    Status s = check(&st, h.make(kCounty, decided_body()));
    CHECK(s.code() == Code::invalid);
    CHECK_THAT(s.message(), Catch::Contains("joint case"));
    h.act(kCounty, opinion_body("国土", false));
    st = h.state();
    CHECK_FALSE(check(&st, h.make(kCounty, decided_body())));
    h.act(kCounty, opinion_body("林业", true));
    st = h.state();
    CHECK(check(&st, h.make(kCounty, decided_body(false))));

    SECTION("a department added later must give its opinion too") {
      h.act(kCounty, assigned_body({"民政"}));
      st = h.state();
      CHECK(st.departments.size() == 3);
      CHECK_FALSE(check(&st, h.make(kCounty, decided_body())));
      h.act(kCounty, opinion_body("民政"));
      st = h.state();
      CHECK(check(&st, h.make(kCounty, decided_body())));
    }
  }
  SECTION("a decision that raced ahead of the opinions is a conflict") {
    h.act(kCounty, assigned_body({"林业", "国土"}));
    h.act(kCounty, opinion_body("林业"));
    const CaseState st = h.state();
    const EventView& early = h.act(kCounty, decided_body());
    CHECK(h.state() == refused_into(st, early));
    CHECK(h.state().status == S::assigned);
  }
}

TEST_CASE("fold: a case is rated once", "[fold]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::delivered);
  CaseState st = h.state();
  CHECK(check(&st, h.make(kVillage, rated_body(3))));
  h.act(kVillage, rated_body(3));
  st = h.state();
  CHECK(st.rating == 3);
  const Status again = check(&st, h.make(kVillage, rated_body(5)));
  CHECK_THAT(again.message(), Catch::Contains("already been rated"));
  SECTION("closing does not reopen the rating") {
    h.act(kVillage, closed_body());
    st = h.state();
    CHECK_FALSE(check(&st, h.make(kVillage, rated_body(5))));
  }
  SECTION("a second rating applied anyway is a conflict and keeps the first") {
    const EventView& second = h.act(kVillage, rated_body(1));
    CHECK(h.state() == refused_into(st, second));
    CHECK(h.state().rating == 3);
  }
  SECTION("a case closed unrated may still be rated (回访)") {
    Forge f2(false);
    History closed(f2);
    reach(closed, S::closed);
    const CaseState c = closed.state();
    CHECK(check(&c, closed.make(kVillage, rated_body(5))));
  }
}

TEST_CASE("fold: supplemented returns the case to the status it had before 补正", "[fold]") {
  for (S prior : {S::submitted, S::accepted, S::escalated, S::assigned}) {
    CAPTURE(status_name(prior));
    Forge forge(false);
    History h(forge);
    reach(h, prior);
    h.act(kTownship, supplement_requested_body({"身份证复印件", "户口簿"}));
    CaseState st = h.state();
    CHECK(st.status == S::supplement_requested);
    CHECK(st.prior == prior);
    auto state_of = [&](const std::string& name) {
      for (const auto& m : st.materials)
        if (m.name == name) return std::optional(m.state);
      return std::optional<proto::MaterialState>();
    };
    CHECK(state_of("户口簿") == proto::MaterialState::MISSING);
    CHECK(state_of("身份证复印件") == proto::MaterialState::MISSING);
    // While waiting for materials the case does not move on.
    CHECK_FALSE(check(&st, h.make(kTownship, accepted_body())));
    CHECK_FALSE(check(&st, h.make(kCounty, decided_body())));
    h.act(kVillage, supplemented_body({"身份证复印件", "户口簿"}));
    st = h.state();
    CHECK(st.status == prior);
    CHECK_FALSE(st.conflict);
    CHECK(state_of("户口簿") == proto::MaterialState::PROVIDED);
    CHECK(state_of("身份证复印件") == proto::MaterialState::PROVIDED);
  }
}

// ---- conflicts ------------------------------------------------------------------

TEST_CASE("fold: a case in conflict refuses every event that does not settle it", "[fold]") {
  Forge forge(false);
  History h(forge);
  h.submit();
  // Village and township both accept while out of touch (两头受理).
  const uint64_t t = h.tick();
  const EventView& by_township = h.keep(h.make(kTownship, accepted_body(), {}, t));
  const EventView& by_village = h.keep(h.make(kVillage, accepted_body(), {}, t));
  CaseState st = h.state();
  INFO(describe(st));
  REQUIRE(st.conflict);
  // Same hlc: the county-side origin code sorts first and wins.
  REQUIRE(st.conflicts == std::vector<Id>{by_village.id()});
  CHECK(st.status == S::accepted);
  (void)by_township;

  for (int ki = 0; ki < kEventKindCount; ++ki) {
    const K kind = static_cast<K>(ki);
    CAPTURE(kind_name(kind));
    const Status s = check(&st, candidate(h, st, kind));
    CHECK_FALSE(s);
    if (names_case(kind)) CHECK_THAT(s.message(), Catch::Contains("conflict"));
  }

  SECTION("an event naming every conflict settles it") {
    const EventView settle = h.make(kTownship, comment_body("以乡镇受理为准"), {by_village.id()});
    CHECK(check(&st, settle));
    h.keep(h.make(kTownship, comment_body("以乡镇受理为准"), {by_village.id()}));
    st = h.state();
    CHECK_FALSE(st.conflict);
    CHECK(st.conflicts.empty());
    CHECK(st.status == S::accepted);
    CHECK(check(&st, h.make(kTownship, escalated_body(kCounty))));
  }
  SECTION("naming only some of the conflicts settles nothing") {
    const EventView& stray = h.act(kVillage, closed_body());  // refused: second conflict
    st = h.state();
    REQUIRE(st.conflicts == std::vector<Id>{by_village.id(), stray.id()});
    CHECK_FALSE(check(&st, h.make(kTownship, comment_body(), {by_village.id()})));
    CHECK_FALSE(check(&st, h.make(kTownship, comment_body(), {stray.id()})));
    CHECK_FALSE(check(&st, h.make(kTownship, comment_body(), {Id{kCounty, 77}})));
    CHECK(check(&st, h.make(kTownship, comment_body(), {stray.id(), by_village.id()})));
    // Applied anyway, a partial settle changes nothing about the conflict.
    const EventView& partial = h.act(kTownship, comment_body(), {by_village.id()});
    const CaseState after = h.state();
    CHECK(after.conflicts == st.conflicts);
    CHECK(after.event_count == st.event_count + 1);
    CHECK(after.last == order_key(partial));
  }
  SECTION("a settling event that cannot apply itself becomes the only conflict") {
    const EventView& wrong = h.act(kVillage, delivered_body(), {by_village.id()});
    st = h.state();
    CHECK(st.conflict);
    CHECK(st.conflicts == std::vector<Id>{wrong.id()});
    CHECK(st.status == S::accepted);
  }
}

TEST_CASE("fold: a withdrawal that raced a decision is kept, flagged, and can be settled",
          "[fold]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::accepted);
  const uint64_t t = h.tick();
  SECTION("the decision first: the withdrawal is the conflict; withdrawing again settles it") {
    const EventView& decided = h.keep(h.make(kCounty, decided_body(), {}, t));
    const EventView& withdrawn = h.keep(h.make(kVillage, withdrawn_body(), {}, t + 1));
    CaseState st = h.state();
    CHECK(st.status == S::decided);
    CHECK(st.conflicts == std::vector<Id>{withdrawn.id()});
    // Without the conflict, withdrawing a decided case is not allowed.
    {
      Forge f2(false);
      History plain(f2);
      reach(plain, S::decided);
      const CaseState d = plain.state();
      CHECK_FALSE(check(&d, plain.make(kVillage, withdrawn_body())));
    }
    const EventView settle = h.make(kVillage, withdrawn_body(), {withdrawn.id()});
    CHECK(check(&st, settle));
    h.keep(h.make(kVillage, withdrawn_body(), {withdrawn.id()}));
    st = h.state();
    CHECK(st.status == S::withdrawn);
    CHECK_FALSE(st.conflict);
    CHECK(st.conflicts.empty());
    (void)decided;
  }
  SECTION("the withdrawal first: the decision is the conflict; a comment settles it") {
    h.keep(h.make(kVillage, withdrawn_body(), {}, t));
    const EventView& decided = h.keep(h.make(kCounty, decided_body(), {}, t + 1));
    CaseState st = h.state();
    CHECK(st.status == S::withdrawn);
    CHECK(st.conflicts == std::vector<Id>{decided.id()});
    CHECK_FALSE(st.has_decision);
    h.act(kCounty, comment_body("申请人已撤回, 决定作废"), {decided.id()});
    st = h.state();
    CHECK(st.status == S::withdrawn);
    CHECK_FALSE(st.conflict);
  }
  SECTION("after delivery the settling withdrawal still stands") {
    h.keep(h.make(kCounty, decided_body(), {}, t));
    const EventView& withdrawn = h.keep(h.make(kVillage, withdrawn_body(), {}, t + 1));
    h.act(kVillage, delivered_body());
    CaseState st = h.state();
    CHECK(st.status == S::delivered);
    CHECK(st.conflict);
    CHECK(check(&st, h.make(kVillage, withdrawn_body(), {withdrawn.id()})));
    // Closing may settle it too; closing without settling may not.
    CHECK(check(&st, h.make(kVillage, closed_body(), {withdrawn.id()})));
    CHECK_FALSE(check(&st, h.make(kVillage, closed_body())));
  }
  // Whichever way the events arrive, the fold is the same.
  auto views = h.views();
  const CaseState forward = fold(views);
  std::reverse(views.begin(), views.end());
  CHECK(fold(views) == forward);
}

TEST_CASE("fold: apply keeps every refused event in conflicts and never drops one", "[fold]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::accepted);
  const EventView& a = h.act(kVillage, closed_body());
  const EventView& b = h.act(kVillage, rated_body(5));
  const EventView& c = h.act(kTownship, accepted_body());
  // Events allowed by the table still apply while the case is in conflict
  // (a remote node acted before it saw the conflict).
  h.act(kVillage, complaint_body());
  h.act(kTownship, escalated_body(kCounty));
  const CaseState st = h.state();
  INFO(describe(st));
  CHECK(st.conflict);
  CHECK(st.conflicts == std::vector<Id>{a.id(), b.id(), c.id()});
  CHECK(st.complaints == 1);
  CHECK(st.status == S::escalated);
  CHECK(st.event_count == 7);
  // The conflicts survive the cache.
  auto decoded = decode_state(encode_state(st));
  REQUIRE(decoded.ok());
  CHECK(*decoded == st);
}

// ---- persistence of states -------------------------------------------------------

TEST_CASE("fold: a folded state survives encode and decode unchanged", "[fold]") {
  for (int si = 0; si < kCaseStatusCount; ++si) {
    const S status = static_cast<S>(si);
    CAPTURE(status_name(status));
    Forge forge(false);
    History h(forge);
    reach(h, status);
    if (status == S::assigned) {
      h.act(kCounty, assigned_body({"国土"}));
      h.act(kCounty, opinion_body("国土", false));
      h.act(kVillage, supplemented_body());  // refused: a conflict
    }
    const CaseState st = h.state();
    auto back = decode_state(encode_state(st));
    REQUIRE(back.ok());
    CHECK(*back == st);
  }
  SECTION("a state too big for one segment of the encoder survives too") {
    CaseState big;
    big.case_id = Id{kVillage, 42};
    big.home = kVillage;
    big.item_name = "农村宅基地建房";
    for (int i = 0; i < 300; ++i)
      big.materials.push_back(
          {"补充材料第" + std::to_string(i) + "份（复印件）", proto::MaterialState::LATER});
    const std::string bytes = encode_state(big);
    CHECK(bytes.size() > 4096);
    auto back = decode_state(bytes);
    REQUIRE(back.ok());
    CHECK(*back == big);
    // The encoder's reused first segment is clean again for the next state.
    CaseState small;
    small.case_id = Id{kVillage, 43};
    small.home = kVillage;
    small.materials.push_back({"户口簿", proto::MaterialState::PROVIDED});
    auto again = decode_state(encode_state(small));
    REQUIRE(again.ok());
    CHECK(*again == small);
  }
  SECTION("damaged bytes are corruption, never a crash") {
    Forge forge(false);
    History h(forge);
    reach(h, S::delivered);
    const std::string bytes = encode_state(h.state());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = decode_state(std::string_view(bytes).substr(0, n));
      if (!r.ok()) CHECK(r.status().code() == Code::corruption);
    }
    CHECK(decode_state("").status().code() == Code::corruption);
    std::mt19937 rng(7);
    for (int i = 0; i < 500; ++i) {
      std::string t = bytes;
      t[rng() % t.size()] = static_cast<char>(rng());
      auto r = decode_state(t);
      if (!r.ok()) CHECK(r.status().code() == Code::corruption);
    }
  }
}

TEST_CASE("fold: status names round-trip in English and Chinese", "[fold]") {
  std::set<std::string> names;
  for (int i = 0; i < kCaseStatusCount; ++i) {
    const S s = static_cast<S>(i);
    CAPTURE(i);
    CHECK(status_from_name(status_name(s)) == s);
    CHECK(status_from_name(status_name_zh(s)) == s);
    names.insert(status_name(s));
  }
  CHECK(names.size() == std::size_t{kCaseStatusCount});
  CHECK(status_from_name("待补正") == S::supplement_requested);
  CHECK_FALSE(status_from_name("nonsense"));
  CHECK_FALSE(status_from_name(""));
}

// ---- the fold does not depend on arrival order ----------------------------------

namespace {

// What a random history contained, to show the generator reaches the cases
// that matter (a property test over trivial inputs proves nothing).
struct Coverage {
  std::size_t sets = 0, events = 0, max_events = 0, conflicted = 0, still_conflicted = 0,
              settles = 0, duplicate_accepts = 0, joint_opinions = 0, withdraw_vs_decide = 0,
              hlc_ties = 0;
  std::set<S> finals;
};

const std::vector<std::string> kOrigins = {kVillage, kTownship, kCounty};
const std::vector<std::string> kDepartments = {"林业", "国土", "民政"};

// A random but workflow-plausible history of one case homed at the village
// point: mostly nodes act on what they see (their action passes check()),
// sometimes a node acts on a stale view (concurrent with events it has not
// received), sometimes someone settles the conflicts. Every origin's own
// events carry increasing hlcs; different origins may tie.
std::deque<EventView> random_history(uint64_t seed, Coverage& cov) {
  std::mt19937_64 rng(seed);
  auto chance = [&](unsigned pct) { return rng() % 100 < pct; };
  auto one_of = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  Forge forge(false);
  std::deque<EventView> events;
  std::map<std::string, uint64_t> last_hlc;
  uint64_t now_ms = 0;
  const std::string home = kVillage;
  auto stamp = [&](const std::string& origin, uint64_t ms, uint64_t counter) {
    uint64_t h = hlc_at(ms, counter);
    if (h <= last_hlc[origin]) h = last_hlc[origin] + 1;
    last_hlc[origin] = h;
    now_ms = std::max(now_ms, hlc_ms(h) - kBaseMs);
    return h;
  };
  const Id case_id = forge.next_id(home);
  events.push_back(must_parse(
      forge.make(Head{.id = case_id, .case_id = case_id, .home = home, .hlc = stamp(home, 0, 0)},
                 submitted_body())));

  // An action a node might take on a case it sees in state `st`.
  auto action = [&](const CaseState& st, bool anything) -> std::pair<std::string, BodyFill> {
    // Steps that move the case on are likelier than remarks and withdrawals.
    static const std::set<K> kSteps = {K::accepted, K::supplemented, K::escalated, K::assigned,
                                       K::opinion,  K::decided,      K::delivered, K::closed};
    static const std::set<K> kExtras = {K::supplement_requested, K::fee_collected, K::rated,
                                        K::replied};
    auto weight = [](K k) { return kSteps.count(k) ? 6 : kExtras.count(k) ? 2 : 1; };
    std::vector<K> kinds;
    if (anything) {
      for (int k = 1; k < static_cast<int>(K::catalog_published); ++k)
        kinds.push_back(static_cast<K>(k));
    } else {
      for (K k : allowed_table().at(st.status)) {
        for (int w = weight(k); w > 0; --w)
          kinds.push_back(k);
      }
    }
    const K k = kinds[rng() % kinds.size()];
    switch (k) {
      case K::accepted:
        return {chance(50) ? kVillage : kTownship, accepted_body()};
      case K::supplement_requested:
        return {chance(50) ? kTownship : kCounty, supplement_requested_body()};
      case K::supplemented:
        return {kVillage, supplemented_body()};
      case K::escalated: {
        const std::string from = st.handler.size() > 6 ? st.handler : kTownship;
        std::string to = parent_code(from);
        if (chance(20) && to.size() > 6) to = parent_code(to);  // skips a level
        return {from, escalated_body(to)};
      }
      case K::assigned: {
        std::vector<std::string> d = kDepartments;
        std::shuffle(d.begin(), d.end(), rng);
        d.resize(1 + rng() % d.size());  // two or three: a joint case
        return {chance(70) ? kCounty : kTownship, assigned_body(d)};
      }
      case K::opinion: {
        // Mostly a department still owing its opinion; sometimes one again.
        std::vector<std::string> owing;
        for (const auto& d : st.departments) {
          if (std::none_of(st.opinions.begin(), st.opinions.end(),
                           [&](const DeptOpinion& o) { return o.department == d; }))
            owing.push_back(d);
        }
        const auto& from = !owing.empty() && chance(85) ? owing
                           : st.departments.empty()     ? kDepartments
                                                        : st.departments;
        return {kCounty, opinion_body(one_of(from), chance(80))};
      }
      case K::decided:
        return {chance(70) ? kCounty : kTownship, decided_body(chance(80))};
      case K::delivered:
        return {kVillage, delivered_body()};
      case K::rated:
        return {kVillage, rated_body(static_cast<uint8_t>(1 + rng() % 5))};
      case K::fee_collected:
        return {chance(50) ? kVillage : kTownship, fee_collected_body(100 + rng() % 900)};
      case K::closed:
        return {kVillage, closed_body()};
      case K::withdrawn:
        return {kVillage, withdrawn_body()};
      case K::replied:
        return {kCounty, replied_body()};
      case K::complaint:
        return {kVillage, complaint_body()};
      default:
        return {one_of(kOrigins), comment_body()};
    }
  };

  const int steps = 3 + static_cast<int>(rng() % 20);
  for (int step = 0; step < steps; ++step) {
    std::vector<const EventView*> sorted;
    for (const auto& e : events)
      sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(),
              [](const EventView* a, const EventView* b) { return order_key(*a) < order_key(*b); });
    const bool stale = sorted.size() > 1 && chance(30);
    const std::size_t seen = stale ? 1 + rng() % (sorted.size() - 1) : sorted.size();
    const CaseState st = fold(std::vector<const EventView*>(sorted.begin(), sorted.begin() + seen));
    const uint64_t seen_ms = hlc_ms(sorted[seen - 1]->hlc()) - kBaseMs;

    std::vector<Id> settles;
    std::pair<std::string, BodyFill> act;
    if (st.conflict && chance(60)) {
      settles = st.conflicts;
      if (settles.size() > 1 && chance(20)) settles.pop_back();  // misses one
      const bool withdraw = (st.status == S::decided || st.status == S::delivered) && chance(50);
      act = withdraw ? std::pair{std::string(kVillage), withdrawn_body()}
                     : std::pair{one_of(kOrigins), comment_body("协调处理")};
    } else {
      act = action(st, stale && chance(30));
    }
    const uint64_t ms = stale ? seen_ms + rng() % 3 : now_ms + 1 + rng() % 4;
    const uint64_t counter = chance(25) ? 0 : rng() % 3;
    const Head head{.id = forge.next_id(act.first),
                    .case_id = case_id,
                    .home = home,
                    .hlc = stamp(act.first, ms, counter),
                    .settles = settles};
    EventView ev = must_parse(forge.make(head, act.second));
    // A node acting on what it sees runs check() first and does not act if
    // refused; a stale node's action is made regardless.
    if (!stale && !check(&st, ev)) continue;
    events.push_back(std::move(ev));
  }

  // Coverage bookkeeping.
  ++cov.sets;
  cov.events += events.size();
  cov.max_events = std::max(cov.max_events, events.size());
  std::map<K, int> kinds;
  std::set<uint64_t> hlcs;
  bool conflicted = false;
  {
    std::vector<const EventView*> sorted;
    for (const auto& e : events)
      sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(),
              [](const EventView* a, const EventView* b) { return order_key(*a) < order_key(*b); });
    CaseState st;
    for (const auto* e : sorted) {
      apply(st, *e);
      conflicted = conflicted || st.conflict;
      ++kinds[e->kind()];
      if (!hlcs.insert(e->hlc()).second) ++cov.hlc_ties;
      if (e->event().getSettles().size() > 0) ++cov.settles;
    }
    cov.finals.insert(st.status);
    if (st.conflict) ++cov.still_conflicted;
  }
  if (conflicted) ++cov.conflicted;
  if (kinds[K::accepted] > 1) ++cov.duplicate_accepts;
  if (kinds[K::opinion] > 1) ++cov.joint_opinions;
  if (kinds[K::withdrawn] > 0 && kinds[K::decided] > 0) ++cov.withdraw_vs_decide;
  return events;
}

uint64_t property_seed() {
  if (const char* env = std::getenv("LIANDONG_FOLD_SEED")) return std::strtoull(env, nullptr, 0);
  return 0x4c69616e646f6e67ULL;  // "Liandong"
}

}  // namespace

TEST_CASE("fold: any arrival order of the same events folds to the same state",
          "[fold][property]") {
  const uint64_t seed = property_seed();
  constexpr int kSets = 1000, kPermutations = 12;
  INFO("seed " << seed << " (replay with LIANDONG_FOLD_SEED=" << seed << ")");
  Coverage cov;
  for (int set = 0; set < kSets; ++set) {
    const uint64_t set_seed = seed + static_cast<uint64_t>(set);
    CAPTURE(set, set_seed);
    const std::deque<EventView> events = random_history(set_seed, cov);
    std::vector<const EventView*> views;
    for (const auto& e : events)
      views.push_back(&e);
    const CaseState first = fold(views);

    std::mt19937_64 rng(set_seed ^ 0x9e3779b97f4a7c15ULL);
    for (int p = 0; p < kPermutations; ++p) {
      std::shuffle(views.begin(), views.end(), rng);
      const CaseState again = fold(views);
      if (!(again == first)) {
        CAPTURE(p);
        REQUIRE(again == first);
      }
    }

    // Incremental apply in fold order, as the store does, equals the fold.
    std::sort(views.begin(), views.end(),
              [](const EventView* a, const EventView* b) { return order_key(*a) < order_key(*b); });
    CaseState incremental;
    incremental.case_id = views.front()->case_id();
    for (const auto* e : views)
      apply(incremental, *e);
    REQUIRE(incremental == first);

    // Invariants of every folded state.
    REQUIRE(first.status != S::incomplete);
    REQUIRE(first.event_count == events.size());
    REQUIRE(first.conflict == !first.conflicts.empty());
    std::set<Id> ids;
    for (const auto& e : events)
      ids.insert(e.id());
    std::set<Id> conflicts(first.conflicts.begin(), first.conflicts.end());
    REQUIRE(conflicts.size() == first.conflicts.size());
    for (const auto& c : first.conflicts)
      REQUIRE(ids.count(c) == 1);
    REQUIRE(first.last == order_key(*views.back()));
    auto decoded = decode_state(encode_state(first));
    REQUIRE(decoded.ok());
    REQUIRE(*decoded == first);
  }
  INFO("sets " << cov.sets << ", events " << cov.events << " (max " << cov.max_events
               << "), conflicted " << cov.conflicted << ", still in conflict "
               << cov.still_conflicted << ", settling events " << cov.settles
               << ", duplicate accepts " << cov.duplicate_accepts << ", joint opinions "
               << cov.joint_opinions << ", withdrawn and decided " << cov.withdraw_vs_decide
               << ", hlc ties " << cov.hlc_ties << ", final statuses " << cov.finals.size());
  // The generator must reach the interesting cases, or the property is empty.
  CHECK(cov.sets == std::size_t{kSets});
  CHECK(cov.conflicted > kSets / 10);
  CHECK(cov.settles > kSets / 20);
  CHECK(cov.duplicate_accepts > kSets / 50);
  CHECK(cov.joint_opinions > kSets / 50);
  CHECK(cov.withdraw_vs_decide > kSets / 50);
  CHECK(cov.hlc_ties > 0);
  CHECK(cov.still_conflicted > 0);
  CHECK(cov.still_conflicted < cov.conflicted);
  CHECK(cov.finals.size() >= 7);
}

TEST_CASE("fold: an audit event is never a case transition", "[fold][audit]") {
  Forge forge(false);
  History h(forge);
  reach(h, S::accepted);
  const CaseState st = h.state();
  const EventView audit = must_parse(forge.broadcast(kTownship, h.tick(), audit_body()));
  REQUIRE(audit.kind() == EventKind::audit);
  CHECK_FALSE(names_case(audit.kind()));
  CHECK_FALSE(is_broadcast(audit.kind()));
  const Status s = check(&st, audit);
  CHECK(s.code() == Code::invalid);
  CHECK_THAT(s.message(), Catch::Contains("audit"));
  CHECK(check(nullptr, audit).code() == Code::invalid);
}

// ---- re-issue (重新报送) ---------------------------------------------------------

TEST_CASE("fold: a re-issue supersedes a refused event the same way wherever it is held",
          "[fold][refusal]") {
  Forge forge(false);
  constexpr uint64_t kTwoDays = 2ULL * 24 * 3600 * 1000;
  // Stamped two days ahead, refused upstream: only the village holds it.
  const EventView x =
      must_parse(forge.submit(kVillage, kVillage, hlc_at(kTwoDays), submitted_body("张三")));
  // Re-issued with the clock right: same body, same case, earlier stamp.
  const EventView r = must_parse(forge.make(
      Head{.id = forge.next_id(kVillage), .case_id = x.id(), .home = kVillage, .hlc = hlc_at(10)},
      [&](proto::Event::Builder ev) {
        submitted_body("张三")(ev);
        write_id(ev.initSupersedes(), x.id());
      }));
  const EventView a =
      must_parse(forge.act(kTownship, x.id(), kVillage, hlc_at(20), accepted_body("2023-11-24")));

  const CaseState at_village = fold({&x, &r, &a});
  const CaseState upstream = fold({&r, &a});
  INFO(describe(at_village));
  CHECK(at_village == upstream);
  CHECK(fold({&a, &x, &r}) == upstream);
  CHECK(at_village.status == S::accepted);
  CHECK(at_village.case_id == x.id());
  CHECK(at_village.event_count == 2);
  CHECK_FALSE(at_village.conflict);
  CHECK(at_village.superseded == std::vector<Id>{x.id()});

  // Folded one by one, the re-issue asks for a refold; the superseded event
  // arriving after its re-issue is skipped.
  CaseState st;
  apply(st, x);
  CHECK(needs_refold(st, r));
  CaseState up;
  apply(up, r);
  apply(up, x);
  apply(up, a);
  CHECK(up == upstream);

  auto back = decode_state(encode_state(at_village));
  REQUIRE(back.ok());
  CHECK(*back == at_village);
}
