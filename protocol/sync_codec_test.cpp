// Unit tests of the sync message codec: batches packed and compressed,
// cursors, and hostile bytes (the daemon's first line of defence).
#include <capnp/message.h>
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "protocol/sync_codec.h"

using namespace liandong;
using namespace liandong::sync;

namespace {

std::vector<std::string> sample_events(std::size_t n, std::size_t size) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string e(size, '\0');
    for (std::size_t j = 0; j < size; ++j)
      e[j] = static_cast<char>("农村宅基地建房申请"[(i + j) % 27]);
    out.push_back(std::move(e));
  }
  return out;
}

// A Batch message around `packed`, read back through SyncReader.
struct BuiltBatch {
  std::string wire;
  Result<std::vector<std::string>> unpack(std::size_t max_raw) const {
    auto r = SyncReader::parse(wire, 1 << 24);
    REQUIRE(r.ok());
    REQUIRE(r->root().which() == proto::SyncMessage::BATCH);
    return unpack_events(r->root().getBatch(), max_raw);
  }
};

BuiltBatch build(const PackedEvents& p, uint32_t count) {
  capnp::MallocMessageBuilder msg;
  auto b = msg.initRoot<proto::SyncMessage>().initBatch();
  b.setFromLsn(10);
  b.setToLsn(20);
  b.setCount(count);
  b.setCompression(p.compressed ? proto::Compression::ZSTD : proto::Compression::NONE);
  b.setEvents(
      capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(p.data.data()), p.data.size()));
  b.setRawBytes(p.raw_bytes);
  return BuiltBatch{encode(msg)};
}

}  // namespace

TEST_CASE("sync codec: events survive packing, with and without zstd", "[sync]") {
  const auto events = sample_events(50, 1024);
  for (bool compress : {false, true}) {
    const auto packed = pack_events(events, compress);
    CHECK(packed.compressed == compress);
    CHECK(packed.raw_bytes == 50 * (4 + 1024));
    if (compress) CHECK(packed.data.size() < packed.raw_bytes / 4);
    auto back = build(packed, 50).unpack(1 << 20);
    REQUIRE(back.ok());
    CHECK(*back == events);
  }
  SECTION("an empty batch (a range with nothing routed) is valid") {
    auto back = build(pack_events({}, true), 0).unpack(1 << 20);
    REQUIRE(back.ok());
    CHECK(back->empty());
  }
}

TEST_CASE("sync codec: a batch that lies about itself is refused", "[sync]") {
  const auto events = sample_events(8, 300);
  const auto packed = pack_events(events, true);
  SECTION("count too high or too low") {
    CHECK_FALSE(build(packed, 9).unpack(1 << 20).ok());
    CHECK_FALSE(build(packed, 7).unpack(1 << 20).ok());
  }
  SECTION("more raw bytes than the receiver allows") {
    auto r = build(packed, 8).unpack(packed.raw_bytes - 1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "batch is larger than allowed");
  }
  SECTION("rawBytes not what the zstd frame declares") {
    PackedEvents lie = packed;
    lie.raw_bytes += 1;
    CHECK_FALSE(build(lie, 8).unpack(1 << 20).ok());
  }
  SECTION("a corrupted zstd frame") {
    PackedEvents bad = packed;
    for (std::size_t i = bad.data.size() / 2; i < bad.data.size(); ++i)
      bad.data[i] = static_cast<char>(bad.data[i] ^ 0x5a);
    CHECK_FALSE(build(bad, 8).unpack(1 << 20).ok());
  }
  SECTION("a torn length in an uncompressed batch") {
    PackedEvents plain = pack_events(events, false);
    plain.data.resize(plain.data.size() - 2);
    plain.raw_bytes = static_cast<uint32_t>(plain.data.size());
    CHECK_FALSE(build(plain, 8).unpack(1 << 20).ok());
  }
}

TEST_CASE("sync codec: hostile message bytes give a Status, never a crash", "[sync]") {
  capnp::MallocMessageBuilder msg;
  auto h = msg.initRoot<proto::SyncMessage>().initHello();
  h.setVersion(kProtocolVersion);
  h.setCode("360723101007");
  h.setStoreId("0123456789abcdef");
  const std::string good = encode(msg);
  REQUIRE(SyncReader::parse(good, 1 << 20).ok());
  CHECK_FALSE(SyncReader::parse(good, good.size() - 8).ok());  // over max_message_bytes
  CHECK_FALSE(SyncReader::parse("", 1 << 20).ok());
  CHECK_FALSE(SyncReader::parse(good.substr(0, good.size() - 3), 1 << 20).ok());
  CHECK_FALSE(SyncReader::parse(good + std::string(8, '\0'), 1 << 20).ok());  // trailing data
  // Every truncation, and random corruption: parse and a full read must
  // either succeed or return a Status.
  for (std::size_t n = 0; n < good.size(); n += 8)
    CHECK_FALSE(SyncReader::parse(good.substr(0, n), 1 << 20).ok());
  std::mt19937 rng(20261122);
  for (int round = 0; round < 2000; ++round) {
    std::string bad = good;
    for (int k = 0; k < 3; ++k)
      bad[rng() % bad.size()] = static_cast<char>(rng());
    auto r = SyncReader::parse(bad, 1 << 20);
    if (!r.ok()) continue;
    try {
      auto root = r->root();
      if (root.which() == proto::SyncMessage::HELLO) {
        auto hello = root.getHello();
        (void)hello.getCode().size();
        (void)read_cursor(hello.getHave());
      }
    } catch (const kj::Exception&) {
      // what the daemon catches and logs
    }
  }
}

TEST_CASE("sync codec: cursors round-trip through the store form and the wire", "[sync]") {
  const CursorValue zero{"store-a", 0, {}};
  const CursorValue at{"3f2a9c", 1234, Id{"360723101007", 99}};
  for (const auto& c : {zero, at}) {
    auto back = decode_cursor(encode_cursor(c));
    REQUIRE(back.ok());
    CHECK(*back == c);
    capnp::MallocMessageBuilder msg;
    auto b = msg.initRoot<proto::Cursor>();
    write_cursor(b, c);
    CHECK(read_cursor(b.asReader()) == c);
  }
  CHECK_FALSE(decode_cursor("").ok());
  CHECK_FALSE(decode_cursor(encode_cursor(at).substr(0, 12)).ok());
}
