// The single-writer guard of a store, held on the store file itself so that
// it holds whatever files a user deletes.
//
// LMDB serializes writers through its lock file (lock.mdb). If lock.mdb is
// deleted while a process has the store open, the next process makes a new
// one and the two write without seeing each other: the store is corrupted.
// Likewise a daemon's DATA/daemon.lock, once deleted, no longer keeps a
// second daemon off the store. So every process that opens a store also
// takes open-file-description locks (F_OFD_SETLK) on data.mdb:
//
//   byte 0  shared by every process that has the store open, taken after
//           LMDB's own lock (so a holder of byte 0 also holds lock.mdb)
//   byte 1  exclusive, held by the daemon for as long as it runs
//
// At open, a process that finds another user of data.mdb (byte 0) while
// nobody holds LMDB's lock on the current lock.mdb knows that lock.mdb was
// replaced under a running process, and refuses before any transaction.
// OFD locks belong to the open file, not the process: LMDB closing its own
// descriptors never drops them, and they go with the process when it dies.
//
// Thread contract: owned by the Store that opened it; not synchronized.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <utility>

#include "protocol/status.h"

namespace liandong::storage {

class StoreLock {
 public:
  StoreLock() = default;
  StoreLock(StoreLock&& o) noexcept;
  StoreLock& operator=(StoreLock&& o) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

  // Called right after mdb_env_open of `dir`: marks this process a user of
  // the store and checks LMDB's lock file. invalid when lock.mdb was
  // replaced under another process that has the store open.
  static Result<StoreLock> attach(const std::filesystem::path& dir);

  // Takes byte 1 (the daemon's), trying for up to `wait_ms`; invalid when
  // another daemon holds it.
  Status take_daemon(int wait_ms);

  // Releases byte 0 and 1. Must run before the LMDB environment closes
  // (the Store does so), keeping "holds byte 0 => holds lock.mdb" true.
  void release();

 private:
  int data_fd_ = -1;                // data.mdb: carries the OFD locks
  int lock_fd_ = -1;                // lock.mdb: probed only; closed after the environment
  std::pair<dev_t, ino_t> file_{};  // data.mdb's identity
  bool counted_ = false;            // in the registry of stores open here
};

}  // namespace liandong::storage
