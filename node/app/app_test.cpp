// Unit tests of the application layer (node/app/): the operations called
// directly, on a real store in a temporary directory, as the CLI, the
// control socket and the desk call them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/app/act.h"
#include "node/app/import.h"
#include "node/app/publish.h"
#include "node/app/submit.h"
#include "protocol/crypto.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

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

// ---- the same rules for a paper ledger (node/app/import.h) -------------------

namespace {

constexpr const char* kCounty = "360723";

// A county catalog of one item: two required materials and one 容缺.
constexpr const char* kCatalog = R"(version = 1
[[item]]
code = "MZ-003"
name = "农村最低生活保障"
category = "政策兑现"
level = "county"
departments = ["民政"]
handling = "promised"
legal_basis = "《社会救助暂行办法》"
conditions = "家庭人均收入低于当地低保标准"
procedure = ["村代理点受理", "县民政局审批"]
fee_fen = 0

[item.limits]
village_forward = 2
county_decide = 10

[[item.material]]
name = "居民身份证"
form = "copy"

[[item.material]]
name = "户口簿"
form = "copy"

[[item.material]]
name = "家庭收入证明"
form = "original"
later_ok = true
)";

void publish_catalog(Node& county) {
  app::PublishRequest req;
  req.what = "catalog";
  req.number = 1;
  req.file_name = "catalog.toml";
  req.document = kCatalog;
  req.actor = app::Actor{"吴主任", "director", "", ""};
  auto done = app::publish(county.ctx(), req);
  if (!done.ok()) FAIL("publish: " << done.error().status.to_string());
}

// A ledger row as node/ledger_import.h makes it: the application as JSON.
app::ImportRow ledger_row(std::size_t line, const std::string& name, const std::string& id,
                          const std::string& item, const std::vector<std::string>& materials,
                          const std::string& home = "") {
  std::string json = R"({"itemCode":")" + item + R"(","applicant":{"name":")" + name +
                     R"(","idNumber":")" + id + R"("},"materials":[)";
  for (std::size_t i = 0; i < materials.size(); ++i) {
    if (i) json += ",";
    json += R"({"name":")" + materials[i] + R"(","original":true,"count":1,"state":"provided"})";
  }
  json += "]}";
  return app::ImportRow{line, "row:" + std::to_string(line), home, json};
}

// What check_submission (behind `submit`) says of the row's application.
app::AppResult<app::CheckedSubmission> submit_check(Node& node, const app::ImportRow& row,
                                                    const app::Actor& actor) {
  app::SubmitRequest req;
  req.json_name = "application.json";
  req.json_text = row.json;
  req.home = row.home;
  req.actor = actor;
  return app::check_submission(node.ctx(), req);
}

}  // namespace

TEST_CASE("app: a ledger import refuses each row exactly as submit would, naming the part",
          "[app][import]") {
  Node county(kCounty);
  publish_catalog(county);
  const app::Actor clerk{"王小红", "clerk", "", ""};
  const std::vector<std::string> both = {"居民身份证", "户口簿"};
  const std::vector<app::ImportRow> rows = {
      ledger_row(2, "刘秀英", "360723197001010021", "MZ-003", both),
      ledger_row(3, "陈桂兰", "360723195503030068", "MZ-003", both),          // wrong check digit
      ledger_row(4, "张建国", "360723198808080041", "XX-999", both),          // not in the catalog
      ledger_row(5, "周八", "360723200105200051", "MZ-003", {"居民身份证"}),  // lacks 户口簿
      // Another county's village: outside this node's jurisdiction.
      ledger_row(6, "吴九", "360723195503030066", "MZ-003", both, "360724101001"),
  };
  const std::size_t audit_before = county.store->audit_events(0).value().size();
  auto first = app::import_rows(county.ctx(), clerk, rows);
  REQUIRE(first.ok());
  REQUIRE(first->size() == rows.size());

  using K = app::RowOutcome;
  CHECK((*first)[0].kind == K::stored);
  CHECK((*first)[3].kind == K::stored);
  const std::map<std::size_t, app::RequestPart> bad = {
      {1, app::RequestPart::id_number}, {2, app::RequestPart::item}, {4, app::RequestPart::role}};
  for (const auto& [i, part] : bad) {
    INFO("line " << rows[i].line);
    const auto& o = (*first)[i];
    CHECK(o.kind == K::bad);
    CHECK(o.part == part);
    // submit refuses the same application for the same reason, about the same part.
    auto alone = submit_check(county, rows[i], clerk);
    REQUIRE_FALSE(alone.ok());
    CHECK(alone.error().part == part);
    CHECK(alone.error().status.message() == o.error.message());
    CHECK(alone.error().status.code() == o.error.code());
  }
  // The good rows are what submit would register: row 5 a 补办件 waiting
  // for its 户口簿, 家庭收入证明 to follow (容缺) in both.
  auto alone = submit_check(county, rows[3], clerk);
  REQUIRE(alone.ok());
  CHECK(alone->missing == std::vector<std::string>{"户口簿"});
  auto cases = county.store->list_cases({});
  REQUIRE(cases.ok());
  std::map<std::string, storage::CaseStatus> held;
  for (const auto& c : *cases)
    held[c.applicant_name] = c.status;
  CHECK(held == std::map<std::string, storage::CaseStatus>{
                    {"刘秀英", storage::CaseStatus::submitted},
                    {"周八", storage::CaseStatus::supplement_requested}});
  // Row 6's refusal by the role rules is in the audit log, as submit's is.
  auto audit = county.store->audit_events(0).value();
  REQUIRE(audit.size() == audit_before + 1);
  CHECK(std::string(audit.back().view.event().getBody().getAudit().getReason().cStr()) ==
        (*first)[4].error.message());

  // The same ledger again: the stored rows are found, the bad ones are bad again.
  auto again = app::import_rows(county.ctx(), clerk, rows);
  REQUIRE(again.ok());
  CHECK((*again)[0].kind == K::duplicate);
  CHECK((*again)[0].case_number == (*first)[0].case_number);
  CHECK((*again)[3].kind == K::duplicate);
  CHECK((*again)[1].kind == K::bad);
  CHECK(county.store->list_cases({}).value().size() == 2);
}

TEST_CASE("app: an agent may not register at a county by importing a ledger either",
          "[app][import]") {
  Node county(kCounty);
  const uint64_t before = county.events();
  const app::Actor agent{"王小红", "agent", "", ""};
  const app::ImportRow row = ledger_row(2, "王五", "360723197603021158", "MZ-DB-003", {});
  auto alone = submit_check(county, row, agent);
  REQUIRE_FALSE(alone.ok());
  REQUIRE(alone.error().role_refusal);

  auto imported = app::import_rows(county.ctx(), agent, {row});
  REQUIRE_FALSE(imported.ok());
  CHECK(imported.error().refused);
  CHECK(app::exit_code(imported.error()) == 1);
  CHECK(imported.error().part == app::RequestPart::role);
  CHECK(imported.error().status.message() == alone.error().status.message());
  // Nothing stored; the refusal recorded in the audit log, as submit records it.
  CHECK(county.store->list_cases({}).value().empty());
  auto audit = county.store->audit_events(0).value();
  REQUIRE(audit.size() == 1);
  CHECK(county.events() == before + 1);
  CHECK(std::string(audit.front().view.event().getBody().getAudit().getReason().cStr()) ==
        alone.error().status.message());
}

TEST_CASE("app: open_actions offers what the workflow and the role allow, and stores nothing",
          "[app][desk]") {
  Node village(kVillage);
  auto done = app::submit(village.ctx(), application("agent"));
  REQUIRE(done.ok());
  auto st = village.store->get_case(done->case_id);
  REQUIRE(st.ok());
  REQUIRE(*st);
  const uint64_t before = village.events();
  auto names = [&](const app::Actor& who) {
    std::vector<std::string> out;
    for (const auto& a : app::open_actions(village.ctx(), who, **st))
      out.emplace_back(a.name);
    return out;
  };
  const auto agent = names(app::Actor{"王小红", "agent", "", ""});
  auto has = [](const std::vector<std::string>& v, const char* n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  // A registered application: accept it, ask for materials, refuse it, pass it up.
  CHECK(has(agent, "accept"));
  CHECK(has(agent, "request-supplement"));
  CHECK(has(agent, "not-accept"));
  CHECK(has(agent, "escalate"));
  // Not yet: nothing decided to deliver, no departments to hear.
  CHECK_FALSE(has(agent, "deliver"));
  CHECK_FALSE(has(agent, "opinion"));
  CHECK_FALSE(has(agent, "rate"));
  // A clerk does not act at a village (level rule): nothing is offered.
  CHECK(names(app::Actor{"赵六", "clerk", "", ""}).empty());
  // Each action offered is one act() takes: accept it for real.
  app::ActRequest accept;
  accept.action = "accept";
  accept.case_id = format_id(done->case_id);
  accept.actor = app::Actor{"王小红", "agent", "", ""};
  CHECK(village.events() == before);  // the probes stored nothing
  auto acted = app::act(village.ctx(), accept);
  REQUIRE(acted.ok());
  const auto after = app::open_actions(village.ctx(), accept.actor, acted->after);
  const bool accept_again = std::any_of(after.begin(), after.end(), [](const auto& a) {
    return std::string_view(a.name) == "accept";
  });
  CHECK_FALSE(accept_again);
}

TEST_CASE("app: 答复 is offered to the level an open 督办 waits on, 督办 to a director only",
          "[app][supervision]") {
  Node town(kTown);
  auto done = app::submit(town.ctx(), application("clerk"));
  REQUIRE(done.ok());
  const std::string case_id = format_id(done->case_id);
  auto names = [&](const app::Actor& who) {
    auto st = town.store->get_case(done->case_id);
    REQUIRE(st.ok());
    REQUIRE(*st);
    std::vector<std::string> out;
    for (const auto& a : app::open_actions(town.ctx(), who, **st))
      out.emplace_back(a.name);
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const char* n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  const app::Actor clerk{"赵六", "clerk", "", ""};
  const app::Actor director{"李建国", "director", "", ""};
  CHECK_FALSE(has(names(clerk), "answer"));  // nothing to answer yet
  CHECK_FALSE(has(names(clerk), "supervise"));
  CHECK(has(names(director), "supervise"));

  app::ActRequest order;
  order.action = "supervise";
  order.case_id = case_id;
  order.note = "群众反映久拖未办，请于时限内办结";
  order.due = "2026-06-05";
  order.actor = director;
  auto ordered = app::act(town.ctx(), order);
  REQUIRE(ordered.ok());
  CHECK(has(names(clerk), "answer"));

  app::ActRequest answer;
  answer.action = "answer";
  answer.case_id = case_id;
  answer.text = "已联系申请人补齐材料，今日受理";
  answer.actor = clerk;
  auto answered = app::act(town.ctx(), answer);
  REQUIRE(answered.ok());
  CHECK_FALSE(has(names(clerk), "answer"));
  // A deadline in the past is refused, nothing stored.
  const uint64_t before = town.events();
  order.due = "2026-05-29";
  auto late = app::act(town.ctx(), order);
  REQUIRE_FALSE(late.ok());
  CHECK(town.events() == before);
}
