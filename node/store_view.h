// The sync sessions' view of this node's store (node/sync/session.h
// NodeView): the log, read through Store::scan_log and route_info; the
// durable cursors of peers' logs (`rx/<peer>`); the keys this node vouches
// for; the custody marks a child is told (docs/PROTOCOL.md §7).
//
// Thread contract: the daemon's loop thread only. end() is cached and
// moves forward by refresh() and by what scans read.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/key_directory.h"
#include "node/sync/session.h"
#include "storage/store.h"

namespace liandong::node {

class StoreView final : public sync::LogView, public sync::NodeView {
 public:
  // `keys` says which keys a handshake carries (for `children`, the
  // admitted ones); `our_top`: the highest top mark of our log at any
  // upstream (§7).
  StoreView(const config::NodeConfig& cfg, storage::Store& store, const KeyDirectory& keys,
            const std::map<std::string, config::Child>& children,
            std::function<uint64_t()> our_top);

  // Reads the end of the log again (after local writes). Returns whether
  // it moved.
  bool refresh();

  // LogView
  const std::string& store_id() const override { return store_.store_id(); }
  uint64_t end() const override { return end_; }
  Status scan(uint64_t from, std::size_t limit,
              const std::function<bool(const sync::LogEntry&)>& fn) const override;
  Result<std::optional<Id>> id_at(uint64_t lsn) const override;

  // NodeView
  const sync::LogView& log() const override { return *this; }
  Result<sync::CursorValue> rx_cursor(const std::string& peer) const override;
  std::vector<sync::KeyEntry> keys_for(const std::string& peer, bool peer_is_parent) const override;
  uint64_t next_seq_of(const std::string& code) const override;
  uint64_t top_for_child(const std::string& child, uint64_t rx_lsn) const override;

 private:
  const config::NodeConfig& cfg_;
  storage::Store& store_;
  const KeyDirectory& keys_;
  const std::map<std::string, config::Child>& children_;
  std::function<uint64_t()> our_top_;
  mutable uint64_t end_ = 0;
};

}  // namespace liandong::node
