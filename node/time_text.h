// Durations and times as the CLI reads and prints them.
//
// Thread contract: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace liandong::node {

// "72h", "30m", "7d", "3600s"; nullopt for anything else.
std::optional<std::chrono::seconds> parse_duration(const std::string& s);
// Wall-clock ms as Beijing time, "2026-12-03 14:05".
std::string local_time(uint64_t ms);

}  // namespace liandong::node
