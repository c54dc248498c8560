// The sync messages of protocol/sync.capnp as plain, validated values.
//
// Every SyncMessage a peer sends is decoded once, here, into one of the
// structs below; the session (node/sync/session.h) never sees a Cap'n
// Proto reader. Decoding copies what it reads, never throws, and refuses
// bytes that are not a SyncMessage within the limits with an `invalid`
// Status. Encoding builds the wire bytes (packed Cap'n Proto) back.
//
// What decoding checks is the shape of the message; what the fields mean
// (a version, a code, a range) is the session's business.
//
// Thread contract: plain functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/sync.capnp.h"
#include "protocol/sync_codec.h"

namespace liandong::sync {

// A signing key vouched for in a handshake. `key` is absent when the
// entry carries none, or one that is not 32 bytes (ignored by receivers).
struct KeyEntry {
  std::string code;
  std::optional<PublicKey> key;
  friend bool operator==(const KeyEntry&, const KeyEntry&) = default;
};

// The fields Hello and Welcome share (sync.capnp).
struct Handshake {
  uint32_t version = kProtocolVersion;
  std::string code;
  std::string store_id;
  CursorValue have;
  std::vector<std::string> capabilities;
  std::vector<KeyEntry> keys;
  uint64_t your_next_seq = 0;
  uint64_t wall_ms = 0;
  friend bool operator==(const Handshake&, const Handshake&) = default;
};
struct Hello : Handshake {};
struct Welcome : Handshake {};

struct Refused {
  proto::RefusalReason reason = proto::RefusalReason::MALFORMED;
  std::string text;
};

// One refused event (sync.capnp RejectedEvent).
struct Rejected {
  Id id;
  std::string reason;
  std::string by;
  proto::RefusalCause cause = proto::RefusalCause::OTHER;
  uint64_t at_ms = 0;
  friend bool operator==(const Rejected&, const Rejected&) = default;
};

// A batch as it travelled: the events stay packed (and compressed) until
// the receiver decides to apply it (unpack()).
struct Batch {
  uint64_t from_lsn = 0, to_lsn = 0;
  Id last_id;
  uint32_t count = 0;
  proto::Compression compression = proto::Compression::NONE;
  std::string events;
  uint32_t raw_bytes = 0;
};
// The events of (from, to] in log order, packed with `compress`.
Batch make_batch(uint64_t from, uint64_t to, const Id& last_id, std::span<const std::string> events,
                 bool compress);
// The events of `b`; refuses more than `max_raw_bytes` once decompressed,
// a count that does not match, a frame that tears.
Result<std::vector<std::string>> unpack(const Batch& b, std::size_t max_raw_bytes);

struct Ack {
  CursorValue have;
  uint64_t top_lsn = 0;
  std::vector<Rejected> rejected;
  bool resend = false;
};

struct Heartbeat {
  uint64_t sent_ms = 0, echo_ms = 0;
};
struct Bye {};
struct Recover {};
struct Refusals {
  std::vector<Rejected> list;
};
struct RefusalsTaken {
  std::vector<Id> ids;
};
// Attachments (sync.capnp ChunkRequest ...). Hashes are 32 bytes each:
// decoding refuses any other length, more than kMaxChunksPerRequest chunks
// a request, more than kMaxFilesPerQuery files a query or answer, and a
// chunk's data over kChunkBytes.
constexpr std::size_t kMaxChunksPerRequest = 16;
constexpr std::size_t kMaxFilesPerQuery = 256;
struct ChunkRequest {
  std::string file;
  std::vector<std::string> chunks;
};
struct Chunk {
  std::string file, hash, data;
  bool missing = false;
};
struct FilesQuery {
  std::vector<std::string> files;
};
struct FilesHeld {
  std::vector<std::pair<std::string, uint8_t>> files;  // (sha256, level bits)
};

// A kind this build does not know (a newer peer): logged and ignored.
struct UnknownKind {};

using Message =
    std::variant<Hello, Welcome, Refused, Batch, Ack, Heartbeat, Bye, Recover, Refusals,
                 RefusalsTaken, ChunkRequest, Chunk, FilesQuery, FilesHeld, UnknownKind>;

// Whether `m` is one of the attachment messages (carried by node/transfers.h,
// not by the session).
inline bool is_transfer(const Message& m) {
  return std::holds_alternative<ChunkRequest>(m) || std::holds_alternative<Chunk>(m) ||
         std::holds_alternative<FilesQuery>(m) || std::holds_alternative<FilesHeld>(m);
}

// "hello", "batch", ... for log lines.
const char* kind_name(const Message& m);

// The message in `bytes` (one ZeroMQ frame); `invalid` for anything that is
// not a SyncMessage within `max_bytes` and the reader limits.
Result<Message> decode_message(std::string_view bytes, std::size_t max_bytes);

// The wire bytes of `m`. At most 1,024 rejected events go in one Ack or
// Refusals message (the rest are dropped: a receiver lists them again).
// UnknownKind encodes as no bytes.
std::string encode_message(const Message& m);

}  // namespace liandong::sync
