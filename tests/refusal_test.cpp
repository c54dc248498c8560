// Refusals as custody, and clock faults, with real `liandong run` processes:
// an event a level above refuses is never shown as delivered; the refusal
// reaches the origin hop by hop (kept across a relay's restart); the agent
// re-issues the work once the cause is fixed; and a node whose clock ran
// fast for one command does not stamp every later event in the future.
//
// Clock faults are made per process with LIANDONG_TEST_CLOCK_OFFSET_MS
// (protocol/hlc.h), read once when a process starts.
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/net_fixture.h"
#include "tests/support/submit.h"

using namespace std::chrono_literals;
using liandong::test::Net;
using liandong::test::ProcessResult;
using liandong::test::wait_until;

namespace {

const std::string kCounty = "360723", kTown = "360723101", kVillage = "360723101007";
constexpr long long kTwoDaysMs = 2LL * 24 * 3600 * 1000;

std::string offset_env(long long ms) {
  return "LIANDONG_TEST_CLOCK_OFFSET_MS=" + std::to_string(ms);
}

// `liandong ARGS --data DATA(code)` with extra environment.
ProcessResult cli_env(const Net& net, const std::string& code, std::vector<std::string> args,
                      const std::vector<std::string>& env) {
  args.insert(args.begin(), LIANDONG_BIN);
  args.push_back("--data");
  args.push_back(net.data_dir(code).string());
  return liandong::test::run_process(args, 30s, env);
}

std::vector<std::string> submit_args(const std::string& applicant) {
  liandong::test::Application a;
  a.applicant = applicant;
  return liandong::test::submit_args(a);
}

std::string case_of(const ProcessResult& r) {
  auto j = liandong::test::parse_json(r.out);
  return j ? j->str("case") : std::string();
}

std::string submit(const Net& net, const std::string& code, const std::string& applicant,
                   const std::vector<std::string>& env = {}) {
  auto r = cli_env(net, code, submit_args(applicant), env);
  INFO("submit at " << code << ": exit " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  const std::string c = case_of(r);
  REQUIRE(!c.empty());
  return c;
}

bool holds_case(const Net& net, const std::string& code, const std::string& case_id) {
  try {
    for (const auto& c : net.cases(code)) {
      if (c.case_id == case_id) return true;
    }
  } catch (const std::exception&) {
  }
  return false;
}

// `status --json` totals.refused_open at `code` (nullopt: unreadable).
std::optional<uint64_t> open_refusals(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"status", "--json"});
  auto j = liandong::test::parse_json(r.out);
  if (r.exit_code != 0 || !j) return std::nullopt;
  const auto* totals = j->get("totals");
  if (totals == nullptr || totals->get("refused_open") == nullptr) return std::nullopt;
  return totals->u64("refused_open");
}

// The node that `code` records as having refused event `id` ("" if none).
std::string refused_by(const Net& net, const std::string& code, const std::string& id) {
  try {
    for (const auto& e : net.events(code)) {
      if (e.id == id) return e.refused_by;
    }
  } catch (const std::exception&) {
  }
  return {};
}

std::string text_of(const Net& net, const std::string& code, std::vector<std::string> args) {
  auto r = net.cli(code, std::move(args));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE(
    "sync: a village clock two days fast for one command: refused work shows, is re-issued, "
    "and later events are accepted",
    "[sync][refusal][clock]") {
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kVillage, {kTown}}});
  net.start(kCounty);
  net.start(kTown);
  // The village has not met its parent yet: it cannot know its clock is off.
  const std::string fast = submit(net, kVillage, "张三", {offset_env(kTwoDaysMs)});
  // The clock is set right; the next command must not inherit the stamp.
  const std::string later = submit(net, kVillage, "李四");
  net.start(kVillage);

  // The event after the clock was set right is accepted all the way up.
  REQUIRE(wait_until([&] { return holds_case(net, kCounty, later); }, 20s));
  // The township refuses the fast event; the refusal reaches the village.
  REQUIRE(wait_until([&] { return open_refusals(net, kVillage) == 1u; }, 20s));
  CHECK_FALSE(holds_case(net, kTown, fast));
  CHECK(refused_by(net, kVillage, fast) == kTown);

  const std::string shown = text_of(net, kVillage, {"case", "show", fast});
  CHECK_THAT(shown, Catch::Contains("被乡镇拒收：时间戳超前 (refused by 360723101: clock ahead)"));
  CHECK_THAT(shown, Catch::Contains("case reissue " + fast));
  CHECK_THAT(shown, !Catch::Contains("已达乡镇"));
  CHECK_THAT(text_of(net, kVillage, {"case", "list"}), Catch::Contains("!! " + fast));
  const std::string status = text_of(net, kVillage, {"status"});
  CHECK_THAT(status, Catch::Contains("被拒收: 1 条"));
  CHECK_THAT(status, Catch::Contains(fast));

  // Nothing else in the case may be stamped after the fast event.
  auto blocked = net.cli(kVillage, {"act", fast, "comment", "--actor", "王小红", "--text", "补充"});
  CHECK(blocked.exit_code != 0);
  CHECK_THAT(blocked.err, Catch::Contains("请先重新报送"));

  // Re-issued once the clock is right: one command, through the daemon.
  auto re = net.cli(kVillage, {"case", "reissue", fast, "--actor", "王小红", "--json"});
  INFO(re.err << re.out);
  REQUIRE(re.exit_code == 0);
  REQUIRE(wait_until([&] { return holds_case(net, kCounty, fast); }, 20s));
  CHECK(open_refusals(net, kVillage) == 0u);
  // A second re-issue of the same event is refused.
  CHECK(net.cli(kVillage, {"case", "reissue", fast, "--actor", "王小红"}).exit_code != 0);
  // And work on the case goes on.
  CHECK(net.cli(kVillage, {"act", fast, "comment", "--actor", "王小红", "--text", "补充"})
            .exit_code == 0);

  auto conv = liandong::test::wait_converged(net, 30s);
  INFO(conv.report);
  CHECK(conv.ok);
  // The refused event stays in the village's log, marked.
  CHECK_THAT(text_of(net, kVillage, {"case", "show", fast}), Catch::Contains("(已作废)"));
}

TEST_CASE("sync: a node that met its parent refuses to stamp events while its clock is off",
          "[sync][clock]") {
  Net net({{kTown, {}}, {kVillage, {kTown}}});
  net.start(kTown);
  net.start(kVillage);
  REQUIRE(wait_until([&] { return net.link_state(kVillage, kTown) == "up+active"; }, 20s));
  REQUIRE(net.stop(kVillage) == 0);

  auto fast = cli_env(net, kVillage, submit_args("张三"), {offset_env(kTwoDaysMs)});
  CHECK(fast.exit_code != 0);
  CHECK_THAT(fast.err, Catch::Contains("本机时钟比上级快 2 天，请先校准时间"));
  auto slow = cli_env(net, kVillage, submit_args("张三"), {offset_env(-kTwoDaysMs)});
  CHECK(slow.exit_code != 0);
  CHECK_THAT(slow.err, Catch::Contains("本机时钟比上级慢 2 天，请先校准时间"));
  // A clock before 1970: refused, never a stamp wrapped to year 10889.
  auto ancient = cli_env(net, kVillage, submit_args("张三"), {offset_env(-60LL * 365 * 86400000)});
  CHECK(ancient.exit_code != 0);
  CHECK_THAT(ancient.err, Catch::Contains("本机时钟不正确"));
  for (const auto& e : net.events(kVillage))
    CHECK(e.kind != "submitted");
  // With the clock right it works.
  submit(net, kVillage, "李四");
}

TEST_CASE(
    "sync: an event the county refuses reaches its village as refused through the "
    "township, across the township's restart",
    "[sync][refusal]") {
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kVillage, {kTown}}});
  // The county's clock is 30 hours slow: it refuses what the others stamp
  // now as stamped more than a day ahead; the township accepts it.
  net.set_env(kCounty, {offset_env(-30LL * 3600 * 1000)});
  net.start_all();
  const std::string c = submit(net, kVillage, "张三");
  REQUIRE(wait_until([&] { return holds_case(net, kTown, c); }, 20s));
  REQUIRE(net.stop(kVillage) == 0);
  // The township keeps the county's refusal, to hand it down later.
  REQUIRE(wait_until([&] { return refused_by(net, kTown, c) == kCounty; }, 20s));
  CHECK(net.restart(kTown) == 0);
  net.start(kVillage);
  // (The village's audit records are refused too: only the case counts open.)
  REQUIRE(wait_until([&] { return refused_by(net, kVillage, c) == kCounty; }, 20s));
  CHECK(open_refusals(net, kVillage) == 1u);
  const std::string shown = text_of(net, kVillage, {"case", "show", c});
  CHECK_THAT(shown, Catch::Contains("被县拒收：时间戳超前 (refused by 360723: clock ahead)"));
  CHECK_THAT(shown, !Catch::Contains("已达县"));

  // The county's clock is set right; the village re-issues.
  net.set_env(kCounty, {});
  CHECK(net.restart(kCounty) == 0);
  auto re = net.cli(kVillage, {"case", "reissue", c, "--actor", "王小红"});
  INFO(re.err << re.out);
  REQUIRE(re.exit_code == 0);
  CHECK_THAT(re.out, Catch::Contains("已重新报送"));
  REQUIRE(wait_until([&] { return holds_case(net, kCounty, c); }, 20s));
  auto conv = liandong::test::wait_converged(net, 30s);
  INFO(conv.report);
  CHECK(conv.ok);
  CHECK(open_refusals(net, kVillage) == 0u);
}
