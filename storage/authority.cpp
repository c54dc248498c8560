#include "storage/authority.h"

#include <algorithm>

#include "protocol/ids.h"

namespace liandong::storage {

namespace {

using K = EventKind;
using R = proto::Role;

// Where an action may be taken, against the case's home H and handler K.
enum class Where {
  home,             // N == H
  handler,          // N == K
  at_or_above,      // N == K or an ancestor of K
  home_or_handler,  // N == H or N == K
  anywhere,         // anywhere in the jurisdiction
};

struct Rule {
  K kind;
  bool agent, clerk, reviewer, officer;  // director: clerk || officer
  Where where;
};

// The table of authority.h, rule 4 and 5 (decide and reply refined by 6, 7).
constexpr Rule kRules[] = {
    {K::submitted, true, true, false, false, Where::anywhere},
    {K::accepted, true, true, false, false, Where::at_or_above},
    {K::supplement_requested, true, true, false, false, Where::at_or_above},
    {K::supplemented, true, true, false, false, Where::home_or_handler},
    {K::escalated, true, true, false, false, Where::at_or_above},
    {K::assigned, false, true, false, false, Where::handler},
    {K::opinion, false, false, true, true, Where::at_or_above},
    {K::decided, true, true, false, true, Where::handler},
    {K::replied, false, true, false, true, Where::handler},
    {K::delivered, true, true, false, false, Where::home},
    {K::rated, true, true, false, false, Where::home},
    {K::fee_collected, true, true, false, false, Where::home},
    {K::closed, true, true, false, false, Where::home},
    {K::withdrawn, true, true, false, false, Where::home_or_handler},
    {K::comment, true, true, true, true, Where::anywhere},
    {K::complaint, true, true, true, true, Where::anywhere},
    {K::not_accepted, true, true, false, false, Where::at_or_above},
    // 督办: the director only (checked in may_act), at or above the holder.
    {K::supervised, false, false, false, false, Where::at_or_above},
    // Which level answers what is node/app/supervise.h's rule.
    {K::answered, true, true, true, true, Where::anywhere},
};

const Rule* rule_for(K k) {
  for (const auto& r : kRules) {
    if (r.kind == k) return &r;
  }
  return nullptr;
}

bool role_in(const Rule& r, R role) {
  switch (role) {
    case R::AGENT:
      return r.agent;
    case R::CLERK:
      return r.clerk;
    case R::REVIEWER:
      return r.reviewer;
    case R::OFFICER:
      return r.officer;
    case R::DIRECTOR:
      return r.clerk || r.officer;
    case R::SYSTEM:
      return false;
  }
  return false;
}

// English verb phrase for a refusal: "a clerk may not <verb>".
const char* verb(K k) {
  switch (k) {
    case K::submitted:
      return "register an application";
    case K::accepted:
      return "accept a case";
    case K::supplement_requested:
      return "request a supplement";
    case K::supplemented:
      return "record a supplement";
    case K::escalated:
      return "escalate a case";
    case K::assigned:
      return "assign departments";
    case K::opinion:
      return "give a department opinion";
    case K::decided:
      return "decide a case";
    case K::replied:
      return "reply to a consultation";
    case K::delivered:
      return "deliver a result";
    case K::rated:
      return "record a rating";
    case K::fee_collected:
      return "collect a fee";
    case K::closed:
      return "close a case";
    case K::withdrawn:
      return "withdraw a case";
    case K::comment:
      return "comment on a case";
    case K::complaint:
      return "file a complaint";
    case K::not_accepted:
      return "refuse an application at intake";
    case K::catalog_published:
    case K::calendar_published:
    case K::roster_published:
    case K::divisions_published:
    case K::audit:
      return "publish a notice";
    case K::key_rotated:
    case K::keys_published:
      return "change keys";
    case K::received:
      return "record a receipt";
    case K::supervised:
      return "issue a supervision order";
    case K::answered:
      return "answer";
  }
  return "act";
}

// Chinese verb phrase: "窗口人员不能<verb>".
const char* verb_zh(K k) {
  switch (k) {
    case K::submitted:
      return "登记申请";
    case K::accepted:
      return "受理";
    case K::supplement_requested:
      return "告知补正";
    case K::supplemented:
      return "登记补正材料";
    case K::escalated:
      return "上报";
    case K::assigned:
      return "分派部门";
    case K::opinion:
      return "出具部门意见";
    case K::decided:
      return "办结";
    case K::replied:
      return "答复咨询";
    case K::delivered:
      return "向申请人送达结果";
    case K::rated:
      return "登记评价";
    case K::fee_collected:
      return "代收费";
    case K::closed:
      return "销号";
    case K::withdrawn:
      return "撤回";
    case K::comment:
      return "备注";
    case K::complaint:
      return "投诉";
    case K::not_accepted:
      return "不予受理";
    case K::catalog_published:
    case K::calendar_published:
    case K::roster_published:
    case K::divisions_published:
    case K::audit:
      return "发布通知";
    case K::key_rotated:
    case K::keys_published:
      return "变更密钥";
    case K::received:
      return "登记接收";
    case K::supervised:
      return "督办";
    case K::answered:
      return "答复";
  }
  return "办理";
}

// "an agent" / "a clerk" / "an officer".
std::string a_role(R r) {
  const std::string name = role_label(r);
  const bool vowel = name[0] == 'a' || name[0] == 'o';
  return (vowel ? "an " : "a ") + name;
}

bool is_village(const std::string& code) {
  return code.size() == 12;
}

// "乡镇 360723101" / "township 360723101".
// "南安镇（360723101）" when the division table names the code, else
// "乡镇 360723101".
std::string place_zh(const std::string& code, const Divisions* places = nullptr) {
  if (places != nullptr && places->name_of(code)) return places->label(code);
  return std::string(::liandong::level_name_zh(code)) + " " + code;
}
std::string place(const std::string& code) {
  return std::string(::liandong::level_name(code)) + " " + code;
}

Status refuse(const std::string& zh, const std::string& en) {
  return Status::invalid(zh + " (" + en + ")");
}

Status check_where(const ActContext& c, Where w, const std::string& home,
                   const std::string& handler) {
  const std::string& n = c.node;
  const std::string zh_kind = verb_zh(c.kind);
  switch (w) {
    case Where::anywhere:
      return Status::ok();
    case Where::home:
      if (n == home) return Status::ok();
      return refuse(zh_kind + "须在办件所属地 " + place_zh(home, c.places) + " 办理，本节点 " + n +
                        " 不能办理",
                    std::string(verb(c.kind)) + " is done where the case was submitted, at " +
                        place(home) + ", not at " + n);
    case Where::home_or_handler:
      if (n == home || n == handler) return Status::ok();
      return refuse(zh_kind + "须在办件所属地 " + place_zh(home, c.places) + " 或现办理地 " +
                        place_zh(handler, c.places) + " 办理",
                    std::string(verb(c.kind)) + " is done at " + place(home) + " or at " +
                        place(handler) + ", not at " + n);
    case Where::handler:
    case Where::at_or_above:
      if (n == handler) return Status::ok();
      if (w == Where::at_or_above && within(handler, n)) return Status::ok();
      if (within(n, handler))
        return refuse(
            "办件已报送上级，现由" + place_zh(handler, c.places) + " 办理，本节点不能" + zh_kind,
            "the case is handled at " + place(handler) + " now; " + n + " may not " + verb(c.kind));
      return refuse("办件现由" + place_zh(handler, c.places) + " 办理，尚未上报至本节点 " + n +
                        "，不能" + zh_kind,
                    "the case is handled at " + place(handler) + " and was not escalated to " + n +
                        "; " + verb(c.kind) + " there");
  }
  return Status::ok();
}

Status check_decide(const ActContext& c) {
  const std::string& n = c.node;
  const std::string who_zh = std::string(::liandong::level_name_zh(n)) + role_label_zh(c.role);
  const std::string who = std::string("a ") + ::liandong::level_name(n) + " " + role_label(c.role);
  if (c.item && c.item->handling == Handling::consult)
    return refuse("咨询事项以答复办结，不能办结审批",
                  "a consultation is answered with reply, not decided");
  if (c.item && n.size() > code_digits(c.item->level)) {
    const std::string lvl_zh = level_name_zh(c.item->level);
    const std::string lvl = level_name(c.item->level);
    return refuse(
        who_zh + "不能办结" + lvl_zh + "级事项" + (is_village(n) ? "" : "，请上报"),
        who + " may not decide a " + lvl + "-level item" + (is_village(n) ? "" : ": escalate it"));
  }
  switch (c.role) {
    case R::OFFICER:
    case R::DIRECTOR:
      return Status::ok();
    case R::CLERK:
      if (n.size() == 9 && c.item && c.item->level == DecidingLevel::township) return Status::ok();
      if (!c.item)
        return refuse("本节点目录中查不到该事项，窗口人员不能办结，请由首席代表或分管领导签批",
                      "the item is not in a catalog held here: a clerk may not decide it; an "
                      "officer or director signs");
      return refuse("窗口人员只能办结本乡镇事项，请由首席代表或分管领导签批",
                    "a clerk decides only a township's own items at the township; an officer or "
                    "director signs");
    case R::AGENT:
      if (c.item && c.item->level == DecidingLevel::village) return Status::ok();
      return refuse("村代理员不能办结" +
                        std::string(c.item ? level_name_zh(c.item->level) : "非村") + "级事项",
                    "a village agent may not decide a " +
                        std::string(c.item ? level_name(c.item->level) : "non-village") +
                        "-level item");
    case R::REVIEWER:
    case R::SYSTEM:
      break;
  }
  return refuse(std::string(role_label_zh(c.role)) + "不能办结",
                a_role(c.role) + " may not decide a case");
}

}  // namespace

Status may_publish(const EventView& ev) {
  const K k = ev.kind();
  if (k != K::catalog_published && k != K::calendar_published && k != K::roster_published &&
      k != K::divisions_published)
    return Status::ok();
  const std::string& origin = ev.id().origin;
  if (origin.size() <= 6) return Status::ok();  // a county, or a city or province above it
  const char* what_zh = k == K::catalog_published    ? "事项目录"
                        : k == K::calendar_published ? "工作日历"
                        : k == K::roster_published   ? "人员名册"
                                                     : "行政区划表";
  const char* what = k == K::catalog_published    ? "service catalog"
                     : k == K::calendar_published ? "working-day calendar"
                     : k == K::roster_published   ? "staff roster"
                                                  : "division table";
  return refuse(std::string("只有县级节点发布") + what_zh + "，" + place_zh(origin) + " 不能发布",
                std::string("only the county publishes the ") + what + "; event " +
                    format_id(ev.id()) + " comes from " + place(origin));
}

std::optional<ItemRules> item_rules(const Catalog& catalog, const std::string& code) {
  const CatalogItem* item = catalog.find(code);
  if (item == nullptr) return std::nullopt;
  return ItemRules{item->level, item->handling, item->fee_fen};
}

Status may_act(const ActContext& c) {
  const std::string& n = c.node;
  const std::string zh_kind = verb_zh(c.kind);
  // 1. The node itself takes no case action.
  if (c.role == R::SYSTEM)
    return refuse("系统身份只发布通知，不能办理办件",
                  "the system role only publishes notices and takes no case action");
  if (is_broadcast(c.kind)) return Status::ok();  // not a case action: not judged here
  // 2. Role and level.
  if (c.role == R::AGENT && !is_village(n))
    return refuse(
        "代理员只在村代理点办事，" + std::string(::liandong::level_name_zh(n)) + "节点 " + n +
            " 请用窗口人员等角色",
        "an agent acts only at a village point; " + n + " is a " + ::liandong::level_name(n));
  if (c.role != R::AGENT && is_village(n))
    return refuse(std::string("村代理点只有代理员，") + role_label_zh(c.role) + "不在村节点办事",
                  std::string("a village point has agents only; ") + a_role(c.role) +
                      " acts at a township or above");
  // 3. Jurisdiction.
  const std::string home = c.state != nullptr ? c.state->home : (c.home.empty() ? n : c.home);
  const std::string handler =
      c.state != nullptr && !c.state->handler.empty() ? c.state->handler : home;
  if (!within(home, n)) {
    const std::string what = c.state != nullptr ? "办件 " + format_id(c.state->case_id) : "办件";
    return refuse(what + " 属 " + home + "，不在本节点 " + n + " 辖区内，不能" + zh_kind,
                  "the case is homed at " + home + ", outside the jurisdiction of " + n);
  }
  // 4. Role and action.
  const Rule* rule = rule_for(c.kind);
  if (rule == nullptr) return refuse("未知操作", "unknown action");
  if (c.kind == K::supervised) {
    if (c.role != R::DIRECTOR)
      return refuse(std::string(role_label_zh(c.role)) + "不能督办，督办由县或乡镇分管领导发出",
                    a_role(c.role) + " may not issue a supervision order; a director does");
  } else if (!role_in(*rule, c.role))
    return refuse(std::string(role_label_zh(c.role)) + "不能" + zh_kind,
                  a_role(c.role) + " may not " + verb(c.kind));
  // 5. Where.
  if (auto s = check_where(c, rule->where, home, handler); !s) return s;
  // Opinions need an assignment held here.
  if (c.kind == K::opinion && (c.state == nullptr || c.state->departments.empty()))
    return refuse("本节点未分派部门，不能出具部门意见",
                  "no department is assigned here; an opinion needs an assignment");
  // 6., 7.
  if (c.kind == K::decided) return check_decide(c);
  if (c.kind == K::replied && c.item && c.item->handling != Handling::consult)
    return refuse(
        std::string("非咨询事项 (") + handling_name_zh(c.item->handling) + ") 须办结，不能答复",
        std::string("only a consultation is replied to; this item is handled as ") +
            handling_name(c.item->handling) + " and is decided");
  return Status::ok();
}

}  // namespace liandong::storage
