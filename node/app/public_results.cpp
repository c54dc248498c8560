#include "node/app/public_results.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "node/render.h"
#include "protocol/crypto.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"
#include "storage/case_index.h"

namespace liandong::app {

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// The length of the UTF-8 character at `s[0]`, or 0 when it is not one.
std::size_t utf8_char_len(std::string_view s) {
  if (s.empty()) return 0;
  const auto b = static_cast<unsigned char>(s[0]);
  std::size_t n = b < 0x80             ? 1
                  : (b & 0xE0) == 0xC0 ? 2
                  : (b & 0xF0) == 0xE0 ? 3
                  : (b & 0xF8) == 0xF0 ? 4
                                       : 0;
  if (n == 0 || n > s.size()) return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  return n;
}

std::string date_of(uint64_t hlc) {
  return hlc == 0 ? std::string() : node::format_time(hlc_ms(hlc)).substr(0, 10);
}

std::string tag_of(const Id& id, std::string_view key) {
  const std::string text = format_id(id);
  std::array<unsigned char, crypto_generichash_BYTES_MIN> h{};
  const bool keyed = key.size() >= crypto_generichash_KEYBYTES_MIN &&
                     key.size() <= crypto_generichash_KEYBYTES_MAX;
  crypto_generichash(
      h.data(), h.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
      keyed ? reinterpret_cast<const unsigned char*>(key.data()) : nullptr, keyed ? key.size() : 0);
  return to_hex(std::string_view(reinterpret_cast<const char*>(h.data()), 8));
}

}  // namespace

std::string mask_person_name(std::string_view name) {
  // Spaces before the name, ASCII or 全角 (U+3000).
  for (;;) {
    if (!name.empty() && (name[0] == ' ' || name[0] == '\t')) {
      name.remove_prefix(1);
    } else if (name.substr(0, 3) == "\xE3\x80\x80") {
      name.remove_prefix(3);
    } else {
      break;
    }
  }
  const std::size_t n = utf8_char_len(name);
  if (n == 0) return "*";
  const auto b = static_cast<unsigned char>(name[0]);
  // A name that starts with a digit or a sign is no name: nothing of it shown.
  if (n == 1 && !((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z'))) return "*";
  return std::string(name.substr(0, n)) + "*";
}

std::string public_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (!digit(c)) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x20 && u != 0x7f) out.push_back(c);
      ++i;
      continue;
    }
    // A group of digits, a single space or hyphen between two digits
    // joining them ("138 0013 8000", "0797-8722345").
    std::size_t end = i, count = 0;
    while (end < text.size()) {
      if (digit(text[end])) {
        ++count;
        ++end;
      } else if ((text[end] == ' ' || text[end] == '-') && end + 1 < text.size() &&
                 digit(text[end + 1])) {
        ++end;
      } else {
        break;
      }
    }
    // The check character of an ID number.
    if (count == 17 && end < text.size() && (text[end] == 'X' || text[end] == 'x')) {
      ++count;
      ++end;
    }
    const bool hide = count >= 15 || (count >= 11 && c != '0');
    for (std::size_t j = i; j < end; ++j) {
      const char d = text[j];
      out.push_back(hide && d != ' ' && d != '-' ? '*' : d);
    }
    i = end;
  }
  return out;
}

const char* outcome_name(PublicOutcome o) {
  switch (o) {
    case PublicOutcome::approved:
      return "approved";
    case PublicOutcome::refused:
      return "refused";
    case PublicOutcome::answered:
      return "answered";
    case PublicOutcome::not_accepted:
      return "not_accepted";
  }
  return "";
}

const char* outcome_name_zh(PublicOutcome o) {
  switch (o) {
    case PublicOutcome::approved:
      return "准予";
    case PublicOutcome::refused:
      return "不予许可";
    case PublicOutcome::answered:
      return "已答复";
    case PublicOutcome::not_accepted:
      return "不予受理";
  }
  return "";
}

std::optional<PublicCase> public_case(const storage::CaseState& st,
                                      const storage::Divisions* places, bool consult,
                                      std::string_view key) {
  using S = storage::CaseStatus;
  if (st.conflict) return std::nullopt;
  PublicCase c;
  uint64_t at = 0;
  if (st.status == S::not_accepted) {
    c.outcome = PublicOutcome::not_accepted;
    at = st.closed_hlc;
  } else if ((st.status == S::decided || st.status == S::delivered || st.status == S::closed) &&
             st.has_decision) {
    at = st.decided_hlc;
    c.outcome = !st.approved ? PublicOutcome::refused
                : consult    ? PublicOutcome::answered
                             : PublicOutcome::approved;
  } else {
    return std::nullopt;
  }
  if (at == 0) return std::nullopt;
  c.decided_ms = hlc_ms(at);
  c.tag = tag_of(st.case_id, key);
  c.applicant = mask_person_name(st.applicant_name);
  c.item_code = public_text(st.item_code);
  c.item_name = public_text(st.item_name);
  c.home_name = public_text(node::place_name(places, st.home));
  c.home_label = node::home_label_zh(st.home);
  c.accepted_date = public_text(date_of(st.accepted_hlc));
  c.decided_date = public_text(date_of(at));
  if (c.outcome != PublicOutcome::not_accepted && !st.due_date.empty())
    c.on_time = c.decided_date <= st.due_date;
  return c;
}

bool newer(const PublicCase& a, const PublicCase& b) {
  if (a.decided_ms != b.decided_ms) return a.decided_ms > b.decided_ms;
  return a.tag > b.tag;
}

Result<std::vector<PublicCase>> list_public_cases(const storage::Store& store,
                                                  const storage::Divisions* places,
                                                  const storage::Catalog* catalog,
                                                  std::string_view key) {
  using S = storage::CaseStatus;
  std::vector<PublicCase> rows;
  // Kept to the newest kMaxPublicCases as it grows: memory is bounded by
  // twice that, whatever the store holds.
  auto trim = [&rows] {
    std::sort(rows.begin(), rows.end(), newer);
    if (rows.size() > kMaxPublicCases) rows.resize(kMaxPublicCases);
  };
  for (S s : {S::decided, S::delivered, S::closed, S::not_accepted}) {
    const std::string part(1, static_cast<char>(static_cast<uint8_t>(s)));
    Status st = store.visit_cases(
        storage::CaseIndex::status, part, std::nullopt, [&](storage::CaseState&& cs) {
          const storage::CatalogItem* item = catalog ? catalog->find(cs.item_code) : nullptr;
          const bool consult = item && item->handling == storage::Handling::consult;
          if (auto row = public_case(cs, places, consult, key)) rows.push_back(std::move(*row));
          if (rows.size() >= 2 * kMaxPublicCases) trim();
          return true;
        });
    if (!st) return st;
  }
  trim();
  return rows;
}

std::string public_cursor(const PublicCase& c) {
  return std::to_string(c.decided_ms) + "-" + c.tag;
}

std::optional<PublicCursor> parse_public_cursor(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 15 || text.size() != dash + 17)
    return std::nullopt;
  PublicCursor c;
  for (std::size_t i = 0; i < dash; ++i) {
    if (!digit(text[i])) return std::nullopt;
    c.decided_ms = c.decided_ms * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  for (char h : text.substr(dash + 1))
    if (!digit(h) && !(h >= 'a' && h <= 'f')) return std::nullopt;
  c.tag = std::string(text.substr(dash + 1));
  return c;
}

PublicPage public_page(const std::vector<PublicCase>& all,
                       const std::optional<PublicCursor>& before, std::size_t limit) {
  auto from = all.begin();
  if (before) {
    PublicCase mark;
    mark.decided_ms = before->decided_ms;
    mark.tag = before->tag;
    // The rows as new as the cursor or newer come first: skipped.
    from = std::partition_point(all.begin(), all.end(),
                                [&mark](const PublicCase& r) { return !newer(mark, r); });
  }
  PublicPage page;
  const auto left = static_cast<std::size_t>(all.end() - from);
  const std::size_t n = std::min(left, limit);
  page.rows.assign(from, from + static_cast<std::ptrdiff_t>(n));
  page.more = left > n;
  return page;
}

}  // namespace liandong::app
