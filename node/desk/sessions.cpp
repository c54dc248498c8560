#include "node/desk/sessions.h"

#include <sodium.h>

#include <array>

#include "protocol/crypto.h"

namespace liandong::desk {

std::string random_token() {
  std::array<uint8_t, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return to_hex(bytes);
}

bool same_token(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Sessions::key_of(const std::string& token) {
  std::array<uint8_t, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

void Sessions::expire(uint64_t now_ms) {
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    const Session& s = it->second;
    const bool dead =
        now_ms >= s.last_ms + policy_.idle_ms || now_ms >= s.created_ms + policy_.max_ms;
    it = dead ? by_key_.erase(it) : std::next(it);
  }
}

std::string Sessions::open(Session s, uint64_t now_ms) {
  const std::string token = random_token();
  s.csrf = random_token();
  s.created_ms = s.last_ms = now_ms;
  std::lock_guard lock(mu_);
  expire(now_ms);
  while (by_key_.size() >= policy_.max_sessions) {
    auto oldest = by_key_.begin();
    for (auto it = by_key_.begin(); it != by_key_.end(); ++it)
      if (it->second.last_ms < oldest->second.last_ms) oldest = it;
    by_key_.erase(oldest);
  }
  by_key_[key_of(token)] = std::move(s);
  return token;
}

std::optional<Session> Sessions::find(const std::string& token, uint64_t now_ms) {
  if (token.size() != 64) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key_of(token));
  if (it == by_key_.end()) return std::nullopt;
  Session& s = it->second;
  if (now_ms >= s.last_ms + policy_.idle_ms || now_ms >= s.created_ms + policy_.max_ms) {
    by_key_.erase(it);
    return std::nullopt;
  }
  s.last_ms = now_ms;
  return s;
}

void Sessions::close(const std::string& token) {
  std::lock_guard lock(mu_);
  by_key_.erase(key_of(token));
}

std::size_t Sessions::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

}  // namespace liandong::desk
