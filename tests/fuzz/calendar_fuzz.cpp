// Fuzz target: a working-day calendar document (storage/calendar.h) as it
// arrives inside a calendarPublished broadcast, the date text it holds, and
// due-date arithmetic over a calendar that parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/calendar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liandong::storage;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = parse_date(text)) {
    if (parse_date(format_date(*d)) != d) __builtin_trap();
    if (date_from_days(days_from_date(*d)) != *d) __builtin_trap();
  }
  auto year = parse_calendar(text, "fuzz-calendar.toml");
  if (!year.ok()) {
    if (year.status().message().empty()) __builtin_trap();
    return 0;
  }
  Calendar cal;
  cal.add(*year);
  // Every date the document names lies in its year; count across it.
  const Date first{year->year, 1, 1};
  const Date last{year->year, 12, 31};
  const Date due = cal.add_working_days(first, 20);
  if (due < first) __builtin_trap();
  const int64_t n = cal.working_days_between(first, last);
  if (n < 0 || n > 366) __builtin_trap();
  for (const auto& h : year->holidays) {
    if (cal.is_working_day(h)) __builtin_trap();
  }
  for (const auto& w : year->workdays) {
    if (!cal.is_working_day(w)) __builtin_trap();
  }
  return 0;
}
