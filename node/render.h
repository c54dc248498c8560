// How cases and events are shown to people (Chinese labels, UTC+8 times)
// and to programs (--json, English keys).
//
// Thread contract: pure functions.
#pragma once

#include <string>
#include <vector>

#include "storage/case_fold.h"
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

// The status a person sees, with conflict overriding: "已受理" or "冲突待处理".
std::string status_label_zh(const storage::CaseState& st);
std::string status_label(const storage::CaseState& st);

std::string render_case_list(const std::vector<storage::CaseState>& cases);
std::string render_case_list_json(const std::vector<storage::CaseState>& cases);
std::string render_case(const storage::CaseState& st,
                        const std::vector<storage::StoredEvent>& events);
std::string render_case_json(const storage::CaseState& st,
                             const std::vector<storage::StoredEvent>& events);

}  // namespace liandong::node
