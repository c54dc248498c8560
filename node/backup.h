// Online backup and restore of a node (`liandong backup`, `liandong
// restore`; docs/OPERATIONS.md "备份与恢复 / Backup and restore").
//
// A backup runs in its own process beside a running daemon: it opens the
// store as every read command does (LMDB lets a second process read), and
// copies it in one read transaction, compacted, into a new folder, with a
// manifest written last (node/backup_files.h), and with the node's keys
// sealed by a passphrase if asked (node/sealed_keys.h).
//
// A restore runs while the node is stopped: it checks the backup (its
// manifest, the files' SHA-256, the node's code, the key that will sign)
// before it changes anything, then puts the store in place, keeping the
// store it replaces aside as DATA/store.before-restore-<time>. The sync
// core sees the restored store at the next handshake and the neighbours
// send what the backup lacks (docs/PROTOCOL.md §5, "Recover"). A restore
// makes no event itself: like `init`, a store put back must not hand out
// sequence numbers before its peers have said which are taken.
//
// Thread contract: plain functions; call from the CLI's one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "node/backup_files.h"
#include "protocol/status.h"

namespace liandong::node {

struct BackupRequest {
  std::filesystem::path data;  // the node's data directory
  std::filesystem::path dest;  // a new (or empty) folder
  // With a value: also seal DATA/keys with this passphrase (--keys).
  std::optional<std::string> passphrase;
  uint64_t now_ms = 0;
};

struct BackupDone {
  Manifest manifest;
  std::filesystem::path dest;
  uint64_t total_bytes = 0;  // every file written
  uint64_t took_ms = 0;
};

// Makes the backup. Failures leave no DEST behind (or DEST empty again when
// it was there and empty): invalid for bad input (DEST not empty or not
// writable, no store, no keys), no_space for a full disk, internal else.
Result<BackupDone> make_backup(const BackupRequest& r);

struct RestoreRequest {
  std::filesystem::path data;  // the node's data directory
  // The node's code as its config says (--config); empty: the code of the
  // store in DATA, if there is one.
  std::string code;
  std::filesystem::path src;
  // With a value: put the backup's keys in place too (--passphrase-file).
  std::optional<std::string> passphrase;
  bool replace = false;  // an existing store may be replaced (kept aside)
  uint64_t now_ms = 0;
};

struct RestoreDone {
  Manifest manifest;
  bool keys_restored = false;
  std::filesystem::path store_kept;  // the replaced store, or empty
  std::filesystem::path keys_kept;   // the replaced keys folder, or empty
};

// Restores. Every failure leaves DATA as it was: invalid for bad input
// (not a backup, another node's, wrong passphrase, a store there without
// `replace`, a daemon running), corruption for a damaged backup.
Result<RestoreDone> restore_backup(const RestoreRequest& r);

}  // namespace liandong::node
