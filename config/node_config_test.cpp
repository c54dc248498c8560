#include "config/node_config.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <string>

#include "config/value_checks.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using liandong::config::ConfigError;
using liandong::config::NodeConfig;
using liandong::config::parse_config;

fs::path example(const char* name) {
  return fs::path(LIANDONG_SOURCE_DIR) / "config" / "examples" / name;
}

constexpr const char* kKeyA = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";  // ZeroMQ docs
constexpr const char* kKeyB = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";  // ZeroMQ docs
constexpr const char* kHexA = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

// A valid township config; the tests below replace single lines of it, so the
// line numbers in the comments are the ones the error messages must name.
const std::string kTownship = std::string() +
                              "[node]\n"                                // 1
                              "code = \"360723101\"\n"                  // 2
                              "data = \"/srv/liandong\"\n"              // 3
                              "\n"                                      // 4
                              "[listen]\n"                              // 5
                              "endpoint = \"tcp://*:7601\"\n"           // 6
                              "\n"                                      // 7
                              "[[upstream]]\n"                          // 8
                              "code = \"360723\"\n"                     // 9
                              "endpoint = \"tcp://192.0.2.10:7601\"\n"  // 10
                              "curve_key = \"" +
                              kKeyA + "\"\n" +                    // 11
                              "sign_key = \"" + kHexA + "\"\n" +  // 12
                              "\n"                                // 13
                              "[[child]]\n"                       // 14
                              "code = \"360723101007\"\n"         // 15
                              "curve_key = \"" +
                              kKeyB + "\"\n" +                    // 16
                              "sign_key = \"" + kHexA + "\"\n" +  // 17
                              "\n"                                // 18
                              "[sync]\n"                          // 19
                              "heartbeat_ms = 2000\n";            // 20

// `text` with line `line` (1-based) replaced by `replacement` (which may hold
// several lines, shifting the ones after it).
std::string with_line(const std::string& text, int line, const std::string& replacement) {
  std::size_t begin = 0;
  for (int i = 1; i < line; ++i)
    begin = text.find('\n', begin) + 1;
  const std::size_t end = text.find('\n', begin);
  return text.substr(0, begin) + replacement + text.substr(end);
}

NodeConfig parse_ok(const std::string& text, const fs::path& base_dir = {}) {
  auto result = parse_config(text, "t.toml", base_dir);
  if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
  return std::get<NodeConfig>(result);
}

std::string parse_error(const std::string& text) {
  auto result = parse_config(text, "t.toml");
  if (std::holds_alternative<NodeConfig>(result)) FAIL("parsed, but should not have:\n" + text);
  return std::get<ConfigError>(result).message;
}

// The message must be "t.toml:LINE: KEY: ..." holding `what`, on one line.
void expect_error(const std::string& text, int line, const std::string& key,
                  const std::string& what) {
  INFO(text);
  const std::string message = parse_error(text);
  CHECK_THAT(message, StartsWith("t.toml:" + std::to_string(line) + ": " + key + ": "));
  CHECK_THAT(message, Contains(what));
  CHECK(message.find('\n') == std::string::npos);
}

using liandong::test::TempDir;

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

// --- examples and defaults --------------------------------------------------

TEST_CASE("config: the county example parses", "[config]") {
  auto result = liandong::config::load_config(example("county.toml"));
  if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
  const NodeConfig& c = std::get<NodeConfig>(result);
  CHECK(c.code == "360723");
  CHECK(c.upstreams.empty());
  CHECK(c.listen_endpoint == "tcp://0.0.0.0:7601");
  REQUIRE(c.children.size() == 3);
  CHECK(c.children[0].code == "360723101");
  CHECK(c.children[2].code == "360723101007");
  CHECK(c.control_endpoint == "ipc:///var/lib/liandong/360723/control.sock");
  CHECK(c.metrics.enabled);
  CHECK(c.metrics.port == 9617);
}

TEST_CASE("config: the township example parses", "[config]") {
  auto result = liandong::config::load_config(example("township.toml"));
  if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
  const NodeConfig& c = std::get<NodeConfig>(result);
  CHECK(c.code == "360723101");
  REQUIRE(c.upstreams.size() == 1);
  CHECK(c.upstreams[0].code == "360723");
  CHECK(c.upstreams[0].endpoint == "tcp://192.0.2.10:7601");
  CHECK(c.children.size() == 3);
  CHECK(c.control_endpoint == "ipc:///var/lib/liandong/360723101/control.sock");
  CHECK(c.sync == liandong::config::SyncSettings{});
  CHECK_FALSE(c.metrics.enabled);  // shown, commented out
}

TEST_CASE("config: the village example parses", "[config]") {
  auto result = liandong::config::load_config(example("village.toml"));
  if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
  const NodeConfig& c = std::get<NodeConfig>(result);
  CHECK(c.code == "360723101007");
  CHECK(c.data == "/var/lib/liandong/360723101007");
  CHECK_FALSE(c.listen_endpoint.has_value());
  CHECK(c.children.empty());
  REQUIRE(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].code == "360723101");  // in the file's order: township first
  CHECK(c.upstreams[1].code == "360723");
  CHECK(c.sync.batch_max_bytes == 65536);
  CHECK(c.sync.heartbeat == std::chrono::milliseconds(5000));
  CHECK(c.sync.redial_max == std::chrono::milliseconds(300000));
}

TEST_CASE("config: a minimal file gets every default", "[config]") {
  const NodeConfig c = parse_ok("[node]\ncode = \"360723101007\"\ndata = \"/srv/ld\"\n");
  CHECK(c.code == "360723101007");
  CHECK(c.data == "/srv/ld");
  CHECK(c.log_level == "info");
  CHECK_FALSE(c.listen_endpoint.has_value());
  CHECK(c.control_endpoint == "ipc:///srv/ld/control.sock");
  CHECK(c.upstreams.empty());
  CHECK(c.children.empty());
  CHECK(c.sync.batch_max_events == 512);
  CHECK(c.sync.batch_max_bytes == 262144);
  CHECK(c.sync.window_bytes == 1048576);
  CHECK(c.sync.heartbeat == std::chrono::milliseconds(2000));
  CHECK(c.sync.peer_timeout == std::chrono::milliseconds(20000));
  CHECK(c.sync.ack_timeout == std::chrono::milliseconds(10000));
  CHECK(c.sync.redial_min == std::chrono::milliseconds(500));
  CHECK(c.sync.redial_max == std::chrono::milliseconds(30000));
  CHECK(c.sync.max_message_bytes == 4194304);
}

TEST_CASE("config: an empty [control] and [sync] table keep the defaults", "[config]") {
  const NodeConfig c =
      parse_ok("[node]\ncode = \"360723\"\ndata = \"/srv/ld\"\n[control]\n[sync]\n");
  CHECK(c.control_endpoint == "ipc:///srv/ld/control.sock");
  CHECK(c.sync == liandong::config::SyncSettings{});
}

TEST_CASE("config: the township baseline parses with every field", "[config]") {
  const NodeConfig c = parse_ok(kTownship);
  CHECK(c.listen_endpoint == "tcp://*:7601");
  REQUIRE(c.upstreams.size() == 1);
  CHECK(c.upstreams[0].curve_key == kKeyA);
  CHECK(c.upstreams[0].sign_key == kHexA);
  REQUIRE(c.children.size() == 1);
  CHECK(c.children[0].code == "360723101007");
  CHECK(c.children[0].curve_key == kKeyB);
}

TEST_CASE("config: describe summarises the config", "[config]") {
  auto result = liandong::config::load_config(example("township.toml"));
  REQUIRE(std::holds_alternative<NodeConfig>(result));
  const std::string text = liandong::config::describe(std::get<NodeConfig>(result));
  CHECK_THAT(text, Contains("360723101 (township)"));
  CHECK_THAT(text, Contains("360723 (county) at tcp://192.0.2.10:7601"));
  CHECK_THAT(text, Contains("360723101007 (village)"));
  CHECK_THAT(text, Contains("tcp://0.0.0.0:7601"));
  CHECK_THAT(text, Contains("heartbeat every 2000 ms"));
  CHECK(text.back() == '\n');
}

// --- file-level problems ----------------------------------------------------

TEST_CASE("config: a TOML syntax error gives toml++'s line and description", "[config]") {
  SECTION("a value is missing") {
    const std::string message = parse_error(with_line(kTownship, 3, "data = "));
    CHECK_THAT(message, StartsWith("t.toml:3: syntax: "));
    CHECK_THAT(message, Contains("expected"));
  }
  SECTION("a key is given twice") {
    const std::string message = parse_error(with_line(kTownship, 3, "code = \"360723101\""));
    CHECK_THAT(message, StartsWith("t.toml:3: syntax: "));
  }
  SECTION("an unterminated table header") {
    CHECK_THAT(parse_error(with_line(kTownship, 19, "[sync")), StartsWith("t.toml:19: syntax: "));
  }
}

TEST_CASE("config: an empty file is an error", "[config]") {
  SECTION("no bytes") {
    expect_error("", 1, "node", "the file is empty");
  }
  SECTION("only comments") {
    expect_error("# nothing\n\n# here\n", 1, "node", "the file is empty");
  }
}

TEST_CASE("config: a missing [node] table is an error", "[config]") {
  expect_error("[sync]\nheartbeat_ms = 2000\n", 1, "node", "missing table [node]");
}

TEST_CASE("config: load_config reports a file it cannot read", "[config]") {
  TempDir dir;
  SECTION("missing") {
    auto result = liandong::config::load_config(dir.path() / "nope.toml");
    REQUIRE(std::holds_alternative<ConfigError>(result));
    CHECK_THAT(std::get<ConfigError>(result).message,
               StartsWith((dir.path() / "nope.toml").string() + ": cannot read: "));
  }
  SECTION("a directory") {
    auto result = liandong::config::load_config(dir.path());
    REQUIRE(std::holds_alternative<ConfigError>(result));
    CHECK_THAT(std::get<ConfigError>(result).message, Contains("is a directory"));
  }
}

TEST_CASE("config: load_config names the file and line in errors", "[config]") {
  TempDir dir;
  write_file(dir.path() / "village.toml", with_line(kTownship, 11, "curve_key = \"short\""));
  auto result = liandong::config::load_config(dir.path() / "village.toml");
  REQUIRE(std::holds_alternative<ConfigError>(result));
  CHECK(std::get<ConfigError>(result).message ==
        (dir.path() / "village.toml").string() +
            ":11: upstream[0].curve_key: not a 40-character Z85 key (it has 5 characters)");
}

// --- unknown tables and keys ------------------------------------------------

TEST_CASE("config: unknown tables and keys are errors wherever they are", "[config]") {
  SECTION("top-level table") {
    expect_error(with_line(kTownship, 19, "[synch]"), 19, "synch", "unknown table [synch]");
  }
  SECTION("top-level array of tables") {
    expect_error(with_line(kTownship, 14, "[[children]]"), 14, "children",
                 "unknown table [[children]]");
  }
  SECTION("top-level key") {
    expect_error("verbose = true\n" + kTownship, 1, "verbose", "unknown key");
  }
  SECTION("in [node]") {
    expect_error(with_line(kTownship, 3, "data = \"/srv\"\nname = \"x\""), 4, "node.name",
                 "unknown key");
  }
  SECTION("in [listen]") {
    expect_error(with_line(kTownship, 6, "endpoints = \"tcp://*:1\""), 6, "listen.endpoints",
                 "unknown key");
  }
  SECTION("in [control]") {
    expect_error(kTownship + "[control]\npath = \"/x\"\n", 22, "control.path", "unknown key");
  }
  SECTION("in an [[upstream]] entry") {
    expect_error(with_line(kTownship, 10, "endpoint = \"tcp://a:1\"\nport = 7601"), 11,
                 "upstream[0].port", "unknown key");
  }
  SECTION("in a second [[upstream]] entry") {
    const std::string text = with_line(kTownship, 13,
                                       "[[upstream]]\ncode = \"360723\"\ncurve = 1\n");  // 13..15
    expect_error(text, 15, "upstream[1].curve", "unknown key");
  }
  SECTION("in a [[child]] entry") {
    expect_error(with_line(kTownship, 15, "code = \"360723101007\"\nendpoint = \"tcp://x:1\""), 16,
                 "child[0].endpoint", "unknown key");
  }
  SECTION("in [sync]") {
    expect_error(with_line(kTownship, 20, "heartbeat = 2000"), 20, "sync.heartbeat",
                 "unknown key (expected batch_max_events");
  }
  SECTION("a dotted key inside [node]") {
    expect_error(with_line(kTownship, 3, "data.path = \"/srv\""), 3, "node.data",
                 "must be a string, not a table");
  }
}

// --- wrong types ------------------------------------------------------------

TEST_CASE("config: values of the wrong type are errors", "[config]") {
  SECTION("node is a string") {
    expect_error("node = \"360723\"\n", 1, "node", "must be a table ([node]), not a string");
  }
  SECTION("node.code is an integer") {
    expect_error(with_line(kTownship, 2, "code = 360723101"), 2, "node.code",
                 "must be a string, not an integer");
  }
  SECTION("node.log_level is a boolean") {
    expect_error(with_line(kTownship, 3, "data = \"/srv\"\nlog_level = true"), 4, "node.log_level",
                 "must be a string, not a boolean");
  }
  SECTION("listen is a string") {
    expect_error("listen = \"tcp://*:7601\"\n[node]\ncode = \"360723101\"\ndata = \"/d\"\n", 1,
                 "listen", "must be a table ([listen]), not a string");
  }
  SECTION("[upstream] written as a single table") {
    expect_error(with_line(kTownship, 8, "[upstream]"), 8, "upstream",
                 "must be written [[upstream]]");
  }
  SECTION("child is an array of strings") {
    expect_error("child = [\"360723101007\"]\n[node]\ncode = \"360723101\"\ndata = \"/d\"\n", 1,
                 "child", "must be [[child]] tables, not an array");
  }
  SECTION("a sync value is a string") {
    expect_error(with_line(kTownship, 20, "heartbeat_ms = \"2000\""), 20, "sync.heartbeat_ms",
                 "must be an integer, not a string");
  }
  SECTION("a sync value is a float") {
    expect_error(with_line(kTownship, 20, "heartbeat_ms = 2000.0"), 20, "sync.heartbeat_ms",
                 "must be an integer, not a floating-point number");
  }
  SECTION("an empty string") {
    expect_error(with_line(kTownship, 3, "data = \"\""), 3, "node.data", "must not be empty");
  }
  SECTION("a control character in a string") {
    expect_error(with_line(kTownship, 3, "data = \"/srv\\tx\""), 3, "node.data",
                 "control characters");
  }
}

// --- [node] -----------------------------------------------------------------

TEST_CASE("config: node.code must be a division code", "[config]") {
  for (const char* bad :
       {"36072", "3607231010", "36072310100", "3607231010071", "36072a101", "３６０７２３"}) {
    INFO(bad);
    expect_error(with_line(kTownship, 2, std::string("code = \"") + bad + "\""), 2, "node.code",
                 "is not a division code");
  }
  for (const char* good : {"36", "3607", "360723", "360723101", "360723101007"}) {
    INFO(good);
    CHECK(parse_ok(std::string("[node]\ncode = \"") + good + "\"\ndata = \"/d\"\n").code == good);
  }
}

TEST_CASE("config: node.code and node.data are required", "[config]") {
  SECTION("code") {
    expect_error(with_line(kTownship, 2, "# no code"), 1, "node.code", "missing");
  }
  SECTION("data") {
    expect_error(with_line(kTownship, 3, "# no data"), 1, "node.data", "missing");
  }
}

TEST_CASE("config: node.log_level must be a known level", "[config]") {
  expect_error(with_line(kTownship, 3, "data = \"/srv\"\nlog_level = \"verbose\""), 4,
               "node.log_level", "'verbose' is not one of trace, debug, info, warn, error, off");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    INFO(level);
    CHECK(parse_ok(with_line(kTownship, 3,
                             std::string("data = \"/srv\"\nlog_level = \"") + level + "\""))
              .log_level == level);
  }
}

TEST_CASE("config: a relative data directory is taken from the config file's directory",
          "[config]") {
  SECTION("parse_config with a base directory") {
    const NodeConfig c = parse_ok(with_line(kTownship, 3, "data = \"state/../data/\""), "/etc/ld");
    CHECK(c.data == "/etc/ld/data");
    CHECK(c.control_endpoint == "ipc:///etc/ld/data/control.sock");
  }
  SECTION("parse_config without a base directory leaves it relative") {
    const NodeConfig c = parse_ok(with_line(kTownship, 3, "data = \"data\""));
    CHECK(c.data == "data");
    CHECK(c.control_endpoint == "ipc://data/control.sock");
  }
  SECTION("an absolute data directory is kept") {
    const NodeConfig c = parse_ok(kTownship, "/etc/ld");
    CHECK(c.data == "/srv/liandong");
  }
  SECTION("load_config resolves against the file's directory") {
    TempDir dir;
    fs::create_directories(dir.path() / "etc");
    write_file(dir.path() / "etc" / "node.toml", with_line(kTownship, 3, "data = \"../var/ld\""));
    auto result = liandong::config::load_config(dir.path() / "etc" / "node.toml");
    if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
    const NodeConfig& c = std::get<NodeConfig>(result);
    CHECK(c.data == dir.path() / "var" / "ld");
    CHECK(c.control_endpoint == "ipc://" + (dir.path() / "var" / "ld" / "control.sock").string());
  }
  SECTION("load_config with a relative file name resolves against the current directory") {
    TempDir dir;
    write_file(dir.path() / "node.toml", with_line(kTownship, 3, "data = \"data\""));
    const fs::path old_cwd = fs::current_path();
    fs::current_path(dir.path());
    auto result = liandong::config::load_config("node.toml");
    fs::current_path(old_cwd);
    if (const auto* error = std::get_if<ConfigError>(&result)) FAIL(error->message);
    CHECK(std::get<NodeConfig>(result).data ==
          fs::absolute(dir.path() / "data").lexically_normal());
  }
}

// --- endpoints --------------------------------------------------------------

TEST_CASE("config: listen.endpoint must be tcp://HOST:PORT", "[config]") {
  auto listen = [](const std::string& endpoint) {
    return with_line(kTownship, 6, "endpoint = \"" + endpoint + "\"");
  };
  SECTION("accepted forms") {
    for (const char* good :
         {"tcp://*:7601", "tcp://0.0.0.0:1", "tcp://10.0.0.1:65535", "tcp://eth0:7601",
          "tcp://[::]:7601", "tcp://hub.example.cn:7601", "tcp://127.0.0.1:*"}) {
      INFO(good);
      CHECK(parse_ok(listen(good)).listen_endpoint == good);
    }
  }
  SECTION("rejected forms") {
    const std::pair<const char*, const char*> cases[] = {
        {"tcp://0.0.0.0", "has no port"},
        {"tcp://0.0.0.0:0", "not in 1..65535"},
        {"tcp://0.0.0.0:65536", "not in 1..65535"},
        {"tcp://0.0.0.0:123456", "not in 1..65535"},
        {"tcp://0.0.0.0:76x1", "not a number"},
        {"tcp://:7601", "host is missing"},
        {"tcp://::1:7601", "must be in brackets"},
        {"tcp://a b:7601", "bad character"},
        {"udp://0.0.0.0:7601", "is not tcp://HOST:PORT"},
        {"ipc:///tmp/x.sock", "is not tcp://HOST:PORT"},
        {"0.0.0.0:7601", "is not tcp://HOST:PORT"},
    };
    for (const auto& [bad, what] : cases) {
      INFO(bad);
      expect_error(listen(bad), 6, "listen.endpoint", what);
    }
  }
  SECTION("[listen] without an endpoint") {
    expect_error(with_line(kTownship, 6, ""), 5, "listen.endpoint", "missing");
  }
}

TEST_CASE("config: an upstream endpoint is a dialable tcp://HOST:PORT", "[config]") {
  auto upstream = [](const std::string& endpoint) {
    return with_line(kTownship, 10, "endpoint = \"" + endpoint + "\"");
  };
  CHECK(parse_ok(upstream("tcp://[2001:db8::1]:7601")).upstreams[0].endpoint ==
        "tcp://[2001:db8::1]:7601");
  expect_error(upstream("tcp://*:7601"), 10, "upstream[0].endpoint", "host '*' is only allowed");
  expect_error(upstream("tcp://192.0.2.10:*"), 10, "upstream[0].endpoint",
               "port '*' is only allowed");
  expect_error(upstream("tcp://192.0.2.10:0"), 10, "upstream[0].endpoint", "not in 1..65535");
  expect_error(upstream("tcp://:7601"), 10, "upstream[0].endpoint", "host is missing");
  expect_error(with_line(kTownship, 10, "# no endpoint"), 8, "upstream[0].endpoint", "missing");
}

TEST_CASE("config: control.endpoint must be an ipc:// path that fits a socket address",
          "[config]") {
  auto control = [](const std::string& endpoint) {
    return kTownship + "[control]\nendpoint = \"" + endpoint + "\"\n";  // line 22
  };
  CHECK(parse_ok(control("ipc:///run/liandong/ctl.sock")).control_endpoint ==
        "ipc:///run/liandong/ctl.sock");
  CHECK(parse_ok(control("ipc://run/ctl.sock"), "/etc/ld").control_endpoint ==
        "ipc:///etc/ld/run/ctl.sock");
  expect_error(control("tcp://127.0.0.1:7602"), 22, "control.endpoint", "is not ipc://PATH");
  expect_error(control("ipc://"), 22, "control.endpoint", "empty path");
  expect_error(control("ipc://@liandong"), 22, "control.endpoint", "abstract sockets");
  expect_error(control("ipc://*"), 22, "control.endpoint", "ipc://*");
  expect_error(control("ipc:///" + std::string(120, 'x')), 22, "control.endpoint", "at most 107");
  SECTION("a data directory too long for the default control socket") {
    const std::string long_data = "/" + std::string(100, 'd');
    expect_error(with_line(kTownship, 3, "data = \"" + long_data + "\""), 3, "node.data",
                 "too long for the default control socket");
    // ... unless the control socket is put elsewhere.
    CHECK(parse_ok(with_line(control("ipc:///run/ld.sock"), 3, "data = \"" + long_data + "\""))
              .control_endpoint == "ipc:///run/ld.sock");
  }
}

// --- upstreams and children -------------------------------------------------

TEST_CASE("config: an upstream code must be a strict ancestor of node.code", "[config]") {
  auto upstream = [](const std::string& code) {
    return with_line(kTownship, 9, "code = \"" + code + "\"");
  };
  CHECK(parse_ok(upstream("3607")).upstreams[0].code == "3607");
  CHECK(parse_ok(upstream("36")).upstreams[0].code == "36");
  expect_error(upstream("360724"), 9, "upstream[0].code", "is not above this node 360723101");
  expect_error(upstream("360723101"), 9, "upstream[0].code", "is not above this node");
  expect_error(upstream("360723101007"), 9, "upstream[0].code", "is not above this node");
  expect_error(upstream("360"), 9, "upstream[0].code", "'360' is not a division code");
  expect_error(upstream("3607231"), 9, "upstream[0].code", "is not a division code");
  expect_error(with_line(kTownship, 9, "# no code"), 8, "upstream[0].code", "missing");
}

TEST_CASE("config: upstream codes may not repeat", "[config]") {
  const std::string second = std::string("[[upstream]]\n") +             // 13
                             "code = \"360723\"\n" +                     // 14
                             "endpoint = \"tcp://192.0.2.11:7601\"\n" +  // 15
                             "curve_key = \"" + kKeyB + "\"\n" +         // 16
                             "sign_key = \"" + kHexA + "\"\n";           // 17
  expect_error(with_line(kTownship, 13, second), 14, "upstream[1].code",
               "'360723' is already listed as upstream[0] (line 9)");
}

TEST_CASE("config: a child code must be strictly inside node.code's jurisdiction", "[config]") {
  auto child = [](const std::string& code) {
    return with_line(kTownship, 15, "code = \"" + code + "\"");
  };
  CHECK(parse_ok(child("360723101999")).children[0].code == "360723101999");
  expect_error(child("360724101007"), 15, "child[0].code",
               "is not inside this node's jurisdiction 360723101");
  expect_error(child("360723102007"), 15, "child[0].code", "is not inside");
  expect_error(child("360723101"), 15, "child[0].code", "is not inside");
  expect_error(child("360723"), 15, "child[0].code", "is not inside");
  expect_error(child("3607231010071"), 15, "child[0].code", "is not a division code");
  expect_error(with_line(kTownship, 15, "# no code"), 14, "child[0].code", "missing");
}

TEST_CASE("config: a county has no upstream and may admit a village directly", "[config]") {
  const NodeConfig c =
      parse_ok(std::string("[node]\ncode = \"360723\"\ndata = \"/d\"\n") +
               "[listen]\nendpoint = \"tcp://*:7601\"\n" + "[[child]]\ncode = \"360723101007\"\n" +
               "curve_key = \"" + kKeyB + "\"\n" + "sign_key = \"" + kHexA + "\"\n");
  CHECK(c.upstreams.empty());
  REQUIRE(c.children.size() == 1);
  CHECK(c.children[0].code == "360723101007");
}

TEST_CASE("config: child codes and child curve keys may not repeat", "[config]") {
  const std::string second_child = std::string("[[child]]\n") +         // 18
                                   "code = \"360723101007\"\n" +        // 19
                                   "curve_key = \"" + kKeyA + "\"\n" +  // 20
                                   "sign_key = \"" + kHexA + "\"\n";    // 21
  SECTION("code") {
    expect_error(with_line(kTownship, 18, second_child), 19, "child[1].code",
                 "'360723101007' is already listed as child[0] (line 15)");
  }
  SECTION("curve key") {
    std::string text = with_line(kTownship, 18, second_child);
    text = with_line(text, 19, "code = \"360723101001\"");
    text = with_line(text, 20, std::string("curve_key = \"") + kKeyB + "\"");
    expect_error(text, 20, "child[1].curve_key", "the same key is already given to child[0]");
  }
}

TEST_CASE("config: a node with children must have [listen]", "[config]") {
  std::string text = with_line(kTownship, 5, "# no listen");
  text = with_line(text, 6, "");
  expect_error(text, 14, "listen", "a node with [[child]] entries needs [listen]");
  // Without children, [listen] is optional.
  const std::string no_children = "[node]\ncode = \"360723101\"\ndata = \"/d\"\n";
  CHECK_FALSE(parse_ok(no_children).listen_endpoint.has_value());
  CHECK(parse_ok(no_children + "[listen]\nendpoint = \"tcp://*:7601\"\n").listen_endpoint ==
        "tcp://*:7601");
}

// --- keys -------------------------------------------------------------------

TEST_CASE("config: curve_key must be 40 Z85 characters decoding to 32 bytes", "[config]") {
  auto curve = [](int line, const std::string& key) {
    return with_line(kTownship, line, "curve_key = \"" + key + "\"");
  };
  const std::string k = kKeyA;
  expect_error(curve(11, k.substr(1)), 11, "upstream[0].curve_key",
               "not a 40-character Z85 key (it has 39 characters)");
  expect_error(curve(11, k + "0"), 11, "upstream[0].curve_key", "it has 41 characters");
  expect_error(curve(11, "~" + k.substr(1)), 11, "upstream[0].curve_key",
               "'~' at position 1 is not a Z85 character");
  expect_error(curve(11, "##########" + k.substr(10)), 11, "upstream[0].curve_key",
               "larger than 32 bits");
  expect_error(curve(16, k.substr(0, 39) + ","), 16, "child[0].curve_key",
               "not a 40-character Z85 key");
  expect_error(with_line(kTownship, 16, "# no key"), 14, "child[0].curve_key", "missing");
}

TEST_CASE("config: sign_key must be 64 hex digits", "[config]") {
  auto sign = [](int line, const std::string& key) {
    return with_line(kTownship, line, "sign_key = \"" + key + "\"");
  };
  const std::string h = kHexA;
  expect_error(sign(12, h.substr(1)), 12, "upstream[0].sign_key",
               "not a 64-digit hex Ed25519 key (it has 63 characters)");
  expect_error(sign(17, "g" + h.substr(1)), 17, "child[0].sign_key",
               "'g' at position 1 is not a hex digit");
  expect_error(sign(17, kKeyA), 17, "child[0].sign_key", "not a 64-digit hex Ed25519 key");
  expect_error(with_line(kTownship, 12, "# no key"), 8, "upstream[0].sign_key", "missing");
  SECTION("upper case is accepted and stored in lower case") {
    std::string upper = h;
    for (char& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(parse_ok(sign(12, upper)).upstreams[0].sign_key == h);
  }
}

TEST_CASE("config: Z85 decoding follows the ZeroMQ spec", "[config]") {
  using liandong::config::z85_decode;
  // RFC 32's test vector: 8 bytes <-> "HelloWorld".
  CHECK(z85_decode("HelloWorld") == std::string("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8));
  CHECK(z85_decode("00000") == std::string(4, '\0'));
  CHECK(z85_decode("%nSc0") == std::string(4, '\xff'));  // 2^32 - 1
  CHECK_FALSE(z85_decode("%nSc1").has_value());          // 2^32
  CHECK_FALSE(z85_decode("Hello").value().empty());
  CHECK_FALSE(z85_decode("Hell").has_value());
  CHECK_FALSE(z85_decode("Hell\"").has_value());
  CHECK(z85_decode(kKeyA).value().size() == 32);
}

// --- [sync] -----------------------------------------------------------------

TEST_CASE("config: sync values must be positive integers within bounds", "[config]") {
  auto sync = [](const std::string& line) { return with_line(kTownship, 20, line); };
  const std::pair<const char*, const char*> cases[] = {
      {"batch_max_events = 0", "0 is not a positive integer (allowed 1..65536)"},
      {"batch_max_events = 65537", "65537 is out of range (allowed 1..65536)"},
      {"batch_max_bytes = -1", "-1 is not a positive integer"},
      {"batch_max_bytes = 100", "100 is out of range"},
      {"window_bytes = 2000000000", "out of range"},
      {"heartbeat_ms = 99", "99 is out of range (allowed 100..600000)"},
      {"heartbeat_ms = 600001", "out of range (allowed 100..600000)"},
      {"peer_timeout_ms = 0", "not a positive integer"},
      {"ack_timeout_ms = 99", "out of range"},
      {"redial_min_ms = 0", "not a positive integer"},
      {"redial_max_ms = 3600001", "out of range"},
      {"max_message_bytes = 67108865", "out of range (allowed 131072..67108864)"},
      {"max_message_bytes = 65536", "out of range"},
  };
  for (const auto& [line, what] : cases) {
    INFO(line);
    const std::string key = std::string(line).substr(0, std::string(line).find(' '));
    expect_error(sync(line), 20, "sync." + key, what);
  }
  // The upper bounds themselves are fine.
  const NodeConfig c = parse_ok(
      sync("heartbeat_ms = 600000\npeer_timeout_ms = 86400000\nmax_message_bytes = 67108864\n"
           "batch_max_bytes = 67108864\nwindow_bytes = 1073741824"));
  CHECK(c.sync.max_message_bytes == 64u * 1024 * 1024);
  CHECK(c.sync.peer_timeout == std::chrono::hours(24));
}

TEST_CASE("config: sync values must agree with each other", "[config]") {
  auto sync = [](const std::string& lines) { return with_line(kTownship, 20, lines); };
  SECTION("peer_timeout_ms below 3 x heartbeat_ms names the later key") {
    expect_error(sync("heartbeat_ms = 2000\npeer_timeout_ms = 5999"), 21, "sync.peer_timeout_ms",
                 "5999 must be at least 3 * sync.heartbeat_ms = 6000");
    expect_error(sync("peer_timeout_ms = 5999\nheartbeat_ms = 2000"), 21, "sync.heartbeat_ms",
                 "sync.peer_timeout_ms = 5999 must be at least 3 * sync.heartbeat_ms = 6000");
    CHECK(parse_ok(sync("heartbeat_ms = 2000\npeer_timeout_ms = 6000")).sync.peer_timeout ==
          std::chrono::milliseconds(6000));
  }
  SECTION("a heartbeat that the default peer timeout cannot cover names heartbeat_ms") {
    expect_error(sync("heartbeat_ms = 10000"), 20, "sync.heartbeat_ms",
                 "sync.peer_timeout_ms = 20000 (the default) must be at least 3 * "
                 "sync.heartbeat_ms = 30000");
  }
  SECTION("redial_min_ms above redial_max_ms") {
    expect_error(sync("redial_max_ms = 1000\nredial_min_ms = 2000"), 21, "sync.redial_min_ms",
                 "2000 must be at most sync.redial_max_ms = 1000");
    expect_error(sync("redial_max_ms = 400"), 20, "sync.redial_max_ms",
                 "sync.redial_min_ms = 500 (the default) must be at most");
  }
  SECTION("batch_max_bytes above max_message_bytes") {
    expect_error(sync("max_message_bytes = 131072\nbatch_max_bytes = 131073\n"
                      "window_bytes = 1048576"),
                 21, "sync.batch_max_bytes", "must be at most sync.max_message_bytes = 131072");
  }
  SECTION("window_bytes below batch_max_bytes") {
    expect_error(sync("window_bytes = 100000"), 20, "sync.window_bytes",
                 "100000 must be at least sync.batch_max_bytes = 262144");
    expect_error(sync("batch_max_bytes = 2097152"), 20, "sync.batch_max_bytes",
                 "sync.window_bytes = 1048576 (the default) must be at least");
  }
}

// --- [desk] -------------------------------------------------------------------

TEST_CASE("config: [desk] defaults to a free port on 127.0.0.1", "[config][desk]") {
  const NodeConfig c = parse_ok("[node]\ncode = \"360723\"\ndata = \"/srv/ld\"\n");
  CHECK(c.desk.enabled);
  CHECK(c.desk.host == "127.0.0.1");
  CHECK(c.desk.port == 0);
  CHECK_FALSE(c.desk.tls());
}

TEST_CASE("config: [desk] listen, off, and an office LAN with its certificate", "[config][desk]") {
  const std::string head = "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[desk]\n";
  auto c = parse_ok(head + "listen = \"127.0.0.1:8701\"\n");
  CHECK(c.desk.port == 8701);
  CHECK_FALSE(c.desk.tls());
  c = parse_ok(head + "listen = \"off\"\n");
  CHECK_FALSE(c.desk.enabled);
  c = parse_ok(head + "listen = \"192.168.10.5:8443\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
               "/etc/liandong");
  CHECK(c.desk.host == "192.168.10.5");
  CHECK(c.desk.tls());
  CHECK(c.desk.tls_cert == "/etc/liandong/c.pem");
  CHECK(c.desk.tls_key == "/etc/liandong/k.pem");
  c = parse_ok(head + "listen = \"[::1]:8701\"\n");
  CHECK(c.desk.host == "::1");
  CHECK_FALSE(c.desk.tls());
  const std::string text =
      liandong::config::describe(parse_ok(head + "listen = \"0.0.0.0:8443\"\n"));
  CHECK_THAT(text, Contains("desk       https://0.0.0.0:8443 (open to the office LAN)"));
}

TEST_CASE("config: a wrong [desk] is one line naming the key", "[config][desk]") {
  const std::string head = "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[desk]\n";
  expect_error(head + "listen = \"8701\"\n", 5, "desk.listen", "is not HOST:PORT");
  expect_error(head + "listen = \"127.0.0.1:99999\"\n", 5, "desk.listen", "above 65535");
  expect_error(head + "listen = \"127.0.0.1:\"\n", 5, "desk.listen", "is not HOST:PORT");
  expect_error(head + "listen = \"a b:80\"\n", 5, "desk.listen", "is not HOST:PORT");
  expect_error(head + "port = 8701\n", 5, "desk.port", "");
  expect_error(head + "tls_cert = \"c.pem\"\n", 5, "desk.tls_key", "go together");
  expect_error(head + "listen = 8701\n", 5, "desk.listen", "");
}

// --- [attachments] ------------------------------------------------------------

TEST_CASE("config: [attachments] defaults and values", "[config][attachments]") {
  const std::string head = "[node]\ncode = \"360723101007\"\ndata = \"/srv/ld\"\n";
  auto c = parse_ok(head);
  CHECK(c.attachments.max_file_mib == 20);
  CHECK(c.attachments.max_file_bytes() == 20u << 20);
  CHECK(c.attachments.max_store_gib == 0);
  CHECK(c.attachments.image_long_side == 1600);
  CHECK(c.attachments.jpeg_quality == 80);
  c = parse_ok(head +
               "[attachments]\nmax_file_mib = 64\nmax_store_gib = 2\nimage_long_side = 1200\n"
               "jpeg_quality = 70\n");
  CHECK(c.attachments.max_file_mib == 64);
  CHECK(c.attachments.max_store_bytes() == uint64_t{2} << 30);
  CHECK(c.attachments.image_long_side == 1200);
  CHECK(c.attachments.jpeg_quality == 70);
  CHECK_THAT(liandong::config::describe(c), Contains("attachments"));
}

TEST_CASE("config: a wrong [attachments] is one line naming the key", "[config][attachments]") {
  const std::string head = "[node]\ncode = \"360723101007\"\ndata = \"/srv/ld\"\n[attachments]\n";
  expect_error(head + "max_file_mib = 0\n", 5, "attachments.max_file_mib", "");
  expect_error(head + "max_file_mib = 65\n", 5, "attachments.max_file_mib", "");
  expect_error(head + "max_store_gib = -1\n", 5, "attachments.max_store_gib", "");
  expect_error(head + "jpeg_quality = \"80\"\n", 5, "attachments.jpeg_quality", "");
  expect_error(head + "max_mib = 3\n", 5, "attachments.max_mib", "");
}

// --- [enroll] -----------------------------------------------------------------

TEST_CASE("config: [enroll] opens enrollment beside [listen]", "[config][enroll]") {
  const std::string head =
      "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[listen]\nendpoint = "
      "\"tcp://0.0.0.0:7601\"\n";
  auto none = parse_ok(head);
  CHECK_FALSE(none.enroll.endpoint);
  auto c =
      parse_ok(head + "[enroll]\nendpoint = \"tcp://0.0.0.0:7602\"\naddress = \"10.36.7.1\"\n");
  REQUIRE(c.enroll.endpoint);
  CHECK(*c.enroll.endpoint == "tcp://0.0.0.0:7602");
  CHECK(c.enroll.address == "10.36.7.1");
  CHECK(describe(c).find("enroll     tcp://0.0.0.0:7602") != std::string::npos);
}

TEST_CASE("config: a wrong [enroll] is one line naming the key", "[config][enroll]") {
  const std::string node = "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n";
  const std::string listen = "[listen]\nendpoint = \"tcp://0.0.0.0:7601\"\n";
  expect_error(node + "[enroll]\nendpoint = \"tcp://0.0.0.0:7602\"\n", 5, "enroll.endpoint",
               "needs [listen]");
  expect_error(node + listen + "[enroll]\nendpoint = \"tcp://0.0.0.0:7601\"\n", 7,
               "enroll.endpoint", "port of its own");
  expect_error(node + listen + "[enroll]\nendpoint = \"7602\"\n", 7, "enroll.endpoint", "");
  expect_error(node + listen + "[enroll]\nendpoint = \"tcp://0.0.0.0:7602\"\naddress = \"a b\"\n",
               8, "enroll.address", "not a host name");
  expect_error(node + listen + "[enroll]\nendpoint = \"tcp://0.0.0.0:7602\"\nport = 1\n", 8,
               "enroll.port", "");
  expect_error(node + listen + "[enroll]\naddress = \"10.0.0.1\"\n", 6, "enroll.endpoint", "");
}

// --- [metrics] ----------------------------------------------------------------

TEST_CASE("config: no [metrics] table, no metrics endpoint", "[config][metrics]") {
  auto c = parse_ok("[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n");
  CHECK_FALSE(c.metrics.enabled);
  CHECK_THAT(liandong::config::describe(c), !Contains("metrics"));
  c = parse_ok("[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[metrics]\n");
  CHECK_FALSE(c.metrics.enabled);
  c = parse_ok("[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[metrics]\nlisten = \"off\"\n");
  CHECK_FALSE(c.metrics.enabled);
}

TEST_CASE("config: [metrics] on loopback, and elsewhere only with allow_remote",
          "[config][metrics]") {
  const std::string head = "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[metrics]\n";
  auto c = parse_ok(head + "listen = \"127.0.0.1:9617\"\n");
  CHECK(c.metrics.enabled);
  CHECK(c.metrics.host == "127.0.0.1");
  CHECK(c.metrics.port == 9617);
  CHECK_FALSE(c.metrics.allow_remote);
  CHECK_THAT(liandong::config::describe(c),
             Contains("metrics    http://127.0.0.1:9617/metrics (this machine only)"));
  c = parse_ok(head + "listen = \"[::1]:0\"\n");
  CHECK(c.metrics.host == "::1");
  CHECK(c.metrics.port == 0);
  c = parse_ok(head + "listen = \"localhost:9617\"\n");
  CHECK(c.metrics.host == "localhost");
  c = parse_ok(head + "listen = \"10.36.7.2:9617\"\nallow_remote = true\n");
  CHECK(c.metrics.host == "10.36.7.2");
  CHECK(c.metrics.allow_remote);
  CHECK_THAT(liandong::config::describe(c),
             Contains("http://10.36.7.2:9617/metrics (open beyond this machine)"));
  // The desk keeps its own settings.
  CHECK(c.desk.host == "127.0.0.1");
}

TEST_CASE("config: a wrong [metrics] is one line naming the key", "[config][metrics]") {
  const std::string head = "[node]\ncode = \"360723101\"\ndata = \"/srv/ld\"\n[metrics]\n";
  expect_error(head + "listen = \"0.0.0.0:9617\"\n", 5, "metrics.listen", "allow_remote = true");
  expect_error(head + "listen = \"10.36.7.2:9617\"\nallow_remote = false\n", 5, "metrics.listen",
               "no login");
  expect_error(head + "listen = \"9617\"\n", 5, "metrics.listen", "is not HOST:PORT");
  expect_error(head + "listen = \"127.0.0.1:70000\"\n", 5, "metrics.listen", "above 65535");
  expect_error(head + "listen = 9617\n", 5, "metrics.listen", "");
  expect_error(head + "allow_remote = \"yes\"\n", 5, "metrics.allow_remote", "");
  expect_error(head + "listen = \"127.0.0.1:9617\"\nport = 9617\n", 6, "metrics.port", "");
  expect_error(head + "path = \"/metrics\"\n", 5, "metrics.path", "");
}

// --- [export] -----------------------------------------------------------------

TEST_CASE(
    "config: [export] names the PostgreSQL DSN, never described; ID numbers masked "
    "unless said",
    "[config][export]") {
  auto c = parse_ok("[node]\ncode = \"360723\"\ndata = \"/srv/ld\"\n");
  CHECK(c.export_pg.postgres_dsn.empty());
  CHECK_THAT(liandong::config::describe(c), !Contains("export"));
  const std::string head = "[node]\ncode = \"360723\"\ndata = \"/srv/ld\"\n[export]\n";
  c = parse_ok(head + "postgres_dsn = \"host=10.36.7.9 dbname=bi user=ld password=s3cret\"\n");
  CHECK(c.export_pg.postgres_dsn == "host=10.36.7.9 dbname=bi user=ld password=s3cret");
  CHECK_FALSE(c.export_pg.id_numbers);
  const std::string d = liandong::config::describe(c);
  CHECK_THAT(d, Contains("export     PostgreSQL (connection string not shown); ID numbers masked"));
  CHECK_THAT(d, !Contains("s3cret"));
  c = parse_ok(head + "postgres_dsn = \"postgresql:///bi\"\nexport_id_numbers = true\n");
  CHECK(c.export_pg.id_numbers);
  CHECK_THAT(liandong::config::describe(c), Contains("ID numbers exported"));
}

TEST_CASE("config: a wrong [export] is one line naming the key", "[config][export]") {
  const std::string head = "[node]\ncode = \"360723\"\ndata = \"/srv/ld\"\n[export]\n";
  expect_error(head + "postgres_dsn = \"\"\n", 5, "export.postgres_dsn", "empty");
  expect_error(head + "postgres_dsn = 5\n", 5, "export.postgres_dsn", "");
  expect_error(head + "export_id_numbers = \"yes\"\n", 5, "export.export_id_numbers", "");
  expect_error(head + "postgres_url = \"x\"\n", 5, "export.postgres_url", "");
}
