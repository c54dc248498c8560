// Attachments on real links (DESIGN.md §4.6, docs/PROTOCOL.md
// "Attachments"): three real `liandong run` daemons on loopback — a county,
// a township and a village point. A village's scans follow its application
// up to the county, whole and byte for byte; their custody (已达乡镇,
// 已达县) comes back down to the village; a county decision's papers come
// down to the village; the same scan attached to five applications
// crosses each link once (the daemons' own counters of chunks received).
// The slow, lossy and cut link is tests/fault/attachment_link_test.py.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/net_fixture.h"

using liandong::test::Net;
using liandong::test::NodeSpec;
using liandong::test::wait_until;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kCounty = "360723";
const std::string kTown = "360723101";
const std::string kVillage = "360723101007";

// A scanned PDF of `size` bytes whose 64 KiB chunks all differ.
std::string pdf_scan(std::size_t size, char seed) {
  std::string s = "%PDF-1.4\n";
  uint32_t x = 2166136261u ^ static_cast<unsigned char>(seed);
  while (s.size() < size - 6) {
    x = x * 16777619u + 1013904223u;
    s.push_back(static_cast<char>(x >> 24));
  }
  return s + "\n%%EOF";
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json cli_json(const Net& net, const std::string& code, std::vector<std::string> args) {
  auto r = net.cli(code, std::move(args));
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

// The files of `case_id` at `code` (`attachment list --json`), empty if the
// case is not held there yet.
json files_at(const Net& net, const std::string& code, const std::string& case_id) {
  auto j = cli_json(net, code, {"attachment", "list", case_id, "--json"});
  return j.is_object() && j.contains("files") ? j["files"] : json::array();
}

bool all_whole(const json& files, std::size_t n) {
  if (files.size() != n) return false;
  for (const auto& f : files)
    if (!f.value("whole", false)) return false;
  return true;
}

bool all_held_at(const json& files, const std::string& level) {
  for (const auto& f : files) {
    const auto& at = f["held_at"];
    if (std::find(at.begin(), at.end(), level) == at.end()) return false;
  }
  return !files.empty();
}

// The daemon's attachment counters (`status --json`).
json attachments_of(const Net& net, const std::string& code) {
  auto j = cli_json(net, code, {"status", "--json"});
  return j.is_object() ? j["attachments"] : json();
}

std::string submit(const Net& net, const std::vector<std::pair<std::string, fs::path>>& attach) {
  std::vector<std::string> args = {"submit",      "--json-out",        "--actor",     "王小红",
                                   "--item",      "MZ-DB-003",         "--applicant", "赵桂英",
                                   "--id-number", "360723198805123413"};
  for (const auto& [material, path] : attach)
    args.insert(args.end(), {"--material", material, "--attach", material + "=" + path.string()});
  auto r = net.cli(kVillage, args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j.value("files", 0) == static_cast<int>(attach.size()));
  return j["case"];
}

void act(const Net& net, const std::string& code, const std::string& case_id,
         std::vector<std::string> args) {
  args.insert(args.begin(), {"act", case_id});
  auto r = net.cli(code, args);
  INFO("act " << args[2] << " at " << code << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

std::string status_at(const Net& net, const std::string& code, const std::string& case_id) {
  auto j = cli_json(net, code, {"case", "show", case_id, "--json"});
  return j.is_object() ? j.value("status", "") : "";
}

}  // namespace

TEST_CASE(
    "attachments: scans follow the case up whole, custody comes down, a scan used five "
    "times crosses each link once, a decision's papers reach the village",
    "[sync][attachments]") {
  Net net({{kCounty, {}}, {kTown, {kCounty}}, {kVillage, {kTown, kCounty}}});
  net.start_all();
  const fs::path dir = net.root() / "scans";
  fs::create_directories(dir);
  const std::map<std::string, std::string> scans = {{"居民身份证", pdf_scan(400 * 1000, 'a')},
                                                    {"户口簿", pdf_scan(400 * 1000, 'b')},
                                                    {"低保申请书", pdf_scan(400 * 1000, 'c')}};
  std::vector<std::pair<std::string, fs::path>> attach;
  for (const auto& [material, bytes] : scans) {
    write(dir / (material + ".pdf"), bytes);
    attach.emplace_back(material, dir / (material + ".pdf"));
  }
  const std::string c = submit(net, attach);

  // At the county, whole and byte for byte.
  INFO("the case's files at the county: " << files_at(net, kCounty, c).dump());
  REQUIRE(wait_until([&] { return all_whole(files_at(net, kCounty, c), 3); }, 60s));
  for (const auto& f : files_at(net, kCounty, c)) {
    const fs::path out = dir / ("county-" + f["sha256"].get<std::string>());
    auto r = net.cli(kCounty, {"attachment", "get", c, f["sha256"].get<std::string>().substr(0, 12),
                               "--out", out.string()});
    REQUIRE(r.exit_code == 0);
    CHECK(slurp(out) == scans.at(f["material"].get<std::string>()));
  }
  // The village hears that the county holds them (已达县).
  INFO("the case's files at the village: " << files_at(net, kVillage, c).dump());
  REQUIRE(wait_until([&] { return all_held_at(files_at(net, kVillage, c), "county"); }, 60s));
  CHECK(all_held_at(files_at(net, kVillage, c), "township"));
  auto shown = net.cli(kVillage, {"case", "show", c});
  CHECK(shown.out.find("已达县") != std::string::npos);

  // The same 身份证 scan in four more applications: nothing more crosses.
  const std::size_t chunks = 3 * 7;  // 400,000 bytes: 7 chunks of 64 KiB
  std::vector<std::string> more;
  for (int i = 0; i < 4; ++i)
    more.push_back(submit(net, {attach[0]}));
  for (const auto& m : more)
    REQUIRE(wait_until([&] { return all_whole(files_at(net, kCounty, m), 1); }, 30s));
  CHECK(attachments_of(net, kTown)["chunks_in"] == chunks);
  CHECK(attachments_of(net, kCounty)["chunks_in"] == chunks);
  CHECK(attachments_of(net, kVillage)["chunks_out"] == chunks);

  // The county decides with its papers; they come down to the village.
  act(net, kVillage, c, {"accept", "--actor", "王小红"});
  act(net, kVillage, c, {"escalate", "--actor", "王小红"});
  REQUIRE(wait_until([&] { return status_at(net, kTown, c) == "escalated"; }, 20s));
  act(net, kTown, c, {"escalate", "--actor", "刘芳", "--role", "clerk"});
  REQUIRE(wait_until(
      [&] {
        auto j = cli_json(net, kCounty, {"case", "show", c, "--json"});
        return j.is_object() && j.value("handler", "") == kCounty;
      },
      20s));
  const std::string reply = pdf_scan(100 * 1000, 'd');
  write(dir / "批复.pdf", reply);
  act(net, kCounty, c,
      {"decide", "--actor", "邹局长", "--role", "officer", "--approve", "--basis",
       "《社会救助暂行办法》第九条", "--attach", "批复文书=" + (dir / "批复.pdf").string()});
  REQUIRE(wait_until([&] { return all_whole(files_at(net, kVillage, c), 4); }, 60s));
  const fs::path got = dir / "village-reply.pdf";
  auto r = net.cli(kVillage, {"attachment", "get", c, "批复.pdf", "--out", got.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(got) == reply);
  CHECK(attachments_of(net, kCounty)["refused"] == 0);
  CHECK(net.unexpected_exits().empty());
}
