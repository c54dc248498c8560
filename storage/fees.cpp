#include "storage/fees.h"

#include <sodium.h>

#include <cstdio>

namespace liandong::storage {

std::string fen_text(int64_t fen) {
  const char* sign = fen < 0 ? "-" : "";
  const uint64_t abs = fen < 0 ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", sign, static_cast<unsigned long long>(abs / 100),
                static_cast<unsigned long long>(abs % 100));
  return buf;
}

std::optional<std::string> fee_amount_problem(int64_t amount, int64_t due, int64_t collected,
                                              std::string_view reason) {
  const int64_t owed = due > collected ? due - collected : 0;
  if (amount == owed) return std::nullopt;
  if (reason.find_first_not_of(" \t") != std::string_view::npos) return std::nullopt;
  if (collected == 0) {
    return "实收金额 " + fen_text(amount) + " 元与收费标准 " + fen_text(due) +
           " 元不符，请用 --reason 说明原因 (amount " + fen_text(amount) +
           " differs from the fee " + fen_text(due) + ": give --reason)";
  }
  return "实收金额 " + fen_text(amount) + " 元与尚应收取的 " + fen_text(owed) + " 元不符（已收 " +
         fen_text(collected) + " 元），请用 --reason 说明原因 (amount " + fen_text(amount) +
         " differs from the " + fen_text(owed) + " still owed: give --reason)";
}

std::string receipt_key(std::string_view origin, std::string_view receipt_no) {
  std::string k(origin);
  if (receipt_no.size() <= kMaxPlainReceipt) {
    k.push_back('\0');
    k.append(receipt_no);
    return k;
  }
  // LMDB keys are at most 511 bytes: a long number is kept by its hash.
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(receipt_no.data()),
                     receipt_no.size(), nullptr, 0);
  k.push_back('\1');
  k.append(reinterpret_cast<const char*>(h), sizeof h);
  return k;
}

}  // namespace liandong::storage
