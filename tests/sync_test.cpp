// Sync between real `liandong run` daemons: a county, two townships and
// their villages on loopback, driven through the CLI as agents, clerks and
// officers would. Every scenario ends with the invariant checker
// (tests/net_fixture.h): each node holds exactly what the routing rule names,
// once, and all nodes agree on every case's state.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/net_fixture.h"
#include "tests/support/log_tails.h"
#include "tests/support/submit.h"

using namespace std::chrono_literals;
using liandong::test::Net;
using liandong::test::NodeSpec;
namespace fs = std::filesystem;

namespace {

// The tree of every scenario (DOMAIN.md): county service center, two
// township hubs, village agent points under them.
const std::string kCounty = "360723";    // 县行政服务中心
const std::string kTownA = "360723101";  // 乡镇便民服务中心, 上竹乡-like
const std::string kTownB = "360723102";  // a second township hub
const std::string kV1 = "360723101001";  // 村便民服务代理点 under kTownA
const std::string kV2 = "360723101002";  // under kTownA
const std::string kV7 = "360723101007";  // under kTownA
const std::string kV3 = "360723102003";  // under kTownB

// With `v1_failover`, village kV1 lists the county as its second upstream.
std::vector<NodeSpec> standard_tree(bool v1_failover = false) {
  std::vector<std::string> v1_up = {kTownA};
  if (v1_failover) v1_up.push_back(kCounty);
  return {{kCounty, {}},   {kTownA, {kCounty}}, {kTownB, {kCounty}}, {kV1, v1_up},
          {kV2, {kTownA}}, {kV7, {kTownA}},     {kV3, {kTownB}}};
}

const std::vector<std::string> kApplicants = {"张三", "李四", "王五", "赵六", "陈七", "周八"};

// A homestead application (the support's default) for `applicant`.
liandong::test::Application homestead(const std::string& applicant) {
  liandong::test::Application a;
  a.applicant = applicant;
  return a;
}

// Registers it at `code` as its agent would. Safe from any thread (no Catch
// macros): returns the case id, or nullopt with `err`.
std::optional<std::string> try_submit(const Net& net, const std::string& code,
                                      const std::string& applicant, std::string* err = nullptr) {
  return liandong::test::try_submit(net, code, homestead(applicant), err, 20s);
}

std::string submit(const Net& net, const std::string& code, const std::string& applicant) {
  return liandong::test::submit(net, code, homestead(applicant));
}

using liandong::test::act;

// The agent accepts (受理) and escalates (上报) to the township.
void accept_and_escalate(const Net& net, const std::string& village, const std::string& case_id) {
  act(net, village, case_id, {"accept", "--actor", "王小红", "--due", "2099-12-04"});
  act(net, village, case_id, {"escalate", "--actor", "王小红"});
}

std::string decide(const Net& net, const std::string& code, const std::string& case_id) {
  return act(net, code, case_id,
             {"decide", "--actor", "李局长", "--role", "officer", "--approve", "--reason",
              "符合条件", "--basis", "《土地管理法》第六十二条"});
}

std::set<std::string> event_ids(const Net& net, const std::string& code) {
  std::set<std::string> ids;
  for (const auto& e : net.events(code))
    ids.insert(e.id);
  return ids;
}

// Event ids of one case held at `code`.
std::set<std::string> case_event_ids(const Net& net, const std::string& code,
                                     const std::string& case_id) {
  std::set<std::string> ids;
  for (const auto& e : net.events(code)) {
    if (!e.broadcast && e.case_id == case_id) ids.insert(e.id);
  }
  return ids;
}

std::string case_status(const Net& net, const std::string& code, const std::string& case_id) {
  for (const auto& c : net.cases(code)) {
    if (c.case_id == case_id) return c.status;
  }
  return "";
}

// A predicate for wait_until that treats a failing CLI as "not yet".
template <typename F>
std::function<bool()> quietly(F f) {
  return [f]() {
    try {
      return static_cast<bool>(f());
    } catch (const std::exception&) {
      return false;
    }
  };
}

void wait_for(const std::string& what, const std::function<bool()>& pred,
              std::chrono::milliseconds timeout = 30s) {
  const bool held = liandong::test::wait_until(pred, timeout, 100ms);
  INFO("waited " << timeout.count() << " ms for: " << what);
  REQUIRE(held);
}

void wait_case_status(const Net& net, const std::string& code, const std::string& case_id,
                      const std::string& status, std::chrono::milliseconds timeout = 30s) {
  wait_for(case_id + " " + status + " at " + code,
           quietly([&] { return case_status(net, code, case_id) == status; }), timeout);
}

// Waits until the case at `code` is handled at `handler`. (Its status alone
// cannot tell a village's escalation to the township from the township's
// to the county: both read `escalated`.)
void wait_case_handler(const Net& net, const std::string& code, const std::string& case_id,
                       const std::string& handler, std::chrono::milliseconds timeout = 30s) {
  wait_for(case_id + " handled at " + handler + " as " + code + " sees it", quietly([&] {
             auto r = net.cli(code, {"case", "show", case_id, "--json"});
             auto j = r.exit_code == 0 ? liandong::test::parse_json(r.out) : std::nullopt;
             return j && j->str("handler") == handler;
           }),
           timeout);
}

void require_converged(Net& net, std::chrono::milliseconds timeout = 60s) {
  const auto c = liandong::test::wait_converged(net, timeout);
  INFO(c.report);
  REQUIRE(c.ok);
}

void stop_cleanly(Net& net, const std::string& code) {
  INFO("SIGTERM to the daemon of " << code << " must end it with exit 0");
  CHECK(net.stop(code) == 0);
}

// The broadcast events `issuer` holds that it issued itself.
std::set<std::string> own_broadcasts(const Net& net, const std::string& issuer) {
  std::set<std::string> ids;
  for (const auto& e : net.events(issuer)) {
    if (e.broadcast && e.origin == issuer) ids.insert(e.id);
  }
  return ids;
}

// Publishes a working-day calendar for 2027 from `issuer`; returns the new
// broadcast event's id.
std::string publish_calendar(const Net& net, const std::string& issuer) {
  const fs::path file = net.node_dir(issuer) / "calendar-2027.toml";
  {
    std::ofstream out(file);
    out << "year = 2027\nholidays = [\"2027-01-01\", \"2027-02-06\", \"2027-02-07\", "
           "\"2027-02-08\"]\nworkdays = [\"2027-02-14\"]\n";
  }
  const auto before = own_broadcasts(net, issuer);
  auto r = net.cli(issuer, {"publish", "calendar", "--actor", "吴主任", "--role", "director",
                            "--year", "2027", "--file", file.string()});
  INFO("publish calendar at " << issuer << ": exit " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> fresh;
  for (const auto& id : own_broadcasts(net, issuer)) {
    if (before.count(id) == 0) fresh.insert(id);
  }
  REQUIRE(fresh.size() == 1);
  return *fresh.begin();
}

}  // namespace

// ---- a. offline work, then catch-up ------------------------------------------------------

TEST_CASE("sync: applications registered offline reach the county once the links come up",
          "[sync]") {
  Net net(standard_tree());
  // No daemon runs: the agents work on their own stores, as on a day
  // without network.
  std::vector<std::string> village_cases;
  for (const auto& v : {kV1, kV2, kV7, kV3}) {
    for (int i = 0; i < 3; ++i) {
      const std::string c = submit(net, v, kApplicants[static_cast<std::size_t>(i)]);
      if (i == 0) accept_and_escalate(net, v, c);
      village_cases.push_back(c);
    }
  }
  // A walk-in application at the township hub itself.
  const std::string at_township = submit(net, kTownA, "孙九");

  // Children come up before their parents: they must keep redialing.
  for (const auto& v : {kV1, kV2, kV7, kV3})
    net.start(v);
  net.start(kTownA);
  net.start(kTownB);
  net.start(kCounty);

  require_converged(net);
  const auto at_county = net.cases(kCounty);
  std::set<std::string> county_cases;
  for (const auto& c : at_county)
    county_cases.insert(c.case_id);
  for (const auto& c : village_cases)
    CHECK(county_cases.count(c) == 1);
  CHECK(county_cases.count(at_township) == 1);
  CHECK(county_cases.size() == village_cases.size() + 1);
  // Township B never sees township A's cases.
  for (const auto& c : net.cases(kTownB))
    CHECK(c.home.rfind(kTownB, 0) == 0);
}

// ---- b. a decision goes down only to its village -----------------------------------------

TEST_CASE("sync: a county decision reaches the village it concerns and no sibling", "[sync]") {
  Net net(standard_tree());
  net.start_all();

  const std::string c1 = submit(net, kV1, "张三");
  const std::string c2 = submit(net, kV2, "李四");
  accept_and_escalate(net, kV1, c1);
  accept_and_escalate(net, kV2, c2);
  wait_case_status(net, kTownA, c1, "escalated");
  wait_case_status(net, kTownA, c2, "escalated");
  // The township cannot decide a homestead permit: 上报 to the county.
  for (const auto& c : {c1, c2})
    act(net, kTownA, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  wait_for("both cases escalated to the county", quietly([&] {
             return case_status(net, kCounty, c1) == "escalated" &&
                    case_status(net, kCounty, c2) == "escalated" &&
                    // submitted, accepted, escalated, the township's receipt,
                    // escalated, the county's receipt.
                    case_event_ids(net, kCounty, c1).size() == 6;
           }));
  const std::string d1 = decide(net, kCounty, c1);
  const std::string d2 =
      act(net, kCounty, c2,
          {"decide", "--actor", "李局长", "--role", "officer", "--reject", "--reason",
           "不符合一户一宅规定", "--basis", "《土地管理法》第六十二条"});

  wait_case_status(net, kV1, c1, "decided");
  wait_case_status(net, kV2, c2, "decided");
  // 回复, 一事一评, 销号 at the village.
  act(net, kV1, c1, {"deliver", "--actor", "王小红", "--method", "当面"});
  act(net, kV1, c1, {"rate", "--actor", "王小红", "--score", "5", "--comment", "满意"});
  act(net, kV1, c1, {"close", "--actor", "王小红"});

  require_converged(net);
  CHECK(case_status(net, kCounty, c1) == "closed");
  CHECK(case_status(net, kTownA, c1) == "closed");
  // Explicitly: siblings and the other branch never receive the case.
  for (const auto& other : {kV2, kV7, kV3, kTownB}) {
    INFO("node " << other);
    CHECK(case_event_ids(net, other, c1).empty());
    CHECK(event_ids(net, other).count(d1) == 0);
  }
  for (const auto& other : {kV1, kV7, kV3, kTownB}) {
    INFO("node " << other);
    CHECK(case_event_ids(net, other, c2).empty());
    CHECK(event_ids(net, other).count(d2) == 0);
  }
  CHECK(event_ids(net, kV1).count(d1) == 1);
  CHECK(event_ids(net, kV2).count(d2) == 1);
}

// ---- c. broadcasts -----------------------------------------------------------------------

TEST_CASE("sync: a county broadcast reaches the whole tree, a township may not publish one",
          "[sync]") {
  Net net(standard_tree());
  net.start_all();
  // Case traffic on the same links meanwhile.
  const std::string c = submit(net, kV3, "王五");
  const std::string from_county = publish_calendar(net, kCounty);
  // Only the county publishes the calendar (storage/authority.h may_publish).
  const auto before = own_broadcasts(net, kTownB);
  auto by_township =
      net.cli(kTownB, {"publish", "calendar", "--actor", "吴主任", "--role", "director", "--year",
                       "2027", "--file", (net.node_dir(kCounty) / "calendar-2027.toml").string()});
  CHECK(by_township.exit_code == 1);
  CHECK(by_township.err.find("只有县级节点发布工作日历") != std::string::npos);
  CHECK(own_broadcasts(net, kTownB) == before);
  accept_and_escalate(net, kV3, c);

  require_converged(net);
  for (const auto& code : net.codes()) {
    INFO("node " << code);
    const auto ids = event_ids(net, code);
    CHECK(ids.count(from_county) == 1);
  }
}

// ---- d. restarts of every tier under load ------------------------------------------------

TEST_CASE("sync: restarting each tier by SIGTERM and SIGKILL loses and duplicates nothing",
          "[sync]") {
  Net net(standard_tree());
  net.start_all();

  constexpr int kSubmissions = 200;
  std::atomic<int> done{0};
  std::atomic<bool> finished{false};
  std::mutex mu;
  std::vector<std::string> submitted, retried, failed;
  std::thread agent([&] {
    for (int i = 0; i < kSubmissions; ++i) {
      const std::string applicant = kApplicants[static_cast<std::size_t>(i) % kApplicants.size()];
      std::optional<std::string> c;
      std::string err;
      // The agent tries again if the command fails (a daemon going away).
      for (int attempt = 0; attempt < 3 && !c; ++attempt) {
        if (attempt > 0) {
          std::lock_guard lock(mu);
          retried.push_back("#" + std::to_string(i) + ": " + err);
          std::this_thread::sleep_for(200ms);
        }
        c = try_submit(net, kV1, applicant, &err);
      }
      {
        std::lock_guard lock(mu);
        if (c) {
          submitted.push_back(*c);
        } else {
          failed.push_back("#" + std::to_string(i) + ": " + err);
        }
      }
      ++done;
    }
    finished = true;
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{agent};

  // (submissions done, action) — every tier, each stopped both ways.
  enum class Op { term, kill, start };
  const std::vector<std::tuple<int, Op, std::string>> plan = {
      {15, Op::term, kTownA},   {30, Op::start, kTownA},  {45, Op::kill, kCounty},
      {60, Op::start, kCounty}, {75, Op::kill, kTownA},   {90, Op::start, kTownA},
      {105, Op::term, kV1},     {120, Op::start, kV1},    {135, Op::kill, kV1},
      {150, Op::start, kV1},    {165, Op::term, kCounty}, {180, Op::start, kCounty}};
  for (const auto& [at, op, code] : plan) {
    const bool reached =
        liandong::test::wait_until([&, at = at] { return done >= at || finished; }, 60s, 20ms);
    INFO("submissions done: " << done << ", waiting for " << at);
    CHECK(reached);
    switch (op) {
      case Op::term:
        stop_cleanly(net, code);
        break;
      case Op::kill:
        net.kill9(code);
        break;
      case Op::start:
        net.start(code);
        break;
    }
  }
  wait_for(
      "the agent's submissions to finish", [&] { return finished.load(); }, 120s);
  agent.join();
  {
    std::string notes;
    for (const auto& r : retried)
      notes += r + "\n";
    // A command that fails while its daemon is being stopped is tolerable
    // (the agent retries); it is reported, not failed.
    if (!retried.empty()) WARN("submissions that failed and were retried:\n" << notes);
  }
  {
    std::string notes;
    for (const auto& f : failed)
      notes += f + "\n";
    INFO("submissions that failed three times:\n" << notes);
    CHECK(failed.empty());
  }

  require_converged(net, 90s);
  std::set<std::string> at_county;
  for (const auto& c : net.cases(kCounty))
    at_county.insert(c.case_id);
  std::vector<std::string> missing;
  for (const auto& c : submitted) {
    if (at_county.count(c) == 0) missing.push_back(c);
  }
  INFO(missing.size() << " submitted cases not at the county, first: "
                      << (missing.empty() ? "" : missing.front()));
  CHECK(missing.empty());
  CHECK(std::set<std::string>(submitted.begin(), submitted.end()).size() == submitted.size());
}

// ---- e. a township restored from an old copy ---------------------------------------------

TEST_CASE("sync: a township restored from an old copy gets back what came after the copy",
          "[sync]") {
  Net net(standard_tree());
  net.start_all();

  // Before the copy: work at both villages, one case decided by the county.
  std::vector<std::string> v1_cases;
  for (int i = 0; i < 4; ++i)
    v1_cases.push_back(submit(net, kV1, kApplicants[static_cast<std::size_t>(i)]));
  submit(net, kV2, "陈七");
  accept_and_escalate(net, kV1, v1_cases[0]);
  wait_case_status(net, kTownA, v1_cases[0], "escalated");
  act(net, kTownA, v1_cases[0], {"escalate", "--actor", "刘芳", "--role", "clerk"});
  wait_case_handler(net, kCounty, v1_cases[0], kCounty);
  decide(net, kCounty, v1_cases[0]);
  require_converged(net);

  // The township's copy (a nightly backup), taken while it is stopped.
  stop_cleanly(net, kTownA);
  const std::set<std::string> in_copy = event_ids(net, kTownA);
  const fs::path copy = net.node_dir(kTownA) / "data.copy";
  fs::copy(net.data_dir(kTownA), copy, fs::copy_options::recursive);
  net.start(kTownA);

  // After the copy: village work, township work (its own events), county
  // decisions and a county broadcast.
  accept_and_escalate(net, kV1, v1_cases[1]);
  accept_and_escalate(net, kV1, v1_cases[2]);
  v1_cases.push_back(submit(net, kV1, "周八"));
  submit(net, kV2, "赵六");
  wait_case_status(net, kTownA, v1_cases[1], "escalated");
  wait_case_status(net, kTownA, v1_cases[2], "escalated");
  act(net, kTownA, v1_cases[1], {"escalate", "--actor", "刘芳", "--role", "clerk"});
  decide(net, kTownA, v1_cases[2]);  // within the township's own authority
  wait_case_handler(net, kCounty, v1_cases[1], kCounty);
  decide(net, kCounty, v1_cases[1]);
  publish_calendar(net, kCounty);
  require_converged(net);

  // The disk fails; what the township held beyond the copy and had passed
  // on (an audit record it wrote while stopping never left it) must come
  // back once it is restored.
  stop_cleanly(net, kTownA);
  std::set<std::string> elsewhere;
  for (const auto& code : {kCounty, kV1, kV2}) {
    for (const auto& id : event_ids(net, code))
      elsewhere.insert(id);
  }
  std::set<std::string> after_copy;
  std::set<std::string> origins_after_copy;
  for (const auto& e : net.events(kTownA)) {
    if (in_copy.count(e.id) != 0 || elsewhere.count(e.id) == 0) continue;
    after_copy.insert(e.id);
    origins_after_copy.insert(e.origin);
  }
  REQUIRE(after_copy.size() >= 8);
  // What the restore loses came from all three: the village, the county and
  // the township itself.
  REQUIRE(origins_after_copy.count(kV1) == 1);
  REQUIRE(origins_after_copy.count(kCounty) == 1);
  REQUIRE(origins_after_copy.count(kTownA) == 1);

  // The township is restored from the copy.
  fs::remove_all(net.data_dir(kTownA));
  fs::rename(copy, net.data_dir(kTownA));
  REQUIRE(event_ids(net, kTownA) == in_copy);
  net.start(kTownA);
  wait_for("the restored township's link to the county",
           quietly([&] { return net.link_state(kTownA, kCounty) == "up+active"; }));
  // Work goes on at once, including the township's own.
  const std::string fresh = submit(net, kV1, "孙九");
  act(net, kTownA, v1_cases[3],
      {"comment", "--actor", "刘芳", "--role", "clerk", "--text", "已电话联系申请人"});

  require_converged(net);
  const auto now = event_ids(net, kTownA);
  std::vector<std::string> lost;
  for (const auto& id : after_copy) {
    if (now.count(id) == 0) lost.push_back(id);
  }
  INFO(lost.size() << " events after the copy not back at the township, first: "
                   << (lost.empty() ? "" : lost.front()));
  CHECK(lost.empty());
  CHECK(case_event_ids(net, kCounty, fresh).size() == 1);
}

// ---- f. a village's store replaced -------------------------------------------------------

TEST_CASE("sync: a village whose store is replaced gets its cases back and reuses no number",
          "[sync]") {
  Net net(standard_tree());
  net.start_all();

  std::vector<std::string> old_cases;
  for (int i = 0; i < 4; ++i)
    old_cases.push_back(submit(net, kV7, kApplicants[static_cast<std::size_t>(i)]));
  accept_and_escalate(net, kV7, old_cases[0]);
  accept_and_escalate(net, kV7, old_cases[1]);
  wait_case_status(net, kTownA, old_cases[0], "escalated");
  decide(net, kTownA, old_cases[0]);
  require_converged(net);
  const std::set<std::string> old_ids = event_ids(net, kV7);

  // The village PC's disk is replaced. The county IT person re-initialises
  // the store and puts back the node's key pair from the backup kept at the
  // county, so the township and county configs stay valid (init --force
  // makes new keys; a node's identity is its key pair).
  stop_cleanly(net, kV7);
  net.reinit(kV7, /*keep_keys=*/true);
  REQUIRE(net.events(kV7).empty());
  net.start(kV7);
  wait_for("the village's link to its township",
           quietly([&] { return net.link_state(kV7, kTownA) == "up+active"; }));

  std::set<std::string> old_case_set(old_cases.begin(), old_cases.end());
  std::vector<std::string> new_cases;
  for (int i = 0; i < 2; ++i) {
    new_cases.push_back(submit(net, kV7, kApplicants[static_cast<std::size_t>(i + 4)]));
    INFO("new case " << new_cases.back() << " reuses an old number");
    CHECK(old_case_set.count(new_cases.back()) == 0);
  }

  require_converged(net);
  const auto now = event_ids(net, kV7);
  std::vector<std::string> lost;
  for (const auto& id : old_ids) {
    if (now.count(id) == 0) lost.push_back(id);
  }
  INFO(lost.size() << " of the village's " << old_ids.size()
                   << " old events not back at the village, first: "
                   << (lost.empty() ? "" : lost.front()));
  CHECK(lost.empty());
  // The agent carries on with the decided case.
  if (lost.empty()) {
    act(net, kV7, old_cases[0], {"deliver", "--actor", "王小红", "--method", "当面"});
    require_converged(net);
  }
}

// ---- g. failover to the county and back --------------------------------------------------

TEST_CASE("sync: a village fails over to the county and returns to its township", "[sync]") {
  Net net(standard_tree(/*v1_failover=*/true));
  net.start_all();
  submit(net, kV1, "张三");
  require_converged(net);

  stop_cleanly(net, kTownA);
  std::vector<std::string> during;
  for (int i = 0; i < 4; ++i)
    during.push_back(submit(net, kV1, kApplicants[static_cast<std::size_t>(i + 1)]));
  // 上报 straight to the county while the township hub is down.
  act(net, kV1, during[0], {"accept", "--actor", "王小红"});
  act(net, kV1, during[0], {"escalate", "--actor", "王小红", "--to", kCounty});
  const std::string stuck = submit(net, kV2, "陈七");  // kV2 has no second upstream
  wait_for("the failover submissions at the county", quietly([&] {
             for (const auto& c : during) {
               if (case_event_ids(net, kCounty, c).empty()) return false;
             }
             return case_status(net, kCounty, during[0]) == "escalated";
           }));
  CHECK(net.link_state(kV1, kCounty) == "up+active");
  CHECK(case_event_ids(net, kCounty, stuck).empty());
  decide(net, kCounty, during[0]);
  wait_case_status(net, kV1, during[0], "decided");

  net.start(kTownA);
  wait_for("the village back on its township",
           quietly([&] { return net.link_state(kV1, kTownA) == "up+active"; }));
  std::vector<std::string> after;
  for (int i = 0; i < 2; ++i)
    after.push_back(submit(net, kV1, kApplicants[static_cast<std::size_t>(i)]));
  wait_for("new submissions at the township", quietly([&] {
             for (const auto& c : after) {
               if (case_event_ids(net, kTownA, c).empty()) return false;
             }
             return true;
           }));

  require_converged(net);
  // The township holds the cases of the failover period too, each event once.
  for (const auto& c : during) {
    INFO("case " << c);
    CHECK(case_event_ids(net, kTownA, c) == case_event_ids(net, kCounty, c));
  }
  CHECK(case_status(net, kTownA, during[0]) == "decided");
  CHECK(case_event_ids(net, kCounty, stuck).size() == 1);
}

// ---- h. thirty villages redial one township ----------------------------------------------

TEST_CASE("sync: thirty villages redialing a restarted township all get through", "[sync]") {
  constexpr int kVillages = 30;
  std::vector<NodeSpec> tree = {{kCounty, {}}, {kTownA, {kCounty}}};
  std::vector<std::string> villages;
  for (int i = 1; i <= kVillages; ++i) {
    char code[16];
    std::snprintf(code, sizeof code, "360723101%03d", i);
    villages.push_back(code);
    tree.push_back({code, {kTownA}});
  }
  Net net(tree);
  net.start_all();
  for (std::size_t i = 0; i < villages.size(); ++i)
    submit(net, villages[i], kApplicants[i % kApplicants.size()]);
  require_converged(net, 90s);

  stop_cleanly(net, kTownA);
  std::vector<std::string> backlog;
  for (std::size_t i = 0; i < villages.size(); ++i)
    backlog.push_back(submit(net, villages[i], kApplicants[(i + 1) % kApplicants.size()]));
  net.start(kTownA);

  std::vector<std::string> starved;
  liandong::test::wait_until(quietly([&] {
                               std::set<std::string> at_county;
                               for (const auto& c : net.cases(kCounty))
                                 at_county.insert(c.case_id);
                               starved.clear();
                               for (const auto& c : backlog) {
                                 if (at_county.count(c) == 0) starved.push_back(c);
                               }
                               return starved.empty();
                             }),
                             90s, 250ms);
  std::string list;
  for (const auto& c : starved)
    list += c + " ";
  INFO("cases of villages that never got through: " << list);
  CHECK(starved.empty());
  require_converged(net, 90s);
}

// ---- the checker itself ------------------------------------------------------------------

// The checker must fail when it should, or every scenario above proves
// nothing. No daemon runs here: events stay where they were made.
TEST_CASE("sync checker: events not yet sent and events out of place are reported", "[sync]") {
  Net net(standard_tree());
  CHECK(liandong::test::check_converged(net).ok);

  const std::string c = submit(net, kV1, "张三");
  auto missing = liandong::test::check_converged(net);
  INFO(missing.report);
  CHECK_FALSE(missing.ok);
  CHECK(missing.report.find("node 360723101 holds 0 events") != std::string::npos);
  CHECK(missing.report.find("node 360723 holds 0 events") != std::string::npos);
  CHECK(missing.report.find("missing") != std::string::npos);
  CHECK(missing.report.find(c) != std::string::npos);

  // A sibling village's directory overwritten with this one's store: it
  // now holds an event the routing rule never sends there.
  fs::remove_all(net.data_dir(kV2));
  fs::copy(net.data_dir(kV1), net.data_dir(kV2), fs::copy_options::recursive);
  auto extra = liandong::test::check_converged(net);
  INFO(extra.report);
  CHECK(extra.report.find("node 360723101002 holds 1 events") != std::string::npos);
  CHECK(extra.report.find("extra") != std::string::npos);
}
