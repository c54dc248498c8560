#include "node/sync/abuse.h"

#include <algorithm>
#include <cstdio>

namespace liandong::sync {

std::string claimed_code(std::string_view routing_id) {
  const auto slash = routing_id.find('/');
  return std::string(routing_id.substr(0, slash));
}

std::string printable(std::string_view text) {
  std::string out;
  const std::size_t n = std::min<std::size_t>(text.size(), 64);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (text.size() > n) out += "...";
  return out;
}

std::string make_routing_id(const std::string& code, uint64_t nonce) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
  return code + "/" + hex;
}

bool AbuseLedger::charge(const std::string& code, TimePoint now) {
  Entry& e = entries_[code];
  if (now < e.banned_until) return false;  // already dropped
  if (e.count == 0 || now - e.window_start > limits_.window) {
    e.window_start = now;
    e.count = 0;
  }
  if (++e.count < limits_.limit) return false;
  e.count = 0;
  e.banned_until = now + limits_.ban;
  return true;
}

bool AbuseLedger::banned(const std::string& code, TimePoint now) const {
  auto it = entries_.find(code);
  return it != entries_.end() && now < it->second.banned_until;
}

int AbuseLedger::count(const std::string& code, TimePoint now) const {
  auto it = entries_.find(code);
  if (it == entries_.end() || now < it->second.banned_until) return 0;
  if (now - it->second.window_start > limits_.window) return 0;
  return it->second.count;
}

void LogLimiter::close_window(const std::string& kind, Window& w) {
  if (w.suppressed > 0) {
    spdlog::warn("{}: {} more suppressed in the last {} s", kind, w.suppressed,
                 window_.count() / 1000);
  }
  w = Window{};
}

bool LogLimiter::allow(std::string_view kind, TimePoint now) {
  auto it = windows_.find(kind);
  if (it == windows_.end()) it = windows_.emplace(std::string(kind), Window{}).first;
  Window& w = it->second;
  if (w.written > 0 && now - w.start >= window_) close_window(it->first, w);
  if (w.written == 0) w.start = now;
  if (w.written < lines_) {
    ++w.written;
    return true;
  }
  ++w.suppressed;
  ++suppressed_total_;
  return false;
}

void LogLimiter::flush(TimePoint now) {
  for (auto& [kind, w] : windows_) {
    if (w.written > 0 && now - w.start >= window_) close_window(kind, w);
  }
}

}  // namespace liandong::sync
