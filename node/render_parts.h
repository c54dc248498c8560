// Pieces shared by the files of node/render.h (render*.cpp), not used
// elsewhere.
//
// Thread contract: pure functions.
#pragma once

#include "node/json_text.h"
#include "storage/case_fold.h"

namespace liandong::node {

// The case's own fields (status, applicant, dates, fees, ...) into `j`:
// the part a case-list row and the case page's JSON share.
void state_json(Json& j, const storage::CaseState& st);

}  // namespace liandong::node
