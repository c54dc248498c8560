// Bundles (数据包, data mule): what a link would carry between a node and
// its parent, carried on a USB stick instead (docs/OPERATIONS.md
// "Bundles", the file format in docs/FORMAT.md §8, node/bundle_file.h).
//
// export_bundle(for = an upstream) writes an `up` bundle: the ranges of our
// log the parent does not hold as far as we know (its acks over the link
// and the receipts of earlier bundles), oldest first, then the chunks of
// our files it does not hold whole, within the size the agent chose.
// export_bundle(for = a child) writes a `down` bundle, the receipt: how far
// this node and the county hold the child's log, the levels of the files
// it asked about, the refusals queued for it, and the ranges of our log
// that go down to it, with the chunks of the files they name.
//
// import_bundle checks the whole file first (addressed here, from an
// admitted child or our upstream, signed by its key, not expired, every
// record opens, nothing cut off) and stores nothing unless all of it is
// sound; then it stores through the same path as a link's batches
// (authority, signatures, dedup, receipts), chunk by chunk as pulled
// chunks are, and moves the cursor of the sender's log only over ranges
// it holds contiguously, so a bundle imported twice, out of order, or
// after the link carried the same events changes nothing.
//
// Thread contract: plain functions; the store is thread-safe and may be a
// running daemon's (LMDB serializes writers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/node_config.h"
#include "node/bundle_file.h"
#include "node/identity.h"
#include "protocol/status.h"
#include "storage/store.h"

namespace liandong::node {

struct BundleNode {
  const config::NodeConfig& cfg;
  storage::Store& store;
  const Identity& id;
  std::vector<config::Child> children;  // the admitted ones (config and enrolled)
  uint64_t now_ms = 0;
};

struct BundleExport {
  std::string for_code;
  std::filesystem::path to;
  uint64_t max_bytes = uint64_t{1} << 30;
  uint64_t expires_ms = 0;  // absolute; 0: now + 30 days
};

struct BundleExportReport {
  proto::BundleKind kind = proto::BundleKind::UP;
  BundleItem::End counts;
  uint64_t bytes = 0;
  uint64_t from_lsn = 0, to_lsn = 0;  // the stretch of our log carried
  std::size_t files = 0;              // whole files whose chunks it carries
  bool complete = true;               // false: the size limit left some out
};
Result<BundleExportReport> export_bundle(const BundleNode& node, const BundleExport& what);

struct BundleImportReport {
  BundleHeader header;
  std::size_t events = 0, stored = 0, duplicates = 0, rejected = 0;
  std::size_t chunks = 0, chunks_stored = 0, files_completed = 0;
  uint64_t cursor_before = 0, cursor_after = 0;  // of the sender's log
  uint64_t custody_acked = 0, custody_top = 0;   // down: where our log now is
  std::size_t refusals = 0;                      // down: refusals kept
};
Result<BundleImportReport> import_bundle(const BundleNode& node, const std::filesystem::path& file);

// The sync bookkeeping keys (`cursors`) bundles keep.
//   mule/<parent>        be64 acked, be64 top: custody of our log learned
//                        from the parent's receipts (read with up/<parent>)
//   mule/have/<child>    the child's cursor of our log (from its bundle)
//   mule/ask/<child>     files (32 bytes each) the child asked the levels of
//   mule/ahead/<peer>/<be64 from>  be64 to ‖ id key: a range of the peer's
//                        log held here but not yet contiguous with rx/<peer>
std::string mule_custody_key(std::string_view parent);

}  // namespace liandong::node
