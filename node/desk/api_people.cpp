// The desk API's people and sessions: who may log in here, login,
// password, logout and the session's own facts.

#include "node/desk/api.h"

#include <optional>
#include <string>
#include <vector>

#include "node/desk/api_parts.h"
#include "node/render.h"
#include "storage/roster.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace api_parts;

namespace {

// The roster's people at `code`, or nullopt when the node holds no roster.
std::optional<std::vector<storage::StaffEntry>> staff_here(const storage::Store& store,
                                                           const std::string& code) {
  auto roster = storage::held_roster(store);
  if (!roster.ok() || !*roster) return std::nullopt;
  std::vector<storage::StaffEntry> out;
  for (const auto& p : (*roster)->staff)
    if (p.node == code) out.push_back(p);
  return out;
}

const storage::StaffEntry* find_staff(const std::vector<storage::StaffEntry>& staff,
                                      const std::string& name) {
  for (const auto& p : staff)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace

void Api::people(const Req&, Res& res) {
  const auto places = node::places_here(store_);
  Json names = Json::array();
  if (auto staff = staff_here(store_, o_.code)) {
    for (const auto& p : *staff)
      names.push_back(p.name);
  }
  reply(res, 200,
        Json{{"node", o_.code},
             {"node_name", node::place_name(places ? &*places : nullptr, o_.code)},
             {"level", level_name(o_.code)},
             {"names", std::move(names)}});
}

void Api::logged_in(const std::string& name, Res& res, bool first) {
  const auto staff = staff_here(store_, o_.code);
  const storage::StaffEntry* p = staff ? find_staff(*staff, name) : nullptr;
  Session s;
  s.name = name;
  s.role = p != nullptr ? p->role : proto::Role::AGENT;
  s.staff_id = p != nullptr ? p->staff_id : "";
  const std::string token = sessions_.open(s, o_.now());
  std::string cookie = cookie_name() + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
  if (o_.tls) cookie += "; Secure";
  res.set_header("Set-Cookie", cookie);
  reply(res, 200, Json{{"ok", true}, {"first", first}});
}

void Api::login(const Req& req, Res& res) {
  auto body = body_object(req, res);
  if (!body) return;
  auto name = text_field(*body, "name", res, 64);
  auto password = text_field(*body, "password", res, 256);
  if (!name || !password) return;
  if (name->empty() || password->empty()) return fail(res, 400, "请填写姓名和密码");
  const auto staff = staff_here(store_, o_.code);
  if (!staff || find_staff(*staff, *name) == nullptr) {
    audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "login", "人员名册未列此人于本机", req);
    return fail(res, 401, "用户名或密码错误");
  }
  auto r = people_.login(*name, *password, o_.now());
  if (!r.ok()) return fail(res, 500, r.status().message());
  switch (r->outcome) {
    case LoginOutcome::ok:
      audit(proto::AuditWhat::DESK_LOGIN, *name, "login", "登录成功", req);
      return logged_in(*name, res, false);
    case LoginOutcome::no_password:
      return fail(res, 401, "尚未设置密码：请用管理员发放的设置码完成首次登录");
    case LoginOutcome::slow_down: {
      const uint64_t s = (r->retry_after_ms + 999) / 1000;
      audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "login", "密码错误次数过多，须等待", req);
      res.set_header("Retry-After", std::to_string(s));
      reply(res, 429,
            Json{{"error", "密码错误次数过多，请 " + std::to_string(s) + " 秒后再试"},
                 {"retry_after", s}});
      return;
    }
    case LoginOutcome::locked: {
      const uint64_t s = (r->retry_after_ms + 999) / 1000;
      audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "login",
            r->just_locked ? "连续输错密码，账号已锁定" : "账号锁定中", req);
      res.set_header("Retry-After", std::to_string(s));
      reply(res, 423,
            Json{{"error", "账号已锁定，请 " + std::to_string((s + 59) / 60) +
                               " 分钟后再试，或请管理员重新发放设置码"},
                 {"retry_after", s}});
      return;
    }
    case LoginOutcome::wrong:
      audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "login",
            "密码错误（连续第 " + std::to_string(r->failures) + " 次）", req);
      return fail(res, 401, "用户名或密码错误");
  }
}

void Api::set_password(const Req& req, Res& res) {
  auto body = body_object(req, res);
  if (!body) return;
  auto name = text_field(*body, "name", res, 64);
  auto code = text_field(*body, "code", res, 64);
  auto password = text_field(*body, "password", res, 256);
  if (!name || !code || !password) return;
  const auto staff = staff_here(store_, o_.code);
  if (!staff || find_staff(*staff, *name) == nullptr) {
    audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "password", "人员名册未列此人于本机", req);
    return fail(res, 401, "姓名或设置码错误");
  }
  auto r = people_.set_password(*name, *code, *password, o_.now());
  if (!r.ok()) {
    if (r.status().code() == Code::invalid) return fail(res, 400, r.status().message(), "password");
    return fail(res, 500, r.status().message());
  }
  if (r->outcome == LoginOutcome::ok) {
    audit(proto::AuditWhat::DESK_LOGIN, *name, "password", "用设置码设置密码并登录", req);
    return logged_in(*name, res, true);
  }
  const uint64_t s = (r->retry_after_ms + 999) / 1000;
  audit(proto::AuditWhat::DESK_LOGIN_REFUSED, *name, "password", "设置码错误或已失效", req);
  if (r->outcome == LoginOutcome::locked)
    return reply(res, 423,
                 Json{{"error", "账号已锁定，请管理员重新发放设置码"}, {"retry_after", s}});
  if (r->outcome == LoginOutcome::slow_down)
    return reply(
        res, 429,
        Json{{"error", "错误次数过多，请 " + std::to_string(s) + " 秒后再试"}, {"retry_after", s}});
  fail(res, 401, "姓名或设置码错误（设置码只能用一次，72 小时内有效）");
}

void Api::logout(const Req& req, Res& res) {
  const std::string token = cookie_value(req, cookie_name());
  if (!token.empty()) sessions_.close(token);
  res.set_header("Set-Cookie", cookie_name() + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  reply(res, 200, Json::object());
}

void Api::session_info(const Req& req, Res& res) {
  auto s = session(req, res);
  if (!s) return;
  const auto places = node::places_here(store_);
  Json colleagues = Json::array();
  if (auto staff = staff_here(store_, o_.code)) {
    for (const auto& p : *staff)
      if (p.name != s->name) colleagues.push_back(p.name);
  }
  reply(res, 200,
        Json{{"node", o_.code},
             {"node_name", node::place_name(places ? &*places : nullptr, o_.code)},
             {"level", level_name(o_.code)},
             {"level_zh", level_name_zh(o_.code)},
             {"person",
              {{"name", s->name},
               {"role", node::role_name(s->role)},
               {"role_zh", node::role_name_zh(s->role)},
               {"staff_id", s->staff_id}}},
             {"csrf", s->csrf},
             {"colleagues", std::move(colleagues)}});
}

}  // namespace liandong::desk
