// Building, sealing, parsing and checking signed events.
//
// A sealed event is a serialized `SignedEvent` message (records.capnp): the
// exact bytes of an `Event` message plus the origin's Ed25519 signature over
// them. Parsing copies outside bytes into word-aligned buffers before Cap'n
// Proto reads them, and reads with limits sized to the largest legitimate
// event, so hostile bytes produce a Status, never a crash.
//
// Thread contract: EventView is immutable after parse() and may be read from
// any thread; it is movable, not copyable.
#pragma once

#include <capnp/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "protocol/crypto.h"
#include "protocol/ids.h"
#include "protocol/records.capnp.h"
#include "protocol/status.h"

namespace liandong {

// Wire and storage limits for one event.
constexpr std::size_t kMaxEventBytes = 1 << 20;  // a catalog document fits
constexpr std::size_t kMaxSignedEventBytes = kMaxEventBytes + 256;
constexpr unsigned kMaxNesting = 16;
constexpr std::size_t kMaxText = 64 * 1024;  // any one text field
constexpr std::size_t kMaxListItems = 1024;  // any one list

// Attachments (records.capnp AttachmentRef): files cut into chunks of
// kChunkBytes, the last shorter; at most kMaxListItems chunks a file.
constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr uint64_t kMaxAttachmentBytes = uint64_t{kChunkBytes} * kMaxListItems;  // 64 MiB
constexpr uint64_t chunk_count(uint64_t size) {
  return (size + kChunkBytes - 1) / kChunkBytes;
}

enum class EventKind : uint8_t {
  submitted,
  accepted,
  supplement_requested,
  supplemented,
  escalated,
  assigned,
  opinion,
  decided,
  delivered,
  rated,
  fee_collected,
  closed,
  withdrawn,
  comment,
  complaint,
  replied,
  catalog_published,
  calendar_published,
  audit,                // 审计: neither a case event nor a broadcast (records.capnp)
  key_rotated,          // 密钥轮换: belongs at the origin's lineage (routing.h)
  keys_published,       // 密钥目录: a broadcast, from a county or above
  roster_published,     // 人员名册: a broadcast, from a county or above
  not_accepted,         // 不予受理: refused at intake, with reason and legal basis
  divisions_published,  // 行政区划表: a broadcast, from a county or above
  received,             // 已接收: a hand-over stored at the level it was handed to
  supervised,           // 督办: a supervision order with a new deadline
  answered,  // 答复: an order's 办理情况说明, a complaint's result, 整改, 回访
};
constexpr int kEventKindCount = 27;
// Audit texts (who, subject, reason, ...) are short: at most this many bytes.
constexpr std::size_t kMaxAuditText = 4096;

// The files an event carries (submitted, supplemented, decided); empty for
// the other kinds.
capnp::List<proto::AttachmentRef>::Reader attachments_of(proto::Event::Reader ev);

const char* kind_name(EventKind k);     // "supplement_requested"
const char* kind_name_zh(EventKind k);  // "补正"
std::optional<EventKind> kind_from_body(proto::Event::Body::Which w);
bool is_broadcast(EventKind k);
// Whether the event belongs at its origin's ancestors and whole subtree
// (key_rotated: every node that checks the origin's signatures).
constexpr bool is_lineage(EventKind k) {
  return k == EventKind::key_rotated;
}
// Whether the event is about a case (names one, is folded into its state):
// every kind but the broadcasts, `audit` and key changes.
constexpr bool names_case(EventKind k) {
  return k < EventKind::catalog_published || k == EventKind::not_accepted ||
         k == EventKind::received || k == EventKind::supervised || k == EventKind::answered;
}

capnp::ReaderOptions reader_options(std::size_t max_bytes);

class EventView {
 public:
  // Checks structure, limits and field rules (validate_event); does not
  // check the signature. On success the view owns aligned copies.
  static Result<EventView> parse(std::string_view signed_bytes);

  EventView(EventView&&) noexcept;
  EventView& operator=(EventView&&) noexcept;
  ~EventView();

  proto::Event::Reader event() const;
  EventKind kind() const { return kind_; }
  const Id& id() const { return id_; }
  // The case id; empty for broadcasts and audit events.
  const Id& case_id() const { return case_; }
  uint64_t hlc() const { return hlc_; }
  // The exact signed `Event` bytes and the signature.
  std::string_view event_bytes() const;
  std::string_view signature() const;
  // The whole sealed envelope, as stored and forwarded.
  const std::string& sealed() const;
  // The public key the envelope names as its signer (32 bytes), or empty
  // for events sealed before key rotation existed (the origin's first key).
  std::string_view signer() const;

 private:
  struct Impl;
  explicit EventView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  EventKind kind_ = EventKind::comment;
  uint64_t hlc_ = 0;
  Id id_, case_;
};

// Field rules every stored event obeys: valid codes, sequence from 1, a
// known body kind, a case id for case events (= own id for `submitted`),
// home inside the origin's jurisdiction, text and list limits, rating 1-5.
Status validate_event(proto::Event::Reader ev);

Status check_signature(const EventView& view, const PublicKey& key);

// The message a key rotation's `proof` signs (records.capnp, KeyRotated).
std::string rotation_proof_message(std::string_view origin, const PublicKey& old_key,
                                   const PublicKey& new_key);

// Serializes `event` and signs it: returns the sealed SignedEvent bytes,
// naming key.pub as the signer.
std::string seal(capnp::MessageBuilder& event, const SigningKey& key);

Id read_id(proto::EventId::Reader r);
void write_id(proto::EventId::Builder b, const Id& id);

}  // namespace liandong
