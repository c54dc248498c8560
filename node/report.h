// Ledgers and reports (台帐, 统计分析): figures computed from the events a
// node holds, never typed in. A case belongs to a period by the China date
// (UTC+8) of its `submitted` event.
//
// Definitions (one case counts at most once in each figure of a row):
//   received   收件      every case submitted in the period
//   accepted   受理      has an `accepted` event
//   completed  办结      decided (approved or refused) or replied; a
//                        withdrawal that voided a decision does not count
//   on_time    按时办结  completed, and the decision's China date is on or
//                        before its promised day (promised_day below: the
//                        date its acceptance committed to, or for a case
//                        never accepted its submission day plus the
//                        catalog's promised working days); a case with no
//                        promised day is never on time
//   immediate  即办      completed on the spot (当场办结) at the level that
//                        decided it: the decision's China date is the day
//                        the case reached that level (its acceptance there,
//                        or for a case passed up, the hand-over); not a
//                        上报件; and the catalog (the version the case was
//                        submitted with) lists the item as 即办件 or 咨询 —
//                        a 承诺件 or 联办件 decided early is still one. An
//                        item no held catalog lists is judged on the spot
//                        alone. Figures of the deciding level.
//   forwarded  转报乡镇  a village point passed the case to its township
//   escalated  上报件    reported up to (or decided by) the county, taken
//                        at a township or village point; a village case the
//                        township decides is not one
//   joint      联办      two or more departments assigned
//   refused    不予批准  decided, not approved
//   withdrawn  撤回      status withdrawn
//   open       在办      not completed, not withdrawn, not 不予受理
//   overdue    超期      open, and `as_of` (a China date) is past its
//                        promised day
//   late_steps 超期环节  steps of 全程代理 done after their due day or open
//                        past it (storage/deadlines.h), each a figure of
//                        the level that held the case in that step
//   steps      环节用时  working days (工作日, held calendar) from
//                        submission to acceptance (受理), from
//                        acceptance (or submission) to decision (承办), from
//                        decision to delivery (回复); summed over the cases
//                        that took the step, averaged when shown
//   fees       代收费    sum of `fee_collected` amounts (fen)
//   rating     好差评    ratings by word (5 非常满意 .. 1 非常不满意), a
//                        figure of the level that decided the case; 好评率 =
//                        (非常满意 + 满意 + 基本满意) / rated
//   complaints 投诉      number of `complaint` events, each a figure of the
//                        level it is against (the level holding the case
//                        when it names none)
//   supervision (storage/supervision.h; "as_of" judges the open ones):
//     orders          督办      orders issued on the case, a figure of the
//                               level that answers (holds the case)
//     orders_on_time  按期答复  answered on or before the order's date
//     orders_late     逾期答复  answered after it, or open past it
//     complaints_upheld   投诉成立  answered 成立, a figure of the level
//                                   complained about
//     complaints_on_time  投诉按期办结  answered within the handling time,
//     complaints_late     投诉超期      or not: figures of the handling
//                                       level (the one above)
//     rectifications      整改      poor ratings' follow-ups, and those
//     rectifications_late 整改超期  answered late or open past their date:
//                                   figures of the level that decided
//     revisits            回访      follow-up calls recorded, and
//     revisits_satisfied  回访满意  those with 满意 or better: figures of
//                                   the level that decided
//
// Months (--by month): each case to the month (YYYY-MM, China date) of its
// registration, the same date that puts it in the period.
//
// Persons (--by person, 绩效考评): each figure to one person at one node
// (a window, 窗口: the row key is "CODE/姓名"), the one whose signed act it
// was (the event's actor; for AB角 the backup who acted, not the primary
// named on_behalf_of):
//   - the person who accepted the case (the actor of the `accepted` the
//     fold kept; for a case never accepted, the one who registered it, the
//     `submitted`'s actor) signs what the applicant brought: 收件, 受理,
//     转报, 上报, 联办, 撤回, 在办, 超期, 用时, 代收费;
//   - the person whose decision (or reply) stands signs 办结, 按时办结,
//     即办, 不予批准 and the rating (好差评) — a case not decided: its
//     rating to the acceptor;
//   - a complaint against the deciding level to the deciding person, any
//     other to the acceptor; late steps (超期环节) held at the deciding
//     level to the deciding person, the others to the acceptor.
// So the rows add up to 合计, and a window's figures are its persons'
// sum. Who may see these rows is the caller's rule (docs/DESK.md: at the
// desk only 首席代表 and 分管领导).
//
// Levels (--by level): each figure belongs to one level, so each level
// signs its own row (县 / each 乡镇 / each 村): what the applicant brought
// (收件, 受理, 转报, 上报, 撤回, 在办, 超期, 用时, 代收费) to the level that
// took the application; 办结, 按时办结, 即办, 不予批准 and ratings to the
// level that decided; complaints to the level they are against; each late
// step (超期环节) to the level that held the case in it. The rows
// add up to 合计, each case once.
//
// Figures are sums of integers, so a county's report over its whole tree
// equals the sum of its townships' reports.
//
// Thread contract: pure functions, except build_report_from_store (reads
// the store; the store is thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"
#include "storage/calendar.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"
#include "storage/divisions.h"
#include "storage/store.h"
#include "storage/supervision.h"

namespace liandong::node {

// ---- dates (China Standard Time) -------------------------------------------

// Days since 1970-01-01 of the China date (UTC+8) of a UTC time in ms.
int64_t china_day(uint64_t ms);
// "2026-11-22" <-> days since 1970-01-01; nullopt on anything malformed.
std::optional<int64_t> parse_date(std::string_view text);
std::string format_date(int64_t day);
// Working days a step took between two China dates: the working days of
// `calendar` in (from_day, to_day] (a step done the day it started took 0;
// negative when to_day < from_day). The default calendar counts weekends
// only.
int64_t step_days(int64_t from_day, int64_t to_day,
                  const storage::Calendar& calendar = storage::Calendar());

// Held cases by the flag of their open steps (限时办结, 电子监察), as `case
// list --overdue` / `--warning` judge them: `overdue` counts cases with an
// open step past its due day (超期), `warning` those whose worst open step
// has one working day or less left (预警). Limits come from the catalog
// version each case was submitted with (storage::case_step_limits); days
// count in storage::held_calendar. Closed and withdrawn cases have no open step.
// TODO(perf): reads every open case's events; a county with tens of
// thousands of open cases wants a by-due index.
struct DeadlineCounts {
  uint64_t overdue = 0, warning = 0;
};
Result<DeadlineCounts> count_deadlines(const storage::Store& store, uint64_t now_ms);

// ---- per case --------------------------------------------------------------

// What the report needs of one case, taken from its state and events.
struct CaseFacts {
  std::string home, item_code;
  std::vector<std::string> departments;
  int64_t submitted_day = 0;
  std::optional<int64_t> accepted_day, decided_day, delivered_day, due_day;
  bool completed = false, approved = false, withdrawn = false;
  bool escalated = false;     // 上报件 (CaseLevels::escalated)
  bool forwarded = false;     // 转报乡镇
  bool not_accepted = false;  // 不予受理 at intake: ended, not open, not decided
  int64_t fee_collected = 0;
  uint8_t rating = 0;
  uint32_t complaints = 0;
  // Levels (report_levels.h): where taken, where decided and the day the
  // case reached that level, whom each complaint is against, whom the
  // rating is about.
  std::string taken, decider, rated_level;
  std::optional<int64_t> reached_day;
  std::vector<std::string> complaints_against;
  // The item's handling in the catalog the case was submitted with;
  // nullopt when no held catalog lists it.
  std::optional<storage::Handling> handling;
  // The working days that catalog promises for the case
  // (storage::promised_days); nullopt when no held catalog lists the item.
  std::optional<uint32_t> promise_days;
  // The holder (level code) of each step done late or open past its day
  // (storage/deadlines.h), in step order.
  std::vector<std::string> late_holders;
  // 督办, 效能投诉 and 整改 of the case (storage/supervision.h), and the
  // score of its 回访 (0: none recorded or not reached; -1: none).
  std::vector<storage::SupervisionItem> supervision;
  int revisit_score = -1;
  // 绩效考评 (--by person): "CODE/姓名" of the person who accepted (or,
  // never accepted, registered) the case, and of the one whose decision
  // or reply stands (empty when none).
  std::string intake_person, decision_person;
};

// The day a case was promised (承诺办结日期): the date its acceptance
// committed to; for a case never accepted (passed up or decided without
// 受理), its submission day plus the catalog's promised working days. None
// when acceptance named no date or no catalog limit is known — such a case
// is never on time.
std::optional<int64_t> promised_day(const CaseFacts& c, const storage::Calendar& calendar);

// nullopt for a case whose application (`submitted`) is not here yet.
// `events` are the case's events in fold order (Store::case_events);
// `handling` the item's handling in the case's catalog, if one lists it.
std::optional<CaseFacts> case_facts(const storage::CaseState& st,
                                    const std::vector<storage::StoredEvent>& events,
                                    std::optional<storage::Handling> handling = std::nullopt);

// The end of China day `as_of` (its last ms, UTC): the "now" the report's
// step clocks run to.
uint64_t as_of_end_ms(int64_t as_of);

// One held case's facts as build_report_from_store counts them: case_facts
// with the item's handling and promised days from the catalog the case was
// submitted with (`catalogs`), its supervision items and 回访, and the
// holders of its late steps as of `now_ms` (the only part that depends on
// the time). nullopt for a case whose application is not here yet.
Result<std::optional<CaseFacts>> stored_case_facts(const storage::CaseState& st,
                                                   const std::vector<storage::StoredEvent>& events,
                                                   storage::CatalogCache& catalogs,
                                                   const storage::Calendar& calendar,
                                                   uint64_t now_ms);

// ---- figures ---------------------------------------------------------------

enum Step : int { kStepAccept = 0, kStepDecide = 1, kStepDeliver = 2, kStepCount = 3 };

struct Figures {
  uint64_t received = 0, accepted = 0, completed = 0, on_time = 0, immediate = 0, escalated = 0,
           joint = 0, refused = 0, withdrawn = 0, open = 0, overdue = 0, forwarded = 0,
           late_steps = 0;
  std::array<int64_t, kStepCount> step_days{};
  std::array<uint64_t, kStepCount> step_cases{};
  int64_t fees_fen = 0;
  uint64_t rating_sum = 0, rated = 0, complaints = 0;
  uint64_t orders = 0, orders_on_time = 0, orders_late = 0, complaints_upheld = 0,
           complaints_on_time = 0, complaints_late = 0, rectifications = 0, rectifications_late = 0,
           revisits = 0, revisits_satisfied = 0;
  // Ratings by score: [0] 非常不满意 (1) .. [4] 非常满意 (5).
  std::array<uint64_t, 5> ratings{};

  Figures& operator+=(const Figures& o);
  bool operator==(const Figures&) const = default;
};

// One case's contribution (as_of: China day for `overdue`; step durations
// in working days of `calendar`).
Figures case_figures(const CaseFacts& c, int64_t as_of,
                     const storage::Calendar& calendar = storage::Calendar());

enum class GroupBy : uint8_t { none, village, township, item, department, level, month, person };
std::optional<GroupBy> group_by_from_name(std::string_view name);
const char* group_by_name(GroupBy g);

struct ReportOptions {
  std::optional<int64_t> from, to;  // China days, inclusive; empty: open
  GroupBy by = GroupBy::none;
  int64_t as_of = 0;  // China day for `overdue`
  // The working days step durations count in (build_report_from_store uses
  // the calendar held in the store instead).
  storage::Calendar calendar;
};

struct ReportRow {
  std::string key;  // village/township code, item code or department
  Figures figures;
};

struct Report {
  ReportOptions options;
  std::string node_code;
  std::vector<ReportRow> rows;  // sorted by key; empty when by == none
  Figures total;                // 合计: each case once
  // Item code -> the item's name as its cases were registered (for the
  // rows of `by item`; build_report_from_store fills it).
  std::map<std::string, std::string> item_names;
};

// The group keys of a case ("未分派" for a case with no department; "YYYY-MM"
// by month). For GroupBy::level use level_figures, for GroupBy::person
// person_figures.
std::vector<std::string> group_keys(const CaseFacts& c, GroupBy by);
// A case's figures `f` (case_figures) split over the levels they belong to
// (see "Levels" above), by level code; the parts add up to `f` (`as_of`
// as case_figures was given it).
std::map<std::string, Figures> level_figures(const CaseFacts& c, const Figures& f, int64_t as_of);
// The same split over persons ("CODE/姓名", see "Persons" above); a case
// that names no person gives its part to "CODE/未记录" of its level.
std::map<std::string, Figures> person_figures(const CaseFacts& c, const Figures& f);
// Whether the case falls in the period.
bool in_period(const CaseFacts& c, const ReportOptions& o);

Report build_report(const std::vector<CaseFacts>& cases, const ReportOptions& o);
// Every case held in `store` (optionally only under `home_prefix`), step
// durations in working days of the calendar held there (storage::held_calendar).
Result<Report> build_report_from_store(const storage::Store& store, const ReportOptions& o,
                                       const std::string& home_prefix = {});

// Text for county staff (Chinese headers), JSON (English keys), CSV (UTF-8
// with a BOM, Chinese headers, one row per group plus 合计).
// `places`: the division table held here (node/render.h place_zh), to name
// the node and the village or township of each row; nullptr: codes bare.
std::string render_report(const Report& r, const storage::Divisions* places = nullptr);
std::string render_report_json(const Report& r);
std::string render_report_csv(const Report& r, const storage::Divisions* places = nullptr);

// ---- columns ------------------------------------------------------------------

// The statistics table's columns (统计表), in order: the one list the text,
// CSV, XLSX and the desk's table take their columns from.
enum class ColumnKind : uint8_t {
  count,    // a whole number
  rate,     // a share 0..1, shown as "87.5%"
  average,  // working days, one decimal
  yuan,     // money: value in yuan, shown "20.00"
};
struct ReportValue {
  ColumnKind kind = ColumnKind::count;
  std::optional<double> number;  // nullopt: nothing to divide by (shown "-")
};
struct ReportColumn {
  const char* header;  // Chinese, as people read it
  int width;           // display columns in the text table
  ReportValue (*value)(const Figures&);
};
const std::vector<ReportColumn>& report_columns();
// A value as the text and CSV show it: "12", "87.5%", "1.5", "20.00", "-".
std::string report_cell_text(const ReportValue& v);
// The first cell of a row as people read it (the village or township by
// name, a level as "南安镇（360723101） 乡镇", a person as "南安镇 赵六").
std::string report_row_name(const Report& r, const std::string& key,
                            const storage::Divisions* places);
// "村", "乡镇", "事项", "月份", "人员" ...: the grouping's word.
const char* group_by_zh(GroupBy g);
// "2026-11-01 至 2026-11-30 (按登记日期, 北京时间)".
std::string report_period_zh(const ReportOptions& o);

}  // namespace liandong::node
