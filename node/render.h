// How cases and events are shown to people (Chinese labels, UTC+8 times)
// and to programs (--json, English keys).
//
// Thread contract: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "node/sync_state.h"
#include "storage/case_fold.h"
#include "storage/divisions.h"
#include "storage/store.h"

namespace liandong::node {

// "2026-11-22 18:03:07" in China Standard Time (UTC+8).
std::string format_time(uint64_t ms);
// 20050 fen -> "200.50".
std::string format_yuan(int64_t fen);
// "200", "200.5", "200.50" -> fen; nullopt on anything else.
std::optional<int64_t> parse_yuan(std::string_view text);

const char* role_name(proto::Role r);     // "agent"
const char* role_name_zh(proto::Role r);  // "代理员"
std::optional<proto::Role> role_from_name(std::string_view name);
const char* material_state_zh(proto::MaterialState s);

// Pads `s` with spaces to `width` display columns (CJK characters count two).
std::string pad(const std::string& s, int width);

// Places as people read them, with the division table held here
// (storage/divisions.h; nullptr when none is held): "南安镇（360723101）",
// or the bare code where the table does not name it. `place_name` gives
// the name alone where the code adds nothing (a column of a list).
std::string place_zh(const storage::Divisions* places, const std::string& code);
std::string place_name(const storage::Divisions* places, const std::string& code);
// The table held by `store`, or nullopt (none, or unreadable: codes bare).
std::optional<storage::Divisions> places_here(const storage::Store& store);
// The line of an error a person reads (after "错误："): the message as is
// when it is in Chinese, else the kind of failure in Chinese first and the
// English message after it: "未找到 (no case 360723101007-000042 here)".
std::string error_text_zh(const Status& s);
// "所属村", "所属乡镇" or "所属县" by the length of the case's home code.
const char* home_label_zh(const std::string& home);
// What an event says beyond its kind, in a few words (Chinese); places
// named with the division table when one is given.
std::string event_detail(const EventView& v, const storage::Divisions* places = nullptr);
// The event's kind as the halls say it: a village passing a case up
// 转报乡镇, a township passing it to the county 上报, else kind_name_zh.
std::string event_kind_zh(const EventView& v);

// The status a person sees, with conflict overriding: "已受理" or "冲突待处理";
// a case passed up reads 待乡镇办理 / 待县办理 by the level holding it, a
// refused decision 不予许可.
std::string status_label_zh(const storage::CaseState& st);
std::string status_label(const storage::CaseState& st);

// `refused`: case -> what a level above refused in it and is not re-issued
// yet ("被乡镇拒收：时间戳超前 (...)"); such a case is flagged loudly.
using RefusedCases = std::map<Id, std::string>;
std::string render_case_list(const std::vector<storage::CaseState>& cases,
                             const RefusedCases* refused = nullptr,
                             const storage::Divisions* places = nullptr);
// One page of `case list --json`: {"cases": [...], "next": the cursor of
// the next page, or null on the last}.
std::string render_case_page_json(const std::vector<storage::CaseState>& cases,
                                  const RefusedCases* refused, const std::optional<Id>& next);
// The pieces of render_case_list / render_case_page_json, for output page
// by page: the header line, one case's row (`flagged`: it has a refusal
// line), the closing total; one case's JSON object.
std::string render_case_list_header();
std::string render_case_list_row(const storage::CaseState& st, const RefusedCases* refused,
                                 bool* flagged, const storage::Divisions* places = nullptr);
std::string render_case_list_total(std::size_t cases, std::size_t flagged);
std::string render_case_list_item_json(const storage::CaseState& st, const RefusedCases* refused);
// With `custody`, each event this node originated shows where it is
// stored: here, at the township, at the county. Every field of the
// application in force is shown: applicant, phone, address, summary (the
// question, 咨询问题, when `consult`: the item is handled as a 咨询 in the
// catalog), form fields.
std::string render_case(const storage::CaseState& st,
                        const std::vector<storage::StoredEvent>& events,
                        const Custody* custody = nullptr, const std::string& node_code = {},
                        bool consult = false, const storage::Divisions* places = nullptr);
std::string render_case_json(const storage::CaseState& st,
                             const std::vector<storage::StoredEvent>& events,
                             const Custody* custody = nullptr, const std::string& node_code = {},
                             bool consult = false);

// `liandong status`: one node's links and totals.
struct LinkReport {
  std::string peer;
  bool up_link = false;  // the peer is our upstream (else our child)
  std::string state;     // up, connecting, down
  bool active = false;   // carrying sync traffic now
  // Up since, or (any other state) out of contact since: an upstream's
  // redials do not restart it.
  uint64_t since_ms = 0, for_ms = 0;
  double rtt_ms = -1;  // -1: not measured yet
  uint64_t bytes_sent = 0, bytes_received = 0, batches_sent = 0, batches_received = 0,
           events_received = 0, events_rejected = 0;
  // Events put in batches to the peer (a resent batch counts again), and
  // events from the peer held in quarantine (not counted as rejected).
  uint64_t events_sent = 0, events_quarantined = 0;
  // When the peer was last heard from (wall clock, ms); 0: not since the
  // daemon started.
  uint64_t last_heard_ms = 0;
  uint64_t acked_lsn = 0, sent_lsn = 0, held_lsn = 0, top_lsn = 0;
  uint64_t unacked_events = 0;
  int64_t oldest_unacked_age_ms = -1;  // -1: nothing unacked
};
struct StatusReport {
  std::string code, store_id;
  bool running = false;
  int64_t pid = 0;
  uint64_t started_ms = 0;
  std::vector<LinkReport> links;
  uint64_t events = 0, cases = 0, last_lsn = 0, next_seq = 0;
  // Held cases whose open step is overdue (超期) / at warning (预警, one
  // working day or less left): node/report.h count_deadlines.
  uint64_t overdue = 0, warning = 0;
  // Events held in quarantine for review (`liandong quarantine`).
  uint64_t quarantined = 0;
  // The daemon found the store full (no room on its disk): since when; 0
  // when it has room. Batches from peers wait, local submissions fail.
  uint64_t store_full_since_ms = 0;
  // This node's events a level above refused (node/refusals.h): all of
  // them, and those not re-issued yet, each with its words.
  struct Refused {
    std::string event, case_id, text, reason, by, cause;
    bool open = true;
    std::string reissued_as;
  };
  std::vector<Refused> refused;
  // Attachments (node/transfers.h): files waiting for chunks here, and the
  // chunks pulled and served since the daemon started.
  struct Attachments {
    uint64_t wanted = 0, chunks_in = 0, chunks_out = 0, bytes_in = 0, bytes_out = 0, refused = 0,
             files_completed = 0;
  };
  Attachments attachments;
};
std::string render_status(const StatusReport& r, const storage::Divisions* places = nullptr);
std::string render_status_json(const StatusReport& r);

}  // namespace liandong::node
