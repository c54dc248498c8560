// The key directory: each origin's first key (`keys`), the keys key events
// named (`keyring`, held in memory), and the quarantine of events signed
// with retired or revoked keys.
#include "storage/store_impl.h"

namespace liandong::storage {

Status Store::put_key(std::string_view code, const PublicKey& key) {
  if (!valid_code(code))
    return Status::invalid("'" + std::string(code) + "' is not a division code");
  Status s = impl_->txns.write([&](Txn& txn) {
    txn.put(impl_->keys, code,
            std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    txn.commit();
    return Status::ok();
  });
  if (!s) return s;
  std::lock_guard lock(impl_->keys_mu);
  impl_->key_cache[std::string(code)] = key;
  return Status::ok();
}

Result<std::optional<PublicKey>> Store::key(std::string_view code) const {
  {
    std::lock_guard lock(impl_->keys_mu);
    auto it = impl_->key_cache.find(std::string(code));
    if (it != impl_->key_cache.end()) return std::optional(it->second);
  }
  auto k = impl_->txns.read([&](Txn& txn) { return impl_->first_key(txn, code); });
  if (k.ok() && *k) {
    std::lock_guard lock(impl_->keys_mu);
    impl_->key_cache[std::string(code)] = **k;
  }
  return k;
}

KeyRing Store::keyring() const {
  return *impl_->ring_now();
}

Result<std::optional<PublicKey>> Store::signing_key_of(const EventView& ev) const {
  auto first = key(ev.id().origin);
  if (!first.ok()) return first;
  if (!*first && !impl_->ring_now()->has_entries(ev.id().origin)) return std::optional<PublicKey>();
  if (auto s = named_signer(ev)) return s;
  return first;
}

Result<std::vector<std::pair<std::string, PublicKey>>> Store::first_keys() const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<std::pair<std::string, PublicKey>> out;
    Cursor c(txn, impl_->keys);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
      auto pk = key_value(v);
      if (!pk) throw_corrupt("keys holds a malformed key for " + std::string(k));
      out.emplace_back(std::string(k), *pk);
    }
    return out;
  });
}

Result<std::vector<Quarantined>> Store::quarantined() const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<Quarantined> out;
    Cursor c(txn, impl_->quarantine);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
      auto q = decode_quarantined(v);
      if (!q) throw_corrupt("quarantine has a malformed entry");
      out.push_back(Quarantined{q->arrival_ms, std::string(q->reason), std::string(q->sealed)});
    }
    return out;
  });
}

}  // namespace liandong::storage
