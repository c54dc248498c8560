// Bringing paper ledgers in (`liandong import`), as a township office does
// it: a ledger typed into WPS or Excel and saved as CSV in GBK, as CSV in
// UTF-8 with a BOM, or as XLSX; the real binary on a real store, directly
// and through a running daemon. Bad rows are reported by row number (and
// column) and nothing is stored from them; good rows are stored once, also
// when the same file is imported again.
#include <iconv.h>
#include <xlsxwriter.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/files.h"

using liandong::test::Json;
using liandong::test::Net;
using liandong::test::parse_json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kCounty = "360723";
constexpr const char* kVillage = "360723101007";

// The ledger: row 1 is the header; the address of row 4 holds a newline
// and row 2's a comma (quoted, as WPS saves them). Rows 2, 4 and 8 are
// good; row 3's ID number has a wrong check digit, row 5's item is not in
// the catalog, row 6's phone is no phone. Row 7 lacks 户口簿: it is stored
// all the same, as a 补办件 waiting for it (storage/intake.h).
const std::vector<std::vector<std::string>> kLedger = {
    {"序号", "申请人姓名", "身份证号码", "联系电话", "住址", "事项编码", "材料", "所属村",
     "经办人"},
    {"1", "刘秀英", "360723197001010021", "13907971234", "黄坪村3组,12号", "MZ-003",
     "居民身份证、户口簿", kVillage, "王小红"},
    {"2", "陈桂兰", "360723195503030067", "13907971235", "黄坪村", "MZ-003", "居民身份证、户口簿",
     kVillage, "王小红"},
    {"3", "张建国", "360723198808080041", "13907971236", "黄坪村\n5组", "YB-002",
     "居民身份证、户口簿", "", "王小红"},
    {"4", "赵六", "36072319651215003X", "13907971237", "黄坪村", "XX-999", "居民身份证", "",
     "王小红"},
    {"5", "孙七", "360723200105200051", "12345", "黄坪村", "YB-002", "居民身份证、户口簿", "", ""},
    {"6", "周八", "360723200105200051", "13907971238", "黄坪村", "MZ-003", "居民身份证", "",
     "王小红"},
    {"7", "吴九", "360723195503030066", "13907971239", "黄坪村", "MZ-003", "居民身份证、户口簿",
     kVillage, ""},
};
const std::set<std::string> kGoodNames = {"刘秀英", "张建国", "周八", "吴九"};

std::string csv_utf8() {
  std::string out;
  for (const auto& row : kLedger) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string& v = row[i];
      if (i) out += ",";
      if (v.find_first_of(",\"\n") != std::string::npos) {
        out += "\"";
        for (char c : v)
          out += c == '"' ? std::string("\"\"") : std::string(1, c);
        out += "\"";
      } else {
        out += v;
      }
    }
    out += "\r\n";
  }
  return out;
}

std::string to_gbk(const std::string& utf8) {
  iconv_t cd = iconv_open("GBK", "UTF-8");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char* o = out.data();
  std::size_t o_left = out.size();
  REQUIRE(iconv(cd, &in, &in_left, &o, &o_left) != static_cast<std::size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - o_left);
  return out;
}

void write_file(const fs::path& p, const std::string& text) {
  liandong::test::write_text(p, text);
}

// The ledger as XLSX, with row 3's ID number typed as a number (Excel keeps
// 15 digits of it) instead of its wrong check digit.
void write_xlsx(const fs::path& p) {
  lxw_workbook* wb = workbook_new(p.c_str());
  REQUIRE(wb != nullptr);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "台账");
  for (std::size_t r = 0; r < kLedger.size(); ++r) {
    for (std::size_t c = 0; c < kLedger[r].size(); ++c) {
      const auto row = static_cast<lxw_row_t>(r);
      const auto col = static_cast<lxw_col_t>(c);
      if (r == 2 && c == 2) {
        worksheet_write_number(ws, row, col, 360723195503030066.0, nullptr);
      } else if (c == 0 && r > 0) {
        worksheet_write_number(ws, row, col, static_cast<double>(r), nullptr);
      } else if (!kLedger[r][c].empty()) {
        worksheet_write_string(ws, row, col, kLedger[r][c].c_str(), nullptr);
      }
    }
  }
  REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
}

void publish_catalog(Net& net) {
  const std::string file = fs::path(LIANDONG_SOURCE_DIR) / "config" / "catalog-example.toml";
  auto r =
      net.cli(kCounty, {"catalog", "publish", file, "--actor", "吴主任", "--role", "director"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// The applicants of the cases held, by name.
std::multiset<std::string> applicants(const Net& net) {
  auto r = net.cli(kCounty, {"case", "list", "--json"});
  REQUIRE(r.exit_code == 0);
  auto j = parse_json(r.out);
  REQUIRE(j);
  const Json* list = j->type == Json::Type::array ? &*j : j->get("cases");
  REQUIRE(list != nullptr);
  std::multiset<std::string> out;
  for (const auto& c : list->items)
    out.insert(c.str("applicant_name"));
  return out;
}

struct Outcome {
  int exit_code = 0;
  std::uint64_t rows = 0, stored = 0, duplicates = 0;
  std::vector<std::uint64_t> bad_lines;
  std::vector<std::string> bad_columns, bad_errors;
  std::string unknown;
};

Outcome import(const Net& net, const fs::path& file) {
  auto r = net.cli(kCounty, {"import", file.string(), "--actor", "王小红", "--json"},
                   std::chrono::seconds(60));
  INFO(r.err << r.out);
  REQUIRE(r.err.empty());
  auto j = parse_json(r.out);
  REQUIRE(j);
  Outcome o;
  o.exit_code = r.exit_code;
  o.rows = j->u64("rows");
  o.stored = j->u64("stored");
  o.duplicates = j->u64("duplicates");
  for (const auto& b : j->get("bad")->items) {
    o.bad_lines.push_back(b.u64("line"));
    o.bad_columns.push_back(b.str("column"));
    o.bad_errors.push_back(b.str("error"));
  }
  for (const auto& u : j->get("unknownColumns")->items)
    o.unknown += u.text;
  return o;
}

// The import of the ledger in one of its forms, twice, and what is held.
// `fresh`: its rows were not imported before (in any form).
void check_ledger(Net& net, const fs::path& file, bool xlsx, bool fresh) {
  INFO(file.filename() << (fresh ? " (new rows)" : " (rows imported before)"));
  std::multiset<std::string> before = applicants(net);
  const Outcome first = import(net, file);
  CHECK(first.exit_code == 1);  // some rows were bad
  CHECK(first.rows == 7);
  CHECK(first.stored == (fresh ? 4u : 0u));
  CHECK(first.duplicates == (fresh ? 0u : 4u));
  REQUIRE(first.bad_lines == std::vector<std::uint64_t>{3, 5, 6});
  CHECK(first.bad_columns[0].rfind("C 列", 0) == 0);
  CHECK(first.bad_errors[0].find(xlsx ? "存成了数字" : "校验位") != std::string::npos);
  CHECK(first.bad_columns[1].rfind("F 列", 0) == 0);
  CHECK(first.bad_errors[1].find("XX-999") != std::string::npos);
  CHECK(first.bad_columns[2].rfind("D 列", 0) == 0);
  CHECK(first.unknown.find("经办人") != std::string::npos);
  // The good rows, and only they, are stored.
  std::multiset<std::string> now = applicants(net);
  for (const auto& n : before) {
    auto it = now.find(n);
    REQUIRE(it != now.end());
    now.erase(it);
  }
  CHECK(now == (fresh ? std::multiset<std::string>(kGoodNames.begin(), kGoodNames.end())
                      : std::multiset<std::string>{}));
  // Row 7 waits for its 户口簿, told at once.
  {
    auto r = net.cli(kCounty, {"case", "list", "--status", "supplement_requested", "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("周八") != std::string::npos);
    CHECK(r.out.find("吴九") == std::string::npos);
  }
  // Again: nothing new.
  const Outcome again = import(net, file);
  CHECK(again.exit_code == 1);
  CHECK(again.stored == 0);
  CHECK(again.duplicates == 4);
  CHECK(again.bad_lines == first.bad_lines);
  CHECK(applicants(net).size() == before.size() + (fresh ? 4 : 0));
}

}  // namespace

TEST_CASE("import: a WPS ledger in GBK, in UTF-8 with BOM and as XLSX: bad rows named, stored once",
          "[import]") {
  Net net(std::vector<liandong::test::NodeSpec>{{kCounty, {}}});
  publish_catalog(net);
  const fs::path dir = net.root() / "ledgers";
  fs::create_directories(dir);
  const std::string utf8 = csv_utf8();
  write_file(dir / "gbk.csv", to_gbk(utf8));
  write_file(dir / "bom.csv", "\xEF\xBB\xBF" + utf8);
  write_xlsx(dir / "ledger.xlsx");

  SECTION("CSV in GBK, then the same ledger in UTF-8 with BOM, without a daemon") {
    check_ledger(net, dir / "gbk.csv", false, true);
    check_ledger(net, dir / "bom.csv", false, false);
  }
  SECTION("XLSX without a daemon") {
    check_ledger(net, dir / "ledger.xlsx", true, true);
  }
  SECTION("through a running daemon: CSV with BOM, then XLSX; then directly again") {
    net.start(kCounty);
    check_ledger(net, dir / "bom.csv", false, true);
    check_ledger(net, dir / "ledger.xlsx", true, false);
    REQUIRE(net.stop(kCounty) == 0);
    check_ledger(net, dir / "gbk.csv", false, false);
    CHECK(applicants(net).size() == 4);
  }
}

TEST_CASE("import: a file that is no ledger changes nothing", "[import]") {
  Net net(std::vector<liandong::test::NodeSpec>{{kCounty, {}}});
  publish_catalog(net);
  const fs::path dir = net.root() / "ledgers";
  fs::create_directories(dir);
  write_file(dir / "nohead.csv", "a,b,c\r\n1,2,3\r\n");
  write_file(dir / "broken.xlsx", "PK\x03\x04 not really a zip");
  write_file(dir / "open.csv", "申请人姓名,事项编码\r\n\"刘秀英,MZ-003\r\n");
  for (const char* f : {"nohead.csv", "broken.xlsx", "open.csv"}) {
    INFO(f);
    auto r = net.cli(kCounty, {"import", (dir / f).string(), "--actor", "王小红"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("错误：", 0) == 0);
    CHECK(applicants(net).empty());
  }
}
