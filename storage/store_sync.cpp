// Sync state: the `cursors` database (peer cursors, custody marks), the
// parent's clock, and this node's own sequence numbers.
#include "protocol/hlc.h"
#include "storage/store_impl.h"

namespace liandong::storage {

void SyncWriter::put(std::string_view key, std::string_view value) {
  MDB_val k = as_val(key), v = as_val(value);
  mdb_check(mdb_put(static_cast<MDB_txn*>(txn_), dbi_, &k, &v, 0), "mdb_put", "cursors");
}

void SyncWriter::del(std::string_view key) {
  MDB_val k = as_val(key);
  const int rc = mdb_del(static_cast<MDB_txn*>(txn_), dbi_, &k, nullptr);
  if (rc != MDB_NOTFOUND) mdb_check(rc, "mdb_del", "cursors");
}

Result<std::optional<std::string>> Store::sync_get(std::string_view key) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<std::string> {
    std::string_view v;
    if (!txn.get(impl_->cursors, key, &v)) return std::nullopt;
    return std::string(v);
  });
}

Status Store::sync_put(std::string_view key, std::string_view value) {
  return impl_->txns.write([&](Txn& txn) {
    txn.put(impl_->cursors, key, value);
    txn.commit();
    return Status::ok();
  });
}

Result<std::optional<std::pair<std::string, std::string>>> Store::sync_floor(
    std::string_view prefix, std::string_view key) const {
  using Entry = std::optional<std::pair<std::string, std::string>>;
  return impl_->txns.read([&](Txn& txn) -> Entry {
    Cursor c(txn, impl_->cursors);
    std::string_view k, v;
    bool ok = c.seek(key, &k, &v);
    if (ok && k == key) return std::pair(std::string(k), std::string(v));
    ok = ok ? c.move(MDB_PREV, &k, &v) : c.move(MDB_LAST, &k, &v);
    if (!ok || !k.starts_with(prefix)) return std::nullopt;
    return std::pair(std::string(k), std::string(v));
  });
}

Result<std::vector<std::pair<std::string, std::string>>> Store::sync_scan(
    std::string_view prefix) const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<std::pair<std::string, std::string>> out;
    Cursor c(txn, impl_->cursors);
    std::string_view k, v;
    for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
         ok = c.move(MDB_NEXT, &k, &v))
      out.emplace_back(k, v);
    return out;
  });
}

Status Store::sync_erase(std::span<const std::string> keys) {
  return impl_->txns.write([&](Txn& txn) {
    for (const auto& k : keys)
      txn.del(impl_->cursors, k);
    txn.commit();
    return Status::ok();
  });
}

Status Store::note_parent_clock(const ParentClock& c) {
  return impl_->txns.write([&](Txn& txn) {
    txn.put(impl_->meta, kMetaParentClock, encode_parent_clock(c));
    txn.commit();
    return Status::ok();
  });
}

Result<std::optional<ParentClock>> Store::parent_clock() const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<ParentClock> {
    std::string_view v;
    if (!txn.get(impl_->meta, kMetaParentClock, &v)) return std::nullopt;
    auto pc = decode_parent_clock(v);
    if (!pc) throw_corrupt("meta parent_clock is malformed");
    return pc;
  });
}

Result<uint64_t> Store::max_seq(std::string_view origin) const {
  if (origin.empty() || origin.size() > kMaxCodeLen) return uint64_t{0};
  return impl_->txns.read([&](Txn& txn) -> uint64_t {
    const std::string last = id_key(Id{std::string(origin), ~uint64_t{0}});
    const std::string_view prefix(last.data(), kMaxCodeLen);
    Cursor c(txn, impl_->ids);
    std::string_view k, v;
    bool ok = c.seek(last, &k, &v);
    if (ok && k == last) return get_be64(k.substr(kMaxCodeLen));
    ok = ok ? c.move(MDB_PREV, &k, &v) : c.move(MDB_LAST, &k, &v);
    if (!ok || !k.starts_with(prefix)) return 0;
    if (k.size() != kIdKeyLen) throw_corrupt("ids has a malformed key");
    return get_be64(k.substr(kMaxCodeLen));
  });
}

Status Store::reserve_seq(uint64_t next) {
  return impl_->txns.write([&](Txn& txn) {
    if (impl_->meta_u64(txn, kMetaNextSeq, 1) >= next) return Status::ok();
    txn.put(impl_->meta, kMetaNextSeq, be64(next));
    txn.commit();
    return Status::ok();
  });
}

}  // namespace liandong::storage
