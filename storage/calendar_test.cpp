#include "storage/calendar.h"
#include "storage/test_documents.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace liandong::storage;

namespace {

using liandong::test::calendar_2026;
using liandong::test::example_document;

Date d(int y, int m, int day) {
  return Date{y, m, day};
}

}  // namespace

TEST_CASE("calendar: civil dates round-trip through day numbers", "[calendar]") {
  CHECK(days_from_date(d(1970, 1, 1)) == 0);
  CHECK(date_from_days(days_from_date(d(2026, 2, 28)) + 1) == d(2026, 3, 1));
  CHECK(date_from_days(days_from_date(d(2028, 2, 28)) + 1) == d(2028, 2, 29));
  CHECK(weekday(d(2026, 10, 1)) == 3);   // Thursday
  CHECK(weekday(d(2026, 10, 10)) == 5);  // Saturday
  CHECK(format_date(d(2026, 1, 4)) == "2026-01-04");
  CHECK(parse_date("2026-02-29") == std::nullopt);
  CHECK(parse_date("2026-2-28") == std::nullopt);
  CHECK(parse_date("2026-12-31") == d(2026, 12, 31));
}

TEST_CASE("calendar: a timestamp's date is its date in China time (UTC+8)", "[calendar]") {
  // 2026-09-30 16:30 UTC is 2026-10-01 00:30 in Beijing.
  const uint64_t ms = static_cast<uint64_t>(days_from_date(d(2026, 9, 30))) * 86'400'000 +
                      (16 * 60 + 30) * 60'000ULL;
  CHECK(china_date(ms) == d(2026, 10, 1));
  CHECK(china_date(ms - 3'600'000) == d(2026, 9, 30));
}

TEST_CASE("calendar: without a document, weekends are the only rest days", "[calendar]") {
  const Calendar cal;
  CHECK(cal.is_working_day(d(2026, 11, 20)));   // Friday
  CHECK(!cal.is_working_day(d(2026, 11, 21)));  // Saturday
  CHECK(cal.add_working_days(d(2026, 11, 20), 2) == d(2026, 11, 24));
  CHECK(cal.add_working_days(d(2026, 11, 21), 0) == d(2026, 11, 21));
  CHECK(cal.working_days_between(d(2026, 11, 20), d(2026, 11, 24)) == 2);
  CHECK(cal.working_days_between(d(2026, 11, 24), d(2026, 11, 20)) == -2);
  CHECK(cal.working_days_between(d(2026, 11, 21), d(2026, 11, 22)) == 0);
}

TEST_CASE("calendar: public holidays rest and make-up days (调休) work", "[calendar]") {
  const Calendar cal = calendar_2026();
  CHECK(!cal.is_working_day(d(2026, 10, 1)));  // 国庆节
  CHECK(!cal.is_working_day(d(2026, 10, 7)));
  CHECK(cal.is_working_day(d(2026, 10, 10)));  // Saturday, 调休上班
  CHECK(cal.is_working_day(d(2026, 9, 20)));   // Sunday, 调休上班
  CHECK(!cal.is_working_day(d(2026, 2, 23)));  // Monday in 春节
  CHECK(cal.is_working_day(d(2026, 2, 14)));   // Saturday worked
  SECTION("across 国庆节") {
    CHECK(cal.add_working_days(d(2026, 9, 30), 2) == d(2026, 10, 9));
    CHECK(cal.working_days_between(d(2026, 9, 30), d(2026, 10, 9)) == 2);
  }
  SECTION("a make-up Saturday counts") {
    CHECK(cal.add_working_days(d(2026, 10, 9), 2) == d(2026, 10, 12));
    CHECK(Calendar().add_working_days(d(2026, 10, 9), 2) == d(2026, 10, 13));
  }
  CHECK(cal.years() == std::vector<int>{2026});
}

TEST_CASE("calendar: the shipped documents parse", "[calendar]") {
  for (const char* f : {"calendar-2026.toml", "calendar-2027.toml"}) {
    auto y = parse_calendar(example_document(f), f);
    INFO(f << ": " << y.status().to_string());
    REQUIRE(y.ok());
    CHECK(!y->holidays.empty());
    for (const auto& w : y->workdays)
      CHECK(weekday(w) >= 5);
  }
}

TEST_CASE("calendar: a bad document is refused naming its key and line", "[calendar]") {
  auto bad = [](const std::string& text) {
    auto r = parse_calendar(text, "cal.toml");
    REQUIRE(!r.ok());
    return r.status().message();
  };
  CHECK(bad("year = 2026\nholidays = [\"2026-10-01\",\n  \"2026-02-30\"]\n") ==
        "cal.toml:3: holidays[1]: '2026-02-30' is not a date YYYY-MM-DD");
  CHECK(bad("year = 2026\n\nholidays = [\"2027-01-01\"]\n").find("cal.toml:3: holidays[0]") == 0);
  CHECK(bad("year = 2026\nworkdays = [\"2026-10-09\"]\n").find("cal.toml:2: workdays:") == 0);
  CHECK(bad("holidays = []\n").find("year: missing") != std::string::npos);
  CHECK(bad("year = 2026\nholidayz = []\n").find("cal.toml:2: holidayz: unknown key") == 0);
  CHECK(bad("year = 2026\nholidays = [\n").find("cal.toml:") == 0);
  CHECK(bad("year = \"2026\"\n").find("cal.toml:1: year:") == 0);
}
