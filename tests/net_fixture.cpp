#include "tests/net_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "protocol/routing.h"

extern char** environ;

namespace liandong::test {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ---- helpers -----------------------------------------------------------------------------

namespace {

std::mutex& live_mutex() {
  static std::mutex mu;
  return mu;
}
std::set<const Net*>& live_nets() {
  static std::set<const Net*> nets;
  return nets;
}

std::string toml_quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string tail_of_file(const fs::path& p, std::size_t lines) {
  constexpr std::streamoff kMaxBytes = 64 * 1024;
  std::ifstream in(p, std::ios::binary | std::ios::ate);
  if (!in) return "(no log)\n";
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > kMaxBytes ? size - kMaxBytes : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t pos = text.size();
  std::size_t seen = 0;
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  while (pos > 0 && seen < lines) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
    ++seen;
  }
  std::string out = text.substr(pos == 0 ? 0 : pos + 1);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  if (!(in >> low)) low = 32768;
  return low;
}

// Loopback TCP ports free right now, below the ephemeral range so that no
// outgoing connection of the tree can take one while its node is stopped.
// All probe sockets stay bound until every port is chosen, so the ports are
// distinct; a process-wide counter keeps successive Nets apart.
std::vector<int> pick_ports(std::size_t n) {
  static std::atomic<unsigned> next{0};
  const int high = ephemeral_low();
  const int low = std::max(2048, high - 12000);
  const unsigned span = high > low ? static_cast<unsigned>(high - low) : 0;
  std::vector<int> fds, ports;
  const unsigned start =
      span == 0 ? 0 : (static_cast<unsigned>(::getpid()) * 7919u + next.fetch_add(97)) % span;
  for (unsigned tries = 0; ports.size() < n && tries < std::max(span, 1u) + n; ++tries) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Without a range below the ephemeral ports, let the kernel choose.
    a.sin_port = htons(span == 0 ? 0 : static_cast<uint16_t>(low + (start + tries) % span));
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      fds.push_back(fd);
      ports.push_back(ntohs(a.sin_port));
    } else {
      ::close(fd);
    }
  }
  for (const int fd : fds)
    ::close(fd);
  if (ports.size() < n) throw std::runtime_error("could not find free loopback ports");
  return ports;
}

// Starts `argv` with stdin from /dev/null and stdout+stderr appended to
// `log`. The child gets SIGKILL if the thread that forked it dies.
pid_t spawn_daemon(const std::vector<std::string>& argv, const fs::path& log,
                   const std::vector<std::string>& extra_env = {}) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e)
    env.push_back(*e);
  for (const auto& e : extra_env)
    env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::runtime_error("cannot open " + log.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  return pid;
}

std::string describe_wait_status(int st) {
  if (WIFEXITED(st)) return "exited with code " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + ::strsignal(WTERMSIG(st));
  return "ended (status " + std::to_string(st) + ")";
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

std::string china_date_in(int days) {
  const auto t = std::chrono::system_clock::now() + std::chrono::hours(24 * days + 8);
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

bool wait_until(const std::function<bool()>& pred, milliseconds timeout, milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  const auto step = std::max(interval, milliseconds(1));
  const long max_calls = timeout / step + 2;
  for (long i = 0; i < max_calls; ++i) {
    const auto started = Clock::now();
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_until(std::min(started + step, deadline));
  }
  return false;
}

// ---- Net: layout and configs -------------------------------------------------------------

Net::Net(std::vector<NodeSpec> nodes, SyncTimings timings)
    : tmp_("liandong-sync"), timings_(timings) {
  for (auto& spec : nodes) {
    const std::string code = spec.code;
    if (nodes_.count(code) != 0) throw std::invalid_argument("node listed twice: " + code);
    order_.push_back(code);
    nodes_[code].spec = std::move(spec);
  }
  std::size_t parents = 0;
  for (const auto& code : order_) {
    for (const auto& up : nodes_[code].spec.upstreams) {
      auto it = nodes_.find(up);
      if (it == nodes_.end()) throw std::invalid_argument(code + ": unknown upstream " + up);
      if (it->second.children.empty()) ++parents;
      it->second.children.push_back(code);
    }
  }
  const std::vector<int> ports = pick_ports(parents);
  std::size_t next_port = 0;
  for (const auto& code : order_) {
    if (!nodes_[code].children.empty()) nodes_[code].port = ports[next_port++];
  }
  {
    std::lock_guard lock(live_mutex());
    live_nets().insert(this);
  }
  for (const auto& code : order_) {
    fs::create_directories(node_dir(code));
    init_store(code);
    read_keys(code);
  }
  write_configs();
  // Check each generated config once, so a fixture mistake fails here with
  // the config checker's words rather than later as a refused start.
  for (const auto& code : order_) {
    auto r = cli_raw({"config", "check", config_path(code).string()});
    if (r.exit_code != 0)
      throw std::runtime_error("generated config of " + code + " does not check: " + r.err + r.out);
  }
}

Net::~Net() {
  for (auto& [code, n] : nodes_) {
    if (n.pid <= 0) continue;
    ::kill(n.pid, SIGKILL);
    int st = 0;
    ::waitpid(n.pid, &st, 0);
    n.pid = 0;
  }
  {
    std::lock_guard lock(live_mutex());
    live_nets().erase(this);
  }
  if (std::getenv("LIANDONG_SYNCTEST_KEEP") != nullptr) {
    std::string kept = (fs::temp_directory_path() / "liandong-synctest-kept.XXXXXX").string();
    if (::mkdtemp(kept.data()) != nullptr) {
      std::error_code ec;
      fs::rename(root(), fs::path(kept) / "net", ec);
      std::fprintf(stderr, "net_fixture: kept %s/net\n", kept.c_str());
    }
  }
}

Net::Node& Net::node(const std::string& code) {
  auto it = nodes_.find(code);
  if (it == nodes_.end()) throw std::invalid_argument("no node " + code + " in this net");
  return it->second;
}

const Net::Node& Net::node(const std::string& code) const {
  auto it = nodes_.find(code);
  if (it == nodes_.end()) throw std::invalid_argument("no node " + code + " in this net");
  return it->second;
}

fs::path Net::node_dir(const std::string& code) const {
  return root() / code;
}
fs::path Net::data_dir(const std::string& code) const {
  return node_dir(code) / "data";
}
fs::path Net::config_path(const std::string& code) const {
  return node_dir(code) / "node.toml";
}
fs::path Net::log_path(const std::string& code) const {
  return node_dir(code) / "node.log";
}
const NodeKeys& Net::keys(const std::string& code) const {
  return node(code).keys;
}

std::string Net::listen_endpoint(const std::string& code) const {
  const Node& n = node(code);
  return n.port == 0 ? std::string() : "tcp://127.0.0.1:" + std::to_string(n.port);
}

void Net::init_store(const std::string& code) {
  auto r = cli_raw({"init", "--data", data_dir(code).string(), "--code", code});
  if (r.exit_code != 0) throw std::runtime_error("init " + code + ": " + r.err);
}

void Net::read_keys(const std::string& code) {
  auto r = cli(code, {"keys", "show", "--json"});
  if (r.exit_code != 0) throw std::runtime_error("keys show " + code + ": " + r.err);
  auto j = parse_json(r.out);
  if (!j) throw std::runtime_error("keys show --json of " + code + ": not JSON: " + r.out);
  NodeKeys k;
  k.sign_key = j->str("sign_key");
  k.curve_key = j->str("curve_key");
  k.store_id = j->str("store_id");
  if (k.sign_key.size() != 64 || k.curve_key.size() != 40)
    throw std::runtime_error("keys show --json of " + code + ": no keys in " + r.out);
  node(code).keys = k;
}

void Net::write_configs() {
  for (const auto& code : order_)
    write_config(code);
}

void Net::refresh_keys(const std::string& code) {
  read_keys(code);
  write_configs();
}

void Net::write_config(const std::string& code) {
  const Node& n = node(code);
  std::ostringstream t;
  t << "# Written by tests/net_fixture.cpp for one test run.\n\n"
    << "[node]\ncode = " << toml_quote(code) << "\ndata = " << toml_quote(data_dir(code).string())
    << "\nlog_level = " << toml_quote(env_or("LIANDONG_SYNCTEST_LOG_LEVEL", "debug")) << "\n";
  if (!n.children.empty())
    t << "\n[listen]\nendpoint = " << toml_quote(listen_endpoint(code)) << "\n";
  for (const auto& up : n.spec.upstreams) {
    const Node& u = node(up);
    t << "\n[[upstream]]\ncode = " << toml_quote(up)
      << "\nendpoint = " << toml_quote(listen_endpoint(up))
      << "\ncurve_key = " << toml_quote(u.keys.curve_key)
      << "\nsign_key = " << toml_quote(u.keys.sign_key) << "\n";
  }
  for (const auto& child : n.children) {
    const Node& c = node(child);
    t << "\n[[child]]\ncode = " << toml_quote(child)
      << "\ncurve_key = " << toml_quote(c.keys.curve_key)
      << "\nsign_key = " << toml_quote(c.keys.sign_key) << "\n";
  }
  t << "\n[sync]\nheartbeat_ms = " << timings_.heartbeat_ms
    << "\npeer_timeout_ms = " << timings_.peer_timeout_ms
    << "\nack_timeout_ms = " << timings_.ack_timeout_ms
    << "\nredial_min_ms = " << timings_.redial_min_ms
    << "\nredial_max_ms = " << timings_.redial_max_ms << "\n";
  if (!n.extra_config.empty()) t << "\n" << n.extra_config << "\n";
  const fs::path tmp = config_path(code).string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << t.str();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, config_path(code));
}

void Net::reinit(const std::string& code, bool keep_keys) {
  if (running(code)) throw std::logic_error("reinit " + code + " while its daemon runs");
  std::vector<std::string> args = {"init",   "--data", data_dir(code).string(),
                                   "--code", code,     "--force"};
  if (keep_keys) args.push_back("--keep-keys");
  auto r = cli_raw(args);
  if (r.exit_code != 0) throw std::runtime_error("init --force " + code + ": " + r.err);
  append_log_marker(code, std::string("store replaced by init --force") +
                              (keep_keys ? " --keep-keys" : ", new keys"));
  read_keys(code);
  write_configs();
}

// ---- Net: processes ----------------------------------------------------------------------

void Net::append_log_marker(const std::string& code, const std::string& text) const {
  std::ofstream out(log_path(code), std::ios::binary | std::ios::app);
  out << "----- net_fixture: " << text << " -----\n";
}

bool Net::reap(Node& n, int* exit_code) {
  if (n.pid <= 0) return true;
  int st = 0;
  const pid_t r = ::waitpid(n.pid, &st, WNOHANG);
  if (r == 0) return false;
  if (exit_code != nullptr) *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  n.exit_note = r == n.pid ? describe_wait_status(st) : "vanished";
  n.pid = 0;
  return true;
}

bool Net::running(const std::string& code) {
  Node& n = node(code);
  return n.pid > 0 && !reap(n, nullptr);
}

void Net::start(const std::string& code) {
  Node& n = node(code);
  if (running(code)) throw std::logic_error("start " + code + ": already running");
  n.exit_note.clear();
  append_log_marker(code, "start");
  n.pid = spawn_daemon({LIANDONG_BIN, "run", "--config", config_path(code).string()},
                       log_path(code), n.env);
  append_log_marker(code, "pid " + std::to_string(n.pid));
  const bool ready = wait_until(
      [&] {
        if (reap(n, nullptr)) return true;
        try {
          return status(code).running;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(15), milliseconds(50));
  if (n.pid <= 0) {
    const std::string note = n.exit_note;
    n.exit_note.clear();  // reported here; not an unexpected exit later
    throw std::runtime_error("liandong run of " + code + " " + note + " at start:\n" +
                             tail_of_file(log_path(code), 20));
  }
  if (!ready)
    throw std::runtime_error("liandong run of " + code + " not ready after 15 s:\n" +
                             tail_of_file(log_path(code), 20));
}

void Net::start_all() {
  for (const auto& code : order_)
    start(code);
}

int Net::stop(const std::string& code) {
  Node& n = node(code);
  if (!running(code)) return -3;
  ::kill(n.pid, SIGTERM);
  int exit_code = -2;
  const bool gone =
      wait_until([&] { return reap(n, &exit_code); }, std::chrono::seconds(15), milliseconds(10));
  if (!gone) {
    ::kill(n.pid, SIGKILL);
    int st = 0;
    ::waitpid(n.pid, &st, 0);
    n.pid = 0;
    exit_code = -2;
    append_log_marker(code, "did not stop within 15 s of SIGTERM: SIGKILLed");
  } else {
    append_log_marker(code, "stopped by SIGTERM: " + n.exit_note);
  }
  n.exit_note.clear();
  return exit_code;
}

void Net::kill9(const std::string& code) {
  Node& n = node(code);
  if (!running(code)) return;
  ::kill(n.pid, SIGKILL);
  int st = 0;
  ::waitpid(n.pid, &st, 0);
  n.pid = 0;
  n.exit_note.clear();
  append_log_marker(code, "SIGKILLed");
}

int Net::restart(const std::string& code) {
  const int rc = stop(code);
  start(code);
  return rc;
}

std::vector<std::string> Net::unexpected_exits() {
  std::vector<std::string> out;
  for (const auto& code : order_) {
    Node& n = node(code);
    if (n.pid > 0) reap(n, nullptr);
    if (n.pid <= 0 && !n.exit_note.empty()) out.push_back(code + ": " + n.exit_note);
  }
  return out;
}

// ---- Net: CLI and readers ----------------------------------------------------------------

ProcessResult Net::cli_raw(std::vector<std::string> args, milliseconds deadline) const {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args, deadline);
}

ProcessResult Net::cli(const std::string& code, std::vector<std::string> args,
                       milliseconds deadline) const {
  args.push_back("--data");
  args.push_back(data_dir(code).string());
  return cli_raw(std::move(args), deadline);
}

namespace {

Json json_or_throw(const ProcessResult& r, const std::string& what) {
  if (r.exit_code != 0)
    throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
  auto j = parse_json(r.out);
  if (!j) throw std::runtime_error(what + ": output is not JSON: " + r.out.substr(0, 300));
  return *j;
}

}  // namespace

std::vector<EventRow> Net::events(const std::string& code) const {
  const Json j = json_or_throw(cli(code, {"store", "events", "--json"}), "store events @" + code);
  std::vector<EventRow> rows;
  for (const auto& e : j.items) {
    EventRow row;
    row.id = e.str("id");
    row.case_id = e.str("case");
    row.kind = e.str("kind");
    row.origin = e.str("origin");
    row.home = e.str("home");
    row.broadcast = e.flag("broadcast");
    row.lsn = e.u64("lsn");
    row.superseded = e.flag("superseded");
    row.refused_by = e.str("refused_by");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<CaseRow> Net::cases(const std::string& code) const {
  const Json j = json_or_throw(cli(code, {"case", "list", "--json"}), "case list @" + code);
  std::vector<CaseRow> rows;
  for (const auto& c : j.items) {
    CaseRow row;
    row.case_id = c.str("case");
    row.status = c.str("status");
    row.home = c.str("home");
    row.conflict = c.flag("conflict");
    row.event_count = c.u64("event_count");
    rows.push_back(std::move(row));
  }
  return rows;
}

StatusRow Net::status(const std::string& code) const {
  const Json j =
      json_or_throw(cli(code, {"status", "--json"}, std::chrono::seconds(10)), "status @" + code);
  StatusRow s;
  s.running = j.flag("running");
  if (const Json* links = j.get("links")) {
    for (const auto& l : links->items)
      s.links.push_back({l.str("peer"), l.str("direction"), l.str("state"), l.flag("active")});
  }
  if (const Json* totals = j.get("totals")) {
    s.events = totals->u64("events");
    s.cases = totals->u64("cases");
    s.last_lsn = totals->u64("last_lsn");
  }
  return s;
}

std::string Net::link_state(const std::string& code, const std::string& peer) const {
  for (const auto& l : status(code).links) {
    if (l.peer == peer) return l.state + (l.active ? "+active" : "");
  }
  return "";
}

std::string Net::log_tails(std::size_t lines) const {
  std::string out;
  for (const auto& code : order_) {
    out += "===== " + code + " (" + log_path(code).string() + ") =====\n";
    out += tail_of_file(log_path(code), lines);
  }
  return out;
}

void Net::dump_live_logs(std::ostream& out, std::size_t lines) {
  std::lock_guard lock(live_mutex());
  for (const Net* net : live_nets())
    out << net->log_tails(lines);
  out.flush();
}

// ---- the convergence checker -------------------------------------------------------------

namespace {

constexpr std::size_t kMaxListed = 8;

std::string describe(const EventRow& e) {
  return e.id + " (" + e.kind +
         (e.broadcast ? ", broadcast by " : ", case " + e.case_id + " home ") + e.home + ")";
}

void list_some(std::ostringstream& r, const std::string& title,
               const std::vector<std::string>& xs) {
  if (xs.empty()) return;
  r << "    " << title << " (" << xs.size() << "):";
  for (std::size_t i = 0; i < xs.size() && i < kMaxListed; ++i)
    r << "\n      " << xs[i];
  if (xs.size() > kMaxListed) r << "\n      ... and " << xs.size() - kMaxListed << " more";
  r << "\n";
}

}  // namespace

Convergence check_converged(Net& net) {
  std::ostringstream r;
  for (const auto& note : net.unexpected_exits())
    r << "daemon died: " << note << "\n";

  std::map<std::string, std::vector<EventRow>> held;
  std::map<std::string, std::vector<CaseRow>> listed;
  for (const auto& code : net.codes()) {
    try {
      held[code] = net.events(code);
      listed[code] = net.cases(code);
    } catch (const std::exception& e) {
      r << "cannot read " << code << ": " << e.what() << "\n";
    }
  }

  // The union, and whether an id means the same event everywhere.
  std::map<std::string, EventRow> all;
  std::map<std::string, std::string> first_at;
  for (const auto& [code, rows] : held) {
    for (const auto& e : rows) {
      auto [it, fresh] = all.emplace(e.id, e);
      if (fresh) {
        first_at[e.id] = code;
        continue;
      }
      const EventRow& o = it->second;
      if (o.case_id != e.case_id || o.kind != e.kind || o.origin != e.origin || o.home != e.home ||
          o.broadcast != e.broadcast)
        r << "id " << e.id << " names two events: " << describe(o) << " at " << first_at[e.id]
          << ", " << describe(e) << " at " << code << "\n";
    }
  }

  std::set<std::string> broadcast_cases;
  for (const auto& [id, e] : all) {
    if (e.broadcast) broadcast_cases.insert(e.case_id);
  }
  // Refusals: an event refused at node B is not expected at B or above.
  std::map<std::string, std::set<std::string>> refused_at;
  for (const auto& [code, rows] : held) {
    for (const auto& e : rows) {
      if (!e.refused_by.empty()) refused_at[e.id].insert(e.refused_by);
    }
  }
  auto refused_here = [&](const std::string& id, const std::string& code) {
    auto it = refused_at.find(id);
    if (it == refused_at.end()) return false;
    for (const auto& by : it->second) {
      if (by.starts_with(code)) return true;  // `code` is B or an ancestor of B
    }
    return false;
  };

  // Per node: exactly the events the routing rule names, each once.
  for (const auto& [code, rows] : held) {
    std::map<std::string, int> count;
    std::set<std::uint64_t> lsns;
    std::uint64_t max_lsn = 0;
    for (const auto& e : rows) {
      ++count[e.id];
      lsns.insert(e.lsn);
      max_lsn = std::max(max_lsn, e.lsn);
    }
    std::vector<std::string> missing, extra, twice;
    for (const auto& [id, e] : all) {
      const bool should =
          belongs_at(code, RouteKey{e.origin, e.home, e.broadcast, e.kind == "key_rotated"}) &&
          !refused_here(id, code);
      const auto it = count.find(id);
      const int n = it == count.end() ? 0 : it->second;
      if (should && n == 0) missing.push_back(describe(e));
      if (!should && n > 0) extra.push_back(describe(e));
      if (n > 1) twice.push_back(describe(e) + " x" + std::to_string(n));
    }
    std::vector<std::string> lsn_problems;
    if (lsns.size() != rows.size())
      lsn_problems.push_back(std::to_string(rows.size()) + " rows but " +
                             std::to_string(lsns.size()) + " distinct LSNs");
    if (count.size() != rows.size())
      lsn_problems.push_back(std::to_string(rows.size()) + " rows but " +
                             std::to_string(count.size()) + " distinct ids");
    if (!rows.empty() && max_lsn != rows.size())
      lsn_problems.push_back("LSNs not dense: highest " + std::to_string(max_lsn) + " for " +
                             std::to_string(rows.size()) + " events");

    // Cases: listed once each, exactly those it holds events of, counts agree.
    std::map<std::string, std::uint64_t> events_of_case;
    for (const auto& e : rows) {
      // Broadcasts, audit, keys: no case. A superseded event is skipped by the fold.
      if (!e.case_id.empty() && !e.superseded) ++events_of_case[e.case_id];
    }
    std::map<std::string, int> list_count;
    std::vector<std::string> case_problems;
    for (const auto& c : listed[code]) {
      if (broadcast_cases.count(c.case_id) != 0) continue;
      if (++list_count[c.case_id] == 2) case_problems.push_back(c.case_id + " listed twice");
      const auto it = events_of_case.find(c.case_id);
      if (it == events_of_case.end()) {
        case_problems.push_back(c.case_id + " listed but no event of it held");
      } else if (it->second != c.event_count) {
        case_problems.push_back(c.case_id + " lists " + std::to_string(c.event_count) +
                                " events, store holds " + std::to_string(it->second));
      }
    }
    for (const auto& [id, n] : events_of_case) {
      if (list_count.count(id) == 0)
        case_problems.push_back(id + " has " + std::to_string(n) + " events but is not listed");
    }

    if (missing.empty() && extra.empty() && twice.empty() && lsn_problems.empty() &&
        case_problems.empty())
      continue;
    r << "  node " << code << " holds " << rows.size() << " events:\n";
    list_some(r, "missing (routing rule names this node)", missing);
    list_some(r, "extra (routing rule does not name this node)", extra);
    list_some(r, "held more than once", twice);
    list_some(r, "log", lsn_problems);
    list_some(r, "case list", case_problems);
  }

  // Every node holding a case shows the same state.
  std::map<std::string, std::map<std::string, std::string>> state;  // case -> node -> state
  for (const auto& [code, rows] : listed) {
    for (const auto& c : rows) {
      if (broadcast_cases.count(c.case_id) != 0) continue;
      state[c.case_id][code] =
          c.status + (c.conflict ? "+conflict" : "") + "/" + std::to_string(c.event_count) + "ev";
    }
  }
  std::vector<std::string> disagree;
  for (const auto& [case_id, by_node] : state) {
    std::set<std::string> distinct;
    for (const auto& [code, s] : by_node)
      distinct.insert(s);
    if (distinct.size() <= 1) continue;
    std::string line = case_id + ":";
    for (const auto& [code, s] : by_node)
      line += " " + code + "=" + s;
    disagree.push_back(line);
  }
  if (!disagree.empty()) {
    r << "  case states differ between nodes:\n";
    list_some(r, "cases", disagree);
  }

  Convergence c;
  c.report = r.str();
  c.ok = c.report.empty();
  c.events = all.size();
  if (!c.ok)
    c.report = "not converged over " + std::to_string(all.size()) + " events:\n" + c.report;
  return c;
}

Convergence wait_converged(Net& net, milliseconds timeout) {
  // The check that held is the answer: checking again could catch an event
  // a daemon wrote meanwhile (an audit record) on its way, and fail a tree
  // that did converge.
  Convergence last;
  wait_until(
      [&] {
        last = check_converged(net);
        return last.ok;
      },
      timeout, milliseconds(250));
  return last;
}

}  // namespace liandong::test
