// Attachments: chunks in `blobs`, file records and the want and custody
// lists in `blob_have` (store.h; docs/FORMAT.md has the bytes).
#include <sodium.h>

#include <algorithm>

#include "storage/role_names.h"
#include "storage/store_blobs.h"
#include "storage/store_impl.h"

namespace liandong::storage {

namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr uint8_t kWhole = 1;

std::string list_key(char kind, uint64_t lsn, std::string_view sha) {
  std::string k(1, kind);
  put_be64(k, lsn);
  k.append(sha);
  return k;
}

uint64_t blob_bytes_in(const Store::Impl& impl, const Txn& txn) {
  return impl.meta_u64(txn, kMetaBlobBytes, 0);
}

Status over_limit(uint64_t held, uint64_t adding, uint64_t limit) {
  return Status::no_space("附件存储已达上限（已存 " + std::to_string(held >> 20) + " MiB，上限 " +
                          std::to_string(limit >> 20) + " MiB）: attachment store limit of " +
                          std::to_string(limit) + " bytes would be passed by " +
                          std::to_string(adding) + " bytes");
}

}  // namespace

std::string sha256_of(std::string_view bytes) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return out;
}

std::string file_key(std::string_view sha) {
  std::string k(1, 'f');
  k.append(sha);
  return k;
}

std::string encode_file_record(const FileRecord& f) {
  std::string v;
  v.reserve(24 + f.origin.size() + 32 * f.chunks.size());
  v.push_back(static_cast<char>(kRecordVersion));
  v.push_back(static_cast<char>(f.whole ? kWhole : 0));
  v.push_back(static_cast<char>(f.levels));
  v.push_back(static_cast<char>(f.origin.size()));
  put_be64(v, f.lsn);
  put_be64(v, f.size);
  v.append(f.origin);
  for (const auto& c : f.chunks)
    v.append(c);
  return v;
}

std::optional<FileRecord> decode_file_record(std::string_view sha, std::string_view v) {
  if (v.size() < 20 || static_cast<uint8_t>(v[0]) != kRecordVersion) return std::nullopt;
  FileRecord f;
  f.sha256 = std::string(sha);
  f.whole = (static_cast<uint8_t>(v[1]) & kWhole) != 0;
  f.levels = static_cast<uint8_t>(v[2]);
  const std::size_t origin_len = static_cast<uint8_t>(v[3]);
  f.lsn = get_be64(v.substr(4, 8));
  f.size = get_be64(v.substr(12, 8));
  if (f.size == 0 || f.size > kMaxAttachmentBytes) return std::nullopt;
  const std::size_t n = chunk_count(f.size);
  if (v.size() != 20 + origin_len + 32 * n) return std::nullopt;
  f.origin = std::string(v.substr(20, origin_len));
  f.chunks.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    f.chunks.emplace_back(v.substr(20 + origin_len + 32 * i, 32));
  return f;
}

uint8_t level_bit(std::string_view code) {
  switch (level_of(code)) {
    case Level::county:
      return kHeldCounty;
    case Level::township:
      return kHeldTownship;
    case Level::village:
      return kHeldVillage;
  }
  return 0;
}

std::optional<FileRecord> Store::Impl::load_file(const Txn& txn, std::string_view sha) const {
  std::string_view v;
  if (!txn.get(blob_have, file_key(sha), &v)) return std::nullopt;
  auto f = decode_file_record(sha, v);
  if (!f) throw_corrupt("blob_have: a file record is malformed");
  return f;
}

void Store::Impl::save_file(Txn& txn, const FileRecord& f, const std::optional<FileRecord>& was) {
  txn.put(blob_have, file_key(f.sha256), encode_file_record(f));
  const bool wanted_before = was && !was->whole;
  if (wanted_before && (f.whole || was->lsn != f.lsn))
    txn.del(blob_have, list_key('w', was->lsn, f.sha256));
  if (!f.whole && (!wanted_before || was->lsn != f.lsn))
    txn.put(blob_have, list_key('w', f.lsn, f.sha256), "");
  // Whole and not known at the top: asked about until the county holds it.
  const bool unconfirmed_before = was && was->whole && (was->levels & kHeldCounty) == 0;
  const bool unconfirmed_now = f.whole && (f.levels & kHeldCounty) == 0;
  if (unconfirmed_before && (!unconfirmed_now || was->lsn != f.lsn))
    txn.del(blob_have, list_key('u', was->lsn, f.sha256));
  if (unconfirmed_now && (!unconfirmed_before || was->lsn != f.lsn))
    txn.put(blob_have, list_key('u', f.lsn, f.sha256), "");
}

bool Store::Impl::all_chunks_held(const Txn& txn, const FileRecord& f) const {
  std::string_view v;
  for (const auto& c : f.chunks)
    if (!txn.get(blobs, c, &v)) return false;
  return true;
}

void Store::Impl::want_files(Txn& txn, const EventView& ev, uint64_t lsn) {
  for (auto a : attachments_of(ev.event())) {
    const auto sha = a.getSha256();
    const std::string_view key(reinterpret_cast<const char*>(sha.begin()), sha.size());
    if (load_file(txn, key)) continue;  // held, or wanted for an older event
    FileRecord f;
    f.sha256 = std::string(key);
    f.size = a.getSize();
    for (auto c : a.getChunks())
      f.chunks.emplace_back(reinterpret_cast<const char*>(c.begin()), c.size());
    f.origin = ev.id().origin;
    f.lsn = lsn;
    f.whole = all_chunks_held(txn, f);  // its chunks came with other files
    if (f.whole) f.levels = level_bit(code);
    save_file(txn, f, std::nullopt);
  }
}

Result<FileRecord> Store::put_file(std::string_view bytes) {
  if (bytes.empty() || bytes.size() > kMaxAttachmentBytes)
    return Status::invalid(
        "附件大小须在 1 字节至 64 MiB 之间: attachment must be 1 byte to 64 MiB");
  FileRecord f;
  f.sha256 = sha256_of(bytes);
  f.size = bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes)
    f.chunks.push_back(sha256_of(bytes.substr(at, kChunkBytes)));
  f.origin = code_;
  f.whole = true;
  f.levels = level_bit(code_);
  return impl_->txns.write([&](Txn& txn) -> Result<FileRecord> {
    auto was = impl_->load_file(txn, f.sha256);
    if (was && was->whole) {  // held already: the same scan again
      txn.commit();
      return *was;
    }
    uint64_t added = 0;
    std::string_view v;
    for (std::size_t i = 0; i < f.chunks.size(); ++i)
      if (!txn.get(impl_->blobs, f.chunks[i], &v))
        added += std::min<uint64_t>(kChunkBytes, f.size - i * kChunkBytes);
    const uint64_t held = blob_bytes_in(*impl_, txn);
    if (impl_->opts.max_blob_bytes != 0 && held + added > impl_->opts.max_blob_bytes)
      return over_limit(held, added, impl_->opts.max_blob_bytes);
    for (std::size_t i = 0; i < f.chunks.size(); ++i)
      (void)txn.put_new(impl_->blobs, f.chunks[i], bytes.substr(i * kChunkBytes, kChunkBytes));
    txn.put(impl_->meta, kMetaBlobBytes, be64(held + added));
    if (was) {
      f.lsn = was->lsn;
      f.origin = was->origin;
      f.levels |= was->levels;
    }
    impl_->save_file(txn, f, was);
    txn.commit();
    return f;
  });
}

Result<std::optional<FileRecord>> Store::file(std::string_view sha256) const {
  return impl_->txns.read(
      [&](Txn& txn) -> std::optional<FileRecord> { return impl_->load_file(txn, sha256); });
}

Result<std::optional<std::string>> Store::read_file(std::string_view sha256) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<std::string> {
    auto f = impl_->load_file(txn, sha256);
    if (!f || !f->whole) return std::nullopt;
    std::string out;
    out.reserve(f->size);
    std::string_view v;
    for (const auto& c : f->chunks) {
      if (!txn.get(impl_->blobs, c, &v)) throw_corrupt("blobs: a whole file lacks a chunk");
      out.append(v);
    }
    if (out.size() != f->size || sha256_of(out) != f->sha256)
      throw_corrupt("blobs: a file's chunks do not make its hash");
    return out;
  });
}

Result<std::optional<std::string>> Store::chunk(std::string_view hash) const {
  return impl_->txns.read([&](Txn& txn) -> std::optional<std::string> {
    std::string_view v;
    if (!txn.get(impl_->blobs, hash, &v)) return std::nullopt;
    return std::string(v);
  });
}

Result<std::vector<std::string>> Store::missing_chunks(const FileRecord& f, std::size_t max) const {
  return impl_->txns.read([&](Txn& txn) {
    std::vector<std::string> out;
    std::string_view v;
    for (const auto& c : f.chunks) {
      if (out.size() >= max) break;
      if (!txn.get(impl_->blobs, c, &v) && std::find(out.begin(), out.end(), c) == out.end())
        out.push_back(c);
    }
    return out;
  });
}

Result<bool> Store::put_chunk(std::string_view file, std::string_view hash, std::string_view bytes,
                              uint8_t from_levels) {
  if (bytes.size() > kChunkBytes || sha256_of(bytes) != hash)
    return Status::invalid("chunk does not match its hash");
  return impl_->txns.write([&](Txn& txn) -> Result<bool> {
    auto was = impl_->load_file(txn, file);
    if (!was) return Status::invalid("chunk of a file not wanted here");
    const auto at = std::find(was->chunks.begin(), was->chunks.end(), hash);
    if (at == was->chunks.end()) return Status::invalid("chunk not named by its file");
    const std::size_t i = static_cast<std::size_t>(at - was->chunks.begin());
    if (bytes.size() != std::min<uint64_t>(kChunkBytes, was->size - i * kChunkBytes))
      return Status::invalid("chunk has the wrong length");
    if (was->whole) {
      txn.commit();
      return false;
    }
    std::string_view v;
    if (!txn.get(impl_->blobs, hash, &v)) {
      const uint64_t held = blob_bytes_in(*impl_, txn);
      if (impl_->opts.max_blob_bytes != 0 && held + bytes.size() > impl_->opts.max_blob_bytes)
        return over_limit(held, bytes.size(), impl_->opts.max_blob_bytes);
      txn.put(impl_->blobs, hash, bytes);
      txn.put(impl_->meta, kMetaBlobBytes, be64(held + bytes.size()));
    }
    FileRecord f = *was;
    f.whole = impl_->all_chunks_held(txn, f);
    if (f.whole) f.levels |= static_cast<uint8_t>(level_bit(code_) | from_levels);
    if (f.whole) impl_->save_file(txn, f, was);
    txn.commit();
    return f.whole;
  });
}

namespace {

Result<std::vector<FileRecord>> list_files(const Store::Impl& impl, char kind, std::size_t max) {
  return impl.txns.read([&](Txn& txn) {
    std::vector<FileRecord> out;
    Cursor c(txn, impl.blob_have);
    std::string_view k, v;
    const std::string from(1, kind);
    for (bool ok = c.seek(from, &k, &v); ok && out.size() < max; ok = c.move(MDB_NEXT, &k, &v)) {
      if (k.empty() || k[0] != kind) break;
      if (k.size() != 41) throw_corrupt("blob_have: a list key is malformed");
      auto f = impl.load_file(txn, k.substr(9));
      if (!f) throw_corrupt("blob_have: a listed file has no record");
      out.push_back(std::move(*f));
    }
    return out;
  });
}

}  // namespace

Result<std::vector<FileRecord>> Store::wanted(std::size_t max) const {
  return list_files(*impl_, 'w', max);
}

Result<std::vector<FileRecord>> Store::unconfirmed(std::size_t max) const {
  return list_files(*impl_, 'u', max);
}

Status Store::add_file_levels(std::span<const std::pair<std::string, uint8_t>> files) {
  return impl_->txns.write([&](Txn& txn) {
    for (const auto& [sha, levels] : files) {
      auto was = impl_->load_file(txn, sha);
      if (!was || !was->whole || (was->levels | levels) == was->levels) continue;
      FileRecord f = *was;
      f.levels |= levels & (kHeldCounty | kHeldTownship | kHeldVillage);
      impl_->save_file(txn, f, was);
    }
    txn.commit();
    return Status::ok();
  });
}

Result<std::optional<uint64_t>> Store::blob_room() const {
  const uint64_t limit = impl_->opts.max_blob_bytes;
  if (limit == 0) return std::optional<uint64_t>();
  return impl_->txns.read([&](Txn& txn) -> std::optional<uint64_t> {
    const uint64_t held = blob_bytes_in(*impl_, txn);
    return held >= limit ? 0 : limit - held;
  });
}

Result<uint64_t> Store::blob_bytes() const {
  return impl_->txns.read([&](Txn& txn) { return blob_bytes_in(*impl_, txn); });
}

}  // namespace liandong::storage
