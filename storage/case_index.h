// The search indexes of the case store: which index, and the key bytes a
// searched value is filed under.
//
// Every index entry is `part ‖ idkey(case)` with an empty value, so the
// cases under one value are in case-id order (docs/FORMAT.md §4):
//   by_name    the applicant's name (trimmed), plain, ‖ 0x00
//   by_item    the item code, plain, ‖ 0x00
//   by_idno    keyed BLAKE2b-128 of the normalized ID number
//   by_phone   keyed BLAKE2b-128 of the normalized phone number
// A plain value longer than kMaxPlainPart bytes is filed under 0x01 ‖
// BLAKE2b-256(value) instead (LMDB keys are at most 511 bytes). ID numbers
// and phones are personal data: the store keeps them hashed with a key of
// its own (`meta` search_key), so the index is not a sorted list of them
// (docs/SECURITY.md).
//
// Pure functions: no I/O; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liandong::storage {

// An index cases can be visited by. `cases`: every case.
enum class CaseIndex : uint8_t { cases, status, name, id_number, phone, item };

// The store's key for hashing ID numbers and phones in index keys.
using SearchSecret = std::array<unsigned char, 32>;

constexpr std::size_t kMaxPlainPart = 256;

// "11010519491231002x " -> "11010519491231002X": no spaces, upper case.
std::string normalize_id_number(std::string_view s);
// "+86 138-0013-8000" -> "13800138000": digits only, a leading 86 of a
// 13-digit number dropped.
std::string normalize_phone(std::string_view s);
// Leading and trailing ASCII spaces removed.
std::string trim_name(std::string_view s);

// The key prefix `value` is filed under in `index` (name, item, id_number,
// phone; the value is normalized here); nullopt when the value is empty
// (nothing is filed under it) or `index` takes no value.
std::optional<std::string> search_part(CaseIndex index, std::string_view value,
                                       const SearchSecret& secret);

}  // namespace liandong::storage
