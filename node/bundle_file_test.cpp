// The bundle file (node/bundle_file.h): what is written is read back; any
// cut, altered byte, trailing byte, wrong receiver, wrong signer or expired
// bundle is refused before an item is handed out.
#include "node/bundle_file.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "storage/store_blobs.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::node;
using liandong::test::TempDir;

namespace {

const std::string kVillage = "360723101007", kTownship = "360723101";
constexpr uint64_t kNow = 1'796'000'000'000;

struct Keys {
  SigningKey village = generate_signing_key();
  CurveKeyPair township = generate_curve_keypair();
};

std::string write_bundle(const std::filesystem::path& path, const Keys& k,
                         const std::vector<BundleItem>& items, uint64_t expires = kNow + 3600000) {
  BundleHeader h;
  h.kind = proto::BundleKind::UP;
  h.from = kVillage;
  h.to = kTownship;
  h.from_store = "3f9c2a71d04e4b8e";
  h.created_ms = kNow - 1000;
  h.expires_ms = expires;
  auto w = BundleWriter::create(path, h, k.village, k.township.pub);
  REQUIRE(w.ok());
  for (const auto& it : items)
    REQUIRE((*w)->add(it));
  REQUIRE((*w)->finish());
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<BundleItem> sample_items() {
  std::vector<BundleItem> items(3);
  items[0].kind = BundleItem::Kind::have;
  items[0].have = {"7d1e0c55aa904f12", 40, Id{kTownship, 40}};
  items[1].kind = BundleItem::Kind::range;
  items[1].range = {0, 3, Id{kVillage, 3}, {"event one", "event two"}};
  items[2].kind = BundleItem::Kind::chunk;
  const std::string scan(70, 's');
  items[2].chunk = {std::string(32, 'f'), storage::sha256_of(scan), scan};
  return items;
}

// Every item of `bytes`, or the first refusal.
Result<std::vector<BundleItem>> read_all(const std::string& bytes, const Keys& k,
                                         const std::string& self = kTownship, uint64_t now = kNow) {
  auto r = BundleReader::open(std::make_unique<std::istringstream>(bytes), self, k.township, now,
                              [&](const std::string& from, const PublicKey& key) {
                                return from == kVillage && key == k.village.pub;
                              });
  if (!r.ok()) return r.status();
  std::vector<BundleItem> out;
  for (int i = 0; i < 1000; ++i) {
    auto item = (*r)->next();
    if (!item.ok()) return item.status();
    if (!*item) return out;
    out.push_back(std::move(**item));
  }
  return Status::invalid("too many items");
}

}  // namespace

TEST_CASE("bundle file: what is written is read back, in order") {
  REQUIRE(crypto_ready());
  TempDir dir;
  Keys k;
  const std::string bytes = write_bundle(dir.path() / "b.ldb", k, sample_items());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "b.ldb.part"));
  auto got = read_all(bytes, k);
  REQUIRE(got.ok());
  REQUIRE(got->size() == 3);
  CHECK((*got)[0].have == sample_items()[0].have);
  CHECK((*got)[1].range.events == sample_items()[1].range.events);
  CHECK((*got)[1].range.last_id == Id{kVillage, 3});
  CHECK((*got)[2].chunk.data == std::string(70, 's'));
  // Nothing of the content is in the clear.
  CHECK(bytes.find("event one") == std::string::npos);
  CHECK(bytes.find(std::string(70, 's')) == std::string::npos);
}

TEST_CASE(
    "bundle file: cut off anywhere, altered anywhere, or with bytes after it, it is refused") {
  TempDir dir;
  Keys k;
  const std::string bytes = write_bundle(dir.path() / "b.ldb", k, sample_items());
  for (std::size_t cut = 0; cut < bytes.size(); cut += 37) {
    INFO("cut at " << cut);
    CHECK_FALSE(read_all(bytes.substr(0, cut), k).ok());
  }
  for (std::size_t at = 0; at < bytes.size(); at += 29) {
    INFO("byte " << at);
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    CHECK_FALSE(read_all(bad, k).ok());
  }
  auto trailing = read_all(bytes + "x", k);
  REQUIRE_FALSE(trailing.ok());
  CHECK(trailing.status().message().find("多余") != std::string::npos);
}

TEST_CASE("bundle file: another receiver, another signer, an expired bundle are refused") {
  TempDir dir;
  Keys k;
  const std::string bytes = write_bundle(dir.path() / "b.ldb", k, sample_items());
  auto other = read_all(bytes, k, "360723102");
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().message().find("不是给本节点") != std::string::npos);
  Keys stranger;
  stranger.township = k.township;  // reads it, but trusts another village key
  auto unsigned_by = read_all(bytes, stranger);
  REQUIRE_FALSE(unsigned_by.ok());
  CHECK(unsigned_by.status().message().find("签名密钥") != std::string::npos);
  Keys wrong_reader;
  wrong_reader.village = k.village;  // the signer is known, the key is not ours
  auto sealed = read_all(bytes, wrong_reader);
  REQUIRE_FALSE(sealed.ok());
  CHECK(sealed.status().message().find("无法解密") != std::string::npos);
  auto late = read_all(bytes, k, kTownship, kNow + 7200000);
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().message().find("过期") != std::string::npos);
}

TEST_CASE("bundle file: a writer stopped before finish leaves no bundle, only its .part removed") {
  TempDir dir;
  Keys k;
  {
    BundleHeader h;
    h.from = kVillage;
    h.to = kTownship;
    auto w = BundleWriter::create(dir.path() / "b.ldb", h, k.village, k.township.pub);
    REQUIRE(w.ok());
    REQUIRE((*w)->add(sample_items()[1]));
    CHECK(std::filesystem::exists(dir.path() / "b.ldb.part"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "b.ldb"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "b.ldb.part"));
}

TEST_CASE("bundle items: limits are checked before use") {
  BundleItem chunk;
  chunk.kind = BundleItem::Kind::chunk;
  chunk.chunk = {std::string(31, 'f'), std::string(32, 'h'), "x"};
  CHECK_FALSE(decode_item(encode_item(chunk)).ok());
  BundleItem range;
  range.kind = BundleItem::Kind::range;
  range.range = {5, 5, Id{kVillage, 5}, {}};
  CHECK_FALSE(decode_item(encode_item(range)).ok());
  range.range = {5, 6, Id{kVillage, 6}, {"a", "b"}};  // two events in a range of one
  CHECK_FALSE(decode_item(encode_item(range)).ok());
  CHECK_FALSE(decode_item("").ok());
  CHECK_FALSE(decode_item(std::string(16, '\xff')).ok());
}

TEST_CASE("held log: ranges out of order, twice or behind the cursor join without moving it back") {
  HeldLog h;
  auto id = [](uint64_t n) { return Id{kVillage, n}; };
  // (20, 30] before (0, 20]: held ahead, then joined.
  auto c = hold_range(h, 20, 30, id(30));
  CHECK_FALSE(c.moved);
  CHECK(c.added == std::vector<uint64_t>{20});
  CHECK(h.lsn == 0);
  c = hold_range(h, 40, 50, id(50));  // a second gap
  c = hold_range(h, 0, 20, id(20));
  CHECK(c.moved);
  CHECK(h.lsn == 30);
  CHECK(h.at == id(30));
  CHECK(c.joined == std::vector<uint64_t>{20});
  CHECK(h.ahead.size() == 1);
  // The same range again, and one behind the cursor: nothing moves.
  c = hold_range(h, 0, 20, id(20));
  CHECK_FALSE(c.moved);
  CHECK(h.lsn == 30);
  c = hold_range(h, 10, 25, id(25));
  CHECK_FALSE(c.moved);
  CHECK(h.lsn == 30);
  // Overlapping the cursor and reaching past the gap's start: both join.
  c = hold_range(h, 25, 45, id(45));
  CHECK(c.moved);
  CHECK(h.lsn == 50);
  CHECK(h.at == id(50));
  CHECK(h.ahead.empty());
  // A wider copy of an ahead range replaces it; a narrower one does not.
  hold_range(h, 60, 70, id(70));
  CHECK(hold_range(h, 60, 65, id(65)).added.empty());
  CHECK(hold_range(h, 60, 80, id(80)).added == std::vector<uint64_t>{60});
  hold_range(h, 50, 60, id(60));
  CHECK(h.lsn == 80);
}
