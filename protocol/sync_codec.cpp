#include "protocol/sync_codec.h"

#include <capnp/serialize-packed.h>
#include <capnp/serialize.h>
#include <kj/io.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "protocol/event_codec.h"

namespace liandong::sync {

namespace {

kj::Array<capnp::word> aligned(std::string_view bytes) {
  auto words = kj::heapArray<capnp::word>((bytes.size() + 7) / 8);
  if (!bytes.empty()) {
    std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
    std::memcpy(words.begin(), bytes.data(), bytes.size());
  }
  return words;
}

void put_le32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.append(b, 4);
}

uint32_t get_le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}

constexpr int kZstdLevel = 3;

}  // namespace

namespace {

bool word_aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % sizeof(capnp::word) == 0;
}

// Words over `bytes`: the bytes themselves when aligned (LMDB values often
// are), else an aligned copy kept in `copy`.
kj::ArrayPtr<const capnp::word> words_of(std::string_view bytes, kj::Array<capnp::word>& copy) {
  if (word_aligned(bytes.data()))
    return {reinterpret_cast<const capnp::word*>(bytes.data()), bytes.size() / 8};
  copy = aligned(bytes);
  return copy;
}

}  // namespace

Result<RouteInfo> route_info(std::string_view sealed) {
  if (sealed.size() < 8 || sealed.size() % 8 != 0 || sealed.size() > kMaxSignedEventBytes)
    return Status::corruption("stored event has an impossible size");
  try {
    kj::Array<capnp::word> outer_copy, inner_copy;
    capnp::FlatArrayMessageReader outer(words_of(sealed, outer_copy),
                                        reader_options(kMaxSignedEventBytes));
    auto bytes = outer.getRoot<proto::SignedEvent>().getEvent();
    const std::string_view event(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
    if (event.size() % 8 != 0) return Status::corruption("stored event is torn");
    capnp::FlatArrayMessageReader inner(words_of(event, inner_copy),
                                        reader_options(kMaxEventBytes));
    auto ev = inner.getRoot<proto::Event>();
    RouteInfo r;
    r.id = read_id(ev.getId());
    r.home.assign(ev.getHome().begin(), ev.getHome().size());
    auto kind = kind_from_body(ev.getBody().which());
    r.broadcast = kind && is_broadcast(*kind);
    r.lineage = kind && is_lineage(*kind);
    r.kind = kind;
    return r;
  } catch (const kj::Exception& e) {
    return Status::corruption(std::string("stored event: ") + e.getDescription().cStr());
  }
}

std::string encode(capnp::MessageBuilder& msg) {
  kj::VectorOutputStream out;
  capnp::writePackedMessage(out, msg);
  auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

namespace {

// Cap'n Proto's packed encoding, undone here rather than by a stream reader
// (PackedMessageReader reads lazily and throws from its destructor on a
// truncated message): each word is a tag byte whose bits say which of its
// bytes follow; tag 0x00 is followed by a count of further zero words, tag
// 0xff by a count of words copied as they are. Returns nothing on torn input
// or when the result would pass `max_words`.
std::optional<std::vector<uint64_t>> unpack_words(std::string_view in, std::size_t max_words) {
  std::vector<uint64_t> out;
  out.reserve(std::min(max_words, in.size() / 2 + 1));
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const auto* end = p + in.size();
  while (p < end) {
    if (out.size() >= max_words) return std::nullopt;
    const unsigned char tag = *p++;
    unsigned char word[8] = {};
    for (int b = 0; b < 8; ++b) {
      if (tag & (1u << b)) {
        if (p == end) return std::nullopt;
        word[b] = *p++;
      }
    }
    out.emplace_back();
    std::memcpy(&out.back(), word, 8);
    if (tag == 0x00 || tag == 0xff) {
      if (p == end) return std::nullopt;
      const std::size_t n = *p++;
      if (out.size() + n > max_words) return std::nullopt;
      if (tag == 0x00) {
        out.resize(out.size() + n);  // value-initialized: zero words
      } else {
        if (static_cast<std::size_t>(end - p) < n * 8) return std::nullopt;
        const std::size_t at = out.size();
        out.resize(at + n);
        std::memcpy(out.data() + at, p, n * 8);
        p += n * 8;
      }
    }
  }
  return out;
}

}  // namespace

struct SyncReader::Impl {
  std::vector<uint64_t> words;  // the unpacked message, word-aligned
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
};

SyncReader::SyncReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncReader::SyncReader(SyncReader&&) noexcept = default;
SyncReader& SyncReader::operator=(SyncReader&&) noexcept = default;
SyncReader::~SyncReader() = default;

Result<SyncReader> SyncReader::parse(std::string_view bytes, std::size_t max_bytes) {
  if (bytes.size() > max_bytes) return Status::invalid("message is larger than max_message_bytes");
  if (bytes.size() < 2) return Status::invalid("message is truncated");
  // A legitimate message barely shrinks when packed (its bulk is zstd
  // output); zero runs can expand a lot, so the unpacked size is bounded.
  const std::size_t max_words = (2 * max_bytes + 65536) / sizeof(capnp::word);
  auto words = unpack_words(bytes, max_words);
  if (!words) return Status::invalid("message is truncated or unpacks too large");
  auto impl = std::make_unique<Impl>();
  impl->words = std::move(*words);
  try {
    // The daemon reads fields more than once; a bound proportional to the
    // bytes still stops pointer-aliasing amplification.
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = impl->words.size() * 4 + 8192;
    opts.nestingLimit = kMaxNesting;
    const kj::ArrayPtr<const capnp::word> view(
        reinterpret_cast<const capnp::word*>(impl->words.data()), impl->words.size());
    impl->reader = std::make_unique<capnp::FlatArrayMessageReader>(view, opts);
    if (impl->reader->getEnd() != view.end()) return Status::invalid("message has trailing data");
    auto root = impl->reader->getRoot<proto::SyncMessage>();
    (void)root.which();
  } catch (const kj::Exception& e) {
    return Status::invalid(std::string("malformed message: ") + e.getDescription().cStr());
  }
  return SyncReader(std::move(impl));
}

proto::SyncMessage::Reader SyncReader::root() const {
  return impl_->reader->getRoot<proto::SyncMessage>();
}

PackedEvents pack_events(std::span<const std::string> events, bool compress) {
  std::string raw;
  std::size_t total = 0;
  for (const auto& e : events)
    total += 4 + e.size();
  raw.reserve(total);
  for (const auto& e : events) {
    put_le32(raw, static_cast<uint32_t>(e.size()));
    raw.append(e);
  }
  PackedEvents out;
  out.raw_bytes = static_cast<uint32_t>(raw.size());
  // Big batches (a backlog catching up) are CPU-bound: the fastest level.
  // Small ones (a trickle) are bytes-bound: the default level.
  const int level = raw.size() > 64 * 1024 ? 1 : kZstdLevel;
  if (!compress || raw.empty()) {
    out.data = std::move(raw);
    return out;
  }
  out.data.resize(ZSTD_compressBound(raw.size()));
  const std::size_t n =
      ZSTD_compress(out.data.data(), out.data.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) {  // cannot happen with a bound-sized buffer; send it plain
    out.data = std::move(raw);
    return out;
  }
  out.data.resize(n);
  out.compressed = true;
  return out;
}

Result<std::vector<std::string>> unpack_events(proto::Batch::Reader batch,
                                               std::size_t max_raw_bytes) {
  auto data = batch.getEvents();
  const std::string_view packed(reinterpret_cast<const char*>(data.begin()), data.size());
  return unpack_events(packed, batch.getCompression(), batch.getRawBytes(), batch.getCount(),
                       max_raw_bytes);
}

Result<std::vector<std::string>> unpack_events(std::string_view packed,
                                               proto::Compression compression,
                                               std::size_t raw_bytes, uint32_t count,
                                               std::size_t max_raw_bytes) {
  if (raw_bytes > max_raw_bytes) return Status::invalid("batch is larger than allowed");
  std::string raw;
  std::string_view view;
  switch (compression) {
    case proto::Compression::NONE:
      if (packed.size() != raw_bytes) return Status::invalid("batch size does not match rawBytes");
      view = packed;
      break;
    case proto::Compression::ZSTD: {
      const unsigned long long declared = ZSTD_getFrameContentSize(packed.data(), packed.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR || declared != raw_bytes)
        return Status::invalid("compressed batch does not declare rawBytes");
      raw.resize(raw_bytes);
      const std::size_t n = ZSTD_decompress(raw.data(), raw.size(), packed.data(), packed.size());
      if (ZSTD_isError(n) || n != raw_bytes)
        return Status::invalid("compressed batch does not decompress");
      view = raw;
      break;
    }
    default:
      return Status::invalid("unknown batch compression");
  }
  std::vector<std::string> out;
  // The count is the sender's claim: reserve no more than the bytes can hold.
  out.reserve(std::min<std::size_t>(count, view.size() / 4));
  std::size_t at = 0;
  while (at < view.size()) {
    if (view.size() - at < 4) return Status::invalid("batch has a torn length");
    const uint32_t len = get_le32(view.data() + at);
    at += 4;
    if (len > view.size() - at) return Status::invalid("batch has a torn event");
    if (out.size() >= count) return Status::invalid("batch holds more events than count");
    out.emplace_back(view.substr(at, len));
    at += len;
  }
  if (out.size() != count) return Status::invalid("batch holds fewer events than count");
  return out;
}

std::string encode_cursor(const CursorValue& c) {
  // u8 store id length, store id, be64 lsn, id key (20 bytes) when lsn > 0.
  std::string out;
  out.push_back(static_cast<char>(c.store_id.size()));
  out.append(c.store_id);
  put_be64(out, c.lsn);
  if (c.lsn > 0) out.append(id_key(c.at));
  return out;
}

Result<CursorValue> decode_cursor(std::string_view b) {
  if (b.empty()) return Status::corruption("empty cursor");
  const std::size_t n = static_cast<unsigned char>(b[0]);
  if (b.size() < 1 + n + 8) return Status::corruption("short cursor");
  CursorValue c;
  c.store_id.assign(b.substr(1, n));
  c.lsn = get_be64(b.substr(1 + n, 8));
  const auto rest = b.substr(1 + n + 8);
  if (c.lsn > 0) {
    if (rest.size() != kIdKeyLen) return Status::corruption("cursor without its event id");
    c.at = id_from_key(rest);
  }
  return c;
}

void write_cursor(proto::Cursor::Builder b, const CursorValue& c) {
  b.setLsn(c.lsn);
  b.setStoreId(c.store_id);
  if (c.lsn > 0) write_id(b.initAt(), c.at);
}

CursorValue read_cursor(proto::Cursor::Reader r) {
  CursorValue c;
  c.lsn = r.getLsn();
  c.store_id.assign(r.getStoreId().begin(), r.getStoreId().size());
  if (r.hasAt()) c.at = read_id(r.getAt());
  return c;
}

}  // namespace liandong::sync
