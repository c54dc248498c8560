// Input a careless or hostile user gives the real binary, with and without
// a running daemon (docs/SECURITY.md, "Bounded input", "Text from outside",
// "Authority and validation"):
//
// - a file named on the command line that is not a regular file of
//   bounded size (/dev/zero, a FIFO, a directory, an oversized file, a
//   symbolic link to /dev/zero) is refused at once with one line, by the
//   CLI, and a running daemon never reads it and keeps answering;
// - names holding terminal escapes are shown escaped, CSV cells that a
//   spreadsheet would evaluate are neutralised;
// - codes, names, dates, roles and notices a node may not use are refused
//   and change nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/json_reader.h"
#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::parse_json;
using liandong::test::ProcessResult;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kCounty = "360723";
constexpr const char* kTown = "360723101";
constexpr const char* kVillage = "360723101007";

std::vector<NodeSpec> tree() {
  return {{kCounty, {}}, {kTown, {kCounty}}, {kVillage, {kTown}}};
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Files no command may read: name -> path.
std::vector<std::pair<std::string, fs::path>> bad_files(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path fifo = dir / "pipe.json";
  if (!fs::exists(fifo)) REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const fs::path sub = dir / "a-directory.json";
  fs::create_directories(sub);
  const fs::path big = dir / "big.json";
  {
    std::ofstream(big) << "{";
    fs::resize_file(big, 8u << 20);  // 8 MiB, sparse
  }
  const fs::path link = dir / "zero.json";
  if (!fs::is_symlink(link)) fs::create_symlink("/dev/zero", link);
  return {{"/dev/zero", "/dev/zero"},
          {"a FIFO", fifo},
          {"a directory", sub},
          {"an 8 MiB file", big},
          {"a symlink to /dev/zero", link}};
}

// The commands that read a file, at the node that would run them.
std::vector<std::pair<std::string, std::vector<std::string>>> file_commands(const fs::path& f) {
  const std::string p = f.string();
  return {
      {kVillage, {"submit", "--json", p, "--actor", "王小红"}},
      {kCounty, {"catalog", "publish", p, "--actor", "吴主任"}},
      {kCounty, {"calendar", "publish", p, "--actor", "吴主任"}},
      {kCounty, {"roster", "publish", "--version", "1", "--file", p, "--actor", "吴主任"}},
      {kCounty, {"publish", "catalog", "--version", "1", "--file", p, "--actor", "吴主任"}},
      {kCounty, {"publish", "calendar", "--year", "2026", "--file", p, "--actor", "吴主任"}},
  };
}

// Runs every file command on every bad file; each must fail at once.
void refuse_every_bad_file(const Net& net) {
  for (const auto& [what, path] : bad_files(net.root() / "bad")) {
    for (const auto& [code, args] : file_commands(path)) {
      INFO(what << ": " << args[0] << " " << args[1] << " at " << code);
      const auto started = std::chrono::steady_clock::now();
      auto r = net.cli(code, args, 10s);
      const auto took = std::chrono::steady_clock::now() - started;
      INFO(r.err);
      CHECK_FALSE(r.timed_out);
      CHECK(r.exit_code == 2);
      CHECK(lines(r.err) == 1);
      CHECK(r.err.find("cannot read") != std::string::npos);
      CHECK(took < 3s);
    }
  }
}

std::size_t non_audit_events(const Net& net, const std::string& code) {
  const auto events = net.events(code);
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [](const auto& e) { return e.kind != "audit"; }));
}

}  // namespace

// ---- bounded input ----------------------------------------------------------------

TEST_CASE(
    "input: /dev/zero, a FIFO, a directory, a huge file or a link to /dev/zero is refused "
    "at once, without a daemon",
    "[cli][input]") {
  Net net(tree());
  refuse_every_bad_file(net);
  CHECK(non_audit_events(net, kCounty) == 0);
  CHECK(non_audit_events(net, kVillage) == 0);
}

TEST_CASE(
    "input: through a running daemon the CLI reads the file, the daemon never does and "
    "stays responsive",
    "[cli][input][daemon]") {
  Net net(tree());
  net.start_all();
  refuse_every_bad_file(net);
  // The daemons answered nothing about those files and still answer.
  for (const char* code : {kCounty, kVillage}) {
    const auto started = std::chrono::steady_clock::now();
    auto st = net.cli(code, {"status", "--json"}, 10s);
    CHECK(st.exit_code == 0);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
    CHECK(net.running(code));
  }
  // (Only what came down from the county, e.g. its key directory.)
  const auto own_cases = [&] { return net.cases(kVillage).size(); };
  CHECK(own_cases() == 0);
  // A good file still goes through the daemon: its bytes travel with the
  // command, so the daemon needs no access to the caller's files.
  const fs::path good = net.root() / "application.json";
  std::ofstream(good) << R"({"itemCode":"NC-ZJD-001","itemName":"农村宅基地建房",)"
                      << R"("applicant":{"name":"张三","idNumber":"360723198805123413"}})";
  auto ok = net.cli(kVillage, {"submit", "--json", good.string(), "--actor", "王小红"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(own_cases() == 1);
}

TEST_CASE("input: a config that is a FIFO, a device or a directory is refused at once",
          "[cli][input]") {
  Net net(tree());
  for (const auto& [what, path] : bad_files(net.root() / "bad")) {
    for (const char* verb : {"check", "run"}) {
      INFO(what << ": config " << verb);
      auto r = std::string(verb) == "check" ? net.cli_raw({"config", "check", path.string()}, 10s)
                                            : net.cli_raw({"run", "--config", path.string()}, 10s);
      INFO(r.err);
      CHECK_FALSE(r.timed_out);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("cannot read") != std::string::npos);
    }
  }
}

// ---- text from outside --------------------------------------------------------------

TEST_CASE("output: a name with terminal escapes and control characters is shown escaped",
          "[cli][escape]") {
  Net net(tree());
  const std::string hostile = "张\x1b[2J\x1b[31m三\r\x07";
  auto sub = net.cli(kVillage, {"submit", "--json-out", "--actor", "王小红", "--item", "NC-ZJD-001",
                                "--item-name", "宅基地\x1b]0;pwned\x07", "--applicant", hostile,
                                "--summary", "第一行\n伪造的一行"});
  INFO(sub.err);
  REQUIRE(sub.exit_code == 0);
  const std::string id = parse_json(sub.out)->str("case");
  auto list = net.cli(kVillage, {"case", "list"});
  auto show = net.cli(kVillage, {"case", "show", id});
  REQUIRE(list.exit_code == 0);
  REQUIRE(show.exit_code == 0);
  for (const auto* out : {&list.out, &show.out}) {
    INFO(*out);
    CHECK(out->find('\x1b') == std::string::npos);
    CHECK(out->find('\x07') == std::string::npos);
    CHECK(out->find('\r') == std::string::npos);
    CHECK(out->find("张\\x1B[2J\\x1B[31m三\\x0D\\x07") != std::string::npos);
  }
  CHECK(list.out.find("宅基地\\x1B]0;pwned\\x07") != std::string::npos);
  // JSON keeps the exact text, escaped as JSON.
  auto json = net.cli(kVillage, {"case", "show", id, "--json"});
  CHECK(json.out.find('\x1b') == std::string::npos);
  CHECK(parse_json(json.out)->str("applicant_name") == hostile);
}

TEST_CASE("output: a CSV report cell a spreadsheet would evaluate is neutralised",
          "[cli][escape]") {
  Net net(tree());
  for (const char* item : {"=cmd|calc!A1", "@SUM(1)", "+1", "-1+2"}) {
    auto sub =
        net.cli(kVillage, {"submit", "--actor", "王小红", "--item", item, "--applicant", "张三"});
    INFO(sub.err);
    REQUIRE(sub.exit_code == 0);
  }
  auto csv = net.cli(kVillage, {"report", "--by", "item", "--csv"});
  INFO(csv.out << csv.err);
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.find("\n'=cmd|calc!A1,") != std::string::npos);
  CHECK(csv.out.find("\n'@SUM(1),") != std::string::npos);
  CHECK(csv.out.find("\n'+1,") != std::string::npos);
  CHECK(csv.out.find("\n'-1+2,") != std::string::npos);
  for (const char* raw : {"\n=cmd", "\n@SUM", "\n+1", "\n-1+2"})
    CHECK(csv.out.find(raw) == std::string::npos);
}

// ---- authority and validation ----------------------------------------------------------

TEST_CASE("validation: codes, names and dates that name nothing are refused and change nothing",
          "[cli][validation]") {
  Net net(tree());
  const std::size_t held = non_audit_events(net, kVillage);
  for (const char* code : {"00", "000000", "360700", "360723000", "360723101000"}) {
    INFO("init --code " << code);
    auto r = net.cli_raw({"init", "--data", (net.root() / "fresh").string(), "--code", code});
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(net.root() / "fresh" / "store" / "data.mdb"));
  }
  for (const char* name : {"   ", "\t", "\xe3\x80\x80", " 王小红", "王\x1b[31m"}) {
    INFO("--actor '" << name << "'");
    auto r = net.cli(kVillage,
                     {"submit", "--actor", name, "--item", "NC-ZJD-001", "--applicant", "张三"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--actor") != std::string::npos);
  }
  REQUIRE(non_audit_events(net, kVillage) == held);
  auto sub = net.cli(kVillage, {"submit", "--json-out", "--actor", "王小红", "--item", "NC-ZJD-001",
                                "--applicant", "张三"});
  REQUIRE(sub.exit_code == 0);
  const std::string id = parse_json(sub.out)->str("case");
  for (const char* due : {"2026-02-31", "2026-13-01", "2020-01-01", "2026-2-1"}) {
    INFO("accept --due " << due);
    auto r = net.cli(kVillage, {"act", id, "accept", "--actor", "王小红", "--due", due});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--due") != std::string::npos);
  }
  for (const char* against : {"abc", "00", "3607231"}) {
    INFO("complain --against " << against);
    auto r = net.cli(kVillage, {"act", id, "complain", "--actor", "王小红", "--text", "态度差",
                                "--against", against});
    CHECK(r.exit_code == 2);
  }
  for (const char* home : {"abc", "000000"}) {
    INFO("report --home " << home);
    CHECK(net.cli(kVillage, {"report", "--home", home}).exit_code == 2);
  }
  CHECK(net.cli(kVillage, {"keys", "trust", "abc", std::string(64, 'a')}).exit_code == 2);
  CHECK(net.cli(kVillage, {"submit", "--actor", "王小红", "--item", "NC-ZJD-001", "--applicant",
                           "张三", "--home", "360723101000"})
            .exit_code == 2);
  CHECK(non_audit_events(net, kVillage) == held + 1);
}

TEST_CASE("authority: only the county publishes, roles fit the level, revocations name held keys",
          "[cli][authority]") {
  Net net(tree());
  const std::string src = LIANDONG_SOURCE_DIR;
  const std::string catalog = src + "/config/catalog-example.toml";
  const std::string calendar = src + "/config/calendar-2026.toml";
  const std::string roster = src + "/config/roster-example.toml";
  auto kinds = [&](const std::string& code) {
    std::string all;
    for (const auto& e : net.events(code))
      all += e.kind + " ";
    return all;
  };

  // A village claiming a clerk's role, rotating its key: refused.
  auto rot = net.cli(kVillage, {"keys", "rotate", "--actor", "王小红", "--role", "clerk"});
  INFO(rot.err);
  CHECK(rot.exit_code == 1);
  CHECK(kinds(kVillage).find("key_rotated") == std::string::npos);
  // ...as an agent it may.
  CHECK(net.cli(kVillage, {"keys", "rotate", "--actor", "王小红", "--role", "agent"}).exit_code ==
        0);

  // A village or township publishing the county's notices: refused.
  for (const char* code : {kVillage, kTown}) {
    INFO("at " << code);
    CHECK(net.cli(code,
                  {"publish", "catalog", "--version", "1", "--file", catalog, "--actor", "王小红"})
              .exit_code == 1);
    CHECK(net.cli(code, {"publish", "calendar", "--year", "2026", "--file", calendar, "--actor",
                         "王小红"})
              .exit_code == 1);
    CHECK(kinds(code).find("published") == std::string::npos);
  }

  // The county: a year that would wrap, bytes that are no catalog, a
  // number the document does not carry, a roster with an agent at the
  // county: refused.
  CHECK(net.cli(kCounty,
                {"publish", "calendar", "--year", "67562", "--file", calendar, "--actor", "吴主任"})
            .exit_code == 2);
  const fs::path junk = net.root() / "junk.bin";
  std::ofstream(junk) << "\x01\x02 not a catalog";
  CHECK(net.cli(kCounty, {"publish", "catalog", "--version", "1", "--file", junk.string(),
                          "--actor", "吴主任"})
            .exit_code == 2);
  CHECK(net.cli(kCounty,
                {"publish", "catalog", "--version", "7", "--file", catalog, "--actor", "吴主任"})
            .exit_code == 2);
  const fs::path agent_at_county = net.root() / "roster.toml";
  std::ofstream(agent_at_county) << "version = 1\n[[staff]]\nname = \"王小红\"\nrole = \"agent\"\n"
                                    "node = \"360723\"\n";
  auto ros = net.cli(kCounty, {"roster", "publish", "--version", "1", "--file",
                               agent_at_county.string(), "--actor", "吴主任"});
  INFO(ros.err);
  CHECK(ros.exit_code == 2);
  CHECK(kinds(kCounty).find("published") == std::string::npos);
  // The proper documents go through.
  CHECK(net.cli(kCounty,
                {"publish", "calendar", "--year", "2026", "--file", calendar, "--actor", "吴主任"})
            .exit_code == 0);
  CHECK(net.cli(kCounty,
                {"roster", "publish", "--version", "1", "--file", roster, "--actor", "吴主任"})
            .exit_code == 0);

  // Revoking a key the village never held: refused; its real key: done.
  REQUIRE(net.cli(kCounty, {"keys", "trust", kVillage, net.keys(kVillage).sign_key}).exit_code ==
          0);
  const std::string before = kinds(kCounty);
  auto never = net.cli(kCounty, {"keys", "revoke", kVillage, "--key", std::string(64, 'b'),
                                 "--reason", "笔记本电脑被盗", "--actor", "吴主任"});
  INFO(never.err);
  CHECK(never.exit_code != 0);
  CHECK(kinds(kCounty) == before);
  auto real = net.cli(kCounty, {"keys", "revoke", kVillage, "--key", net.keys(kVillage).sign_key,
                                "--reason", "笔记本电脑被盗", "--actor", "吴主任"});
  INFO(real.err);
  CHECK(real.exit_code == 0);
}
