// Unit tests of the application layer (node/app/): the operations called
// directly, on a real store in a temporary directory, as the CLI, the
// control socket and the desk call them.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "node/app/act.h"
#include "node/app/submit.h"
#include "protocol/crypto.h"
#include "storage/store.h"
#include "tests/temp_dir.h"

using namespace liandong;

namespace {

constexpr const char* kTown = "360723101";
constexpr const char* kVillage = "360723101007";
// 2026-06-01 12:00 China time.
constexpr uint64_t kNow = 1'780'286'400'000;

struct Node {
  test::TempDir dir{"liandong-app"};
  std::unique_ptr<storage::Store> store;
  SigningKey key = generate_signing_key();

  explicit Node(const std::string& code) {
    auto s = storage::Store::create(storage::StoreOptions{dir.path() / "store"}, code);
    if (!s.ok()) FAIL("create store: " << s.status().to_string());
    store = std::move(s).value();
    REQUIRE(store->put_key(code, key.pub));
  }
  app::Context ctx() {
    return app::Context{*store, key, [] { return kNow; }};
  }
  uint64_t events() const { return store->stats().value().events; }
};

app::SubmitRequest application(const std::string& role) {
  app::SubmitRequest r;
  r.item = "MZ-DB-003";
  r.applicant = "王五";
  r.id_number = "360723197603021158";
  r.actor = app::Actor{"王小红", role, "", ""};
  return r;
}

}  // namespace

TEST_CASE("app: an agent may not register at a township; the refusal is audited, nothing else",
          "[app]") {
  Node town(kTown);
  const uint64_t before = town.events();
  SECTION("check_submission refuses and writes nothing") {
    auto checked = app::check_submission(town.ctx(), application("agent"));
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.error().refused);
    CHECK(app::exit_code(checked.error()) == 1);
    CHECK(checked.error().status.message().find("agent") != std::string::npos);
    REQUIRE(checked.error().role_refusal);
    CHECK(checked.error().role_refusal->kind == EventKind::submitted);
    CHECK(town.events() == before);
  }
  SECTION("submit refuses and records the refusal in the audit log only") {
    auto done = app::submit(town.ctx(), application("agent"));
    REQUIRE_FALSE(done.ok());
    CHECK(done.error().refused);
    CHECK(town.store->list_cases({}).value().empty());
    auto audit = town.store->audit_events(0);
    REQUIRE(audit.ok());
    REQUIRE(audit->size() == 1);
    CHECK(std::string(audit->front().view.event().getBody().getAudit().getReason().cStr())
              .find("agent") != std::string::npos);
  }
  SECTION("a clerk registers the same application there") {
    auto done = app::submit(town.ctx(), application("clerk"));
    REQUIRE(done.ok());
    CHECK(format_id(done->case_id).rfind(kTown, 0) == 0);
    CHECK(town.store->list_cases({}).value().size() == 1);
  }
}

TEST_CASE("app: check_submission checks an application without writing it", "[app]") {
  Node village(kVillage);
  const uint64_t before = village.events();
  auto good = app::check_submission(village.ctx(), application("agent"));
  REQUIRE(good.ok());
  CHECK(std::string(good->submitted().getItemCode().cStr()) == "MZ-DB-003");
  CHECK(std::string(good->submitted().getApplicant().getName().cStr()) == "王五");
  auto bad_id = application("agent");
  bad_id.id_number = "360723197603021159";  // wrong check character
  auto bad = app::check_submission(village.ctx(), bad_id);
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(bad.error().refused);
  CHECK(app::exit_code(bad.error()) == 2);
  CHECK(village.events() == before);
}
