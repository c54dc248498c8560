// Thin RAII wrappers over LMDB used only inside storage/.
//
// Failures inside a transaction throw MdbError, naming the operation and the
// database ("mdb_get(keys): Input/output error"). The transaction runner
// (storage/store_txn.h) catches it and turns it into a Status; nothing LMDB
// throws leaves storage/.
#pragma once

#include <lmdb.h>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace liandong::storage {

// The most databases one environment opens (mdb_env_set_maxdbs).
constexpr unsigned kMaxDbs = 32;

// The name of each open database, by DBI handle, so an error can say which
// database failed. nullptr for a handle not opened through the table.
using DbNames = std::array<const char*, kMaxDbs>;

struct MdbError : std::runtime_error {
  // `what` is "<op>(<db>): <LMDB message>", or "<op>: <message>" without a db.
  MdbError(int code, const std::string& op, const char* db = nullptr)
      : std::runtime_error(describe(code, op, db)), rc(code) {}
  int rc;

  static std::string describe(int code, const std::string& op, const char* db) {
    std::string s = op;
    if (db != nullptr) s.append("(").append(db).append(")");
    return s + ": " + mdb_strerror(code);
  }
};

inline void mdb_check(int rc, const char* op, const char* db = nullptr) {
  if (rc != MDB_SUCCESS) throw MdbError(rc, op, db);
}

// Stored bytes that cannot be what was written: thrown as MDB_CORRUPTED, so
// the caller sees a corruption Status naming `what`.
[[noreturn]] inline void throw_corrupt(const std::string& what) {
  throw MdbError(MDB_CORRUPTED, what);
}

inline MDB_val as_val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view as_sv(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// A transaction that aborts unless committed. `names` (may be null) names
// the databases in errors; it must outlive the transaction.
class Txn {
 public:
  Txn(MDB_env* env, bool write, const DbNames* names = nullptr) : write_(write), names_(names) {
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
  // The name of database `dbi` (nullptr if unknown).
  const char* name(MDB_dbi dbi) const {
    return names_ != nullptr && dbi < kMaxDbs ? (*names_)[dbi] : nullptr;
  }
  // Throws MdbError naming `op` and database `dbi` unless rc is MDB_SUCCESS.
  void check(int rc, const char* op, MDB_dbi dbi) const {
    if (rc != MDB_SUCCESS) throw MdbError(rc, op, name(dbi));
  }

  // Returns false when the key is absent.
  bool get(MDB_dbi dbi, std::string_view key, std::string_view* out) const {
    MDB_val k = as_val(key), v;
    const int rc = mdb_get(txn_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "mdb_get", dbi);
    *out = as_sv(v);
    return true;
  }
  void put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0) {
    MDB_val k = as_val(key), v = as_val(value);
    check(mdb_put(txn_, dbi, &k, &v, flags), "mdb_put", dbi);
  }
  // Puts unless the key is held; returns false (and `*had`, if given, the
  // value held) when it is.
  bool put_new(MDB_dbi dbi, std::string_view key, std::string_view value,
               std::string_view* had = nullptr) {
    MDB_val k = as_val(key), v = as_val(value);
    const int rc = mdb_put(txn_, dbi, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
      if (had != nullptr) *had = as_sv(v);
      return false;
    }
    check(rc, "mdb_put", dbi);
    return true;
  }
  // Returns false when the key was absent.
  bool del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = as_val(key);
    const int rc = mdb_del(txn_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    check(rc, "mdb_del", dbi);
    return true;
  }
  uint64_t count(MDB_dbi dbi) const {
    MDB_stat st;
    check(mdb_stat(txn_, dbi, &st), "mdb_stat", dbi);
    return st.ms_entries;
  }

 private:
  MDB_txn* txn_ = nullptr;
  bool write_ = false;
  bool wrote_ = false;
  const DbNames* names_ = nullptr;
};

// A cursor over one database, closed with its scope.
class Cursor {
 public:
  Cursor(const Txn& txn, MDB_dbi dbi) : db_(txn.name(dbi)) {
    mdb_check(mdb_cursor_open(txn.get(), dbi, &c_), "mdb_cursor_open", db_);
  }
  ~Cursor() { mdb_cursor_close(c_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions with `op`; false at the end.
  bool move(MDB_cursor_op op, std::string_view* key = nullptr, std::string_view* value = nullptr) {
    MDB_val k{0, nullptr}, v{0, nullptr};
    const int rc = mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_cursor_get", db_);
    if (key) *key = as_sv(k);
    if (value) *value = as_sv(v);
    return true;
  }
  // First key >= `from`.
  bool seek(std::string_view from, std::string_view* key, std::string_view* value) {
    MDB_val k = as_val(from), v{0, nullptr};
    const int rc = mdb_cursor_get(c_, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return false;
    mdb_check(rc, "mdb_cursor_get", db_);
    *key = as_sv(k);
    *value = as_sv(v);
    return true;
  }

 private:
  MDB_cursor* c_ = nullptr;
  const char* db_ = nullptr;
};

}  // namespace liandong::storage
