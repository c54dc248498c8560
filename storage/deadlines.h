// Deadlines (限时办结, 电子监察): for one case, each step of 全程代理 with the
// time it started, the working day it is due, whether it is done, and a flag
// ok | warning (预警, one working day left) | overdue (超期).
//
// Each step's clock belongs to the level that holds the case. An escalation
// ends the sender's step when the sender makes it, and the receiver's step
// starts when the receiver has stored it (its receipt, `received`,
// storage/receipts.h): the time between is the link's (在途), charged to
// neither level. The decision's return (结果回传, the township's: DOMAIN's
// "back to the village point within 3 working days after it is made") ends,
// and the village point's 送达 clock starts, at the receipt of the case's
// home. Each event's own time (hlc >> 16, ms) counts,
// so a village offline for days is not blamed for the township's delay and
// vice versa. Without a receipt held (a store from before receipts), the
// receiver's first event in the case stands for it.
//
// Pure logic: no I/O, no clocks (the caller passes "now"); safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "storage/calendar.h"
#include "storage/case_fold.h"

namespace liandong::storage {

struct StoredEvent;

// Time limits of one catalog item, in working days per step (承诺时限).
// Zero means no limit for that step. A plain aggregate: catalog items embed
// it; field names are part of the catalog format and never change.
struct StepLimits {
  // 受理 → 上报/转交: the village point forwards the case to the township
  // (within 2 working days).
  uint32_t village_forward = 2;
  // 承办: the township handles and decides a case it holds by its authority,
  // or reports it up to the county (上报件, within the set time).
  uint32_t township_handle = 0;
  // The county decides an escalated case: the item's own limit (承诺时限).
  uint32_t county_decide = 0;
  // After the decision, the result comes back to the village point within 3.
  uint32_t township_reply = 3;
  // 回复: the village point tells the applicant within 2.
  uint32_t village_notify = 2;

  bool operator==(const StepLimits&) const = default;
};

// The steps of 全程代理, in the order a case meets them.
enum class Step : uint8_t {
  village_forward,  // 转报乡镇: intake at the village point until it passes the case up
  township_handle,  // 乡镇承办: the township holds the case until it decides or reports up
  county_decide,    // 县级办理: the county holds the case until it decides
  township_reply,   // 结果回传: from the decision until the result is at the village point
  village_notify,   // 结果送达: the village point tells the applicant
};
const char* step_name(Step s);     // "township_handle"
const char* step_name_zh(Step s);  // "乡镇承办"

enum class DeadlineFlag : uint8_t {
  ok,       // 正常
  warning,  // 预警 (yellow): not done, one working day or less left
  overdue,  // 超期 (red): not done after its due day, or done after it
};
const char* flag_name(DeadlineFlag f);     // "ok", "warning", "overdue"
const char* flag_name_zh(DeadlineFlag f);  // "正常", "黄牌预警", "红牌超期"

// One step of one case.
struct StepDeadline {
  Step step = Step::village_forward;
  std::string holder;       // code of the level the clock runs against
  uint64_t started_ms = 0;  // time of the event that handed the case over
  uint32_t limit = 0;       // working days; 0: no limit
  std::optional<Date> due;  // the last working day allowed; none without a limit
  bool done = false;
  uint64_t done_ms = 0;  // time of the event the holder made
  // Waiting for materials (补正): the clock stands still and restarts in full
  // at `supplemented` (the time limit counts from complete materials).
  bool paused = false;
  DeadlineFlag flag = DeadlineFlag::ok;
  // Open steps with a due day: working days left after today (negative
  // when overdue: the working days since the due day).
  int64_t days_left = 0;
};

struct CaseDeadlines {
  std::vector<StepDeadline> steps;            // in the order they started
  DeadlineFlag open_flag = DeadlineFlag::ok;  // the worst flag of the open steps
  bool late = false;                          // some step was done after its due day
};

// The time an event happened at its node: its hlc's physical part, ms.
inline uint64_t event_ms(const EventView& ev) {
  return hlc_ms(ev.hlc());
}

// Deadlines of one case from its events in fold order (broadcasts and
// events of other cases are skipped). `now_ms` is the caller's clock;
// "today" is its date in China time. A step starts when the case reaches a
// level (submitted there; the receipt of an escalation; the decision) and
// stops when the level passes it on or decides, when the result is stored
// at the home (结果回传), or when it is delivered; a withdrawal, close or 不予受理 ends
// every open step.
CaseDeadlines compute_deadlines(std::span<const EventView* const> events, const StepLimits& limits,
                                const Calendar& calendar, uint64_t now_ms);
CaseDeadlines compute_deadlines(const CaseState& state, const std::vector<StoredEvent>& events,
                                const StepLimits& limits, const Calendar& calendar,
                                uint64_t now_ms);

}  // namespace liandong::storage
