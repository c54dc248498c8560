// The working-day calendar (工作日历) that due dates count in: weekends are
// rest days, public holidays are rest days, and make-up working days (调休)
// that fall on a weekend are working days. The county publishes one TOML
// document per year (`calendarPublished`); a year with no document held
// counts weekends only.
//
// Document format (config/calendar-2026.toml):
//   year = 2026
//   holidays = ["2026-10-01", ...]   # rest days (法定节假日 and 调休 days off)
//   workdays = ["2026-10-10", ...]   # weekend days worked (调休上班)
//
// Dates are civil dates in China time (UTC+8); timestamps are ms since the
// Unix epoch. Pure logic: no I/O, no clocks; a Calendar is immutable after
// it is built and may be read from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"

namespace liandong::storage {

// A civil date (proleptic Gregorian).
struct Date {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  auto operator<=>(const Date&) const = default;
  bool operator==(const Date&) const = default;
};

// Days since 1970-01-01 and back.
int64_t days_from_date(const Date& d);
Date date_from_days(int64_t days);
// The civil date in China time (UTC+8) of a ms timestamp.
Date china_date(uint64_t unix_ms);
// 0 = Monday ... 6 = Sunday.
int weekday(const Date& d);
// "2026-10-01"; parse_date takes exactly that form and rejects impossible
// dates ("2026-02-30").
std::string format_date(const Date& d);
std::optional<Date> parse_date(std::string_view text);

// One year's published document.
struct CalendarYear {
  int year = 0;
  std::vector<Date> holidays;  // sorted, unique
  std::vector<Date> workdays;  // sorted, unique; each a Saturday or Sunday
  bool operator==(const CalendarYear&) const = default;
};

// Parses and validates a calendar document. Errors are `invalid` and read
// "SOURCE:LINE: KEY: what" (e.g. "cal.toml:4: holidays[2]: '2026-02-30' is
// not a date YYYY-MM-DD"). Every date must lie in `year`; a workday must be
// a weekend day; a date may not be both a holiday and a workday.
Result<CalendarYear> parse_calendar(std::string_view text, std::string_view source);

class Calendar {
 public:
  // Weekends only.
  Calendar() = default;
  // Adds (or replaces) one year's document.
  void add(const CalendarYear& year);
  // The years that have a document.
  std::vector<int> years() const;

  bool is_working_day(const Date& d) const;
  // The n-th working day after `d` (`d` itself never counts); n = 0 gives `d`.
  Date add_working_days(const Date& d, uint32_t n) const;
  // The working days in (from, to] when from <= to; when to < from, minus
  // the working days in (to, from].
  int64_t working_days_between(const Date& from, const Date& to) const;

 private:
  std::set<int> years_;
  std::set<int64_t> holidays_, workdays_;  // days_from_date
};

class Store;

// One year's calendar held by a store, and who published it.
struct HeldCalendarYear {
  CalendarYear year;
  std::string origin;
  uint64_t lsn = 0;
};

// The calendar a node counts in: every calendar notice held that comes from
// the node itself or a level above it; for each year the nearest issuer's
// (the county over the city), the later notice on a tie. A document that
// does not parse is skipped (`calendar publish` checks before it sends).
// Reads the store (any thread, as Store allows).
Result<std::vector<HeldCalendarYear>> held_calendar_years(const Store& store);

// The same as one Calendar: years without a notice count weekends only.
Result<Calendar> held_calendar(const Store& store);

}  // namespace liandong::storage
