// The division table (行政区划表) across real daemons: the county publishes
// the names of its codes, every node below holds them, and what people
// read names places: a village's `case show` and `case list`, the
// township's `status`, `deadline show`. A node holding no table shows codes
// bare; a township cannot publish one.
#include <catch2/catch.hpp>
#include <chrono>
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
const std::string kV1 = "360723101007";
const std::string kExample = std::string(LIANDONG_SOURCE_DIR) + "/config/divisions-example.toml";

int divisions_version(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"divisions", "show", "--json"});
  if (r.exit_code != 0) return -1;
  auto j = liandong::test::parse_json(r.out);
  const auto v = j ? j->u64("version") : 0;  // null (no table) reads as 0
  return v == 0 ? -1 : static_cast<int>(v);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("divisions: the county's table names places in what a village shows",
          "[divisions][integration]") {
  Net net({{kCounty, {}}, {kTown1, {kCounty}}, {kV1, {kTown1}}});
  net.start_all();

  const std::string id = liandong::test::submit(net, kV1);

  // No table yet: codes bare, and the line says which village it is.
  auto bare = net.cli(kV1, {"case", "show", id});
  REQUIRE(bare.exit_code == 0);
  CHECK(has(bare.out, "所属村    360723101007"));
  CHECK_FALSE(has(bare.out, "水城村"));

  // Only the county publishes it.
  auto by_town = net.cli(
      kTown1, {"publish", "divisions", "--version", "1", "--file", kExample, "--actor", "赵六"});
  CHECK(by_town.exit_code == 1);
  CHECK(has(by_town.err, "错误：只有县级节点发布行政区划表"));

  auto pub = net.cli(
      kCounty, {"publish", "divisions", "--version", "1", "--file", kExample, "--actor", "李建国"});
  INFO(pub.err);
  REQUIRE(pub.exit_code == 0);
  CHECK(has(pub.out, "已发布行政区划表第 1 版"));
  REQUIRE(wait_until([&] { return divisions_version(net, kV1) == 1; }, 30s, 200ms));
  CHECK(divisions_version(net, kTown1) == 1);
  // The same version again is refused; the table held stays.
  auto again = net.cli(
      kCounty, {"publish", "divisions", "--version", "1", "--file", kExample, "--actor", "李建国"});
  CHECK(again.exit_code == 1);

  // The village's case show names its village and the node of each step.
  auto shown = net.cli(kV1, {"case", "show", id});
  REQUIRE(shown.exit_code == 0);
  INFO(shown.out);
  CHECK(has(shown.out, "所属村    水城村（360723101007）"));
  CHECK(has(shown.out, "当前办理 水城村（360723101007）"));
  auto listed = net.cli(kV1, {"case", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(has(listed.out, "所属村"));
  CHECK(has(listed.out, "水城村"));

  // Forwarded to the township: the step reads 转报乡镇, the place by name,
  // the status in plain words.
  auto up = net.cli(kV1, {"act", id, "escalate", "--to", kTown1, "--actor", "王小红"});
  INFO(up.err);
  REQUIRE(up.exit_code == 0);
  auto after = net.cli(kV1, {"case", "show", id});
  INFO(after.out);
  CHECK(has(after.out, "待乡镇办理"));
  CHECK(has(after.out, "当前办理 南安镇（360723101）"));
  CHECK(has(after.out, "转报乡镇"));
  CHECK(has(after.out, "转报 南安镇（360723101）"));

  // The township's status names it and its links.
  auto st = net.cli(kTown1, {"status"});
  REQUIRE(st.exit_code == 0);
  CHECK(has(st.out, "本机 南安镇（360723101）"));
  CHECK(has(st.out, "大余县"));
  CHECK(net.unexpected_exits().empty());
}
