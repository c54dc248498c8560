// Finding cases: a page of the cases that match a query, and the cursor of
// the next page.
//
// A query names any of: the applicant's name (exact, spaces around it
// ignored), ID number, phone, the case number (办件编号, full, or its tail:
// "42", "000042", "007-000042"), the item code and the status. One index
// (storage/case_index.h) is walked — the most selective the query names:
// case number, ID number, phone, name, item, status, else every case — and
// the rest of the query is checked against each case it lists.
//
// Pages are in case-id order and the cursor is the last case id of the
// page: a page never repeats a case an earlier page gave, and every case
// held from the first page to the last and matching throughout is given
// exactly once, whatever is written meanwhile (each page is its own read
// transaction). Memory is bounded by the page, never the store.
//
// Thread contract: as Store (any thread; no transaction outlives a call).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "protocol/ids.h"
#include "protocol/status.h"
#include "storage/case_fold.h"
#include "storage/store.h"

namespace liandong::storage {

constexpr std::size_t kDefaultPageSize = 50;
constexpr std::size_t kMaxPageSize = 10000;

struct CaseQuery {
  std::string name;         // applicant name
  std::string id_number;    // applicant ID number (normalized: normalize_id_number)
  std::string phone;        // applicant phone (normalized: normalize_phone)
  std::string case_number;  // full case id or its tail
  std::string item_code;
  std::optional<CaseStatus> status;      // not in conflict
  bool conflict_only = false;            // only cases flagged 冲突待处理
  std::size_t limit = kDefaultPageSize;  // 1..kMaxPageSize
  std::optional<Id> after;               // the cursor: the previous page's `next`
};

struct CasePage {
  std::vector<CaseState> cases;
  std::optional<Id> next;  // the cursor of the next page; nullopt: this was the last
};

// Whether `q` names anything besides paging.
bool is_search(const CaseQuery& q);

// The page of `q`. invalid: a limit outside 1..kMaxPageSize, or a case
// number that is neither an id nor a tail of digits.
Result<CasePage> find_cases(const Store& store, const CaseQuery& q);

}  // namespace liandong::storage
