// Hostile peers against a real township daemon: a sibling village with its
// own valid CurveZMQ key that claims another village's code (its routing
// id, its Hello), a peer that floods well-formed messages outside a
// session, and a host with no key that opens thousands of idle TCP
// connections. Abuse is charged to the code the key is bound to, never to
// a claimed one; peer-triggered log lines are written at a bounded rate;
// the honest children keep syncing and the daemon stays up.
//
// The sibling (village 003) never runs a daemon: the test speaks for it
// with its key files from `liandong init` (DATA/keys/curve.key, curve.pub),
// as tests/forge_test.cpp does for a township.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "protocol/sync_codec.h"
#include "tests/json_reader.h"
#include "tests/net_fixture.h"
#include "tests/support/files.h"
#include "tests/support/submit.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::SyncTimings;
using liandong::test::wait_until;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace proto = liandong::proto;
namespace wire = liandong::sync;

namespace {

using Clock = std::chrono::steady_clock;

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kV1 = "360723101001";
const std::string kV2 = "360723101002";
const std::string kV3 = "360723101003";  // the sibling: a valid key, hostile

Net make_net() {
  SyncTimings t;
  t.heartbeat_ms = 300;
  t.peer_timeout_ms = 3000;
  t.ack_timeout_ms = 2000;
  return Net({{kCounty, {}}, {kTown, {kCounty}}, {kV1, {kTown}}, {kV2, {kTown}}, {kV3, {kTown}}},
             t);
}

using liandong::test::read_text;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

bool log_shows(const Net& net, const std::string& code, const std::string& text,
               std::chrono::milliseconds timeout = 5s) {
  return wait_until([&] { return read_text(net.log_path(code)).find(text) != std::string::npos; },
                    timeout);
}

std::string first_word(const fs::path& p) {
  std::ifstream in(p);
  std::string w;
  in >> w;
  return w;
}

using liandong::test::submit;

// The link from `code` to `peer` is up ("up" or "up+active").
bool link_up(const Net& net, const std::string& code, const std::string& peer) {
  return net.link_state(code, peer).rfind("up", 0) == 0;
}

bool holds_case(const Net& net, const std::string& code, const std::string& id) {
  return net.cli(code, {"case", "show", id, "--json"}, 10s).exit_code == 0;
}

std::string heartbeat() {
  capnp::MallocMessageBuilder msg;
  auto h = msg.initRoot<proto::SyncMessage>().initHeartbeat();
  h.setSentMs(1);
  return wire::encode(msg);
}

std::string hello_as(const Net& net, const std::string& code) {
  capnp::MallocMessageBuilder msg;
  auto h = msg.initRoot<proto::SyncMessage>().initHello();
  h.setVersion(wire::kProtocolVersion);
  h.setCode(code);
  h.setStoreId(net.keys(code).store_id);
  wire::write_cursor(h.initHave(), {});
  return wire::encode(msg);
}

// A connection made with village 003's own key files, whatever routing id
// it is given. Records what the township sends it.
class Sibling {
 public:
  Sibling(const Net& net, const std::string& routing_id) : sock_(ctx_, zmq::socket_type::dealer) {
    const fs::path keys = net.data_dir(kV3) / "keys";
    sock_.set(zmq::sockopt::linger, 0);
    sock_.set(zmq::sockopt::routing_id, routing_id);
    sock_.set(zmq::sockopt::curve_serverkey, net.keys(kTown).curve_key);
    sock_.set(zmq::sockopt::curve_publickey, first_word(keys / "curve.pub"));
    sock_.set(zmq::sockopt::curve_secretkey, first_word(keys / "curve.key"));
    sock_.set(zmq::sockopt::sndtimeo, 1000);
    sock_.connect(net.listen_endpoint(kTown));
  }
  void send(const std::string& bytes) {
    (void)sock_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  // Reads what arrived, for up to `d`.
  void drain(std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    for (int turn = 0; turn < 10000; ++turn) {
      zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return;
      zmq::poll(&item, 1, left);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t m;
      if (!sock_.recv(m, zmq::recv_flags::dontwait)) continue;
      auto parsed = wire::SyncReader::parse(m.to_string(), 64u << 20);
      if (!parsed.ok()) {
        ++kinds_["unreadable"];
        continue;
      }
      try {
        switch (parsed->root().which()) {
          case proto::SyncMessage::REFUSED:
            ++kinds_["refused"];
            break;
          case proto::SyncMessage::WELCOME:
            ++kinds_["welcome"];
            break;
          case proto::SyncMessage::HEARTBEAT:
            ++kinds_["heartbeat"];
            break;
          case proto::SyncMessage::ACK:
            ++kinds_["ack"];
            break;
          case proto::SyncMessage::BATCH:
            ++kinds_["batch"];
            break;
          default:
            ++kinds_["other"];
        }
      } catch (const kj::Exception&) {
        ++kinds_["unreadable"];
      }
    }
  }
  // Counts by kind of what the township sent; anything but "refused" is
  // another village's traffic.
  const std::map<std::string, int>& kinds() const { return kinds_; }
  int not_refusals() const {
    int n = 0;
    for (const auto& [k, v] : kinds_)
      if (k != "refused") n += v;
    return n;
  }

 private:
  zmq::context_t ctx_;
  zmq::socket_t sock_;
  std::map<std::string, int> kinds_;
};

// The routing-id trick: connect with village 003's key as village 001,
// send 12 garbage frames and a Hello in 001's name.
void routing_id_trick(const Net& net, Sibling& s) {
  for (int i = 0; i < 12; ++i) {
    s.send(i % 2 == 0 ? std::string("not a message") : std::string(8, '\0'));
    s.drain(20ms);
  }
  s.send(hello_as(net, kV1));
  s.drain(300ms);
}

// Raises this process's descriptor limit to `n` (at most the hard limit);
// returns the soft limit it had.
rlim_t set_soft_fd_limit(rlim_t n) {
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  const rlim_t before = rl.rlim_cur;
  rl.rlim_cur = std::min(n, rl.rlim_max);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &rl) == 0);
  return before;
}

int port_of(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// Idle TCP connections to 127.0.0.1:port from a host with no key: opens
// `target` of them and, until stopped, opens a new one for each the
// server closes (at most `per_round` every 50 ms), sending nothing.
class IdleFlood {
 public:
  IdleFlood(int port, std::size_t target, std::size_t per_round)
      : port_(port), target_(target), per_round_(per_round) {
    thread_ = std::thread([this] { run(); });
  }
  ~IdleFlood() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : fds_)
      ::close(fd);
    fds_.clear();
  }
  std::size_t opened() const { return opened_; }
  std::size_t open_now() const { return open_now_; }
  std::size_t failed() const { return failed_; }

 private:
  int open_one() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  void run() {
    const auto deadline = Clock::now() + 120s;
    std::vector<pollfd> p;
    while (!stop_ && Clock::now() < deadline) {
      std::size_t added = 0;
      while (fds_.size() < target_ && added < (opened_ < target_ ? target_ : per_round_)) {
        const int fd = open_one();
        if (fd < 0) {
          ++failed_;
          break;
        }
        fds_.push_back(fd);
        ++opened_;
        ++added;
      }
      open_now_ = fds_.size();
      // Which did the server close?
      p.clear();
      for (int fd : fds_)
        p.push_back({fd, POLLRDHUP, 0});
      ::poll(p.data(), p.size(), 50);
      std::vector<int> kept;
      kept.reserve(fds_.size());
      for (const auto& e : p) {
        if (e.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          ::close(e.fd);
        } else {
          kept.push_back(e.fd);
        }
      }
      fds_.swap(kept);
    }
  }

  int port_;
  std::size_t target_, per_round_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0}, open_now_{0}, failed_{0};
  std::vector<int> fds_;
  std::thread thread_;
};

std::size_t open_fds(int pid) {
  std::size_t n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return 0;
  while (readdir(d) != nullptr)
    ++n;
  ::closedir(d);
  return n >= 2 ? n - 2 : 0;
}

int daemon_pid(const Net& net, const std::string& code) {
  auto r = net.cli(code, {"status", "--json"}, 20s);
  auto j = liandong::test::parse_json(r.out);
  return j ? static_cast<int>(j->u64("pid")) : 0;
}

}  // namespace

TEST_CASE("hostile: a sibling posing as another village is charged itself, that village stays up",
          "[hostile][security]") {
  Net net = make_net();
  net.start(kCounty);
  net.start(kTown);
  net.start(kV1);
  net.start(kV2);
  REQUIRE(wait_until([&] { return link_up(net, kTown, kV1); }, 15s));
  // The sibling's key claims village 001: its routing id, then its Hello.
  Sibling legacy(net, kV1);
  routing_id_trick(net, legacy);
  Sibling guessed(net, kV1 + "/0000000000000001");
  routing_id_trick(net, guessed);
  // The key's owner is dropped; the village it named is not.
  CHECK(log_shows(net, kTown, "dropping the link with " + kV3));
  legacy.drain(1500ms);  // heartbeats to 001 would arrive by now
  guessed.drain(100ms);
  INFO("the sibling received: refused " << legacy.kinds().count("refused"));
  CHECK(legacy.not_refusals() == 0);
  CHECK(guessed.not_refusals() == 0);
  const std::string log = read_text(net.log_path(kTown));
  CHECK(log.find("dropping the link with " + kV1) == std::string::npos);
  CHECK(log.find(kV1 + " is down") == std::string::npos);
  CHECK(link_up(net, kTown, kV1));
  // And 001 keeps syncing at once, not 5 minutes later.
  const std::string c = submit(net, kV1);
  CHECK(wait_until([&] { return holds_case(net, kCounty, c); }, 10s));
  CHECK(net.unexpected_exits().empty());
}

TEST_CASE(
    "hostile: well-formed messages outside a session are charged and logged at a bounded rate",
    "[hostile][security]") {
  Net net = make_net();
  net.start(kTown);
  net.start(kV1);
  const auto before = read_text(net.log_path(kTown)).size();
  // Village 003's own key and routing id, but no Hello: heartbeats, 2,000 a
  // second for 12 s. Refused and charged once a second, the key is dropped
  // after ten.
  Sibling s(net, kV3);
  const std::string hb = heartbeat();
  const auto until = Clock::now() + 12s;
  int sent = 0;
  for (int round = 0; round < 200 && Clock::now() < until; ++round) {
    for (int i = 0; i < 200; ++i, ++sent)
      s.send(hb);
    s.drain(100ms);
  }
  CHECK(sent >= 20000);
  CHECK(log_shows(net, kTown, "dropping the link with " + kV3, 5s));
  // Once dropped, it is not even told.
  const int refusals = s.kinds().count("refused") ? s.kinds().at("refused") : 0;
  for (int i = 0; i < 2000; ++i)
    s.send(hb);
  s.drain(1500ms);
  CHECK((s.kinds().count("refused") ? s.kinds().at("refused") : 0) == refusals);
  CHECK(s.not_refusals() == 0);
  const std::string log = read_text(net.log_path(kTown)).substr(before);
  const auto lines = static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n'));
  INFO(log.substr(0, 4000));
  // Each kind of line a peer can trigger: 10 per 10 s and one count.
  CHECK(count_of(log, "refused " + kV3) <= 20);
  CHECK(lines < 200);
  CHECK(log.size() < 64 * 1024);
  CHECK(net.running(kTown));
  CHECK(link_up(net, kV1, kTown));
}

TEST_CASE(
    "hostile: under 10,000 idle connections and a sibling's routing-id trick the children keep "
    "syncing",
    "[hostile][security][integration]") {
  // This process holds the idle connections: raise its own limit first.
  const rlim_t ours = set_soft_fd_limit(RLIM_INFINITY);
  {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 12000) {
      set_soft_fd_limit(ours);
      WARN("needs a hard limit of at least 12,000 open files; have " << rl.rlim_cur << ": skipped");
      return;
    }
  }
  Net net = make_net();
  net.start(kCounty);
  // The township starts with the soft limit most systems give a process.
  set_soft_fd_limit(1024);
  net.start(kTown);
  set_soft_fd_limit(RLIM_INFINITY);
  net.start(kV1);
  net.start(kV2);
  REQUIRE(wait_until([&] { return link_up(net, kTown, kV1) && link_up(net, kTown, kV2); }, 15s));
  const int town_pid = daemon_pid(net, kTown);
  REQUIRE(town_pid > 0);
  const auto log_before = read_text(net.log_path(kTown)).size();

  // The attack: 10,000 idle connections from a host with no key, renewed as
  // the township closes them, and the sibling's routing-id trick.
  const auto attack_start = Clock::now();
  Sibling sibling(net, kV1);
  routing_id_trick(net, sibling);
  IdleFlood flood(port_of(net.listen_endpoint(kTown)), 10'000, 500);
  REQUIRE(wait_until([&] { return flood.opened() >= 10'000; }, 20s));

  // The honest villages submit in turn; each submission's time to reach the
  // township (polled through the township's CLI) is one sample.
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) {
    const std::string& v = i % 2 == 0 ? kV1 : kV2;
    const std::string c = submit(net, v);
    const auto t0 = Clock::now();
    const bool arrived = wait_until([&] { return holds_case(net, kTown, c); }, 20s, 10ms);
    INFO("submission " << i << " at " << v << " did not reach the township");
    REQUIRE(arrived);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    sibling.send(std::string("not a message"));  // the sibling keeps at it (banned)
  }
  const std::size_t fds = open_fds(town_pid);
  const double attack_s = std::chrono::duration<double>(Clock::now() - attack_start).count();
  const std::size_t opened = flood.opened();
  flood.stop();
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double p99 = ms[std::min(ms.size() - 1, (ms.size() * 99) / 100)];
  const std::string log = read_text(net.log_path(kTown)).substr(log_before);
  const auto lines = static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n'));
  std::printf(
      "hostile: %zu idle connections opened in %.1f s of attack; township holds %zu descriptors; "
      "submission->township latency p50 %.0f ms, p99 %.0f ms, max %.0f ms (%zu samples); "
      "township log grew %zu bytes, %zu lines\n",
      opened, attack_s, fds, p50, p99, ms.back(), ms.size(), log.size(), lines);
  INFO("log during the attack (start): " << log.substr(0, 3000));
  CHECK(opened >= 10'000);
  // The township stays up and bounded: its descriptors, its log.
  CHECK(net.running(kTown));
  CHECK(net.unexpected_exits().empty());
  CHECK(fds < 1024);
  CHECK(lines < 1500);
  CHECK(log.size() < 256 * 1024);
  // The sibling's key was charged, the village it named never.
  CHECK(log_shows(net, kTown, "dropping the link with " + kV3, 1s));
  CHECK(log.find("dropping the link with " + kV1) == std::string::npos);
  CHECK(sibling.not_refusals() == 0);
  CHECK(p99 < 5000);
  // And the villages' work goes on up to the county.
  const std::string last1 = submit(net, kV1), last2 = submit(net, kV2);
  CHECK(wait_until(
      [&] { return holds_case(net, kCounty, last1) && holds_case(net, kCounty, last2); }, 20s));
}
