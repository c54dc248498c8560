// 办事结果公开: what a node shows anyone, without a login, of the cases it
// holds that are decided (办结: 准予 / 不予许可 / 已答复) or refused at
// intake (不予受理), for the 公开栏 and the public page (docs/DESK.md "The
// public page"). No personal data leaves through it:
//
//   - a row is a PublicCase, an allow-list of fields, filled one by one
//     from the case state; nothing of the case is copied wholesale;
//   - the applicant is shown as the first character of the name and one
//     "*" (张*; a compound surname keeps only its first character too:
//     欧阳明 -> 欧*); ID numbers, phones, addresses, summaries, form fields,
//     notes, attachments and the staff who decided are never in a row;
//   - every string of a row, and every catalog text the public page shows,
//     passes through public_text(), which masks anything that looks like an
//     ID number or a mobile number;
//   - the case number is not shown either: the 公开栏 lists results, and a
//     list of numbers would be a list to probe with. A page cursor is a
//     time and a keyed hash of the case, not its number.
//
// public_case, public_text and mask_person_name are pure logic (no I/O, no
// clocks); list_public_cases reads the store (as Store: any thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"
#include "storage/divisions.h"
#include "storage/store.h"

namespace liandong::app {

// Rows a page may ask for, and the page when it does not say.
constexpr std::size_t kMaxPublicPage = 200;
constexpr std::size_t kDefaultPublicPage = 50;
// The newest this many decided cases are listed (a county center decides
// some 80,000 a year); older ones are not on the public page.
constexpr std::size_t kMaxPublicCases = 20000;

// The applicant's name as the 公开栏 shows it: its first character (UTF-8)
// and "*". Leading spaces are skipped; an empty or unreadable name is "*".
std::string mask_person_name(std::string_view name);

// `text` as the public page may show it. A group of digits (a single space
// or hyphen between two digits joins them: 138 0013 8000; 17 digits and an
// X count 18) is starred out digit by digit when it has 15 digits or more
// (an ID number, old or new, also glued to other text) or 11 or more and
// does not start with 0 (a mobile number); control characters are dropped.
// Landline numbers with their area code (0797-8722345, 0797-12345), dates
// and short numbers stay.
std::string public_text(std::string_view text);

// How a listed case ended.
enum class PublicOutcome : uint8_t {
  approved,      // 准予
  refused,       // 不予许可
  answered,      // 已答复 (a 咨询)
  not_accepted,  // 不予受理
};
const char* outcome_name(PublicOutcome o);     // "approved"
const char* outcome_name_zh(PublicOutcome o);  // "准予"

// One row of the public list: these fields and no others.
struct PublicCase {
  uint64_t decided_ms = 0;  // when decided (or refused at intake); sort key
  std::string tag;          // 16 hex: the case hashed with the list's key
  std::string applicant;    // masked: 张*
  std::string item_code, item_name;
  std::string home_name;      // 所属村 (or 乡镇 / 县): the place's name
  std::string home_label;     // "所属村", "所属乡镇", "所属县"
  std::string accepted_date;  // YYYY-MM-DD (UTC+8); "" when never accepted
  std::string decided_date;   // YYYY-MM-DD (UTC+8)
  PublicOutcome outcome = PublicOutcome::approved;
  // 按时办结: decided on or before the promised date; nullopt when there
  // was no promised date (不予受理, an item without a time limit).
  std::optional<bool> on_time;
};

// The row of `st`, or nullopt when the case is not listed: not decided,
// not refused at intake, or in conflict. `consult`: its item is a 咨询
// (answered, not approved). `key` (16 to 64 bytes; else unkeyed) keys the
// hash that makes the row's tag.
std::optional<PublicCase> public_case(const storage::CaseState& st,
                                      const storage::Divisions* places, bool consult,
                                      std::string_view key);

// Newest first: decided_ms descending, then tag descending.
bool newer(const PublicCase& a, const PublicCase& b);

// The listed cases of `store`, newest first, at most kMaxPublicCases;
// `catalog` (nullptr: none held) tells the 咨询 items.
Result<std::vector<PublicCase>> list_public_cases(const storage::Store& store,
                                                  const storage::Divisions* places,
                                                  const storage::Catalog* catalog,
                                                  std::string_view key);

// A page cursor: the last row of a page, as "DECIDED_MS-TAG".
std::string public_cursor(const PublicCase& c);
// The cursor parsed; nullopt when `text` is not one.
struct PublicCursor {
  uint64_t decided_ms = 0;
  std::string tag;
};
std::optional<PublicCursor> parse_public_cursor(std::string_view text);

// The rows of `all` (newest first) after `before` (all when nullopt), at
// most `limit`; `more`: rows remain after the page.
struct PublicPage {
  std::vector<PublicCase> rows;
  bool more = false;
};
PublicPage public_page(const std::vector<PublicCase>& all,
                       const std::optional<PublicCursor>& before, std::size_t limit);

}  // namespace liandong::app
