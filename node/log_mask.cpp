#include "node/log_mask.h"

namespace liandong {

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool word_char(char c) {
  return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

}  // namespace

std::string mask_id_numbers(std::string_view text) {
  constexpr std::size_t kLen = 18, kKeepHead = 6, kKeepTail = 4;
  std::string out(text);
  std::size_t i = 0;
  while (i + kLen <= out.size()) {
    if (!digit(out[i]) || (i > 0 && word_char(out[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    while (i + n < out.size() && digit(out[i + n]))
      ++n;
    std::size_t len = n;
    if (n == kLen - 1 && i + n < out.size() && (out[i + n] == 'X' || out[i + n] == 'x')) len = kLen;
    const bool bounded = i + len == out.size() || !word_char(out[i + len]);
    if (len == kLen && bounded) {
      for (std::size_t j = kKeepHead; j < kLen - kKeepTail; ++j)
        out[i + j] = '*';
    }
    i += std::max<std::size_t>(n, 1);
  }
  return out;
}

void MaskingSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  const std::string masked = mask_id_numbers(payload);
  if (masked == payload) {
    inner_->log(msg);
    return;
  }
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(masked.data(), masked.size());
  inner_->log(copy);
}

void MaskingSink::flush_() {
  inner_->flush();
}

void MaskingSink::set_pattern_(const std::string& pattern) {
  inner_->set_pattern(pattern);
}

void MaskingSink::set_formatter_(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

}  // namespace liandong
