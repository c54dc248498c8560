// One case as people and programs see it (`case show`, the desk's case
// page): its facts, its events and where each of this node's events is.
#include <algorithm>
#include <optional>

#include "node/capnp_json.h"
#include "node/json_text.h"
#include "node/render.h"
#include "node/render_parts.h"
#include "node/report_levels.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"
#include "storage/intake.h"

namespace liandong::node {

using storage::CaseState;
using storage::StoredEvent;

namespace {

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

std::string actor_label(proto::Actor::Reader a) {
  std::string s = str(a.getName()) + "(" + role_name_zh(a.getRole()) + ")";
  if (a.getOnBehalfOf().size() > 0) s += " 代 " + str(a.getOnBehalfOf());
  return s;
}

const char* material_state_name(proto::MaterialState s) {
  switch (s) {
    case proto::MaterialState::PROVIDED:
      return "provided";
    case proto::MaterialState::MISSING:
      return "missing";
    case proto::MaterialState::LATER:
      return "later";
  }
  return "unknown";
}

}  // namespace

namespace {

// Where one of our own events is stored; empty for others' events.
struct Whereabouts {
  const Refusal* refused = nullptr;  // a level above refused it
  bool own = false;
  bool has_parent = false, at_parent = false;  // township mark (villages only)
  bool has_top = false, at_top = false;        // county mark
};

Whereabouts whereabouts(const StoredEvent& e, const Custody* c, const std::string& node_code) {
  Whereabouts w;
  if (c == nullptr) return w;
  w.refused = c->refusal_of(e.view.id());
  if (e.view.id().origin != node_code) return w;
  w.own = true;
  w.has_parent = !c->parent_code.empty() && c->parent_code.size() > 6;
  w.at_parent = e.lsn <= c->parent;
  w.has_top = !c->is_top;
  w.at_top = e.lsn <= c->top;
  return w;
}

std::string whereabouts_zh(const Whereabouts& w) {
  if (w.refused != nullptr) return "本机已存 · !! " + refusal_text(*w.refused);
  if (!w.own) return "本机已存";
  std::string out = "本机已存";
  if (w.has_parent) out += w.at_parent ? " · 已达乡镇" : " · 未达乡镇";
  if (w.has_top) out += w.at_top ? " · 已达县" : " · 未达县";
  return out;
}

}  // namespace

namespace {

// The application (申请) in force: the case's last submitted event that no
// re-issue replaced, or nullptr.
const StoredEvent* application_of(const CaseState& st, const std::vector<StoredEvent>& events) {
  const StoredEvent* found = nullptr;
  for (const auto& e : events) {
    if (e.view.kind() != EventKind::submitted) continue;
    if (std::binary_search(st.superseded.begin(), st.superseded.end(), e.view.id())) continue;
    found = &e;
  }
  return found;
}

}  // namespace

std::string render_case(const CaseState& st, const std::vector<StoredEvent>& events,
                        const Custody* custody, const std::string& node_code, bool consult,
                        const storage::Divisions* places) {
  std::string out;
  out += "办件编号  " + format_id(st.case_id) + "\n";
  out += "事项      " + terminal_field(st.item_name) + " (" + terminal_field(st.item_code) + ")\n";
  out += "申请人    " + terminal_field(st.applicant_name) + "  身份证号 " +
         terminal_field(st.applicant_id) + "\n";
  if (const StoredEvent* app = application_of(st, events)) {
    auto sub = app->view.event().getBody().getSubmitted();
    const std::string phone = str(sub.getApplicant().getPhone()),
                      address = str(sub.getApplicant().getAddress()),
                      summary = str(sub.getSummary());
    if (!phone.empty()) out += "联系电话  " + terminal_field(phone) + "\n";
    if (!address.empty()) out += "住址      " + terminal_field(address) + "\n";
    if (!summary.empty() || consult)
      out += (consult ? "咨询问题  " : "申请事由  ") + terminal_field(summary) + "\n";
    if (sub.getFields().size() > 0) {
      out += "申请表   ";
      for (auto f : sub.getFields())
        out += " " + terminal_field(str(f.getKey())) + "：" + terminal_field(str(f.getValue()));
      out += "\n";
    }
  }
  out += pad(home_label_zh(st.home), 10) + terminal_field(place_zh(places, st.home)) +
         "   当前办理 " + terminal_field(place_zh(places, st.handler)) + "\n";
  out +=
      "状态      " + status_label_zh(st) +
      (st.supplement_case && st.status != storage::CaseStatus::supplement_requested ? "（补办件）"
                                                                                    : "") +
      "\n";
  if (!st.due_date.empty()) {
    out += "承诺办结日期  " + terminal_field(st.due_date);
    if (!st.due_limit_date.empty() && st.due_limit_date != st.due_date)
      out +=
          "（目录时限 " + terminal_field(st.due_limit_date) +
          (st.due_extend_reason.empty() ? ""
                                        : "，延期理由: " + terminal_field(st.due_extend_reason)) +
          "）";
    out += "\n";
  } else if (st.accepted_hlc != 0) {
    out += "承诺办结日期  未定（事项目录无时限）\n";
  }
  if (!st.departments.empty()) {
    out += "办理部门 ";
    for (const auto& d : st.departments) {
      out += " " + terminal_field(d);
      for (const auto& o : st.opinions) {
        if (o.department == d) out += o.approve ? "(同意)" : "(不同意)";
      }
    }
    out += "\n";
  }
  if (!st.materials.empty()) {
    out += "材料     ";
    for (const auto& m : st.materials)
      out += " " + terminal_field(m.name) + "[" + material_state_zh(m.state) + "]";
    out += "\n";
    // What the case still waits for (storage/intake.h).
    for (const auto& [state, label] : {std::pair{proto::MaterialState::MISSING, "尚缺材料  "},
                                       std::pair{proto::MaterialState::LATER, "容缺待补  "}}) {
      const auto names = storage::materials_in(st, state);
      if (!names.empty()) out += label + terminal_field(storage::join_names(names)) + "\n";
    }
  }
  out += "收费      应收 " + format_yuan(st.fee_due) + " 元，已收 " +
         format_yuan(st.fee_collected) + " 元\n";
  if (st.rating) out += std::string("评价      ") + rating_zh(st.rating) + "\n";
  if (st.complaints) out += "投诉      " + std::to_string(st.complaints) + " 件\n";
  if (custody != nullptr) {
    for (const auto& e : events) {
      const Refusal* r = custody->refusal_of(e.view.id());
      if (r == nullptr) continue;
      const bool redone = std::binary_search(st.superseded.begin(), st.superseded.end(), r->id);
      out += "!! 拒收    " + format_id(r->id) + " " + kind_name_zh(e.view.kind()) + " " +
             refusal_text(*r) +
             (redone ? "，已重新报送\n"
                     : "\n          原因: " + r->reason +
                           "\n          排除原因后请重新报送: liandong case reissue " +
                           format_id(r->id) + " --actor 姓名\n");
    }
  }
  if (st.conflict) {
    out += "冲突      以下事件无法同时成立，请以新的办理动作处理 (--settle):";
    for (const auto& c : st.conflicts)
      out += " " + format_id(c);
    out += "\n";
  }
  out += "办理记录:\n";
  out += "  " + pad("时间", 21) + pad("环节", 10) + pad("经办人", 22) + pad("节点", 14) +
         pad("事件编号", 22) + (custody ? pad("存储位置", 30) : "") + "说明\n";
  for (const auto& e : events) {
    auto ev = e.view.event();
    std::string kind = event_kind_zh(e.view);
    for (const auto& c : st.conflicts) {
      if (c == e.view.id()) kind += "(冲突)";
    }
    if (std::binary_search(st.superseded.begin(), st.superseded.end(), e.view.id()))
      kind += "(已作废)";
    if (storage::superseded_by(e.view)) kind += "(重报)";
    out += "  " + pad(format_time(hlc_ms(e.view.hlc())), 21) + pad(kind, 10) +
           pad(actor_label(ev.getActor()), 22) + pad(place_name(places, e.view.id().origin), 14) +
           pad(format_id(e.view.id()), 22) +
           (custody ? pad(whereabouts_zh(whereabouts(e, custody, node_code)), 30) : "") +
           terminal_field(event_detail(e.view, places)) + "\n";
  }
  return out;
}

std::string render_case_json(const CaseState& st, const std::vector<StoredEvent>& events,
                             const Custody* custody, const std::string& node_code, bool consult) {
  Json j = Json::object();
  state_json(j, st);
  j["consult"] = consult;
  {
    const StoredEvent* app = application_of(st, events);
    std::optional<proto::Submitted::Reader> sub;
    if (app != nullptr) sub = app->view.event().getBody().getSubmitted();
    j["applicant_phone"] = sub ? str(sub->getApplicant().getPhone()) : "";
    j["applicant_address"] = sub ? str(sub->getApplicant().getAddress()) : "";
    j["summary"] = sub ? str(sub->getSummary()) : "";
    j["question"] = consult ? Json(sub ? str(sub->getSummary()) : "") : Json();
    Json fields = Json::array();
    if (sub) {
      for (auto f : sub->getFields())
        fields.push_back(Json{{"key", str(f.getKey())}, {"value", str(f.getValue())}});
    }
    j["fields"] = std::move(fields);
  }
  Json conflicts = Json::array();
  for (const auto& c : st.conflicts)
    conflicts.push_back(format_id(c));
  j["conflicts"] = std::move(conflicts);
  Json departments = Json::array();
  for (const auto& d : st.departments) {
    // The department's first opinion (a second can only come from a
    // conflicting peer, and the case shows the conflict).
    auto o = std::find_if(st.opinions.begin(), st.opinions.end(),
                          [&](const storage::DeptOpinion& x) { return x.department == d; });
    departments.push_back(Json{
        {"department", d},
        {"opinion", o != st.opinions.end() ? Json(o->approve ? "approve" : "reject") : Json()}});
  }
  j["departments"] = std::move(departments);
  Json materials = Json::array();
  for (const auto& m : st.materials)
    materials.push_back(Json{{"name", m.name}, {"state", material_state_name(m.state)}});
  j["materials"] = std::move(materials);
  Json list = Json::array();
  for (const auto& e : events) {
    auto ev = e.view.event();
    Json x = Json::object();
    x["id"] = format_id(e.view.id());
    x["kind"] = kind_name(e.view.kind());
    x["kind_zh"] = event_kind_zh(e.view);
    x["time"] = format_time(hlc_ms(e.view.hlc()));
    x["hlc"] = ev.getHlc();
    x["origin"] = e.view.id().origin;
    x["lsn"] = e.lsn;
    x["actor"] = str(ev.getActor().getName());
    x["role"] = role_name(ev.getActor().getRole());
    x["on_behalf_of"] = str(ev.getActor().getOnBehalfOf());
    x["superseded"] = std::binary_search(st.superseded.begin(), st.superseded.end(), e.view.id());
    const auto sup = storage::superseded_by(e.view);
    x["supersedes"] = sup ? Json(format_id(*sup)) : Json();
    if (custody != nullptr) {
      const auto w = whereabouts(e, custody, node_code);
      Json c = Json::object();
      c["here"] = true;
      // Refused at a level: not there, nor above it.
      const bool refused_at_parent = w.refused && w.refused->by.size() >= 9;
      c["township"] = w.own && w.has_parent ? Json(w.at_parent && !refused_at_parent) : Json();
      c["county"] = w.own && w.has_top ? Json(w.at_top && !w.refused) : Json();
      if (w.refused != nullptr) {
        c["refused"] = Json{{"by", w.refused->by},
                            {"level", level_name(w.refused->by)},
                            {"cause", cause_name(w.refused->cause)},
                            {"reason", w.refused->reason},
                            {"text", refusal_text(*w.refused)},
                            {"at_ms", w.refused->at_ms}};
      }
      x["custody"] = std::move(c);
    }
    x["body"] = capnp_json(capnp::toDynamic(ev.getBody()));
    list.push_back(std::move(x));
  }
  j["events"] = std::move(list);
  return json_text(j) + "\n";
}

}  // namespace liandong::node
