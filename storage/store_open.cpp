// Making and opening a store: the environment, its databases, the schema
// check, and the one-time fills of indexes added after a store was made.
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "storage/fees.h"
#include "storage/store_check.h"
#include "storage/store_impl.h"

namespace liandong::storage {

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Store::Impl::~Impl() {
  store_lock.release();
  if (env != nullptr) mdb_env_close(env);
}

namespace {

// LMDB found the store inconsistent (a damaged file) and would abort: say
// so in one line and end the process (nothing uncommitted is kept anyway).
void on_mdb_assert(MDB_env*, const char* msg) {
  std::string line = "错误：存储文件损坏 (store file damaged; LMDB: " + std::string(msg) +
                     "): run `liandong store check --deep`\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  ::_exit(3);
}

// Calls fn(lsn, event) for every event of the log.
template <typename Fn>
void each_logged(const Store::Impl& impl, const Txn& txn, Fn&& fn) {
  Cursor c(txn, impl.log);
  std::string_view k, v;
  for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
    auto view = EventView::parse(v);
    if (!view.ok()) throw_corrupt("stored event: " + view.status().message());
    if (k.size() != 8) throw_corrupt("log has a malformed key");
    fn(get_be64(k), *view);
  }
}

// Fills the search indexes (a store made before they existed): each case
// is folded again from its events (older states lack the phone) and
// written back with every index entry.
void fill_search(Store::Impl& impl, Txn& txn) {
  std::vector<IdKey> held;
  {
    Cursor c(txn, impl.cases);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
      if (k.size() != kIdKeyLen) throw_corrupt("cases has a malformed key");
      held.emplace_back(id_from_key(k));
    }
  }
  IndexKeys old_keys, now;
  for (const IdKey& key : held) {
    auto before = impl.load_case(txn, key);
    const Id id = id_from_key(key.view());
    auto events = impl.load_case_events(txn, id);
    std::vector<const EventView*> views;
    for (const auto& e : events)
      views.push_back(&e.view);
    if (views.empty() || !before) continue;
    CaseState st = fold(views);
    st.case_id = id;
    index_keys(*before, impl.search_secret, old_keys);
    index_keys(st, impl.search_secret, now);
    for (int which = 0; which < kIndexCount; ++which) {
      if (!old_keys[which].empty()) txn.del(impl.index_dbi(which), old_keys[which]);
      if (!now[which].empty()) txn.put(impl.index_dbi(which), now[which], "");
    }
    txn.put(impl.cases, key.view(), encode_state(st));
  }
}

// A store of another schema version is refused before anything is written
// to it (opening the databases would create them in it).
Status check_schema(const Store::Impl& impl) {
  return impl.txns.read([&](Txn& txn) {
    MDB_dbi meta;
    const int mrc = mdb_dbi_open(txn.get(), "meta", 0, &meta);
    if (mrc == MDB_NOTFOUND) return Status::ok();  // an interrupted init
    mdb_check(mrc, "mdb_dbi_open", "meta");
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
}

// Opens (creating where missing) every database, loads the key directory
// and the search key, and fills indexes a store made before them lacks.
Status open_databases(Store::Impl& impl) {
  return impl.txns.write([&](Txn& txn) {
    // Opens database `name`; `created` (if given) tells whether it was new.
    auto dbi = [&](const char* name, bool* created = nullptr) {
      MDB_dbi d;
      int rc = mdb_dbi_open(txn.get(), name, 0, &d);
      if (created != nullptr) *created = rc == MDB_NOTFOUND;
      if (rc == MDB_NOTFOUND) rc = mdb_dbi_open(txn.get(), name, MDB_CREATE, &d);
      mdb_check(rc, "mdb_dbi_open", name);
      impl.txns.name(d, name);
      return d;
    };
    impl.log = dbi("log");
    impl.ids = dbi("ids");
    impl.case_events = dbi("case_events");
    impl.cases = dbi("cases");
    impl.by_status = dbi("by_status");
    impl.by_home = dbi("by_home");
    impl.by_due = dbi("by_due");
    impl.cursors = dbi("cursors");
    impl.blobs = dbi("blobs");
    impl.blob_have = dbi("blob_have");
    impl.keys = dbi("keys");
    impl.meta = dbi("meta");
    impl.arrivals = dbi("arrivals");
    impl.keyring = dbi("keyring");
    impl.quarantine = dbi("quarantine");
    impl.imports = dbi("imports");
    impl.ring = std::make_shared<const KeyRing>(impl.load_ring(txn));
    impl.ring_gen = impl.meta_u64(txn, kMetaKeyringGen, 0);
    // A store made before `notices` existed: create it, index the log once.
    bool created = false;
    impl.notices = dbi("notices", &created);
    if (created) {
      each_logged(impl, txn, [&](uint64_t lsn, const EventView& ev) {
        if (!names_case(ev.kind())) impl.put_notice(txn, ev, LsnKey(lsn));
      });
    }
    // Likewise `receipts`.
    impl.receipts = dbi("receipts", &created);
    if (created) {
      each_logged(impl, txn, [&](uint64_t, const EventView& ev) {
        if (ev.kind() == EventKind::fee_collected) impl.put_receipt(txn, ev);
      });
    }
    // The search indexes' key, made once per store; a store made before
    // the search indexes existed gets them from its cases, once.
    std::string_view secret;
    if (txn.get(impl.meta, kMetaSearchKey, &secret)) {
      if (secret.size() != impl.search_secret.size()) throw_corrupt("meta search_key is malformed");
      std::copy(secret.begin(), secret.end(), impl.search_secret.begin());
    } else {
      crypto_ready();
      randombytes_buf(impl.search_secret.data(), impl.search_secret.size());
      txn.put(impl.meta, kMetaSearchKey,
              std::string_view(reinterpret_cast<const char*>(impl.search_secret.data()),
                               impl.search_secret.size()));
    }
    bool no_search = false;
    impl.by_name = dbi("by_name", &no_search);
    impl.by_idno = dbi("by_idno");
    impl.by_phone = dbi("by_phone");
    impl.by_item = dbi("by_item");
    if (no_search) fill_search(impl, txn);
    txn.commit();
    return Status::ok();
  });
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
  auto impl = std::make_unique<Store::Impl>(opts);
  try {
    mdb_check(mdb_env_create(&impl->env), "mdb_env_create");
    mdb_check(mdb_env_set_assert(impl->env, on_mdb_assert), "mdb_env_set_assert");
    mdb_check(mdb_env_set_maxdbs(impl->env, kMaxDbs), "mdb_env_set_maxdbs");
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
    impl->txns.attach(impl->env);
    int dead = 0;
    mdb_reader_check(impl->env, &dead);  // clear slots of crashed readers
  } catch (const MdbError& e) {
    return to_status(e, opts.dir);
  }
  if (!create) {
    if (auto s = check_schema(*impl); !s) return s;
  }
  if (auto s = open_databases(*impl); !s) return s;
  impl->txns.load_full_marker();
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
  Impl& im = *store->impl_;
  Status s = im.txns.write([&](Txn& txn) {
    std::string_view existing;
    if (txn.get(im.meta, kMetaCode, &existing))
      return Status::invalid("a store already exists in " + opts.dir.string());
    txn.put(im.meta, kMetaCode, store->code_);
    txn.put(im.meta, kMetaStoreId, store->store_id_);
    txn.put(im.meta, kMetaSchema, be64(kSchemaVersion));
    txn.put(im.meta, kMetaNextSeq, be64(1));
    txn.commit();
    return Status::ok();
  });
  if (!s) return s;
  im.code = store->code_;
  return store;
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& opts) {
  auto impl = open_env(opts, false);
  if (!impl.ok()) return impl.status();
  std::unique_ptr<Store> store(new Store(std::move(impl).value()));
  Impl& im = *store->impl_;
  Status s = im.txns.read([&](Txn& txn) {
    std::string_view v;
    if (!txn.get(im.meta, kMetaCode, &v))
      return Status::not_found("no store in " + opts.dir.string() +
                               " (an earlier init was interrupted: run `liandong init` again)");
    store->code_ = std::string(v);
    if (txn.get(im.meta, kMetaStoreId, &v)) store->store_id_ = std::string(v);
    const uint64_t schema = im.meta_u64(txn, kMetaSchema, 0);
    if (schema != kSchemaVersion)
      return Status::invalid("store schema version " + std::to_string(schema) +
                             " is not the supported " + std::to_string(kSchemaVersion));
    return Status::ok();
  });
  if (!s) return s;
  im.code = store->code_;
  return store;
}

bool Store::nearly_full() const {
  return disk_full(impl_->opts.dir);
}

uint64_t Store::full_since_ms() const {
  return impl_->txns.full_since_ms();
}

}  // namespace liandong::storage
