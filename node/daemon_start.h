// What `liandong run` does before the daemon's loop starts, each step
// refusing to start with one line a person can act on: the stop signals
// routed to a descriptor, the log through the masking sink, the data
// directory's permissions, the store (this node's, opened as the single
// writer), the daemon lock, a key rotation cut short, the node's identity
// and its key as the store knows it, and the keys the config names.
//
// Thread contract: called by the daemon's main thread before any other
// thread is started (watch_stop_signals' mask is inherited by every thread
// created after it).
#pragma once

#include <memory>
#include <string>

#include "config/node_config.h"
#include "node/audit_log.h"
#include "node/control.h"
#include "node/identity.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

// Blocks SIGTERM, SIGINT and SIGHUP for this thread (and every thread it starts)
// and returns a descriptor they arrive on, or -1 when none can be made.
// SIGPIPE is ignored.
int watch_stop_signals();

// Every log line goes through MaskingSink (node/log_mask.h) with the
// node's code; `level_override`, if set, replaces the config's level.
void set_up_logging(const config::NodeConfig& cfg, const std::string& level_override);

// A node ready to run: its store, the daemon lock on its data directory
// (held for as long as this lives) and its identity.
struct OpenedNode {
  std::unique_ptr<storage::Store> store;
  DaemonLock lock;
  Identity id;
};
// Opens `cfg`'s node. Fails with the reason to print: a data directory
// others may read, no store or another node's store, a daemon already
// running on it, no identity, or an identity whose key is not the store's.
Result<OpenedNode> open_node(const config::NodeConfig& cfg);

// Stores the signing keys the config names for upstreams and children
// (the administrator's word); a replaced key is audited. invalid: a
// sign_key is not a hex key; or the store refused the write.
Status trust_config_keys(const config::NodeConfig& cfg, storage::Store& store, AuditLog& audit);

}  // namespace liandong::node
