// Thin RAII wrappers over LMDB used only inside storage/.
//
// Failures inside a transaction throw MdbError, which the Store catches at
// its public boundary and turns into a Status; nothing LMDB throws leaves
// storage/.
#pragma once

#include <lmdb.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace liandong::storage {

struct MdbError : std::runtime_error {
  MdbError(int code, const std::string& where)
      : std::runtime_error(where + ": " + mdb_strerror(code)), rc(code) {}
  int rc;
};

inline void mdb_check(int rc, const char* where) {
  if (rc != MDB_SUCCESS) throw MdbError(rc, where);
}

inline MDB_val as_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view as_sv(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// A transaction that aborts unless committed.
class Txn {
 public:
  Txn(MDB_env* env, bool write) : write_(write) {
    mdb_check(mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_), "mdb_txn_begin");
  }
  ~Txn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  void commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    const size_t id = mdb_txn_id(t);
    MDB_env* env = mdb_txn_env(t);
    mdb_check(mdb_txn_commit(t), "mdb_txn_commit");
    // A write transaction that changed nothing commits without writing.
    MDB_envinfo info;
    wrote_ = write_ && mdb_env_info(env, &info) == MDB_SUCCESS && info.me_last_txnid >= id;
  }
  // Whether commit() wrote a new version of the store to disk.
  bool wrote() const { return wrote_; }
  MDB_txn* get() const { return txn_; }

  // Returns false when the key is absent.
  bool get(MDB_dbi dbi, std::string_view key, std::string_view* out) const {
    MDB_val k = as_val(key), v;
    const int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_get");
    *out = as_sv(v);
    return true;
  }
  void put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0) {
    MDB_val k = as_val(key), v = as_val(value);
    mdb_check(mdb_put(txn_, dbi, &k, &v, flags), "mdb_put");
  }
  // Returns false when the key was absent.
  bool del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = as_val(key);
    const int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_del");
    return true;
  }
  uint64_t count(MDB_dbi dbi) const {
    MDB_stat st;
    mdb_check(mdb_stat(txn_, dbi, &st), "mdb_stat");
    return st.ms_entries;
  }

 private:
  MDB_txn* txn_ = nullptr;
  bool write_ = false;
  bool wrote_ = false;
};

// A cursor over one database, closed with its scope.
class Cursor {
 public:
  Cursor(const Txn& txn, MDB_dbi dbi) { mdb_check(mdb_cursor_open(txn.get(), dbi, &c_), "cursor"); }
  ~Cursor() { mdb_cursor_close(c_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions with `op`; false at the end.
  bool move(MDB_cursor_op op, std::string_view* key = nullptr, std::string_view* value = nullptr) {
    MDB_val k{0, nullptr}, v{0, nullptr};
    const int rc = mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_cursor_get");
    if (key) *key = as_sv(k);
    if (value) *value = as_sv(v);
    return true;
  }
  // First key >= `from`.
  bool seek(std::string_view from, std::string_view* key, std::string_view* value) {
    MDB_val k = as_val(from), v{0, nullptr};
    const int rc = mdb_cursor_get(c_, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_cursor_get");
    *key = as_sv(k);
    *value = as_sv(v);
    return true;
  }

 private:
  MDB_cursor* c_ = nullptr;
};

}  // namespace liandong::storage
