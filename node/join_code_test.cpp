#include "node/join_code.h"

#include <catch2/catch.hpp>

#include <sodium.h>

using namespace liandong::node;

namespace {

JoinCode sample(std::string host) {
  JoinCode c;
  c.code = "360723101007";  // 水城村
  c.host = std::move(host);
  c.port = 7602;
  for (uint8_t i = 0; i < 8; ++i) {
    c.fingerprint[i] = static_cast<uint8_t>(0xA0 + i);
    c.secret[i] = static_cast<uint8_t>(0x11 * (i + 1));
  }
  return c;
}

}  // namespace

TEST_CASE("a join code reads back as written", "[join_code]") {
  REQUIRE(sodium_init() >= 0);
  for (const std::string host : {"10.36.7.101", "hub.nanan.dy.gov.cn", "127.0.0.1"}) {
    CAPTURE(host);
    const JoinCode c = sample(host);
    const std::string text = format_join_code(c);
    CAPTURE(text);
    CHECK(text.rfind("LD-", 0) == 0);
    auto back = parse_join_code(text);
    REQUIRE(std::holds_alternative<JoinCode>(back));
    CHECK(std::get<JoinCode>(back) == c);
  }
  SECTION("an IPv4 code is twelve groups of four") {
    const std::string text = format_join_code(sample("10.36.7.101"));
    CHECK(text.size() == 2 + 12 * 5);
  }
  SECTION("townships and counties too") {
    JoinCode t = sample("10.36.7.1");
    t.code = "360723101";
    auto back = parse_join_code(format_join_code(t));
    REQUIRE(std::holds_alternative<JoinCode>(back));
    CHECK(std::get<JoinCode>(back).code == "360723101");
    t.code = "360723";
    back = parse_join_code(format_join_code(t));
    REQUIRE(std::holds_alternative<JoinCode>(back));
    CHECK(std::get<JoinCode>(back).code == "360723");
  }
}

TEST_CASE("a join code as typed over the phone", "[join_code]") {
  REQUIRE(sodium_init() >= 0);
  const JoinCode c = sample("10.36.7.101");
  const std::string text = format_join_code(c);
  SECTION("lower case, spaces instead of dashes, O for 0, l for 1") {
    std::string typed;
    for (char ch : text) {
      if (ch == '-') {
        typed.push_back(' ');
      } else if (ch == '0') {
        typed.push_back('o');
      } else if (ch == '1') {
        typed.push_back('l');
      } else {
        typed.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      }
    }
    auto back = parse_join_code(typed);
    REQUIRE(std::holds_alternative<JoinCode>(back));
    CHECK(std::get<JoinCode>(back) == c);
  }
  SECTION("every single mistyped symbol is caught") {
    int caught = 0, tried = 0;
    for (std::size_t i = 3; i < text.size(); ++i) {
      if (text[i] == '-') continue;
      std::string typo = text;
      typo[i] = text[i] == 'X' ? 'Y' : 'X';
      ++tried;
      auto back = parse_join_code(typo);
      if (std::holds_alternative<std::string>(back))
        ++caught;
      else
        CHECK(std::get<JoinCode>(back) != c);
    }
    // A 16-bit check lets about one typo in 65,536 through; none of these.
    CHECK(caught == tried);
  }
  SECTION("a group left out, a symbol outside the alphabet, nothing") {
    auto shorter = parse_join_code(text.substr(0, text.size() - 5));
    REQUIRE(std::holds_alternative<std::string>(shorter));
    CHECK(std::get<std::string>(shorter).find("入网码") != std::string::npos);
    std::string bad = text;
    bad[5] = 'U';
    CHECK(std::holds_alternative<std::string>(parse_join_code(bad)));
    CHECK(std::holds_alternative<std::string>(parse_join_code("")));
    CHECK(std::holds_alternative<std::string>(parse_join_code(std::string(500, 'A'))));
  }
}

TEST_CASE("the fingerprint names both keys", "[join_code]") {
  REQUIRE(sodium_init() >= 0);
  std::array<uint8_t, 32> curve{}, sign{};
  curve[0] = 1;
  const Fingerprint a = key_fingerprint(curve, sign);
  sign[31] = 1;
  const Fingerprint b = key_fingerprint(curve, sign);
  CHECK(a != b);
  CHECK(a == key_fingerprint(curve, std::array<uint8_t, 32>{}));
}
