// Log lines must not carry what identifies a villager: an 18-character
// resident ID number (居民身份证号码, GB 11643: 17 digits and a check digit
// 0-9 or X) is masked to its region code and last four characters,
// 360723********001X, wherever a log line would hold one (an error that
// quotes a field, a peer's refusal text, a library message).
//
// mask_id_numbers is pure logic; MaskingSink wraps another spdlog sink and
// masks every line before it is written.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/sinks/base_sink.h>

namespace liandong {

// `text` with every ID number in it masked. A run of digits longer than 18
// (or an ID number glued to letters or digits) is left alone: it is not an
// ID number.
std::string mask_id_numbers(std::string_view text);

class MaskingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit MaskingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;
  void set_pattern_(const std::string& pattern) override;
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace liandong
