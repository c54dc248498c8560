// Unit tests of the LMDB store (storage/store): dedup, own sequence numbers
// across restarts, refusal of damaged or wrongly signed input, map growth,
// indexes and the integrity check after mixed workloads.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/lmdb_env.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;
namespace fs = std::filesystem;
using namespace std::string_literals;

// A city node (DESIGN.md: 4-digit codes work the same): its jurisdiction
// holds every tier of the test cases, and no test event is its own.
const std::string kCity = "3607";

namespace {

// A fresh directory under the system's temporary directory, removed with
// everything in it at scope exit.
class StoreDir : public liandong::test::TempDir {
 public:
  StoreDir() : liandong::test::TempDir("liandong-store-test") {}
  StoreOptions options(const std::string& sub = "store") const {
    StoreOptions o;
    o.dir = path() / sub;
    return o;
  }
};

std::unique_ptr<Store> create_store(const StoreOptions& opts, const std::string& code) {
  auto s = Store::create(opts, code);
  if (!s.ok()) FAIL("create store: " << s.status().to_string());
  return std::move(s).value();
}

std::unique_ptr<Store> open_store(const StoreOptions& opts) {
  auto s = Store::open(opts);
  if (!s.ok()) FAIL("open store: " << s.status().to_string());
  return std::move(s).value();
}

// Registers the public key of every origin `forge` signs for.
void trust(Store& store, Forge& forge, const std::vector<std::string>& origins) {
  for (const auto& o : origins)
    REQUIRE(store.put_key(o, forge.key(o).pub));
}

StoreStats stats_of(const Store& store) {
  auto s = store.stats();
  if (!s.ok()) FAIL("stats: " << s.status().to_string());
  return *s;
}

std::vector<IngestResult> ingest(Store& store, const std::vector<std::string>& sealed) {
  auto r = store.ingest(sealed);
  if (!r.ok()) FAIL("ingest: " << r.status().to_string());
  return std::move(r).value();
}

std::vector<IngestResult> apply(Store& store, const std::vector<const EventView*>& views) {
  auto r = store.apply(views);
  if (!r.ok()) FAIL("apply: " << r.status().to_string());
  return std::move(r).value();
}

CaseState case_of(const Store& store, const Id& id) {
  auto r = store.get_case(id);
  if (!r.ok()) FAIL("get_case: " << r.status().to_string());
  if (!r->has_value()) FAIL("no case " << format_id(id));
  return **r;
}

void require_integrity(const Store& store) {
  const Status s = store.check_integrity();
  INFO(s.to_string());
  REQUIRE(s);
}

// A local action: the actor, then the body.
LocalDraft draft(const BodyFill& body, Id case_id = {}) {
  return LocalDraft{std::move(case_id), "", [body](proto::Event::Builder ev) {
                      auto a = ev.initActor();
                      a.setName("王小红");
                      a.setRole(proto::Role::AGENT);
                      body(ev);
                    }};
}

StoredEvent stored(Result<StoredEvent> r) {
  if (!r.ok()) FAIL("append_local: " << r.status().to_string());
  return std::move(r).value();
}

// Every own sequence number in the log, in LSN order.
std::vector<uint64_t> own_seqs(const Store& store) {
  std::vector<uint64_t> out;
  const uint64_t last = stats_of(store).last_lsn;
  for (uint64_t lsn = 1; lsn <= last; ++lsn) {
    auto bytes = store.read_log(lsn);
    REQUIRE(bytes.ok());
    REQUIRE(bytes->has_value());
    const EventView v = must_parse(**bytes);
    if (v.id().origin == store.code()) out.push_back(v.id().seq);
  }
  return out;
}

std::vector<const EventView*> pointers(const std::deque<EventView>& views) {
  std::vector<const EventView*> out;
  for (const auto& v : views)
    out.push_back(&v);
  return out;
}

// A joint case homed at the village point, with a duplicate acceptance, a
// withdrawal racing the decision and settling events: the events every node
// of the path would hold, in the order they were made.
struct ConflictedCase {
  Id id;
  std::vector<std::string> sealed;
};

ConflictedCase conflicted_case(Forge& forge, uint64_t t0) {
  ConflictedCase c;
  auto at = [&](uint64_t dt) { return hlc_at(t0 + dt); };
  c.sealed.push_back(forge.submit(kVillage, kVillage, at(0)));
  c.id = must_parse(c.sealed.back()).id();
  auto act = [&](const std::string& origin, uint64_t dt, const BodyFill& body,
                 std::vector<Id> settles = {}) {
    c.sealed.push_back(forge.act(origin, c.id, kVillage, at(dt), body, std::move(settles)));
    return must_parse(c.sealed.back()).id();
  };
  act(kTownship, 10, accepted_body("2023-11-30"));
  const Id dup = act(kVillage, 10, accepted_body("2023-11-29"));  // 两头受理
  act(kTownship, 20, comment_body("以乡镇受理为准"), {dup});
  act(kTownship, 30, escalated_body(kCounty));
  act(kCounty, 40, assigned_body({"林业", "国土"}));
  act(kCounty, 50, opinion_body("林业"));
  act(kCounty, 51, opinion_body("国土", false));
  act(kCounty, 60, decided_body(true));
  const Id w = act(kVillage, 61, withdrawn_body());  // raced the decision
  act(kVillage, 70, withdrawn_body(), {w});          // the withdrawal stands
  act(kVillage, 80, complaint_body());
  return c;
}

}  // namespace

// ---- create and open -------------------------------------------------------------

TEST_CASE("store: create refuses an invalid code or an existing store, open needs a store",
          "[storage]") {
  StoreDir tmp;
  SECTION("invalid codes") {
    for (const char* code : {"", "3607231", "36072310100x", "3607231010071", "360 723"}) {
      CAPTURE(code);
      auto s = Store::create(tmp.options(code[0] ? code : "empty"), code);
      REQUIRE_FALSE(s.ok());
      CHECK(s.status().code() == Code::invalid);
      CHECK_FALSE(fs::exists(tmp.path() / (code[0] ? code : "empty") / "data.mdb"));
    }
  }
  SECTION("an existing store is never overwritten") {
    std::string id;
    {
      auto store = create_store(tmp.options(), kTownship);
      id = store->store_id();
      CHECK(id.size() == 32);
      CHECK(store->code() == kTownship);
      Forge forge;
      trust(*store, forge, {kVillage});
      REQUIRE(ingest(*store, {forge.submit(kVillage, kVillage, hlc_at(1))})[0].outcome ==
              Outcome::stored);
    }
    auto again = Store::create(tmp.options(), kCounty);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == Code::invalid);
    CHECK_THAT(again.status().message(), Catch::Contains("already exists"));
    auto store = open_store(tmp.options());
    CHECK(store->code() == kTownship);
    CHECK(store->store_id() == id);
    CHECK(stats_of(*store).events == 1);
  }
  SECTION("open on an empty or missing directory is not_found") {
    fs::create_directories(tmp.path() / "empty");
    auto empty = Store::open(tmp.options("empty"));
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.status().code() == Code::not_found);
    auto missing = Store::open(tmp.options("missing"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == Code::not_found);
    CHECK_FALSE(fs::exists(tmp.path() / "missing"));
  }
  SECTION("two stores have different store ids") {
    auto a = create_store(tmp.options("a"), kVillage);
    auto b = create_store(tmp.options("b"), kVillage);
    CHECK(a->store_id() != b->store_id());
    const StoreStats s = stats_of(*a);
    CHECK(s.events == 0);
    CHECK(s.cases == 0);
    CHECK(s.last_lsn == 0);
    CHECK(s.next_seq == 1);
    require_integrity(*a);
  }
}

// ---- dedup ---------------------------------------------------------------------

TEST_CASE("store: an event seen twice is stored once", "[storage]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kCounty);
  Forge forge;
  trust(*store, forge, {kVillage, kTownship});
  const std::string sub = forge.submit(kVillage, kVillage, hlc_at(1));
  const std::string acc =
      forge.act(kTownship, Id{kVillage, 1}, kVillage, hlc_at(2), accepted_body());
  const EventView sub_view = must_parse(sub);

  auto expect_once = [&] {
    const StoreStats s = stats_of(*store);
    CHECK(s.events == 1);
    CHECK(s.cases == 1);
    CHECK(s.last_lsn == 1);
    auto lsn = store->find(sub_view.id());
    REQUIRE(lsn.ok());
    CHECK(*lsn == std::optional<uint64_t>(1));
    CHECK(case_of(*store, sub_view.id()).event_count == 1);
    require_integrity(*store);
  };

  SECTION("in one ingested batch") {
    auto r = ingest(*store, {sub, sub});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[0].lsn == 1);
    CHECK(r[1].outcome == Outcome::duplicate);
    CHECK(r[1].lsn == 1);
    expect_once();
  }
  SECTION("in two ingested batches") {
    CHECK(ingest(*store, {sub})[0].outcome == Outcome::stored);
    auto r = ingest(*store, {sub});
    CHECK(r[0].outcome == Outcome::duplicate);
    CHECK(r[0].lsn == 1);
    CHECK(r[0].status);
    expect_once();
  }
  SECTION("in one applied batch") {
    const EventView again = must_parse(sub);
    auto r = apply(*store, {&sub_view, &again});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[1].outcome == Outcome::duplicate);
    CHECK(r[1].lsn == r[0].lsn);
    expect_once();
  }
  SECTION("applied, then ingested, then applied again") {
    CHECK(apply(*store, {&sub_view})[0].outcome == Outcome::stored);
    auto r1 = ingest(*store, {sub});
    CHECK(r1[0].outcome == Outcome::duplicate);
    CHECK(r1[0].lsn == 1);
    auto r2 = apply(*store, {&sub_view});
    CHECK(r2[0].outcome == Outcome::duplicate);
    CHECK(r2[0].lsn == 1);
    expect_once();
  }
  SECTION("after the store is closed and opened again") {
    CHECK(ingest(*store, {sub})[0].outcome == Outcome::stored);
    store.reset();
    store = open_store(tmp.options());
    auto r = ingest(*store, {sub});
    CHECK(r[0].outcome == Outcome::duplicate);
    CHECK(r[0].lsn == 1);
    expect_once();
  }
  SECTION("a duplicate amid new events keeps its first LSN and the others get dense ones") {
    auto r = ingest(*store, {sub, acc, sub, acc});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[1].outcome == Outcome::stored);
    CHECK(r[0].lsn == 1);
    CHECK(r[1].lsn == 2);
    CHECK(r[2].outcome == Outcome::duplicate);
    CHECK(r[2].lsn == 1);
    CHECK(r[3].outcome == Outcome::duplicate);
    CHECK(r[3].lsn == 2);
    CHECK(stats_of(*store).events == 2);
    CHECK(case_of(*store, sub_view.id()).event_count == 2);
    CHECK(case_of(*store, sub_view.id()).status == CaseStatus::accepted);
    require_integrity(*store);
  }
  SECTION("the same id re-signed with other content is still a duplicate") {
    CHECK(ingest(*store, {sub})[0].outcome == Outcome::stored);
    const std::string other = forge.make(
        Head{.id = sub_view.id(), .case_id = sub_view.id(), .home = kVillage, .hlc = hlc_at(1)},
        submitted_body("李四"));
    REQUIRE(other != sub);
    auto r = ingest(*store, {other});
    CHECK(r[0].outcome == Outcome::duplicate);
    CHECK(r[0].lsn == 1);
    CHECK(case_of(*store, sub_view.id()).applicant_name == "张三");
    auto bytes = store->read_log(1);
    REQUIRE(bytes.ok());
    CHECK(**bytes == sub);
    expect_once();
  }
}

// ---- own sequence numbers ---------------------------------------------------------

TEST_CASE("store: own sequence numbers continue across restarts with no gap and no reuse",
          "[storage]") {
  StoreDir tmp;
  const SigningKey key = generate_signing_key();
  auto store = create_store(tmp.options(), kVillage);
  REQUIRE(store->put_key(kVillage, key.pub));

  // An immediate case (即办件) the village point handles to the end.
  const StoredEvent sub = stored(store->append_local(draft(submitted_body()), key));
  const Id case_id = sub.view.id();
  CHECK(case_id == Id{kVillage, 1});
  CHECK(sub.view.case_id() == case_id);
  for (const auto& body : {accepted_body(), decided_body(), delivered_body(), closed_body()})
    stored(store->append_local(draft(body, case_id), key));
  CHECK(case_of(*store, case_id).status == CaseStatus::closed);
  CHECK(stats_of(*store).next_seq == 6);

  SECTION("a refused draft uses no sequence number") {
    auto on_closed = store->append_local(draft(accepted_body(), case_id), key);
    REQUIRE_FALSE(on_closed.ok());
    CHECK(on_closed.status().code() == Code::invalid);
    auto on_missing = store->append_local(draft(accepted_body(), Id{kVillage, 999}), key);
    REQUIRE_FALSE(on_missing.ok());
    CHECK(on_missing.status().code() == Code::not_found);
    auto malformed = store->append_local(draft(rated_body(9), case_id), key);
    REQUIRE_FALSE(malformed.ok());
    CHECK(stats_of(*store).next_seq == 6);
    CHECK(stats_of(*store).events == 5);
    CHECK(stored(store->append_local(draft(comment_body(), case_id), key)).view.id().seq == 6);
  }
  SECTION("refused drafts in the middle of a batch leave the others dense") {
    std::vector<LocalDraft> batch = {
        draft(submitted_body("李四")),
        draft(accepted_body(), case_id),  // refused: the case is closed
        draft(submitted_body("王五")),
        draft(comment_body(), Id{kCounty, 5}),  // refused: no such case here
        draft(rated_body(4), case_id),
    };
    auto r = store->append_local(batch, key);
    REQUIRE(r.size() == 5);
    REQUIRE(r[0].ok());
    CHECK_FALSE(r[1].ok());
    REQUIRE(r[2].ok());
    CHECK_FALSE(r[3].ok());
    REQUIRE(r[4].ok());
    CHECK(r[0]->view.id().seq == 6);
    CHECK(r[2]->view.id().seq == 7);
    CHECK(r[4]->view.id().seq == 8);
    CHECK(r[4]->lsn == r[2]->lsn + 1);
    CHECK(stats_of(*store).next_seq == 9);
  }

  // Restart twice, appending in between: numbering continues.
  for (int restart = 0; restart < 2; ++restart) {
    CAPTURE(restart);
    const uint64_t next = stats_of(*store).next_seq;
    // The last thing before the restart is a refusal: it must not leak a number.
    CHECK_FALSE(store->append_local(draft(accepted_body(), Id{kVillage, 999}), key).ok());
    store.reset();
    store = open_store(tmp.options());
    CHECK(store->code() == kVillage);
    CHECK(stats_of(*store).next_seq == next);
    const StoredEvent more = stored(store->append_local(draft(submitted_body("赵六")), key));
    CHECK(more.view.id().seq == next);
    std::vector<LocalDraft> two = {draft(comment_body("一"), more.view.id()),
                                   draft(comment_body("二"), more.view.id())};
    auto r = store->append_local(two, key);
    REQUIRE(r[0].ok());
    REQUIRE(r[1].ok());
    CHECK(r[0]->view.id().seq == next + 1);
    CHECK(r[1]->view.id().seq == next + 2);
  }

  const std::vector<uint64_t> seqs = own_seqs(*store);
  std::vector<uint64_t> dense(seqs.size());
  for (std::size_t i = 0; i < dense.size(); ++i)
    dense[i] = i + 1;
  CHECK(seqs == dense);  // strictly increasing in LSN order, from 1, no gap
  CHECK(stats_of(*store).next_seq == seqs.size() + 1);
  require_integrity(*store);
}

TEST_CASE("store: a local draft gets the store's identity whatever fill sets", "[storage]") {
  StoreDir tmp;
  const SigningKey key = generate_signing_key();
  auto store = create_store(tmp.options(), kVillage);
  const StoredEvent sub = stored(store->append_local(
      LocalDraft{Id{}, "",
                 [](proto::Event::Builder ev) {
                   write_id(ev.initId(), Id{kCounty, 77});  // not the store's to choose
                   ev.setHome(kCounty);
                   ev.initActor().setName("王小红");
                   submitted_body()(ev);
                 }},
      key));
  CHECK(sub.view.id() == Id{kVillage, 1});
  CHECK(sub.view.case_id() == Id{kVillage, 1});
  CHECK(std::string(sub.view.event().getHome().cStr()) == kVillage);
  CHECK(check_signature(sub.view, key.pub));
  CHECK(sub.view.hlc() > 0);
  const StoredEvent next = stored(store->append_local(draft(comment_body(), sub.view.id()), key));
  CHECK(next.view.hlc() > sub.view.hlc());
  CHECK(std::string(next.view.event().getHome().cStr()) == kVillage);
}

// ---- bad input ---------------------------------------------------------------------

TEST_CASE("store: tampered bytes, wrong keys and unknown origins are rejected", "[storage]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kCounty);
  Forge forge;
  trust(*store, forge, {kVillage});
  const std::string sealed = forge.submit(kVillage, kVillage, hlc_at(1));
  const EventView view = must_parse(sealed);
  const std::size_t ev_at = sealed.find(view.event_bytes());
  const std::size_t sig_at = sealed.find(view.signature());
  REQUIRE(ev_at != std::string::npos);
  REQUIRE(sig_at != std::string::npos);
  auto in_signed = [&](std::size_t pos) {
    return (pos >= ev_at && pos < ev_at + view.event_bytes().size()) ||
           (pos >= sig_at && pos < sig_at + view.signature().size());
  };
  auto flipped = [&](std::size_t pos, unsigned mask) {
    std::string t = sealed;
    t[pos] = static_cast<char>(static_cast<unsigned char>(t[pos]) ^ mask);
    return t;
  };

  SECTION("any byte flipped in the signed event or its signature: rejected, nothing stored") {
    std::vector<std::string> batch;
    for (std::size_t pos = 0; pos < sealed.size(); ++pos) {
      if (!in_signed(pos)) continue;
      for (unsigned mask : {0x01u, 0x80u, 0xffu})
        batch.push_back(flipped(pos, mask));
    }
    REQUIRE(batch.size() == 3 * (view.event_bytes().size() + view.signature().size()));
    auto r = ingest(*store, batch);
    std::size_t not_rejected = 0;
    for (const auto& x : r) {
      if (x.outcome != Outcome::rejected) ++not_rejected;
      CHECK_FALSE(x.status.message().empty());
    }
    CHECK(not_rejected == 0);
    const StoreStats s = stats_of(*store);
    CHECK(s.events == 0);
    CHECK(s.cases == 0);
    CHECK(s.last_lsn == 0);
  }
  SECTION("any byte flipped anywhere after the event is stored: never a second copy") {
    REQUIRE(ingest(*store, {sealed})[0].outcome == Outcome::stored);
    std::vector<std::string> batch;
    for (std::size_t pos = 0; pos < sealed.size(); ++pos)
      for (unsigned mask : {0x01u, 0x10u, 0x80u, 0xffu})
        batch.push_back(flipped(pos, mask));
    auto r = ingest(*store, batch);
    std::size_t stored_again = 0, rejected = 0;
    for (const auto& x : r) {
      if (x.outcome == Outcome::stored) ++stored_again;
      if (x.outcome == Outcome::rejected) ++rejected;
      if (x.outcome == Outcome::duplicate) CHECK(x.lsn == 1);
    }
    CHECK(stored_again == 0);
    CHECK(rejected > batch.size() / 2);
    CHECK(stats_of(*store).events == 1);
    auto bytes = store->read_log(1);
    REQUIRE(bytes.ok());
    CHECK(**bytes == sealed);
    require_integrity(*store);
  }
  SECTION("every truncation, odd lengths and oversized input: rejected") {
    std::vector<std::string> batch;
    for (std::size_t n = 0; n < sealed.size(); ++n)
      batch.push_back(sealed.substr(0, n));
    batch.push_back(sealed + "\0\0\0"s);
    batch.push_back(std::string(kMaxSignedEventBytes + 8, '\0'));
    auto r = ingest(*store, batch);
    for (std::size_t i = 0; i < r.size(); ++i) {
      CAPTURE(i);
      CHECK(r[i].outcome == Outcome::rejected);
    }
    CHECK(stats_of(*store).events == 0);
  }
  SECTION("signed by a key other than the origin's") {
    Forge impostor;  // same origin code, different key
    const std::string forged = impostor.submit(kVillage, kVillage, hlc_at(1));
    auto r = ingest(*store, {forged});
    CHECK(r[0].outcome == Outcome::rejected);
    CHECK(r[0].status.code() == Code::invalid);
    CHECK_THAT(r[0].status.message(), Catch::Contains("signature"));
    CHECK(stats_of(*store).events == 0);
  }
  SECTION("an origin with no registered key") {
    const std::string unknown = forge.submit(kVillage2, kVillage2, hlc_at(1));
    auto r = ingest(*store, {unknown});
    CHECK(r[0].outcome == Outcome::rejected);
    CHECK_THAT(r[0].status.message(), Catch::Contains("no public key"));
    CHECK(stats_of(*store).events == 0);
    // Registering the key later lets the same bytes in.
    REQUIRE(store->put_key(kVillage2, forge.key(kVillage2).pub));
    CHECK(ingest(*store, {unknown})[0].outcome == Outcome::stored);
  }
  SECTION("a bad event amid good ones rejects only itself") {
    Forge impostor;
    const std::string acc = forge.act(kVillage, view.id(), kVillage, hlc_at(2), accepted_body());
    auto r = ingest(
        *store, {sealed, impostor.submit(kVillage, kVillage, hlc_at(3)), flipped(sig_at, 1), acc});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[1].outcome == Outcome::rejected);
    CHECK(r[2].outcome == Outcome::rejected);
    CHECK(r[3].outcome == Outcome::stored);
    CHECK(r[3].lsn == 2);
    CHECK(case_of(*store, view.id()).status == CaseStatus::accepted);
    require_integrity(*store);
  }
  SECTION("put_key refuses a code that is not one") {
    CHECK(store->put_key("3607231", forge.key(kVillage).pub).code() == Code::invalid);
    CHECK_FALSE(store->key("3607231").value());
    CHECK(store->key(kVillage).value() == forge.key(kVillage).pub);
  }
}

TEST_CASE("store: an event stamped more than a day ahead of the clock is refused", "[storage]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kCounty);
  Forge forge;
  trust(*store, forge, {kVillage});
  const uint64_t ahead = make_hlc(wall_clock_ms() + kMaxClockSkewMs + 3'600'000, 0);
  auto r = ingest(*store, {forge.submit(kVillage, kVillage, ahead),
                           forge.submit(kVillage, kVillage, make_hlc(wall_clock_ms(), 0))});
  CHECK(r[0].outcome == Outcome::rejected);
  CHECK_THAT(r[0].status.message(), Catch::Contains("future"));
  CHECK(r[1].outcome == Outcome::stored);
  CHECK(r[1].lsn == 1);
  require_integrity(*store);
}

// Regression: Store::apply once stored events of the store's own origin
// without moving next_seq past them, so after a restore from backup and a
// re-sync append_local reused their sequence numbers.
TEST_CASE("store: own-origin events received from a peer are never reused as own numbers",
          "[storage]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kVillage);
  Forge before;  // the village before its disk was replaced: same key, older log
  REQUIRE(store->put_key(kVillage, before.key(kVillage).pub));
  auto r = ingest(*store, {before.submit(kVillage, kVillage, hlc_at(1)),
                           before.submit(kVillage, kVillage, hlc_at(2))});
  const bool taken = r[0].outcome == Outcome::stored;
  const StoredEvent local =
      stored(store->append_local(draft(submitted_body()), before.key(kVillage)));
  if (taken) CHECK(local.view.id().seq > 2);
  const Status integrity = store->check_integrity();
  INFO(integrity.to_string());
  CHECK(integrity);
}

// ---- growth -----------------------------------------------------------------------

TEST_CASE("store: the map grows by itself from 1 MiB past 20 MiB of events", "[storage]") {
  StoreDir tmp;
  StoreOptions opts = tmp.options();
  opts.initial_map_bytes = 1u << 20;
  auto store = create_store(opts, kCity);
  Forge forge;
  trust(*store, forge, {kVillage, kTownship, kCounty});
  CHECK(stats_of(*store).map_bytes < (4u << 20));

  // 48 catalogs of 512 KiB from the county, each batch with a few small
  // case events: 24 MiB and more.
  std::mt19937_64 rng(1);
  std::size_t written = 0, events = 0;
  std::vector<std::string> last_batch;
  Id last_case;
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<std::string> sealed;
    for (int i = 0; i < 4; ++i) {
      std::string doc(512u << 10, '\0');
      for (auto& c : doc)
        c = static_cast<char>(rng());
      sealed.push_back(forge.broadcast(kCounty, hlc_at(static_cast<uint64_t>(batch * 10 + i)),
                                       catalog_body(doc)));
    }
    sealed.push_back(forge.submit(kVillage, kVillage, hlc_at(static_cast<uint64_t>(batch * 10))));
    last_case = must_parse(sealed.back()).id();
    sealed.push_back(forge.act(kTownship, last_case, kVillage,
                               hlc_at(static_cast<uint64_t>(batch * 10 + 5)), accepted_body()));
    for (const auto& s : sealed)
      written += s.size();
    events += sealed.size();
    auto r = ingest(*store, sealed);
    for (const auto& x : r) {
      INFO(x.status.to_string());
      REQUIRE(x.outcome == Outcome::stored);
    }
    last_batch = sealed;
  }
  CHECK(written > (20u << 20));
  const StoreStats s = stats_of(*store);
  CHECK(s.events == events);
  CHECK(s.last_lsn == events);
  CHECK(s.cases == 12);
  CHECK(s.map_bytes > (20u << 20));
  for (std::size_t i = 0; i < last_batch.size(); ++i) {
    auto bytes = store->read_log(events - last_batch.size() + 1 + i);
    REQUIRE(bytes.ok());
    REQUIRE(bytes->has_value());
    CHECK(**bytes == last_batch[i]);
  }
  CHECK(case_of(*store, last_case).status == CaseStatus::accepted);
  require_integrity(*store);

  SECTION("and reopens at its grown size with a small initial setting") {
    store.reset();
    auto again = open_store(opts);
    CHECK(stats_of(*again).events == events);
    CHECK(stats_of(*again).map_bytes >= s.map_bytes);
    require_integrity(*again);
    // A further write does not need to grow from 1 MiB again.
    CHECK(ingest(*again, {forge.submit(kVillage, kVillage, hlc_at(999))})[0].outcome ==
          Outcome::stored);
  }
}

// ---- mixed workload and indexes -----------------------------------------------------------

TEST_CASE("store: out-of-order arrival and conflicts leave every index consistent", "[storage]") {
  StoreDir tmp;
  const SigningKey own = generate_signing_key();
  auto store = create_store(tmp.options(), kCity);
  Forge forge;
  trust(*store, forge, {kVillage, kVillage2, kTownship, kCounty});
  REQUIRE(store->put_key(kCity, own.pub));

  const ConflictedCase a = conflicted_case(forge, 0);
  std::deque<EventView> a_views;
  for (const auto& s : a.sealed)
    a_views.push_back(must_parse(s));
  const CaseState a_expected = fold(pointers(a_views));
  REQUIRE(a_expected.status == CaseStatus::withdrawn);
  REQUIRE_FALSE(a_expected.conflict);

  // Case A's events arrive newest first over three batches, its application
  // last: the store holds an incomplete case, then refolds.
  std::vector<std::string> reversed(a.sealed.rbegin(), a.sealed.rend());
  ingest(*store, std::vector<std::string>(reversed.begin(), reversed.begin() + 4));
  {
    const CaseState partial = case_of(*store, a.id);
    CHECK(partial.status == CaseStatus::incomplete);
    CHECK(partial.event_count == 4);
    require_integrity(*store);
  }
  ingest(*store, std::vector<std::string>(reversed.begin() + 4, reversed.end() - 1));
  require_integrity(*store);
  ingest(*store, {reversed.back()});
  CHECK(case_of(*store, a.id) == a_expected);
  require_integrity(*store);

  // Case B: a decision and a withdrawal that raced it, unsettled.
  std::vector<std::string> b;
  b.push_back(forge.submit(kVillage2, kVillage2, hlc_at(100)));
  const Id b_id = must_parse(b.back()).id();
  b.push_back(forge.act(kCounty, b_id, kVillage2, hlc_at(110), accepted_body()));
  b.push_back(forge.act(kCounty, b_id, kVillage2, hlc_at(120), decided_body(false)));
  b.push_back(forge.act(kVillage2, b_id, kVillage2, hlc_at(121), withdrawn_body()));
  // Arrives decision last: the withdrawal applies first, then a refold.
  ingest(*store, {b[0], b[1], b[3]});
  CHECK(case_of(*store, b_id).status == CaseStatus::withdrawn);
  ingest(*store, {b[2]});
  const CaseState b_state = case_of(*store, b_id);
  CHECK(b_state.status == CaseStatus::decided);
  CHECK(b_state.conflict);
  CHECK(b_state.conflicts == std::vector<Id>{must_parse(b[3]).id()});
  require_integrity(*store);

  // Case C: the township's own work, mixed with ingest.
  const StoredEvent c =
      stored(store->append_local(LocalDraft{Id{}, kVillage,
                                            [](proto::Event::Builder ev) {
                                              ev.initActor().setName("市级窗口");
                                              submitted_body("钱七", "林木采伐")(ev);
                                            }},
                                 own));
  CHECK(c.view.id() == Id{kCity, 1});
  stored(store->append_local(draft(accepted_body("2023-12-01"), c.view.id()), own));
  ingest(*store, {forge.act(kVillage, c.view.id(), kVillage, make_hlc(wall_clock_ms() + 1000, 0),
                            comment_body("补充说明"))});
  CHECK(case_of(*store, c.view.id()).event_count == 3);
  CHECK(case_of(*store, c.view.id()).status == CaseStatus::accepted);
  require_integrity(*store);

  // The store's own action is refused while B is in conflict, until settled.
  auto refused = store->append_local(draft(comment_body("催办"), b_id), own);
  CHECK_FALSE(refused.ok());
  stored(store->append_local(LocalDraft{b_id, "",
                                        [&](proto::Event::Builder ev) {
                                          ev.initActor().setName("市级窗口");
                                          auto s = ev.initSettles(1);
                                          write_id(s[0], must_parse(b[3]).id());
                                          withdrawn_body()(ev);
                                        }},
                             own));
  CHECK(case_of(*store, b_id).status == CaseStatus::withdrawn);
  CHECK_FALSE(case_of(*store, b_id).conflict);

  const StoreStats s = stats_of(*store);
  CHECK(s.cases == 3);
  CHECK(s.events == a.sealed.size() + b.size() + 4);
  require_integrity(*store);

  SECTION("case_events returns a case's events in fold order") {
    auto events = store->case_events(a.id);
    REQUIRE(events.ok());
    REQUIRE(events->size() == a.sealed.size());
    std::vector<Id> got;
    std::vector<uint64_t> lsns;
    for (const auto& e : *events) {
      got.push_back(e.view.id());
      lsns.push_back(e.lsn);
    }
    std::vector<const EventView*> sorted = pointers(a_views);
    std::sort(sorted.begin(), sorted.end(),
              [](const EventView* x, const EventView* y) { return order_key(*x) < order_key(*y); });
    std::vector<Id> want;
    for (const auto* v : sorted)
      want.push_back(v->id());
    CHECK(got == want);
    // They arrived newest first: LSNs run the other way.
    CHECK(std::is_sorted(lsns.rbegin(), lsns.rend()));
    for (const auto& e : *events) {
      auto at = store->find(e.view.id());
      REQUIRE(at.ok());
      CHECK(*at == std::optional<uint64_t>(e.lsn));
    }
  }
  SECTION("the state survives a restart") {
    store.reset();
    auto again = open_store(tmp.options());
    CHECK(case_of(*again, a.id) == a_expected);
    CHECK(case_of(*again, b_id).status == CaseStatus::withdrawn);
    require_integrity(*again);
  }
}

TEST_CASE("store: list_cases finds cases by status, by conflict and by home", "[storage]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kCounty);
  Forge forge;
  trust(*store, forge, {kVillage, kVillage2, kTownship, kCounty});
  uint64_t t = 0;
  auto submit = [&](const std::string& village) {
    const std::string s = forge.submit(village, village, hlc_at(t += 10));
    REQUIRE(ingest(*store, {s})[0].outcome == Outcome::stored);
    return must_parse(s).id();
  };
  auto act = [&](const std::string& origin, const Id& c, const BodyFill& body,
                 std::vector<Id> settles = {}) {
    const std::string s = forge.act(origin, c, c.origin, hlc_at(t += 10), body, std::move(settles));
    REQUIRE(ingest(*store, {s})[0].outcome == Outcome::stored);
    return must_parse(s).id();
  };
  const Id s1 = submit(kVillage), s2 = submit(kVillage2);
  const Id acc = submit(kVillage);
  act(kTownship, acc, accepted_body("2023-12-01"));
  const Id dec = submit(kVillage2);
  act(kTownship, dec, accepted_body());
  act(kTownship, dec, decided_body());
  const Id con = submit(kVillage2);
  act(kTownship, con, accepted_body());
  const Id dup = act(kVillage2, con, accepted_body());  // refused: conflict

  auto ids_of = [&](const CaseFilter& f) {
    auto r = store->list_cases(f);
    if (!r.ok()) FAIL("list_cases: " << r.status().to_string());
    std::set<Id> out;
    for (const auto& c : *r)
      out.insert(c.case_id);
    CHECK(out.size() == r->size());  // each case once
    return out;
  };
  auto by_status = [&](CaseStatus st) {
    CaseFilter f;
    f.status = st;
    return ids_of(f);
  };
  CaseFilter conflicts;
  conflicts.conflict_only = true;

  CHECK(ids_of({}) == std::set<Id>{s1, s2, acc, dec, con});
  CHECK(by_status(CaseStatus::submitted) == std::set<Id>{s1, s2});
  CHECK(by_status(CaseStatus::accepted) == std::set<Id>{acc});  // not the one in conflict
  CHECK(by_status(CaseStatus::decided) == std::set<Id>{dec});
  CHECK(by_status(CaseStatus::closed).empty());
  CHECK(ids_of(conflicts) == std::set<Id>{con});
  {
    CaseFilter f;
    f.home_prefix = kVillage2;
    CHECK(ids_of(f) == std::set<Id>{s2, dec, con});
    f.status = CaseStatus::submitted;
    CHECK(ids_of(f) == std::set<Id>{s2});
    f.home_prefix = kTownship;
    CHECK(ids_of(f) == std::set<Id>{s1, s2});
    f.home_prefix = "360723102";
    CHECK(ids_of(f).empty());
  }
  {
    CaseFilter f;
    f.limit = 2;
    CHECK(ids_of(f).size() == 2);
    f.status = CaseStatus::submitted;
    f.limit = 1;
    CHECK(ids_of(f).size() == 1);
  }

  SECTION("the indexes follow a case when it moves on") {
    act(kTownship, s1, accepted_body());
    CHECK(by_status(CaseStatus::submitted) == std::set<Id>{s2});
    CHECK(by_status(CaseStatus::accepted) == std::set<Id>{acc, s1});
    act(kTownship, con, comment_body("以乡镇受理为准"), {dup});  // settles
    CHECK(ids_of(conflicts).empty());
    CHECK(by_status(CaseStatus::accepted) == std::set<Id>{acc, s1, con});
    require_integrity(*store);
  }
  SECTION("the indexes survive a restart") {
    store.reset();
    store = open_store(tmp.options());
    CHECK(by_status(CaseStatus::submitted) == std::set<Id>{s1, s2});
    CHECK(ids_of(conflicts) == std::set<Id>{con});
    require_integrity(*store);
  }
  require_integrity(*store);
}

// ---- text ---------------------------------------------------------------------------

TEST_CASE("store: Chinese text round-trips byte-exact", "[storage]") {
  StoreDir tmp;
  const SigningKey own = generate_signing_key();
  auto store = create_store(tmp.options(), kVillage);
  const std::string applicant = "张三", item = "农村宅基地建房";
  const std::string note = "宅基地位于村东头, 面积120㎡ \xf0\x9f\x8f\xa0";  // with a 4-byte emoji
  const StoredEvent sub = stored(store->append_local(draft(submitted_body(applicant, item)), own));
  const StoredEvent com =
      stored(store->append_local(draft(comment_body(note), sub.view.id()), own));

  Forge forge;
  REQUIRE(store->put_key(kTownship, forge.key(kTownship).pub));
  const std::string remote =
      forge.act(kTownship, sub.view.id(), kVillage, make_hlc(wall_clock_ms() + 1000, 0),
                comment_body("已收件, 请补充户口簿"));
  REQUIRE(ingest(*store, {remote})[0].outcome == Outcome::stored);

  auto check_all = [&](const Store& s) {
    const CaseState st = case_of(s, sub.view.id());
    CHECK(st.applicant_name == applicant);
    CHECK(st.item_name == item);
    CHECK(std::vector<unsigned char>(st.applicant_name.begin(), st.applicant_name.end()) ==
          std::vector<unsigned char>{0xe5, 0xbc, 0xa0, 0xe4, 0xb8, 0x89});
    auto log = s.read_log(com.lsn);
    REQUIRE(log.ok());
    CHECK(**log == com.view.sealed());
    auto remote_log = s.read_log(3);
    REQUIRE(remote_log.ok());
    CHECK(**remote_log == remote);
    auto events = s.case_events(sub.view.id());
    REQUIRE(events.ok());
    REQUIRE(events->size() == 3);
    std::set<std::string> texts;
    for (const auto& e : *events) {
      if (e.view.kind() == EventKind::comment)
        texts.insert(e.view.event().getBody().getComment().getText().cStr());
    }
    CHECK(texts == std::set<std::string>{note, "已收件, 请补充户口簿"});
    auto list = s.list_cases({});
    REQUIRE(list.ok());
    REQUIRE(list->size() == 1);
    CHECK(list->front().applicant_name == applicant);
  };
  check_all(*store);
  store.reset();
  check_all(*open_store(tmp.options()));
}

// ---- order independence through the store --------------------------------------------------

TEST_CASE("store: any arrival order and batching of a case's events gives the fold's state",
          "[storage][property]") {
  const uint64_t seed = 20231114;
  INFO("seed " << seed);
  Forge forge;
  const ConflictedCase c = conflicted_case(forge, 0);
  std::deque<EventView> views;
  for (const auto& s : c.sealed)
    views.push_back(must_parse(s));
  const CaseState expected = fold(pointers(views));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    CAPTURE(round);
    StoreDir tmp;
    auto store = create_store(tmp.options(), kCity);
    trust(*store, forge, {kVillage, kTownship, kCounty});
    std::vector<std::string> order = c.sealed;
    std::shuffle(order.begin(), order.end(), rng);
    // Random batch boundaries, and a duplicate resent now and then.
    std::size_t i = 0;
    for (int batches = 0; i < order.size() && batches < 100; ++batches) {
      const std::size_t n = 1 + rng() % 4;
      std::vector<std::string> batch(
          order.begin() + static_cast<std::ptrdiff_t>(i),
          order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + n)));
      if (i > 0 && rng() % 3 == 0) batch.push_back(order[rng() % i]);
      for (const auto& r : ingest(*store, batch))
        REQUIRE(r.outcome != Outcome::rejected);
      i += n;
    }
    CHECK(case_of(*store, c.id) == expected);
    CHECK(stats_of(*store).events == c.sealed.size());
    require_integrity(*store);
  }
}

TEST_CASE("store: a batch's sync bookkeeping commits with its events, or not at all",
          "[storage][sync]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kTownship);
  Forge forge;
  trust(*store, forge, {kVillage});
  const std::vector<std::string> batch = {forge.submit(kVillage, kVillage, hlc_at(1)),
                                          forge.submit(kVillage, kVillage, hlc_at(2))};
  IngestOptions opts;
  opts.also = [](SyncWriter& w) {
    w.put("rx/" + kVillage, "cursor at " + std::to_string(w.last_lsn()));
  };
  auto r = store->ingest(batch, opts);
  REQUIRE(r.ok());
  CHECK((*r)[1].outcome == Outcome::stored);
  auto v = store->sync_get("rx/" + kVillage);
  REQUIRE(v.ok());
  CHECK(*v == std::optional<std::string>("cursor at 2"));

  SECTION("a throwing callback stores neither events nor cursor") {
    IngestOptions bad;
    bad.also = [](SyncWriter& w) {
      w.put("rx/" + kVillage, "never");
      throw MdbError(MDB_PANIC, "abort on purpose");
    };
    const std::vector<std::string> one = {forge.submit(kVillage, kVillage, hlc_at(3))};
    auto r2 = store->ingest(one, bad);
    CHECK_FALSE(r2.ok());
    CHECK(stats_of(*store).last_lsn == 2);
    CHECK(*store->sync_get("rx/" + kVillage) == std::optional<std::string>("cursor at 2"));
  }
  SECTION("it runs even when every event is a duplicate") {
    IngestOptions again;
    again.also = [](SyncWriter& w) { w.put("rx/" + kVillage, "seen again"); };
    auto r2 = store->ingest(batch, again);
    REQUIRE(r2.ok());
    CHECK((*r2)[0].outcome == Outcome::duplicate);
    CHECK(*store->sync_get("rx/" + kVillage) == std::optional<std::string>("seen again"));
  }
  SECTION("authorize refuses events with its reason and stores the rest") {
    IngestOptions only_first;
    const std::string other = forge.submit(kVillage2, kVillage2, hlc_at(4));
    trust(*store, forge, {kVillage2});
    only_first.authorize = [](const EventView& ev) {
      return ev.id().origin == kVillage ? Status::ok() : Status::invalid("not from this child");
    };
    const std::vector<std::string> two = {forge.submit(kVillage, kVillage, hlc_at(5)), other};
    auto r2 = store->ingest(two, only_first);
    REQUIRE(r2.ok());
    CHECK((*r2)[0].outcome == Outcome::stored);
    CHECK((*r2)[1].outcome == Outcome::rejected);
    CHECK((*r2)[1].status.message() == "not from this child");
    CHECK(stats_of(*store).last_lsn == 3);
  }
  require_integrity(*store);
}

TEST_CASE("store: scan_log, sync_floor, max_seq and reserve_seq", "[storage][sync]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kTownship);
  Forge forge;
  trust(*store, forge, {kVillage, kVillage2});
  std::vector<std::string> batch;
  for (int i = 1; i <= 5; ++i)
    batch.push_back(forge.submit(kVillage, kVillage, hlc_at(i)));
  batch.push_back(forge.submit(kVillage2, kVillage2, hlc_at(9)));
  REQUIRE(store->ingest(batch).ok());

  std::vector<uint64_t> seen;
  REQUIRE(store->scan_log(2, 3, [&](uint64_t lsn, std::string_view bytes) {
    CHECK(bytes == batch[lsn - 1]);
    seen.push_back(lsn);
    return true;
  }));
  CHECK(seen == std::vector<uint64_t>{3, 4, 5});
  seen.clear();
  REQUIRE(store->scan_log(0, 100, [&](uint64_t lsn, std::string_view) {
    seen.push_back(lsn);
    return lsn < 2;
  }));
  CHECK(seen == std::vector<uint64_t>{1, 2});

  REQUIRE(store->sync_put("map/a/" + std::string("\x00\x05", 2), "five"));
  REQUIRE(store->sync_put("map/a/" + std::string("\x00\x09", 2), "nine"));
  REQUIRE(store->sync_put("map/b/" + std::string("\x00\x01", 2), "b one"));
  auto floor = [&](const std::string& prefix, const std::string& key) -> std::string {
    auto f = store->sync_floor(prefix, key);
    REQUIRE(f.ok());
    return *f ? (*f)->second : "none";
  };
  CHECK(floor("map/a/", "map/a/" + std::string("\x00\x07", 2)) == "five");
  CHECK(floor("map/a/", "map/a/" + std::string("\x00\x09", 2)) == "nine");
  CHECK(floor("map/a/", "map/a/" + std::string("\x00\x04", 2)) == "none");
  CHECK(floor("map/b/", "map/b/" + std::string("\x00\x08", 2)) == "b one");
  CHECK(floor("map/c/", "map/c/" + std::string("\x00\x08", 2)) == "none");
  CHECK(store->sync_scan("map/a/")->size() == 2);

  CHECK(*store->max_seq(kVillage) == 5);
  CHECK(*store->max_seq(kVillage2) == 1);
  CHECK(*store->max_seq(kCounty) == 0);
  CHECK(*store->max_seq(kTownship) == 0);

  // A peer holds our events up to seq 41: the next own event is 42.
  REQUIRE(store->reserve_seq(42));
  REQUIRE(store->reserve_seq(7));  // never lowers it
  const StoredEvent own =
      stored(store->append_local(draft(submitted_body()), forge.key(kTownship)));
  CHECK(own.view.id().seq == 42);
  CHECK(stats_of(*store).next_seq == 43);
}

// ---- who publishes ------------------------------------------------------------------

TEST_CASE("store: a catalog, calendar or roster signed by a township or village is refused",
          "[storage][authority]") {
  StoreDir tmp;
  auto store = create_store(tmp.options(), kVillage);
  Forge forge;
  trust(*store, forge, {kTownship, kCounty, kVillage2});
  auto roster_body = [](proto::Event::Builder ev) {
    auto r = ev.getBody().initRosterPublished();
    r.setVersion(1);
    r.setDocument(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>("x"), 1));
  };
  // Validly signed by their origins, received as a peer's batch would be.
  const std::vector<std::string> forged = {
      forge.broadcast(kTownship, hlc_at(1), catalog_body()),
      forge.broadcast(kTownship, hlc_at(2), calendar_body()),
      forge.broadcast(kTownship, hlc_at(3), roster_body),
      forge.broadcast(kVillage2, hlc_at(4), catalog_body()),
  };
  const auto results = ingest(*store, forged);
  REQUIRE(results.size() == forged.size());
  for (const auto& r : results) {
    CHECK(r.outcome == Outcome::rejected);
    CHECK_THAT(r.status.message(),
               Catch::Contains("only a county") || Catch::Contains("only the county publishes"));
  }
  CHECK(stats_of(*store).events == 0);
  auto held = store->notices(EventKind::catalog_published);
  REQUIRE(held.ok());
  CHECK(held->empty());
  // The county's own are taken.
  const auto county = ingest(*store, {forge.broadcast(kCounty, hlc_at(5), catalog_body()),
                                      forge.broadcast(kCounty, hlc_at(6), calendar_body())});
  for (const auto& r : county)
    CHECK(r.outcome == Outcome::stored);
}

TEST_CASE("store: a node below the county cannot make a catalog, calendar or roster",
          "[storage][authority]") {
  StoreDir tmp;
  const SigningKey own = generate_signing_key();
  auto store = create_store(tmp.options(), kTownship);
  auto by = [](BodyFill body) {
    LocalDraft d;
    d.fill = [body](proto::Event::Builder ev) {
      ev.initActor().setName("乡镇便民服务中心");
      body(ev);
    };
    return d;
  };
  auto made = store->append_local(by(catalog_body()), own);
  REQUIRE_FALSE(made.ok());
  CHECK_THAT(made.status().message(), Catch::Contains("只有县级节点发布事项目录"));
  made = store->append_local(by(calendar_body()), own);
  REQUIRE_FALSE(made.ok());
  CHECK_THAT(made.status().message(), Catch::Contains("只有县级节点发布工作日历"));
  CHECK(stats_of(*store).events == 0);
}
