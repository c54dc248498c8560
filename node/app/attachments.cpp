#include "node/app/attachments.h"

#include <vips/vips.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace liandong::app {

namespace {

constexpr std::size_t kMaxNameBytes = 120;

const char* const kUnsupported = "不支持的文件类型：仅可上传 JPG、PNG、HEIC 照片或 PDF 扫描件";

bool starts_with(std::string_view bytes, std::string_view magic) {
  return bytes.substr(0, magic.size()) == magic;
}

// libvips, started once per process: no operation cache (every file is
// new), and only the loaders fit for files from outside.
void start_vips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("liandong") != 0) return;
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
  });
}

// Frees what libvips hands out, whatever path leaves the scope.
struct VipsImageRef {
  VipsImage* p = nullptr;
  ~VipsImageRef() {
    if (p != nullptr) g_object_unref(p);
  }
};
struct GBuffer {
  void* p = nullptr;
  std::size_t size = 0;
  ~GBuffer() { g_free(p); }
};

// The last libvips error, cleared (it is per thread, kept for the log).
void clear_vips_error() {
  vips_error_clear();
}

// `bytes` reduced to `side` px on the long side, upright, as JPEG at
// `quality`; an error message when libvips cannot read them or they
// unpack into too many pixels.
struct Reduced {
  std::string bytes;
  std::string error;  // set: nothing in `bytes`
};
Reduced reduce(std::string_view bytes, uint32_t side, uint32_t quality) {
  start_vips();
  {
    VipsImageRef head;
    head.p = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access",
                                        VIPS_ACCESS_SEQUENTIAL, nullptr);
    if (head.p == nullptr) {
      clear_vips_error();
      return Reduced{{}, "照片无法读取，文件可能已损坏，请重新拍摄或扫描"};
    }
    const uint64_t pixels =
        uint64_t(vips_image_get_width(head.p)) * uint64_t(vips_image_get_height(head.p));
    if (pixels == 0 || pixels > kMaxImagePixels)
      return Reduced{{}, "照片像素过大（超过一亿像素），请重新拍摄"};
  }
  VipsImageRef thumb;
  const int s = static_cast<int>(side);
  if (vips_thumbnail_buffer(const_cast<char*>(bytes.data()), bytes.size(), &thumb.p, s, "height", s,
                            "size", VIPS_SIZE_DOWN, nullptr) != 0) {
    clear_vips_error();
    return Reduced{{}, "照片无法读取，文件可能已损坏，请重新拍摄或扫描"};
  }
  GBuffer out;
  if (vips_jpegsave_buffer(thumb.p, &out.p, &out.size, "Q", static_cast<int>(quality), "strip",
                           TRUE, nullptr) != 0) {
    clear_vips_error();
    return Reduced{{}, "照片无法转换为 JPG，请重新拍摄或扫描"};
  }
  return Reduced{std::string(static_cast<const char*>(out.p), out.size), {}};
}

// `name` with its extension replaced by ".jpg".
std::string as_jpg(const std::string& name) {
  const auto dot = name.rfind('.');
  std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
  return stem + ".jpg";
}

AppError bad(std::string message) {
  return AppError{Status::invalid(std::move(message))};
}

}  // namespace

FileType detect_type(std::string_view b) {
  if (starts_with(b, "\xFF\xD8\xFF")) return FileType::jpeg;
  if (starts_with(b, "\x89PNG\r\n\x1A\n")) return FileType::png;
  if (starts_with(b, "%PDF-")) return FileType::pdf;
  // ISO BMFF: a box size, "ftyp", then the major brand.
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    static constexpr std::string_view kBrands[] = {"heic", "heix", "hevc", "hevx",
                                                   "heim", "heis", "mif1", "msf1"};
    const auto brand = b.substr(8, 4);
    for (auto k : kBrands)
      if (brand == k) return FileType::heif;
  }
  return FileType::unknown;
}

const char* media_type_of(FileType t) {
  switch (t) {
    case FileType::jpeg:
      return "image/jpeg";
    case FileType::png:
      return "image/png";
    case FileType::heif:
      return "image/heic";
    case FileType::pdf:
      return "application/pdf";
    case FileType::unknown:
      break;
  }
  return "";
}

std::string clean_file_name(std::string_view name) {
  // Only the last path component, whichever separator a client used.
  if (const auto slash = name.find_last_of("/\\"); slash != std::string_view::npos)
    name = name.substr(slash + 1);
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    // One UTF-8 sequence at a time, kept whole or dropped whole.
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > name.size()) {
      ++i;
      continue;
    }
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k)
      ok = ok && (static_cast<unsigned char>(name[i + k]) >> 6) == 2;
    const bool control = len == 1 && (c < 0x20 || c == 0x7F);
    const bool quote = len == 1 && (c == '"');
    if (ok && !control && !quote) {
      if (out.size() + len > kMaxNameBytes) break;
      out.append(name.substr(i, len));
    }
    i += ok ? len : 1;
  }
  while (!out.empty() && (out.front() == '.' || out.front() == ' '))
    out.erase(0, 1);
  return out;
}

AppResult<PreparedFile> prepare_file(const config::AttachmentSettings& settings, GivenFile file,
                                     bool keep_original) {
  if (file.bytes.empty()) return bad("附件“" + file.name + "”是空文件");
  const uint64_t limit = std::min<uint64_t>(settings.max_file_bytes(), kMaxAttachmentBytes);
  if (file.bytes.size() > limit)
    return bad("附件“" + clean_file_name(file.name) + "”超过 " +
               std::to_string(settings.max_file_mib) + " MB，不能上传；请压缩或分页扫描后再传");
  const FileType type = detect_type(file.bytes);
  if (type == FileType::unknown) return bad(kUnsupported);
  PreparedFile out;
  out.material = std::move(file.material);
  out.name = clean_file_name(file.name);
  if (out.name.empty()) out.name = out.material;
  out.media_type = media_type_of(type);
  const bool image = type != FileType::pdf;
  if (!image || keep_original) {
    out.bytes = std::move(file.bytes);
    return out;
  }
  auto reduced = reduce(file.bytes, settings.image_long_side, settings.jpeg_quality);
  if (!reduced.error.empty()) return bad(reduced.error);
  std::string& jpeg = reduced.bytes;
  // A JPEG already small enough stays as taken, when reducing would not
  // make it smaller.
  if (type == FileType::jpeg && jpeg.size() >= file.bytes.size()) {
    out.bytes = std::move(file.bytes);
    return out;
  }
  out.bytes = std::move(jpeg);
  out.media_type = "image/jpeg";
  out.name = as_jpg(out.name);
  return out;
}

std::optional<std::string> thumbnail_jpeg(std::string_view bytes, uint32_t side) {
  const FileType type = detect_type(bytes);
  if (type == FileType::unknown || type == FileType::pdf) return std::nullopt;
  auto r = reduce(bytes, side, 75);
  if (!r.error.empty()) return std::nullopt;
  return std::move(r.bytes);
}

AppResult<bool> store_files(storage::Store& store, const std::vector<PreparedFile>& files,
                            capnp::List<proto::AttachmentRef>::Builder refs) {
  for (unsigned i = 0; i < files.size(); ++i) {
    const PreparedFile& f = files[i];
    auto put = store.put_file(f.bytes);
    if (!put.ok()) return AppError{put.status()};
    auto ref = refs[i];
    auto data = [](const std::string& s) {
      return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
    };
    ref.setSha256(data(put->sha256));
    ref.setSize(put->size);
    ref.setName(f.name);
    ref.setMediaType(f.media_type);
    ref.setMaterial(f.material);
    auto chunks = ref.initChunks(static_cast<unsigned>(put->chunks.size()));
    for (unsigned k = 0; k < chunks.size(); ++k)
      chunks.set(k, data(put->chunks[k]));
  }
  return true;
}

AppResult<bool> attach_files(
    const Context& ctx, const std::vector<GivenFile>& given,
    const std::vector<std::string>& materials, const std::vector<std::string>& original_scan,
    const std::function<capnp::List<proto::AttachmentRef>::Builder(unsigned)>& init) {
  if (given.empty()) return true;
  if (given.size() > kMaxListItems)
    return bad("一次最多上传 " + std::to_string(kMaxListItems) + " 个附件");
  std::vector<PreparedFile> prepared;
  for (const GivenFile& g : given) {
    if (g.material.empty()) return bad("附件“" + g.name + "”未写明是哪项材料");
    const bool listed = materials.empty() || std::find(materials.begin(), materials.end(),
                                                       g.material) != materials.end();
    if (!listed)
      return bad("材料“" + g.material + "”不在本件的申报材料中，附件无法对应（应为：" + [&] {
        std::string all;
        for (const auto& m : materials)
          all += (all.empty() ? "" : "、") + m;
        return all;
      }() + "）");
    const bool keep =
        std::find(original_scan.begin(), original_scan.end(), g.material) != original_scan.end();
    auto p = prepare_file(ctx.attachments, g, keep);
    if (!p.ok()) return p.error();
    prepared.push_back(std::move(p).value());
  }
  return store_files(ctx.store, prepared, init(static_cast<unsigned>(prepared.size())));
}

}  // namespace liandong::app
