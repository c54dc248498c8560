#include "protocol/hlc.h"

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "protocol/ids.h"

namespace liandong {

namespace {

// LIANDONG_TEST_CLOCK_OFFSET_MS, read once: a test's fake clock fault.
int64_t test_offset_ms() {
  static const int64_t offset = [] {
    const char* v = std::getenv("LIANDONG_TEST_CLOCK_OFFSET_MS");
    if (v == nullptr || *v == '\0') return int64_t{0};
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    return end != nullptr && *end == '\0' ? static_cast<int64_t>(n) : int64_t{0};
  }();
  return offset;
}

std::string days_text(uint64_t ms) {
  const uint64_t hours = (ms + 1800000) / 3600000;
  if (hours >= 48) return std::to_string((hours + 12) / 24) + " 天";
  return std::to_string(hours) + " 小时";
}

}  // namespace

uint64_t wall_clock_ms() {
  using namespace std::chrono;
  const int64_t ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() +
                     test_offset_ms();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

uint64_t boot_clock_ms() {
  timespec ts{};
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0) return 0;
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

const std::string& boot_id() {
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string s;
    std::getline(in, s);
    return s.size() > 64 ? std::string() : s;
  }();
  return id;
}

std::string encode_parent_clock(const ParentClock& c) {
  std::string out;
  put_be64(out, c.parent_wall_ms);
  put_be64(out, c.boot_ms);
  out.push_back(static_cast<char>(c.boot_id.size()));
  out.append(c.boot_id);
  out.append(c.parent_code);
  return out;
}

std::optional<ParentClock> decode_parent_clock(std::string_view b) {
  if (b.size() < 17) return std::nullopt;
  ParentClock c;
  c.parent_wall_ms = get_be64(b.substr(0, 8));
  c.boot_ms = get_be64(b.substr(8, 8));
  const std::size_t n = static_cast<uint8_t>(b[16]);
  if (b.size() < 17 + n) return std::nullopt;
  c.boot_id.assign(b.substr(17, n));
  c.parent_code.assign(b.substr(17 + n));
  return c;
}

std::optional<int64_t> clock_skew_ms(const ParentClock& c, uint64_t wall_ms, uint64_t boot_ms,
                                     const std::string& current_boot_id) {
  if (c.parent_wall_ms == 0 || c.boot_id.empty() || c.boot_id != current_boot_id ||
      boot_ms < c.boot_ms)
    return std::nullopt;
  const uint64_t parent_now = c.parent_wall_ms + (boot_ms - c.boot_ms);
  return static_cast<int64_t>(wall_ms) - static_cast<int64_t>(parent_now);
}

std::string clock_fault_message(int64_t skew_ms, const std::string& parent_code) {
  const uint64_t off =
      skew_ms < 0 ? static_cast<uint64_t>(-skew_ms) : static_cast<uint64_t>(skew_ms);
  if (off <= kMaxClockSkewMs) return {};
  const bool fast = skew_ms > 0;
  return std::string("本机时钟比上级") + (fast ? "快 " : "慢 ") + days_text(off) +
         "，请先校准时间 (this node's clock is " + std::to_string(off / 60000) + " min " +
         (fast ? "ahead of" : "behind") + " its parent " + parent_code +
         "'s; set the clock right first)";
}

std::string clock_range_message(uint64_t wall_ms) {
  const char* when = wall_ms < kMinStampMs ? "早于 2020 年" : "晚于 2100 年";
  return std::string("本机时钟不正确（") + when + "），请先校准时间 (the system clock reads " +
         std::to_string(wall_ms) + " ms since 1970, outside 2020-2100; set the clock right first)";
}

uint64_t Hlc::now() {
  const uint64_t physical = make_hlc(clock_(), 0);
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

void Hlc::observe(uint64_t remote) {
  if (remote > last_) last_ = remote;
}

bool Hlc::resume(uint64_t persisted) {
  if (hlc_ms(persisted) > clock_() + kMaxClockSkewMs) return false;
  observe(persisted);
  return true;
}

}  // namespace liandong
