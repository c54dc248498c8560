// Unit tests of the authority rules (storage/authority.h): every rule of the
// table, allowed and refused, table-driven.
#include "storage/authority.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace liandong;
using namespace liandong::storage;
using K = EventKind;
using R = proto::Role;
using S = CaseStatus;

namespace {

constexpr const char* kCounty = "360723";
constexpr const char* kTown = "360723101";
constexpr const char* kOtherTown = "360723102";
constexpr const char* kVillage = "360723101007";
constexpr const char* kOtherVillage = "360723101008";

// A case homed at `home`, handled now at `handler`.
CaseState a_case(const std::string& home, const std::string& handler, S status = S::accepted,
                 std::vector<std::string> departments = {}) {
  CaseState s;
  s.case_id = Id{home, 1};
  s.home = home;
  s.handler = handler;
  s.status = status;
  s.item_code = "LY-001";
  s.departments = std::move(departments);
  return s;
}

constexpr ItemRules kCountyItem{DecidingLevel::county, Handling::escalated};
constexpr ItemRules kTownItem{DecidingLevel::township, Handling::immediate};
constexpr ItemRules kVillageItem{DecidingLevel::village, Handling::immediate};
constexpr ItemRules kConsultItem{DecidingLevel::county, Handling::consult};

struct Row {
  const char* what;
  std::string node;
  R role;
  K kind;
  std::optional<CaseState> state;  // nullopt: a new case (submit)
  std::optional<ItemRules> item;
  bool allowed;
  const char* refusal_has = "";  // a piece of the refusal's text
};

void run(const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    ActContext c;
    c.node = row.node;
    c.role = row.role;
    c.kind = row.kind;
    c.state = row.state ? &*row.state : nullptr;
    c.item = row.item;
    const Status s = may_act(c);
    INFO(row.what << ": " << s.message());
    CHECK(s.is_ok() == row.allowed);
    if (!row.allowed) {
      CHECK(s.code() == Code::invalid);
      CHECK(s.message().find(row.refusal_has) != std::string::npos);
      // One line: Chinese, then the English in parentheses.
      CHECK(s.message().find('\n') == std::string::npos);
      CHECK(s.message().back() == ')');
      CHECK(static_cast<unsigned char>(s.message().front()) >= 0x80);
    }
  }
}

}  // namespace

TEST_CASE("authority: the system role takes no case action", "[storage][authority]") {
  run({
      {"system submits", kCounty, R::SYSTEM, K::submitted, std::nullopt, {}, false, "system role"},
      {"system comments",
       kCounty,
       R::SYSTEM,
       K::comment,
       a_case(kVillage, kCounty),
       {},
       false,
       "系统"},
      {"system decides",
       kCounty,
       R::SYSTEM,
       K::decided,
       a_case(kVillage, kCounty),
       {},
       false,
       "notices"},
      {"director comments (contrast)",
       kCounty,
       R::DIRECTOR,
       K::comment,
       a_case(kVillage, kCounty),
       {},
       true},
  });
}

TEST_CASE("authority: agents act at village points, other roles at a township or above",
          "[storage][authority]") {
  run({
      {"agent at village", kVillage, R::AGENT, K::comment, a_case(kVillage, kVillage), {}, true},
      {"agent at township",
       kTown,
       R::AGENT,
       K::comment,
       a_case(kVillage, kTown),
       {},
       false,
       "an agent acts only at a village point"},
      {"agent at county", kCounty, R::AGENT, K::submitted, std::nullopt, {}, false, "代理员"},
      {"clerk at village",
       kVillage,
       R::CLERK,
       K::accepted,
       a_case(kVillage, kVillage),
       {},
       false,
       "a village point has agents only"},
      {"officer at village",
       kVillage,
       R::OFFICER,
       K::decided,
       a_case(kVillage, kVillage),
       {},
       false,
       "首席代表"},
      {"reviewer at village",
       kVillage,
       R::REVIEWER,
       K::comment,
       a_case(kVillage, kVillage),
       {},
       false,
       "reviewer"},
      {"director at village",
       kVillage,
       R::DIRECTOR,
       K::comment,
       a_case(kVillage, kVillage),
       {},
       false,
       "director"},
      {"clerk at township", kTown, R::CLERK, K::comment, a_case(kVillage, kTown), {}, true},
      {"reviewer at county", kCounty, R::REVIEWER, K::comment, a_case(kVillage, kCounty), {}, true},
  });
}

TEST_CASE("authority: a node acts only on cases homed in its subtree", "[storage][authority]") {
  run({
      {"village, own case",
       kVillage,
       R::AGENT,
       K::closed,
       a_case(kVillage, kVillage, S::delivered),
       {},
       true},
      {"village, neighbour's case",
       kVillage,
       R::AGENT,
       K::comment,
       a_case(kOtherVillage, kTown),
       {},
       false,
       "outside the jurisdiction"},
      {"township, its village's case",
       kTown,
       R::CLERK,
       K::accepted,
       a_case(kVillage, kVillage),
       {},
       true},
      {"township, another township's case",
       kOtherTown,
       R::CLERK,
       K::accepted,
       a_case(kVillage, kVillage),
       {},
       false,
       "辖区"},
      {"another township's clerk comments",
       kOtherTown,
       R::CLERK,
       K::comment,
       a_case(kVillage, kTown),
       {},
       false,
       "outside the jurisdiction"},
      {"county, any case below",
       kCounty,
       R::CLERK,
       K::comment,
       a_case(kOtherVillage, kTown),
       {},
       true},
      {"county, another county's case",
       kCounty,
       R::CLERK,
       K::comment,
       a_case("360724101007", "360724"),
       {},
       false,
       "360724101007"},
  });
  SECTION("a new case may be registered only for a home in the subtree") {
    ActContext c{kTown, R::CLERK, K::submitted, nullptr, kVillage, std::nullopt};
    CHECK(may_act(c));
    c.home = "360723102001";
    CHECK_FALSE(may_act(c));
    c = ActContext{kVillage, R::AGENT, K::submitted, nullptr, "", std::nullopt};
    CHECK(may_act(c));
    c.home = kOtherVillage;
    CHECK_FALSE(may_act(c));
  }
}

TEST_CASE("authority: each role takes only its own actions", "[storage][authority]") {
  const auto at_town = a_case(kVillage, kTown, S::escalated);
  const auto joint = a_case(kVillage, kCounty, S::assigned, {"林业局", "国土局"});
  const auto at_village = a_case(kVillage, kVillage, S::submitted);
  run({
      // agent: village work
      {"agent submits", kVillage, R::AGENT, K::submitted, std::nullopt, {}, true},
      {"agent accepts", kVillage, R::AGENT, K::accepted, at_village, {}, true},
      {"agent requests supplement",
       kVillage,
       R::AGENT,
       K::supplement_requested,
       at_village,
       {},
       true},
      {"agent escalates", kVillage, R::AGENT, K::escalated, at_village, {}, true},
      {"agent withdraws", kVillage, R::AGENT, K::withdrawn, at_village, {}, true},
      {"agent supplements", kVillage, R::AGENT, K::supplemented, at_village, {}, true},
      {"agent assigns",
       kVillage,
       R::AGENT,
       K::assigned,
       at_village,
       {},
       false,
       "an agent may not assign departments"},
      {"agent gives an opinion",
       kVillage,
       R::AGENT,
       K::opinion,
       at_village,
       {},
       false,
       "代理员不能出具部门意见"},
      {"agent replies", kVillage, R::AGENT, K::replied, at_village, {}, false, "reply"},
      {"agent complains", kVillage, R::AGENT, K::complaint, at_town, {}, true},
      // clerk: window work
      {"clerk accepts", kTown, R::CLERK, K::accepted, at_village, {}, true},
      {"clerk requests supplement", kTown, R::CLERK, K::supplement_requested, at_town, {}, true},
      {"clerk escalates", kTown, R::CLERK, K::escalated, at_town, {}, true},
      {"clerk assigns", kTown, R::CLERK, K::assigned, at_town, {}, true},
      {"clerk replies", kTown, R::CLERK, K::replied, at_town, {}, true},
      {"clerk gives an opinion",
       kCounty,
       R::CLERK,
       K::opinion,
       joint,
       {},
       false,
       "a clerk may not give a department opinion"},
      // reviewer: review and opinions
      {"reviewer gives an opinion", kCounty, R::REVIEWER, K::opinion, joint, {}, true},
      {"reviewer comments", kCounty, R::REVIEWER, K::comment, joint, {}, true},
      {"reviewer complains", kCounty, R::REVIEWER, K::complaint, joint, {}, true},
      {"reviewer decides",
       kCounty,
       R::REVIEWER,
       K::decided,
       joint,
       {},
       false,
       "a reviewer may not decide a case"},
      {"reviewer accepts",
       kTown,
       R::REVIEWER,
       K::accepted,
       at_village,
       {},
       false,
       "审查员不能受理"},
      {"reviewer assigns", kCounty, R::REVIEWER, K::assigned, joint, {}, false, "reviewer"},
      // officer: opinions and decisions
      {"officer gives an opinion", kCounty, R::OFFICER, K::opinion, joint, {}, true},
      {"officer decides", kCounty, R::OFFICER, K::decided, joint, kCountyItem, true},
      {"officer replies", kCounty, R::OFFICER, K::replied, joint, {}, true},
      {"officer accepts",
       kTown,
       R::OFFICER,
       K::accepted,
       at_village,
       {},
       false,
       "an officer may not accept a case"},
      {"officer escalates",
       kTown,
       R::OFFICER,
       K::escalated,
       at_town,
       {},
       false,
       "首席代表不能上报"},
      {"officer assigns", kCounty, R::OFFICER, K::assigned, joint, {}, false, "assign"},
      {"officer submits", kTown, R::OFFICER, K::submitted, std::nullopt, {}, false, "register"},
      // director: clerk's and officer's work
      {"director accepts", kTown, R::DIRECTOR, K::accepted, at_village, {}, true},
      {"director escalates", kTown, R::DIRECTOR, K::escalated, at_town, {}, true},
      {"director assigns", kCounty, R::DIRECTOR, K::assigned, joint, {}, true},
      {"director gives an opinion", kCounty, R::DIRECTOR, K::opinion, joint, {}, true},
      {"director decides", kCounty, R::DIRECTOR, K::decided, joint, kCountyItem, true},
      {"director submits", kTown, R::DIRECTOR, K::submitted, std::nullopt, {}, true},
  });
}

TEST_CASE("authority: applicant-side steps happen where the case was submitted",
          "[storage][authority]") {
  const auto decided_v = a_case(kVillage, kCounty, S::decided);
  const auto delivered_v = a_case(kVillage, kCounty, S::delivered);
  const auto decided_t = a_case(kTown, kTown, S::decided);
  run({
      {"agent delivers at home", kVillage, R::AGENT, K::delivered, decided_v, {}, true},
      {"agent rates at home", kVillage, R::AGENT, K::rated, delivered_v, {}, true},
      {"agent collects a fee at home", kVillage, R::AGENT, K::fee_collected, decided_v, {}, true},
      {"agent closes at home", kVillage, R::AGENT, K::closed, delivered_v, {}, true},
      {"county clerk delivers a village case",
       kCounty,
       R::CLERK,
       K::delivered,
       decided_v,
       {},
       false,
       "where the case was submitted"},
      {"township clerk closes a village case",
       kTown,
       R::CLERK,
       K::closed,
       delivered_v,
       {},
       false,
       "所属地"},
      {"township clerk delivers its own window's case",
       kTown,
       R::CLERK,
       K::delivered,
       decided_t,
       {},
       true},
      {"township clerk collects a fee at its window",
       kTown,
       R::CLERK,
       K::fee_collected,
       decided_t,
       {},
       true},
      {"reviewer delivers", kTown, R::REVIEWER, K::delivered, decided_t, {}, false, "reviewer"},
      {"officer closes", kTown, R::OFFICER, K::closed, decided_t, {}, false, "officer"},
      // supplement and withdraw: at home or at the handling level
      {"agent supplements at home",
       kVillage,
       R::AGENT,
       K::supplemented,
       a_case(kVillage, kTown, S::supplement_requested),
       {},
       true},
      {"township clerk takes a supplement at its window",
       kTown,
       R::CLERK,
       K::supplemented,
       a_case(kVillage, kTown, S::supplement_requested),
       {},
       true},
      {"county clerk takes a supplement for a township case",
       kCounty,
       R::CLERK,
       K::supplemented,
       a_case(kVillage, kTown, S::supplement_requested),
       {},
       false,
       "supplement"},
      {"agent withdraws at home",
       kVillage,
       R::AGENT,
       K::withdrawn,
       a_case(kVillage, kCounty, S::escalated),
       {},
       true},
      {"county clerk withdraws while handling",
       kCounty,
       R::CLERK,
       K::withdrawn,
       a_case(kVillage, kCounty, S::escalated),
       {},
       true},
      {"township clerk withdraws a county case",
       kTown,
       R::CLERK,
       K::withdrawn,
       a_case(kVillage, kCounty, S::escalated),
       {},
       false,
       "withdraw"},
  });
}

TEST_CASE("authority: decide, assign and reply only at the level handling the case now",
          "[storage][authority]") {
  const auto at_town = a_case(kVillage, kTown, S::accepted);
  const auto at_county = a_case(kVillage, kCounty, S::escalated);
  run({
      {"township officer decides its case", kTown, R::OFFICER, K::decided, at_town, kTownItem,
       true},
      {"county officer decides a case still at the township",
       kCounty,
       R::OFFICER,
       K::decided,
       at_town,
       {},
       false,
       "was not escalated to 360723"},
      {"township officer decides a case escalated to the county",
       kTown,
       R::OFFICER,
       K::decided,
       at_county,
       {},
       false,
       "handled at county 360723 now"},
      {"agent decides a case escalated away", kVillage, R::AGENT, K::decided,
       a_case(kVillage, kTown), kVillageItem, false, "已报送上级"},
      {"county clerk assigns its case", kCounty, R::CLERK, K::assigned, at_county, {}, true},
      {"township clerk assigns a county case",
       kTown,
       R::CLERK,
       K::assigned,
       at_county,
       {},
       false,
       "assign"},
      {"county clerk assigns a township case",
       kCounty,
       R::CLERK,
       K::assigned,
       at_town,
       {},
       false,
       "分派"},
      {"county clerk replies at the county", kCounty, R::CLERK, K::replied, at_county, kConsultItem,
       true},
      {"township clerk replies to a county case", kTown, R::CLERK, K::replied, at_county,
       kConsultItem, false, "reply"},
      // accept, request-supplement, escalate: at or above the handling level
      {"township accepts its village's case",
       kTown,
       R::CLERK,
       K::accepted,
       a_case(kVillage, kVillage, S::submitted),
       {},
       true},
      {"county accepts its village's case",
       kCounty,
       R::CLERK,
       K::accepted,
       a_case(kVillage, kVillage, S::submitted),
       {},
       true},
      {"village accepts a case the township took",
       kVillage,
       R::AGENT,
       K::accepted,
       at_town,
       {},
       false,
       "handled at township 360723101 now"},
      {"township escalates a case its village registered",
       kTown,
       R::CLERK,
       K::escalated,
       a_case(kVillage, kVillage, S::submitted),
       {},
       true},
      {"village escalates a case already escalated",
       kVillage,
       R::AGENT,
       K::escalated,
       at_town,
       {},
       false,
       "上报"},
      {"township requests supplement on a county case",
       kTown,
       R::CLERK,
       K::supplement_requested,
       at_county,
       {},
       false,
       "request a supplement"},
      {"county requests supplement on its case",
       kCounty,
       R::CLERK,
       K::supplement_requested,
       at_county,
       {},
       true},
  });
}

TEST_CASE("authority: opinions only where departments are assigned", "[storage][authority]") {
  const auto joint = a_case(kVillage, kCounty, S::assigned, {"林业局", "国土局"});
  run({
      {"county reviewer, assigned", kCounty, R::REVIEWER, K::opinion, joint, {}, true},
      {"county reviewer, nothing assigned",
       kCounty,
       R::REVIEWER,
       K::opinion,
       a_case(kVillage, kCounty, S::escalated),
       {},
       false,
       "no department is assigned"},
      {"township reviewer on a county assignment",
       kTown,
       R::REVIEWER,
       K::opinion,
       joint,
       {},
       false,
       "handled at county"},
      {"township officer on a township assignment",
       kTown,
       R::OFFICER,
       K::opinion,
       a_case(kVillage, kTown, S::assigned, {"民政"}),
       {},
       true},
      {"county officer on a joint case the township assigned",
       kCounty,
       R::OFFICER,
       K::opinion,
       a_case(kVillage, kTown, S::assigned, {"自然资源", "住房城乡建设"}),
       {},
       true},
      {"village agent on a township assignment",
       kVillage,
       R::AGENT,
       K::opinion,
       a_case(kVillage, kTown, S::assigned, {"民政"}),
       {},
       false,
       "agent"},
  });
}

TEST_CASE("authority: the item's deciding level bounds who decides", "[storage][authority]") {
  const auto village_case = a_case(kVillage, kVillage, S::accepted);
  const auto town_case = a_case(kVillage, kTown, S::accepted);
  const auto county_case = a_case(kVillage, kCounty, S::escalated);
  run({
      {"village agent, county item", kVillage, R::AGENT, K::decided, village_case, kCountyItem,
       false, "村代理员不能办结县级事项 (a village agent may not decide a county-level item)"},
      {"village agent, township item", kVillage, R::AGENT, K::decided, village_case, kTownItem,
       false, "乡镇级事项"},
      {"village agent, item unknown",
       kVillage,
       R::AGENT,
       K::decided,
       village_case,
       {},
       false,
       "non-village"},
      {"village agent, village item", kVillage, R::AGENT, K::decided, village_case, kVillageItem,
       true},
      {"township officer, county item", kTown, R::OFFICER, K::decided, town_case, kCountyItem,
       false, "escalate it"},
      {"township director, county item", kTown, R::DIRECTOR, K::decided, town_case, kCountyItem,
       false, "请上报"},
      {"township officer, township item", kTown, R::OFFICER, K::decided, town_case, kTownItem,
       true},
      {"township officer, item unknown", kTown, R::OFFICER, K::decided, town_case, {}, true},
      {"township clerk, township item", kTown, R::CLERK, K::decided, town_case, kTownItem, true},
      {"township clerk, county item", kTown, R::CLERK, K::decided, town_case, kCountyItem, false,
       "county-level"},
      {"township clerk, item unknown",
       kTown,
       R::CLERK,
       K::decided,
       town_case,
       {},
       false,
       "not in a catalog held here"},
      {"township clerk, village item", kTown, R::CLERK, K::decided, town_case, kVillageItem, false,
       "a clerk decides only a township's own items"},
      {"county clerk, county item", kCounty, R::CLERK, K::decided, county_case, kCountyItem, false,
       "an officer or director signs"},
      {"county officer, county item", kCounty, R::OFFICER, K::decided, county_case, kCountyItem,
       true},
      {"county officer, township item escalated", kCounty, R::OFFICER, K::decided, county_case,
       kTownItem, true},
  });
}

TEST_CASE("authority: consultations are replied to, other items decided", "[storage][authority]") {
  const auto at_county = a_case(kVillage, kCounty, S::escalated);
  run({
      {"reply, consult item", kCounty, R::CLERK, K::replied, at_county, kConsultItem, true},
      {"reply, item unknown", kCounty, R::CLERK, K::replied, at_county, {}, true},
      {"reply, promised item", kCounty, R::CLERK, K::replied, at_county, kCountyItem, false,
       "only a consultation is replied to"},
      {"decide, consult item", kCounty, R::OFFICER, K::decided, at_county, kConsultItem, false,
       "answered with reply"},
  });
}

TEST_CASE("authority: comments and complaints are open to every role in the jurisdiction",
          "[storage][authority]") {
  const auto c = a_case(kVillage, kCounty, S::escalated);
  for (K k : {K::comment, K::complaint}) {
    for (R r : {R::CLERK, R::REVIEWER, R::OFFICER, R::DIRECTOR}) {
      for (const char* n : {kTown, kCounty}) {
        INFO(kind_name(k) << " by " << role_label(r) << " at " << n);
        ActContext ctx{n, r, k, &c, "", std::nullopt};
        CHECK(may_act(ctx));
        ctx.node = kOtherTown;
        CHECK_FALSE(may_act(ctx));
      }
    }
    ActContext agent{kVillage, R::AGENT, k, &c, "", std::nullopt};
    CHECK(may_act(agent));
    agent.node = kOtherVillage;
    CHECK_FALSE(may_act(agent));
  }
}

TEST_CASE("authority: a catalog item's rules are read from the catalog", "[storage][authority]") {
  Catalog cat;
  CatalogItem item;
  item.code = "YB-CB-004";
  item.level = DecidingLevel::township;
  item.handling = Handling::immediate;
  cat.items.push_back(item);
  auto r = item_rules(cat, "YB-CB-004");
  REQUIRE(r);
  CHECK(r->level == DecidingLevel::township);
  CHECK(r->handling == Handling::immediate);
  CHECK_FALSE(item_rules(cat, "XX-999"));
}
