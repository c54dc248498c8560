#include "storage/intake.h"

#include <algorithm>

namespace liandong::storage {

IntakeCheck check_intake(const CatalogItem* item, const std::vector<GivenMaterial>& given) {
  IntakeCheck out;
  out.materials = given;
  if (item != nullptr) {
    for (const auto& need : item->materials) {
      auto it = std::find_if(out.materials.begin(), out.materials.end(),
                             [&need](const GivenMaterial& g) { return g.name == need.name; });
      if (it != out.materials.end() && it->state == proto::MaterialState::PROVIDED) continue;
      const auto state =
          need.later_ok ? proto::MaterialState::LATER : proto::MaterialState::MISSING;
      if (it == out.materials.end()) {
        out.materials.push_back(GivenMaterial{need.name, need.original, need.count, state});
      } else {
        it->state = state;
      }
    }
  }
  for (const auto& m : out.materials) {
    if (m.state == proto::MaterialState::MISSING) out.missing.push_back(m.name);
    if (m.state == proto::MaterialState::LATER) out.later.push_back(m.name);
  }
  return out;
}

std::vector<std::string> materials_in(const CaseState& st, proto::MaterialState state) {
  std::vector<std::string> out;
  for (const auto& m : st.materials) {
    if (m.state == state) out.push_back(m.name);
  }
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : "、") + n;
  return out;
}

Status may_complete(const CaseState& st, EventKind kind, bool approve) {
  const bool completes = (kind == EventKind::decided && approve) ||
                         (kind == EventKind::closed && st.has_decision && st.approved);
  if (!completes) return Status::ok();
  const auto later = materials_in(st, proto::MaterialState::LATER);
  if (later.empty()) return Status::ok();
  const std::string list = join_names(later);
  return Status::invalid("容缺材料未补齐，不能办结：" + list +
                         "；请先登记补正材料 (supplement --provided 材料名) (" +
                         std::to_string(later.size()) +
                         " material(s) accepted to follow later are still outstanding; "
                         "supply them before the case is approved or closed)");
}

}  // namespace liandong::storage
