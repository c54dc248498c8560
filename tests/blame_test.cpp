// The level blamed (限时办结, 电子监察) across real `liandong run` daemons,
// with the township and then the village offline while a case waits for
// them. Days pass by restarting every daemon with its clock moved on
// (LIANDONG_TEST_CLOCK_OFFSET_MS, the same for all, so no clock is off
// from its parent's), and the county's working-day calendar makes every
// day of the years the test spans a working day, so a step's working days
// are calendar days the test can count.
//
// Two cases of a county item (林木采伐许可; limits 转报乡镇 2, 乡镇承办 2,
// 县级办理 3, 结果回传 3, 结果送达 2 working days):
//   A  the township holds it three days (slow, online): 乡镇承办 is late,
//      charged to the township; the village tells the applicant four days
//      after the result arrived: 结果送达 is late, charged to the village.
//   B  escalated by the village while the township is down (day 0, stored
//      there on day 3); decided while the village is down (day 3, stored
//      at the village on day 7): no level is charged — the township's
//      clock starts at its receipt, the village's 送达 clock at its own.
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/files.h"
#include "tests/support/submit.h"

using liandong::test::china_date_in;
using liandong::test::Json;
using liandong::test::Net;
using liandong::test::NodeSpec;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kCounty = "360723", kTown = "360723101", kVillage = "360723101007";
constexpr long long kDayMs = 24LL * 3600 * 1000;

int china_year_in(int days) {
  return std::stoi(china_date_in(days).substr(0, 4));
}

// A calendar document for `year` in which every Saturday and Sunday is a
// working day (调休上班), so every day counts.
std::string every_day_works(int year) {
  std::string doc = "year = " + std::to_string(year) + "\nholidays = []\nworkdays = [\n";
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = 0;
  tm.tm_mday = 1;
  tm.tm_hour = 12;
  std::time_t t = timegm(&tm);
  for (int i = 0; i < 366; ++i, t += 86400) {
    std::tm d{};
    gmtime_r(&t, &d);
    if (d.tm_year != year - 1900) break;
    if (d.tm_wday != 0 && d.tm_wday != 6) continue;
    char buf[24];
    std::strftime(buf, sizeof buf, "  \"%Y-%m-%d\",\n", &d);
    doc += buf;
  }
  return doc + "]\n";
}

class Blame {
 public:
  Blame() : net_({{kCounty, {}}, {kTown, {kCounty}}, {kVillage, {kTown}}}) {}

  Net& net() { return net_; }

  // Moves every clock to day `day` of the test: stops what runs, starts
  // `up` with the clock `day` days ahead.
  void day(int day, const std::vector<std::string>& up) {
    for (const auto& code : net_.codes()) {
      if (net_.running(code)) REQUIRE(net_.stop(code) == 0);
    }
    for (const auto& code : net_.codes())
      net_.set_env(code, {"LIANDONG_TEST_CLOCK_OFFSET_MS=" + std::to_string(day * kDayMs)});
    for (const auto& code : up)
      net_.start(code);
  }

  Json run(const std::string& code, std::vector<std::string> args) {
    auto r = net_.cli(code, args);
    INFO(args[0] << " " << (args.size() > 1 ? args[1] : "") << " at " << code << ": exit "
                 << r.exit_code << ": " << r.err << r.out);
    REQUIRE(r.exit_code == 0);
    auto j = liandong::test::parse_json(r.out);
    REQUIRE(j);
    return *j;
  }

  void act(const std::string& code, const std::string& id, std::vector<std::string> args) {
    args.insert(args.begin(), {"act", id});
    args.push_back("--json");
    run(code, args);
  }

  std::optional<Json> show(const std::string& code, const std::string& id) const {
    auto r = net_.cli(code, {"case", "show", id, "--json"});
    if (r.exit_code != 0) return std::nullopt;
    return liandong::test::parse_json(r.out);
  }

  // Waits until `code` holds case `id` in `status` with a receipt by
  // `receipt_by` among its events (when not empty).
  void wait_status(const std::string& code, const std::string& id, const std::string& status,
                   const std::string& receipt_by = {}) {
    const bool ok = liandong::test::wait_until(
        [&] {
          auto j = show(code, id);
          if (!j || j->str("status") != status) return false;
          return receipt_by.empty() || has_receipt(code, id, receipt_by);
        },
        30s);
    INFO("case " << id << " at " << code << " never reached " << status
                 << (receipt_by.empty() ? "" : " with a receipt by " + receipt_by) << "\n"
                 << net_.log_tails());
    REQUIRE(ok);
  }

  bool has_receipt(const std::string& code, const std::string& id, const std::string& by) const {
    for (const auto& e : net_.events(code)) {
      if (e.case_id == id && e.kind == "received" && e.origin == by) return true;
    }
    return false;
  }

  std::string submit(const std::string& applicant, const std::string& id_number) {
    liandong::test::Application a;
    a.role = "agent";
    a.item = "LY-001";
    a.item_name.clear();  // the catalog names it
    a.applicant = applicant;
    a.id_number = id_number;
    a.extra = {"--phone", "13907971234", "--material", "林木采伐申请表"};
    return liandong::test::submit(net_, kVillage, a);
  }

 private:
  Net net_;
};

// The steps of `deadline show ID --json` at `code`, by step name.
std::map<std::string, Json> steps(Blame& b, const std::string& code, const std::string& id) {
  Json j = b.run(code, {"deadline", "show", id, "--json"});
  std::map<std::string, Json> out;
  const Json* list = j.get("steps");
  REQUIRE(list != nullptr);
  for (const auto& s : list->items)
    out[s.str("step")] = s;
  return out;
}

}  // namespace

TEST_CASE("blame: each step's clock belongs to the level holding the case, offline in turn",
          "[integration][deadlines]") {
  Blame b;
  Net& net = b.net();
  b.day(0, {kCounty, kTown, kVillage});
  // The county publishes a calendar in which every day works, and the catalog.
  for (int year : {china_year_in(0), china_year_in(0) + 1}) {
    const fs::path cal = net.root() / ("calendar-" + std::to_string(year) + ".toml");
    std::ofstream(cal) << every_day_works(year);
    b.run(kCounty, {"calendar", "publish", cal.string(), "--actor", "吴主任", "--role", "director",
                    "--json"});
  }
  const fs::path catalog = liandong::test::test_data_path("blame-catalog.toml");
  b.run(kCounty, {"catalog", "publish", catalog.string(), "--actor", "吴主任", "--role", "director",
                  "--json"});
  REQUIRE(liandong::test::wait_until(
      [&] {
        auto r = net.cli(kVillage, {"calendar", "show", "--json"});
        auto c = net.cli(kVillage, {"catalog", "list", "--json"});
        return r.out.find(std::to_string(china_year_in(0) + 1)) != std::string::npos &&
               c.exit_code == 0 && c.out.find("LY-001") != std::string::npos;
      },
      30s));

  // ---- day 0: both registered and accepted; A passed up, B passed up with
  // the township down.
  const std::string a = b.submit("张三", "360723198805123413");
  const std::string c = b.submit("李四", "360723199011052814");
  b.act(kVillage, a, {"accept", "--actor", "王小红", "--role", "agent"});
  b.act(kVillage, c, {"accept", "--actor", "王小红", "--role", "agent"});
  // 承诺办结日期: 2 + 2 + 3 + 3 + 2 = 12 working days from acceptance.
  CHECK(b.show(kVillage, a)->str("due_date") == china_date_in(12));
  b.act(kVillage, a, {"escalate", "--actor", "王小红", "--role", "agent"});
  b.wait_status(kTown, a, "escalated", kTown);
  REQUIRE(net.stop(kTown) == 0);
  b.act(kVillage, c, {"escalate", "--actor", "王小红", "--role", "agent"});

  // ---- day 3: the township is back and stores B; it passes both up, and
  // the county decides both while the village is down.
  b.day(3, {kCounty, kTown, kVillage});
  b.wait_status(kTown, c, "escalated", kTown);
  b.act(kTown, a, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  b.act(kTown, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  b.wait_status(kCounty, a, "escalated", kCounty);
  b.wait_status(kCounty, c, "escalated", kCounty);
  REQUIRE(net.stop(kVillage) == 0);
  for (const auto& id : {a, c})
    b.act(kCounty, id,
          {"decide", "--actor", "吴主任", "--role", "director", "--approve", "--certificate",
           "林采字〔2026〕" + id.substr(id.size() - 3) + "号"});
  b.wait_status(kTown, a, "decided", kTown);
  b.wait_status(kTown, c, "decided", kTown);

  // ---- day 7: the village is back and stores both results; it tells B's
  // applicant at once, A's four days later (day 11).
  b.day(7, {kCounty, kTown, kVillage});
  b.wait_status(kVillage, a, "decided", kVillage);
  b.wait_status(kVillage, c, "decided", kVillage);
  b.act(kVillage, c, {"deliver", "--actor", "王小红", "--role", "agent", "--method", "电话告知"});
  b.day(11, {kCounty, kTown, kVillage});
  b.act(kVillage, a, {"deliver", "--actor", "王小红", "--role", "agent", "--method", "上门送达"});
  b.wait_status(kCounty, a, "delivered", kVillage);
  b.wait_status(kCounty, c, "delivered", kVillage);
  auto conv = liandong::test::wait_converged(net, 30s);
  INFO(conv.report);
  REQUIRE(conv.ok);

  // ---- what the county sees.
  auto sa = steps(b, kCounty, a);
  auto sc = steps(b, kCounty, c);
  for (const char* step : {"village_forward", "township_handle", "county_decide", "township_reply",
                           "village_notify"}) {
    INFO(step);
    REQUIRE(sa.count(step) == 1);
    REQUIRE(sc.count(step) == 1);
    CHECK(sa[step].flag("done"));
    CHECK(sc[step].flag("done"));
  }
  CHECK(sa["village_forward"].str("holder") == kVillage);
  CHECK(sa["township_handle"].str("holder") == kTown);
  CHECK(sa["county_decide"].str("holder") == kCounty);
  CHECK(sa["township_reply"].str("holder") == kTown);
  CHECK(sa["village_notify"].str("holder") == kVillage);

  // A: the township held it three days (limit 2), the village told the
  // applicant four days after the result arrived (limit 2).
  CHECK(sa["village_forward"].str("flag") == "ok");
  CHECK(sa["township_handle"].str("flag") == "overdue");
  CHECK(sa["county_decide"].str("flag") == "ok");
  CHECK(sa["township_reply"].str("flag") == "ok");
  CHECK(sa["village_notify"].str("flag") == "overdue");
  CHECK(sa["village_notify"].str("started").rfind(china_date_in(7), 0) == 0);

  // B: the township was down when the village passed it up (day 0), the
  // village was down when the result came back (day 3): nobody is late.
  for (const auto& [name, s] : sc) {
    INFO(name);
    CHECK(s.str("flag") == "ok");
  }
  CHECK(sc["village_forward"].str("done_at").rfind(china_date_in(0), 0) == 0);
  CHECK(sc["township_handle"].str("started").rfind(china_date_in(3), 0) == 0);
  CHECK(sc["township_reply"].str("done_at").rfind(china_date_in(3), 0) == 0);
  CHECK(sc["village_notify"].str("started").rfind(china_date_in(7), 0) == 0);

  // The overdue steps in the county's report, each on the level that held it.
  Json rep = b.run(kCounty, {"report", "--by", "level", "--as-of", china_date_in(11), "--json"});
  std::map<std::string, std::uint64_t> late;
  const Json* rows = rep.get("rows");
  REQUIRE(rows != nullptr);
  for (const auto& row : rows->items)
    late[row.str("key")] =
        row.get("figures") ? row.get("figures")->u64("late_steps") : row.u64("late_steps");
  CHECK(late[kTown] == 1);
  CHECK(late[kVillage] == 1);
  CHECK(late[kCounty] == 0);
  auto text = net.cli(kCounty, {"deadline", "show", a});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("红牌超期") != std::string::npos);
}

TEST_CASE(
    "blame: a township stopped after storing a hand-over, before its receipt, makes it on restart",
    "[integration][deadlines]") {
  Blame b;
  Net& net = b.net();
  b.day(0, {kCounty, kTown, kVillage});
  const std::string id = b.submit("王五", "360723198805123413");
  b.act(kVillage, id, {"accept", "--actor", "王小红", "--role", "agent"});
  // The township exits the moment the batch holding the escalation is
  // stored, before its receipt is made and before it acknowledges.
  REQUIRE(net.stop(kTown) == 0);
  net.set_env(kTown, {"LIANDONG_TEST_EXIT_BEFORE_RECEIPTS=1"});
  net.start(kTown);
  b.act(kVillage, id, {"escalate", "--actor", "王小红", "--role", "agent"});
  REQUIRE(liandong::test::wait_until([&] { return !net.running(kTown); }, 30s));
  bool escalation_held = false;
  for (const auto& e : net.events(kTown)) {
    if (e.case_id == id && e.kind == "escalated") escalation_held = true;
  }
  CHECK(escalation_held);
  CHECK_FALSE(b.has_receipt(kTown, id, kTown));

  // Started again: the village sends the batch again (it was never
  // acknowledged), and the township makes the receipt it owed, once.
  net.set_env(kTown, {});
  net.start(kTown);
  b.wait_status(kTown, id, "escalated", kTown);
  auto conv = liandong::test::wait_converged(net, 30s);
  INFO(conv.report);
  REQUIRE(conv.ok);
  int receipts = 0;
  for (const auto& e : net.events(kTown)) {
    if (e.case_id == id && e.kind == "received") ++receipts;
  }
  CHECK(receipts == 1);
  CHECK(steps(b, kTown, id)["township_handle"].str("holder") == kTown);
}
