#include "protocol/hlc.h"

#include <catch2/catch.hpp>

using namespace liandong;

namespace {
constexpr uint64_t kNow = 1700000000000ULL;  // 2023-11-14
constexpr uint64_t kDay = 24ULL * 3600 * 1000;
}  // namespace

TEST_CASE("hlc: a stamp persisted while the clock ran days fast is not inherited", "[hlc]") {
  uint64_t clock = kNow + 2 * kDay;
  Hlc fast([&] { return clock; });
  const uint64_t ahead = fast.now();
  CHECK(hlc_ms(ahead) == kNow + 2 * kDay);

  clock = kNow;  // set right
  Hlc next([&] { return clock; });
  CHECK_FALSE(next.resume(ahead));
  CHECK(hlc_ms(next.now()) == kNow);

  // A stamp within the tolerance is kept: causality as ever.
  Hlc near([&] { return clock; });
  const uint64_t soon = make_hlc(kNow + 3600 * 1000, 7);
  CHECK(near.resume(soon));
  CHECK(near.now() > soon);
}

TEST_CASE("hlc: stamps are range-checked and never wrap", "[hlc]") {
  CHECK(stamp_in_range(kNow));
  CHECK_FALSE(stamp_in_range(0));
  CHECK_FALSE(stamp_in_range(kMinStampMs - 1));
  CHECK_FALSE(stamp_in_range(kMaxStampMs));
  // The year 10889 (a pre-1970 clock read as unsigned, shifted by 16).
  CHECK_FALSE(stamp_in_range(hlc_ms(make_hlc(~0ULL, 0))));
  CHECK(wall_clock_ms() >= kMinStampMs);
  CHECK_THAT(clock_range_message(0), Catch::Contains("本机时钟不正确"));
}

TEST_CASE("hlc: the clock against the parent's, from the last handshake", "[hlc]") {
  ParentClock pc{kNow, 5000, "boot-a", "360723101"};
  // Two days fast now, one minute of boot clock after the handshake.
  auto skew = clock_skew_ms(pc, kNow + 60000 + 2 * kDay, 65000, "boot-a");
  REQUIRE(skew);
  CHECK(*skew == static_cast<int64_t>(2 * kDay));
  CHECK_THAT(clock_fault_message(*skew, "360723101"),
             Catch::StartsWith("本机时钟比上级快 2 天，请先校准时间"));
  CHECK_THAT(clock_fault_message(-static_cast<int64_t>(2 * kDay), "360723101"),
             Catch::StartsWith("本机时钟比上级慢 2 天，请先校准时间"));
  CHECK(clock_fault_message(static_cast<int64_t>(kDay / 2), "360723101").empty());
  // Another boot: the boot clock restarted, nothing is known.
  CHECK_FALSE(clock_skew_ms(pc, kNow, 65000, "boot-b"));
  CHECK_FALSE(clock_skew_ms(pc, kNow, 10, "boot-a"));
  auto back = decode_parent_clock(encode_parent_clock(pc));
  REQUIRE(back);
  CHECK(back->parent_wall_ms == kNow);
  CHECK(back->boot_id == "boot-a");
  CHECK(back->parent_code == "360723101");
  CHECK_FALSE(decode_parent_clock("short"));
}
