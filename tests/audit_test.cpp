// The audit log (审计日志) across a real tree: a village whose link key the
// township does not know, a village whose events the township cannot
// verify, an administrative command and a role refusal at the county. Each
// node records what it saw as `audit` events; they travel up, so the county
// shows the township's records with its own, and the township shows none of
// the county's.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/files.h"
#include "tests/support/submit.h"

using liandong::test::Json;
using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kV1 = "360723101001";  // its link key is not the one the township knows
const std::string kV2 = "360723101002";  // its signing key is not the one the township knows

using liandong::test::read_text;

// Replaces every occurrence of `from` in the file.
void replace_in(const fs::path& p, const std::string& from, const std::string& to) {
  REQUIRE(liandong::test::replace_in_file(p, from, to) > 0);
}

struct AuditRow {
  std::string node, what, who, peer_code, subject, reason, actor;
  std::uint64_t count = 0, first_ms = 0, last_ms = 0;
};

std::vector<AuditRow> audit_rows(const Net& net, const std::string& code,
                                 std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"audit", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = net.cli(code, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  REQUIRE(j->type == Json::Type::array);
  std::vector<AuditRow> out;
  for (const auto& e : j->items) {
    out.push_back(AuditRow{e.str("node"), e.str("what"), e.str("who"), e.str("peer_code"),
                           e.str("subject"), e.str("reason"), e.str("actor"), e.u64("count"),
                           e.u64("first_ms"), e.u64("last_ms")});
  }
  return out;
}

bool has(const std::vector<AuditRow>& rows, const std::string& node, const std::string& what,
         const std::string& text = "") {
  for (const auto& r : rows) {
    if (r.node != node || r.what != what) continue;
    if (text.empty() || r.who.find(text) != std::string::npos ||
        r.subject.find(text) != std::string::npos || r.reason.find(text) != std::string::npos ||
        r.peer_code == text)
      return true;
  }
  return false;
}

std::string describe(const std::vector<AuditRow>& rows) {
  std::string s;
  for (const auto& r : rows)
    s += r.node + " " + r.what + " who=" + r.who + " peer=" + r.peer_code +
         " subject=" + r.subject + " reason=" + r.reason + " x" + std::to_string(r.count) + "\n";
  return s;
}

}  // namespace

TEST_CASE("audit: the county sees the tree's trail, the township only its own subtree's",
          "[audit][integration]") {
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}, {kV2, {kTown}}});
  const auto conf = net.config_path(kTown);
  // The township's config holds its own link key for village 001 and village
  // 001's signing key for village 002.
  replace_in(conf, net.keys(kV1).curve_key, net.keys(kTown).curve_key);
  replace_in(conf, net.keys(kV2).sign_key, net.keys(kV1).sign_key);
  net.start_all();

  // Village 002's application is refused at the township (bad signature).
  const std::string refused_case = liandong::test::submit(net, kV2);

  // An administrative command and a role refusal at the county.
  const fs::path doc = net.root() / "calendar-2026.toml";
  std::ofstream(doc) << "year = 2026\n";
  auto pub = net.cli(kCounty, {"publish", "calendar", "--year", "2026", "--file", doc.string(),
                               "--actor", "县政务服务中心管理员"});
  INFO(pub.err);
  REQUIRE(pub.exit_code == 0);
  auto agent = net.cli(kCounty, {"submit", "--actor", "李四", "--role", "agent", "--item",
                                 "NC-ZJD-001", "--applicant", "张三"});
  CHECK(agent.exit_code == 1);  // an agent acts only at a village point

  std::vector<AuditRow> county;
  const bool seen = wait_until(
      [&] {
        county = audit_rows(net, kCounty);
        return has(county, kTown, "connection_refused", "unknown key") &&
               has(county, kTown, "event_refused", "bad signature") &&
               has(county, kTown, "connection_admitted", kV2) &&
               has(county, kCounty, "admin_command", "publish calendar") &&
               has(county, kCounty, "role_refused", "李四") &&
               has(county, kCounty, "connection_admitted", kTown);
      },
      30s, 200ms);
  INFO("county's audit log:\n" << describe(county) << net.log_tails(20));
  REQUIRE(seen);
  for (const auto& r : county) {
    CHECK(r.count >= 1);
    CHECK(r.first_ms > 0);
    CHECK(r.last_ms >= r.first_ms);
    // Every record comes from the county's own subtree, none from a sibling.
    CHECK(r.node.rfind(kCounty, 0) == 0);
  }
  for (const auto& r : county) {
    if (r.what == "admin_command") CHECK(r.actor == "县政务服务中心管理员");
    // Village 002's events (its application, its own audit records) fail
    // the township's check; repeats within a minute are one record.
    if (r.what == "event_refused") {
      CHECK(r.peer_code == kV2);
      CHECK(r.subject.rfind(kV2 + "-", 0) == 0);
    }
  }

  // The refused application was not stored.
  for (const auto& e : net.events(kTown))
    CHECK(e.id != refused_case);

  // The township holds its own and its villages' records, never the county's.
  auto town = audit_rows(net, kTown);
  INFO("township's audit log:\n" << describe(town));
  CHECK(has(town, kTown, "connection_refused", "unknown key"));
  CHECK(has(town, kTown, "event_refused", "bad signature"));
  for (const auto& r : town)
    CHECK(r.node.rfind(kTown, 0) == 0);
  CHECK_FALSE(has(town, kCounty, "admin_command"));
  CHECK_FALSE(has(town, kCounty, "role_refused"));

  // --since in the future lists nothing; the text view speaks Chinese.
  CHECK(audit_rows(net, kCounty, {"--since", "2099-01-01T00:00"}).empty());
  auto text = net.cli(kCounty, {"audit"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("连接拒绝") != std::string::npos);
  CHECK(text.out.find("拒收事件") != std::string::npos);
  CHECK(text.out.find("管理操作") != std::string::npos);
  CHECK(text.out.find("越权操作") != std::string::npos);
  CHECK(net.cli(kCounty, {"audit", "--since", "2026-13-01"}).exit_code == 2);

  // The stores stay consistent with their audit index.
  for (const auto& code : {kCounty, kTown}) {
    auto check = net.cli(code, {"store", "check"});
    INFO(code << ": " << check.err);
    CHECK(check.exit_code == 0);
  }
  CHECK(net.unexpected_exits().empty());
}
