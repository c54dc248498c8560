// Copying a store while it is in use, and reading such a copy
// (store_copy.h; Store::copy_compacted in store.h).
#include "storage/store_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/lmdb_env.h"
#include "storage/store.h"
#include "storage/store_check.h"
#include "storage/store_keys.h"
#include "storage/store_lock.h"
#include "storage/store_txn.h"

namespace liandong::storage {

namespace fs = std::filesystem;

namespace {

Status copy_error(int rc, const fs::path& file) {
  if (rc == ENOSPC || rc == EDQUOT)
    return Status::no_space("磁盘空间不足，存储未能复制完 (no space left writing " + file.string() +
                            ")");
  return Status::internal("cannot write " + file.string() + ": " + mdb_strerror(rc));
}

// Closes an environment opened for reading a copy.
struct EnvCloser {
  MDB_env* env = nullptr;
  ~EnvCloser() {
    if (env != nullptr) mdb_env_close(env);
  }
};

}  // namespace

Status copy_store_compacted(const fs::path& store_dir, const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(store_dir / "data.mdb", ec))
    return Status::not_found("no store in " + store_dir.string());
  if (auto s = check_store_file(store_dir, false); !s) return s;
  EnvCloser env;
  StoreLock user;
  try {
    mdb_check(mdb_env_create(&env.env), "mdb_env_create");
    mdb_check(mdb_env_set_maxdbs(env.env, kMaxDbs), "mdb_env_set_maxdbs");
    mdb_check(mdb_env_set_maxreaders(env.env, 126), "mdb_env_set_maxreaders");
    mdb_check(mdb_env_open(env.env, store_dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600),
              "mdb_env_open");
  } catch (const MdbError& e) {
    return to_status(e, store_dir);
  }
  // A user of the store like any other process (store_lock.h): refused
  // when lock.mdb was replaced under a running daemon.
  auto attached = StoreLock::attach(store_dir);
  if (!attached.ok()) return attached.status();
  user = std::move(attached).value();

  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::invalid("cannot create " + file.string() + ": " + std::strerror(errno));
  int rc = mdb_env_copyfd2(env.env, fd, MDB_CP_COMPACT);
  if (rc == MDB_MAP_RESIZED) {
    // The daemon grew the map since we opened: adopt its size, copy again.
    rc = mdb_env_set_mapsize(env.env, 0);
    if (rc == MDB_SUCCESS && (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0)) rc = errno;
    if (rc == MDB_SUCCESS) rc = mdb_env_copyfd2(env.env, fd, MDB_CP_COMPACT);
  }
  if (rc == MDB_SUCCESS && ::fsync(fd) != 0) rc = errno;
  if (::close(fd) != 0 && rc == MDB_SUCCESS) rc = errno;
  user.release();  // before the environment closes (store_lock.h)
  if (rc == MDB_SUCCESS) return Status::ok();
  ::unlink(file.c_str());
  return copy_error(rc, file);
}

Result<StoreFileInfo> read_store_file(const fs::path& dir) {
  const fs::path file = dir / "data.mdb";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::not_found("no store file " + file.string());
  // A file cut short would be a SIGBUS at the first read past its end.
  if (auto s = check_store_file(dir, false); !s) return s;
  StoreFileInfo info;
  info.file_bytes = static_cast<uint64_t>(st.st_size);
  EnvCloser env;
  auto bad = [&](const std::string& why) {
    return Status::corruption(file.string() + " is not a liandong store: " + why);
  };
  try {
    mdb_check(mdb_env_create(&env.env), "mdb_env_create");
    mdb_check(mdb_env_set_maxdbs(env.env, kMaxDbs), "mdb_env_set_maxdbs");
    const int rc = mdb_env_open(env.env, dir.c_str(), MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600);
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) return bad(mdb_strerror(rc));
    mdb_check(rc, "mdb_env_open");
    Txn txn(env.env, false);
    auto open_db = [&](const char* name, MDB_dbi* out) {
      const int drc = mdb_dbi_open(txn.get(), name, 0, out);
      if (drc == MDB_NOTFOUND) return false;
      mdb_check(drc, "mdb_dbi_open", name);
      return true;
    };
    MDB_dbi meta = 0, log = 0, cases = 0;
    if (!open_db("meta", &meta) || !open_db("log", &log) || !open_db("cases", &cases))
      return bad("its databases are missing");
    std::string_view v;
    if (!txn.get(meta, kMetaCode, &v)) return bad("it names no node");
    info.code = std::string(v);
    if (txn.get(meta, kMetaStoreId, &v)) info.store_id = std::string(v);
    if (txn.get(meta, kMetaSchema, &v) && v.size() == 8) info.schema = get_be64(v);
    info.events = txn.count(log);
    info.cases = txn.count(cases);
    Cursor c(txn, log);
    std::string_view k;
    if (c.move(MDB_LAST, &k)) {
      if (k.size() != 8) return bad("its log has a malformed key");
      info.last_lsn = get_be64(k);
    }
  } catch (const MdbError& e) {
    if (e.rc == MDB_CORRUPTED || e.rc == MDB_PAGE_NOTFOUND) return bad(e.what());
    return Status::internal(std::string("cannot read ") + file.string() + ": " + e.what());
  }
  return info;
}

}  // namespace liandong::storage
