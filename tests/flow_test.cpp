// Every case flow of 全程代理 across real `liandong run` daemons: a county,
// two township hubs and their village points on loopback, driven through the
// CLI as agents, window clerks, reviewers, department officers and directors
// would. Each scenario runs one flow end to end — consultation, 即办, 承诺,
// 上报, 联办 across partitions, 补正, 不予批准, a withdrawal racing an approval,
// 投诉, AB角 and a catalog update mid-flight — asserts on the case as every
// node that must hold it shows it (`case show --json`, `case trace --json`,
// `deadline show --json`, `report --json`), then runs the invariant checker
// of tests/net_fixture.h (DESIGN.md section 8).
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/net_fixture.h"
#include "tests/support/files.h"
#include "tests/support/log_tails.h"
#include "tests/support/submit.h"

using namespace std::chrono_literals;
using liandong::test::Json;
using liandong::test::Net;
using liandong::test::NodeSpec;
namespace fs = std::filesystem;

namespace {

// ---- the tree ----------------------------------------------------------------------------

const std::string kCounty = "360723";    // 县行政服务中心
const std::string kTownA = "360723101";  // 乡镇便民服务中心
const std::string kTownB = "360723102";  // a second township hub
const std::string kV1 = "360723101001";  // 村便民服务代理点 under kTownA
const std::string kV2 = "360723101002";  // under kTownA
const std::string kV7 = "360723101007";  // under kTownA
const std::string kV3 = "360723102003";  // under kTownB
const std::string kV4 = "360723102004";  // under kTownB

std::vector<NodeSpec> flow_tree() {
  return {{kCounty, {}},   {kTownA, {kCounty}}, {kTownB, {kCounty}}, {kV1, {kTownA}},
          {kV2, {kTownA}}, {kV7, {kTownA}},     {kV3, {kTownB}},     {kV4, {kTownB}}};
}

// The nodes the routing rule names for a case homed at `home`: the home and
// every level above it.
std::vector<std::string> holders(const std::string& home) {
  std::vector<std::string> out;
  for (std::size_t len : {std::size_t{12}, std::size_t{9}, std::size_t{6}}) {
    if (home.size() >= len) out.push_back(home.substr(0, len));
  }
  return out;
}

// ---- the service catalog (事项目录) the county publishes -----------------------------------

// The catalog versions are tests/data/flow-catalog-v1.toml and -v2.toml.

// ---- waiting -----------------------------------------------------------------------------

// A predicate for wait_until that treats a failing CLI as "not yet".
std::function<bool()> quietly(std::function<bool()> f) {
  return [f = std::move(f)]() {
    try {
      return f();
    } catch (const std::exception&) {
      return false;
    }
  };
}

void wait_for(const std::string& what, const std::function<bool()>& pred,
              std::chrono::milliseconds timeout = 20s) {
  const bool held = liandong::test::wait_until(quietly(pred), timeout, 100ms);
  INFO("waited " << timeout.count() << " ms for: " << what);
  REQUIRE(held);
}

void require_converged(Net& net, std::chrono::milliseconds timeout = 30s) {
  const auto c = liandong::test::wait_converged(net, timeout);
  INFO(c.report);
  REQUIRE(c.ok);
}

// ---- the CLI -----------------------------------------------------------------------------

Json run_json(const Net& net, const std::string& code, const std::vector<std::string>& args) {
  auto r = net.cli(code, args);
  INFO(args[0] << " at " << code << ": exit " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  auto j = liandong::test::parse_json(r.out);
  REQUIRE(j);
  return *j;
}

// `case show ID --json` at `code`, or nullopt if the node does not hold the
// case (yet).
std::optional<Json> try_show(const Net& net, const std::string& code, const std::string& case_id) {
  auto r = net.cli(code, {"case", "show", case_id, "--json"});
  if (r.exit_code != 0) return std::nullopt;
  return liandong::test::parse_json(r.out);
}

Json show(const Net& net, const std::string& code, const std::string& case_id) {
  return run_json(net, code, {"case", "show", case_id, "--json"});
}

// Waits until `code` holds the case and `pred` holds of it; returns it.
Json wait_case(const Net& net, const std::string& code, const std::string& case_id,
               const std::string& what, const std::function<bool(const Json&)>& pred,
               std::chrono::milliseconds timeout = 20s) {
  std::optional<Json> last;
  const bool held = liandong::test::wait_until(quietly([&] {
                                                 last = try_show(net, code, case_id);
                                                 return last && pred(*last);
                                               }),
                                               timeout, 100ms);
  INFO("waited " << timeout.count() << " ms at " << code << " for " << case_id << ": " << what
                 << "; last seen status: " << (last ? last->str("status") : "(not held)"));
  REQUIRE(held);
  return *last;
}

Json wait_status(const Net& net, const std::string& code, const std::string& case_id,
                 const std::string& status) {
  return wait_case(net, code, case_id, "status " + status,
                   [&](const Json& c) { return c.str("status") == status; });
}

// One application as a village agent or a window clerk registers it.
struct Form {
  std::string item, applicant, id_number;
  std::vector<std::string> materials;  // NAME[:state[:form]] as `submit --material` takes
  std::vector<std::string> fields;     // NAME=VALUE
  std::string summary;
};

liandong::test::Application application(const std::string& actor, const std::string& role,
                                        const Form& f) {
  liandong::test::Application a;
  a.actor = actor;
  a.role = role;
  a.item = f.item;
  a.item_name.clear();  // the catalog names the item
  a.applicant = f.applicant;
  a.id_number = f.id_number;
  a.extra = {"--phone", "13907971234"};
  for (const auto& m : f.materials)
    a.extra.insert(a.extra.end(), {"--material", m});
  for (const auto& field : f.fields)
    a.extra.insert(a.extra.end(), {"--field", field});
  if (!f.summary.empty()) a.extra.insert(a.extra.end(), {"--summary", f.summary});
  return a;
}

std::vector<std::string> submit_args(const std::string& actor, const std::string& role,
                                     const Form& f) {
  return liandong::test::submit_args(application(actor, role, f));
}

std::string submit(const Net& net, const std::string& code, const std::string& actor,
                   const std::string& role, const Form& f) {
  return liandong::test::submit(net, code, application(actor, role, f));
}

using liandong::test::act;

// An action the node must refuse: exit 1 with a reason, nothing written.
std::string act_refused(const Net& net, const std::string& code, const std::string& case_id,
                        std::vector<std::string> args) {
  const auto before = show(net, code, case_id).u64("event_count");
  args.insert(args.begin(), {"act", case_id});
  auto r = net.cli(code, args);
  INFO("act " << case_id << " " << args[2] << " at " << code << " must be refused: exit "
              << r.exit_code << ": " << r.err << r.out);
  CHECK(r.exit_code == 1);
  CHECK_FALSE(r.err.empty());
  CHECK(show(net, code, case_id).u64("event_count") == before);
  return r.err;
}

// ---- reading a case ----------------------------------------------------------------------

std::vector<const Json*> events_of(const Json& c, const std::string& kind) {
  std::vector<const Json*> out;
  if (const Json* evs = c.get("events")) {
    for (const auto& e : evs->items) {
      if (e.str("kind") == kind) out.push_back(&e);
    }
  }
  return out;
}

// The single event of `kind`; fails the test if there is not exactly one.
const Json& only_event(const Json& c, const std::string& kind) {
  const auto evs = events_of(c, kind);
  INFO("case " << c.str("case") << " must hold exactly one " << kind << " event");
  REQUIRE(evs.size() == 1);
  return *evs.front();
}

bool has_event(const Json& c, const std::string& id) {
  if (const Json* evs = c.get("events")) {
    for (const auto& e : evs->items) {
      if (e.str("id") == id) return true;
    }
  }
  return false;
}

// The member `member` of an event's body (e.g. "decided"); an empty object
// when absent.
const Json& body(const Json& ev, const std::string& member) {
  static const Json kEmpty;
  const Json* b = ev.get("body");
  const Json* m = b != nullptr ? b->get(member) : nullptr;
  return m != nullptr ? *m : kEmpty;
}

// An Int64 or UInt64 member: Cap'n Proto's JSON writes 64-bit integers as
// strings. -1 when absent or not a number.
long long int64_member(const Json& j, const std::string& key) {
  const Json* m = j.get(key);
  if (m == nullptr || (m->type != Json::Type::string && m->type != Json::Type::number)) return -1;
  try {
    return std::stoll(m->text);
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<std::string> string_list(const Json* arr, const std::string& key = "") {
  std::vector<std::string> out;
  if (arr == nullptr) return out;
  for (const auto& i : arr->items)
    out.push_back(key.empty() ? i.text : i.str(key));
  return out;
}

// name -> state ("provided", "missing", "later") of the case's materials.
std::map<std::string, std::string> materials(const Json& c) {
  std::map<std::string, std::string> out;
  if (const Json* ms = c.get("materials")) {
    for (const auto& m : ms->items)
      out[m.str("name")] = m.str("state");
  }
  return out;
}

// department -> opinion ("approve", "reject", "" when none yet).
std::map<std::string, std::string> opinions(const Json& c) {
  std::map<std::string, std::string> out;
  if (const Json* ds = c.get("departments")) {
    for (const auto& d : ds->items)
      out[d.str("department")] = d.str("opinion");
  }
  return out;
}

// Calls `check` with the case as each node on its path shows it.
void at_every_holder(const Net& net, const std::string& case_id, const std::string& home,
                     const std::function<void(const std::string&, const Json&)>& check) {
  for (const auto& code : holders(home)) {
    INFO("case " << case_id << " at node " << code);
    const Json c = show(net, code, case_id);
    check(code, c);
  }
}

// What every node holding a case must show alike once the links allow:
// state, departments and opinions, materials, and its events in fold order.
std::string fingerprint(const Json& c) {
  std::string out;
  for (const char* k : {"status", "home", "handler", "item_code", "applicant_id", "due_date"})
    out += std::string(k) + "=" + c.str(k) + "\n";
  for (const char* k : {"fee_due_fen", "fee_collected_fen", "rating", "complaints", "event_count"})
    out += std::string(k) + "=" + std::to_string(c.u64(k)) + "\n";
  out += std::string("conflict=") + (c.flag("conflict") ? "yes" : "no") + "\n";
  for (const auto& id : string_list(c.get("conflicts")))
    out += "conflicts " + id + "\n";
  for (const auto& [dept, opinion] : opinions(c))
    out += "department " + dept + "=" + opinion + "\n";
  for (const auto& [name, state] : materials(c))
    out += "material " + name + "=" + state + "\n";
  if (const Json* evs = c.get("events")) {
    for (const auto& e : evs->items)
      out += "event " + e.str("id") + " " + e.str("kind") + " " + e.str("actor") + "\n";
  }
  return out;
}

// The invariant check of the whole tree, then the case as each node on its
// path shows it: the same everywhere.
void require_case_converged(Net& net, const std::string& case_id, const std::string& home) {
  require_converged(net);
  std::string first_code, first;
  for (const auto& code : holders(home)) {
    const std::string f = fingerprint(show(net, code, case_id));
    if (first_code.empty()) {
      first_code = code;
      first = f;
      continue;
    }
    INFO("case " << case_id << " at " << first_code << ":\n"
                 << first << "at " << code << ":\n"
                 << f);
    CHECK(f == first);
  }
}

// ---- dates (China time, as the node counts) ----------------------------------------------

std::chrono::sys_days china_today() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() + 8h);
}

std::string format_day(std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// `days` working days after `from`, counting weekends as rest days (no
// working-day calendar is published in these scenarios).
std::chrono::sys_days add_working_days(std::chrono::sys_days from, std::uint64_t days) {
  auto d = from;
  while (days > 0) {
    d += std::chrono::days{1};
    const std::chrono::weekday wd{d};
    if (wd != std::chrono::Saturday && wd != std::chrono::Sunday) --days;
  }
  return d;
}

// ---- setting up --------------------------------------------------------------------------

// The county publishes catalog `version`; waits until every running node
// holds it.
void publish_catalog(Net& net, int version) {
  const fs::path file =
      liandong::test::test_data_path("flow-catalog-v" + std::to_string(version) + ".toml");
  const Json j = run_json(
      net, kCounty,
      {"catalog", "publish", file.string(), "--actor", "吴主任", "--role", "director", "--json"});
  CHECK(j.u64("version") == static_cast<std::uint64_t>(version));
  for (const auto& code : net.codes()) {
    if (!net.running(code)) continue;
    wait_for("catalog version " + std::to_string(version) + " at " + code, [&] {
      auto r = net.cli(code, {"catalog", "list", "--json"});
      auto c = liandong::test::parse_json(r.out);
      return r.exit_code == 0 && c && c->u64("version") == static_cast<std::uint64_t>(version);
    });
  }
}

// The whole tree running with catalog version 1 everywhere.
void start_with_catalog(Net& net) {
  net.start_all();
  publish_catalog(net, 1);
}

// The agent accepts (受理, committing `due`) and passes the case up (上报/转交).
void accept_and_forward(const Net& net, const std::string& village, const std::string& agent,
                        const std::string& case_id, const std::string& due) {
  act(net, village, case_id, {"accept", "--actor", agent, "--role", "agent", "--due", due});
  act(net, village, case_id, {"escalate", "--actor", agent, "--role", "agent"});
}

std::string due_in(std::uint64_t working_days) {
  return format_day(add_working_days(china_today(), working_days));
}

}  // namespace

// ---- 1. a proxied request (咨询) -------------------------------------------------------------

TEST_CASE(
    "flow: a village's policy question is answered by the county and the answer reaches "
    "the village",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string question = "2026年耕地地力保护补贴每亩发放标准是多少，何时发放";
  const std::string c = submit(
      net, kV1, "王小红", "agent",
      {"ZX-001", "张三", "360723198805123413", {}, {"问题=" + question}, "咨询耕地地力补贴"});
  act(net, kV1, c,
      {"escalate", "--actor", "王小红", "--role", "agent", "--note", "村民咨询，转乡镇"});
  wait_status(net, kTownA, c, "escalated");
  act(net, kTownA, c,
      {"escalate", "--actor", "刘芳", "--role", "clerk", "--note", "乡镇无权答复，转县农业农村局"});
  wait_case(net, kCounty, c, "escalated to the county",
            [](const Json& j) { return j.str("handler") == kCounty; });
  const std::string answer =
      "2026年耕地地力保护补贴标准为每亩105元，按确权面积于6月底前通过一卡通发放到户。";
  const std::string reply =
      act(net, kCounty, c, {"reply", "--actor", "李科长", "--role", "officer", "--text", answer});

  wait_case(net, kV1, c, "the county's answer", [&](const Json& j) { return has_event(j, reply); });
  at_every_holder(net, c, kV1, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK_FALSE(j.flag("conflict"));
    CHECK(j.str("item_code") == "ZX-001");
    const Json& r = only_event(j, "replied");
    CHECK(r.str("id") == reply);
    CHECK(r.str("origin") == kCounty);
    CHECK(r.str("actor") == "李科长");
    CHECK(r.str("role") == "officer");
    CHECK(body(r, "replied").str("text") == answer);
    CHECK(only_event(j, "submitted").str("actor") == "王小红");
  });

  // The agent tells the villager (回复) and closes the case.
  act(net, kV1, c, {"deliver", "--actor", "王小红", "--role", "agent", "--method", "电话告知"});
  act(net, kV1, c, {"close", "--actor", "王小红", "--role", "agent"});
  require_case_converged(net, c, kV1);
  at_every_holder(net, c, kV1,
                  [](const std::string&, const Json& j) { CHECK(j.str("status") == "closed"); });
}

// ---- 2. immediate handling (即办) at the township ---------------------------------------------

TEST_CASE(
    "flow: a walk-in birth registration is accepted and decided on the spot at the "
    "township window",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const auto day_before = china_today();
  const std::string today = format_day(day_before);
  const std::string c = submit(
      net, kTownB, "黄丽", "clerk",
      {"WS-001", "李秀梅", "360723199303214520", {"夫妻双方居民身份证:provided:copy"}, {}, ""});
  act(net, kTownB, c, {"accept", "--actor", "黄丽", "--role", "clerk", "--due", today});
  // 结婚证 may follow (容缺), but is in before the certificate is issued.
  act(net, kTownB, c,
      {"supplement", "--actor", "黄丽", "--role", "clerk", "--provided", "结婚证:provided:copy"});
  const std::string decision =
      act(net, kTownB, c,
          {"decide", "--actor", "黄丽", "--role", "clerk", "--approve", "--basis",
           "《中华人民共和国人口与计划生育法》", "--certificate", "赣生登字360723102-0087"});
  act(net, kTownB, c, {"deliver", "--actor", "黄丽", "--role", "clerk", "--method", "当场领取"});
  const bool same_day = china_today() == day_before;

  wait_case(net, kCounty, c, "the decision", [&](const Json& j) { return has_event(j, decision); });
  require_case_converged(net, c, kTownB);
  at_every_holder(net, c, kTownB, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "delivered");
    CHECK(j.str("home") == kTownB);
    CHECK(j.str("due_date") == today);
    CHECK(j.str("handler") == kTownB);
    CHECK(events_of(j, "escalated").empty());
    const Json& d = only_event(j, "decided");
    CHECK(d.str("origin") == kTownB);
    CHECK(body(d, "decided").flag("approved"));
    CHECK(body(d, "decided").str("certificateNo") == "赣生登字360723102-0087");
    // 结婚证 followed (容缺) before the decision.
    CHECK(materials(j) == std::map<std::string, std::string>{{"夫妻双方居民身份证", "provided"},
                                                             {"结婚证", "provided"}});
  });
  // Accepted and decided the same China day, never escalated: 即办.
  for (const auto& code : {kTownB, kCounty}) {
    INFO("report at " << code);
    const Json r = run_json(net, code, {"report", "--home", kTownB, "--json"});
    const Json* total = r.get("total");
    REQUIRE(total != nullptr);
    CHECK(total->u64("received") == 1);
    CHECK(total->u64("completed") == 1);
    CHECK(total->u64("escalated") == 0);
    if (same_day) {
      CHECK(total->u64("immediate") == 1);
    } else {
      WARN("the China date changed during the scenario: the immediate count is not checked");
    }
  }
  CHECK(net.cases(kV3).empty());
  CHECK(net.cases(kTownA).empty());
}

// ---- 3. promised (承诺) ----------------------------------------------------------------------

TEST_CASE(
    "flow: a promised birth registration is accepted with the catalog's time limit and "
    "decided within it",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  // The agent reads the item's time limits from the catalog held at the
  // village point and commits to the applicant: forwarding plus township
  // handling, in working days.
  const Json item = run_json(net, kV3, {"catalog", "show", "GA-001", "--json"});
  const Json* limits = item.get("item") != nullptr ? item.get("item")->get("limits") : nullptr;
  REQUIRE(limits != nullptr);
  CHECK(item.get("item")->str("handling") == "promised");
  const std::uint64_t promised_days =
      limits->u64("village_forward") + limits->u64("township_handle");
  REQUIRE(promised_days == 7);
  const std::string due = due_in(promised_days);

  const std::string c = submit(net, kV3, "刘冬梅", "agent",
                               {"GA-001",
                                "陈小龙",
                                "360723199011052814",
                                {"出生医学证明:provided:original", "父母居民身份证:provided:copy",
                                 "户口簿:provided:original"},
                                {"新生儿姓名=陈子轩", "出生日期=2026-11-02"},
                                ""});
  accept_and_forward(net, kV3, "刘冬梅", c, due);
  wait_status(net, kTownB, c, "escalated");
  const std::string decision =
      act(net, kTownB, c,
          {"decide", "--actor", "罗建军", "--role", "director", "--approve", "--basis",
           "《中华人民共和国户口登记条例》第七条"});
  wait_case(net, kV3, c, "the decision", [&](const Json& j) { return has_event(j, decision); });

  at_every_holder(net, c, kV3, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK(j.str("due_date") == due);
    CHECK(j.str("handler") == kTownB);
    CHECK(body(only_event(j, "accepted"), "accepted").str("dueDate") == due);
    const Json& d = only_event(j, "decided");
    CHECK(d.str("actor") == "罗建军");
    CHECK(d.str("role") == "director");
    CHECK(body(d, "decided").flag("approved"));
  });
  // Every step on time, as the township's supervision sees it.
  const Json dl = run_json(net, kTownB, {"deadline", "show", c, "--json"});
  CHECK(dl.str("deadline") == "ok");
  CHECK_FALSE(dl.flag("late"));
  bool township_step = false;
  for (const auto& s : dl.get("steps")->items) {
    INFO("step " << s.str("step"));
    if (s.str("step") == "township_handle") {
      township_step = true;
      CHECK(s.u64("limit_days") == 5);
      CHECK(s.flag("done"));
      CHECK(s.str("due") <= due);
    }
    CHECK(s.str("flag") == "ok");
  }
  CHECK(township_step);
  const Json r = run_json(net, kTownB, {"report", "--json"});
  CHECK(r.get("total")->u64("completed_on_time") == 1);

  act(net, kV3, c, {"deliver", "--actor", "刘冬梅", "--role", "agent", "--method", "送达户口簿"});
  require_case_converged(net, c, kV3);
  at_every_holder(net, c, kV3,
                  [](const std::string&, const Json& j) { CHECK(j.str("status") == "delivered"); });
}

// ---- 4. escalated (上报) through the whole life of the case ----------------------------------

TEST_CASE(
    "flow: an escalated ID card renewal is decided at the county, delivered, rated, paid "
    "and closed at the village",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV2, "李秀英", "agent",
                               {"GA-003",
                                "赵德明",
                                "36072319580716301X",
                                {"户口簿:provided:original", "原居民身份证:provided:original"},
                                {},
                                "证件有效期满换领"});
  accept_and_forward(net, kV2, "李秀英", c, due_in(23));
  wait_status(net, kTownA, c, "escalated");
  act(net, kTownA, c,
      {"escalate", "--actor", "刘芳", "--role", "clerk", "--note", "已采集相片，上报县公安局"});
  wait_case(net, kCounty, c, "escalated to the county",
            [](const Json& j) { return j.str("handler") == kCounty; });
  act(net, kCounty, c, {"assign", "--actor", "吴主任", "--role", "director", "--dept", "公安"});
  const std::string decision =
      act(net, kCounty, c,
          {"decide", "--actor", "黄志强", "--role", "officer", "--approve", "--basis",
           "《中华人民共和国居民身份证法》第十一条", "--certificate", "36072319580716301X-2026"});

  wait_case(net, kV2, c, "the county's decision",
            [&](const Json& j) { return has_event(j, decision); });
  act(net, kV2, c, {"deliver", "--actor", "李秀英", "--role", "agent", "--method", "当面送达新证"});
  act(net, kV2, c,
      {"rate", "--actor", "李秀英", "--role", "agent", "--score", "5", "--comment",
       "不出村就办好了"});
  act(net, kV2, c,
      {"collect-fee", "--actor", "李秀英", "--role", "agent", "--amount", "20.00", "--receipt",
       "赣财非税(2026)0012345"});
  act(net, kV2, c, {"close", "--actor", "李秀英", "--role", "agent", "--note", "办结销号"});

  require_case_converged(net, c, kV2);
  at_every_holder(net, c, kV2, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "closed");
    CHECK_FALSE(j.flag("conflict"));
    CHECK(j.str("handler") == kCounty);
    CHECK(j.u64("rating") == 5);
    CHECK(j.u64("fee_due_fen") == 2000);
    CHECK(j.u64("fee_collected_fen") == 2000);
    CHECK(opinions(j) == std::map<std::string, std::string>{{"公安", ""}});
    CHECK(events_of(j, "escalated").size() == 2);
    const Json& d = only_event(j, "decided");
    CHECK(d.str("origin") == kCounty);
    CHECK(d.str("actor") == "黄志强");
    CHECK(body(d, "decided").flag("approved"));
    CHECK(body(d, "decided").str("certificateNo") == "36072319580716301X-2026");
    const Json& fee = only_event(j, "fee_collected");
    CHECK(fee.str("origin") == kV2);
    CHECK(body(fee, "feeCollected").str("receiptNo") == "赣财非税(2026)0012345");
    CHECK(int64_member(body(fee, "feeCollected"), "amount") == 2000);
    CHECK(body(only_event(j, "rated"), "rated").u64("score") == 5);
    CHECK(only_event(j, "closed").str("actor") == "李秀英");
    // Who acted, in order of the case's life.
    std::vector<std::string> who;
    for (const auto& e : j.get("events")->items)
      who.push_back(e.str("kind") + "@" + e.str("origin") + ":" + e.str("actor"));
    // Each level that was handed the case records when it stored it (已接收).
    CHECK(who == std::vector<std::string>{
                     "submitted@" + kV2 + ":李秀英", "accepted@" + kV2 + ":李秀英",
                     "escalated@" + kV2 + ":李秀英", "received@" + kTownA + ":system",
                     "escalated@" + kTownA + ":刘芳", "received@" + kCounty + ":system",
                     "assigned@" + kCounty + ":吴主任", "decided@" + kCounty + ":黄志强",
                     "received@" + kTownA + ":system", "received@" + kV2 + ":system",
                     "delivered@" + kV2 + ":李秀英", "rated@" + kV2 + ":李秀英",
                     "fee_collected@" + kV2 + ":李秀英", "closed@" + kV2 + ":李秀英"});
  });
  const Json r = run_json(net, kCounty, {"report", "--json"});
  CHECK(r.get("total")->u64("fees_collected_fen") == 2000);
  CHECK(r.get("total")->u64("rated") == 1);
}

// ---- 5. joint handling (联办) across partitions ---------------------------------------------

TEST_CASE(
    "flow: a joint homestead case is decided only once all three departments' opinions, "
    "entered at different nodes across partitions, are in",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c =
      submit(net, kV7, "张桂兰", "agent",
             {"ZJ-001",
              "王建国",
              "360723197602113851",
              {"农村宅基地和建房（规划许可）申请表:provided:original", "居民身份证:provided:copy",
               "户口簿:provided:copy", "村民小组会议记录:provided:original"},
              {"建房面积=120平方米", "建房地点=上屋组"},
              "拆旧建新"});
  accept_and_forward(net, kV7, "张桂兰", c, due_in(22));
  wait_status(net, kTownA, c, "escalated");
  act(net, kTownA, c,
      {"assign", "--actor", "刘建华", "--role", "clerk", "--dept", "自然资源", "--dept", "农业农村",
       "--dept", "住房城乡建设", "--note", "并联审批"});
  wait_case(net, kCounty, c, "the three departments assigned",
            [](const Json& j) { return j.str("status") == "assigned" && opinions(j).size() == 3; });

  // The township hub goes down: the county and the township each enter an
  // opinion the other cannot see.
  CHECK(net.stop(kTownA) == 0);
  const std::string op_housing =
      act(net, kCounty, c,
          {"opinion", "--actor", "彭国庆", "--role", "officer", "--dept", "住房城乡建设",
           "--approve", "--text", "农房设计符合抗震设防要求"});
  const std::string op_land =
      act(net, kTownA, c,
          {"opinion", "--actor", "周国平", "--role", "reviewer", "--dept", "自然资源", "--approve",
           "--text", "不占永久基本农田，符合村庄规划"});
  CHECK(opinions(show(net, kCounty, c)).at("自然资源").empty());
  CHECK(opinions(show(net, kTownA, c)).at("住房城乡建设").empty());
  act_refused(net, kTownA, c,
              {"decide", "--actor", "罗副乡长", "--role", "director", "--approve", "--basis",
               "《中华人民共和国土地管理法》第六十二条"});

  // Healed; then the county is cut off while it enters the third opinion.
  net.start(kTownA);
  wait_case(net, kTownA, c, "the county's opinion",
            [&](const Json& j) { return has_event(j, op_housing); });
  wait_case(net, kCounty, c, "the township's opinion",
            [&](const Json& j) { return has_event(j, op_land); });
  CHECK(net.stop(kCounty) == 0);
  const std::string op_farm =
      act(net, kCounty, c,
          {"opinion", "--actor", "钟卫东", "--role", "officer", "--dept", "农业农村", "--approve",
           "--text", "一户一宅，申请人符合宅基地申请条件"});
  wait_case(net, kV7, c, "the first two opinions",
            [&](const Json& j) { return has_event(j, op_housing) && has_event(j, op_land); });
  // Two of three at the township and the village: still no decision.
  at_every_holder(net, c, kV7, [&](const std::string& code, const Json& j) {
    if (code == kCounty) return;
    CHECK(j.str("status") == "assigned");
    CHECK(opinions(j) == std::map<std::string, std::string>{{"自然资源", "approve"},
                                                            {"农业农村", ""},
                                                            {"住房城乡建设", "approve"}});
  });
  act_refused(net, kTownA, c,
              {"decide", "--actor", "罗副乡长", "--role", "director", "--approve", "--basis",
               "《中华人民共和国土地管理法》第六十二条"});

  net.start(kCounty);
  wait_case(net, kTownA, c, "the third opinion",
            [&](const Json& j) { return has_event(j, op_farm); });
  const std::string decision =
      act(net, kTownA, c,
          {"decide", "--actor", "罗副乡长", "--role", "director", "--approve", "--basis",
           "《中华人民共和国土地管理法》第六十二条", "--certificate", "乡字第2026-036号"});
  wait_case(net, kV7, c, "the decision", [&](const Json& j) { return has_event(j, decision); });
  require_case_converged(net, c, kV7);
  at_every_holder(net, c, kV7, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK_FALSE(j.flag("conflict"));
    CHECK(opinions(j) == std::map<std::string, std::string>{{"自然资源", "approve"},
                                                            {"农业农村", "approve"},
                                                            {"住房城乡建设", "approve"}});
    std::multiset<std::string> where;
    for (const Json* o : events_of(j, "opinion"))
      where.insert(body(*o, "opinion").str("department") + "@" + o->str("origin"));
    CHECK(where == std::multiset<std::string>{"住房城乡建设@" + kCounty, "自然资源@" + kTownA,
                                              "农业农村@" + kCounty});
    const Json& d = only_event(j, "decided");
    CHECK(d.str("origin") == kTownA);
    CHECK(body(d, "decided").flag("approved"));
  });
  const Json r = run_json(net, kCounty, {"report", "--json"});
  CHECK(r.get("total")->u64("joint") == 1);
}

// ---- 6. supplement (补正) --------------------------------------------------------------------

TEST_CASE(
    "flow: a subsistence allowance application missing materials is told all of them at "
    "once, supplemented and approved",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c =
      submit(net, kV7, "张桂兰", "agent",
             {"MZ-001",
              "孙秋菊",
              "36072319670925422X",
              {"最低生活保障申请书:provided:original", "家庭成员居民身份证:provided:copy",
               "户口簿:provided:copy", "家庭经济状况核对授权书:provided:original"},
              {"家庭人口=3", "月人均收入=420元"},
              ""});
  accept_and_forward(net, kV7, "张桂兰", c, due_in(37));
  wait_status(net, kTownA, c, "escalated");
  // The township's check finds two gaps: both are listed in one notice.
  const std::string request = act(
      net, kTownA, c,
      {"request-supplement", "--actor", "刘芳", "--role", "clerk", "--missing",
       "家庭收入及财产状况说明", "--missing", "村民代表民主评议记录", "--note", "请一次性补齐"});
  wait_case(net, kV7, c, "the supplement notice",
            [](const Json& j) { return j.str("status") == "supplement_requested"; });
  at_every_holder(net, c, kV7, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "supplement_requested");
    const Json& r = only_event(j, "supplement_requested");
    CHECK(r.str("id") == request);
    CHECK(string_list(body(r, "supplementRequested").get("missing"), "name") ==
          std::vector<std::string>{"家庭收入及财产状况说明", "村民代表民主评议记录"});
    const auto m = materials(j);
    CHECK(m.at("家庭收入及财产状况说明") == "missing");
    CHECK(m.at("村民代表民主评议记录") == "missing");
    CHECK(m.at("户口簿") == "provided");
  });
  // Passing the case up before the materials are in is refused.
  act_refused(net, kTownA, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});

  act(net, kV7, c,
      {"supplement", "--actor", "张桂兰", "--role", "agent", "--provided", "家庭收入及财产状况说明",
       "--provided", "村民代表民主评议记录"});
  wait_case(net, kTownA, c, "the supplement", [](const Json& j) {
    return j.str("status") == "escalated" && !events_of(j, "supplemented").empty();
  });
  act(net, kTownA, c,
      {"escalate", "--actor", "刘芳", "--role", "clerk", "--note", "材料齐全，上报"});
  wait_case(net, kCounty, c, "escalated to the county",
            [](const Json& j) { return j.str("handler") == kCounty; });
  const std::string decision = act(net, kCounty, c,
                                   {"decide", "--actor", "邹局长", "--role", "officer", "--approve",
                                    "--basis", "《社会救助暂行办法》第九条"});
  wait_case(net, kV7, c, "the approval", [&](const Json& j) { return has_event(j, decision); });
  require_case_converged(net, c, kV7);
  at_every_holder(net, c, kV7, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK(body(only_event(j, "decided"), "decided").flag("approved"));
    CHECK(events_of(j, "supplement_requested").size() == 1);
    CHECK(only_event(j, "supplemented").str("actor") == "张桂兰");
    for (const auto& [name, state] : materials(j)) {
      INFO("material " << name);
      CHECK(state == "provided");
    }
    CHECK(materials(j).size() == 6);
  });
}

// ---- 7. refusal (不予批准) -------------------------------------------------------------------

TEST_CASE("flow: a refusal with its reason and legal basis reaches the village", "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV3, "刘冬梅", "agent",
                               {"MZ-002",
                                "钟福生",
                                "360723194903082418",
                                {"特困人员救助供养申请书:provided:original",
                                 "居民身份证:provided:copy", "户口簿:provided:copy"},
                                {},
                                ""});
  accept_and_forward(net, kV3, "刘冬梅", c, due_in(37));
  wait_status(net, kTownB, c, "escalated");
  act(net, kTownB, c,
      {"escalate", "--actor", "黄丽", "--role", "clerk", "--note", "入户调查后上报"});
  wait_case(net, kCounty, c, "escalated to the county",
            [](const Json& j) { return j.str("handler") == kCounty; });
  const std::string reason = "申请人之子具有赡养能力，不符合特困人员认定条件";
  const std::string basis = "《特困人员认定办法》第六条";
  const std::string decision = act(net, kCounty, c,
                                   {"decide", "--actor", "邹局长", "--role", "officer", "--reject",
                                    "--reason", reason, "--basis", basis});
  wait_case(net, kV3, c, "the refusal", [&](const Json& j) { return has_event(j, decision); });
  at_every_holder(net, c, kV3, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    const Json& d = only_event(j, "decided");
    CHECK(d.str("origin") == kCounty);
    CHECK(d.str("actor") == "邹局长");
    CHECK_FALSE(body(d, "decided").flag("approved"));
    CHECK(body(d, "decided").str("reason") == reason);
    CHECK(body(d, "decided").str("legalBasis") == basis);
  });
  act(net, kV3, c,
      {"deliver", "--actor", "刘冬梅", "--role", "agent", "--method",
       "当面告知并送达不予批准决定书"});
  require_case_converged(net, c, kV3);
  const Json r = run_json(net, kCounty, {"report", "--json"});
  CHECK(r.get("total")->u64("refused") == 1);
  at_every_holder(net, c, kV3,
                  [](const std::string&, const Json& j) { CHECK(j.str("status") == "delivered"); });
}

// ---- 8. a withdrawal racing an approval --------------------------------------------------

TEST_CASE(
    "flow: a withdrawal at an offline village racing a county approval is a conflict "
    "everywhere until a clerk settles it",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(
      net, kV2, "李秀英", "agent",
      {"GA-002",
       "黎明辉",
       "360723198512301415",
       {"户口迁移申请表:provided:original", "居民身份证:provided:copy", "户口簿:provided:original"},
       {"迁入地=南昌市红谷滩区"},
       ""});
  accept_and_forward(net, kV2, "李秀英", c, due_in(9));
  wait_status(net, kTownA, c, "escalated");
  const std::string up = act(net, kTownA, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  wait_case(net, kV2, c, "the township's escalation",
            [&](const Json& j) { return has_event(j, up); });
  wait_case(net, kCounty, c, "escalated to the county",
            [](const Json& j) { return j.str("handler") == kCounty; });

  // The village point loses its link; the applicant withdraws there while
  // the county approves.
  CHECK(net.stop(kV2) == 0);
  const std::string withdrawal = act(net, kV2, c,
                                     {"withdraw", "--actor", "李秀英", "--role", "agent",
                                      "--reason", "申请人已在外地购房落户，撤回申请"});
  const std::string approval =
      act(net, kCounty, c,
          {"decide", "--actor", "黄志强", "--role", "officer", "--approve", "--basis",
           "《中华人民共和国户口登记条例》第十条", "--certificate", "准迁字2026第0451号"});
  wait_case(net, kTownA, c, "the approval", [&](const Json& j) { return has_event(j, approval); });
  CHECK(show(net, kV2, c).str("status") == "withdrawn");

  net.start(kV2);
  for (const auto& code : holders(kV2)) {
    wait_case(net, code, c, "the conflict", [&](const Json& j) {
      return has_event(j, withdrawal) && has_event(j, approval) && j.flag("conflict");
    });
  }
  require_case_converged(net, c, kV2);
  std::string conflicting;
  at_every_holder(net, c, kV2, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "conflict");
    const auto ids = string_list(j.get("conflicts"));
    REQUIRE(ids.size() == 1);
    CHECK((ids[0] == withdrawal || ids[0] == approval));
    if (conflicting.empty()) conflicting = ids[0];
    CHECK(ids[0] == conflicting);
    // Nothing lost: both are kept.
    CHECK(only_event(j, "withdrawn").str("id") == withdrawal);
    CHECK(only_event(j, "decided").str("id") == approval);
  });
  // No one carries on with a case in conflict without settling it.
  act_refused(net, kV2, c, {"deliver", "--actor", "李秀英", "--role", "agent"});
  act_refused(net, kCounty, c, {"close", "--actor", "吴主任", "--role", "director"});

  const std::string settle = act(net, kTownA, c,
                                 {"comment", "--actor", "刘芳", "--role", "clerk", "--settle",
                                  "--text", "经电话向申请人核实，确认撤回申请，县级准迁决定作废"});
  for (const auto& code : holders(kV2)) {
    wait_case(net, code, c, "the settlement",
              [&](const Json& j) { return has_event(j, settle) && !j.flag("conflict"); });
  }
  require_case_converged(net, c, kV2);
  at_every_holder(net, c, kV2, [&](const std::string&, const Json& j) {
    CHECK_FALSE(j.flag("conflict"));
    CHECK(string_list(j.get("conflicts")).empty());
    // The applicant's withdrawal came first and stands.
    CHECK(j.str("status") == "withdrawn");
    // Seven acts, and the receipts (已接收) of the levels the case reached.
    CHECK(j.u64("event_count") == 7 + events_of(j, "received").size());
    CHECK(events_of(j, "received").size() >= 2);
  });
}

// ---- 9. a complaint (投诉) against a township -----------------------------------------------

TEST_CASE("flow: a complaint against a township is held by the county above it", "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV1, "王小红", "agent",
                               {"GA-001",
                                "周小平",
                                "360723198707075630",
                                {"出生医学证明:provided:original", "父母居民身份证:provided:copy",
                                 "户口簿:provided:original"},
                                {},
                                ""});
  accept_and_forward(net, kV1, "王小红", c, due_in(7));
  wait_status(net, kTownA, c, "escalated");
  const std::string text = "乡镇派出所户籍窗口连续三天无人，新生儿户口迟迟未办";
  const std::string complaint = act(
      net, kV1, c,
      {"complain", "--actor", "王小红", "--role", "agent", "--against", kTownA, "--text", text});
  const Json at_county = wait_case(net, kCounty, c, "the complaint",
                                   [&](const Json& j) { return has_event(j, complaint); });
  CHECK(at_county.u64("complaints") == 1);
  const Json& ev = only_event(at_county, "complaint");
  CHECK(body(ev, "complaint").str("against") == kTownA);
  CHECK(body(ev, "complaint").str("text") == text);
  CHECK(ev.str("actor") == "王小红");
  // The county's supervision (电子监察) follows it up; the township then decides.
  act(net, kCounty, c,
      {"comment", "--actor", "吴主任", "--role", "director", "--text",
       "已督办乡镇派出所，限当日办结"});
  const std::string decision =
      act(net, kTownA, c,
          {"decide", "--actor", "罗副乡长", "--role", "director", "--approve", "--basis",
           "《中华人民共和国户口登记条例》第七条"});
  wait_case(net, kV1, c, "the decision", [&](const Json& j) { return has_event(j, decision); });
  require_case_converged(net, c, kV1);
  at_every_holder(net, c, kV1, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK(j.u64("complaints") == 1);
    CHECK(body(only_event(j, "complaint"), "complaint").str("against") == kTownA);
  });
  // The county's ledger counts it against the township.
  const Json r = run_json(net, kCounty, {"report", "--by", "township", "--json"});
  bool row = false;
  for (const auto& rr : r.get("rows")->items) {
    if (rr.str("key") != kTownA) continue;
    row = true;
    CHECK(rr.u64("complaints") == 1);
  }
  CHECK(row);
  CHECK(net.cases(kTownB).empty());
}

// ---- 10. AB角 ----------------------------------------------------------------------------

TEST_CASE(
    "flow: a backup clerk acting for the primary is recorded with both names up to the "
    "county",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV1, "王小红", "agent",
                               {"MZ-003",
                                "胡长寿",
                                "360723194408126612",
                                {"高龄津贴申请表:provided:original", "居民身份证:provided:copy"},
                                {},
                                ""});
  accept_and_forward(net, kV1, "王小红", c, due_in(17));
  wait_status(net, kTownA, c, "escalated");
  // 刘芳 (A角) is away; 邱雪梅 (B角) acts with her authority.
  const std::string up = act(net, kTownA, c,
                             {"escalate", "--actor", "邱雪梅", "--role", "clerk", "--on-behalf-of",
                              "刘芳", "--staff-id", "XM-0217", "--note", "A角外出培训，B角代办"});
  const Json at_county = wait_case(net, kCounty, c, "the backup's escalation", [&](const Json& j) {
    return has_event(j, up) && j.str("handler") == kCounty;
  });
  bool found = false;
  for (const auto& e : at_county.get("events")->items) {
    if (e.str("id") != up) continue;
    found = true;
    CHECK(e.str("actor") == "邱雪梅");
    CHECK(e.str("on_behalf_of") == "刘芳");
    CHECK(e.str("role") == "clerk");
    CHECK(e.str("origin") == kTownA);
  }
  CHECK(found);
  const Json trace = run_json(net, kCounty, {"case", "trace", c, "--json"});
  found = false;
  for (const auto& s : trace.get("steps")->items) {
    if (s.str("event") != up) continue;
    found = true;
    CHECK(s.str("actor") == "邱雪梅");
    CHECK(s.str("on_behalf_of") == "刘芳");
    CHECK(s.str("staff_id") == "XM-0217");
  }
  CHECK(found);
  const std::string decision = act(net, kCounty, c,
                                   {"decide", "--actor", "邹局长", "--role", "officer", "--approve",
                                    "--basis", "《中华人民共和国老年人权益保障法》第三十三条"});
  wait_case(net, kV1, c, "the decision", [&](const Json& j) { return has_event(j, decision); });
  act(net, kV1, c, {"deliver", "--actor", "王小红", "--role", "agent", "--method", "上门告知"});
  require_case_converged(net, c, kV1);
  at_every_holder(net, c, kV1, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "delivered");
    for (const Json* e : events_of(j, "escalated")) {
      if (e->str("origin") != kTownA) continue;
      CHECK(e->str("actor") == "邱雪梅");
      CHECK(e->str("on_behalf_of") == "刘芳");
    }
  });
}

// ---- 11. a catalog update mid-flight -----------------------------------------------------

TEST_CASE(
    "flow: a case in flight keeps the catalog version it was submitted under while new "
    "applications use the new one",
    "[flow]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const Form v1_form{"SC-001",
                     "邓小兰",
                     "360723199208083024",
                     {"个体工商户登记申请书:provided:original", "经营者居民身份证:provided:copy",
                      "经营场所使用证明:provided:copy"},
                     {"字号=兰姐小吃店", "经营范围=小吃服务"},
                     ""};
  const std::string old_case = submit(net, kV4, "陈玉珍", "agent", v1_form);
  CHECK(
      body(only_event(show(net, kV4, old_case), "submitted"), "submitted").u64("catalogVersion") ==
      1);

  // The county publishes version 2: one more material, a shorter limit.
  publish_catalog(net, 2);
  const Json item = run_json(net, kV4, {"catalog", "show", "SC-001", "--json"});
  CHECK(item.u64("version") == 2);
  CHECK(item.get("item")->get("limits")->u64("township_handle") == 2);

  // The case in flight goes on under version 1.
  accept_and_forward(net, kV4, "陈玉珍", old_case, due_in(5));
  wait_status(net, kTownB, old_case, "escalated");
  // Its township step keeps the limit it was submitted under (3 days).
  {
    const Json dl = run_json(net, kTownB, {"deadline", "show", old_case, "--json"});
    bool seen = false;
    for (const auto& s : dl.get("steps")->items) {
      if (s.str("step") != "township_handle") continue;
      seen = true;
      INFO("case " << old_case << " was submitted under catalog version 1 (township_handle 3)");
      CHECK(s.u64("limit_days") == 3);
    }
    CHECK(seen);
  }
  const std::string decision = act(net, kTownB, old_case,
                                   {"decide", "--actor", "罗建军", "--role", "director",
                                    "--approve", "--certificate", "92360723MA3XK2026L"});
  wait_case(net, kV4, old_case, "the decision",
            [&](const Json& j) { return has_event(j, decision); });

  // A new application is checked against version 2: the new material is
  // asked for, all at once, and the application registered as a 补办件.
  {
    auto r = net.cli(kV4, submit_args("陈玉珍", "agent", v1_form));
    INFO("submit under version 1's list: exit " << r.exit_code << ": " << r.err << r.out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("\"supplement_case\":true") != std::string::npos);
    CHECK(r.out.find("\"missing\":[\"食品经营许可承诺书\"]") != std::string::npos);
  }
  Form v2_form = v1_form;
  v2_form.applicant = "邓小军";
  v2_form.id_number = "360723199511113038";
  v2_form.materials.push_back("食品经营许可承诺书:provided:original");
  const std::string new_case = submit(net, kV4, "陈玉珍", "agent", v2_form);
  accept_and_forward(net, kV4, "陈玉珍", new_case, due_in(4));
  wait_status(net, kTownB, new_case, "escalated");
  {
    const Json dl = run_json(net, kTownB, {"deadline", "show", new_case, "--json"});
    bool seen = false;
    for (const auto& s : dl.get("steps")->items) {
      if (s.str("step") != "township_handle") continue;
      seen = true;
      CHECK(s.u64("limit_days") == 2);
    }
    CHECK(seen);
  }
  require_case_converged(net, old_case, kV4);
  require_case_converged(net, new_case, kV4);
  at_every_holder(net, old_case, kV4, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "decided");
    CHECK(body(only_event(j, "submitted"), "submitted").u64("catalogVersion") == 1);
    CHECK(materials(j).size() == 3);
  });
  at_every_holder(net, new_case, kV4, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "escalated");
    CHECK(body(only_event(j, "submitted"), "submitted").u64("catalogVersion") == 2);
    CHECK(materials(j).count("食品经营许可承诺书") == 1);
  });
}

// ---- 补办件, 不予受理, 容缺 ------------------------------------------------------------------

TEST_CASE(
    "flow: an application missing two materials is registered as a 补办件, supplied in two "
    "parts, and then goes to the township",
    "[flow][intake]") {
  Net net(flow_tree());
  start_with_catalog(net);
  // Two required materials left at home; 家庭收入及财产状况说明 may follow (容缺).
  const Json reg =
      run_json(net, kV7,
               submit_args("张桂兰", "agent",
                           {"MZ-001",
                            "孙秋菊",
                            "36072319670925422X",
                            {"最低生活保障申请书:provided:original", "户口簿:provided:copy"},
                            {"家庭人口=3"},
                            ""}));
  const std::string c = reg.str("case");
  REQUIRE_FALSE(c.empty());
  CHECK(reg.flag("supplement_case"));
  CHECK(string_list(reg.get("missing")) ==
        std::vector<std::string>{"家庭成员居民身份证", "家庭经济状况核对授权书"});

  // The visit left a trace up the tree: the township holds the 补办件 too.
  wait_case(net, kTownA, c, "the 补办件", [](const Json& j) {
    return j.str("status") == "supplement_requested" && j.flag("supplement_case");
  });
  // Nothing goes on while materials are missing.
  act_refused(net, kV7, c, {"accept", "--actor", "张桂兰", "--role", "agent"});

  act(net, kV7, c,
      {"supplement", "--actor", "张桂兰", "--role", "agent", "--provided",
       "家庭成员居民身份证:provided:copy"});
  const Json part = wait_case(net, kTownA, c, "the first supplement", [](const Json& j) {
    return events_of(j, "supplemented").size() == 1;
  });
  CHECK(part.str("status") == "supplement_requested");
  CHECK(string_list(part.get("missing")) == std::vector<std::string>{"家庭经济状况核对授权书"});
  CHECK(materials(part).at("家庭成员居民身份证") == "provided");
  act_refused(net, kV7, c, {"escalate", "--actor", "张桂兰", "--role", "agent"});

  act(net, kV7, c,
      {"supplement", "--actor", "张桂兰", "--role", "agent", "--provided",
       "家庭经济状况核对授权书:provided:original"});
  CHECK(show(net, kV7, c).str("status") == "submitted");
  accept_and_forward(net, kV7, "张桂兰", c, due_in(37));
  const Json up = wait_status(net, kTownA, c, "escalated");
  CHECK(up.str("handler") == kTownA);
  CHECK(string_list(up.get("missing")).empty());
  CHECK(string_list(up.get("later")) == std::vector<std::string>{"家庭收入及财产状况说明"});
  require_case_converged(net, c, kV7);
}

TEST_CASE("flow: 不予受理 at intake is its own final outcome, with reason and legal basis",
          "[flow][intake]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(
      net, kV7, "张桂兰", "agent",
      {"MZ-001", "孙秋菊", "36072319670925422X", {"最低生活保障申请书:provided:original"}, {}, ""});
  // A reason is required; nothing is written without one.
  {
    auto r = net.cli(kV7, {"act", c, "not-accept", "--actor", "张桂兰", "--role", "agent"});
    CHECK(r.exit_code == 2);
    CHECK(show(net, kV7, c).u64("event_count") == 1);
  }
  const std::string refusal = act(
      net, kV7, c,
      {"not-accept", "--actor", "张桂兰", "--role", "agent", "--reason",
       "申请人户籍不在本村，不属于本代办点受理范围", "--basis", "《社会救助暂行办法》第十一条"});
  wait_case(net, kTownA, c, "the 不予受理", [&](const Json& j) { return has_event(j, refusal); });
  require_case_converged(net, c, kV7);
  at_every_holder(net, c, kV7, [&](const std::string&, const Json& j) {
    CHECK(j.str("status") == "not_accepted");
    CHECK(j.str("status_zh") == "不予受理");
    const Json& n = only_event(j, "not_accepted");
    CHECK(body(n, "notAccepted").str("reason") == "申请人户籍不在本村，不属于本代办点受理范围");
    CHECK(body(n, "notAccepted").str("legalBasis") == "《社会救助暂行办法》第十一条");
    CHECK(events_of(j, "decided").empty());  // not a 不予许可
  });
  // Final: nothing of the workflow follows.
  act_refused(net, kV7, c, {"accept", "--actor", "张桂兰", "--role", "agent"});
  act_refused(net, kV7, c, {"withdraw", "--actor", "张桂兰", "--role", "agent"});
  // An accepted case is past intake: 不予受理 no longer applies.
  const std::string d =
      submit(net, kV7, "张桂兰", "agent",
             {"MZ-001",
              "孙秋菊",
              "36072319670925422X",
              {"最低生活保障申请书:provided:original", "家庭成员居民身份证:provided:copy",
               "户口簿:provided:copy", "家庭经济状况核对授权书:provided:original"},
              {},
              ""});
  act(net, kV7, d, {"accept", "--actor", "张桂兰", "--role", "agent"});
  act_refused(net, kV7, d,
              {"not-accept", "--actor", "张桂兰", "--role", "agent", "--reason", "迟到的拒绝"});
  // The figures: 不予受理 is neither open (在办) nor a decision.
  const Json r = run_json(net, kV7, {"report", "--json"});
  const Json* total = r.get("total");
  REQUIRE(total != nullptr);
  CHECK(total->u64("received") == 2);
  CHECK(total->u64("open") == 1);
  CHECK(total->u64("completed") == 0);
}

TEST_CASE("flow: a 容缺 material still outstanding blocks 办结 until it is supplied",
          "[flow][intake]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(
      net, kTownB, "黄丽", "clerk",
      {"WS-001", "李秀梅", "360723199303214520", {"夫妻双方居民身份证:provided:copy"}, {}, ""});
  act(net, kTownB, c, {"accept", "--actor", "黄丽", "--role", "clerk"});
  const std::string why =
      act_refused(net, kTownB, c, {"decide", "--actor", "黄丽", "--role", "clerk", "--approve"});
  CHECK(why.rfind("错误：容缺材料未补齐，不能办结：结婚证", 0) == 0);
  CHECK(show(net, kTownB, c).str("status") == "accepted");
  act(net, kTownB, c,
      {"supplement", "--actor", "黄丽", "--role", "clerk", "--provided", "结婚证:provided:copy"});
  const Json j = show(net, kTownB, c);
  CHECK(j.str("status") == "accepted");
  CHECK(string_list(j.get("later")).empty());
  act(net, kTownB, c,
      {"decide", "--actor", "黄丽", "--role", "clerk", "--approve", "--certificate",
       "赣生登字0088"});
  CHECK(show(net, kTownB, c).str("status") == "decided");
}

// ---- 9. supervision (电子监察): 督办, 效能投诉, 整改 ------------------------------------------

namespace {

// A village point that fails over to the county when its township is down.
std::vector<NodeSpec> failover_tree() {
  return {{kCounty, {}}, {kTownA, {kCounty}}, {kV7, {kTownA, kCounty}}};
}

const Json* row_of(const Json& report, const std::string& key) {
  for (const auto& r : report.get("rows")->items) {
    if (r.str("key") == key) return &r;
  }
  return nullptr;
}

// The `supervision --json` entry of `event` at `code`, or nullptr.
const Json* entry_of(const Json& view, const std::string& event) {
  for (const auto& e : view.get("entries")->items) {
    if (e.str("event") == event) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE(
    "flow: a 督办 order from the county reaches the village holding the case while the "
    "township is down, the answer returns and the report counts it",
    "[flow][supervision]") {
  Net net(failover_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV7, "张桂兰", "agent",
                               {"GA-001",
                                "王建国",
                                "360723197602113851",
                                {"出生医学证明:provided:original", "父母居民身份证:provided:copy",
                                 "户口簿:provided:original"},
                                {},
                                "新生儿落户"});
  act(net, kV7, c, {"accept", "--actor", "张桂兰", "--role", "agent", "--due", due_in(8)});
  wait_status(net, kCounty, c, "accepted");

  // Only a director issues an order; a window clerk may not.
  act_refused(net, kCounty, c,
              {"supervise", "--actor", "李科长", "--role", "clerk", "--note", "请尽快转报",
               "--due", due_in(2)});
  CHECK(net.stop(kTownA) == 0);
  const std::string due = due_in(2);
  const std::string order = act(net, kCounty, c,
                                {"supervise", "--actor", "吴主任", "--role", "director", "--note",
                                 "群众反映材料已齐，请于时限内转报乡镇", "--due", due});
  // Over the county link (the township is down) the order reaches the village.
  wait_case(net, kV7, c, "the 督办 order", [&](const Json& j) { return has_event(j, order); }, 30s);
  const Json at_village = run_json(net, kV7, {"supervision", "--json"});
  const Json* open = entry_of(at_village, order);
  REQUIRE(open != nullptr);
  CHECK(open->str("kind") == "order");
  CHECK(open->str("level") == kV7);
  CHECK(open->str("due") == due);
  CHECK_FALSE(open->flag("answered"));
  // The county cannot answer its own order for the village.
  act_refused(net, kCounty, c,
              {"answer", "--actor", "吴主任", "--role", "director", "--text", "已办"});
  const std::string answer =
      act(net, kV7, c,
          {"answer", "--actor", "张桂兰", "--role", "agent", "--to", "order", "--about", order,
           "--text", "已核实材料，今日转报南安镇"});
  // Answered once only.
  act_refused(net, kV7, c,
              {"answer", "--actor", "张桂兰", "--role", "agent", "--about", order, "--text", "再答"});
  wait_case(net, kCounty, c, "the answer", [&](const Json& j) { return has_event(j, answer); },
            30s);
  const Json at_county = run_json(net, kCounty, {"supervision", "--json"});
  const Json* done = entry_of(at_county, order);
  REQUIRE(done != nullptr);
  CHECK(done->flag("answered"));
  CHECK(done->get("answer")->str("text") == "已核实材料，今日转报南安镇");
  CHECK(done->get("answer")->flag("on_time"));

  const Json r = run_json(net, kCounty, {"report", "--by", "level", "--json"});
  CHECK(r.get("total")->u64("orders") == 1);
  CHECK(r.get("total")->u64("orders_on_time") == 1);
  CHECK(r.get("total")->u64("orders_late") == 0);
  const Json* village = row_of(r, kV7);
  REQUIRE(village != nullptr);
  CHECK(village->u64("orders") == 1);
  CHECK(village->u64("orders_on_time") == 1);
  net.start(kTownA);
  require_case_converged(net, c, kV7);
}

TEST_CASE(
    "flow: complaints against a township are handled at the county, one within its limit "
    "(成立) and one left late; a poor rating opens 整改",
    "[flow][supervision]") {
  Net net(flow_tree());
  start_with_catalog(net);
  const std::string c = submit(net, kV2, "李秀英", "agent",
                               {"GA-001",
                                "刘桂英",
                                "360723198201053322",
                                {"出生医学证明:provided:original", "父母居民身份证:provided:copy",
                                 "户口簿:provided:original"},
                                {},
                                ""});
  accept_and_forward(net, kV2, "李秀英", c, due_in(8));
  wait_status(net, kCounty, c, "escalated");

  // By phone at the county, against the township hub: the county handles it.
  const std::string first =
      act(net, kCounty, c,
          {"complain", "--actor", "李科长", "--role", "clerk", "--against", kTownA, "--channel",
           "phone", "--complainant", "刘桂英", "--phone", "13907970001", "--dept", "公安", "--person",
           "刘芳", "--text", "乡镇户籍窗口两次让我回家补材料，每次只说缺一样"});
  const std::string second =
      act(net, kCounty, c,
          {"complain", "--actor", "李科长", "--role", "clerk", "--against", kTownA, "--channel",
           "window", "--complainant", "刘桂英", "--text", "窗口工作时间无人值守"});
  wait_case(net, kTownA, c, "both complaints",
            [&](const Json& j) { return has_event(j, first) && has_event(j, second); });
  // The township complained about does not handle its own complaint.
  act_refused(net, kTownA, c,
              {"answer", "--actor", "刘芳", "--role", "clerk", "--to", "complaint", "--about",
               first, "--text", "已解释"});
  act(net, kCounty, c,
      {"answer", "--actor", "吴主任", "--role", "director", "--to", "complaint", "--about", first,
       "--upheld", "--text", "经核实投诉成立，已责成乡镇一次性告知，并电话回复投诉人"});

  const Json view = run_json(net, kCounty, {"supervision", "--json"});
  const Json* handled = entry_of(view, first);
  const Json* open = entry_of(view, second);
  REQUIRE(handled != nullptr);
  REQUIRE(open != nullptr);
  CHECK(handled->str("level") == kCounty);
  CHECK(handled->str("against") == kTownA);
  CHECK(handled->str("complainant") == "刘桂英");
  CHECK(handled->get("answer")->str("result_zh") == "成立");
  CHECK_FALSE(open->flag("answered"));
  CHECK(open->str("due") == due_in(5));
  // Counted against the township, its department and the person named.
  std::map<std::string, std::string> counted;
  for (const char* by : {"complaints_by_level", "complaints_by_department", "complaints_by_person"})
    for (const auto& k : view.get(by)->items)
      counted[k.str("key")] = std::to_string(k.u64("total")) + "/" + std::to_string(k.u64("upheld"));
  CHECK(counted == std::map<std::string, std::string>{
                       {kTownA, "2/1"}, {"公安", "1/1"}, {"刘芳@" + kTownA, "1/1"}});

  // Today both are within the limit; a day after the limit the open one is late.
  const std::string after = format_day(add_working_days(china_today(), 6));
  for (const auto& [as_of, late] : {std::pair{std::string(), 0}, std::pair{after, 1}}) {
    std::vector<std::string> args{"report", "--by", "level", "--json"};
    if (!as_of.empty()) args.insert(args.end(), {"--as-of", as_of});
    const Json r = run_json(net, kCounty, args);
    INFO("as of " << (as_of.empty() ? "today" : as_of));
    CHECK(r.get("total")->u64("complaints") == 2);
    CHECK(r.get("total")->u64("complaints_upheld") == 1);
    CHECK(r.get("total")->u64("complaints_on_time") == 1);
    CHECK(r.get("total")->u64("complaints_late") == static_cast<std::uint64_t>(late));
    const Json* town = row_of(r, kTownA);
    REQUIRE(town != nullptr);
    CHECK(town->u64("complaints") == 2);
    CHECK(town->u64("complaints_upheld") == 1);
    const Json* county = row_of(r, kCounty);
    REQUIRE(county != nullptr);
    CHECK(county->u64("complaints_on_time") == 1);
    CHECK(county->u64("complaints_late") == static_cast<std::uint64_t>(late));
  }

  // 生育登记 decided on the spot at the township, rated 非常不满意: 整改 at the township.
  const std::string b = submit(
      net, kTownB, "黄丽", "clerk",
      {"WS-001", "李秀梅", "360723199303214520",
       {"夫妻双方居民身份证:provided:copy", "结婚证:provided:copy"}, {}, ""});
  act(net, kTownB, b, {"accept", "--actor", "黄丽", "--role", "clerk"});
  act(net, kTownB, b,
      {"decide", "--actor", "黄丽", "--role", "clerk", "--approve", "--basis",
       "《中华人民共和国人口与计划生育法》"});
  act(net, kTownB, b, {"deliver", "--actor", "黄丽", "--role", "clerk", "--method", "当场领取"});
  // The two worst ratings need a reason.
  act_refused(net, kTownB, b, {"rate", "--actor", "黄丽", "--role", "clerk", "--score", "1"});
  const std::string rating =
      act(net, kTownB, b,
          {"rate", "--actor", "黄丽", "--role", "clerk", "--score", "1", "--channel", "evaluator",
           "--reason-item", "服务态度差", "--comment", "窗口人员态度生硬"});
  wait_case(net, kCounty, b, "the rating", [&](const Json& j) { return has_event(j, rating); });
  const Json* fix = entry_of(run_json(net, kCounty, {"supervision", "--json"}), rating);
  REQUIRE(fix != nullptr);
  CHECK(fix->str("kind") == "rectification");
  CHECK(fix->str("level") == kTownB);
  CHECK(fix->str("due") == due_in(5));
  CHECK(string_list(fix->get("reasons")) == std::vector<std::string>{"服务态度差"});
  act(net, kTownB, b,
      {"answer", "--actor", "黄丽", "--role", "clerk", "--to", "rectification", "--text",
       "已对窗口人员批评教育，并电话向申请人致歉"});
  const Json r = run_json(net, kCounty, {"report", "--by", "level", "--json"});
  CHECK(r.get("total")->u64("rectifications") == 1);
  CHECK(r.get("total")->u64("rectifications_late") == 0);
  REQUIRE(row_of(r, kTownB) != nullptr);
  CHECK(row_of(r, kTownB)->u64("rectifications") == 1);
  require_converged(net);
}
