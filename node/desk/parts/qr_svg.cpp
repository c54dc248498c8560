#include "node/desk/parts/qr_svg.h"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace liandong::desk {
namespace {

constexpr int kQuietZone = 4;

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

}  // namespace

Result<std::string> qr_svg(std::string_view text) {
  if (text.empty()) return Status::invalid("二维码内容为空");
  if (text.size() > kMaxQrTextBytes) {
    return Status::invalid("二维码内容过长: " + std::to_string(text.size()) + " 字节 (最多 " +
                           std::to_string(kMaxQrTextBytes) + ")");
  }
  errno = 0;
  std::unique_ptr<QRcode, QrFree> qr(
      QRcode_encodeData(static_cast<int>(text.size()),
                        reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
  if (!qr) {
    return Status::internal(std::string("二维码生成失败 (") + std::strerror(errno) + ")");
  }

  const int width = qr->width;
  const std::string side = std::to_string(width + 2 * kQuietZone);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side +
                    "\" shape-rendering=\"crispEdges\"><rect width=\"" + side + "\" height=\"" +
                    side + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // Each horizontal run of dark modules is one rectangle, one unit high.
  for (int y = 0; y < width; ++y) {
    const unsigned char* row = qr->data + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width;) {
      if ((row[x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (row[x + run] & 1) != 0)
        ++run;
      const std::string len = std::to_string(run);
      svg += "M" + std::to_string(x + kQuietZone) + " " + std::to_string(y + kQuietZone) + "h" +
             len + "v1h-" + len + "z";
      x += run;
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace liandong::desk
