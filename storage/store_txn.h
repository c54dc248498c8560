// The store's one transaction runner: every read and every write of the
// store goes through TxnRunner::read or TxnRunner::write, which returns a
// Status or Result instead of letting an LMDB exception escape.
//
// What it adds to a bare LMDB transaction:
//   - the map grows by doubling when a write finds it full (up to the
//     store's limit), and a size another process set is adopted;
//   - any LMDB failure becomes a Status that keeps its cause and names the
//     operation and the database: no_space (map full, ENOSPC, EDQUOT, or an
//     EIO on a file system that is out of room), corruption (MDB_CORRUPTED,
//     MDB_PAGE_NOTFOUND, MDB_INVALID, or stored bytes found malformed), and
//     internal for the rest (EIO, MDB_PANIC, MDB_READERS_FULL, ...). None is
//     ever reported as "absent";
//   - a write refused for lack of space marks the store full (the marker
//     file store/full); the first write that commits clears the mark.
//
// Thread contract: any thread may run transactions at once; growing the map
// waits until no transaction of this process is open (LMDB requires it).
// A write function commits itself (txn.commit()); returning without a
// commit aborts.
#pragma once

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <type_traits>

#include "protocol/status.h"
#include "storage/lmdb_env.h"

namespace liandong::storage {

// The Status an LMDB failure becomes; `dir` (may be empty) tells an EIO
// from a full disk.
Status to_status(const MdbError& e, const std::filesystem::path& dir);

// Whether the file system holding `dir` has (next to) no room left for a
// commit.
bool disk_full(const std::filesystem::path& dir);

// What a transaction function's return type becomes: Status stays Status,
// Result<T> stays Result<T>, any other T becomes Result<T>.
template <typename R>
struct TxnOutcome {
  using type = Result<R>;
};
template <>
struct TxnOutcome<Status> {
  using type = Status;
};
template <typename T>
struct TxnOutcome<Result<T>> {
  using type = Result<T>;
};

class TxnRunner {
 public:
  // `dir` holds the store (for the full marker; may be empty: no marker).
  TxnRunner(std::filesystem::path dir, std::size_t max_map_bytes)
      : dir_(std::move(dir)), max_map_bytes_(max_map_bytes) {}
  TxnRunner(const TxnRunner&) = delete;
  TxnRunner& operator=(const TxnRunner&) = delete;

  // Set once the environment is open, before the first transaction.
  void attach(MDB_env* env);
  MDB_env* env() const { return env_; }
  // Names database `dbi` in errors (`name` must be a string literal).
  void name(MDB_dbi dbi, const char* name) {
    if (dbi < kMaxDbs) names_[dbi] = name;
  }
  const DbNames& names() const { return names_; }
  std::size_t map_bytes() const { return map_bytes_.load(); }

  // Runs fn(Txn&) in a read-only transaction.
  template <typename Fn>
  auto read(Fn&& fn) const {
    return run(false, std::forward<Fn>(fn));
  }
  // Runs fn(Txn&) in a write transaction; fn commits.
  template <typename Fn>
  auto write(Fn&& fn) const {
    return run(true, std::forward<Fn>(fn));
  }

  // Since when (wall ms) a write was refused for lack of space; 0: not.
  uint64_t full_since_ms() const { return full_since_.load(); }
  // Reads the marker file a process left when its write was refused.
  void load_full_marker();

 private:
  template <typename Fn>
  auto run(bool write, Fn&& fn) const ->
      typename TxnOutcome<std::invoke_result_t<Fn&, Txn&>>::type {
    using R = std::invoke_result_t<Fn&, Txn&>;
    static_assert(!std::is_void_v<R>, "a transaction function returns a value or a Status");
    for (int attempt = 0;; ++attempt) {
      std::optional<MdbError> full;
      try {
        std::shared_lock lock(resize_mu_);
        Txn txn(env_, write, &names_);
        R r = fn(txn);
        if (txn.wrote()) note_room();
        return r;
      } catch (const MdbError& e) {
        if (attempt < kMaxAttempts && (e.rc == MDB_MAP_RESIZED || e.rc == MDB_MAP_FULL)) {
          full.emplace(e);
        } else {
          if (write && e.rc != MDB_MAP_RESIZED && to_status(e, dir_).code() == Code::no_space)
            note_full();
          return to_status(e, dir_);
        }
      }
      // Outside the transaction: grow the map, or adopt another's size.
      if (Status s = resize(*full); !s) {
        if (write && s.code() == Code::no_space) note_full();
        return s;
      }
    }
  }

  // After MDB_MAP_RESIZED: adopts the size another process set. After
  // MDB_MAP_FULL: doubles the map, or `e` as no_space past the limit.
  Status resize(const MdbError& e) const;
  void note_full() const;
  void note_room() const;

  static constexpr int kMaxAttempts = 40;
  MDB_env* env_ = nullptr;
  DbNames names_{};
  std::filesystem::path dir_;
  std::size_t max_map_bytes_;
  mutable std::atomic<std::size_t> map_bytes_{0};
  // Taken shared by every transaction, exclusively to resize the map.
  mutable std::shared_mutex resize_mu_;
  mutable std::atomic<uint64_t> full_since_{0};
};

}  // namespace liandong::storage
