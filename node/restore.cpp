// `liandong restore` (node/backup.h).
#include "node/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/input_file.h"
#include "node/control.h"
#include "node/identity.h"
#include "node/sealed_keys.h"
#include "storage/own_key.h"
#include "storage/store.h"
#include "storage/store_copy.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

// DATA/restore.tmp: the backup is laid out here, like a data directory,
// and checked, before anything of the node's is moved.
fs::path staging_dir(const fs::path& data) {
  return data / "restore.tmp";
}

// Removes the staging folder unless dismissed.
struct Staging {
  fs::path dir;
  bool armed = true;
  ~Staging() {
    std::error_code ec;
    if (armed) fs::remove_all(dir, ec);
  }
};

// A name beside `path` for keeping it aside: PATH.before-restore-<time>.
fs::path aside_name(const fs::path& path, uint64_t now_ms) {
  const std::string base = path.string() + ".before-restore-" + utc_stamp(now_ms);
  fs::path p = base;
  std::error_code ec;
  for (int n = 2; fs::exists(p, ec) && n < 100; ++n)
    p = base + "-" + std::to_string(n);
  return p;
}

Status write_key_folder(const fs::path& dir, const KeyBundle& bundle) {
  if (::mkdir(dir.c_str(), 0700) != 0) return write_error(dir, errno);
  for (const auto& f : bundle.files) {
    if (auto s = write_new_file(dir / f.name, f.bytes); !s) return s;
  }
  return sync_dir(dir);
}

std::string short_id(const std::string& id) {
  return id.substr(0, 8);
}

}  // namespace

Result<RestoreDone> restore_backup(const RestoreRequest& r) {
  // 1. The backup itself.
  auto manifest = read_manifest(r.src);
  if (!manifest.ok()) return manifest.status();
  const Manifest& m = *manifest;
  if (m.schema != storage::kSchemaVersion)
    return Status::invalid("备份的存储格式版本 " + std::to_string(m.schema) + " 不是本程序的 " +
                           std::to_string(storage::kSchemaVersion) + "，请用联动 " +
                           m.liandong_version + " 恢复；未作任何改动 (backup schema " +
                           std::to_string(m.schema) + ")");

  // 2. This node: which code it is, and that it is stopped.
  std::error_code ec;
  const fs::path live = store_dir(r.data);
  const bool has_store = fs::exists(live / "data.mdb", ec);
  if (auto d = find_daemon(r.data))
    return Status::invalid(
        "节点正在运行（pid " + std::to_string(d->pid) +
        "），请先停止（systemctl stop liandong）再恢复；未作任何改动 (the daemon "
        "runs on " +
        r.data.string() + ")");
  std::string code = r.code;
  if (has_store) {
    auto busy = storage::store_in_use(live);
    if (!busy.ok()) return busy.status();
    if (*busy)
      return Status::invalid(
          "本机存储正被其他联动命令使用，请等其结束后再恢复；未作任何改动 (another "
          "process has the store open)");
    if (code.empty()) {
      auto held = storage::read_store_file(live);
      if (held.ok()) code = held->code;
    }
  }
  if (!code.empty() && code != m.code)
    return Status::invalid("这是 " + m.code + " 的备份，不是本节点 " + code +
                           " 的，不能恢复到这里；未作任何改动 (the backup is of another node)");
  if (has_store && !r.replace)
    return Status::invalid(
        "本机已有存储 " + live.string() +
        "；确要用备份替换时请加 --replace（原存储将改名保留，不会删除）；未作任何改动 "
        "(a store exists: give --replace)");
  if (r.passphrase && !m.keys)
    return Status::invalid(
        "这份备份不含密钥（备份时未加 --keys），不要给 --passphrase-file；未作任何改动 "
        "(the backup holds no keys)");
  if (!r.passphrase && !fs::exists(keys_dir(r.data) / "sign.key", ec))
    return Status::invalid(std::string("本机没有密钥目录 keys/") +
                           (m.keys ? "；请加 --passphrase-file 一并恢复备份中的密钥"
                                   : "，这份备份也不含密钥：请先放回本机 keys/ 目录的备份") +
                           "；未作任何改动 (no keys here)");

  // 3. Keep a daemon from starting meanwhile (its start waits on this lock
  // and then says another daemon runs).
  std::error_code mk;
  if (!fs::exists(r.data, mk)) {
    fs::create_directories(r.data, mk);
    if (mk)
      return Status::invalid("无法建立数据目录 " + r.data.string() + " (" + mk.message() + ")");
    ::chmod(r.data.c_str(), 0700);
  }
  auto lock = DaemonLock::acquire(r.data, "restore");
  if (!lock.ok()) return lock.status();

  // 4. Lay the backup out in DATA/restore.tmp and check it there.
  Staging staging{staging_dir(r.data)};
  fs::remove_all(staging.dir, ec);  // one an earlier restore left when killed
  if (::mkdir(staging.dir.c_str(), 0700) != 0) return write_error(staging.dir, errno);
  const fs::path sstore = store_dir(staging.dir);
  if (::mkdir(sstore.c_str(), 0700) != 0) return write_error(sstore, errno);
  if (auto s = copy_checked(r.src / m.store.path, sstore / "data.mdb", m.store); !s) return s;
  auto info = storage::read_store_file(sstore);
  if (!info.ok()) return info.status();
  if (info->code != m.code || info->store_id != m.store_id)
    return Status::corruption("备份已损坏：其存储属于 " + info->code + "，与清单所记 " + m.code +
                              " 不符 (the store does not match the manifest)");

  std::optional<KeyBundle> bundle;
  if (r.passphrase) {
    const fs::path sealed_copy = staging.dir / "keys.enc";
    if (auto s = copy_checked(r.src / m.keys_file->path, sealed_copy, *m.keys_file); !s) return s;
    auto sealed = config::read_input_file(sealed_copy, 256 * 1024);
    if (!sealed.ok) return Status::corruption("keys.enc: " + sealed.error);
    auto opened = open_keys(sealed.bytes, *r.passphrase);
    if (!opened.ok()) return opened.status();
    if (opened->code != m.code || opened->store_id != m.store_id)
      return Status::corruption("备份已损坏：keys.enc 属于 " + opened->code + "（存储 " +
                                short_id(opened->store_id) + "），与备份的存储不符");
    bundle = std::move(opened).value();
    if (auto s = write_key_folder(keys_dir(staging.dir), *bundle); !s) return s;
  }
  // The key that will sign from now on must be one the restored store
  // holds for this node (storage/own_key.h).
  auto id = load_identity(bundle ? staging.dir : r.data);
  if (!id.ok()) return id.status();
  {
    auto staged = storage::Store::open(storage::StoreOptions{sstore});
    if (!staged.ok()) return staged.status();
    if (auto s = storage::check_own_key(**staged, id->sign.pub); !s)
      return Status::invalid((bundle ? "备份中的密钥" : "本机现有密钥") +
                             std::string("与备份的存储不符：") + s.message() + "；未作任何改动");
  }
  fs::remove(sstore / "lock.mdb", ec);
  fs::remove(staging.dir / "keys.enc", ec);
  if (auto s = sync_dir(sstore); !s) return s;

  // 5. Put it in place: the old store and keys are kept aside, not deleted.
  RestoreDone done{m, bundle.has_value(), {}, {}};
  // (A store folder without data.mdb, an init cut short, is kept aside too.)
  const bool live_folder = fs::exists(live, ec);
  if (live_folder) {
    done.store_kept = aside_name(live, r.now_ms);
    fs::rename(live, done.store_kept, ec);
    if (ec) return Status::internal("cannot move " + live.string() + " aside: " + ec.message());
  }
  fs::rename(sstore, live, ec);
  if (ec) {
    std::error_code back;
    if (live_folder) fs::rename(done.store_kept, live, back);
    return Status::internal("cannot put the store in place: " + ec.message());
  }
  if (bundle) {
    const fs::path keys = keys_dir(r.data);
    if (fs::exists(keys, ec)) {
      done.keys_kept = aside_name(keys, r.now_ms);
      fs::rename(keys, done.keys_kept, ec);
      if (ec) return Status::internal("cannot move " + keys.string() + " aside: " + ec.message());
    }
    fs::rename(keys_dir(staging.dir), keys, ec);
    if (ec) return Status::internal("cannot put the keys in place: " + ec.message());
  }
  if (auto s = sync_dir(r.data); !s) return s;
  return done;
}

}  // namespace liandong::node
