// Applying events inside a write transaction: append to the log, dedup,
// fold into the case state, index, quarantine.
#include <algorithm>

#include "protocol/hlc.h"
#include "storage/fees.h"
#include "storage/store_write.h"

namespace liandong::storage {

std::optional<uint64_t> Store::Impl::claim_id(Txn& txn, const IdKey& key, uint64_t lsn) {
  const LsnKey value(lsn);
  std::string_view had;
  if (txn.put_new(ids, key.view(), value.view(), &had)) return std::nullopt;
  if (had.size() != 8) throw_corrupt("ids has a malformed LSN");
  return get_be64(had);
}

void Store::Impl::fold_in(const Txn& txn, CaseState& st, const EventView& ev) const {
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

std::string Store::Impl::clock_fault(const Txn& txn, uint64_t wall) const {
  if (!stamp_in_range(wall)) return clock_range_message(wall);
  std::string_view v;
  if (!txn.get(meta, kMetaParentClock, &v)) return {};
  const auto pc = decode_parent_clock(v);
  if (!pc) throw_corrupt("meta parent_clock is malformed");
  const auto skew = clock_skew_ms(*pc, wall, boot_clock_ms(), boot_id());
  return skew ? clock_fault_message(*skew, pc->parent_code) : std::string();
}

Result<EventView> Store::Impl::load_superseded(const Txn& txn, const Id& id,
                                               const std::string& own) const {
  if (id.origin != own)
    return Status::invalid("only this node's own events can be re-issued here; " + format_id(id) +
                           " is " + id.origin + "'s");
  std::string_view lsn;
  if (!txn.get(ids, IdKey(id).view(), &lsn))
    return Status::not_found("no event " + format_id(id) + " here");
  if (lsn.size() != 8) throw_corrupt("ids has a malformed LSN");
  EventView view = load_event(txn, get_be64(lsn), "ids");
  if (!names_case(view.kind()))
    return Status::invalid("event " + format_id(id) + " is not a case event");
  auto st = load_case(txn, view.case_id());
  if (st && std::binary_search(st->superseded.begin(), st->superseded.end(), id))
    return Status::invalid("event " + format_id(id) + " was re-issued already");
  return view;
}

std::optional<CaseState> Store::Impl::fold_without(const Txn& txn, const Id& case_id,
                                                   const Id& skip) const {
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

void Store::Impl::start_from(Touched& t, std::optional<CaseState> before) const {
  t.loaded = true;
  if (before) {
    t.existed = true;
    index_keys(*before, search_secret, t.old_index);
    t.now = std::move(*before);
  }
}

void Store::Impl::store_one(Txn& txn, const EventView& ev, uint64_t lsn, TouchedCases& touched,
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
  if (attachments_of(ev.event()).size() != 0) want_files(txn, ev, lsn);
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

void Store::Impl::put_arrival(Txn& txn, uint64_t first_lsn, uint64_t last) {
  if (first_lsn > last) return;
  txn.put(arrivals, LsnKey(first_lsn).view(), be64(wall_ms()), MDB_APPEND);
}

void Store::Impl::put_notice(Txn& txn, const EventView& ev, const LsnKey& lsn_key) {
  txn.put(notices, notice_key(ev), lsn_key.view());
}

void Store::Impl::put_receipt(Txn& txn, const EventView& ev) {
  const std::string k =
      receipt_key(ev.id().origin, ev.event().getBody().getFeeCollected().getReceiptNo().cStr());
  (void)txn.put_new(receipts, k, format_id(ev.case_id()));
}

bool Store::Impl::hold(Txn& txn, const EventView& ev, const std::string& reason) {
  const std::string k = quarantine_key(ev);
  std::string_view had;
  if (txn.get(quarantine, k, &had)) return true;
  if (txn.count(quarantine) >= kMaxQuarantined) return false;
  txn.put(quarantine, k, encode_quarantined(wall_ms(), reason, ev.sealed()));
  return true;
}

void Store::Impl::write_touched(Txn& txn, TouchedCases& touched) {
  IndexKeys now;
  for (Touched& t : touched.items()) {
    if (!t.loaded) {
      // Presumed new: insert unless the case is there after all.
      const std::string state = encode_state(t.now);
      std::string_view had;
      if (txn.put_new(cases, t.key.view(), state, &had)) {
        index_keys(t.now, search_secret, now);
        for (int which = 0; which < kIndexCount; ++which) {
          if (!now[which].empty()) txn.put(index_dbi(which), now[which], "");
        }
        continue;
      }
      auto stored = decode_state(had);
      if (!stored.ok()) throw_corrupt("cases: " + stored.status().message());
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

KeyRing Store::Impl::load_ring(const Txn& txn) const {
  KeyRing out;
  Cursor c(txn, keyring);
  std::string_view k, v;
  for (bool ok = c.move(MDB_FIRST, &k, &v); ok; ok = c.move(MDB_NEXT, &k, &v)) {
    auto row = KeyRing::decode(k, v);
    if (!row) throw_corrupt("keyring has a malformed entry");
    out.put(*row);
  }
  return out;
}

KeyWork::KeyWork(Store::Impl& impl, const Txn& txn)
    : impl_(impl), gen_(impl.meta_u64(txn, kMetaKeyringGen, 0)) {
  if (gen_ != impl.ring_gen_now())
    impl.set_ring(std::make_shared<const KeyRing>(impl.load_ring(txn)), gen_);
  base_ = impl.ring_now();
}

Status KeyWork::apply(Txn& txn, const EventView& ev) {
  KeyRing trial = view();
  auto rows = trial.apply(ev);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows)
    txn.put(impl_.keyring, KeyRing::db_key(r.code, r.key), KeyRing::db_value(r.rec));
  working_ = std::move(trial);
  return Status::ok();
}

void KeyWork::commit(Txn& txn) {
  if (!working_) {
    txn.commit();
    return;
  }
  txn.put(impl_.meta, kMetaKeyringGen, be64(gen_ + 1));
  impl_.set_ring(std::make_shared<const KeyRing>(*working_), gen_ + 1);
  try {
    txn.commit();
  } catch (...) {
    impl_.set_ring(base_, gen_);
    throw;
  }
}

}  // namespace liandong::storage
