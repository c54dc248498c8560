// The node's configuration file (TOML) parsed into an immutable, validated
// NodeConfig: who this node is (division code, data directory), where its
// children dial in, its parents (upstreams) and the children it admits with
// their public keys, and the sync tuning knobs. config/examples/ holds one
// commented file per tier (county, township, village).
//
// Every problem is a ConfigError whose message is one line,
// `FILE:LINE: key.path: what is wrong`, e.g.
// `village.toml:7: upstream[0].curve_key: not a 40-character Z85 key`.
// Unknown tables and keys, wrong types, impossible values and inconsistent
// combinations are all errors; only the first problem found is reported.
//
// Paths: a relative node.data is resolved against the directory of the config
// file (load_config) or against `base_dir` (parse_config); with an empty
// base_dir it is left relative. A relative ipc:// control path is resolved the
// same way. The default control endpoint is ipc://<data>/control.sock.
//
// Thread contract: parse_config, load_config and describe are plain functions
// with no shared state; call them from any thread. A NodeConfig is a value:
// build it only through parse_config/load_config, then hold it as
// `const NodeConfig` — every thread may read it, nobody writes it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace liandong::config {

// A parent this node dials ([[upstream]]), in order of preference.
struct Upstream {
  std::string code;       // a strict ancestor of NodeConfig::code, e.g. "360723"
  std::string endpoint;   // "tcp://HOST:PORT" where the parent's [listen] binds
  std::string curve_key;  // the parent's CurveZMQ public key, 40 Z85 characters
  std::string sign_key;   // the parent's Ed25519 public key, 64 lowercase hex digits

  friend bool operator==(const Upstream&, const Upstream&) = default;
};

// A child this node admits ([[child]]); children dial in, never the reverse.
struct Child {
  std::string code;       // strictly inside NodeConfig::code's jurisdiction
  std::string curve_key;  // 40 Z85 characters; unique among children (ZAP admits by it)
  std::string sign_key;   // 64 lowercase hex digits

  friend bool operator==(const Child&, const Child&) = default;
};

// [sync]: every field optional in the file; the defaults below apply.
// Bounds (inclusive) enforced by parse_config:
//   batch_max_events   1 .. 65536
//   batch_max_bytes    4 KiB .. 64 MiB, <= max_message_bytes
//   window_bytes       4 KiB .. 1 GiB, >= batch_max_bytes
//   heartbeat          100 ms .. 10 min
//   peer_timeout       300 ms .. 24 h, >= 3 * heartbeat
//   ack_timeout        100 ms .. 24 h
//   redial_min         10 ms .. 1 h, <= redial_max
//   redial_max         100 ms .. 1 h
//   max_message_bytes  128 KiB .. 64 MiB (room for a 64 KiB attachment chunk)
struct SyncSettings {
  std::size_t batch_max_events = 512;
  std::size_t batch_max_bytes = 256 * 1024;
  std::size_t window_bytes = 1024 * 1024;  // credit: unacked bytes in flight per peer
  std::chrono::milliseconds heartbeat{2000};
  std::chrono::milliseconds peer_timeout{20000};  // silent this long: peer is down
  std::chrono::milliseconds ack_timeout{10000};   // then resend from the durable cursor
  std::chrono::milliseconds redial_min{500};
  std::chrono::milliseconds redial_max{30000};  // backoff cap; the daemon adds jitter
  std::size_t max_message_bytes = 4 * 1024 * 1024;

  friend bool operator==(const SyncSettings&, const SyncSettings&) = default;
};

// [desk]: where the node serves its web desk (docs/DESK.md).
//   listen    "HOST:PORT" (PORT 0: a free one); "off": no desk.
//             Default "127.0.0.1:0". HOST other than 127.0.0.1, localhost
//             or ::1 opens it to the office LAN: HTTPS only.
//   tls_cert, tls_key  PEM files (relative: against the config's
//             directory); both or neither. Neither: DATA/desk/cert.pem and
//             DATA/desk/key.pem, made at `liandong init`.
struct DeskSettings {
  bool enabled = true;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::filesystem::path tls_cert, tls_key;  // empty: the ones made at init
  // Served over HTTPS: the desk is open beyond this machine.
  bool tls() const { return host != "127.0.0.1" && host != "localhost" && host != "::1"; }
  friend bool operator==(const DeskSettings&, const DeskSettings&) = default;
};

// [attachments]: files attached to cases (node/app/attachments.h);
// every key optional. Bounds (inclusive):
//   max_file_mib     1 .. 64, default 20: the most one file may hold, as
//                    given (before a photo is reduced)
//   max_store_gib    0 .. 1048576, default 0: attachment chunks this store
//                    may hold in all (0: only the disk limits it); the
//                    daemon and the CLI open the store with it
//   image_long_side  320 .. 8000 px, default 1600: photos are reduced to it
//   jpeg_quality     30 .. 100, default 80: photos are saved as JPEG so
struct AttachmentSettings {
  uint32_t max_file_mib = 20;
  uint64_t max_store_gib = 0;
  uint32_t image_long_side = 1600;
  uint32_t jpeg_quality = 80;

  uint64_t max_file_bytes() const { return uint64_t{max_file_mib} << 20; }
  uint64_t max_store_bytes() const { return max_store_gib << 30; }
  friend bool operator==(const AttachmentSettings&, const AttachmentSettings&) = default;
};

// [enroll]: where this node takes join requests from new children
// (node/enroll.h, docs/OPERATIONS.md). Absent: no enrollment here.
//   endpoint  "tcp://HOST:PORT" bound for `liandong join` (its own port,
//             beside [listen]'s; needs [listen])
//   address   the host (IPv4 address or name) children reach this node
//             at, put into the join codes; optional when the endpoints'
//             host is a concrete address
struct EnrollSettings {
  std::optional<std::string> endpoint;
  std::string address;
  friend bool operator==(const EnrollSettings&, const EnrollSettings&) = default;
};

// [metrics]: the Prometheus endpoint (docs/OPERATIONS.md, 监控 / Metrics).
// The whole table is optional; without `listen` there is no endpoint.
//   listen        "HOST:PORT" (PORT 0: a free one, written to
//                 DATA/metrics/address) or "off".
//   allow_remote  false (default): HOST must be 127.0.0.1, localhost or
//                 ::1. The endpoint is plain HTTP without a login (the
//                 figures name villages and counts, never people): opening
//                 it to another address is said on purpose, with true,
//                 and a firewall keeps it to the county's Prometheus.
struct MetricsSettings {
  bool enabled = false;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  bool allow_remote = false;
  friend bool operator==(const MetricsSettings&, const MetricsSettings&) = default;
};

// [export]: the continuous export to PostgreSQL (docs/ANALYTICS.md). The
// whole table is optional; without postgres_dsn `liandong run` exports
// nothing.
//   postgres_dsn       libpq connection string or URI ("host=... dbname=...",
//                      "postgresql://..."); may hold a password, so it is
//                      never logged or described.
//   export_id_numbers  false (default): applicants' ID numbers and phones
//                      are masked (360723********0018); true exports them.
struct ExportSettings {
  std::string postgres_dsn;
  bool id_numbers = false;
  friend bool operator==(const ExportSettings&, const ExportSettings&) = default;
};

struct NodeConfig {
  std::string code;                // this node's division code (2, 4, 6, 9 or 12 digits)
  std::filesystem::path data;      // data directory (store, keys), see "Paths" above
  std::string log_level = "info";  // trace, debug, info, warn, error or off
  // [listen] endpoint: "tcp://HOST:PORT" the ROUTER binds for children. HOST may
  // be "*", and PORT may be "*" (the OS picks one; the daemon must read it back
  // with ZMQ_LAST_ENDPOINT). Always set when `children` is not empty.
  std::optional<std::string> listen_endpoint;
  std::string control_endpoint;     // "ipc://ABSOLUTE-OR-AS-GIVEN-PATH", never empty
  std::vector<Upstream> upstreams;  // [[upstream]], in the file's order
  std::vector<Child> children;      // [[child]], in the file's order
  SyncSettings sync;
  DeskSettings desk;
  AttachmentSettings attachments;
  EnrollSettings enroll;
  MetricsSettings metrics;
  ExportSettings export_pg;

  friend bool operator==(const NodeConfig&, const NodeConfig&) = default;
};

struct ConfigError {
  std::string message;  // "node.toml:3: node.code: '3607x' is not a division code ..."
};

// Parses and validates `text`; `source` names it in error messages (usually the
// file name). See "Paths" above for `base_dir`.
std::variant<NodeConfig, ConfigError> parse_config(std::string_view text, std::string_view source,
                                                   const std::filesystem::path& base_dir = {});

// Reads `file` and parses it with base_dir = the file's (absolute) directory.
// A file that cannot be read gives "FILE: cannot read: REASON".
std::variant<NodeConfig, ConfigError> load_config(const std::filesystem::path& file);

// A human-readable multi-line summary (for `liandong config check`), ending
// with a newline.
std::string describe(const NodeConfig& config);

}  // namespace liandong::config
