#include "config/node_config.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "config/input_file.h"
#include "config/sync_section.h"
#include "config/toml_reader.h"
#include "config/value_checks.h"

namespace liandong::config {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

// `p` made absolute against `base_dir` when relative (and base_dir is set),
// in normal form, without a trailing separator.
fs::path resolve(const fs::path& p, const fs::path& base_dir) {
  fs::path out = p;
  if (out.is_relative() && !base_dir.empty()) out = base_dir / out;
  out = out.lexically_normal();
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Reads one document into a NodeConfig, section by section, in the order a
// config file is usually written; stops at the first problem.
class Parser {
 public:
  Parser(const toml::table& root, std::string_view source, const fs::path& base_dir)
      : root_(root), reader_(source), base_dir_(base_dir) {}

  std::variant<NodeConfig, ConfigError> run() {
    reader_.allow_only(root_, "",
                       {"node", "listen", "control", "upstream", "child", "sync", "desk",
                        "attachments", "enroll", "metrics", "export"});
    if (!reader_.failed()) read_node();
    if (!reader_.failed()) read_listen();
    if (!reader_.failed()) read_control();
    if (!reader_.failed()) read_upstreams();
    if (!reader_.failed()) read_children();
    if (!reader_.failed()) config_.sync = read_sync(reader_, reader_.table(root_, "", "sync"));
    if (!reader_.failed()) read_desk();
    if (!reader_.failed()) read_attachments();
    if (!reader_.failed()) read_enroll();
    if (!reader_.failed()) read_metrics();
    if (!reader_.failed()) read_export();
    if (reader_.failed()) return ConfigError{reader_.error()};
    return std::move(config_);
  }

 private:
  void read_node() {
    const toml::table* node = reader_.table(root_, "", "node");
    if (reader_.failed()) return;
    if (node == nullptr) {
      reader_.fail(1, "node",
                   root_.empty() ? "missing: the file is empty; it needs a [node] table"
                                 : "missing table [node] (with code and data)");
      return;
    }
    reader_.allow_only(*node, "node", {"code", "data", "log_level"});
    if (auto code = reader_.string(*node, "node", "code", Need::kRequired)) {
      if (!is_division_code(code->value)) {
        reader_.fail(code->line, "node.code",
                     in_quotes(code->value) + " is not a division code (2, 4, 6, 9 or 12 digits)");
      }
      config_.code = code->value;
    }
    if (auto data = reader_.string(*node, "node", "data", Need::kRequired)) {
      config_.data = resolve(data->value, base_dir_);
      data_line_ = data->line;
    }
    if (auto level = reader_.string(*node, "node", "log_level", Need::kOptional)) {
      static constexpr std::string_view kLevels[] = {"trace", "debug", "info",
                                                     "warn",  "error", "off"};
      bool known = false;
      for (auto name : kLevels)
        known = known || level->value == name;
      if (!known) {
        reader_.fail(
            level->line, "node.log_level",
            in_quotes(level->value) + " is not one of trace, debug, info, warn, error, off");
      }
      config_.log_level = level->value;
    }
  }

  void read_listen() {
    const toml::table* listen = reader_.table(root_, "", "listen");
    if (listen == nullptr) return;
    reader_.allow_only(*listen, "listen", {"endpoint"});
    if (auto ep = reader_.string(*listen, "listen", "endpoint", Need::kRequired)) {
      if (auto problem = tcp_endpoint_problem(ep->value, TcpUse::kBind)) {
        reader_.fail(ep->line, "listen.endpoint", *problem);
      }
      config_.listen_endpoint = ep->value;
    }
  }

  void read_control() {
    const toml::table* control = reader_.table(root_, "", "control");
    std::optional<Located<std::string>> ep;
    if (control != nullptr) {
      reader_.allow_only(*control, "control", {"endpoint"});
      ep = reader_.string(*control, "control", "endpoint", Need::kOptional);
    }
    if (reader_.failed()) return;
    if (!ep) {
      const fs::path path = config_.data / "control.sock";
      if (path.native().size() > kMaxIpcPathBytes) {
        reader_.fail(data_line_, "node.data",
                     "too long for the default control socket " + path.string() + " (" +
                         std::to_string(path.native().size()) + " bytes, at most " +
                         std::to_string(kMaxIpcPathBytes) +
                         "); set [control] endpoint to a shorter ipc:// path");
      }
      config_.control_endpoint = "ipc://" + path.string();
      return;
    }
    std::string problem;
    const auto path = ipc_path(ep->value, base_dir_, problem);
    if (!path) {
      reader_.fail(ep->line, "control.endpoint", problem);
    } else if (path->native().size() > kMaxIpcPathBytes) {
      reader_.fail(ep->line, "control.endpoint",
                   "the socket path " + path->string() + " is " +
                       std::to_string(path->native().size()) + " bytes; at most " +
                       std::to_string(kMaxIpcPathBytes) + " fit in a Unix socket address");
    } else {
      config_.control_endpoint = "ipc://" + path->string();
    }
  }

  void read_attachments() {
    const toml::table* t = reader_.table(root_, "", "attachments");
    if (t == nullptr) return;
    const char* path = "attachments";
    reader_.allow_only(*t, path,
                       {"max_file_mib", "max_store_gib", "image_long_side", "jpeg_quality"});
    AttachmentSettings& a = config_.attachments;
    if (auto v = reader_.integer(*t, path, "max_file_mib", 1, 64))
      a.max_file_mib = static_cast<uint32_t>(v->value);
    if (auto v = reader_.integer(*t, path, "max_store_gib", 0, 1 << 20))
      a.max_store_gib = static_cast<uint64_t>(v->value);
    if (auto v = reader_.integer(*t, path, "image_long_side", 320, 8000))
      a.image_long_side = static_cast<uint32_t>(v->value);
    if (auto v = reader_.integer(*t, path, "jpeg_quality", 30, 100))
      a.jpeg_quality = static_cast<uint32_t>(v->value);
  }

  void read_enroll() {
    const toml::table* t = reader_.table(root_, "", "enroll");
    if (t == nullptr) return;
    reader_.allow_only(*t, "enroll", {"endpoint", "address"});
    auto ep = reader_.string(*t, "enroll", "endpoint", Need::kRequired);
    if (reader_.failed()) return;
    if (auto problem = tcp_endpoint_problem(ep->value, TcpUse::kBind)) {
      reader_.fail(ep->line, "enroll.endpoint", *problem);
      return;
    }
    if (!config_.listen_endpoint) {
      reader_.fail(ep->line, "enroll.endpoint",
                   "a node that enrolls children needs [listen] endpoint for them to dial");
      return;
    }
    if (*config_.listen_endpoint == ep->value) {
      reader_.fail(ep->line, "enroll.endpoint",
                   "is [listen] endpoint too: enrollment needs a port of its own");
      return;
    }
    config_.enroll.endpoint = ep->value;
    if (auto a = reader_.string(*t, "enroll", "address", Need::kOptional)) {
      if (auto problem = enroll_address_problem(a->value)) {
        reader_.fail(a->line, "enroll.address", *problem);
        return;
      }
      config_.enroll.address = a->value;
    }
  }

  static std::optional<std::string> enroll_address_problem(const std::string& v) {
    if (v.empty() || v.size() > 63) return "not a host name or IPv4 address (1 to 63 characters)";
    for (char c : v) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-';
      if (!ok) return "'" + v + "' is not a host name or IPv4 address";
    }
    return std::nullopt;
  }

  void read_export() {
    const toml::table* t = reader_.table(root_, "", "export");
    if (t == nullptr) return;
    reader_.allow_only(*t, "export", {"postgres_dsn", "export_id_numbers"});
    auto dsn = reader_.string(*t, "export", "postgres_dsn", Need::kOptional);
    auto ids = reader_.boolean(*t, "export", "export_id_numbers");
    if (reader_.failed()) return;
    if (dsn && dsn->value.empty()) {
      reader_.fail(dsn->line, "export.postgres_dsn", "empty; leave the key out for no export");
      return;
    }
    if (dsn) config_.export_pg.postgres_dsn = dsn->value;
    config_.export_pg.id_numbers = ids && ids->value;
  }

  void read_metrics() {
    const toml::table* t = reader_.table(root_, "", "metrics");
    if (t == nullptr) return;
    reader_.allow_only(*t, "metrics", {"listen", "allow_remote"});
    auto listen = reader_.string(*t, "metrics", "listen", Need::kOptional);
    auto remote = reader_.boolean(*t, "metrics", "allow_remote");
    if (reader_.failed() || !listen || listen->value == "off") return;
    DeskSettings parsed;  // the same HOST:PORT as [desk] listen
    if (auto problem = desk_listen_problem(listen->value, parsed)) {
      reader_.fail(listen->line, "metrics.listen", *problem);
      return;
    }
    MetricsSettings& m = config_.metrics;
    m.allow_remote = remote && remote->value;
    if (parsed.tls() && !m.allow_remote) {
      reader_.fail(listen->line, "metrics.listen",
                   in_quotes(listen->value) +
                       " is open beyond this machine; the endpoint has no login: listen on "
                       "127.0.0.1 (Prometheus on the same machine) or add allow_remote = true");
      return;
    }
    m.enabled = true;
    m.host = parsed.host;
    m.port = parsed.port;
  }

  void read_desk() {
    const toml::table* desk = reader_.table(root_, "", "desk");
    if (desk == nullptr) return;
    reader_.allow_only(*desk, "desk", {"listen", "tls_cert", "tls_key"});
    if (auto listen = reader_.string(*desk, "desk", "listen", Need::kOptional)) {
      if (listen->value == "off") {
        config_.desk.enabled = false;
      } else if (auto problem = desk_listen_problem(listen->value, config_.desk)) {
        reader_.fail(listen->line, "desk.listen", *problem);
      }
    }
    auto cert = reader_.string(*desk, "desk", "tls_cert", Need::kOptional);
    auto key = reader_.string(*desk, "desk", "tls_key", Need::kOptional);
    if (reader_.failed()) return;
    if (cert.has_value() != key.has_value()) {
      reader_.fail(cert ? cert->line : key->line, cert ? "desk.tls_key" : "desk.tls_cert",
                   "missing: tls_cert and tls_key go together");
      return;
    }
    if (cert) {
      config_.desk.tls_cert = resolve(cert->value, base_dir_);
      config_.desk.tls_key = resolve(key->value, base_dir_);
    }
  }

  // "HOST:PORT" or "[V6]:PORT" into `out`; the problem, if any.
  static std::optional<std::string> desk_listen_problem(const std::string& v, DeskSettings& out) {
    const auto colon = v.rfind(':');
    const std::string bad = in_quotes(v) + " is not HOST:PORT (e.g. \"127.0.0.1:8701\") or \"off\"";
    if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) return bad;
    std::string host = v.substr(0, colon);
    const std::string port = v.substr(colon + 1);
    if (host.front() == '[') {
      if (host.size() < 3 || host.back() != ']') return bad;
      host = host.substr(1, host.size() - 2);
    }
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad;
    const unsigned long n = std::stoul(port);
    if (n > 65535) return in_quotes(v) + ": port " + port + " is above 65535";
    for (char c : host) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      c == '.' || c == '-' || c == ':';
      if (!ok) return bad;
    }
    out.host = host;
    out.port = static_cast<uint16_t>(n);
    return std::nullopt;
  }

  // Reads the curve_key and sign_key every [[upstream]] and [[child]] entry has
  // (sign_key is stored in lower case).
  void read_keys(const toml::table& t, const std::string& path, std::string& curve_key,
                 std::string& sign_key) {
    if (auto key = reader_.string(t, path, "curve_key", Need::kRequired)) {
      if (auto problem = curve_key_problem(key->value)) {
        reader_.fail(key->line, path + ".curve_key", *problem);
      }
      curve_key = key->value;
    }
    if (auto key = reader_.string(t, path, "sign_key", Need::kRequired)) {
      if (auto problem = sign_key_problem(key->value)) {
        reader_.fail(key->line, path + ".sign_key", *problem);
      }
      sign_key = key->value;
      for (char& c : sign_key) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      }
    }
  }

  // Fails if `value` (at key `path`) already appears in `seen`, the values of
  // the earlier entries of `list`; the message reads "WHAT list[j] (line N)".
  void check_unique(const Located<std::string>& value, const std::string& path,
                    std::string_view what, const std::vector<Located<std::string>>& seen,
                    std::string_view list) {
    for (std::size_t j = 0; j < seen.size(); ++j) {
      if (seen[j].value == value.value) {
        reader_.fail(value.line, path,
                     std::string(what) + " " + std::string(list) + "[" + std::to_string(j) +
                         "] (line " + std::to_string(seen[j].line) + ")");
        return;
      }
    }
  }

  void read_upstreams() {
    const toml::array* list = reader_.table_array(root_, "", "upstream");
    if (list == nullptr) return;
    std::vector<Located<std::string>> codes;
    for (std::size_t i = 0; i < list->size() && !reader_.failed(); ++i) {
      const toml::table& t = *list->get(i)->as_table();
      const std::string path = "upstream[" + std::to_string(i) + "]";
      reader_.allow_only(t, path, {"code", "endpoint", "curve_key", "sign_key"});
      Upstream up;
      if (auto code = reader_.string(t, path, "code", Need::kRequired)) {
        if (!is_division_code(code->value)) {
          reader_.fail(
              code->line, path + ".code",
              in_quotes(code->value) + " is not a division code (2, 4, 6, 9 or 12 digits)");
        } else if (!is_strict_ancestor(code->value, config_.code)) {
          reader_.fail(code->line, path + ".code",
                       in_quotes(code->value) + " is not above this node " + config_.code +
                           " (an upstream's code must be a proper prefix of node.code)");
        }
        check_unique(*code, path + ".code", in_quotes(code->value) + " is already listed as", codes,
                     "upstream");
        codes.push_back(*code);
        up.code = code->value;
      }
      if (auto ep = reader_.string(t, path, "endpoint", Need::kRequired)) {
        if (auto problem = tcp_endpoint_problem(ep->value, TcpUse::kConnect)) {
          reader_.fail(ep->line, path + ".endpoint", *problem);
        }
        up.endpoint = ep->value;
      }
      read_keys(t, path, up.curve_key, up.sign_key);
      config_.upstreams.push_back(std::move(up));
    }
  }

  void read_children() {
    const toml::array* list = reader_.table_array(root_, "", "child");
    if (list == nullptr) return;
    std::vector<Located<std::string>> codes;
    std::vector<Located<std::string>> curve_keys;
    for (std::size_t i = 0; i < list->size() && !reader_.failed(); ++i) {
      const toml::table& t = *list->get(i)->as_table();
      const std::string path = "child[" + std::to_string(i) + "]";
      reader_.allow_only(t, path, {"code", "curve_key", "sign_key"});
      Child child;
      if (auto code = reader_.string(t, path, "code", Need::kRequired)) {
        if (!is_division_code(code->value)) {
          reader_.fail(
              code->line, path + ".code",
              in_quotes(code->value) + " is not a division code (2, 4, 6, 9 or 12 digits)");
        } else if (!is_strict_ancestor(config_.code, code->value)) {
          reader_.fail(code->line, path + ".code",
                       in_quotes(code->value) + " is not inside this node's jurisdiction " +
                           config_.code + " (a child's code must start with node.code)");
        }
        check_unique(*code, path + ".code", in_quotes(code->value) + " is already listed as", codes,
                     "child");
        codes.push_back(*code);
        child.code = code->value;
      }
      read_keys(t, path, child.curve_key, child.sign_key);
      if (!reader_.failed()) {
        // ZAP admits a child by its curve key: two children may not share one.
        const Located<std::string> key{child.curve_key, line_of(*t.get("curve_key"))};
        check_unique(key, path + ".curve_key", "the same key is already given to", curve_keys,
                     "child");
        curve_keys.push_back(key);
      }
      config_.children.push_back(std::move(child));
    }
    if (!reader_.failed() && !config_.children.empty() && !config_.listen_endpoint) {
      reader_.fail(line_of(*list->get(0)), "listen",
                   "missing: a node with [[child]] entries needs [listen] endpoint = "
                   "\"tcp://HOST:PORT\" for them to dial");
    }
  }

  const toml::table& root_;
  Reader reader_;
  fs::path base_dir_;
  NodeConfig config_;
  std::size_t data_line_ = 1;
};

}  // namespace

std::variant<NodeConfig, ConfigError> parse_config(std::string_view text, std::string_view source,
                                                   const std::filesystem::path& base_dir) {
  std::string syntax_error;
  const std::optional<toml::table> root = parse_toml(text, source, syntax_error);
  if (!root) return ConfigError{syntax_error};
  return Parser(*root, source, base_dir).run();
}

std::variant<NodeConfig, ConfigError> load_config(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  InputFile in = read_input_file(file, kMaxConfigBytes);
  if (!in.ok) return ConfigError{name + ": cannot read: " + in.error};
  const std::string& text = in.bytes;
  fs::path dir = fs::absolute(file, ec).parent_path();
  if (ec) dir = file.parent_path();
  return parse_config(text, name, dir);
}

}  // namespace liandong::config
