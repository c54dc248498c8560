#include "node/app/supervision_view.h"

#include <algorithm>
#include <tuple>

#include "node/render.h"
#include "node/report_levels.h"
#include "protocol/hlc.h"
#include "storage/calendar.h"
#include "storage/catalog.h"

namespace liandong::app {

namespace {

using storage::CaseStatus;
using storage::DeadlineFlag;

bool ended(const storage::CaseState& st) {
  return st.status == CaseStatus::closed || st.status == CaseStatus::withdrawn ||
         st.status == CaseStatus::not_accepted || st.status == CaseStatus::incomplete;
}

// Who last acted on the case at `level` (a person, not the node itself).
std::string person_at(const std::vector<storage::StoredEvent>& events, const std::string& level) {
  std::string who;
  for (const auto& e : events) {
    if (e.view.id().origin != level) continue;
    auto actor = e.view.event().getActor();
    if (actor.getRole() == proto::Role::SYSTEM) continue;
    who = std::string(actor.getName().begin(), actor.getName().size());
  }
  return who;
}

// The flag of an open item due on `due`, and its working days left.
std::pair<DeadlineFlag, int64_t> flag_of(const std::string& due, const storage::Date& today,
                                         const storage::Calendar& calendar) {
  auto d = storage::parse_date(due);
  if (!d) return {DeadlineFlag::ok, 0};
  const int64_t left = calendar.working_days_between(today, *d);
  if (*d < today) return {DeadlineFlag::overdue, left};
  return {left <= 1 ? DeadlineFlag::warning : DeadlineFlag::ok, left};
}

SupervisionEntry entry_of(const storage::CaseState& st, const storage::SupervisionItem& it,
                          const storage::Date& today, const storage::Calendar& calendar) {
  SupervisionEntry e;
  e.case_id = st.case_id;
  e.item_name = st.item_name;
  e.home = st.home;
  e.holder = storage::holding_level(st);
  e.item = it;
  if (!it.answered) std::tie(e.flag, e.days_left) = flag_of(it.due, today, calendar);
  return e;
}

void order_entries(std::vector<SupervisionEntry>& v) {
  std::stable_sort(v.begin(), v.end(), [](const SupervisionEntry& a, const SupervisionEntry& b) {
    if (a.item.answered != b.item.answered) return !a.item.answered;
    if (!a.item.answered) return a.item.due < b.item.due;
    return a.item.answered_day > b.item.answered_day;
  });
}

}  // namespace

Result<SupervisionView> build_supervision(const storage::Store& store,
                                          const SupervisionOptions& o) {
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) return cal.status();
  const storage::Calendar& calendar = *cal;
  const storage::Date today = storage::china_date(o.now_ms);
  const int64_t today_days = storage::days_from_date(today);
  storage::CatalogCache catalogs(store);
  auto cases = store.list_cases(storage::CaseFilter{});
  if (!cases.ok()) return cases.status();
  const bool county = store.code().size() <= 6;
  SupervisionView v;
  for (const auto& st : *cases) {
    if (st.status == CaseStatus::incomplete) continue;
    const bool open = !ended(st);
    const bool revisit =
        county && st.has_decision && st.decided_hlc != 0 &&
        today_days - storage::days_from_date(storage::china_date(hlc_ms(st.decided_hlc))) <=
            o.revisit_days &&
        storage::in_revisit_sample(st.case_id);
    if (!open && st.supervision == 0 && !revisit) continue;
    auto events = store.case_events(st.case_id);
    if (!events.ok()) return events.status();
    if (open) {
      auto limits = storage::case_step_limits(catalogs, st, *events);
      if (!limits.ok()) return limits.status();
      const auto d = storage::compute_deadlines(st, *events, *limits, calendar, o.now_ms);
      for (const auto& s : d.steps) {
        if (s.done || s.flag == DeadlineFlag::ok || !s.due) continue;
        SupervisionCard c;
        c.case_id = st.case_id;
        c.item_name = st.item_name;
        c.home = st.home;
        c.step = s.step;
        c.holder = s.holder;
        if (s.holder == st.handler) c.departments = st.departments;
        c.person = person_at(*events, s.holder);
        c.flag = s.flag;
        c.due = storage::format_date(*s.due);
        c.days_left = s.days_left;
        const bool red = c.flag == DeadlineFlag::overdue;
        auto add = [red](CardCounts& k) { (red ? k.overdue : k.warning) += 1; };
        add(v.by_level[c.holder]);
        for (const auto& dept : c.departments)
          add(v.by_department[dept]);
        // A person is named with the level, as 王小红@360723101007.
        if (!c.person.empty()) add(v.by_person[c.person + "@" + c.holder]);
        v.cards.push_back(std::move(c));
      }
    }
    if (st.supervision != 0) {
      for (const auto& it : storage::supervision_items(st, *events, calendar)) {
        if (it.kind == proto::AnswerTo::COMPLAINT) {
          auto add = [&](ComplaintCounts& k) {
            k.total += 1;
            k.upheld += it.answered && it.upheld ? 1 : 0;
            k.open += it.answered ? 0 : 1;
            k.late += it.late(today_days) ? 1 : 0;
          };
          add(v.complaints_by_level[it.against]);
          if (!it.department.empty()) add(v.complaints_by_department[it.department]);
          if (!it.person.empty()) add(v.complaints_by_person[it.person + "@" + it.against]);
        }
        if (it.answered && (o.answered_days <= 0 || today_days - it.answered_day > o.answered_days))
          continue;
        v.entries.push_back(entry_of(st, it, today, calendar));
      }
    }
    if (revisit && !storage::case_revisit(*events)) {
      RevisitOffer r;
      r.case_id = st.case_id;
      r.item_name = st.item_name;
      r.home = st.home;
      r.decided_day = storage::format_date(storage::china_date(hlc_ms(st.decided_hlc)));
      r.applicant_phone = st.applicant_phone;
      v.revisits.push_back(std::move(r));
    }
  }
  std::stable_sort(v.cards.begin(), v.cards.end(),
                   [](const SupervisionCard& a, const SupervisionCard& b) {
                     if (a.flag != b.flag) return a.flag == DeadlineFlag::overdue;
                     return a.due < b.due;
                   });
  order_entries(v.entries);
  return v;
}

Result<std::vector<SupervisionEntry>> answers_due_here(const storage::Store& store,
                                                       uint64_t now_ms) {
  auto cal = storage::held_calendar(store);
  if (!cal.ok()) return cal.status();
  const storage::Date today = storage::china_date(now_ms);
  auto cases = store.list_cases(storage::CaseFilter{});
  if (!cases.ok()) return cases.status();
  std::vector<SupervisionEntry> out;
  for (const auto& st : *cases) {
    if (st.supervision == 0) continue;
    auto events = store.case_events(st.case_id);
    if (!events.ok()) return events.status();
    for (const auto& it : storage::supervision_items(st, *events, *cal)) {
      if (!it.answered && it.level == store.code()) out.push_back(entry_of(st, it, today, *cal));
    }
  }
  std::stable_sort(
      out.begin(), out.end(), [](const SupervisionEntry& a, const SupervisionEntry& b) {
        if ((a.item.kind == proto::AnswerTo::ORDER) != (b.item.kind == proto::AnswerTo::ORDER))
          return a.item.kind == proto::AnswerTo::ORDER;
        return a.item.due < b.item.due;
      });
  return out;
}

namespace {

using node::Json;

const char* flag_zh(DeadlineFlag f) {
  return storage::flag_name_zh(f);
}

std::string place(const storage::Divisions* places, const std::string& code) {
  return code.empty() ? std::string() : node::place_zh(places, code);
}

Json complaint_counts_json(const std::map<std::string, ComplaintCounts>& m,
                           const storage::Divisions* places, bool levels) {
  Json out = Json::array();
  for (const auto& [key, k] : m) {
    Json x{
        {"key", key}, {"total", k.total}, {"upheld", k.upheld}, {"open", k.open}, {"late", k.late}};
    if (levels) x["name"] = place(places, key);
    out.push_back(std::move(x));
  }
  return out;
}

Json counts_json(const std::map<std::string, CardCounts>& m, const storage::Divisions* places,
                 bool levels) {
  Json out = Json::array();
  for (const auto& [key, k] : m) {
    Json x{{"key", key}, {"warning", k.warning}, {"overdue", k.overdue}};
    if (levels) x["name"] = place(places, key);
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

Json entry_json(const SupervisionEntry& e, const storage::Divisions* places) {
  const auto& it = e.item;
  Json j{{"case", format_id(e.case_id)},
         {"item_name", e.item_name},
         {"home", e.home},
         {"home_name", place(places, e.home)},
         {"holder", e.holder},
         {"holder_name", place(places, e.holder)},
         {"kind", storage::answer_to_name(it.kind)},
         {"kind_zh", storage::answer_to_name_zh(it.kind)},
         {"event", format_id(it.event)},
         {"issued_by", it.issued_by},
         {"issued_by_name", place(places, it.issued_by)},
         {"actor", it.actor},
         {"issued", storage::format_date(storage::date_from_days(it.issued_day))},
         {"level", it.level},
         {"level_name", place(places, it.level)},
         {"due", it.due},
         {"text", it.text},
         {"answered", it.answered}};
  if (it.kind == proto::AnswerTo::COMPLAINT) {
    j["against"] = it.against;
    j["against_name"] = place(places, it.against);
    j["department"] = it.department;
    j["person"] = it.person;
    j["channel"] = it.channel;
    j["complainant"] = it.complainant;
    j["phone"] = it.phone;
  }
  if (it.kind == proto::AnswerTo::RECTIFICATION) {
    j["score"] = it.score;
    j["rating_zh"] = node::rating_zh(it.score);
    j["reasons"] = it.reasons;
  }
  if (it.answered) {
    j["answer"] = Json{{"event", format_id(it.answer)},
                       {"by", it.answered_by},
                       {"by_name", place(places, it.answered_by)},
                       {"actor", it.answer_actor},
                       {"text", it.answer_text},
                       {"day", storage::format_date(storage::date_from_days(it.answered_day))},
                       {"on_time", it.on_time()}};
    if (it.kind == proto::AnswerTo::COMPLAINT) {
      j["answer"]["upheld"] = it.upheld;
      j["answer"]["result_zh"] = it.upheld ? "成立" : "不成立";
    }
    j["state_zh"] = it.on_time() ? "已按期答复" : "逾期答复";
  } else {
    j["flag"] = storage::flag_name(e.flag);
    j["flag_zh"] = flag_zh(e.flag);
    j["days_left"] = e.days_left;
    j["state_zh"] = e.flag == DeadlineFlag::overdue ? "超期未答复" : "待答复";
  }
  return j;
}

Json supervision_json(const SupervisionView& v, const storage::Divisions* places) {
  Json cards = Json::array();
  for (const auto& c : v.cards) {
    cards.push_back(Json{{"case", format_id(c.case_id)},
                         {"item_name", c.item_name},
                         {"home", c.home},
                         {"home_name", place(places, c.home)},
                         {"step", storage::step_name(c.step)},
                         {"step_zh", storage::step_name_zh(c.step)},
                         {"holder", c.holder},
                         {"holder_name", place(places, c.holder)},
                         {"level_zh", node::level_zh(node::level_of_code(c.holder))},
                         {"departments", c.departments},
                         {"person", c.person},
                         {"flag", storage::flag_name(c.flag)},
                         {"flag_zh", flag_zh(c.flag)},
                         {"due", c.due},
                         {"days_left", c.days_left}});
  }
  Json entries = Json::array();
  for (const auto& e : v.entries)
    entries.push_back(entry_json(e, places));
  Json revisits = Json::array();
  for (const auto& r : v.revisits) {
    revisits.push_back(Json{{"case", format_id(r.case_id)},
                            {"item_name", r.item_name},
                            {"home", r.home},
                            {"home_name", place(places, r.home)},
                            {"decided", r.decided_day},
                            {"phone", r.applicant_phone}});
  }
  uint64_t warning = 0, overdue = 0;
  for (const auto& c : v.cards)
    (c.flag == DeadlineFlag::overdue ? overdue : warning) += 1;
  return Json{
      {"counts", {{"warning", warning}, {"overdue", overdue}}},
      {"cards", std::move(cards)},
      {"by_level", counts_json(v.by_level, places, true)},
      {"by_department", counts_json(v.by_department, places, false)},
      {"by_person", counts_json(v.by_person, places, false)},
      {"complaints_by_level", complaint_counts_json(v.complaints_by_level, places, true)},
      {"complaints_by_department",
       complaint_counts_json(v.complaints_by_department, places, false)},
      {"complaints_by_person", complaint_counts_json(v.complaints_by_person, places, false)},
      {"entries", std::move(entries)},
      {"revisits", std::move(revisits)}};
}

std::string render_supervision(const SupervisionView& v, const storage::Divisions* places) {
  std::string out;
  uint64_t warning = 0, overdue = 0;
  for (const auto& c : v.cards)
    (c.flag == DeadlineFlag::overdue ? overdue : warning) += 1;
  out += "电子监察  红牌超期 " + std::to_string(overdue) + " 件次  黄牌预警 " +
         std::to_string(warning) + " 件次\n";
  for (const auto& c : v.cards) {
    out += "  " + std::string(flag_zh(c.flag)) + "  " + format_id(c.case_id) + "  " + c.item_name +
           "  " + storage::step_name_zh(c.step) + "  " + place(places, c.holder) +
           (c.person.empty() ? "" : "  " + c.person) + "  时限 " + c.due + "\n";
  }
  out += "\n督办、效能投诉、整改\n";
  if (v.entries.empty()) out += "  (无)\n";
  for (const auto& e : v.entries) {
    const auto& it = e.item;
    out += "  " + std::string(storage::answer_to_name_zh(it.kind)) + "  " + format_id(it.event) +
           "  办件 " + format_id(e.case_id) + "  由" + place(places, it.level) + "答复  时限 " +
           it.due + "  " +
           (it.answered ? std::string(it.on_time() ? "已按期答复" : "逾期答复") +
                              (it.kind == proto::AnswerTo::COMPLAINT
                                   ? std::string(it.upheld ? "（成立）" : "（不成立）")
                                   : std::string())
                        : std::string(e.flag == DeadlineFlag::overdue ? "超期未答复" : "待答复")) +
           "\n";
  }
  if (!v.revisits.empty()) {
    out += "\n待回访 (抽取已办结办件的十分之一)\n";
    for (const auto& r : v.revisits)
      out += "  " + format_id(r.case_id) + "  " + r.item_name + "  " + place(places, r.home) +
             "  办结 " + r.decided_day + "\n";
  }
  return out;
}

}  // namespace liandong::app
