#include "node/app/materials.h"

#include <sstream>

#include "node/app/result.h"

namespace liandong::app {

std::optional<proto::MaterialState> material_state(std::string_view s) {
  if (s == "provided" || s == "已提交" || s == "已交") return proto::MaterialState::PROVIDED;
  if (s == "missing" || s == "缺") return proto::MaterialState::MISSING;
  if (s == "later" || s == "容缺") return proto::MaterialState::LATER;
  return std::nullopt;
}

// "身份证" or "身份证:later" or "身份证:provided:copy".
void fill_materials(capnp::List<proto::Material>::Builder out, const std::vector<std::string>& in,
                    proto::MaterialState dflt) {
  for (unsigned i = 0; i < in.size(); ++i) {
    std::vector<std::string> parts;
    std::stringstream ss(in[i]);
    for (std::string p; std::getline(ss, p, ':');)
      parts.push_back(p);
    if (parts.empty() || parts[0].empty()) fail(Status::invalid("empty material name"));
    out[i].setName(parts[0]);
    out[i].setCount(1);
    out[i].setOriginal(true);
    out[i].setState(dflt);
    if (parts.size() > 1) {
      auto st = material_state(parts[1]);
      if (!st)
        fail(
            Status::invalid("material state '" + parts[1] + "' is not provided, missing or later"));
      out[i].setState(*st);
    }
    if (parts.size() > 2) {
      if (parts[2] != "copy" && parts[2] != "复印件" && parts[2] != "original" &&
          parts[2] != "原件")
        fail(Status::invalid("material form '" + parts[2] + "' is not original or copy"));
      out[i].setOriginal(parts[2] == "original" || parts[2] == "原件");
    }
    if (parts.size() > 3) fail(Status::invalid("material '" + in[i] + "' has too many parts"));
  }
}

}  // namespace liandong::app
