// What one write transaction of the store carries while it applies events:
// the case states it touched, the key directory as it changes, and the
// first keys it read. Used by store_write.cpp, store_apply.cpp and
// store_local.cpp only.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/store_impl.h"

namespace liandong::storage {

inline bool is_key_event(EventKind k) {
  return k == EventKind::key_rotated || k == EventKind::keys_published;
}

// A case state a write transaction changed; written back once, at the end
// of the transaction.
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

// The touched cases, in the order first touched.
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

// The key directory as one write transaction sees it: key events applied
// so far in the transaction, written to `keyring` as they apply, and put in
// memory just before the commit (restored if the commit fails).
class KeyWork {
 public:
  // Inside the write transaction `txn`: the directory as it holds it (read
  // again when another process changed it since this one last did).
  KeyWork(Store::Impl& impl, const Txn& txn);

  const KeyRing& view() const { return working_ ? *working_ : *base_; }

  // Applies a key event; a refusal changes nothing.
  Status apply(Txn& txn, const EventView& ev);
  // Commits `txn`, the changed directory with it.
  void commit(Txn& txn);

 private:
  Store::Impl& impl_;
  std::shared_ptr<const KeyRing> base_;
  uint64_t gen_ = 0;
  std::optional<KeyRing> working_;
};

// Each origin's first key, read once per transaction.
class FirstKeys {
 public:
  FirstKeys(const Txn& txn, const Store::Impl& impl) : txn_(txn), impl_(impl) {}
  const std::optional<PublicKey>& of(const std::string& origin) {
    auto it = cache_.find(origin);
    if (it != cache_.end()) return it->second;
    return cache_.emplace(origin, impl_.first_key(txn_, origin)).first->second;
  }

 private:
  const Txn& txn_;
  const Store::Impl& impl_;
  std::unordered_map<std::string, std::optional<PublicKey>> cache_;
};

}  // namespace liandong::storage
