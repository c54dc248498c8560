// Store::Impl: the LMDB environment, its databases and the state the
// store's files share (store_open.cpp opens it; store_write.cpp applies
// events; store_read.cpp reads; store_sync.cpp, store_key_dir.cpp and
// store_integrity.cpp the rest). Used only inside storage/.
//
// Every transaction runs through `txns` (storage/store_txn.h). The helpers
// below run inside a transaction the caller holds and throw MdbError (LMDB
// failures, or MDB_CORRUPTED for stored bytes found malformed), which the
// runner turns into a Status.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/lmdb_env.h"
#include "storage/store.h"
#include "storage/store_keys.h"
#include "storage/store_lock.h"
#include "storage/store_txn.h"

namespace liandong::storage {

class TouchedCases;
struct Touched;

uint64_t wall_ms();

struct Store::Impl {
  explicit Impl(const StoreOptions& o) : opts(o), txns(o.dir, o.max_map_bytes) {}
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  StoreOptions opts;
  TxnRunner txns;
  MDB_env* env = nullptr;
  StoreLock store_lock;  // released before the environment closes (store_lock.h)
  MDB_dbi log = 0, ids = 0, case_events = 0, cases = 0, by_status = 0, by_home = 0, by_due = 0,
          cursors = 0, blobs = 0, blob_have = 0, keys = 0, meta = 0, notices = 0, arrivals = 0,
          keyring = 0, quarantine = 0, receipts = 0, imports = 0;
  // search (storage/case_index.h)
  MDB_dbi by_name = 0, by_idno = 0, by_phone = 0, by_item = 0;
  SearchSecret search_secret{};  // keys the hashed search entries
  std::string code;
  // First keys read so far (they are only ever added or replaced by
  // put_key in this process, which updates the cache).
  mutable std::mutex keys_mu;
  mutable std::map<std::string, PublicKey> key_cache;
  // The `keyring` database in memory; replaced (under keys_mu) by the
  // write transaction that changes it, just before it commits.
  // `ring_gen`: the meta kMetaKeyringGen it was read at.
  std::shared_ptr<const KeyRing> ring = std::make_shared<KeyRing>();
  uint64_t ring_gen = 0;

  std::shared_ptr<const KeyRing> ring_now() const {
    std::lock_guard lock(keys_mu);
    return ring;
  }
  uint64_t ring_gen_now() const {
    std::lock_guard lock(keys_mu);
    return ring_gen;
  }
  void set_ring(std::shared_ptr<const KeyRing> r, uint64_t gen) {
    std::lock_guard lock(keys_mu);
    ring = std::move(r);
    ring_gen = gen;
  }
  // The `keyring` database as `txn` sees it.
  KeyRing load_ring(const Txn& txn) const;

  // The index databases in IndexKeys order (store_keys.h).
  MDB_dbi index_dbi(int which) const {
    const std::array<MDB_dbi, kIndexCount> all = {by_status, by_home,  by_due, by_name,
                                                  by_idno,   by_phone, by_item};
    return all[which];
  }

  // ---- reads inside a transaction (store_read.cpp) ----
  uint64_t last_lsn(const Txn& txn) const;
  // A meta entry holding a be64; `dflt` when absent, corruption when
  // malformed.
  uint64_t meta_u64(const Txn& txn, const char* key, uint64_t dflt) const;
  std::optional<CaseState> load_case(const Txn& txn, const Id& id) const;
  std::optional<CaseState> load_case(const Txn& txn, const IdKey& key) const;
  // The stored event at `lsn`, which `who` (a database) names: corruption
  // when the log lacks it or it does not parse.
  EventView load_event(const Txn& txn, uint64_t lsn, const char* who) const;
  // The case's events in fold order.
  std::vector<StoredEvent> load_case_events(const Txn& txn, const Id& id) const;
  // The case a receipt number of `origin` was used for, if any.
  std::optional<std::string> receipt_case(const Txn& txn, std::string_view origin,
                                          std::string_view receipt_no) const;
  // The first key of `origin` held in `keys` (corruption if malformed).
  std::optional<PublicKey> first_key(const Txn& txn, std::string_view origin) const;

  // ---- writes inside a write transaction (store_write.cpp) ----
  // Puts id -> `lsn` into `ids` unless the id is there already; then
  // returns the LSN it has. One B-tree descent for the dedup check and the
  // insert.
  std::optional<uint64_t> claim_id(Txn& txn, const IdKey& key, uint64_t lsn);
  // Folds `ev` (already in case_events) into `st`, the state of its case
  // with every earlier-arrived event.
  void fold_in(const Txn& txn, CaseState& st, const EventView& ev) const;
  // Why this node may not stamp events now ("" if it may): its wall clock
  // is outside the stamp range, or off its parent's by more than
  // kMaxClockSkewMs (as learned at the last handshake of this boot).
  std::string clock_fault(const Txn& txn, uint64_t wall) const;
  // The event of this node a re-issue supersedes: held here, a case
  // event, not superseded already.
  Result<EventView> load_superseded(const Txn& txn, const Id& id, const std::string& own) const;
  // The case's state folded without event `skip`.
  std::optional<CaseState> fold_without(const Txn& txn, const Id& case_id, const Id& skip) const;
  // Stores one checked event in `txn` at `lsn`; `id_claimed`: the caller
  // has put it into `ids` already (claim_id). `touched` collects the case
  // states changed in this transaction, written by write_touched().
  // `may_defer`: a new case's lookup may wait for write_touched (see
  // Touched); callers that must see the stored state now pass false.
  void store_one(Txn& txn, const EventView& ev, uint64_t lsn, TouchedCases& touched,
                 bool id_claimed, bool may_defer);
  // Writes each touched case's state, and moves its index entries where
  // they changed.
  void write_touched(Txn& txn, TouchedCases& touched);
  // Records when this transaction's events arrived: one entry, at the first
  // LSN it stored (every event of a commit arrives at the same moment).
  void put_arrival(Txn& txn, uint64_t first_lsn, uint64_t last_lsn);
  // Indexes a broadcast or an audit event (each event once: ids dedups
  // before this).
  void put_notice(Txn& txn, const EventView& ev, const LsnKey& lsn_key);
  // Indexes a fee's receipt number under its origin, naming the case it
  // was first used for. A number used again (only possible in events
  // received from nodes that did not check) keeps its first case.
  void put_receipt(Txn& txn, const EventView& ev);
  // Holds an event in quarantine (once: a copy arriving again is left).
  // Returns false, holding nothing, when the quarantine is full.
  bool hold(Txn& txn, const EventView& ev, const std::string& reason);

  // ---- attachments (store_blobs.cpp) ----
  std::optional<FileRecord> load_file(const Txn& txn, std::string_view sha) const;
  // Writes a file's record and moves its entries in the want ('w') and
  // unconfirmed ('u') lists; `was` is the record before.
  void save_file(Txn& txn, const FileRecord& f, const std::optional<FileRecord>& was);
  bool all_chunks_held(const Txn& txn, const FileRecord& f) const;
  // Records the files `ev` names and this store does not know as wanted.
  void want_files(Txn& txn, const EventView& ev, uint64_t lsn);

 private:
  void start_from(Touched& t, std::optional<CaseState> before) const;
};

}  // namespace liandong::storage
