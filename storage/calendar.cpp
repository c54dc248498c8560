#include "storage/calendar.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "config/toml_reader.h"
#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kChinaOffsetMs = 8 * 3'600'000;  // UTC+8, no summer time

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Reads `key` (an array of date strings) into `out`, sorted and unique.
void read_dates(config::Reader& reader, const toml::table& root, std::string_view key, int year,
                std::vector<Date>& out) {
  const auto texts = reader.strings(root, "", key, config::Need::kOptional);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& text = texts[i];
    const std::string at = config::index_path(key, i);
    auto d = parse_date(text.value);
    if (!d) {
      reader.fail(text.line, at, "'" + text.value + "' is not a date YYYY-MM-DD");
      return;
    }
    if (d->year != year) {
      reader.fail(text.line, at, text.value + " is not in year " + std::to_string(year));
      return;
    }
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

}  // namespace

int64_t days_from_date(const Date& d) {
  // Howard Hinnant's days_from_civil.
  const int64_t y = d.month <= 2 ? d.year - 1 : d.year;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (d.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date date_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return Date{year, month, day};
}

Date china_date(uint64_t unix_ms) {
  return date_from_days((static_cast<int64_t>(unix_ms) + kChinaOffsetMs) / kMsPerDay);
}

int weekday(const Date& d) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  const int64_t w = (days_from_date(d) + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

std::string format_date(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::optional<Date> parse_date(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  const auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
    return std::nullopt;
  return Date{*y, *m, *d};
}

Result<CalendarYear> parse_calendar(std::string_view text, std::string_view source) {
  std::string syntax_error;
  const std::optional<toml::table> root = config::parse_toml(text, source, syntax_error);
  if (!root) return Status::invalid(syntax_error);
  config::Reader reader(source);
  reader.allow_only(*root, "", {"year", "holidays", "workdays"});
  CalendarYear cal;
  if (auto y = reader.integer(*root, "", "year", 2000, 2200, config::Need::kRequired))
    cal.year = static_cast<int>(y->value);
  read_dates(reader, *root, "holidays", cal.year, cal.holidays);
  read_dates(reader, *root, "workdays", cal.year, cal.workdays);
  if (reader.failed()) return Status::invalid(reader.error());
  for (const auto& w : cal.workdays) {
    const std::size_t line = config::line_of(*root->get("workdays"));
    if (weekday(w) < 5)
      reader.fail(
          line, "workdays",
          format_date(w) + " is a weekday already; list only weekend days worked (调休上班)");
    if (std::binary_search(cal.holidays.begin(), cal.holidays.end(), w))
      reader.fail(line, "workdays", format_date(w) + " is also listed in holidays");
  }
  if (reader.failed()) return Status::invalid(reader.error());
  return cal;
}

void Calendar::add(const CalendarYear& year) {
  const int64_t first = days_from_date(Date{year.year, 1, 1});
  const int64_t last = days_from_date(Date{year.year, 12, 31});
  holidays_.erase(holidays_.lower_bound(first), holidays_.upper_bound(last));
  workdays_.erase(workdays_.lower_bound(first), workdays_.upper_bound(last));
  for (const auto& d : year.holidays)
    holidays_.insert(days_from_date(d));
  for (const auto& d : year.workdays)
    workdays_.insert(days_from_date(d));
  years_.insert(year.year);
}

std::vector<int> Calendar::years() const {
  return {years_.begin(), years_.end()};
}

bool Calendar::is_working_day(const Date& d) const {
  const int64_t n = days_from_date(d);
  if (workdays_.count(n) != 0) return true;
  if (holidays_.count(n) != 0) return false;
  return weekday(d) < 5;
}

Date Calendar::add_working_days(const Date& d, uint32_t n) const {
  int64_t day = days_from_date(d);
  // Every week holds at least one working day unless a document says
  // otherwise; bound the walk anyway (ten years) against a hostile calendar.
  for (int64_t steps = 0; n > 0 && steps < 3660; ++steps) {
    ++day;
    if (is_working_day(date_from_days(day))) --n;
  }
  return date_from_days(day);
}

int64_t Calendar::working_days_between(const Date& from, const Date& to) const {
  const int64_t a = days_from_date(from), b = days_from_date(to);
  const int64_t lo = std::min(a, b), hi = std::max(a, b);
  int64_t count = 0;
  for (int64_t day = lo + 1; day <= hi; ++day) {
    if (is_working_day(date_from_days(day))) ++count;
  }
  return b >= a ? count : -count;
}

Result<std::vector<HeldCalendarYear>> held_calendar_years(const Store& store) {
  auto notices = store.notices(EventKind::calendar_published);
  if (!notices.ok()) return notices.status();
  std::map<int, HeldCalendarYear> best;
  for (const auto& n : *notices) {
    // Only the county's calendar counts (storage/authority.h may_publish).
    if (n.origin.size() > 6 || !within(store.code(), n.origin)) continue;
    auto y = parse_calendar(n.document, "calendar " + std::to_string(n.number));
    if (!y.ok() || static_cast<uint64_t>(y->year) != n.number) continue;
    auto it = best.find(y->year);
    if (it != best.end()) {
      const auto& b = it->second;
      const bool nearer = n.origin.size() > b.origin.size() ||
                          (n.origin.size() == b.origin.size() && n.lsn > b.lsn);
      if (!nearer) continue;
    }
    best[y->year] = HeldCalendarYear{std::move(y).value(), n.origin, n.lsn};
  }
  std::vector<HeldCalendarYear> out;
  for (auto& kv : best)
    out.push_back(std::move(kv.second));
  return out;
}

Result<Calendar> held_calendar(const Store& store) {
  auto years = held_calendar_years(store);
  if (!years.ok()) return years.status();
  Calendar cal;
  for (const auto& y : *years)
    cal.add(y.year);
  return cal;
}

}  // namespace liandong::storage
