// Figures a county can sign: `liandong report --json --by level`, the real
// binary, on a county store of 12,000 generated cases, against the figures
// this test counts itself while it writes them.
//
// The store is built in-process through the storage API with real LMDB
// files: signed events of villages, townships and the county, as their
// nodes would make them (one CLI call per case would take half an hour).
// The county publishes config/catalog-example.toml and the 2026 working-day
// calendar; each case is of a catalog item, taken at a village point, a
// township window or the county hall, passed up as the item's level says,
// decided on the spot or days later, on time or late, rated and complained
// about. The test's own rules (the report's, written again here):
//   即办     decided on the day the case reached the level that decided it
//           (acceptance there, or the hand-over), not a 上报件, and the item
//           is a 即办件 (or a 咨询, answered) in the catalog; a figure of the
//           deciding level
//   上报件   a case taken below the county that the county holds or decides
//   转报乡镇 a village case passed to its township
//   按时办结 decided on or before the 承诺办结日期 its acceptance carried:
//           the catalog's limit in working days of the 2026 calendar
//   ratings and complaints: figures of the level that decided, or that the
//           complaint is against
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "node/identity.h"
#include "protocol/hlc.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/json_reader.h"
#include "tests/run_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using liandong::test::Json;

namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
const std::string kCountyCode = "360723";

using liandong::test::read_text;

// ms at `hour` o'clock China time on day `day` (days since 1970-01-01).
uint64_t china_ms(int64_t day, int64_t hour) {
  return static_cast<uint64_t>(day * kDayMs + (hour - 8) * kHourMs);
}

int64_t day_of_date(const char* text) {
  auto d = storage::parse_date(text);
  REQUIRE(d);
  return storage::days_from_date(*d);
}

// The test's level of a code.
int level(const std::string& code) {
  return code.size() >= 12 ? 0 : code.size() >= 9 ? 1 : 2;  // village, township, county
}

// What the test expects of one level.
struct Expect {
  uint64_t received = 0, completed = 0, on_time = 0, immediate = 0, escalated = 0, forwarded = 0,
           rated = 0, complaints = 0;
  uint64_t ratings[5] = {};
};

// Sealed, signed events of every origin, with per-origin sequence numbers;
// the county signs with the node's own key.
class Signer {
 public:
  Signer(storage::Store& store, const SigningKey& county) : store_(store) {
    keys_.emplace(kCountyCode, county);
  }
  std::string make(const test::Head& h, const test::BodyFill& body) {
    return test::seal_event(h, body, key(h.id.origin));
  }
  Id next_id(const std::string& origin) { return Id{origin, ++seqs_[origin]}; }

 private:
  const SigningKey& key(const std::string& origin) {
    auto it = keys_.find(origin);
    if (it == keys_.end()) {
      it = keys_.emplace(origin, generate_signing_key()).first;
      REQUIRE(store_.put_key(origin, it->second.pub).ok());
    }
    return it->second;
  }
  storage::Store& store_;
  std::map<std::string, SigningKey> keys_;
  std::map<std::string, uint64_t> seqs_;
};

class Workload {
 public:
  Workload(storage::Store& store, Signer& signer, const storage::Catalog& catalog,
           const storage::Calendar& calendar, uint32_t seed)
      : store_(store), signer_(signer), catalog_(catalog), cal_(calendar), rng_(seed) {}

  std::map<std::string, Expect> by_level;
  Expect total;
  uint64_t late = 0, spot_kinds[3] = {};  // mix checks: late decisions, 即办 by deciding level

  void generate(int n) {
    for (int i = 0; i < n; ++i) {
      one_case();
      if (pending_.size() >= 6000) flush();
    }
    flush();
  }

  void emit(std::string sealed) { pending_.push_back(std::move(sealed)); }

  void flush() {
    if (pending_.empty()) return;
    auto r = store_.ingest(pending_);
    REQUIRE(r.ok());
    for (const auto& x : *r) {
      INFO(x.status.to_string());
      REQUIRE(x.outcome == storage::Outcome::stored);
    }
    pending_.clear();
  }

 private:
  int rnd(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return rnd(1, 100) <= percent; }

  void one_case() {
    const std::string township = kCountyCode + std::to_string(101 + rnd(0, 3));
    const std::string village = township + "00" + std::to_string(rnd(1, 5));
    const int where = rnd(1, 100);
    const std::string taker = where <= 70 ? village : where <= 92 ? township : kCountyCode;
    const auto& item =
        catalog_
            .items[static_cast<std::size_t>(rnd(0, static_cast<int>(catalog_.items.size()) - 1))];
    const bool joint = item.departments.size() >= 2;
    // 2026-09-01 .. 2026-10-31, across 国庆节 and its make-up working days.
    const int64_t s_day = day_of_date("2026-09-01") + rnd(0, 60);
    uint64_t t = china_ms(s_day, 9) + static_cast<uint64_t>(rnd(0, 90)) * 60000;
    auto at = [&](int64_t day, int64_t hour) {
      t = std::max(t + 60000, china_ms(day, hour));
      return make_hlc(t, 0);
    };
    auto day_now = [&] { return (static_cast<int64_t>(t) + 8 * kHourMs) / kDayMs; };

    const Id id = signer_.next_id(taker);
    Expect& at_taker = by_level[taker];
    at_taker.received += 1;
    total.received += 1;
    emit(signer_.make({.id = id, .case_id = id, .home = taker, .hlc = make_hlc(t, 0)},
                      [&](proto::Event::Builder ev) {
                        auto b = ev.getBody().initSubmitted();
                        auto a = b.initApplicant();
                        a.setName("王五");
                        a.setIdNumber("360723198001010018");
                        b.setItemCode(item.code);
                        b.setItemName(item.name);
                        b.setCatalogVersion(catalog_.version);
                      }));
    auto act = [&](const std::string& origin, uint64_t hlc, const test::BodyFill& body) {
      emit(signer_.make({.id = signer_.next_id(origin), .case_id = id, .home = taker, .hlc = hlc},
                        body));
    };
    std::string holder = taker;
    // Complaints, now and then, against a level or none (then the holder's).
    auto complaints = [&] {
      if (!chance(6)) return;
      const int k = rnd(1, 2);
      for (int i = 0; i < k; ++i) {
        const int pick = rnd(0, 3);
        const std::string against = pick == 0   ? ""
                                    : pick == 1 ? township
                                    : pick == 2 ? kCountyCode
                                                : taker;
        act(taker, at(day_now(), 16), [&](proto::Event::Builder ev) {
          auto b = ev.getBody().initComplaint();
          b.setText("办理拖延");
          b.setAgainst(against);
        });
        by_level[against.empty() ? holder : against].complaints += 1;
        total.complaints += 1;
      }
    };

    if (chance(4)) {  // withdrawn before acceptance
      act(taker, at(s_day + rnd(0, 1), 15), test::withdrawn_body());
      complaints();
      return;
    }
    // 受理 with the 承诺办结日期 the catalog's limit gives in working days of
    // the calendar; a clerk shortens it now and then.
    const int64_t a_day = s_day + (chance(60) ? 0 : rnd(1, 2));
    const uint64_t a_hlc = at(a_day, 10);
    const int64_t accepted = day_now();
    uint32_t limit = item.total_days();
    if (chance(20) && limit > 3) limit -= static_cast<uint32_t>(rnd(1, 3));
    const int64_t due =
        storage::days_from_date(cal_.add_working_days(storage::date_from_days(accepted), limit));
    act(taker, a_hlc, test::accepted_body(storage::format_date(storage::date_from_days(due))));

    // Passed up as the item's level says: 转报乡镇, then 上报 to the county.
    const int want = item.level == storage::DecidingLevel::county     ? 2
                     : item.level == storage::DecidingLevel::township ? 1
                                                                      : 0;
    int64_t reached = accepted;
    bool escalated = false;
    if (level(holder) == 0 && want >= 1) {
      act(holder, at(day_now() + (chance(70) ? 0 : rnd(1, 2)), 11), test::escalated_body(township));
      holder = township;
      reached = day_now();
      at_taker.forwarded += 1;
      total.forwarded += 1;
    }
    if (level(holder) == 1 && want == 2) {
      act(holder, at(day_now() + (chance(60) ? 0 : rnd(1, 2)), 12),
          test::escalated_body(kCountyCode));
      holder = kCountyCode;
      reached = day_now();
      escalated = true;
      at_taker.escalated += 1;
      total.escalated += 1;
    }
    if (joint) {
      act(holder, at(day_now(), 13), test::assigned_body(item.departments));
      for (const auto& d : item.departments)
        act(holder, at(day_now(), 14), test::opinion_body(d, true));
    }
    if (chance(10)) {  // still open
      complaints();
      return;
    }
    // Decided on the spot, within the limit or late.
    const int speed = rnd(1, 100);
    // Never after 2026-11-25: events stamped in the future are refused.
    const int64_t d_day = std::min(speed <= 45   ? day_now()
                                   : speed <= 85 ? day_now() + rnd(1, 8)
                                                 : due + rnd(1, 6),
                                   day_of_date("2026-11-25"));
    // A question (咨询) is answered; anything else decided.
    const bool consult = item.handling == storage::Handling::consult;
    act(holder, at(d_day, 15), consult ? test::replied_body() : test::decided_body(chance(90)));
    const int64_t decided = day_now();
    Expect& at_decider = by_level[holder];
    const bool spot = decided == reached && !escalated &&
                      (item.handling == storage::Handling::immediate || consult);
    const bool on_time = decided <= due;
    for (Expect* e : {&at_decider, &total}) {
      e->completed += 1;
      e->on_time += on_time ? 1 : 0;
      e->immediate += spot ? 1 : 0;
    }
    if (!on_time) ++late;
    if (spot) ++spot_kinds[level(holder)];
    if (chance(85)) {
      act(taker, at(decided + rnd(0, 2), 16), test::delivered_body());
      if (chance(75)) {
        const int score = chance(70) ? rnd(4, 5) : rnd(1, 3);
        act(taker, at(day_now(), 17), test::rated_body(static_cast<uint8_t>(score)));
        for (Expect* e : {&at_decider, &total}) {
          e->rated += 1;
          e->ratings[score - 1] += 1;
        }
      }
    }
    complaints();
  }

  storage::Store& store_;
  Signer& signer_;
  const storage::Catalog& catalog_;
  const storage::Calendar& cal_;
  std::mt19937 rng_;
  std::vector<std::string> pending_;
};

const Json& member(const Json& j, std::string_view key) {
  const Json* m = j.get(key);
  REQUIRE(m != nullptr);
  return *m;
}

void check_row(const Json& row, const Expect& e) {
  CHECK(row.u64("received") == e.received);
  CHECK(row.u64("completed") == e.completed);
  CHECK(row.u64("completed_on_time") == e.on_time);
  CHECK(row.u64("immediate") == e.immediate);
  CHECK(row.u64("escalated") == e.escalated);
  CHECK(row.u64("forwarded") == e.forwarded);
  CHECK(row.u64("rated") == e.rated);
  CHECK(row.u64("complaints") == e.complaints);
  const Json& r = member(row, "ratings");
  CHECK(r.u64("very_dissatisfied") == e.ratings[0]);
  CHECK(r.u64("dissatisfied") == e.ratings[1]);
  CHECK(r.u64("basically_satisfied") == e.ratings[2]);
  CHECK(r.u64("satisfied") == e.ratings[3]);
  CHECK(r.u64("very_satisfied") == e.ratings[4]);
  // The rates the county signs, from the test's own counts.
  auto rate = [&](std::string_view key, uint64_t part, uint64_t whole) {
    const Json& v = member(row, key);
    if (whole == 0) {
      CHECK(v.type == Json::Type::null);
      return;
    }
    CHECK(std::fabs(std::stod(v.text) - static_cast<double>(part) / static_cast<double>(whole)) <
          1e-4);  // JSON carries rates rounded
  };
  rate("on_time_rate", e.on_time, e.completed);
  rate("immediate_rate", e.immediate, e.completed);
}

}  // namespace

TEST_CASE(
    "figures: 按时办结率 and 即办率 of 12,000 generated cases, per level, equal the test's count",
    "[cli][report][figures]") {
  test::TempDir tmp("liandong-figures");
  const auto data = tmp.path() / "county";
  auto id = node::create_identity(data);
  REQUIRE(id.ok());
  auto created = storage::Store::create(storage::StoreOptions{node::store_dir(data)}, kCountyCode);
  REQUIRE(created.ok());
  std::unique_ptr<storage::Store> store = std::move(created).value();
  REQUIRE(store->put_key(kCountyCode, id->sign.pub).ok());

  const std::string catalog_doc = read_text(LIANDONG_SOURCE_DIR "/config/catalog-example.toml");
  const std::string calendar_doc = read_text(LIANDONG_SOURCE_DIR "/config/calendar-2026.toml");
  auto catalog = storage::parse_catalog(catalog_doc);
  REQUIRE(catalog.ok());
  auto year = storage::parse_calendar(calendar_doc, "calendar-2026.toml");
  REQUIRE(year.ok());
  storage::Calendar calendar;
  calendar.add(*year);

  Signer signer(*store, id->sign);
  Workload w(*store, signer, *catalog, calendar, 20261202);
  // The county publishes its catalog and calendar first.
  auto doc = [](const std::string& s) {
    return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
  };
  const uint64_t pub_hlc = make_hlc(china_ms(day_of_date("2026-08-01"), 9), 0);
  const Id cat_id = signer.next_id(kCountyCode);
  w.emit(signer.make({.id = cat_id, .home = kCountyCode, .hlc = pub_hlc},
                     [&](proto::Event::Builder ev) {
                       auto b = ev.getBody().initCatalogPublished();
                       b.setVersion(catalog->version);
                       b.setDocument(doc(catalog_doc));
                     }));
  const Id cal_id = signer.next_id(kCountyCode);
  w.emit(signer.make({.id = cal_id, .home = kCountyCode, .hlc = pub_hlc + (1u << 16)},
                     [&](proto::Event::Builder ev) {
                       auto b = ev.getBody().initCalendarPublished();
                       b.setYear(2026);
                       b.setDocument(doc(calendar_doc));
                     }));
  w.generate(12000);
  {
    // The store holds the catalog the cases name.
    auto held = storage::held_catalog(*store, catalog->version);
    INFO((held.ok() ? std::string() : held.status().to_string()));
    REQUIRE(held.ok());
    REQUIRE(held->has_value());
  }
  store.reset();  // the report opens the store itself

  // The mix is realistic: every kind of figure is there at every level.
  REQUIRE(w.total.received == 12000);
  CHECK(w.total.completed > 8000);
  CHECK(w.late > 500);
  CHECK(w.total.escalated > 1000);
  CHECK(w.total.forwarded > 2000);
  CHECK(w.spot_kinds[0] + w.spot_kinds[1] > 300);  // 即办 at villages and townships
  CHECK(w.spot_kinds[2] > 30);                     // and at the county's own hall
  CHECK(w.total.complaints > 300);
  CHECK(w.total.ratings[0] > 100);

  auto r = test::run_process({LIANDONG_BIN, "report", "--data", data.string(), "--by", "level",
                              "--as-of", "2026-11-20", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = test::parse_json(r.out);
  REQUIRE(j);
  check_row(member(*j, "total"), w.total);
  std::map<std::string, const Json*> rows;
  for (const auto& row : member(*j, "rows").items)
    rows[row.str("key")] = &row;
  for (const auto& [code, e] : w.by_level) {
    INFO("level " << code);
    REQUIRE(rows.count(code) == 1);
    check_row(*rows[code], e);
    CHECK(rows[code]->str("level") == std::string(level(code) == 0   ? "village"
                                                  : level(code) == 1 ? "township"
                                                                     : "county"));
  }
  // No level the test did not count.
  CHECK(rows.size() == w.by_level.size());
}
