// Attachments in the store: chunks stored once, files wanted from the
// event that names them, pulled chunk by chunk (checked), custody levels.
#include <catch2/catch.hpp>

#include "storage/store.h"
#include "storage/store_blobs.h"
#include "storage/test_events.h"
#include "storage/test_files.h"
#include "storage/test_store.h"
#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;

namespace {

template <typename T>
T must(Result<T> r) {
  if (!r.ok()) FAIL(r.status().to_string());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("blobs: a file is cut into 64 KiB chunks, stored once, and read back whole",
          "[storage][blobs]") {
  TempStore store(kVillage);
  const std::string bytes = scan(3 * kChunkBytes + 1000, 'a');
  const FileRecord f = must(store->put_file(bytes));
  CHECK(f.sha256 == sha256_of(bytes));
  REQUIRE(f.chunks.size() == 4);
  CHECK(f.whole);
  CHECK(f.levels == kHeldVillage);
  CHECK(must(store->blob_bytes()) == bytes.size());
  CHECK(*must(store->read_file(f.sha256)) == bytes);
  // The same scan again (five applications, one 身份证): nothing more stored.
  CHECK(must(store->put_file(bytes)).sha256 == f.sha256);
  CHECK(must(store->blob_bytes()) == bytes.size());
  CHECK(must(store->wanted(10)).empty());
  // Not yet known at the county: asked about.
  REQUIRE(must(store->unconfirmed(10)).size() == 1);
  CHECK(store->put_file("").status().code() == Code::invalid);
}

TEST_CASE("blobs: a stored event naming a file makes it wanted; pulled chunks complete it",
          "[storage][blobs]") {
  Forge forge;
  // The village makes the scan and the application.
  TempStore village(kVillage);
  const std::string bytes = scan(2 * kChunkBytes + 7, 'b');
  const FileRecord made = must(village->put_file(bytes));
  const std::string sealed = forge.submit(kVillage, kVillage, hlc_at(1), submitted_with({made}));

  // The township stores the event: the file is wanted, oldest first.
  TempStore township(kTownship);
  REQUIRE(township->put_key(kVillage, forge.key(kVillage).pub));
  auto in = must(township->ingest(std::vector<std::string>{sealed}));
  REQUIRE(in[0].outcome == Outcome::stored);
  auto wanted = must(township->wanted(10));
  REQUIRE(wanted.size() == 1);
  CHECK(wanted[0].sha256 == made.sha256);
  CHECK_FALSE(wanted[0].whole);
  CHECK(wanted[0].origin == kVillage);
  CHECK(must(township->read_file(made.sha256)) == std::nullopt);
  auto missing = must(township->missing_chunks(wanted[0], 16));
  REQUIRE(missing.size() == 3);

  // A chunk altered in transit is refused and stores nothing.
  std::string bad = *must(village->chunk(missing[0]));
  bad[100] ^= 1;
  CHECK(township->put_chunk(made.sha256, missing[0], bad, kHeldVillage).status().code() ==
        Code::invalid);
  CHECK(must(township->blob_bytes()) == 0);
  // A chunk the file does not name is refused.
  const std::string other = scan(100, 'z');
  CHECK(township->put_chunk(made.sha256, sha256_of(other), other, kHeldVillage).status().code() ==
        Code::invalid);

  // The chunks one by one, the last completes the file: held at the
  // township and (from the sender) the village.
  CHECK_FALSE(must(township->put_chunk(made.sha256, missing[0], *must(village->chunk(missing[0])),
                                       kHeldVillage)));
  CHECK(must(township->missing_chunks(wanted[0], 16)).size() == 2);
  CHECK_FALSE(must(township->put_chunk(made.sha256, missing[1], *must(village->chunk(missing[1])),
                                       kHeldVillage)));
  CHECK(must(township->put_chunk(made.sha256, missing[2], *must(village->chunk(missing[2])),
                                 kHeldVillage)));
  CHECK(*must(township->read_file(made.sha256)) == bytes);
  CHECK(must(township->wanted(10)).empty());
  const auto held = *must(township->file(made.sha256));
  CHECK(held.levels == (kHeldTownship | kHeldVillage));

  // The county's answer reaches the village: no longer asked about.
  const std::pair<std::string, uint8_t> at_county{made.sha256, kHeldCounty | kHeldTownship};
  REQUIRE(village->add_file_levels(std::span(&at_county, 1)));
  CHECK(must(village->unconfirmed(10)).empty());
  CHECK(must(village->file(made.sha256))->levels == (kHeldCounty | kHeldTownship | kHeldVillage));
}

TEST_CASE("blobs: wants survive a restart; a file whose chunks are held already is whole",
          "[storage][blobs]") {
  Forge forge;
  TempDir dir("liandong-blob-test");
  StoreOptions opts;
  opts.dir = dir.path() / "store";
  const std::string bytes = scan(kChunkBytes + 5, 'c');
  TempStore village(kVillage);
  const FileRecord made = must(village->put_file(bytes));
  {
    auto st = must(Store::create(opts, kTownship));
    REQUIRE(st->put_key(kVillage, forge.key(kVillage).pub));
    REQUIRE(must(st->ingest(std::vector<std::string>{
                forge.submit(kVillage, kVillage, hlc_at(1), submitted_with({made}))}))[0]
                .outcome == Outcome::stored);
    auto w = must(st->wanted(10));
    REQUIRE(w.size() == 1);
    REQUIRE_FALSE(must(st->put_chunk(made.sha256, made.chunks[0],
                                     *must(village->chunk(made.chunks[0])), kHeldVillage)));
  }
  auto st = must(Store::open(opts));
  auto w = must(st->wanted(10));
  REQUIRE(w.size() == 1);
  auto missing = must(st->missing_chunks(w[0], 16));
  REQUIRE(missing.size() == 1);  // resumed from the chunk it lacks
  CHECK(missing[0] == made.chunks[1]);

  // The same scan named by a second application: whole already here once
  // the first completes; never wanted twice.
  REQUIRE(must(st->put_chunk(made.sha256, made.chunks[1], *must(village->chunk(made.chunks[1])),
                             kHeldVillage)));
  REQUIRE(must(st->ingest(std::vector<std::string>{
              forge.submit(kVillage, kVillage, hlc_at(2), submitted_with({made}))}))[0]
              .outcome == Outcome::stored);
  CHECK(must(st->wanted(10)).empty());
  CHECK(st->check_integrity());
}

TEST_CASE("blobs: the attachment store's limit refuses a file and a chunk, storing nothing",
          "[storage][blobs]") {
  TempDir dir("liandong-blob-test");
  StoreOptions opts;
  opts.dir = dir.path() / "store";
  opts.max_blob_bytes = 2 * kChunkBytes;
  auto st = must(Store::create(opts, kVillage));
  const std::string big = scan(2 * kChunkBytes + 1, 'd');
  const auto r = st->put_file(big);
  REQUIRE(r.status().code() == Code::no_space);
  CHECK(r.status().message().find("附件存储已达上限") != std::string::npos);
  CHECK(must(st->blob_bytes()) == 0);
  CHECK(must(st->file(sha256_of(big))) == std::nullopt);
  CHECK(must(st->put_file(scan(kChunkBytes, 'e'))).whole);
}
