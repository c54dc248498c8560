// Attached files (附件) as a user meets them: the real liandong binary on a
// real store attaches photos and scans with `submit --attach`, lists them
// with `attachment list`, saves them with `attachment get`, and refuses
// what it must (type, size, material) storing nothing.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "node/app/test_images.h"
#include "tests/run_process.h"
#include "tests/support/temp_dir.h"

using liandong::test::run_process;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kVillage = "360723101007";

liandong::test::ProcessResult cli(std::vector<std::string> args) {
  args.insert(args.begin(), LIANDONG_BIN);
  return run_process(args);
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
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

std::vector<std::string> submit_args(const std::string& d) {
  return {"submit",
          "--data",
          d,
          "--actor",
          "王小红",
          "--role",
          "agent",
          "--item",
          "MZ-001",
          "--applicant",
          "王五",
          "--id-number",
          "360723197603021158",
          "--material",
          "居民身份证",
          "--material",
          "户口簿",
          "--json-out"};
}

int events(const std::string& d) {
  auto r = cli({"store", "events", "--data", d});
  REQUIRE(r.exit_code == 0);
  return static_cast<int>(std::count(r.out.begin(), r.out.end(), '\n'));
}

}  // namespace

TEST_CASE("attachment cli: submit --attach, attachment list and get, limits",
          "[cli][attachments]") {
  liandong::test::TempDir dir("liandong-attach-cli");
  const std::string d = (dir.path() / kVillage).string();
  REQUIRE(cli({"init", "--data", d, "--code", kVillage}).exit_code == 0);
  const fs::path photo = dir.path() / "身份证.jpg";
  const std::string photo_bytes = liandong::test::make_image(4000, 3000, "jpeg");
  write(photo, photo_bytes);
  const fs::path pdf = dir.path() / "户口簿.pdf";
  write(pdf, "%PDF-1.4\n% 户口簿\n%%EOF\n");

  auto args = submit_args(d);
  args.insert(args.end(),
              {"--attach", "居民身份证=" + photo.string(), "--attach", "户口簿=" + pdf.string()});
  auto r = cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string id = json::parse(r.out)["case"];
  CHECK(json::parse(r.out)["files"] == 2);

  auto list = cli({"attachment", "list", id, "--data", d, "--json"});
  INFO(list.err);
  REQUIRE(list.exit_code == 0);
  const auto files = json::parse(list.out)["files"];
  REQUIRE(files.size() == 2);
  CHECK(files[0]["name"] == "身份证.jpg");
  CHECK(files[0]["material"] == "居民身份证");
  CHECK(files[0]["media_type"] == "image/jpeg");
  CHECK(files[0]["size"].get<size_t>() < photo_bytes.size());
  CHECK(files[0]["whole"] == true);
  CHECK(files[0]["chunks_held"] == files[0]["chunks"]);
  CHECK(files[0]["held_at"] == json::array({"village"}));
  CHECK(files[0]["sha256"].get<std::string>().size() == 64);
  CHECK(files[1]["media_type"] == "application/pdf");

  auto text = cli({"attachment", "list", id, "--data", d});
  CHECK(has(text.out, "身份证.jpg"));
  CHECK(has(text.out, "本机"));
  auto show = cli({"case", "show", id, "--data", d});
  CHECK(has(show.out, "附件（2 个）"));

  const fs::path out = dir.path() / "saved.pdf";
  auto get = cli({"attachment", "get", id, "户口簿.pdf", "--data", d, "--out", out.string()});
  INFO(get.err);
  REQUIRE(get.exit_code == 0);
  CHECK(slurp(out) == slurp(pdf));
  const std::string prefix = files[0]["sha256"].get<std::string>().substr(0, 8);
  get = cli({"attachment", "get", id, prefix, "--data", d, "--out", "-"});
  REQUIRE(get.exit_code == 0);
  CHECK(liandong::test::image_size(get.out) == std::pair{1600, 1200});
  CHECK(cli({"attachment", "get", id, "abc", "--data", d, "--out", "-"}).exit_code != 0);

  SECTION("refused files store nothing") {
    const int before = events(d);
    const fs::path gif = dir.path() / "a.gif";
    write(gif, "GIF89a\x01\x00\x01\x00");
    auto a = submit_args(d);
    a.insert(a.end(), {"--attach", "居民身份证=" + gif.string()});
    auto bad = cli(a);
    CHECK(bad.exit_code == 2);
    CHECK(has(bad.err, "不支持的文件类型：仅可上传 JPG、PNG、HEIC 照片或 PDF 扫描件"));
    a = submit_args(d);
    a.insert(a.end(), {"--attach", "结婚证=" + pdf.string()});
    bad = cli(a);
    CHECK(bad.exit_code == 2);
    CHECK(has(bad.err, "不在本件的申报材料中"));
    // max_file_mib from --config.
    const fs::path cfg = dir.path() / "village.toml";
    write(cfg, "[node]\ncode = \"" + kVillage + "\"\ndata = \"" + d +
                   "\"\n[attachments]\nmax_file_mib = 1\n");
    const fs::path big = dir.path() / "big.pdf";
    write(big, "%PDF-" + std::string(2 << 20, 'p'));
    a = submit_args(d);
    a.insert(a.end(), {"--attach", "户口簿=" + big.string(), "--config", cfg.string()});
    bad = cli(a);
    CHECK(bad.exit_code == 2);
    CHECK(has(bad.err, "超过 1 MB"));
    a = submit_args(d);
    a.insert(a.end(), {"--attach", "户口簿"});
    CHECK(cli(a).exit_code == 2);
    CHECK(events(d) == before);
  }
}
