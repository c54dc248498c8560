// One application layer behind every entry point (node/app/): a rule the
// layer enforces holds alike when the CLI runs a command on the store
// itself and when it sends the command to a running daemon's control
// socket (protocol/control.capnp); node/app/app_test.cpp calls the same
// operation directly. A malformed control request is answered with one
// line and changes nothing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::parse_json;

namespace {

constexpr const char* kCounty = "360723";
constexpr const char* kTown = "360723101";

std::vector<NodeSpec> tree() {
  return {{kCounty, {}}, {kTown, {kCounty}}};
}

std::size_t count_kind(const Net& net, const std::string& code, const std::string& kind) {
  const auto events = net.events(code);
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; }));
}

std::vector<std::string> agent_submits() {
  return {"submit", "--json-out", "--actor",     "王小红", "--role",      "agent",
          "--item", "MZ-DB-003",  "--applicant", "王五",   "--id-number", "360723197603021158"};
}

}  // namespace

TEST_CASE("app layer: an agent may not register at a township, with or without a daemon",
          "[cli][app]") {
  Net net(tree());
  const bool with_daemon = GENERATE(false, true);
  INFO((with_daemon ? "through the running daemon's control socket" : "directly on the store"));
  if (with_daemon) {
    net.start(kTown);
    REQUIRE(net.status(kTown).running);
  }
  const std::size_t audits = count_kind(net, kTown, "audit");
  auto r = net.cli(kTown, agent_submits());
  INFO(r.err << r.out);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.rfind("错误：", 0) == 0);
  CHECK(r.err.find("agent") != std::string::npos);
  CHECK(r.out.empty());
  CHECK(net.cases(kTown).empty());
  CHECK(count_kind(net, kTown, "submitted") == 0);
  // The refusal is recorded in the audit log, on both paths.
  CHECK(count_kind(net, kTown, "audit") == audits + 1);
  // A clerk registers the same application there.
  auto clerk = agent_submits();
  clerk[5] = "clerk";
  auto ok = net.cli(kTown, clerk);
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  REQUIRE(parse_json(ok.out));
  CHECK(net.cases(kTown).size() == 1);
}

TEST_CASE("app layer: a malformed control request is answered with one line and runs nothing",
          "[cli][app][daemon]") {
  Net net(tree());
  net.start(kTown);
  REQUIRE(net.status(kTown).running);
  std::ifstream lock(net.data_dir(kTown) / "daemon.lock");
  long pid = 0;
  std::string endpoint;
  lock >> pid >> endpoint;
  REQUIRE(!endpoint.empty());
  const std::size_t before = net.events(kTown).size();
  // The old framing (one argument per frame) and bytes that are no message.
  const std::vector<std::vector<std::string>> bad = {
      {"submit", "--actor", "刘芳", "--item", "MZ-DB-003", "--applicant", "王五"},
      {std::string(24, '\xff')},
      {""},
  };
  for (const auto& frames : bad) {
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::req);
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::rcvtimeo, 10000);
    sock.connect(endpoint);
    for (std::size_t i = 0; i < frames.size(); ++i)
      sock.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    zmq::message_t reply;
    REQUIRE(sock.recv(reply));
    REQUIRE_FALSE(reply.more());
    // The reply is a ControlReply; its err says why, in one line.
    const std::string bytes = reply.to_string();
    CHECK(bytes.find("错误：control") != std::string::npos);
  }
  CHECK(net.running(kTown));
  CHECK(net.events(kTown).size() == before);
  CHECK(net.cases(kTown).empty());
}
