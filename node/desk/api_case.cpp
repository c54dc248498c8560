// The desk API's single case: its page, a new application, and the
// actions taken on a case.

#include "node/desk/api.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "node/app/act.h"
#include "node/app/actor.h"
#include "node/app/case_files.h"
#include "node/app/cases.h"
#include "node/app/submit.h"
#include "node/desk/api_parts.h"
#include "node/render.h"
#include "protocol/ids.h"
#include "storage/calendar.h"
#include "storage/catalog.h"
#include "storage/deadlines.h"
#include "storage/intake.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace api_parts;

namespace {

// The printouts a case has (docs/DESK.md print.html).
Json prints_of(const storage::CaseState& st) {
  using S = storage::CaseStatus;
  Json p = Json::array();
  p.push_back("receipt");
  if (st.supplement_case || st.status == S::supplement_requested ||
      !storage::materials_in(st, proto::MaterialState::MISSING).empty())
    p.push_back("notice");
  if (st.status == S::not_accepted) p.push_back("refusal");
  if (st.has_decision) p.push_back("result");
  if (st.fee_collected > 0) p.push_back("fee");
  p.push_back("service");
  return p;
}

const char* action_label_zh(const std::string& a) {
  static const std::map<std::string, const char*> kLabels = {
      {"accept", "受理"},
      {"request-supplement", "一次性告知补正"},
      {"supplement", "材料已补齐"},
      {"escalate", "转报 / 上报"},
      {"assign", "分派部门"},
      {"opinion", "部门意见"},
      {"decide", "办结（作出决定）"},
      {"reply", "答复咨询"},
      {"deliver", "送达申请人"},
      {"rate", "登记评价"},
      {"collect-fee", "代收费"},
      {"close", "销号归档"},
      {"withdraw", "申请人撤回"},
      {"not-accept", "不予受理"},
      {"comment", "备注"},
      {"complain", "登记效能投诉"},
      {"supervise", "督办"},
      {"answer", "答复督办 / 投诉处理 / 整改 / 回访"},
  };
  auto it = kLabels.find(a);
  return it == kLabels.end() ? "" : it->second;
}

}  // namespace

void Api::show(const Req& req, Res& res) {
  auto s = session(req, res);
  if (!s) return;
  const std::string id = req.matches[1];
  app::Context ctx{store_, read_key(), o_.now};
  auto v = app::show_case(ctx, id);
  if (!v.ok()) return fail(res, v.error());
  Json j =
      Json::parse(node::render_case_json(v->state, v->events, &v->custody, o_.code, v->consult));
  const auto places = node::places_here(store_);
  // Each event's place by name, as the history shows it.
  if (auto evs = j.find("events"); evs != j.end() && evs->is_array()) {
    for (auto& ev : *evs) {
      if (ev.contains("origin") && ev["origin"].is_string())
        ev["origin_name"] =
            node::place_name(places ? &*places : nullptr, ev["origin"].get<std::string>());
    }
  }
  // Each step: its due day and the level that holds it.
  storage::CatalogCache catalogs(store_);
  auto limits = storage::case_step_limits(catalogs, v->state, v->events);
  auto cal = storage::held_calendar(store_);
  Json steps = Json::array();
  if (limits.ok() && cal.ok()) {
    const auto d = storage::compute_deadlines(v->state, v->events, *limits, *cal, o_.now());
    for (const auto& st : d.steps) {
      steps.push_back(
          Json{{"step", storage::step_name(st.step)},
               {"step_zh", storage::step_name_zh(st.step)},
               {"holder", st.holder},
               {"holder_name", node::place_name(places ? &*places : nullptr, st.holder)},
               {"limit_days", st.limit},
               {"due", st.due ? Json(storage::format_date(*st.due)) : Json()},
               {"done", st.done},
               {"paused", st.paused},
               {"flag", storage::flag_name(st.flag)},
               {"flag_zh", storage::flag_name_zh(st.flag)},
               {"days_left", st.days_left}});
    }
  }
  j["steps"] = std::move(steps);
  Json actions = Json::array();
  app::Actor actor{s->name, "", s->staff_id, req.get_param_value("on_behalf_of")};
  for (const auto& a : app::open_actions(ctx, actor, v->state))
    actions.push_back(Json{{"action", a.name}, {"label_zh", action_label_zh(a.name)}});
  j["actions"] = std::move(actions);
  j["prints"] = prints_of(v->state);
  j["promise"] = Json{{"due_date", v->state.due_date},
                      {"limit_date", v->state.due_limit_date},
                      {"extend_reason", v->state.due_extend_reason}};
  j["applicant_phone"] = v->state.applicant_phone;
  Json files = Json::array();
  if (auto fs = app::case_files(ctx, id); fs.ok()) {
    for (const auto& f : *fs)
      files.push_back(file_json(f));
  }
  j["files"] = std::move(files);
  reply(res, 200, j);
}

void Api::submit(const Req& req, Res& res) {
  auto s = writer(req, res);
  if (!s) return;
  app::SubmitRequest r;
  auto body = request_body(req, res, r.files);
  if (!body) return;
  for (auto [key, out] : {std::pair{"item", &r.item},
                          {"applicant", &r.applicant},
                          {"id_number", &r.id_number},
                          {"phone", &r.phone},
                          {"address", &r.address},
                          {"summary", &r.summary}}) {
    auto v = text_field(*body, key, res);
    if (!v) return;
    *out = *v;
  }
  auto behalf = text_field(*body, "on_behalf_of", res, 64);
  if (!behalf) return;
  if (auto f = body->find("fields"); f != body->end() && f->is_object()) {
    for (const auto& [k, v] : f->items()) {
      if (!v.is_string()) return fail(res, 400, "表单字段 " + k + " 应为文字", "fields");
      r.fields.push_back(k + "=" + v.get<std::string>());
    }
  }
  if (auto m = body->find("materials"); m != body->end()) {
    if (!m->is_array() || m->size() > 100) return fail(res, 400, "材料清单格式不正确", "materials");
    for (const auto& x : *m) {
      if (!x.is_object() || !x.contains("name") || !x["name"].is_string())
        return fail(res, 400, "材料清单格式不正确", "materials");
      const std::string state = x.value("state", "provided");
      const std::string form = x.value("form", "");
      if (state != "provided" && state != "missing" && state != "later")
        return fail(res, 400, "材料状态应为 已收 / 缺 / 容缺后补", "materials");
      if (!form.empty() && form != "original" && form != "copy")
        return fail(res, 400, "材料形式应为 原件 / 复印件", "materials");
      const std::string name = x["name"].get<std::string>();
      if (name.empty() || name.find(':') != std::string::npos)
        return fail(res, 400, "材料名称不正确: " + name, "materials");
      r.materials.push_back(name + ":" + state + (form.empty() ? "" : ":" + form));
    }
  }
  r.actor =
      app::Actor{s->name, *behalf == "" ? node::role_name(s->role) : "", s->staff_id, *behalf};
  std::optional<app::AppResult<app::SubmitResult>> done;
  // TODO(perf): photos are reduced on the loop, inside app::submit; move
  // prepare_file to this thread if uploads stall the sync.
  if (!on_loop(
          [&](LoopServices& l) {
            app::Context ctx = l.app;
            ctx.attachments = o_.attachments;
            done = app::submit(ctx, r);
          },
          res))
    return;
  if (!done) return fail(res, 500, "本机内部错误，请联系信息员");
  if (!done->ok()) {
    if (done->error().role_refusal)
      audit(proto::AuditWhat::DESK_REQUEST_REFUSED, s->name, "submit",
            node::error_text_zh(done->error().status), req);
    return fail(res, done->error());
  }
  Json missing = Json::array();
  for (const auto& m : (*done)->missing)
    missing.push_back(m);
  reply(res, 201,
        Json{{"case", format_id((*done)->case_id)},
             {"missing", std::move(missing)},
             {"supplement_case", (*done)->supplement_case()},
             {"files", (*done)->files}});
}

void Api::act(const Req& req, Res& res) {
  auto s = writer(req, res);
  if (!s) return;
  app::ActRequest a;
  auto body = request_body(req, res, a.files);
  if (!body) return;
  a.case_id = req.matches[1];
  for (auto [key, out] : {std::pair{"action", &a.action},
                          {"due", &a.due},
                          {"extend_reason", &a.extend_reason},
                          {"note", &a.note},
                          {"to", &a.to},
                          {"reason", &a.reason},
                          {"basis", &a.basis},
                          {"certificate", &a.certificate},
                          {"text", &a.text},
                          {"method", &a.method},
                          {"comment", &a.comment},
                          {"amount", &a.amount},
                          {"receipt", &a.receipt},
                          {"against", &a.against},
                          {"department", &a.department},
                          {"about", &a.about},
                          {"answer_to", &a.answer_to},
                          {"channel", &a.channel},
                          {"complainant", &a.complainant},
                          {"phone", &a.phone},
                          {"person", &a.person}}) {
    auto v = text_field(*body, key, res);
    if (!v) return;
    *out = *v;
  }
  for (auto [key, out] : {std::pair{"missing", &a.missing},
                          {"provided", &a.provided},
                          {"departments", &a.departments},
                          {"reasons", &a.reasons}}) {
    auto v = list_field(*body, key, res);
    if (!v) return;
    *out = *v;
  }
  a.approve = body->value("approve", false) == true;
  a.reject = body->value("reject", false) == true;
  a.upheld = body->value("upheld", false) == true;
  if (auto sc = body->find("score"); sc != body->end()) {
    if (!sc->is_number_integer()) return fail(res, 400, "评价分数应为 1 到 5", "score");
    a.score = sc->get<int>();
  }
  auto behalf = text_field(*body, "on_behalf_of", res, 64);
  if (!behalf) return;
  if (!app::action_kind(a.action)) return fail(res, 400, "没有这种操作: " + a.action, "action");
  a.actor =
      app::Actor{s->name, behalf->empty() ? node::role_name(s->role) : "", s->staff_id, *behalf};
  std::optional<app::AppResult<app::ActResult>> done;
  if (!on_loop(
          [&](LoopServices& l) {
            app::Context ctx = l.app;
            ctx.attachments = o_.attachments;
            done = app::act(ctx, a);
          },
          res))
    return;
  if (!done) return fail(res, 500, "本机内部错误，请联系信息员");
  if (!done->ok()) {
    if (done->error().role_refusal)
      audit(proto::AuditWhat::DESK_REQUEST_REFUSED, s->name, a.action + " " + a.case_id,
            node::error_text_zh(done->error().status), req);
    return fail(res, done->error());
  }
  reply(res, 200,
        Json{{"event", format_id((*done)->event)},
             {"status", node::status_label((*done)->after)},
             {"status_zh", node::status_label_zh((*done)->after)}});
}

}  // namespace liandong::desk
