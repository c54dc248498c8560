// The bundle file (数据包, docs/FORMAT.md §8; protocol/bundle.capnp): a
// signed header, then items, each one record of a libsodium secretstream
// whose key is sealed to the receiver's X25519 (CurveZMQ link) key. Only
// the receiver can read it; nobody but the sender could have written it;
// a record altered, dropped, reordered or cut off is refused.
//
// BundleWriter writes one item at a time to `PATH.part` and renames it to
// PATH once the final record is synced, so a stick pulled out mid-write
// never leaves a file that looks whole. BundleReader reads one record at a
// time (memory: one record, at most kMaxRecordBytes).
//
// parse_bundle_header and decode_item check every limit before anything
// is used; they are the fuzzed surface (tests/fuzz/bundle_fuzz.cpp).
//
// Thread contract: none; an object is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/sync/messages.h"
#include "protocol/bundle.capnp.h"
#include "protocol/crypto.h"
#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/sync_codec.h"

namespace liandong::node {

inline constexpr std::string_view kBundleMagic = "LDBUNDLE";
inline constexpr uint32_t kBundleVersion = 1;
inline constexpr std::size_t kMaxBundleHeaderBytes = 4096;
// One item's plaintext: a range of events (one catalog event may take
// 1 MiB) or one chunk.
inline constexpr std::size_t kMaxRecordBytes = (2u << 20) + 4096;
// Items' list lengths.
inline constexpr std::size_t kMaxBundleList = 65536;
// The prefix the header signature covers (domain separation).
inline constexpr std::string_view kBundleSigContext = "liandong bundle v1\n";

struct BundleHeader {
  proto::BundleKind kind = proto::BundleKind::UP;
  std::string from, to, from_store;
  uint64_t created_ms = 0, expires_ms = 0;
  std::string bundle_id;      // 16 bytes
  PublicKey sign_key{};       // the signer's Ed25519 key
  std::string sealed_key;     // 80 bytes
  std::string stream_header;  // 24 bytes
};

// The outer framing, checked without any key: magic, version, header
// fields and their sizes. `prefix` holds at least the whole header and its
// signature; `consumed` is set to the bytes they take (records follow).
struct ParsedHeader {
  BundleHeader header;
  std::string signed_bytes;  // magic .. header end: what the signature covers
  std::string signature;     // 64 bytes
  std::size_t consumed = 0;
};
Result<ParsedHeader> parse_bundle_header(std::string_view prefix);

struct BundleItem {
  enum class Kind { keys, have, range, chunk, custody, refusals, end, asks };
  Kind kind = Kind::end;
  std::vector<sync::KeyEntry> keys;
  sync::CursorValue have;
  struct Range {
    uint64_t from = 0, to = 0;
    Id last_id;
    std::vector<std::string> events;
  } range;
  struct Chunk {
    std::string file, hash, data;
  } chunk;
  struct Custody {
    uint64_t top = 0;
    std::vector<std::pair<std::string, uint8_t>> files;
  } custody;
  std::vector<sync::Rejected> refusals;
  struct End {
    uint32_t ranges = 0, events = 0, chunks = 0, items = 0;
  } end;
  std::vector<std::string> asks;
};
std::string encode_item(const BundleItem& item);
// invalid, saying why, for anything out of its limits.
Result<BundleItem> decode_item(std::string_view plaintext);

// How far a receiver holds a sender's log when ranges of it may arrive
// twice, out of order, or behind what a link already brought: `lsn` (the
// cursor, with `at` the event there) moves only over a range that starts at
// or before it; a range beyond it waits in `ahead` until the gap fills.
struct HeldLog {
  uint64_t lsn = 0;
  Id at;
  std::map<uint64_t, std::pair<uint64_t, Id>> ahead;  // from -> (to, id at to)
};
struct HeldChange {
  bool moved = false;            // lsn moved
  std::vector<uint64_t> added;   // ahead entries added or widened (by from)
  std::vector<uint64_t> joined;  // ahead entries joined to lsn and dropped
};
HeldChange hold_range(HeldLog& held, uint64_t from, uint64_t to, const Id& last);

class BundleWriter {
 public:
  // Starts `path` (written as PATH.part): fills the header's key fields,
  // signs it with `sender`, seals a fresh stream key to `receiver_curve`.
  static Result<std::unique_ptr<BundleWriter>> create(
      const std::filesystem::path& path, BundleHeader header, const SigningKey& sender,
      const std::array<uint8_t, 32>& receiver_curve);
  ~BundleWriter();
  // Appends one item (not `end`: finish() writes it).
  Status add(const BundleItem& item);
  // Writes the final record (the counts), syncs the file and its folder,
  // and renames it into place.
  Status finish();
  // Bytes written so far.
  uint64_t bytes() const { return bytes_; }
  const BundleItem::End& counts() const { return counts_; }

 private:
  BundleWriter() = default;
  Status put_record(const std::string& plain, bool final);
  std::filesystem::path path_, part_;
  std::ofstream out_;
  std::string state_;  // crypto_secretstream state
  std::string ad_;     // the header signature, bound to every record
  uint64_t bytes_ = 0;
  BundleItem::End counts_;
  bool done_ = false;
};

class BundleReader {
 public:
  // Reads and checks the header from `in`: addressed to `self`, not
  // expired at `now_ms`, signed by a key `key_ok` accepts for the sender,
  // and its stream key opens with `own`. invalid with a Chinese reason
  // otherwise.
  static Result<std::unique_ptr<BundleReader>> open(
      std::unique_ptr<std::istream> in, const std::string& self, const CurveKeyPair& own,
      uint64_t now_ms, const std::function<bool(const std::string&, const PublicKey&)>& key_ok);
  // Only the header, checked for its framing (for `bundle show`).
  static Result<ParsedHeader> peek(std::istream& in);

  const BundleHeader& header() const { return header_.header; }
  // The next item; nullopt after the final record (its `end` counts
  // checked against what came before, nothing may follow). invalid when a
  // record does not open, is cut off or does not decode.
  Result<std::optional<BundleItem>> next();

 private:
  BundleReader() = default;
  std::unique_ptr<std::istream> in_;
  ParsedHeader header_;
  std::string state_;
  bool final_ = false;
  BundleItem::End seen_;
};

}  // namespace liandong::node
