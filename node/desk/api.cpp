#include "node/desk/api.h"

#include <string>

#include "node/audit_log.h"
#include "node/desk/api_parts.h"

namespace liandong::desk {

using node::Json;
using node::json_text;
using namespace api_parts;

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
  http.Get(R"(/api/cases/([0-9]{1,12}-[0-9]{1,20})/files)", bind(&Api::files));
  http.Get(R"(/api/cases/([0-9]{1,12}-[0-9]{1,20})/files/([0-9a-f]{64}))", bind(&Api::file));
  http.Get("/api/catalog", bind(&Api::catalog));
  http.Get(R"(/api/catalog/([A-Za-z0-9_-]{1,64}))", bind(&Api::catalog));
  http.Get("/api/sync", bind(&Api::sync));
  http.Get("/api/supervision", bind(&Api::supervision));
  http.Get("/api/qr", bind(&Api::qr));
  http.Get("/api/public", bind(&Api::public_results));
  http.Get(R"(/api/public/items/([A-Za-z0-9_-]{1,64}))", bind(&Api::public_item));
  http.Get("/api/report", bind(&Api::report));
  http.Get("/api/report/ledger", bind(&Api::ledger));
  http.Get("/api/bundle", bind(&Api::bundle_info));
  http.Post("/api/bundle/export", bind(&Api::bundle_export));
  // Any other /api/ path: JSON 404, not a page.
  http.Get(R"(/api/.*)", [](const Req&, Res& res) { fail(res, 404, "没有这个接口"); });
  http.Post(R"(/.*)", [](const Req&, Res& res) { fail(res, 404, "没有这个接口"); });
}

}  // namespace liandong::desk
