#include "storage/fees.h"

#include <catch2/catch.hpp>

using namespace liandong::storage;

TEST_CASE("fees: the amount owed passes, another needs a reason", "[fees]") {
  CHECK_FALSE(fee_amount_problem(3000, 3000, 0, ""));
  CHECK_FALSE(fee_amount_problem(5000, 3000, 0, "含加急费"));
  auto why = fee_amount_problem(5000, 3000, 0, "");
  REQUIRE(why);
  CHECK(why->rfind("实收金额 50.00 元与收费标准 30.00 元不符，请用 --reason 说明原因", 0) == 0);
  // A blank reason is no reason.
  CHECK(fee_amount_problem(5000, 3000, 0, "  "));
  // A free item: any amount needs a reason.
  CHECK(fee_amount_problem(1, 0, 0, ""));
  // What is still owed after a part was collected.
  CHECK_FALSE(fee_amount_problem(1000, 3000, 2000, ""));
  auto twice = fee_amount_problem(3000, 3000, 3000, "");
  REQUIRE(twice);
  CHECK(twice->find("尚应收取的 0.00 元") != std::string::npos);
}

TEST_CASE("fees: yuan text and receipt keys", "[fees]") {
  CHECK(fen_text(0) == "0.00");
  CHECK(fen_text(1550) == "15.50");
  CHECK(fen_text(-5) == "-0.05");
  CHECK(fen_text(INT64_MIN).rfind("-92233720368547758.08", 0) == 0);
  CHECK(receipt_key("360723101007", "No.1") == std::string("360723101007\0No.1", 17));
  // Origins keep separate receipt books.
  CHECK(receipt_key("360723101007", "1") != receipt_key("360723101008", "1"));
  const std::string long_no(1000, 'x');
  const std::string k = receipt_key("360723101007", long_no);
  CHECK(k.size() == 12 + 1 + 32);
  CHECK(k != receipt_key("360723101007", long_no + "y"));
}
