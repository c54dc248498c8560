// Unit tests of the key directory (storage/keyring.h) and of how the store
// judges events by it: rotation, revocation, quarantine, order independence
// and persistence.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "protocol/routing.h"
#include "storage/keyring.h"
#include "storage/store.h"
#include "storage/test_events.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

std::unique_ptr<Store> make_store(const std::filesystem::path& dir, const std::string& code) {
  StoreOptions o;
  o.dir = dir;
  auto s = Store::create(o, code);
  if (!s.ok()) FAIL("create store: " << s.status().to_string());
  return std::move(s).value();
}

std::unique_ptr<Store> reopen(const std::filesystem::path& dir) {
  StoreOptions o;
  o.dir = dir;
  auto s = Store::open(o);
  if (!s.ok()) FAIL("open store: " << s.status().to_string());
  return std::move(s).value();
}

// An event of `origin` signed with `key` (any key), next in the forge's seq.
std::string signed_with(Forge& forge, const std::string& origin, const SigningKey& key,
                        uint64_t hlc, const BodyFill& body, bool about_case = false) {
  const Id id = forge.next_id(origin);
  Head h{.id = id, .case_id = about_case ? id : Id{}, .home = origin, .hlc = hlc};
  return seal_event(h, body, key);
}

std::vector<IngestResult> ingest(Store& store, const std::vector<std::string>& sealed) {
  auto r = store.ingest(sealed);
  if (!r.ok()) FAIL("ingest: " << r.status().to_string());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("keyring: judging by first key, rotation and revocation", "[storage][keys]") {
  Forge forge;
  const SigningKey k0 = forge.key(kVillage), k1 = generate_signing_key(),
                   k2 = generate_signing_key();
  KeyRing ring;
  // Only the first key is known.
  CHECK(ring.judge(kVillage, 5, k0.pub, k0.pub).verdict == KeyVerdict::ok);
  CHECK(ring.judge(kVillage, 5, k1.pub, k0.pub).verdict == KeyVerdict::unknown_key);
  CHECK(ring.judge(kVillage, 5, k1.pub, std::nullopt).verdict == KeyVerdict::unknown_key);

  // Rotation at seq 3 (forge seqs 1, 2 used by other events).
  forge.next_id(kVillage);
  forge.next_id(kVillage);
  auto rot = must_parse(forge.broadcast(kVillage, hlc_at(10), rotated_body(kVillage, k0, k1)));
  REQUIRE(rot.id().seq == 3);
  auto rows = ring.apply(rot);
  REQUIRE(rows.ok());
  CHECK(rows->size() == 2);
  CHECK(ring.judge(kVillage, 3, k0.pub, k0.pub).verdict == KeyVerdict::ok);  // the rotation itself
  CHECK(ring.judge(kVillage, 4, k0.pub, k0.pub).verdict == KeyVerdict::quarantine);
  CHECK(ring.judge(kVillage, 4, k1.pub, k0.pub).verdict == KeyVerdict::ok);
  CHECK(ring.judge(kVillage, 4, k2.pub, k0.pub).verdict == KeyVerdict::unknown_key);
  CHECK(ring.judge(kTownship, 4, k1.pub, std::nullopt).verdict == KeyVerdict::unknown_key);
  // Applying it again changes nothing.
  CHECK(ring.apply(rot)->empty());

  // The county revokes k1 after seq 7.
  auto rev = must_parse(forge.broadcast(
      kCounty, hlc_at(20), keys_body(kVillage, k1.pub, proto::KeyState::REVOKED, 7, "被盗")));
  REQUIRE(ring.apply(rev).ok());
  CHECK(ring.judge(kVillage, 7, k1.pub, k0.pub).verdict == KeyVerdict::ok);
  const Judgement q = ring.judge(kVillage, 8, k1.pub, k0.pub);
  CHECK(q.verdict == KeyVerdict::quarantine);
  CHECK_THAT(q.reason, Catch::Contains("revoked") && Catch::Contains("被盗"));
  // An active statement never brings a revoked key back.
  auto again = must_parse(
      forge.broadcast(kCounty, hlc_at(30), keys_body(kVillage, k1.pub, proto::KeyState::ACTIVE)));
  REQUIRE(ring.apply(again).ok());
  CHECK(ring.find(kVillage, k1.pub)->state == KeyState::revoked);
  // The county adds a replacement key.
  auto add = must_parse(
      forge.broadcast(kCounty, hlc_at(40), keys_body(kVillage, k2.pub, proto::KeyState::ACTIVE)));
  REQUIRE(ring.apply(add).ok());
  CHECK(ring.judge(kVillage, 100, k2.pub, k0.pub).verdict == KeyVerdict::ok);
}

TEST_CASE("keyring: a rotation must be signed by the key it retires and proved by the new one",
          "[storage][keys]") {
  Forge forge;
  const SigningKey k0 = forge.key(kVillage), k1 = generate_signing_key();
  KeyRing ring;
  // Proof signed by the old key instead of the new one.
  auto bad_proof =
      must_parse(forge.broadcast(kVillage, hlc_at(1), rotated_body(kVillage, k0, k1, false)));
  CHECK_FALSE(ring.apply(bad_proof).ok());
  // Signed with a key other than the one it retires.
  auto wrong_signer = must_parse(signed_with(forge, kVillage, generate_signing_key(), hlc_at(2),
                                             rotated_body(kVillage, k0, k1)));
  CHECK_FALSE(ring.apply(wrong_signer).ok());
  CHECK(ring.rows().empty());
  // A township may not publish keys; entries outside the publisher are refused.
  CHECK_FALSE(
      EventView::parse(forge.broadcast(kTownship, hlc_at(3),
                                       keys_body(kVillage, k1.pub, proto::KeyState::REVOKED)))
          .ok());
  CHECK_FALSE(
      EventView::parse(forge.broadcast("360724", hlc_at(4),
                                       keys_body(kVillage, k1.pub, proto::KeyState::REVOKED)))
          .ok());
}

TEST_CASE("keyring: the directory is the same whatever order its events arrive in",
          "[storage][keys]") {
  Forge forge;
  const SigningKey k0 = forge.key(kVillage), k1 = generate_signing_key(),
                   k2 = generate_signing_key();
  std::vector<EventView> events;
  events.push_back(
      must_parse(forge.broadcast(kVillage, hlc_at(1), rotated_body(kVillage, k0, k1))));
  events.push_back(
      must_parse(signed_with(forge, kVillage, k1, hlc_at(2), rotated_body(kVillage, k1, k2))));
  events.push_back(must_parse(forge.broadcast(
      kCounty, hlc_at(3), keys_body(kVillage, k1.pub, proto::KeyState::REVOKED, 9, "丢失"))));
  events.push_back(must_parse(forge.broadcast(
      kCounty, hlc_at(4), keys_body(kVillage, k1.pub, proto::KeyState::REVOKED, 5, "被盗"))));
  events.push_back(must_parse(
      forge.broadcast(kCounty, hlc_at(5), keys_body(kVillage, k2.pub, proto::KeyState::ACTIVE))));
  std::vector<std::size_t> order(events.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::optional<KeyRing> first;
  int permutations = 0;
  do {
    KeyRing ring;
    for (std::size_t i : order)
      REQUIRE(ring.apply(events[i]).ok());
    if (!first) first = ring;
    CHECK(ring == *first);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 120);
  const KeyRecord* k1_rec = first->find(kVillage, k1.pub);
  REQUIRE(k1_rec != nullptr);
  CHECK(k1_rec->state == KeyState::revoked);
  CHECK(k1_rec->trusted_seq == 2);  // the rotation to k2 (seq 2) retired it before 5 and 9
  CHECK(first->find(kVillage, k2.pub)->state == KeyState::active);
}

TEST_CASE("store: a rotation and the new key's events in one batch, revoked keys quarantined",
          "[storage][keys]") {
  test::TempDir tmp("liandong-keyring");
  const auto dir = tmp.path() / "store";
  Forge forge;
  const SigningKey k0 = forge.key(kVillage), k1 = generate_signing_key();
  {
    auto store = make_store(dir, kTownship);
    REQUIRE(store->put_key(kVillage, k0.pub));
    REQUIRE(store->put_key(kCounty, forge.key(kCounty).pub));
    const std::string before = forge.submit(kVillage, kVillage, hlc_at(1));
    const std::string rot = forge.broadcast(kVillage, hlc_at(2), rotated_body(kVillage, k0, k1));
    const std::string after =
        signed_with(forge, kVillage, k1, hlc_at(3), submitted_body(), /*about_case=*/true);
    const std::string stale =
        signed_with(forge, kVillage, k0, hlc_at(4), submitted_body(), /*about_case=*/true);
    auto r = ingest(*store, {before, rot, after, stale});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[1].outcome == Outcome::stored);
    CHECK(r[2].outcome == Outcome::stored);       // its key came with the rotation before it
    CHECK(r[3].outcome == Outcome::quarantined);  // the retired key, after the rotation
    CHECK_THAT(r[3].status.message(), Catch::Contains("retired"));

    // The county revokes k1 after seq 3; seq 5 signed with it is held.
    const std::string rev = forge.broadcast(
        kCounty, hlc_at(5), keys_body(kVillage, k1.pub, proto::KeyState::REVOKED, 3, "被盗"));
    const std::string stolen =
        signed_with(forge, kVillage, k1, hlc_at(6), submitted_body(), /*about_case=*/true);
    r = ingest(*store, {rev, stolen, stolen});
    CHECK(r[0].outcome == Outcome::stored);
    CHECK(r[1].outcome == Outcome::quarantined);
    CHECK(r[2].outcome == Outcome::quarantined);  // held once, not stored as a duplicate
    // An event signed by nobody's key is refused, not held.
    const std::string forged = signed_with(forge, kVillage, generate_signing_key(), hlc_at(7),
                                           submitted_body(), /*about_case=*/true);
    r = ingest(*store, {forged});
    CHECK(r[0].outcome == Outcome::rejected);
    CHECK_THAT(r[0].status.message(), Catch::Contains("bad signature"));
    auto held = store->quarantined();
    REQUIRE(held.ok());
    CHECK(held->size() == 2);
    auto st = store->stats();
    REQUIRE(st.ok());
    CHECK(st->events == 4);  // before, rot, after, rev
    CHECK(store->check_integrity());
  }
  // The directory outlives the process.
  auto store = reopen(dir);
  CHECK(store->keyring().find(kVillage, k1.pub)->state == KeyState::revoked);
  const std::string stolen2 =
      signed_with(forge, kVillage, k1, hlc_at(8), submitted_body(), /*about_case=*/true);
  CHECK(ingest(*store, {stolen2})[0].outcome == Outcome::quarantined);
  CHECK(store->quarantined()->size() == 3);
  CHECK(store->check_integrity());
}

TEST_CASE("routing: a key rotation belongs at its origin's ancestors and subtree",
          "[storage][keys]") {
  const RouteKey k{kTownship, kTownship, false, true};
  CHECK(belongs_at(kCounty, k));
  CHECK(belongs_at(kTownship, k));
  CHECK(belongs_at(kVillage, k));
  CHECK_FALSE(belongs_at("360723102", k));     // a sibling township
  CHECK_FALSE(belongs_at("360723102001", k));  // a village of the sibling
  CHECK(send_up(kTownship, kCounty, k));
  CHECK(send_down(kVillage, k));
  CHECK_FALSE(send_down(kTownship, RouteKey{kVillage, kVillage, false, true}));  // back to origin
}

TEST_CASE("store: the quarantine holds at most kMaxQuarantined events, then refuses",
          "[storage][keys]") {
  test::TempDir tmp("liandong-quarantine-cap");
  Forge forge;
  const SigningKey k0 = forge.key(kVillage);
  auto store = make_store(tmp.path() / "store", kTownship);
  REQUIRE(store->put_key(kVillage, k0.pub));
  REQUIRE(store->put_key(kCounty, forge.key(kCounty).pub));
  const std::string rev = forge.broadcast(
      kCounty, hlc_at(1), keys_body(kVillage, k0.pub, proto::KeyState::REVOKED, 0, "被盗"));
  REQUIRE(ingest(*store, {rev})[0].outcome == Outcome::stored);
  std::vector<EventView> views;
  for (std::size_t i = 0; i <= kMaxQuarantined; ++i)
    views.push_back(must_parse(forge.submit(kVillage, kVillage, hlc_at(2 + i))));
  std::vector<const EventView*> ptrs;
  for (const auto& v : views)
    ptrs.push_back(&v);
  auto r = store->apply(ptrs);
  REQUIRE(r.ok());
  for (std::size_t i = 0; i < kMaxQuarantined; ++i)
    REQUIRE((*r)[i].outcome == Outcome::quarantined);
  CHECK(r->back().outcome == Outcome::rejected);
  CHECK_THAT(r->back().status.message(), Catch::Contains("quarantine is full"));
  CHECK(store->quarantined()->size() == kMaxQuarantined);
  CHECK(store->stats()->events == 1);
  CHECK(store->check_integrity());
}
