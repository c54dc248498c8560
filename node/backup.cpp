// `liandong backup` (node/backup.h).
#include "node/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "node/identity.h"
#include "node/sealed_keys.h"
#include "storage/store_copy.h"

#ifndef LIANDONG_VERSION
#define LIANDONG_VERSION "unknown"
#endif

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// Removes what a backup cut short by an error wrote, unless dismissed.
class PartialBackup {
 public:
  PartialBackup(fs::path dest, bool made_dest) : dest_(std::move(dest)), made_dest_(made_dest) {}
  ~PartialBackup() {
    if (!armed_) return;
    std::error_code ec;
    fs::remove_all(backup_store_dir(dest_), ec);
    fs::remove(backup_keys_path(dest_), ec);
    fs::remove(manifest_path(dest_).string() + ".tmp", ec);
    fs::remove(manifest_path(dest_), ec);
    if (made_dest_) fs::remove(dest_, ec);
  }
  PartialBackup(const PartialBackup&) = delete;
  PartialBackup& operator=(const PartialBackup&) = delete;
  void dismiss() { armed_ = false; }

 private:
  fs::path dest_;
  bool made_dest_;
  bool armed_ = true;
};

bool inside(const fs::path& p, const fs::path& dir) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(p, ec), b = fs::weakly_canonical(dir, ec);
  auto it = a.begin();
  for (const auto& part : b) {
    if (it == a.end() || *it != part) return false;
    ++it;
  }
  return true;
}

// Makes DEST (0700), or takes an existing empty one. Returns whether it
// made it.
Result<bool> prepare_dest(const fs::path& dest, const fs::path& data) {
  if (inside(dest, data / "store") || inside(dest, data / "keys"))
    return Status::invalid("备份目录不能放在本节点的存储或密钥目录里 (" + dest.string() +
                           " is inside the node's store or keys folder)");
  std::error_code ec;
  const auto st = fs::symlink_status(dest, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st))
      return Status::invalid("备份目录 " + dest.string() + " 已存在且不是目录 (DEST exists)");
    if (!fs::is_empty(dest, ec) || ec)
      return Status::invalid("备份目录 " + dest.string() +
                             " 已存在且不是空的；请指定一个新目录 (DEST exists and is not empty)");
    if (::access(dest.c_str(), W_OK) != 0)
      return Status::invalid("备份目录 " + dest.string() + " 不可写 (" + std::strerror(errno) +
                             ")");
    return false;
  }
  const fs::path parent = fs::absolute(dest, ec).parent_path();
  if (!fs::is_directory(parent, ec))
    return Status::invalid("备份目录的上级目录 " + parent.string() +
                           " 不存在 (the parent of DEST does not exist)");
  if (::mkdir(dest.c_str(), 0700) != 0)
    return Status::invalid("无法建立备份目录 " + dest.string() + "（" +
                           (errno == EROFS    ? std::string("只读文件系统")
                            : errno == EACCES ? std::string("没有写权限")
                                              : std::string(std::strerror(errno))) +
                           "）(cannot create DEST: " + std::strerror(errno) + ")");
  return true;
}

}  // namespace

Result<BackupDone> make_backup(const BackupRequest& r) {
  const auto started = std::chrono::steady_clock::now();
  // Everything that can be checked before DEST is touched.
  std::vector<KeyFile> key_files;
  if (r.passphrase) {
    auto files = read_key_folder(keys_dir(r.data).string());
    if (!files.ok()) return files.status();
    key_files = std::move(files).value();
  }
  std::error_code ec;
  if (!fs::exists(store_dir(r.data) / "data.mdb", ec))
    return Status::invalid("数据目录 " + r.data.string() + " 中没有存储，无可备份 (no store in " +
                           r.data.string() + ")");
  auto made = prepare_dest(r.dest, r.data);
  if (!made.ok()) return made.status();
  PartialBackup partial(r.dest, *made);

  const fs::path sdir = backup_store_dir(r.dest);
  if (::mkdir(sdir.c_str(), 0700) != 0) return write_error(sdir, errno);
  const fs::path sfile = sdir / "data.mdb";
  if (auto s = storage::copy_store_compacted(store_dir(r.data), sfile); !s) return s;
  auto info = storage::read_store_file(sdir);
  if (!info.ok()) return info.status();
  auto store_entry = hash_file(sfile);
  if (!store_entry.ok()) return store_entry.status();

  Manifest m;
  m.code = info->code;
  m.store_id = info->store_id;
  m.created_ms = r.now_ms;
  m.created = utc_iso(r.now_ms);
  m.log_end = info->last_lsn;
  m.events = info->events;
  m.cases = info->cases;
  m.schema = info->schema;
  m.liandong_version = LIANDONG_VERSION;
  m.store = *store_entry;
  m.store.path = "store/data.mdb";
  uint64_t total = m.store.bytes;

  if (r.passphrase) {
    KeyBundle bundle{m.code, m.store_id, std::move(key_files)};
    auto sealed = seal_keys(bundle, *r.passphrase);
    for (auto& f : bundle.files)
      std::fill(f.bytes.begin(), f.bytes.end(), '\0');
    if (!sealed.ok()) return sealed.status();
    if (auto s = write_new_file(backup_keys_path(r.dest), *sealed); !s) return s;
    auto keys_entry = hash_file(backup_keys_path(r.dest));
    if (!keys_entry.ok()) return keys_entry.status();
    m.keys = true;
    m.keys_file = *keys_entry;
    m.keys_file->path = "keys.enc";
    total += keys_entry->bytes;
  }

  // Last: the manifest, which makes DEST a backup.
  const std::string text = manifest_text(m);
  const fs::path tmp = manifest_path(r.dest).string() + ".tmp";
  if (auto s = write_new_file(tmp, text); !s) return s;
  if (auto s = sync_dir(sdir); !s) return s;
  fs::rename(tmp, manifest_path(r.dest), ec);
  if (ec) return Status::internal("cannot rename " + tmp.string() + ": " + ec.message());
  if (auto s = sync_dir(r.dest); !s) return s;
  if (*made) {
    if (auto s = sync_dir(fs::absolute(r.dest, ec).parent_path()); !s) return s;
  }
  partial.dismiss();
  total += text.size();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return BackupDone{std::move(m), r.dest, total, static_cast<uint64_t>(took.count())};
}

}  // namespace liandong::node
