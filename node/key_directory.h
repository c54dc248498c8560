// Signing keys between neighbours and the county's key directory
// (docs/PROTOCOL.md "Keys", FORMAT.md §6):
//  - which keys a handshake carries (Hello/Welcome `keys`): up, those of
//    our own subtree; down, ours and our ancestors';
//  - which keys a peer may vouch for: a child only inside its subtree, a
//    parent only for itself and its ancestors; a key learned so is stored,
//    a different key than the one held is refused and audited;
//  - at the county (the top of the tree), the key directory: every first
//    key of its jurisdiction it holds and has not published yet, and every
//    key rotation stored from below, broadcast as keys_published events.
//
// Thread contract: none; owned by the daemon's loop thread (the store's
// single writer).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/abuse.h"
#include "node/audit_log.h"
#include "node/sync/messages.h"
#include "protocol/crypto.h"
#include "storage/store.h"

namespace liandong::node {

class KeyDirectory {
 public:
  // `code`: this node's; `top`: it has no upstream (only a county at the
  // top publishes the directory); events it makes are signed with `key`.
  KeyDirectory(storage::Store& store, const SigningKey& key, std::string code, bool top,
               LogLimiter& log, AuditLog& audit)
      : store_(store), key_(key), code_(std::move(code)), top_(top), log_(log), audit_(audit) {}

  // The codes whose keys a handshake with a peer carries: to a parent
  // (`up`), ours and our `children`'s; to a child, ours and our ancestors'.
  std::vector<std::string> codes_for(bool up,
                                     const std::map<std::string, config::Child>& children) const;
  // `codes` and the keys held for them (an entry without a key where none
  // is held).
  std::vector<sync::KeyEntry> entries(const std::vector<std::string>& codes) const;
  // The keys `peer_code` (our parent when `from_parent`) vouched for in its
  // handshake: those it may vouch for and we hold none of are stored.
  void accept(const std::string& peer_code, bool from_parent,
              const std::vector<sync::KeyEntry>& keys);

  // At the county: every first key it holds of its jurisdiction (from its
  // config and its children's handshakes) that its key directory does not
  // list yet, broadcast as active. Runs once a child's handshake has told
  // the county which of its own sequence numbers are taken.
  void publish_directory();
  // At the county: a key rotation stored from below (`sealed`, any event)
  // is confirmed in the key directory, broadcast to the whole county.
  void publish_rotation(const std::string& sealed);

 private:
  // Whether this node keeps the county's directory.
  bool keeps_directory() const { return top_ && code_.size() <= 6; }

  storage::Store& store_;
  const SigningKey& key_;
  std::string code_;
  bool top_;
  LogLimiter& log_;
  AuditLog& audit_;
};

}  // namespace liandong::node
