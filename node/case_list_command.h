// `case list`: the cases held here, found by applicant name, ID number,
// phone, case number (full or its tail), item and status, a page at a time
// (`--limit`, `--after`) or all of them streamed.
//
// Thread contract: a command function (node/commands.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "storage/case_query.h"

namespace liandong::node {

struct CaseListArgs {
  std::optional<storage::CaseStatus> status;
  bool conflict_only = false;
  std::string name, id_number, phone, case_number, item;
  std::size_t limit = 0;  // 0: not given (a page of storage::kDefaultPageSize when paged)
  std::string after;      // the cursor a page printed
  // Whether the output is one page: --limit, --after or a search key
  // given. Otherwise every matching case is listed (streamed), as an
  // array in JSON; a page is {"cases": [...], "next": cursor or null}.
  bool paged() const;
};

// Prints the cases of `a` held in `data` (CommandError on failure).
int list_cases_found(const std::string& data, const CaseListArgs& a, bool json);

}  // namespace liandong::node
