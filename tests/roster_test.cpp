// The staff roster (人员名册) across real daemons: the county publishes who
// holds which role where; every node then refuses actions by people it
// does not list, or with a role it does not list for them, at the CLI and
// through the control socket, and records each refusal in the audit log.
// A node holding no roster follows the level rules alone.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/submit.h"

using liandong::test::Net;
using liandong::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string kCounty = "360723";
const std::string kTown1 = "360723101";
const std::string kTown2 = "360723102";
const std::string kV1 = "360723101007";

// The case id of a homestead application `actor` registers at kV1, or the
// CLI's refusal ("exit 1 after N ms: ...").
std::string submit_json(const Net& net, const std::string& actor, const std::string& role = "") {
  liandong::test::Application a;
  a.actor = actor;
  a.role = role;
  std::string err;
  const auto c = liandong::test::try_submit(net, kV1, a, &err);
  return c ? *c : err;
}

int roster_version(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"roster", "show", "--json"});
  if (r.exit_code != 0) return -1;
  auto j = liandong::test::parse_json(r.out);
  const auto v = j ? j->u64("version") : 0;  // null (no roster) reads as 0
  return v == 0 ? -1 : static_cast<int>(v);
}

bool county_audit_has(const Net& net, const std::string& what, const std::string& text) {
  auto r = net.cli(kCounty, {"audit", "--json"});
  if (r.exit_code != 0) return false;
  const auto j = liandong::test::parse_json(r.out);
  if (!j) return false;
  for (const auto& e : j->items) {
    if (e.str("what") == what &&
        (e.str("who") + " " + e.str("reason") + " " + e.str("actor")).find(text) !=
            std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("roster: the county's roster decides who may act where",
          "[roster][security][integration]") {
  Net net({{kCounty, {}}, {kTown1, {kCounty}}, {kTown2, {kCounty}}, {kV1, {kTown1}}});
  net.start_all();

  // No roster yet: the level rules alone.
  const std::string early = submit_json(net, "临时代理员");
  REQUIRE(early.rfind(kV1 + "-", 0) == 0);

  // Only the county publishes; a broken roster is refused with its line.
  const std::string example = std::string(LIANDONG_SOURCE_DIR) + "/config/roster-example.toml";
  auto by_town = net.cli(
      kTown1, {"roster", "publish", "--version", "1", "--file", example, "--actor", "赵六"});
  CHECK(by_town.exit_code == 1);
  const auto bad = net.root() / "bad-roster.toml";
  std::ofstream(bad) << "version = 1\n[[staff]]\nname = \"甲\"\nrole = \"agent\"\nnode = "
                        "\"360723101007\"\nphone = \"1\"\n";
  auto broken = net.cli(kCounty, {"roster", "publish", "--version", "1", "--file", bad.string(),
                                  "--actor", "李建国"});
  CHECK(broken.exit_code == 2);
  CHECK(broken.err.find("phone") != std::string::npos);
  CHECK(roster_version(net, kCounty) == -1);

  auto pub = net.cli(kCounty, {"roster", "publish", "--version", "1", "--file", example, "--actor",
                               "李建国", "--role", "director"});
  INFO(pub.err);
  REQUIRE(pub.exit_code == 0);
  REQUIRE(wait_until([&] { return roster_version(net, kV1) == 1; }, 30s, 200ms));
  CHECK(roster_version(net, kTown2) == 1);

  // The listed agent acts, with the role the roster gives her.
  const std::string listed = submit_json(net, "王小红");
  INFO(listed);
  REQUIRE(listed.rfind(kV1 + "-", 0) == 0);
  // Someone the roster does not list at this village is refused...
  const std::string stranger = submit_json(net, "张冒名");
  CHECK(stranger.rfind("exit 1", 0) == 0);
  CHECK(stranger.find("不在本节点") != std::string::npos);
  // ...and so is the listed agent claiming another role.
  CHECK(submit_json(net, "王小红", "director").rfind("exit 1", 0) == 0);

  // At the township: its own clerk accepts; a clerk of another township is
  // not listed here.
  REQUIRE(wait_until(
      [&] {
        for (const auto& c : net.cases(kTown1))
          if (c.case_id == listed) return true;
        return false;
      },
      30s, 100ms));
  auto other = net.cli(kTown1, {"act", listed, "accept", "--actor", "钱七", "--role", "clerk",
                                "--due", "2099-12-31"});
  CHECK(other.exit_code == 1);
  auto own = net.cli(kTown1, {"act", listed, "accept", "--actor", "赵六", "--due", "2099-12-31"});
  INFO(own.err);
  CHECK(own.exit_code == 0);

  // Every refusal reaches the county's audit trail.
  CHECK(wait_until([&] { return county_audit_has(net, "role_refused", "张冒名"); }, 30s, 200ms));
  CHECK(wait_until([&] { return county_audit_has(net, "role_refused", "钱七"); }, 30s, 200ms));
  CHECK(county_audit_has(net, "admin_command", "李建国"));
  CHECK(net.unexpected_exits().empty());
}
