#include "node/backup_files.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "config/input_file.h"
#include "config/toml_reader.h"
#include "protocol/crypto.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxManifestBytes = 64 * 1024;
constexpr std::size_t kPiece = 1 << 20;

// Only what this program writes goes into the manifest: codes, hex, a
// version, a time, a relative path. Anything else is a bug, not escaped.
bool plain(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == ':' || c == '-' || c == '/' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string toml_string(std::string_view s) {
  return "\"" + std::string(plain(s) ? s : "?") + "\"";
}

std::string entry_text(const char* table, const BackupFileEntry& e) {
  return std::string("\n[") + table + "]\npath = " + toml_string(e.path) +
         "\nbytes = " + std::to_string(e.bytes) + "\nsha256 = " + toml_string(e.sha256) + "\n";
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status write_all(int fd, const char* p, std::size_t n, const fs::path& file) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return write_error(file, w < 0 ? errno : EIO);
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return Status::ok();
}

std::string utc_format(uint64_t ms, const char* format) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const std::size_t n = std::strftime(buf.data(), buf.size(), format, &tm);
  return std::string(buf.data(), n);
}

}  // namespace

fs::path manifest_path(const fs::path& backup) {
  return backup / "backup.toml";
}
fs::path backup_store_dir(const fs::path& backup) {
  return backup / "store";
}
fs::path backup_keys_path(const fs::path& backup) {
  return backup / "keys.enc";
}

std::string utc_stamp(uint64_t ms) {
  return utc_format(ms, "%Y%m%dT%H%M%SZ");
}
std::string utc_iso(uint64_t ms) {
  return utc_format(ms, "%Y-%m-%dT%H:%M:%SZ");
}

Status write_error(const fs::path& what, int err) {
  if (err == ENOSPC || err == EDQUOT)
    return Status::no_space("磁盘空间不足，写 " + what.string() +
                            " 失败 (no space left on device)");
  return Status::internal("cannot write " + what.string() + ": " + std::strerror(err));
}

std::string manifest_text(const Manifest& m) {
  std::string t =
      "# 联动节点备份清单 (liandong backup manifest). Written last: a backup folder without it\n"
      "# was cut short. Restore with `liandong restore DIR`.\n";
  t += "format = " + std::to_string(m.format) + "\n";
  t += "code = " + toml_string(m.code) + "\n";
  t += "store_id = " + toml_string(m.store_id) + "\n";
  t += "created = " + toml_string(m.created) + "\n";
  t += "created_ms = " + std::to_string(m.created_ms) + "\n";
  t += "log_end = " + std::to_string(m.log_end) + "\n";
  t += "events = " + std::to_string(m.events) + "\n";
  t += "cases = " + std::to_string(m.cases) + "\n";
  t += "schema = " + std::to_string(m.schema) + "\n";
  t += "liandong_version = " + toml_string(m.liandong_version) + "\n";
  t += std::string("keys = ") + (m.keys ? "true" : "false") + "\n";
  t += entry_text("store", m.store);
  if (m.keys_file) t += entry_text("keys_file", *m.keys_file);
  return t;
}

Result<Manifest> read_manifest(const fs::path& src) {
  std::error_code ec;
  if (!fs::is_directory(src, ec))
    return Status::invalid(src.string() + " 不是备份目录（不存在或不是目录）(not a backup folder)");
  const fs::path file = manifest_path(src);
  if (!fs::exists(file, ec)) {
    if (fs::exists(src / "keys", ec) || fs::exists(src / "daemon.lock", ec))
      return Status::invalid(
          src.string() + " 是节点的数据目录，不是联动备份目录 (a data directory, not a backup)");
    if (fs::exists(backup_store_dir(src), ec))
      return Status::invalid(
          src.string() +
          " 是一份不完整的备份（没有清单 backup.toml：备份中途被打断？），不能用于恢复 "
          "(an incomplete backup: no backup.toml)");
    return Status::invalid(src.string() +
                           " 不是联动备份目录（没有 backup.toml）(not a liandong backup)");
  }
  auto in = config::read_input_file(file, kMaxManifestBytes);
  if (!in.ok) return Status::invalid("备份清单 " + file.string() + " 无法读取 (" + in.error + ")");
  std::string error;
  auto doc = config::parse_toml(in.bytes, file.string(), error);
  const auto bad = [&](const std::string& why) {
    return Status::invalid("备份清单 " + file.string() + " 有误：" + why +
                           " (bad backup manifest)");
  };
  if (!doc) return bad(error);
  const toml::table& t = *doc;
  Manifest m;
  m.format = static_cast<int>(t["format"].value_or(int64_t{0}));
  if (m.format != kBackupFormat)
    return Status::invalid("备份清单的格式 " + std::to_string(m.format) + " 不是本程序能读的 " +
                           std::to_string(kBackupFormat) +
                           "，请用制作该备份的联动版本恢复 (unknown backup format)");
  auto text = [&](const toml::node_view<const toml::node>& v) { return v.value_or(std::string()); };
  auto number = [&](const toml::node_view<const toml::node>& v) {
    const int64_t n = v.value_or(int64_t{-1});
    return n < 0 ? std::optional<uint64_t>() : std::optional<uint64_t>(static_cast<uint64_t>(n));
  };
  m.code = text(t["code"]);
  m.store_id = text(t["store_id"]);
  m.created = text(t["created"]);
  m.liandong_version = text(t["liandong_version"]);
  m.keys = t["keys"].value_or(false);
  auto created_ms = number(t["created_ms"]), log_end = number(t["log_end"]),
       events = number(t["events"]), cases = number(t["cases"]), schema = number(t["schema"]);
  if (m.code.empty() || m.store_id.empty() || !created_ms || !log_end || !events || !cases ||
      !schema)
    return bad("缺少 code、store_id 或计数");
  m.created_ms = *created_ms;
  m.log_end = *log_end;
  m.events = *events;
  m.cases = *cases;
  m.schema = *schema;
  auto entry = [&](const char* name) -> std::optional<BackupFileEntry> {
    const auto* tbl = t[name].as_table();
    if (tbl == nullptr) return std::nullopt;
    BackupFileEntry e;
    e.path = (*tbl)["path"].value_or(std::string());
    const int64_t bytes = (*tbl)["bytes"].value_or(int64_t{-1});
    e.sha256 = (*tbl)["sha256"].value_or(std::string());
    if (e.path.empty() || bytes < 0 || e.sha256.size() != 64) return std::nullopt;
    e.bytes = static_cast<uint64_t>(bytes);
    return e;
  };
  auto store = entry("store");
  if (!store || store->path != "store/data.mdb") return bad("[store] 有误");
  m.store = *store;
  m.keys_file = entry("keys_file");
  if (m.keys && (!m.keys_file || m.keys_file->path != "keys.enc")) return bad("[keys_file] 有误");
  return m;
}

Result<BackupFileEntry> hash_file(const fs::path& file) {
  Fd in{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0)
    return Status::invalid("cannot read " + file.string() + ": " + std::strerror(errno));
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::string buf(kPiece, '\0');
  BackupFileEntry e;
  for (;;) {
    const ssize_t r = ::read(in.fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0)
      return Status::internal("cannot read " + file.string() + ": " + std::strerror(errno));
    if (r == 0) break;
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(r));
    e.bytes += static_cast<uint64_t>(r);
  }
  std::array<uint8_t, crypto_hash_sha256_BYTES> sum{};
  crypto_hash_sha256_final(&st, sum.data());
  e.sha256 = to_hex(sum);
  return e;
}

Status write_new_file(const fs::path& file, std::string_view bytes) {
  Fd out{::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return write_error(file, errno);
  Status s = write_all(out.fd, bytes.data(), bytes.size(), file);
  if (s && ::fsync(out.fd) != 0) s = write_error(file, errno);
  if (!s) ::unlink(file.c_str());
  return s;
}

Status copy_checked(const fs::path& from, const fs::path& to, const BackupFileEntry& expect) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0)
    return Status::invalid("cannot read " + from.string() + ": " + std::strerror(errno));
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) return write_error(to, errno);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::string buf(kPiece, '\0');
  uint64_t bytes = 0;
  Status s;
  for (;;) {
    const ssize_t r = ::read(in.fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      s = Status::internal("cannot read " + from.string() + ": " + std::strerror(errno));
      break;
    }
    if (r == 0) break;
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(r));
    bytes += static_cast<uint64_t>(r);
    s = write_all(out.fd, buf.data(), static_cast<std::size_t>(r), to);
    if (!s) break;
  }
  std::array<uint8_t, crypto_hash_sha256_BYTES> sum{};
  crypto_hash_sha256_final(&st, sum.data());
  if (s && (bytes != expect.bytes || to_hex(sum) != expect.sha256))
    s = Status::corruption("备份已损坏：" + from.string() +
                           " 与清单记录的大小或校验值不符，不能用于恢复 (the file does not match "
                           "the manifest's size or SHA-256)");
  if (s && ::fsync(out.fd) != 0) s = write_error(to, errno);
  if (!s) ::unlink(to.c_str());
  return s;
}

Status sync_dir(const fs::path& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0)
    return Status::internal("cannot sync " + dir.string() + ": " + std::strerror(errno));
  return Status::ok();
}

}  // namespace liandong::node
