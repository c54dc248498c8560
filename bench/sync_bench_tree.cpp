#include "bench/sync_bench_tree.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <zmq.hpp>

#include "node/identity.h"
#include "protocol/control_codec.h"
#include "protocol/event_codec.h"
#include "protocol/routing.h"

namespace liandong::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last `n` lines of a log, for error messages.
std::string tail(const fs::path& file, std::size_t n) {
  const std::string text = read_text(file);
  std::size_t pos = text.size();
  for (std::size_t k = 0; k <= n && pos > 0; ++k) {
    const auto p = text.rfind('\n', pos - 1);
    if (p == std::string::npos) return text;
    if (k < n) pos = p;
  }
  return text.substr(pos);
}

double clock_ticks(const std::string& field) {
  return std::strtod(field.c_str(), nullptr) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// utime + stime from a /proc/.../stat line; -1 if unreadable.
double stat_cpu(const fs::path& stat_file) {
  const std::string line = read_text(stat_file);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; rest >> x && f.size() < 16;)
    f.push_back(x);
  if (f.size() < 13) return -1;
  return clock_ticks(f[11]) + clock_ticks(f[12]);  // fields 14 and 15 of stat(5)
}

uint64_t status_kib(const std::string& status, std::string_view key) {
  const auto at = status.find(std::string(key) + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + key.size() + 1, nullptr, 10);
}

// A TCP port on 127.0.0.1 that is free now, below the kernel's ephemeral
// range so that no outgoing connection takes it meanwhile.
int free_port(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(rng);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1 in 20000-32000");
}

std::vector<char*> c_argv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv)
    out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

// ---- processes ----------------------------------------------------------------------------

ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  const fs::path dir = fs::path("/proc") / std::to_string(pid);
  const double cpu = stat_cpu(dir / "stat");
  if (cpu < 0) return s;
  s.alive = true;
  s.cpu_s = cpu;
  const std::string status = read_text(dir / "status");
  s.hwm_kib = status_kib(status, "VmHWM");
  s.rss_kib = status_kib(status, "VmRSS");
  s.anon_kib = status_kib(status, "RssAnon");
  s.file_kib = status_kib(status, "RssFile");
  return s;
}

ThreadSample main_thread(pid_t pid) {
  ThreadSample t;
  const fs::path task = fs::path("/proc") / std::to_string(pid) / "task" / std::to_string(pid);
  const std::string line = read_text(task / "stat");
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return t;
  t.state = line[close + 2];
  std::istringstream sched(read_text(task / "schedstat"));
  double run_ns = 0, wait_ns = 0;
  sched >> run_ns >> wait_ns;
  t.run_s = run_ns / 1e9;
  t.runqueue_s = wait_ns / 1e9;
  return t;
}

int run_capture(const std::vector<std::string>& argv_in, std::string* out, std::string* err,
                milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return -1;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return -1;
  }
  std::vector<std::string> argv = argv_in;
  std::vector<char*> args = c_argv(argv);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return -1;
  }
  std::string o, e;
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open = 2;
  while (open > 0 && Clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (::poll(fds, 2, static_cast<int>(std::max<int64_t>(1, left))) < 0 && errno != EINTR) break;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k == 0 ? o : e).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[k].fd);
        fds[k].fd = -1;
        --open;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  pid_t got = 0;
  while (Clock::now() < deadline && (got = ::waitpid(pid, &status, WNOHANG)) == 0)
    std::this_thread::sleep_for(milliseconds(2));
  if (got != pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    status = -1;
  }
  if (out != nullptr) *out = std::move(o);
  if (err != nullptr) *err = std::move(e);
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ---- the control socket -------------------------------------------------------------------

ControlClient::ControlClient(zmq::context_t& ctx, std::string endpoint)
    : ctx_(ctx), endpoint_(std::move(endpoint)) {
  connect();
}

ControlClient::~ControlClient() = default;

void ControlClient::connect() {
  sock_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::req);
  sock_->set(zmq::sockopt::linger, 0);
  sock_->set(zmq::sockopt::sndtimeo, 2000);
  sock_->connect(endpoint_);
}

std::optional<ControlReply> ControlClient::call(const std::vector<std::string>& args,
                                                milliseconds timeout) {
  try {
    // One message, protocol/control.capnp, as the CLI's call_daemon sends it.
    const std::string bytes = encode_control_request(liandong::ControlRequest{args, {}});
    if (!sock_->send(zmq::buffer(bytes), zmq::send_flags::none)) {
      connect();
      return std::nullopt;
    }
    zmq::pollitem_t item{sock_->handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) {
      connect();
      return std::nullopt;
    }
    zmq::message_t m;
    if (!sock_->recv(m, zmq::recv_flags::dontwait) || m.more()) {
      connect();
      return std::nullopt;
    }
    auto reply = decode_control_reply(m.to_string_view());
    if (!reply.ok()) {
      connect();
      return std::nullopt;
    }
    ControlReply r;
    r.exit_code = reply->exit_code;
    r.out = std::move(reply->out);
    r.err = std::move(reply->err);
    return r;
  } catch (const zmq::error_t&) {
    connect();
    return std::nullopt;
  }
}

// ---- link counters ------------------------------------------------------------------------

LinkCounters link_delta(const LinkSnapshot& before, const LinkSnapshot& after,
                        const std::string& node, const std::string& peer) {
  LinkCounters d;
  auto a = after.find({node, peer});
  if (a == after.end()) return d;
  LinkCounters b;
  if (auto it = before.find({node, peer}); it != before.end()) b = it->second;
  auto grew = [](uint64_t now, uint64_t then) { return now - std::min(now, then); };
  d.bytes_sent = grew(a->second.bytes_sent, b.bytes_sent);
  d.bytes_received = grew(a->second.bytes_received, b.bytes_received);
  d.batches_sent = grew(a->second.batches_sent, b.batches_sent);
  d.batches_received = grew(a->second.batches_received, b.batches_received);
  return d;
}

uint64_t bytes_sent_total(const LinkSnapshot& before, const LinkSnapshot& after) {
  uint64_t total = 0;
  for (const auto& [key, c] : after)
    total += link_delta(before, after, key.first, key.second).bytes_sent;
  return total;
}

// ---- arrivals -----------------------------------------------------------------------------

ArrivalWatch::ArrivalWatch(storage::Store& store) : store_(store) {
  thread_ = std::thread([this] { loop(); });
}

ArrivalWatch::~ArrivalWatch() {
  stop_ = true;
  thread_.join();
}

void ArrivalWatch::add(const Id& id) {
  std::lock_guard lock(mu_);
  ids_.push_back(id);
  arrived_.emplace_back();
}

std::optional<Clock::time_point> ArrivalWatch::arrival(std::size_t i) {
  std::lock_guard lock(mu_);
  return i < arrived_.size() ? arrived_[i] : std::nullopt;
}

std::size_t ArrivalWatch::pending() {
  std::lock_guard lock(mu_);
  return ids_.size() - found_;
}

void ArrivalWatch::loop() {
  while (!stop_) {
    std::vector<std::pair<std::size_t, Id>> todo;
    {
      std::lock_guard lock(mu_);
      for (std::size_t i = first_open_; i < ids_.size(); ++i)
        if (!arrived_[i]) todo.emplace_back(i, ids_[i]);
    }
    for (const auto& [i, id] : todo) {
      auto f = store_.find(id);
      if (f.ok() && *f) {
        const auto now = Clock::now();
        std::lock_guard lock(mu_);
        arrived_[i] = now;
        ++found_;
      }
    }
    {
      std::lock_guard lock(mu_);
      while (first_open_ < ids_.size() && arrived_[first_open_])
        ++first_open_;
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
}

// ---- the tree -----------------------------------------------------------------------------

Tree::Tree(fs::path liandong, fs::path root, std::vector<std::pair<std::string, std::string>> nodes,
           std::string sync_toml, std::string log_level)
    : liandong_(std::move(liandong)),
      root_(std::move(root)),
      sync_toml_(std::move(sync_toml)),
      log_level_(std::move(log_level)),
      ctx_(std::make_unique<zmq::context_t>(1)) {
  for (auto& [code, parent] : nodes) {
    auto n = std::make_unique<TreeNode>();
    n->code = code;
    n->parent = parent;
    n->dir = root_ / code;
    n->data = n->dir / "data";
    n->config = n->dir / "node.toml";
    n->log = n->dir / "node.log";
    fs::create_directories(n->dir);
    nodes_.push_back(std::move(n));
  }
}

Tree::~Tree() {
  for (auto& n : nodes_) {
    n->control.reset();
    if (n->pid > 0) {
      ::kill(n->pid, SIGKILL);
      int status = 0;
      ::waitpid(n->pid, &status, 0);
      n->pid = -1;
    }
  }
  ctx_.reset();
}

TreeNode& Tree::node(const std::string& code) {
  for (auto& n : nodes_)
    if (n->code == code) return *n;
  throw std::runtime_error("no node " + code + " in the tree");
}

std::vector<const TreeNode*> Tree::children_of(const std::string& code) const {
  std::vector<const TreeNode*> out;
  for (const auto& n : nodes_)
    if (n->parent == code) out.push_back(n.get());
  return out;
}

std::vector<const TreeNode*> Tree::admitted_by(const std::string& code) const {
  std::vector<const TreeNode*> out = children_of(code);
  if (!fallback_) return out;
  for (const auto& n : nodes_) {
    if (n->parent.empty()) continue;
    for (const auto& p : nodes_)
      if (p->code == n->parent && p->parent == code) out.push_back(n.get());
  }
  return out;
}

void Tree::init_all(unsigned threads) {
  std::vector<std::string> errors(nodes_.size());
  std::vector<std::thread> workers;
  const std::size_t step = std::max(1u, threads);
  for (std::size_t t = 0; t < step; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t k = t; k < nodes_.size(); k += step) {
        try {
          init_one(*nodes_[k]);
        } catch (const std::exception& e) {
          errors[k] = e.what();
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
}

void Tree::init_one(TreeNode& n) {
  std::string out, err;
  const int rc =
      run_capture({liandong_.string(), "init", "--data", n.data.string(), "--code", n.code}, &out,
                  &err, milliseconds(30000));
  if (rc != 0) throw std::runtime_error("liandong init " + n.code + " failed: " + err);
  const int rc2 =
      run_capture({liandong_.string(), "keys", "show", "--data", n.data.string(), "--json"}, &out,
                  &err, milliseconds(30000));
  auto j = rc2 == 0 ? parse_json(out) : std::nullopt;
  if (!j) throw std::runtime_error("liandong keys show " + n.code + " failed: " + err + out);
  n.keys = NodeKeys{j->str("code"), j->str("sign_key"), j->str("curve_key"), j->str("store_id")};
  if (n.keys.code != n.code || n.keys.sign_key.size() != 64 || n.keys.curve_key.size() != 40)
    throw std::runtime_error("liandong keys show " + n.code + ": unexpected answer " + out);
}

void Tree::write_config(TreeNode& n) {
  std::ostringstream t;
  t << "# Written by sync_bench for one run.\n"
    << "[node]\ncode = \"" << n.code << "\"\ndata = \"" << n.data.string() << "\"\n"
    << "log_level = \"" << log_level_ << "\"\n";
  const auto kids = children_of(n.code);
  if (!kids.empty()) t << "\n[listen]\nendpoint = \"tcp://127.0.0.1:" << n.port << "\"\n";
  std::vector<const TreeNode*> ups;
  if (!n.parent.empty()) {
    ups.push_back(&node(n.parent));
    if (fallback_ && !ups[0]->parent.empty()) ups.push_back(&node(ups[0]->parent));
  }
  for (const TreeNode* p : ups) {
    if (p->port == 0)
      throw std::runtime_error("upstream " + p->code + " of " + n.code + " not started");
    t << "\n[[upstream]]\ncode = \"" << p->code << "\"\nendpoint = \"tcp://127.0.0.1:" << p->port
      << "\"\ncurve_key = \"" << p->keys.curve_key << "\"\nsign_key = \"" << p->keys.sign_key
      << "\"\n";
  }
  for (const TreeNode* k : admitted_by(n.code)) {
    t << "\n[[child]]\ncode = \"" << k->code << "\"\ncurve_key = \"" << k->keys.curve_key
      << "\"\nsign_key = \"" << k->keys.sign_key << "\"\n";
  }
  t << "\n[sync]\n" << sync_toml_;
  std::ofstream out(n.config, std::ios::trunc);
  out << t.str();
  if (!out) throw std::runtime_error("cannot write " + n.config.string());
}

void Tree::spawn(TreeNode& n) {
  std::vector<std::string> argv = {liandong_.string(), "run", "--config", n.config.string()};
  std::vector<char*> args = c_argv(argv);
  const int log_fd = ::open(n.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) throw std::runtime_error("cannot open " + n.log.string());
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  n.pid = pid;
}

bool Tree::spawn_and_wait(TreeNode& n, std::string& why) {
  spawn(n);
  return wait_ready(n, why);
}

bool Tree::wait_ready(TreeNode& n, std::string& why) {
  const pid_t pid = n.pid;
  const auto deadline = Clock::now() + milliseconds(15000);
  const fs::path lock = n.data / "daemon.lock";
  for (int round = 0; round < 100000 && Clock::now() < deadline; ++round) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      n.pid = -1;
      why = "exited with " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ":\n" +
            tail(n.log, 5);
      return false;
    }
    std::istringstream in(read_text(lock));
    long lock_pid = 0;
    std::string endpoint;
    in >> lock_pid >> endpoint;
    if (lock_pid == pid && !endpoint.empty()) {
      if (!n.control) n.control = std::make_unique<ControlClient>(*ctx_, endpoint);
      auto r =
          n.control->call({"keys", "show", "--data", n.data.string(), "--json"}, milliseconds(500));
      if (r && r->exit_code == 0) return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  why = "did not answer on its control socket within 15 s:\n" + tail(n.log, 5);
  return false;
}

void Tree::start(const std::string& code) {
  TreeNode& n = node(code);
  if (n.pid > 0) throw std::runtime_error(code + " is already running");
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^
                   static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  const bool listens = !children_of(code).empty();
  std::string why;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (listens && (attempt > 0 || n.port == 0)) n.port = free_port(rng);
    write_config(n);
    n.control.reset();
    if (spawn_and_wait(n, why)) return;
    if (n.pid > 0) {
      ::kill(n.pid, SIGKILL);
      int status = 0;
      ::waitpid(n.pid, &status, 0);
      n.pid = -1;
    }
    if (!listens || why.find("cannot listen") == std::string::npos) break;
  }
  throw std::runtime_error("daemon " + code + " did not start: " + why);
}

void Tree::start_many(const std::vector<std::string>& codes) {
  for (const auto& code : codes) {
    TreeNode& n = node(code);
    if (n.pid > 0) throw std::runtime_error(code + " is already running");
    if (!children_of(code).empty()) throw std::runtime_error(code + " listens: use start()");
    write_config(n);
    n.control.reset();
    spawn(n);
  }
  for (const auto& code : codes) {
    TreeNode& n = node(code);
    std::string why;
    if (!wait_ready(n, why)) throw std::runtime_error("daemon " + code + " did not start: " + why);
  }
}

int Tree::wait_exit(TreeNode& n, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (int round = 0; round < 1000000; ++round) {
    const pid_t got = ::waitpid(n.pid, &status, WNOHANG);
    if (got == n.pid) {
      n.pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (got < 0 || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  ::kill(n.pid, SIGKILL);
  ::waitpid(n.pid, &status, 0);
  n.pid = -1;
  return -1;
}

int Tree::stop(const std::string& code) {
  TreeNode& n = node(code);
  if (n.pid <= 0) return 0;
  n.control.reset();
  ::kill(n.pid, SIGTERM);
  return wait_exit(n, milliseconds(15000));
}

bool Tree::stop_all() {
  bool clean = true;
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    if ((*it)->pid <= 0) continue;
    const int rc = stop((*it)->code);
    if (rc != 0) {
      clean = false;
      std::fprintf(stderr, "sync_bench: daemon %s exited with %d\n", (*it)->code.c_str(), rc);
    }
  }
  return clean;
}

std::vector<std::string> Tree::stop_many(const std::vector<std::string>& codes) {
  std::vector<TreeNode*> running;
  for (const auto& c : codes) {
    TreeNode& n = node(c);
    if (n.pid <= 0) continue;
    n.control.reset();
    ::kill(n.pid, SIGTERM);
    running.push_back(&n);
  }
  std::vector<std::string> unclean;
  for (TreeNode* n : running)
    if (wait_exit(*n, milliseconds(15000)) != 0) unclean.push_back(n->code);
  return unclean;
}

ControlReply Tree::control(const std::string& code, const std::vector<std::string>& args,
                           milliseconds timeout) {
  TreeNode& n = node(code);
  if (n.pid <= 0 || !n.control) throw std::runtime_error(code + " is not running");
  auto r = n.control->call(args, timeout);
  if (!r) throw std::runtime_error("no answer from " + code + "'s control socket");
  return *r;
}

Json Tree::status(const std::string& code, milliseconds timeout) {
  const TreeNode& n = node(code);
  const ControlReply r = control(code, {"status", "--data", n.data.string(), "--json"}, timeout);
  auto j = r.exit_code == 0 ? parse_json(r.out) : std::nullopt;
  if (!j) throw std::runtime_error("status of " + code + " failed: " + r.err);
  return *j;
}

bool Tree::link_up(const std::string& observer, const std::string& peer) {
  const Json s = status(observer);
  const Json* links = s.get("links");
  if (links == nullptr) return false;
  for (const auto& l : links->items) {
    if (l.str("peer") == peer && l.str("state") == "up") return true;
  }
  return false;
}

void Tree::wait_links_up(const std::vector<std::string>& children, milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  for (const auto& c : children) {
    for (int round = 0; !link_up(node(c).parent, c); ++round) {
      if (Clock::now() > deadline || round > 100000)
        throw std::runtime_error("the link of " + c + " did not come up");
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
}

LinkSnapshot Tree::link_counters() {
  LinkSnapshot out;
  for (const auto& n : nodes_) {
    if (n->pid <= 0) continue;
    const Json st = status(n->code);
    if (const Json* links = st.get("links")) {
      for (const auto& l : links->items) {
        out[{n->code, l.str("peer")}] =
            LinkCounters{l.u64("bytes_sent"), l.u64("bytes_received"), l.u64("batches_sent"),
                         l.u64("batches_received")};
      }
    }
  }
  return out;
}

int open_fds(pid_t pid) {
  std::error_code ec;
  int count = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++count;
  return ec ? -1 : count;
}

ProcStats Tree::stats(const std::string& code) {
  const TreeNode& n = node(code);
  return n.pid > 0 ? proc_stats(n.pid) : ProcStats{};
}

// ---- the workload ---------------------------------------------------------------------------

namespace {

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                     "吴", "周", "徐", "孙", "朱", "胡", "郭", "何"};
constexpr const char* kGivenNames[] = {"建国", "秀英", "春梅", "志强", "桂兰", "海燕",
                                       "德明", "玉珍", "小平", "金凤", "永福", "红霞"};
constexpr const char* kFields[][2] = {
    {"建房地址", "黄龙镇大龙村"},
    {"宅基地面积", "120㎡"},
    {"建筑面积", "240㎡"},
    {"建筑层数", "2"},
    {"四至", "东至村道，南至邻宅，西至自留地，北至山林"},
};
constexpr const char* kMaterials[] = {"宅基地和建房申请表", "居民身份证", "户口簿",
                                      "村民小组会议记录"};

std::string field_value(unsigned k, const Application& a) {
  return k == 0 ? std::string(kFields[k][1]) + "第" + a.group + "组" : kFields[k][1];
}

}  // namespace

Application application(std::size_t i) {
  Application a;
  a.name = std::string(kSurnames[i % 16]) + kGivenNames[(i / 16) % 12];
  char base[32];
  std::snprintf(base, sizeof base, "360723%04zu%02zu%02zu%03zu", 1950 + i % 50, 1 + i % 12,
                1 + i % 28, i % 1000);
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int k = 0; k < 17; ++k)
    sum += (base[k] - '0') * kWeights[k];
  a.id_number = std::string(base, 17) + "10X98765432"[sum % 11];
  a.phone = "138" + std::to_string(10000000 + i % 89999999);
  a.group = std::to_string(1 + i % 9);
  a.address = "黄龙镇大龙村" + a.group + "组" + std::to_string(1 + i % 60) + "号";
  return a;
}

void fill_submitted(proto::Event::Builder ev, const Application& a, const std::string& origin) {
  auto actor = ev.initActor();
  actor.setName("刘春梅");
  actor.setRole(proto::Role::AGENT);
  actor.setStaffId("DL-" + origin.substr(9));
  auto b = ev.initBody().initSubmitted();
  auto ap = b.initApplicant();
  ap.setName(a.name);
  ap.setIdNumber(a.id_number);
  ap.setPhone(a.phone);
  ap.setAddress(a.address);
  b.setItemCode("360723-ZJD-0001");
  b.setItemName("农村宅基地建房");
  b.setCatalogVersion(12);
  auto fields = b.initFields(std::size(kFields));
  for (unsigned k = 0; k < std::size(kFields); ++k) {
    fields[k].setKey(kFields[k][0]);
    fields[k].setValue(field_value(k, a));
  }
  auto ms = b.initMaterials(std::size(kMaterials));
  for (unsigned k = 0; k < std::size(kMaterials); ++k) {
    ms[k].setName(kMaterials[k]);
    ms[k].setOriginal(k == 0 || k == 3);
    ms[k].setCount(1);
    ms[k].setState(proto::MaterialState::PROVIDED);
  }
  b.setFeeDue(0);
  b.setSummary(a.name + "户申请拆旧建新。");
}

// The same application as a `liandong submit` command line.
std::vector<std::string> submit_args(const TreeNode& n, const Application& a) {
  std::vector<std::string> args = {"submit", "--data", n.data.string(), "--json-out"};
  const std::pair<const char*, std::string> options[] = {
      {"--actor", "刘春梅"},
      {"--role", "agent"},
      {"--staff-id", "DL-" + n.code.substr(9)},
      {"--item", "360723-ZJD-0001"},
      {"--item-name", "农村宅基地建房"},
      {"--catalog-version", "12"},
      {"--applicant", a.name},
      {"--id-number", a.id_number},
      {"--phone", a.phone},
      {"--address", a.address},
      {"--summary", a.name + "户申请拆旧建新。"},
  };
  for (const auto& [option, value] : options) {
    args.push_back(option);
    args.push_back(value);
  }
  for (unsigned k = 0; k < std::size(kFields); ++k) {
    args.push_back("--field");
    args.push_back(std::string(kFields[k][0]) + "=" + field_value(k, a));
  }
  for (unsigned k = 0; k < std::size(kMaterials); ++k) {
    args.push_back("--material");
    args.push_back(std::string(kMaterials[k]) +
                   ":provided:" + (k == 0 || k == 3 ? "original" : "copy"));
  }
  return args;
}

std::unique_ptr<storage::Store> open_store(const TreeNode& n) {
  auto s = storage::Store::open(storage::StoreOptions{node::store_dir(n.data)});
  if (!s.ok())
    throw std::runtime_error("cannot open the store of " + n.code + ": " + s.status().message());
  return std::move(s).value();
}

uint64_t cases_in(const storage::Store& s) {
  auto st = s.stats();
  if (!st.ok()) throw std::runtime_error("store stats: " + st.status().message());
  return st->cases;
}

std::map<Id, RoutedEvent> routed_events(const storage::Store& s) {
  std::map<Id, RoutedEvent> out;
  std::string error;
  const Status st = s.scan_log(
      0, std::numeric_limits<std::size_t>::max(), [&](uint64_t lsn, std::string_view bytes) {
        auto ev = EventView::parse(bytes);
        if (!ev.ok()) {
          error = "LSN " + std::to_string(lsn) + ": " + ev.status().message();
          return false;
        }
        if (ev->kind() == EventKind::audit) return true;
        const auto home = ev->event().getHome();
        out[ev->id()] = RoutedEvent{ev->id().origin, std::string(home.begin(), home.size()),
                                    is_broadcast(ev->kind()), is_lineage(ev->kind())};
        return true;
      });
  if (!st.ok()) throw std::runtime_error("scan of " + s.code() + "'s log: " + st.message());
  if (!error.empty()) throw std::runtime_error("scan of " + s.code() + "'s log: " + error);
  return out;
}

std::string routing_mismatch(const std::map<std::string, std::map<Id, RoutedEvent>>& held) {
  std::map<Id, RoutedEvent> all;
  for (const auto& [code, events] : held)
    all.insert(events.begin(), events.end());
  std::ostringstream why;
  for (const auto& [code, events] : held) {
    std::vector<Id> missing, extra;
    for (const auto& [id, e] : all) {
      const bool should = belongs_at(code, RouteKey{e.origin, e.home, e.broadcast, e.lineage});
      const bool has = events.count(id) != 0;
      if (should && !has) missing.push_back(id);
      if (!should && has) extra.push_back(id);
    }
    if (missing.empty() && extra.empty()) continue;
    auto some = [](const std::vector<Id>& ids) {
      std::string t;
      for (std::size_t k = 0; k < ids.size() && k < 3; ++k)
        t += (k ? ", " : " (") + format_id(ids[k]);
      return ids.empty() ? t : t + (ids.size() > 3 ? ", ...)" : ")");
    };
    why << code << ": " << missing.size() << " missing" << some(missing) << ", " << extra.size()
        << " not routed to it" << some(extra) << "; ";
  }
  return why.str();
}

double fill_offline(Tree& tree, const std::vector<std::string>& codes, std::size_t count,
                    unsigned threads, const std::function<bool()>& stop) {
  const auto t0 = Clock::now();
  std::vector<std::thread> workers;
  std::vector<std::string> errors(codes.size());
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t v = t; v < codes.size(); v += threads) {
        try {
          const TreeNode& n = tree.node(codes[v]);
          auto store = open_store(n);
          auto id = node::load_identity(n.data);
          if (!id.ok()) throw std::runtime_error(id.status().message());
          for (std::size_t done = 0; done < count && !stop();) {
            if (Clock::now() - t0 > std::chrono::minutes(10))
              throw std::runtime_error("filling took over 10 minutes");
            const std::size_t k = std::min<std::size_t>(1000, count - done);
            std::vector<storage::LocalDraft> drafts(k);
            for (std::size_t j = 0; j < k; ++j) {
              const Application a = application(v * count + done + j);
              drafts[j].fill = [a, &n](proto::Event::Builder ev) { fill_submitted(ev, a, n.code); };
            }
            for (auto& r : store->append_local(drafts, id->sign))
              if (!r.ok()) throw std::runtime_error("append_local: " + r.status().message());
            done += k;
          }
        } catch (const std::exception& e) {
          errors[v] = codes[v] + ": " + e.what();
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error("filling " + e);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace liandong::bench
