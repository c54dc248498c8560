#include "bench/desk_bench_http.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace liandong::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Chrome's Accept-Encoding (less zstd, which the desk's library lacks).
constexpr const char* kBrowserEncoding = "gzip, deflate, br";

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

std::string url_encode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

double process_cpu_ms(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  // Fields after the command name (which may hold spaces) in parentheses.
  const auto close = line.rfind(')');
  if (close == std::string::npos) throw std::runtime_error("cannot read /proc/PID/stat");
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int k = 3; k <= 15 && rest >> field; ++k) {
    if (k == 14) utime = std::stoul(field);
    if (k == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

DeskClient::DeskClient(const std::string& host, int port, Mode mode)
    : http_(std::make_unique<httplib::Client>(host, port)), mode_(mode), host_(host) {
  http_->set_keep_alive(mode == Mode::browser);
  http_->set_tcp_nodelay(true);  // as browsers do
  http_->set_url_encode(false);
  http_->set_decompress(false);  // bodies as sent: the bytes on the wire
  http_->set_connection_timeout(5);
  http_->set_read_timeout(120);
}

DeskClient::~DeskClient() = default;

Answer DeskClient::get(const std::string& path) {
  httplib::Headers headers = {
      {"Accept-Encoding", mode_ == Mode::browser ? kBrowserEncoding : "identity"}};
  if (!cookie_.empty()) headers.emplace("Cookie", cookie_);
  auto r = http_->Get(path, headers);
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.body = std::move(r->body);
  a.header_bytes = 17;  // "HTTP/1.1 200 OK\r\n"
  for (const auto& [k, v] : r->headers)
    a.header_bytes += k.size() + 2 + v.size() + 2;
  a.header_bytes += 2;
  a.content_encoding = r->get_header_value("Content-Encoding");
  return a;
}

void DeskClient::first_login(const std::string& name, const std::string& code,
                             const std::string& password) {
  const std::string body =
      nlohmann::json{{"name", name}, {"code", code}, {"password", password}}.dump();
  auto r = http_->Post("/api/password", body, "application/json");
  if (!r || r->status != 200)
    throw std::runtime_error("POST /api/password: " +
                             (r ? std::to_string(r->status) + " " + r->body : "no answer"));
  const std::string set = r->get_header_value("Set-Cookie");
  cookie_ = set.substr(0, set.find(';'));
}

std::vector<Timing> time_requests(const std::vector<DeskClient*>& clients, const std::string& what,
                                  const std::string& shown, const std::vector<std::string>& paths,
                                  int warmup, int runs, pid_t server, double idle_cpu_ms_per_s) {
  if (paths.empty()) throw std::runtime_error(what + ": nothing to ask");
  struct Samples {
    std::vector<double> ms, bytes;
    double cpu_ms = 0;
    std::string encoding;
  };
  std::vector<Samples> samples(clients.size());
  auto one = [&](std::size_t c, const std::string& path, bool timed) {
    const double cpu0 = timed ? process_cpu_ms(server) : 0;
    const auto t0 = Clock::now();
    Answer a = clients[c]->get(path);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (a.status != 200)
      throw std::runtime_error(what + ": GET " + path + " answered " + std::to_string(a.status) +
                               " " + a.body.substr(0, 200));
    if (!timed) return;
    Samples& s = samples[c];
    s.cpu_ms += process_cpu_ms(server) - cpu0;
    s.ms.push_back(ms);
    s.bytes.push_back(static_cast<double>(a.body.size()));
    s.encoding = a.content_encoding;
  };
  // Request by request, each client in turn, so that a change in the
  // machine's load falls on every client alike.
  for (int k = 0; k < warmup + runs; ++k) {
    const std::string& path = paths[static_cast<std::size_t>(k) % paths.size()];
    for (std::size_t c = 0; c < clients.size(); ++c)
      one(c, path, k >= warmup);
  }
  std::vector<Timing> out;
  for (const Samples& s : samples) {
    Timing t;
    t.what = what;
    t.request = shown;
    t.runs = s.ms.size();
    double sum = 0;
    for (double m : s.ms)
      sum += m;
    // Less what the node spends idle over as long.
    t.server_cpu_ms = std::max(0.0, s.cpu_ms - idle_cpu_ms_per_s * sum / 1000) / runs;
    t.p50_ms = percentile(s.ms, 0.50);
    t.p95_ms = percentile(s.ms, 0.95);
    t.max_ms = *std::max_element(s.ms.begin(), s.ms.end());
    t.mean_ms = sum / runs;
    t.body_bytes = static_cast<std::size_t>(percentile(s.bytes, 0.5));
    t.content_encoding = s.encoding;
    out.push_back(std::move(t));
  }
  return out;
}

PageWeight weigh_page(DeskClient& plain, DeskClient& browser, const std::string& page,
                      const std::vector<std::string>& api) {
  PageWeight w;
  w.page = page;
  auto fetch = [&](const std::string& path, std::size_t& into) {
    Answer a = plain.get(path);
    Answer b = browser.get(path);
    if (a.status != 200 || b.status != 200)
      throw std::runtime_error("page weight: GET " + path + " answered " +
                               std::to_string(a.status));
    into += a.body.size();
    w.wire += b.body.size() + b.header_bytes;
    return a.body;
  };
  const std::string html = fetch(page, w.html);
  // Every stylesheet, script and image the HTML names under /assets/.
  static const std::regex kRef(R"re((?:href|src)\s*=\s*"(/assets/[^"?#]+)")re");
  std::set<std::string> seen;
  for (std::sregex_iterator it(html.begin(), html.end(), kRef), end; it != end; ++it) {
    const std::string ref = (*it)[1];
    if (!seen.insert(ref).second) continue;
    fetch(ref, w.assets);
    w.loaded.push_back(ref);
  }
  for (const auto& path : api) {
    fetch(path, w.json);
    w.loaded.push_back(path);
  }
  w.total = w.html + w.assets + w.json;
  return w;
}

}  // namespace liandong::bench
