#include "config/sync_section.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>

namespace liandong::config {

namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kHour = 3600 * kSecond;

// One [sync] setting as used in a relation: its key, value and the line the
// file sets it on (0 when the default applies).
struct Setting {
  std::string_view key;
  std::int64_t value = 0;
  std::size_t line = 0;
};

std::int64_t as_int(std::size_t v) {
  return static_cast<std::int64_t>(v);
}
std::int64_t as_int(std::chrono::milliseconds v) {
  return static_cast<std::int64_t>(v.count());
}

template <typename Field>
Setting read_into(Reader& reader, const toml::table& table, std::string_view key, std::int64_t min,
                  std::int64_t max, Field& field) {
  const auto v = reader.integer(table, "sync", key, min, max);
  if (v) {
    if constexpr (std::is_same_v<Field, std::chrono::milliseconds>) {
      field = std::chrono::milliseconds(v->value);
    } else {
      field = static_cast<Field>(v->value);
    }
  }
  return Setting{key, as_int(field), v ? v->line : 0};
}

// `a` must stand in relation `op` ("at least", "at most") to `bound`, which is
// `bound_text` worked out from `b`. Names the setting the file wrote (the
// later one if it wrote both), since that is the one to change.
void check_relation(Reader& reader, const Setting& a, bool holds, std::string_view op,
                    const Setting& b, std::string_view bound_text, std::int64_t bound) {
  if (holds) return;
  const bool name_a = a.line != 0 && a.line >= b.line;
  const std::string rule =
      std::string(op) + " " + std::string(bound_text) + " = " + std::to_string(bound);
  if (name_a) {
    reader.fail(a.line, "sync." + std::string(a.key), std::to_string(a.value) + " must be " + rule);
  } else {
    reader.fail(b.line, "sync." + std::string(b.key),
                "sync." + std::string(a.key) + " = " + std::to_string(a.value) +
                    (a.line == 0 ? " (the default)" : "") + " must be " + rule);
  }
}

}  // namespace

SyncSettings read_sync(Reader& reader, const toml::table* table) {
  SyncSettings s;
  if (table == nullptr) return s;
  reader.allow_only(
      *table, "sync",
      {"batch_max_events", "batch_max_bytes", "window_bytes", "heartbeat_ms", "peer_timeout_ms",
       "ack_timeout_ms", "redial_min_ms", "redial_max_ms", "max_message_bytes"});
  const auto& t = *table;
  read_into(reader, t, "batch_max_events", 1, 65536, s.batch_max_events);
  const Setting batch_bytes =
      read_into(reader, t, "batch_max_bytes", 4 * kKiB, 64 * kMiB, s.batch_max_bytes);
  const Setting window =
      read_into(reader, t, "window_bytes", 4 * kKiB, 1024 * kMiB, s.window_bytes);
  const Setting heartbeat = read_into(reader, t, "heartbeat_ms", 100, 600 * kSecond, s.heartbeat);
  const Setting peer_timeout =
      read_into(reader, t, "peer_timeout_ms", 300, 24 * kHour, s.peer_timeout);
  read_into(reader, t, "ack_timeout_ms", 100, 24 * kHour, s.ack_timeout);
  const Setting redial_min = read_into(reader, t, "redial_min_ms", 10, kHour, s.redial_min);
  const Setting redial_max = read_into(reader, t, "redial_max_ms", 100, kHour, s.redial_max);
  const Setting max_message =
      read_into(reader, t, "max_message_bytes", 128 * kKiB, 64 * kMiB, s.max_message_bytes);
  if (reader.failed()) return s;

  check_relation(reader, peer_timeout, peer_timeout.value >= 3 * heartbeat.value, "at least",
                 heartbeat, "3 * sync.heartbeat_ms", 3 * heartbeat.value);
  check_relation(reader, redial_min, redial_min.value <= redial_max.value, "at most", redial_max,
                 "sync.redial_max_ms", redial_max.value);
  check_relation(reader, batch_bytes, batch_bytes.value <= max_message.value, "at most",
                 max_message, "sync.max_message_bytes", max_message.value);
  check_relation(reader, window, window.value >= batch_bytes.value, "at least", batch_bytes,
                 "sync.batch_max_bytes", batch_bytes.value);
  return s;
}

}  // namespace liandong::config
