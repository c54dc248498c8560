#include "config/toml_reader.h"

#include <catch2/catch.hpp>
#include <string>

using Catch::Matchers::Contains;
using liandong::config::Need;
using liandong::config::parse_toml;
using liandong::config::Reader;
using liandong::config::Text;

namespace {

toml::table parsed(const std::string& text) {
  std::string error;
  auto root = parse_toml(text, "t.toml", error);
  INFO(error);
  REQUIRE(root);
  return std::move(*root);
}

}  // namespace

TEST_CASE("toml reader: a syntax error is one line naming the file and line", "[config]") {
  std::string error;
  CHECK_FALSE(parse_toml("a = 1\nb = \"x\ny\"\n", "t.toml", error));
  CHECK_THAT(error, Catch::StartsWith("t.toml:2: syntax: "));
  CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("toml reader: the first problem is kept, later reads do nothing", "[config]") {
  const auto root = parsed("name = 3\ncount = \"x\"\n");
  Reader r("t.toml");
  CHECK_FALSE(r.string(root, "", "name", Need::kRequired));
  CHECK_FALSE(r.integer(root, "", "count", 0, 9));
  REQUIRE(r.failed());
  CHECK(r.error() == "t.toml:1: name: must be a string, not an integer");
}

TEST_CASE("toml reader: strings are checked as the caller asks", "[config]") {
  const auto root = parsed("empty = \"\"\nlong = \"abcdef\"\nbell = \"a\\u0007\"\n");
  SECTION("a line: not empty, no control characters") {
    Reader r("t.toml");
    r.string(root, "", "empty", Need::kOptional);
    CHECK(r.error() == "t.toml:1: empty: must not be empty");
    Reader r2("t.toml");
    r2.string(root, "", "bell", Need::kOptional);
    CHECK(r2.error() == "t.toml:3: bell: must not contain control characters");
  }
  SECTION("any text, the empty string too") {
    Reader r("t.toml");
    auto v = r.string(root, "", "empty", Need::kOptional, 0, Text::kAny);
    REQUIRE(v);
    CHECK(v->value.empty());
    CHECK(v->line == 1);
    CHECK_FALSE(r.failed());
  }
  SECTION("at most so many bytes") {
    Reader r("t.toml");
    CHECK(r.string(root, "", "long", Need::kOptional, 6));
    CHECK_FALSE(r.string(root, "", "long", Need::kOptional, 5));
    CHECK(r.error() == "t.toml:2: long: must be at most 5 bytes");
  }
  SECTION("missing when required, at the table's line") {
    Reader r("t.toml");
    CHECK_FALSE(r.string(root, "", "name", Need::kRequired));
    CHECK(r.error() == "t.toml:1: name: missing");
  }
}

TEST_CASE("toml reader: integers name their range", "[config]") {
  const auto root = parsed("zero = 0\nbig = 70000\nneg = -1\n");
  auto error_of = [&](const char* key, int64_t min, int64_t max) {
    Reader r("t.toml");
    CHECK_FALSE(r.integer(root, "", key, min, max));
    REQUIRE(r.failed());
    return r.error();
  };
  CHECK(error_of("zero", 1, 10) == "t.toml:1: zero: 0 is not a positive integer (allowed 1..10)");
  CHECK(error_of("big", 1, 65536) == "t.toml:2: big: 70000 is out of range (allowed 1..65536)");
  CHECK(error_of("neg", 0, 10) == "t.toml:3: neg: -1 is out of range (allowed 0..10)");
  Reader r("t.toml");
  CHECK_FALSE(r.integer(root, "", "absent", 0, 1, Need::kRequired));
  CHECK(r.error() == "t.toml:1: absent: missing");
}

TEST_CASE("toml reader: tables and lists of them keep their shape and bounds", "[config]") {
  const auto root = parsed(
      "[[item]]\ncode = \"a\"\n[item.limits]\nx = 1\n[[item]]\ncode = \"b\"\nlimits = 3\n"
      "[[item]]\ncode = \"c\"\n");
  SECTION("a nested table read as the wrong type names its header") {
    Reader r("t.toml");
    const auto items = r.tables(root, "", "item");
    REQUIRE(items.size() == 3);
    CHECK(r.table(*items[0], "item[0]", "limits") != nullptr);
    CHECK(r.table(*items[1], "item[1]", "limits") == nullptr);
    CHECK(r.error() == "t.toml:7: item[1].limits: must be a table ([item.limits]), not an integer");
  }
  SECTION("more entries than allowed") {
    Reader r("t.toml");
    CHECK(r.tables(root, "", "item", 2).empty());
    CHECK_THAT(r.error(), Contains("item: more than 2 entries"));
  }
  SECTION("unknown keys list what is allowed") {
    Reader r("t.toml");
    const auto items = r.tables(root, "", "item");
    r.allow_only(*items[1], "item[1]", {"code"});
    CHECK(r.error() == "t.toml:7: item[1].limits: unknown key (expected code)");
  }
  SECTION("a table where a list of tables belongs") {
    const auto one = parsed("[item]\ncode = \"a\"\n");
    Reader r("t.toml");
    CHECK(r.tables(one, "", "item").empty());
    CHECK_THAT(r.error(), Contains("must be written [[item]] (one per entry), not [item]"));
  }
}

TEST_CASE("toml reader: lists of strings carry each element's line", "[config]") {
  const auto root = parsed("steps = [\n  \"one\",\n  \"two\",\n]\nbad = [\"x\", 2]\n");
  Reader r("t.toml");
  const auto steps = r.strings(root, "", "steps", Need::kRequired);
  REQUIRE(steps.size() == 2);
  CHECK(steps[1].value == "two");
  CHECK(steps[1].line == 3);
  CHECK(r.strings(root, "", "bad", Need::kOptional).size() == 1);
  CHECK(r.error() == "t.toml:5: bad[1]: must be a string, not an integer");
}
