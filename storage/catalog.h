// The service catalog (事项目录) the county publishes: every item a village
// point may take, with the eight public items (八公开) people are told —
// legal basis, conditions, procedure, required materials, time limits, fee
// standard, responsible staff and complaint phone — plus what the workflow
// needs: the level that decides, the departments (several = joint, 联办) and
// the handling type.
//
// The document is TOML (config/catalog-example.toml is a full example):
//
//   version = 3                      # > 0; each publication raises it
//   title = "..."                    # optional
//   complaint_phone = "..."          # optional default for every item
//   [[item]]
//   code, name, category, level (village|township|county),
//   departments = [..], handling (immediate|promised|joint|escalated|consult),
//   legal_basis, conditions, procedure = [..], fee_fen, fee_note, staff,
//   complaint_phone, note
//   [item.limits]  village_forward, township_handle, county_decide,
//                  township_reply, village_notify   (working days, 0..365)
//   [[item.material]]  name, form (original|copy), count, later_ok,
//                      original_scan, note
//
// It travels inside a `catalogPublished {version, document}` broadcast; the
// bytes are kept verbatim, so every node parses the same document.
//
// parse_catalog is pure logic, safe from any thread; held_catalog reads the
// store (any thread, as Store allows).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/status.h"
#include "storage/deadlines.h"
#include "storage/role_names.h"

namespace liandong::storage {

class Store;
struct StoredEvent;
struct CaseState;

// The level that decides an item.
using DecidingLevel = Level;

// 即办 immediate, 承诺 promised, 联办 joint, 上报 escalated, 咨询 consult.
enum class Handling : uint8_t { immediate, promised, joint, escalated, consult };

const char* level_name(DecidingLevel l);     // "township"
const char* level_name_zh(DecidingLevel l);  // "乡镇"
const char* handling_name(Handling h);       // "joint"
const char* handling_name_zh(Handling h);    // "联办件"

// One required material (申报材料).
struct CatalogMaterial {
  std::string name;
  bool original = true;   // 原件 (true) or 复印件 (false)
  uint32_t count = 1;     // 1..100
  bool later_ok = false;  // 容缺: may be supplied later (先办后补)
  std::string note;
  // An attached photo of it is kept as taken (原样保存), not reduced
  // (node/app/attachments.h): where the original scan is what counts.
  bool original_scan = false;

  bool operator==(const CatalogMaterial&) const = default;
};

struct CatalogItem {
  std::string code;      // e.g. "LY-001"; unique in the catalog
  std::string name;      // 林木采伐许可
  std::string category;  // 证照代办, 政策兑现, 民事调解, 咨询, ...
  DecidingLevel level = DecidingLevel::county;
  std::vector<std::string> departments;  // several: joint handling (联办)
  Handling handling = Handling::promised;
  std::vector<CatalogMaterial> materials;
  StepLimits limits;
  int64_t fee_fen = 0;  // 收费标准, fen; 0: free
  std::string fee_note;
  std::string legal_basis;             // 办事依据
  std::string conditions;              // 办事条件
  std::vector<std::string> procedure;  // 办事程序, one step each
  std::string staff;                   // 经办人员
  std::string complaint_phone;         // 监督电话
  std::string note;

  // The committed limit (承诺时限) in working days from intake to the
  // applicant told: the sum of the steps.
  uint32_t total_days() const;

  bool operator==(const CatalogItem&) const = default;
};

struct Catalog {
  uint32_t version = 0;
  std::string title;
  std::vector<CatalogItem> items;  // in document order

  // The item with `code`; nullptr if the catalog has none.
  const CatalogItem* find(std::string_view code) const;
};

// Parses and validates a catalog document. Unknown keys, wrong types,
// missing required keys, duplicate item codes and impossible values are
// invalid, reported as "SOURCE:LINE: KEY_PATH: WHAT" (first problem only).
Result<Catalog> parse_catalog(std::string_view text, std::string_view source = "catalog");

// The catalog this node works by: among the catalogs held (from the
// `notices` index) issued by the node's county (its code's first 6 digits;
// any issuer for a node above the county), the newest whose document
// parses — or, with `version` non-zero, exactly that version (not_found if
// it is not held). nullopt when none is held. A document that does not
// parse (e.g. a newer format) is passed over for the newest one that does.
Result<std::optional<Catalog>> held_catalog(const Store& store, uint32_t version = 0);

// The catalog version a case was submitted under: its `submitted` event's
// catalogVersion; 0 when that event is not held here or names none.
uint32_t submitted_catalog_version(const std::vector<StoredEvent>& case_events);

// The held catalogs, each version read and parsed at most once, for work
// over many cases: a case is handled by the catalog version it was
// submitted with (a catalog published later does not change its limits or
// materials). Not thread-safe; one per command.
class CatalogCache {
 public:
  explicit CatalogCache(const Store& store) : store_(store) {}

  // The catalog of `version` when held here; else (version 0, or a version
  // this node never received) the newest held. nullptr when none is held.
  Result<const Catalog*> get(uint32_t version);

 private:
  const Store& store_;
  std::map<uint32_t, std::optional<Catalog>> by_version_;  // 0: the newest
};

// The time limits of a case's item, from the catalog version the case was
// submitted with (CatalogCache::get); for an item no held catalog lists, the
// defaults (StepLimits{}: DOMAIN.md's figures per level).
Result<StepLimits> case_step_limits(CatalogCache& catalogs, const CaseState& st,
                                    const std::vector<StoredEvent>& case_events);

// Limits the parser enforces.
constexpr uint32_t kMaxCatalogVersion = 0x7fffffff;
constexpr uint32_t kMaxStepDays = 365;
constexpr uint32_t kMaxMaterialCount = 100;
constexpr int64_t kMaxFeeFen = 100'000'000;  // 1,000,000 yuan

}  // namespace liandong::storage
