// Fuzz target: the node's TOML configuration file (config/node_config.h),
// and the summary `liandong config check` prints of one that parses.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "config/node_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace liandong::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_config(text, "fuzz.toml");
  if (auto* err = std::get_if<ConfigError>(&parsed)) {
    // One line, as the header promises.
    if (err->message.empty()) __builtin_trap();
    return 0;
  }
  const auto& cfg = std::get<NodeConfig>(parsed);
  if (describe(cfg).empty()) __builtin_trap();
  // Parsing is a pure function of the text.
  auto again = parse_config(text, "fuzz.toml");
  if (!std::holds_alternative<NodeConfig>(again) || !(std::get<NodeConfig>(again) == cfg))
    __builtin_trap();
  return 0;
}
