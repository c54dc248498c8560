// Local actions: drafts made on this node are numbered, stamped, sealed,
// checked against the case state machine and stored (Store::append_local).
#include <capnp/message.h>

#include "protocol/hlc.h"
#include "storage/authority.h"
#include "storage/fees.h"
#include "storage/own_key.h"
#include "storage/store_write.h"

namespace liandong::storage {

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
  auto run = impl_->txns.write([&](Txn& txn) {
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
    KeyWork keys(*impl_, txn);
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
                                           " (row already imported as " + std::string(had) + ")"));
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
  if (run.ok()) return std::move(run).value();
  for (std::size_t i = 0; i < drafts.size(); ++i)
    results.emplace_back(run.status());
  return results;
}

}  // namespace liandong::storage
