#include "storage/calendar.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <map>

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

std::string where(std::string_view source, const toml::node& n, std::string_view key) {
  return std::string(source) + ":" + std::to_string(n.source().begin.line) + ": " +
         std::string(key) + ": ";
}

// Reads `key` (an array of date strings) into `out`, sorted and unique.
Status read_dates(const toml::table& root, std::string_view key, int year, std::string_view source,
                  std::vector<Date>& out) {
  const toml::node* node = root.get(key);
  if (node == nullptr) return Status::ok();
  const toml::array* arr = node->as_array();
  if (arr == nullptr)
    return Status::invalid(where(source, *node, key) + "must be an array of dates \"YYYY-MM-DD\"");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& el = *arr->get(i);
    const std::string k = std::string(key) + "[" + std::to_string(i) + "]";
    const auto* text = el.as_string();
    if (text == nullptr)
      return Status::invalid(where(source, el, k) + "must be a string \"YYYY-MM-DD\"");
    auto d = parse_date(text->get());
    if (!d)
      return Status::invalid(where(source, el, k) + "'" + text->get() +
                             "' is not a date YYYY-MM-DD");
    if (d->year != year)
      return Status::invalid(where(source, el, k) + text->get() + " is not in year " +
                             std::to_string(year));
    out.push_back(*d);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return Status::ok();
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
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::invalid(std::string(source) + ":" + std::to_string(e.source().begin.line) +
                           ": " + std::string(e.description()));
  }
  for (const auto& kv : root) {
    const std::string_view k = kv.first.str();
    if (k != "year" && k != "holidays" && k != "workdays")
      return Status::invalid(std::string(source) + ":" +
                             std::to_string(kv.first.source().begin.line) + ": " + std::string(k) +
                             ": unknown key (expected year, holidays, workdays)");
  }
  CalendarYear cal;
  const toml::node* year = root.get("year");
  if (year == nullptr) return Status::invalid(std::string(source) + ":1: year: missing");
  const auto* y = year->as_integer();
  if (y == nullptr || y->get() < 2000 || y->get() > 2200)
    return Status::invalid(where(source, *year, "year") + "must be a year from 2000 to 2200");
  cal.year = static_cast<int>(y->get());
  if (auto s = read_dates(root, "holidays", cal.year, source, cal.holidays); !s) return s;
  if (auto s = read_dates(root, "workdays", cal.year, source, cal.workdays); !s) return s;
  for (const auto& w : cal.workdays) {
    const toml::node& n = *root.get("workdays");
    if (weekday(w) < 5)
      return Status::invalid(where(source, n, "workdays") + format_date(w) +
                             " is a weekday already; list only weekend days worked (调休上班)");
    if (std::binary_search(cal.holidays.begin(), cal.holidays.end(), w))
      return Status::invalid(where(source, n, "workdays") + format_date(w) +
                             " is also listed in holidays");
  }
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
