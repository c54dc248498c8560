#include "storage/due_date.h"

#include <algorithm>

#include "storage/role_names.h"

namespace liandong::storage {

uint32_t promised_days(const CatalogItem& item, std::string_view home) {
  const Level h = level_of(home);
  // A case decides no lower than where it is homed.
  const Level d = std::max(item.level, h);
  const StepLimits& l = item.limits;
  uint32_t days = 0;
  if (h == Level::village && d != Level::village) days += l.village_forward;
  if (d != Level::village && h != Level::county) days += l.township_handle;
  if (d == Level::county) days += l.county_decide;
  if (h < d) days += l.township_reply;
  if (h == Level::village) days += l.village_notify;
  return days;
}

Result<DuePromise> promise_due(const Date& accepted, std::optional<uint32_t> days,
                               std::string_view asked, std::string_view extend_reason,
                               const Calendar& calendar) {
  DuePromise p;
  if (days && *days > 0) {
    p.limit_days = *days;
    p.limit = format_date(calendar.add_working_days(accepted, *days));
  }
  if (asked.empty()) {
    p.due = p.limit;
    return p;
  }
  auto date = parse_date(asked);
  if (!date)
    return Status::invalid("--due: 承诺办结日期 '" + std::string(asked) +
                           "' 不是有效日期，应形如 2026-10-16 (not a date YYYY-MM-DD)");
  if (*date < accepted)
    return Status::invalid("--due: 承诺办结日期 " + std::string(asked) + " 早于受理日期 " +
                           format_date(accepted) +
                           " (the due date is before the day of acceptance)");
  p.due = format_date(*date);
  if (!p.limit.empty() && p.due > p.limit) {
    if (extend_reason.empty())
      return Status::invalid("--due: 承诺办结日期 " + p.due + " 晚于事项目录时限 " + p.limit +
                             "（" + std::to_string(p.limit_days) +
                             " 个工作日），延长须说明理由 --extend-reason (a date later than the "
                             "catalog's limit needs a reason)");
    p.extend_reason = std::string(extend_reason);
  }
  return p;
}

}  // namespace liandong::storage
