// Case trace (倒查): every step of one case in fold order — what, who (with
// role and, for AB角, on whose behalf), at which node, when it happened,
// when it was stored here, where this node's own events have reached
// (custody), and how long the case waited before each step — so staff can
// see where a case waited and who was responsible.
//
// Thread contract: pure functions, except trace_case (reads the store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/sync_state.h"
#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/store.h"

namespace liandong::node {

struct TraceStep {
  Id event;
  EventKind kind = EventKind::comment;
  bool conflict = false;  // kept but could not apply (see CaseState::conflicts)
  std::string actor, role, on_behalf_of, staff_id;
  std::string node;  // origin code
  uint64_t at_ms = 0;
  uint64_t lsn = 0;
  std::optional<uint64_t> stored_ms;  // when it arrived here, if known
  std::string detail;
  // Custody of an event this node originated (nullopt: not ours or unknown).
  bool own = false;
  std::optional<bool> at_township, at_county;
  std::optional<Refusal> refused;  // a level above refused it
  uint64_t wait_ms = 0;            // since the previous step (0 for the first)
};

struct CaseTrace {
  storage::CaseState state;
  std::string node_code;
  std::vector<TraceStep> steps;
  uint64_t total_ms = 0;  // first step to last
};

// When the event at `lsn` was stored here (Store::arrival_ms); nullopt when
// unknown (stored before arrival times were recorded, or a read error).
std::optional<uint64_t> stored_at_ms(const storage::Store& store, uint64_t lsn);

// Pure: the trace of a case from its state, events (fold order) and custody.
CaseTrace make_trace(const storage::CaseState& st, const std::vector<storage::StoredEvent>& events,
                     const Custody* custody, const std::string& node_code);

// Reads the case from the store; not_found if it is not held here.
Result<CaseTrace> trace_case(const storage::Store& store, const Id& case_id);

// "2 天 3 小时", "45 分钟".
std::string wait_zh(uint64_t ms);

std::string render_trace(const CaseTrace& t);
std::string render_trace_json(const CaseTrace& t);

}  // namespace liandong::node
