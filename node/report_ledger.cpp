#include "node/report_ledger.h"

#include <algorithm>

#include "node/render.h"
#include "node/report_levels.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"

namespace liandong::node {

using storage::CaseState;
using storage::CaseStatus;
using storage::StoredEvent;

namespace {

std::string day_of(uint64_t hlc) {
  return hlc == 0 ? std::string() : format_date(china_day(hlc_ms(hlc)));
}

std::string text(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

const std::vector<LedgerColumn> kLedgerColumns = {
    {"登记时间", 17, nullptr, [](const LedgerLine& l) { return l.registered; }},
    {"办件编号", 22, nullptr, [](const LedgerLine& l) { return l.case_number; }},
    {"申请人", 10, nullptr, [](const LedgerLine& l) { return l.applicant; }},
    {"身份证号(隐去中间)", 20, nullptr, [](const LedgerLine& l) { return l.id_number; }},
    {"联系电话", 13, nullptr, [](const LedgerLine& l) { return l.phone; }},
    {"事项", 28, nullptr, [](const LedgerLine& l) { return l.item; }},
    {"办理路径", 22, nullptr, [](const LedgerLine& l) { return l.route; }},
    {"办理结果", 16, nullptr, [](const LedgerLine& l) { return l.result; }},
    {"受理日期", 11, nullptr, [](const LedgerLine& l) { return l.accepted; }},
    {"承诺办结日期", 13, nullptr, [](const LedgerLine& l) { return l.due; }},
    {"办结日期", 11, nullptr, [](const LedgerLine& l) { return l.decided; }},
    {"送达日期", 11, nullptr, [](const LedgerLine& l) { return l.delivered; }},
    {"收费(元)", 9,
     [](const LedgerLine& l) {
       return ReportValue{ColumnKind::yuan, static_cast<double>(l.fee_fen) / 100.0};
     },
     [](const LedgerLine& l) { return format_yuan(l.fee_fen); }},
    {"评价", 10, nullptr, [](const LedgerLine& l) { return l.rating; }},
};

}  // namespace

const std::vector<LedgerColumn>& ledger_columns() {
  return kLedgerColumns;
}

std::string mask_id_number(std::string_view id) {
  if (id.empty()) return {};
  if (id.size() < 10) return std::string(id.size(), '*');
  return std::string(id.substr(0, 6)) + std::string(id.size() - 10, '*') +
         std::string(id.substr(id.size() - 4));
}

LedgerLine ledger_line(const CaseState& st, const std::vector<StoredEvent>& events,
                       const storage::Divisions* places) {
  LedgerLine l;
  l.registered = st.submitted_hlc == 0 ? "" : format_time(hlc_ms(st.submitted_hlc)).substr(0, 16);
  l.case_number = format_id(st.case_id);
  l.applicant = st.applicant_name;
  l.id_number = mask_id_number(st.applicant_id);
  l.phone = st.applicant_phone;
  l.item = st.item_name.empty() ? st.item_code : st.item_name + "（" + st.item_code + "）";
  // The levels the case went through: where it was taken, then each
  // level it was passed to (the events the fold kept).
  std::vector<std::string> route{st.case_id.origin};
  for (const auto& e : events) {
    const EventView& ev = e.view;
    if (ev.case_id() != st.case_id || ev.kind() != EventKind::escalated) continue;
    if (std::find(st.conflicts.begin(), st.conflicts.end(), ev.id()) != st.conflicts.end() ||
        std::find(st.superseded.begin(), st.superseded.end(), ev.id()) != st.superseded.end())
      continue;
    const std::string to = text(ev.event().getBody().getEscalated().getTo());
    if (!to.empty() && to != route.back()) route.push_back(to);
  }
  for (std::size_t i = 0; i < route.size(); ++i)
    l.route += (i == 0 ? "" : "→") + place_name(places, route[i]);
  if (st.has_decision) {
    const CaseLevels levels = case_levels(st, events);
    l.result = levels.answered ? "已答复" : st.approved ? "准予许可" : "不予许可";
    if (st.status == CaseStatus::withdrawn) l.result = status_label_zh(st);
  } else {
    l.result = status_label_zh(st);
  }
  l.accepted = day_of(st.accepted_hlc);
  l.due = st.due_date;
  l.decided = st.has_decision ? day_of(st.decided_hlc) : "";
  l.delivered = st.has_decision ? day_of(st.delivered_hlc) : "";
  l.fee_fen = st.fee_collected;
  l.rating = st.rating >= 1 && st.rating <= 5 ? rating_zh(st.rating) : "";
  return l;
}

Result<std::vector<LedgerLine>> ledger_from_store(const storage::Store& store,
                                                  std::optional<int64_t> from,
                                                  std::optional<int64_t> to,
                                                  const std::string& home_prefix,
                                                  const storage::Divisions* places) {
  storage::CaseFilter filter;
  filter.home_prefix = home_prefix;
  auto cases = store.list_cases(filter);
  if (!cases.ok()) return cases.status();
  std::vector<const CaseState*> in;
  for (const auto& st : *cases) {
    if (st.submitted_hlc == 0 || st.status == CaseStatus::incomplete) continue;
    const int64_t day = china_day(hlc_ms(st.submitted_hlc));
    if ((from && day < *from) || (to && day > *to)) continue;
    in.push_back(&st);
  }
  std::sort(in.begin(), in.end(), [](const CaseState* a, const CaseState* b) {
    return a->submitted_hlc != b->submitted_hlc ? a->submitted_hlc < b->submitted_hlc
                                                : a->case_id < b->case_id;
  });
  std::vector<LedgerLine> out;
  out.reserve(in.size());
  for (const CaseState* st : in) {
    auto events = store.case_events(st->case_id);
    if (!events.ok()) return events.status();
    out.push_back(ledger_line(*st, *events, places));
  }
  return out;
}

std::string render_ledger_csv(const std::vector<LedgerLine>& lines) {
  std::string out = "\xEF\xBB\xBF";
  bool first = true;
  for (const auto& c : kLedgerColumns) {
    out += (first ? "" : ",") + csv_cell(c.header);
    first = false;
  }
  out += "\r\n";
  for (const auto& l : lines) {
    first = true;
    for (const auto& c : kLedgerColumns) {
      out += (first ? "" : ",") + (c.number ? csv_figure(c.text(l)) : csv_cell(c.text(l)));
      first = false;
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace liandong::node
