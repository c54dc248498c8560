// Unit tests of 办事结果公开 (node/app/public_results.h): the masking, the
// allow-list of a public row and the paging of the public list. Pure logic.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "node/app/public_results.h"
#include "protocol/hlc.h"

using namespace liandong;
using app::PublicCase;
using app::PublicOutcome;

namespace {

// 2026-06-01 12:00 China time.
constexpr uint64_t kNoon = 1'780'286'400'000;
constexpr uint64_t kDay = 86'400'000;
const std::string kKey(32, 'k');

storage::CaseState decided_case() {
  storage::CaseState st;
  st.case_id = *parse_id("360723101007-000042");
  st.home = "360723101007";
  st.item_code = "WS-001";
  st.item_name = "生育登记";
  st.applicant_name = "欧阳明华";
  st.applicant_id = "36072319580317215X";
  st.applicant_phone = "13907975566";
  st.status = storage::CaseStatus::decided;
  st.has_decision = true;
  st.approved = true;
  st.accepted_hlc = make_hlc(kNoon, 0);
  st.decided_hlc = make_hlc(kNoon + 2 * kDay, 3);
  st.due_date = "2026-06-05";
  return st;
}

// Every string field of a row, for looking for what must not be there.
std::string all_text(const PublicCase& c) {
  return c.tag + "|" + c.applicant + "|" + c.item_code + "|" + c.item_name + "|" + c.home_name +
         "|" + c.home_label + "|" + c.accepted_date + "|" + c.decided_date;
}

}  // namespace

TEST_CASE("public: a name shows its first character and one star", "[app][public]") {
  CHECK(app::mask_person_name("张德贵") == "张*");
  CHECK(app::mask_person_name("张") == "张*");
  // A compound surname keeps only its first character too.
  CHECK(app::mask_person_name("欧阳明华") == "欧*");
  CHECK(app::mask_person_name("  李四") == "李*");
  CHECK(app::mask_person_name("\xE3\x80\x80王五") == "王*");
  CHECK(app::mask_person_name("Maria Li") == "M*");
  SECTION("nothing of a name that is no name") {
    CHECK(app::mask_person_name("") == "*");
    CHECK(app::mask_person_name("   ") == "*");
    CHECK(app::mask_person_name("13907975566") == "*");
    CHECK(app::mask_person_name("36072319580317215X") == "*");
    CHECK(app::mask_person_name("<script>") == "*");
    CHECK(app::mask_person_name("\xE5\xBC") == "*");  // a cut UTF-8 character
    CHECK(app::mask_person_name("\xFF\xFE") == "*");
  }
}

TEST_CASE("public: ID numbers and mobile numbers in a text are starred out", "[app][public]") {
  CHECK(app::public_text("身份证36072319580317215X号") == "身份证******************号");
  CHECK(app::public_text("360723195803172153") == "******************");
  CHECK(app::public_text("id 36072319580317215x.") == "id ******************.");
  CHECK(app::public_text("电话13907975566") == "电话***********");
  CHECK(app::public_text("139 0797 5566") == "*** **** ****");
  CHECK(app::public_text("139-0797-5566") == "***-****-****");
  // An old 15-digit ID number.
  CHECK(app::public_text("360723580317215") == "***************");
  SECTION("what is public stays") {
    CHECK(app::public_text("0797-12345") == "0797-12345");
    CHECK(app::public_text("0797-8722345") == "0797-8722345");
    CHECK(app::public_text("12345") == "12345");
    CHECK(app::public_text("2026-06-03") == "2026-06-03");
    CHECK(app::public_text("ZJ-001 农村宅基地建房审批") == "ZJ-001 农村宅基地建房审批");
    CHECK(app::public_text("水城村") == "水城村");
  }
  SECTION("control characters are dropped") {
    CHECK(app::public_text("a\nb\x01\x7f"
                           "c") == "abc");
  }
}

TEST_CASE("public: a decided case's row holds the allow-listed fields only", "[app][public]") {
  const storage::CaseState st = decided_case();
  auto row = app::public_case(st, nullptr, false, kKey);
  REQUIRE(row);
  CHECK(row->applicant == "欧*");
  CHECK(row->item_code == "WS-001");
  CHECK(row->item_name == "生育登记");
  CHECK(row->home_label == "所属村");
  CHECK(row->accepted_date == "2026-06-01");
  CHECK(row->decided_date == "2026-06-03");
  CHECK(row->decided_ms == kNoon + 2 * kDay);
  CHECK(row->outcome == PublicOutcome::approved);
  REQUIRE(row->on_time);
  CHECK(*row->on_time);
  CHECK(row->tag.size() == 16);
  const std::string text = all_text(*row);
  for (const char* secret : {"欧阳明华", "明华", "36072319580317215X", "215X", "17215X",
                             "13907975566", "5566", "000042", "360723101007-000042"})
    CHECK(text.find(secret) == std::string::npos);

  SECTION("the tag depends on the key, not only on the case") {
    auto other = app::public_case(st, nullptr, false, std::string(32, 'z'));
    REQUIRE(other);
    CHECK(other->tag != row->tag);
    CHECK(app::public_case(st, nullptr, false, kKey)->tag == row->tag);
  }
  SECTION("a hostile item name or applicant name is masked too") {
    storage::CaseState bad = st;
    bad.item_name = "生育登记 13907975566";
    bad.applicant_name = "13907975566";
    auto r = app::public_case(bad, nullptr, false, kKey);
    REQUIRE(r);
    CHECK(r->item_name == "生育登记 ***********");
    CHECK(r->applicant == "*");
  }
}

TEST_CASE("public: which cases are listed and how they ended", "[app][public]") {
  using S = storage::CaseStatus;
  storage::CaseState st = decided_case();
  SECTION("refused: 不予许可, late: not on time") {
    st.approved = false;
    st.due_date = "2026-06-02";
    auto r = app::public_case(st, nullptr, false, kKey);
    REQUIRE(r);
    CHECK(r->outcome == PublicOutcome::refused);
    CHECK(std::string(app::outcome_name_zh(r->outcome)) == "不予许可");
    REQUIRE(r->on_time);
    CHECK_FALSE(*r->on_time);
  }
  SECTION("a 咨询 answered") {
    auto r = app::public_case(st, nullptr, true, kKey);
    REQUIRE(r);
    CHECK(r->outcome == PublicOutcome::answered);
  }
  SECTION("delivered and closed cases are still listed") {
    st.status = S::delivered;
    CHECK(app::public_case(st, nullptr, false, kKey));
    st.status = S::closed;
    CHECK(app::public_case(st, nullptr, false, kKey));
  }
  SECTION("不予受理: the day it was refused, no on-time judgement") {
    st.status = S::not_accepted;
    st.has_decision = false;
    st.accepted_hlc = 0;
    st.closed_hlc = make_hlc(kNoon + kDay, 0);
    auto r = app::public_case(st, nullptr, false, kKey);
    REQUIRE(r);
    CHECK(r->outcome == PublicOutcome::not_accepted);
    CHECK(r->decided_date == "2026-06-02");
    CHECK(r->accepted_date.empty());
    CHECK_FALSE(r->on_time);
  }
  SECTION("open, withdrawn and conflicting cases are not") {
    for (S s : {S::submitted, S::accepted, S::escalated, S::assigned, S::supplement_requested,
                S::withdrawn}) {
      st.status = s;
      CHECK_FALSE(app::public_case(st, nullptr, false, kKey));
    }
    st = decided_case();
    st.conflict = true;
    CHECK_FALSE(app::public_case(st, nullptr, false, kKey));
  }
  SECTION("no promised date: no on-time judgement") {
    st.due_date.clear();
    auto r = app::public_case(st, nullptr, false, kKey);
    REQUIRE(r);
    CHECK_FALSE(r->on_time);
  }
}

TEST_CASE("public: pages go newest first, each row once, after the cursor", "[app][public]") {
  std::vector<PublicCase> all;
  for (int i = 0; i < 25; ++i) {
    PublicCase c;
    c.decided_ms = kNoon + static_cast<uint64_t>(i / 2) * 1000;  // pairs share a time
    c.tag = std::string(15, '0') + static_cast<char>('a' + i % 2);
    c.applicant = "张*";
    all.push_back(c);
  }
  std::sort(all.begin(), all.end(), app::newer);
  std::vector<std::string> seen;
  std::optional<app::PublicCursor> before;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = app::public_page(all, before, 7);
    for (const auto& r : page.rows)
      seen.push_back(app::public_cursor(r));
    if (!page.more) break;
    before = app::parse_public_cursor(app::public_cursor(page.rows.back()));
    REQUIRE(before);
  }
  REQUIRE(seen.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    CHECK(seen[i] == app::public_cursor(all[i]));
  CHECK(app::public_page(all, std::nullopt, 200).rows.size() == 25);
  CHECK_FALSE(app::public_page(all, std::nullopt, 25).more);
  CHECK(app::public_page(all, std::nullopt, 24).more);
}

TEST_CASE("public: a cursor is a time and 16 hex digits, nothing else", "[app][public]") {
  auto c = app::parse_public_cursor("1780286400000-0123456789abcdef");
  REQUIRE(c);
  CHECK(c->decided_ms == 1'780'286'400'000);
  CHECK(c->tag == "0123456789abcdef");
  for (const char* bad :
       {"", "-", "1780286400000", "1780286400000-", "x-0123456789abcdef", "-0123456789abcdef",
        "1780286400000-0123456789ABCDEF", "1780286400000-0123456789abcde",
        "1780286400000-0123456789abcdef0", "1234567890123456-0123456789abcdef",
        "17802864 0000-0123456789abcdef", "360723101007-000042"})
    CHECK_FALSE(app::parse_public_cursor(bad));
}
