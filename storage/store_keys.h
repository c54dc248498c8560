// The byte encodings of the store's keys and small values
// (docs/FORMAT.md has the layout): LSN and id keys built on the stack, the
// notices, quarantine and index keys, meta entries. Pure: no LMDB, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "storage/case_fold.h"
#include "storage/case_index.h"

namespace liandong::storage {

// meta keys.
constexpr const char* kMetaCode = "code";
constexpr const char* kMetaStoreId = "store_id";
constexpr const char* kMetaSchema = "schema";
constexpr const char* kMetaNextSeq = "next_seq";
constexpr const char* kMetaHlc = "hlc";
constexpr const char* kMetaParentClock = "parent_clock";
constexpr const char* kMetaSearchKey = "search_key";
// be64: raised by every transaction that changes `keyring`, so a process
// whose copy in memory is older (another process stored key events: the
// CLI importing a bundle beside a running daemon) reads it again.
constexpr const char* kMetaKeyringGen = "keyring_gen";
constexpr const char* kMetaBlobBytes = "blob_bytes";  // be64: bytes of chunks in `blobs`

// by_status files a case in conflict under this byte, not its status.
constexpr uint8_t kConflictStatusKey = 0xff;

inline std::string be64(uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}

inline void write_be64(char* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[i] = static_cast<char>(v & 0xff);
}

// Key bytes built on the stack, so the write path allocates nothing per key.
// LsnKey is be64(lsn); IdKey is id_key(id) (origin NUL-padded to 12 bytes,
// then the sequence number big-endian).
struct LsnKey {
  explicit LsnKey(uint64_t lsn) { write_be64(bytes.data(), lsn); }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  std::array<char, 8> bytes;
};

struct IdKey {
  explicit IdKey(const Id& id) {
    bytes.fill('\0');
    id.origin.copy(bytes.data(), kMaxCodeLen);
    write_be64(bytes.data() + kMaxCodeLen, id.seq);
  }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  bool operator==(const IdKey&) const = default;
  std::array<char, kIdKeyLen> bytes;
};

struct IdKeyHash {
  std::size_t operator()(const IdKey& k) const { return std::hash<std::string_view>()(k.view()); }
};

// case_events key: (case, LSN).
struct CaseEventKey {
  CaseEventKey(const IdKey& c, const LsnKey& lsn) {
    std::memcpy(bytes.data(), c.bytes.data(), kIdKeyLen);
    std::memcpy(bytes.data() + kIdKeyLen, lsn.bytes.data(), 8);
  }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  std::array<char, kIdKeyLen + 8> bytes;
};

// notices key: kind (1) ‖ be64(version, year or hlc) ‖ be64(seq) ‖ origin.
// The seq keeps every publication: a county that republishes a corrected
// calendar for the same year adds an entry after the first (readers take
// the latest).
std::string notice_prefix(EventKind kind);
std::string notice_key(EventKind kind, uint64_t number, uint64_t seq, std::string_view origin);
// The notices key of a broadcast, audit or key event.
std::string notice_key(const EventView& ev);
// The document a broadcast publishes (empty for other events).
std::string_view notice_document(const EventView& ev);

// quarantine key: id_key ‖ the signature's first 8 bytes (two different
// events claiming one id are both held).
std::string quarantine_key(const EventView& ev);

// quarantine value: be64(arrival ms) ‖ be16(reason length) ‖ reason ‖
// the sealed event. The reason is cut at 65,535 bytes.
std::string encode_quarantined(uint64_t arrival_ms, std::string_view reason,
                               std::string_view sealed);
struct QuarantinedView {
  uint64_t arrival_ms = 0;
  std::string_view reason, sealed;
};
// nullopt when `v` is malformed.
std::optional<QuarantinedView> decode_quarantined(std::string_view v);

// The index entries a case state implies, one per index in the order
// by_status, by_home, by_due, then the search indexes by_name, by_idno,
// by_phone, by_item of storage/case_index.h; an empty key means no entry
// there.
constexpr int kIndexCount = 7;
using IndexKeys = std::array<std::string, kIndexCount>;

// Fills `out` (reusing its buffers) with the index entries of `st`;
// `secret` keys the hashed search entries.
void index_keys(const CaseState& st, const SearchSecret& secret, IndexKeys& out);

// The 8-byte big-endian value `v`, or nullopt when it is not 8 bytes.
std::optional<uint64_t> u64_value(std::string_view v);

// A 32-byte public key value, or nullopt when it is not 32 bytes.
std::optional<PublicKey> key_value(std::string_view v);

}  // namespace liandong::storage
