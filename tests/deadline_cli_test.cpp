// Deadlines (限时办结) as a user meets them: the real liandong binary
// publishing and showing the working-day calendar, and `case list
// --overdue / --warning` on real stores.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/run_process.h"
#include "tests/support/submit.h"
#include "tests/support/temp_dir.h"

using liandong::test::china_date_in;
using liandong::test::run_process;
namespace fs = std::filesystem;

namespace {

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

const std::string kCalendar2026 = std::string(LIANDONG_SOURCE_DIR) + "/config/calendar-2026.toml";

fs::path init(const fs::path& root, const std::string& code) {
  const fs::path data = root / code;
  auto r = cli({"init", "--data", data.string(), "--code", code});
  REQUIRE(r.exit_code == 0);
  return data;
}

// The value of the first "key":"value" in a JSON text.
std::string json_string(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\":\"";
  const auto at = json.find(k);
  if (at == std::string::npos) return {};
  const auto end = json.find('"', at + k.size());
  return json.substr(at + k.size(), end - at - k.size());
}

// Registers a case at the village; returns its number.
std::string submit(const fs::path& village, const std::string& applicant) {
  liandong::test::Application a;
  a.actor = "李明";
  a.item = "360723-LY-0001";
  a.item_name = "林木采伐";
  a.applicant = applicant;
  a.id_number.clear();
  return liandong::test::submit_in(village, a);
}

}  // namespace

TEST_CASE("deadline cli: the county publishes a calendar and every command shows it",
          "[cli][deadlines]") {
  liandong::test::TempDir tmp("liandong-deadline");
  const auto county = init(tmp.path(), "360723");
  auto none = cli({"calendar", "show", "--data", county.string()});
  REQUIRE(none.exit_code == 0);
  CHECK(none.out.find("未收到工作日历") != std::string::npos);

  auto pub = cli({"calendar", "publish", kCalendar2026, "--data", county.string(), "--actor",
                  "王科长", "--json"});
  INFO(pub.err);
  REQUIRE(pub.exit_code == 0);
  CHECK(pub.out.find("\"year\":2026") != std::string::npos);
  CHECK(pub.out.find("\"workdays\":6") != std::string::npos);

  auto json = cli({"calendar", "show", "--data", county.string(), "--year", "2026", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(json.out.find("\"origin\":\"360723\"") != std::string::npos);
  CHECK(json.out.find("\"2026-10-01\"") != std::string::npos);
  CHECK(json.out.find("\"2026-10-10\"") != std::string::npos);  // 调休上班

  auto text = cli({"calendar", "show", "--data", county.string()});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("2026年工作日历") != std::string::npos);
  CHECK(text.out.find("调休上班 (6)") != std::string::npos);

  auto other = cli({"calendar", "show", "--data", county.string(), "--year", "2027", "--json"});
  REQUIRE(other.exit_code == 0);
  CHECK(other.out == "[]\n");

  // The notice is in the log as a broadcast, for the subtree to receive.
  auto events = cli({"store", "events", "--data", county.string(), "--json"});
  CHECK(events.out.find("\"kind\":\"calendar_published\"") != std::string::npos);
}

TEST_CASE("deadline cli: a village or township may not publish the calendar", "[cli][deadlines]") {
  liandong::test::TempDir tmp("liandong-deadline");
  for (const char* code : {"360723101007", "360723101"}) {
    const auto data = init(tmp.path(), code);
    auto r =
        cli({"calendar", "publish", kCalendar2026, "--data", data.string(), "--actor", "李明"});
    CHECK(r.exit_code == 1);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("only the county") != std::string::npos);
    auto show = cli({"calendar", "show", "--data", data.string(), "--json"});
    CHECK(show.out == "[]\n");
  }
}

TEST_CASE("deadline cli: a bad calendar is refused naming its line, and nothing is published",
          "[cli][deadlines]") {
  liandong::test::TempDir tmp("liandong-deadline");
  const auto county = init(tmp.path(), "360723");
  const fs::path bad = tmp.path() / "bad.toml";
  std::ofstream(bad) << "year = 2026\nholidays = [\"2026-10-01\",\n  \"2026-10-32\"]\n";
  auto r =
      cli({"calendar", "publish", bad.string(), "--data", county.string(), "--actor", "王科长"});
  CHECK(r.exit_code == 2);
  CHECK(lines(r.err) == 1);
  CHECK(r.err.find("bad.toml:3: holidays[1]: '2026-10-32' is not a date") != std::string::npos);
  const fs::path weekday = tmp.path() / "weekday.toml";
  std::ofstream(weekday) << "year = 2026\n\nworkdays = [\"2026-10-09\"]\n";
  auto w = cli(
      {"calendar", "publish", weekday.string(), "--data", county.string(), "--actor", "王科长"});
  CHECK(w.exit_code == 2);
  CHECK(w.err.find("weekday.toml:3: workdays:") != std::string::npos);
  auto show = cli({"calendar", "show", "--data", county.string(), "--json"});
  CHECK(show.out == "[]\n");
}

TEST_CASE("deadline cli: case list --overdue and --warning pick the cases past or near due",
          "[cli][deadlines]") {
  liandong::test::TempDir tmp("liandong-deadline");
  const auto village = init(tmp.path(), "360723101007");
  // Left at the village point: its two working days run.
  const std::string idle = submit(village, "张三");
  // Forwarded to the township at once: the village's step is done and the
  // township's handling has no limit without a catalog.
  const std::string sent = submit(village, "李四");
  auto esc = cli({"act", sent, "escalate", "--data", village.string(), "--actor", "李明"});
  REQUIRE(esc.exit_code == 0);

  auto show = cli({"deadline", "show", idle, "--data", village.string(), "--json"});
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("\"step\":\"village_forward\"") != std::string::npos);
  const std::string due = json_string(show.out, "due");
  REQUIRE(due.size() == 10);

  SECTION("a month later the idle case is overdue (超期), the forwarded one is not") {
    const std::string later = china_date_in(30);
    auto json =
        cli({"case", "list", "--data", village.string(), "--overdue", "--as-of", later, "--json"});
    INFO(json.err);
    REQUIRE(json.exit_code == 0);
    CHECK(json.out.find(idle) != std::string::npos);
    CHECK(json.out.find(sent) == std::string::npos);
    CHECK(json.out.find("\"deadline\":\"overdue\"") != std::string::npos);
    auto text = cli({"case", "list", "--data", village.string(), "--overdue", "--as-of", later});
    CHECK(text.out.find("红牌超期") != std::string::npos);
    CHECK(text.out.find("转报乡镇") != std::string::npos);
    CHECK(text.out.find("共 1 件") != std::string::npos);
    auto warn = cli({"case", "list", "--data", village.string(), "--warning", "--as-of", later});
    CHECK(warn.out.find("共 0 件") != std::string::npos);
  }
  SECTION("on its due day the idle case is at warning (预警)") {
    auto json =
        cli({"case", "list", "--data", village.string(), "--warning", "--as-of", due, "--json"});
    REQUIRE(json.exit_code == 0);
    CHECK(json.out.find(idle) != std::string::npos);
    CHECK(json.out.find("\"deadline\":\"warning\"") != std::string::npos);
    auto text = cli({"case", "list", "--data", village.string(), "--warning", "--as-of", due});
    CHECK(text.out.find("黄牌预警") != std::string::npos);
    auto over = cli({"case", "list", "--data", village.string(), "--overdue", "--as-of", due});
    CHECK(over.out.find("共 0 件") != std::string::npos);
  }
  SECTION("today nothing is overdue yet") {
    auto r = cli({"case", "list", "--data", village.string(), "--overdue"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("共 0 件") != std::string::npos);
  }
  SECTION("a bad --as-of is refused") {
    auto r =
        cli({"case", "list", "--data", village.string(), "--overdue", "--as-of", "2026-13-01"});
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
  }
}

TEST_CASE("deadline cli: the item's limits come from the catalog held", "[cli][deadlines]") {
  liandong::test::TempDir tmp("liandong-deadline");
  const auto county = init(tmp.path(), "360723");
  // Registered before any catalog: an item the catalog does not list has no
  // limit for the county's decision.
  auto other = cli({"submit", "--data", county.string(), "--actor", "窗口", "--item", "XX-999",
                    "--applicant", "赵六", "--json-out"});
  REQUIRE(other.exit_code == 0);
  auto cat =
      cli({"catalog", "publish", std::string(LIANDONG_SOURCE_DIR) + "/config/catalog-example.toml",
           "--data", county.string(), "--actor", "县政务服务中心"});
  INFO(cat.err);
  REQUIRE(cat.exit_code == 0);
  // Taken at the county hall: the county's step has the item's limit
  // (林木采伐许可 LY-001: 1 working day).
  auto in_catalog = cli({"submit", "--data", county.string(), "--actor", "窗口", "--item", "LY-001",
                         "--applicant", "王五", "--material", "林木采伐申请表", "--material",
                         "居民身份证", "--material", "林权证或不动产权证书", "--json-out"});
  INFO(in_catalog.err);
  REQUIRE(in_catalog.exit_code == 0);
  const std::string limited = json_string(in_catalog.out, "case");
  const std::string unlimited = json_string(other.out, "case");
  auto r = cli({"case", "list", "--data", county.string(), "--overdue", "--as-of",
                china_date_in(30), "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(limited) != std::string::npos);
  CHECK(r.out.find("\"step\":\"county_decide\"") != std::string::npos);
  CHECK(r.out.find(unlimited) == std::string::npos);
}

TEST_CASE("deadline cli: status counts overdue and warning cases, with and without a daemon",
          "[cli][deadlines][daemon]") {
  liandong::test::Net net(std::vector<liandong::test::NodeSpec>{{"360723", {}}});
  const bool with_daemon = GENERATE(false, true);
  INFO((with_daemon ? "through the running daemon" : "on the store alone"));
  if (with_daemon) net.start("360723");
  auto status = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"status", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = net.cli("360723", args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = liandong::test::parse_json(r.out);
    REQUIRE(j);
    CHECK(j->flag("running") == with_daemon);
    const auto* totals = j->get("totals");
    REQUIRE(totals != nullptr);
    return std::make_pair(totals->u64("overdue"), totals->u64("warning"));
  };
  CHECK(status({}) == std::make_pair(std::uint64_t{0}, std::uint64_t{0}));

  // Registered before any catalog: no limit for the county's decision.
  auto other =
      net.cli("360723", {"submit", "--actor", "窗口", "--item", "XX-999", "--applicant", "赵六"});
  INFO(other.err);
  REQUIRE(other.exit_code == 0);
  auto cat = net.cli("360723", {"catalog", "publish",
                                std::string(LIANDONG_SOURCE_DIR) + "/config/catalog-example.toml",
                                "--actor", "县政务服务中心"});
  INFO(cat.err);
  REQUIRE(cat.exit_code == 0);
  // LY-001 (林木采伐许可) gives the county 1 working day: due on the next
  // working day, so at warning (预警) today.
  auto r = net.cli("360723", {"submit", "--actor", "窗口", "--item", "LY-001", "--applicant",
                              "王五", "--material", "林木采伐申请表", "--material", "居民身份证",
                              "--material", "林权证或不动产权证书"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(status({}) == std::make_pair(std::uint64_t{0}, std::uint64_t{1}));
  CHECK(status({"--as-of", china_date_in(30)}) ==
        std::make_pair(std::uint64_t{1}, std::uint64_t{0}));

  auto text = net.cli("360723", {"status", "--as-of", china_date_in(30)});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("红牌超期 1 件，黄牌预警 0 件") != std::string::npos);
  auto bad = net.cli("360723", {"status", "--as-of", "2026-02-30"});
  CHECK(bad.exit_code == 2);
  CHECK(lines(bad.err) == 1);
}
