// The example documents of config/ (catalog, calendar, roster, division
// table) for storage's unit tests: read from the source tree and, for the
// 2026 calendar, parsed. Tests that include this link liandong_test_support.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "storage/calendar.h"
#include "tests/support/files.h"

namespace liandong::test {

// The text of config/NAME ("catalog-example.toml"); "" if it cannot be read.
inline std::string example_document(const std::string& name) {
  return liandong::test::read_text(liandong::test::source_path("config/" + name));
}

// config/calendar-2026.toml as a Calendar; REQUIREs that it parses.
inline storage::Calendar calendar_2026() {
  auto y = storage::parse_calendar(example_document("calendar-2026.toml"), "calendar-2026.toml");
  REQUIRE(y.ok());
  storage::Calendar cal;
  cal.add(*y);
  return cal;
}

}  // namespace liandong::test
