#include "protocol/resident_id.h"

#include <capnp/message.h>

#include <catch2/catch.hpp>
#include <string>

using namespace liandong;

namespace {

constexpr int64_t kToday = 20494;  // 2026-02-10

std::string problem(std::string_view id) {
  auto why = resident_id_problem(id, kToday);
  return why ? *why : "";
}

}  // namespace

TEST_CASE("resident ID: valid numbers, with X and x", "[protocol][resident_id]") {
  CHECK_FALSE(resident_id_problem("360723198805123413", kToday));
  CHECK_FALSE(resident_id_problem("11010519491231002X", kToday));
  CHECK_FALSE(resident_id_problem("11010519491231002x", kToday));
  CHECK(normalised_resident_id("11010519491231002x") == "11010519491231002X");
  CHECK_FALSE(resident_id_problem("440301200002291237", kToday));  // 29 February of a leap year
  CHECK_FALSE(resident_id_problem("360723190001010011", kToday));  // 1900 itself
  CHECK_FALSE(resident_id_problem("360723202602100018", kToday));  // born today
  CHECK_FALSE(resident_id_problem("820000198501010020", kToday));  // Macao
  CHECK_FALSE(resident_id_problem("910000198501010022", kToday));  // permanent residence
  CHECK(resident_id_check_char("36072319991212001") == 'X');
}

TEST_CASE("resident ID: a wrong check character names the right one", "[protocol][resident_id]") {
  CHECK(problem("360723198805123417").starts_with("身份证号码校验位不符（应为 3）"));
  CHECK(problem("360723199912120011").starts_with("身份证号码校验位不符（应为 X）"));
  CHECK(problem("11010519491231002Y").starts_with("身份证号码应为 17 位数字加 1 位校验码"));
}

TEST_CASE("resident ID: a birth date that does not exist, is in the future or before 1900",
          "[protocol][resident_id]") {
  // Check characters right, so only the date is wrong.
  const std::string feb31 =
      std::string("36072320260231001") + resident_id_check_char("36072320260231001");
  CHECK(problem(feb31).starts_with("身份证号码中的出生日期 20260231 不存在"));
  const std::string feb29 =
      std::string("36072320270229001") + resident_id_check_char("36072320270229001");
  CHECK(problem(feb29).starts_with("身份证号码中的出生日期 20270229 不存在"));
  CHECK(problem("360723202602110013").starts_with("身份证号码中的出生日期 20260211 晚于今天"));
  const std::string old =
      std::string("36072318991231001") + resident_id_check_char("36072318991231001");
  CHECK(problem(old).starts_with("身份证号码中的出生日期 18991231 早于 1900 年"));
  const std::string month13 =
      std::string("36072319801301001") + resident_id_check_char("36072319801301001");
  CHECK(problem(month13).find("不存在") != std::string::npos);
}

TEST_CASE("resident ID: a province code not in the table", "[protocol][resident_id]") {
  for (const char* body : {"00072319800101001", "16072319800101001", "39072319800101001",
                           "72072319800101001", "99072319800101001"}) {
    const std::string id = std::string(body) + resident_id_check_char(body);
    INFO(id);
    CHECK(problem(id).starts_with("身份证号码的地区码"));
  }
}

TEST_CASE("resident ID: 17 or 19 characters, letters, empty", "[protocol][resident_id]") {
  CHECK(problem("36072319880512341").starts_with("身份证号码应为 18 位，这里是 17 个字符"));
  CHECK(problem("3607231988051234130").starts_with("身份证号码应为 18 位，这里是 19 个字符"));
  CHECK(problem("").starts_with("身份证号码应为 18 位"));
  CHECK(problem("36072319880512341X ").starts_with("身份证号码应为 18 位"));
  CHECK(problem("3607231988O5123413").starts_with("身份证号码应为 17 位数字"));
  CHECK(problem("36072319880512341３").starts_with("身份证号码应为 18 位"));  // full-width digit
}

TEST_CASE("phone numbers: mobiles and landlines as typed", "[protocol][resident_id]") {
  for (const char* ok :
       {"13907970001", "19979700025", "139 0797 0001", "139-0797-0001", "0797-1234567",
        "0797-12345678", "07971234567", "010-12345678", "021 8765 4321", "0797 1234567"}) {
    INFO(ok);
    CHECK_FALSE(phone_problem(ok));
  }
  for (const char* bad : {"12345", "12907970001", "1390797000", "139079700011", "0797-12345",
                          "00797-1234567", "0797-123456789", "139O7970001", "+8613907970001",
                          "139.0797.0001", "1390797０001", "-", " "}) {
    INFO(bad);
    auto why = phone_problem(bad);
    REQUIRE(why);
    CHECK(why->starts_with("电话号码格式不对："));
  }
}

TEST_CASE("check_applicant: normalises x, refuses the first problem, skips empty fields",
          "[protocol][resident_id]") {
  capnp::MallocMessageBuilder msg;
  auto a = msg.initRoot<proto::Applicant>();
  a.setName("刘秀英");
  CHECK(check_applicant(a, kToday).ok());
  a.setIdNumber("11010519491231002x");
  a.setPhone("139 0797 0001");
  CHECK(check_applicant(a, kToday).ok());
  CHECK(std::string(a.getIdNumber().cStr()) == "11010519491231002X");
  CHECK(std::string(a.getPhone().cStr()) == "139 0797 0001");
  a.setPhone("12345");
  auto s = check_applicant(a, kToday);
  CHECK(s.code() == Code::invalid);
  CHECK(s.message().starts_with("电话号码格式不对：12345"));
  a.setPhone("");
  a.setIdNumber("360723198805123417");
  s = check_applicant(a, kToday);
  CHECK(s.code() == Code::invalid);
  CHECK(s.message().starts_with("身份证号码校验位不符（应为 3）"));
  CHECK(std::string(a.getIdNumber().cStr()) == "360723198805123417");
}
