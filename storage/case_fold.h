// The case state machine: a case's state is a pure function of its set of
// events, folded in (hlc, origin, seq) order.
//
// check() says whether an event may be applied to a state; a node refuses a
// local action that fails it. apply() folds an event in: an event that
// cannot apply (two levels acted concurrently, e.g. a withdrawal racing an
// approval) is kept, the case is flagged `conflict`, and a later event that
// names the conflicting events in `settles` clears the flag.
//
// An event that names another in `supersedes` (a re-issue, 重新报送, of an
// event a level above refused) takes its place: the superseded event stays
// in the log but the fold skips it, on every node alike, whether it holds
// the superseded event or never received it.
//
// Pure logic: no I/O, no clocks; safe from any thread on distinct states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "protocol/status.h"

namespace liandong::storage {

enum class CaseStatus : uint8_t {
  incomplete,            // 未到齐: events held, `submitted` not yet here
  submitted,             // 已登记
  supplement_requested,  // 待补正
  accepted,              // 已受理
  escalated,             // 待上级办理 (待乡镇办理 / 待县办理 by who holds it)
  assigned,              // 办理中
  decided,               // 已办结
  delivered,             // 已送达 (结果送达)
  closed,                // 已销号
  withdrawn,             // 已撤回
  not_accepted,          // 不予受理: refused at intake (final; not 不予许可)
};
constexpr int kCaseStatusCount = 11;

const char* status_name(CaseStatus s);     // "supplement_requested"
const char* status_name_zh(CaseStatus s);  // "待补正"
std::optional<CaseStatus> status_from_name(std::string_view name);

// Fold order: (hlc, origin, seq).
struct OrderKey {
  uint64_t hlc = 0;
  Id id;
  auto operator<=>(const OrderKey&) const = default;
  bool operator==(const OrderKey&) const = default;
};

struct MaterialLine {
  std::string name;
  proto::MaterialState state = proto::MaterialState::PROVIDED;
  bool operator==(const MaterialLine&) const = default;
};

struct DeptOpinion {
  std::string department;
  bool approve = false;
  Id event;
  bool operator==(const DeptOpinion&) const = default;
};

struct CaseState {
  Id case_id;
  std::string home;
  std::string item_code, item_name;
  std::string applicant_name, applicant_id;
  std::string applicant_phone;  // indexed for search (storage/case_query.h)
  CaseStatus status = CaseStatus::incomplete;
  CaseStatus prior = CaseStatus::incomplete;  // status to resume after 补正
  std::string handler;                        // code of the level responsible now
  bool conflict = false;
  std::vector<Id> conflicts;  // events that could not apply, unsettled
  std::vector<std::string> departments;
  std::vector<DeptOpinion> opinions;
  std::vector<MaterialLine> materials;
  bool has_decision = false, approved = false;
  int64_t fee_due = 0, fee_collected = 0;
  uint8_t rating = 0;
  uint32_t complaints = 0;
  // Events of supervision (督办 orders, answers, complaints, ratings of
  // 不满意 or worse): a case with none has nothing on the supervision page
  // (node/app/supervise.h reads the events of those that have).
  uint32_t supervision = 0;
  uint32_t event_count = 0;
  // 承诺办结日期 from 受理, "YYYY-MM-DD" or empty; the latest date the
  // catalog's limit allowed then, and why the promised date is later.
  std::string due_date, due_limit_date, due_extend_reason;
  uint64_t submitted_hlc = 0, accepted_hlc = 0, decided_hlc = 0, delivered_hlc = 0, closed_hlc = 0;
  OrderKey last;  // the largest event folded in
  // Events named by a re-issue in this case, by id: skipped by the fold.
  std::vector<Id> superseded;
  // 补办件: registered with required materials missing (Submitted
  // .supplementCase); the case waited for them from its registration.
  bool supplement_case = false;
  // When the case's home node stored the decision or reply (its `received`):
  // 结果回传 ended and the 送达 clock started. 0: not yet.
  uint64_t result_received_hlc = 0;

  // The status a user sees: conflict overrides.
  bool operator==(const CaseState&) const = default;
};

// Whether `ev` may apply to `state` (nullptr: no event of the case yet).
// The reason is a one-line Chinese-and-English explanation for the agent.
Status check(const CaseState* state, const EventView& ev);

// Folds `ev` into `state`. `state` must be fresh (for the first event) or
// hold events that all order before `ev`, and needs_refold() must be false.
// An event `state` lists as superseded is skipped (not counted).
void apply(CaseState& state, const EventView& ev);

// Whether adding `ev` to a case whose state is `state` needs the whole set
// folded again rather than apply(): `ev` supersedes another event.
bool needs_refold(const CaseState& state, const EventView& ev);

// The event `ev` re-issues, if any (always of its own origin: checked by
// validate_event).
std::optional<Id> superseded_by(const EventView& ev);

// Folds a whole set, in any given order: sorts by OrderKey first.
CaseState fold(std::vector<const EventView*> events);

OrderKey order_key(const EventView& ev);

// Persistent form of a CaseState (the `cases` cache). A stored form is at
// most kMaxStateBytes (a real case's is a few KiB at most).
constexpr std::size_t kMaxStateBytes = 4u << 20;
std::string encode_state(const CaseState& s);
Result<CaseState> decode_state(std::string_view bytes);

}  // namespace liandong::storage
