// Copying a store while it is in use (`liandong backup`), and reading such
// a copy (`liandong restore` checks it) without opening it as a store.
//
// Thread contract: plain functions over files; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "protocol/status.h"

namespace liandong::storage {

// What a store file holds, read in one read transaction.
struct StoreFileInfo {
  std::string code, store_id;
  uint64_t schema = 0;    // the store's schema version (store.h kSchemaVersion: this release's)
  uint64_t events = 0;    // entries of the log
  uint64_t last_lsn = 0;  // the log's end
  uint64_t cases = 0;
  uint64_t file_bytes = 0;  // size of data.mdb
};

// Writes a consistent, compacted copy of the store in `store_dir` (LMDB's
// copy with MDB_CP_COMPACT, in one read transaction) to the new file
// `file` (0600; refused if it exists), synced before it returns. Runs
// beside a daemon writing the store: the process opens the environment
// read-only as a user of the store (store_lock.h), once; it must not have
// the store open as a Store too (LMDB: one environment per process). On
// failure the file is removed: no_space when the disk filled, invalid when
// `file` cannot be made, not_found when there is no store.
Status copy_store_compacted(const std::filesystem::path& store_dir,
                            const std::filesystem::path& file);

// Whether any process has the store in `dir` open (byte 0 of store_lock.h),
// for a command that replaces the store's files (`liandong restore`): it
// must find none. false when there is no data.mdb. (store_lock.cpp)
Result<bool> store_in_use(const std::filesystem::path& dir);

// Reads data.mdb in `dir` read-only and without a lock file (a copy no
// process has open). not_found when there is no data.mdb; corruption when
// it is cut short (check_store_file) or not an LMDB file, or holds no
// store metadata.
Result<StoreFileInfo> read_store_file(const std::filesystem::path& dir);

}  // namespace liandong::storage
