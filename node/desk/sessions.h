// The desk's logged-in sessions: a random 256-bit token in an HttpOnly,
// SameSite=Strict cookie, and a CSRF token every write must carry. Kept in
// the daemon's memory only: a restart logs everyone out, and a cookie made
// by another node is unknown here.
//
// Thread contract: any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "protocol/records.capnp.h"

namespace liandong::desk {

struct SessionPolicy {
  uint64_t idle_ms = 30 * 60 * 1000;   // no request for this long: logged out
  uint64_t max_ms = 12 * 3600 * 1000;  // logged out this long after login
  std::size_t max_sessions = 1000;     // past it, the oldest is dropped
};

struct Session {
  std::string csrf;  // 64 hex digits
  std::string name, staff_id;
  proto::Role role = proto::Role::AGENT;
  uint64_t created_ms = 0, last_ms = 0;
};

class Sessions {
 public:
  explicit Sessions(SessionPolicy policy = {}) : policy_(policy) {}

  // A new session; returns its token (64 hex digits).
  std::string open(Session s, uint64_t now_ms);
  // The live session of `token` (touched: its idle time starts again).
  std::optional<Session> find(const std::string& token, uint64_t now_ms);
  void close(const std::string& token);
  std::size_t size() const;

 private:
  // Sessions by a hash of their token: a lookup's timing tells nothing of
  // the tokens held.
  static std::string key_of(const std::string& token);
  void expire(uint64_t now_ms);

  SessionPolicy policy_;
  mutable std::mutex mu_;
  std::map<std::string, Session> by_key_;
};

// Constant-time comparison of two tokens.
bool same_token(const std::string& a, const std::string& b);

// 32 random bytes as 64 hex digits.
std::string random_token();

}  // namespace liandong::desk
