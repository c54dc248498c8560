// Test photos made on the fly with libvips (no binary files in git): a
// gradient with a pattern, so JPEG cannot shrink it to nothing.
//
// Thread contract: any thread (libvips is thread-safe).
#pragma once

#include <vips/vips.h>

#include <cstdint>
#include <string>

namespace liandong::test {

// A `width` × `height` RGB image as "jpeg" or "png" bytes; "" on failure.
inline std::string make_image(int width, int height, const std::string& format) {
  static const bool started = VIPS_INIT("liandong-test") == 0;
  if (!started) return {};
  VipsImage* xyz = nullptr;
  VipsImage* rgb = nullptr;
  void* buf = nullptr;
  std::size_t size = 0;
  std::string out;
  // x, y -> (x ^ y) & 255 in three bands: a checked pattern across a gradient.
  if (vips_xyz(&xyz, width, height, nullptr) == 0) {
    VipsImage* bands[3] = {nullptr, nullptr, nullptr};
    VipsImage* x = nullptr;
    VipsImage* y = nullptr;
    VipsImage* eor = nullptr;
    if (vips_extract_band(xyz, &x, 0, nullptr) == 0 &&
        vips_extract_band(xyz, &y, 1, nullptr) == 0 &&
        vips_boolean(x, y, &eor, VIPS_OPERATION_BOOLEAN_EOR, nullptr) == 0 &&
        vips_cast(eor, &bands[0], VIPS_FORMAT_UCHAR, "shift", FALSE, nullptr) == 0 &&
        vips_cast(x, &bands[1], VIPS_FORMAT_UCHAR, "shift", FALSE, nullptr) == 0 &&
        vips_cast(y, &bands[2], VIPS_FORMAT_UCHAR, "shift", FALSE, nullptr) == 0 &&
        vips_bandjoin(bands, &rgb, 3, nullptr) == 0) {
      int r = format == "png" ? vips_pngsave_buffer(rgb, &buf, &size, "compression", 1, nullptr)
                              : vips_jpegsave_buffer(rgb, &buf, &size, "Q", 92, nullptr);
      if (r == 0) out.assign(static_cast<const char*>(buf), size);
      g_free(buf);
    }
    for (VipsImage* p : {bands[0], bands[1], bands[2], x, y, eor, rgb})
      if (p != nullptr) g_object_unref(p);
    g_object_unref(xyz);
  }
  return out;
}

// The width and height of an image's bytes; {0, 0} when unreadable.
inline std::pair<int, int> image_size(const std::string& bytes) {
  VipsImage* im = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  if (im == nullptr) return {0, 0};
  std::pair<int, int> wh{vips_image_get_width(im), vips_image_get_height(im)};
  g_object_unref(im);
  return wh;
}

}  // namespace liandong::test
