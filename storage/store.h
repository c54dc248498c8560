// The node's durable store: one LMDB environment holding the event log,
// the dedup index, the folded case states and their indexes, peer cursors,
// attachment blobs, the key directory and the node's own metadata.
//
// Databases (docs/FORMAT.md has the byte layout):
//   log          LSN (dense, this node's arrival order) -> sealed SignedEvent
//   ids          (origin, seq) -> LSN                    dedup
//   case_events  (case, LSN) -> ""                      a case's events
//   cases        case -> folded CaseState                cache, rebuildable
//   by_status, by_home, by_due                           secondary indexes
//   by_name, by_idno, by_phone, by_item                  search indexes
//                (storage/case_index.h; queried by storage/case_query.h)
//   cursors      peer code -> cursor (empty until sync)
//   blobs        chunk SHA-256 -> chunk bytes                 attachments
//   blob_have    'f' sha256 -> file record; 'w' be64(LSN) sha256 -> "" wanted;
//                'u' be64(LSN) sha256 -> "" whole, not yet known at the county
//   keys         origin code -> its first Ed25519 public key
//   keyring      code ‖ 0 ‖ key -> state of a rotated, added, retired or
//                revoked key (storage/keyring.h; a cache of the key events)
//   quarantine   (origin, seq) ‖ signature[0..8) -> an event held for
//                review: signed with a retired or revoked key
//   meta         store id, code, schema version, next seq, hlc
//   notices      kind (1) ‖ be64(version, year or hlc) ‖ be64(seq) ‖ origin -> LSN
//                (broadcasts by number; audit events by hlc)
//   arrivals     first LSN of a commit -> be64(wall-clock ms it committed);
//                an event arrived at the entry at or before its LSN
//   imports      ledger row key -> case number it was imported as
//                (`liandong import`; local only, never synced)
//
// Every batch is one write transaction committed with sync before anything
// is reported stored. The map grows by itself when full.
//
// Every method runs one LMDB transaction through one runner
// (storage/store_txn.h): a failed Status or Result keeps the cause
// (no_space, corruption, internal for an I/O error) and names the
// database, e.g. "mdb_get(keys): Input/output error"; a store failure is
// never reported as an absent key or value. The code is split by role:
// store_open.cpp (create, open), store_keys.* (key encodings),
// store_apply.cpp and store_local.cpp (applying events, through
// store_write.cpp), store_read.cpp (reads and indexes), store_sync.cpp
// (cursors, custody marks, sequence numbers), store_key_dir.cpp (the key
// directory), store_integrity.cpp (the integrity check).
//
// Thread contract: any thread may call any method. Writes are serialized by
// LMDB's writer lock (also across processes: the CLI may write while a
// daemon runs). No read transaction outlives a call.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/verify_pool.h"
#include "storage/case_fold.h"
#include "storage/case_index.h"
#include "storage/keyring.h"

namespace liandong::storage {

constexpr uint32_t kSchemaVersion = 1;
// Events stamped further ahead of this node's clock than kMaxClockSkewMs
// (protocol/hlc.h) are refused, and so are stamps outside 2020-2100.
// At most this many events are held in quarantine: past it, events of
// retired or revoked keys are refused instead (a stolen key cannot fill
// the disk through the quarantine).
constexpr std::size_t kMaxQuarantined = 10000;

struct StoreOptions {
  std::filesystem::path dir;                  // holds data.mdb and lock.mdb
  std::size_t initial_map_bytes = 64u << 20;  // grows by doubling when full
  std::size_t max_map_bytes = std::size_t{1} << 40;
  // The daemon: holds the store's daemon lock from open to close, so no
  // second daemon opens it, whatever files were deleted (store_lock.h).
  bool daemon = false;
  // Attachment chunks held may not pass this many bytes (0: no limit but
  // the disk's).
  uint64_t max_blob_bytes = 0;
};

// A local action before it has an id: the store allocates seq and hlc,
// sets id, case and home, then calls `fill` for the actor, settles and body.
//
// A re-issue (重新报送) names the event of this node it supersedes: the new
// event is a copy of that event's body (and settles), in the same case,
// with a new id and stamp; `fill` then sets the actor. The superseded
// event stays in the log and is skipped by the fold (case_fold.h).
struct LocalDraft {
  Id case_id;        // empty for `submitted` and broadcasts
  std::string home;  // for `submitted`: the case's home (default: own code)
  std::function<void(proto::Event::Builder)> fill;
  std::optional<Id> supersedes{};
  // A row of a paper ledger brought in by `liandong import`: the row's key
  // (node/ledger_import.h). Stored in `imports` with the case it made, in
  // the same transaction; a key held already refuses the draft (invalid,
  // naming the case), so a ledger imported twice is stored once.
  std::string import_key{};
};

struct StoredEvent {
  uint64_t lsn = 0;
  EventView view;
};

// quarantined: well-formed and signed, but with a retired or revoked key
// after its last valid sequence number; held in `quarantine` for review,
// not stored (a copy arriving again is quarantined again, not duplicated).
enum class Outcome : uint8_t { stored, duplicate, rejected, quarantined };

struct IngestResult {
  Outcome outcome = Outcome::rejected;
  uint64_t lsn = 0;  // where it is stored (also for duplicates)
  Status status;     // the reason, for rejected and quarantined
};

// An event held in quarantine (隔离) for review.
struct Quarantined {
  uint64_t arrival_ms = 0;
  std::string reason;
  std::string sealed;  // the event as it arrived
};

// Custody bits of a file: the levels known to hold all of it.
constexpr uint8_t kHeldCounty = 1, kHeldTownship = 2, kHeldVillage = 4;

// One attachment file as this store knows it (`blob_have`).
struct FileRecord {
  std::string sha256;  // 32 bytes
  uint64_t size = 0;
  std::vector<std::string> chunks;  // 32-byte chunk hashes, in order
  std::string origin;               // origin of the first event naming it (here: own code)
  uint64_t lsn = 0;                 // that event's LSN (0: made here, before its event)
  bool whole = false;               // every chunk held
  uint8_t levels = 0;               // kHeld* bits
};

struct CaseFilter {
  std::optional<CaseStatus> status;
  bool conflict_only = false;
  std::string home_prefix;  // only cases homed under this code
  std::size_t limit = 0;    // 0: all
};

// Writes to the `cursors` database (sync bookkeeping: peer cursors, custody
// marks) inside the transaction that stores a batch, so data and cursor
// always agree after a crash. Valid only during the `also` callback.
class SyncWriter {
 public:
  void put(std::string_view key, std::string_view value);
  void del(std::string_view key);
  // The last LSN of the log, this transaction's events included.
  uint64_t last_lsn() const { return last_lsn_; }

 private:
  friend class Store;
  SyncWriter(void* txn, unsigned dbi, uint64_t last_lsn)
      : txn_(txn), dbi_(dbi), last_lsn_(last_lsn) {}
  void* txn_;
  unsigned dbi_;
  uint64_t last_lsn_;
};

struct IngestOptions {
  VerifyPool* pool = nullptr;  // signature checks run here if given
  // Asked for each well-formed event before its signature is checked; a
  // failed Status rejects the event with that reason (e.g. a child sending
  // an event about a case outside its subtree).
  std::function<Status(const EventView&)> authorize;
  // Runs inside the write transaction that stores the batch, after its
  // events; always runs (also when nothing new is stored). Throwing aborts
  // the transaction.
  std::function<void(SyncWriter&)> also;
};

// A broadcast notice (catalog_published, calendar_published) held here.
struct Notice {
  uint64_t lsn = 0;
  std::string origin;    // the issuer (e.g. the county)
  uint64_t number = 0;   // catalog version or calendar year
  std::string document;  // the published document's bytes
};

struct StoreStats {
  uint64_t events = 0, cases = 0, last_lsn = 0, next_seq = 1;
  std::size_t map_bytes = 0;
  std::size_t used_bytes = 0;  // pages in use up to the last one written, in bytes
};

class Store {
 public:
  // Makes a new store for node `code` in an empty directory.
  static Result<std::unique_ptr<Store>> create(const StoreOptions& opts, std::string_view code);
  // Opens an existing store; not_found if there is none.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& opts);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& code() const { return code_; }
  const std::string& store_id() const { return store_id_; }

  // The key directory used to check signatures: each origin's first key
  // (from configs and handshakes)...
  Status put_key(std::string_view code, const PublicKey& key);
  // nullopt: no first key of `code` is held. A failed Result is a store
  // failure (I/O, corruption), never "no key".
  Result<std::optional<PublicKey>> key(std::string_view code) const;
  // ...and the keys key events named (keyring.h).
  KeyRing keyring() const;
  // The key an event's signature is checked with: the signer its envelope
  // names, else the origin's first key; nullopt when no key of the origin
  // is known here at all. Whether the named key may sign for the origin is
  // judged when the event is applied. A failed Result is a store failure.
  Result<std::optional<PublicKey>> signing_key_of(const EventView& ev) const;
  // Every first key held: (code, key), by code.
  Result<std::vector<std::pair<std::string, PublicKey>>> first_keys() const;
  // The events held in quarantine, by origin and seq.
  Result<std::vector<Quarantined>> quarantined() const;

  // Local actions: each draft gets the next own sequence number, is sealed
  // with `key`, checked against the case state machine and stored; all in
  // one transaction. A refused draft stores nothing and uses no sequence
  // number; the others are unaffected.
  //
  // Clock rules (protocol/hlc.h): every draft is refused (invalid, with a
  // Chinese-and-English reason) while the wall clock is outside 2020-2100
  // or, as learned from the parent at the last handshake of this boot, off
  // by more than kMaxClockSkewMs. A persisted stamp far ahead of the clock
  // is not inherited; an event in a case is stamped after every event of
  // the case the fold uses (a case holding one stamped far ahead is refused
  // until that event is re-issued). The persisted stamp moves only when an
  // event is stored.
  std::vector<Result<StoredEvent>> append_local(std::span<const LocalDraft> drafts,
                                                const SigningKey& key);
  Result<StoredEvent> append_local(const LocalDraft& draft, const SigningKey& key);

  // Stores events whose signatures were already checked (against
  // signing_key_of): judges the key against the key directory (refused if
  // unknown, quarantined if retired or revoked), dedup, append, fold,
  // index, in one transaction committed with sync. A failed Status means
  // nothing was stored (e.g. no_space).
  Result<std::vector<IngestResult>> apply(std::span<const EventView* const> batch,
                                          const std::function<void(SyncWriter&)>& also = {});

  // The full ingest path for outside bytes: parse with limits, check each
  // signature against the key directory (on `pool` if given), then apply.
  // A failed Status is a store failure (nothing was stored); events refused
  // for their own reasons are `rejected` results.
  Result<std::vector<IngestResult>> ingest(std::span<const std::string> sealed,
                                           VerifyPool* pool = nullptr);
  Result<std::vector<IngestResult>> ingest(std::span<const std::string> sealed,
                                           const IngestOptions& opts);

  // Calls fn(lsn, sealed bytes) for the log entries after `after`, in LSN
  // order, until fn returns false or `max_entries` were visited. The bytes
  // are valid only during the call.
  Status scan_log(uint64_t after, std::size_t max_entries,
                  const std::function<bool(uint64_t, std::string_view)>& fn) const;

  // Sync bookkeeping in the `cursors` database (keys are the daemon's).
  Result<std::optional<std::string>> sync_get(std::string_view key) const;
  // Written in its own transaction, committed with sync.
  Status sync_put(std::string_view key, std::string_view value);
  // The entry with the greatest key <= `key` among those starting with `prefix`.
  Result<std::optional<std::pair<std::string, std::string>>> sync_floor(std::string_view prefix,
                                                                        std::string_view key) const;
  // Every entry starting with `prefix`, in key order.
  Result<std::vector<std::pair<std::string, std::string>>> sync_scan(std::string_view prefix) const;

  // Removes the given keys, in one transaction committed with sync.
  Status sync_erase(std::span<const std::string> keys);

  // What this node learned of its parent's clock at the last handshake
  // (meta; committed with sync). The writer's clock guard reads it.
  Status note_parent_clock(const ParentClock& c);
  // nullopt: none noted. corruption when the stored entry is malformed.
  Result<std::optional<ParentClock>> parent_clock() const;

  // The highest sequence number of `origin` held here (0: none).
  Result<uint64_t> max_seq(std::string_view origin) const;
  // Raises this node's next own sequence number to at least `next` (a peer
  // holds our events up to next - 1: this store was restored from an old
  // copy, and those numbers must never be handed out again).
  Status reserve_seq(uint64_t next);

  Result<std::optional<CaseState>> get_case(const Id& id) const;
  Result<std::vector<CaseState>> list_cases(const CaseFilter& filter) const;

  // Visits, in one read transaction, the cases `index` files under `part`
  // (search_part(); for `status`, the status byte, 0xff for conflict; for
  // `cases`, ignored: every case), in case-id order, from the first case
  // after `after` (all when nullopt), until `fn` returns false. Memory is
  // one case at a time. Paged queries are in storage/case_query.h.
  Status visit_cases(CaseIndex index, std::string_view part, const std::optional<Id>& after,
                     const std::function<bool(CaseState&&)>& fn) const;
  // The key prefix `value` is filed under in a search index of this store.
  std::optional<std::string> search_part(CaseIndex index, std::string_view value) const;
  // The origins of the cases held here, in case-id order (one seek each).
  Result<std::vector<std::string>> case_origins() const;
  // The case's events in fold order.
  Result<std::vector<StoredEvent>> case_events(const Id& id) const;
  Result<std::optional<std::string>> read_log(uint64_t lsn) const;
  Result<std::optional<uint64_t>> find(const Id& id) const;
  Result<StoreStats> stats() const;
  // For each ledger row key (LocalDraft::import_key), the case number it
  // was imported as, or nullopt (also for an empty key).
  Result<std::vector<std::optional<std::string>>> imported(std::span<const std::string> keys) const;

  // The broadcast notices of `kind` held here, from the `notices` index (no
  // log scan), ordered by number, then the issuer's sequence: every
  // publication is listed, so of one origin's same number (a corrected
  // calendar) the last listed is the latest. invalid for a kind that is not
  // a broadcast.
  Result<std::vector<Notice>> notices(EventKind kind) const;

  // The audit events held here (this node's and its subtree's) with an hlc
  // at or after `since_hlc`, in hlc order, from the `notices` index.
  Result<std::vector<StoredEvent>> audit_events(uint64_t since_hlc = 0) const;

  // When this store committed the event at `lsn` (wall-clock ms); nullopt
  // for an LSN not held, or stored before arrival times were recorded;
  // corruption for a malformed entry.
  Result<std::optional<uint64_t>> arrival_ms(uint64_t lsn) const;

  // Whether the file system holding the store has next to no room left (a
  // few MiB): a commit that needs new pages would fail. LMDB may still
  // commit small transactions into pages it freed earlier.
  bool nearly_full() const;

  // Since when (wall-clock ms) the store is full: a write (by any process,
  // read from the marker file store/full when the store opens) was refused
  // for lack of space, and none has committed since. 0: not full.
  uint64_t full_since_ms() const;

  // Re-derives every index and cached state from the log and compares:
  // log <-> ids <-> case_events, cases == fold(log), by_* == f(cases),
  // notices == f(broadcasts, audit and key events in log), keyring ==
  // f(key events in log), arrivals only for LSNs in the log.
  Status check_integrity() const;

  // ---- attachments (store_blobs.cpp; docs/FORMAT.md) ----
  // Files are cut into chunks of kChunkBytes, each stored once under its
  // SHA-256 in `blobs` (the same scan in five cases is stored once); each
  // file has a record in `blob_have`. Storing an event that names a file
  // not held whole records it as wanted, in the event's transaction, so
  // the pull resumes after any restart.

  // Stores a file made here (intake, a decision's scan): chunks and a
  // whole record. no_space when the attachment store's limit
  // (StoreOptions::max_blob_bytes) would be passed; nothing is stored then.
  Result<FileRecord> put_file(std::string_view bytes);
  // The record of a file, by its SHA-256 (32 bytes).
  Result<std::optional<FileRecord>> file(std::string_view sha256) const;
  // The whole file's bytes; nullopt while not every chunk is held.
  Result<std::optional<std::string>> read_file(std::string_view sha256) const;
  // A chunk's bytes by its hash; nullopt if not held.
  Result<std::optional<std::string>> chunk(std::string_view hash) const;
  // The chunks of a wanted file not held yet, in order (at most `max`).
  Result<std::vector<std::string>> missing_chunks(const FileRecord& f, std::size_t max) const;
  // Stores a pulled chunk of `file` (a wanted file naming `hash`): invalid
  // if the bytes do not hash to `hash` or the file does not name it,
  // no_space past the limit. When it completes the file, the record is
  // marked whole and `from_levels` (the sender's level bits) are added;
  // returns whether it did.
  Result<bool> put_chunk(std::string_view file, std::string_view hash, std::string_view bytes,
                         uint8_t from_levels);
  // Wanted files (not held whole), oldest referencing event first.
  Result<std::vector<FileRecord>> wanted(std::size_t max) const;
  // Whole files not yet known to be held at the county, oldest first.
  Result<std::vector<FileRecord>> unconfirmed(std::size_t max) const;
  // Adds level bits to files' records (custody learned from a peer);
  // unknown files are skipped.
  Status add_file_levels(std::span<const std::pair<std::string, uint8_t>> files);
  // Bytes of chunks held.
  Result<uint64_t> blob_bytes() const;
  // Bytes more the attachment limit allows; nullopt when there is no limit.
  Result<std::optional<uint64_t>> blob_room() const;

  struct Impl;  // LMDB handles; defined in store_impl.h

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string code_, store_id_;
};

}  // namespace liandong::storage
