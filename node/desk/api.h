// The desk's JSON API (docs/DESK.md "Routes"): each route parses its
// request, calls the application layer (node/app/) and renders the answer.
// No rule is checked here that the application layer holds; what is here
// is the desk's own: sessions, CSRF tokens, login throttling, the Host and
// Origin of requests.
//
// Thread contract: an Api is shared by the HTTP server's threads; reads go
// to the store directly, writes through LoopJobs to the daemon's loop.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/app/attachments.h"
#include "node/desk/loop_jobs.h"
#include "node/desk/people.h"
#include "node/desk/public_board.h"
#include "node/desk/sessions.h"
#include "node/json_text.h"
#include "storage/store.h"

namespace liandong::desk {

// The largest request body taken (an application with its materials).
constexpr std::size_t kMaxBodyBytes = 1 << 20;

// A bundle the desk wrote to a USB drive (node/bundle.h, 数据包).
struct DeskBundle {
  std::string file;
  uint64_t bytes = 0, events = 0, files = 0;
  bool complete = true;  // false: the drive's room left some out
};
// Writes a bundle for `for_code` (this node's upstream) to `file` within
// `max_bytes`; the daemon gives it (the desk does not hold the node's keys).
using BundleExporter = std::function<Result<DeskBundle>(
    const std::string& for_code, const std::filesystem::path& file, uint64_t max_bytes)>;
// The largest upload (multipart/form-data: an application or an action
// with its files); each file is also held to [attachments] max_file_mib.
constexpr std::size_t kMaxUploadBytes = std::size_t{64} << 20;
// Thumbnails on the case page: this many pixels on the long side.
constexpr uint32_t kThumbSide = 240;

struct ApiOptions {
  std::string code;
  std::filesystem::path data;
  bool tls = false;      // cookies are Secure
  bool loopback = true;  // only Host 127.0.0.1 / localhost is answered
  int port = 0;
  std::function<uint64_t()> now = wall_clock_ms;
  // What uploaded files may be and how photos are reduced.
  config::AttachmentSettings attachments{};
  // 数据包 (data mule): this node's upstreams, in order, and the writer.
  std::vector<std::string> upstreams{};
  BundleExporter export_bundle{};
};

class Api {
 public:
  Api(ApiOptions options, storage::Store& store, LoopJobs& jobs);

  // Before routing: refuses a request for another Host (DNS rebinding) or
  // a write from another Origin. True when it answered.
  bool pre_route(const httplib::Request& req, httplib::Response& res);
  void route(httplib::Server& http);

 private:
  using Req = httplib::Request;
  using Res = httplib::Response;

  // The caller's session, or nullopt after answering 401.
  std::optional<Session> session(const Req& req, Res& res);
  // session() for a write: also checks the CSRF token (403, audited).
  std::optional<Session> writer(const Req& req, Res& res);
  std::string cookie_name() const { return "liandong_" + o_.code; }
  // Answers with the session's JSON and sets its cookie.
  void logged_in(const std::string& name, Res& res, bool first);
  void audit(proto::AuditWhat what, const std::string& who, const std::string& subject,
             const std::string& reason, const Req& req);

  void people(const Req&, Res&);
  void login(const Req&, Res&);
  void set_password(const Req&, Res&);
  void logout(const Req&, Res&);
  void session_info(const Req&, Res&);
  void desk(const Req&, Res&);
  void changes(const Req&, Res&);
  void search(const Req&, Res&);
  void show(const Req&, Res&);
  void submit(const Req&, Res&);
  void act(const Req&, Res&);
  void catalog(const Req&, Res&);
  void files(const Req&, Res&);
  void file(const Req&, Res&);
  // The JSON object of a write: the body (at most kMaxBodyBytes), or the
  // "request" part of a multipart upload whose "attach:MATERIAL" parts
  // are added to `files`; nullopt after answering 400 / 413.
  std::optional<node::Json> request_body(const Req& req, Res& res,
                                         std::vector<app::GivenFile>& files);
  void sync(const Req&, Res&);
  void supervision(const Req&, Res&);
  void qr(const Req&, Res&);
  // 办事结果公开 (node/desk/api_public.cpp): no login, read-only, no
  // personal data.
  void public_results(const Req&, Res&);
  void public_item(const Req&, Res&);
  // 统计报表 (api_report.cpp).
  void report(const Req&, Res&);
  void ledger(const Req&, Res&);
  // 数据包 to a USB drive (api_bundle.cpp).
  void bundle_info(const Req&, Res&);
  void bundle_export(const Req&, Res&);

  // Runs `job` on the loop; false (after answering 503) when it did not run.
  bool on_loop(const LoopJob& job, Res& res);

  ApiOptions o_;
  storage::Store& store_;
  LoopJobs& jobs_;
  People people_;
  Sessions sessions_;
  PublicBoard public_;
};

}  // namespace liandong::desk
