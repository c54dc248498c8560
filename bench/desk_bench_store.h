// The stores the desk benchmark serves: a county (360723) of many cases
// from its 11 townships and their villages, each case the whole life the
// service halls give it — registered and accepted at the village, passed to
// the township, decided there or reported to the county, assigned to its
// departments (with their opinions when joint), decided, the result carried
// back, delivered, rated, fees collected, closed — as signed events stamped
// over the year so far in office hours and cut at "now". So most cases are
// closed and the recent ones are open wherever they have got to, a few
// thousand of them at the county; a few run late (黄牌 / 红牌). Optionally
// the same corpus's cases of one township go into that township's store.
//
// The nodes' own events (the county's, the township's) are signed with the
// keys `liandong init` made for them; every other origin gets a fresh key,
// put in the key directory of each store.
//
// Thread contract: build_desk_stores runs on the caller's thread and uses
// `threads` more for signing; nothing else may open the stores meanwhile.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "storage/calendar.h"
#include "storage/case_fold.h"
#include "storage/catalog.h"

namespace liandong::bench {

constexpr const char* kDeskCounty = "360723";
constexpr const char* kDeskTownship = "360723101";  // the township whose view is also measured

// A node made by `liandong init`: its data directory and signing key.
struct DeskNode {
  std::filesystem::path data;
  SigningKey key;
};

struct DeskStoreOptions {
  std::size_t cases = 100000;
  storage::Catalog catalog;    // the items cases are filed under (consult items skipped)
  storage::Calendar calendar;  // working days for the timeline and the promised dates
  uint64_t now_ms = 0;         // nothing is stamped after this
  unsigned threads = 1;        // signing threads
  uint64_t seed = 20261202;
};

struct DeskStoreFacts {
  std::size_t cases = 0, events = 0;                    // in the county's store
  std::size_t township_cases = 0, township_events = 0;  // in the township's, if made
  // Cases by final status (CaseStatus), in the county's store.
  std::array<std::size_t, storage::kCaseStatusCount> by_status{};
  // Open at the county (held there: escalated to it, or assigned there).
  std::size_t county_escalated = 0, county_assigned = 0;
  // Open at kDeskTownship: escalated to it, or assigned there.
  std::size_t township_held = 0;
  double plan_s = 0, sign_s = 0, apply_s = 0;
  // Case numbers to look up: a spread of ages and statuses.
  std::vector<std::string> sample_cases, sample_township_cases;
};

// The applicant of the corpus's case `i`: 192 names in turn, so each is
// common (about one case in 192).
std::string desk_applicant_name(std::size_t i);

// The division table (行政区划表) of the county the corpus uses, as a TOML
// document for `liandong publish divisions`.
std::string desk_divisions_toml();

// Fills the county's store (and the township's when `township` is given)
// through Store::apply, 1,000 events per transaction in time order.
// Throws on any event the store does not store (a bug in the corpus).
DeskStoreFacts build_desk_stores(const DeskStoreOptions& options, const DeskNode& county,
                                 const std::optional<DeskNode>& township);

}  // namespace liandong::bench
