// Which level a case's figures belong to (so each level signs its own:
// 县 / 乡镇 / 村), and the facts that decide its kind of case (办件类型):
// where the application was taken, where it was decided, the day it reached
// that level, whether it was passed to the township (转报乡镇) or reported
// up to the county (上报件), and the level each complaint is about.
//
// Words of the ratings (好差评, 一事一评): 5 非常满意, 4 满意, 3 基本满意,
// 2 不满意, 1 非常不满意; the first three are good ratings (好评), the last two
// poor (差评).
//
// Pure logic: no I/O, no clocks; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/case_fold.h"
#include "storage/role_names.h"
#include "storage/store.h"

namespace liandong::node {

using Level = storage::Level;  // storage/role_names.h

// By the code's length: 12 digits a village point, 9 a township, shorter
// the county (a city or province above it counts as the county here).
Level level_of_code(std::string_view code);
const char* level_key(Level l);  // "village", "township", "county"
const char* level_zh(Level l);   // "村", "乡镇", "县"

// "非常满意" ... "非常不满意" for 5..1; "未评价" for anything else.
const char* rating_zh(unsigned score);
// Good (好评): 非常满意, 满意, 基本满意.
inline bool good_rating(unsigned score) {
  return score >= 3 && score <= 5;
}

struct CaseLevels {
  std::string taken;    // the level that took the application (its `submitted`'s origin)
  std::string decider;  // the level whose decision (or answer) stands; empty if none
  // The China day the case reached the level holding it when it was
  // decided: for the level that took it, the day it accepted it (the day of
  // submission if it never did); for a level it was passed to, the day of
  // that hand-over (`escalated`). Set only when decided.
  std::optional<int64_t> reached_day;
  bool forwarded = false;  // 转报乡镇: a village point passed the case to its township
  bool escalated = false;  // 上报件: reported up to (or decided by) the county, taken below it
  bool answered = false;   // 咨询: the standing decision is a reply
  // One code per complaint: its `against`, or when that is empty the level
  // holding the case when the complaint was made.
  std::vector<std::string> complaints_against;
  // The level a rating is about: the decider; the level holding the case
  // when it has no decision.
  std::string rated_level;
};

// From the case's state and its events in fold order. Events the fold did
// not use (unsettled conflicts, re-issued events) are skipped.
CaseLevels case_levels(const storage::CaseState& st,
                       const std::vector<storage::StoredEvent>& events);

}  // namespace liandong::node
