// Unit tests of node/app/attachments.h: what a file must be, how photos are
// reduced, and files stored with an application, a supplement and a
// decision on a real store in a temporary directory.
#include "node/app/attachments.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "node/app/act.h"
#include "node/app/submit.h"
#include "node/app/test_images.h"
#include "protocol/crypto.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using app::FileType;

namespace {

const std::string kPdf = "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

std::string heic_header() {
  std::string b(
      "\0\0\0\x18"
      "ftypheic\0\0\0\0mif1heic",
      24);
  return b + std::string(100, '\0');
}

app::AppResult<app::PreparedFile> prepare(const std::string& bytes, bool keep = false,
                                          config::AttachmentSettings s = {}) {
  return app::prepare_file(s, app::GivenFile{"居民身份证", "IMG_0412.png", bytes}, keep);
}

}  // namespace

TEST_CASE("attachments: the type is told by the first bytes, not the name", "[attachments]") {
  CHECK(app::detect_type(test::make_image(16, 16, "jpeg")) == FileType::jpeg);
  CHECK(app::detect_type(test::make_image(16, 16, "png")) == FileType::png);
  CHECK(app::detect_type(kPdf) == FileType::pdf);
  CHECK(app::detect_type(heic_header()) == FileType::heif);
  CHECK(app::detect_type("GIF89a....") == FileType::unknown);
  CHECK(app::detect_type("") == FileType::unknown);
  CHECK(app::detect_type("MZ\x90\0") == FileType::unknown);
  CHECK(std::string(app::media_type_of(FileType::heif)) == "image/heic");
}

TEST_CASE("attachments: a 4000x3000 photo is reduced to 1600 px and is smaller", "[attachments]") {
  const std::string big = test::make_image(4000, 3000, "jpeg");
  REQUIRE(big.size() > 100'000);
  auto p = prepare(big);
  REQUIRE(p.ok());
  CHECK(p->media_type == "image/jpeg");
  CHECK(p->bytes.size() < big.size());
  const auto [w, h] = test::image_size(p->bytes);
  CHECK(w == 1600);
  CHECK(h == 1200);
  SECTION("the long side is the node's setting") {
    config::AttachmentSettings s;
    s.image_long_side = 800;
    auto q = prepare(big, false, s);
    REQUIRE(q.ok());
    CHECK(test::image_size(q->bytes).first == 800);
  }
}

TEST_CASE("attachments: a PNG becomes a JPEG named .jpg", "[attachments]") {
  auto p = prepare(test::make_image(1000, 2000, "png"));
  REQUIRE(p.ok());
  CHECK(p->media_type == "image/jpeg");
  CHECK(app::detect_type(p->bytes) == FileType::jpeg);
  CHECK(p->name == "IMG_0412.jpg");
  CHECK(test::image_size(p->bytes) == std::pair{800, 1600});
}

TEST_CASE("attachments: a PDF is kept as it is", "[attachments]") {
  auto p = app::prepare_file({}, app::GivenFile{"村民小组会议记录", "会议记录.pdf", kPdf}, false);
  REQUIRE(p.ok());
  CHECK(p->bytes == kPdf);
  CHECK(p->media_type == "application/pdf");
  CHECK(p->name == "会议记录.pdf");
}

TEST_CASE("attachments: the original is kept when the catalog asks for the scan", "[attachments]") {
  const std::string png = test::make_image(3000, 2000, "png");
  auto p = prepare(png, true);
  REQUIRE(p.ok());
  CHECK(p->bytes == png);
  CHECK(p->media_type == "image/png");
}

TEST_CASE("attachments: a file too big, empty, unknown or broken is refused in Chinese",
          "[attachments]") {
  config::AttachmentSettings s;
  s.max_file_mib = 1;
  auto big = prepare(std::string("%PDF-") + std::string(1024 * 1024, 'x'), false, s);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().status.code() == Code::invalid);
  CHECK(big.error().status.message().find("超过 1 MB") != std::string::npos);
  CHECK(prepare(std::string(1024 * 1024, 'x').insert(0, "%PDF-"), false, s).ok() == false);
  auto gif = prepare("GIF89a\x01\x00\x01\x00");
  REQUIRE_FALSE(gif.ok());
  CHECK(gif.error().status.message() ==
        "不支持的文件类型：仅可上传 JPG、PNG、HEIC 照片或 PDF 扫描件");
  CHECK_FALSE(prepare("").ok());
  auto broken = prepare(std::string("\xFF\xD8\xFF\xE0") + std::string(5000, 'z'));
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().status.message().find("无法读取") != std::string::npos);
}

TEST_CASE("attachments: a file name loses its directories and control characters",
          "[attachments]") {
  CHECK(app::clean_file_name("C:\\Users\\王\\户口簿.jpg") == "户口簿.jpg");
  CHECK(app::clean_file_name("../../etc/passwd") == "passwd");
  CHECK(app::clean_file_name("a\x1b[31mb\".jpg") == "a[31mb.jpg");
  CHECK(app::clean_file_name("\xff\xfe名.pdf") == "名.pdf");
  CHECK(app::clean_file_name(std::string(300, 'a')).size() == 120);
  CHECK(app::clean_file_name("...") == "");
}

TEST_CASE("attachments: thumbnails are small JPEGs of images only", "[attachments]") {
  auto t = app::thumbnail_jpeg(test::make_image(2000, 1000, "png"), 240);
  REQUIRE(t);
  CHECK(test::image_size(*t) == std::pair{240, 120});
  CHECK_FALSE(app::thumbnail_jpeg(kPdf, 240));
}

namespace {

constexpr const char* kVillage = "360723101007";
constexpr uint64_t kNow = 1'780'286'400'000;  // 2026-06-01 12:00 China time

struct Node {
  test::TempDir dir{"liandong-attach"};
  std::unique_ptr<storage::Store> store;
  SigningKey key = generate_signing_key();
  explicit Node(uint64_t max_blob_bytes = 0) {
    storage::StoreOptions o{dir.path() / "store"};
    o.max_blob_bytes = max_blob_bytes;
    auto s = storage::Store::create(o, kVillage);
    if (!s.ok()) FAIL("create store: " << s.status().to_string());
    store = std::move(s).value();
    REQUIRE(store->put_key(kVillage, key.pub));
  }
  app::Context ctx() {
    return app::Context{*store, key, [] { return kNow; }};
  }
};

app::SubmitRequest application() {
  app::SubmitRequest r;
  r.item = "MZ-DB-003";
  r.applicant = "王五";
  r.id_number = "360723197603021158";
  r.materials = {"居民身份证", "户口簿"};
  r.actor = app::Actor{"王小红", "agent", "", ""};
  return r;
}

}  // namespace

TEST_CASE("attachments: submit stores the files and names them in the application",
          "[attachments]") {
  Node n;
  auto req = application();
  const std::string photo = test::make_image(4000, 3000, "jpeg");
  req.files = {{"居民身份证", "身份证.jpg", photo}, {"户口簿", "户口簿.pdf", kPdf}};
  auto done = app::submit(n.ctx(), req);
  REQUIRE(done.ok());
  CHECK(done->files == 2);
  auto events = n.store->case_events(done->case_id);
  REQUIRE(events.ok());
  auto refs = attachments_of(events->front().view.event());
  REQUIRE(refs.size() == 2);
  CHECK(std::string(refs[0].getMaterial().cStr()) == "居民身份证");
  CHECK(std::string(refs[0].getMediaType().cStr()) == "image/jpeg");
  CHECK(refs[0].getSize() < photo.size());
  CHECK(std::string(refs[1].getName().cStr()) == "户口簿.pdf");
  CHECK(refs[1].getChunks().size() == 1);
  auto sha = refs[1].getSha256();
  auto bytes =
      n.store->read_file(std::string(reinterpret_cast<const char*>(sha.begin()), sha.size()));
  REQUIRE(bytes.ok());
  REQUIRE(*bytes);
  CHECK(**bytes == kPdf);

  SECTION("a supplement and a decision carry files too") {
    app::ActRequest sup;
    sup.action = "supplement";
    sup.case_id = format_id(done->case_id);
    sup.provided = {"户口簿"};
    sup.actor = req.actor;
    sup.files = {{"不在清单的材料", "x.pdf", kPdf}};
    auto wrong = app::act(n.ctx(), sup);
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.error().status.message().find("不在本件的申报材料中") != std::string::npos);
    sup.files = {{"户口簿", "户口簿第二页.pdf", kPdf + " "}};
    auto ok = app::act(n.ctx(), sup);
    if (!ok.ok()) {
      // A supplement may need the case to wait for one (补正): its files
      // are then checked the same way before the workflow refuses.
      CHECK(ok.error().refused);
    }
    app::ActRequest accept;
    accept.action = "comment";
    accept.case_id = sup.case_id;
    accept.text = "备注";
    accept.actor = req.actor;
    accept.files = {{"x", "x.pdf", kPdf}};
    auto no = app::act(n.ctx(), accept);
    REQUIRE_FALSE(no.ok());
    CHECK(no.error().status.message().find("只有补正材料") != std::string::npos);
  }
}

TEST_CASE("attachments: a refused file stores nothing", "[attachments]") {
  Node n;
  auto req = application();
  const uint64_t before = n.store->stats().value().events;
  req.files = {{"居民身份证", "a.jpg", test::make_image(64, 64, "jpeg")},
               {"户口簿", "b.gif", "GIF89a"}};
  auto done = app::submit(n.ctx(), req);
  REQUIRE_FALSE(done.ok());
  CHECK(n.store->stats().value().events == before);
  CHECK(n.store->blob_bytes().value() == 0);
  req.files = {{"结婚证", "a.jpg", test::make_image(64, 64, "jpeg")}};
  auto wrong = app::submit(n.ctx(), req);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().status.message().find("结婚证") != std::string::npos);
}

TEST_CASE("attachments: a store past its limit refuses the file and the application",
          "[attachments]") {
  Node n(100'000);
  auto req = application();
  const uint64_t before = n.store->stats().value().events;
  req.files = {{"户口簿", "b.pdf", std::string("%PDF-") + std::string(200'000, 'p')}};
  auto done = app::submit(n.ctx(), req);
  REQUIRE_FALSE(done.ok());
  CHECK(done.error().status.code() == Code::no_space);
  CHECK(n.store->stats().value().events == before);
}
