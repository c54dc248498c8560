// An application (申请) given as JSON, as `liandong submit --json FILE`
// reads it: one object with the fields of `Submitted` in
// protocol/records.capnp under Cap'n Proto's JSON names, e.g.
//
//   {"itemCode": "MZ-DB-001", "itemName": "农村最低生活保障申请",
//    "applicant": {"name": "刘秀英", "idNumber": "360723197001010021"},
//    "fields": [{"key": "家庭人口", "value": "3"}],
//    "materials": [{"name": "居民身份证", "original": false, "count": 1}],
//    "feeDue": "0", "catalogVersion": 3}
//
// Bad input is refused with one line and fills nothing the caller keeps:
// not JSON, not an object, unknown keys, wrong types, nesting deeper than a
// submission has, more than kMaxSubmissionJsonBytes. Field rules (text
// limits, UTF-8, list sizes) are validate_event's, applied when the event is
// sealed. Pure logic, safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocol/records.capnp.h"
#include "protocol/status.h"

namespace liandong {

constexpr std::size_t kMaxSubmissionJsonBytes = 4u << 20;

Status decode_submission_json(std::string_view text, proto::Submitted::Builder out);

}  // namespace liandong
