#include "node/trace.h"

#include <algorithm>

#include "node/json_text.h"
#include "node/render.h"
#include "protocol/hlc.h"

namespace liandong::node {

using storage::CaseState;
using storage::StoredEvent;

namespace {

// Store::arrival_ms is new; this keeps the trace building on a store
// without it (times then show as unknown).
template <typename S>
std::optional<uint64_t> arrival_of(const S& store, uint64_t lsn) {
  if constexpr (requires { store.arrival_ms(lsn); }) {
    auto r = store.arrival_ms(lsn);
    if (!r.ok()) return std::nullopt;
    return *r;
  } else {
    return std::nullopt;
  }
}

}  // namespace

std::optional<uint64_t> stored_at_ms(const storage::Store& store, uint64_t lsn) {
  return arrival_of(store, lsn);
}

namespace {

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

}  // namespace

CaseTrace make_trace(const CaseState& st, const std::vector<StoredEvent>& events,
                     const Custody* custody, const std::string& node_code) {
  CaseTrace t;
  t.state = st;
  t.node_code = node_code;
  uint64_t prev = 0;
  for (const auto& e : events) {
    auto ev = e.view.event();
    auto actor = ev.getActor();
    TraceStep s;
    s.event = e.view.id();
    s.kind = e.view.kind();
    s.conflict = std::find(st.conflicts.begin(), st.conflicts.end(), s.event) != st.conflicts.end();
    s.actor = str(actor.getName());
    s.role = role_name(actor.getRole());
    s.on_behalf_of = str(actor.getOnBehalfOf());
    s.staff_id = str(actor.getStaffId());
    s.node = s.event.origin;
    s.at_ms = hlc_ms(e.view.hlc());
    s.lsn = e.lsn;
    s.detail = event_detail(e.view);
    if (custody != nullptr) {
      if (const Refusal* r = custody->refusal_of(s.event)) s.refused = *r;
    }
    if (custody != nullptr && s.node == node_code) {
      s.own = true;
      const bool refused_at_parent = s.refused && s.refused->by.size() >= 9;
      if (!custody->parent_code.empty() && custody->parent_code.size() > 6)
        s.at_township = e.lsn <= custody->parent && !refused_at_parent;
      if (!custody->is_top) s.at_county = e.lsn <= custody->top && !s.refused;
    }
    s.wait_ms = t.steps.empty() || s.at_ms < prev ? 0 : s.at_ms - prev;
    prev = std::max(prev, s.at_ms);
    t.steps.push_back(std::move(s));
  }
  if (!t.steps.empty()) t.total_ms = prev - t.steps.front().at_ms;
  return t;
}

Result<CaseTrace> trace_case(const storage::Store& store, const Id& case_id) {
  auto st = store.get_case(case_id);
  if (!st.ok()) return st.status();
  if (!*st) return Status::not_found("no case " + format_id(case_id) + " here");
  auto events = store.case_events(case_id);
  if (!events.ok()) return events.status();
  auto custody = read_custody(store);
  if (!custody.ok()) return custody.status();
  CaseTrace t = make_trace(**st, *events, &*custody, store.code());
  for (auto& s : t.steps)
    s.stored_ms = stored_at_ms(store, s.lsn);
  return t;
}

std::string wait_zh(uint64_t ms) {
  const uint64_t minutes = ms / 60000;
  if (minutes == 0) return ms == 0 ? "-" : "不到 1 分钟";
  const uint64_t days = minutes / (24 * 60), hours = minutes / 60 % 24, mins = minutes % 60;
  if (days > 0) return std::to_string(days) + " 天 " + std::to_string(hours) + " 小时";
  if (hours > 0) return std::to_string(hours) + " 小时 " + std::to_string(mins) + " 分钟";
  return std::to_string(mins) + " 分钟";
}

std::string render_trace(const CaseTrace& t) {
  const auto& st = t.state;
  std::string out = "办件倒查  " + format_id(st.case_id) + "  " + st.item_name + "\n";
  out += "申请人    " + st.applicant_name + "   " + home_label_zh(st.home) + " " + st.home +
         "   状态 " + status_label_zh(st) +
         (st.due_date.empty() ? "" : "   承诺办结日期 " + st.due_date) + "\n";
  out += "共 " + std::to_string(t.steps.size()) + " 步, 历时 " + wait_zh(t.total_ms) + "\n\n";
  out += pad("序号", 6) + pad("环节", 12) + pad("经办人", 26) + pad("节点", 14) +
         pad("发生时间", 21) + pad("本机存储时间", 21) + pad("等待", 18) + pad("存储位置", 28) +
         "说明\n";
  uint64_t longest = 0;
  std::size_t longest_at = 0;
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const auto& s = t.steps[i];
    std::string who =
        s.actor + "(" +
        (role_from_name(s.role) ? role_name_zh(*role_from_name(s.role)) : s.role.c_str()) + ")";
    if (!s.on_behalf_of.empty()) who += " 代 " + s.on_behalf_of;
    std::string where = "-";
    if (s.own) {
      where = "本机";
      if (s.at_township) where += *s.at_township ? " · 已达乡镇" : " · 未达乡镇";
      if (s.at_county) where += *s.at_county ? " · 已达县" : " · 未达县";
    }
    if (s.refused)
      where = (s.own ? "本机" : "-") + std::string(" · !! ") + refusal_text(*s.refused);
    std::string kind = kind_name_zh(s.kind);
    if (s.conflict) kind += "(冲突)";
    out += pad(std::to_string(i + 1), 6) + pad(kind, 12) + pad(who, 26) + pad(s.node, 14) +
           pad(format_time(s.at_ms), 21) + pad(s.stored_ms ? format_time(*s.stored_ms) : "-", 21) +
           pad(i == 0 ? "-" : wait_zh(s.wait_ms), 18) + pad(where, 28) + s.detail + "\n";
    if (i > 0 && s.wait_ms > longest) {
      longest = s.wait_ms;
      longest_at = i;
    }
  }
  if (longest > 0) {
    const auto& s = t.steps[longest_at];
    out += "\n等待最久: 第 " + std::to_string(longest_at) + " 步到第 " +
           std::to_string(longest_at + 1) + " 步 (" + kind_name_zh(s.kind) + ", " + s.node + "), " +
           wait_zh(longest) + "\n";
  }
  return out;
}

std::string render_trace_json(const CaseTrace& t) {
  const auto& st = t.state;
  Json j = Json::object();
  j["case"] = format_id(st.case_id);
  j["node"] = t.node_code;
  j["status"] = status_label(st);
  j["home"] = st.home;
  j["item_code"] = st.item_code;
  j["item_name"] = st.item_name;
  j["due_date"] = st.due_date;
  j["total_ms"] = t.total_ms;
  Json steps = Json::array();
  for (const auto& s : t.steps) {
    Json x = Json::object();
    x["event"] = format_id(s.event);
    x["kind"] = kind_name(s.kind);
    x["kind_zh"] = kind_name_zh(s.kind);
    x["conflict"] = s.conflict;
    x["actor"] = s.actor;
    x["role"] = s.role;
    x["staff_id"] = s.staff_id;
    x["on_behalf_of"] = s.on_behalf_of;
    x["node"] = s.node;
    x["time"] = format_time(s.at_ms);
    x["time_ms"] = s.at_ms;
    x["lsn"] = s.lsn;
    x["stored_ms"] = s.stored_ms ? Json(*s.stored_ms) : Json();
    x["wait_ms"] = s.wait_ms;
    x["detail"] = s.detail;
    if (s.own) {
      Json c = Json::object();
      c["here"] = true;
      c["township"] = s.at_township ? Json(*s.at_township) : Json();
      c["county"] = s.at_county ? Json(*s.at_county) : Json();
      if (s.refused) {
        c["refused_by"] = s.refused->by;
        c["refused_cause"] = cause_name(s.refused->cause);
        c["refused_text"] = refusal_text(*s.refused);
      }
      x["custody"] = std::move(c);
    } else {
      x["custody"] = nullptr;
    }
    steps.push_back(std::move(x));
  }
  j["steps"] = std::move(steps);
  return json_text(j) + "\n";
}

}  // namespace liandong::node
