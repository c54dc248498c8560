// The desk (办事台) on a large store: a county node of 100,000 cases (and
// one of its townships, holding its share of them) runs the real
// `liandong run` with its desk on loopback; a person the roster lists there
// logs in with a code from `liandong desk invite`, and the benchmark times
// the desk's answers as the pages ask for them — 工作台 (GET /api/desk),
// 办件查询 (GET /api/cases?name= / status= / case_number=) and 办件详情
// (GET /api/cases/ID) — each N times, one after another on one keep-alive
// connection, after warm-ups, both as a browser asks (compressed) and
// uncompressed; and weighs each page with what it loads.
//
// The time is what the client sees over loopback (an upper bound on the
// server's time); the node's own CPU time per request, read from /proc,
// is given beside it.
//
// Usage: desk_bench --liandong PATH --source DIR [--cases N] [--requests N]
//                   [--warmup N] [--quick] [--no-township] [--dir DIR]
//                   [--markdown FILE] [--keep DIR] [--build NAME]
//   --source DIR  the source tree (its config/ has the catalog, calendars, roster)
//   --keep DIR    leave the nodes (stores, keys, configs) at DIR afterwards
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/bench_machine.h"
#include "bench/desk_bench_http.h"
#include "bench/desk_bench_store.h"
#include "node/identity.h"
#include "protocol/event_codec.h"
#include "storage/store.h"

extern char** environ;

using namespace liandong;
using namespace liandong::bench;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `args` with stdout to `log` and stderr to `err` (empty: `log` too).
pid_t spawn(const std::vector<std::string>& args, const std::string& log,
            const std::string& err = {}) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (err.empty()) {
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

// Runs a CLI command to its end; its stdout. Throws (with its stderr) when
// it fails.
std::string cli(const std::vector<std::string>& args, const fs::path& scratch) {
  const fs::path out = scratch / "cli.out", err = scratch / "cli.err";
  fs::remove(out);
  const pid_t pid = spawn(args, out.string(), err.string());
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) throw std::runtime_error("waitpid failed");
  std::string text = fs::exists(out) ? read_file(out) : "";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (std::size_t k = 1; k < args.size(); ++k)
      cmd += args[k] + " ";
    throw std::runtime_error("liandong " + cmd + "failed: " + text + read_file(err));
  }
  return text;
}

// A running `liandong run`: stopped (SIGTERM, then SIGKILL after 60 s) when
// it goes out of scope.
class Daemon {
 public:
  Daemon(const std::string& liandong, const fs::path& config, const fs::path& log)
      : pid_(spawn({liandong, "run", "--config", config.string()}, log.string())) {}
  ~Daemon() { stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = 0;
    return pid_ > 0;
  }
  // Its exit code (-1: killed by a signal).
  int stop() {
    if (pid_ <= 0) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (::waitpid(pid_, &status_, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = 0;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

 private:
  pid_t pid_;
  int status_ = 0;
};

struct View {
  std::string title;  // "县 (360723)"
  std::string code, person;
  fs::path data;
  std::vector<std::string> cases;  // case numbers to look up
  std::size_t expected_waiting = 0;
};

struct ViewResult {
  std::vector<Timing> browser, fresh;
  std::vector<PageWeight> pages;
  double start_s = 0, idle_cpu_ms_per_s = 0;
  std::size_t waiting = 0, warning = 0, overdue = 0, work_rows = 0;
  std::string disturbance;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string tail_of(const std::string& case_number) {
  return case_number.substr(case_number.find('-') + 1);
}

// The node's config: its desk on a free loopback port, no links.
std::string node_config(const std::string& code, const fs::path& data) {
  return "[node]\ncode = \"" + code + "\"\ndata = \"" + data.string() +
         "\"\nlog_level = \"warn\"\n\n[desk]\nlisten = \"127.0.0.1:0\"\n";
}

std::string range(const Timing& t) {
  return fixed(t.p50_ms, 1) + " / " + fixed(t.p95_ms, 1) + " / " + fixed(t.max_ms, 1);
}

ViewResult measure(const std::string& liandong, const View& v, const Machine& machine,
                   const fs::path& scratch, int warmup, int runs) {
  ViewResult r;
  const fs::path config = v.data / "node.toml";
  std::ofstream(config) << node_config(v.code, v.data);
  const fs::path address = v.data / "desk" / "address";
  fs::remove(address);
  const auto t0 = Clock::now();
  Daemon daemon(liandong, config, v.data / "run.log");
  // Ready when the desk answers (the address is written just before it listens).
  int port = 0;
  Answer people;
  while (seconds_since(t0) < 300 && daemon.running()) {
    if (port == 0 && fs::exists(address)) {
      const std::string url = read_file(address);
      port = std::stoi(url.substr(url.rfind(':') + 1));
    }
    if (port != 0) {
      DeskClient probe("127.0.0.1", port, Mode::fresh);
      people = probe.get("/api/people");
      if (people.status == 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (people.status != 200)
    throw std::runtime_error(v.title + ": the desk did not come up; see " +
                             (v.data / "run.log").string());
  r.start_s = seconds_since(t0);
  const Json code = Json::parse(
      cli({liandong, "desk", "invite", v.person, "--data", v.data.string(), "--json"}, scratch));
  DeskClient fresh("127.0.0.1", port, Mode::fresh);
  fresh.first_login(v.person, code.at("code").get<std::string>(), "desk-bench-2026");
  DeskClient browser("127.0.0.1", port, Mode::browser);
  browser.use_cookie(fresh.cookie());

  const Json desk = Json::parse(fresh.get("/api/desk").body);
  r.waiting = desk.at("counts").at("waiting").get<std::size_t>();
  r.warning = desk.at("counts").at("warning").get<std::size_t>();
  r.overdue = desk.at("counts").at("overdue").get<std::size_t>();
  r.work_rows = desk.at("work").size();
  std::cout << v.title << ": desk up in " << fixed(r.start_s, 1) << " s; 工作台 lists " << r.waiting
            << " waiting (" << r.warning << " 黄牌, " << r.overdue << " 红牌), the corpus left "
            << v.expected_waiting << " open here\n"
            << std::flush;

  // The node's own CPU while nobody asks anything (its loop's ticks).
  {
    const double c0 = process_cpu_ms(daemon.pid());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    r.idle_cpu_ms_per_s = (process_cpu_ms(daemon.pid()) - c0) / 2;
  }

  // The queries, cycling through distinct values.
  std::vector<std::string> files = {"/", "/new.html", "/search.html", "/case.html", "/print.html"};
  for (const char* f : {"desk.css", "print.css", "desk.js", "index.js", "new.js", "search.js",
                        "case.js", "print.js"})
    files.push_back(std::string("/assets/") + f);
  std::vector<std::string> by_name, by_number, by_tail, details;
  for (std::size_t k = 0; k < 16; ++k)
    by_name.push_back("/api/cases?name=" + url_encode(desk_applicant_name(k)));
  for (const auto& c : v.cases) {
    by_number.push_back("/api/cases?case_number=" + c);
    by_tail.push_back("/api/cases?case_number=" + tail_of(c));
    details.push_back("/api/cases/" + c);
  }
  struct Query {
    std::string what, shown;
    std::vector<std::string> paths;
  };
  const std::vector<Query> queries = {
      {"登录状态 (the cheapest logged-in answer)", "GET /api/session", {"/api/session"}},
      {"工作台", "GET /api/desk", {"/api/desk"}},
      {"办件查询: by name (16 common names)", "GET /api/cases?name=NAME", by_name},
      {"办件查询: by status 待办理",
       "GET /api/cases?status=escalated",
       {"/api/cases?status=escalated"}},
      {"办件查询: by case number", "GET /api/cases?case_number=CASE", by_number},
      {"办件查询: by case number tail", "GET /api/cases?case_number=TAIL", by_tail},
      {"办件详情", "GET /api/cases/CASE", details},
      {"the pages' files: HTML, stylesheets, scripts (13)", "GET /FILE", files},
  };
  const Activity a0 = sample_activity(machine.disk);
  const double d0 = process_cpu_ms(daemon.pid());
  for (const auto& q : queries) {
    const double idle = r.idle_cpu_ms_per_s;
    auto t = time_requests({&fresh, &browser}, q.what, q.shown, q.paths, warmup, runs, daemon.pid(),
                           idle);
    r.fresh.push_back(t[0]);
    r.browser.push_back(t[1]);
    const Timing& b = r.browser.back();
    const Timing& p = r.fresh.back();
    std::cout << "  " << q.what << ": new connection, uncompressed " << range(p) << " ms (node CPU "
              << fixed(p.server_cpu_ms, 1) << " ms); as a browser " << range(b) << " ms (node CPU "
              << fixed(b.server_cpu_ms, 1) << " ms), " << with_commas(b.body_bytes) << " B "
              << (b.content_encoding.empty() ? "uncompressed" : b.content_encoding) << "\n"
              << std::flush;
  }
  Activity a1 = sample_activity(machine.disk);
  a1.self_s += (process_cpu_ms(daemon.pid()) - d0) / 1000;  // the node's work is ours
  r.disturbance = describe_disturbance(a0, a1, machine.cores);
  // Other work makes a latency higher, not lower.
  if (const auto at = r.disturbance.find("figures may be low"); at != std::string::npos)
    r.disturbance.replace(at, 18, "times may be high");

  // Page weights: a case with a long history (the first looked up).
  const std::string c = v.cases.front();
  const Json shown = Json::parse(fresh.get("/api/cases/" + c).body);
  const std::string item = "/api/catalog/" + shown.value("item_code", std::string());
  const std::string name = "/api/cases?name=" + url_encode(desk_applicant_name(0));
  r.pages.push_back(weigh_page(fresh, browser, "/", {"/api/session", "/api/desk"}));
  r.pages.push_back(weigh_page(fresh, browser, "/new.html", {"/api/session", "/api/catalog"}));
  r.pages.push_back(weigh_page(fresh, browser,
                               "/search.html?name=" + url_encode(desk_applicant_name(0)),
                               {"/api/session", "/api/catalog", name}));
  r.pages.push_back(
      weigh_page(fresh, browser, "/case.html?id=" + c, {"/api/session", "/api/cases/" + c, item}));
  r.pages.push_back(weigh_page(fresh, browser, "/print.html?kind=receipt&id=" + c,
                               {"/api/session", "/api/cases/" + c, item, "/api/qr?text=" + c}));
  if (const int rc = daemon.stop(); rc != 0)
    std::cerr << v.title << ": liandong run exited " << rc << "\n";
  return r;
}

// The broadcasts the county published after `after` (catalog, calendars,
// divisions, roster), stored into the township's store as sync would.
void hand_down_broadcasts(const fs::path& county, const fs::path& township, uint64_t after) {
  storage::StoreOptions opts;
  opts.dir = county / "store";
  std::vector<std::string> sealed;
  {
    auto store = storage::Store::open(opts);
    if (!store.ok()) throw std::runtime_error(store.status().to_string());
    auto st = (*store)->scan_log(after, 1000, [&](uint64_t, std::string_view bytes) {
      sealed.emplace_back(bytes);
      return true;
    });
    if (!st) throw std::runtime_error(st.to_string());
  }
  std::vector<EventView> views;
  for (const auto& s : sealed) {
    auto v = EventView::parse(s);
    if (!v.ok()) throw std::runtime_error(v.status().to_string());
    const EventKind k = v->kind();
    if (k == EventKind::catalog_published || k == EventKind::calendar_published ||
        k == EventKind::roster_published || k == EventKind::divisions_published)
      views.push_back(std::move(v).value());
  }
  std::vector<const EventView*> batch;
  for (const auto& v : views)
    batch.push_back(&v);
  opts.dir = township / "store";
  auto store = storage::Store::open(opts);
  if (!store.ok()) throw std::runtime_error(store.status().to_string());
  auto r = (*store)->apply(batch);
  if (!r.ok()) throw std::runtime_error(r.status().to_string());
  for (const auto& x : *r) {
    if (x.outcome != storage::Outcome::stored) throw std::runtime_error(x.status.to_string());
  }
}

// The figures of one node's desk as Markdown.
std::string view_markdown(const View& v, const ViewResult& r, std::size_t cases) {
  std::ostringstream md;
  md << "#### " << v.title << ": " << with_commas(cases) << " cases, logged in as " << v.person
     << "\n\n"
     << "工作台 lists " << with_commas(r.waiting) << " cases waiting here (" << r.warning
     << " 黄牌预警, " << r.overdue << " 红牌超期; the first " << r.work_rows
     << " in its list); the node's desk answered " << fixed(r.start_s, 1)
     << " s after `liandong run` started.\n\n"
     << "| request | asks | a new connection each, uncompressed: p50 / p95 / max ms | node CPU ms "
        "a "
        "request | target: p95 <= 100 ms | met | as a browser asks (keep-alive, compressed): p50 / "
        "p95 / max ms | node CPU ms a request | met as a browser sees it | answer bytes as sent "
        "(encoding) |\n"
        "|---|---|---|---:|---|---|---|---:|---|---:|\n";
  for (std::size_t k = 0; k < r.browser.size(); ++k) {
    const Timing& b = r.browser[k];
    const Timing& p = r.fresh[k];
    const bool target = b.request.starts_with("GET /api/") && b.request != "GET /api/session";
    auto met = [&](const Timing& t) { return target ? (t.p95_ms <= 100 ? "met" : "missed") : ""; };
    md << "| " << b.what << " | `" << b.request << "` | " << range(p) << " | "
       << fixed(p.server_cpu_ms, 1) << " | " << (target ? "p95 <= 100" : "") << " | " << met(p)
       << " | " << range(b) << " | " << fixed(b.server_cpu_ms, 1) << " | " << met(b) << " | "
       << with_commas(b.body_bytes) << " ("
       << (b.content_encoding.empty() ? "none" : b.content_encoding) << ") |\n";
  }
  md << "\n| page | HTML | stylesheets, scripts | API answers it loads on opening | total bytes | "
        "target: <= 500 KB | met | on the wire as a browser gets it (compressed, with response "
        "headers) |\n|---|---:|---:|---:|---:|---|---|---:|\n";
  for (const auto& w : r.pages) {
    std::string api;
    for (const auto& l : w.loaded) {
      if (!l.starts_with("/api/")) continue;
      // Paths as the page asks them, values named.
      std::string shown = l.substr(0, l.find('?'));
      if (shown.starts_with("/api/cases/")) shown = "/api/cases/CASE";
      if (shown.starts_with("/api/catalog/")) shown = "/api/catalog/ITEM";
      if (l.starts_with("/api/cases?")) shown += "?name=NAME";
      if (l.starts_with("/api/qr?")) shown += "?text=CASE";
      api += (api.empty() ? "" : ", ") + shown;
    }
    std::string page = w.page.substr(0, w.page.find('?'));
    md << "| `" << page << "` | " << with_commas(w.html) << " | " << with_commas(w.assets) << " | "
       << with_commas(w.json) << " (" << api << ") | " << with_commas(w.total) << " | <= 500,000 | "
       << (w.total <= 500000 ? "met" : "missed") << " | " << with_commas(w.wire) << " |\n";
  }
  md << "\n";
  return md.str();
}

}  // namespace

int main(int argc, char** argv) try {
  std::string liandong, markdown, keep, build = "unnamed";
  fs::path source, parent = fs::temp_directory_path();
  std::size_t cases = 100000;
  int runs = 200, warmup = 10;
  bool township = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--liandong")
      liandong = next();
    else if (a == "--source")
      source = next();
    else if (a == "--cases")
      cases = std::stoul(next());
    else if (a == "--requests")
      runs = std::stoi(next());
    else if (a == "--warmup")
      warmup = std::stoi(next());
    else if (a == "--dir")
      parent = next();
    else if (a == "--markdown")
      markdown = next();
    else if (a == "--build")
      build = next();
    else if (a == "--keep")
      keep = next();
    else if (a == "--no-township")
      township = false;
    else if (a == "--quick") {
      cases = 10000;
      runs = 50;
      warmup = 5;
    } else
      throw std::runtime_error("unknown option " + a);
  }
  if (liandong.empty() || source.empty() || runs < 1 || cases < 1000) {
    std::cerr << "usage: desk_bench --liandong PATH --source DIR [--cases N >= 1000] "
                 "[--requests N] [--warmup N] [--quick] [--no-township] [--dir DIR] "
                 "[--markdown FILE] [--keep DIR] [--build NAME]\n";
    return 2;
  }
  liandong = fs::absolute(liandong).string();
  const Machine machine = describe_machine(parent);
  std::cout << machine.text() << std::flush;
  TempDir tmp(parent);
  const fs::path county = tmp.path() / "county", town = tmp.path() / "township";

  // The nodes, their stores filled, the county's notices published.
  cli({liandong, "init", "--data", county.string(), "--code", kDeskCounty}, tmp.path());
  if (township)
    cli({liandong, "init", "--data", town.string(), "--code", kDeskTownship}, tmp.path());
  auto key_of = [](const fs::path& data) {
    auto id = node::load_identity(data);
    if (!id.ok()) throw std::runtime_error(id.status().to_string());
    return id->sign;
  };
  const fs::path config_dir = source / "config";
  DeskStoreOptions opt;
  opt.cases = cases;
  auto catalog = storage::parse_catalog(read_file(config_dir / "catalog-example.toml"));
  if (!catalog.ok()) throw std::runtime_error(catalog.status().to_string());
  opt.catalog = *catalog;
  const std::vector<fs::path> calendars = {config_dir / "calendar-2026.toml",
                                           config_dir / "calendar-2027.toml"};
  for (const auto& f : calendars) {
    auto year = storage::parse_calendar(read_file(f), f.string());
    if (!year.ok()) throw std::runtime_error(year.status().to_string());
    opt.calendar.add(*year);
  }
  opt.now_ms = wall_clock_ms();
  opt.threads = std::max(1u, machine.cores);
  std::optional<DeskNode> town_node;
  if (township) town_node = DeskNode{town, key_of(town)};
  const auto t_build = Clock::now();
  const DeskStoreFacts facts = build_desk_stores(opt, DeskNode{county, key_of(county)}, town_node);
  const double build_s = seconds_since(t_build);
  uint64_t before = 0;
  {
    storage::StoreOptions so;
    so.dir = county / "store";
    auto s = storage::Store::open(so);
    if (!s.ok()) throw std::runtime_error(s.status().to_string());
    before = (*s)->stats()->last_lsn;
  }
  const std::string d = county.string();
  const fs::path divisions = tmp.path() / "divisions.toml";
  std::ofstream(divisions) << desk_divisions_toml();
  cli({liandong, "catalog", "publish", (config_dir / "catalog-example.toml").string(), "--actor",
       "李建国", "--role", "director", "--data", d},
      tmp.path());
  for (const auto& f : calendars)
    cli({liandong, "calendar", "publish", f.string(), "--actor", "李建国", "--role", "director",
         "--data", d},
        tmp.path());
  cli({liandong, "publish", "divisions", "--version", "1", "--file", divisions.string(), "--actor",
       "李建国", "--role", "director", "--data", d},
      tmp.path());
  cli({liandong, "roster", "publish", "--version", "1", "--file",
       (config_dir / "roster-example.toml").string(), "--actor", "县政务服务中心管理员", "--data",
       d},
      tmp.path());
  if (township) hand_down_broadcasts(county, town, before);
  std::cout << "stores: " << with_commas(facts.cases) << " cases, " << with_commas(facts.events)
            << " events in " << fixed(build_s, 1) << " s (plan " << fixed(facts.plan_s, 1)
            << ", build and sign " << fixed(facts.sign_s, 1) << ", apply "
            << fixed(facts.apply_s, 1) << ")\n"
            << std::flush;

  std::vector<View> views;
  views.push_back(View{"县行政服务中心 大余县 (360723)", kDeskCounty, "孙八", county,
                       facts.sample_cases, facts.county_escalated + facts.county_assigned});
  if (township)
    views.push_back(View{"乡镇便民服务中心 南安镇 (360723101)", kDeskTownship, "赵六", town,
                         facts.sample_township_cases, facts.township_held});
  std::vector<ViewResult> results;
  for (const auto& v : views)
    results.push_back(measure(liandong, v, machine, tmp.path(), warmup, runs));

  std::ostringstream md;
  md << "Run " << machine.date << ", " << build << " build. Each request is asked " << runs
     << " times after " << warmup
     << " warm-ups, one after another over loopback, cycling through the values shown, in two "
        "ways taking turns request by request: each on a new connection, uncompressed (the nearest "
        "a client gets to the server's "
        "own time, which the server does not log), and as a browser asks, on one keep-alive "
        "connection with `Accept-Encoding: gzip, deflate, br`. Times are what the client saw, "
        "from sending the request to the whole answer read. Node CPU is the `liandong run` "
        "process's CPU time (all threads, from /proc in 10 ms ticks) over the timed requests, "
        "less what it spends idle in as long, divided by their number. Page weights: the HTML, "
        "every stylesheet and script it names under /assets/ and the API answers its script "
        "loads on opening, as uncompressed bodies; the last column is what a browser receives "
        "(compressed bodies where the desk compresses, plus response headers).\n\n";
  for (std::size_t k = 0; k < views.size(); ++k)
    md << view_markdown(views[k], results[k], k == 0 ? facts.cases : facts.township_cases);
  static constexpr const char* kStatusZh[] = {"未到齐",     "已登记", "待补正",  "已受理",
                                              "待上级办理", "办理中", "已办结",  "已送达",
                                              "已销号",     "已撤回", "不予受理"};
  std::string statuses;
  for (std::size_t s = 0; s < facts.by_status.size(); ++s) {
    if (facts.by_status[s] == 0) continue;
    statuses += (statuses.empty() ? "" : ", ") + std::string(kStatusZh[s]) + " " +
                with_commas(facts.by_status[s]);
  }
  md << "```\n" << machine.text() << "load after:    " << load_average() << "\n";
  for (std::size_t k = 0; k < views.size(); ++k)
    md << "during " << views[k].code << ": " << results[k].disturbance
       << "\n               (node idle: " << fixed(results[k].idle_cpu_ms_per_s, 1)
       << " ms CPU a second)\n";
  md << "store:         county " << kDeskCounty << ", " << with_commas(facts.cases) << " cases ("
     << statuses << "), " << with_commas(facts.events)
     << " signed events; open at the county: " << with_commas(facts.county_escalated)
     << " escalated to it, " << with_commas(facts.county_assigned) << " assigned there\n";
  if (township)
    md << "               township " << kDeskTownship << ": " << with_commas(facts.township_cases)
       << " of those cases, " << with_commas(facts.township_events) << " events; "
       << with_commas(facts.township_held) << " held there\n";
  md << "made in:       " << fixed(build_s, 1) << " s (plan " << fixed(facts.plan_s, 1)
     << " s, build, sign and parse " << fixed(facts.sign_s, 1) << " s, Store::apply "
     << fixed(facts.apply_s, 1) << " s, 1,000 events per transaction)\n"
     << "```\n";
  std::cout << md.str();
  if (!markdown.empty()) std::ofstream(markdown) << md.str();
  if (!keep.empty()) {
    fs::create_directories(keep);
    for (const auto& v : views) {
      const fs::path to = fs::absolute(keep) / v.data.filename();
      fs::rename(v.data, to);
      std::ofstream(to / "node.toml") << node_config(v.code, to);
    }
    std::cout << "nodes kept in " << keep << " (each with its node.toml)\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "desk_bench: " << e.what() << "\n";
  return 1;
}
