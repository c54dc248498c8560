// The promised completion date (承诺办结日期) a case is given at 受理: the
// item's limits (承诺时限) in the catalog version the case was submitted
// with, counted in working days of the held calendar (工作日历: holidays
// rest, 调休 weekend days work) from the day of acceptance.
//
// Which steps of 全程代理 count depends on where the case is homed and which
// level decides the item: a village case decided by the county counts every
// step (转报乡镇 + 乡镇承办 + 县级办理 + 结果回传 + 结果送达); a township's own
// item taken at the township counts only 乡镇承办.
//
// A clerk may promise an earlier date; a later one needs a recorded reason
// (Accepted.extendReason). A case never counts as on time for want of a
// date (node/report.h).
//
// Pure logic: no I/O, no clocks; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/status.h"
#include "storage/calendar.h"
#include "storage/catalog.h"

namespace liandong::storage {

// The working days an item promises for a case homed at `home` (a division
// code: 6 digits county, 9 township, 12 village): the steps on the case's
// path, summed. 0 when the catalog sets no limit for any of them.
uint32_t promised_days(const CatalogItem& item, std::string_view home);

// What a clerk asks for at acceptance, and what is recorded.
struct DuePromise {
  std::string due;            // 承诺办结日期, "YYYY-MM-DD"; empty: none known
  std::string limit;          // the catalog's latest date; empty: no limit known
  uint32_t limit_days = 0;    // the catalog's limit, working days
  std::string extend_reason;  // kept only when due is after limit
};

// The promise for a case accepted on `accepted` (a China date): with no
// `asked` date, the catalog's date; an earlier `asked` date as given; a
// later one only with `extend_reason` (else invalid, one line, Chinese
// first). `days` is promised_days() of the case's item, or nullopt when no
// held catalog lists it (the asked date is then taken as given). `asked`
// must be a real date, not before `accepted`.
Result<DuePromise> promise_due(const Date& accepted, std::optional<uint32_t> days,
                               std::string_view asked, std::string_view extend_reason,
                               const Calendar& calendar);

}  // namespace liandong::storage
