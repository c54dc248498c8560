// Fuzz target: one sync message from a peer (protocol/sync_codec.h), read
// the way node/daemon.cpp reads it — SyncReader::parse with the daemon's
// size limit, then every field of whatever kind it is, batches unpacked and
// each event parsed — catching kj::Exception as the daemon does.
#include <kj/exception.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/node_config.h"
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

void walk_ack(fuzz::Sink& s, proto::Ack::Reader a) {
  walk_cursor(s, a.getHave());
  s.num(a.getTopLsn());
  s.num(a.getResend());
  for (auto r : a.getRejected()) {
    if (r.hasId()) s.id(r.getId());
    s.text(r.getReason());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
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
      default:
        break;  // a newer protocol: the daemon logs it and goes on
    }
  } catch (const kj::Exception&) {
    // What node/daemon.cpp does: the message is malformed, the peer is told.
  }
  return 0;
}
