// Supervision of one case (电子监察): the 督办 orders issued on it, the
// complaints (效能投诉) against its handling, the follow-ups (整改) its poor
// ratings opened, and the answer each got — all read from the case's
// events, never typed in.
//
// Who answers what (the level `SupervisionItem::level`):
//   order          督办: the level holding the case now (CaseState::handler);
//                  an order is answered with 办理情况说明. Due: the order's
//                  own new deadline.
//   complaint      效能投诉: the level above the one complained about (a
//                  complaint against the county stays at the county). Due:
//                  the date the complaint was registered with (registration
//                  plus kComplaintDays working days).
//   rectification  整改: a rating of 不满意 or 非常不满意 opens one, answered
//                  by the level that decided the case (else the home) with
//                  what it changed. Due: the rating's day plus
//                  kRectifyDays working days.
// An answer counts once: a second answer to the same item is refused where
// it is made (node/app/act.cpp) and ignored here if one arrives anyway.
// An item is answered on time when its answer's China date is on or before
// its due date; late when answered after it, or open past it (as_of).
//
// Pure logic: no I/O, no clocks; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/ids.h"
#include "protocol/records.capnp.h"
#include "storage/calendar.h"
#include "storage/case_fold.h"

namespace liandong::storage {

struct StoredEvent;

// The level holding the case now (CaseState::handler), its home until a
// level took it: where an order goes and whom a complaint is against by
// default.
inline const std::string& holding_level(const CaseState& st) {
  return st.handler.empty() ? st.home : st.handler;
}

// Working days a complaint is handled in (效能投诉 处理时限).
constexpr uint32_t kComplaintDays = 5;
// Working days a poor rating's follow-up (整改) has.
constexpr uint32_t kRectifyDays = 5;
// Ratings of this score or lower open a follow-up (不满意, 非常不满意).
constexpr uint8_t kPoorRating = 2;

struct SupervisionItem {
  proto::AnswerTo kind = proto::AnswerTo::ORDER;  // order, complaint or rectification
  Id event;                                       // the order, complaint or rating
  std::string issued_by;                          // the origin of that event
  std::string actor;                              // the person who made it
  int64_t issued_day = 0;                         // China day (days since 1970-01-01)
  std::string level;                              // the level that answers (above)
  std::string due;                                // "YYYY-MM-DD"; empty: none
  std::string text;                               // the order's note, the complaint, the comment
  // Complaints: against whom; ratings: the score and the reasons.
  std::string against, department, person, channel, complainant, phone;
  uint8_t score = 0;
  std::vector<std::string> reasons;
  // The answer, once made.
  bool answered = false;
  Id answer;
  std::string answered_by, answer_actor, answer_text;
  int64_t answered_day = 0;
  bool upheld = false;  // complaints: 成立

  // Answered on or before `due` (an item without a due date: when answered).
  bool on_time() const;
  // Answered after `due`, or still open on a day after it.
  bool late(int64_t as_of_day) const;
};

// The items of one case, in the order they were made, from its events in
// fold order (Store::case_events). `calendar` counts the working days of
// the follow-up's due date.
std::vector<SupervisionItem> supervision_items(const CaseState& st,
                                               const std::vector<StoredEvent>& events,
                                               const Calendar& calendar);

// 回访 (follow-up call) of a case: the county calls a sample of the cases
// completed, one in kRevisitEvery by a hash of the case id (the same on
// every node, so the sample does not depend on who asks).
constexpr uint32_t kRevisitEvery = 10;
bool in_revisit_sample(const Id& case_id);
// The revisit recorded on the case (an `answered` of kind revisit), if any.
struct Revisit {
  Id event;
  std::string by, actor, text;
  uint8_t score = 0;  // 0: the applicant was not reached
  int64_t day = 0;
};
std::optional<Revisit> case_revisit(const std::vector<StoredEvent>& events);

// The level above `code` that handles a complaint against it: the parent
// (a township for a village point, the county for a township); the county
// itself for the county.
std::string complaint_handler(const std::string& code);

const char* answer_to_name(proto::AnswerTo k);     // "order", "complaint", ...
const char* answer_to_name_zh(proto::AnswerTo k);  // "督办", "效能投诉", "整改", "回访"
std::optional<proto::AnswerTo> answer_to_from_name(const std::string& name);

}  // namespace liandong::storage
