#include "storage/store_lock.h"

#include "storage/store_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace liandong::storage {

namespace {

constexpr off_t kUserByte = 0;
constexpr off_t kDaemonByte = 1;

struct flock byte_lock(short type, off_t at) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = at;
  fl.l_len = 1;
  fl.l_pid = 0;  // required 0 for OFD locks
  return fl;
}

// Whether another open file holds a lock on `at` that a write lock would
// meet (`ofd`: ask as an open file; else as this process, so that this
// process's own POSIX locks, LMDB's, are not reported).
Result<bool> held_by_others(int fd, off_t at, bool ofd) {
  struct flock fl = byte_lock(F_WRLCK, at);
  if (::fcntl(fd, ofd ? F_OFD_GETLK : F_GETLK, &fl) != 0)
    return Status::internal(std::string("cannot probe a store lock: ") + std::strerror(errno));
  return fl.l_type != F_UNLCK;
}

// The stores this process has open, by data.mdb's (device, inode): a second
// handle in the same process shares LMDB's lock with the first, which the
// probe cannot see (POSIX locks of one's own process are not reported).
// Process-wide by nature, like LMDB's own locks.
class OpenInProcess {
 public:
  static OpenInProcess& get() {
    static OpenInProcess registry;
    return registry;
  }
  // Whether the store was open here already; counts this handle.
  bool add(std::pair<dev_t, ino_t> k) {
    std::lock_guard lock(mu_);
    return counts_[k]++ > 0;
  }
  void remove(std::pair<dev_t, ino_t> k) {
    std::lock_guard lock(mu_);
    if (auto it = counts_.find(k); it != counts_.end() && --it->second == 0) counts_.erase(it);
  }

 private:
  std::mutex mu_;
  std::map<std::pair<dev_t, ino_t>, int> counts_;
};

}  // namespace

StoreLock::StoreLock(StoreLock&& o) noexcept
    : data_fd_(std::exchange(o.data_fd_, -1)),
      lock_fd_(std::exchange(o.lock_fd_, -1)),
      file_(o.file_),
      counted_(std::exchange(o.counted_, false)) {}

StoreLock& StoreLock::operator=(StoreLock&& o) noexcept {
  if (this != &o) {
    release();
    if (lock_fd_ >= 0) ::close(lock_fd_);
    data_fd_ = std::exchange(o.data_fd_, -1);
    lock_fd_ = std::exchange(o.lock_fd_, -1);
    file_ = o.file_;
    counted_ = std::exchange(o.counted_, false);
  }
  return *this;
}

StoreLock::~StoreLock() {
  release();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void StoreLock::release() {
  if (data_fd_ >= 0) ::close(data_fd_);  // drops the OFD locks
  data_fd_ = -1;
  if (counted_) OpenInProcess::get().remove(file_);
  counted_ = false;
}

Result<StoreLock> StoreLock::attach(const std::filesystem::path& dir) {
  StoreLock l;
  const std::filesystem::path data = dir / "data.mdb", lock = dir / "lock.mdb";
  l.data_fd_ = ::open(data.c_str(), O_RDWR | O_CLOEXEC);
  if (l.data_fd_ < 0)
    return Status::invalid("cannot open " + data.string() + ": " + std::strerror(errno));
  l.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (l.lock_fd_ < 0)
    return Status::invalid("cannot open " + lock.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(l.data_fd_, &st) != 0)
    return Status::invalid("cannot stat " + data.string() + ": " + std::strerror(errno));
  l.file_ = {st.st_dev, st.st_ino};
  const bool open_here = OpenInProcess::get().add(l.file_);
  l.counted_ = true;
  struct flock user = byte_lock(F_RDLCK, kUserByte);
  if (::fcntl(l.data_fd_, F_OFD_SETLK, &user) != 0)
    return Status::invalid("cannot lock " + data.string() + ": " + std::strerror(errno));
  // A process that is exiting (or was killed) drops its locks one file at a
  // time, LMDB's first when its descriptor is the lower: for that moment it
  // looks like a user of data.mdb without lock.mdb. A replaced lock.mdb stays
  // that way, so the finding must hold for a while before it is believed.
  bool replaced = false;
  for (int probe = 0; probe < 50 && !open_here; ++probe) {
    auto others_open = held_by_others(l.data_fd_, kUserByte, true);
    if (!others_open.ok()) return others_open.status();
    auto others_lmdb = held_by_others(l.lock_fd_, 0, false);
    if (!others_lmdb.ok()) return others_lmdb.status();
    replaced = *others_open && !*others_lmdb;
    if (!replaced) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (replaced)
    return Status::invalid(
        "本机存储正被另一个进程使用，但其锁文件 lock.mdb 已被删除或替换；请先停止使用该存储的"
        "守护进程或命令，再重试 (lock.mdb in " +
        dir.string() +
        " was removed while another process has the store open; writing now would corrupt it)");
  return l;
}

Result<bool> store_in_use(const std::filesystem::path& dir) {
  const std::filesystem::path data = dir / "data.mdb";
  const int fd = ::open(data.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    return Status::invalid("cannot open " + data.string() + ": " + std::strerror(errno));
  }
  auto held = held_by_others(fd, kUserByte, true);
  ::close(fd);
  return held;
}

Status StoreLock::take_daemon(int wait_ms) {
  if (data_fd_ < 0) return Status::internal("store lock not attached");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    struct flock fl = byte_lock(F_WRLCK, kDaemonByte);
    if (::fcntl(data_fd_, F_OFD_SETLK, &fl) == 0) return Status::ok();
    if (errno != EAGAIN && errno != EACCES)
      return Status::internal(std::string("cannot lock the store: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::invalid(
      "另一个守护进程正在使用本机存储，不能再启动一个 (another liandong daemon holds the "
      "store: stop it first; DATA/daemon.lock may have been deleted)");
}

}  // namespace liandong::storage
