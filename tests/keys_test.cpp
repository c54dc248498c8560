// Key rotation and revocation (密钥轮换、吊销) across real daemons.
//
// Directory: the county publishes every key it holds to the whole county.
//
// Rotation: a village rolls its signing key with `keys rotate` while its
// daemon runs. Its events signed before and after reach the township and
// the county and verify there; the county confirms the change in its key
// directory, broadcast to the whole tree (a sibling village holds it too);
// a restart keeps the new key.
//
// Revocation: the county revokes a village's key (a stolen laptop). The
// thief makes applications with it, offline, then connects — first to the
// township, then (the township down) straight to the county. Both levels
// hold the events in quarantine, store none of them, record it in the
// audit log and count it in `status`; honest traffic goes on. A replacement
// laptop with new keys then works as before.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/submit.h"

using liandong::test::Json;
using liandong::test::Net;
using liandong::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kV1 = "360723101007";
const std::string kV2 = "360723101008";

// Submits an application at `code`; returns its case id.
std::string submit(const Net& net, const std::string& code, const std::string& applicant,
                   const std::string& id_number) {
  liandong::test::Application a;
  a.applicant = applicant;
  a.id_number = id_number;
  return liandong::test::submit(net, code, a);
}

bool holds(const Net& net, const std::string& code, const std::string& event_id) {
  for (const auto& e : net.events(code)) {
    if (e.id == event_id) return true;
  }
  return false;
}

struct KeyRow {
  std::string code, key, state, reason;
  std::uint64_t trusted_seq = 0;
};

std::vector<KeyRow> key_rows(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"keys", "list", "--json"});
  INFO(code << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  std::vector<KeyRow> out;
  for (const auto& e : j->items)
    out.push_back(
        KeyRow{e.str("code"), e.str("key"), e.str("state"), e.str("reason"), e.u64("trusted_seq")});
  return out;
}

std::string state_of(const Net& net, const std::string& at, const std::string& code,
                     const std::string& key) {
  for (const auto& r : key_rows(net, at)) {
    if (r.code == code && r.key == key) return r.state;
  }
  return "";
}

std::set<std::string> quarantined_ids(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"quarantine", "--json"});
  INFO(code << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  std::set<std::string> ids;
  for (const auto& e : j->items)
    ids.insert(e.str("id"));
  return ids;
}

std::string sign_key(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"keys", "show", "--json"});
  REQUIRE(r.exit_code == 0);
  return liandong::test::parse_json(r.out)->str("sign_key");
}

bool audit_has(const Net& net, const std::string& at, const std::string& what,
               const std::string& text) {
  auto r = net.cli(at, {"audit", "--json"});
  if (r.exit_code != 0) return false;
  auto j = liandong::test::parse_json(r.out);
  if (!j) return false;
  for (const auto& e : j->items) {
    if (e.str("what") != what) continue;
    const std::string all = e.str("subject") + " " + e.str("reason") + " " + e.str("who");
    if (all.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("keys: a village rolls its signing key, old and new events verify everywhere",
          "[keys][security][integration]") {
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}, {kV2, {kTown}}});
  net.start_all();
  const std::string old_key = sign_key(net, kV1);

  const std::string before = submit(net, kV1, "张三", "360723198805123413");
  REQUIRE(wait_until([&] { return holds(net, kCounty, before); }, 30s, 100ms));
  // The county publishes every key it holds: a sibling village can check
  // this village's signatures, and the township's.
  CHECK(wait_until(
      [&] {
        return state_of(net, kV2, kV1, old_key) == "active" &&
               state_of(net, kV2, kTown, sign_key(net, kTown)) == "active";
      },
      30s, 200ms));

  auto rot = net.cli(kV1, {"keys", "rotate", "--actor", "王小红", "--role", "agent", "--json"});
  INFO(rot.err);
  REQUIRE(rot.exit_code == 0);
  auto rj = liandong::test::parse_json(rot.out);
  REQUIRE(rj);
  const std::string new_key = rj->str("new_key");
  const std::string rotation = rj->str("event");
  CHECK(rj->str("old_key") == old_key);
  CHECK(new_key != old_key);
  CHECK(sign_key(net, kV1) == new_key);  // the daemon's key files changed

  // Signed with the new key: stored at the township and the county.
  const std::string after = submit(net, kV1, "李四", "360723199001011234");
  INFO(net.log_tails(20));
  REQUIRE(wait_until([&] { return holds(net, kCounty, after) && holds(net, kTown, after); }, 30s,
                     100ms));
  CHECK(holds(net, kCounty, rotation));
  CHECK(holds(net, kTown, rotation));
  CHECK_FALSE(holds(net, kV2, rotation));  // a sibling does not hold the village's own event

  // The township's reply to the old case goes down and is stored.
  auto acc = net.cli(kTown, {"act", before, "accept", "--actor", "赵六", "--role", "clerk", "--due",
                             "2099-12-31"});
  INFO(acc.err);
  CHECK(acc.exit_code == 0);

  // The county confirms the change in its directory, broadcast to the whole
  // county: the sibling village holds it too.
  REQUIRE(wait_until(
      [&] {
        return state_of(net, kV2, kV1, new_key) == "active" &&
               state_of(net, kV2, kV1, old_key) == "retired";
      },
      30s, 200ms));
  for (const auto& at : {kCounty, kTown}) {
    CHECK(state_of(net, at, kV1, new_key) == "active");
    CHECK(state_of(net, at, kV1, old_key) == "retired");
  }
  CHECK(wait_until([&] { return audit_has(net, kCounty, "key_changed", "keys rotate"); }, 20s,
                   200ms));

  // A restart keeps the new key; its events still verify.
  REQUIRE(net.restart(kV1) == 0);
  CHECK(sign_key(net, kV1) == new_key);
  const std::string later = submit(net, kV1, "周七", "360723197703034562");
  CHECK(wait_until([&] { return holds(net, kCounty, later); }, 30s, 100ms));

  // The link key rolls with the daemon stopped. Until the township's config
  // names the new key the village is refused (fail closed); then it syncs.
  CHECK(net.cli(kV1, {"keys", "rotate", "--link", "--actor", "王小红"}).exit_code ==
        1);  // the daemon holds it
  REQUIRE(net.stop(kV1) == 0);
  const std::string old_link = net.keys(kV1).curve_key;
  auto lr = net.cli(kV1, {"keys", "rotate", "--link", "--json", "--actor", "王小红"});
  INFO(lr.err);
  REQUIRE(lr.exit_code == 0);
  const std::string new_link = liandong::test::parse_json(lr.out)->str("curve_key");
  CHECK(new_link != old_link);
  const std::string offline = submit(net, kV1, "吴十", "36072319650606678X");
  net.start(kV1);
  CHECK(wait_until([&] { return audit_has(net, kTown, "connection_refused", "unknown key"); }, 30s,
                   200ms));
  CHECK_FALSE(holds(net, kTown, offline));
  net.refresh_keys(kV1);
  REQUIRE(net.restart(kTown) == 0);
  REQUIRE(net.restart(kV1) == 0);
  CHECK(wait_until([&] { return holds(net, kCounty, offline); }, 30s, 100ms));

  auto conv = liandong::test::check_converged(net);
  INFO(conv.report);
  CHECK(conv.ok);
  for (const auto& code : net.codes()) {
    auto check = net.cli(code, {"store", "check"});
    INFO(code << ": " << check.err);
    CHECK(check.exit_code == 0);
  }
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("keys: a revoked key's new events are quarantined at every level",
          "[keys][security][integration]") {
  // The village may dial the county directly when its township is down.
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown, kCounty}}, {kV2, {kTown}}});
  net.start_all();
  const std::string stolen_key = sign_key(net, kV1);
  const std::string honest = submit(net, kV1, "张三", "360723198805123413");
  REQUIRE(wait_until([&] { return holds(net, kCounty, honest) && holds(net, kTown, honest); }, 30s,
                     100ms));

  // The laptop is stolen; the county revokes its key.
  REQUIRE(net.stop(kV1) == 0);
  auto rev = net.cli(kCounty, {"keys", "revoke", kV1, "--reason", "代理点笔记本电脑被盗", "--actor",
                               "县政务服务中心管理员", "--role", "director"});
  INFO(rev.err);
  REQUIRE(rev.exit_code == 0);
  CHECK(rev.out.find("已吊销") != std::string::npos);
  REQUIRE(
      wait_until([&] { return state_of(net, kTown, kV1, stolen_key) == "revoked"; }, 30s, 200ms));

  // The thief makes applications offline with the stolen store and keys.
  const std::string forged1 = submit(net, kV1, "假申请人", "36072319991212001X");
  const std::string forged2 = submit(net, kV1, "假申请人二", "360723199912120028");
  net.start(kV1);

  // The township holds them in quarantine, stores neither, counts them.
  INFO(net.log_tails(20));
  REQUIRE(wait_until(
      [&] {
        auto q = quarantined_ids(net, kTown);
        return q.count(forged1) == 1 && q.count(forged2) == 1;
      },
      30s, 200ms));
  CHECK_FALSE(holds(net, kTown, forged1));
  CHECK_FALSE(holds(net, kTown, forged2));
  auto st = net.cli(kTown, {"status", "--json"});
  REQUIRE(st.exit_code == 0);
  auto sj = liandong::test::parse_json(st.out);
  REQUIRE(sj);
  REQUIRE(sj->get("totals") != nullptr);
  CHECK(sj->get("totals")->u64("quarantined") >= 2);

  // Honest traffic goes on: the other village's application reaches the
  // county, and so does the township's audit record of the quarantine.
  const std::string other = submit(net, kV2, "刘八", "360723198001015679");
  CHECK(wait_until([&] { return holds(net, kCounty, other); }, 30s, 100ms));
  CHECK(wait_until([&] { return audit_has(net, kCounty, "event_quarantined", forged1); }, 30s,
                   200ms));

  // The township goes down; the thief's node dials the county itself. The
  // county holds the same events in quarantine, stores none.
  REQUIRE(net.stop(kTown) == 0);
  REQUIRE(wait_until(
      [&] {
        auto q = quarantined_ids(net, kCounty);
        return q.count(forged1) == 1 && q.count(forged2) == 1;
      },
      60s, 200ms));
  CHECK_FALSE(holds(net, kCounty, forged1));
  CHECK_FALSE(holds(net, kCounty, forged2));
  CHECK(holds(net, kCounty, honest));  // signed before the revocation: still valid

  // A replacement laptop: new keys, the county publishes its key; its
  // applications are stored again.
  REQUIRE(net.stop(kV1) == 0);
  net.reinit(kV1, /*keep_keys=*/false);
  const std::string replacement_key = sign_key(net, kV1);
  auto pub = net.cli(kCounty, {"keys", "publish", kV1, replacement_key, "--actor",
                               "县政务服务中心管理员", "--role", "director"});
  INFO(pub.err);
  CHECK(pub.exit_code == 0);
  net.start(kTown);
  net.restart(kCounty);
  net.start(kV1);
  // The revoked key cannot be published again.
  CHECK(net.cli(kCounty, {"keys", "publish", kV1, stolen_key, "--actor", "县政务服务中心管理员"})
            .exit_code == 1);
  const std::string fresh = submit(net, kV1, "张三", "360723198805123413");
  CHECK(wait_until([&] { return holds(net, kCounty, fresh) && holds(net, kTown, fresh); }, 60s,
                   200ms));
  for (const auto& code : {kCounty, kTown}) {
    auto check = net.cli(code, {"store", "check"});
    INFO(code << ": " << check.err);
    CHECK(check.exit_code == 0);
  }
  CHECK(net.unexpected_exits().empty());
}
