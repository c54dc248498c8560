#include "node/render.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "node/capnp_json.h"
#include "node/json_text.h"
#include "node/report_levels.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"
#include "storage/intake.h"
#include "storage/role_names.h"

namespace liandong::node {

using storage::CaseState;
using storage::StoredEvent;

std::string format_time(uint64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000) + 8 * 3600;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string format_yuan(int64_t fen) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", fen < 0 ? "-" : "",
                static_cast<long long>((fen < 0 ? -fen : fen) / 100),
                static_cast<long long>((fen < 0 ? -fen : fen) % 100));
  return buf;
}

std::optional<int64_t> parse_yuan(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  int64_t yuan = 0, fen = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] != '.'; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    yuan = yuan * 10 + (text[i] - '0');
  }
  if (i == 0) return std::nullopt;
  if (i < text.size()) {
    const auto frac = text.substr(i + 1);
    if (frac.empty() || frac.size() > 2) return std::nullopt;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    fen = (frac[0] - '0') * 10 + (frac.size() == 2 ? frac[1] - '0' : 0);
  }
  return yuan * 100 + fen;
}

const char* role_name(proto::Role r) {
  return storage::role_label(r);
}

const char* role_name_zh(proto::Role r) {
  return storage::role_label_zh(r);
}

std::optional<proto::Role> role_from_name(std::string_view name) {
  return storage::role_from_label(name, /*accept_zh=*/true);
}

const char* material_state_zh(proto::MaterialState s) {
  switch (s) {
    case proto::MaterialState::PROVIDED:
      return "已提交";
    case proto::MaterialState::MISSING:
      return "缺";
    case proto::MaterialState::LATER:
      return "容缺后补";
  }
  return "?";
}

static const char* material_state_name(proto::MaterialState s) {
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

namespace {
std::string str_of(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}
}  // namespace

std::string status_label_zh(const CaseState& st) {
  if (st.conflict) return "冲突待处理";
  // A 补办件 waiting for its materials (storage/intake.h).
  if (st.supplement_case && st.status == storage::CaseStatus::supplement_requested)
    return "补办件 待补正";
  if (st.status == storage::CaseStatus::escalated)
    return st.handler.size() == 9   ? "待乡镇办理"
           : st.handler.size() == 6 ? "待县办理"
                                    : "待上级办理";
  if (st.status == storage::CaseStatus::decided && st.has_decision && !st.approved)
    return "不予许可";
  return storage::status_name_zh(st.status);
}

std::string event_kind_zh(const EventView& v) {
  if (v.kind() == EventKind::escalated) {
    const std::string to = str_of(v.event().getBody().getEscalated().getTo());
    return to.size() == 9 ? "转报乡镇" : "上报";
  }
  return kind_name_zh(v.kind());
}
std::string status_label(const CaseState& st) {
  return st.conflict ? std::string("conflict") : std::string(storage::status_name(st.status));
}

std::string place_zh(const storage::Divisions* places, const std::string& code) {
  return storage::place_label(places, code);
}
std::string place_name(const storage::Divisions* places, const std::string& code) {
  return storage::place_short_label(places, code);
}
std::optional<storage::Divisions> places_here(const storage::Store& store) {
  auto held = storage::held_divisions(store);
  if (!held.ok() || !*held) return std::nullopt;
  return std::move(**held);
}
std::string error_text_zh(const Status& s) {
  const std::string& m = s.message();
  // A CJK ideograph anywhere (UTF-8 lead byte 0xE4..0xE9): Chinese already.
  for (unsigned char c : m) {
    if (c >= 0xE4 && c <= 0xE9) return m;
  }
  const char* zh = "输入有误";
  switch (s.code()) {
    case Code::ok:
    case Code::invalid:
      break;
    case Code::not_found:
      zh = "未找到";
      break;
    case Code::corruption:
      zh = "本机存储数据有误";
      break;
    case Code::overloaded:
      zh = "系统繁忙，请稍后再试";
      break;
    case Code::disconnected:
      zh = "联网服务无应答";
      break;
    case Code::no_space:
      zh = "存储空间已满";
      break;
    case Code::internal:
      zh = "内部错误";
      break;
  }
  return std::string(zh) + " (" + m + ")";
}

const char* home_label_zh(const std::string& home) {
  return home.size() == 12 ? "所属村" : home.size() == 9 ? "所属乡镇" : "所属县";
}

// Pads `s` to `width` display columns (CJK characters count two).
std::string pad(const std::string& text, int width) {
  const std::string s = terminal_field(text);
  int cols = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    cols += len >= 3 ? 2 : 1;
    i += static_cast<std::size_t>(len);
  }
  return s + std::string(static_cast<std::size_t>(std::max(1, width - cols)), ' ');
}

namespace {

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

std::string actor_label(proto::Actor::Reader a) {
  std::string s = str(a.getName()) + "(" + role_name_zh(a.getRole()) + ")";
  if (a.getOnBehalfOf().size() > 0) s += " 代 " + str(a.getOnBehalfOf());
  return s;
}

// One line of what the event says beyond its kind.
}  // namespace

std::string event_detail(const EventView& v, const storage::Divisions* places) {
  auto b = v.event().getBody();
  switch (v.kind()) {
    case EventKind::submitted: {
      std::string s = str(b.getSubmitted().getItemName());
      if (b.getSubmitted().getSupplementCase()) {
        // 补办件: the whole list told at once (一次性告知).
        s += " 补办件，一次性告知缺:";
        for (auto m : b.getSubmitted().getMaterials()) {
          if (m.getState() == proto::MaterialState::MISSING) s += " " + str(m.getName());
        }
      }
      return s;
    }
    case EventKind::accepted: {
      auto a = b.getAccepted();
      auto d = str(a.getDueDate());
      if (d.empty()) return "未定承诺办结日期";
      std::string s = "承诺办结日期 " + d;
      if (a.getExtendReason().size() > 0)
        s += "（晚于目录时限 " + str(a.getLimitDate()) + "，理由: " + str(a.getExtendReason()) +
             "）";
      return s;
    }
    case EventKind::received:
      return "";
    case EventKind::supplement_requested: {
      std::string s = "缺:";
      for (auto m : b.getSupplementRequested().getMissing())
        s += " " + str(m.getName());
      return s;
    }
    case EventKind::supplemented: {
      std::string s = "补:";
      for (auto m : b.getSupplemented().getProvided())
        s += " " + str(m.getName());
      return s;
    }
    case EventKind::escalated: {
      const std::string to = str(b.getEscalated().getTo());
      return (to.size() == 9 ? "转报 " : "上报 ") + place_zh(places, to);
    }
    case EventKind::assigned: {
      std::string s = "部门:";
      for (auto d : b.getAssigned().getDepartments())
        s += " " + str(d);
      return s;
    }
    case EventKind::opinion:
      return str(b.getOpinion().getDepartment()) +
             (b.getOpinion().getApprove() ? " 同意" : " 不同意");
    case EventKind::decided: {
      auto d = b.getDecided();
      std::string s = d.getApproved() ? "准予许可" : "不予许可";
      if (d.getReason().size() > 0) s += " 理由: " + str(d.getReason());
      if (d.getLegalBasis().size() > 0) s += " 依据: " + str(d.getLegalBasis());
      return s;
    }
    case EventKind::rated:
      return std::string(rating_zh(b.getRated().getScore())) + " " + str(b.getRated().getComment());
    case EventKind::fee_collected: {
      auto f = b.getFeeCollected();
      std::string s = format_yuan(f.getAmount()) + " 元 收据 " + str(f.getReceiptNo());
      if (f.getReason().size() > 0) s += " 差额原因: " + str(f.getReason());
      return s;
    }
    case EventKind::withdrawn:
      return str(b.getWithdrawn().getReason());
    case EventKind::comment:
      return str(b.getComment().getText());
    case EventKind::complaint:
      return str(b.getComplaint().getText());
    case EventKind::replied:
      return str(b.getReplied().getText());
    case EventKind::not_accepted: {
      auto n = b.getNotAccepted();
      std::string s = "理由: " + str(n.getReason());
      if (n.getLegalBasis().size() > 0) s += " 依据: " + str(n.getLegalBasis());
      return s;
    }
    default:
      return "";
  }
}

namespace {

void state_json(Json& j, const CaseState& st) {
  j["case"] = format_id(st.case_id);
  j["status"] = status_label(st);
  j["status_zh"] = status_label_zh(st);
  j["conflict"] = st.conflict;
  j["home"] = st.home;
  j["handler"] = st.handler;
  j["item_code"] = st.item_code;
  j["item_name"] = st.item_name;
  j["applicant_name"] = st.applicant_name;
  j["applicant_id"] = st.applicant_id;
  j["due_date"] = st.due_date;
  j["fee_due_fen"] = st.fee_due;
  j["fee_collected_fen"] = st.fee_collected;
  j["rating"] = static_cast<unsigned>(st.rating);
  j["complaints"] = st.complaints;
  j["supplement_case"] = st.supplement_case;
  j["missing"] = storage::materials_in(st, proto::MaterialState::MISSING);
  j["later"] = storage::materials_in(st, proto::MaterialState::LATER);
  j["event_count"] = st.event_count;
  j["submitted_at"] = st.submitted_hlc ? Json(format_time(hlc_ms(st.submitted_hlc))) : Json();
}

}  // namespace

std::string render_case_list_header() {
  return pad("办件编号", 22) + pad("状态", 12) + pad("事项", 24) + pad("申请人", 10) +
         pad("所属村", 14) + "登记时间\n";
}

std::string render_case_list_row(const CaseState& st, const RefusedCases* refused, bool* flagged,
                                 const storage::Divisions* places) {
  std::string out = pad(format_id(st.case_id), 22) + pad(status_label_zh(st), 12) +
                    pad(st.item_name, 24) + pad(st.applicant_name, 10) +
                    pad(place_name(places, st.home), 14) +
                    (st.submitted_hlc ? format_time(hlc_ms(st.submitted_hlc)) : "-") + "\n";
  if (flagged != nullptr) *flagged = false;
  if (refused != nullptr) {
    if (auto it = refused->find(st.case_id); it != refused->end()) {
      out += "  !! " + it->second + "\n";
      if (flagged != nullptr) *flagged = true;
    }
  }
  return out;
}

std::string render_case_list_total(std::size_t cases, std::size_t flagged) {
  std::string out = "共 " + std::to_string(cases) + " 件";
  if (flagged > 0)
    out +=
        "，其中 " + std::to_string(flagged) + " 件有被拒收事件待重新报送 (liandong case reissue)";
  return out + "\n";
}

std::string render_case_list(const std::vector<CaseState>& cases, const RefusedCases* refused,
                             const storage::Divisions* places) {
  std::string out = render_case_list_header();
  std::size_t flagged = 0;
  for (const auto& st : cases) {
    bool f = false;
    out += render_case_list_row(st, refused, &f, places);
    flagged += f ? 1 : 0;
  }
  return out + render_case_list_total(cases.size(), flagged);
}

namespace {

Json case_list_item(const CaseState& st, const RefusedCases* refused) {
  Json j = Json::object();
  state_json(j, st);
  if (refused != nullptr) {
    auto it = refused->find(st.case_id);
    j["refused"] = it != refused->end() ? Json(it->second) : Json();
  }
  return j;
}

}  // namespace

std::string render_case_list_item_json(const CaseState& st, const RefusedCases* refused) {
  return json_text(case_list_item(st, refused));
}

std::string render_case_page_json(const std::vector<CaseState>& cases, const RefusedCases* refused,
                                  const std::optional<Id>& next) {
  Json list = Json::array();
  for (const auto& st : cases)
    list.push_back(case_list_item(st, refused));
  Json j = Json::object();
  j["cases"] = std::move(list);
  j["next"] = next ? Json(format_id(*next)) : Json();
  return json_text(j) + "\n";
}

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

// ---- status ------------------------------------------------------------------

namespace {

const char* link_state_zh(const std::string& s) {
  if (s == "up") return "已连接";
  if (s == "connecting") return "连接中";
  return "断开";
}

std::string duration_zh(uint64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " 毫秒";
  const uint64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + " 秒";
  if (s < 7200) return std::to_string(s / 60) + " 分钟";
  if (s < 172800) return std::to_string(s / 3600) + " 小时";
  return std::to_string(s / 86400) + " 天";
}

std::string bytes_text(uint64_t b) {
  char buf[32];
  if (b < 1024) return std::to_string(b) + " B";
  if (b < (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1 << 20));
  }
  return buf;
}

}  // namespace

std::string render_status(const StatusReport& r, const storage::Divisions* places) {
  std::string out = "本机 " + place_zh(places, r.code) + " (" + level_name_zh(r.code) + ")  ";
  out += r.running ? "联网服务运行中 (pid " + std::to_string(r.pid) + ")\n" : "联网服务未启动\n";
  out += "本机共 " + std::to_string(r.events) + " 条事件，" + std::to_string(r.cases) +
         " 件办件，日志位置 " + std::to_string(r.last_lsn) + "\n";
  out += "限时办结: 红牌超期 " + std::to_string(r.overdue) + " 件，黄牌预警 " +
         std::to_string(r.warning) + " 件 (一个工作日内到期)\n";
  if (r.quarantined != 0)
    out += "隔离区: " + std::to_string(r.quarantined) +
           " 条事件待审 (签名密钥已吊销或已轮换; liandong quarantine)\n";
  if (r.store_full_since_ms != 0)
    out += "存储空间已满 (自 " + duration_zh(wall_clock_ms() - r.store_full_since_ms) +
           "前): 暂停接收上下级数据，本机登记暂不可用；请清理数据所在磁盘\n";
  std::size_t open_refused = 0;
  for (const auto& x : r.refused)
    open_refused += x.open ? 1 : 0;
  if (open_refused != 0) {
    out += "!! 被拒收: " + std::to_string(open_refused) +
           " 条本机事件被上级拒收，未送达；排除原因后请重新报送 (liandong case reissue 事件编号)\n";
    for (const auto& x : r.refused) {
      if (x.open) out += "  !! " + x.event + "  办件 " + x.case_id + "  " + x.text + "\n";
    }
  }
  if (r.links.empty()) return out;
  out += "链路:\n";
  out += "  " + pad("对端", 16) + pad("方向", 8) + pad("状态", 10) + pad("持续", 12) +
         pad("往返", 10) + pad("发送", 12) + pad("接收", 12) + pad("待上传", 10) +
         pad("最早待上传", 14) + "拒收事件\n";
  for (const auto& l : r.links) {
    std::string state = link_state_zh(l.state);
    if (l.up_link && l.active) state += "*";
    char rtt[32] = "-";
    if (l.rtt_ms >= 0) std::snprintf(rtt, sizeof rtt, "%.1f ms", l.rtt_ms);
    out += "  " + pad(place_name(places, l.peer), 16) + pad(l.up_link ? "上级" : "下级", 8) +
           pad(state, 10) + pad(duration_zh(l.for_ms), 12) + pad(rtt, 10) +
           pad(bytes_text(l.bytes_sent), 12) + pad(bytes_text(l.bytes_received), 12) +
           pad(std::to_string(l.unacked_events), 10) +
           pad(l.oldest_unacked_age_ms >= 0
                   ? duration_zh(static_cast<uint64_t>(l.oldest_unacked_age_ms)) + "前"
                   : "-",
               14) +
           std::to_string(l.events_rejected) + "\n";
  }
  for (const auto& l : r.links) {
    if (l.up_link && l.active) {
      out += "  (* 当前使用的上级)\n";
      break;
    }
  }
  return out;
}

std::string render_status_json(const StatusReport& r) {
  Json j = Json::object();
  j["code"] = r.code;
  j["level"] = level_name(r.code);
  j["running"] = r.running;
  if (r.running) {
    j["pid"] = r.pid;
    j["started_ms"] = r.started_ms;
  }
  // Also without a daemon: the mark is the store's (Store::full_since_ms).
  j["store_full"] = r.store_full_since_ms != 0;
  if (r.store_full_since_ms != 0) j["store_full_since_ms"] = r.store_full_since_ms;
  j["store_id"] = r.store_id;
  Json links = Json::array();
  for (const auto& l : r.links) {
    Json x = Json::object();
    x["peer"] = l.peer;
    x["direction"] = l.up_link ? "up" : "down";
    x["state"] = l.state;
    x["active"] = l.active;
    x["since_ms"] = l.since_ms;
    x["for_ms"] = l.for_ms;
    x["rtt_ms"] = l.rtt_ms >= 0 ? Json(l.rtt_ms) : Json();
    x["bytes_sent"] = l.bytes_sent;
    x["bytes_received"] = l.bytes_received;
    x["batches_sent"] = l.batches_sent;
    x["batches_received"] = l.batches_received;
    x["events_received"] = l.events_received;
    x["events_rejected"] = l.events_rejected;
    x["acked_lsn"] = l.acked_lsn;
    x["sent_lsn"] = l.sent_lsn;
    x["held_lsn"] = l.held_lsn;
    if (l.up_link) x["top_lsn"] = l.top_lsn;
    x["unacked_events"] = l.unacked_events;
    x["oldest_unacked_age_ms"] =
        l.oldest_unacked_age_ms >= 0 ? Json(l.oldest_unacked_age_ms) : Json();
    links.push_back(std::move(x));
  }
  j["links"] = std::move(links);
  std::size_t open_refused = 0;
  for (const auto& x : r.refused)
    open_refused += x.open ? 1 : 0;
  j["totals"] = Json{{"events", r.events},
                     {"cases", r.cases},
                     {"last_lsn", r.last_lsn},
                     {"next_seq", r.next_seq},
                     {"overdue", r.overdue},
                     {"warning", r.warning},
                     {"quarantined", r.quarantined},
                     {"refused", static_cast<uint64_t>(r.refused.size())},
                     {"refused_open", static_cast<uint64_t>(open_refused)}};
  Json refused = Json::array();
  for (const auto& x : r.refused) {
    refused.push_back(Json{{"event", x.event},
                           {"case", x.case_id},
                           {"by", x.by},
                           {"cause", x.cause},
                           {"reason", x.reason},
                           {"text", x.text},
                           {"open", x.open},
                           {"reissued_as", x.reissued_as.empty() ? Json() : Json(x.reissued_as)}});
  }
  j["refused"] = std::move(refused);
  return json_text(j) + "\n";
}

}  // namespace liandong::node
