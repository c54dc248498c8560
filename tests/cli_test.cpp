// The liandong CLI as a user meets it: the real binary, real stores.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/run_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using liandong::test::run_process;
namespace fs = std::filesystem;

namespace {

using liandong::test::TempDir;

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// "store ok: N events, ..." -> N
std::string store_summary(const fs::path& data) {
  auto r = cli({"store", "check", "--data", data.string()});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The events held that are not audit records (a refusal may be noted in
// the audit log; it stores nothing else).
std::size_t non_audit_events(const fs::path& data) {
  auto r = cli({"store", "events", "--data", data.string(), "--json"});
  REQUIRE(r.exit_code == 0);
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (auto at = r.out.find(what); at != std::string::npos; at = r.out.find(what, at + 1))
      ++n;
    return n;
  };
  return count("\"kind\":") - count("\"kind\":\"audit\"");
}

}  // namespace

TEST_CASE("cli: init refuses bad input with one line and exit code 2", "[cli]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  SECTION("a malformed code") {
    for (const char* code : {"3607231", "36072310100x", "", "3607231010071"}) {
      auto r = cli({"init", "--data", data.string(), "--code", code});
      CHECK(r.exit_code == 2);
      CHECK(lines(r.err) == 1);
      CHECK_FALSE(fs::exists(data / "store" / "data.mdb"));
    }
  }
  SECTION("an existing store, unless --force") {
    auto first = cli({"init", "--data", data.string(), "--code", "360723101007"});
    REQUIRE(first.exit_code == 0);
    CHECK(first.out.find("signing key") != std::string::npos);
    auto again = cli({"init", "--data", data.string(), "--code", "360723101007"});
    CHECK(again.exit_code == 2);
    CHECK(lines(again.err) == 1);
    CHECK(again.err.find("already exists") != std::string::npos);
    auto forced = cli({"init", "--data", data.string(), "--code", "360723101", "--force"});
    CHECK(forced.exit_code == 0);
    CHECK(store_summary(data).find("0 events") != std::string::npos);
  }
  SECTION("an unwritable directory") {
    auto r = cli({"init", "--data", "/proc/liandong-cannot-be-here", "--code", "360723"});
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
  }
}

TEST_CASE("cli: keys and store are private to the node's user", "[cli]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  REQUIRE(cli({"init", "--data", data.string(), "--code", "360723101007"}).exit_code == 0);
  for (const char* f : {"sign.key", "sign.pub", "curve.key", "curve.pub"}) {
    struct stat st;
    REQUIRE(::stat((data / "keys" / f).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  struct stat st;
  REQUIRE(::stat(data.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // A key file others can read is refused.
  ::chmod((data / "keys" / "sign.key").c_str(), 0644);
  auto r = cli({"case", "list", "--data", data.string()});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("chmod 600") != std::string::npos);
}

TEST_CASE("cli: Chinese text round-trips and every error writes nothing", "[cli]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  const std::string d = data.string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723101007"}).exit_code == 0);

  auto sub = cli({"submit",
                  "--data",
                  d,
                  "--json-out",
                  "--actor",
                  "王小红",
                  "--item",
                  "NC-ZJD-001",
                  "--item-name",
                  "农村宅基地建房",
                  "--applicant",
                  "张三",
                  "--id-number",
                  "360723198805123413",
                  "--field",
                  "建房面积=120平方米",
                  "--material",
                  "居民身份证:provided:copy",
                  "--material",
                  "村民会议意见:later",
                  "--fee-due",
                  "12.50"});
  REQUIRE(sub.exit_code == 0);
  REQUIRE(sub.out.find("\"case\":\"360723101007-000001\"") != std::string::npos);

  auto show = cli({"case", "show", "360723101007-000001", "--data", d, "--json"});
  REQUIRE(show.exit_code == 0);
  CHECK(show.out.find("\"applicant_name\":\"张三\"") != std::string::npos);
  CHECK(show.out.find("\"item_name\":\"农村宅基地建房\"") != std::string::npos);
  CHECK(show.out.find("\"fee_due_fen\":1250") != std::string::npos);
  CHECK(show.out.find("建房面积") != std::string::npos);
  auto text = cli({"case", "show", "360723101007-000001", "--data", d});
  CHECK(text.out.find("容缺后补") != std::string::npos);

  const std::size_t before = non_audit_events(data);
  const std::vector<std::vector<std::string>> bad = {
      {"act", "360723101007-000001", "rate", "--data", d, "--actor", "王小红", "--score", "5"},
      {"act", "360723101007-000001", "decide", "--data", d, "--actor", "吴局长", "--reject"},
      {"act", "360723101007-000001", "accept", "--data", d, "--actor", "王小红", "--due",
       "2026-13-40"},
      {"act", "360723101007-000009", "accept", "--data", d, "--actor", "王小红"},
      {"act", "not-a-case", "accept", "--data", d, "--actor", "王小红"},
      {"act", "360723101007-000001", "accept", "--data", d},
      {"act", "360723101007-000001", "accept", "--data", d, "--actor", "王", "--role", "boss"},
      {"act", "360723101007-000001", "collect-fee", "--data", d, "--actor", "王", "--amount", "-3",
       "--receipt", "1"},
      {"submit", "--data", d, "--actor", "王小红", "--item", "X", "--applicant", "某", "--field",
       "no-equals-sign"},
      {"submit", "--data", d, "--actor", "王小红", "--json",
       (tmp.path() / "missing.json").string()},
      {"case", "show", "360723101007-000002", "--data", d},
      {"case", "list", "--data", (tmp.path() / "nowhere").string()},
  };
  for (const auto& args : bad) {
    auto r = cli(args);
    INFO(args[0] + " " + args[1] + " " + args[2] + " -> " + r.err);
    CHECK(r.exit_code != 0);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.rfind("错误：", 0) == 0);
  }
  CHECK(non_audit_events(data) == before);

  // A refusal by the role rules (storage/authority.h): a neighbour village's
  // case is outside this node's jurisdiction. No case is stored (the audit
  // log may note the refusal).
  auto outside = cli({"submit", "--data", d, "--actor", "王小红", "--item", "X", "--applicant",
                      "某", "--home", "360723101008"});
  CHECK(outside.exit_code == 1);
  CHECK(lines(outside.err) == 1);
  CHECK(outside.err.find("不在本节点 360723101007 辖区内") != std::string::npos);
  auto list = cli({"case", "list", "--data", d, "--json"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("360723101008") == std::string::npos);
  CHECK(list.out.find("360723101007-000001") != std::string::npos);
}

TEST_CASE("cli: submit reads an application from a JSON file", "[cli]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  const std::string d = data.string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723101007"}).exit_code == 0);
  const auto file = tmp.path() / "app.json";
  std::ofstream(file) << R"({"applicant": {"name": "李四", "idNumber": "360723197603021158"},
    "itemCode": "LY-CF-002", "itemName": "林木采伐许可",
    "fields": [{"key": "树种", "value": "杉木"}],
    "materials": [{"name": "林权证", "original": false, "count": 1, "state": "provided"}],
    "feeDue": 1550})";
  auto r = cli({"submit", "--data", d, "--actor", "王小红", "--json", file.string()});
  REQUIRE(r.exit_code == 0);
  auto show = cli({"case", "show", "360723101007-000001", "--data", d, "--json"});
  CHECK(show.out.find("\"applicant_name\":\"李四\"") != std::string::npos);
  CHECK(show.out.find("\"fee_due_fen\":1550") != std::string::npos);

  std::ofstream(tmp.path() / "broken.json") << R"({"applicant": {"name": )";
  auto broken = cli({"submit", "--data", d, "--actor", "王小红", "--json",
                     (tmp.path() / "broken.json").string()});
  CHECK(broken.exit_code == 2);
  CHECK(lines(broken.err) == 1);
}

TEST_CASE("cli: submit refuses a bad ID number, phone or birth date with one line, storing nothing",
          "[cli][idcheck]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  const std::string d = data.string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723101007"}).exit_code == 0);
  auto submit = [&](const std::string& id, const std::string& phone) {
    return cli({"submit", "--data", d, "--actor", "王小红", "--item", "MZ-DB-003", "--item-name",
                "农村最低生活保障", "--applicant", "王五", "--id-number", id, "--phone", phone});
  };
  REQUIRE(submit("360723195501207710", "13907970002").exit_code == 0);
  const std::string summary = store_summary(data);
  const std::size_t before = non_audit_events(data);
  REQUIRE(before == 1);

  struct Bad {
    std::string id, phone, first_words;
  };
  const std::vector<Bad> bad = {
      {"360723195501207713", "13907970002", "身份证号码校验位不符（应为 0）"},
      {"36072319550120771", "13907970002", "身份证号码应为 18 位"},
      {"3607231955012077100", "13907970002", "身份证号码应为 18 位"},
      {"360723202602310015", "13907970002", "身份证号码中的出生日期 20260231 不存在"},
      {"360723209901010014", "13907970002", "身份证号码中的出生日期 20990101 晚于今天"},
      {"990723195501207718", "13907970002", "身份证号码的地区码"},
      {"360723195501207710", "12345", "电话号码格式不对：12345"},
  };
  for (const auto& b : bad) {
    auto r = submit(b.id, b.phone);
    INFO(b.id + " " + b.phone + " -> " + r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(b.first_words) != std::string::npos);
  }
  // The same check on an application given as JSON.
  const auto file = tmp.path() / "app.json";
  std::ofstream(file) << R"({"applicant": {"name": "李四", "idNumber": "360723197603021150"},
    "itemCode": "LY-CF-002", "itemName": "林木采伐许可"})";
  auto json = cli({"submit", "--data", d, "--actor", "王小红", "--json", file.string()});
  CHECK(json.exit_code == 2);
  CHECK(lines(json.err) == 1);
  CHECK(json.err.find("身份证号码校验位不符（应为 8）") != std::string::npos);

  CHECK(non_audit_events(data) == before);
  CHECK(store_summary(data) == summary);

  // A lowercase x is the check character X, stored upper case; spaces and
  // hyphens in a phone number are taken as typed.
  REQUIRE(submit("36072319991212001x", "0797-123 4567").exit_code == 0);
  auto show = cli({"case", "show", "360723101007-000002", "--data", d, "--json"});
  CHECK(show.out.find("\"applicant_id\":\"36072319991212001X\"") != std::string::npos);
}

TEST_CASE("cli: the workflow runs end to end and refuses what it does not allow", "[cli]") {
  TempDir tmp("liandong-cli");
  // The village point: intake, 补正, 受理 and 上报 by its agent.
  const std::string v = (tmp.path() / "v").string();
  REQUIRE(cli({"init", "--data", v, "--code", "360723101007"}).exit_code == 0);
  REQUIRE(cli({"submit", "--data", v, "--actor", "王小红", "--item", "MZ-DB-003", "--item-name",
               "农村最低生活保障", "--applicant", "王五"})
              .exit_code == 0);
  const std::string c = "360723101007-000001";
  auto act_at = [&](const std::string& d, const std::string& id, std::vector<std::string> args) {
    std::vector<std::string> full = {"act", id};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"--data", d});
    return cli(full);
  };
  auto act = [&](std::vector<std::string> args) { return act_at(v, c, std::move(args)); };
  CHECK(act({"request-supplement", "--actor", "王小红", "--missing", "收入证明"}).exit_code == 0);
  CHECK(act({"accept", "--actor", "王小红"}).exit_code == 1);  // waiting for the supplement
  CHECK(act({"supplement", "--actor", "王小红", "--provided", "收入证明"}).exit_code == 0);
  CHECK(act({"accept", "--actor", "王小红", "--due", "2099-12-04"}).exit_code == 0);
  CHECK(act({"escalate", "--actor", "王小红"}).exit_code == 0);
  // Escalated: the township handles it now, not the village.
  CHECK(act({"assign", "--actor", "王小红", "--dept", "民政局"}).exit_code == 1);
  CHECK(act({"withdraw", "--actor", "王小红", "--reason", "申请人外出务工"}).exit_code == 0);
  auto vlist = cli({"case", "list", "--data", v, "--status", "withdrawn", "--json"});
  CHECK(vlist.out.find(c) != std::string::npos);

  // A case taken at the county hall's window (home: the county): joint
  // handling, opinions, the decision, 回复, 一事一评 and 销号 all there.
  const std::string d = (tmp.path() / "county").string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723"}).exit_code == 0);
  REQUIRE(cli({"submit", "--data", d, "--actor", "陈静", "--item", "MZ-DB-003", "--item-name",
               "农村最低生活保障", "--applicant", "赵六"})
              .exit_code == 0);
  const std::string k = "360723-000001";
  auto county = [&](std::vector<std::string> args) { return act_at(d, k, std::move(args)); };
  CHECK(county({"accept", "--actor", "陈静", "--due", "2099-12-04"}).exit_code == 0);
  CHECK(county({"assign", "--actor", "周", "--dept", "民政局", "--dept", "财政局"}).exit_code == 0);
  CHECK(county({"decide", "--actor", "吴", "--role", "officer", "--approve"}).exit_code ==
        1);  // opinions missing
  CHECK(county({"opinion", "--actor", "赵", "--role", "reviewer", "--dept", "民政局", "--approve"})
            .exit_code == 0);
  CHECK(county({"opinion", "--actor", "赵", "--role", "reviewer", "--dept", "民政局", "--approve"})
            .exit_code == 1);
  CHECK(county({"opinion", "--actor", "钱", "--role", "reviewer", "--dept", "财政局", "--approve",
                "--on-behalf-of", "孙"})
            .exit_code == 0);
  CHECK(county({"decide", "--actor", "吴", "--approve"}).exit_code == 1);  // a clerk does not sign
  CHECK(county({"decide", "--actor", "吴", "--role", "officer", "--approve"}).exit_code == 0);
  CHECK(county({"withdraw", "--actor", "陈静"}).exit_code == 1);
  CHECK(county({"deliver", "--actor", "陈静"}).exit_code == 0);
  CHECK(county({"rate", "--actor", "陈静", "--score", "4"}).exit_code == 0);
  CHECK(county({"rate", "--actor", "陈静", "--score", "5"}).exit_code == 1);
  CHECK(county({"close", "--actor", "陈静"}).exit_code == 0);
  auto list = cli({"case", "list", "--data", d, "--status", "已销号", "--json"});
  CHECK(list.out.find(k) != std::string::npos);
  auto show = cli({"case", "show", k, "--data", d, "--json"});
  CHECK(show.out.find("\"on_behalf_of\":\"孙\"") != std::string::npos);
  CHECK(cli({"store", "check", "--data", d}).exit_code == 0);
  CHECK(cli({"store", "check", "--data", v}).exit_code == 0);
}

namespace {

void write_file(const fs::path& p, const std::string& text) {
  liandong::test::write_text(p, text);
}

// A TCP port on 127.0.0.1 held open by this test until `close()`.
struct HeldPort {
  int fd = -1;
  int port = 0;
  HeldPort() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~HeldPort() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("cli: run refuses to start, with one line and exit code 2, when it cannot serve",
          "[cli][daemon]") {
  TempDir tmp("liandong-cli");
  const fs::path data = tmp.path() / "county";
  REQUIRE(cli({"init", "--data", data.string(), "--code", "360723"}).exit_code == 0);
  const fs::path conf = tmp.path() / "county.toml";
  auto expect_refusal = [&](const std::string& text, const std::string& says) {
    write_file(conf, text);
    auto r = cli({"run", "--config", conf.string()});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(says) != std::string::npos);
    CHECK(r.out.empty());
  };
  const std::string node = "[node]\ncode = \"360723\"\ndata = \"county\"\n";
  SECTION("a config with an unknown key, naming it and its line") {
    expect_refusal(node + "colour = \"red\"\n", "county.toml:4");
  }
  SECTION("a missing store") {
    expect_refusal("[node]\ncode = \"360723\"\ndata = \"nowhere\"\n", "liandong init");
  }
  SECTION("a store of another code") {
    expect_refusal("[node]\ncode = \"360724\"\ndata = \"county\"\n", "belongs to 360723");
  }
  SECTION("a port in use") {
    HeldPort held;
    expect_refusal(node + "[listen]\nendpoint = \"tcp://127.0.0.1:" + std::to_string(held.port) +
                       "\"\n[[child]]\ncode = \"360723101\"\n"
                       "curve_key = \"Placeholder.Curve.Key.Of.360723101......\"\n"
                       "sign_key = \"" +
                       std::string(55, '0') + "360723101\"\n",
                   "cannot listen on tcp://127.0.0.1:" + std::to_string(held.port));
  }
  // Nothing was written: the store is as init left it.
  CHECK(store_summary(data).find("store ok: 0 events") == 0);
}

TEST_CASE("cli: status without a daemon reports the store and no links", "[cli][daemon]") {
  TempDir tmp("liandong-cli");
  const fs::path data = tmp.path() / "v";
  REQUIRE(cli({"init", "--data", data.string(), "--code", "360723101007"}).exit_code == 0);
  auto r = cli({"status", "--data", data.string(), "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"running\":false") != std::string::npos);
  CHECK(r.out.find("\"links\":[]") != std::string::npos);
  auto text = cli({"status", "--data", data.string()});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("联网服务未启动") != std::string::npos);
}

TEST_CASE("cli: a fee is checked against the fee due, and a receipt number is used once",
          "[cli][fee]") {
  TempDir tmp("liandong-cli");
  const auto data = tmp.path() / "v";
  const std::string d = data.string();
  REQUIRE(cli({"init", "--data", d, "--code", "360723101007"}).exit_code == 0);
  auto submit = [&](const std::string& applicant) {
    auto r = cli({"submit", "--data", d, "--json-out", "--actor", "王小红", "--item", "GA-003",
                  "--item-name", "居民身份证换领", "--applicant", applicant, "--fee-due", "30"});
    REQUIRE(r.exit_code == 0);
    const auto at = r.out.find("\"case\":\"");
    REQUIRE(at != std::string::npos);
    const std::string c = r.out.substr(at + 8, 19);
    REQUIRE(cli({"act", c, "accept", "--data", d, "--actor", "王小红"}).exit_code == 0);
    return c;
  };
  const std::string c1 = submit("张三");
  const std::string c2 = submit("李四");
  const std::string c3 = submit("王五");
  auto fee = [&](const std::string& c, const std::string& amount, const std::string& receipt,
                 const std::string& reason = "") {
    std::vector<std::string> args = {"act",  c,           "collect-fee", "--data",
                                     d,      "--actor",   "王小红",      "--amount",
                                     amount, "--receipt", receipt};
    if (!reason.empty()) {
      args.push_back("--reason");
      args.push_back(reason);
    }
    return cli(args);
  };

  // (1) The amount the case owes is stored.
  auto ok = fee(c1, "30.00", "2026-000123");
  REQUIRE(ok.exit_code == 0);
  CHECK(cli({"case", "show", c1, "--data", d}).out.find("2026-000123") != std::string::npos);

  // (2) Another amount without a reason is refused, with one line, and
  // stores nothing.
  const std::size_t before = non_audit_events(data);
  auto differs = fee(c2, "50.00", "2026-000124");
  CHECK(differs.exit_code != 0);
  CHECK(lines(differs.err) == 1);
  CHECK(differs.err.find("实收金额 50.00 元与收费标准 30.00 元不符") != std::string::npos);
  CHECK(differs.err.find("--reason") != std::string::npos);
  CHECK(non_audit_events(data) == before);

  // (3) With a reason it is stored, and `case show` shows the reason.
  auto reasoned = fee(c2, "50.00", "2026-000124", "含加急制证费20元");
  REQUIRE(reasoned.exit_code == 0);
  CHECK(non_audit_events(data) == before + 1);
  auto shown = cli({"case", "show", c2, "--data", d});
  CHECK(shown.out.find("含加急制证费20元") != std::string::npos);
  auto shown_json = cli({"case", "show", c2, "--data", d, "--json"});
  CHECK(shown_json.out.find("含加急制证费20元") != std::string::npos);

  // (4) A receipt number used already, for any case, is refused.
  auto reused = fee(c3, "30.00", "2026-000123");
  CHECK(reused.exit_code != 0);
  CHECK(lines(reused.err) == 1);
  CHECK(reused.err.find("收据号 2026-000123 已用于办件 " + c1) != std::string::npos);
  CHECK(non_audit_events(data) == before + 1);
  // Also on the same case (a second collection with the same receipt).
  auto again = fee(c1, "0.01", "2026-000123", "补收");
  CHECK(again.exit_code != 0);
  CHECK(non_audit_events(data) == before + 1);
  // A new receipt number is taken.
  CHECK(fee(c3, "30", "2026-000125").exit_code == 0);
}
