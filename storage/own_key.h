// Whether a node runs with its own identity: the signing key in DATA/keys
// must be one the store and its key directory hold for the store's code.
// A keys/ folder restored from another node's backup (or from before a key
// rotation) would otherwise sign every new event with a key nobody
// upstream accepts for this code.
//
// Thread contract: a plain function over a Store (itself thread-safe).
#pragma once

#include "protocol/crypto.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::storage {

// ok when `key` is the store's first key of its own code (not retired or
// revoked since) or a key the directory lists for that code as active; ok
// also when the store holds no key of its code at all (nothing to compare).
// A key the county revoked is accepted here: the county judges its events.
// invalid otherwise, with one line saying what to restore.
Status check_own_key(const Store& store, const PublicKey& key);

}  // namespace liandong::storage
