#include "storage/due_date.h"
#include "storage/test_documents.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace liandong;
using namespace liandong::storage;

namespace {

using liandong::test::calendar_2026;

CatalogItem timber_permit() {
  CatalogItem item;
  item.code = "LY-001";
  item.name = "林木采伐许可";
  item.level = DecidingLevel::county;
  item.limits = StepLimits{2, 1, 5, 3, 2};
  return item;
}

}  // namespace

TEST_CASE("promised days: the steps on the case's path", "[due]") {
  CatalogItem item = timber_permit();
  // A village case the county decides: every step.
  CHECK(promised_days(item, "360723101007") == 2 + 1 + 5 + 3 + 2);
  // Taken at the township: no village steps.
  CHECK(promised_days(item, "360723101") == 1 + 5 + 3);
  // Taken at the county: the county's own limit.
  CHECK(promised_days(item, "360723") == 5);
  item.level = DecidingLevel::township;
  CHECK(promised_days(item, "360723101007") == 2 + 1 + 3 + 2);
  CHECK(promised_days(item, "360723101") == 1);
  item.level = DecidingLevel::village;
  CHECK(promised_days(item, "360723101007") == 2);
  item.limits = StepLimits{0, 0, 0, 0, 0};
  CHECK(promised_days(item, "360723101007") == 0);
}

TEST_CASE("promise across 国庆节 and its 调休 Saturday", "[due]") {
  const Calendar cal = calendar_2026();
  // Accepted Wednesday 2026-09-30; 5 working days. 10-01..10-07 rest
  // (国庆节), Thursday 10-08 and Friday 10-09 work, Saturday 10-10 is a
  // make-up working day, Monday 10-12, Tuesday 10-13.
  auto p = promise_due(Date{2026, 9, 30}, 5, "", "", cal);
  REQUIRE(p.ok());
  CHECK(p->due == "2026-10-13");
  CHECK(p->limit == "2026-10-13");
  CHECK(p->limit_days == 5);
  // Weekends only (no calendar held), the same count ends in the holiday.
  auto plain = promise_due(Date{2026, 9, 30}, 5, "", "", Calendar());
  REQUIRE(plain.ok());
  CHECK(plain->due == "2026-10-07");
  // Sunday 2026-09-20 is worked (调休): accepted Saturday 09-19, 1 day.
  CHECK(promise_due(Date{2026, 9, 19}, 1, "", "", cal)->due == "2026-09-20");
  CHECK(promise_due(Date{2026, 9, 19}, 1, "", "", Calendar())->due == "2026-09-21");
}

TEST_CASE("a clerk may shorten the promise, never extend it without a reason", "[due]") {
  const Calendar cal = calendar_2026();
  const Date accepted{2026, 9, 30};
  auto shorter = promise_due(accepted, 5, "2026-10-09", "", cal);
  REQUIRE(shorter.ok());
  CHECK(shorter->due == "2026-10-09");
  CHECK(shorter->limit == "2026-10-13");
  CHECK(shorter->extend_reason.empty());

  auto longer = promise_due(accepted, 5, "2026-10-20", "", cal);
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.status().message().find("晚于事项目录时限 2026-10-13（5 个工作日）") !=
        std::string::npos);
  CHECK(longer.status().message().find("--extend-reason") != std::string::npos);

  auto reasoned = promise_due(accepted, 5, "2026-10-20", "需现场勘验，林业站人员外出", cal);
  REQUIRE(reasoned.ok());
  CHECK(reasoned->due == "2026-10-20");
  CHECK(reasoned->extend_reason == "需现场勘验，林业站人员外出");

  // A reason given for no extension is not recorded.
  CHECK(promise_due(accepted, 5, "2026-10-13", "多余的理由", cal)->extend_reason.empty());
}

TEST_CASE("due dates that do not exist or come before acceptance are refused", "[due]") {
  const Calendar cal = calendar_2026();
  const Date accepted{2026, 9, 30};
  CHECK_FALSE(promise_due(accepted, 5, "2026-02-30", "", cal).ok());
  CHECK_FALSE(promise_due(accepted, 5, "2026-9-30", "", cal).ok());
  auto before = promise_due(accepted, 5, "2026-09-29", "", cal);
  REQUIRE_FALSE(before.ok());
  CHECK(before.status().message().find("早于受理日期 2026-09-30") != std::string::npos);
  // The day of acceptance itself is a valid promise (即办).
  CHECK(promise_due(accepted, 5, "2026-09-30", "", cal)->due == "2026-09-30");
}

TEST_CASE("no catalog limit: the asked date as given, or none", "[due]") {
  const Calendar cal = calendar_2026();
  auto none = promise_due(Date{2026, 9, 30}, std::nullopt, "", "", cal);
  REQUIRE(none.ok());
  CHECK(none->due.empty());
  CHECK(none->limit.empty());
  auto typed = promise_due(Date{2026, 9, 30}, std::nullopt, "2026-12-31", "", cal);
  REQUIRE(typed.ok());
  CHECK(typed->due == "2026-12-31");
  CHECK(promise_due(Date{2026, 9, 30}, 0, "", "", cal)->due.empty());
}
