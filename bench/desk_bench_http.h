// The desk benchmark's client: one logged-in person's keep-alive HTTP
// connection to a running node's desk on loopback, as a browser holds it.
// It times GET requests one after another (client-observed time: from
// sending the request to the whole answer read, an upper bound on the
// server's time) with the server's CPU time read from /proc around them,
// and weighs pages: the HTML, what it references under /assets/ and the
// JSON its script loads on opening.
//
// Thread contract: one thread per DeskClient.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace liandong::bench {

// How the client asks. `browser`: one keep-alive connection and Chrome's
// Accept-Encoding, as a browser does. `fresh`: a new connection for each
// request, uncompressed — nearest a client gets to the server's own time
// (no compression, and none of the waits a long-lived connection can meet:
// on loopback a connection costs about a tenth of a millisecond).
enum class Mode { browser, fresh };

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
  std::size_t header_bytes = 0;  // status line and headers as received (approximately)
  std::string content_encoding;
};

struct Timing {
  std::string what, request;
  std::size_t runs = 0;
  double p50_ms = 0, p95_ms = 0, max_ms = 0, mean_ms = 0;
  double server_cpu_ms = 0;    // the node's CPU time (all threads) per request, mean, less idle
  std::size_t body_bytes = 0;  // median, as sent (compressed when the encoding says so)
  std::string content_encoding;
};

class DeskClient {
 public:
  DeskClient(const std::string& host, int port, Mode mode);
  ~DeskClient();
  DeskClient(const DeskClient&) = delete;
  DeskClient& operator=(const DeskClient&) = delete;

  // POST /api/password {name, code, password}; keeps the session cookie.
  // Throws when the desk does not answer 200.
  void first_login(const std::string& name, const std::string& code, const std::string& password);
  void use_cookie(const std::string& cookie) { cookie_ = cookie; }
  const std::string& cookie() const { return cookie_; }

  // One GET with the session cookie; `path` already percent-encoded.
  Answer get(const std::string& path);

 private:
  std::unique_ptr<httplib::Client> http_;
  Mode mode_;
  std::string host_, cookie_;
};

// `warmup` requests, then `runs` timed ones, cycling through `paths`, each
// asked of every client in turn; a Timing for each client. `server` is the
// node's pid: its CPU time (/proc/PID/stat) around each timed request, less
// `idle_cpu_ms_per_s` over the time the requests took. Throws on an answer
// other than 200.
std::vector<Timing> time_requests(const std::vector<DeskClient*>& clients, const std::string& what,
                                  const std::string& shown, const std::vector<std::string>& paths,
                                  int warmup, int runs, pid_t server, double idle_cpu_ms_per_s);

struct PageWeight {
  std::string page;
  std::size_t html = 0, assets = 0, json = 0;  // bodies, uncompressed
  std::size_t total = 0;
  std::size_t wire = 0;  // what a browser receives: compressed bodies plus response headers
  std::vector<std::string> loaded;  // the assets and API paths counted
};

// The weight of `page` (e.g. "/case.html?id=...") with the API answers
// `api` that its script loads on opening; `plain` asks without
// compression (Mode::fresh), `browser` as a browser does (both logged in).
PageWeight weigh_page(DeskClient& plain, DeskClient& browser, const std::string& page,
                      const std::vector<std::string>& api);

// Percent-encodes a query value (UTF-8 bytes; unreserved characters kept).
std::string url_encode(const std::string& value);

// CPU time (user + system, all threads) of process `pid` so far, in ms.
double process_cpu_ms(pid_t pid);

}  // namespace liandong::bench
