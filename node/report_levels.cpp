#include "node/report_levels.h"

#include <algorithm>

#include "protocol/hlc.h"
#include "storage/calendar.h"

namespace liandong::node {

using storage::StoredEvent;

Level level_of_code(std::string_view code) {
  return storage::level_of(code);
}

const char* level_key(Level l) {
  return storage::level_label(l);
}

const char* level_zh(Level l) {
  return storage::level_label_zh(l);
}

const char* rating_zh(unsigned score) {
  switch (score) {
    case 5:
      return "非常满意";
    case 4:
      return "满意";
    case 3:
      return "基本满意";
    case 2:
      return "不满意";
    case 1:
      return "非常不满意";
    default:
      return "未评价";
  }
}

namespace {

int64_t day_of_hlc(uint64_t hlc) {
  return storage::days_from_date(storage::china_date(hlc_ms(hlc)));
}

bool listed(const std::vector<Id>& ids, const Id& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string text(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

}  // namespace

CaseLevels case_levels(const storage::CaseState& st, const std::vector<StoredEvent>& events) {
  CaseLevels out;
  out.taken = st.case_id.origin;
  std::string holder = out.taken;
  int64_t arrived = st.submitted_hlc != 0 ? day_of_hlc(st.submitted_hlc) : 0;
  const bool taken_below_county = level_of_code(out.taken) != Level::county;
  for (const auto& e : events) {
    const EventView& ev = e.view;
    if (ev.case_id() != st.case_id || ev.hlc() < st.submitted_hlc) continue;
    if (listed(st.conflicts, ev.id()) || listed(st.superseded, ev.id())) continue;
    switch (ev.kind()) {
      case EventKind::accepted:
        // Accepted by the level holding it: its on-the-spot clock starts here.
        if (ev.id().origin == holder) arrived = day_of_hlc(ev.hlc());
        break;
      case EventKind::escalated: {
        const std::string to = text(ev.event().getBody().getEscalated().getTo());
        if (level_of_code(holder) == Level::village && level_of_code(to) == Level::township)
          out.forwarded = true;
        if (taken_below_county && level_of_code(to) == Level::county) out.escalated = true;
        holder = to;
        arrived = day_of_hlc(ev.hlc());
        break;
      }
      case EventKind::decided:
      case EventKind::replied:
        // The standing decision is the one the fold kept (a later decision
        // after a settled conflict replaces an earlier one).
        if (st.has_decision && ev.hlc() == st.decided_hlc) {
          out.decider = ev.id().origin;
          out.reached_day = arrived;
          out.answered = ev.kind() == EventKind::replied;
          // A county's answer to a question (咨询) is not a 上报件.
          if (taken_below_county && !out.answered && level_of_code(out.decider) == Level::county)
            out.escalated = true;
        }
        break;
      case EventKind::complaint: {
        const std::string against = text(ev.event().getBody().getComplaint().getAgainst());
        out.complaints_against.push_back(against.empty() ? holder : against);
        break;
      }
      default:
        break;
    }
  }
  out.rated_level = out.decider.empty() ? holder : out.decider;
  return out;
}

}  // namespace liandong::node
