#include "node/submission_check.h"

#include <algorithm>
#include <vector>

#include "node/input_checks.h"
#include "protocol/resident_id.h"
#include "storage/authority.h"
#include "storage/intake.h"

namespace liandong::node {

const Result<std::optional<storage::Catalog>>& SubmissionChecker::catalog(uint32_t version) {
  if (auto it = catalogs_.find(version); it != catalogs_.end()) return it->second;
  auto held = storage::held_catalog(store_, version);
  if (!held.ok() && held.status().code() == Code::not_found) {
    // No catalog held at all: the form's version is taken as given.
    auto newest = storage::held_catalog(store_);
    if (newest.ok() && !*newest) held = std::optional<storage::Catalog>();
  }
  return catalogs_.emplace(version, std::move(held)).first->second;
}

std::optional<SubmissionProblem> SubmissionChecker::check(proto::Submitted::Builder sub,
                                                          const std::string& home) {
  using P = SubmissionPart;
  auto ap = sub.getApplicant();
  if (ap.getName().size() == 0) return SubmissionProblem{P::whole, "缺少申请人姓名 (no applicant)"};
  if (sub.getItemCode().size() == 0)
    return SubmissionProblem{P::item, "缺少事项编码 (no item code)"};
  if (today_) {
    if (ap.getIdNumber().size() != 0) {
      if (auto why = resident_id_problem(ap.getIdNumber().cStr(), *today_))
        return SubmissionProblem{P::id_number, *why};
    }
    if (ap.getPhone().size() != 0) {
      if (auto why = phone_problem(ap.getPhone().cStr())) return SubmissionProblem{P::phone, *why};
    }
    if (auto s = check_applicant(ap, *today_); !s) return SubmissionProblem{P::whole, s.message()};
  }
  if (!home.empty() && !plausible_code(home))
    return SubmissionProblem{P::home, "所属村代码 " + home + " 不是行政区划代码 (home '" + home +
                                          "' is not a division code)"};
  {
    storage::ActContext ctx;
    ctx.node = store_.code();
    ctx.role = role_;
    ctx.kind = EventKind::submitted;
    ctx.home = home;
    if (auto s = storage::may_act(ctx); !s) return SubmissionProblem{P::role, s.message()};
  }
  const auto& held = catalog(sub.getCatalogVersion());
  if (!held.ok()) return SubmissionProblem{P::whole, held.status().message()};
  if (!*held) return std::nullopt;
  const storage::Catalog& cat = **held;
  const std::string item_code(sub.getItemCode().cStr());
  const storage::CatalogItem* item = cat.find(item_code);
  if (item == nullptr)
    return SubmissionProblem{P::item, "事项编码 " + item_code + " 不在服务事项目录（第 " +
                                          std::to_string(cat.version) + " 版）中 (item '" +
                                          item_code + "' is not in the service catalog)"};
  sub.setCatalogVersion(cat.version);
  if (sub.getItemName().size() == 0) sub.setItemName(item->name);
  if (sub.getFeeDue() == 0) sub.setFeeDue(item->fee_fen);
  // 补办件, not refusal (storage/intake.h): missing materials are recorded
  // MISSING, all at once (一次性告知), and the application waits for them.
  std::vector<storage::GivenMaterial> given;
  for (auto m : sub.getMaterials().asReader())
    given.push_back({std::string(m.getName().cStr()), m.getOriginal(), m.getCount(), m.getState()});
  const storage::IntakeCheck intake = storage::check_intake(item, given);
  auto out = sub.initMaterials(static_cast<unsigned>(intake.materials.size()));
  for (unsigned i = 0; i < out.size(); ++i) {
    out[i].setName(intake.materials[i].name);
    out[i].setOriginal(intake.materials[i].original);
    out[i].setCount(intake.materials[i].count);
    out[i].setState(intake.materials[i].state);
  }
  sub.setSupplementCase(intake.supplement_case());
  return std::nullopt;
}

}  // namespace liandong::node
