// Reads of the store: the log, cases and their indexes, notices, arrivals.
#include <algorithm>

#include "storage/fees.h"
#include "storage/store_impl.h"

namespace liandong::storage {

// ---- reads inside a transaction ----

uint64_t Store::Impl::last_lsn(const Txn& txn) const {
  Cursor c(txn, log);
  std::string_view k;
  if (!c.move(MDB_LAST, &k)) return 0;
  if (k.size() != 8) throw_corrupt("log has a malformed key");
  return get_be64(k);
}

uint64_t Store::Impl::meta_u64(const Txn& txn, const char* key, uint64_t dflt) const {
  std::string_view v;
  if (!txn.get(meta, key, &v)) return dflt;
  auto n = u64_value(v);
  if (!n) throw_corrupt(std::string("meta ") + key + " is malformed");
  return *n;
}

std::optional<CaseState> Store::Impl::load_case(const Txn& txn, const Id& id) const {
  return load_case(txn, IdKey(id));
}

std::optional<CaseState> Store::Impl::load_case(const Txn& txn, const IdKey& key) const {
  std::string_view v;
  if (!txn.get(cases, key.view(), &v)) return std::nullopt;
  auto st = decode_state(v);
  if (!st.ok()) throw_corrupt("cases: " + st.status().message());
  return std::move(st).value();
}

EventView Store::Impl::load_event(const Txn& txn, uint64_t lsn, const char* who) const {
  std::string_view bytes;
  if (!txn.get(log, LsnKey(lsn).view(), &bytes))
    throw_corrupt(std::string(who) + " names a missing log entry");
  auto view = EventView::parse(bytes);
  if (!view.ok()) throw_corrupt("stored event: " + view.status().message());
  return std::move(view).value();
}

std::vector<StoredEvent> Store::Impl::load_case_events(const Txn& txn, const Id& id) const {
  std::vector<StoredEvent> out;
  const std::string prefix = id_key(id);
  Cursor c(txn, case_events);
  std::string_view k, v;
  for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
       ok = c.move(MDB_NEXT, &k, &v)) {
    if (k.size() != kIdKeyLen + 8) throw_corrupt("case_events has a malformed key");
    const uint64_t lsn = get_be64(k.substr(kIdKeyLen));
    out.push_back(StoredEvent{lsn, load_event(txn, lsn, "case_events")});
  }
  std::sort(out.begin(), out.end(), [](const StoredEvent& a, const StoredEvent& b) {
    return order_key(a.view) < order_key(b.view);
  });
  return out;
}

std::optional<std::string> Store::Impl::receipt_case(const Txn& txn, std::string_view origin,
                                                     std::string_view receipt_no) const {
  std::string_view v;
  if (!txn.get(receipts, receipt_key(origin, receipt_no), &v)) return std::nullopt;
  return std::string(v);
}

std::optional<PublicKey> Store::Impl::first_key(const Txn& txn, std::string_view origin) const {
  std::string_view v;
  if (!txn.get(keys, origin, &v)) return std::nullopt;
  auto k = key_value(v);
  if (!k) throw_corrupt("keys holds a malformed key for " + std::string(origin));
  return k;
}

// ---- the public reads ----

Status Store::scan_log(uint64_t after, std::size_t max_entries,
                       const std::function<bool(uint64_t, std::string_view)>& fn) const {
  return impl_->txns.read([&](Txn& txn) {
    Cursor c(txn, impl_->log);
    std::string_view k, v;
    std::size_t seen = 0;
    for (bool ok = c.seek(be64(after + 1), &k, &v); ok && seen < max_entries;
         ok = c.move(MDB_NEXT, &k, &v)) {
      ++seen;
      if (k.size() != 8) throw_corrupt("log has a malformed key");
      if (!fn(get_be64(k), v)) break;
    }
    return Status::ok();
  });
}

Result<std::optional<CaseState>> Store::get_case(const Id& id) const {
  return impl_->txns.read([&](Txn& txn) { return impl_->load_case(txn, id); });
}

Result<std::vector<CaseState>> Store::list_cases(const CaseFilter& f) const {
  return impl_->txns.read([&](Txn& txn) {
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
        if (k.size() != 1 + kIdKeyLen) throw_corrupt("by_status has a malformed key");
        auto st = impl_->load_case(txn, id_from_key(k.substr(1)));
        if (!st) throw_corrupt("by_status names a case not held");
        if (keep(*st)) out.push_back(std::move(*st));
      }
      return out;
    }
    Cursor c(txn, impl_->cases);
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok && !full(); ok = c.move(MDB_NEXT, &k, &v)) {
      auto st = decode_state(v);
      if (!st.ok()) throw_corrupt("cases: " + st.status().message());
      if (keep(*st)) out.push_back(std::move(st).value());
    }
    return out;
  });
}

Status Store::visit_cases(CaseIndex index, std::string_view part, const std::optional<Id>& after,
                          const std::function<bool(CaseState&&)>& fn) const {
  return impl_->txns.read([&](Txn& txn) -> Status {
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
        if (!st.ok()) throw_corrupt("cases: " + st.status().message());
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
        throw_corrupt(std::string(txn.name(dbi) ? txn.name(dbi) : "an index") +
                      " has a malformed key");
      auto st = impl_->load_case(txn, id_from_key(k.substr(part.size())));
      if (!st)
        throw_corrupt(std::string(txn.name(dbi) ? txn.name(dbi) : "an index") +
                      " names a case not held");
      if (!fn(std::move(*st))) break;
    }
    return Status::ok();
  });
}

std::optional<std::string> Store::search_part(CaseIndex index, std::string_view value) const {
  return storage::search_part(index, value, impl_->search_secret);
}

Result<std::vector<std::string>> Store::case_origins() const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<std::string> out;
    Cursor c(txn, impl_->cases);
    std::string_view k, v;
    for (bool ok = c.move(MDB_FIRST, &k, &v); ok;) {
      if (k.size() != kIdKeyLen) throw_corrupt("cases has a malformed key");
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
}

Result<std::vector<StoredEvent>> Store::case_events(const Id& id) const {
  return impl_->txns.read([&](Txn& txn) { return impl_->load_case_events(txn, id); });
}

Result<std::optional<std::string>> Store::read_log(uint64_t lsn) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<std::string> {
    std::string_view v;
    if (!txn.get(impl_->log, LsnKey(lsn).view(), &v)) return std::nullopt;
    return std::string(v);
  });
}

Result<std::optional<uint64_t>> Store::find(const Id& id) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<uint64_t> {
    std::string_view v;
    if (!txn.get(impl_->ids, IdKey(id).view(), &v)) return std::nullopt;
    auto lsn = u64_value(v);
    if (!lsn) throw_corrupt("ids has a malformed LSN for " + format_id(id));
    return lsn;
  });
}

Result<std::vector<std::optional<std::string>>> Store::imported(
    std::span<const std::string> keys) const {
  return impl_->txns.read([&](Txn& txn) {
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
}

Result<StoreStats> Store::stats() const {
  return impl_->txns.read([&](Txn& txn) {
    StoreStats s;
    s.events = txn.count(impl_->log);
    s.cases = txn.count(impl_->cases);
    s.last_lsn = impl_->last_lsn(txn);
    s.next_seq = impl_->meta_u64(txn, kMetaNextSeq, 1);
    MDB_envinfo info;
    mdb_check(mdb_env_info(impl_->env, &info), "mdb_env_info");
    s.map_bytes = info.me_mapsize;
    MDB_stat st;
    mdb_check(mdb_env_stat(impl_->env, &st), "mdb_env_stat");
    s.used_bytes = (info.me_last_pgno + 1) * std::size_t{st.ms_psize};
    return s;
  });
}

Result<std::vector<Notice>> Store::notices(EventKind kind) const {
  if (!is_broadcast(kind))
    return Status::invalid(std::string(kind_name(kind)) + " is not a broadcast");
  return impl_->txns.read([&](Txn& txn) {
    std::vector<Notice> out;
    const std::string prefix = notice_prefix(kind);
    Cursor c(txn, impl_->notices);
    std::string_view k, v;
    for (bool ok = c.seek(prefix, &k, &v); ok && k.starts_with(prefix);
         ok = c.move(MDB_NEXT, &k, &v)) {
      if (k.size() < 17 || v.size() != 8) throw_corrupt("notices has a malformed entry");
      Notice n;
      n.lsn = get_be64(v);
      n.number = get_be64(k.substr(1, 8));
      n.origin = std::string(k.substr(17));
      const EventView view = impl_->load_event(txn, n.lsn, "notices");
      n.document = std::string(notice_document(view));
      out.push_back(std::move(n));
    }
    return out;
  });
}

Result<std::vector<StoredEvent>> Store::audit_events(uint64_t since_hlc) const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<StoredEvent> out;
    const std::string prefix = notice_prefix(EventKind::audit);
    std::string from = prefix;
    put_be64(from, since_hlc);
    Cursor c(txn, impl_->notices);
    std::string_view k, v;
    for (bool ok = c.seek(from, &k, &v); ok && k.starts_with(prefix);
         ok = c.move(MDB_NEXT, &k, &v)) {
      if (v.size() != 8) throw_corrupt("notices has a malformed entry");
      const uint64_t lsn = get_be64(v);
      out.push_back(StoredEvent{lsn, impl_->load_event(txn, lsn, "notices")});
    }
    return out;
  });
}

Result<std::optional<uint64_t>> Store::arrival_ms(uint64_t lsn) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<uint64_t> {
    if (lsn == 0 || lsn > impl_->last_lsn(txn)) return std::nullopt;
    // The entry at `lsn`, or else the one before it: the commit it was in.
    Cursor c(txn, impl_->arrivals);
    std::string_view k, v;
    const LsnKey key(lsn);
    const bool found = c.seek(key.view(), &k, &v);
    if (!found || k != key.view()) {
      if (!c.move(found ? MDB_PREV : MDB_LAST, &k, &v)) return std::nullopt;
    }
    auto ms = u64_value(v);
    if (!ms) throw_corrupt("arrivals has a malformed entry");
    return ms;
  });
}

}  // namespace liandong::storage
