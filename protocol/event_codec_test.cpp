// Unit tests of protocol/: division codes and ids, the hybrid logical clock,
// signatures, and the signed-event codec against hostile input.
#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sodium.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"
#include "protocol/sync_codec.h"

using namespace liandong;

namespace {

const std::string kVillage = "360723101007";
const std::string kTownship = "360723101";
const std::string kCounty = "360723";
constexpr uint64_t kBaseMs = 1'700'000'000'000ULL;

using Tweak = std::function<void(proto::Event::Builder)>;

// A fixed key, so that a seeded random test replays byte for byte.
const SigningKey& village_key() {
  static const SigningKey k = [] {
    REQUIRE(crypto_ready());
    SigningKey key;
    std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
    seed.fill(7);
    crypto_sign_seed_keypair(key.pub.data(), key.secret.data(), seed.data());
    return key;
  }();
  return k;
}

// Fills `ev` as a valid `submitted` of case 360723101007-000001.
void fill_valid(proto::Event::Builder ev) {
  write_id(ev.initId(), Id{kVillage, 1});
  write_id(ev.initCase(), Id{kVillage, 1});
  ev.setHome(kVillage);
  ev.setHlc(make_hlc(kBaseMs, 0));
  auto actor = ev.initActor();
  actor.setName("王小红");
  actor.setRole(proto::Role::AGENT);
  auto b = ev.getBody().initSubmitted();
  auto a = b.initApplicant();
  a.setName("张三");
  a.setIdNumber("360723198001010018");
  b.setItemCode("360723-GT-0001");
  b.setItemName("农村宅基地建房");
  auto m = b.initMaterials(1);
  m[0].setName("户口簿");
  m[0].setCount(1);
}

// A valid `submitted`, changed by `tweak`, sealed with `key`.
std::string sealed_with(const Tweak& tweak, const SigningKey& key = village_key()) {
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  fill_valid(ev);
  tweak(ev);
  return seal(msg, key);
}

std::string valid_sealed() {
  return sealed_with([](proto::Event::Builder) {});
}

// Makes `ev` a case event of kind chosen by `body` about case V-1, from `origin`.
Tweak case_event(std::string origin, const Tweak& body) {
  return [=](proto::Event::Builder ev) {
    write_id(ev.initId(), Id{origin, 7});
    body(ev);
  };
}

// The reason `sealed` is refused; fails the test if it parses.
std::string refusal(const std::string& sealed) {
  auto v = EventView::parse(sealed);
  if (v.ok()) {
    FAIL_CHECK("expected the event to be refused, but it parsed");
    return {};
  }
  CHECK(v.status().code() == Code::invalid);
  return v.status().message();
}

capnp::Text::Reader text(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

}  // namespace

// ---- ids --------------------------------------------------------------------

TEST_CASE("ids: division codes have 2, 4, 6, 9 or 12 digits", "[protocol]") {
  for (const char* good : {"36", "3607", "360723", "360723101", "360723101007"}) {
    CAPTURE(good);
    CHECK(valid_code(good));
  }
  for (const char* bad :
       {"", "3", "360", "36072", "3607231", "36072310", "3607231010", "36072310100",
        "3607231010071", "36072310100x", "36072310100 ", "-36072", "３６０７２３"}) {
    CAPTURE(bad);
    CHECK_FALSE(valid_code(bad));
  }
}

TEST_CASE("ids: a node's jurisdiction is every code its own code prefixes", "[protocol]") {
  CHECK(within(kVillage, kVillage));
  CHECK(within(kVillage, kTownship));
  CHECK(within(kVillage, kCounty));
  CHECK(within(kVillage, "36"));
  CHECK_FALSE(within(kTownship, kVillage));
  CHECK_FALSE(within("360723101008", kVillage));
  CHECK_FALSE(within("360723102007", kTownship));
  CHECK_FALSE(within("360724101007", kCounty));

  SECTION("the parent chain climbs one level at a time to the province") {
    CHECK(parent_code(kVillage) == kTownship);
    CHECK(parent_code(kTownship) == kCounty);
    CHECK(parent_code(kCounty) == "3607");
    CHECK(parent_code("3607") == "36");
    CHECK(parent_code("36").empty());
    CHECK(parent_code("").empty());
  }
  SECTION("levels are named by code length") {
    CHECK(std::string(level_name(kVillage)) == "village");
    CHECK(std::string(level_name(kTownship)) == "township");
    CHECK(std::string(level_name(kCounty)) == "county");
    CHECK(std::string(level_name("3607")) == "city");
    CHECK(std::string(level_name("36")) == "province");
    CHECK(std::string(level_name("3607231")) == "unknown");
    CHECK(std::string(level_name_zh(kVillage)) == "村");
    CHECK(std::string(level_name_zh(kTownship)) == "乡镇");
    CHECK(std::string(level_name_zh(kCounty)) == "县");
  }
}

TEST_CASE("ids: an event id prints as code-sequence and parses back", "[protocol]") {
  CHECK(format_id(Id{kVillage, 42}) == "360723101007-000042");
  CHECK(format_id(Id{kCounty, 1234567}) == "360723-1234567");
  for (const Id& id : {Id{kVillage, 1}, Id{kTownship, 999999}, Id{kCounty, 18446744073709551615ULL},
                       Id{"36", 1000000}}) {
    CAPTURE(format_id(id));
    auto back = parse_id(format_id(id));
    REQUIRE(back);
    CHECK(*back == id);
  }
  for (const char* bad :
       {"", "-", "360723101007", "360723101007-", "360723101007-0", "360723101007-000000",
        "3607231-1", "360723101007-12a", "360723101007-99999999999999999999",
        "360723-18446744073709551616", "360723-184467440737095516150", "x360723-1", "360723--1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_id(bad));
  }
}

TEST_CASE("ids: id keys are fixed-width and sort like (origin, seq)", "[protocol]") {
  std::vector<Id> ids = {{kCounty, 2},       {kVillage, 1},          {kTownship, 300},
                         {kCounty, 1},       {kVillage, 256},        {kVillage, 255},
                         {"36", 1ULL << 40}, {kTownship, 1ULL << 63}};
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    auto k = id_key(id);
    CHECK(k.size() == kIdKeyLen);
    CHECK(id_from_key(k) == id);
    keys.push_back(k);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::size_t j = 0; j < ids.size(); ++j) {
      CAPTURE(format_id(ids[i]), format_id(ids[j]));
      CHECK((ids[i] < ids[j]) == (keys[i] < keys[j]));
    }
  }
  std::string be;
  put_be64(be, 0x0102030405060708ULL);
  CHECK(be == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(get_be64(be) == 0x0102030405060708ULL);
}

// ---- hlc --------------------------------------------------------------------

TEST_CASE("hlc: timestamps only go forward, even when the wall clock goes back", "[protocol]") {
  uint64_t wall = kBaseMs;
  Hlc hlc([&] { return wall; });
  const uint64_t a = hlc.now();
  CHECK(a == make_hlc(kBaseMs, 0));
  CHECK(hlc_ms(a) == kBaseMs);
  const uint64_t b = hlc.now();  // same millisecond: the counter moves
  CHECK(b == make_hlc(kBaseMs, 1));
  wall -= 5000;  // NTP steps the clock back
  const uint64_t c = hlc.now();
  CHECK(c > b);
  CHECK(hlc_ms(c) == kBaseMs);

  SECTION("an observed remote timestamp pushes later local ones past it") {
    const uint64_t remote = make_hlc(kBaseMs + 60'000, 7);
    hlc.observe(remote);
    CHECK(hlc.last() == remote);
    CHECK(hlc.now() > remote);
  }
  SECTION("an older remote timestamp changes nothing") {
    hlc.observe(make_hlc(kBaseMs - 1, 0));
    CHECK(hlc.last() == c);
  }
  SECTION("the wall clock moving ahead resets the counter") {
    wall = kBaseMs + 10;
    CHECK(hlc.now() == make_hlc(kBaseMs + 10, 0));
  }
  SECTION("a full counter carries into the millisecond and stays monotonic") {
    hlc.observe(make_hlc(kBaseMs + 1, 0xffff));
    const uint64_t d = hlc.now();
    CHECK(d > make_hlc(kBaseMs + 1, 0xffff));
  }
}

// ---- crypto -----------------------------------------------------------------

TEST_CASE("crypto: a signature verifies only with its key and its message", "[protocol]") {
  REQUIRE(crypto_ready());
  const SigningKey k = generate_signing_key();
  const SigningKey other = generate_signing_key();
  const Signature sig = sign(k, "联动");
  const std::string_view sv(reinterpret_cast<const char*>(sig.data()), sig.size());
  CHECK(verify(k.pub, "联动", sv));
  CHECK_FALSE(verify(other.pub, "联动", sv));
  CHECK_FALSE(verify(k.pub, "联动!", sv));
  CHECK_FALSE(verify(k.pub, "联动", sv.substr(0, 63)));

  SECTION("a secret key rebuilds the same key pair; a corrupted one is refused") {
    const std::string secret(reinterpret_cast<const char*>(k.secret.data()), k.secret.size());
    auto back = signing_key_from_secret(secret);
    REQUIRE(back);
    CHECK(back->pub == k.pub);
    CHECK_FALSE(signing_key_from_secret(secret.substr(0, 32)));
  }
  SECTION("hex and z85 round-trip keys") {
    CHECK(public_key_from_hex(to_hex(k.pub)) == k.pub);
    CHECK_FALSE(public_key_from_hex(to_hex(k.pub).substr(2)));
    CHECK_FALSE(public_key_from_hex(std::string(64, 'g')));
    const std::string raw(reinterpret_cast<const char*>(k.pub.data()), k.pub.size());
    CHECK(from_z85(to_z85(raw)) == raw);
    CHECK(to_z85("abc").empty());
    CHECK_FALSE(from_z85("abcd"));
    CHECK(to_z85(std::string("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8)) == "HelloWorld");
  }
}

// ---- codec: round trip ------------------------------------------------------

TEST_CASE("codec: a sealed event parses back with every field intact", "[protocol]") {
  const std::string sealed = sealed_with([](proto::Event::Builder ev) {
    auto s = ev.initSettles(2);
    write_id(s[0], Id{kTownship, 3});
    write_id(s[1], Id{kCounty, 9});
  });
  auto v = EventView::parse(sealed);
  REQUIRE(v.ok());
  CHECK(v->kind() == EventKind::submitted);
  CHECK(v->id() == Id{kVillage, 1});
  CHECK(v->case_id() == Id{kVillage, 1});
  CHECK(v->hlc() == make_hlc(kBaseMs, 0));
  CHECK(v->sealed() == sealed);
  CHECK(v->signature().size() == 64);
  CHECK(v->event_bytes().size() % 8 == 0);
  CHECK(sealed.find(v->event_bytes()) != std::string::npos);
  auto ev = v->event();
  CHECK(std::string(ev.getHome().cStr()) == kVillage);
  CHECK(std::string(ev.getActor().getName().cStr()) == "王小红");
  CHECK(ev.getActor().getRole() == proto::Role::AGENT);
  CHECK(std::string(ev.getBody().getSubmitted().getApplicant().getName().cStr()) == "张三");
  CHECK(std::string(ev.getBody().getSubmitted().getItemName().cStr()) == "农村宅基地建房");
  REQUIRE(ev.getSettles().size() == 2);
  CHECK(read_id(ev.getSettles()[1]) == Id{kCounty, 9});
  CHECK(check_signature(*v, village_key().pub));

  SECTION("a moved view keeps its contents") {
    EventView moved = std::move(v).value();
    CHECK(moved.id() == Id{kVillage, 1});
    CHECK(moved.sealed() == sealed);
  }
  SECTION("a broadcast has no case id") {
    auto b = EventView::parse(sealed_with([](proto::Event::Builder e) {
      write_id(e.initId(), Id{kCounty, 5});
      e.disownCase();
      e.setHome(kCounty);
      e.getBody().initCalendarPublished().setYear(2024);
    }));
    REQUIRE(b.ok());
    CHECK(b->kind() == EventKind::calendar_published);
    CHECK(b->case_id().empty());
    CHECK(is_broadcast(b->kind()));
  }
}

TEST_CASE("codec: every body kind has a name and comes from its union member", "[protocol]") {
  std::vector<std::string> names;
  for (int i = 0; i < kEventKindCount; ++i) {
    const auto k = static_cast<EventKind>(i);
    CAPTURE(i);
    names.emplace_back(kind_name(k));
    CHECK_FALSE(names.back().empty());
    CHECK(std::strlen(kind_name_zh(k)) > 0);
    const auto which = k == EventKind::divisions_published ? proto::Event::Body::DIVISIONS_PUBLISHED
                       : k == EventKind::received          ? proto::Event::Body::RECEIVED
                       : k == EventKind::supervised        ? proto::Event::Body::SUPERVISED
                       : k == EventKind::answered          ? proto::Event::Body::ANSWERED
                                                  : static_cast<proto::Event::Body::Which>(i);
    auto back = kind_from_body(which);
    REQUIRE(back);
    CHECK(*back == k);
    CHECK(is_broadcast(k) ==
          (k == EventKind::catalog_published || k == EventKind::calendar_published ||
           k == EventKind::keys_published || k == EventKind::roster_published ||
           k == EventKind::divisions_published));
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(std::string(kind_name(EventKind::supplement_requested)) == "supplement_requested");
  CHECK(std::string(kind_name_zh(EventKind::escalated)) == "上报");
  // The held ordinal (@31) is no kind: an event using one is refused;
  // members after rosterPublished are mapped by name.
  CHECK_FALSE(kind_from_body(proto::Event::Body::HELD31));
  CHECK(kind_from_body(proto::Event::Body::RECEIVED) == EventKind::received);
  CHECK(kind_from_body(proto::Event::Body::NOT_ACCEPTED) == EventKind::not_accepted);
  CHECK(kind_from_body(proto::Event::Body::DIVISIONS_PUBLISHED) == EventKind::divisions_published);
  CHECK(kind_from_body(proto::Event::Body::SUPERVISED) == EventKind::supervised);
  CHECK(kind_from_body(proto::Event::Body::ANSWERED) == EventKind::answered);
  CHECK(proto::Event::Body::ROSTER_PUBLISHED == kEventKindCount - 6);
}

// ---- codec: signatures and tampering ----------------------------------------

TEST_CASE("codec: a signature checks only against the origin's key", "[protocol]") {
  const SigningKey stranger = generate_signing_key();
  auto v = EventView::parse(sealed_with([](proto::Event::Builder) {}, stranger));
  REQUIRE(v.ok());  // parsing does not check signatures
  auto s = check_signature(*v, village_key().pub);
  CHECK_FALSE(s);
  CHECK(s.code() == Code::invalid);
  CHECK_THAT(s.message(), Catch::Contains("signature"));
  CHECK(check_signature(*v, stranger.pub));
}

TEST_CASE("codec: no flipped byte anywhere yields a different signed event", "[protocol]") {
  const std::string sealed = valid_sealed();
  auto orig = EventView::parse(sealed);
  REQUIRE(orig.ok());
  const std::string event_bytes(orig->event_bytes());
  const std::string signature(orig->signature());
  const std::size_t ev_at = sealed.find(event_bytes);
  const std::size_t sig_at = sealed.find(signature);
  REQUIRE(ev_at != std::string::npos);
  REQUIRE(sig_at != std::string::npos);
  INFO("sealed " << sealed.size() << " bytes, event at " << ev_at << ", signature at " << sig_at);

  std::vector<std::string> signed_region_accepted, changed_content;
  std::size_t parsed = 0, refused = 0;
  for (std::size_t pos = 0; pos < sealed.size(); ++pos) {
    for (unsigned mask : {0x01u, 0x10u, 0x80u, 0xffu}) {
      std::string t = sealed;
      t[pos] = static_cast<char>(static_cast<unsigned char>(t[pos]) ^ mask);
      auto v = EventView::parse(t);
      if (!v.ok()) {
        ++refused;
        continue;
      }
      ++parsed;
      if (!check_signature(*v, village_key().pub)) continue;
      const bool in_signed = (pos >= ev_at && pos < ev_at + event_bytes.size()) ||
                             (pos >= sig_at && pos < sig_at + signature.size());
      const std::string where = std::to_string(pos) + "^" + std::to_string(mask);
      if (in_signed) signed_region_accepted.push_back(where);
      if (v->event_bytes() != event_bytes || v->signature() != signature)
        changed_content.push_back(where);
    }
  }
  INFO(refused << " variants refused by parse, " << parsed << " parsed");
  CAPTURE(signed_region_accepted, changed_content);
  CHECK(signed_region_accepted.empty());
  CHECK(changed_content.empty());
  CHECK(refused > 0);
}

TEST_CASE("codec: random garbage and random damage never crash the parser", "[protocol]") {
  const uint64_t seed = 20231114;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  const std::string sealed = valid_sealed();
  for (int i = 0; i < 3000; ++i) {
    std::string t;
    if (i % 2 == 0) {
      t.resize(8 * (rng() % 96));
      for (auto& c : t)
        c = static_cast<char>(rng());
    } else {
      t = sealed;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f)
        t[rng() % t.size()] = static_cast<char>(rng());
    }
    auto v = EventView::parse(t);
    if (v.ok()) {
      // Whatever parsed must not pass as the village's signed event unless
      // its signed bytes are exactly the original ones.
      if (check_signature(*v, village_key().pub)) {
        CHECK(v->event_bytes() == EventView::parse(sealed)->event_bytes());
      }
    } else {
      CHECK_FALSE(v.status().message().empty());
    }
  }
}

// ---- codec: size limits -----------------------------------------------------

TEST_CASE("codec: every truncation of a sealed event is refused", "[protocol]") {
  const std::string sealed = valid_sealed();
  std::vector<std::size_t> accepted;
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    auto v = EventView::parse(std::string_view(sealed).substr(0, n));
    if (v.ok()) accepted.push_back(n);
  }
  CAPTURE(sealed.size(), accepted);
  CHECK(accepted.empty());
  CHECK(EventView::parse(sealed).ok());
}

TEST_CASE("codec: lengths off the 8-byte grid and trailing bytes are refused", "[protocol]") {
  const std::string sealed = valid_sealed();
  for (std::size_t extra = 1; extra < 8; ++extra) {
    CAPTURE(extra);
    CHECK_THAT(refusal(sealed + std::string(extra, '\0')), Catch::Contains("truncated"));
    CHECK_THAT(refusal(sealed.substr(0, sealed.size() - extra)), Catch::Contains("truncated"));
  }
  SECTION("whole words of trailing data after the envelope") {
    for (std::size_t words : {1u, 2u, 100u}) {
      CAPTURE(words);
      CHECK_THAT(refusal(sealed + std::string(8 * words, '\0')), Catch::Contains("trailing"));
    }
  }
}

TEST_CASE("codec: input larger than kMaxSignedEventBytes is refused unread", "[protocol]") {
  std::string huge = valid_sealed();
  huge.resize(kMaxSignedEventBytes + 8, '\0');
  CHECK_THAT(refusal(huge), Catch::Contains("too large"));
  huge.resize(64u << 20, '\x55');
  CHECK_THAT(refusal(huge), Catch::Contains("too large"));
}

TEST_CASE("codec: an event of exactly kMaxEventBytes is accepted, one word more is not",
          "[protocol]") {
  // A catalog whose document fills the event to `target` bytes.
  auto catalog_of = [](std::size_t target) {
    std::size_t doc = target - 256;
    for (int attempt = 0; attempt < 4; ++attempt) {
      capnp::MallocMessageBuilder msg;
      auto ev = msg.initRoot<proto::Event>();
      fill_valid(ev);
      write_id(ev.initId(), Id{kCounty, 1});
      ev.disownCase();
      ev.setHome(kCounty);
      auto c = ev.getBody().initCatalogPublished();
      c.setVersion(2024);
      auto d = c.initDocument(static_cast<unsigned>(doc));
      for (std::size_t i = 0; i < doc; ++i)
        d[i] = static_cast<capnp::byte>(i * 31);
      const std::size_t size = capnp::computeSerializedSizeInWords(msg) * 8;
      if (size == target) return seal(msg, village_key());
      doc = doc + target - size;
    }
    FAIL("could not size the catalog");
    return std::string();
  };
  auto fits = EventView::parse(catalog_of(kMaxEventBytes));
  REQUIRE(fits.ok());
  CHECK(fits->event_bytes().size() == kMaxEventBytes);
  CHECK(check_signature(*fits, village_key().pub));
  CHECK_THAT(refusal(catalog_of(kMaxEventBytes + 8)), Catch::Contains("too large"));
}

// ---- codec: nesting ---------------------------------------------------------

namespace {

// A valid `calendar_published` whose root struct carries one pointer slot
// more than the schema knows (as a newer schema's field would), holding a
// chain `depth` objects deep; sealed with the origin's key, so the signature
// is good and only the limits can refuse it.
std::string nested_event(unsigned depth, bool lists) {
  capnp::MallocMessageBuilder msg;
  uint16_t data_words = 0, pointers = 0;
  {
    capnp::MallocMessageBuilder probe;
    capnp::AnyStruct::Reader r(probe.initRoot<proto::Event>().asReader());
    data_words = static_cast<uint16_t>(r.getDataSection().size() / 8);
    pointers = static_cast<uint16_t>(r.getPointerSection().size());
  }
  auto root = msg.getRoot<capnp::AnyPointer>().initAsAnyStruct(data_words, pointers + 1);
  auto ev = msg.getRoot<proto::Event>();
  write_id(ev.initId(), Id{kCounty, 1});
  ev.setHome(kCounty);
  ev.setHlc(make_hlc(kBaseMs, 0));
  ev.initActor().setName("县政务服务中心");
  ev.getBody().initCalendarPublished().setYear(2024);
  auto p = root.getPointerSection()[pointers];
  for (unsigned i = 0; i < depth; ++i) {
    if (lists) {
      p = p.initAsAnyList(capnp::ElementSize::POINTER, 1).as<capnp::List<capnp::AnyPointer>>()[0];
    } else {
      p = p.initAsAnyStruct(1, 1).getPointerSection()[0];
    }
  }
  return seal(msg, village_key());
}

}  // namespace

TEST_CASE("codec: a signed message nested deeper than kMaxNesting is refused", "[protocol]") {
  for (bool lists : {false, true}) {
    CAPTURE(lists);
    SECTION(lists ? "lists of lists" : "structs in structs") {
      // The root counts as one level.
      auto shallow = EventView::parse(nested_event(kMaxNesting - 1, lists));
      CHECK(shallow.ok());
      for (unsigned depth : {kMaxNesting, kMaxNesting + 1, 64u, 2000u}) {
        CAPTURE(depth);
        const std::string deep = nested_event(depth, lists);
        CHECK_THAT(refusal(deep), Catch::Contains("nested"));
      }
    }
  }
  SECTION("a root that is itself a deep list, not an Event") {
    capnp::MallocMessageBuilder msg;
    auto p = msg.getRoot<capnp::AnyPointer>();
    for (unsigned i = 0; i < 100; ++i)
      p = p.initAsAnyList(capnp::ElementSize::POINTER, 1).as<capnp::List<capnp::AnyPointer>>()[0];
    CHECK_FALSE(refusal(seal(msg, village_key())).empty());
  }
}

TEST_CASE("codec: a message whose pointers alias each other is refused", "[protocol]") {
  // Each level is a struct of 8 pointers all aimed at the next level, 12
  // levels deep (within the nesting limit): under 1 KiB on the wire, 8^12
  // structs to read. Built word by word, since builders never alias.
  const unsigned fan = 8, depth = 12;
  auto struct_ptr = [](int64_t offset, uint16_t data, uint16_t ptrs) {
    return static_cast<uint64_t>(static_cast<uint32_t>(offset * 4)) |
           (static_cast<uint64_t>(data) << 32) | (static_cast<uint64_t>(ptrs) << 48);
  };
  std::vector<uint64_t> m = {0 /* segment table, set below */};
  m.push_back(struct_ptr(0, 0, fan));  // the root pointer (word 1) -> struct at word 2
  for (unsigned level = 0; level < depth; ++level) {
    const int64_t here = static_cast<int64_t>(m.size()), next = here + fan;
    for (unsigned i = 0; i < fan; ++i)
      m.push_back(level + 1 == depth ? 0 : struct_ptr(next - (here + i + 1), 0, fan));
  }
  m[0] = static_cast<uint64_t>(m.size() - 1) << 32;  // one segment of the rest
  const std::string ev(reinterpret_cast<const char*>(m.data()), m.size() * 8);
  const Signature sig = sign(village_key(), ev);
  capnp::MallocMessageBuilder outer;
  auto env = outer.initRoot<proto::SignedEvent>();
  env.setEvent(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(ev.data()), ev.size()));
  env.setSignature(capnp::Data::Reader(sig.data(), sig.size()));
  auto flat = capnp::messageToFlatArray(outer);
  const std::string sealed(reinterpret_cast<const char*>(flat.asBytes().begin()),
                           flat.asBytes().size());
  CHECK(sealed.size() < 1024);
  CHECK_THAT(refusal(sealed), Catch::Contains("traversal limit"));
}

// ---- codec: text, list and field rules ---------------------------------------

TEST_CASE("codec: a text longer than kMaxText is refused, kMaxText itself is not", "[protocol]") {
  const std::string at_limit(kMaxText, 'a');
  const std::string over(kMaxText + 1, 'a');
  SECTION("actor name") {
    CHECK(EventView::parse(sealed_with([&](proto::Event::Builder ev) {
            ev.getActor().setName(at_limit);
          })).ok());
    CHECK_THAT(refusal(sealed_with([&](proto::Event::Builder ev) { ev.getActor().setName(over); })),
               Catch::Contains("too long"));
  }
  SECTION("a form field value") {
    auto with = [&](const std::string& v) {
      return sealed_with([&](proto::Event::Builder ev) {
        auto f = ev.getBody().getSubmitted().initFields(1);
        f[0].setKey("说明");
        f[0].setValue(v);
      });
    };
    CHECK(EventView::parse(with(at_limit)).ok());
    CHECK_THAT(refusal(with(over)), Catch::Contains("too long"));
  }
  SECTION("an opinion's text") {
    auto with = [&](const std::string& v) {
      return sealed_with(case_event(kCounty, [&](proto::Event::Builder ev) {
        auto o = ev.getBody().initOpinion();
        o.setDepartment("林业");
        o.setText(v);
      }));
    };
    CHECK(EventView::parse(with(at_limit)).ok());
    CHECK_THAT(refusal(with(over)), Catch::Contains("too long"));
  }
}

TEST_CASE("codec: a list longer than kMaxListItems is refused, kMaxListItems is not",
          "[protocol]") {
  auto settles = [](std::size_t n) {
    return sealed_with([n](proto::Event::Builder ev) {
      auto s = ev.initSettles(static_cast<unsigned>(n));
      for (unsigned i = 0; i < s.size(); ++i)
        write_id(s[i], Id{kTownship, i + 1});
    });
  };
  CHECK(EventView::parse(settles(kMaxListItems)).ok());
  CHECK_THAT(refusal(settles(kMaxListItems + 1)), Catch::Contains("too many"));

  auto fields = [](std::size_t n) {
    return sealed_with([n](proto::Event::Builder ev) {
      auto f = ev.getBody().getSubmitted().initFields(static_cast<unsigned>(n));
      for (unsigned i = 0; i < f.size(); ++i)
        f[i].setKey("k" + std::to_string(i));
    });
  };
  CHECK(EventView::parse(fields(kMaxListItems)).ok());
  CHECK_THAT(refusal(fields(kMaxListItems + 1)), Catch::Contains("too many"));

  auto departments = [](std::size_t n) {
    return sealed_with(case_event(kCounty, [n](proto::Event::Builder ev) {
      auto d = ev.getBody().initAssigned().initDepartments(static_cast<unsigned>(n));
      for (unsigned i = 0; i < d.size(); ++i)
        d.set(i, "科室" + std::to_string(i));
    }));
  };
  CHECK(EventView::parse(departments(kMaxListItems)).ok());
  CHECK_THAT(refusal(departments(kMaxListItems + 1)), Catch::Contains("too many"));
}

TEST_CASE("codec: text that is not valid UTF-8 is refused", "[protocol]") {
  const std::vector<std::string> invalid = {
      "\xff",                  // never valid
      "\x80",                  // lone continuation byte
      "\xe4\xb8",              // 中 cut short
      "\xe4\xb8\xad\xe6",      // 中 then a cut lead byte
      "\xc0\x80",              // overlong NUL
      "\xc1\xbf",              // overlong ASCII
      "\xe0\x80\xaf",          // overlong '/'
      "\xf0\x82\x82\xac",      // overlong euro sign
      "\xed\xa0\x80",          // UTF-16 surrogate
      "\xed\xbf\xbf",          // UTF-16 surrogate
      "\xf4\x90\x80\x80",      // above U+10FFFF
      "\xf5\x80\x80\x80",      // above U+10FFFF
      "\xf8\x88\x80\x80\x80",  // five-byte form
      "\xe4\x41\xad",          // ASCII where a continuation belongs
      // The same faults after and between runs of ASCII, read eight at a time.
      "abcdefgh\xff",
      "abcdefg\xe4\xb8",
      "0123456789\xed\xa0\x80xyz",
      "0123456789abcdef\xc0\x80",
      "\xe4\xb8\xad"
      "abcdefghijklmnop\x80",
  };
  const std::vector<std::string> valid = {"张三",
                                          "农村宅基地建房",
                                          "\xf0\x9f\x98\x80" /* 😀 */,
                                          "\xed\x9f\xbf" /* U+D7FF */,
                                          "\xee\x80\x80" /* U+E000 */,
                                          "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
                                          "\xc2\x80",
                                          "plain ascii",
                                          "a long run of ascii, then 中文, then ascii again",
                                          "01234567\xe4\xb8\xad"
                                          "89abcdef\xf0\x9f\x98\x80",
                                          ""};
  using Setter = std::function<void(proto::Event::Builder, const std::string&)>;
  const std::vector<std::pair<const char*, Setter>> fields = {
      {"applicant name",
       [](proto::Event::Builder ev, const std::string& s) {
         ev.getBody().getSubmitted().getApplicant().setName(text("张" + s));
       }},
      {"actor name", [](proto::Event::Builder ev,
                        const std::string& s) { ev.getActor().setName(text("王" + s)); }},
      {"material name",
       [](proto::Event::Builder ev, const std::string& s) {
         ev.getBody().getSubmitted().getMaterials()[0].setName(text("户口簿" + s));
       }},
      {"opinion text",
       [](proto::Event::Builder ev, const std::string& s) {
         write_id(ev.initId(), Id{kCounty, 3});
         auto o = ev.getBody().initOpinion();
         o.setDepartment("国土");
         o.setText(text(s));
       }},
      {"certificate number",
       [](proto::Event::Builder ev, const std::string& s) {
         write_id(ev.initId(), Id{kCounty, 3});
         auto d = ev.getBody().initDecided();
         d.setApproved(true);
         d.setCertificateNo(text(s));
       }},
  };
  for (const auto& field : fields) {
    // Named copies: clang 14 cannot capture structured bindings in lambdas.
    const auto& name = field.first;
    const auto& set = field.second;
    CAPTURE(name);
    for (const auto& bad : invalid) {
      CAPTURE(to_hex(bad));
      CHECK_THAT(refusal(sealed_with([&](proto::Event::Builder ev) { set(ev, bad); })),
                 Catch::Contains("UTF-8"));
    }
    for (const auto& good : valid) {
      CAPTURE(to_hex(good));
      auto v = EventView::parse(sealed_with([&](proto::Event::Builder ev) { set(ev, good); }));
      CHECK(v.ok());
    }
  }
}

TEST_CASE("codec: text with a NUL character is refused, wherever the NUL is", "[protocol]") {
  const std::string base = "张三 lives at 村口 0123456789 abcdefghijklmnop";
  for (std::size_t at = 0; at <= base.size(); ++at) {
    // Only at character boundaries: elsewhere it would be bad UTF-8 first.
    if (at < base.size() && (static_cast<unsigned char>(base[at]) & 0xc0) == 0x80) continue;
    std::string t = base;
    t.insert(at, 1, '\0');
    CAPTURE(at);
    CHECK_THAT(refusal(sealed_with([&](proto::Event::Builder ev) {
                 ev.getBody().getSubmitted().getApplicant().setAddress(text(t));
               })),
               Catch::Contains("NUL"));
  }
}

TEST_CASE("codec: events that break a field rule are refused with the rule", "[protocol]") {
  SECTION("a broadcast that names a case") {
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 write_id(ev.initId(), Id{kCounty, 1});
                 ev.setHome(kCounty);
                 ev.getBody().initCatalogPublished().setVersion(1);
               })),
               Catch::Contains("broadcast event names a case"));
  }
  SECTION("a broadcast homed anywhere but at its origin") {
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 write_id(ev.initId(), Id{kCounty, 1});
                 ev.disownCase();
                 ev.setHome(kTownship);
                 ev.getBody().initCatalogPublished().setVersion(1);
               })),
               Catch::Contains("home must be its origin"));
  }
  SECTION("a submitted whose case is not its own id") {
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 write_id(ev.initCase(), Id{kVillage, 2});
               })),
               Catch::Contains("its own case"));
  }
  SECTION("a home outside the origin's jurisdiction") {
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 ev.setHome("360723101008");  // the neighbouring village
               })),
               Catch::Contains("outside the jurisdiction"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) { ev.setHome(kTownship); })),
               Catch::Contains("outside the jurisdiction"));
    // The township acting on the village's case is inside its jurisdiction.
    CHECK(EventView::parse(sealed_with(case_event(kTownship, [](proto::Event::Builder ev) {
            ev.getBody().initAccepted();
          }))).ok());
  }
  SECTION("a case homed outside its own origin's jurisdiction") {
    CHECK_THAT(refusal(sealed_with(case_event(kCounty,
                                              [](proto::Event::Builder ev) {
                                                write_id(ev.initCase(), Id{"360723101008", 1});
                                                ev.getBody().initAccepted();
                                              }))),
               Catch::Contains("cannot be homed"));
  }
  SECTION("ratings 0 and 6; 1 and 5 are fine") {
    auto rated = [](uint8_t score) {
      return sealed_with(case_event(kVillage, [score](proto::Event::Builder ev) {
        ev.getBody().initRated().setScore(score);
      }));
    };
    CHECK_THAT(refusal(rated(0)), Catch::Contains("rating"));
    CHECK_THAT(refusal(rated(6)), Catch::Contains("rating"));
    CHECK_THAT(refusal(rated(255)), Catch::Contains("rating"));
    CHECK(EventView::parse(rated(1)).ok());
    CHECK(EventView::parse(rated(5)).ok());
  }
  SECTION("ids, clocks and cases") {
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) { ev.disownId(); })),
               Catch::Contains("no id"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 write_id(ev.initId(), Id{kVillage, 0});
               })),
               Catch::Contains("start at 1"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 write_id(ev.initId(), Id{"3607231010", 1});
               })),
               Catch::Contains("not a division code"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) { ev.setHlc(0); })),
               Catch::Contains("no hlc"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) { ev.setHome("36072310100"); })),
               Catch::Contains("not a division code"));
    CHECK_THAT(refusal(sealed_with(case_event(
                   kVillage, [](proto::Event::Builder ev) { ev.getBody().initComment(); }))),
               Catch::Contains("comment is required"));
    CHECK_THAT(refusal(sealed_with(case_event(kVillage,
                                              [](proto::Event::Builder ev) {
                                                ev.disownCase();
                                                ev.getBody().initComment().setText("x");
                                              }))),
               Catch::Contains("names no case"));
    CHECK_THAT(refusal(sealed_with(case_event(kVillage,
                                              [](proto::Event::Builder ev) {
                                                write_id(ev.initCase(), Id{kVillage, 0});
                                                ev.getBody().initComment().setText("x");
                                              }))),
               Catch::Contains("malformed"));
  }
  SECTION("a body kind from a newer schema") {
    const std::string sealed = sealed_with([](proto::Event::Builder ev) {
      ev.getBody().initComment().setText("x");
      capnp::AnyStruct::Builder any = capnp::toAny(proto::Event::Builder(ev));
      auto data = any.getDataSection();
      // The union discriminant sits after the 8-byte hlc.
      REQUIRE(ev.getBody().which() == proto::Event::Body::COMMENT);
      data[8] = 99;
      data[9] = 0;
      REQUIRE(static_cast<int>(ev.getBody().which()) == 99);
    });
    CHECK_THAT(refusal(sealed), Catch::Contains("unknown event kind"));
  }
  SECTION("body rules") {
    auto body = [](const Tweak& t) { return refusal(sealed_with(case_event(kCounty, t))); };
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initEscalated().setTo("36072"); }),
               Catch::Contains("not a division code"));
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initAssigned(); }),
               Catch::Contains("no department"));
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initSupplementRequested(); }),
               Catch::Contains("no material"));
    CHECK_THAT(
        body([](proto::Event::Builder ev) { ev.getBody().initDecided().setApproved(false); }),
        Catch::Contains("reason is required"));
    CHECK_THAT(body([](proto::Event::Builder ev) {
                 auto f = ev.getBody().initFeeCollected();
                 f.setAmount(0);
                 f.setReceiptNo("No.1");
               }),
               Catch::Contains("positive"));
    CHECK_THAT(
        body([](proto::Event::Builder ev) { ev.getBody().initFeeCollected().setAmount(100); }),
        Catch::Contains("receipt number is required"));
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initOpinion(); }),
               Catch::Contains("department is required"));
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initReplied(); }),
               Catch::Contains("reply is required"));
    CHECK_THAT(body([](proto::Event::Builder ev) { ev.getBody().initComplaint(); }),
               Catch::Contains("complaint is required"));
    CHECK_THAT(refusal(sealed_with(
                   [](proto::Event::Builder ev) { ev.getBody().getSubmitted().setFeeDue(-1); })),
               Catch::Contains("negative"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 ev.getBody().getSubmitted().getApplicant().setName("");
               })),
               Catch::Contains("applicant name is required"));
    CHECK_THAT(refusal(sealed_with(
                   [](proto::Event::Builder ev) { ev.getBody().getSubmitted().setItemCode(""); })),
               Catch::Contains("item code is required"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) { ev.getActor().setName(""); })),
               Catch::Contains("actor name is required"));
    CHECK_THAT(refusal(sealed_with([](proto::Event::Builder ev) {
                 auto a = ev.getBody().getSubmitted().initAttachments(1);
                 a[0].initSha256(31);
                 a[0].setSize(10);
               })),
               Catch::Contains("sha256"));
  }
  SECTION("a due date is YYYY-MM-DD or empty") {
    auto accepted = [](const std::string& due) {
      return sealed_with(case_event(kTownship, [due](proto::Event::Builder ev) {
        ev.getBody().initAccepted().setDueDate(due);
      }));
    };
    CHECK(EventView::parse(accepted("")).ok());
    CHECK(EventView::parse(accepted("2023-11-24")).ok());
    for (const std::string& bad :
         std::vector<std::string>{"2023-1-24", "2023/11/24", "24-11-2023", "2023-11-24 ",
                                  "二〇二三年", "2023-11-2x", std::string(600, '9')}) {
      CAPTURE(bad);
      CHECK_THAT(refusal(accepted(bad)), Catch::Contains("due date"));
    }
  }
}

// ---- codec: a view is read many times -------------------------------------------

TEST_CASE("codec: a parsed event can be read any number of times", "[protocol]") {
  // Regression: the view's reader carried a traversal budget for its whole
  // life, so reading a big catalog twice, or calling hlc() some 13,000
  // times (sorting), threw kj::Exception out of a const accessor.
  SECTION("the clock of a small event, read as often as a long sort would") {
    auto v = EventView::parse(valid_sealed());
    REQUIRE(v.ok());
    uint64_t sum = 0;
    for (int i = 0; i < 100'000; ++i)
      sum += v->hlc() & 1;
    CHECK(sum == 0);
    CHECK(std::string(v->event().getBody().getSubmitted().getApplicant().getName().cStr()) ==
          "张三");
  }
  SECTION("a catalog of 900 KiB, read three times") {
    capnp::MallocMessageBuilder msg;
    auto ev = msg.initRoot<proto::Event>();
    fill_valid(ev);
    write_id(ev.initId(), Id{kCounty, 1});
    ev.disownCase();
    ev.setHome(kCounty);
    auto d = ev.getBody().initCatalogPublished().initDocument(900u << 10);
    for (std::size_t i = 0; i < d.size(); ++i)
      d[i] = static_cast<capnp::byte>(i);
    auto v = EventView::parse(seal(msg, village_key()));
    REQUIRE(v.ok());
    for (int i = 0; i < 3; ++i) {
      auto doc = v->event().getBody().getCatalogPublished().getDocument();
      REQUIRE(doc.size() == (900u << 10));
      CHECK(doc[1000] == static_cast<capnp::byte>(1000));
    }
  }
  SECTION("a submitted near the size limit, made of texts") {
    const std::string value(60'000, 'x');
    auto sealed = sealed_with([&](proto::Event::Builder ev) {
      auto f = ev.getBody().getSubmitted().initFields(16);
      for (unsigned i = 0; i < f.size(); ++i) {
        f[i].setKey("附件说明" + std::to_string(i));
        f[i].setValue(value);
      }
    });
    auto v = EventView::parse(sealed);
    REQUIRE(v.ok());
    for (int round = 0; round < 3; ++round) {
      std::size_t total = 0;
      for (auto f : v->event().getBody().getSubmitted().getFields())
        total += f.getValue().size();
      CHECK(total == 16 * value.size());
    }
  }
}

TEST_CASE("codec: reader options hold the limits", "[protocol]") {
  auto o = reader_options(kMaxEventBytes);
  CHECK(o.nestingLimit == static_cast<int>(kMaxNesting));
  CHECK(o.traversalLimitInWords >= kMaxEventBytes / 8);
  CHECK(o.traversalLimitInWords <= kMaxEventBytes / 8 + 64);
}

TEST_CASE("route info names the body's kind, and none for a kind this build does not know",
          "[protocol]") {
  auto submitted = sync::route_info(valid_sealed());
  REQUIRE(submitted.ok());
  CHECK(submitted->kind == EventKind::submitted);
  CHECK(submitted->home == kVillage);
  auto escalated = sync::route_info(
      sealed_with([](proto::Event::Builder ev) { ev.getBody().initEscalated().setTo(kTownship); }));
  REQUIRE(escalated.ok());
  CHECK(escalated->kind == EventKind::escalated);
  auto held =
      sync::route_info(sealed_with([](proto::Event::Builder ev) { ev.getBody().setHeld31(); }));
  REQUIRE(held.ok());
  CHECK_FALSE(held->kind.has_value());
}
