#include "node/desk/people.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

namespace liandong::desk {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// argon2id hashing takes 64 MiB and ~0.1 s: one at a time per process, so a
// burst of logins cannot exhaust memory.
std::mutex g_hash_mutex;

Result<std::string> hash_secret(const std::string& secret) {
  std::lock_guard lock(g_hash_mutex);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, secret.data(), secret.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::internal("密码哈希失败（内存不足）");
  return std::string(out);
}

bool verify_secret(const std::string& hash, const std::string& secret) {
  if (hash.empty()) return false;
  std::lock_guard lock(g_hash_mutex);
  return crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0;
}

// Holds DATA/desk/people.lock exclusively for its lifetime.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Status ensure_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::internal("无法建立目录 " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return Status::ok();
}

Result<json> read_people(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return json{{"version", 1}, {"people", json::object()}};
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("people") || !j["people"].is_object())
    return Status::corruption("人员密码文件已损坏: " + file.string());
  return j;
}

Status write_people(const fs::path& file, const json& j) {
  const fs::path tmp = file.string() + ".tmp";
  const std::string text = j.dump(2) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::internal("无法写入 " + tmp.string());
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::no_space("无法写入 " + tmp.string() + "（磁盘已满？）");
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::internal("无法保存 " + file.string());
  }
  return Status::ok();
}

uint64_t get_u64(const json& p, const char* key) {
  auto it = p.find(key);
  return it != p.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}
std::string get_str(const json& p, const char* key) {
  auto it = p.find(key);
  return it != p.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The code as a person types it: letters upper-cased, dashes and spaces out.
std::string normal_code(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

}  // namespace

std::string password_problem(const std::string& password, const std::string& name) {
  std::size_t chars = 0;
  for (unsigned char c : password)
    chars += (c & 0xC0) != 0x80 ? 1 : 0;
  if (chars < 8) return "密码至少 8 位";
  if (password.size() > 128) return "密码不能超过 128 个字节";
  if (std::all_of(password.begin(), password.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "密码不能全是数字，请加入字母";
  if (!name.empty() && password.find(name) != std::string::npos) return "密码不能包含本人姓名";
  return {};
}

namespace {

// One read-modify-write of the people file under its lock; `change` edits
// the person's entry and says whether to write it back.
template <typename T>
Result<T> with_person(const fs::path& dir, const std::string& name,
                      const std::function<Result<T>(json& person, bool& write)>& change) {
  if (auto s = ensure_dir(dir); !s) return s;
  FileLock lock(dir / "people.lock");
  if (!lock.ok()) return Status::internal("无法锁定 " + (dir / "people.lock").string());
  auto all = read_people(dir / "people.json");
  if (!all.ok()) return all.status();
  json& people = (*all)["people"];
  const bool existed = people.contains(name);
  json& person = people[name];
  if (!person.is_object()) person = json::object();
  bool write = false;
  auto r = change(person, write);
  if (!write) return r;
  if (!existed && person.empty()) people.erase(name);
  if (auto s = write_people(dir / "people.json", *all); !s) return s;
  return r;
}

// A failure counted against `person`: the result, with the account locked
// once the failures reach the policy's limit.
LoginResult count_failure(json& person, const LoginPolicy& policy, uint64_t now_ms) {
  LoginResult r;
  r.outcome = LoginOutcome::wrong;
  r.failures = static_cast<uint32_t>(get_u64(person, "failures")) + 1;
  person["failures"] = r.failures;
  person["last_failure_ms"] = now_ms;
  if (r.failures >= policy.lock_after) {
    person["locked_until_ms"] = now_ms + policy.lock_ms;
    person["failures"] = 0;
    r.just_locked = true;
    r.outcome = LoginOutcome::locked;
    r.retry_after_ms = policy.lock_ms;
  }
  return r;
}

// Whether `person` may try now: nullopt, or the locked / slow-down answer.
std::optional<LoginResult> gate(const json& person, const LoginPolicy& policy, uint64_t now_ms) {
  const uint64_t locked_until = get_u64(person, "locked_until_ms");
  if (locked_until > now_ms) {
    LoginResult r;
    r.outcome = LoginOutcome::locked;
    r.retry_after_ms = locked_until - now_ms;
    return r;
  }
  const uint64_t failures = get_u64(person, "failures");
  if (failures >= policy.slow_after) {
    const uint64_t wait = std::min<uint64_t>(
        policy.max_wait_ms,
        uint64_t{1000} << std::min<uint64_t>(failures - policy.slow_after + 1, 16));
    const uint64_t next = get_u64(person, "last_failure_ms") + wait;
    if (next > now_ms) {
      LoginResult r;
      r.outcome = LoginOutcome::slow_down;
      r.retry_after_ms = next - now_ms;
      r.failures = static_cast<uint32_t>(failures);
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> People::invite(const std::string& name, uint64_t now_ms) const {
  // 31 letters and digits that cannot be mistaken for one another.
  static constexpr char kAlphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  std::string code;
  for (int i = 0; i < 8; ++i)
    code += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  auto hash = hash_secret(code);
  if (!hash.ok()) return hash.status();
  const LoginPolicy policy = policy_;
  return with_person<std::string>(dir_, name,
                                  [&](json& person, bool& write) -> Result<std::string> {
                                    person["code_hash"] = *hash;
                                    person["code_expires_ms"] = now_ms + policy.code_valid_ms;
                                    person["failures"] = 0;
                                    person["locked_until_ms"] = 0;
                                    write = true;
                                    return code.substr(0, 4) + "-" + code.substr(4);
                                  });
}

Result<LoginResult> People::login(const std::string& name, const std::string& password,
                                  uint64_t now_ms) const {
  const LoginPolicy policy = policy_;
  return with_person<LoginResult>(dir_, name,
                                  [&](json& person, bool& write) -> Result<LoginResult> {
                                    if (auto g = gate(person, policy, now_ms)) return *g;
                                    const std::string hash = get_str(person, "hash");
                                    if (hash.empty() && !get_str(person, "code_hash").empty()) {
                                      LoginResult r;
                                      r.outcome = LoginOutcome::no_password;
                                      return r;
                                    }
                                    write = true;
                                    if (!verify_secret(hash, password))
                                      return count_failure(person, policy, now_ms);
                                    person["failures"] = 0;
                                    person["last_login_ms"] = now_ms;
                                    LoginResult r;
                                    r.outcome = LoginOutcome::ok;
                                    return r;
                                  });
}

Result<LoginResult> People::set_password(const std::string& name, const std::string& code,
                                         const std::string& password, uint64_t now_ms) const {
  if (auto problem = password_problem(password, name); !problem.empty())
    return Status::invalid(problem);
  auto hash = hash_secret(password);
  if (!hash.ok()) return hash.status();
  const LoginPolicy policy = policy_;
  return with_person<LoginResult>(dir_, name,
                                  [&](json& person, bool& write) -> Result<LoginResult> {
                                    if (auto g = gate(person, policy, now_ms)) return *g;
                                    write = true;
                                    const std::string code_hash = get_str(person, "code_hash");
                                    const bool fresh = get_u64(person, "code_expires_ms") > now_ms;
                                    if (!fresh || !verify_secret(code_hash, normal_code(code)))
                                      return count_failure(person, policy, now_ms);
                                    person["hash"] = *hash;
                                    person.erase("code_hash");
                                    person.erase("code_expires_ms");
                                    person["failures"] = 0;
                                    person["last_login_ms"] = now_ms;
                                    LoginResult r;
                                    r.outcome = LoginOutcome::ok;
                                    return r;
                                  });
}

}  // namespace liandong::desk
