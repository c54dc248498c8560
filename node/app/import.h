// Registering the applications of a paper ledger (导入纸质台账): many
// applications made by one person, each checked by exactly the rules of
// `submit` (SubmissionChecker, node/app/submit.h) and the good ones stored
// in one write transaction, each with its row key so that a row imported
// before is not stored again (the store's `imports` database).
//
// The CLI reads the file and makes each row an application
// (node/ledger_import.h); this operation is what the CLI calls directly on
// the store, and what the daemon calls for each batch the CLI sends it
// (`import-rows`).
//
// Thread contract: as node/app/context.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "node/app/actor.h"
#include "node/app/context.h"
#include "node/app/result.h"
#include "protocol/status.h"

namespace liandong::app {

// One row of a ledger made into an application.
struct ImportRow {
  std::size_t line = 0;  // where it came from in the file
  std::string key;       // row key (node/ledger_import.h): "no:..." or "row:..."
  std::string home;      // case home; empty: the node itself
  std::string json;      // the application in `submit --json` form
};

// What became of one row: stored (the new case), duplicate (imported
// before: the case it was stored as) or bad (nothing stored: why, and which
// part of the application it is about, as check_submission says it).
struct RowOutcome {
  std::size_t line = 0;
  enum Kind : uint8_t { stored, duplicate, bad } kind = bad;
  std::string case_number;  // stored, duplicate: the case (办件编号)
  Status error;             // bad: why
  RequestPart part = RequestPart::whole;
};

// Checks `rows` as `submit` checks one application by `actor`, and stores
// the good ones (one write transaction), one outcome per row in order.
// An error is about the whole batch and nothing is stored: the actor
// refused by role, level or roster (a refusal, recorded in the audit log
// like submit's), or the store failing. A row refused by the role rules
// (e.g. a home outside this node's jurisdiction) is a bad row; such rows
// are recorded in the audit log as one note per reason with their count.
AppResult<std::vector<RowOutcome>> import_rows(const Context& ctx, const Actor& actor,
                                               const std::vector<ImportRow>& rows);

}  // namespace liandong::app
