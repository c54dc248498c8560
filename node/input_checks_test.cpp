#include "node/input_checks.h"

#include <catch2/catch.hpp>

#include "storage/calendar.h"

using namespace liandong::node;

TEST_CASE("input checks: a division code names a place, no part all zeros", "[node]") {
  for (const char* ok : {"36", "3607", "360723", "360723101", "360723101007", "110101"})
    CHECK(plausible_code(ok));
  for (const char* bad : {"00", "000000", "0000", "3600", "360700", "360723000", "360723101000",
                          "000723101007", "abc", "", "36072", "3607231010071"})
    CHECK_FALSE(plausible_code(bad));
}

TEST_CASE("input checks: a person's name is not blank and holds no control characters", "[node]") {
  CHECK_FALSE(person_name_problem("王小红"));
  CHECK_FALSE(person_name_problem("Anna Li"));
  CHECK(person_name_problem(""));
  CHECK(person_name_problem(" "));
  CHECK(person_name_problem("\t \t"));
  CHECK(person_name_problem("\xe3\x80\x80"));  // ideographic space only
  CHECK(person_name_problem(" 王小红"));
  CHECK(person_name_problem("王小红 "));
  CHECK(person_name_problem("王\x1b[31m"));
  CHECK(person_name_problem("王\n李"));
  CHECK(person_name_problem("\xff"));
  CHECK(person_name_problem(std::string(200, 'a')));
}

TEST_CASE("input checks: a due date is a real day, not before acceptance", "[node]") {
  const int64_t today = liandong::storage::days_from_date(liandong::storage::Date{2026, 2, 10});
  CHECK_FALSE(due_date_problem("2026-02-10", today));
  CHECK_FALSE(due_date_problem("2026-02-28", today));
  CHECK(*due_date_problem("2026-02-31", today) == "'2026-02-31' is not a date YYYY-MM-DD");
  CHECK(*due_date_problem("2026-02-09", today) == "'2026-02-09' is before the day of acceptance");
  CHECK(due_date_problem("2026-13-01", today));
  CHECK(due_date_problem("2026-2-1", today));
  CHECK_FALSE(due_date_problem("2099-01-01", today));
  CHECK_FALSE(due_date_problem("2028-02-29", today));
  CHECK(due_date_problem("2027-02-29", today));
}
