// Files attached to a case (附件): a photo or scan of a material taken at
// intake (申请登记), with a supplement (补正材料) or a decision's papers
// (办结). What a file must be before it is stored, and storing it.
//
// Only JPEG, PNG and HEIC/HEIF photos and PDF scans are taken, told apart
// by their first bytes (never by the name a browser or phone gives). A
// file larger than AttachmentSettings::max_file_mib as given is refused
// before anything is decoded. A photo is reduced with libvips (shrink on
// load, turned upright by its EXIF orientation) to image_long_side pixels
// on its long side and saved as JPEG at jpeg_quality, unless the catalog
// says the material's original scan counts (CatalogMaterial::original_scan):
// then its bytes are kept as taken. A PDF is kept as it is. Every error is
// one line in Chinese a clerk can act on; nothing is stored then.
//
// Pure but for store_files (the store's writer) and libvips, which is
// started once per process and keeps no cache of decoded images.
//
// Thread contract: every function may be called from any thread (libvips
// is thread-safe); store_files as node/app/context.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/node_config.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/records.capnp.h"
#include "storage/store.h"

namespace liandong::app {

enum class FileType : uint8_t { unknown, jpeg, png, heif, pdf };

// The type `bytes` are, by their magic bytes.
FileType detect_type(std::string_view bytes);
// "image/jpeg", "image/png", "image/heic", "application/pdf"; "" for unknown.
const char* media_type_of(FileType t);

// A photo is at most this many pixels (width × height) before it is
// decoded: a small file may not unpack into gigabytes.
constexpr uint64_t kMaxImagePixels = uint64_t{100} << 20;

// A file as a person gives it.
struct GivenFile {
  std::string material;  // the material (材料) it shows, e.g. "居民身份证"
  std::string name;      // the file's name as given, e.g. "IMG_0412.HEIC"
  std::string bytes;
};

// A file ready to store: reduced (or kept) and named for its type.
struct PreparedFile {
  std::string material, name, media_type, bytes;
};

// Checks and reduces `file` (see above). `keep_original`: the material's
// original scan counts; the bytes are kept as taken. invalid, with a
// Chinese message, for an empty, unknown, too large or undecodable file
// or a bad name.
AppResult<PreparedFile> prepare_file(const config::AttachmentSettings& settings, GivenFile file,
                                     bool keep_original);

// A JPEG of at most `side` pixels on its long side, for a thumbnail;
// nullopt when `bytes` are not an image libvips can read.
std::optional<std::string> thumbnail_jpeg(std::string_view bytes, uint32_t side);

// The name a file is shown and saved under: no directories, no control
// characters, at most 120 bytes of UTF-8; empty when nothing is left.
std::string clean_file_name(std::string_view name);

// Stores each file (Store::put_file: chunks, deduplicated by hash) and
// fills `refs` (sized to `files`). A full store refuses with its
// no_space message; files stored before the failure stay, unreferenced.
AppResult<bool> store_files(storage::Store& store, const std::vector<PreparedFile>& files,
                            capnp::List<proto::AttachmentRef>::Builder refs);

// Prepares and stores `given` for an event: each file's material must be
// one of `materials` (unless `materials` is empty: a decision's papers
// name what they are freely); `original_scan` names the materials whose
// scan is kept as taken. Fills `refs` via init (`init(n)` sizes the list).
AppResult<bool> attach_files(
    const Context& ctx, const std::vector<GivenFile>& given,
    const std::vector<std::string>& materials, const std::vector<std::string>& original_scan,
    const std::function<capnp::List<proto::AttachmentRef>::Builder(unsigned)>& init);

}  // namespace liandong::app
