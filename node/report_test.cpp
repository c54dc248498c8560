// Reports and traces over a generated county workload: the figures the
// report computes from the store equal the ones the generator counted while
// it wrote the events, and the county's report is the sum of its townships'.
#include "node/report.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "node/trace.h"
#include "protocol/hlc.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::node;
using liandong::storage::Store;
using liandong::test::Forge;
using liandong::test::kCounty;

namespace {

constexpr int64_t kDay0 = 19783;  // 2024-03-01, days since 1970-01-01
constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

// ms of `hour` o'clock, China time, on day `day` (days since 1970-01-01).
uint64_t china_ms(int64_t day, int64_t hour) {
  return static_cast<uint64_t>(day * kDayMs + (hour - 8) * kHourMs);
}
// The generator's own date arithmetic, independent of the report's.
int64_t day_of(uint64_t ms) {
  return (static_cast<int64_t>(ms) + 8 * kHourMs) / kDayMs;
}
// Monday to Friday (1970-01-01, day 0, was a Thursday).
bool weekday(int64_t day) {
  return ((day % 7) + 7 + 3) % 7 < 5;
}
// Working days in (from, to] with weekends as rest days, minus `holidays`,
// plus the weekend days in `workdays` (the test's own count).
// `n` working days (Monday to Friday) after `day`.
int64_t add_working_days(int64_t day, int n) {
  while (n > 0) {
    ++day;
    if (weekday(day)) --n;
  }
  return day;
}
int64_t working_days(int64_t from, int64_t to, const std::set<int64_t>& holidays = {},
                     const std::set<int64_t>& workdays = {}) {
  int64_t n = 0;
  for (int64_t d = from + 1; d <= to; ++d) {
    if ((weekday(d) && holidays.count(d) == 0) || workdays.count(d) != 0) ++n;
  }
  return n;
}

struct Item {
  const char* code;
  const char* name;
};
const Item kItems[] = {
    {"360723-GT-0001", "农村宅基地建房"}, {"360723-LY-0002", "林木采伐"},
    {"360723-MZ-0003", "低保"},           {"360723-GA-0004", "户口迁移"},
    {"360723-WS-0005", "生育登记"},       {"360723-ZX-0006", "政策咨询"},
};
const char* const kDepartments[] = {"民政", "国土", "林业", "公安", "卫生", "人社", "计生"};

test::BodyFill submitted(const Item& item, int64_t fee_due) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initSubmitted();
    b.initApplicant().setName("王五");
    b.setItemCode(item.code);
    b.setItemName(item.name);
    b.setFeeDue(fee_due);
  };
}

// What the generator expects, keyed like the report.
struct Expected {
  Figures total;
  std::map<std::string, Figures> by_village, by_township, by_item, by_department;
};

// Writes the events of `n` cases into `store`, counting as it goes the
// figures of the cases submitted in [from, to] as of `as_of`.
class Workload {
 public:
  Workload(Store& store, uint32_t seed, int64_t from, int64_t to, int64_t as_of)
      : store_(store), rng_(seed), from_(from), to_(to), as_of_(as_of) {}

  void generate(int n) {
    for (int i = 0; i < n; ++i) {
      one_case();
      if (pending_.size() > 4000) flush();
    }
    flush();
  }

  Expected expected;  // period [from, to]
  Figures all_time;   // every case, no period
  std::vector<Id> case_ids;

 private:
  int rnd(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return rnd(1, 100) <= percent; }

  void emit(std::string sealed) { pending_.push_back(std::move(sealed)); }
  void flush() {
    std::vector<EventView> views;
    views.reserve(pending_.size());
    for (const auto& s : pending_)
      views.push_back(test::must_parse(s));
    std::vector<const EventView*> ptrs;
    for (const auto& v : views)
      ptrs.push_back(&v);
    auto r = store_.apply(ptrs);
    REQUIRE(r.ok());
    for (const auto& x : *r)
      REQUIRE(x.outcome == storage::Outcome::stored);
    pending_.clear();
  }

  void one_case() {
    const std::string township = "360723" + std::to_string(101 + rnd(0, 2));
    const std::string village = township + "00" + std::to_string(rnd(1, 4));
    const Item& item = kItems[rnd(0, 5)];
    const bool consult = std::string(item.code) == "360723-ZX-0006";
    const int64_t s_day = kDay0 + rnd(0, 59);
    uint64_t t = china_ms(s_day, 9) + static_cast<uint64_t>(rnd(0, 120)) * 60000;
    auto at = [&](int64_t day, int64_t hour) {
      t = std::max(t + 60000, china_ms(day, hour));
      return make_hlc(t, 0);
    };

    Figures f;
    f.received = 1;
    std::vector<std::string> departments;

    const Id id = forge_.next_id(village);
    case_ids.push_back(id);
    emit(forge_.make({.id = id, .case_id = id, .home = village, .hlc = make_hlc(t, 0)},
                     submitted(item, consult ? 0 : rnd(0, 3) * 1000)));
    auto act = [&](const std::string& origin, uint64_t hlc, const test::BodyFill& body) {
      emit(forge_.act(origin, id, village, hlc, body));
    };
    // The id of the event just made.
    auto last_id = [&] { return test::must_parse(pending_.back()).id(); };
    auto complaints = [&] {
      if (!chance(4)) return;
      const int k = rnd(1, 2);
      for (int i = 0; i < k; ++i) {
        // 效能投诉 against the township, handled at the county within
        // five days, answered (成立 or not) or not answered at all.
        const uint64_t h = at(day_of(t), 16);
        const int64_t c_day = day_of(t);
        const int64_t c_due = c_day + 5;
        act(village, h, [=](proto::Event::Builder ev) {
          test::complaint_body()(ev);
          ev.getBody().getComplaint().setDueDate(format_ymd(c_due));
        });
        const Id complaint = last_id();
        if (chance(70)) {
          const bool upheld = chance(40);
          act(kCounty, at(c_day + rnd(0, 8), 10),
              test::answered_body(complaint, proto::AnswerTo::COMPLAINT, upheld));
          f.complaints_upheld += upheld ? 1 : 0;
          f.complaints_on_time += day_of(t) <= c_due ? 1 : 0;
          f.complaints_late += day_of(t) > c_due ? 1 : 0;
        } else {
          f.complaints_late += as_of_ > c_due ? 1 : 0;
        }
      }
      f.complaints += static_cast<uint64_t>(k);
    };

    const int path = rnd(1, 100);
    if (consult && path <= 70) {
      // A policy question answered by the county (咨询, replied).
      const int64_t d = day_of(t) + rnd(0, 3);
      act(kCounty, at(d, 10), test::replied_body());
      f.completed = 1;
      // Never accepted, and no catalog is held: no promised day, so never
      // on time (report.h).
      f.on_time = 0;
      f.immediate = d == s_day ? 1 : 0;
      f.step_days[kStepDecide] = working_days(s_day, d);
      f.step_cases[kStepDecide] = 1;
      deliver_and_rate(act, at, f, d);
      complaints();
    } else if (path <= 5) {
      act(village, at(s_day + rnd(0, 2), 15), test::withdrawn_body());
      f.withdrawn = 1;
    } else if (path <= 10) {
      f.open = 1;  // registered, never accepted: no due date, never overdue
      complaints();
    } else {
      const int64_t a_day = s_day + (chance(50) ? 0 : rnd(1, 2));
      const int64_t due = a_day + rnd(5, 15);
      act(village, at(a_day, 14), test::accepted_body(format_ymd(due)));
      f.accepted = 1;
      f.step_days[kStepAccept] = working_days(s_day, day_of(t));
      f.step_cases[kStepAccept] = 1;
      const int64_t a_real = day_of(t);
      if (chance(8)) {
        // 督办 from the county to the village holding the case, answered
        // there (in time or late) or not at all.
        const uint64_t h = at(day_of(t), 15);
        const int64_t o_day = day_of(t);
        const int64_t o_due = o_day + 3;
        act(kCounty, h, test::supervised_body(format_ymd(o_due), village));
        const Id order = last_id();
        f.orders = 1;
        if (chance(75)) {
          act(village, at(o_day + rnd(0, 6), 15), test::answered_body(order));
          f.orders_on_time = day_of(t) <= o_due ? 1 : 0;
          f.orders_late = day_of(t) > o_due ? 1 : 0;
        } else {
          f.orders_late = as_of_ > o_due ? 1 : 0;
        }
      }
      if (chance(30)) {
        const int k = rnd(1, 2);
        for (int i = 0; i < k; ++i) {
          const int64_t amount = rnd(1, 200) * 100;
          act(village, at(day_of(t), 15), test::fee_collected_body(amount));
          f.fees_fen += amount;
        }
      }
      if (chance(10)) {
        act(village, at(day_of(t), 15), test::supplement_requested_body());
        act(village, at(day_of(t) + rnd(0, 2), 9), test::supplemented_body());
      }
      std::string decider = village;
      int64_t reached = a_real;  // the day the case reached the level deciding it
      if (chance(30)) {
        // 转报乡镇: not a 上报件 unless the township reports it to the county.
        act(village, at(day_of(t) + rnd(0, 1), 16), test::escalated_body(township));
        decider = township;
        reached = day_of(t);
        f.forwarded = 1;
        if (chance(40)) {
          act(township, at(day_of(t) + rnd(0, 2), 10), test::escalated_body(kCounty));
          decider = kCounty;
          reached = day_of(t);
          f.escalated = 1;
        }
      }
      const int dept_kind = rnd(1, 100);
      if (dept_kind <= 15) {
        std::set<std::string> pick;
        const int k = rnd(2, 3);
        while (static_cast<int>(pick.size()) < k)
          pick.insert(kDepartments[rnd(0, 6)]);
        departments.assign(pick.begin(), pick.end());
        f.joint = 1;
      } else if (dept_kind <= 60) {
        departments.push_back(kDepartments[rnd(0, 6)]);
      }
      if (!departments.empty())
        act(decider.size() > 6 ? township : kCounty, at(day_of(t), 17),
            test::assigned_body(departments));

      const int fate = rnd(1, 100);
      if (fate <= 4) {
        act(village, at(day_of(t) + rnd(0, 3), 11), test::withdrawn_body());
        f.withdrawn = 1;
      } else if (fate <= 14) {
        f.open = 1;
        f.overdue = as_of_ > due ? 1 : 0;
        if (chance(50) && departments.size() >= 2)
          act(township, at(day_of(t), 11), test::opinion_body(departments[0]));
      } else {
        if (departments.size() >= 2) {
          for (const auto& d : departments)
            act(decider.size() > 6 ? township : kCounty, at(day_of(t) + rnd(0, 2), 10),
                test::opinion_body(d, chance(90)));
        }
        int64_t d_day = day_of(t);
        if (!chance(35)) d_day += rnd(1, 18);
        const bool approve = chance(85);
        act(decider, at(d_day, 11), test::decided_body(approve));
        const int64_t decided = day_of(t);
        f.completed = 1;
        f.refused = approve ? 0 : 1;
        f.on_time = decided <= due ? 1 : 0;
        // 即办: on the spot at the level that decided (no catalog is held,
        // so every item may be one).
        f.immediate = !f.escalated && decided == reached ? 1 : 0;
        f.step_days[kStepDecide] = working_days(a_real, decided);
        f.step_cases[kStepDecide] = 1;
        deliver_and_rate(act, at, f, decided);
      }
      complaints();
    }
    add(f, s_day, village, township, item.code, departments);
  }

  template <typename Act, typename At>
  void deliver_and_rate(Act& act, At& at, Figures& f, int64_t decided) {
    if (!chance(80)) return;
    act(village_of_current(), at(decided + rnd(0, 3), 15), test::delivered_body());
    f.step_days[kStepDeliver] = working_days(decided, day_of_last());
    f.step_cases[kStepDeliver] = 1;
    if (chance(70)) {
      const int score = chance(80) ? rnd(4, 5) : rnd(1, 3);
      act(village_of_current(), at(day_of_last(), 16),
          test::rated_body(static_cast<uint8_t>(score)));
      f.rating_sum = static_cast<uint64_t>(score);
      f.rated = 1;
      f.ratings[static_cast<std::size_t>(score - 1)] = 1;
      if (score <= 2) {
        // 整改: five working days from the rating, answered or not.
        const Id rating = test::must_parse(pending_.back()).id();
        const int64_t due = add_working_days(day_of_last(), 5);
        f.rectifications = 1;
        if (chance(60)) {
          act(village_of_current(), at(day_of_last() + rnd(0, 9), 16),
              test::answered_body(rating, proto::AnswerTo::RECTIFICATION));
          f.rectifications_late = day_of_last() > due ? 1 : 0;
        } else {
          f.rectifications_late = as_of_ > due ? 1 : 0;
        }
      }
      if (chance(10)) {
        // 回访 by the county: reached and rated, or not reached.
        const int revisit = chance(80) ? rnd(1, 5) : 0;
        act(kCounty, at(day_of_last() + rnd(1, 5), 10),
            [=](proto::Event::Builder ev) {
              test::answered_body(Id{kCounty, 1}, proto::AnswerTo::REVISIT)(ev);
              ev.getBody().getAnswered().setScore(static_cast<uint8_t>(revisit));
            });
        f.revisits = 1;
        f.revisits_satisfied = revisit >= 4 ? 1 : 0;
      }
    }
    if (chance(60)) act(village_of_current(), at(day_of_last(), 17), test::closed_body());
  }
  // The village of the case being generated (its submitted event's origin).
  std::string village_of_current() const { return case_ids.back().origin; }
  int64_t day_of_last() const {
    auto v = test::must_parse(pending_.back());
    return day_of(hlc_ms(v.hlc()));
  }

  static std::string format_ymd(int64_t day) {
    // Civil date from days (independent of node/report.cpp).
    int64_t z = day + 719468;
    const int64_t era = z / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d));
    return buf;
  }

  void add(const Figures& f, int64_t s_day, const std::string& village, const std::string& township,
           const std::string& item, const std::vector<std::string>& departments) {
    all_time += f;
    if (s_day < from_ || s_day > to_) return;
    expected.total += f;
    expected.by_village[village] += f;
    expected.by_township[township] += f;
    expected.by_item[item] += f;
    if (departments.empty()) {
      expected.by_department["未分派"] += f;
    } else {
      for (const auto& d : departments)
        expected.by_department[d] += f;
    }
  }

  Store& store_;
  Forge forge_{false};
  std::mt19937 rng_;
  int64_t from_, to_, as_of_;
  std::vector<std::string> pending_;
};

std::unique_ptr<Store> make_store(const test::TempDir& dir, const std::string& code) {
  storage::StoreOptions o;
  o.dir = dir.path() / code;
  auto s = Store::create(o, code);
  REQUIRE(s.ok());
  return std::move(s).value();
}

std::map<std::string, Figures> rows_of(const Report& r) {
  std::map<std::string, Figures> m;
  for (const auto& row : r.rows)
    m[row.key] = row.figures;
  return m;
}

// The generator does not model the step clocks; late steps (超期环节) by
// level are checked where receipts are made (tests/blame_test.cpp) and in
// storage/deadlines_test.cpp.
void drop_late_steps(Figures& f) {
  f.late_steps = 0;
}

Report report(const Store& store, ReportOptions o, GroupBy by, const std::string& prefix = {}) {
  o.by = by;
  auto r = build_report_from_store(store, o, prefix);
  REQUIRE(r.ok());
  drop_late_steps(r->total);
  for (auto& row : r->rows)
    drop_late_steps(row.figures);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("report: dates are China dates", "[report]") {
  CHECK(format_date(kDay0) == "2024-03-01");
  CHECK(parse_date("2024-03-01") == kDay0);
  CHECK(parse_date("2024-02-30") == std::nullopt);
  CHECK(parse_date("2024-3-01") == std::nullopt);
  // 2024-02-29 16:30 UTC is 2024-03-01 00:30 in China.
  CHECK(china_day(china_ms(kDay0, 0) + 30 * 60000) == kDay0);
  CHECK(china_day(china_ms(kDay0, 0) - 1) == kDay0 - 1);
}

TEST_CASE("report: figures over 10,000 generated cases equal the generator's count", "[report]") {
  test::TempDir dir("liandong-report-test");
  auto store = make_store(dir, test::kCounty);
  const int64_t from = kDay0 + 10, to = kDay0 + 40, as_of = kDay0 + 45;
  Workload w(*store, 20261122, from, to, as_of);
  w.generate(10000);
  REQUIRE(w.all_time.received == 10000);
  // The mix is realistic: every kind of case is there.
  CHECK(w.expected.total.refused > 100);
  CHECK(w.expected.total.withdrawn > 100);
  CHECK(w.expected.total.escalated > 200);
  CHECK(w.expected.total.forwarded > 500);
  CHECK(w.expected.total.joint > 200);
  CHECK(w.expected.total.overdue > 10);
  CHECK(w.expected.total.complaints > 50);
  CHECK(w.expected.total.fees_fen > 0);
  CHECK(w.expected.total.immediate > 100);
  // Supervision: orders, complaints and follow-ups answered in time, late
  // and not at all.
  CHECK(w.expected.total.orders > 200);
  CHECK(w.expected.total.orders_on_time > 50);
  CHECK(w.expected.total.orders_late > 50);
  CHECK(w.expected.total.complaints_upheld > 10);
  CHECK(w.expected.total.complaints_on_time > 10);
  CHECK(w.expected.total.complaints_late > 10);
  CHECK(w.expected.total.rectifications > 50);
  CHECK(w.expected.total.rectifications_late > 10);
  CHECK(w.expected.total.revisits > 100);

  ReportOptions o;
  o.as_of = as_of;
  SECTION("the whole history") {
    auto r = report(*store, o, GroupBy::none);
    CHECK(r.rows.empty());
    CHECK(r.total == w.all_time);
  }
  o.from = from;
  o.to = to;
  SECTION("a period, grouped every way") {
    auto r = report(*store, o, GroupBy::none);
    CHECK(r.total == w.expected.total);
    CHECK(rows_of(report(*store, o, GroupBy::village)) == w.expected.by_village);
    CHECK(rows_of(report(*store, o, GroupBy::township)) == w.expected.by_township);
    CHECK(rows_of(report(*store, o, GroupBy::item)) == w.expected.by_item);
    auto by_dept = report(*store, o, GroupBy::department);
    CHECK(rows_of(by_dept) == w.expected.by_department);
    CHECK(by_dept.total == w.expected.total);  // each case once in 合计
  }
  SECTION("the county's report is the sum of its townships'") {
    auto county = report(*store, o, GroupBy::village);
    Figures sum;
    std::map<std::string, Figures> villages;
    for (const char* t : {"360723101", "360723102", "360723103"}) {
      auto part = report(*store, o, GroupBy::village, t);
      sum += part.total;
      for (const auto& row : part.rows)
        villages[row.key] = row.figures;
      CHECK(part.total == w.expected.by_township[t]);
    }
    CHECK(sum == county.total);
    CHECK(villages == rows_of(county));
  }
  SECTION("text, JSON and CSV carry the totals") {
    auto r = report(*store, o, GroupBy::township);
    auto text = render_report(r);
    CHECK(text.find("合计") != std::string::npos);
    CHECK(text.find("按时办结率") != std::string::npos);
    auto csv = render_report_csv(r);
    CHECK(csv.rfind("\xEF\xBB\xBF乡镇,收件,受理,办结", 0) == 0);
    CHECK(csv.find("\r\n合计," + std::to_string(w.expected.total.received) + ",") !=
          std::string::npos);
    auto json = render_report_json(r);
    CHECK(json.find("\"received\":" + std::to_string(w.expected.total.received)) !=
          std::string::npos);
  }
  SECTION("a trace lists every event of the case with its waiting time") {
    const Id id = w.case_ids[1234];
    auto events = store->case_events(id);
    REQUIRE(events.ok());
    auto t = trace_case(*store, id);
    REQUIRE(t.ok());
    REQUIRE(t->steps.size() == events->size());
    uint64_t waited = 0;
    for (std::size_t i = 0; i < t->steps.size(); ++i) {
      CHECK(t->steps[i].event == (*events)[i].view.id());
      if (i > 0) CHECK(t->steps[i].wait_ms == t->steps[i].at_ms - t->steps[i - 1].at_ms);
      waited += t->steps[i].wait_ms;
    }
    CHECK(waited == t->total_ms);
    CHECK(render_trace(*t).find("办件倒查") != std::string::npos);
    CHECK(render_trace_json(*t).find("\"wait_ms\"") != std::string::npos);
  }
}

TEST_CASE("report: step durations are working days of the held calendar, across a holiday",
          "[report]") {
  test::TempDir dir("liandong-report-test");
  auto store = make_store(dir, test::kCounty);
  // 2026: 国庆节 10-01..10-07 rest days; 09-20 (Sunday) and 10-10 (Saturday)
  // worked (调休上班).
  const std::vector<std::string> holiday_dates = {"2026-10-01", "2026-10-02", "2026-10-03",
                                                  "2026-10-04", "2026-10-05", "2026-10-06",
                                                  "2026-10-07"};
  const std::vector<std::string> workday_dates = {"2026-09-20", "2026-10-10"};
  std::string document = "year = 2026\nholidays = [";
  std::set<int64_t> holidays, workdays;
  for (const auto& d : holiday_dates) {
    document += "\"" + d + "\",";
    holidays.insert(*parse_date(d));
  }
  document += "]\nworkdays = [";
  for (const auto& d : workday_dates) {
    document += "\"" + d + "\",";
    workdays.insert(*parse_date(d));
  }
  document += "]\n";

  Forge forge(false);
  std::vector<std::string> sealed;
  const bool held = GENERATE(true, false);
  INFO((held ? "with the 2026 calendar held" : "with no calendar held (weekends only)"));
  if (held) {
    sealed.push_back(forge.broadcast(kCounty, make_hlc(china_ms(*parse_date("2026-01-02"), 9), 0),
                                     [&](proto::Event::Builder ev) {
                                       auto b = ev.getBody().initCalendarPublished();
                                       b.setYear(2026);
                                       b.setDocument(capnp::Data::Reader(
                                           reinterpret_cast<const capnp::byte*>(document.data()),
                                           document.size()));
                                     }));
  }
  // One case per row: accepted, decided and delivered on these days.
  struct Dates {
    const char* accepted;
    const char* decided;
    const char* delivered;
  };
  const Dates cases[] = {
      {"2026-09-30", "2026-10-10", "2026-10-12"},  // across 国庆节, decided on a make-up day
      {"2026-09-18", "2026-09-21", "2026-09-21"},  // Friday to Monday, a worked Sunday between
      {"2026-09-22", "2026-09-22", "2026-09-29"},  // the same day; a week
  };
  const std::string village = "360723101007";
  int64_t want_decide = 0, want_deliver = 0, calendar_decide = 0;
  for (const auto& c : cases) {
    const int64_t a = *parse_date(c.accepted), d = *parse_date(c.decided),
                  v = *parse_date(c.delivered);
    const Id id = forge.next_id(village);
    sealed.push_back(
        forge.make({.id = id, .case_id = id, .home = village, .hlc = make_hlc(china_ms(a, 9), 0)},
                   test::submitted_body()));
    sealed.push_back(forge.act(village, id, village, make_hlc(china_ms(a, 10), 0),
                               test::accepted_body("2026-12-31")));
    sealed.push_back(
        forge.act(kCounty, id, village, make_hlc(china_ms(d, 11), 0), test::decided_body()));
    sealed.push_back(
        forge.act(village, id, village, make_hlc(china_ms(v, 15), 0), test::delivered_body()));
    want_decide += held ? working_days(a, d, holidays, workdays) : working_days(a, d);
    want_deliver += held ? working_days(d, v, holidays, workdays) : working_days(d, v);
    calendar_decide += d - a;
  }
  std::vector<EventView> views;
  for (const auto& e : sealed)
    views.push_back(test::must_parse(e));
  std::vector<const EventView*> ptrs;
  for (const auto& v : views)
    ptrs.push_back(&v);
  REQUIRE(store->apply(ptrs).ok());

  ReportOptions o;
  o.as_of = *parse_date("2026-11-01");
  const Report r = report(*store, o, GroupBy::none);
  CHECK(r.total.step_cases[kStepDecide] == 3);
  CHECK(r.total.step_days[kStepAccept] == 0);
  CHECK(r.total.step_days[kStepDecide] == want_decide);
  CHECK(r.total.step_days[kStepDeliver] == want_deliver);
  // The counts differ from calendar days (and, across the holiday, from
  // weekends-only counting).
  CHECK(want_decide != calendar_decide);
  CHECK(want_decide == (held ? 3 + 2 + 0 : 7 + 1 + 0));
  CHECK(want_deliver == (held ? 1 + 0 + 5 : 1 + 0 + 5));
  // The pure function agrees, given the calendar.
  storage::Calendar cal;
  if (held) {
    auto y = storage::parse_calendar(document, "test");
    REQUIRE(y.ok());
    cal.add(*y);
  }
  CHECK(step_days(*parse_date("2026-09-30"), *parse_date("2026-10-10"), cal) == (held ? 3 : 7));
}

TEST_CASE("report: a case is on time only against a promised day", "[report]") {
  storage::Calendar cal;
  storage::CalendarYear y;
  y.year = 2026;
  for (int d = 1; d <= 7; ++d)
    y.holidays.push_back(storage::Date{2026, 10, d});  // 国庆节
  y.workdays.push_back(storage::Date{2026, 10, 10});   // 周六调休
  cal.add(y);
  const int64_t sep30 = *parse_date("2026-09-30");
  CaseFacts c;
  c.home = "360723101007";
  c.submitted_day = sep30;
  c.completed = true;
  c.approved = true;
  SECTION("accepted with no date: never on time") {
    c.accepted_day = sep30;
    c.decided_day = sep30;
    CHECK(case_figures(c, sep30, cal).on_time == 0);
    c.due_day = sep30;
    CHECK(case_figures(c, sep30, cal).on_time == 1);
  }
  SECTION("never accepted: the catalog's days from submission, in working days") {
    c.promise_days = 5;  // 10-08, 10-09, 10-10 (调休), 10-12, 10-13
    CHECK(promised_day(c, cal) == *parse_date("2026-10-13"));
    c.decided_day = *parse_date("2026-10-13");
    CHECK(case_figures(c, sep30, cal).on_time == 1);
    c.decided_day = *parse_date("2026-10-14");
    CHECK(case_figures(c, sep30, cal).on_time == 0);
    // Weekends only, the same five days end on 10-07.
    CHECK(promised_day(c, storage::Calendar()) == *parse_date("2026-10-07"));
  }
  SECTION("never accepted, no catalog limit: never on time, never overdue") {
    c.decided_day = sep30;
    CHECK(case_figures(c, sep30, cal).on_time == 0);
    c.completed = false;
    CHECK(case_figures(c, sep30 + 100, cal).overdue == 0);
  }
  SECTION("late steps belong to the level that held the case") {
    c.decided_day = sep30;
    c.taken = "360723101007";
    c.decider = "360723101";
    c.late_holders = {"360723101007", "360723101", "360723101"};
    const Figures f = case_figures(c, sep30, cal);
    CHECK(f.late_steps == 3);
    auto parts = level_figures(c, f, 0);
    CHECK(parts["360723101007"].late_steps == 1);
    CHECK(parts["360723101"].late_steps == 2);
  }
}
