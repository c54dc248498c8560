#include "node/sync/messages.h"

#include <capnp/message.h>
#include <kj/exception.h>

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "protocol/event_codec.h"

namespace liandong::sync {

namespace {

// At most this many refusals travel in one message.
constexpr std::size_t kMaxRejectedPerMessage = 1024;

// A field that breaks the attachment messages' limits.
struct InvalidMessage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string text(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

Handshake read_handshake(auto r) {
  Handshake h;
  h.version = r.getVersion();
  h.code = text(r.getCode());
  h.store_id = text(r.getStoreId());
  h.have = read_cursor(r.getHave());
  for (auto c : r.getCapabilities())
    h.capabilities.push_back(text(c));
  for (auto e : r.getKeys()) {
    KeyEntry k{text(e.getCode()), std::nullopt};
    if (auto bytes = e.getKey(); bytes.size() == 32) {
      PublicKey key;
      std::copy(bytes.begin(), bytes.end(), key.begin());
      k.key = key;
    }
    h.keys.push_back(std::move(k));
  }
  h.your_next_seq = r.getYourNextSeq();
  h.wall_ms = r.getWallMs();
  return h;
}

void write_handshake(auto b, const Handshake& h) {
  b.setVersion(h.version);
  b.setCode(h.code);
  b.setStoreId(h.store_id);
  write_cursor(b.initHave(), h.have);
  auto caps = b.initCapabilities(static_cast<unsigned>(h.capabilities.size()));
  for (unsigned i = 0; i < caps.size(); ++i)
    caps.set(i, h.capabilities[i]);
  auto keys = b.initKeys(static_cast<unsigned>(h.keys.size()));
  for (unsigned i = 0; i < keys.size(); ++i) {
    keys[i].setCode(h.keys[i].code);
    if (h.keys[i].key) keys[i].setKey(capnp::Data::Reader(h.keys[i].key->data(), 32));
  }
  b.setYourNextSeq(h.your_next_seq);
  b.setWallMs(h.wall_ms);
}

Rejected read_rejected(proto::RejectedEvent::Reader e) {
  Rejected r;
  if (e.hasId()) r.id = read_id(e.getId());
  r.reason = text(e.getReason());
  r.by = text(e.getBy());
  r.cause = e.getCause();
  r.at_ms = e.getAtMs();
  return r;
}

void write_rejected(capnp::List<proto::RejectedEvent>::Builder list,
                    const std::vector<Rejected>& from) {
  for (unsigned i = 0; i < list.size(); ++i) {
    const Rejected& r = from[i];
    auto b = list[i];
    if (!r.id.origin.empty()) write_id(b.initId(), r.id);
    b.setReason(r.reason);
    b.setBy(r.by);
    b.setCause(r.cause);
    b.setAtMs(r.at_ms);
  }
}

unsigned capped(std::size_t n) {
  return static_cast<unsigned>(std::min(n, kMaxRejectedPerMessage));
}

std::string hash_of(capnp::Data::Reader d, const char* what) {
  if (d.size() != 32) throw InvalidMessage(std::string(what) + " must be a 32-byte SHA-256");
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

capnp::Data::Reader as_data(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

Message read(proto::SyncMessage::Reader m) {
  switch (m.which()) {
    case proto::SyncMessage::HELLO:
      return Hello{read_handshake(m.getHello())};
    case proto::SyncMessage::WELCOME:
      return Welcome{read_handshake(m.getWelcome())};
    case proto::SyncMessage::REFUSED: {
      auto r = m.getRefused();
      return Refused{r.getReason(), text(r.getText())};
    }
    case proto::SyncMessage::BATCH: {
      auto r = m.getBatch();
      Batch b;
      b.from_lsn = r.getFromLsn();
      b.to_lsn = r.getToLsn();
      if (r.hasLastId()) b.last_id = read_id(r.getLastId());
      b.count = r.getCount();
      b.compression = r.getCompression();
      auto data = r.getEvents();
      b.events.assign(reinterpret_cast<const char*>(data.begin()), data.size());
      b.raw_bytes = r.getRawBytes();
      return b;
    }
    case proto::SyncMessage::ACK: {
      auto r = m.getAck();
      Ack a;
      a.have = read_cursor(r.getHave());
      a.top_lsn = r.getTopLsn();
      for (auto e : r.getRejected())
        a.rejected.push_back(read_rejected(e));
      a.resend = r.getResend();
      return a;
    }
    case proto::SyncMessage::HEARTBEAT: {
      auto r = m.getHeartbeat();
      return Heartbeat{r.getSentMs(), r.getEchoMs()};
    }
    case proto::SyncMessage::BYE:
      return Bye{};
    case proto::SyncMessage::RECOVER:
      return Recover{};
    case proto::SyncMessage::REFUSALS: {
      Refusals out;
      for (auto e : m.getRefusals())
        out.list.push_back(read_rejected(e));
      return out;
    }
    case proto::SyncMessage::REFUSALS_TAKEN: {
      RefusalsTaken out;
      for (auto id : m.getRefusalsTaken())
        out.ids.push_back(read_id(id));
      return out;
    }
    case proto::SyncMessage::CHUNK_REQUEST: {
      auto r = m.getChunkRequest();
      ChunkRequest out;
      out.file = hash_of(r.getFile(), "chunk request: file");
      if (r.getChunks().size() == 0 || r.getChunks().size() > kMaxChunksPerRequest)
        throw InvalidMessage("chunk request: 1 to 16 chunks");
      for (auto c : r.getChunks())
        out.chunks.push_back(hash_of(c, "chunk request: chunk"));
      return out;
    }
    case proto::SyncMessage::CHUNK: {
      auto r = m.getChunk();
      Chunk out;
      out.file = hash_of(r.getFile(), "chunk: file");
      out.hash = hash_of(r.getHash(), "chunk: hash");
      out.missing = r.getMissing();
      auto d = r.getData();
      if (d.size() > kChunkBytes) throw InvalidMessage("chunk: more than 64 KiB of data");
      if (out.missing != (d.size() == 0)) throw InvalidMessage("chunk: data and missing disagree");
      out.data.assign(reinterpret_cast<const char*>(d.begin()), d.size());
      return out;
    }
    case proto::SyncMessage::FILES_QUERY: {
      FilesQuery out;
      if (m.getFilesQuery().size() > kMaxFilesPerQuery)
        throw InvalidMessage("files query: more than 256 files");
      for (auto f : m.getFilesQuery())
        out.files.push_back(hash_of(f, "files query: file"));
      return out;
    }
    case proto::SyncMessage::FILES_HELD: {
      FilesHeld out;
      if (m.getFilesHeld().size() > kMaxFilesPerQuery)
        throw InvalidMessage("files held: more than 256 files");
      for (auto f : m.getFilesHeld())
        out.files.emplace_back(hash_of(f.getFile(), "files held: file"), f.getLevels());
      return out;
    }
  }
  return UnknownKind{};
}

}  // namespace

Batch make_batch(uint64_t from, uint64_t to, const Id& last_id, std::span<const std::string> events,
                 bool compress) {
  auto packed = pack_events(events, compress);
  Batch b;
  b.from_lsn = from;
  b.to_lsn = to;
  b.last_id = last_id;
  b.count = static_cast<uint32_t>(events.size());
  b.compression = packed.compressed ? proto::Compression::ZSTD : proto::Compression::NONE;
  b.events = std::move(packed.data);
  b.raw_bytes = packed.raw_bytes;
  return b;
}

Result<std::vector<std::string>> unpack(const Batch& b, std::size_t max_raw_bytes) {
  return unpack_events(b.events, b.compression, b.raw_bytes, b.count, max_raw_bytes);
}

const char* kind_name(const Message& m) {
  static constexpr const char* kNames[] = {"hello",      "welcome",       "refused",      "batch",
                                           "ack",        "heartbeat",     "bye",          "recover",
                                           "refusals",   "refusalsTaken", "chunkRequest", "chunk",
                                           "filesQuery", "filesHeld",     "unknown"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[m.index()];
}

Result<Message> decode_message(std::string_view bytes, std::size_t max_bytes) {
  auto parsed = SyncReader::parse(bytes, max_bytes);
  if (!parsed.ok()) return parsed.status();
  try {
    return read(parsed->root());
  } catch (const InvalidMessage& e) {
    return Status::invalid(e.what());
  } catch (const kj::Exception& e) {
    return Status::invalid(std::string("malformed message: ") + e.getDescription().cStr());
  }
}

std::string encode_message(const Message& m) {
  const std::size_t hint = std::holds_alternative<Batch>(m)
                               ? std::get<Batch>(m).events.size() / sizeof(capnp::word) + 64
                               : 256;
  capnp::MallocMessageBuilder msg(static_cast<unsigned>(std::min<std::size_t>(hint, 1u << 24)));
  auto root = msg.initRoot<proto::SyncMessage>();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Hello>) {
          write_handshake(root.initHello(), v);
        } else if constexpr (std::is_same_v<T, Welcome>) {
          write_handshake(root.initWelcome(), v);
        } else if constexpr (std::is_same_v<T, Refused>) {
          auto r = root.initRefused();
          r.setReason(v.reason);
          r.setText(v.text);
        } else if constexpr (std::is_same_v<T, Batch>) {
          auto b = root.initBatch();
          b.setFromLsn(v.from_lsn);
          b.setToLsn(v.to_lsn);
          write_id(b.initLastId(), v.last_id);
          b.setCount(v.count);
          b.setCompression(v.compression);
          b.setEvents(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(v.events.data()),
                                          v.events.size()));
          b.setRawBytes(v.raw_bytes);
        } else if constexpr (std::is_same_v<T, Ack>) {
          auto a = root.initAck();
          write_cursor(a.initHave(), v.have);
          a.setTopLsn(v.top_lsn);
          if (!v.rejected.empty())
            write_rejected(a.initRejected(capped(v.rejected.size())), v.rejected);
          a.setResend(v.resend);
        } else if constexpr (std::is_same_v<T, Heartbeat>) {
          auto h = root.initHeartbeat();
          h.setSentMs(v.sent_ms);
          h.setEchoMs(v.echo_ms);
        } else if constexpr (std::is_same_v<T, Bye>) {
          root.setBye();
        } else if constexpr (std::is_same_v<T, Recover>) {
          root.setRecover();
        } else if constexpr (std::is_same_v<T, Refusals>) {
          write_rejected(root.initRefusals(capped(v.list.size())), v.list);
        } else if constexpr (std::is_same_v<T, RefusalsTaken>) {
          auto ids = root.initRefusalsTaken(capped(v.ids.size()));
          for (unsigned i = 0; i < ids.size(); ++i)
            write_id(ids[i], v.ids[i]);
        } else if constexpr (std::is_same_v<T, ChunkRequest>) {
          auto r = root.initChunkRequest();
          r.setFile(as_data(v.file));
          auto cs = r.initChunks(static_cast<unsigned>(v.chunks.size()));
          for (unsigned i = 0; i < cs.size(); ++i)
            cs.set(i, as_data(v.chunks[i]));
        } else if constexpr (std::is_same_v<T, Chunk>) {
          auto c = root.initChunk();
          c.setFile(as_data(v.file));
          c.setHash(as_data(v.hash));
          c.setData(as_data(v.data));
          c.setMissing(v.missing);
        } else if constexpr (std::is_same_v<T, FilesQuery>) {
          auto fs = root.initFilesQuery(static_cast<unsigned>(v.files.size()));
          for (unsigned i = 0; i < fs.size(); ++i)
            fs.set(i, as_data(v.files[i]));
        } else if constexpr (std::is_same_v<T, FilesHeld>) {
          auto fs = root.initFilesHeld(static_cast<unsigned>(v.files.size()));
          for (unsigned i = 0; i < fs.size(); ++i) {
            fs[i].setFile(as_data(v.files[i].first));
            fs[i].setLevels(v.files[i].second);
          }
        } else {
          static_assert(std::is_same_v<T, UnknownKind>);
        }
      },
      m);
  // A kind we do not know is nothing we can say.
  if (std::holds_alternative<UnknownKind>(m)) return {};
  return encode(msg);
}

}  // namespace liandong::sync
