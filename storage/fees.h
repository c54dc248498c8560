// Fees (代收费): the amount collected against the fee due, and the
// receipt index key.
//
// A fee collected at this node must equal what the case still owes (its
// fee due less what was collected already) unless a reason is given; a
// receipt number is used once per issuing node (Store::append_local keeps
// the `receipts` index). Events received from other nodes are never
// refused for either: older nodes made them without these checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace liandong::storage {

// "30.00" for 3000 fen.
std::string fen_text(int64_t fen);

// Why `amount` (fen) may not be collected on a case owing `due` with
// `collected` already taken, given `reason`; nullopt when it may. The
// reason is needed when the amount differs from what is still owed.
std::optional<std::string> fee_amount_problem(int64_t amount, int64_t due, int64_t collected,
                                              std::string_view reason);

// The `receipts` key of a receipt number issued by `origin`:
// origin ‖ 0x00 ‖ receipt number, or for a number longer than
// kMaxPlainReceipt bytes origin ‖ 0x01 ‖ BLAKE2b-256(receipt number).
constexpr std::size_t kMaxPlainReceipt = 256;
std::string receipt_key(std::string_view origin, std::string_view receipt_no);

}  // namespace liandong::storage
