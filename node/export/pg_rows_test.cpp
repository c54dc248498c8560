#include <catch2/catch.hpp>

#include "node/export/pg_rows.h"

using namespace liandong::node::pg;

TEST_CASE("pg rows: ID numbers and phones are masked, nothing whole passes", "[export]") {
  CHECK(mask_id_number("360723198001010018") == "360723********0018");
  CHECK(mask_id_number("36072319800101001X") == "360723********001X");
  CHECK(mask_id_number("360723800101001") == "360723*****1001");
  CHECK(mask_id_number("") == "");
  const std::string odd = mask_id_number("3607231980");
  CHECK(odd.find("3607231980") == std::string::npos);
  CHECK(odd.size() == 10);
  CHECK(mask_phone("13812345678") == "138****5678");
  CHECK(mask_phone("12345") == "*****");
}

TEST_CASE("pg rows: every case table starts with node_code and case_id", "[export]") {
  for (const auto* t : case_tables()) {
    INFO(t->name);
    REQUIRE(t->columns.size() >= 3);
    CHECK(std::string(t->columns[0]) == "node_code");
    CHECK(std::string(t->columns[1]) == "case_id");
  }
  CHECK(std::string(events_table().columns[1]) == "id");
}
