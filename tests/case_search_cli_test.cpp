// `case list` paging and search as a user meets them: the real binary on a
// real store.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/run_process.h"
#include "tests/support/temp_dir.h"

using liandong::test::Json;
using liandong::test::parse_json;
using liandong::test::run_process;

namespace {

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

Json json_of(const std::vector<std::string>& args) {
  auto r = cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = parse_json(r.out);
  REQUIRE(j);
  return *j;
}

// An 18-character resident ID number with its right check character.
std::string id_number(const std::string& first17) {
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i)
    sum += (first17[i] - '0') * w[i];
  return first17 + "10X98765432"[sum % 11];
}

struct Person {
  std::string name, id, phone, item;
};

Person person(int i) {
  const std::string n = std::to_string(i);
  return {"张" + std::string(1, static_cast<char>('A' + i)) + "明",
          id_number("3607231980010100" + n), "1390000000" + n, "MZ-DB-00" + n};
}

std::vector<std::string> ids_of(const Json& cases) {
  std::vector<std::string> out;
  for (const auto& c : cases.items)
    out.push_back(c.str("case"));
  return out;
}

}  // namespace

TEST_CASE("case list: pages give every case once, and each search option finds its case only",
          "[cli][search]") {
  liandong::test::TempDir tmp("liandong-search-cli");
  const std::string d = (tmp.path() / "v").string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723101007"}).exit_code == 0);
  std::vector<std::string> cases;
  for (int i = 1; i <= 7; ++i) {
    const Person p = person(i);
    auto r = cli({"submit", "--data", d, "--actor", "王小红", "--item", p.item, "--item-name",
                  "最低生活保障", "--applicant", p.name, "--id-number", p.id, "--phone", p.phone});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    cases.push_back("360723101007-00000" + std::to_string(i));
  }
  // Without paging options: every case, an array as before.
  CHECK(ids_of(json_of({"case", "list", "--data", d, "--json"})) == cases);

  // Pages of 3 with the cursor each page gives; a case submitted between
  // pages comes on a later page (case-id order), none twice.
  std::map<std::string, int> seen;
  std::vector<std::string> args = {"case", "list", "--data", d, "--limit", "3", "--json"};
  int pages = 0;
  for (; pages < 10; ++pages) {
    const Json page = json_of(args);
    const Json* list = page.get("cases");
    REQUIRE(list != nullptr);
    CHECK(list->items.size() <= 3);
    for (const auto& id : ids_of(*list))
      ++seen[id];
    if (pages == 0) {
      const Person p = person(8);
      REQUIRE(cli({"submit", "--data", d, "--actor", "王小红", "--item", p.item, "--applicant",
                   p.name, "--id-number", p.id, "--phone", p.phone})
                  .exit_code == 0);
    }
    const Json* next = page.get("next");
    REQUIRE(next != nullptr);
    if (next->type == Json::Type::null) break;
    args = {"case", "list", "--data", d, "--limit", "3", "--after", next->text, "--json"};
  }
  CHECK(pages == 2);
  CHECK(seen.size() == 8);
  for (const auto& [id, n] : seen) {
    INFO(id);
    CHECK(n == 1);
  }
  // The text page tells how to get the next one.
  auto text = cli({"case", "list", "--data", d, "--limit", "2"});
  CHECK(text.out.find("下一页：liandong case list --after 360723101007-000002") !=
        std::string::npos);

  for (int i = 1; i <= 7; ++i) {
    const Person p = person(i);
    const std::vector<std::string> just{cases[i - 1]};
    INFO(just[0]);
    for (const auto& [opt, value] :
         std::vector<std::pair<std::string, std::string>>{{"--name", p.name},
                                                          {"--id-number", p.id},
                                                          {"--phone", "+86 " + p.phone},
                                                          {"--case", "00000" + std::to_string(i)},
                                                          {"--case", cases[i - 1]},
                                                          {"--item", p.item}}) {
      INFO(opt << " " << value);
      const Json page = json_of({"case", "list", "--data", d, opt, value, "--json"});
      CHECK(ids_of(*page.get("cases")) == just);
    }
  }
  CHECK(ids_of(*json_of({"case", "list", "--data", d, "--name", "张A明", "--status", "accepted",
                         "--json"})
                    .get("cases"))
            .empty());
  // Bad paging input: one line, exit 2, nothing listed.
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--after", "yesterday"}, {"--limit", "0"}, {"--case", "abc"}}) {
    std::vector<std::string> a = {"case", "list", "--data", d};
    a.insert(a.end(), bad.begin(), bad.end());
    auto r = cli(a);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
  }
  CHECK(cli({"store", "check", "--data", d}).exit_code == 0);
}
