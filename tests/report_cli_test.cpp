// `liandong report` and `liandong case trace` as county staff meet them:
// the real binary on a real store, a few cases through submit and act; the
// XLSX and CSV it writes read back with the project's own ledger reader.
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "node/ledger_table.h"

#include "tests/json_reader.h"
#include "tests/run_process.h"
#include "tests/support/submit.h"
#include "tests/support/temp_dir.h"

using liandong::test::Json;
using liandong::test::parse_json;
using liandong::test::run_process;

namespace {

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The China (UTC+8) date `days` from now, YYYY-MM-DD.
std::string china_date(int days) {
  const std::time_t t = std::time(nullptr) + 8 * 3600 + static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// A township hub (乡镇便民服务中心) with four cases taken at its window: one
// joint and approved (fee, rating), one refused, one withdrawn, one
// accepted, escalated and overdue. Each step is taken by the role that
// may take it there (storage/authority.h).
struct Village {
  liandong::test::TempDir tmp{"liandong-report-cli"};
  std::string d = (tmp.path() / "t").string();
  std::string joint, refused, withdrawn, overdue;

  Village() {
    REQUIRE(cli({"init", "--data", d, "--code", "360723101"}).exit_code == 0);
    joint = submit("NC-ZJD-001", "农村宅基地建房", "张三");
    refused = submit("LY-CF-002", "林木采伐", "李四");
    withdrawn = submit("NC-ZJD-001", "农村宅基地建房", "王五");
    overdue = submit("MZ-DB-003", "低保", "赵六");

    act(joint, "clerk", {"accept", "--due", "2099-12-31"});
    act(joint, "clerk", {"assign", "--dept", "民政", "--dept", "国土"});
    act(joint, "reviewer", {"opinion", "--dept", "民政", "--approve"});
    act(joint, "reviewer", {"opinion", "--dept", "国土", "--approve", "--on-behalf-of", "陈主任"});
    act(joint, "clerk",
        {"collect-fee", "--amount", "20", "--receipt", "No.001", "--reason", "测绘费代收"});
    act(joint, "officer", {"decide", "--approve", "--basis", "《土地管理法》"});
    act(joint, "clerk", {"deliver"});
    act(joint, "clerk", {"rate", "--score", "5"});
    act(joint, "clerk", {"close"});

    act(refused, "clerk", {"accept", "--due", "2099-12-31"});
    act(refused, "officer", {"decide", "--reject", "--reason", "不在采伐限额内"});
    act(refused, "clerk", {"complain", "--text", "不服"});

    act(withdrawn, "clerk", {"withdraw", "--reason", "申请人撤回"});

    // A due date may not lie before the day of acceptance: due today, and
    // the reports below are judged as of a month later (report()).
    act(overdue, "clerk", {"accept", "--due", china_date(0)});
    act(overdue, "clerk", {"escalate"});
  }

  std::string submit(const std::string& item, const std::string& name,
                     const std::string& applicant) {
    liandong::test::Application a;
    a.item = item;
    a.item_name = name;
    a.applicant = applicant;
    a.id_number.clear();
    return liandong::test::submit_in(d, a);
  }
  void act(const std::string& id, const std::string& role, std::vector<std::string> args) {
    std::vector<std::string> full = {"act",     id,       args[0],  "--data", d,
                                     "--actor", "王小红", "--role", role};
    full.insert(full.end(), args.begin() + 1, args.end());
    auto r = cli(full);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  liandong::test::ProcessResult report(std::vector<std::string> extra) {
    std::vector<std::string> args = {"report", "--data", d, "--as-of", china_date(30)};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli(args);
  }
};

const Json& member(const Json& j, std::string_view key) {
  const Json* m = j.get(key);
  REQUIRE(m != nullptr);
  return *m;
}

}  // namespace

TEST_CASE("report cli: the ledger counts what the events say", "[cli][report]") {
  Village v;
  SECTION("text for county staff, in Chinese") {
    auto r = v.report({});
    REQUIRE(r.exit_code == 0);
    CHECK(has(r.out, "统计报表"));
    CHECK(has(r.out, "按时办结率"));
    CHECK(has(r.out, "合计"));
    CHECK(has(r.out, "20.00"));
  }
  SECTION("JSON with English keys") {
    auto r = v.report({"--json"});
    REQUIRE(r.exit_code == 0);
    auto j = parse_json(r.out);
    REQUIRE(j);
    const Json& t = member(*j, "total");
    CHECK(t.u64("received") == 4);
    CHECK(t.u64("accepted") == 3);
    CHECK(t.u64("completed") == 2);
    CHECK(t.u64("completed_on_time") == 2);
    CHECK(t.u64("refused") == 1);
    CHECK(t.u64("withdrawn") == 1);
    CHECK(t.u64("open") == 1);
    CHECK(t.u64("overdue") == 1);
    CHECK(t.u64("escalated") == 1);
    CHECK(t.u64("joint") == 1);
    CHECK(t.u64("complaints") == 1);
    CHECK(t.u64("fees_collected_fen") == 2000);
    CHECK(t.u64("rated") == 1);
    CHECK(t.u64("rating_sum") == 5);
    CHECK(member(*j, "rows").items.empty());
  }
  SECTION("CSV opens in a spreadsheet: BOM, Chinese header, one row per group plus 合计") {
    auto r = v.report({"--csv", "--by", "department"});
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.out.size() > 3);
    CHECK(r.out.substr(0, 3) == "\xEF\xBB\xBF");
    CHECK(r.out.rfind("\xEF\xBB\xBF部门,收件,受理,办结,", 0) == 0);
    CHECK(has(r.out, "\r\n民政,1,1,1,"));
    CHECK(has(r.out, "\r\n国土,1,1,1,"));
    CHECK(has(r.out, "\r\n未分派,3,"));
    CHECK(has(r.out, "\r\n合计,4,"));
  }
  SECTION("--by village, township and item") {
    auto village = parse_json(v.report({"--json", "--by", "village"}).out);
    REQUIRE(village);
    REQUIRE(member(*village, "rows").items.size() == 1);
    CHECK(member(*village, "rows").items[0].str("key") == "360723101");
    auto township = parse_json(v.report({"--json", "--by", "township"}).out);
    REQUIRE(township);
    REQUIRE(member(*township, "rows").items.size() == 1);
    CHECK(member(*township, "rows").items[0].str("key") == "360723101");
    auto item = parse_json(v.report({"--json", "--by", "item"}).out);
    REQUIRE(item);
    const auto& rows = member(*item, "rows").items;
    REQUIRE(rows.size() == 3);
    CHECK(rows[2].str("key") == "NC-ZJD-001");
    CHECK(rows[2].u64("received") == 2);
  }
  SECTION("a period before any case holds nothing") {
    auto r = v.report({"--json", "--from", "2020-01-01", "--to", "2020-12-31"});
    REQUIRE(r.exit_code == 0);
    auto j = parse_json(r.out);
    REQUIRE(j);
    CHECK(member(*j, "total").u64("received") == 0);
  }
  SECTION("bad options are refused with exit code 2") {
    CHECK(v.report({"--from", "2026-13-01"}).exit_code == 2);
    CHECK(v.report({"--by", "province"}).exit_code == 2);
    CHECK(v.report({"--json", "--csv"}).exit_code == 2);
    CHECK(v.report({"--from", "2026-02-01", "--to", "2026-01-01"}).exit_code == 2);
  }
}

TEST_CASE("report cli: case trace shows every step, who, where and how long it waited",
          "[cli][report]") {
  Village v;
  SECTION("text") {
    auto r = cli({"case", "trace", v.joint, "--data", v.d});
    REQUIRE(r.exit_code == 0);
    CHECK(has(r.out, "办件倒查"));
    CHECK(has(r.out, "王小红"));
    CHECK(has(r.out, "代 陈主任"));
    CHECK(has(r.out, "360723101"));
    CHECK(has(r.out, "未达县"));
  }
  SECTION("JSON") {
    auto r = cli({"case", "trace", v.joint, "--data", v.d, "--json"});
    REQUIRE(r.exit_code == 0);
    auto j = parse_json(r.out);
    REQUIRE(j);
    CHECK(j->str("case") == v.joint);
    const auto& steps = member(*j, "steps").items;
    REQUIRE(steps.size() == 10);  // submitted + 9 actions
    CHECK(steps[0].str("kind") == "submitted");
    CHECK(steps[9].str("kind") == "closed");
    CHECK(steps[4].str("on_behalf_of") == "陈主任");
    for (const auto& s : steps) {
      CHECK(s.str("node") == "360723101");
      CHECK(s.get("stored_ms") != nullptr);
      CHECK(s.get("wait_ms") != nullptr);
      const Json* c = s.get("custody");
      REQUIRE(c != nullptr);
      CHECK(c->flag("here"));
    }
  }
  SECTION("an unknown case") {
    auto r = cli({"case", "trace", "360723101007-009999", "--data", v.d});
    CHECK(r.exit_code != 0);
    CHECK(has(r.err, "360723101007-009999"));
  }
}

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The cells of a sheet row as text.
std::vector<std::string> texts(const liandong::node::LedgerRow& r) {
  std::vector<std::string> out;
  for (const auto& c : r.cells)
    out.push_back(c.text);
  return out;
}

std::size_t column(const std::vector<std::string>& headers, const std::string& h) {
  for (std::size_t i = 0; i < headers.size(); ++i)
    if (headers[i] == h) return i;
  FAIL("no column " << h);
  return 0;
}

}  // namespace

TEST_CASE("report cli: the statistics table and the 台账 as XLSX and CSV, read back",
          "[cli][report]") {
  Village v;
  // A fifth case: registered by 王小红, accepted by 赵六 (clerk), decided by
  // 吴局长 (officer) — three people for 绩效考评.
  const std::string fifth = v.submit("MZ-DB-003", "低保", "孙七");
  auto act_as = [&](const std::string& who, const std::string& role,
                    std::vector<std::string> args) {
    std::vector<std::string> full = {"act",     fifth, args[0],  "--data", v.d,
                                     "--actor", who,   "--role", role};
    full.insert(full.end(), args.begin() + 1, args.end());
    REQUIRE(cli(full).exit_code == 0);
  };
  act_as("赵六", "clerk", {"accept", "--due", "2099-12-31"});
  act_as("吴局长", "officer", {"decide", "--approve", "--basis", "《社会救助暂行办法》"});
  liandong::test::TempDir out{"liandong-report-files"};

  SECTION("统计表 by person as XLSX: title, Chinese headers, numbers as numbers") {
    const auto file = out.path() / "统计表.xlsx";
    auto r = v.report({"--by", "person", "--format", "xlsx", "--out", file.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto t = liandong::node::read_ledger_xlsx(read_file(file));
    REQUIRE(t.ok());
    REQUIRE(t->headers.size() == 1);
    CHECK(has(t->headers[0], "统计表"));
    CHECK(has(t->headers[0], "分组 人员"));
    REQUIRE(t->rows.size() == 6);  // headers, three people, 合计, the definitions
    const auto head = texts(t->rows[0]);
    CHECK(head[0] == "人员");
    const std::size_t received = column(head, "收件"), completed = column(head, "办结"),
                      rate = column(head, "按时办结率");
    std::map<std::string, std::vector<liandong::node::LedgerCell>> by;
    for (std::size_t i = 1; i + 1 < t->rows.size(); ++i)
      by[t->rows[i].cells[0].text] = t->rows[i].cells;
    REQUIRE(by.count("合计") == 1);
    CHECK(by["合计"][received].number);
    CHECK(by["合计"][received].text == "5");
    CHECK(by["合计"][completed].text == "3");
    // The people by "place name": no division table here, so codes.
    std::string clerk, officer, agent;
    for (const auto& [name, cells] : by) {
      if (has(name, "赵六")) clerk = name;
      if (has(name, "吴局长")) officer = name;
      if (has(name, "王小红")) agent = name;
    }
    REQUIRE(!clerk.empty());
    REQUIRE(!officer.empty());
    REQUIRE(!agent.empty());
    CHECK(by[clerk][received].text == "1");
    CHECK(by[clerk][completed].text == "0");
    CHECK(by[officer][received].text == "0");
    CHECK(by[officer][completed].text == "1");
    CHECK(by[officer][rate].number);
    CHECK(std::stod(by[officer][rate].text) == Approx(1.0));  // 100.0%
    CHECK(by[agent][received].text == "4");
  }
  SECTION("台账 as XLSX: one row per case, masked columns, fees and ratings") {
    const auto file = out.path() / "台账.xlsx";
    auto r = v.report({"--ledger", "--format", "xlsx", "--out", file.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto t = liandong::node::read_ledger_xlsx(read_file(file));
    REQUIRE(t.ok());
    CHECK(has(t->headers[0], "办件台账"));
    CHECK(has(t->headers[0], "共 5 件"));
    REQUIRE(t->rows.size() == 8);  // headers, five cases, 合计, the note on ID numbers
    CHECK(has(t->rows.back().cells[0].text, "身份证号"));
    const auto head = texts(t->rows[0]);
    for (const char* h :
         {"登记时间", "办件编号", "申请人", "联系电话", "事项", "办理路径", "办理结果", "受理日期",
          "承诺办结日期", "办结日期", "送达日期", "收费(元)", "评价"})
      CHECK(column(head, h) < head.size());
    std::map<std::string, std::vector<std::string>> cases;
    for (std::size_t i = 1; i + 2 < t->rows.size(); ++i) {
      const auto row = texts(t->rows[i]);
      cases[row[column(head, "办件编号")]] = row;
    }
    REQUIRE(cases.count(v.joint) == 1);
    const auto& joint = cases[v.joint];
    CHECK(joint[column(head, "申请人")] == "张三");
    CHECK(joint[column(head, "办理结果")] == "准予许可");
    CHECK(joint[column(head, "评价")] == "非常满意");
    CHECK(joint[column(head, "承诺办结日期")] == "2099-12-31");
    CHECK(std::stod(joint[column(head, "收费(元)")]) == Approx(20.0));
    CHECK(t->rows[1].cells[column(head, "收费(元)")].number);
    CHECK(cases[v.refused][column(head, "办理结果")] == "不予许可");
    CHECK(has(cases[v.overdue][column(head, "办理路径")], "360723101→"));
    CHECK(cases[fifth][column(head, "申请人")] == "孙七");
    const auto total = texts(t->rows[t->rows.size() - 2]);
    CHECK(total[0] == "合计 5 件");
  }
  SECTION("台账 as CSV: BOM, Chinese headers, five cases") {
    auto r = v.report({"--ledger", "--format", "csv"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("\xEF\xBB\xBF登记时间,办件编号,申请人,", 0) == 0);
    auto t = liandong::node::read_ledger_csv(r.out);
    REQUIRE(t.ok());
    CHECK(t->rows.size() == 5);
    CHECK(has(r.out, v.joint));
  }
  SECTION("by item: each item by the name its cases were registered with") {
    auto r = v.report({"--csv", "--by", "item"});
    REQUIRE(r.exit_code == 0);
    CHECK(has(r.out, "\r\n农村宅基地建房（NC-ZJD-001）,2,"));
    CHECK(has(r.out, "\r\n低保（MZ-DB-003）,2,"));
  }
  SECTION("by month: this month's row") {
    auto j = parse_json(v.report({"--json", "--by", "month"}).out);
    REQUIRE(j);
    const auto& rows = member(*j, "rows").items;
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].str("key") == china_date(0).substr(0, 7));
    CHECK(rows[0].u64("received") == 5);
  }
  SECTION("bad export options are refused with exit code 2") {
    CHECK(v.report({"--format", "xlsx"}).exit_code == 2);  // no --out
    CHECK(v.report({"--format", "pdf"}).exit_code == 2);
    CHECK(v.report({"--ledger", "--json"}).exit_code == 2);
    CHECK(v.report({"--ledger", "--by", "item", "--format", "csv"}).exit_code == 2);
  }
}
