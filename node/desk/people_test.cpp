// The desk's passwords, codes, throttling and sessions (people.h,
// sessions.h), on real files in a temporary directory.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "node/desk/people.h"
#include "node/desk/sessions.h"
#include "tests/support/temp_dir.h"

namespace liandong::desk {
namespace {

constexpr uint64_t kNow = 1'790'000'000'000ULL;  // 2026-09

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("a person sets a password with a one-time code, then logs in with it") {
  test::TempDir dir;
  People people(dir.path() / "desk");
  auto code = people.invite("王小红", kNow);
  REQUIRE(code.ok());
  CHECK(code->size() == 9);
  CHECK((*code)[4] == '-');

  SECTION("the code works once, typed in lower case without the dash") {
    std::string typed;
    for (char c : *code)
      if (c != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto r = people.set_password("王小红", typed, "xiaohong2026", kNow + 1000);
    REQUIRE(r.ok());
    CHECK(r->outcome == LoginOutcome::ok);
    auto again = people.set_password("王小红", *code, "another2026", kNow + 2000);
    REQUIRE(again.ok());
    CHECK(again->outcome == LoginOutcome::wrong);
    auto in = people.login("王小红", "xiaohong2026", kNow + 3000);
    REQUIRE(in.ok());
    CHECK(in->outcome == LoginOutcome::ok);
    // Stored as argon2id hashes, never as given.
    const std::string text = file_text(dir.path() / "desk" / "people.json");
    CHECK(text.find("$argon2id$") != std::string::npos);
    CHECK(text.find("xiaohong2026") == std::string::npos);
    CHECK(text.find(code->substr(0, 4)) == std::string::npos);
  }
  SECTION("before a password is set, a login says so") {
    auto r = people.login("王小红", "whatever12", kNow);
    REQUIRE(r.ok());
    CHECK(r->outcome == LoginOutcome::no_password);
  }
  SECTION("a code expires after 72 hours") {
    auto r = people.set_password("王小红", *code, "xiaohong2026", kNow + 73ull * 3600 * 1000);
    REQUIRE(r.ok());
    CHECK(r->outcome == LoginOutcome::wrong);
  }
  SECTION("a weak password is refused and nothing is counted") {
    for (const char* weak : {"1234567", "12345678", "王小红abcdef"}) {
      auto r = people.set_password("王小红", *code, weak, kNow);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::invalid);
    }
    auto ok = people.set_password("王小红", *code, "xiaohong2026", kNow);
    REQUIRE(ok.ok());
    CHECK(ok->outcome == LoginOutcome::ok);
  }
}

TEST_CASE("wrong passwords slow down, then lock; a new code unlocks") {
  test::TempDir dir;
  People people(dir.path() / "desk");
  auto code = people.invite("赵六", kNow);
  REQUIRE(code.ok());
  REQUIRE(people.set_password("赵六", *code, "zhaoliu-2026", kNow)->outcome == LoginOutcome::ok);
  uint64_t t = kNow + 1000;
  // Two wrong tries: answered at once.
  for (int i = 1; i <= 2; ++i) {
    auto r = people.login("赵六", "wrong-pass", t);
    REQUIRE(r.ok());
    CHECK(r->outcome == LoginOutcome::wrong);
    CHECK(r->failures == static_cast<uint32_t>(i));
    t += 100;
  }
  // The third: wrong, and from now on each try waits.
  REQUIRE(people.login("赵六", "wrong-pass", t)->outcome == LoginOutcome::wrong);
  auto soon = people.login("赵六", "zhaoliu-2026", t + 500);
  REQUIRE(soon.ok());
  CHECK(soon->outcome == LoginOutcome::slow_down);  // even the right password waits
  CHECK(soon->retry_after_ms == 1500);
  t += 2000;
  REQUIRE(people.login("赵六", "wrong-pass", t)->outcome == LoginOutcome::wrong);  // 4th
  auto wait = people.login("赵六", "wrong-pass", t + 1000);
  CHECK(wait->outcome == LoginOutcome::slow_down);
  CHECK(wait->retry_after_ms == 3000);  // 4 s after the 4th failure
  t += 4000;
  auto fifth = people.login("赵六", "wrong-pass", t);
  REQUIRE(fifth.ok());
  CHECK(fifth->outcome == LoginOutcome::locked);
  CHECK(fifth->just_locked);
  // Locked: the right password does not open it for 30 minutes.
  auto locked = people.login("赵六", "zhaoliu-2026", t + 10 * 60 * 1000);
  CHECK(locked->outcome == LoginOutcome::locked);
  CHECK(locked->retry_after_ms == 20 * 60 * 1000);
  SECTION("after 30 minutes the right password works again") {
    auto later = people.login("赵六", "zhaoliu-2026", t + 30 * 60 * 1000);
    CHECK(later->outcome == LoginOutcome::ok);
  }
  SECTION("a new code unlocks at once") {
    auto fresh = people.invite("赵六", t + 60 * 1000);
    REQUIRE(fresh.ok());
    auto r = people.set_password("赵六", *fresh, "zhaoliu-new1", t + 61 * 1000);
    CHECK(r->outcome == LoginOutcome::ok);
  }
}

TEST_CASE("a corrupt people file is an error, not an empty one") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "desk");
  std::ofstream(dir.path() / "desk" / "people.json") << "{not json";
  People people(dir.path() / "desk");
  auto r = people.login("王小红", "xiaohong2026", kNow);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::corruption);
}

TEST_CASE("sessions expire when idle and at their end, and unknown tokens find nothing") {
  Sessions sessions(SessionPolicy{.idle_ms = 1000, .max_ms = 5000, .max_sessions = 2});
  Session s;
  s.name = "王小红";
  const std::string token = sessions.open(s, kNow);
  CHECK(token.size() == 64);
  auto found = sessions.find(token, kNow + 900);
  REQUIRE(found);
  CHECK(found->name == "王小红");
  CHECK(found->csrf.size() == 64);
  CHECK(found->csrf != token);
  CHECK(sessions.find(token, kNow + 1800));        // touched at +900
  CHECK_FALSE(sessions.find(token, kNow + 2900));  // idle for 1100 ms
  CHECK_FALSE(sessions.find(std::string(64, 'a'), kNow));
  CHECK_FALSE(sessions.find("short", kNow));

  const std::string a = sessions.open(s, kNow);
  for (uint64_t t = kNow + 800; t < kNow + 5000; t += 800)
    REQUIRE(sessions.find(a, t));
  CHECK_FALSE(sessions.find(a, kNow + 5000));  // 5 s after login, however busy

  const std::string b = sessions.open(s, kNow + 10);
  const std::string c = sessions.open(s, kNow + 20);
  const std::string d = sessions.open(s, kNow + 30);  // the oldest, b, makes room
  CHECK(sessions.size() == 2);
  CHECK_FALSE(sessions.find(b, kNow + 40));
  CHECK(sessions.find(c, kNow + 40));
  CHECK(sessions.find(d, kNow + 40));
  CHECK(same_token(c, c));
  CHECK_FALSE(same_token(c, d));
  CHECK_FALSE(same_token("", ""));
}

}  // namespace
}  // namespace liandong::desk
