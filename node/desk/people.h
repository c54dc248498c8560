// The desk's people (docs/DESK.md "People and passwords"): each person the
// roster lists at this node sets a password with a one-time code an
// administrator issues (`liandong desk invite NAME`), then logs in with it.
// Passwords and codes are kept hashed with argon2id (libsodium
// crypto_pwhash_str) in DATA/desk/people.json, never synced.
//
// Wrong passwords slow down and lock (LoginPolicy). Whether the roster
// lists the person here is the caller's check (it needs the store); this
// file knows names and secrets only.
//
// Thread contract: any thread, any process: every change is a
// read-modify-write of the file under an exclusive flock of
// DATA/desk/people.lock, written to a temporary file, synced and renamed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "protocol/status.h"

namespace liandong::desk {

struct LoginPolicy {
  uint32_t slow_after = 3;                       // from this failure on, wait before the next try
  uint32_t lock_after = 5;                       // this many failures in a row lock the account
  uint64_t lock_ms = 30 * 60 * 1000;             // for this long (or until a new code)
  uint64_t max_wait_ms = 60 * 1000;              // the longest wait between tries
  uint64_t code_valid_ms = 72ull * 3600 * 1000;  // a one-time code's life
};

enum class LoginOutcome : uint8_t {
  ok,
  wrong,        // wrong password or code (counted)
  slow_down,    // tried again too soon: not even checked (retry_after_ms)
  locked,       // locked (retry_after_ms until it opens)
  no_password,  // no password set yet: needs a code
};

struct LoginResult {
  LoginOutcome outcome = LoginOutcome::wrong;
  uint64_t retry_after_ms = 0;
  uint32_t failures = 0;     // consecutive failures, after this try
  bool just_locked = false;  // this failure locked the account
};

// Why a new password is not good enough (Chinese, one line), or empty.
std::string password_problem(const std::string& password, const std::string& name);

class People {
 public:
  // `dir` is DATA/desk (made when missing).
  explicit People(std::filesystem::path dir, LoginPolicy policy = {})
      : dir_(std::move(dir)), policy_(policy) {}

  // A new one-time code for `name` (8 letters and digits, shown once as
  // "ABCD-EFGH"); cancels an earlier code and unlocks the account.
  Result<std::string> invite(const std::string& name, uint64_t now_ms) const;

  // Checks `name`'s password. Errors are the file's, not the password's.
  Result<LoginResult> login(const std::string& name, const std::string& password,
                            uint64_t now_ms) const;

  // Sets `name`'s password with its one-time code (used up on success); a
  // wrong code counts as a failed login. invalid: a weak password
  // (password_problem), nothing counted.
  Result<LoginResult> set_password(const std::string& name, const std::string& code,
                                   const std::string& password, uint64_t now_ms) const;

 private:
  std::filesystem::path dir_;
  LoginPolicy policy_;
};

}  // namespace liandong::desk
