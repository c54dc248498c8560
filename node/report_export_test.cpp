// The 统计表 grouped by month and by person (绩效考评), the one column table
// the text, CSV and XLSX share, the 台账's masking and the downloads' names.
// Pure logic, except the XLSX written to a temporary directory and read
// back with the project's own reader (node/ledger_table.h).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "node/ledger_table.h"
#include "node/report.h"
#include "node/report_export.h"
#include "node/report_ledger.h"
#include "node/xlsx_sheet.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::node;

namespace {

constexpr int64_t kNov1 = 20758;  // 2026-11-01

// A case taken at 南安镇 on `day`; accepted by `acceptor` the same day with
// the promise `due`, decided by `decider` on `decided` (0: not decided).
CaseFacts taken(int64_t day, const std::string& acceptor, const std::string& decider,
                int64_t decided, int64_t due, uint8_t rating = 0) {
  CaseFacts c;
  c.home = "360723101007";
  c.item_code = "ZJ-002";
  c.taken = "360723101";
  c.submitted_day = day;
  c.accepted_day = day;
  c.due_day = due;
  c.intake_person = "360723101/" + acceptor;
  if (decided != 0) {
    c.completed = true;
    c.approved = true;
    c.decided_day = decided;
    c.decider = "360723";
    c.decision_person = "360723/" + decider;
    c.escalated = true;
  }
  c.rating = rating;
  return c;
}

const ReportRow* row(const Report& r, const std::string& key) {
  for (const auto& x : r.rows)
    if (x.key == key) return &x;
  return nullptr;
}

}  // namespace

TEST_CASE("report: by month, each case counts in the month it was registered", "[report]") {
  REQUIRE(format_date(kNov1) == "2026-11-01");
  std::vector<CaseFacts> cases = {taken(kNov1 - 1, "赵六", "", 0, kNov1 + 5),
                                  taken(kNov1, "赵六", "", 0, kNov1 + 5),
                                  taken(kNov1 + 29, "赵六", "吴局长", kNov1 + 29, kNov1 + 30)};
  ReportOptions o;
  o.by = GroupBy::month;
  o.as_of = kNov1 + 40;
  const Report r = build_report(cases, o);
  REQUIRE(r.rows.size() == 2);
  CHECK(r.rows[0].key == "2026-10");
  CHECK(r.rows[0].figures.received == 1);
  CHECK(r.rows[1].key == "2026-11");
  CHECK(r.rows[1].figures.received == 2);
  CHECK(r.rows[1].figures.completed == 1);
  CHECK(r.total.received == 3);
  CHECK(group_by_from_name("月份") == GroupBy::month);
  CHECK(std::string(group_by_name(GroupBy::month)) == "month");
}

TEST_CASE("report: by person, the acceptor signs intake and the decider the decision", "[report]") {
  // 赵六 (township clerk) accepts three; 吴局长 (county officer) decides two,
  // one on time and rated 满意, one late and rated 不满意; one stays open
  // past its promise.
  std::vector<CaseFacts> cases = {taken(kNov1, "赵六", "吴局长", kNov1 + 3, kNov1 + 5, 4),
                                  taken(kNov1, "赵六", "吴局长", kNov1 + 9, kNov1 + 5, 2),
                                  taken(kNov1, "赵六", "", 0, kNov1 + 5)};
  cases[1].complaints = 1;
  cases[1].complaints_against = {"360723"};
  ReportOptions o;
  o.by = GroupBy::person;
  o.as_of = kNov1 + 20;
  const Report r = build_report(cases, o);
  REQUIRE(r.rows.size() == 2);
  const ReportRow* clerk = row(r, "360723101/赵六");
  const ReportRow* officer = row(r, "360723/吴局长");
  REQUIRE(clerk != nullptr);
  REQUIRE(officer != nullptr);
  CHECK(clerk->figures.received == 3);
  CHECK(clerk->figures.accepted == 3);
  CHECK(clerk->figures.open == 1);
  CHECK(clerk->figures.overdue == 1);
  CHECK(clerk->figures.completed == 0);
  CHECK(officer->figures.received == 0);
  CHECK(officer->figures.completed == 2);
  CHECK(officer->figures.on_time == 1);
  CHECK(officer->figures.rated == 2);
  CHECK(officer->figures.ratings[3] == 1);  // 满意
  CHECK(officer->figures.complaints == 1);  // against the county, which decided
  // The rows add up to 合计, each case once.
  Figures sum = clerk->figures;
  sum += officer->figures;
  CHECK(sum == r.total);

  SECTION("a case that names no person counts for 未记录 at its level") {
    CaseFacts nobody = taken(kNov1, "", "", 0, kNov1 + 5);
    nobody.intake_person.clear();
    const Report r2 = build_report({nobody}, o);
    REQUIRE(r2.rows.size() == 1);
    CHECK(r2.rows[0].key == "360723101/未记录");
  }
  SECTION("a person's row reads as the place and the name") {
    CHECK(report_row_name(r, "360723101/赵六", nullptr).find("赵六") != std::string::npos);
  }
}

TEST_CASE("report: text, CSV and XLSX take the same columns, in order", "[report]") {
  std::vector<CaseFacts> cases = {taken(kNov1, "赵六", "吴局长", kNov1 + 3, kNov1 + 5, 4),
                                  taken(kNov1, "赵六", "吴局长", kNov1 + 9, kNov1 + 5, 1)};
  cases[0].fee_collected = 2050;
  ReportOptions o;
  o.by = GroupBy::township;
  o.from = kNov1;
  o.to = kNov1 + 29;
  o.as_of = kNov1 + 20;
  Report r = build_report(cases, o);
  r.node_code = "360723";
  const auto& cols = report_columns();
  REQUIRE(cols.size() >= 20);

  // CSV header: the grouping, then every column's header.
  const std::string csv = render_report_csv(r);
  std::string want = "\xEF\xBB\xBF乡镇";
  for (const auto& c : cols)
    want += std::string(",") + c.header;
  CHECK(csv.rfind(want + "\r\n", 0) == 0);

  // XLSX read back: title row, header row, the township, 合计.
  test::TempDir tmp{"liandong-xlsx"};
  auto bytes = xlsx_bytes({report_sheet(r, nullptr)}, tmp.path());
  REQUIRE(bytes.ok());
  // libxlsxwriter's temporary file is gone.
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()),
                      std::filesystem::directory_iterator()) == 0);
  auto t = read_ledger_xlsx(*bytes);
  REQUIRE(t.ok());
  REQUIRE(t->headers.size() == 1);  // the title, one merged cell
  CHECK(t->headers[0].find("统计表") != std::string::npos);
  CHECK(t->headers[0].find("2026-11-01 至 2026-11-30") != std::string::npos);
  REQUIRE(t->rows.size() == 4);  // headers, 南安镇, 合计, the definitions
  CHECK(t->rows[3].cells[0].text.rfind("说明", 0) == 0);
  const auto& head = t->rows[0].cells;
  REQUIRE(head.size() == cols.size() + 1);
  CHECK(head[0].text == "乡镇");
  for (std::size_t i = 0; i < cols.size(); ++i)
    CHECK(head[i + 1].text == cols[i].header);
  const auto& total = t->rows[2].cells;
  CHECK(total[0].text == "合计");
  auto at = [&](const char* header) -> const LedgerCell& {
    for (std::size_t i = 0; i < cols.size(); ++i)
      if (std::string(cols[i].header) == header) return total[i + 1];
    FAIL(header);
    return total[0];
  };
  CHECK(at("收件").number);
  CHECK(at("收件").text == "2");
  CHECK(at("按时办结率").number);
  CHECK(std::stod(at("按时办结率").text) == Approx(0.5));  // a share, shown as 50.0%
  CHECK(std::stod(at("代收费(元)").text) == Approx(20.5));
  CHECK(std::stod(at("好评率").text) == Approx(0.5));
}

TEST_CASE("ledger: ID numbers are masked, names and columns kept", "[report]") {
  CHECK(mask_id_number("360723195803172153") == "360723********2153");
  CHECK(mask_id_number("36072319580317215X") == "360723********215X");
  CHECK(mask_id_number("123") == "***");
  CHECK(mask_id_number("") == "");
  LedgerLine l;
  l.registered = "2026-11-02 09:30";
  l.case_number = "360723101007-000001";
  l.applicant = "张德贵";
  l.id_number = mask_id_number("360723195803172153");
  l.route = "水城村→南安镇→大余县";
  l.fee_fen = 2000;
  l.rating = "满意";
  const std::string csv = render_ledger_csv({l});
  std::string head = "\xEF\xBB\xBF";
  for (const auto& c : ledger_columns())
    head += std::string(head.size() > 3 ? "," : "") + c.header;
  CHECK(csv.rfind(head + "\r\n", 0) == 0);
  CHECK(csv.find("360723********2153") != std::string::npos);
  CHECK(csv.find("195803") == std::string::npos);
  CHECK(csv.find("水城村→南安镇→大余县") != std::string::npos);
  CHECK(csv.find(",20.00,") != std::string::npos);
}

TEST_CASE("export: file names say what, where and when, with nothing a disk refuses", "[report]") {
  CHECK(export_file_name("统计表", "大余县", kNov1, kNov1 + 29, "xlsx") ==
        "统计表_大余县_2026-11-01至2026-11-30.xlsx");
  CHECK(export_file_name("台账", "南安镇", std::nullopt, std::nullopt, "csv") ==
        "台账_南安镇_全部.csv");
  CHECK(export_file_name("台账", "a/b:c", kNov1, std::nullopt, "csv") ==
        "台账_a_b_c_2026-11-01至今.csv");
}
