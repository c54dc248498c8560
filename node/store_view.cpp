#include "node/store_view.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "node/sync/custody.h"
#include "node/sync_state.h"

namespace liandong::node {

StoreView::StoreView(const config::NodeConfig& cfg, storage::Store& store, const KeyDirectory& keys,
                     const std::map<std::string, config::Child>& children,
                     std::function<uint64_t()> our_top)
    : cfg_(cfg), store_(store), keys_(keys), children_(children), our_top_(std::move(our_top)) {
  refresh();
}

bool StoreView::refresh() {
  auto st = store_.stats();
  if (!st.ok() || st->last_lsn == end_) return false;
  end_ = std::max(end_, st->last_lsn);
  return true;
}

Status StoreView::scan(uint64_t from, std::size_t limit,
                       const std::function<bool(const sync::LogEntry&)>& fn) const {
  Status bad;
  auto s = store_.scan_log(from, limit, [&](uint64_t lsn, std::string_view v) {
    auto r = sync::route_info(v);
    if (!r.ok()) {
      bad = Status::corruption("log entry " + std::to_string(lsn) +
                               " is unreadable: " + r.status().message());
      return false;
    }
    // The log may have grown since end() was read (the node's own
    // writes): what the scan read is part of it.
    end_ = std::max(end_, lsn);
    return fn(sync::LogEntry{lsn, &*r, v});
  });
  if (!bad) return bad;
  return s;
}

Result<std::optional<Id>> StoreView::id_at(uint64_t lsn) const {
  auto bytes = store_.read_log(lsn);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return std::optional<Id>{};
  auto r = sync::route_info(**bytes);
  if (!r.ok()) return r.status();
  return std::optional<Id>(r->id);
}

Result<sync::CursorValue> StoreView::rx_cursor(const std::string& peer) const {
  auto v = store_.sync_get(rx_key(peer));
  if (!v.ok()) return v.status();
  if (!*v) return sync::CursorValue{};
  auto c = sync::decode_cursor(**v);
  if (!c.ok()) {
    // Damaged: starting from zero is safe (dedup makes re-sending so).
    spdlog::error("cursor of {} is unreadable ({}); starting from zero", peer,
                  c.status().message());
    return sync::CursorValue{};
  }
  return *c;
}

std::vector<sync::KeyEntry> StoreView::keys_for(const std::string&, bool peer_is_parent) const {
  return keys_.entries(keys_.codes_for(peer_is_parent, children_));
}

uint64_t StoreView::next_seq_of(const std::string& code) const {
  auto m = store_.max_seq(code);
  return m.ok() ? *m + 1 : 1;
}

uint64_t StoreView::top_for_child(const std::string& child, uint64_t rx_lsn) const {
  if (cfg_.upstreams.empty()) return sync::CustodyMarks::child_top(true, std::nullopt, rx_lsn);
  const uint64_t top = our_top_();
  if (top == 0) return 0;
  std::optional<uint64_t> floor_value;
  auto floor = store_.sync_floor(map_prefix(child), map_key(child, top));
  if (floor.ok() && *floor) floor_value = get_be64((*floor)->second);
  return sync::CustodyMarks::child_top(false, floor_value, rx_lsn);
}

}  // namespace liandong::node
