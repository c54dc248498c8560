// Intake rules (受理前的材料审查): what an application lacks, measured
// against its catalog item, and what the lack means for the case.
//
// - 补办件, not refusal: an application whose required materials are
//   missing is registered all the same, as a 补办件 that waits (待补正)
//   for every missing material, all of them told at once (一次性告知).
// - A material the catalog marks later_ok (容缺受理, 先办后补) and the
//   applicant has not brought is recorded LATER; the case goes on.
// - Supplements may come in parts (storage/case_fold.h): the case waits
//   while any material told missing is still missing.
// - A 容缺 material still outstanding blocks 办结: neither an approval
//   (decide --approve: the certificate is issued) nor the closing (销号)
//   may be recorded until it is supplied. A refusal (不予许可) or
//   不予受理 needs no more materials and is never blocked.
//
// Pure logic: no I/O, no clocks; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/records.capnp.h"
#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"

namespace liandong::storage {

// One material as an application names it (records.capnp, Material).
struct GivenMaterial {
  std::string name;
  bool original = true;
  uint32_t count = 1;
  proto::MaterialState state = proto::MaterialState::PROVIDED;
  bool operator==(const GivenMaterial&) const = default;
};

// What an application holds against its catalog item.
struct IntakeCheck {
  // What the `submitted` event records: the materials given, in the order
  // given, then each catalog material not given. A catalog material not
  // provided is LATER when later_ok, MISSING otherwise; a material outside
  // the catalog keeps the state given.
  std::vector<GivenMaterial> materials;
  // Every material recorded MISSING, in that order: the whole list told at
  // once (一次性告知). Not empty: the application is a 补办件.
  std::vector<std::string> missing;
  // Every material recorded LATER (容缺), in that order.
  std::vector<std::string> later;

  bool supplement_case() const { return !missing.empty(); }
};

// The materials of `given` checked against `item` (nullptr: no catalog
// item held; the materials are taken as given).
IntakeCheck check_intake(const CatalogItem* item, const std::vector<GivenMaterial>& given);

// The names of the case's materials in `state`, in the case's order: what
// is still missing (MISSING) or still to follow (LATER).
std::vector<std::string> materials_in(const CaseState& st, proto::MaterialState state);

// "林木采伐申请表、林权证或不动产权证书": names joined as a list is written.
std::string join_names(const std::vector<std::string>& names);

// Whether an action of `kind` (for `decided`: `approve` says which) may be
// recorded on `st` given its 容缺 materials: Status::ok(), or invalid()
// with one line, Chinese then English, naming every material outstanding
// and how to supply it. Other kinds pass.
Status may_complete(const CaseState& st, EventKind kind, bool approve);

}  // namespace liandong::storage
