// The links fail closed: real daemons on loopback, CurveZMQ with the keys
// `liandong init` made, and the parent's ZAP handler admitting only the
// children its config names, each bound to its code. Each test shows the
// refusal (nothing arrives, the parent logs why) and then that honest
// traffic flows once the cause is gone.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kV1 = "360723101001";
const std::string kV2 = "360723101002";

std::vector<NodeSpec> small_tree() {
  return {{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}, {kV2, {kTown}}};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

// Replaces every occurrence of `from` in the file.
void replace_in(const fs::path& p, const std::string& from, const std::string& to) {
  std::string text = read_text(p);
  std::size_t at = 0, n = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
    ++n;
  }
  REQUIRE(n > 0);
  write_text(p, text);
}

std::string submit(const Net& net, const std::string& code) {
  auto r = net.cli(
      code, {"submit", "--actor", "王小红", "--item", "NC-ZJD-001", "--item-name", "农村宅基地建房",
             "--applicant", "张三", "--id-number", "360723198805123417", "--json-out"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  return j->str("case");
}

bool holds(const Net& net, const std::string& code, const std::string& id) {
  for (const auto& e : net.events(code))
    if (e.id == id) return true;
  return false;
}

bool log_has(const Net& net, const std::string& code, const std::string& text) {
  return read_text(net.log_path(code)).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("security: a child whose key the parent does not know is refused", "[security]") {
  Net net(small_tree());
  // The township's config names another key for village 001 (the
  // township's own, which appears nowhere else in that file).
  const auto conf = net.config_path(kTown);
  replace_in(conf, net.keys(kV1).curve_key, net.keys(kTown).curve_key);
  net.start_all();
  const std::string c = submit(net, kV1);
  const std::string honest = submit(net, kV2);
  REQUIRE(wait_until([&] { return holds(net, kTown, honest); }, 15s));
  CHECK_FALSE(wait_until([&] { return holds(net, kTown, c); }, 2s));
  CHECK(log_has(net, kTown, "is not a configured child"));
  CHECK(net.link_state(kV1, kTown) != "up");
  // The administrator fixes the config: the backlog arrives.
  replace_in(conf, net.keys(kTown).curve_key, net.keys(kV1).curve_key);
  REQUIRE(net.restart(kTown) == 0);
  CHECK(wait_until([&] { return holds(net, kCounty, c); }, 20s));
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE("security: a known key presented for another code is refused", "[security]") {
  Net net(small_tree());
  // Swap the two villages' keys in the township's config: each village's key
  // is known, but bound to the other village's code.
  const auto conf = net.config_path(kTown);
  const std::string k1 = net.keys(kV1).curve_key, k2 = net.keys(kV2).curve_key;
  replace_in(conf, k1, "SWAP-PLACEHOLDER-1");
  replace_in(conf, k2, k1);
  replace_in(conf, "SWAP-PLACEHOLDER-1", k2);
  net.start_all();
  const std::string c1 = submit(net, kV1);
  const std::string c2 = submit(net, kV2);
  CHECK_FALSE(wait_until([&] { return holds(net, kTown, c1) || holds(net, kTown, c2); }, 3s));
  CHECK(log_has(net, kTown, "belongs to " + kV2 + ", not to " + kV1));
  CHECK(log_has(net, kTown, "belongs to " + kV1 + ", not to " + kV2));
  // With the right bindings both get through.
  replace_in(conf, k1, "SWAP-PLACEHOLDER-1");
  replace_in(conf, k2, k1);
  replace_in(conf, "SWAP-PLACEHOLDER-1", k2);
  REQUIRE(net.restart(kTown) == 0);
  CHECK(wait_until([&] { return holds(net, kCounty, c1) && holds(net, kCounty, c2); }, 20s));
}

TEST_CASE("security: with no authentication handler the parent admits nobody", "[security]") {
  Net net(small_tree());
  net.start(kCounty);
  ::setenv("LIANDONG_FAULT_NO_ZAP", "1", 1);
  net.start(kTown);
  ::unsetenv("LIANDONG_FAULT_NO_ZAP");
  net.start(kV1);
  const std::string c = submit(net, kV1);
  CHECK_FALSE(wait_until([&] { return holds(net, kTown, c); }, 3s));
  CHECK(net.link_state(kV1, kTown) != "up");
  CHECK(log_has(net, kTown, "no ZAP handler"));
  REQUIRE(net.restart(kTown) == 0);  // the handler is back
  CHECK(wait_until([&] { return holds(net, kCounty, c); }, 20s));
}

TEST_CASE("security: a child dialing a parent with another key than the pinned one gets nowhere",
          "[security]") {
  Net net(small_tree());
  // The village pins a wrong key for its township (the county's).
  const auto conf = net.config_path(kV1);
  replace_in(conf, "curve_key = \"" + net.keys(kTown).curve_key,
             "curve_key = \"" + net.keys(kCounty).curve_key);
  net.start_all();
  const std::string c = submit(net, kV1);
  CHECK_FALSE(wait_until([&] { return holds(net, kTown, c); }, 3s));
  CHECK(net.link_state(kV1, kTown) != "up");
  CHECK(log_has(net, kV1, "dropped the connection during the handshake"));
  replace_in(conf, "curve_key = \"" + net.keys(kCounty).curve_key,
             "curve_key = \"" + net.keys(kTown).curve_key);
  REQUIRE(net.restart(kV1) == 0);
  CHECK(wait_until([&] { return holds(net, kCounty, c); }, 20s));
}
