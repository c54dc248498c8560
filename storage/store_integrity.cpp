// The integrity check: every index and cached state re-derived from the
// log and compared (Store::check_integrity).
#include <map>

#include "storage/store_impl.h"
#include "storage/store_write.h"

namespace liandong::storage {

Status Store::check_integrity() const {
  return impl_->txns.read([&](Txn& txn) -> Status {
    const uint64_t last = impl_->last_lsn(txn);
    if (txn.count(impl_->log) != last)
      return Status::corruption("log LSNs are not dense: " + std::to_string(txn.count(impl_->log)) +
                                " entries, last " + std::to_string(last));
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
          return Status::corruption("log " + std::to_string(lsn) + ": " + view.status().message());
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
}

}  // namespace liandong::storage
