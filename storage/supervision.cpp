#include "storage/supervision.h"

#include <sodium.h>

#include <algorithm>

#include "protocol/event_codec.h"
#include "storage/store.h"

namespace liandong::storage {

namespace {

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

int64_t day_of(const EventView& ev) {
  return days_from_date(china_date(hlc_ms(ev.hlc())));
}

Id id_of(proto::EventId::Reader r) {
  return Id{str(r.getOrigin()), r.getSeq()};
}

}  // namespace

bool SupervisionItem::on_time() const {
  if (!answered) return false;
  if (due.empty()) return true;
  auto d = parse_date(due);
  return d && answered_day <= days_from_date(*d);
}

bool SupervisionItem::late(int64_t as_of_day) const {
  if (due.empty()) return false;
  auto d = parse_date(due);
  if (!d) return false;
  return (answered ? answered_day : as_of_day) > days_from_date(*d);
}

std::string complaint_handler(const std::string& code) {
  if (code.size() <= 6) return code;
  return parent_code(code);
}

std::vector<SupervisionItem> supervision_items(const CaseState& st,
                                               const std::vector<StoredEvent>& events,
                                               const Calendar& calendar) {
  std::vector<SupervisionItem> items;
  std::string decider;
  for (const auto& e : events) {
    const EventView& ev = e.view;
    if (ev.case_id() != st.case_id) continue;
    // Re-issued, or refused by the fold (a second rating): not counted.
    if (std::find(st.superseded.begin(), st.superseded.end(), ev.id()) != st.superseded.end() ||
        std::find(st.conflicts.begin(), st.conflicts.end(), ev.id()) != st.conflicts.end())
      continue;
    auto body = ev.event().getBody();
    SupervisionItem it;
    it.event = ev.id();
    it.issued_by = ev.id().origin;
    it.actor = str(ev.event().getActor().getName());
    it.issued_day = day_of(ev);
    switch (ev.kind()) {
      case EventKind::decided:
      case EventKind::replied:
        decider = ev.id().origin;
        continue;
      case EventKind::supervised: {
        auto o = body.getSupervised();
        it.kind = proto::AnswerTo::ORDER;
        it.text = str(o.getNote());
        it.due = str(o.getDueDate());
        it.level = str(o.getHolder());
        break;
      }
      case EventKind::complaint: {
        auto c = body.getComplaint();
        it.kind = proto::AnswerTo::COMPLAINT;
        it.text = str(c.getText());
        it.against = str(c.getAgainst());
        if (it.against.empty()) it.against = holding_level(st);
        it.department = str(c.getDepartment());
        it.person = str(c.getPerson());
        it.channel = str(c.getChannel());
        it.complainant = str(c.getComplainant());
        it.phone = str(c.getPhone());
        it.due = str(c.getDueDate());
        it.level = complaint_handler(it.against);
        break;
      }
      case EventKind::rated: {
        auto r = body.getRated();
        if (r.getScore() > kPoorRating) continue;
        it.kind = proto::AnswerTo::RECTIFICATION;
        // The applicant rated; the session it was made in is the agent's.
        if (str(r.getChannel()) == "evaluator") it.actor = "申请人（评价器）";
        it.score = r.getScore();
        it.text = str(r.getComment());
        for (auto t : r.getReasons())
          it.reasons.push_back(str(t));
        it.level = decider.empty() ? st.home : decider;
        it.due = format_date(calendar.add_working_days(china_date(hlc_ms(ev.hlc())), kRectifyDays));
        break;
      }
      case EventKind::answered: {
        auto a = body.getAnswered();
        const Id about = id_of(a.getAbout());
        for (auto& open : items) {
          if (open.event != about || open.answered || open.kind != a.getTo()) continue;
          open.answered = true;
          open.answer = ev.id();
          open.answered_by = ev.id().origin;
          open.answer_actor = it.actor;
          open.answer_text = str(a.getText());
          open.answered_day = it.issued_day;
          open.upheld = a.getUpheld();
          break;
        }
        continue;
      }
      default:
        continue;
    }
    items.push_back(std::move(it));
  }
  // An order is answered by the level holding the case now.
  for (auto& it : items) {
    if (it.kind == proto::AnswerTo::ORDER && !it.answered) it.level = holding_level(st);
  }
  return items;
}

bool in_revisit_sample(const Id& case_id) {
  const std::string key = format_id(case_id);
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     nullptr, 0);
  const uint32_t v = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
  return v % kRevisitEvery == 0;
}

std::optional<Revisit> case_revisit(const std::vector<StoredEvent>& events) {
  for (const auto& e : events) {
    if (e.view.kind() != EventKind::answered) continue;
    auto a = e.view.event().getBody().getAnswered();
    if (a.getTo() != proto::AnswerTo::REVISIT) continue;
    Revisit r;
    r.event = e.view.id();
    r.by = e.view.id().origin;
    r.actor = str(e.view.event().getActor().getName());
    r.text = str(a.getText());
    r.score = a.getScore();
    r.day = day_of(e.view);
    return r;
  }
  return std::nullopt;
}

const char* answer_to_name(proto::AnswerTo k) {
  switch (k) {
    case proto::AnswerTo::ORDER:
      return "order";
    case proto::AnswerTo::COMPLAINT:
      return "complaint";
    case proto::AnswerTo::RECTIFICATION:
      return "rectification";
    case proto::AnswerTo::REVISIT:
      return "revisit";
  }
  return "order";
}

const char* answer_to_name_zh(proto::AnswerTo k) {
  switch (k) {
    case proto::AnswerTo::ORDER:
      return "督办";
    case proto::AnswerTo::COMPLAINT:
      return "效能投诉";
    case proto::AnswerTo::RECTIFICATION:
      return "整改";
    case proto::AnswerTo::REVISIT:
      return "回访";
  }
  return "督办";
}

std::optional<proto::AnswerTo> answer_to_from_name(const std::string& name) {
  for (auto k : {proto::AnswerTo::ORDER, proto::AnswerTo::COMPLAINT, proto::AnswerTo::RECTIFICATION,
                 proto::AnswerTo::REVISIT}) {
    if (name == answer_to_name(k) || name == answer_to_name_zh(k)) return k;
  }
  return std::nullopt;
}

}  // namespace liandong::storage
