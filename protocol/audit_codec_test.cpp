// Unit tests of the `audit` event kind (审计日志) in the signed-event codec:
// a valid one round-trips; one that names a case, lives elsewhere than its
// origin or breaks a field rule is refused.
#include <capnp/message.h>
#include <sodium.h>
#include <catch2/catch.hpp>

#include <array>
#include <functional>
#include <string>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"

using namespace liandong;

namespace {

const std::string kTownship = "360723101";
constexpr uint64_t kBaseMs = 1'700'000'000'000ULL;

const SigningKey& township_key() {
  static const SigningKey k = [] {
    REQUIRE(crypto_ready());
    return generate_signing_key();
  }();
  return k;
}

using Tweak = std::function<void(proto::Event::Builder)>;

// A valid audit event of the township (an event refused from a village),
// changed by `tweak`.
std::string audit_sealed(const Tweak& tweak = [](proto::Event::Builder) {}) {
  capnp::MallocMessageBuilder msg;
  auto ev = msg.initRoot<proto::Event>();
  write_id(ev.initId(), Id{kTownship, 4});
  ev.setHome(kTownship);
  ev.setHlc(make_hlc(kBaseMs, 0));
  auto actor = ev.initActor();
  actor.setName(kTownship);
  actor.setRole(proto::Role::SYSTEM);
  auto a = ev.getBody().initAudit();
  a.setWhat(proto::AuditWhat::EVENT_REFUSED);
  a.setPeerCode("360723101007");
  a.setWho("360723101007");
  a.setSubject("360723101007-000003");
  a.setReason("bad signature on event 360723101007-000003");
  a.setCount(5);
  a.setFirstMs(kBaseMs - 60'000);
  a.setLastMs(kBaseMs);
  tweak(ev);
  return seal(msg, township_key());
}

Status parse_status(const std::string& sealed) {
  auto v = EventView::parse(sealed);
  return v.ok() ? Status::ok() : v.status();
}

}  // namespace

TEST_CASE("codec: an audit event round-trips with every field", "[protocol][audit]") {
  const std::string sealed = audit_sealed();
  auto v = EventView::parse(sealed);
  REQUIRE(v.ok());
  CHECK(v->kind() == EventKind::audit);
  CHECK(std::string(kind_name(EventKind::audit)) == "audit");
  CHECK(std::string(kind_name_zh(EventKind::audit)) == "审计");
  CHECK_FALSE(is_broadcast(v->kind()));
  CHECK_FALSE(names_case(v->kind()));
  CHECK(v->case_id().empty());
  CHECK(v->id() == Id{kTownship, 4});
  CHECK(v->sealed() == sealed);
  CHECK(check_signature(*v, township_key().pub));
  auto a = v->event().getBody().getAudit();
  CHECK(a.getWhat() == proto::AuditWhat::EVENT_REFUSED);
  CHECK(std::string(a.getPeerCode().cStr()) == "360723101007");
  CHECK(std::string(a.getSubject().cStr()) == "360723101007-000003");
  CHECK(a.getCount() == 5);
  CHECK(a.getLastMs() - a.getFirstMs() == 60'000);
  CHECK(proto::Event::Body::AUDIT == static_cast<int>(EventKind::audit));
  CHECK(*kind_from_body(proto::Event::Body::AUDIT) == EventKind::audit);

  SECTION("every kind of happening is accepted") {
    for (auto w : {proto::AuditWhat::CONNECTION_ADMITTED, proto::AuditWhat::CONNECTION_REFUSED,
                   proto::AuditWhat::EVENT_REFUSED, proto::AuditWhat::ROLE_REFUSED,
                   proto::AuditWhat::KEY_CHANGED, proto::AuditWhat::ADMIN_COMMAND,
                   proto::AuditWhat::EVENT_QUARANTINED, proto::AuditWhat::DESK_LOGIN,
                   proto::AuditWhat::DESK_LOGIN_REFUSED, proto::AuditWhat::DESK_REQUEST_REFUSED,
                   proto::AuditWhat::NODE_ENROLLED, proto::AuditWhat::ENROLL_REFUSED}) {
      CAPTURE(static_cast<int>(w));
      CHECK(parse_status(
          audit_sealed([w](proto::Event::Builder e) { e.getBody().getAudit().setWhat(w); })));
    }
  }
  SECTION("optional texts may be empty and Chinese text is kept") {
    auto s = audit_sealed([](proto::Event::Builder e) {
      auto b = e.getBody().getAudit();
      b.setPeerCode("");
      b.setWho("王小红");
      b.setSubject("");
      b.setReason("代理员不能办结");
      b.setCount(1);
      b.setFirstMs(kBaseMs);
    });
    auto v2 = EventView::parse(s);
    REQUIRE(v2.ok());
    CHECK(std::string(v2->event().getBody().getAudit().getReason().cStr()) == "代理员不能办结");
  }
}

TEST_CASE("codec: a malformed audit event is refused", "[protocol][audit]") {
  struct Bad {
    const char* what;
    Tweak tweak;
    const char* message;
  };
  const Bad bad[] = {
      {"names a case",
       [](proto::Event::Builder e) {
         write_id(e.initCase(), Id{kTownship, 1});
       },
       "names a case"},
      {"home elsewhere than its origin", [](proto::Event::Builder e) { e.setHome("360723101007"); },
       "home must be its origin"},
      {"count 0", [](proto::Event::Builder e) { e.getBody().getAudit().setCount(0); }, "count"},
      {"no first time", [](proto::Event::Builder e) { e.getBody().getAudit().setFirstMs(0); },
       "time"},
      {"last before first",
       [](proto::Event::Builder e) { e.getBody().getAudit().setLastMs(kBaseMs - 120'000); },
       "time"},
      {"peer code not a division code",
       [](proto::Event::Builder e) { e.getBody().getAudit().setPeerCode("36072x"); }, "peer code"},
      {"reason with a NUL",
       [](proto::Event::Builder e) {
         e.getBody().getAudit().setReason(capnp::Text::Reader("bad\0sig", 7));
       },
       "NUL"},
      {"subject not UTF-8",
       [](proto::Event::Builder e) {
         e.getBody().getAudit().setSubject(capnp::Text::Reader("\xff\xfe", 2));
       },
       "UTF-8"},
      {"reason too long",
       [](proto::Event::Builder e) {
         e.getBody().getAudit().setReason(std::string(kMaxAuditText + 1, 'x'));
       },
       "too long"},
      {"unknown kind of happening",
       [](proto::Event::Builder e) {
         e.getBody().getAudit().setWhat(static_cast<proto::AuditWhat>(42));
       },
       "unknown"},
      {"no actor name", [](proto::Event::Builder e) { e.getActor().setName(""); }, "actor name"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.what);
    const Status s = parse_status(audit_sealed(b.tweak));
    CHECK(s.code() == Code::invalid);
    CHECK_THAT(s.message(), Catch::Contains(b.message));
  }
}
