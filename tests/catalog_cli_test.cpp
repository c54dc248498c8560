// The service catalog (事项目录) as a user meets it: the real liandong binary
// publishes the example catalog at a county, lists and shows it, and checks
// applications against it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/run_process.h"
#include "tests/support/temp_dir.h"

using liandong::test::run_process;
namespace fs = std::filesystem;

namespace {

const std::string kExample = std::string(LIANDONG_SOURCE_DIR) + "/config/catalog-example.toml";

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string init(const fs::path& dir, const std::string& code) {
  const std::string d = (dir / code).string();
  auto r = cli({"init", "--data", d, "--code", code});
  REQUIRE(r.exit_code == 0);
  return d;
}

std::string events(const std::string& d) {
  auto r = cli({"store", "events", "--data", d});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Publishes the example at county store `d`.
void publish_example(const std::string& d) {
  auto r = cli({"catalog", "publish", kExample, "--data", d, "--actor", "县政务服务中心"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "第1版"));
}

// The state of material `name` in the one case's JSON, or "" if absent.
std::string case_json(const std::string& d, const std::string& id) {
  auto r = cli({"case", "show", id, "--data", d, "--json"});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string case_id_of(const std::string& out) {
  // {"case":"360723-000002","lsn":2}
  const auto at = out.find("\"case\":\"");
  REQUIRE(at != std::string::npos);
  const auto end = out.find('"', at + 8);
  return out.substr(at + 8, end - at - 8);
}

}  // namespace

TEST_CASE("catalog cli: the county publishes the example, list and show it", "[cli][catalog]") {
  liandong::test::TempDir tmp("liandong-catalog-cli");
  const std::string d = init(tmp.path(), "360723");
  publish_example(d);
  CHECK(cli({"store", "check", "--data", d}).exit_code == 0);

  auto list = cli({"catalog", "list", "--data", d});
  REQUIRE(list.exit_code == 0);
  CHECK(has(list.out, "林木采伐许可"));
  CHECK(has(list.out, "农村宅基地建房审批"));
  CHECK(lines(list.out) >= 22);

  auto json = cli({"catalog", "list", "--data", d, "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(has(json.out, "\"version\":1"));
  CHECK(has(json.out, "\"code\":\"LY-001\""));

  auto show = cli({"catalog", "show", "LY-001", "--data", d});
  REQUIRE(show.exit_code == 0);
  for (const char* part : {"办事依据", "办事条件", "办事程序", "申报材料", "承诺时限", "收费标准",
                           "经办人员", "监督电话", "《中华人民共和国森林法》", "容缺"})
    CHECK(has(show.out, part));
  CHECK(has(show.out, "5 个工作日"));

  auto show_json = cli({"catalog", "show", "GA-003", "--data", d, "--json"});
  REQUIRE(show_json.exit_code == 0);
  for (const char* key : {"\"legal_basis\"", "\"conditions\"", "\"procedure\"", "\"materials\"",
                          "\"limits\"", "\"fee_fen\":2000", "\"staff\"", "\"complaint_phone\""})
    CHECK(has(show_json.out, key));

  auto unknown = cli({"catalog", "show", "NO-SUCH", "--data", d});
  CHECK(unknown.exit_code == 1);
  CHECK(has(unknown.err, "NO-SUCH"));

  SECTION("the same version again is refused") {
    auto again = cli({"catalog", "publish", kExample, "--data", d, "--actor", "县政务服务中心"});
    CHECK(again.exit_code == 1);
    CHECK(has(again.err, "not higher"));
  }
}

TEST_CASE("catalog cli: only a county publishes, and a bad file is refused with its line",
          "[cli][catalog]") {
  liandong::test::TempDir tmp("liandong-catalog-cli");
  SECTION("a village is refused") {
    const std::string v = init(tmp.path(), "360723101007");
    auto r = cli({"catalog", "publish", kExample, "--data", v, "--actor", "王小红"});
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err) == 1);
    CHECK(has(r.err, "county"));
    CHECK_FALSE(has(events(v), "事项目录"));
  }
  SECTION("a bad file stores nothing") {
    const std::string d = init(tmp.path(), "360723");
    const fs::path bad = tmp.path() / "bad.toml";
    std::ofstream(bad) << "version = 2\n\n[[item]]\ncode = \"A-1\"\nname = \"某事项\"\n"
                          "category = \"证照代办\"\nlevel = \"city\"\n";
    auto r = cli({"catalog", "publish", bad.string(), "--data", d, "--actor", "县政务服务中心"});
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
    CHECK(has(r.err, bad.string() + ":7: item[0].level:"));
    auto list = cli({"catalog", "list", "--data", d});
    CHECK(list.exit_code == 1);
    CHECK(lines(events(d)) == 0);
  }
}

TEST_CASE("catalog cli: applications are checked against the catalog held", "[cli][catalog]") {
  liandong::test::TempDir tmp("liandong-catalog-cli");
  const std::string d = init(tmp.path(), "360723");
  const std::vector<std::string> base = {"submit", "--data",      d,      "--actor",
                                         "王小红", "--applicant", "李四", "--json-out"};
  auto submit = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  };

  SECTION("with no catalog held, submit works as before") {
    auto r = submit({"--item", "ANY-ITEM"});
    CHECK(r.exit_code == 0);
  }

  publish_example(d);
  const auto before = lines(events(d));

  SECTION("missing materials register a 补办件 naming every one at once") {
    auto r = submit({"--item", "LY-001", "--material", "居民身份证"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(has(r.out, "\"supplement_case\":true"));
    CHECK(has(r.out, "\"missing\":[\"林木采伐申请表\",\"林权证或不动产权证书\"]"));
    CHECK_FALSE(has(r.out, "伐区调查设计"));  // may follow later (容缺)
    CHECK(lines(events(d)) == before + 1);    // the applicant's visit leaves a trace
    const std::string show = case_json(d, case_id_of(r.out));
    CHECK(has(show, "\"status\":\"supplement_requested\""));
    CHECK(has(show, "\"supplement_case\":true"));
    std::vector<std::string> plain = base;
    plain.pop_back();  // without --json-out
    plain.insert(plain.end(), {"--item", "LY-001", "--material", "居民身份证"});
    auto text = cli(plain);
    CHECK(has(text.out, "已登记 补办件"));
    CHECK(has(text.out, "一次性告知：请补齐以下 2 项材料：林木采伐申请表、林权证或不动产权证书"));
  }
  SECTION("a later_ok material left out is recorded LATER") {
    auto r = submit({"--item", "LY-001", "--material", "居民身份证", "--material", "林木采伐申请表",
                     "--material", "林权证或不动产权证书"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string show = case_json(d, case_id_of(r.out));
    CHECK(has(show, "伐区调查设计或采伐作业说明"));
    CHECK(has(show, "later"));
    CHECK(has(show, "林木采伐许可"));  // the item name from the catalog
    CHECK(lines(events(d)) == before + 1);
  }
  SECTION("an unknown item is refused naming it") {
    auto r = submit({"--item", "XX-999"});
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err) == 1);
    CHECK(has(r.err, "XX-999"));
    CHECK(lines(events(d)) == before);
  }
  SECTION("a newer catalog applies from now on; a form made under the older keeps its version") {
    std::ifstream in(kExample);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string v2 = ss.str();
    v2.replace(v2.find("version = 1"), 11, "version = 2");
    v2.replace(v2.find("code = \"ZX-002\""), 15, "code = \"ZX-003\"");
    const fs::path file = tmp.path() / "v2.toml";
    std::ofstream(file) << v2;
    auto pub = cli({"catalog", "publish", file.string(), "--data", d, "--actor", "县政务服务中心"});
    INFO(pub.err);
    REQUIRE(pub.exit_code == 0);
    CHECK(has(cli({"catalog", "list", "--data", d}).out, "第2版"));
    CHECK(submit({"--item", "ZX-002"}).exit_code == 1);
    CHECK(submit({"--item", "ZX-003", "--material", "居民身份证"}).exit_code == 0);
    CHECK(submit({"--item", "ZX-002", "--material", "居民身份证", "--catalog-version", "1"})
              .exit_code == 0);
    CHECK(submit({"--item", "ZX-002", "--catalog-version", "7"}).exit_code == 1);
  }
  SECTION("a consultation needs no materials") {
    auto r = submit({"--item", "ZX-001", "--summary", "低保标准是多少"});
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("catalog cli: case show shows every field of the application, a 咨询's question",
          "[cli][catalog][idcheck]") {
  liandong::test::TempDir tmp("liandong-catalog-cli");
  const std::string d = init(tmp.path(), "360723");
  publish_example(d);
  auto r = cli({"submit",
                "--data",
                d,
                "--actor",
                "王小红",
                "--json-out",
                "--item",
                "ZX-002",
                "--applicant",
                "李四",
                "--id-number",
                "360723197603021158",
                "--phone",
                "139 0797 0003",
                "--address",
                "黄龙镇大龙村3组12号",
                "--summary",
                "查询去年宅基地申请的档案",
                "--field",
                "查询年份=2025",
                "--material",
                "居民身份证"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string id = case_id_of(r.out);
  auto text = cli({"case", "show", id, "--data", d});
  REQUIRE(text.exit_code == 0);
  for (const char* part :
       {"联系电话  139 0797 0003", "住址      黄龙镇大龙村3组12号",
        "咨询问题  查询去年宅基地申请的档案", "查询年份：2025", "360723197603021158"})
    CHECK(has(text.out, part));
  const std::string json = case_json(d, id);
  for (const char* part : {"\"consult\":true", "\"applicant_phone\":\"139 0797 0003\"",
                           "\"applicant_address\":\"黄龙镇大龙村3组12号\"",
                           "\"question\":\"查询去年宅基地申请的档案\"",
                           "\"fields\":[{\"key\":\"查询年份\",\"value\":\"2025\"}]"})
    CHECK(has(json, part));

  // Not a consult (no catalog held here): the summary is the reason for
  // applying, and there is no question.
  const std::string plain = init(tmp.path(), "360724");
  auto other = cli({"submit", "--data", plain, "--actor", "王小红", "--json-out", "--item", "ANY",
                    "--applicant", "王五", "--summary", "家庭困难"});
  INFO(other.err);
  REQUIRE(other.exit_code == 0);
  auto show = cli({"case", "show", case_id_of(other.out), "--data", plain});
  CHECK(has(show.out, "申请事由  家庭困难"));
  CHECK_FALSE(has(show.out, "咨询问题"));
  CHECK(has(case_json(plain, case_id_of(other.out)), "\"question\":null"));
}
