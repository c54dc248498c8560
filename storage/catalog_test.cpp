#include "storage/catalog.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <lmdb.h>

#include "storage/store.h"
#include "storage/test_documents.h"
#include "storage/test_events.h"
#include "storage/test_store.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;

namespace {

// Two items, one with [item.limits] and [[item.material]] tables; the
// error checks below name its lines.
const std::string& good() {
  static const std::string text = liandong::test::test_data("catalog-small.toml");
  return text;
}

// The error message of parsing `text`, which must fail.
std::string error_of(const std::string& text) {
  auto r = parse_catalog(text, "cat.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::invalid);
  return r.status().message();
}

// good() with `from` replaced by `to` (must occur).
std::string with(const std::string& from, const std::string& to) {
  std::string s = good();
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("catalog: a material may ask that its scan be kept as taken", "[catalog]") {
  {
    auto r = parse_catalog(good(), "cat.toml");
    REQUIRE(r.ok());
    CHECK_FALSE(r->find("LY-001")->materials[2].original_scan);  // default: reduced
  }
  auto r =
      parse_catalog(with("later_ok = true", "later_ok = true\noriginal_scan = true"), "cat.toml");
  REQUIRE(r.ok());
  CHECK(r->find("LY-001")->materials[2].original_scan);
  CHECK(error_of(with("later_ok = true", "later_ok = true\noriginal_scan = 1"))
            .find("original_scan: must be true or false") != std::string::npos);
}

TEST_CASE("catalog: a good document parses with every public item", "[catalog]") {
  auto r = parse_catalog(good(), "cat.toml");
  REQUIRE(r.ok());
  const Catalog& c = *r;
  CHECK(c.version == 3);
  CHECK(c.title == "示例县政务服务事项目录");
  REQUIRE(c.items.size() == 2);
  const CatalogItem* ly = c.find("LY-001");
  REQUIRE(ly != nullptr);
  CHECK(ly->name == "林木采伐许可");
  CHECK(ly->level == DecidingLevel::county);
  CHECK(ly->handling == Handling::escalated);
  CHECK(ly->departments == std::vector<std::string>{"林业"});
  CHECK(ly->procedure.size() == 3);
  REQUIRE(ly->materials.size() == 3);
  CHECK_FALSE(ly->materials[0].original);
  CHECK(ly->materials[1].original);
  CHECK(ly->materials[2].later_ok);
  CHECK(ly->materials[2].count == 1);
  CHECK(ly->limits.village_forward == 1);
  CHECK(ly->limits.county_decide == 3);
  CHECK(ly->limits.township_reply == 3);  // default
  CHECK(ly->limits.village_notify == 2);  // default
  CHECK(ly->total_days() == 1 + 3 + 3 + 2);
  CHECK(ly->complaint_phone == "0797-12345");  // the catalog's default
  CHECK(c.find("ZX-001")->complaint_phone == "0797-88888");
  CHECK(c.find("nope") == nullptr);
}

TEST_CASE("catalog: bad documents are refused naming the key and line", "[catalog]") {
  SECTION("syntax") {
    CHECK(error_of("version = \n").starts_with("cat.toml:1: syntax"));
  }
  SECTION("unknown key") {
    auto e = error_of(with("fee_fen = 0", "fee = 0"));
    CHECK(e.starts_with("cat.toml:15: item[0].fee: unknown key"));
  }
  SECTION("unknown top-level key") {
    CHECK(error_of(with("title =", "titel =")).starts_with("cat.toml:2: titel: unknown key"));
  }
  SECTION("wrong type") {
    auto e = error_of(with("version = 3", "version = \"3\""));
    CHECK(e.starts_with("cat.toml:1: version: must be an integer"));
    auto later = error_of(with("later_ok = true", "later_ok = \"yes\""));
    INFO(later);
    CHECK(later.starts_with("cat.toml:31: item[0].material[2].later_ok: must be true or false"));
  }
  SECTION("missing version") {
    CHECK(error_of(with("version = 3", "")).find("version: missing") != std::string::npos);
  }
  SECTION("impossible values") {
    CHECK(error_of(with("version = 3", "version = 0"))
              .starts_with("cat.toml:1: version: 0 is not a positive integer (allowed 1.."));
    CHECK(error_of(with("version = 3", "version = 3000000000")).find("out of range") !=
          std::string::npos);
    CHECK(error_of(with("county_decide = 3", "county_decide = -1"))
              .starts_with("cat.toml:19: item[0].limits.county_decide: -1 is out of range"));
    CHECK(error_of(with("level = \"county\"", "level = \"city\""))
              .starts_with("cat.toml:9: item[0].level: 'city' is not village"));
    CHECK(error_of(with("handling = \"escalated\"", "handling = \"fast\""))
              .find("item[0].handling") != std::string::npos);
    CHECK(error_of(with("form = \"copy\"", "form = \"scan\"")).find("not original or copy") !=
          std::string::npos);
    CHECK(error_of(with("fee_fen = 0", "fee_fen = -5")).find("item[0].fee_fen") !=
          std::string::npos);
    // A joint item needs two departments; two departments need joint.
    CHECK(error_of(with("handling = \"escalated\"", "handling = \"joint\""))
              .find("at least two departments") != std::string::npos);
    CHECK(error_of(with("[\"林业\"]", "[\"林业\", \"国土\"]")).find("must be joint") !=
          std::string::npos);
    // The township does not decide with a county limit.
    CHECK(
        error_of(with("level = \"county\"", "level = \"township\"")).find("limits.county_decide") !=
        std::string::npos);
    CHECK(error_of(with("code = \"LY-001\"", "code = \"LY 001\"")).find("is not an item code") !=
          std::string::npos);
    CHECK(error_of(with("name = \"林权证\"", "name = \"居民身份证\"")).find("listed twice") !=
          std::string::npos);
  }
  SECTION("duplicate item codes") {
    auto e = error_of(with("code = \"ZX-001\"", "code = \"LY-001\""));
    INFO(e);
    CHECK(e.starts_with("cat.toml:34: item[1].code: item code 'LY-001' is used twice"));
  }
  SECTION("no items") {
    CHECK(error_of("version = 1\n").find("no [[item]]") != std::string::npos);
  }
}

TEST_CASE("catalog: the example catalog parses", "[catalog]") {
  const std::string text = liandong::test::example_document("catalog-example.toml");
  REQUIRE_FALSE(text.empty());
  auto r = parse_catalog(text, "catalog-example.toml");
  INFO(r.status().message());
  REQUIRE(r.ok());
  CHECK(r->items.size() >= 20);
  bool consult = false, joint = false, later = false;
  for (const auto& item : r->items) {
    consult = consult || item.handling == Handling::consult;
    joint = joint || item.handling == Handling::joint;
    for (const auto& m : item.materials)
      later = later || m.later_ok;
    CHECK_FALSE(item.legal_basis.empty());
  }
  CHECK(consult);
  CHECK(joint);
  CHECK(later);
}

// ---- the notices and arrivals indexes of the store ------------------------

namespace {

test::BodyFill catalog_v(uint32_t version, std::string document) {
  return [=](proto::Event::Builder ev) {
    auto b = ev.getBody().initCatalogPublished();
    b.setVersion(version);
    b.setDocument(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(document.data()),
                                      document.size()));
  };
}

std::unique_ptr<Store> must(Result<std::unique_ptr<Store>> r) {
  if (!r.ok()) FAIL(r.status().to_string());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("store: broadcasts are indexed in notices, every event gets an arrival time",
          "[catalog][storage]") {
  test::TempDir tmp("liandong-catalog-test");
  StoreOptions opts;
  opts.dir = tmp.path() / "store";
  test::Forge forge;
  {
    auto store = must(Store::create(opts, test::kVillage));
    REQUIRE(store->put_key(test::kCounty, forge.key(test::kCounty).pub));
    REQUIRE(store->put_key(test::kVillage, forge.key(test::kVillage).pub));
    std::vector<std::string> batch = {
        forge.broadcast(test::kCounty, test::hlc_at(1), catalog_v(2, "v2")),
        forge.submit(test::kVillage, test::kVillage, test::hlc_at(2)),
        forge.broadcast(test::kCounty, test::hlc_at(3), catalog_v(1, "v1")),
        forge.broadcast(test::kCounty, test::hlc_at(4), test::calendar_body()),
    };
    const uint64_t before =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    auto r = store->ingest(batch);
    REQUIRE(r.ok());
    for (const auto& x : *r)
      REQUIRE(x.outcome == Outcome::stored);
    auto cats = store->notices(EventKind::catalog_published);
    REQUIRE(cats.ok());
    REQUIRE(cats->size() == 2);
    CHECK((*cats)[0].number == 1);
    CHECK((*cats)[0].document == "v1");
    CHECK((*cats)[0].lsn == 3);
    CHECK((*cats)[1].number == 2);
    CHECK((*cats)[1].origin == test::kCounty);
    CHECK((*cats)[1].document == "v2");
    auto cals = store->notices(EventKind::calendar_published);
    REQUIRE(cals.ok());
    REQUIRE(cals->size() == 1);
    CHECK(cals->front().number == 2024);
    CHECK_FALSE(store->notices(EventKind::submitted).ok());
    for (uint64_t lsn = 1; lsn <= 4; ++lsn) {
      auto at = store->arrival_ms(lsn);
      REQUIRE(at.ok());
      REQUIRE(at->has_value());
      CHECK(**at >= before);
    }
    auto none = store->arrival_ms(99);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    // One entry per commit: a later commit's events get its own time, the
    // earlier ones keep theirs.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const uint64_t second =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
    auto r2 = store->ingest(
        std::vector<std::string>{forge.submit(test::kVillage, test::kVillage, test::hlc_at(5)),
                                 forge.submit(test::kVillage, test::kVillage, test::hlc_at(6))});
    REQUIRE(r2.ok());
    for (uint64_t lsn = 1; lsn <= 6; ++lsn) {
      CAPTURE(lsn);
      auto at = store->arrival_ms(lsn);
      REQUIRE(at.ok());
      REQUIRE(at->has_value());
      if (lsn <= 4) {
        CHECK(**at < second);
      } else {
        CHECK(**at >= second);
      }
    }
    CHECK_FALSE(store->arrival_ms(7)->has_value());
    CHECK_FALSE(store->arrival_ms(0)->has_value());
    CHECK(store->check_integrity());
  }
  SECTION("a store made before `notices` existed fills it from the log on open") {
    {
      MDB_env* env = nullptr;
      REQUIRE(mdb_env_create(&env) == 0);
      REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
      REQUIRE(mdb_env_open(env, opts.dir.c_str(), 0, 0600) == 0);
      MDB_txn* txn = nullptr;
      REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
      MDB_dbi dbi;
      REQUIRE(mdb_dbi_open(txn, "notices", 0, &dbi) == 0);
      REQUIRE(mdb_drop(txn, dbi, 1) == 0);
      REQUIRE(mdb_txn_commit(txn) == 0);
      mdb_env_close(env);
    }
    auto store = must(Store::open(opts));
    auto cats = store->notices(EventKind::catalog_published);
    REQUIRE(cats.ok());
    CHECK(cats->size() == 2);
    CHECK(store->check_integrity());
  }
  SECTION("a local broadcast is indexed too, and check notices a missing entry") {
    auto store = must(Store::open(opts));
    LocalDraft d;
    d.fill = [](proto::Event::Builder ev) {
      ev.initActor().setName("县政务服务中心");
      catalog_v(5, "v5")(ev);
    };
    // Only the county publishes a catalog (authority.h may_publish): the
    // village's own is refused and indexes nothing.
    auto refused = store->append_local(d, forge.key(test::kVillage));
    CHECK_FALSE(refused.ok());
    REQUIRE(store->notices(EventKind::catalog_published)->size() == 2);
    StoreOptions county_opts;
    county_opts.dir = opts.dir.parent_path() / "county";
    store = must(Store::create(county_opts, test::kCounty));
    auto stored = store->append_local(d, forge.key(test::kCounty));
    INFO(stored.status().to_string());
    REQUIRE(stored.ok());
    auto cats = store->notices(EventKind::catalog_published);
    REQUIRE(cats.ok());
    REQUIRE(cats->size() == 1);
    CHECK(cats->back().origin == test::kCounty);
    CHECK(cats->back().lsn == stored->lsn);
    auto at = store->arrival_ms(stored->lsn);
    REQUIRE(at.ok());
    CHECK(at->has_value());
    CHECK(store->check_integrity());
  }
}

TEST_CASE("catalog cache: a case is handled by the version it was submitted with",
          "[catalog][storage]") {
  test::TempStore store(test::kVillage, "liandong-catalog-cache-test");
  test::Forge forge;
  REQUIRE(store->put_key(test::kCounty, forge.key(test::kCounty).pub));
  REQUIRE(store->put_key(test::kVillage, forge.key(test::kVillage).pub));
  SECTION("no catalog held") {
    CatalogCache cache(*store);
    auto none = cache.get(0);
    REQUIRE(none.ok());
    CHECK(*none == nullptr);
    auto v3 = cache.get(3);
    REQUIRE(v3.ok());
    CHECK(*v3 == nullptr);
  }
  SECTION("versions 1 and 2 held") {
    // Version 1 gives the county three working days to decide LY-001,
    // version 2 (published later) two.
    const std::string v1 = with("version = 3", "version = 1");
    std::string v2 = with("version = 3", "version = 2");
    v2.replace(v2.find("county_decide = 3"), 17, "county_decide = 2");
    // The submission names version 3, which this store never received.
    auto r = store->ingest(
        std::vector<std::string>{forge.broadcast(test::kCounty, test::hlc_at(1), catalog_v(1, v1)),
                                 forge.broadcast(test::kCounty, test::hlc_at(2), catalog_v(2, v2)),
                                 forge.submit(test::kVillage, test::kVillage, test::hlc_at(3))});
    REQUIRE(r.ok());
    for (const auto& x : *r)
      REQUIRE(x.outcome == Outcome::stored);
    CatalogCache cache(*store);
    auto first = cache.get(1);
    REQUIRE(first.ok());
    REQUIRE(*first != nullptr);
    CHECK((*first)->version == 1);
    CHECK((*first)->find("LY-001")->limits.county_decide == 3);
    auto newest = cache.get(0);
    REQUIRE(newest.ok());
    REQUIRE(*newest != nullptr);
    CHECK((*newest)->version == 2);
    CHECK((*newest)->find("LY-001")->limits.county_decide == 2);
    // A version not held here: the newest held.
    auto unknown = cache.get(3);
    REQUIRE(unknown.ok());
    REQUIRE(*unknown != nullptr);
    CHECK((*unknown)->version == 2);
    // Asked again: the same parsed catalog, not a new one.
    CHECK(*cache.get(1) == *first);
    // The version the submission named, read from the case's events.
    auto cases = store->list_cases({});
    REQUIRE(cases.ok());
    REQUIRE(cases->size() == 1);
    auto events = store->case_events(cases->front().case_id);
    REQUIRE(events.ok());
    CHECK(submitted_catalog_version(*events) == 3);
    CHECK(submitted_catalog_version({}) == 0);
  }
}
