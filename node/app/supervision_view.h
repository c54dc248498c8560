// 电子监察 as a supervisor sees it: the yellow and red cards (黄牌预警 /
// 红牌超期) of every open step of every case held here, counted by level,
// department and person; the 督办 orders, complaints (效能投诉) and poor
// ratings' follow-ups (整改) with their answers; and the closed cases
// offered for a follow-up call (回访). Everything is computed from the
// events held (storage/deadlines.h, storage/supervision.h): a card is a
// view, never typed in.
//
// A card is one open step flagged warning or overdue: the level holding
// the case in that step, the departments assigned (county steps), and the
// person answerable for it — who last acted on the case at that level
// (首问负责制: the one who took it there), empty while nobody has.
//
// Thread contract: reads the store (thread-safe); no other state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/json_text.h"
#include "protocol/ids.h"
#include "protocol/status.h"
#include "storage/deadlines.h"
#include "storage/divisions.h"
#include "storage/store.h"
#include "storage/supervision.h"

namespace liandong::app {

struct SupervisionCard {
  Id case_id;
  std::string item_name, home;
  storage::Step step = storage::Step::village_forward;
  std::string holder;  // the level whose clock it is
  std::vector<std::string> departments;
  std::string person;  // answerable at that level; empty: nobody yet
  storage::DeadlineFlag flag = storage::DeadlineFlag::warning;
  std::string due;        // YYYY-MM-DD
  int64_t days_left = 0;  // working days; negative: late by that many
};

struct SupervisionEntry {
  Id case_id;
  std::string item_name, home, holder;  // holder: the level holding the case now
  storage::SupervisionItem item;
  storage::DeadlineFlag flag = storage::DeadlineFlag::ok;  // of an open item, by its date
  int64_t days_left = 0;
};

struct RevisitOffer {
  Id case_id;
  std::string item_name, home, decided_day, applicant_phone;
};

struct CardCounts {
  uint64_t warning = 0, overdue = 0;
};

// Complaints (效能投诉) about a level, a department or a person: all of
// them held here, whenever made.
struct ComplaintCounts {
  uint64_t total = 0, upheld = 0, open = 0, late = 0;
};

struct SupervisionView {
  std::vector<SupervisionCard> cards;     // red first, then by due date
  std::vector<SupervisionEntry> entries;  // open first, then the newest
  std::vector<RevisitOffer> revisits;     // at a county only
  std::map<std::string, CardCounts> by_level, by_department, by_person;
  std::map<std::string, ComplaintCounts> complaints_by_level, complaints_by_department,
      complaints_by_person;
};

struct SupervisionOptions {
  uint64_t now_ms = 0;
  // Answered items older than this many days are left out (0: none shown).
  int64_t answered_days = 30;
  // Revisits offered: cases decided within this many days (county only).
  int64_t revisit_days = 30;
};

Result<SupervisionView> build_supervision(const storage::Store& store,
                                          const SupervisionOptions& o);

// The open items this node must answer (the top of its 工作台), open
// orders first, by due date.
Result<std::vector<SupervisionEntry>> answers_due_here(const storage::Store& store,
                                                       uint64_t now_ms);

// JSON (English keys, Chinese words in *_zh) for the desk and
// `liandong supervision --json`; `places` names the levels (may be null).
node::Json supervision_json(const SupervisionView& v, const storage::Divisions* places);
node::Json entry_json(const SupervisionEntry& e, const storage::Divisions* places);
// Text for county staff.
std::string render_supervision(const SupervisionView& v, const storage::Divisions* places);

}  // namespace liandong::app
