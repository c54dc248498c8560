#include "node/sync/messages.h"

#include <catch2/catch.hpp>

using namespace liandong;
using namespace liandong::sync;

namespace {

template <typename T>
T round_trip(const T& m) {
  auto back = decode_message(encode_message(m), 1 << 20);
  REQUIRE(back.ok());
  REQUIRE(std::holds_alternative<T>(*back));
  return std::get<T>(*back);
}

}  // namespace

TEST_CASE("messages: every kind decodes to what was encoded", "[sync][messages]") {
  SECTION("hello, with a key entry that carries no key") {
    Hello h;
    h.code = "360723101001";
    h.store_id = "abc";
    h.have = CursorValue{"def", 7, Id{"360723101", 3}};
    h.capabilities = {"zstd"};
    PublicKey k{};
    k[0] = 9;
    h.keys = {KeyEntry{"360723101001", k}, KeyEntry{"360723101002", std::nullopt}};
    h.your_next_seq = 12;
    h.wall_ms = 1'800'000'000'000;
    CHECK(static_cast<const Handshake&>(round_trip(h)) == static_cast<const Handshake&>(h));
  }
  SECTION("welcome") {
    Welcome w;
    w.code = "360723101";
    w.have = CursorValue{"x", 0, {}};
    CHECK(static_cast<const Handshake&>(round_trip(w)) == static_cast<const Handshake&>(w));
  }
  SECTION("batch: the events come back in order, compressed or not") {
    const std::vector<std::string> events = {"one", std::string(5000, 'x'), "three"};
    for (bool compress : {false, true}) {
      const Batch b = round_trip(make_batch(4, 9, Id{"360723", 9}, events, compress));
      CHECK(b.from_lsn == 4);
      CHECK(b.to_lsn == 9);
      CHECK(b.last_id == Id{"360723", 9});
      CHECK((b.compression == proto::Compression::ZSTD) == compress);
      auto back = unpack(b, 1 << 20);
      REQUIRE(back.ok());
      CHECK(*back == events);
    }
  }
  SECTION("ack with refusals") {
    Ack a;
    a.have = CursorValue{"", 5, Id{"360723101001", 5}};
    a.top_lsn = 4;
    a.resend = true;
    a.rejected = {Rejected{Id{"360723101001", 2}, "clock ahead", "360723",
                           proto::RefusalCause::CLOCK_AHEAD, 77}};
    const Ack b = round_trip(a);
    CHECK(b.have == a.have);
    CHECK(b.top_lsn == 4);
    CHECK(b.resend);
    CHECK(b.rejected == a.rejected);
  }
  SECTION("the rest") {
    CHECK(round_trip(Heartbeat{5, 6}).echo_ms == 6);
    (void)round_trip(Bye{});
    (void)round_trip(Recover{});
    CHECK(round_trip(Refused{proto::RefusalReason::VERSION, "v"}).text == "v");
    CHECK(round_trip(RefusalsTaken{{Id{"3607", 1}}}).ids.at(0) == Id{"3607", 1});
    CHECK(round_trip(Refusals{{Rejected{Id{"3607", 1}, "r", "36", {}, 1}}}).list.size() == 1);
  }
}

TEST_CASE("messages: bytes that are not a SyncMessage are an error, never a throw",
          "[sync][messages]") {
  const std::string good = encode_message(Heartbeat{1, 2});
  CHECK_FALSE(decode_message("", 1 << 20).ok());
  CHECK_FALSE(decode_message("\xff\xff\xff", 1 << 20).ok());
  CHECK_FALSE(decode_message(good.substr(0, good.size() - 1), 1 << 20).ok());
  CHECK_FALSE(decode_message(good, 2).ok());  // over the size limit
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    (void)decode_message(bad, 1 << 20);  // either value is fine; no crash
  }
}

TEST_CASE("messages: a torn or lying batch does not unpack", "[sync][messages]") {
  const std::vector<std::string> events = {"one", "two"};
  Batch b = make_batch(0, 2, Id{"36", 2}, events, false);
  SECTION("count larger than the events") {
    b.count = 3;
    CHECK_FALSE(unpack(b, 1 << 20).ok());
  }
  SECTION("torn") {
    b.events.pop_back();
    CHECK_FALSE(unpack(b, 1 << 20).ok());
  }
  SECTION("larger than allowed") {
    CHECK_FALSE(unpack(b, 4).ok());
  }
}
