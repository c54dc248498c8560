// The layout of a backup directory (`liandong backup DEST`, read by
// `liandong restore SRC`; docs/OPERATIONS.md "备份与恢复 / Backup and
// restore"):
//
//   DEST/store/data.mdb   the store, compacted (LMDB's copy)        0600
//   DEST/keys.enc         with --keys: DATA/keys sealed with a
//                         passphrase (node/sealed_keys.h)            0600
//   DEST/backup.toml      the manifest, written last: a DEST without
//                         it is a backup cut short                   0600
//
// and the synced file writes both commands use.
//
// Thread contract: plain functions over files; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "protocol/status.h"

namespace liandong::node {

constexpr int kBackupFormat = 1;

// A file of the backup, as the manifest records it.
struct BackupFileEntry {
  std::string path;  // relative to the backup directory
  uint64_t bytes = 0;
  std::string sha256;  // hex
};

// DEST/backup.toml.
struct Manifest {
  int format = kBackupFormat;
  std::string code, store_id;
  std::string created;  // UTC, "2026-12-03T13:15:02Z"
  uint64_t created_ms = 0;
  uint64_t log_end = 0, events = 0, cases = 0, schema = 0;
  std::string liandong_version;
  bool keys = false;
  BackupFileEntry store;
  std::optional<BackupFileEntry> keys_file;
};

std::filesystem::path manifest_path(const std::filesystem::path& backup);
std::filesystem::path backup_store_dir(const std::filesystem::path& backup);
std::filesystem::path backup_keys_path(const std::filesystem::path& backup);

// The manifest's text (TOML).
std::string manifest_text(const Manifest& m);
// Reads SRC/backup.toml. invalid, in one Chinese line, when SRC is not a
// backup, is a backup cut short (no manifest), or of a format this
// release does not read.
Result<Manifest> read_manifest(const std::filesystem::path& src);

// The file's size and SHA-256 (hex), read in pieces.
Result<BackupFileEntry> hash_file(const std::filesystem::path& file);

// Writes `bytes` to the new file `file` (0600, refused if it exists) and
// syncs it. no_space when the disk is full; the file is removed on failure.
Status write_new_file(const std::filesystem::path& file, std::string_view bytes);

// Copies `from` to the new file `to` (0600), syncs it, and checks on the
// way that it is `expect` (size and SHA-256): corruption when not. The
// copy is removed on failure.
Status copy_checked(const std::filesystem::path& from, const std::filesystem::path& to,
                    const BackupFileEntry& expect);

// fsync of a directory, so the names made or renamed in it last.
Status sync_dir(const std::filesystem::path& dir);

// The Status for a failed write of `what` with errno `err`: no_space for a
// full disk ("磁盘空间不足"), else internal.
Status write_error(const std::filesystem::path& what, int err);

// "20261203T131502Z": UTC, for names of folders kept aside.
std::string utc_stamp(uint64_t ms);
// "2026-12-03T13:15:02Z".
std::string utc_iso(uint64_t ms);

}  // namespace liandong::node
