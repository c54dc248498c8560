#include "storage/deadlines.h"

#include <algorithm>
#include <utility>

#include "storage/role_names.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

uint32_t limit_of(const StepLimits& l, Step s) {
  switch (s) {
    case Step::village_forward:
      return l.village_forward;
    case Step::township_handle:
      return l.township_handle;
    case Step::county_decide:
      return l.county_decide;
    case Step::township_reply:
      return l.township_reply;
    case Step::village_notify:
      return l.village_notify;
  }
  return 0;
}

// Walks a case's events and keeps the steps it has met.
class Walk {
 public:
  Walk(const StepLimits& limits, const Calendar& cal) : limits_(limits), cal_(cal) {}

  void event(const EventView& ev) {
    const uint64_t t = event_ms(ev);
    const std::string& origin = ev.id().origin;
    const Level by = level_of(origin);
    // A level the case was passed to acts before its receipt is here (a
    // store from before receipts, or a receipt not yet arrived): the case
    // was in its hands by then.
    if (!handover_to_.empty() && origin == handover_to_ && ev.kind() != EventKind::received)
      take_over(t);
    switch (ev.kind()) {
      case EventKind::submitted:
        home_ = text(ev.event().getHome());
        open(by == Level::village    ? Step::village_forward
             : by == Level::township ? Step::township_handle
                                     : Step::county_decide,
             origin, t);
        // 补办件: the clock waits for the missing materials from the start.
        if (ev.event().getBody().getSubmitted().getSupplementCase()) {
          note_missing(ev.event().getBody().getSubmitted().getMaterials(), true);
          if (auto* s = handling(); s != nullptr && !missing_.empty()) s->paused = true;
        }
        break;
      case EventKind::supplement_requested:
        note_missing(ev.event().getBody().getSupplementRequested().getMissing(), false);
        if (auto* s = handling()) s->paused = true;
        break;
      case EventKind::supplemented:
        // Supplied in parts: the clock runs again when the last is in.
        for (auto m : ev.event().getBody().getSupplemented().getProvided())
          std::erase(missing_, text(m.getName()));
        if (!missing_.empty()) break;
        if (auto* s = handling(); s != nullptr && s->paused) {
          s->paused = false;
          s->started_ms = t;
        }
        break;
      case EventKind::escalated:
        // The sender's step ends with its act; the level above's starts
        // when it has stored the case (its receipt). The time between is
        // the link's (在途), charged to neither.
        if (!handover_to_.empty()) take_over(t);
        close_handling(t);
        handover_to_ = text(ev.event().getBody().getEscalated().getTo());
        break;
      case EventKind::received:
        if (!handover_to_.empty() && origin == handover_to_) {
          take_over(t);
        } else if (origin == home_) {
          result_arrived(t);
        } else if (auto* r = find_open(Step::township_reply);
                   r != nullptr && r->holder == origin && r->started_ms <= t) {
          // The township has the county's decision: its part of the
          // return is done; the rest is the link's until the home has it.
          finish(*r, t);
        }
        return;
      case EventKind::decided:
      case EventKind::replied:
        close_handling(t);
        decider_ = by;
        awaiting_home_ = origin != home_;
        decided_ms_ = t;
        if (by == Level::village) {
          open(Step::village_notify, origin, t);
        } else {
          open(Step::township_reply, by == Level::county ? parent_of_home(Level::township) : origin,
               t);
          // A township's own decision for a village below it is in its
          // hands at once.
          if (by == Level::township && awaiting_home_) finish(steps_.back(), t);
        }
        break;
      case EventKind::withdrawn:
      case EventKind::closed:
      case EventKind::not_accepted:
        handover_to_.clear();
        for (auto& s : steps_) {
          if (!s.done) finish(s, t);
        }
        return;
      default:
        break;
    }
    // The case's home acts after the decision without a receipt held (a
    // store from before receipts): the result was there by then.
    if (ev.kind() != EventKind::decided && ev.kind() != EventKind::replied && origin == home_)
      result_arrived(t);
    if (ev.kind() == EventKind::delivered) {
      if (auto* r = find_open(Step::township_reply)) finish(*r, t);
      if (auto* v = find_open(Step::village_notify)) finish(*v, t);
    }
  }

  CaseDeadlines finish_walk(uint64_t now_ms) {
    CaseDeadlines out;
    const Date today = china_date(now_ms);
    for (auto& s : steps_) {
      if (s.limit != 0) s.due = cal_.add_working_days(china_date(s.started_ms), s.limit);
      if (!s.due) continue;
      if (s.done) {
        if (china_date(s.done_ms) > *s.due) {
          s.flag = DeadlineFlag::overdue;
          out.late = true;
        }
        continue;
      }
      s.days_left = cal_.working_days_between(today, *s.due);
      if (s.paused) continue;
      if (today > *s.due) {
        s.flag = DeadlineFlag::overdue;
      } else if (s.days_left <= 1) {
        s.flag = DeadlineFlag::warning;
      }
      if (s.flag > out.open_flag) out.open_flag = s.flag;
    }
    out.steps = std::move(steps_);
    return out;
  }

 private:
  // The open handling step (forward, handle, decide): one at a time.
  StepDeadline* handling() {
    for (auto& s : steps_) {
      if (!s.done && (s.step == Step::village_forward || s.step == Step::township_handle ||
                      s.step == Step::county_decide))
        return &s;
    }
    return nullptr;
  }
  StepDeadline* find_open(Step step) {
    for (auto& s : steps_) {
      if (!s.done && s.step == step) return &s;
    }
    return nullptr;
  }
  // Adds the materials told missing (all of `ms`, or those in state
  // `missing` when `only_missing`) to missing_.
  void note_missing(capnp::List<proto::Material>::Reader ms, bool only_missing) {
    for (auto m : ms) {
      if (only_missing && m.getState() != proto::MaterialState::MISSING) continue;
      std::string name = text(m.getName());
      if (std::find(missing_.begin(), missing_.end(), name) == missing_.end())
        missing_.push_back(std::move(name));
    }
  }
  void close_handling(uint64_t t) {
    if (auto* s = handling()) finish(*s, t);
  }
  // The level the case was passed to has it at `t`: its step starts.
  void take_over(uint64_t t) {
    const std::string to = std::exchange(handover_to_, {});
    open(level_of(to) == Level::township ? Step::township_handle : Step::county_decide, to, t);
  }
  // The decision is stored at the case's home at `t` (结果回传 ends there);
  // a village point's 送达 clock starts.
  void result_arrived(uint64_t t) {
    if (!awaiting_home_ || decided_ms_ > t) return;
    awaiting_home_ = false;
    if (auto* r = find_open(Step::township_reply)) finish(*r, t);
    if (level_of(home_) == Level::village) open(Step::village_notify, home_, t);
  }
  static void finish(StepDeadline& s, uint64_t t) {
    s.done = true;
    s.done_ms = t;
    s.paused = false;
  }
  void open(Step step, std::string holder, uint64_t t) {
    StepDeadline s;
    s.step = step;
    s.holder = std::move(holder);
    s.started_ms = t;
    s.limit = limit_of(limits_, step);
    steps_.push_back(std::move(s));
  }
  // The home's ancestor at `level` (the township that relays a county
  // decision down); the home itself when it is not below that level.
  std::string parent_of_home(Level level) const {
    if (level == Level::township && home_.size() >= 9) return home_.substr(0, 9);
    return home_;
  }

  const StepLimits& limits_;
  const Calendar& cal_;
  std::vector<StepDeadline> steps_;
  std::string home_;
  Level decider_ = Level::county;
  // The level an escalation names, until it has stored the case ("": none).
  std::string handover_to_;
  // A decision made away from the case's home, not yet known stored there.
  bool awaiting_home_ = false;
  uint64_t decided_ms_ = 0;
  std::vector<std::string> missing_;  // materials told missing, not yet supplied
};

}  // namespace

const char* step_name(Step s) {
  static const char* names[] = {"village_forward", "township_handle", "county_decide",
                                "township_reply", "village_notify"};
  return names[static_cast<int>(s)];
}

const char* step_name_zh(Step s) {
  static const char* names[] = {"转报乡镇", "乡镇承办", "县级办理", "结果回传", "结果送达"};
  return names[static_cast<int>(s)];
}

const char* flag_name(DeadlineFlag f) {
  static const char* names[] = {"ok", "warning", "overdue"};
  return names[static_cast<int>(f)];
}

const char* flag_name_zh(DeadlineFlag f) {
  static const char* names[] = {"正常", "黄牌预警", "红牌超期"};
  return names[static_cast<int>(f)];
}

CaseDeadlines compute_deadlines(std::span<const EventView* const> events, const StepLimits& limits,
                                const Calendar& calendar, uint64_t now_ms) {
  Walk walk(limits, calendar);
  Id case_id;
  for (const EventView* ev : events) {
    if (is_broadcast(ev->kind())) continue;
    if (case_id.empty()) case_id = ev->case_id();
    if (ev->case_id() != case_id) continue;
    walk.event(*ev);
  }
  return walk.finish_walk(now_ms);
}

CaseDeadlines compute_deadlines(const CaseState& state, const std::vector<StoredEvent>& events,
                                const StepLimits& limits, const Calendar& calendar,
                                uint64_t now_ms) {
  if (state.status == CaseStatus::incomplete) return {};
  std::vector<const EventView*> views;
  views.reserve(events.size());
  for (const auto& e : events)
    views.push_back(&e.view);
  return compute_deadlines(views, limits, calendar, now_ms);
}

}  // namespace liandong::storage
