// Checks of an applicant's identity data where an application is made: the
// resident ID number (居民身份证号码, GB 11643-1999) and the telephone
// number. A failed check is a one-line reason, Chinese first, naming what is
// wrong (e.g. "身份证号码校验位不符（应为 X）"); the caller refuses the
// application with it and stores nothing.
//
// These are checks of what a person types, made once where the event is
// made. A node receiving events does not apply them: events signed before
// the checks existed must still be accepted (docs/SECURITY.md).
//
// Pure logic: no I/O, no clocks ("today" comes from the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/records.capnp.h"
#include "protocol/status.h"

namespace liandong {

// The ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') of the first 17
// characters of `id`, which must be 17 or more ASCII digits.
char resident_id_check_char(std::string_view id);

// `id` with a lowercase check character 'x' made 'X'; otherwise `id`.
std::string normalised_resident_id(std::string_view id);

// Why `id` cannot be a resident ID number on China day `today` (days since
// 1970-01-01), or nullopt: not 18 characters; not 17 digits and a check
// character 0-9 or X (x is taken as X); a province code (first two digits)
// not in GB/T 2260's table (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71,
// 81-83, 91); a birth date YYYYMMDD that does not exist, lies after `today`
// or before 1900; a check character other than the MOD 11-2 one.
std::optional<std::string> resident_id_problem(std::string_view id, int64_t today);

// Why `phone` cannot be a telephone number, or nullopt. Spaces and hyphens
// are taken as typed and ignored; what remains must be a mainland mobile
// number (11 digits, 13x-19x) or a landline with its area code: 0, an area
// code of 2 or 3 more digits, and a local number of 7 or 8 digits (10-12
// digits in all, the second digit not 0).
std::optional<std::string> phone_problem(std::string_view phone);

// Checks the applicant of an application made on China day `today`: a
// given ID number must pass resident_id_problem (and is stored with 'X'
// upper case), a given phone phone_problem. Empty fields are not checked.
// `invalid` with the first problem found; `applicant` is changed only by
// the normalisation of a valid ID number.
Status check_applicant(proto::Applicant::Builder applicant, int64_t today);

}  // namespace liandong
