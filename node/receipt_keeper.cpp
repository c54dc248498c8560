#include "node/receipt_keeper.h"

#include <spdlog/spdlog.h>
#include <algorithm>

#include "node/sync_state.h"
#include "protocol/event_codec.h"
#include "protocol/routing.h"
#include "protocol/sync_codec.h"
#include "storage/receipts.h"

namespace liandong::node {

std::vector<OwedReceipt> ReceiptKeeper::owed(const std::vector<std::string>& events) const {
  std::vector<OwedReceipt> owed;
  for (std::size_t i = 0; i < events.size(); ++i) {
    // Only a case homed here or below can be handed to this node.
    auto info = sync::route_info(events[i]);
    if (!info.ok() || info->broadcast || !within(info->home, code_)) continue;
    // Only these kinds hand a case over: the rest are not parsed again.
    if (info->kind != EventKind::escalated && info->kind != EventKind::decided &&
        info->kind != EventKind::replied)
      continue;
    auto view = EventView::parse(events[i]);
    if (!view.ok()) continue;
    if (auto id = storage::receipt_owed(code_, *view))
      owed.push_back(OwedReceipt{i, *id, view->case_id()});
  }
  return owed;
}

void ReceiptKeeper::record(const std::vector<OwedReceipt>& owed,
                           const std::vector<storage::IngestResult>& results) {
  std::vector<OwedReceipt> make;
  std::vector<std::string> done;
  for (const auto& o : owed) {
    const auto outcome =
        o.index < results.size() ? results[o.index].outcome : storage::Outcome::rejected;
    // A hand-over sent again after this node stopped before its receipt
    // (stored then, a duplicate now) still needs one.
    if (outcome == storage::Outcome::stored ||
        (outcome == storage::Outcome::duplicate && !held(o.case_id, o.handed))) {
      make.push_back(o);
    } else {
      done.push_back(receipt_key(o.handed));
    }
  }
  if (exit_before_ && !make.empty()) {
    spdlog::warn("LIANDONG_TEST_EXIT_BEFORE_RECEIPTS: exiting before {} receipt(s)", make.size());
    std::_Exit(9);
  }
  // Left pending by a run that stopped before making them: made once, by
  // the first batch after a start (a receipt already held is not made again).
  if (!swept_) {
    swept_ = true;
    std::vector<std::pair<std::string, std::string>> pending;
    if (auto scan = store_.sync_scan(kReceiptPrefix); scan.ok()) pending = std::move(scan).value();
    for (const auto& [key, value] : pending) {
      auto handed = parse_id(std::string_view(key).substr(kReceiptPrefix.size()));
      auto case_id = parse_id(value);
      const bool this_batch = handed && std::any_of(owed.begin(), owed.end(), [&](const auto& o) {
                                return o.handed == *handed;
                              });
      if (this_batch) continue;
      if (handed && case_id && !held(*case_id, *handed)) {
        make.push_back(OwedReceipt{0, *handed, *case_id});
      } else {
        done.push_back(key);  // made already, or unreadable
      }
    }
  }
  std::vector<storage::LocalDraft> drafts;
  for (const auto& o : make) {
    storage::LocalDraft d;
    d.case_id = o.case_id;
    d.fill = [handed = o.handed](proto::Event::Builder ev) {
      ev.initActor().setName("system");
      ev.getActor().setRole(proto::Role::SYSTEM);
      write_id(ev.getBody().initReceived().initEvent(), handed);
    };
    drafts.push_back(std::move(d));
  }
  if (!drafts.empty()) {
    auto stored = store_.append_local(drafts, key_);
    for (std::size_t i = 0; i < stored.size() && i < make.size(); ++i) {
      // Kept pending on failure: the next start tries again; meanwhile the
      // clocks fall back to the next event this node makes in the case
      // (storage/deadlines.h).
      if (!stored[i].ok()) {
        spdlog::error("cannot record the receipt of {}: {}", format_id(make[i].handed),
                      stored[i].status().message());
        continue;
      }
      done.push_back(receipt_key(make[i].handed));
    }
  }
  if (done.empty()) return;
  if (auto s = store_.sync_erase(done); !s)
    spdlog::error("cannot clear {} pending receipt mark(s): {}", done.size(), s.message());
}

bool ReceiptKeeper::held(const Id& case_id, const Id& handed) const {
  auto events = store_.case_events(case_id);
  if (!events.ok()) return false;
  for (const auto& e : *events) {
    if (e.view.kind() == EventKind::received && e.view.id().origin == code_ &&
        read_id(e.view.event().getBody().getReceived().getEvent()) == handed)
      return true;
  }
  return false;
}

}  // namespace liandong::node
