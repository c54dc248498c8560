// Who may act where (storage/authority.h) as users meet it: the real
// binary refuses an action the node or the actor's role may not take, with
// one line on stderr and exit code 1, and stores nothing — run directly on
// a store and forwarded through a running daemon's control socket alike.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::parse_json;
using liandong::test::ProcessResult;
namespace fs = std::filesystem;

namespace {

constexpr const char* kCounty = "360723";
constexpr const char* kTown = "360723101";
constexpr const char* kOtherTown = "360723102";
constexpr const char* kVillage = "360723101007";

std::vector<NodeSpec> tree() {
  return {{kCounty, {}}, {kTown, {kCounty}}, {kOtherTown, {kCounty}}, {kVillage, {kTown}}};
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Events held, not counting the audit log (a refusal is recorded there).
std::size_t event_count(const Net& net, const std::string& code) {
  const auto events = net.events(code);
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [](const auto& e) { return e.kind != "audit"; }));
}

// Submits a timber-cutting permit (LY-001, decided by the county) at the
// village, with every material the example catalog requires.
std::string submit_timber(const Net& net) {
  auto r = net.cli(kVillage, {"submit",      "--json-out",
                              "--actor",     "王小红",
                              "--role",      "agent",
                              "--item",      "LY-001",
                              "--applicant", "李四",
                              "--id-number", "360723197603021158",
                              "--material",  "林木采伐申请表",
                              "--material",  "居民身份证:provided:copy",
                              "--material",  "林权证或不动产权证书:provided:copy",
                              "--material",  "伐区调查设计或采伐作业说明"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = parse_json(r.out);
  REQUIRE(j);
  return j->str("case");
}

ProcessResult act(const Net& net, const std::string& code, const std::string& case_id,
                  std::vector<std::string> args) {
  args.insert(args.begin(), {"act", case_id});
  return net.cli(code, args);
}

// The action is refused: exit 1, one line naming `says`, nothing stored.
void require_refused(const Net& net, const std::string& code, const std::string& case_id,
                     const std::vector<std::string>& args, const std::string& says) {
  const std::size_t before = event_count(net, code);
  auto r = act(net, code, case_id, args);
  INFO("act " << case_id << " " << args[0] << " at " << code << ": exit " << r.exit_code << ": "
              << r.err << r.out);
  CHECK(r.exit_code == 1);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.rfind("错误：", 0) == 0);
  CHECK(r.err.find(says) != std::string::npos);
  CHECK(r.out.empty());
  CHECK(event_count(net, code) == before);
}

void require_done(const Net& net, const std::string& code, const std::string& case_id,
                  const std::vector<std::string>& args) {
  auto r = act(net, code, case_id, args);
  INFO("act " << case_id << " " << args[0] << " at " << code << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

std::string case_field(const Net& net, const std::string& code, const std::string& case_id,
                       const std::string& key) {
  auto r = net.cli(code, {"case", "show", case_id, "--json"});
  if (r.exit_code != 0) return "";
  auto j = parse_json(r.out);
  return j ? j->str(key) : "";
}

void wait_field(const Net& net, const std::string& code, const std::string& case_id,
                const std::string& key, const std::string& want) {
  INFO(case_id << " " << key << " at " << code << ", want " << want);
  REQUIRE(liandong::test::wait_until([&] { return case_field(net, code, case_id, key) == want; },
                                     std::chrono::seconds(20)));
}

void publish_catalog(Net& net) {
  const std::string file = fs::path(LIANDONG_SOURCE_DIR) / "config" / "catalog-example.toml";
  auto r =
      net.cli(kCounty, {"catalog", "publish", file, "--actor", "吴主任", "--role", "director"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* code : {kTown, kVillage}) {
    INFO("the catalog at " << code);
    REQUIRE(liandong::test::wait_until(
        [&] {
          auto l = net.cli(code, {"catalog", "list", "--json"});
          auto j = parse_json(l.out);
          return l.exit_code == 0 && j && j->u64("version") != 0;
        },
        std::chrono::seconds(20)));
  }
}

}  // namespace

TEST_CASE("authority cli: a role may not act outside its work, with or without a daemon",
          "[cli][authority]") {
  Net net(tree());
  const bool with_daemon = GENERATE(false, true);
  INFO((with_daemon ? "through the running daemons" : "directly on the stores"));
  if (with_daemon) {
    net.start_all();
    for (const auto& code : net.codes())
      REQUIRE(net.status(code).running);
  }
  auto r = net.cli(kVillage, {"submit", "--json-out", "--actor", "王小红", "--item", "MZ-DB-003",
                              "--applicant", "王五"});
  REQUIRE(r.exit_code == 0);
  const std::string c = parse_json(r.out)->str("case");

  // A village point has agents only; agents only village work.
  require_refused(net, kVillage, c, {"accept", "--actor", "刘芳", "--role", "clerk"},
                  "a village point has agents only");
  require_refused(net, kVillage, c,
                  {"assign", "--actor", "王小红", "--role", "agent", "--dept", "民政局"},
                  "代理员不能分派部门 (an agent may not assign departments)");
  // A clerk may not submit for another township; system is not a CLI role.
  auto other = net.cli(kOtherTown, {"submit", "--actor", "黄丽", "--role", "clerk", "--item",
                                    "MZ-DB-003", "--applicant", "某", "--home", kVillage});
  CHECK(other.exit_code != 0);
  CHECK(lines(other.err) == 1);
  CHECK(net.cases(kOtherTown).empty());
  auto system =
      net.cli(kCounty, {"act", c, "comment", "--actor", "节点", "--role", "system", "--text", "x"});
  CHECK(system.exit_code == 2);

  require_done(net, kVillage, c, {"accept", "--actor", "王小红", "--due", "2099-12-04"});
  require_done(net, kVillage, c, {"escalate", "--actor", "王小红"});
  if (!with_daemon) return;  // the rest needs the case at the township

  wait_field(net, kTown, c, "status", "escalated");
  // Another township does not even hold it (the routing rule); its own
  // township's reviewer may not accept it.
  auto elsewhere = act(net, kOtherTown, c, {"comment", "--actor", "黄丽", "--text", "催办"});
  CHECK(elsewhere.exit_code != 0);
  CHECK(lines(elsewhere.err) == 1);
  CHECK(net.cases(kOtherTown).empty());
  require_refused(net, kTown, c, {"accept", "--actor", "周国平", "--role", "reviewer"},
                  "审查员不能受理 (a reviewer may not accept a case)");
  // The village escalated it: it may no longer decide.
  require_refused(net, kVillage, c, {"decide", "--actor", "王小红", "--approve"}, "已报送上级");
  // The county may not decide what the township has not escalated.
  wait_field(net, kCounty, c, "status", "escalated");
  require_refused(net, kCounty, c,
                  {"decide", "--actor", "邹局长", "--role", "officer", "--approve"},
                  "was not escalated to 360723");
  require_done(net, kTown, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  wait_field(net, kCounty, c, "handler", kCounty);
  require_refused(net, kCounty, c, {"decide", "--actor", "陈静", "--role", "clerk", "--approve"},
                  "an officer or director signs");
  require_done(net, kCounty, c,
               {"decide", "--actor", "邹局长", "--role", "officer", "--approve", "--basis",
                "《社会救助暂行办法》第九条"});
  wait_field(net, kVillage, c, "status", "decided");
  // 回复 is the village's: not the county's.
  require_refused(net, kCounty, c, {"deliver", "--actor", "吴主任", "--role", "director"},
                  "where the case was submitted");
  require_done(net, kVillage, c, {"deliver", "--actor", "王小红", "--method", "当面"});
}

TEST_CASE("authority cli: a county-level item is decided neither at the village nor the township",
          "[cli][authority]") {
  Net net(tree());
  net.start_all();
  publish_catalog(net);
  const std::string c = submit_timber(net);
  require_refused(net, kVillage, c, {"decide", "--actor", "王小红", "--approve"},
                  "村代理员不能办结县级事项 (a village agent may not decide a county-level item)");
  require_done(net, kVillage, c, {"accept", "--actor", "王小红"});
  require_done(net, kVillage, c, {"escalate", "--actor", "王小红"});
  wait_field(net, kTown, c, "status", "escalated");
  for (const char* role : {"officer", "director", "clerk"}) {
    require_refused(net, kTown, c, {"decide", "--actor", "罗副乡长", "--role", role, "--approve"},
                    "may not decide a county-level item: escalate it");
  }
  require_done(net, kTown, c, {"escalate", "--actor", "刘芳"});
  wait_field(net, kCounty, c, "handler", kCounty);
  // AB角: the backup acts with the primary officer's authority.
  require_done(net, kCounty, c,
               {"decide", "--actor", "彭国庆", "--role", "officer", "--on-behalf-of", "黄志强",
                "--approve", "--basis", "《中华人民共和国森林法》第五十六条"});
  wait_field(net, kVillage, c, "status", "decided");
}
