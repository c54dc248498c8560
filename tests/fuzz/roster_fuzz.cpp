// Fuzz target: a staff roster document (storage/roster.h) as it arrives
// inside a rosterPublished broadcast, and the check the node makes with one
// that parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/roster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liandong::storage;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto roster = parse_roster(text, "fuzz-roster.toml");
  if (!roster.ok()) {
    if (roster.status().message().empty()) __builtin_trap();
    return 0;
  }
  std::size_t n = 0;
  for (const auto& e : roster->staff) {
    // Everyone listed may act at their node with their role.
    auto role = check_person(*roster, e.node, e.name, e.staff_id, e.role, "");
    if (!role.ok() || *role != e.role) __builtin_trap();
    n += e.name.size();
  }
  (void)check_person(*roster, "360723101007", "", "", std::nullopt, "nobody");
  return n == 0xffffffff ? 1 : 0;
}
