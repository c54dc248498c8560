#include "node/metrics_server.h"

#include <sys/socket.h>
#include <sys/statvfs.h>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "node/metrics.h"
#include "node/report.h"
#include "protocol/hlc.h"

#ifndef LIANDONG_VERSION
#define LIANDONG_VERSION "unknown"
#endif

namespace liandong::node {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kScrapedRecently = 5min;  // the loop publishes while scraped this recently
constexpr auto kPublishEvery = 1s;
constexpr auto kLoopStale = 2s;  // a scrape finding older figures waits for fresh ones
constexpr auto kWaitLoop = 1s;
constexpr auto kCountEvery = 30s;  // deadlines and quarantine
constexpr auto kWaitFirstCount = 1s;

int64_t ticks(Clock::time_point t) {
  return t.time_since_epoch().count();
}

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

Status write_address(const fs::path& data, const std::string& url) {
  std::error_code ec;
  fs::create_directories(data / "metrics", ec);
  const fs::path tmp = data / "metrics" / "address.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << url << "\n";
    if (!out) return Status::internal("cannot write " + tmp.string());
  }
  fs::rename(tmp, data / "metrics" / "address", ec);
  if (ec) return Status::internal("cannot write " + (data / "metrics" / "address").string());
  return Status::ok();
}

}  // namespace

struct MetricsServer::Impl {
  Options options;
  const storage::Store* store = nullptr;
  const desk::RequestStats* desk = nullptr;
  std::unique_ptr<httplib::Server> http;
  std::thread http_thread, count_thread;
  std::string url;
  std::atomic<bool> stopped{false};

  // Steady clock ticks; 0: never.
  std::atomic<int64_t> last_scrape{0};
  std::atomic<int64_t> last_publish{0};
  std::atomic<int64_t> publish_took{0};  // ticks the last publish took the loop
  std::atomic<int> waiting{0};           // scrapes waiting for the loop's figures

  std::mutex mu;
  std::condition_variable published;  // a publish() happened
  std::condition_variable counting;   // a count is asked for, or done
  std::shared_ptr<const LoopFigures> loop;
  uint64_t loop_seq = 0;
  Clock::time_point loop_at{};
  bool count_asked = false, quitting = false;
  std::optional<DeadlineCounts> deadlines;
  std::optional<uint64_t> quarantined;
  uint64_t counted_ms = 0;
  Clock::time_point counted_at{};

  std::string scrape();
  void count_loop();
};

std::string MetricsServer::Impl::scrape() {
  const auto now = Clock::now();
  last_scrape = ticks(now);
  metrics::MetricsSnapshot s;
  s.code = options.code;
  s.version = LIANDONG_VERSION;
  s.started_ms = options.started_ms;
  s.map_max_bytes = options.map_max_bytes;
  std::shared_ptr<const LoopFigures> figures;
  {
    std::unique_lock lock(mu);
    if (!loop || now - loop_at > kLoopStale) {
      const uint64_t seq = loop_seq;
      ++waiting;
      published.wait_for(lock, kWaitLoop, [&] { return loop_seq != seq || quitting; });
      --waiting;
    }
    figures = loop;
    if (counted_at == Clock::time_point{} || now - counted_at >= kCountEvery) {
      count_asked = true;
      counting.notify_all();
      if (counted_at == Clock::time_point{})
        counting.wait_for(lock, kWaitFirstCount,
                          [&] { return counted_at != Clock::time_point{} || quitting; });
    }
    s.deadlines = deadlines;
    s.quarantined = quarantined;
    s.slow_at_ms = counted_ms;
  }
  if (figures) {
    s.loop_at_ms = figures->at_ms;
    s.loop_took_seconds = figures->took_seconds;
    s.links = figures->links;
    s.store_full_since_ms = figures->store_full_since_ms;
    s.attachments = figures->attachments;
  }
  if (auto st = store->stats(); st.ok()) s.store = *st;
  if (auto b = store->blob_bytes(); b.ok()) s.attachment_bytes = *b;
  struct statvfs vfs {};
  if (::statvfs(options.data.c_str(), &vfs) == 0) {
    s.disk_free_bytes = uint64_t{vfs.f_bavail} * vfs.f_frsize;
    s.disk_size_bytes = uint64_t{vfs.f_blocks} * vfs.f_frsize;
  }
  if (desk != nullptr) s.desk = desk->snapshot();
  return metrics::render(s);
}

void MetricsServer::Impl::count_loop() {
  std::unique_lock lock(mu);
  while (true) {
    counting.wait(lock, [&] { return count_asked || quitting; });
    if (quitting) return;
    count_asked = false;
    lock.unlock();
    const uint64_t now_ms = wall_clock_ms();
    auto d = count_deadlines(*store, now_ms);
    auto q = store->quarantined();
    if (!d.ok()) spdlog::warn("metrics: cannot count deadlines: {}", d.status().message());
    if (!q.ok()) spdlog::warn("metrics: cannot count the quarantine: {}", q.status().message());
    lock.lock();
    if (d.ok()) deadlines = *d;
    if (q.ok()) quarantined = q->size();
    counted_ms = now_ms;
    counted_at = Clock::now();
    counting.notify_all();
  }
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  stop();
}

const std::string& MetricsServer::url() const {
  return impl_->url;
}

bool MetricsServer::wanted() const {
  const int64_t now = ticks(Clock::now());
  const auto span = [](auto d) {
    return static_cast<int64_t>(std::chrono::duration_cast<Clock::duration>(d).count());
  };
  const int64_t scraped = impl_->last_scrape.load();
  if (scraped == 0 || now - scraped > span(kScrapedRecently)) return false;
  const int64_t published = impl_->last_publish.load();
  if (published == 0) return true;
  const int64_t spacing = 20 * impl_->publish_took.load();
  if (impl_->waiting.load() > 0) return now - published >= std::max(span(100ms), spacing);
  return now - published >= std::max(span(kPublishEvery), spacing);
}

void MetricsServer::publish(LoopFigures figures) {
  const auto took = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(figures.took_seconds));
  if (took > 100ms)
    spdlog::warn("metrics: taking the links' figures held the loop for {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  auto shared = std::make_shared<const LoopFigures>(std::move(figures));
  const auto now = Clock::now();
  impl_->last_publish = ticks(now);
  impl_->publish_took = static_cast<int64_t>(took.count());
  {
    std::lock_guard lock(impl_->mu);
    impl_->loop = std::move(shared);
    impl_->loop_at = now;
    ++impl_->loop_seq;
  }
  impl_->published.notify_all();
}

void MetricsServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->quitting = true;
  }
  impl_->published.notify_all();
  impl_->counting.notify_all();
  impl_->http->stop();
  if (impl_->http_thread.joinable()) impl_->http_thread.join();
  if (impl_->count_thread.joinable()) impl_->count_thread.join();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const Options& options,
                                                            const storage::Store& store,
                                                            const desk::RequestStats* desk) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = &store;
  impl->desk = desk;
  impl->http = std::make_unique<httplib::Server>();
  httplib::Server& http = *impl->http;
  // One Prometheus (or two) scrapes it: two threads are plenty.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_keep_alive_timeout(30);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(10, 0);
  http.set_payload_max_length(4096);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second process binds the same port without an error and takes half
  // the scrapes.
  http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  const config::MetricsSettings& s = options.settings;
  const std::string host = s.host.find(':') != std::string::npos ? "[" + s.host + "]" : s.host;
  int port = s.port;
  if (port == 0) {
    port = http.bind_to_any_port(s.host);
    if (port <= 0)
      return Status::invalid("指标端点无法监听 " + s.host + " (metrics: cannot bind " + s.host +
                             ")");
  } else if (!http.bind_to_port(s.host, port)) {
    return Status::invalid("指标端点无法监听 " + host + ":" + std::to_string(port) +
                           "（端口已被占用？）(metrics: cannot bind " + host + ":" +
                           std::to_string(port) + ")");
  }
  impl->url = "http://" + host + ":" + std::to_string(port) + "/metrics";

  Impl* self = impl.get();
  http.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    res.set_content(self->scrape(), kContentType);
  });
  const auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
  };
  http.Post("/metrics", not_allowed);
  http.Put("/metrics", not_allowed);
  http.Patch("/metrics", not_allowed);
  http.Delete("/metrics", not_allowed);
  http.Options("/metrics", not_allowed);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* what = res.status == 404   ? "没有这个地址：指标在 /metrics (not found)"
                       : res.status == 405 ? "只接受 GET (method not allowed)"
                                           : "请求无法处理 (bad request)";
    res.set_content(std::string(what) + "\n", "text/plain; charset=utf-8");
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
        spdlog::error("metrics: {} {} failed: {}", req.method, req.path, what);
        res.status = 500;
        res.set_content("本机内部错误 (internal error)\n", "text/plain; charset=utf-8");
      });

  if (auto st = write_address(options.data, impl->url); !st)
    spdlog::warn("metrics: {}", st.message());
  httplib::Server* raw = impl->http.get();
  impl->http_thread = std::thread([raw] { raw->listen_after_bind(); });
  impl->count_thread = std::thread([self] { self->count_loop(); });
  spdlog::info("metrics serving at {}", impl->url);
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

}  // namespace liandong::node
