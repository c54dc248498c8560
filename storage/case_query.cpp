#include "storage/case_query.h"

#include <algorithm>

#include "storage/case_index.h"

namespace liandong::storage {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A case number's tail: the origin's last digits (may be empty) and the
// sequence number. "000042" -> ("", 42); "007-000042" -> ("007", 42).
struct CaseTail {
  std::string origin_tail;
  uint64_t seq = 0;
};

std::optional<CaseTail> parse_tail(std::string_view s) {
  CaseTail t;
  const auto dash = s.find('-');
  std::string_view seq = s;
  if (dash != std::string_view::npos) {
    t.origin_tail = std::string(s.substr(0, dash));
    seq = s.substr(dash + 1);
    if (!all_digits(t.origin_tail)) return std::nullopt;
  }
  if (!all_digits(seq) || seq.size() > 18) return std::nullopt;
  for (char c : seq)
    t.seq = t.seq * 10 + static_cast<uint64_t>(c - '0');
  if (t.seq == 0) return std::nullopt;
  return t;
}

// Case-id order, as the store keys them (origin NUL-padded, then seq).
bool id_less(const Id& a, const Id& b) {
  return id_key(a) < id_key(b);
}

bool matches(const CaseState& st, const CaseQuery& q) {
  if (st.status == CaseStatus::incomplete && is_search(q)) return false;
  if (!q.name.empty() && trim_name(st.applicant_name) != trim_name(q.name)) return false;
  if (!q.id_number.empty() &&
      normalize_id_number(st.applicant_id) != normalize_id_number(q.id_number))
    return false;
  if (!q.phone.empty() && normalize_phone(st.applicant_phone) != normalize_phone(q.phone))
    return false;
  if (!q.item_code.empty() && st.item_code != q.item_code) return false;
  if (q.conflict_only && !st.conflict) return false;
  if (q.status && (st.status != *q.status || (st.conflict && !q.conflict_only))) return false;
  return true;
}

// Collects up to limit + 1 matches (the extra one tells there is a next
// page), then cuts the page.
class PageBuilder {
 public:
  explicit PageBuilder(const CaseQuery& q) : q_(q) {}
  // Takes `st` if it matches; false once the page is full.
  bool offer(CaseState&& st) {
    if (matches(st, q_)) found_.push_back(std::move(st));
    return found_.size() <= q_.limit;
  }
  CasePage finish() {
    CasePage page;
    if (found_.size() > q_.limit) {
      found_.resize(q_.limit);
      page.next = found_.back().case_id;
    }
    page.cases = std::move(found_);
    return page;
  }

 private:
  const CaseQuery& q_;
  std::vector<CaseState> found_;
};

Result<CasePage> by_case_number(const Store& store, const CaseQuery& q) {
  PageBuilder page(q);
  if (auto id = parse_id(q.case_number)) {
    if (q.after && !id_less(*q.after, *id)) return page.finish();
    auto st = store.get_case(*id);
    if (!st.ok()) return st.status();
    if (*st) page.offer(std::move(**st));
    return page.finish();
  }
  auto tail = parse_tail(q.case_number);
  if (!tail)
    return Status::invalid("办件编号 '" + q.case_number +
                           "' 不是完整编号或编号末尾的数字 (not a case number like "
                           "360723101007-000042 or its tail like 000042)");
  auto origins = store.case_origins();
  if (!origins.ok()) return origins.status();
  for (const std::string& origin : *origins) {
    if (!origin.ends_with(tail->origin_tail)) continue;
    const Id id{origin, tail->seq};
    if (q.after && !id_less(*q.after, id)) continue;
    auto st = store.get_case(id);
    if (!st.ok()) return st.status();
    if (*st && !page.offer(std::move(**st))) break;
  }
  return page.finish();
}

}  // namespace

bool is_search(const CaseQuery& q) {
  return !q.name.empty() || !q.id_number.empty() || !q.phone.empty() || !q.case_number.empty() ||
         !q.item_code.empty();
}

Result<CasePage> find_cases(const Store& store, const CaseQuery& q) {
  if (q.limit == 0 || q.limit > kMaxPageSize)
    return Status::invalid("每页件数须在 1 到 " + std::to_string(kMaxPageSize) +
                           " 之间 (--limit must be 1.." + std::to_string(kMaxPageSize) + ")");
  if (!q.case_number.empty()) return by_case_number(store, q);
  // The index to walk, most selective first.
  CaseIndex index = CaseIndex::cases;
  std::string part;
  const std::pair<CaseIndex, const std::string*> keyed[] = {{CaseIndex::id_number, &q.id_number},
                                                            {CaseIndex::phone, &q.phone},
                                                            {CaseIndex::name, &q.name},
                                                            {CaseIndex::item, &q.item_code}};
  for (const auto& [which, value] : keyed) {
    if (value->empty()) continue;
    auto p = store.search_part(which, *value);
    if (!p) return CasePage{};  // a value nothing is filed under (e.g. only spaces)
    index = which;
    part = std::move(*p);
    break;
  }
  if (index == CaseIndex::cases && (q.status || q.conflict_only)) {
    index = CaseIndex::status;
    part.assign(1, static_cast<char>(q.conflict_only ? 0xff : static_cast<uint8_t>(*q.status)));
  }
  PageBuilder page(q);
  auto s = store.visit_cases(index, part, q.after,
                             [&](CaseState&& st) { return page.offer(std::move(st)); });
  if (!s) return s;
  return page.finish();
}

}  // namespace liandong::storage
