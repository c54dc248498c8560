#include "storage/intake.h"

#include <catch2/catch.hpp>

#include <deque>

#include "storage/test_events.h"

using namespace liandong;
using namespace liandong::storage;
using namespace liandong::test;
using MS = proto::MaterialState;

namespace {

// 林木采伐许可 as the example catalog lists it: two required materials and
// one that may follow (容缺).
CatalogItem timber_item() {
  CatalogItem item;
  item.code = "LY-001";
  item.name = "林木采伐许可";
  item.materials = {{"居民身份证", true, 1, false, ""},
                    {"林木采伐申请表", true, 1, false, ""},
                    {"林权证或不动产权证书", false, 1, false, ""},
                    {"伐区调查设计或采伐作业说明", true, 1, true, ""}};
  return item;
}

GivenMaterial given(std::string name, MS state = MS::PROVIDED) {
  GivenMaterial g;
  g.name = std::move(name);
  g.state = state;
  return g;
}

// A 补办件 homed at a village: its application lists `missing` as MISSING
// and 伐区调查设计 as LATER (容缺).
BodyFill supplement_case_body(std::vector<std::string> missing) {
  return [=](proto::Event::Builder ev) {
    submitted_body()(ev);
    auto b = ev.getBody().getSubmitted();
    auto m = b.initMaterials(static_cast<unsigned>(missing.size() + 2));
    m[0].setName("居民身份证");
    m[0].setCount(1);
    for (unsigned i = 0; i < missing.size(); ++i) {
      m[i + 1].setName(missing[i]);
      m[i + 1].setCount(1);
      m[i + 1].setState(MS::MISSING);
    }
    m[m.size() - 1].setName("伐区调查设计或采伐作业说明");
    m[m.size() - 1].setState(MS::LATER);
    b.setSupplementCase(true);
  };
}

struct Case {
  Forge forge{false};
  std::deque<EventView> events;
  Id id;
  uint64_t t = 0;
  void submit(const BodyFill& body) {
    events.push_back(must_parse(forge.submit(kVillage, kVillage, hlc_at(10 * ++t), body)));
    id = events.back().id();
  }
  void act(const std::string& origin, const BodyFill& body) {
    auto v = must_parse(forge.act(origin, id, kVillage, hlc_at(10 * ++t), body));
    CaseState now = state();
    REQUIRE(check(&now, v).is_ok());
    events.push_back(std::move(v));
  }
  CaseState state() const {
    std::vector<const EventView*> all;
    for (const auto& e : events)
      all.push_back(&e);
    return fold(all);
  }
};

}  // namespace

TEST_CASE("intake: every required material not provided is missing, told at once", "[intake]") {
  const CatalogItem item = timber_item();
  const auto r = check_intake(&item, {given("居民身份证")});
  CHECK(r.supplement_case());
  CHECK(r.missing == std::vector<std::string>{"林木采伐申请表", "林权证或不动产权证书"});
  CHECK(r.later == std::vector<std::string>{"伐区调查设计或采伐作业说明"});
  REQUIRE(r.materials.size() == 4);
  CHECK(r.materials[0] == given("居民身份证"));
  CHECK(r.materials[1].state == MS::MISSING);
  CHECK(r.materials[2].state == MS::MISSING);
  CHECK_FALSE(r.materials[2].original);  // the catalog's form: a copy
  CHECK(r.materials[3].state == MS::LATER);
  CHECK(join_names(r.missing) == "林木采伐申请表、林权证或不动产权证书");
}

TEST_CASE("intake: a complete application is no 补办件; given states are judged", "[intake]") {
  const CatalogItem item = timber_item();
  SECTION("all required given, the 容缺 one left out: recorded LATER") {
    const auto r = check_intake(
        &item, {given("居民身份证"), given("林木采伐申请表"), given("林权证或不动产权证书")});
    CHECK_FALSE(r.supplement_case());
    CHECK(r.later == std::vector<std::string>{"伐区调查设计或采伐作业说明"});
  }
  SECTION("a required material given as 'later' is missing all the same") {
    const auto r = check_intake(&item, {given("居民身份证"), given("林木采伐申请表", MS::LATER),
                                        given("林权证或不动产权证书")});
    CHECK(r.missing == std::vector<std::string>{"林木采伐申请表"});
  }
  SECTION("a 容缺 material given as missing is LATER") {
    const auto r = check_intake(
        &item, {given("居民身份证"), given("林木采伐申请表"), given("林权证或不动产权证书"),
                given("伐区调查设计或采伐作业说明", MS::MISSING)});
    CHECK_FALSE(r.supplement_case());
    CHECK(r.materials[3].state == MS::LATER);
  }
  SECTION("no catalog held: the states as given; a missing one makes a 补办件") {
    CHECK_FALSE(check_intake(nullptr, {given("户口簿")}).supplement_case());
    const auto r = check_intake(nullptr, {given("户口簿"), given("收入证明", MS::MISSING)});
    CHECK(r.missing == std::vector<std::string>{"收入证明"});
    CHECK(r.materials.size() == 2);
  }
}

TEST_CASE("intake: a 补办件 waits for every missing material, supplied in parts",
          "[intake][fold]") {
  Case c;
  c.submit(supplement_case_body({"林木采伐申请表", "林权证或不动产权证书"}));
  CaseState st = c.state();
  CHECK(st.supplement_case);
  CHECK(st.status == CaseStatus::supplement_requested);
  CHECK(materials_in(st, MS::MISSING) ==
        std::vector<std::string>{"林木采伐申请表", "林权证或不动产权证书"});
  // Nothing but a supplement, a withdrawal or 不予受理 moves it.
  auto accept = must_parse(c.forge.act(kTownship, c.id, kVillage, hlc_at(1000), accepted_body()));
  CHECK_FALSE(check(&st, accept).is_ok());

  c.act(kVillage, supplemented_body({"林木采伐申请表"}));
  st = c.state();
  CHECK(st.status == CaseStatus::supplement_requested);
  CHECK(materials_in(st, MS::MISSING) == std::vector<std::string>{"林权证或不动产权证书"});

  c.act(kVillage, supplemented_body({"林权证或不动产权证书"}));
  st = c.state();
  CHECK(st.status == CaseStatus::submitted);
  CHECK(materials_in(st, MS::MISSING).empty());
  CHECK(st.supplement_case);  // it stays counted as a 补办件
  c.act(kTownship, accepted_body());
  CHECK(c.state().status == CaseStatus::accepted);
}

TEST_CASE("intake: a request in parts after acceptance resumes only when all are in",
          "[intake][fold]") {
  Case c;
  c.submit(submitted_body());
  c.act(kTownship, accepted_body());
  c.act(kTownship, supplement_requested_body({"收入证明", "村委会评议记录"}));
  c.act(kVillage, supplemented_body({"村委会评议记录"}));
  CHECK(c.state().status == CaseStatus::supplement_requested);
  c.act(kVillage, supplemented_body({"收入证明"}));
  CHECK(c.state().status == CaseStatus::accepted);
}

TEST_CASE("intake: 不予受理 ends the case at intake, with reason", "[intake][fold]") {
  Case c;
  c.submit(supplement_case_body({"林木采伐申请表"}));
  c.act(kTownship, not_accepted_body());
  const CaseState st = c.state();
  CHECK(st.status == CaseStatus::not_accepted);
  CHECK(std::string(status_name_zh(st.status)) == "不予受理");
  CHECK_FALSE(st.has_decision);  // not a decision (不予许可)
  CHECK(st.closed_hlc != 0);
  auto accept = must_parse(c.forge.act(kTownship, c.id, kVillage, hlc_at(1000), accepted_body()));
  CHECK_FALSE(check(&st, accept).is_ok());
  // A state written and read back keeps both.
  auto back = decode_state(encode_state(st));
  REQUIRE(back.ok());
  CHECK(*back == st);
}

TEST_CASE("intake: a 容缺 material outstanding blocks approval and closing, not refusal",
          "[intake]") {
  Case c;
  c.submit(submitted_body());  // 土地承包合同 LATER
  c.act(kTownship, accepted_body());
  CaseState st = c.state();
  const Status approve = may_complete(st, EventKind::decided, true);
  CHECK_FALSE(approve.is_ok());
  CHECK(approve.message().rfind("容缺材料未补齐，不能办结：土地承包合同", 0) == 0);
  CHECK(may_complete(st, EventKind::decided, false).is_ok());
  CHECK(may_complete(st, EventKind::escalated, true).is_ok());

  // Supplied while handled: the status stays, the material is in.
  c.act(kVillage, supplemented_body({"土地承包合同"}));
  st = c.state();
  CHECK(st.status == CaseStatus::accepted);
  CHECK(materials_in(st, MS::LATER).empty());
  CHECK(may_complete(st, EventKind::decided, true).is_ok());

  SECTION("closing an approved case with a 容缺 material outstanding") {
    CaseState approved = st;
    approved.has_decision = approved.approved = true;
    approved.status = CaseStatus::delivered;
    approved.materials.push_back({"伐区调查设计", MS::LATER});
    CHECK_FALSE(may_complete(approved, EventKind::closed, false).is_ok());
    approved.approved = false;  // 不予许可: nothing more to supply
    CHECK(may_complete(approved, EventKind::closed, false).is_ok());
  }
}
