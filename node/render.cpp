#include "node/render.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "node/capnp_json.h"
#include "node/json_text.h"
#include "node/render_parts.h"
#include "node/report_levels.h"
#include "node/text_escape.h"
#include "protocol/hlc.h"
#include "storage/intake.h"
#include "storage/role_names.h"
#include "storage/supervision.h"

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
    case EventKind::rated: {
      auto r = b.getRated();
      std::string s = rating_zh(r.getScore());
      if (r.getReasons().size() > 0) {
        s += " 原因:";
        for (auto t : r.getReasons())
          s += " " + str(t);
      }
      if (r.getComment().size() > 0) s += " " + str(r.getComment());
      if (str(r.getChannel()) == "evaluator") s += "（申请人在评价器上评价）";
      return s;
    }
    case EventKind::supervised: {
      auto o = b.getSupervised();
      return "督办，限 " + str(o.getDueDate()) + " 前办结: " + str(o.getNote());
    }
    case EventKind::answered: {
      auto a = b.getAnswered();
      std::string s = std::string(storage::answer_to_name_zh(a.getTo())) + " " +
                      format_id(Id{str(a.getAbout().getOrigin()), a.getAbout().getSeq()});
      if (a.getTo() == proto::AnswerTo::COMPLAINT) s += a.getUpheld() ? " 成立" : " 不成立";
      if (a.getTo() == proto::AnswerTo::REVISIT)
        s += a.getScore() == 0 ? " 未联系上" : std::string(" ") + rating_zh(a.getScore());
      return s + ": " + str(a.getText());
    }
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
    case EventKind::complaint: {
      auto c = b.getComplaint();
      std::string s = "投诉 " + place_zh(places, str(c.getAgainst()));
      if (c.getDepartment().size() > 0) s += " " + str(c.getDepartment());
      if (c.getPerson().size() > 0) s += " " + str(c.getPerson());
      s += ": " + str(c.getText());
      if (c.getDueDate().size() > 0) s += "（限 " + str(c.getDueDate()) + " 前处理答复）";
      return s;
    }
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

}  // namespace liandong::node
