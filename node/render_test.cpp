// The words people read (node/render.h): statuses, ratings, deadline flags,
// steps, places and errors as county, township and village staff write them.
#include <catch2/catch.hpp>
#include <string>

#include "node/render.h"
#include "node/report_levels.h"
#include "storage/deadlines.h"
#include "storage/divisions.h"

using namespace liandong;
using namespace liandong::node;
using storage::CaseState;
using storage::CaseStatus;

TEST_CASE("render: a case passed up reads as waiting at the level that holds it", "[render]") {
  CaseState st;
  st.home = "360723101007";
  st.status = CaseStatus::escalated;
  st.handler = "360723101";
  CHECK(status_label_zh(st) == "待乡镇办理");
  st.handler = "360723";
  CHECK(status_label_zh(st) == "待县办理");
  st.status = CaseStatus::delivered;
  CHECK(status_label_zh(st) == "已送达");
  st.status = CaseStatus::decided;
  st.has_decision = true;
  st.approved = false;
  CHECK(status_label_zh(st) == "不予许可");
  st.approved = true;
  CHECK(status_label_zh(st) == "已办结");
  st.conflict = true;
  CHECK(status_label_zh(st) == "冲突待处理");
  // The words a person types for --status find the same cases.
  CHECK(storage::status_from_name("待乡镇办理") == CaseStatus::escalated);
  CHECK(storage::status_from_name("待县办理") == CaseStatus::escalated);
  CHECK(storage::status_from_name("已送达") == CaseStatus::delivered);
}

TEST_CASE("render: ratings read 非常满意 to 非常不满意, never a score", "[render]") {
  CHECK(std::string(rating_zh(5)) == "非常满意");
  CHECK(std::string(rating_zh(4)) == "满意");
  CHECK(std::string(rating_zh(3)) == "基本满意");
  CHECK(std::string(rating_zh(2)) == "不满意");
  CHECK(std::string(rating_zh(1)) == "非常不满意");
  CHECK(std::string(rating_zh(0)) == "未评价");
}

TEST_CASE("render: deadline flags are cards, steps and events say what happens", "[render]") {
  CHECK(std::string(storage::flag_name_zh(storage::DeadlineFlag::warning)) == "黄牌预警");
  CHECK(std::string(storage::flag_name_zh(storage::DeadlineFlag::overdue)) == "红牌超期");
  CHECK(std::string(storage::step_name_zh(storage::Step::village_forward)) == "转报乡镇");
  CHECK(std::string(storage::step_name_zh(storage::Step::village_notify)) == "结果送达");
  CHECK(std::string(kind_name_zh(EventKind::delivered)) == "结果送达");
}

TEST_CASE("render: places by name with the code, bare without a table", "[render]") {
  auto d = storage::parse_divisions(
      "version = 1\n[[division]]\ncode = \"360723101\"\nname = \"南安镇\"\n", "t.toml");
  REQUIRE(d.ok());
  CHECK(place_zh(&*d, "360723101") == "南安镇（360723101）");
  CHECK(place_name(&*d, "360723101") == "南安镇");
  CHECK(place_zh(nullptr, "360723101") == "360723101");
  CHECK(place_zh(&*d, "360723102") == "360723102");
  CHECK(std::string(home_label_zh("360723101007")) == "所属村");
}

TEST_CASE("render: an error reads Chinese first", "[render]") {
  CHECK(error_text_zh(Status::not_found("no case 360723101007-000042 here")) ==
        "未找到 (no case 360723101007-000042 here)");
  CHECK(error_text_zh(Status::invalid("bad")) == "输入有误 (bad)");
  CHECK(error_text_zh(Status::disconnected("x")).rfind("联网服务无应答", 0) == 0);
  CHECK(error_text_zh(Status::invalid("只有县级节点发布 (only the county)")) ==
        "只有县级节点发布 (only the county)");
}
