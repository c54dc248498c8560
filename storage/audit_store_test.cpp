// Unit tests of audit events in the store (审计日志): stored once, never
// touching the case tables, indexed in time order in `notices`, kept
// consistent by the integrity check, and never folded into a case.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

std::unique_ptr<Store> make_store(const test::TempDir& dir, const std::string& code) {
  StoreOptions o;
  o.dir = dir.path() / "store";
  auto s = Store::create(o, code);
  if (!s.ok()) FAIL("create store: " << s.status().to_string());
  return std::move(s).value();
}

std::vector<StoredEvent> audit_of(const Store& store, uint64_t since = 0) {
  auto r = store.audit_events(since);
  if (!r.ok()) FAIL("audit_events: " << r.status().to_string());
  return std::move(r).value();
}

std::string reason_of(const StoredEvent& e) {
  return e.view.event().getBody().getAudit().getReason().cStr();
}

}  // namespace

TEST_CASE("store: a received audit event is stored once, indexed, and touches no case",
          "[storage][audit]") {
  test::TempDir tmp("liandong-audit-store");
  auto store = make_store(tmp, kCounty);
  Forge forge;
  REQUIRE(store->put_key(kTownship, forge.key(kTownship).pub));
  REQUIRE(store->put_key(kVillage, forge.key(kVillage).pub));
  const std::string later = forge.broadcast(kTownship, hlc_at(2000), audit_body(3));
  const std::string earlier = forge.broadcast(kVillage, hlc_at(1000), audit_body(1));
  const std::string sub = forge.submit(kVillage, kVillage, hlc_at(1500));
  const Id case_id = must_parse(sub).id();

  auto r = store->ingest(std::vector<std::string>{later, earlier, sub, later});
  REQUIRE(r.ok());
  CHECK((*r)[0].outcome == Outcome::stored);
  CHECK((*r)[1].outcome == Outcome::stored);
  CHECK((*r)[2].outcome == Outcome::stored);
  CHECK((*r)[3].outcome == Outcome::duplicate);

  auto st = store->stats();
  REQUIRE(st.ok());
  CHECK(st->events == 3);
  CHECK(st->cases == 1);  // only the application made a case
  REQUIRE(store->check_integrity());

  // Oldest first, by hlc, not by arrival.
  auto all = audit_of(*store);
  REQUIRE(all.size() == 2);
  CHECK(all[0].view.id().origin == kVillage);
  CHECK(all[1].view.id().origin == kTownship);
  CHECK(all[1].view.event().getBody().getAudit().getCount() == 3);
  CHECK(all[0].view.case_id().empty());
  CHECK(all[1].lsn == 1);
  // --since: from an hlc on.
  auto recent = audit_of(*store, hlc_at(1500));
  REQUIRE(recent.size() == 1);
  CHECK(recent[0].view.id().origin == kTownship);
  CHECK(audit_of(*store, hlc_at(3000)).empty());

  // Not a broadcast: the notices of the broadcast kinds do not list it.
  auto cat = store->notices(EventKind::catalog_published);
  REQUIRE(cat.ok());
  CHECK(cat->empty());
  CHECK_FALSE(store->notices(EventKind::audit).ok());

  // The case is untouched by the audit events.
  auto c = store->get_case(case_id);
  REQUIRE(c.ok());
  REQUIRE(*c);
  CHECK((*c)->event_count == 1);
  auto events = store->case_events(case_id);
  REQUIRE(events.ok());
  CHECK(events->size() == 1);
}

TEST_CASE("store: a local audit event is made by append_local with its own number",
          "[storage][audit]") {
  test::TempDir tmp("liandong-audit-store");
  auto store = make_store(tmp, kTownship);
  const SigningKey key = generate_signing_key();
  REQUIRE(store->put_key(kTownship, key.pub));

  LocalDraft d;
  d.fill = [](proto::Event::Builder ev) {
    ev.initActor().setName("360723101");
    ev.getActor().setRole(proto::Role::SYSTEM);
    audit_body(2)(ev);
  };
  auto first = store->append_local(d, key);
  REQUIRE(first.ok());
  CHECK(first->view.id() == Id{kTownship, 1});
  CHECK(first->view.kind() == EventKind::audit);
  CHECK(std::string(first->view.event().getHome().cStr()) == kTownship);

  SECTION("an audit draft naming a case is refused and uses no number") {
    LocalDraft bad = d;
    bad.case_id = Id{kVillage, 1};
    auto s = store->append_local(bad, key);
    CHECK_FALSE(s.ok());
  }
  SECTION("a malformed audit draft is refused and uses no number") {
    LocalDraft bad;
    bad.fill = [](proto::Event::Builder ev) {
      ev.initActor().setName("360723101");
      audit_body(0)(ev);  // count 0
    };
    auto s = store->append_local(bad, key);
    CHECK_FALSE(s.ok());
  }
  auto second = store->append_local(d, key);
  REQUIRE(second.ok());
  CHECK(second->view.id() == Id{kTownship, 2});
  auto all = audit_of(*store);
  REQUIRE(all.size() == 2);
  CHECK(reason_of(all[0]) == "bad signature");
  CHECK(store->check_integrity());
  auto st = store->stats();
  REQUIRE(st.ok());
  CHECK(st->cases == 0);
}

TEST_CASE("store: audit events stay indexed and consistent across a reopen", "[storage][audit]") {
  test::TempDir tmp("liandong-audit-store");
  Forge forge;
  {
    auto store = make_store(tmp, kCounty);
    REQUIRE(store->put_key(kTownship, forge.key(kTownship).pub));
    auto r = store->ingest(
        std::vector<std::string>{forge.broadcast(kTownship, hlc_at(10), audit_body())});
    REQUIRE(r.ok());
  }
  StoreOptions o;
  o.dir = tmp.path() / "store";
  auto again = Store::open(o);
  REQUIRE(again.ok());
  CHECK((*again)->check_integrity());
  CHECK(audit_of(**again).size() == 1);
}
