// Applying events that arrived from elsewhere: Store::apply (checked events,
// judged against the key directory, in one transaction) and Store::ingest
// (outside bytes: parse, verify, then apply).
#include "protocol/hlc.h"
#include "storage/authority.h"
#include "storage/store_write.h"

namespace liandong::storage {

Result<std::vector<IngestResult>> Store::apply(std::span<const EventView* const> batch,
                                               const std::function<void(SyncWriter&)>& also) {
  return impl_->txns.write([&](Txn& txn) {
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
    KeyWork keys(*impl_, txn);
    FirstKeys firsts(txn, *impl_);
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
          if (auto s = keys.apply(txn, ev); !s) j = Judgement{KeyVerdict::unknown_key, s.message()};
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
    auto key = signing_key_of(*v);
    if (!key.ok()) return key.status();  // a store failure is not an unknown key
    keys[i] = *key;
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

}  // namespace liandong::storage
