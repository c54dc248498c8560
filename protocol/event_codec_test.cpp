#include <catch2/catch.hpp>

#include "protocol/event_codec.h"

using namespace liandong;

TEST_CASE("ids: division codes have 2, 4, 6, 9 or 12 digits", "[protocol]") {
  CHECK(valid_code("360723101007"));
  CHECK(valid_code("360723"));
  CHECK_FALSE(valid_code("3607231"));
  CHECK_FALSE(valid_code("36072310100x"));
}
