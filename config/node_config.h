// The node's configuration file (TOML) parsed into an immutable, validated
// NodeConfig. Unknown keys, wrong types and impossible values are errors
// that name the key and its line.
//
// Thread contract: parse functions are pure; a NodeConfig is a value.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

namespace liandong::config {

struct NodeConfig {
  std::string code;            // this node's division code
  std::filesystem::path data;  // data directory (store, keys)
  std::string log_level = "info";
};

struct ConfigError {
  std::string message;  // "node.toml:3: node.code: '3607' is not a division code"
};

std::variant<NodeConfig, ConfigError> parse_config(std::string_view text, std::string_view source);
std::variant<NodeConfig, ConfigError> load_config(const std::filesystem::path& file);

}  // namespace liandong::config
