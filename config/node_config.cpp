#include "config/node_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace liandong::config {

namespace {

bool digits_code(const std::string& c) {
  const auto n = c.size();
  if (n != 2 && n != 4 && n != 6 && n != 9 && n != 12) return false;
  for (char ch : c) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

std::string where(std::string_view source, const toml::source_region& r) {
  std::ostringstream o;
  o << source << ":" << r.begin.line;
  return o.str();
}

}  // namespace

std::variant<NodeConfig, ConfigError> parse_config(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << source << ":" << e.source().begin.line << ": " << e.description();
    return ConfigError{o.str()};
  }
  NodeConfig cfg;
  static const std::set<std::string> kTop = {"node"};
  static const std::set<std::string> kNode = {"code", "data", "log_level"};
  for (auto& [k, v] : root) {
    if (!kTop.count(std::string(k.str())))
      return ConfigError{where(source, k.source()) + ": unknown key '" + std::string(k.str()) +
                         "'"};
  }
  auto* node = root["node"].as_table();
  if (node == nullptr) return ConfigError{std::string(source) + ": missing table [node]"};
  for (auto& [k, v] : *node) {
    const std::string key(k.str());
    if (!kNode.count(key))
      return ConfigError{where(source, k.source()) + ": unknown key 'node." + key + "'"};
    if (!v.is_string())
      return ConfigError{where(source, v.source()) + ": node." + key + " must be a string"};
    const std::string s = *v.value<std::string>();
    if (key == "code") {
      if (!digits_code(s))
        return ConfigError{where(source, v.source()) + ": node.code: '" + s +
                           "' is not a division code (2, 4, 6, 9 or 12 digits)"};
      cfg.code = s;
    } else if (key == "data") {
      cfg.data = s;
    } else if (key == "log_level") {
      static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                    "warn",  "error", "off"};
      if (!kLevels.count(s))
        return ConfigError{where(source, v.source()) + ": node.log_level: '" + s +
                           "' is not one of trace, debug, info, warn, error, off"};
      cfg.log_level = s;
    }
  }
  if (cfg.code.empty()) return ConfigError{std::string(source) + ": node.code is required"};
  if (cfg.data.empty()) return ConfigError{std::string(source) + ": node.data is required"};
  return cfg;
}

std::variant<NodeConfig, ConfigError> load_config(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return ConfigError{"cannot read config file " + file.string()};
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), file.string());
}

}  // namespace liandong::config
