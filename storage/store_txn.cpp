#include "storage/store_txn.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>

namespace liandong::storage {

namespace {

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The marker of a write refused for lack of space (store/full): made by the
// process whose write was refused, removed by the first write that commits,
// read by every process that opens the store (its mtime is the moment).
std::filesystem::path full_marker(const std::filesystem::path& dir) {
  return dir / "full";
}

}  // namespace

bool disk_full(const std::filesystem::path& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return false;
  constexpr uint64_t kRoom = 4u << 20;  // more than one large commit needs
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < kRoom;
}

Status to_status(const MdbError& e, const std::filesystem::path& dir) {
  // LMDB reports a short write as EIO, which is how a full disk usually
  // shows at commit time: the file system's room tells the two apart.
  if (e.rc == MDB_MAP_FULL || e.rc == ENOSPC || e.rc == EDQUOT ||
      (e.rc == EIO && !dir.empty() && disk_full(dir)))
    return Status::no_space(std::string("store is full (存储空间已满): ") + e.what());
  if (e.rc == MDB_CORRUPTED || e.rc == MDB_PAGE_NOTFOUND || e.rc == MDB_INVALID)
    return Status::corruption(e.what());
  return Status::internal(e.what());
}

void TxnRunner::attach(MDB_env* env) {
  env_ = env;
  MDB_envinfo info;
  if (mdb_env_info(env, &info) == MDB_SUCCESS) map_bytes_ = info.me_mapsize;
}

Status TxnRunner::resize(const MdbError& e) const {
  std::unique_lock lock(resize_mu_);
  if (e.rc == MDB_MAP_RESIZED) {
    if (int r = mdb_env_set_mapsize(env_, 0); r != MDB_SUCCESS)
      return to_status(MdbError(r, "mdb_env_set_mapsize"), dir_);
    return Status::ok();
  }
  MDB_envinfo info;
  if (int r = mdb_env_info(env_, &info); r != MDB_SUCCESS)
    return to_status(MdbError(r, "mdb_env_info"), dir_);
  const std::size_t next = std::max(info.me_mapsize, map_bytes_.load()) * 2;
  if (next > max_map_bytes_) return to_status(e, dir_);
  if (int r = mdb_env_set_mapsize(env_, next); r != MDB_SUCCESS)
    return to_status(MdbError(r, "mdb_env_set_mapsize"), dir_);
  map_bytes_ = next;
  return Status::ok();
}

void TxnRunner::note_full() const {
  uint64_t none = 0;
  if (full_since_.compare_exchange_strong(none, now_ms()) && !dir_.empty()) {
    const int fd = ::open(full_marker(dir_).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
}

void TxnRunner::note_room() const {
  if (full_since_.exchange(0) != 0 && !dir_.empty()) ::unlink(full_marker(dir_).c_str());
}

void TxnRunner::load_full_marker() {
  struct stat st {};
  if (!dir_.empty() && ::stat(full_marker(dir_).c_str(), &st) == 0)
    full_since_ = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

}  // namespace liandong::storage
