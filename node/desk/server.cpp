#include "node/desk/server.h"

#include <httplib.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "node/desk/api.h"
#include "node/desk/api_parts.h"
#include "node/desk/assets.h"
#include "node/desk/parts/tls_cert.h"
#include "protocol/crypto.h"

namespace liandong::desk {

namespace fs = std::filesystem;

fs::path default_cert(const fs::path& data) {
  return data / "desk" / "cert.pem";
}
fs::path default_key(const fs::path& data) {
  return data / "desk" / "key.pem";
}

struct DeskServer::Impl {
  DeskOptions options;
  std::unique_ptr<httplib::Server> http;
  std::unique_ptr<Api> api;
  std::thread thread;
  std::string url;
  std::atomic<bool> stopped{false};
  RequestStats requests;
};

DeskServer::DeskServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DeskServer::~DeskServer() {
  stop();
}

const std::string& DeskServer::url() const {
  return impl_->url;
}

const RequestStats& DeskServer::requests() const {
  return impl_->requests;
}

void DeskServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

namespace {

// Headers every answer carries: nothing from elsewhere, no framing, no
// sniffing, no referrer leaving the desk.
void harden(httplib::Response& res) {
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
}

// When the request this thread serves was routed (each request is served
// by one thread of the pool from routing to its log line); zero when none
// is in hand.
thread_local std::chrono::steady_clock::time_point request_started{};

// A strong validator of an asset: a hash of its bytes, made once.
std::string asset_etag(const Asset& a) {
  static std::mutex mu;
  static std::map<const Asset*, std::string> tags;
  std::lock_guard lock(mu);
  auto& tag = tags[&a];
  if (tag.empty()) {
    unsigned char h[16];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(a.data), a.size, nullptr,
                       0);
    tag = "\"" + to_hex(std::string_view(reinterpret_cast<const char*>(h), sizeof h)) + "\"";
  }
  return tag;
}

Status write_address(const fs::path& data, const std::string& url) {
  std::error_code ec;
  fs::create_directories(data / "desk", ec);
  const fs::path tmp = data / "desk" / "address.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << url << "\n";
    if (!out) return Status::internal("cannot write " + tmp.string());
  }
  fs::rename(tmp, data / "desk" / "address", ec);
  if (ec) return Status::internal("cannot write " + (data / "desk" / "address").string());
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<DeskServer>> DeskServer::start(const DeskOptions& options,
                                                      storage::Store& store, LoopJobs& jobs) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const config::DeskSettings& s = options.settings;
  if (s.tls()) {
    const fs::path cert = s.tls_cert.empty() ? default_cert(options.data) : s.tls_cert;
    const fs::path key = s.tls_key.empty() ? default_key(options.data) : s.tls_key;
    // Missing, unreadable, mismatched or expired: said before anything binds.
    if (!fs::exists(cert) || !fs::exists(key))
      return Status::invalid(
          "办事台对局域网开放须使用 HTTPS，但证书或私钥不存在: " + cert.string() + ", " +
          key.string() + " (desk: no certificate; run `liandong desk cert`)");
    if (auto st = check_cert_pair(cert, key, wall_clock_ms()); !st)
      return Status::invalid("办事台证书不能使用: " + st.message());
    auto tls = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
    if (!tls->is_valid())
      return Status::invalid("办事台证书或私钥无法使用: " + cert.string() + ", " + key.string());
    impl->http = std::move(tls);
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *impl->http;
  // A few threads for a node's staff; idle keep-alive connections give
  // their thread back soon.
  http.new_task_queue = [] { return new httplib::ThreadPool(12); };
  http.set_keep_alive_max_count(100);
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  // Uploads with files are the largest; a JSON body is held to
  // kMaxBodyBytes by the API (Api::request_body).
  http.set_payload_max_length(kMaxUploadBytes);
  // Small answers go out at once, not after the client's delayed ACK.
  http.set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second node binds a desk port already in use without an error and the
  // two share its connections.
  http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  int port = s.port;
  if (port == 0) {
    port = http.bind_to_any_port(s.host);
    if (port <= 0) return Status::invalid("办事台无法监听 " + s.host + " (desk: cannot bind)");
  } else if (!http.bind_to_port(s.host, port)) {
    return Status::invalid("办事台无法监听 " + s.host + ":" + std::to_string(port) +
                           "（端口已被占用？）(desk: cannot bind " + s.host + ":" +
                           std::to_string(port) + ")");
  }
  const std::string host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
  impl->url =
      std::string(s.tls() ? "https://" : "http://") + host + ":" + std::to_string(port) + "/";

  ApiOptions api_options;
  api_options.code = options.code;
  api_options.data = options.data;
  api_options.tls = s.tls();
  api_options.loopback = !s.tls();
  api_options.port = port;
  api_options.attachments = options.attachments;
  api_options.upstreams = options.upstreams;
  api_options.export_bundle = options.export_bundle;
  impl->api = std::make_unique<Api>(api_options, store, jobs);
  Api* api = impl->api.get();

  http.set_pre_routing_handler([api](const httplib::Request& req, httplib::Response& res) {
    request_started = std::chrono::steady_clock::now();
    harden(res);
    return api->pre_route(req, res) ? httplib::Server::HandlerResponse::Handled
                                    : httplib::Server::HandlerResponse::Unhandled;
  });
  api->route(http);
  // Pages and assets: GET only, from the binary.
  http.Get(R"(/([A-Za-z0-9_./-]*))", [](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.matches[1];
    if (path.empty()) path = "index.html";
    const Asset* a = find_asset(path);
    if (a == nullptr) {
      res.status = 404;
      res.set_content(api_error_body("没有这个页面: /" + path), "application/json; charset=utf-8");
      return;
    }
    // Revalidated on every open, answered 304 while unchanged: a page is
    // not sent (nor compressed) again.
    const std::string etag = asset_etag(*a);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      res.status = 304;
      return;
    }
    res.set_content(std::string(a->data, a->size), a->content_type);
  });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 413   ? "上传内容过大（超过 64 MB）"
                       : res.status == 404 ? "没有这个地址"
                       : res.status == 400 ? "请求格式不正确"
                       : res.status == 405 ? "不支持这种请求方式"
                                           : "请求无法处理";
    harden(res);
    res.set_content(api_error_body(what), "application/json; charset=utf-8");
  });
  http.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("desk: {} {} failed: {}", req.method, req.path, what);
        res.status = 500;
        res.set_content(api_error_body("本机内部错误，请联系信息员"),
                        "application/json; charset=utf-8");
      });

  // After each answer is written: counted by route class and status, timed
  // from routing (body read, handler, answer written) when it was routed.
  RequestStats* requests = &impl->requests;
  http.set_logger([requests](const httplib::Request& req, const httplib::Response& res) {
    double seconds = -1;
    if (request_started != std::chrono::steady_clock::time_point{}) {
      seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started).count();
      request_started = {};
    }
    requests->add(route_class(req.method, req.path), res.status, seconds);
  });

  if (auto st = write_address(options.data, impl->url); !st) spdlog::warn("desk: {}", st.message());
  httplib::Server* raw = impl->http.get();
  impl->thread = std::thread([raw] { raw->listen_after_bind(); });
  spdlog::info("desk serving at {}", impl->url);
  return std::unique_ptr<DeskServer>(new DeskServer(std::move(impl)));
}

}  // namespace liandong::desk
