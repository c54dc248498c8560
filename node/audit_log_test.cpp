// Unit tests of the daemon's audit recorder (node/audit_log): repeats are
// aggregated per key and window, records wait until the node is ready, and
// a failed write never fails the caller.
#include "node/audit_log.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

using namespace liandong;
using namespace liandong::node;
using namespace std::chrono_literals;

namespace {

const std::string kTown = "360723101";

struct Fixture {
  test::TempDir tmp{"liandong-audit-log"};
  std::unique_ptr<storage::Store> store;
  SigningKey key = generate_signing_key();
  Fixture() {
    storage::StoreOptions o;
    o.dir = tmp.path() / "store";
    auto s = storage::Store::create(o, kTown);
    REQUIRE(s.ok());
    store = std::move(s).value();
  }
  std::vector<storage::StoredEvent> audit() const {
    auto r = store->audit_events();
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

AuditNote refused(const std::string& address, const std::string& reason = "unknown key") {
  AuditNote n;
  n.what = proto::AuditWhat::CONNECTION_REFUSED;
  n.who = address;
  n.subject = "CurveZMQ key";
  n.reason = reason;
  return n;
}

uint32_t count_of(const storage::StoredEvent& e) {
  return e.view.event().getBody().getAudit().getCount();
}

}  // namespace

TEST_CASE("audit log: repeats are written once per key and window, with their count",
          "[node][audit]") {
  Fixture f;
  AuditLog log(*f.store, f.key, 1000ms);
  log.set_ready();
  const auto t0 = AuditLog::Clock::now();
  CHECK(log.note(refused("10.0.0.7"), t0));  // the first is written at once
  for (int i = 0; i < 9; ++i)
    CHECK_FALSE(log.note(refused("10.0.0.7"), t0 + 10ms));
  CHECK(log.note(refused("10.0.0.8"), t0 + 20ms));               // another address
  CHECK(log.note(refused("10.0.0.7", "bad hello"), t0 + 20ms));  // another reason
  CHECK(f.audit().size() == 3);
  CHECK(log.flush(t0 + 500ms) == 0);   // the window is not over
  CHECK(log.flush(t0 + 1001ms) == 1);  // nine repeats, one event
  auto all = f.audit();
  REQUIRE(all.size() == 4);
  CHECK(count_of(all[0]) == 1);
  CHECK(count_of(all[3]) == 9);
  auto a = all[3].view.event().getBody().getAudit();
  CHECK(std::string(a.getWho().cStr()) == "10.0.0.7");
  CHECK(a.getLastMs() >= a.getFirstMs());
  CHECK(all[3].view.event().getActor().getRole() == proto::Role::SYSTEM);
  // A quiet window ends the aggregation: the next is written at once again.
  CHECK(log.flush(t0 + 2500ms) == 0);
  CHECK(log.flush(t0 + 4000ms) == 0);
  CHECK(log.note(refused("10.0.0.7"), t0 + 4001ms));
  CHECK(f.audit().size() == 5);
  CHECK(f.store->check_integrity());
}

TEST_CASE("audit log: records wait until the node knows its sequence numbers", "[node][audit]") {
  Fixture f;
  AuditLog log(*f.store, f.key, 1000ms);
  AuditNote n = refused("10.0.0.7");
  CHECK_FALSE(log.record(n));
  CHECK_FALSE(log.note(refused("10.0.0.9")));
  CHECK(log.flush() == 0);
  CHECK(f.audit().empty());
  log.set_ready();
  CHECK(log.flush() == 2);
  CHECK(f.audit().size() == 2);
}

TEST_CASE("audit log: outside text is cleaned so that the record always validates",
          "[node][audit]") {
  Fixture f;
  AuditNote n = refused(std::string("10.0.0.7\0\xff", 10), std::string(10000, 'x'));
  n.peer_code = "not a code";
  n.count = 0;  // raised to 1
  n.first_ms = 2000;
  n.last_ms = 1000;  // raised to the first time
  CHECK(record_audit(*f.store, f.key, n));
  auto all = f.audit();
  REQUIRE(all.size() == 1);
  auto a = all[0].view.event().getBody().getAudit();
  CHECK(std::string(a.getWho().cStr()) == "10.0.0.7??");
  CHECK(a.getReason().size() <= kMaxAuditText);
  CHECK(a.getPeerCode().size() == 0);
  CHECK(a.getCount() == 1);
  CHECK(a.getLastMs() == a.getFirstMs());
}
