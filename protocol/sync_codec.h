// Building and reading sync messages (protocol/sync.capnp): one
// SyncMessage per ZeroMQ message, batches of sealed events packed and
// compressed with zstd, the stored form of cursors, and the light read of a
// stored event's routing fields that the sender uses to pick what goes to
// each peer.
//
// Outside bytes are copied into word-aligned buffers and read with limits;
// every failure is a Status, never a crash or an unbounded allocation.
//
// Thread contract: plain functions; a SyncReader is owned by one thread.
#pragma once

#include <capnp/message.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "protocol/status.h"
#include "protocol/sync.capnp.h"

namespace liandong::sync {

constexpr uint32_t kProtocolVersion = proto::PROTOCOL_VERSION;

// The routing fields of a sealed event, read without validating it (the
// sender reads only its own log, whose events were checked on the way in).
struct RouteInfo {
  Id id;
  std::string home;  // the issuer for broadcasts
  bool broadcast = false;
  bool lineage = false;  // a key rotation (routing.h)
  // The body's kind; nullopt for one this build does not know.
  std::optional<EventKind> kind;
};
Result<RouteInfo> route_info(std::string_view sealed);

// A whole message as bytes (one ZeroMQ frame).
std::string encode(capnp::MessageBuilder& msg);

class SyncReader {
 public:
  // Refuses messages over `max_bytes` and any structure deeper or larger
  // than the bytes can honestly hold.
  static Result<SyncReader> parse(std::string_view bytes, std::size_t max_bytes);
  proto::SyncMessage::Reader root() const;

  SyncReader(SyncReader&&) noexcept;
  SyncReader& operator=(SyncReader&&) noexcept;
  ~SyncReader();

 private:
  struct Impl;
  explicit SyncReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Events as they travel in Batch.events: u32 little-endian length + sealed
// bytes, repeated; then zstd-compressed when `compress`.
struct PackedEvents {
  std::string data;
  uint32_t raw_bytes = 0;
  bool compressed = false;
};
PackedEvents pack_events(std::span<const std::string> events, bool compress);
// The events of a batch; refuses a payload larger than `max_raw_bytes`
// once decompressed, a count that does not match, or a torn frame.
Result<std::vector<std::string>> unpack_events(proto::Batch::Reader batch,
                                               std::size_t max_raw_bytes);
// The same over the fields of a batch already read (node/sync/messages.h).
Result<std::vector<std::string>> unpack_events(std::string_view packed,
                                               proto::Compression compression,
                                               std::size_t raw_bytes, uint32_t count,
                                               std::size_t max_raw_bytes);

// How far a holder has stored a peer's log (see sync.capnp Cursor).
struct CursorValue {
  std::string store_id;  // the peer's store
  uint64_t lsn = 0;
  Id at;  // the event at `lsn` in the peer's log; empty when lsn == 0

  friend bool operator==(const CursorValue&, const CursorValue&) = default;
};
std::string encode_cursor(const CursorValue& c);
Result<CursorValue> decode_cursor(std::string_view bytes);
void write_cursor(proto::Cursor::Builder b, const CursorValue& c);
CursorValue read_cursor(proto::Cursor::Reader r);

}  // namespace liandong::sync
