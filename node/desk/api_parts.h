// Pieces shared by the route files of the desk's JSON API (api*.cpp): JSON
// answers and errors, reading request fields, and the rows and sync words
// several routes show. Used only inside node/desk.
//
// Thread contract: plain functions, callable from any of the HTTP server's
// threads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/app/result.h"
#include "node/json_text.h"
#include "node/render.h"
#include "protocol/crypto.h"
#include "storage/case_fold.h"
#include "storage/divisions.h"
#include "storage/store.h"

namespace liandong::desk {

// {"error": zh, "part": part} as JSON text.
std::string api_error_body(const std::string& zh, const std::string& part = {});

}  // namespace liandong::desk

namespace liandong::desk::api_parts {

using node::Json;

// How long a route waits for the daemon's loop to run its job.
constexpr auto kLoopWait = std::chrono::seconds(10);

// A signing key for reads: operations that only read never sign (a probe
// of open_actions is sealed with it and thrown away).
const SigningKey& read_key();

// Answers `j` with `status`, never cached.
void reply(httplib::Response& res, int status, const Json& j);
// Answers {"error": zh, "part": part} with `status`.
void fail(httplib::Response& res, int status, const std::string& zh, const std::string& part = {});
// The HTTP answer to an application error: 400 bad input, 403 a person's
// role or the roster, 404 no such case, 409 the workflow, 507 a full disk.
void fail(httplib::Response& res, const app::AppError& e);

// The request's JSON object, or nullopt after answering 400.
std::optional<Json> body_object(const httplib::Request& req, httplib::Response& res);
// A string field of `j` ("" when absent); a value of another type, or one
// longer than `max` bytes, is bad input (answered 400).
std::optional<std::string> text_field(const Json& j, const char* key, httplib::Response& res,
                                      std::size_t max = 4096);
// A list of strings (at most 200 of at most 1 KiB each); else answered 400.
std::optional<std::vector<std::string>> list_field(const Json& j, const char* key,
                                                   httplib::Response& res);

// "3 分钟前", "2 小时", ...: a span of time as a person says it.
std::string span_zh(uint64_t ms);
// The value of cookie `name` in the request, "" when it has none.
std::string cookie_value(const httplib::Request& req, const std::string& name);
// The Content-Disposition of a file answered: `attachment` (a download)
// or inline, its name as "file.EXT" for old clients and in full as
// filename*=UTF-8''... (RFC 5987, the Chinese name).
std::string content_disposition(bool attachment, const std::string& name);
// Who sent the request, for the audit trail.
std::string client_of(const httplib::Request& req);

// A case row of the lists: the case-list item of `case list --json`.
Json case_row(const storage::CaseState& st);
// The sync state in a person's words (docs/DESK.md SYNC_WORDS).
Json sync_words(const node::StatusReport& r, const storage::Divisions* places, uint64_t now,
                uint64_t pending_up);
// The cases with this node's own events its parent does not hold yet (at
// most 500 events looked at).
uint64_t pending_up(const storage::Store& store, const std::string& code, uint64_t last_lsn);

}  // namespace liandong::desk::api_parts

namespace liandong::app {
struct CaseFile;
}
namespace liandong::desk {
// One attached file as the case page and GET /api/cases/{id}/files show
// it (docs/DESK.md); in node/desk/api_files.cpp.
node::Json file_json(const app::CaseFile& f);
}  // namespace liandong::desk
