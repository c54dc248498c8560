#include "storage/store.h"

#include <capnp/message.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <shared_mutex>
#include <unordered_map>

#include "protocol/hlc.h"
#include "storage/authority.h"
#include "storage/case_index.h"
#include "storage/fees.h"
#include "storage/lmdb_env.h"
#include "storage/own_key.h"
#include "storage/store_check.h"
#include "storage/store_lock.h"

namespace liandong::storage {

namespace {

constexpr const char* kMetaCode = "code";
constexpr const char* kMetaStoreId = "store_id";
constexpr const char* kMetaSchema = "schema";
constexpr const char* kMetaNextSeq = "next_seq";
constexpr const char* kMetaHlc = "hlc";
constexpr const char* kMetaParentClock = "parent_clock";
constexpr const char* kMetaSearchKey = "search_key";
constexpr uint8_t kConflictStatusKey = 0xff;

std::string be64(uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}

void write_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[i] = static_cast<char>(v & 0xff);
}

// Key bytes built on the stack, so the write path allocates nothing per key.
// LsnKey is be64(lsn); IdKey is id_key(id) (origin NUL-padded to 12 bytes,
// then the sequence number big-endian).
struct LsnKey {
  explicit LsnKey(uint64_t lsn) { write_be64(bytes.data(), lsn); }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  std::array<char, 8> bytes;
};

struct IdKey {
  explicit IdKey(const Id& id) {
    bytes.fill('\0');
    id.origin.copy(bytes.data(), kMaxCodeLen);
    write_be64(bytes.data() + kMaxCodeLen, id.seq);
  }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  bool operator==(const IdKey&) const = default;
  std::array<char, kIdKeyLen> bytes;
};

struct IdKeyHash {
  std::size_t operator()(const IdKey& k) const { return std::hash<std::string_view>()(k.view()); }
};

// case_events key: (case, LSN).
struct CaseEventKey {
  CaseEventKey(const IdKey& c, const LsnKey& lsn) {
    std::memcpy(bytes.data(), c.bytes.data(), kIdKeyLen);
    std::memcpy(bytes.data() + kIdKeyLen, lsn.bytes.data(), 8);
  }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  std::array<char, kIdKeyLen + 8> bytes;
};

// notices key: kind (1) ‖ be64(version or year) ‖ be64(seq) ‖ origin code.
// The seq keeps every publication: a county that republishes a corrected
// calendar for the same year adds an entry after the first (readers take the
// latest).
std::string notice_prefix(EventKind kind) {
  return std::string(1, static_cast<char>(static_cast<uint8_t>(kind)));
}

std::string notice_key(EventKind kind, uint64_t number, uint64_t seq, std::string_view origin) {
  std::string k = notice_prefix(kind);
  put_be64(k, number);
  put_be64(k, seq);
  k.append(origin);
  return k;
}

// The catalog version or calendar year a broadcast carries; an audit or
// key event's hlc (so the audit trail reads in time order).
uint64_t notice_number(const EventView& ev) {
  auto body = ev.event().getBody();
  if (body.isCatalogPublished()) return body.getCatalogPublished().getVersion();
  if (body.isCalendarPublished()) return body.getCalendarPublished().getYear();
  if (body.isRosterPublished()) return body.getRosterPublished().getVersion();
  if (body.isDivisionsPublished()) return body.getDivisionsPublished().getVersion();
  if (ev.kind() == EventKind::audit || ev.kind() == EventKind::key_rotated ||
      ev.kind() == EventKind::keys_published)
    return ev.hlc();
  return 0;
}

std::string notice_key(const EventView& ev) {
  return notice_key(ev.kind(), notice_number(ev), ev.id().seq, ev.id().origin);
}

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool open_case(CaseStatus s) {
  return s != CaseStatus::decided && s != CaseStatus::delivered && s != CaseStatus::closed &&
         s != CaseStatus::withdrawn && s != CaseStatus::incomplete;
}

// The index entries a case state implies, one per index in index_dbi()
// order (by_status, by_home, by_due, then the search indexes by_name,
// by_idno, by_phone, by_item of storage/case_index.h); an empty key means
// no entry there.
constexpr int kIndexCount = 7;
using IndexKeys = std::array<std::string, kIndexCount>;

// The search indexes in index_dbi() order from 3.
constexpr std::array<CaseIndex, 4> kSearchIndexes = {CaseIndex::name, CaseIndex::id_number,
                                                     CaseIndex::phone, CaseIndex::item};

// The value of `st` a search index files it under.
std::string_view search_value(const CaseState& st, CaseIndex index) {
  switch (index) {
    case CaseIndex::name:
      return st.applicant_name;
    case CaseIndex::id_number:
      return st.applicant_id;
    case CaseIndex::phone:
      return st.applicant_phone;
    case CaseIndex::item:
      return st.item_code;
    default:
      return {};
  }
}

// Fills `out` (reusing its buffers) with the index entries of `st`;
// `secret` keys the hashed search entries.
void index_keys(const CaseState& st, const SearchSecret& secret, IndexKeys& out) {
  const IdKey ck(st.case_id);
  std::string& status = out[0];
  status.assign(
      1, static_cast<char>(st.conflict ? kConflictStatusKey : static_cast<uint8_t>(st.status)));
  status.append(ck.view());
  std::string& home = out[1];
  home.clear();
  if (!st.home.empty()) {
    const std::string_view code = std::string_view(st.home).substr(0, kMaxCodeLen);
    home.append(code);
    home.append(kMaxCodeLen - code.size(), '\0');
    home.append(ck.view());
  }
  std::string& due = out[2];
  due.clear();
  if (!st.due_date.empty() && open_case(st.status)) {
    due.append(st.due_date);
    due.append(ck.view());
  }
  for (std::size_t i = 0; i < kSearchIndexes.size(); ++i) {
    std::string& k = out[3 + i];
    k.clear();
    if (st.status == CaseStatus::incomplete) continue;  // nothing to search by yet
    if (auto part = search_part(kSearchIndexes[i], search_value(st, kSearchIndexes[i]), secret)) {
      k = std::move(*part);
      k.append(ck.view());
    }
  }
}

// The case states a write transaction changed, in the order first touched;
// written back once, at the end of the transaction.
//
// A case first touched by its `submitted` event is almost always new, so
// its stored state is not looked up (`loaded` false): it is folded from
// nothing, and the write at the end (MDB_NOOVERWRITE) finds out. In the rare
// case that it was stored after all (events that arrived before their
// `submitted`), the write replays `pending` on the stored state, exactly as
// if the state had been loaded first.
struct Touched {
  explicit Touched(const IdKey& k) : key(k) {}
  IdKey key;
  bool loaded = true;    // `now` started from the stored state (or its proven absence)
  bool existed = false;  // the case was stored before this transaction
  IndexKeys old_index;   // its index entries then
  CaseState now;
  std::vector<const EventView*> pending;  // folded while !loaded, in order
};

class TouchedCases {
 public:
  // nullptr when the case was not touched yet. Valid until the next add().
  Touched* find(const IdKey& key) {
    auto it = where_.find(key);
    return it == where_.end() ? nullptr : &items_[it->second];
  }
  Touched& add(const IdKey& key) {
    where_.emplace(key, items_.size());
    items_.emplace_back(key);
    return items_.back();
  }
  void reserve(std::size_t n) {
    items_.reserve(n);
    where_.reserve(n);
  }
  std::vector<Touched>& items() { return items_; }

 private:
  std::vector<Touched> items_;
  std::unordered_map<IdKey, std::size_t, IdKeyHash> where_;
};

// quarantine key: id_key ‖ the signature's first 8 bytes (two different
// events claiming one id are both held).
std::string quarantine_key(const EventView& ev) {
  std::string k(IdKey(ev.id()).view());
  k.append(ev.signature().substr(0, 8));
  return k;
}

// Whether the file system holding `dir` has (next to) no room left for a
// commit. LMDB reports a short write as EIO, which is how a full disk
// usually shows at commit time; this tells the two apart.
bool disk_full(const std::filesystem::path& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return false;
  constexpr uint64_t kRoom = 4u << 20;  // more than one large commit needs
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < kRoom;
}

// Whether a failed transaction failed for lack of space.
bool no_space_error(const MdbError& e, const std::filesystem::path& dir) {
  return e.rc == MDB_MAP_FULL || e.rc == ENOSPC || e.rc == EDQUOT ||
         (e.rc == EIO && !dir.empty() && disk_full(dir));
}

// The marker of a write refused for lack of space (store/full): made by the
// process whose write was refused, removed by the first write that commits,
// read by every process that opens the store (its mtime is the moment).
std::filesystem::path full_marker(const std::filesystem::path& dir) {
  return dir / "full";
}

// LMDB found the store inconsistent (a damaged file) and would abort: say
// so in one line and end the process (nothing uncommitted is kept anyway).
void on_mdb_assert(MDB_env*, const char* msg) {
  std::string line = "错误：存储文件损坏 (store file damaged; LMDB: " + std::string(msg) +
                     "): run `liandong store check --deep`\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(3);
}

}  // namespace

struct Store::Impl {
  MDB_env* env = nullptr;
  StoreLock store_lock;  // released before the environment closes (store_lock.h)
  // Since when a write was refused for lack of space (wall ms; 0: not).
  mutable std::atomic<uint64_t> full_since{0};
  MDB_dbi log, ids, case_events, cases, by_status, by_home, by_due, cursors, blobs, blob_have, keys,
      meta, notices, arrivals, keyring, quarantine, receipts, imports;
  MDB_dbi by_name, by_idno, by_phone, by_item;  // search (storage/case_index.h)
  SearchSecret search_secret{};                 // keys the hashed search entries
  StoreOptions opts;
  std::string code;
  // Taken shared by every transaction, exclusively to grow the map (LMDB
  // requires no open transaction in this process while it resizes).
  mutable std::shared_mutex resize_mu;
  std::size_t map_bytes = 0;
  mutable std::mutex keys_mu;
  mutable std::map<std::string, PublicKey> key_cache;
  // The `keyring` database in memory; replaced (under keys_mu) by the
  // write transaction that changes it, just before it commits.
  std::shared_ptr<const KeyRing> ring = std::make_shared<KeyRing>();

  std::shared_ptr<const KeyRing> ring_now() const {
    std::lock_guard lock(keys_mu);
    return ring;
  }
  void set_ring(std::shared_ptr<const KeyRing> r) {
    std::lock_guard lock(keys_mu);
    ring = std::move(r);
  }

  ~Impl() {
    store_lock.release();
    if (env != nullptr) mdb_env_close(env);
  }

  void note_full() const {
    uint64_t none = 0;
    if (full_since.compare_exchange_strong(none, wall_ms())) {
      const int fd = ::open(full_marker(opts.dir).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);
    }
  }
  void note_room() const {
    if (full_since.exchange(0) != 0) ::unlink(full_marker(opts.dir).c_str());
  }
  void load_full_marker() {
    struct stat st {};
    if (::stat(full_marker(opts.dir).c_str(), &st) == 0)
      full_since = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }

  MDB_dbi index_dbi(int which) const {
    const std::array<MDB_dbi, kIndexCount> all = {by_status, by_home,  by_due, by_name,
                                                  by_idno,   by_phone, by_item};
    return all[which];
  }

  // Runs `fn` in a transaction, retrying after growing the map when LMDB
  // reports it full, and after adopting a size another process set.
  //
  // Any write refused for lack of space marks the store full; the first
  // write that commits clears the mark (whatever space is left).
  template <typename Fn>
  auto with_txn(bool write, Fn&& fn) const -> decltype(fn(std::declval<Txn&>())) {
    try {
      return with_txn_retrying(write, std::forward<Fn>(fn));
    } catch (const MdbError& e) {
      if (write && no_space_error(e, opts.dir)) note_full();
      throw;
    }
  }

  template <typename Fn>
  auto with_txn_retrying(bool write, Fn&& fn) const -> decltype(fn(std::declval<Txn&>())) {
    using R = decltype(fn(std::declval<Txn&>()));
    for (int attempt = 0;; ++attempt) {
      try {
        std::shared_lock lock(resize_mu);
        Txn txn(env, write);
        if constexpr (std::is_void_v<R>) {
          fn(txn);
          if (txn.wrote()) note_room();
          return;
        } else {
          R r = fn(txn);
          if (txn.wrote()) note_room();
          return r;
        }
      } catch (const MdbError& e) {
        if (attempt >= 40) throw;
        if (e.rc == MDB_MAP_RESIZED) {
          std::unique_lock lock(resize_mu);
          mdb_check(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize");
          continue;
        }
        if (e.rc == MDB_MAP_FULL) {
          std::unique_lock lock(resize_mu);
          auto* self = const_cast<Impl*>(this);
          MDB_envinfo info;
          mdb_env_info(env, &info);
          const std::size_t next = std::max(info.me_mapsize, map_bytes) * 2;
          if (next > opts.max_map_bytes) throw;
          mdb_check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize");
          self->map_bytes = next;
          continue;
        }
        throw;
      }
    }
  }

  uint64_t last_lsn(const Txn& txn) const {
    Cursor c(txn, log);
    std::string_view k;
    if (!c.move(MDB_LAST, &k)) return 0;
    return get_be64(k);
  }

  uint64_t meta_u64(const Txn& txn, const char* key, uint64_t dflt) const {
    std::string_view v;
    if (!txn.get(meta, key, &v)) return dflt;
    return get_be64(v);
  }

  std::optional<CaseState> load_case(const Txn& txn, const Id& id) const {
    return load_case(txn, IdKey(id));
  }

  std::optional<CaseState> load_case(const Txn& txn, const IdKey& key) const {
    std::string_view v;
    if (!txn.get(cases, key.view(), &v)) return std::nullopt;
    auto st = decode_state(v);
    if (!st.ok()) throw MdbError(MDB_CORRUPTED, st.status().message());
    return std::move(st).value();
  }

  std::vector<StoredEvent> load_case_events(const Txn& txn, const Id& id) const {
    std::vector<StoredEvent> out;
    const std::string prefix = id_key(id);
    Cursor c(txn, case_events);
    std::string_view k, v;
    for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
         ok = c.move(MDB_NEXT, &k, &v)) {
      const uint64_t lsn = get_be64(k.substr(kIdKeyLen));
      std::string_view bytes;
      if (!txn.get(log, be64(lsn), &bytes))
        throw MdbError(MDB_CORRUPTED, "case_events names a missing log entry");
      auto view = EventView::parse(bytes);
      if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
      out.push_back(StoredEvent{lsn, std::move(view).value()});
    }
    std::sort(out.begin(), out.end(), [](const StoredEvent& a, const StoredEvent& b) {
      return order_key(a.view) < order_key(b.view);
    });
    return out;
  }

  // Puts id -> `lsn` into `ids` unless the id is there already; then
  // returns the LSN it has. One B-tree descent for the dedup check and the
  // insert.
  std::optional<uint64_t> claim_id(Txn& txn, const IdKey& key, uint64_t lsn) {
    const LsnKey value(lsn);
    MDB_val k = as_val(key.view()), v = as_val(value.view());
    const int rc = mdb_put(txn.get(), ids, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) return get_be64(as_sv(v));
    mdb_check(rc, "mdb_put");
    return std::nullopt;
  }

  // Folds `ev` (already in case_events) into `st`, the state of its case
  // with every earlier-arrived event.
  void fold_in(const Txn& txn, CaseState& st, const EventView& ev) const {
    if ((st.event_count == 0 || st.last < order_key(ev)) && !needs_refold(st, ev)) {
      storage::apply(st, ev);
    } else {
      // Arrived out of order: refold the whole set (it includes `ev` now).
      auto events = load_case_events(txn, ev.case_id());
      std::vector<const EventView*> views;
      for (const auto& e : events)
        views.push_back(&e.view);
      st = fold(views);
    }
  }

  // Why this node may not stamp events now ("" if it may): its wall clock
  // is outside the stamp range, or off its parent's by more than
  // kMaxClockSkewMs (as learned at the last handshake of this boot).
  std::string clock_fault(const Txn& txn, uint64_t wall) const {
    if (!stamp_in_range(wall)) return clock_range_message(wall);
    std::string_view v;
    if (!txn.get(meta, kMetaParentClock, &v)) return {};
    const auto pc = decode_parent_clock(v);
    if (!pc) return {};
    const auto skew = clock_skew_ms(*pc, wall, boot_clock_ms(), boot_id());
    return skew ? clock_fault_message(*skew, pc->parent_code) : std::string();
  }

  // The event of this node a re-issue supersedes: held here, a case
  // event, not superseded already.
  Result<EventView> load_superseded(const Txn& txn, const Id& id, const std::string& own) const {
    if (id.origin != own)
      return Status::invalid("only this node's own events can be re-issued here; " + format_id(id) +
                             " is " + id.origin + "'s");
    std::string_view lsn, bytes;
    if (!txn.get(ids, IdKey(id).view(), &lsn) || !txn.get(log, lsn, &bytes))
      return Status::not_found("no event " + format_id(id) + " here");
    auto view = EventView::parse(bytes);
    if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
    if (!names_case(view->kind()))
      return Status::invalid("event " + format_id(id) + " is not a case event");
    auto st = load_case(txn, view->case_id());
    if (st && std::binary_search(st->superseded.begin(), st->superseded.end(), id))
      return Status::invalid("event " + format_id(id) + " was re-issued already");
    return view;
  }

  // The case's state folded without event `skip`.
  std::optional<CaseState> fold_without(const Txn& txn, const Id& case_id, const Id& skip) const {
    auto events = load_case_events(txn, case_id);
    std::vector<const EventView*> views;
    for (const auto& e : events) {
      if (e.view.id() != skip) views.push_back(&e.view);
    }
    if (views.empty()) return std::nullopt;
    CaseState st = fold(views);
    st.case_id = case_id;
    return st;
  }

  // Starts `t` from the stored state `before` (or from nothing).
  void start_from(Touched& t, std::optional<CaseState> before) const {
    t.loaded = true;
    if (before) {
      t.existed = true;
      index_keys(*before, search_secret, t.old_index);
      t.now = std::move(*before);
    }
  }

  // Stores one checked event in `txn` at `lsn`; `id_claimed`: the caller
  // has put it into `ids` already (claim_id). `touched` collects the case
  // states changed in this transaction, written by write_touched().
  // `may_defer`: a new case's lookup may wait for write_touched (see
  // Touched); callers that must see the stored state now pass false.
  void store_one(Txn& txn, const EventView& ev, uint64_t lsn, TouchedCases& touched,
                 bool id_claimed, bool may_defer) {
    const LsnKey lsn_key(lsn);
    txn.put(log, lsn_key.view(), ev.sealed(), MDB_APPEND);
    if (!id_claimed) txn.put(ids, IdKey(ev.id()).view(), lsn_key.view());
    if (!names_case(ev.kind())) {  // a broadcast or an audit event
      put_notice(txn, ev, lsn_key);
      return;
    }
    const IdKey ck(ev.case_id());
    txn.put(case_events, CaseEventKey(ck, lsn_key).view(), "");
    if (ev.kind() == EventKind::fee_collected) put_receipt(txn, ev);
    Touched* t = touched.find(ck);
    if (t == nullptr) {
      const bool defer = may_defer && ev.kind() == EventKind::submitted;
      std::optional<CaseState> before;
      if (!defer) before = load_case(txn, ck);
      t = &touched.add(ck);
      t->now.case_id = ev.case_id();
      if (defer) {
        t->loaded = false;
      } else {
        start_from(*t, std::move(before));
      }
    }
    if (!t->loaded) t->pending.push_back(&ev);
    fold_in(txn, t->now, ev);
  }

  // Records when this transaction's events arrived: one entry, at the first
  // LSN it stored (every event of a commit arrives at the same moment);
  // arrival_ms() reads the entry at or before an LSN.
  void put_arrival(Txn& txn, uint64_t first_lsn, uint64_t last_lsn) {
    if (first_lsn > last_lsn) return;
    txn.put(arrivals, LsnKey(first_lsn).view(), be64(wall_ms()), MDB_APPEND);
  }

  // Indexes a broadcast or an audit event (each event once: ids dedups
  // before this).
  void put_notice(Txn& txn, const EventView& ev, const LsnKey& lsn_key) {
    txn.put(notices, notice_key(ev), lsn_key.view());
  }

  // Indexes a fee's receipt number under its origin, naming the case it
  // was first used for. A number used again (only possible in events
  // received from nodes that did not check) keeps its first case.
  void put_receipt(Txn& txn, const EventView& ev) {
    const std::string k =
        receipt_key(ev.id().origin, ev.event().getBody().getFeeCollected().getReceiptNo().cStr());
    const std::string v = format_id(ev.case_id());
    MDB_val key = as_val(k), val = as_val(v);
    const int rc = mdb_put(txn.get(), receipts, &key, &val, MDB_NOOVERWRITE);
    if (rc != MDB_KEYEXIST) mdb_check(rc, "mdb_put");
  }

  // The case a receipt number of `origin` was used for, if any.
  std::optional<std::string> receipt_case(const Txn& txn, std::string_view origin,
                                          std::string_view receipt_no) const {
    std::string_view v;
    if (!txn.get(receipts, receipt_key(origin, receipt_no), &v)) return std::nullopt;
    return std::string(v);
  }

  // Fills `receipts` from the log (a store made before it existed).
  void fill_receipts(Txn& txn) {
    Cursor c(txn, log);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
      auto view = EventView::parse(v);
      if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
      if (view->kind() == EventKind::fee_collected) put_receipt(txn, *view);
    }
  }

  // Fills `notices` from the log (a store made before it existed).
  void fill_notices(Txn& txn) {
    Cursor c(txn, log);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
      auto view = EventView::parse(v);
      if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
      if (!names_case(view->kind())) put_notice(txn, *view, LsnKey(get_be64(k)));
    }
  }

  // Fills the search indexes (a store made before they existed): each
  // case is folded again from its events (older states lack the phone)
  // and written back with every index entry.
  void fill_search(Txn& txn) {
    std::vector<IdKey> held;
    {
      Cursor c(txn, cases);
      std::string_view k, v;
      for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
        if (k.size() != kIdKeyLen) throw MdbError(MDB_CORRUPTED, "cases has a malformed key");
        held.emplace_back(id_from_key(k));
      }
    }
    IndexKeys old_keys, now;
    for (const IdKey& key : held) {
      auto before = load_case(txn, key);
      const Id id = id_from_key(key.view());
      auto events = load_case_events(txn, id);
      std::vector<const EventView*> views;
      for (const auto& e : events)
        views.push_back(&e.view);
      if (views.empty() || !before) continue;
      CaseState st = fold(views);
      st.case_id = id;
      index_keys(*before, search_secret, old_keys);
      index_keys(st, search_secret, now);
      for (int which = 0; which < kIndexCount; ++which) {
        if (!old_keys[which].empty()) txn.del(index_dbi(which), old_keys[which]);
        if (!now[which].empty()) txn.put(index_dbi(which), now[which], "");
      }
      txn.put(cases, key.view(), encode_state(st));
    }
  }

  // Holds an event in quarantine (once: a copy arriving again is left).
  // Returns false, holding nothing, when the quarantine is full.
  bool hold(Txn& txn, const EventView& ev, const std::string& reason) {
    const std::string k = quarantine_key(ev);
    std::string_view had;
    if (txn.get(quarantine, k, &had)) return true;
    if (txn.count(quarantine) >= kMaxQuarantined) return false;
    std::string v;
    put_be64(v, wall_ms());
    const std::string_view why = std::string_view(reason).substr(0, 0xffff);
    v.push_back(static_cast<char>(why.size() >> 8));
    v.push_back(static_cast<char>(why.size() & 0xff));
    v.append(why);
    v.append(ev.sealed());
    txn.put(quarantine, k, v);
    return true;
  }

  // Writes each touched case's state, and moves its index entries where
  // they changed.
  void write_touched(Txn& txn, TouchedCases& touched) {
    IndexKeys now;
    for (Touched& t : touched.items()) {
      if (!t.loaded) {
        // Presumed new: insert unless the case is there after all.
        const std::string state = encode_state(t.now);
        MDB_val k = as_val(t.key.view()), v = as_val(state);
        const int rc = mdb_put(txn.get(), cases, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_SUCCESS) {
          index_keys(t.now, search_secret, now);
          for (int which = 0; which < kIndexCount; ++which) {
            if (!now[which].empty()) txn.put(index_dbi(which), now[which], "");
          }
          continue;
        }
        if (rc != MDB_KEYEXIST) mdb_check(rc, "mdb_put");
        auto stored = decode_state(as_sv(v));
        if (!stored.ok()) throw MdbError(MDB_CORRUPTED, stored.status().message());
        start_from(t, std::move(stored).value());
        for (const EventView* ev : t.pending)
          fold_in(txn, t.now, *ev);
      }
      index_keys(t.now, search_secret, now);
      for (int which = 0; which < kIndexCount; ++which) {
        if (t.existed && t.old_index[which] == now[which]) continue;
        if (t.existed && !t.old_index[which].empty()) txn.del(index_dbi(which), t.old_index[which]);
        if (!now[which].empty()) txn.put(index_dbi(which), now[which], "");
      }
      txn.put(cases, t.key.view(), encode_state(t.now));
    }
  }
};

namespace {

// The key directory as one write transaction sees it: key events applied
// so far in the transaction, written to `keyring` as they apply, and put in
// memory just before the commit (restored if the commit fails).
class KeyWork {
 public:
  explicit KeyWork(Store::Impl& impl) : impl_(impl), base_(impl.ring_now()) {}

  const KeyRing& view() const { return working_ ? *working_ : *base_; }

  // Applies a key event; a refusal changes nothing.
  Status apply(Txn& txn, const EventView& ev) {
    KeyRing trial = view();
    auto rows = trial.apply(ev);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows)
      txn.put(impl_.keyring, KeyRing::db_key(r.code, r.key), KeyRing::db_value(r.rec));
    working_ = std::move(trial);
    return Status::ok();
  }

  void commit(Txn& txn) {
    if (!working_) {
      txn.commit();
      return;
    }
    impl_.set_ring(std::make_shared<const KeyRing>(*working_));
    try {
      txn.commit();
    } catch (...) {
      impl_.set_ring(base_);
      throw;
    }
  }

 private:
  Store::Impl& impl_;
  std::shared_ptr<const KeyRing> base_;
  std::optional<KeyRing> working_;
};

// Each origin's first key, read once per transaction.
class FirstKeys {
 public:
  FirstKeys(const Txn& txn, MDB_dbi keys) : txn_(txn), keys_(keys) {}
  const std::optional<PublicKey>& of(const std::string& origin) {
    auto it = cache_.find(origin);
    if (it != cache_.end()) return it->second;
    std::optional<PublicKey> k;
    std::string_view v;
    if (txn_.get(keys_, origin, &v) && v.size() == 32) {
      k.emplace();
      std::copy(v.begin(), v.end(), reinterpret_cast<char*>(k->data()));
    }
    return cache_.emplace(origin, k).first->second;
  }

 private:
  const Txn& txn_;
  MDB_dbi keys_;
  std::unordered_map<std::string, std::optional<PublicKey>> cache_;
};

bool is_key_event(EventKind k) {
  return k == EventKind::key_rotated || k == EventKind::keys_published;
}

}  // namespace

namespace {

Status to_status(const MdbError& e, const std::filesystem::path& dir = {}) {
  if (no_space_error(e, dir))
    return Status::no_space(std::string("store is full (存储空间已满): ") + e.what());
  if (e.rc == MDB_CORRUPTED || e.rc == MDB_PAGE_NOTFOUND || e.rc == MDB_INVALID)
    return Status::corruption(e.what());
  return Status::internal(e.what());
}

Result<std::unique_ptr<Store::Impl>> open_env(const StoreOptions& opts, bool create) {
  std::error_code ec;
  if (create) {
    std::filesystem::create_directories(opts.dir, ec);
    if (ec) return Status::invalid("cannot create " + opts.dir.string() + ": " + ec.message());
    ::chmod(opts.dir.c_str(), 0700);
  } else if (!std::filesystem::exists(opts.dir / "data.mdb", ec)) {
    return Status::not_found("no store in " + opts.dir.string() + " (run `liandong init` first)");
  }
  // A file cut short would be a SIGBUS at the first read past its end:
  // refused before anything is mapped.
  if (auto s = check_store_file(opts.dir, create); !s) return s;
  auto impl = std::make_unique<Store::Impl>();
  impl->opts = opts;
  try {
    mdb_check(mdb_env_create(&impl->env), "mdb_env_create");
    mdb_check(mdb_env_set_assert(impl->env, on_mdb_assert), "mdb_env_set_assert");
    mdb_check(mdb_env_set_maxdbs(impl->env, 32), "mdb_env_set_maxdbs");
    mdb_check(mdb_env_set_maxreaders(impl->env, 126), "mdb_env_set_maxreaders");
    mdb_check(mdb_env_set_mapsize(impl->env, opts.initial_map_bytes), "mdb_env_set_mapsize");
    const int rc = mdb_env_open(impl->env, opts.dir.c_str(), MDB_NOTLS, 0600);
    if (rc == EACCES || rc == EROFS)
      return Status::invalid("cannot open store in " + opts.dir.string() + ": " + mdb_strerror(rc));
    mdb_check(rc, "mdb_env_open");
    // Before any transaction: the single-writer guard (store_lock.h).
    auto guard = StoreLock::attach(opts.dir);
    if (!guard.ok()) return guard.status();
    impl->store_lock = std::move(guard).value();
    if (opts.daemon) {
      if (auto s = impl->store_lock.take_daemon(5000); !s) return s;
    }
    // Another process may have grown the map: adopt the file's size.
    mdb_check(mdb_env_set_mapsize(impl->env, 0), "mdb_env_set_mapsize");
    MDB_envinfo info;
    mdb_env_info(impl->env, &info);
    impl->map_bytes = info.me_mapsize;
    int dead = 0;
    mdb_reader_check(impl->env, &dead);  // clear slots of crashed readers
    // A store of another schema version is refused before anything is
    // written to it (the write below would create databases in it).
    if (!create) {
      Status schema = impl->with_txn(false, [&](Txn& txn) {
        MDB_dbi meta;
        const int mrc = mdb_dbi_open(txn.get(), "meta", 0, &meta);
        if (mrc == MDB_NOTFOUND) return Status::ok();  // an interrupted init
        mdb_check(mrc, "meta");
        std::string_view v;
        if (!txn.get(meta, kMetaCode, &v)) return Status::ok();
        const uint64_t version = txn.get(meta, kMetaSchema, &v) && v.size() == 8 ? get_be64(v) : 0;
        if (version != kSchemaVersion)
          return Status::invalid("本机存储的格式版本 " + std::to_string(version) +
                                 " 不是本程序支持的 " + std::to_string(kSchemaVersion) +
                                 "，未作任何改动 (store schema version " + std::to_string(version) +
                                 " is not the supported " + std::to_string(kSchemaVersion) +
                                 "; nothing was written: use the liandong release that made it)");
        return Status::ok();
      });
      if (!schema) return schema;
    }
    impl->with_txn(true, [&](Txn& txn) {
      auto dbi = [&](const char* name) {
        MDB_dbi d;
        mdb_check(mdb_dbi_open(txn.get(), name, MDB_CREATE, &d), name);
        return d;
      };
      impl->log = dbi("log");
      impl->ids = dbi("ids");
      impl->case_events = dbi("case_events");
      impl->cases = dbi("cases");
      impl->by_status = dbi("by_status");
      impl->by_home = dbi("by_home");
      impl->by_due = dbi("by_due");
      impl->cursors = dbi("cursors");
      impl->blobs = dbi("blobs");
      impl->blob_have = dbi("blob_have");
      impl->keys = dbi("keys");
      impl->meta = dbi("meta");
      impl->arrivals = dbi("arrivals");
      impl->keyring = dbi("keyring");
      impl->quarantine = dbi("quarantine");
      impl->imports = dbi("imports");
      KeyRing ring;
      {
        Cursor c(txn, impl->keyring);
        std::string_view k, v;
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
          auto row = KeyRing::decode(k, v);
          if (!row) throw MdbError(MDB_CORRUPTED, "bad keyring entry");
          ring.put(*row);
        }
      }
      impl->ring = std::make_shared<const KeyRing>(std::move(ring));
      // A store made before `notices` existed: create it, index the log once.
      const int nrc = mdb_dbi_open(txn.get(), "notices", 0, &impl->notices);
      if (nrc == MDB_NOTFOUND) {
        impl->notices = dbi("notices");
        impl->fill_notices(txn);
      } else {
        mdb_check(nrc, "notices");
      }
      // Likewise `receipts`.
      const int rrc = mdb_dbi_open(txn.get(), "receipts", 0, &impl->receipts);
      if (rrc == MDB_NOTFOUND) {
        impl->receipts = dbi("receipts");
        impl->fill_receipts(txn);
      } else {
        mdb_check(rrc, "receipts");
      }
      // The search indexes' key, made once per store; a store made before
      // the search indexes existed gets them from its cases, once.
      std::string_view secret;
      if (txn.get(impl->meta, kMetaSearchKey, &secret) &&
          secret.size() == impl->search_secret.size()) {
        std::copy(secret.begin(), secret.end(), impl->search_secret.begin());
      } else {
        crypto_ready();
        randombytes_buf(impl->search_secret.data(), impl->search_secret.size());
        txn.put(impl->meta, kMetaSearchKey,
                std::string_view(reinterpret_cast<const char*>(impl->search_secret.data()),
                                 impl->search_secret.size()));
      }
      const int src = mdb_dbi_open(txn.get(), "by_name", 0, &impl->by_name);
      impl->by_name = dbi("by_name");
      impl->by_idno = dbi("by_idno");
      impl->by_phone = dbi("by_phone");
      impl->by_item = dbi("by_item");
      if (src == MDB_NOTFOUND) {
        impl->fill_search(txn);
      } else {
        mdb_check(src, "by_name");
      }
      txn.commit();
      return 0;
    });
  } catch (const MdbError& e) {
    return to_status(e, opts.dir);
  }
  impl->load_full_marker();
  return impl;
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::create(const StoreOptions& opts, std::string_view code) {
  if (!valid_code(code))
    return Status::invalid("'" + std::string(code) +
                           "' is not a division code (2, 4, 6, 9 or 12 digits)");
  // An environment left by a create that was killed before its metadata
  // committed holds nothing: it is reused. The check and the metadata are
  // one write transaction, so a store is either complete or absent.
  auto impl = open_env(opts, true);
  if (!impl.ok()) return impl.status();
  std::unique_ptr<Store> store(new Store(std::move(impl).value()));
  crypto_ready();
  std::array<uint8_t, 16> raw{};
  randombytes_buf(raw.data(), raw.size());
  store->store_id_ = to_hex(raw);
  store->code_ = std::string(code);
  try {
    Status s = store->impl_->with_txn(true, [&](Txn& txn) {
      std::string_view existing;
      if (txn.get(store->impl_->meta, kMetaCode, &existing))
        return Status::invalid("a store already exists in " + opts.dir.string());
      txn.put(store->impl_->meta, kMetaCode, store->code_);
      txn.put(store->impl_->meta, kMetaStoreId, store->store_id_);
      txn.put(store->impl_->meta, kMetaSchema, be64(kSchemaVersion));
      txn.put(store->impl_->meta, kMetaNextSeq, be64(1));
      txn.commit();
      return Status::ok();
    });
    if (!s) return s;
  } catch (const MdbError& e) {
    return to_status(e, opts.dir);
  }
  store->impl_->code = store->code_;
  return store;
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& opts) {
  auto impl = open_env(opts, false);
  if (!impl.ok()) return impl.status();
  std::unique_ptr<Store> store(new Store(std::move(impl).value()));
  try {
    Status s = store->impl_->with_txn(false, [&](Txn& txn) {
      std::string_view v;
      if (!txn.get(store->impl_->meta, kMetaCode, &v))
        return Status::not_found("no store in " + opts.dir.string() +
                                 " (an earlier init was interrupted: run `liandong init` again)");
      store->code_ = std::string(v);
      if (txn.get(store->impl_->meta, kMetaStoreId, &v)) store->store_id_ = std::string(v);
      const uint64_t schema = store->impl_->meta_u64(txn, kMetaSchema, 0);
      if (schema != kSchemaVersion)
        return Status::invalid("store schema version " + std::to_string(schema) +
                               " is not the supported " + std::to_string(kSchemaVersion));
      return Status::ok();
    });
    if (!s) return s;
  } catch (const MdbError& e) {
    return to_status(e, opts.dir);
  }
  store->impl_->code = store->code_;
  return store;
}

Status Store::put_key(std::string_view code, const PublicKey& key) {
  if (!valid_code(code))
    return Status::invalid("'" + std::string(code) + "' is not a division code");
  try {
    impl_->with_txn(true, [&](Txn& txn) {
      txn.put(impl_->keys, code,
              std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
      txn.commit();
      return 0;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
  std::lock_guard lock(impl_->keys_mu);
  impl_->key_cache[std::string(code)] = key;
  return Status::ok();
}

std::optional<PublicKey> Store::key(std::string_view code) const {
  {
    std::lock_guard lock(impl_->keys_mu);
    auto it = impl_->key_cache.find(std::string(code));
    if (it != impl_->key_cache.end()) return it->second;
  }
  try {
    auto k = impl_->with_txn(false, [&](Txn& txn) -> std::optional<PublicKey> {
      std::string_view v;
      if (!txn.get(impl_->keys, code, &v) || v.size() != 32) return std::nullopt;
      PublicKey pk;
      std::copy(v.begin(), v.end(), reinterpret_cast<char*>(pk.data()));
      return pk;
    });
    if (k) {
      std::lock_guard lock(impl_->keys_mu);
      impl_->key_cache[std::string(code)] = *k;
    }
    return k;
  } catch (const MdbError&) {
    return std::nullopt;
  }
}

KeyRing Store::keyring() const {
  return *impl_->ring_now();
}

std::optional<PublicKey> Store::signing_key_of(const EventView& ev) const {
  auto first = key(ev.id().origin);
  if (!first && !impl_->ring_now()->has_entries(ev.id().origin)) return std::nullopt;
  if (auto s = named_signer(ev)) return s;
  return first;
}

Result<std::vector<std::pair<std::string, PublicKey>>> Store::first_keys() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<std::pair<std::string, PublicKey>> out;
      Cursor c(txn, impl_->keys);
      std::string_view k, v;
      for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
        if (v.size() != 32) continue;
        PublicKey pk;
        std::copy(v.begin(), v.end(), reinterpret_cast<char*>(pk.data()));
        out.emplace_back(std::string(k), pk);
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<Quarantined>> Store::quarantined() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<Quarantined> out;
      Cursor c(txn, impl_->quarantine);
      std::string_view k, v;
      for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
        if (v.size() < 10) throw MdbError(MDB_CORRUPTED, "bad quarantine entry");
        Quarantined q;
        q.arrival_ms = get_be64(v);
        const std::size_t n = (static_cast<uint8_t>(v[8]) << 8) | static_cast<uint8_t>(v[9]);
        if (v.size() < 10 + n) throw MdbError(MDB_CORRUPTED, "bad quarantine entry");
        q.reason.assign(v.substr(10, n));
        q.sealed.assign(v.substr(10 + n));
        out.push_back(std::move(q));
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Status Store::note_parent_clock(const ParentClock& c) {
  try {
    return impl_->with_txn(true, [&](Txn& txn) {
      txn.put(impl_->meta, kMetaParentClock, encode_parent_clock(c));
      txn.commit();
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

std::optional<ParentClock> Store::parent_clock() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> std::optional<ParentClock> {
      std::string_view v;
      if (!txn.get(impl_->meta, kMetaParentClock, &v)) return std::nullopt;
      return decode_parent_clock(v);
    });
  } catch (const MdbError&) {
    return std::nullopt;
  }
}

Result<StoredEvent> Store::append_local(const LocalDraft& draft, const SigningKey& key) {
  auto out = append_local(std::span<const LocalDraft>(&draft, 1), key);
  return std::move(out.front());
}

std::vector<Result<StoredEvent>> Store::append_local(std::span<const LocalDraft> drafts,
                                                     const SigningKey& key) {
  std::vector<Result<StoredEvent>> results;
  // Never sign with a key that is not this node's (own_key.h).
  if (auto s = check_own_key(*this, key.pub); !s) {
    for (std::size_t i = 0; i < drafts.size(); ++i)
      results.emplace_back(s);
    return results;
  }
  try {
    results = impl_->with_txn(true, [&](Txn& txn) {
      std::vector<Result<StoredEvent>> out;
      TouchedCases touched;
      uint64_t seq = impl_->meta_u64(txn, kMetaNextSeq, 1);
      uint64_t lsn = impl_->last_lsn(txn);
      const uint64_t first_lsn = lsn + 1;
      const uint64_t wall = wall_clock_ms();
      if (auto fault = impl_->clock_fault(txn, wall); !fault.empty()) {
        for (std::size_t i = 0; i < drafts.size(); ++i)
          out.emplace_back(Status::invalid(fault));
        return out;
      }
      Hlc hlc([wall] { return wall; });
      const uint64_t stored_hlc = impl_->meta_u64(txn, kMetaHlc, 0);
      // A stamp persisted while the clock ran far ahead is not inherited
      // (causality within each case is kept by the case's own floor below).
      (void)hlc.resume(stored_hlc);
      KeyWork keys(*impl_);
      bool stored_any = false;
      for (const auto& d : drafts) {
        const Id id{code_, seq};
        // The case as this transaction sees it (earlier drafts included).
        std::optional<CaseState> state;
        std::string home = d.home.empty() ? code_ : d.home;
        std::optional<EventView> redo;  // the event a re-issue supersedes
        Id case_id = d.case_id;
        if (d.supersedes) {
          auto r = impl_->load_superseded(txn, *d.supersedes, code_);
          if (!r.ok()) {
            out.emplace_back(r.status());
            continue;
          }
          redo = std::move(r).value();
          case_id = redo->case_id();
          home = std::string(redo->event().getHome().cStr());
          // The case without the event re-issued (earlier drafts included).
          state = impl_->fold_without(txn, case_id, *d.supersedes);
        } else if (!d.case_id.empty()) {
          const Touched* t = touched.find(IdKey(d.case_id));
          state = t != nullptr ? std::optional(t->now) : impl_->load_case(txn, d.case_id);
          if (!state) {
            out.emplace_back(Status::not_found("no case " + format_id(d.case_id) + " here"));
            continue;
          }
          home = state->home;
        }
        // Stamped after every event of the case the fold uses; never after
        // one stamped far ahead (it would be refused upstream in turn).
        if (state && state->event_count > 0) {
          if (hlc_ms(state->last.hlc) > wall + kMaxClockSkewMs) {
            out.emplace_back(Status::invalid(
                "办件 " + format_id(state->case_id) + " 中的 " + format_id(state->last.id) +
                " 时间戳超前，请先重新报送该事件 (event " + format_id(state->last.id) +
                " of this case is stamped ahead of the clock: re-issue it first)"));
            continue;
          }
          hlc.observe(state->last.hlc);
        }
        capnp::MallocMessageBuilder msg(512);
        if (redo) msg.setRoot(redo->event());
        auto ev = redo ? msg.getRoot<proto::Event>() : msg.initRoot<proto::Event>();
        write_id(ev.initId(), id);
        ev.setHlc(hlc.now());
        ev.setHome(home);
        d.fill(ev);
        // Identity fields are the store's to set, whatever `fill` did.
        write_id(ev.initId(), id);
        ev.setHome(home);
        if (redo) {
          write_id(ev.initCase(), case_id);
          write_id(ev.initSupersedes(), *d.supersedes);
        } else if (ev.getBody().which() == proto::Event::Body::SUBMITTED) {
          write_id(ev.initCase(), id);
        } else if (!d.case_id.empty()) {
          write_id(ev.initCase(), d.case_id);
        }
        if (!redo && ev.hasSupersedes()) ev.disownSupersedes();
        auto view = EventView::parse(seal(msg, key));
        if (!view.ok()) {
          out.emplace_back(view.status());
          continue;
        }
        if (auto s = may_publish(*view); !s) {
          out.emplace_back(s);
          continue;
        }
        if (names_case(view->kind())) {
          if (auto s = check(state ? &*state : nullptr, *view); !s) {
            out.emplace_back(s);
            continue;
          }
        }
        // A receipt number is used once at this node (a re-issue repeats
        // the receipt of the event it supersedes).
        if (view->kind() == EventKind::fee_collected && !redo) {
          const std::string no = view->event().getBody().getFeeCollected().getReceiptNo().cStr();
          if (auto used = impl_->receipt_case(txn, code_, no)) {
            out.emplace_back(Status::invalid("收据号 " + no + " 已用于办件 " + *used +
                                             " (receipt number " + no + " is used already, for " +
                                             *used + ")"));
            continue;
          }
        }
        if (is_key_event(view->kind())) {
          if (auto s = keys.apply(txn, *view); !s) {
            out.emplace_back(s);
            continue;
          }
        }
        // A ledger row is imported once (docs/FORMAT.md, `imports`).
        if (!d.import_key.empty()) {
          std::string_view had;
          if (txn.get(impl_->imports, d.import_key, &had)) {
            out.emplace_back(Status::invalid("该行已导入为办件 " + std::string(had) +
                                             " (row already imported as " + std::string(had) +
                                             ")"));
            continue;
          }
          txn.put(impl_->imports, d.import_key, format_id(view->case_id()));
        }
        impl_->store_one(txn, *view, ++lsn, touched, /*id_claimed=*/false, /*may_defer=*/false);
        ++seq;
        stored_any = true;
        out.emplace_back(StoredEvent{lsn, std::move(view).value()});
      }
      // A command that stored nothing leaves the clock as it was.
      if (!stored_any) return out;
      impl_->write_touched(txn, touched);
      impl_->put_arrival(txn, first_lsn, lsn);
      txn.put(impl_->meta, kMetaNextSeq, be64(seq));
      txn.put(impl_->meta, kMetaHlc, be64(hlc.last()));
      keys.commit(txn);
      return out;
    });
  } catch (const MdbError& e) {
    results.clear();
    for (std::size_t i = 0; i < drafts.size(); ++i)
      results.emplace_back(to_status(e, impl_->opts.dir));
  }
  return results;
}

void SyncWriter::put(std::string_view key, std::string_view value) {
  MDB_val k = as_val(key), v = as_val(value);
  mdb_check(mdb_put(static_cast<MDB_txn*>(txn_), dbi_, &k, &v, 0), "mdb_put");
}

void SyncWriter::del(std::string_view key) {
  MDB_val k = as_val(key);
  const int rc = mdb_del(static_cast<MDB_txn*>(txn_), dbi_, &k, nullptr);
  if (rc != MDB_NOTFOUND) mdb_check(rc, "mdb_del");
}

Result<std::vector<IngestResult>> Store::apply(std::span<const EventView* const> batch,
                                               const std::function<void(SyncWriter&)>& also) {
  try {
    return impl_->with_txn(true, [&](Txn& txn) {
      std::vector<IngestResult> out(batch.size());
      TouchedCases touched;
      touched.reserve(batch.size());
      uint64_t lsn = impl_->last_lsn(txn);
      const uint64_t first_lsn = lsn + 1;
      Hlc hlc;
      const uint64_t stored_hlc = impl_->meta_u64(txn, kMetaHlc, 0);
      hlc.observe(stored_hlc);
      const uint64_t horizon = make_hlc(wall_clock_ms() + kMaxClockSkewMs, 0);
      // Our own events can come back from a peer (this store was restored
      // from an old copy): never hand out their sequence numbers again.
      const uint64_t stored_next_seq = impl_->meta_u64(txn, kMetaNextSeq, 1);
      uint64_t next_seq = stored_next_seq;
      KeyWork keys(*impl_);
      FirstKeys firsts(txn, impl_->keys);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const EventView& ev = *batch[i];
        const IdKey key(ev.id());
        const uint64_t ev_hlc = ev.hlc();
        if (ev_hlc > horizon || !stamp_in_range(hlc_ms(ev_hlc))) {
          // Refused unless already stored (then a duplicate, as ever).
          std::string_view existing;
          if (txn.get(impl_->ids, key.view(), &existing)) {
            out[i] = IngestResult{Outcome::duplicate, get_be64(existing), Status::ok()};
          } else {
            out[i] = IngestResult{
                Outcome::rejected, 0,
                Status::invalid("event " + format_id(ev.id()) +
                                (ev_hlc > horizon ? " is stamped more than a day in the future"
                                                  : " is stamped outside 2020-2100"))};
          }
          continue;
        }
        // Only the county publishes catalog, calendar, roster and divisions.
        if (auto s = may_publish(ev); !s) {
          out[i] = IngestResult{Outcome::rejected, 0, s};
          continue;
        }
        // May this key sign for the origin, at this seq?
        const auto signer = named_signer(ev);
        const std::optional<PublicKey>& first = firsts.of(ev.id().origin);
        // (An origin with no key at all here was vouched for by the caller.)
        Judgement j;
        if ((signer || first) && (first || keys.view().has_entries(ev.id().origin))) {
          j = keys.view().judge(ev.id().origin, ev.id().seq, signer ? *signer : *first, first);
          if (j.verdict == KeyVerdict::unknown_key)
            j.reason = "bad signature on event " + format_id(ev.id()) + ": " + j.reason;
        }
        if (j.verdict == KeyVerdict::ok && is_key_event(ev.kind())) {
          std::string_view existing;
          if (!txn.get(impl_->ids, key.view(), &existing)) {
            if (auto s = keys.apply(txn, ev); !s)
              j = Judgement{KeyVerdict::unknown_key, s.message()};
          }
        }
        if (j.verdict != KeyVerdict::ok) {
          std::string_view existing;
          if (j.verdict == KeyVerdict::quarantine && txn.get(impl_->ids, key.view(), &existing)) {
            out[i] = IngestResult{Outcome::duplicate, get_be64(existing), Status::ok()};
          } else if (j.verdict == KeyVerdict::quarantine && impl_->hold(txn, ev, j.reason)) {
            out[i] = IngestResult{Outcome::quarantined, 0, Status::invalid(j.reason)};
          } else if (j.verdict == KeyVerdict::quarantine) {
            out[i] = IngestResult{
                Outcome::rejected, 0,
                Status::invalid(j.reason + "; the quarantine is full (" +
                                std::to_string(kMaxQuarantined) + " events held for review)")};
          } else {
            out[i] = IngestResult{Outcome::rejected, 0, Status::invalid(j.reason)};
          }
          continue;
        }
        if (auto had = impl_->claim_id(txn, key, lsn + 1)) {
          out[i] = IngestResult{Outcome::duplicate, *had, Status::ok()};
          continue;
        }
        hlc.observe(ev_hlc);
        if (ev.id().origin == code_ && ev.id().seq >= next_seq) next_seq = ev.id().seq + 1;
        impl_->store_one(txn, ev, ++lsn, touched, /*id_claimed=*/true, /*may_defer=*/true);
        out[i] = IngestResult{Outcome::stored, lsn, Status::ok()};
      }
      impl_->write_touched(txn, touched);
      impl_->put_arrival(txn, first_lsn, lsn);
      if (hlc.last() != stored_hlc) txn.put(impl_->meta, kMetaHlc, be64(hlc.last()));
      if (next_seq != stored_next_seq) txn.put(impl_->meta, kMetaNextSeq, be64(next_seq));
      if (also) {
        SyncWriter w(txn.get(), impl_->cursors, lsn);
        also(w);
      }
      keys.commit(txn);
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<IngestResult>> Store::ingest(std::span<const std::string> sealed,
                                                VerifyPool* pool) {
  IngestOptions opts;
  opts.pool = pool;
  return ingest(sealed, opts);
}

Result<std::vector<IngestResult>> Store::ingest(std::span<const std::string> sealed,
                                                const IngestOptions& opts) {
  std::vector<std::optional<EventView>> views(sealed.size());
  std::vector<Status> errors(sealed.size());
  std::vector<std::optional<PublicKey>> keys(sealed.size());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto v = EventView::parse(sealed[i]);
    if (!v.ok()) {
      errors[i] = v.status();
      continue;
    }
    if (opts.authorize) {
      if (auto s = opts.authorize(*v); !s) {
        errors[i] = s;
        continue;
      }
    }
    keys[i] = signing_key_of(*v);
    if (!keys[i]) {
      errors[i] = Status::invalid("no public key known for origin " + v->id().origin);
      continue;
    }
    views[i] = std::move(v).value();
  }
  auto verify_one = [&](std::size_t i) {
    if (views[i]) {
      if (auto s = check_signature(*views[i], *keys[i]); !s) errors[i] = s;
    }
  };
  if (opts.pool != nullptr) {
    opts.pool->run(sealed.size(), verify_one);
  } else {
    for (std::size_t i = 0; i < sealed.size(); ++i)
      verify_one(i);
  }
  std::vector<const EventView*> good;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    if (views[i] && errors[i]) {
      good.push_back(&*views[i]);
      where.push_back(i);
    }
  }
  std::vector<IngestResult> out(sealed.size());
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    if (!errors[i]) out[i] = IngestResult{Outcome::rejected, 0, errors[i]};
  }
  if (!good.empty() || opts.also) {
    auto applied = apply(good, opts.also);
    if (!applied.ok()) return applied.status();
    for (std::size_t j = 0; j < good.size(); ++j)
      out[where[j]] = (*applied)[j];
  }
  return out;
}

Status Store::scan_log(uint64_t after, std::size_t max_entries,
                       const std::function<bool(uint64_t, std::string_view)>& fn) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      Cursor c(txn, impl_->log);
      std::string_view k, v;
      std::size_t seen = 0;
      for (bool ok = c.seek(be64(after + 1), &k, &v); ok && seen < max_entries;
           ok = c.move(MDB_NEXT, &k, &v)) {
        ++seen;
        if (!fn(get_be64(k), v)) break;
      }
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<std::string>> Store::sync_get(std::string_view key) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> std::optional<std::string> {
      std::string_view v;
      if (!txn.get(impl_->cursors, key, &v)) return std::nullopt;
      return std::string(v);
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Status Store::sync_put(std::string_view key, std::string_view value) {
  try {
    return impl_->with_txn(true, [&](Txn& txn) {
      txn.put(impl_->cursors, key, value);
      txn.commit();
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<std::pair<std::string, std::string>>> Store::sync_floor(
    std::string_view prefix, std::string_view key) const {
  using Entry = std::optional<std::pair<std::string, std::string>>;
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> Entry {
      Cursor c(txn, impl_->cursors);
      std::string_view k, v;
      bool ok = c.seek(key, &k, &v);
      if (ok && k == key) return std::pair(std::string(k), std::string(v));
      ok = ok ? c.move(MDB_PREV, &k, &v) : c.move(MDB_LAST, &k, &v);
      if (!ok || !k.starts_with(prefix)) return std::nullopt;
      return std::pair(std::string(k), std::string(v));
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<std::pair<std::string, std::string>>> Store::sync_scan(
    std::string_view prefix) const {
  using Entries = std::vector<std::pair<std::string, std::string>>;
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      Entries out;
      Cursor c(txn, impl_->cursors);
      std::string_view k, v;
      for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
           ok = c.move(MDB_NEXT, &k, &v))
        out.emplace_back(k, v);
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Status Store::sync_erase(std::span<const std::string> keys) {
  try {
    return impl_->with_txn(true, [&](Txn& txn) {
      for (const auto& k : keys)
        txn.del(impl_->cursors, k);
      txn.commit();
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<uint64_t> Store::max_seq(std::string_view origin) const {
  if (origin.empty() || origin.size() > kMaxCodeLen) return uint64_t{0};
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> uint64_t {
      const std::string last = id_key(Id{std::string(origin), ~uint64_t{0}});
      const std::string_view prefix(last.data(), kMaxCodeLen);
      Cursor c(txn, impl_->ids);
      std::string_view k, v;
      bool ok = c.seek(last, &k, &v);
      if (ok && k == last) return get_be64(k.substr(kMaxCodeLen));
      ok = ok ? c.move(MDB_PREV, &k, &v) : c.move(MDB_LAST, &k, &v);
      if (!ok || !k.starts_with(prefix)) return 0;
      return get_be64(k.substr(kMaxCodeLen));
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Status Store::reserve_seq(uint64_t next) {
  try {
    return impl_->with_txn(true, [&](Txn& txn) {
      if (impl_->meta_u64(txn, kMetaNextSeq, 1) >= next) return Status::ok();
      txn.put(impl_->meta, kMetaNextSeq, be64(next));
      txn.commit();
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<CaseState>> Store::get_case(const Id& id) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) { return impl_->load_case(txn, id); });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<CaseState>> Store::list_cases(const CaseFilter& f) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<CaseState> out;
      auto keep = [&](const CaseState& st) {
        if (f.conflict_only && !st.conflict) return false;
        if (f.status && (st.status != *f.status || (st.conflict && !f.conflict_only))) return false;
        return f.home_prefix.empty() || within(st.home, f.home_prefix);
      };
      auto full = [&] { return f.limit != 0 && out.size() >= f.limit; };
      std::string_view k, v;
      if (f.status || f.conflict_only) {
        const std::string prefix(
            1, static_cast<char>(f.conflict_only ? kConflictStatusKey
                                                 : static_cast<uint8_t>(*f.status)));
        Cursor c(txn, impl_->by_status);
        for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix) && !full();
             ok = c.move(MDB_NEXT, &k, &v)) {
          auto st = impl_->load_case(txn, id_from_key(k.substr(1)));
          if (st && keep(*st)) out.push_back(std::move(*st));
        }
        return out;
      }
      Cursor c(txn, impl_->cases);
      for (bool ok = c.move(MDB_FIRST, &k, &v); ok && !full(); ok = c.move(MDB_NEXT, &k, &v)) {
        auto st = decode_state(v);
        if (!st.ok()) throw MdbError(MDB_CORRUPTED, st.status().message());
        if (keep(*st)) out.push_back(std::move(st).value());
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Status Store::visit_cases(CaseIndex index, std::string_view part, const std::optional<Id>& after,
                          const std::function<bool(CaseState&&)>& fn) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> Status {
      std::string_view k, v;
      if (index == CaseIndex::cases) {
        Cursor c(txn, impl_->cases);
        bool ok = false;
        if (after) {
          const IdKey from(*after);
          ok = c.seek(from.view(), &k, &v);
          if (ok && k == from.view()) ok = c.move(MDB_NEXT, &k, &v);
        } else {
          ok = c.move(MDB_FIRST, &k, &v);
        }
        for (; ok; ok = c.move(MDB_NEXT, &k, &v)) {
          auto st = decode_state(v);
          if (!st.ok()) throw MdbError(MDB_CORRUPTED, st.status().message());
          if (!fn(std::move(st).value())) break;
        }
        return Status::ok();
      }
      MDB_dbi dbi = impl_->by_status;
      switch (index) {
        case CaseIndex::status:
          dbi = impl_->by_status;
          break;
        case CaseIndex::name:
          dbi = impl_->by_name;
          break;
        case CaseIndex::id_number:
          dbi = impl_->by_idno;
          break;
        case CaseIndex::phone:
          dbi = impl_->by_phone;
          break;
        case CaseIndex::item:
          dbi = impl_->by_item;
          break;
        case CaseIndex::cases:
          break;
      }
      std::string from(part);
      if (after) from.append(IdKey(*after).view());
      Cursor c(txn, dbi);
      bool ok = c.seek(from, &k, &v);
      if (ok && after && k == from) ok = c.move(MDB_NEXT, &k, &v);
      for (; ok && k.starts_with(part); ok = c.move(MDB_NEXT, &k, &v)) {
        if (k.size() != part.size() + kIdKeyLen)
          throw MdbError(MDB_CORRUPTED, "a search index has a malformed key");
        auto st = impl_->load_case(txn, id_from_key(k.substr(part.size())));
        if (!st) throw MdbError(MDB_CORRUPTED, "a search index names a case not held");
        if (!fn(std::move(*st))) break;
      }
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

std::optional<std::string> Store::search_part(CaseIndex index, std::string_view value) const {
  return storage::search_part(index, value, impl_->search_secret);
}

Result<std::vector<std::string>> Store::case_origins() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<std::string> out;
      Cursor c(txn, impl_->cases);
      std::string_view k, v;
      for (bool ok = c.move(MDB_FIRST, &k, &v); ok;) {
        if (k.size() != kIdKeyLen) throw MdbError(MDB_CORRUPTED, "cases has a malformed key");
        std::string code(k.substr(0, kMaxCodeLen));
        // Past every case of this origin: its code, then 8 bytes of 0xff.
        std::string next = code;
        next.append(8, '\xff');
        code.erase(code.find_last_not_of('\0') + 1);
        out.push_back(std::move(code));
        ok = c.seek(next, &k, &v);
        if (ok && k == next) ok = c.move(MDB_NEXT, &k, &v);
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<StoredEvent>> Store::case_events(const Id& id) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) { return impl_->load_case_events(txn, id); });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<std::string>> Store::read_log(uint64_t lsn) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> std::optional<std::string> {
      std::string_view v;
      if (!txn.get(impl_->log, be64(lsn), &v)) return std::nullopt;
      return std::string(v);
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<uint64_t>> Store::find(const Id& id) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> std::optional<uint64_t> {
      std::string_view v;
      if (!txn.get(impl_->ids, id_key(id), &v)) return std::nullopt;
      return get_be64(v);
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<std::optional<std::string>>> Store::imported(
    std::span<const std::string> keys) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<std::optional<std::string>> out;
      out.reserve(keys.size());
      for (const auto& k : keys) {
        std::string_view v;
        if (!k.empty() && txn.get(impl_->imports, k, &v)) {
          out.emplace_back(std::string(v));
        } else {
          out.emplace_back(std::nullopt);
        }
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<StoreStats> Store::stats() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      StoreStats s;
      s.events = txn.count(impl_->log);
      s.cases = txn.count(impl_->cases);
      s.last_lsn = impl_->last_lsn(txn);
      s.next_seq = impl_->meta_u64(txn, kMetaNextSeq, 1);
      MDB_envinfo info;
      mdb_env_info(impl_->env, &info);
      s.map_bytes = info.me_mapsize;
      return s;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<Notice>> Store::notices(EventKind kind) const {
  if (!is_broadcast(kind))
    return Status::invalid(std::string(kind_name(kind)) + " is not a broadcast");
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<Notice> out;
      const std::string prefix = notice_prefix(kind);
      Cursor c(txn, impl_->notices);
      std::string_view k, v;
      for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
           ok = c.move(MDB_NEXT, &k, &v)) {
        if (k.size() < 17 || v.size() != 8) throw MdbError(MDB_CORRUPTED, "bad notices entry");
        Notice n;
        n.lsn = get_be64(v);
        n.number = get_be64(k.substr(1, 8));
        n.origin = std::string(k.substr(17));
        std::string_view bytes;
        if (!txn.get(impl_->log, be64(n.lsn), &bytes))
          throw MdbError(MDB_CORRUPTED, "notices names a missing log entry");
        auto view = EventView::parse(bytes);
        if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
        auto body = view->event().getBody();
        capnp::Data::Reader doc;
        if (body.isCatalogPublished()) {
          doc = body.getCatalogPublished().getDocument();
        } else if (body.isCalendarPublished()) {
          doc = body.getCalendarPublished().getDocument();
        } else if (body.isRosterPublished()) {
          doc = body.getRosterPublished().getDocument();
        } else if (body.isDivisionsPublished()) {
          doc = body.getDivisionsPublished().getDocument();
        }
        n.document.assign(reinterpret_cast<const char*>(doc.begin()), doc.size());
        out.push_back(std::move(n));
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::vector<StoredEvent>> Store::audit_events(uint64_t since_hlc) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) {
      std::vector<StoredEvent> out;
      const std::string prefix = notice_prefix(EventKind::audit);
      std::string from = prefix;
      put_be64(from, since_hlc);
      Cursor c(txn, impl_->notices);
      std::string_view k, v;
      for (bool ok = c.seek(from, &k, &v); ok && k.starts_with(prefix);
           ok = c.move(MDB_NEXT, &k, &v)) {
        if (v.size() != 8) throw MdbError(MDB_CORRUPTED, "bad notices entry");
        const uint64_t lsn = get_be64(v);
        std::string_view bytes;
        if (!txn.get(impl_->log, be64(lsn), &bytes))
          throw MdbError(MDB_CORRUPTED, "notices names a missing log entry");
        auto view = EventView::parse(bytes);
        if (!view.ok()) throw MdbError(MDB_CORRUPTED, "stored event: " + view.status().message());
        out.push_back(StoredEvent{lsn, std::move(view).value()});
      }
      return out;
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

Result<std::optional<uint64_t>> Store::arrival_ms(uint64_t lsn) const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> std::optional<uint64_t> {
      if (lsn == 0 || lsn > impl_->last_lsn(txn)) return std::nullopt;
      // The entry at `lsn`, or else the one before it: the commit it was in.
      Cursor c(txn, impl_->arrivals);
      std::string_view k, v;
      const LsnKey key(lsn);
      const bool found = c.seek(key.view(), &k, &v);
      if (!found || k != key.view()) {
        if (!c.move(found ? MDB_PREV : MDB_LAST, &k, &v)) return std::nullopt;
      }
      if (v.size() != 8) return std::nullopt;
      return get_be64(v);
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

bool Store::nearly_full() const {
  return disk_full(impl_->opts.dir);
}

uint64_t Store::full_since_ms() const {
  return impl_->full_since.load();
}

Status Store::check_integrity() const {
  try {
    return impl_->with_txn(false, [&](Txn& txn) -> Status {
      const uint64_t last = impl_->last_lsn(txn);
      if (txn.count(impl_->log) != last)
        return Status::corruption(
            "log LSNs are not dense: " + std::to_string(txn.count(impl_->log)) + " entries, last " +
            std::to_string(last));
      if (txn.count(impl_->ids) != last)
        return Status::corruption("ids has " + std::to_string(txn.count(impl_->ids)) +
                                  " entries for " + std::to_string(last) + " log entries");
      std::map<std::string, std::vector<uint64_t>> by_case;
      std::map<std::string, uint64_t> notice_lsn;  // notices key -> LSN
      KeyRing ring;                                // rebuilt from the log's key events
      uint64_t own_max = 0;
      std::string_view k, v;
      {
        Cursor c(txn, impl_->log);
        uint64_t expect = 1;
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v), ++expect) {
          const uint64_t lsn = get_be64(k);
          if (lsn != expect) return Status::corruption("log gap at LSN " + std::to_string(expect));
          auto view = EventView::parse(v);
          if (!view.ok())
            return Status::corruption("log " + std::to_string(lsn) + ": " +
                                      view.status().message());
          std::string_view at;
          if (!txn.get(impl_->ids, id_key(view->id()), &at) || get_be64(at) != lsn)
            return Status::corruption("ids does not map " + format_id(view->id()) + " to LSN " +
                                      std::to_string(lsn));
          if (view->id().origin == code_) own_max = std::max(own_max, view->id().seq);
          if (view->kind() == EventKind::fee_collected &&
              !impl_->receipt_case(txn, view->id().origin,
                                   view->event().getBody().getFeeCollected().getReceiptNo().cStr()))
            return Status::corruption("receipts does not hold the receipt number of " +
                                      format_id(view->id()));
          if (names_case(view->kind())) {
            by_case[id_key(view->case_id())].push_back(lsn);
          } else {
            notice_lsn.emplace(notice_key(*view), lsn);
          }
          if (is_key_event(view->kind())) {
            if (auto r = ring.apply(*view); !r.ok())
              return Status::corruption("log " + std::to_string(lsn) + ": " + r.status().message());
          }
        }
      }
      // keyring == the key events of the log (their order does not matter).
      KeyRing stored_ring;
      {
        Cursor c(txn, impl_->keyring);
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
          auto row = KeyRing::decode(k, v);
          if (!row) return Status::corruption("keyring has a malformed entry");
          stored_ring.put(*row);
        }
      }
      if (!(stored_ring == ring))
        return Status::corruption("keyring does not match the key events in the log");
      if (txn.count(impl_->notices) != notice_lsn.size())
        return Status::corruption("notices has " + std::to_string(txn.count(impl_->notices)) +
                                  " entries for " + std::to_string(notice_lsn.size()) +
                                  " notices in the log");
      for (const auto& entry : notice_lsn) {
        std::string_view at;
        if (!txn.get(impl_->notices, entry.first, &at) || at.size() != 8 ||
            get_be64(at) != entry.second)
          return Status::corruption("notices does not map the notice at LSN " +
                                    std::to_string(entry.second));
      }
      {
        Cursor c(txn, impl_->arrivals);
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
          if (k.size() != 8 || v.size() != 8 || get_be64(k) == 0 || get_be64(k) > last)
            return Status::corruption("arrivals has an entry for no log entry");
        }
      }
      // The databases no index explains: every page read (a damaged page
      // shows here, not at the daemon's next read), every entry well formed.
      for (MDB_dbi d :
           {impl_->cursors, impl_->blobs, impl_->blob_have, impl_->quarantine, impl_->imports}) {
        Cursor c(txn, d);
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
        }
      }
      {
        Cursor c(txn, impl_->keys);
        for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
          if (v.size() != 32 || !valid_code(k))
            return Status::corruption("keys has a malformed entry");
        }
      }
      {
        std::string_view mv;
        if (!txn.get(impl_->meta, kMetaCode, &mv) || mv != code_)
          return Status::corruption("meta does not hold this node's code");
        for (const char* key : {kMetaNextSeq, kMetaSchema, kMetaHlc}) {
          if (txn.get(impl_->meta, key, &mv) && mv.size() != 8)
            return Status::corruption(std::string("meta ") + key + " is malformed");
        }
      }
      if (impl_->meta_u64(txn, kMetaNextSeq, 1) <= own_max)
        return Status::corruption("next_seq is not above the highest own sequence number");
      uint64_t ce = 0;
      for (const auto& [ck, lsns] : by_case) {
        for (uint64_t lsn : lsns) {
          std::string_view unused;
          if (!txn.get(impl_->case_events, ck + be64(lsn), &unused))
            return Status::corruption("case_events lacks LSN " + std::to_string(lsn));
          ++ce;
        }
      }
      if (txn.count(impl_->case_events) != ce)
        return Status::corruption("case_events has entries the log does not explain");
      if (txn.count(impl_->cases) != by_case.size())
        return Status::corruption("cases has " + std::to_string(txn.count(impl_->cases)) +
                                  " entries for " + std::to_string(by_case.size()) +
                                  " cases in the log");
      std::array<std::size_t, kIndexCount> index_count{};
      for (const auto& [ck, lsns] : by_case) {
        const Id id = id_from_key(ck);
        auto events = impl_->load_case_events(txn, id);
        std::vector<const EventView*> views;
        for (const auto& e : events)
          views.push_back(&e.view);
        const CaseState expect = fold(views);
        auto cached = impl_->load_case(txn, id);
        if (!cached || !(*cached == expect))
          return Status::corruption("cached state of case " + format_id(id) +
                                    " differs from its events");
        IndexKeys keys;
        index_keys(expect, impl_->search_secret, keys);
        for (int which = 0; which < kIndexCount; ++which) {
          if (keys[which].empty()) continue;
          std::string_view unused;
          if (!txn.get(impl_->index_dbi(which), keys[which], &unused))
            return Status::corruption("index entry missing for case " + format_id(id));
          ++index_count[which];
        }
      }
      for (int which = 0; which < kIndexCount; ++which) {
        if (txn.count(impl_->index_dbi(which)) != index_count[which])
          return Status::corruption("an index holds entries no case explains");
      }
      return Status::ok();
    });
  } catch (const MdbError& e) {
    return to_status(e, impl_->opts.dir);
  }
}

}  // namespace liandong::storage
