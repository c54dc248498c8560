// Fuzz target: one sync message from a peer. Twice over:
//  - the way node/links.cpp reads it: sync::decode_message (node/sync/
//    messages.h) with the daemon's size limit. What it accepts must keep
//    the documented shape (32-byte hashes, 1..16 chunks a request, at most
//    64 KiB a chunk, data iff not missing, at most 256 files a query), and
//    must survive encode -> decode unchanged (the same value, the same
//    bytes when encoded again);
//  - raw (protocol/sync_codec.h): SyncReader::parse, then every field of
//    whatever kind it is, batches unpacked and each event parsed, catching
//    kj::Exception as the decoder does.
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/node_config.h"
#include "node/sync/messages.h"
#include "protocol/event_codec.h"
#include "protocol/sync_codec.h"
#include "tests/fuzz/fuzz_walk.h"

namespace {

using namespace liandong;

// The daemon's limits with the default [sync] settings.
const std::size_t kMaxMessage = config::SyncSettings{}.max_message_bytes + 4096;
const std::size_t kMaxRaw =
    config::SyncSettings{}.max_message_bytes + kMaxSignedEventBytes + 64 * 1024;

void walk_cursor(fuzz::Sink& s, proto::Cursor::Reader c) {
  const auto v = sync::read_cursor(c);
  s.num(v.lsn);
  s.bytes += v.store_id.size() + v.at.origin.size();
  // The stored form of what the peer told us must read back the same.
  const auto again = sync::decode_cursor(sync::encode_cursor(v));
  if (v.store_id.size() < 256 && v.at.origin.size() <= kMaxCodeLen &&
      v.at.origin.find('\0') == std::string::npos) {
    if (!again.ok()) __builtin_trap();
  }
}

template <typename Reader>
void walk_handshake(fuzz::Sink& s, Reader m) {
  s.num(m.getVersion());
  s.text(m.getCode());
  s.bytes += std::string_view(m.getCode().begin(), m.getCode().size()).size();
  s.num(valid_code(std::string_view(m.getCode().begin(), m.getCode().size())));
  s.text(m.getStoreId());
  walk_cursor(s, m.getHave());
  for (auto c : m.getCapabilities())
    s.text(c);
  for (auto k : m.getKeys()) {
    const std::string code(k.getCode().begin(), k.getCode().size());
    s.num(valid_code(code) && k.getKey().size() == 32);
    s.data(k.getKey());
  }
  s.num(m.getYourNextSeq());
}

void walk_batch(fuzz::Sink& s, proto::Batch::Reader b) {
  s.num(b.getFromLsn());
  s.num(b.getToLsn());
  s.id(b.getLastId());
  s.num(b.getCount());
  s.num(static_cast<uint64_t>(b.getCompression()));
  s.num(b.getRawBytes());
  auto events = sync::unpack_events(b, kMaxRaw);
  if (!events.ok()) return;
  for (const auto& e : *events) {
    auto info = sync::route_info(e);
    if (info.ok()) s.bytes += info->home.size() + format_id(info->id).size();
    auto view = EventView::parse(e);
    if (view.ok()) fuzz::walk_view(s, *view);
  }
}

void walk_rejected(fuzz::Sink& s, capnp::List<proto::RejectedEvent>::Reader list) {
  for (auto r : list) {
    if (r.hasId()) s.id(r.getId());
    s.text(r.getReason());
    s.text(r.getBy());
    s.num(static_cast<uint64_t>(r.getCause()));
    s.num(r.getAtMs());
  }
}

void walk_ack(fuzz::Sink& s, proto::Ack::Reader a) {
  walk_cursor(s, a.getHave());
  s.num(a.getTopLsn());
  s.num(a.getResend());
  walk_rejected(s, a.getRejected());
}

// --- the decoded values (node/sync/messages.h) ---------------------------------

bool hash_ok(const std::string& h) {
  return h.size() == 32;
}

// The shape decode_message promises for what it accepts.
bool shape_ok(const sync::Message& m) {
  if (auto* r = std::get_if<sync::ChunkRequest>(&m)) {
    if (!hash_ok(r->file) || r->chunks.empty() || r->chunks.size() > sync::kMaxChunksPerRequest)
      return false;
    for (const auto& c : r->chunks)
      if (!hash_ok(c)) return false;
  } else if (auto* c = std::get_if<sync::Chunk>(&m)) {
    if (!hash_ok(c->file) || !hash_ok(c->hash) || c->data.size() > kChunkBytes ||
        c->missing != c->data.empty())
      return false;
  } else if (auto* q = std::get_if<sync::FilesQuery>(&m)) {
    if (q->files.size() > sync::kMaxFilesPerQuery) return false;
    for (const auto& f : q->files)
      if (!hash_ok(f)) return false;
  } else if (auto* h = std::get_if<sync::FilesHeld>(&m)) {
    if (h->files.size() > sync::kMaxFilesPerQuery) return false;
    for (const auto& f : h->files)
      if (!hash_ok(f.first)) return false;
  }
  return true;
}

// What encode_message keeps of a list it caps (messages.h: at most 1,024
// refusals a message; the rest are listed again later).
template <typename T>
std::vector<T> first(const std::vector<T>& v) {
  constexpr std::size_t kCap = 1024;
  return v.size() <= kCap ? v : std::vector<T>(v.begin(), v.begin() + kCap);
}

// Field by field, for the kinds that have no operator== of their own.
bool same(const sync::Message& a, const sync::Message& b) {
  if (a.index() != b.index()) return false;
  if (auto* x = std::get_if<sync::Hello>(&a)) return *x == std::get<sync::Hello>(b);
  if (auto* x = std::get_if<sync::Welcome>(&a)) return *x == std::get<sync::Welcome>(b);
  if (auto* x = std::get_if<sync::ChunkRequest>(&a)) {
    const auto& y = std::get<sync::ChunkRequest>(b);
    return x->file == y.file && x->chunks == y.chunks;
  }
  if (auto* x = std::get_if<sync::Chunk>(&a)) {
    const auto& y = std::get<sync::Chunk>(b);
    return x->file == y.file && x->hash == y.hash && x->data == y.data && x->missing == y.missing;
  }
  if (auto* x = std::get_if<sync::FilesQuery>(&a))
    return x->files == std::get<sync::FilesQuery>(b).files;
  if (auto* x = std::get_if<sync::FilesHeld>(&a))
    return x->files == std::get<sync::FilesHeld>(b).files;
  if (auto* x = std::get_if<sync::Refusals>(&a))
    return first(x->list) == std::get<sync::Refusals>(b).list;
  if (auto* x = std::get_if<sync::RefusalsTaken>(&a))
    return first(x->ids) == std::get<sync::RefusalsTaken>(b).ids;
  return true;  // the others: the encoded bytes are compared instead
}

void round_trip(std::string_view bytes) {
  auto m1 = sync::decode_message(bytes, kMaxMessage);
  if (!m1.ok()) return;
  if (!shape_ok(*m1)) __builtin_trap();
  if (std::holds_alternative<sync::UnknownKind>(*m1)) return;  // encodes as no bytes
  const std::string e1 = sync::encode_message(*m1);
  // What we encode we read back, whatever its size: no limit is tested here.
  auto m2 = sync::decode_message(e1, e1.size() + kMaxMessage);
  if (!m2.ok() || !same(*m1, *m2)) __builtin_trap();
  if (sync::encode_message(*m2) != e1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  round_trip(bytes);
  auto parsed = sync::SyncReader::parse(bytes, kMaxMessage);
  if (!parsed.ok()) return 0;
  fuzz::Sink s;
  try {
    auto msg = parsed->root();
    switch (msg.which()) {
      case proto::SyncMessage::HELLO:
        walk_handshake(s, msg.getHello());
        break;
      case proto::SyncMessage::WELCOME:
        walk_handshake(s, msg.getWelcome());
        break;
      case proto::SyncMessage::REFUSED:
        s.num(static_cast<uint64_t>(msg.getRefused().getReason()));
        s.text(msg.getRefused().getText());
        break;
      case proto::SyncMessage::BATCH:
        walk_batch(s, msg.getBatch());
        break;
      case proto::SyncMessage::ACK:
        walk_ack(s, msg.getAck());
        break;
      case proto::SyncMessage::HEARTBEAT:
        s.num(msg.getHeartbeat().getSentMs());
        s.num(msg.getHeartbeat().getEchoMs());
        break;
      case proto::SyncMessage::BYE:
      case proto::SyncMessage::RECOVER:
        break;
      case proto::SyncMessage::REFUSALS:
        walk_rejected(s, msg.getRefusals());
        break;
      case proto::SyncMessage::REFUSALS_TAKEN:
        for (auto id : msg.getRefusalsTaken())
          s.id(id);
        break;
      case proto::SyncMessage::CHUNK_REQUEST: {
        auto r = msg.getChunkRequest();
        s.data(r.getFile());
        for (auto c : r.getChunks())
          s.data(c);
        break;
      }
      case proto::SyncMessage::CHUNK: {
        auto c = msg.getChunk();
        s.data(c.getFile());
        s.data(c.getHash());
        s.data(c.getData());
        s.num(c.getMissing());
        break;
      }
      case proto::SyncMessage::FILES_QUERY:
        for (auto f : msg.getFilesQuery())
          s.data(f);
        break;
      case proto::SyncMessage::FILES_HELD:
        for (auto f : msg.getFilesHeld()) {
          s.data(f.getFile());
          s.num(f.getLevels());
        }
        break;
      default:
        break;  // a newer protocol: the daemon logs it and goes on
    }
  } catch (const kj::Exception&) {
    // What node/daemon.cpp does: the message is malformed, the peer is told.
  }
  return 0;
}
