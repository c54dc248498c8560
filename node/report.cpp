#include "node/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "node/json_text.h"
#include "node/render.h"
#include "node/report_levels.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"
#include "storage/catalog.h"
#include "storage/deadlines.h"
#include "storage/due_date.h"

namespace liandong::node {

using storage::CaseState;
using storage::CaseStatus;
using storage::StoredEvent;

// ---- dates -------------------------------------------------------------------

namespace {

constexpr int64_t kChinaOffsetMs = 8LL * 3600 * 1000;
constexpr const char* kNoDepartment = "未分派";
constexpr const char* kNobody = "未记录";  // an event that names no person
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// Howard Hinnant's civil-date algorithms (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

}  // namespace

int64_t china_day(uint64_t ms) {
  const int64_t t = static_cast<int64_t>(ms) + kChinaOffsetMs;
  return t >= 0 ? t / kDayMs : (t - kDayMs + 1) / kDayMs;
}

std::optional<int64_t> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t len, int64_t& out) {
    out = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int64_t y = 0, m = 0, d = 0;
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  const int64_t day = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  if (format_date(day) != text) return std::nullopt;  // e.g. 02-30
  return day;
}

std::string format_date(int64_t day) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

int64_t step_days(int64_t from_day, int64_t to_day, const storage::Calendar& calendar) {
  return calendar.working_days_between(storage::date_from_days(from_day),
                                       storage::date_from_days(to_day));
}

Result<DeadlineCounts> count_deadlines(const storage::Store& store, uint64_t now_ms) {
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) return cal.status();
  storage::CatalogCache catalogs(store);
  auto cases = store.list_cases(storage::CaseFilter{});
  if (!cases.ok()) return cases.status();
  DeadlineCounts out;
  for (const auto& st : *cases) {
    if (st.status == CaseStatus::closed || st.status == CaseStatus::withdrawn ||
        st.status == CaseStatus::not_accepted || st.status == CaseStatus::incomplete)
      continue;
    auto events = store.case_events(st.case_id);
    if (!events.ok()) return events.status();
    auto limits = storage::case_step_limits(catalogs, st, *events);
    if (!limits.ok()) return limits.status();
    const auto d = storage::compute_deadlines(st, *events, *limits, *cal, now_ms);
    if (d.open_flag == storage::DeadlineFlag::overdue) ++out.overdue;
    if (d.open_flag == storage::DeadlineFlag::warning) ++out.warning;
  }
  return out;
}

// ---- per case ----------------------------------------------------------------

std::optional<CaseFacts> case_facts(const CaseState& st, const std::vector<StoredEvent>& events,
                                    std::optional<storage::Handling> handling) {
  if (st.status == CaseStatus::incomplete || st.submitted_hlc == 0) return std::nullopt;
  CaseFacts c;
  c.home = st.home;
  c.item_code = st.item_code;
  c.departments = st.departments;
  c.submitted_day = china_day(hlc_ms(st.submitted_hlc));
  if (st.accepted_hlc != 0) {
    c.accepted_day = china_day(hlc_ms(st.accepted_hlc));
    if (!st.due_date.empty()) c.due_day = parse_date(st.due_date);
  }
  c.completed = st.has_decision;
  c.approved = st.has_decision && st.approved;
  if (c.completed) c.decided_day = china_day(hlc_ms(st.decided_hlc));
  if (c.completed && st.delivered_hlc != 0) c.delivered_day = china_day(hlc_ms(st.delivered_hlc));
  c.withdrawn = st.status == CaseStatus::withdrawn;
  CaseLevels levels = case_levels(st, events);
  c.escalated = levels.escalated;
  c.forwarded = levels.forwarded;
  c.taken = std::move(levels.taken);
  c.decider = std::move(levels.decider);
  c.rated_level = std::move(levels.rated_level);
  c.reached_day = levels.reached_day;
  c.complaints_against = std::move(levels.complaints_against);
  c.handling = handling;
  c.not_accepted = st.status == CaseStatus::not_accepted;
  c.fee_collected = st.fee_collected;
  c.rating = st.rating;
  c.complaints = st.complaints;
  // 绩效考评: who registered, accepted and decided (the events the fold kept).
  std::string registrar;
  for (const auto& e : events) {
    const EventView& ev = e.view;
    if (ev.case_id() != st.case_id) continue;
    if (std::find(st.conflicts.begin(), st.conflicts.end(), ev.id()) != st.conflicts.end() ||
        std::find(st.superseded.begin(), st.superseded.end(), ev.id()) != st.superseded.end())
      continue;
    const auto actor = ev.event().getActor().getName();
    const std::string who = ev.id().origin + "/" + std::string(actor.begin(), actor.size());
    if (ev.kind() == EventKind::submitted && registrar.empty()) registrar = who;
    if (ev.kind() == EventKind::accepted && ev.hlc() == st.accepted_hlc) c.intake_person = who;
    if ((ev.kind() == EventKind::decided || ev.kind() == EventKind::replied) && st.has_decision &&
        ev.hlc() == st.decided_hlc)
      c.decision_person = who;
  }
  if (c.intake_person.empty()) c.intake_person = registrar;
  return c;
}

// ---- figures -----------------------------------------------------------------

Figures& Figures::operator+=(const Figures& o) {
  received += o.received;
  accepted += o.accepted;
  completed += o.completed;
  on_time += o.on_time;
  immediate += o.immediate;
  escalated += o.escalated;
  joint += o.joint;
  refused += o.refused;
  withdrawn += o.withdrawn;
  open += o.open;
  overdue += o.overdue;
  late_steps += o.late_steps;
  forwarded += o.forwarded;
  for (int i = 0; i < kStepCount; ++i) {
    step_days[static_cast<std::size_t>(i)] += o.step_days[static_cast<std::size_t>(i)];
    step_cases[static_cast<std::size_t>(i)] += o.step_cases[static_cast<std::size_t>(i)];
  }
  fees_fen += o.fees_fen;
  rating_sum += o.rating_sum;
  rated += o.rated;
  complaints += o.complaints;
  orders += o.orders;
  orders_on_time += o.orders_on_time;
  orders_late += o.orders_late;
  complaints_upheld += o.complaints_upheld;
  complaints_on_time += o.complaints_on_time;
  complaints_late += o.complaints_late;
  rectifications += o.rectifications;
  rectifications_late += o.rectifications_late;
  revisits += o.revisits;
  revisits_satisfied += o.revisits_satisfied;
  for (std::size_t i = 0; i < ratings.size(); ++i)
    ratings[i] += o.ratings[i];
  return *this;
}

namespace {

// 即办 (see report.h): on the spot at the deciding level, not 上报件, and an
// item the catalog lists as 即办件 or 咨询 (or no catalog lists).
bool decided_on_the_spot(const CaseFacts& c) {
  if (!c.completed || !c.decided_day || !c.reached_day || c.escalated) return false;
  if (c.handling && *c.handling != storage::Handling::immediate &&
      *c.handling != storage::Handling::consult)
    return false;
  return *c.decided_day == *c.reached_day;
}

}  // namespace

std::optional<int64_t> promised_day(const CaseFacts& c, const storage::Calendar& calendar) {
  if (c.accepted_day) return c.due_day;
  if (!c.promise_days || *c.promise_days == 0) return std::nullopt;
  return storage::days_from_date(
      calendar.add_working_days(storage::date_from_days(c.submitted_day), *c.promise_days));
}

namespace {

// The figures of one supervision item (report.h "supervision").
Figures item_figures(const storage::SupervisionItem& it, int64_t as_of) {
  Figures f;
  switch (it.kind) {
    case proto::AnswerTo::ORDER:
      f.orders = 1;
      f.orders_on_time = it.on_time() ? 1 : 0;
      f.orders_late = it.late(as_of) ? 1 : 0;
      break;
    case proto::AnswerTo::COMPLAINT:
      f.complaints_upheld = it.answered && it.upheld ? 1 : 0;
      f.complaints_on_time = it.on_time() ? 1 : 0;
      f.complaints_late = it.late(as_of) ? 1 : 0;
      break;
    case proto::AnswerTo::RECTIFICATION:
      f.rectifications = 1;
      f.rectifications_late = it.late(as_of) ? 1 : 0;
      break;
    case proto::AnswerTo::REVISIT:
      break;
  }
  return f;
}

Figures revisit_figures(const CaseFacts& c) {
  Figures f;
  if (c.revisit_score >= 0) {
    f.revisits = 1;
    f.revisits_satisfied = c.revisit_score >= 4 ? 1 : 0;
  }
  return f;
}

void add_supervision(Figures& f, const CaseFacts& c, int64_t as_of) {
  for (const auto& it : c.supervision)
    f += item_figures(it, as_of);
  f += revisit_figures(c);
}

// Takes the supervision figures out of `f` (level_figures places them).
void clear_supervision(Figures& f) {
  f.orders = f.orders_on_time = f.orders_late = 0;
  f.complaints_upheld = f.complaints_on_time = f.complaints_late = 0;
  f.rectifications = f.rectifications_late = 0;
  f.revisits = f.revisits_satisfied = 0;
}

}  // namespace

Figures case_figures(const CaseFacts& c, int64_t as_of, const storage::Calendar& calendar) {
  Figures f;
  f.received = 1;
  f.accepted = c.accepted_day ? 1 : 0;
  f.completed = c.completed ? 1 : 0;
  f.escalated = c.escalated ? 1 : 0;
  f.forwarded = c.forwarded ? 1 : 0;
  f.joint = c.departments.size() >= 2 ? 1 : 0;
  f.withdrawn = c.withdrawn ? 1 : 0;
  const std::optional<int64_t> due = promised_day(c, calendar);
  if (c.completed) {
    f.refused = c.approved ? 0 : 1;
    // No promised date: never on time for want of one.
    f.on_time = due && *c.decided_day <= *due ? 1 : 0;
    f.immediate = decided_on_the_spot(c) ? 1 : 0;
  }
  if (!c.completed && !c.withdrawn && !c.not_accepted) {
    f.open = 1;
    f.overdue = due && as_of > *due ? 1 : 0;
  }
  f.late_steps = c.late_holders.size();
  auto step = [&](Step s, int64_t from, int64_t to) {
    f.step_days[s] += step_days(from, to, calendar);
    f.step_cases[s] += 1;
  };
  if (c.accepted_day) step(kStepAccept, c.submitted_day, *c.accepted_day);
  if (c.decided_day)
    step(kStepDecide, c.accepted_day ? *c.accepted_day : c.submitted_day, *c.decided_day);
  if (c.decided_day && c.delivered_day) step(kStepDeliver, *c.decided_day, *c.delivered_day);
  f.fees_fen = c.fee_collected;
  if (c.rating >= 1 && c.rating <= 5) {
    f.rating_sum = c.rating;
    f.rated = 1;
    f.ratings[c.rating - 1u] = 1;
  }
  f.complaints = c.complaints;
  add_supervision(f, c, as_of);
  return f;
}

std::map<std::string, Figures> level_figures(const CaseFacts& c, const Figures& f, int64_t as_of) {
  std::map<std::string, Figures> out;
  const std::string taken = c.taken.empty() ? c.home : c.taken;
  Figures intake = f;
  Figures decision;
  // What the level that decided signs for.
  decision.completed = std::exchange(intake.completed, 0);
  decision.on_time = std::exchange(intake.on_time, 0);
  decision.immediate = std::exchange(intake.immediate, 0);
  decision.refused = std::exchange(intake.refused, 0);
  // Each late step to the level that held the case then.
  intake.late_steps = 0;
  for (const auto& holder : c.late_holders)
    out[holder].late_steps += 1;
  Figures rated;
  rated.rated = std::exchange(intake.rated, 0);
  rated.rating_sum = std::exchange(intake.rating_sum, 0);
  rated.ratings = std::exchange(intake.ratings, {});
  // Complaints: each to the level it is against; any the walk did not see
  // (there are none in a consistent store) stay with the taking level.
  const uint64_t complaints = std::exchange(intake.complaints, 0);
  uint64_t placed = 0;
  for (const auto& against : c.complaints_against) {
    if (placed == complaints) break;
    out[against].complaints += 1;
    ++placed;
  }
  intake.complaints = complaints - placed;
  auto put = [&](const std::string& code, const Figures& part) {
    if (part != Figures{}) out[code] += part;  // no row for a level with nothing
  };
  // Supervision: each item to the level that answers it, a complaint
  // upheld to the level complained about, a revisit to the level that
  // decided.
  clear_supervision(intake);
  for (const auto& it : c.supervision) {
    Figures part = item_figures(it, as_of);
    if (part.complaints_upheld != 0) {
      out[it.against].complaints_upheld += part.complaints_upheld;
      part.complaints_upheld = 0;
    }
    put(it.level.empty() ? taken : it.level, part);
  }
  put(taken, intake);
  put(c.decider.empty() ? taken : c.decider, decision);
  rated += revisit_figures(c);
  put(c.rated_level.empty() ? taken : c.rated_level, rated);
  return out;
}

std::map<std::string, Figures> person_figures(const CaseFacts& c, const Figures& f) {
  const std::string taken = c.taken.empty() ? c.home : c.taken;
  const std::string decider = c.decider.empty() ? taken : c.decider;
  const std::string intake_person =
      c.intake_person.empty() ? taken + "/" + kNobody : c.intake_person;
  const std::string decision_person = c.decision_person.empty()
                                          ? (c.completed ? decider + "/" + kNobody : intake_person)
                                          : c.decision_person;
  std::map<std::string, Figures> out;
  Figures intake = f;
  Figures decision;
  decision.completed = std::exchange(intake.completed, 0);
  decision.on_time = std::exchange(intake.on_time, 0);
  decision.immediate = std::exchange(intake.immediate, 0);
  decision.refused = std::exchange(intake.refused, 0);
  decision.rated = std::exchange(intake.rated, 0);
  decision.rating_sum = std::exchange(intake.rating_sum, 0);
  decision.ratings = std::exchange(intake.ratings, {});
  // Complaints and late steps at the deciding level to its person.
  uint64_t at_decider = 0;
  for (const auto& against : c.complaints_against) {
    if (at_decider < f.complaints && c.completed && against == decider) ++at_decider;
  }
  decision.complaints = at_decider;
  intake.complaints -= at_decider;
  uint64_t late_at_decider = 0;
  for (const auto& holder : c.late_holders) {
    if (c.completed && holder == decider) ++late_at_decider;
  }
  decision.late_steps = late_at_decider;
  intake.late_steps -= late_at_decider;
  out[intake_person] += intake;
  if (decision != Figures{}) out[decision_person] += decision;
  return out;
}

std::optional<GroupBy> group_by_from_name(std::string_view name) {
  if (name.empty() || name == "none") return GroupBy::none;
  if (name == "village" || name == "村") return GroupBy::village;
  if (name == "township" || name == "乡镇") return GroupBy::township;
  if (name == "item" || name == "事项") return GroupBy::item;
  if (name == "department" || name == "部门") return GroupBy::department;
  if (name == "level" || name == "层级") return GroupBy::level;
  if (name == "month" || name == "月份") return GroupBy::month;
  if (name == "person" || name == "人员") return GroupBy::person;
  return std::nullopt;
}

const char* group_by_name(GroupBy g) {
  switch (g) {
    case GroupBy::none:
      return "none";
    case GroupBy::village:
      return "village";
    case GroupBy::township:
      return "township";
    case GroupBy::item:
      return "item";
    case GroupBy::department:
      return "department";
    case GroupBy::level:
      return "level";
    case GroupBy::month:
      return "month";
    case GroupBy::person:
      return "person";
  }
  return "none";
}

const char* group_by_zh(GroupBy g) {
  switch (g) {
    case GroupBy::none:
      return "不分组";
    case GroupBy::village:
      return "村";
    case GroupBy::township:
      return "乡镇";
    case GroupBy::item:
      return "事项";
    case GroupBy::department:
      return "部门";
    case GroupBy::level:
      return "层级";
    case GroupBy::month:
      return "月份";
    case GroupBy::person:
      return "人员";
  }
  return "不分组";
}

std::vector<std::string> group_keys(const CaseFacts& c, GroupBy by) {
  switch (by) {
    case GroupBy::none:
      return {};
    case GroupBy::village:
      return {c.home};
    case GroupBy::township:
      return {c.home.size() > 9 ? c.home.substr(0, 9) : c.home};
    case GroupBy::item:
      return {c.item_code};
    case GroupBy::department: {
      if (c.departments.empty()) return {kNoDepartment};
      std::vector<std::string> keys = c.departments;
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      return keys;
    }
    case GroupBy::month:
      return {format_date(c.submitted_day).substr(0, 7)};
    case GroupBy::level:
    case GroupBy::person:
      return {};
  }
  return {};
}

bool in_period(const CaseFacts& c, const ReportOptions& o) {
  if (o.from && c.submitted_day < *o.from) return false;
  if (o.to && c.submitted_day > *o.to) return false;
  return true;
}

Report build_report(const std::vector<CaseFacts>& cases, const ReportOptions& o) {
  Report r;
  r.options = o;
  std::map<std::string, Figures> groups;
  for (const auto& c : cases) {
    if (!in_period(c, o)) continue;
    const Figures f = case_figures(c, o.as_of, o.calendar);
    r.total += f;
    if (o.by == GroupBy::level || o.by == GroupBy::person) {
      for (const auto& [key, part] :
           o.by == GroupBy::level ? level_figures(c, f, o.as_of) : person_figures(c, f))
        groups[key] += part;
      continue;
    }
    for (const auto& k : group_keys(c, o.by))
      groups[k] += f;
  }
  for (auto& g : groups)
    r.rows.push_back({g.first, g.second});
  return r;
}

uint64_t as_of_end_ms(int64_t as_of) {
  return static_cast<uint64_t>(std::max<int64_t>(as_of, 0) + 1) * 86'400'000 - 8 * 3'600'000 - 1;
}

Result<std::optional<CaseFacts>> stored_case_facts(const CaseState& st,
                                                   const std::vector<StoredEvent>& events,
                                                   storage::CatalogCache& catalogs,
                                                   const storage::Calendar& calendar,
                                                   uint64_t now_ms) {
  // The item's handling in the catalog the case was submitted with.
  auto catalog = catalogs.get(storage::submitted_catalog_version(events));
  if (!catalog.ok()) return catalog.status();
  std::optional<storage::Handling> handling;
  std::optional<uint32_t> promise_days;
  storage::StepLimits limits;
  if (*catalog != nullptr) {
    if (const auto* item = (*catalog)->find(st.item_code)) {
      handling = item->handling;
      promise_days = storage::promised_days(*item, st.home);
      limits = item->limits;
    }
  }
  auto f = case_facts(st, events, handling);
  if (!f) return std::optional<CaseFacts>();
  f->promise_days = promise_days;
  if (st.supervision != 0) f->supervision = storage::supervision_items(st, events, calendar);
  if (st.has_decision) {
    if (auto r = storage::case_revisit(events)) f->revisit_score = r->score;
  }
  // The steps done late, or open past their day, by the level holding
  // the case then (storage/deadlines.h).
  const auto steps = storage::compute_deadlines(st, events, limits, calendar, now_ms);
  for (const auto& s : steps.steps) {
    if (s.flag == storage::DeadlineFlag::overdue) f->late_holders.push_back(s.holder);
  }
  return f;
}

Result<Report> build_report_from_store(const storage::Store& store, const ReportOptions& o,
                                       const std::string& home_prefix) {
  storage::CaseFilter filter;
  filter.home_prefix = home_prefix;
  auto cases = store.list_cases(filter);
  if (!cases.ok()) return cases.status();
  std::vector<CaseFacts> facts;
  std::map<std::string, std::string> item_names;
  storage::CatalogCache catalogs(store);
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) return cal.status();
  // "now" for the step clocks: the end of the as_of day (China time).
  const uint64_t now_ms = as_of_end_ms(o.as_of);
  for (const auto& st : *cases) {
    if (st.submitted_hlc == 0) continue;
    const int64_t day = china_day(hlc_ms(st.submitted_hlc));
    if ((o.from && day < *o.from) || (o.to && day > *o.to)) continue;
    auto events = store.case_events(st.case_id);
    if (!events.ok()) return events.status();
    auto f = stored_case_facts(st, *events, catalogs, *cal, now_ms);
    if (!f.ok()) return f.status();
    if (!f->has_value()) continue;
    if (!st.item_name.empty()) item_names.emplace(st.item_code, st.item_name);
    facts.push_back(std::move(**f));
  }
  ReportOptions counted = o;
  counted.calendar = std::move(cal).value();
  Report r = build_report(facts, counted);
  r.node_code = store.code();
  r.item_names = std::move(item_names);
  return r;
}

// ---- rendering ---------------------------------------------------------------

namespace {

std::optional<double> ratio(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}
std::optional<double> average(int64_t sum, uint64_t n) {
  if (n == 0) return std::nullopt;
  return static_cast<double>(sum) / static_cast<double>(n);
}
std::string fixed1(std::optional<double> v, double scale = 1.0) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", *v * scale);
  return buf;
}

// The values of the columns below.
ReportValue n(uint64_t v) {
  return {ColumnKind::count, static_cast<double>(v)};
}
ReportValue percent(uint64_t part, uint64_t whole) {
  return {ColumnKind::rate, ratio(part, whole)};
}
ReportValue days(std::optional<double> v) {
  return {ColumnKind::average, v};
}
ReportValue yuan(int64_t fen) {
  return {ColumnKind::yuan, static_cast<double>(fen) / 100.0};
}

// 好评: 非常满意, 满意, 基本满意.
uint64_t good_ratings(const Figures& f) {
  return f.ratings[2] + f.ratings[3] + f.ratings[4];
}

// The columns of text, CSV, XLSX and the desk's table, in order.
const std::vector<ReportColumn> kColumns = {
    {"收件", 6, [](const Figures& f) { return n(f.received); }},
    {"受理", 6, [](const Figures& f) { return n(f.accepted); }},
    {"办结", 6, [](const Figures& f) { return n(f.completed); }},
    {"按时办结", 9, [](const Figures& f) { return n(f.on_time); }},
    {"按时办结率", 11, [](const Figures& f) { return percent(f.on_time, f.completed); }},
    {"即办", 6, [](const Figures& f) { return n(f.immediate); }},
    {"即办率", 8, [](const Figures& f) { return percent(f.immediate, f.completed); }},
    {"转报乡镇", 9, [](const Figures& f) { return n(f.forwarded); }},
    {"上报件", 7, [](const Figures& f) { return n(f.escalated); }},
    {"联办", 6, [](const Figures& f) { return n(f.joint); }},
    {"不予许可", 9, [](const Figures& f) { return n(f.refused); }},
    {"撤回", 6, [](const Figures& f) { return n(f.withdrawn); }},
    {"在办", 6, [](const Figures& f) { return n(f.open); }},
    {"红牌超期", 9, [](const Figures& f) { return n(f.overdue); }},
    {"超期环节", 9, [](const Figures& f) { return n(f.late_steps); }},
    {"受理用时(工作日)", 17,
     [](const Figures& f) { return days(average(f.step_days[kStepAccept], f.step_cases[0])); }},
    {"承办用时(工作日)", 17,
     [](const Figures& f) { return days(average(f.step_days[kStepDecide], f.step_cases[1])); }},
    {"送达用时(工作日)", 17,
     [](const Figures& f) { return days(average(f.step_days[kStepDeliver], f.step_cases[2])); }},
    {"代收费(元)", 12, [](const Figures& f) { return yuan(f.fees_fen); }},
    {"评价数", 7, [](const Figures& f) { return n(f.rated); }},
    {"非常满意", 9, [](const Figures& f) { return n(f.ratings[4]); }},
    {"满意", 6, [](const Figures& f) { return n(f.ratings[3]); }},
    {"基本满意", 9, [](const Figures& f) { return n(f.ratings[2]); }},
    {"不满意", 7, [](const Figures& f) { return n(f.ratings[1]); }},
    {"非常不满意", 11, [](const Figures& f) { return n(f.ratings[0]); }},
    {"好评率", 8, [](const Figures& f) { return percent(good_ratings(f), f.rated); }},
    {"投诉", 6, [](const Figures& f) { return n(f.complaints); }},
    {"投诉成立", 9, [](const Figures& f) { return n(f.complaints_upheld); }},
    {"投诉按期办结", 13, [](const Figures& f) { return n(f.complaints_on_time); }},
    {"投诉超期", 9, [](const Figures& f) { return n(f.complaints_late); }},
    {"督办", 6, [](const Figures& f) { return n(f.orders); }},
    {"督办按期答复", 13, [](const Figures& f) { return n(f.orders_on_time); }},
    {"督办逾期", 9, [](const Figures& f) { return n(f.orders_late); }},
    {"整改", 6, [](const Figures& f) { return n(f.rectifications); }},
    {"整改超期", 9, [](const Figures& f) { return n(f.rectifications_late); }},
    {"回访", 6, [](const Figures& f) { return n(f.revisits); }},
    {"回访满意", 9, [](const Figures& f) { return n(f.revisits_satisfied); }},
};

void figures_json(Json& j, const Figures& f) {
  auto opt = [](std::optional<double> v) { return v ? Json(*v) : Json(); };
  j["received"] = f.received;
  j["accepted"] = f.accepted;
  j["completed"] = f.completed;
  j["completed_on_time"] = f.on_time;
  j["on_time_rate"] = opt(ratio(f.on_time, f.completed));
  j["immediate"] = f.immediate;
  j["immediate_rate"] = opt(ratio(f.immediate, f.completed));
  j["forwarded"] = f.forwarded;
  j["escalated"] = f.escalated;
  j["joint"] = f.joint;
  j["refused"] = f.refused;
  j["withdrawn"] = f.withdrawn;
  j["open"] = f.open;
  j["overdue"] = f.overdue;
  j["late_steps"] = f.late_steps;
  Json steps = Json::object();
  const char* names[kStepCount] = {"accept", "decide", "deliver"};
  for (std::size_t i = 0; i < kStepCount; ++i) {
    steps[names[i]] = Json{{"cases", f.step_cases[i]},
                           {"days_total", f.step_days[i]},
                           {"average_days", opt(average(f.step_days[i], f.step_cases[i]))}};
  }
  j["steps"] = std::move(steps);
  j["fees_collected_fen"] = f.fees_fen;
  j["fees_collected_yuan"] = format_yuan(f.fees_fen);
  j["rated"] = f.rated;
  j["rating_sum"] = f.rating_sum;
  j["average_rating"] = opt(average(static_cast<int64_t>(f.rating_sum), f.rated));
  Json ratings = Json::object();
  const char* rating_keys[5] = {"very_dissatisfied", "dissatisfied", "basically_satisfied",
                                "satisfied", "very_satisfied"};
  for (std::size_t i = 0; i < 5; ++i)
    ratings[rating_keys[i]] = f.ratings[i];
  j["ratings"] = std::move(ratings);
  j["good_ratings"] = good_ratings(f);
  j["good_rating_rate"] = opt(ratio(good_ratings(f), f.rated));
  j["complaints"] = f.complaints;
  j["complaints_upheld"] = f.complaints_upheld;
  j["complaints_on_time"] = f.complaints_on_time;
  j["complaints_late"] = f.complaints_late;
  j["orders"] = f.orders;
  j["orders_on_time"] = f.orders_on_time;
  j["orders_late"] = f.orders_late;
  j["rectifications"] = f.rectifications;
  j["rectifications_late"] = f.rectifications_late;
  j["revisits"] = f.revisits;
  j["revisits_satisfied"] = f.revisits_satisfied;
}

}  // namespace

const std::vector<ReportColumn>& report_columns() {
  return kColumns;
}

std::string report_cell_text(const ReportValue& v) {
  if (!v.number) return "-";
  switch (v.kind) {
    case ColumnKind::count:
      return std::to_string(static_cast<uint64_t>(*v.number));
    case ColumnKind::rate:
      return fixed1(v.number, 100.0) + "%";
    case ColumnKind::average:
      return fixed1(v.number);
    case ColumnKind::yuan:
      return format_yuan(static_cast<int64_t>(std::llround(*v.number * 100.0)));
  }
  return "-";
}

std::string report_period_zh(const ReportOptions& o) {
  return (o.from ? format_date(*o.from) : std::string("最早")) + " 至 " +
         (o.to ? format_date(*o.to) : std::string("今")) + " (按登记日期, 北京时间)";
}

std::string report_row_name(const Report& r, const std::string& key,
                            const storage::Divisions* places) {
  switch (r.options.by) {
    case GroupBy::level:
      return place_zh(places, key) + " " + level_zh(level_of_code(key));
    case GroupBy::village:
    case GroupBy::township:
      return place_zh(places, key);
    case GroupBy::item: {
      const auto it = r.item_names.find(key);
      return it == r.item_names.end() ? key : it->second + "（" + key + "）";
    }
    case GroupBy::person: {
      const auto slash = key.find('/');
      if (slash == std::string::npos) return key;
      return place_name(places, key.substr(0, slash)) + " " + key.substr(slash + 1);
    }
    default:
      return key;
  }
}

std::string render_report(const Report& r, const storage::Divisions* places) {
  const auto& o = r.options;
  std::string out = "统计报表  " + place_zh(places, r.node_code) + "\n";
  out += "统计期间  " + report_period_zh(o) + "\n";
  out += "统计截至  " + format_date(o.as_of) + " (超期按此日计)\n";
  out += std::string("分组      ") + group_by_zh(o.by) + "\n\n";
  const int key_width = o.by == GroupBy::none ? 14 : places != nullptr ? 28 : 22;
  out += pad(o.by == GroupBy::none ? "" : group_by_zh(o.by), key_width);
  for (const auto& c : kColumns)
    out += pad(c.header, c.width);
  out += "\n";
  auto line = [&](const std::string& key, const Figures& f) {
    out += pad(key, key_width);
    for (const auto& c : kColumns)
      out += pad(report_cell_text(c.value(f)), c.width);
    out += "\n";
  };
  // Item names and persons come from events: escaped for the terminal.
  for (const auto& row : r.rows)
    line(terminal_field(report_row_name(r, row.key, places)), row.figures);
  line("合计", r.total);
  if (o.by == GroupBy::level)
    out +=
        "注: 各层级各签本级数字: 收件、转报、上报等计入受理申请的层级, 办结、按时办结、即办和"
        "好差评计入作出决定的层级, 投诉计入被投诉的层级。\n";
  if (o.by == GroupBy::department)
    out += "注: 联办件在每个办理部门各计一次, 合计中每件只计一次。\n";
  if (o.by == GroupBy::person)
    out +=
        "注: 收件、受理、在办、超期等计入受理人 (未受理的计入登记人), 办结、按时办结、即办和"
        "好差评计入作出决定的人员。\n";
  out +=
      "说明: 按时办结 = 办结日期不晚于受理时承诺办结日期; 即办 = 在作出决定的层级当场办结"
      "(办件到达该层级当日), 非上报件, 事项为即办件或咨询; 好评 = 非常满意、满意、基本满意。\n";
  return out;
}

std::string render_report_json(const Report& r) {
  const auto& o = r.options;
  Json j = Json::object();
  j["node"] = r.node_code;
  j["from"] = o.from ? Json(format_date(*o.from)) : Json();
  j["to"] = o.to ? Json(format_date(*o.to)) : Json();
  j["as_of"] = format_date(o.as_of);
  j["by"] = group_by_name(o.by);
  Json rows = Json::array();
  for (const auto& row : r.rows) {
    Json x = Json::object();
    x["key"] = row.key;
    if (r.options.by == GroupBy::level) x["level"] = level_key(level_of_code(row.key));
    if (r.options.by == GroupBy::person) {
      const auto slash = row.key.find('/');
      x["node"] = row.key.substr(0, slash);
      x["name"] = slash == std::string::npos ? "" : row.key.substr(slash + 1);
    }
    figures_json(x, row.figures);
    rows.push_back(std::move(x));
  }
  j["rows"] = std::move(rows);
  Json total = Json::object();
  figures_json(total, r.total);
  j["total"] = std::move(total);
  return json_text(j) + "\n";
}

std::string render_report_csv(const Report& r, const storage::Divisions* places) {
  std::string out = "\xEF\xBB\xBF";
  out += csv_cell(r.options.by == GroupBy::none ? "分组" : group_by_zh(r.options.by));
  for (const auto& c : kColumns)
    out += std::string(",") + csv_cell(c.header);
  out += "\r\n";
  auto line = [&](const std::string& key, const Figures& f) {
    out += csv_cell(key);
    for (const auto& c : kColumns)
      out += "," + csv_figure(report_cell_text(c.value(f)));
    out += "\r\n";
  };
  for (const auto& row : r.rows)
    line(report_row_name(r, row.key, places), row.figures);
  line("合计", r.total);
  return out;
}

}  // namespace liandong::node
