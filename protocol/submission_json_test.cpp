#include "protocol/submission_json.h"

#include <capnp/message.h>

#include <catch2/catch.hpp>
#include <string>

using namespace liandong;

namespace {

const char* kGood = R"({
  "itemCode": "MZ-DB-001", "itemName": "农村最低生活保障申请", "catalogVersion": 3,
  "applicant": {"name": "刘秀英", "idNumber": "360723197001010021", "phone": "13979700025",
                "address": "上竹乡黄沙村"},
  "summary": "家庭收入低于当地低保标准",
  "fields": [{"key": "家庭人口", "value": "3"}, {"key": "月人均收入", "value": "420元"}],
  "materials": [{"name": "居民身份证", "original": false, "count": 1},
                {"name": "户口簿", "original": true, "count": 1, "state": "later"}],
  "feeDue": "0"
})";

}  // namespace

TEST_CASE("submission JSON: a good application decodes with every field", "[protocol]") {
  capnp::MallocMessageBuilder msg;
  auto sub = msg.initRoot<proto::Submitted>();
  REQUIRE(decode_submission_json(kGood, sub));
  CHECK(std::string(sub.getItemCode().cStr()) == "MZ-DB-001");
  CHECK(std::string(sub.getApplicant().getName().cStr()) == "刘秀英");
  CHECK(std::string(sub.getApplicant().getIdNumber().cStr()) == "360723197001010021");
  CHECK(sub.getCatalogVersion() == 3);
  REQUIRE(sub.getFields().size() == 2);
  CHECK(std::string(sub.getFields()[1].getValue().cStr()) == "420元");
  REQUIRE(sub.getMaterials().size() == 2);
  CHECK(sub.getMaterials()[1].getState() == proto::MaterialState::LATER);
  CHECK_FALSE(sub.getMaterials()[0].getOriginal());
}

TEST_CASE("submission JSON: bad documents are refused and fill nothing", "[protocol]") {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  for (const std::string& bad : {
           std::string(""),
           std::string("not json"),
           std::string("[1, 2, 3]"),
           std::string(R"({"itemCode": 42})"),
           std::string(R"({"itemCode": "MZ-DB-001", "colour": "red"})"),  // unknown key
           std::string(R"({"applicant": {"name": "刘秀英", "shoeSize": 40}})"),
           std::string(R"({"materials": [{"name": "户口簿", "state": "lost"}]})"),
           std::string(R"({"catalogVersion": -1})"),
           std::string(R"({"fields": [{"key": "a", "value": "b"})"),  // truncated
           R"({"summary": )" + deep + "}",
           std::string(kMaxSubmissionJsonBytes + 1, ' '),
       }) {
    CAPTURE(bad.substr(0, 80));
    capnp::MallocMessageBuilder msg;
    auto sub = msg.initRoot<proto::Submitted>();
    auto s = decode_submission_json(bad, sub);
    CHECK_FALSE(s);
    CHECK(s.code() == Code::invalid);
    CHECK(s.message().find('\n') == std::string::npos);
    CHECK_FALSE(sub.hasApplicant());
    CHECK_FALSE(sub.hasItemCode());
  }
}
