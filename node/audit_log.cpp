#include "node/audit_log.h"

#include <spdlog/spdlog.h>

#include "protocol/event_codec.h"
#include "protocol/hlc.h"

namespace liandong::node {

namespace {

// Audit texts are short (kMaxAuditText): longer ones are cut at a UTF-8
// character boundary.
std::string clip(const std::string& s) {
  constexpr std::size_t kRoom = kMaxAuditText - 16;
  if (s.size() <= kRoom) return s;
  std::size_t n = kRoom;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
    --n;
  return s.substr(0, n) + "…";
}

// Outside text (a ZAP address, a peer's reason) may hold NULs or bad UTF-8:
// those bytes become '?', so the event always validates.
std::string clean(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    bool ok = len > 0 && c != 0 && i + len <= s.size();
    for (std::size_t j = 1; ok && j < len; ++j)
      ok = (static_cast<unsigned char>(s[i + j]) & 0xc0) == 0x80;
    if (ok && len > 1) {
      // Overlong forms, surrogates and code points above U+10FFFF.
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((len == 2 && c < 0xc2) || (len == 3 && c == 0xe0 && c1 < 0xa0) ||
          (len == 3 && c == 0xed && c1 > 0x9f) ||
          (len == 4 && (c > 0xf4 || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))))
        ok = false;
    }
    if (!ok) {
      out += '?';
      ++i;
      continue;
    }
    out.append(s, i, len);
    i += len;
  }
  return clip(out);
}

}  // namespace

bool record_audit(storage::Store& store, const SigningKey& key, const AuditNote& note) {
  const uint64_t now = wall_clock_ms();
  const uint64_t first = note.first_ms != 0 ? note.first_ms : now;
  const uint64_t last = std::max(first, note.last_ms != 0 ? note.last_ms : now);
  storage::LocalDraft draft;
  draft.fill = [&](proto::Event::Builder ev) {
    auto actor = ev.initActor();
    const std::string name = clean(note.actor_name);
    actor.setName(name.empty() ? store.code() : name);
    actor.setRole(name.empty() ? proto::Role::SYSTEM : note.actor_role);
    auto a = ev.getBody().initAudit();
    a.setWhat(note.what);
    if (valid_code(note.peer_code)) a.setPeerCode(note.peer_code);
    a.setWho(clean(note.who));
    a.setSubject(clean(note.subject));
    a.setReason(clean(note.reason));
    a.setCount(std::max<uint32_t>(1, note.count));
    a.setFirstMs(first);
    a.setLastMs(last);
  };
  try {
    auto stored = store.append_local(draft, key);
    if (!stored.ok()) {
      spdlog::debug("audit event not recorded ({}): {}", note.subject, stored.status().message());
      return false;
    }
  } catch (const std::exception& e) {
    spdlog::debug("audit event not recorded ({}): {}", note.subject, e.what());
    return false;
  }
  return true;
}

bool AuditLog::record(const AuditNote& note) {
  if (ready_) return record_audit(store_, key_, note);
  if (held_.size() >= kMaxHeld) {
    spdlog::debug("audit event not recorded ({}): too many held", note.subject);
    return false;
  }
  held_.push_back(note);
  const uint64_t now = wall_clock_ms();
  if (held_.back().first_ms == 0) held_.back().first_ms = now;
  if (held_.back().last_ms == 0) held_.back().last_ms = now;
  return false;
}

bool AuditLog::note(const AuditNote& note_in, Clock::time_point now) {
  AuditNote n = note_in;
  Key k{static_cast<int>(n.what), n.peer_code, n.who, n.group.empty() ? n.reason : n.group};
  auto it = pending_.find(k);
  if (it == pending_.end() && pending_.size() >= kMaxKeys) {
    n.peer_code.clear();
    n.who = "(many)";
    k = Key{static_cast<int>(n.what), "", n.who, n.group.empty() ? n.reason : n.group};
    it = pending_.find(k);
  }
  if (it == pending_.end()) {
    Pending p{now, n};
    p.note.count = 0;
    pending_.emplace(std::move(k), std::move(p));
    return record(n);
  }
  Pending& p = it->second;
  const uint64_t wall = wall_clock_ms();
  if (p.note.count == 0) p.note.first_ms = wall;
  p.note.last_ms = wall;
  p.note.subject = n.subject;  // the latest
  p.note.reason = n.reason;
  ++p.note.count;
  return false;
}

int AuditLog::flush(Clock::time_point now, bool all) {
  int written = 0;
  if (ready_ && !held_.empty()) {
    for (const auto& n : held_)
      written += record_audit(store_, key_, n) ? 1 : 0;
    held_.clear();
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& p = it->second;
    if (!all && now - p.window_start < window_) {
      ++it;
      continue;
    }
    if (p.note.count == 0) {
      it = pending_.erase(it);  // a quiet window: the next one is written at once
      continue;
    }
    if (record(p.note)) ++written;
    p.window_start = now;
    p.note.count = 0;
    ++it;
  }
  return written;
}

}  // namespace liandong::node
