#include "node/log_mask.h"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

using liandong::mask_id_numbers;

TEST_CASE("log mask: ID numbers are masked to region code and last four", "[log]") {
  CHECK(mask_id_numbers("360723198001010034") == "360723********0034");
  CHECK(mask_id_numbers("36072319800101003X") == "360723********003X");
  CHECK(mask_id_numbers("36072319800101003x") == "360723********003x");
  CHECK(mask_id_numbers("申请人 张三 (360723198001010034) 材料不全") ==
        "申请人 张三 (360723********0034) 材料不全");
  CHECK(mask_id_numbers("身份证号360723198001010034，电话13979700030") ==
        "身份证号360723********0034，电话13979700030");
  CHECK(mask_id_numbers("a=360723198001010034,b=110101199003070017") ==
        "a=360723********0034,b=110101********0017");
}

TEST_CASE("log mask: what is not an ID number is left alone", "[log]") {
  for (const char* s : {
           "360723101007-000042",            // a case number
           "360723101007",                   // a village code
           "3607231980010100345",            // 19 digits
           "36072319800101003",              // 17 digits
           "batch (1200, 3000] 4096 bytes",  // figures
           "x360723198001010034",            // glued to a letter
           "360723198001010034y",
           "36072319800101003XY",
           "",
       }) {
    CAPTURE(s);
    CHECK(mask_id_numbers(s) == s);
  }
}

TEST_CASE("log mask: a logger with a masking sink writes no ID number", "[log]") {
  std::ostringstream out;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto sink = std::make_shared<liandong::MaskingSink>(inner);
  spdlog::logger log("test", sink);
  log.set_pattern("%l %v");
  log.warn("rejected event 360723101007-000042: applicant ID {} is listed twice",
           "36072319800101003X");
  log.info("nothing to mask in {}", "360723101007");
  CHECK(out.str() ==
        "warning rejected event 360723101007-000042: applicant ID 360723********003X is listed "
        "twice\ninfo nothing to mask in 360723101007\n");
}
