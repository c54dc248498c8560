// Fuzz target: a service catalog document (storage/catalog.h) as it arrives
// inside a catalogPublished broadcast, and the reads the node makes of one
// that parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liandong::storage;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cat = parse_catalog(text, "fuzz-catalog.toml");
  if (!cat.ok()) {
    if (cat.status().message().empty()) __builtin_trap();
    return 0;
  }
  std::size_t n = 0;
  for (const auto& item : cat->items) {
    n += item.total_days();
    if (cat->find(item.code) == nullptr) __builtin_trap();
    n += std::string_view(level_name(item.level)).size();
    n += std::string_view(level_name_zh(item.level)).size();
    n += std::string_view(handling_name(item.handling)).size();
    n += std::string_view(handling_name_zh(item.handling)).size();
  }
  (void)cat->find("");
  return n == 0xffffffff ? 1 : 0;
}
