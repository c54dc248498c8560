// Unit tests of the staff roster (storage/roster.h): parsing with clear
// errors, and who may act where.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/roster.h"
#include "storage/test_documents.h"

using namespace liandong;
using namespace liandong::storage;

namespace {

std::string example() {
  return liandong::test::example_document("roster-example.toml");
}

const char* kSmall = R"(version = 3
[[staff]]
name = "王小红"
staff_id = "DB-01"
role = "agent"
node = "360723101007"
[[staff]]
name = "赵六"
role = "clerk"
node = "360723101"
[[staff]]
name = "周九"
role = "reviewer"
node = "360723101"
)";

}  // namespace

TEST_CASE("roster: the example parses", "[storage][roster]") {
  auto r = parse_roster(example(), "roster-example.toml");
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  CHECK(r->version == 1);
  CHECK(r->staff.size() == 4);
  CHECK(r->staff[0].name == "王小红");
  CHECK(r->staff[0].role == proto::Role::AGENT);
}

TEST_CASE("roster: broken documents are refused with file, line and key", "[storage][roster]") {
  auto err = [](const std::string& text) {
    auto r = parse_roster(text, "r.toml");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK_THAT(err("version = 1\n"), Catch::Contains("no [[staff]]"));
  CHECK_THAT(err("[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"360723\"\n"),
             Catch::Contains("version"));
  CHECK_THAT(err("version = 0\n[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"360723\"\n"),
             Catch::Contains("version"));
  CHECK_THAT(err("version = 1\nowner = 2\n"), Catch::Contains("r.toml:2: owner: unknown key"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"boss\"\nnode=\"360723\"\n"),
             Catch::Contains("r.toml:4: staff[0].role: 'boss' is not a role"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"3607\"\nx=\"1\"\n"),
             Catch::Contains("unknown key"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"36072\"\n"),
             Catch::Contains("not a division code"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"officer\"\nnode=\"360723\"\n"
                 "[[staff]]\nname=\"a\"\nrole=\"clerk\"\nnode=\"360723\"\n"),
             Catch::Contains("listed twice"));
  CHECK_THAT(err("version = 1\n[[staff]\n"), Catch::Contains("syntax"));
}

TEST_CASE("roster: who may act where, with which role", "[storage][roster]") {
  auto r = parse_roster(kSmall, "r.toml");
  REQUIRE(r.ok());
  const std::string village = "360723101007", town = "360723101";
  // Listed: the role comes from the roster, or must match it.
  CHECK(*check_person(*r, village, "王小红", "", std::nullopt, "") == proto::Role::AGENT);
  CHECK(*check_person(*r, village, "王小红", "DB-01", proto::Role::AGENT, "") ==
        proto::Role::AGENT);
  CHECK_FALSE(check_person(*r, village, "王小红", "", proto::Role::CLERK, "").ok());
  CHECK_FALSE(check_person(*r, village, "王小红", "DB-99", std::nullopt, "").ok());
  // Not listed here: another node's staff, or nobody's.
  CHECK_FALSE(check_person(*r, town, "王小红", "", std::nullopt, "").ok());
  CHECK_FALSE(check_person(*r, "360723102", "赵六", "", std::nullopt, "").ok());
  auto stranger = check_person(*r, village, "张冒名", "", std::nullopt, "");
  REQUIRE_FALSE(stranger.ok());
  CHECK_THAT(stranger.status().message(), Catch::Contains("人员名册 v3"));
  // AB角: a listed backup acts with the primary's role.
  CHECK(*check_person(*r, town, "周九", "", std::nullopt, "赵六") == proto::Role::CLERK);
  CHECK_FALSE(check_person(*r, town, "周九", "", std::nullopt, "钱七").ok());
  CHECK_FALSE(check_person(*r, town, "孙八", "", std::nullopt, "赵六").ok());
}

TEST_CASE("roster: a role is listed only at a level where it acts, a name is not blank",
          "[storage][roster]") {
  auto err = [](const std::string& text) {
    auto r = parse_roster(text, "r.toml");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  // An agent at the county, or a clerk at a village point: refused.
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"360723\"\n"),
             Catch::Contains("r.toml:4: staff[0].role: an agent"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"agent\"\nnode=\"360723101\"\n"),
             Catch::Contains("an agent"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"a\"\nrole=\"clerk\"\nnode=\"360723101007\"\n"),
             Catch::Contains("agents only"));
  CHECK_THAT(err("version = 1\n[[staff]]\nname=\"  \"\nrole=\"clerk\"\nnode=\"360723\"\n"),
             Catch::Contains("staff[0].name"));
  CHECK_THAT(
      err("version = 1\n[[staff]]\nname=\"a\\u001b[31m\"\nrole=\"clerk\"\nnode=\"360723\"\n"),
      Catch::Contains("control characters"));
}
