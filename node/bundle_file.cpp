#include "node/bundle_file.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cstring>

#include "protocol/event_codec.h"

namespace liandong::node {

namespace fs = std::filesystem;

namespace {

using Stream = crypto_secretstream_xchacha20poly1305_state;
constexpr std::size_t kSealedKeyBytes =
    crypto_secretstream_xchacha20poly1305_KEYBYTES + crypto_box_SEALBYTES;
constexpr std::size_t kFixedBytes = 16;  // magic, version, header length
constexpr std::size_t kSigBytes = 64;

void put_be32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<char>((v >> s) & 0xff));
}

uint32_t get_be32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string data_of(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

std::string text_of(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

capnp::Data::Reader as_data(std::string_view s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

// Unpacked Cap'n Proto (docs/FORMAT.md §8): the bytes are the words.
std::string flat(capnp::MessageBuilder& m) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(m);
  const auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// Runs `fn` on the root of an unpacked Cap'n Proto message in `bytes`,
// read with limits; a malformed message is `invalid`.
template <typename T, typename Fn>
Status read_root(std::string_view bytes, Fn&& fn) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return Status::invalid("not a whole number of 8-byte words");
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = words.size() * 2 + 256;
    opts.nestingLimit = 8;
    capnp::FlatArrayMessageReader reader(
        kj::ArrayPtr<const capnp::word>(words.data(), words.size()), opts);
    return fn(reader.getRoot<T>());
  } catch (const kj::Exception& e) {
    return Status::invalid(std::string("malformed: ") + e.getDescription().cStr());
  } catch (const std::exception& e) {
    return Status::invalid(std::string("malformed: ") + e.what());
  }
}

struct Invalid : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string hash32(capnp::Data::Reader d, const char* what) {
  if (d.size() != 32) throw Invalid(std::string(what) + " must be 32 bytes");
  return data_of(d);
}

void check_list(std::size_t n, const char* what) {
  if (n > kMaxBundleList) throw Invalid(std::string("too many ") + what);
}

}  // namespace

// ---------------------------------------------------------------------------
// Header

Result<ParsedHeader> parse_bundle_header(std::string_view in) {
  if (in.size() < kFixedBytes || in.substr(0, 8) != kBundleMagic)
    return Status::invalid("不是联动数据包（文件开头不对） (not a Liandong bundle)");
  const uint32_t version = get_be32(in.substr(8, 4));
  if (version != kBundleVersion)
    return Status::invalid("数据包版本 " + std::to_string(version) +
                           " 本机不认识，请升级本机程序 (bundle version unknown)");
  const uint32_t h = get_be32(in.substr(12, 4));
  if (h == 0 || h > kMaxBundleHeaderBytes)
    return Status::invalid("数据包头长度不对 (bundle header length out of bounds)");
  if (in.size() < kFixedBytes + h + kSigBytes)
    return Status::invalid("数据包不完整（包头被截断） (bundle header cut off)");
  ParsedHeader out;
  out.signed_bytes = std::string(in.substr(0, kFixedBytes + h));
  out.signature = std::string(in.substr(kFixedBytes + h, kSigBytes));
  out.consumed = kFixedBytes + h + kSigBytes;
  auto parsed = read_root<proto::BundleHeader>(
      in.substr(kFixedBytes, h), [&](proto::BundleHeader::Reader r) -> Status {
        BundleHeader& b = out.header;
        b.kind = r.getKind();
        if (b.kind != proto::BundleKind::UP && b.kind != proto::BundleKind::DOWN)
          return Status::invalid("unknown bundle kind");
        b.from = text_of(r.getFrom());
        b.to = text_of(r.getTo());
        b.from_store = text_of(r.getFromStore());
        b.created_ms = r.getCreatedMs();
        b.expires_ms = r.getExpiresMs();
        b.bundle_id = data_of(r.getBundleId());
        const std::string key = data_of(r.getSignKey());
        b.sealed_key = data_of(r.getSealedKey());
        b.stream_header = data_of(r.getStreamHeader());
        if (!valid_code(b.from) || !valid_code(b.to)) return Status::invalid("bad division code");
        if (b.from_store.size() > 64) return Status::invalid("store id too long");
        if (b.bundle_id.size() != 16 || key.size() != 32 ||
            b.sealed_key.size() != kSealedKeyBytes ||
            b.stream_header.size() != crypto_secretstream_xchacha20poly1305_HEADERBYTES)
          return Status::invalid("a key field has the wrong size");
        std::memcpy(b.sign_key.data(), key.data(), 32);
        return Status::ok();
      });
  if (!parsed) return Status::invalid("数据包头无法读取 (bundle header: " + parsed.message() + ")");
  return out;
}

// ---------------------------------------------------------------------------
// Items

std::string encode_item(const BundleItem& item) {
  capnp::MallocMessageBuilder m;
  auto root = m.initRoot<proto::BundleItem>();
  switch (item.kind) {
    case BundleItem::Kind::keys: {
      auto list = root.initKeys(static_cast<unsigned>(item.keys.size()));
      for (unsigned i = 0; i < list.size(); ++i) {
        list[i].setCode(item.keys[i].code);
        if (item.keys[i].key) list[i].setKey(capnp::Data::Reader(item.keys[i].key->data(), 32));
      }
      break;
    }
    case BundleItem::Kind::have:
      sync::write_cursor(root.initHave(), item.have);
      break;
    case BundleItem::Kind::range: {
      auto r = root.initRange();
      r.setFromLsn(item.range.from);
      r.setToLsn(item.range.to);
      if (!item.range.last_id.empty()) write_id(r.initLastId(), item.range.last_id);
      auto ev = r.initEvents(static_cast<unsigned>(item.range.events.size()));
      for (unsigned i = 0; i < ev.size(); ++i)
        ev.set(i, as_data(item.range.events[i]));
      break;
    }
    case BundleItem::Kind::chunk: {
      auto c = root.initChunk();
      c.setFile(as_data(item.chunk.file));
      c.setHash(as_data(item.chunk.hash));
      c.setData(as_data(item.chunk.data));
      break;
    }
    case BundleItem::Kind::custody: {
      auto c = root.initCustody();
      c.setTopLsn(item.custody.top);
      auto files = c.initFiles(static_cast<unsigned>(item.custody.files.size()));
      for (unsigned i = 0; i < files.size(); ++i) {
        files[i].setFile(as_data(item.custody.files[i].first));
        files[i].setLevels(item.custody.files[i].second);
      }
      break;
    }
    case BundleItem::Kind::refusals: {
      auto list = root.initRefusals(static_cast<unsigned>(item.refusals.size()));
      for (unsigned i = 0; i < list.size(); ++i) {
        const sync::Rejected& r = item.refusals[i];
        if (!r.id.empty()) write_id(list[i].initId(), r.id);
        list[i].setReason(r.reason);
        list[i].setBy(r.by);
        list[i].setCause(r.cause);
        list[i].setAtMs(r.at_ms);
      }
      break;
    }
    case BundleItem::Kind::end: {
      auto e = root.initEnd();
      e.setRanges(item.end.ranges);
      e.setEvents(item.end.events);
      e.setChunks(item.end.chunks);
      e.setItems(item.end.items);
      break;
    }
    case BundleItem::Kind::asks: {
      auto list = root.initAsks(static_cast<unsigned>(item.asks.size()));
      for (unsigned i = 0; i < list.size(); ++i)
        list.set(i, as_data(item.asks[i]));
      break;
    }
  }
  return flat(m);
}

Result<BundleItem> decode_item(std::string_view plaintext) {
  if (plaintext.size() > kMaxRecordBytes) return Status::invalid("item too large");
  BundleItem out;
  auto parsed = read_root<proto::BundleItem>(plaintext, [&](proto::BundleItem::Reader r) -> Status {
    try {
      switch (r.which()) {
        case proto::BundleItem::KEYS: {
          out.kind = BundleItem::Kind::keys;
          auto list = r.getKeys();
          check_list(list.size(), "keys");
          for (auto e : list) {
            sync::KeyEntry k{text_of(e.getCode()), std::nullopt};
            if (!valid_code(k.code)) throw Invalid("bad code in keys");
            if (e.hasKey()) {
              const std::string key = hash32(e.getKey(), "a key");
              PublicKey pk;
              std::memcpy(pk.data(), key.data(), 32);
              k.key = pk;
            }
            out.keys.push_back(std::move(k));
          }
          break;
        }
        case proto::BundleItem::HAVE:
          out.kind = BundleItem::Kind::have;
          out.have = sync::read_cursor(r.getHave());
          if (out.have.store_id.size() > 64) throw Invalid("store id too long");
          break;
        case proto::BundleItem::RANGE: {
          out.kind = BundleItem::Kind::range;
          auto g = r.getRange();
          out.range.from = g.getFromLsn();
          out.range.to = g.getToLsn();
          if (out.range.to <= out.range.from) throw Invalid("empty or reversed range");
          if (!g.hasLastId()) throw Invalid("range without the id of its last event");
          out.range.last_id = read_id(g.getLastId());
          if (!valid_code(out.range.last_id.origin)) throw Invalid("bad id in range");
          auto ev = g.getEvents();
          check_list(ev.size(), "events");
          if (ev.size() > out.range.to - out.range.from)
            throw Invalid("more events than the range");
          for (auto e : ev) {
            if (e.size() == 0 || e.size() > kMaxSignedEventBytes) throw Invalid("event size");
            out.range.events.push_back(data_of(e));
          }
          break;
        }
        case proto::BundleItem::CHUNK: {
          out.kind = BundleItem::Kind::chunk;
          auto c = r.getChunk();
          out.chunk.file = hash32(c.getFile(), "a file hash");
          out.chunk.hash = hash32(c.getHash(), "a chunk hash");
          if (c.getData().size() > kChunkBytes) throw Invalid("chunk larger than 64 KiB");
          out.chunk.data = data_of(c.getData());
          break;
        }
        case proto::BundleItem::CUSTODY: {
          out.kind = BundleItem::Kind::custody;
          auto c = r.getCustody();
          out.custody.top = c.getTopLsn();
          auto files = c.getFiles();
          check_list(files.size(), "files");
          for (auto f : files) {
            if (f.getLevels() > 7) throw Invalid("file levels out of range");
            out.custody.files.emplace_back(hash32(f.getFile(), "a file hash"), f.getLevels());
          }
          break;
        }
        case proto::BundleItem::REFUSALS: {
          out.kind = BundleItem::Kind::refusals;
          auto list = r.getRefusals();
          check_list(list.size(), "refusals");
          for (auto e : list) {
            sync::Rejected x;
            if (!e.hasId()) throw Invalid("refusal without an event id");
            x.id = read_id(e.getId());
            if (!valid_code(x.id.origin)) throw Invalid("bad id in refusal");
            x.reason = text_of(e.getReason());
            x.by = text_of(e.getBy());
            x.cause = e.getCause();
            x.at_ms = e.getAtMs();
            if (x.reason.size() > 4096 || x.by.size() > 32) throw Invalid("refusal too long");
            out.refusals.push_back(std::move(x));
          }
          break;
        }
        case proto::BundleItem::END: {
          out.kind = BundleItem::Kind::end;
          auto e = r.getEnd();
          out.end = {e.getRanges(), e.getEvents(), e.getChunks(), e.getItems()};
          break;
        }
        case proto::BundleItem::ASKS: {
          out.kind = BundleItem::Kind::asks;
          auto list = r.getAsks();
          check_list(list.size(), "asks");
          for (auto a : list)
            out.asks.push_back(hash32(a, "a file hash"));
          break;
        }
        default:
          throw Invalid("unknown item kind (a newer bundle?)");
      }
    } catch (const Invalid& e) {
      return Status::invalid(e.what());
    }
    return Status::ok();
  });
  if (!parsed) return parsed;
  return out;
}

// ---------------------------------------------------------------------------
// Ranges held

HeldChange hold_range(HeldLog& h, uint64_t from, uint64_t to, const Id& last) {
  HeldChange c;
  const uint64_t before = h.lsn;
  if (from <= h.lsn) {
    if (to > h.lsn) {
      h.lsn = to;
      h.at = last;
    }
  } else {
    auto it = h.ahead.find(from);
    if (it == h.ahead.end() || it->second.first < to) {
      h.ahead[from] = {to, last};
      c.added.push_back(from);
    }
  }
  for (auto it = h.ahead.begin(); it != h.ahead.end() && it->first <= h.lsn;) {
    if (it->second.first > h.lsn) {
      h.lsn = it->second.first;
      h.at = it->second.second;
    }
    c.joined.push_back(it->first);
    it = h.ahead.erase(it);
  }
  c.moved = h.lsn != before;
  return c;
}

// ---------------------------------------------------------------------------
// Writer

Result<std::unique_ptr<BundleWriter>> BundleWriter::create(
    const fs::path& path, BundleHeader header, const SigningKey& sender,
    const std::array<uint8_t, 32>& receiver_curve) {
  if (!crypto_ready()) return Status::internal("libsodium did not initialize");
  std::unique_ptr<BundleWriter> w(new BundleWriter());
  w->path_ = path;
  w->part_ = path;
  w->part_ += ".part";
  // The stream key, sealed to the receiver; the stream's header.
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  header.sealed_key.assign(kSealedKeyBytes, '\0');
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(header.sealed_key.data()), key.data(),
                      key.size(), receiver_curve.data()) != 0)
    return Status::invalid("cannot seal the bundle key to the receiver's key");
  w->state_.assign(sizeof(Stream), '\0');
  header.stream_header.assign(crypto_secretstream_xchacha20poly1305_HEADERBYTES, '\0');
  crypto_secretstream_xchacha20poly1305_init_push(
      reinterpret_cast<Stream*>(w->state_.data()),
      reinterpret_cast<unsigned char*>(header.stream_header.data()), key.data());
  sodium_memzero(key.data(), key.size());
  header.bundle_id.assign(16, '\0');
  randombytes_buf(header.bundle_id.data(), header.bundle_id.size());
  header.sign_key = sender.pub;

  capnp::MallocMessageBuilder m;
  auto h = m.initRoot<proto::BundleHeader>();
  h.setKind(header.kind);
  h.setFrom(header.from);
  h.setTo(header.to);
  h.setFromStore(header.from_store);
  h.setCreatedMs(header.created_ms);
  h.setExpiresMs(header.expires_ms);
  h.setBundleId(as_data(header.bundle_id));
  h.setSignKey(capnp::Data::Reader(header.sign_key.data(), 32));
  h.setSealedKey(as_data(header.sealed_key));
  h.setStreamHeader(as_data(header.stream_header));
  const std::string hb = flat(m);
  std::string head(kBundleMagic);
  put_be32(head, kBundleVersion);
  put_be32(head, static_cast<uint32_t>(hb.size()));
  head += hb;
  const Signature sig = sign(sender, std::string(kBundleSigContext) + head);
  w->ad_.assign(reinterpret_cast<const char*>(sig.data()), sig.size());

  w->out_.open(w->part_, std::ios::binary | std::ios::trunc);
  if (!w->out_) return Status::invalid("无法写入 " + w->part_.string() + " (cannot create it)");
  w->out_.write(head.data(), static_cast<std::streamsize>(head.size()));
  w->out_.write(w->ad_.data(), static_cast<std::streamsize>(w->ad_.size()));
  w->bytes_ = head.size() + w->ad_.size();
  if (!w->out_) return Status::no_space("无法写入 " + w->part_.string());
  return w;
}

BundleWriter::~BundleWriter() {
  if (!done_) {
    out_.close();
    std::error_code ec;
    fs::remove(part_, ec);
  }
  if (!state_.empty()) sodium_memzero(state_.data(), state_.size());
}

Status BundleWriter::put_record(const std::string& plain, bool final) {
  if (plain.size() > kMaxRecordBytes) return Status::invalid("bundle item too large");
  std::string cipher(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned long long n = 0;
  crypto_secretstream_xchacha20poly1305_push(
      reinterpret_cast<Stream*>(state_.data()), reinterpret_cast<unsigned char*>(cipher.data()), &n,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(ad_.data()), ad_.size(),
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
  std::string len;
  put_be32(len, static_cast<uint32_t>(n));
  out_.write(len.data(), 4);
  out_.write(cipher.data(), static_cast<std::streamsize>(n));
  bytes_ += 4 + n;
  if (!out_) return Status::no_space("写入数据包失败（U盘已满或已拔出？） (write failed)");
  return Status::ok();
}

Status BundleWriter::add(const BundleItem& item) {
  if (done_ || item.kind == BundleItem::Kind::end) return Status::invalid("bundle already ended");
  if (auto st = put_record(encode_item(item), false); !st) return st;
  ++counts_.items;
  if (item.kind == BundleItem::Kind::range) {
    ++counts_.ranges;
    counts_.events += static_cast<uint32_t>(item.range.events.size());
  }
  if (item.kind == BundleItem::Kind::chunk) ++counts_.chunks;
  return Status::ok();
}

Status BundleWriter::finish() {
  BundleItem end;
  end.kind = BundleItem::Kind::end;
  end.end = counts_;
  if (auto st = put_record(encode_item(end), true); !st) return st;
  out_.flush();
  out_.close();
  if (!out_) return Status::no_space("写入数据包失败 (write failed)");
  // Synced before the rename, and the folder after it: a stick pulled out
  // right after leaves either no file or the whole one.
  const int fd = ::open(part_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Status::no_space("无法写盘 " + part_.string() + " (fsync failed)");
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(part_, path_, ec);
  if (ec) return Status::invalid("无法改名为 " + path_.string() + ": " + ec.message());
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  done_ = true;
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Reader

Result<ParsedHeader> BundleReader::peek(std::istream& in) {
  std::string prefix(kFixedBytes + kMaxBundleHeaderBytes + kSigBytes, '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  prefix.resize(static_cast<std::size_t>(in.gcount()));
  auto parsed = parse_bundle_header(prefix);
  if (!parsed.ok()) return parsed.status();
  // Back to where the records start.
  in.clear();
  in.seekg(static_cast<std::streamoff>(parsed->consumed), std::ios::beg);
  if (!in) return Status::invalid("数据包无法读取 (cannot seek)");
  return parsed;
}

Result<std::unique_ptr<BundleReader>> BundleReader::open(
    std::unique_ptr<std::istream> in, const std::string& self, const CurveKeyPair& own,
    uint64_t now_ms, const std::function<bool(const std::string&, const PublicKey&)>& key_ok) {
  if (!crypto_ready()) return Status::internal("libsodium did not initialize");
  std::unique_ptr<BundleReader> r(new BundleReader());
  r->in_ = std::move(in);
  auto parsed = peek(*r->in_);
  if (!parsed.ok()) return parsed.status();
  r->header_ = std::move(parsed).value();
  const BundleHeader& h = r->header_.header;
  if (h.to != self)
    return Status::invalid("这个数据包是给 " + h.to + " 的，不是给本节点 " + self +
                           " 的 (bundle for another node)");
  if (!key_ok(h.from, h.sign_key))
    return Status::invalid("数据包的签名密钥不是 " + h.from +
                           " 的已知密钥，不予导入 (unknown signing key)");
  if (!verify(h.sign_key, std::string(kBundleSigContext) + r->header_.signed_bytes,
              r->header_.signature))
    return Status::invalid("数据包签名不符，可能被改动过，不予导入 (bad signature)");
  if (h.expires_ms != 0 && now_ms > h.expires_ms)
    return Status::invalid("数据包已过期（" + std::to_string((now_ms - h.expires_ms) / 3600000) +
                           " 小时前），请重新导出 (bundle expired)");
  std::array<uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  if (crypto_box_seal_open(key.data(), reinterpret_cast<const unsigned char*>(h.sealed_key.data()),
                           h.sealed_key.size(), own.pub.data(), own.secret.data()) != 0)
    return Status::invalid("数据包无法解密：不是用本节点的密钥加密的 (cannot open the key)");
  r->state_.assign(sizeof(Stream), '\0');
  const int rc = crypto_secretstream_xchacha20poly1305_init_pull(
      reinterpret_cast<Stream*>(r->state_.data()),
      reinterpret_cast<const unsigned char*>(h.stream_header.data()), key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) return Status::invalid("数据包无法解密 (bad stream header)");
  return r;
}

Result<std::optional<BundleItem>> BundleReader::next() {
  const Status cut =
      Status::invalid("数据包不完整（文件被截断，可能是U盘拔出过早），请重新导出 (bundle cut off)");
  if (final_) {
    char extra = 0;
    in_->read(&extra, 1);
    if (in_->gcount() != 0) return Status::invalid("数据包末尾有多余内容 (bytes after the end)");
    return std::optional<BundleItem>();
  }
  std::string len(4, '\0');
  in_->read(len.data(), 4);
  if (in_->gcount() != 4) return cut;
  const uint32_t n = get_be32(len);
  if (n < crypto_secretstream_xchacha20poly1305_ABYTES ||
      n > kMaxRecordBytes + crypto_secretstream_xchacha20poly1305_ABYTES)
    return Status::invalid("数据包记录长度不对，可能被改动过 (record length out of bounds)");
  std::string cipher(n, '\0');
  in_->read(cipher.data(), n);
  if (static_cast<uint32_t>(in_->gcount()) != n) return cut;
  std::string plain(n - crypto_secretstream_xchacha20poly1305_ABYTES, '\0');
  unsigned long long m = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          reinterpret_cast<Stream*>(state_.data()), reinterpret_cast<unsigned char*>(plain.data()),
          &m, &tag, reinterpret_cast<const unsigned char*>(cipher.data()), cipher.size(),
          reinterpret_cast<const unsigned char*>(header_.signature.data()),
          header_.signature.size()) != 0)
    return Status::invalid("数据包内容校验不符，可能被改动过，不予导入 (record does not open)");
  plain.resize(m);
  auto item = decode_item(plain);
  if (!item.ok()) return Status::invalid("数据包内容无法读取 (" + item.status().message() + ")");
  const bool is_end = item->kind == BundleItem::Kind::end;
  const bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  if (is_end != final) return Status::invalid("数据包结尾不对 (end item and final tag disagree)");
  if (is_end) {
    const auto& e = item->end;
    if (e.ranges != seen_.ranges || e.events != seen_.events || e.chunks != seen_.chunks ||
        e.items != seen_.items)
      return Status::invalid("数据包条目数与结尾记录不符 (counts disagree)");
    final_ = true;
    return next();
  }
  ++seen_.items;
  if (item->kind == BundleItem::Kind::range) {
    ++seen_.ranges;
    seen_.events += static_cast<uint32_t>(item->range.events.size());
  }
  if (item->kind == BundleItem::Kind::chunk) ++seen_.chunks;
  return std::optional<BundleItem>(std::move(item).value());
}

}  // namespace liandong::node
