#include "node/desk/api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "node/app/act.h"
#include "node/app/actor.h"
#include "node/app/cases.h"
#include "node/app/figures.h"
#include "node/app/submit.h"
#include "node/audit_log.h"
#include "node/desk/parts/pinyin.h"
#include "node/desk/parts/qr_svg.h"
#include "node/render.h"
#include "protocol/ids.h"
#include "storage/calendar.h"
#include "storage/case_index.h"
#include "storage/case_query.h"
#include "storage/catalog.h"
#include "storage/deadlines.h"
#include "storage/intake.h"
#include "storage/roster.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace std::chrono_literals;

namespace {

constexpr auto kJsonType = "application/json; charset=utf-8";
constexpr auto kLoopWait = 10s;

// A signing key for reads: operations that only read never sign (a probe
// of open_actions is sealed with it and thrown away).
const SigningKey& read_key() {
  static const SigningKey key{};
  return key;
}

void reply(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(json_text(j), kJsonType);
}

void fail(httplib::Response& res, int status, const std::string& zh, const std::string& part = {}) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(api_error_body(zh, part), kJsonType);
}

const char* part_name(app::RequestPart p) {
  switch (p) {
    case app::RequestPart::whole:
      return "";
    case app::RequestPart::item:
      return "item";
    case app::RequestPart::id_number:
      return "id_number";
    case app::RequestPart::phone:
      return "phone";
    case app::RequestPart::materials:
      return "materials";
    case app::RequestPart::home:
      return "home";
    case app::RequestPart::role:
      return "role";
  }
  return "";
}

// An error as a person at the desk reads it: Chinese, without the CLI's
// option name in front ("--due: ") or the English gloss at the end.
std::string desk_words(std::string t) {
  const bool chinese = std::any_of(t.begin(), t.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0xE4 && u <= 0xE9;
  });
  if (!chinese) return t;
  if (t.rfind("--", 0) == 0) {
    const auto colon = t.find(": ");
    if (colon != std::string::npos && colon < 32) t = t.substr(colon + 2);
  }
  const auto gloss = t.rfind(" (");
  if (gloss != std::string::npos && !t.empty() && t.back() == ')' &&
      std::all_of(t.begin() + static_cast<std::ptrdiff_t>(gloss), t.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    t.erase(gloss);
  return t;
}

// The HTTP answer to an application error: 400 bad input, 403 a person's
// role or the roster, 404 no such case, 409 the workflow, 507 a full disk.
void fail(httplib::Response& res, const app::AppError& e) {
  int status = 500;
  if (e.role_refusal) {
    status = 403;
  } else if (e.status.code() == Code::not_found) {
    status = 404;
  } else if (e.status.code() == Code::no_space) {
    status = 507;
  } else if (e.refused) {
    status = 409;
  } else if (e.status.code() == Code::invalid) {
    status = 400;
  }
  std::string text = node::error_text_zh(e.status);
  // A workflow refusal the rules word in English only: said plainly first.
  if (status == 409 && text.rfind("输入有误", 0) == 0)
    text = "办件当前状态不允许此操作" + text.substr(std::string("输入有误").size());
  fail(res, status, desk_words(text), part_name(e.part));
}

// The request's JSON object, or nullopt after answering 400.
std::optional<Json> body_object(const httplib::Request& req, httplib::Response& res) {
  Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    fail(res, 400, "请求内容不是 JSON 对象");
    return std::nullopt;
  }
  return j;
}

// A string field of `j` ("" when absent); a value of another type, or one
// longer than `max` bytes, is bad input (answered 400).
std::optional<std::string> text_field(const Json& j, const char* key, httplib::Response& res,
                                      std::size_t max = 4096) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    fail(res, 400, std::string("字段 ") + key + " 应为文字", key);
    return std::nullopt;
  }
  std::string v = it->get<std::string>();
  if (v.size() > max) {
    fail(res, 400, std::string("字段 ") + key + " 过长", key);
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> list_field(const Json& j, const char* key,
                                                   httplib::Response& res) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array() || it->size() > 200) {
    fail(res, 400, std::string("字段 ") + key + " 应为文字列表", key);
    return std::nullopt;
  }
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().size() > 1024) {
      fail(res, 400, std::string("字段 ") + key + " 应为文字列表", key);
      return std::nullopt;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "3 分钟前", "2 小时", ...: a span of time as a person says it.
std::string span_zh(uint64_t ms) {
  const uint64_t min = ms / 60000;
  if (min < 1) return "不到 1 分钟";
  if (min < 60) return std::to_string(min) + " 分钟";
  if (min < 48 * 60) return std::to_string(min / 60) + " 小时";
  return std::to_string(min / (24 * 60)) + " 天";
}

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  const std::string header = req.get_header_value("Cookie");
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(at, end - at);
    const auto b = part.find_first_not_of(' ');
    part = b == std::string::npos ? "" : part.substr(b);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    at = end + 1;
  }
  return {};
}

std::string client_of(const httplib::Request& req) {
  return req.remote_addr;
}

}  // namespace

std::string api_error_body(const std::string& zh, const std::string& part) {
  Json j = Json::object();
  j["error"] = zh;
  if (!part.empty()) j["part"] = part;
  return json_text(j);
}

Api::Api(ApiOptions options, storage::Store& store, LoopJobs& jobs)
    : o_(std::move(options)), store_(store), jobs_(jobs), people_(o_.data / "desk") {}

bool Api::on_loop(const LoopJob& job, httplib::Response& res) {
  if (jobs_.run(job, kLoopWait)) return true;
  fail(res, 503, "本机正忙或正在停止，请稍后再试");
  return false;
}

void Api::audit(proto::AuditWhat what, const std::string& who, const std::string& subject,
                const std::string& reason, const httplib::Request& req) {
  node::AuditNote n;
  n.what = what;
  n.peer_code = o_.code;
  n.who = who.empty() ? client_of(req) : who + " (" + client_of(req) + ")";
  n.actor_name = who;
  n.actor_role = proto::Role::SYSTEM;
  n.subject = subject;
  n.reason = reason;
  jobs_.post([n](LoopServices& s) { node::record_audit(s.app.store, s.app.signer, n); });
}

bool Api::pre_route(const httplib::Request& req, httplib::Response& res) {
  if (o_.loopback) {
    // Only this machine's names: a page of another site that resolves its
    // own name to 127.0.0.1 is not answered (DNS rebinding).
    const std::string host = req.get_header_value("Host");
    const std::string port = ":" + std::to_string(o_.port);
    if (host != "127.0.0.1" + port && host != "localhost" + port && host != "[::1]" + port) {
      fail(res, 421, "请用本机地址访问办事台");
      return true;
    }
  }
  if (req.method == "POST") {
    const std::string origin = req.get_header_value("Origin");
    const std::string want =
        std::string(o_.tls ? "https://" : "http://") + req.get_header_value("Host");
    if (!origin.empty() && origin != want) {
      audit(proto::AuditWhat::DESK_REQUEST_REFUSED, "", req.path, "来自其他网站的请求 " + origin,
            req);
      fail(res, 403, "拒绝来自其他网站的请求");
      return true;
    }
  }
  return false;
}

std::optional<Session> Api::session(const httplib::Request& req, httplib::Response& res) {
  const std::string token = cookie_value(req, cookie_name());
  auto s = token.empty() ? std::nullopt : sessions_.find(token, o_.now());
  if (!s) fail(res, 401, "未登录或登录已过期，请重新登录");
  return s;
}

std::optional<Session> Api::writer(const httplib::Request& req, httplib::Response& res) {
  auto s = session(req, res);
  if (!s) return s;
  if (!same_token(req.get_header_value("X-CSRF-Token"), s->csrf)) {
    audit(proto::AuditWhat::DESK_REQUEST_REFUSED, s->name, req.path, "缺少或错误的 CSRF 令牌", req);
    fail(res, 403, "请求缺少有效的安全令牌，已拒绝并记录（请刷新页面后重试）");
    return std::nullopt;
  }
  return s;
}

void Api::route(httplib::Server& http) {
  auto bind = [this](void (Api::*fn)(const Req&, Res&)) {
    return [this, fn](const Req& req, Res& res) { (this->*fn)(req, res); };
  };
  http.Get("/api/people", bind(&Api::people));
  http.Post("/api/login", bind(&Api::login));
  http.Post("/api/password", bind(&Api::set_password));
  http.Post("/api/logout", bind(&Api::logout));
  http.Get("/api/session", bind(&Api::session_info));
  http.Get("/api/desk", bind(&Api::desk));
  http.Get("/api/changes", bind(&Api::changes));
  http.Get("/api/cases", bind(&Api::search));
  http.Get(R"(/api/cases/([0-9]{1,12}-[0-9]{1,20}))", bind(&Api::show));
  http.Post("/api/cases", bind(&Api::submit));
  http.Post(R"(/api/cases/([0-9]{1,12}-[0-9]{1,20})/act)", bind(&Api::act));
  http.Get("/api/catalog", bind(&Api::catalog));
  http.Get(R"(/api/catalog/([A-Za-z0-9_-]{1,64}))", bind(&Api::catalog));
  http.Get("/api/sync", bind(&Api::sync));
  http.Get("/api/qr", bind(&Api::qr));
  // Any other /api/ path: JSON 404, not a page.
  http.Get(R"(/api/.*)", [](const Req&, Res& res) { fail(res, 404, "没有这个接口"); });
  http.Post(R"(/.*)", [](const Req&, Res& res) { fail(res, 404, "没有这个接口"); });
}

// ---- people and sessions ----

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

// ---- work ----

namespace {

// A case row of the lists: the case-list item of `case list --json`.
Json case_row(const storage::CaseState& st) {
  return Json::parse(node::render_case_list_item_json(st, nullptr));
}

// The sync state in a person's words (docs/DESK.md SYNC_WORDS): each
// upward link (a standby one only while no other is up), and the links of
// the children counted, not listed (a county has hundreds).
Json sync_words(const node::StatusReport& r, const storage::Divisions* places, uint64_t now,
                uint64_t pending_up) {
  Json links = Json::array();
  uint64_t last_sync = 0;
  bool up_connected = false, any_up = false;
  std::size_t children = 0, children_up = 0;
  for (const auto& l : r.links) {
    if (l.up_link && l.state == "up") up_connected = true;
  }
  Json words = Json::array();
  for (const auto& l : r.links) {
    const bool up = l.state == "up";
    const std::string name = node::place_name(places, l.peer);
    std::string text;
    if (up) {
      text = "与" + name + "已连接";
      last_sync = now;
      any_up = true;
    } else {
      text = "与" + name + "断开 " + span_zh(l.for_ms);
      if (l.since_ms > last_sync) last_sync = l.since_ms;
    }
    // A standby upward link that is down while another is up is no outage.
    const bool standby = l.up_link && !up && up_connected;
    if (!l.up_link) {
      ++children;
      children_up += up ? 1 : 0;
    } else if (!standby) {
      words.push_back(text);
    }
    links.push_back(Json{{"peer", l.peer},
                         {"peer_name", name},
                         {"upstream", l.up_link},
                         {"state", l.state},
                         {"standby", standby},
                         {"words_zh", text}});
  }
  if (children > 0)
    words.push_back("下级节点 " + std::to_string(children_up) + " 个在线，" +
                    std::to_string(children - children_up) + " 个未连接");
  std::string last = r.links.empty()  ? "本机未连接其他节点"
                     : any_up         ? "最近同步 刚刚"
                     : last_sync == 0 ? "尚未同步"
                                      : "最近同步 " + span_zh(now - last_sync) + "前";
  return Json{
      {"last_sync_zh", last},
      {"pending_up", pending_up},
      // The county uploads to nobody: nothing to say.
      {"pending_up_zh", r.code.size() <= 6 ? "" : "待上传 " + std::to_string(pending_up) + " 件"},
      {"words_zh", std::move(words)},
      {"links", std::move(links)}};
}

// The cases with this node's own events its parent does not hold yet (at
// most 500 events looked at).
uint64_t pending_up(const storage::Store& store, const std::string& code, uint64_t last_lsn) {
  if (code.size() <= 6) return 0;
  auto custody = node::read_custody(store);
  if (!custody.ok()) return 0;
  std::set<std::string> cases;
  const uint64_t from = custody->parent + 1;
  for (uint64_t lsn = last_lsn; lsn >= from && lsn + 500 > last_lsn && lsn > 0; --lsn) {
    auto bytes = store.read_log(lsn);
    if (!bytes.ok() || !*bytes) continue;
    auto v = EventView::parse(**bytes);
    if (!v.ok() || v->id().origin != code || v->case_id().empty()) continue;
    cases.insert(format_id(v->case_id()));
  }
  return cases.size();
}

// Today's counts of this node's own actions, from the newest events (at
// most 5,000 looked at).
Json today_counts(const storage::Store& store, const std::string& code, uint64_t last_lsn,
                  uint64_t now) {
  const storage::Date today = storage::china_date(now);
  uint64_t submitted = 0, accepted = 0, decided = 0, delivered = 0;
  for (uint64_t lsn = last_lsn, seen = 0; lsn > 0 && seen < 5000; --lsn, ++seen) {
    auto bytes = store.read_log(lsn);
    if (!bytes.ok() || !*bytes) continue;
    auto v = EventView::parse(**bytes);
    if (!v.ok()) continue;
    if (storage::china_date(hlc_ms(v->hlc())) < today) {
      // Events arrive roughly in time order: a run of older ones ends it.
      if (seen > 200) break;
      continue;
    }
    if (v->id().origin != code) continue;
    switch (v->kind()) {
      case EventKind::submitted:
        ++submitted;
        break;
      case EventKind::accepted:
        ++accepted;
        break;
      case EventKind::decided:
      case EventKind::replied:
        ++decided;
        break;
      case EventKind::delivered:
        ++delivered;
        break;
      default:
        break;
    }
  }
  return Json{{"submitted", submitted},
              {"accepted", accepted},
              {"decided", decided},
              {"delivered", delivered}};
}

}  // namespace

void Api::desk(const Req& req, Res& res) {
  if (!session(req, res)) return;
  const uint64_t now = o_.now();
  auto stats = store_.stats();
  if (!stats.ok()) return fail(res, 500, node::error_text_zh(stats.status()));
  auto cal = storage::held_calendar(store_);
  const storage::Calendar calendar = cal.ok() ? *cal : storage::Calendar();
  const storage::Date today = storage::china_date(now);
  struct Row {
    storage::CaseState st;
    const char* waiting;
  };
  std::vector<Row> rows;
  for (auto status : app::waiting_statuses()) {
    storage::CaseFilter f;
    f.status = status;
    // The result waits at the case's home: only cases homed under here.
    if (status == storage::CaseStatus::decided || status == storage::CaseStatus::delivered)
      f.home_prefix = o_.code;
    auto cases = store_.list_cases(f);
    if (!cases.ok()) return fail(res, 500, node::error_text_zh(cases.status()));
    for (auto& st : *cases) {
      if (const char* w = app::waiting_here(st, o_.code)) rows.push_back(Row{std::move(st), w});
    }
  }
  // Flag and order the states first; JSON only for the rows shown.
  struct Ranked {
    int rank;  // 0 overdue, 1 warning, 2 ok
    std::string due;
    uint64_t submitted;
    std::optional<int64_t> days_left;
    const Row* row;
  };
  uint64_t warning = 0, overdue = 0;
  std::vector<Ranked> ranked;
  ranked.reserve(rows.size());
  for (const auto& r : rows) {
    Ranked k{2, r.st.due_date.empty() ? "9999-99-99" : r.st.due_date, r.st.submitted_hlc,
             std::nullopt, &r};
    if (const auto d = storage::parse_date(r.st.due_date)) {
      k.days_left = calendar.working_days_between(today, *d);
      k.rank = *k.days_left < 0 ? 0 : *k.days_left <= 1 ? 1 : 2;
    }
    overdue += k.rank == 0 ? 1 : 0;
    warning += k.rank == 1 ? 1 : 0;
    ranked.push_back(std::move(k));
  }
  const std::size_t shown = std::min<std::size_t>(ranked.size(), 200);
  auto order = [](const Ranked& a, const Ranked& b) {
    return std::tie(a.rank, a.due, a.submitted) < std::tie(b.rank, b.due, b.submitted);
  };
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(shown),
                    ranked.end(), order);
  Json work = Json::array();
  for (std::size_t i = 0; i < shown; ++i) {
    const Ranked& k = ranked[i];
    Json row = case_row(k.row->st);
    row["waiting_for"] = k.row->waiting;
    static const char* const kFlag[] = {"overdue", "warning", "ok"};
    static const char* const kFlagZh[] = {"红牌超期", "黄牌预警", "正常"};
    row["flag"] = kFlag[k.rank];
    row["flag_zh"] = kFlagZh[k.rank];
    row["days_left"] = k.days_left ? Json(*k.days_left) : Json();
    work.push_back(std::move(row));
  }

  node::StatusReport live;
  if (!on_loop([&](LoopServices& s) { live = s.status(); }, res)) return;
  const auto places = node::places_here(store_);
  reply(res, 200,
        Json{{"today", today_counts(store_, o_.code, stats->last_lsn, now)},
             {"counts", {{"waiting", rows.size()}, {"warning", warning}, {"overdue", overdue}}},
             {"work", std::move(work)},
             {"sync", sync_words(live, places ? &*places : nullptr, now,
                                 pending_up(store_, o_.code, stats->last_lsn))},
             {"lsn", stats->last_lsn}});
}

void Api::changes(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto stats = store_.stats();
  if (!stats.ok()) return fail(res, 500, node::error_text_zh(stats.status()));
  uint64_t since = 0;
  const std::string s = req.get_param_value("since");
  if (!s.empty() && s.size() < 20 && s.find_first_not_of("0123456789") == std::string::npos)
    since = std::stoull(s);
  reply(res, 200, Json{{"lsn", stats->last_lsn}, {"changed", stats->last_lsn != since}});
}

void Api::search(const Req& req, Res& res) {
  if (!session(req, res)) return;
  storage::CaseQuery q;
  q.name = req.get_param_value("name");
  q.id_number = storage::normalize_id_number(req.get_param_value("id_number"));
  q.phone = storage::normalize_phone(req.get_param_value("phone"));
  q.case_number = req.get_param_value("case_number");
  q.item_code = req.get_param_value("item");
  q.limit = 20;
  const std::string status = req.get_param_value("status");
  if (!status.empty()) {
    auto f = app::case_filter(app::ListRequest{status, false});
    if (!f.ok()) return fail(res, 400, "没有这个办件状态: " + status, "status");
    q.status = f->status;
    q.conflict_only = f->conflict_only;
  }
  const std::string limit = req.get_param_value("limit");
  if (!limit.empty()) {
    if (limit.size() > 3 || limit.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(limit) < 1 || std::stoul(limit) > 200)
      return fail(res, 400, "每页件数应为 1 到 200", "limit");
    q.limit = std::stoul(limit);
  }
  const std::string after = req.get_param_value("after");
  if (!after.empty()) {
    auto id = parse_id(after);
    if (!id) return fail(res, 400, "翻页位置不正确", "after");
    q.after = *id;
  }
  // Registered between two days (inclusive), China time.
  const std::string from = req.get_param_value("from"), to = req.get_param_value("to");
  std::optional<storage::Date> from_d, to_d;
  if (!from.empty() && !(from_d = storage::parse_date(from)))
    return fail(res, 400, "起始日期应为 YYYY-MM-DD", "from");
  if (!to.empty() && !(to_d = storage::parse_date(to)))
    return fail(res, 400, "截止日期应为 YYYY-MM-DD", "to");
  Json cases = Json::array();
  std::optional<Id> next;
  // With a date range a page is filled from at most 20 pages of the index.
  for (int round = 0; round < 20; ++round) {
    auto page = storage::find_cases(store_, q);
    if (!page.ok()) return fail(res, 400, node::error_text_zh(page.status()));
    for (const auto& st : page->cases) {
      const auto day = storage::china_date(hlc_ms(st.submitted_hlc));
      if ((from_d && day < *from_d) || (to_d && day > *to_d)) continue;
      cases.push_back(case_row(st));
    }
    next = page->next;
    if (!next || (!from_d && !to_d) || cases.size() >= q.limit) break;
    q.after = next;
  }
  reply(res, 200,
        Json{{"cases", std::move(cases)}, {"next", next ? Json(format_id(*next)) : Json()}});
}

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
      {"complain", "登记投诉"},
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
  reply(res, 200, j);
}

void Api::submit(const Req& req, Res& res) {
  auto s = writer(req, res);
  if (!s) return;
  auto body = body_object(req, res);
  if (!body) return;
  app::SubmitRequest r;
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
  if (!on_loop([&](LoopServices& l) { done = app::submit(l.app, r); }, res)) return;
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
             {"supplement_case", (*done)->supplement_case()}});
}

void Api::act(const Req& req, Res& res) {
  auto s = writer(req, res);
  if (!s) return;
  auto body = body_object(req, res);
  if (!body) return;
  app::ActRequest a;
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
                          {"department", &a.department}}) {
    auto v = text_field(*body, key, res);
    if (!v) return;
    *out = *v;
  }
  for (auto [key, out] : {std::pair{"missing", &a.missing},
                          {"provided", &a.provided},
                          {"departments", &a.departments}}) {
    auto v = list_field(*body, key, res);
    if (!v) return;
    *out = *v;
  }
  a.approve = body->value("approve", false) == true;
  a.reject = body->value("reject", false) == true;
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
  if (!on_loop([&](LoopServices& l) { done = app::act(l.app, a); }, res)) return;
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

// ---- reference ----

namespace {

Json item_json(const storage::CatalogItem& it) {
  Json materials = Json::array();
  for (const auto& m : it.materials)
    materials.push_back(Json{{"name", m.name},
                             {"form", m.original ? "original" : "copy"},
                             {"form_zh", m.original ? "原件" : "复印件"},
                             {"copies", m.count},
                             {"later_ok", m.later_ok},
                             {"note", m.note}});
  Json procedure = Json::array();
  for (const auto& p : it.procedure)
    procedure.push_back(p);
  Json departments = Json::array();
  for (const auto& d : it.departments)
    departments.push_back(d);
  return Json{{"code", it.code},
              {"name", it.name},
              {"initials", pinyin_initials(it.name)},
              {"category", it.category},
              {"level", storage::level_name(it.level)},
              {"level_zh", storage::level_name_zh(it.level)},
              {"handling", storage::handling_name(it.handling)},
              {"handling_zh", storage::handling_name_zh(it.handling)},
              {"departments", std::move(departments)},
              {"limit_days", it.total_days()},
              {"limits",
               {{"village_forward", it.limits.village_forward},
                {"township_handle", it.limits.township_handle},
                {"county_decide", it.limits.county_decide},
                {"township_reply", it.limits.township_reply},
                {"village_notify", it.limits.village_notify}}},
              {"fee_fen", it.fee_fen},
              {"fee_yuan", node::format_yuan(it.fee_fen)},
              {"fee_note", it.fee_note},
              {"legal_basis", it.legal_basis},
              {"conditions", it.conditions},
              {"procedure", std::move(procedure)},
              {"staff", it.staff},
              {"complaint_phone", it.complaint_phone},
              {"note", it.note},
              {"materials", std::move(materials)}};
}

}  // namespace

void Api::catalog(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto held = storage::held_catalog(store_);
  if (!held.ok()) return fail(res, 500, node::error_text_zh(held.status()));
  if (!*held) return fail(res, 404, "本机尚未收到事项目录");
  if (req.matches.size() > 1) {
    const storage::CatalogItem* it = (*held)->find(std::string(req.matches[1]));
    if (it == nullptr) return fail(res, 404, "事项目录中没有这个事项", "item");
    return reply(res, 200, item_json(*it));
  }
  Json items = Json::array();
  for (const auto& it : (*held)->items)
    items.push_back(item_json(it));
  reply(
      res, 200,
      Json{{"version", (*held)->version}, {"title", (*held)->title}, {"items", std::move(items)}});
}

void Api::sync(const Req& req, Res& res) {
  if (!session(req, res)) return;
  // The links from the loop; the store's figures read here, off the loop.
  node::StatusReport live;
  if (!on_loop([&](LoopServices& l) { live = l.status(); }, res)) return;
  app::Context ctx{store_, read_key(), o_.now};
  std::optional<app::AppResult<node::StatusReport>> report = app::status(ctx, {}, &live);
  if (!report || !report->ok()) return fail(res, 500, "无法读取同步状态");
  Json j = Json::parse(node::render_status_json(**report));
  const auto places = node::places_here(store_);
  j["sync"] = sync_words(**report, places ? &*places : nullptr, o_.now(),
                         pending_up(store_, o_.code, (*report)->last_lsn));
  reply(res, 200, j);
}

void Api::qr(const Req& req, Res& res) {
  if (!session(req, res)) return;
  auto svg = qr_svg(req.get_param_value("text"));
  if (!svg.ok()) return fail(res, 400, "二维码内容不正确（1 到 200 个字节）", "text");
  res.set_header("Cache-Control", "no-store");
  res.set_content(*svg, "image/svg+xml");
}

}  // namespace liandong::desk
