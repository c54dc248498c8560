// 数据包 on the desk (docs/DESK.md "数据包"): the USB drives mounted on this
// computer, and a button that writes a bundle for the township to one of
// them (node/bundle.h; the daemon gives the writer).
//
//   GET  /api/bundle          {upstreams: [...], drives: [{path, free}]}
//   POST /api/bundle/export   {drive, for} -> {file, bytes, events, files}
//
// A drive is a writable mount under /media, /run/media or /mnt of a file
// system a USB stick carries; the request names one of those the server
// found, never a path of its own choosing.
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "node/desk/api.h"
#include "node/desk/api_parts.h"

namespace liandong::desk {

using namespace api_parts;
namespace fs = std::filesystem;

namespace {

// Leave this much free on the stick.
constexpr uint64_t kSpare = 8u << 20;
constexpr uint64_t kMaxBundleBytes = uint64_t{1} << 30;

struct Drive {
  std::string path;
  uint64_t free = 0, size = 0;
};

// "\040" in /proc/self/mounts is a space, and so on.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<Drive> usb_drives() {
  static const char* const kTypes[] = {"vfat", "exfat", "ntfs",  "ntfs3", "fuseblk", "ext4",
                                       "ext3", "ext2",  "btrfs", "xfs",   "f2fs"};
  std::vector<std::string> paths;
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  for (int n = 0; n < 10000 && std::getline(mounts, line); ++n) {
    std::istringstream in(line);
    std::string dev, at, type, opts;
    if (!(in >> dev >> at >> type >> opts)) continue;
    at = unescape(at);
    if (!(at.starts_with("/media/") || at.starts_with("/run/media/") || at.starts_with("/mnt/")))
      continue;
    bool usb = false;
    for (const char* t : kTypes)
      usb = usb || type == t;
    if (!usb || !(opts == "rw" || opts.starts_with("rw,"))) continue;
    paths.push_back(at);
  }
  // Tests: a folder standing for a stick.
  if (const char* test = std::getenv("LIANDONG_TEST_USB_DIR"); test && *test) paths.push_back(test);
  std::vector<Drive> out;
  for (const auto& p : paths) {
    struct statvfs v {};
    if (::statvfs(p.c_str(), &v) != 0 || ::access(p.c_str(), W_OK) != 0) continue;
    out.push_back(Drive{p, static_cast<uint64_t>(v.f_bavail) * v.f_frsize,
                        static_cast<uint64_t>(v.f_blocks) * v.f_frsize});
  }
  return out;
}

std::string file_name(const std::string& from, const std::string& to, uint64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000 + 8 * 3600);  // 北京时间
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm);
  return "联动数据包_" + from + "_交" + to + "_" + when + ".ldb";
}

}  // namespace

void Api::bundle_info(const Req& req, Res& res) {
  if (!session(req, res)) return;
  Json drives = Json::array();
  for (const auto& d : usb_drives())
    drives.push_back(Json{{"path", d.path}, {"free", d.free}, {"size", d.size}});
  reply(res, 200,
        Json{{"upstreams", o_.upstreams},
             {"drives", std::move(drives)},
             {"can_export", !o_.upstreams.empty() && static_cast<bool>(o_.export_bundle)}});
}

void Api::bundle_export(const Req& req, Res& res) {
  auto s = writer(req, res);
  if (!s) return;
  auto body = body_object(req, res);
  if (!body) return;
  auto drive = text_field(*body, "drive", res);
  if (!drive) return;
  auto for_code = text_field(*body, "for", res, 32);
  if (!for_code) return;
  if (o_.upstreams.empty() || !o_.export_bundle)
    return fail(res, 409, "本节点没有上级，无需导出数据包");
  if (for_code->empty()) *for_code = o_.upstreams.front();
  if (std::find(o_.upstreams.begin(), o_.upstreams.end(), *for_code) == o_.upstreams.end())
    return fail(res, 400, *for_code + " 不是本节点的上级", "for");
  std::optional<Drive> target;
  for (const auto& d : usb_drives())
    if (d.path == *drive) target = d;
  if (!target) return fail(res, 400, "没有找到这个U盘：请插好U盘，刷新页面后再选", "drive");
  if (target->free < kSpare + (1u << 20))
    return fail(res, 507, "U盘空间不足：请换一个U盘或删掉U盘上的旧文件");
  const uint64_t room = std::min(kMaxBundleBytes, target->free - kSpare);
  const fs::path file = fs::path(target->path) / file_name(o_.code, *for_code, o_.now());
  auto done = o_.export_bundle(*for_code, file, room);
  if (!done.ok()) {
    audit(proto::AuditWhat::DESK_REQUEST_REFUSED, s->name, "bundle export", done.status().message(),
          req);
    return fail(res, 500, "导出数据包失败：" + done.status().message());
  }
  audit(proto::AuditWhat::ADMIN_COMMAND, s->name, "bundle export --for " + *for_code,
        "数据包写入U盘 " + file.string(), req);
  reply(res, 201,
        Json{{"file", done->file},
             {"name", file.filename().string()},
             {"bytes", done->bytes},
             {"events", done->events},
             {"files", done->files},
             {"complete", done->complete},
             {"for", *for_code}});
}

}  // namespace liandong::desk
