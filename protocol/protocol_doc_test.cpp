// The worked example of docs/PROTOCOL.md checked against the codec: the
// Hello built here with the codec must be, byte for byte, the hex printed in
// the document, so the wire spec a third party reads cannot drift from what
// a node sends. The path of the document comes from CMake.
#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/io.h>
#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "protocol/sync_codec.h"

using namespace liandong;
using namespace liandong::sync;

namespace {

constexpr const char* kMarker = "<!-- hello-example-hex -->";

std::string read_document() {
  std::ifstream in(LIANDONG_PROTOCOL_MD, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The bytes of the fenced block that follows the marker.
std::string hex_block_bytes(const std::string& doc) {
  const auto marker = doc.find(kMarker);
  REQUIRE(marker != std::string::npos);
  const auto open = doc.find("```", marker);
  REQUIRE(open != std::string::npos);
  const auto body = doc.find('\n', open);
  REQUIRE(body != std::string::npos);
  const auto close = doc.find("```", body);
  REQUIRE(close != std::string::npos);
  std::string out;
  int high = -1;
  std::string stray;  // what is neither hex nor space
  for (std::size_t i = body; i < close; ++i) {
    const unsigned char c = static_cast<unsigned char>(doc[i]);
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) {
      stray.push_back(static_cast<char>(c));
      continue;
    }
    const int v = std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  REQUIRE(stray.empty());
  REQUIRE(high < 0);
  return out;
}

// The bytes as the document prints them: 16 to a line.
std::string as_hex_lines(const std::string& bytes) {
  std::string out;
  char b[4];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(bytes[i]));
    out += b;
    out += (i % 16 == 15 || i + 1 == bytes.size()) ? '\n' : ' ';
  }
  return out;
}

const std::array<uint8_t, 32> kKey = {
    0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
    0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};

// The Hello of the document's example (§4): village 360723101007 opens a
// session with its township 360723101.
std::string example_hello() {
  capnp::MallocMessageBuilder msg;
  auto h = msg.initRoot<proto::SyncMessage>().initHello();
  h.setVersion(kProtocolVersion);
  h.setCode("360723101007");
  h.setStoreId("5f0c2b9e7a14d3861b2e4c09a7d35e61");
  write_cursor(h.initHave(),
               CursorValue{"a83d0f4412c95b7e6d21f0b3c8e4a597", 42, Id{"360723101", 17}});
  h.initCapabilities(1).set(0, "zstd");
  auto keys = h.initKeys(1);
  keys[0].setCode("360723101007");
  keys[0].setKey(capnp::Data::Reader(kKey.data(), kKey.size()));
  h.setYourNextSeq(18);
  h.setWallMs(1767225600000);  // 2026-01-01 00:00 UTC
  return encode(msg);
}

}  // namespace

TEST_CASE("protocol doc: the example Hello is the bytes the codec sends", "[sync][doc]") {
  // Compared as the document prints them, so a failure shows the block to
  // paste.
  CHECK(as_hex_lines(hex_block_bytes(read_document())) == as_hex_lines(example_hello()));
}

TEST_CASE("protocol doc: the example Hello reads back with its fields", "[sync][doc]") {
  auto r = SyncReader::parse(hex_block_bytes(read_document()), 1 << 20);
  REQUIRE(r.ok());
  REQUIRE(r->root().which() == proto::SyncMessage::HELLO);
  auto h = r->root().getHello();
  CHECK(h.getVersion() == kProtocolVersion);
  CHECK(std::string(h.getCode().cStr()) == "360723101007");
  const auto have = read_cursor(h.getHave());
  CHECK(have.lsn == 42);
  CHECK(have.at == Id{"360723101", 17});
  CHECK(have.store_id == "a83d0f4412c95b7e6d21f0b3c8e4a597");
  REQUIRE(h.getKeys().size() == 1);
  CHECK(h.getKeys()[0].getKey().size() == 32);
  CHECK(h.getYourNextSeq() == 18);
}

TEST_CASE("protocol doc: the example is Cap'n Proto's standard packed encoding", "[sync][doc]") {
  // What a third party's library reads with its packed reader (here Cap'n
  // Proto's own, not the codec's), and not the flat unpacked form.
  const std::string doc = hex_block_bytes(read_document());
  kj::ArrayInputStream in(
      kj::ArrayPtr<const kj::byte>(reinterpret_cast<const kj::byte*>(doc.data()), doc.size()));
  capnp::PackedMessageReader reader(in);
  auto h = reader.getRoot<proto::SyncMessage>().getHello();
  CHECK(std::string(h.getCode().cStr()) == "360723101007");
  CHECK(std::string(h.getCapabilities()[0].cStr()) == "zstd");
  CHECK(h.getWallMs() == 1767225600000);

  capnp::MallocMessageBuilder msg;
  msg.initRoot<proto::SyncMessage>().initHello().setCode("360723101007");
  auto flat = capnp::messageToFlatArray(msg);
  const auto bytes = flat.asBytes();
  CHECK(encode(msg) != std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()));
}

TEST_CASE("protocol doc: a rotation proof signs the bytes FORMAT.md section 6 names", "[doc]") {
  // "liandong key rotation" 0x00 || origin || 0x00 || oldKey || newKey
  PublicKey old_key{}, new_key{};
  for (std::size_t i = 0; i < old_key.size(); ++i) {
    old_key[i] = static_cast<uint8_t>(i);
    new_key[i] = static_cast<uint8_t>(0xff - i);
  }
  std::string expected("liandong key rotation");
  expected += '\0';
  expected += "360723101007";
  expected += '\0';
  expected.append(reinterpret_cast<const char*>(old_key.data()), old_key.size());
  expected.append(reinterpret_cast<const char*>(new_key.data()), new_key.size());
  CHECK(expected.size() == 21 + 1 + 12 + 1 + 32 + 32);
  CHECK(rotation_proof_message("360723101007", old_key, new_key) == expected);
}
