// county_gen: writes a county store of generated cases for the analytics
// test (tests/analytics/analytics_test.py) and the export bench
// (bench/run_export.sh), through the storage API with real LMDB files, as
// tests/figures_cli_test.cpp does: signed events of villages, townships and
// the county; the county publishes config/catalog-example.toml, the 2026
// calendar and config/divisions-example.toml first.
//
//   county_gen create --data DIR --cases N [--seed S]
//       a new node directory (identity and store of county 360723) with N cases
//   county_gen append --data DIR --seconds T [--seed S] [--stop-file F]
//       adds a few cases (and complaints on cases it made before) every
//       50 ms for T seconds or until F exists, while other processes read
//       the store; prints the number of events it stored
//
// The village and township keys are kept in DIR/gen-keys (hex secrets) so
// `append` signs as the same origins. Exit 0 on success, 1 on any failure
// (one line on stderr).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "node/identity.h"
#include "protocol/crypto.h"
#include "protocol/hlc.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/store.h"
#include "storage/test_events.h"

using namespace liandong;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
const std::string kCountyCode = "360723";

struct Failure {
  std::string what;
};

void must(const Status& s, const std::string& what) {
  if (!s.is_ok()) throw Failure{what + ": " + s.to_string()};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Failure{"cannot read " + p.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t china_ms(int64_t day, int64_t hour) {
  return static_cast<uint64_t>(day * kDayMs + (hour - 8) * kHourMs);
}

int64_t day_of_date(const char* text) {
  auto d = storage::parse_date(text);
  if (!d) throw Failure{"bad date"};
  return storage::days_from_date(*d);
}

int level(const std::string& code) {
  return code.size() >= 12 ? 0 : code.size() >= 9 ? 1 : 2;
}

// Keys of every origin but the county (the node's own), kept in DIR/gen-keys.
class Signer {
 public:
  Signer(storage::Store& store, const SigningKey& county, fs::path keys_file)
      : store_(store), keys_file_(std::move(keys_file)) {
    keys_.emplace(kCountyCode, county);
    std::ifstream in(keys_file_);
    std::string origin, hex;
    while (in >> origin >> hex) {
      auto bytes = from_hex(hex);
      auto key = bytes ? signing_key_from_secret(*bytes) : std::nullopt;
      if (!key) throw Failure{"bad key in " + keys_file_.string()};
      keys_.emplace(origin, *key);
    }
  }
  std::string make(const test::Head& h, const test::BodyFill& body) {
    return test::seal_event(h, body, key(h.id.origin));
  }
  Id next_id(const std::string& origin) {
    auto it = seqs_.find(origin);
    if (it == seqs_.end()) {
      auto held = store_.max_seq(origin);
      must(held.status(), "max_seq");
      it = seqs_.emplace(origin, *held).first;
    }
    return Id{origin, ++it->second};
  }

 private:
  const SigningKey& key(const std::string& origin) {
    auto it = keys_.find(origin);
    if (it == keys_.end()) {
      it = keys_.emplace(origin, generate_signing_key()).first;
      must(store_.put_key(origin, it->second.pub), "put_key");
      std::ofstream out(keys_file_, std::ios::app);
      out << origin << " "
          << to_hex(std::string_view(reinterpret_cast<const char*>(it->second.secret.data()),
                                     it->second.secret.size()))
          << "\n";
      if (!out) throw Failure{"cannot write " + keys_file_.string()};
    }
    return it->second;
  }
  storage::Store& store_;
  fs::path keys_file_;
  std::map<std::string, SigningKey> keys_;
  std::map<std::string, uint64_t> seqs_;
};

struct Made {
  Id id;
  std::string taker, township;
  uint64_t last_ms = 0;
};

class Workload {
 public:
  Workload(storage::Store& store, Signer& signer, const storage::Catalog& catalog,
           const storage::Calendar& calendar, uint32_t seed)
      : store_(store), signer_(signer), catalog_(catalog), cal_(calendar), rng_(seed) {}

  uint64_t stored = 0;
  std::vector<Made> made;

  void emit(std::string sealed) { pending_.push_back(std::move(sealed)); }

  void flush() {
    if (pending_.empty()) return;
    auto r = store_.ingest(pending_);
    must(r.status(), "ingest");
    for (const auto& x : *r) {
      if (x.outcome != storage::Outcome::stored) throw Failure{"refused: " + x.status.to_string()};
      ++stored;
    }
    pending_.clear();
  }

  void generate(int n) {
    for (int i = 0; i < n; ++i) {
      one_case();
      if (pending_.size() >= 6000) flush();
    }
    flush();
  }

  // A complaint on a case made earlier by this process.
  void complain_again() {
    if (made.empty()) return;
    Made& m = made[static_cast<std::size_t>(rnd(0, static_cast<int>(made.size()) - 1))];
    const uint64_t t =
        std::min<uint64_t>(m.last_ms + 60000, china_ms(day_of_date("2026-11-28"), 10));
    m.last_ms = t;
    emit(signer_.make(
        {.id = signer_.next_id(m.taker), .case_id = m.id, .home = m.taker, .hlc = make_hlc(t, 7)},
        [&](proto::Event::Builder ev) {
          auto b = ev.getBody().initComplaint();
          b.setText("回访时仍有意见");
          b.setAgainst(m.township);
        }));
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
    const int64_t s_day = day_of_date("2026-09-01") + rnd(0, 80);
    uint64_t t = china_ms(s_day, 9) + static_cast<uint64_t>(rnd(0, 90)) * 60000;
    auto at = [&](int64_t day, int64_t hour) {
      t = std::max(t + 60000, china_ms(day, hour));
      return make_hlc(t, 0);
    };
    auto day_now = [&] { return (static_cast<int64_t>(t) + 8 * kHourMs) / kDayMs; };

    const Id id = signer_.next_id(taker);
    const std::string idno = "3607231980" + std::to_string(10000000 + rnd(0, 8999999)).substr(0, 8);
    emit(signer_.make({.id = id, .case_id = id, .home = taker, .hlc = make_hlc(t, 0)},
                      [&](proto::Event::Builder ev) {
                        auto b = ev.getBody().initSubmitted();
                        auto a = b.initApplicant();
                        a.setName(chance(50) ? "王五" : "刘春梅");
                        a.setIdNumber(idno);
                        a.setPhone("138" + std::to_string(10000000 + rnd(0, 89999999)));
                        b.setItemCode(item.code);
                        b.setItemName(item.name);
                        b.setCatalogVersion(catalog_.version);
                        auto m = b.initMaterials(2);
                        m[0].setName("户口簿");
                        m[0].setCount(1);
                        m[0].setOriginal(true);
                        m[1].setName("身份证复印件");
                        m[1].setCount(1);
                        m[1].setState(chance(10) ? proto::MaterialState::LATER
                                                 : proto::MaterialState::PROVIDED);
                      }));
    auto act = [&](const std::string& origin, uint64_t hlc, const test::BodyFill& body) {
      emit(signer_.make({.id = signer_.next_id(origin), .case_id = id, .home = taker, .hlc = hlc},
                        body));
    };
    std::string holder = taker;
    auto complaints = [&] {
      if (!chance(6)) return;
      const int pick = rnd(0, 2);
      const std::string against = pick == 0 ? "" : pick == 1 ? township : kCountyCode;
      act(taker, at(day_now(), 16), [&](proto::Event::Builder ev) {
        auto b = ev.getBody().initComplaint();
        b.setText("办理拖延");
        b.setAgainst(against);
      });
    };
    auto done = [&] { made.push_back({id, taker, township, t}); };
    if (chance(4)) {
      act(taker, at(s_day + rnd(0, 1), 15), test::withdrawn_body());
      complaints();
      return done();
    }
    const int64_t a_day = s_day + (chance(60) ? 0 : rnd(1, 2));
    const uint64_t a_hlc = at(a_day, 10);
    const int64_t accepted = day_now();
    uint32_t limit = item.total_days();
    if (chance(20) && limit > 3) limit -= static_cast<uint32_t>(rnd(1, 3));
    const int64_t due =
        storage::days_from_date(cal_.add_working_days(storage::date_from_days(accepted), limit));
    act(taker, a_hlc, test::accepted_body(storage::format_date(storage::date_from_days(due))));
    const int want = item.level == storage::DecidingLevel::county     ? 2
                     : item.level == storage::DecidingLevel::township ? 1
                                                                      : 0;
    if (level(holder) == 0 && want >= 1) {
      act(holder, at(day_now() + (chance(70) ? 0 : rnd(1, 2)), 11), test::escalated_body(township));
      holder = township;
    }
    if (level(holder) == 1 && want == 2) {
      act(holder, at(day_now() + (chance(60) ? 0 : rnd(1, 2)), 12),
          test::escalated_body(kCountyCode));
      holder = kCountyCode;
    }
    if (joint) {
      act(holder, at(day_now(), 13), test::assigned_body(item.departments));
      for (const auto& d : item.departments)
        act(holder, at(day_now(), 14), test::opinion_body(d, true));
    }
    if (chance(10)) {
      complaints();
      return done();
    }
    const int speed = rnd(1, 100);
    const int64_t d_day = std::min(speed <= 45   ? day_now()
                                   : speed <= 85 ? day_now() + rnd(1, 8)
                                                 : due + rnd(1, 6),
                                   day_of_date("2026-11-25"));
    const bool consult = item.handling == storage::Handling::consult;
    act(holder, at(d_day, 15), consult ? test::replied_body() : test::decided_body(chance(90)));
    const int64_t decided = day_now();
    if (chance(85)) {
      act(taker, at(decided + rnd(0, 2), 16), test::delivered_body());
      if (chance(75)) {
        const int score = chance(70) ? rnd(4, 5) : rnd(1, 3);
        act(taker, at(day_now(), 17), test::rated_body(static_cast<uint8_t>(score)));
      }
    }
    complaints();
    done();
  }

  storage::Store& store_;
  Signer& signer_;
  const storage::Catalog& catalog_;
  const storage::Calendar& cal_;
  std::mt19937 rng_;
  std::vector<std::string> pending_;
};

capnp::Data::Reader doc(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

struct Args {
  std::string mode, data, stop_file;
  int cases = 0;
  double seconds = 0;
  uint32_t seed = 20261203;
};

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc < 2) throw Failure{"usage: county_gen create|append --data DIR ..."};
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--data")
      a.data = v;
    else if (k == "--cases")
      a.cases = std::stoi(v);
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--seed")
      a.seed = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--stop-file")
      a.stop_file = v;
    else
      throw Failure{"unknown option " + k};
  }
  if (a.data.empty() || (a.mode != "create" && a.mode != "append"))
    throw Failure{"usage: county_gen create|append --data DIR ..."};
  return a;
}

int run(const Args& a) {
  const fs::path data = a.data;
  const std::string catalog_doc = read_text(LIANDONG_SOURCE_DIR "/config/catalog-example.toml");
  const std::string calendar_doc = read_text(LIANDONG_SOURCE_DIR "/config/calendar-2026.toml");
  const std::string divisions_doc = read_text(LIANDONG_SOURCE_DIR "/config/divisions-example.toml");
  auto catalog = storage::parse_catalog(catalog_doc);
  must(catalog.status(), "catalog");
  auto year = storage::parse_calendar(calendar_doc, "calendar-2026.toml");
  must(year.status(), "calendar");
  storage::Calendar calendar;
  calendar.add(*year);

  std::unique_ptr<storage::Store> store;
  node::Identity id;
  if (a.mode == "create") {
    auto made = node::create_identity(data);
    must(made.status(), "identity");
    id = std::move(made).value();
    auto created =
        storage::Store::create(storage::StoreOptions{node::store_dir(data)}, kCountyCode);
    must(created.status(), "create store");
    store = std::move(created).value();
    must(store->put_key(kCountyCode, id.sign.pub), "put_key");
  } else {
    auto loaded = node::load_identity(data);
    must(loaded.status(), "identity");
    id = std::move(loaded).value();
    auto opened = storage::Store::open(storage::StoreOptions{node::store_dir(data)});
    must(opened.status(), "open store");
    store = std::move(opened).value();
  }
  Signer signer(*store, id.sign, data / "gen-keys");
  Workload w(*store, signer, *catalog, calendar, a.seed);
  if (a.mode == "create") {
    const uint64_t pub_hlc = make_hlc(china_ms(day_of_date("2026-08-01"), 9), 0);
    auto publish = [&](uint64_t hlc, const test::BodyFill& body) {
      w.emit(
          signer.make({.id = signer.next_id(kCountyCode), .home = kCountyCode, .hlc = hlc}, body));
    };
    publish(pub_hlc, [&](proto::Event::Builder ev) {
      auto b = ev.getBody().initCatalogPublished();
      b.setVersion(catalog->version);
      b.setDocument(doc(catalog_doc));
    });
    publish(pub_hlc + (1u << 16), [&](proto::Event::Builder ev) {
      auto b = ev.getBody().initCalendarPublished();
      b.setYear(2026);
      b.setDocument(doc(calendar_doc));
    });
    publish(pub_hlc + (2u << 16), [&](proto::Event::Builder ev) {
      auto b = ev.getBody().initDivisionsPublished();
      b.setVersion(1);
      b.setDocument(doc(divisions_doc));
    });
    w.generate(a.cases);
    std::printf("%llu\n", static_cast<unsigned long long>(w.stored));
    return 0;
  }
  // append: a trickle of new cases and complaints until told to stop.
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::duration<double>(a.seconds);
  std::mt19937 pick(a.seed);
  for (int round = 0; round < 100000; ++round) {
    if (std::chrono::steady_clock::now() - start >= limit) break;
    if (!a.stop_file.empty() && fs::exists(a.stop_file)) break;
    w.generate(1 + static_cast<int>(pick() % 4));
    if (pick() % 3 == 0) {
      w.complain_again();
      w.flush();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("%llu\n", static_cast<unsigned long long>(w.stored));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const Failure& f) {
    std::fprintf(stderr, "county_gen: %s\n", f.what.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "county_gen: %s\n", e.what());
    return 1;
  }
}
