#include "node/control_request.h"

#include <algorithm>

namespace liandong::node {

namespace {

const std::string& files_marker() {
  static const std::string m("\0files", 6);
  return m;
}

}  // namespace

std::vector<std::string> encode_control_request(const ControlRequest& r) {
  std::vector<std::string> out = r.args;
  if (r.files.empty()) return out;
  out.push_back(files_marker());
  for (const auto& [name, bytes] : r.files) {
    out.push_back(name);
    out.push_back(bytes);
  }
  return out;
}

Result<ControlRequest> decode_control_request(const std::vector<std::string>& frames,
                                              std::size_t max_file_bytes) {
  ControlRequest r;
  const auto marker = std::find(frames.begin(), frames.end(), files_marker());
  r.args.assign(frames.begin(), marker);
  if (marker == frames.end()) return r;
  const std::size_t first = static_cast<std::size_t>(marker - frames.begin()) + 1;
  if ((frames.size() - first) % 2 != 0)
    return Status::invalid("control request: a file name without its contents");
  for (std::size_t i = first; i < frames.size(); i += 2) {
    if (frames[i + 1].size() > max_file_bytes)
      return Status::invalid("control request: " + frames[i] + " is larger than " +
                             std::to_string(max_file_bytes) + " bytes");
    if (!r.files.emplace(frames[i], frames[i + 1]).second)
      return Status::invalid("control request: " + frames[i] + " sent twice");
  }
  return r;
}

}  // namespace liandong::node
