#include "protocol/event_codec.h"

#include "protocol/hlc.h"

#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstring>

namespace liandong {

namespace {

kj::Array<capnp::word> aligned_copy(std::string_view bytes) {
  auto words = kj::heapArray<capnp::word>((bytes.size() + 7) / 8);
  if (!bytes.empty()) {
    std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
    std::memcpy(words.begin(), bytes.data(), bytes.size());
  }
  return words;
}

std::string_view as_view(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}

enum class TextCheck { ok, bad_utf8, nul };

// One pass over text: well-formed UTF-8 (RFC 3629: no overlong forms, no
// UTF-16 surrogates, nothing above U+10FFFF) and no NUL. Runs of ASCII go
// eight bytes at a time; the three-byte sequences of Chinese text have a
// path of their own.
TextCheck check_text(const unsigned char* s, std::size_t n) {
  constexpr uint64_t kHigh = 0x8080808080808080ULL, kOnes = 0x0101010101010101ULL;
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & kHigh) == 0) {
        if (((w - kOnes) & ~w & kHigh) != 0) return TextCheck::nul;
        i += 8;
        continue;
      }
    }
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c == 0) return TextCheck::nul;
      ++i;
      continue;
    }
    if ((c & 0xf0) == 0xe0 && i + 2 < n) {
      const unsigned char c1 = s[i + 1], c2 = s[i + 2];
      if ((c1 & 0xc0) != 0x80 || (c2 & 0xc0) != 0x80) return TextCheck::bad_utf8;
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f)) return TextCheck::bad_utf8;
      i += 3;
      continue;
    }
    const std::size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return TextCheck::bad_utf8;
    for (std::size_t j = 1; j < len; ++j) {
      if ((s[i + j] & 0xc0) != 0x80) return TextCheck::bad_utf8;
    }
    const unsigned char c1 = s[i + 1];
    if (c < 0xc2 || c > 0xf4) return TextCheck::bad_utf8;
    if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) return TextCheck::bad_utf8;
    i += len;
  }
  return TextCheck::ok;
}

Status text_ok(capnp::Text::Reader t, const char* what, bool required = false) {
  if (t.size() > kMaxText) return Status::invalid(std::string(what) + " is too long");
  if (required && t.size() == 0) return Status::invalid(std::string(what) + " is required");
  switch (check_text(reinterpret_cast<const unsigned char*>(t.begin()), t.size())) {
    case TextCheck::ok:
      return Status::ok();
    case TextCheck::bad_utf8:
      return Status::invalid(std::string(what) + " is not valid UTF-8");
    case TextCheck::nul:
      // C strings, logs and the case cache would cut it.
      return Status::invalid(std::string(what) + " contains a NUL character");
  }
  return Status::ok();
}

bool date_ok(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

template <typename List>
Status list_ok(List l, const char* what) {
  if (l.size() > kMaxListItems) return Status::invalid(std::string(what) + " has too many items");
  return Status::ok();
}

Status materials_ok(capnp::List<proto::Material>::Reader ms, const char* what) {
  if (auto s = list_ok(ms, what); !s) return s;
  for (auto m : ms) {
    if (auto s = text_ok(m.getName(), "material name", true); !s) return s;
  }
  return Status::ok();
}

Status attachments_ok(capnp::List<proto::AttachmentRef>::Reader as) {
  if (auto s = list_ok(as, "attachments"); !s) return s;
  for (auto a : as) {
    if (a.getSha256().size() != 32) return Status::invalid("attachment sha256 must be 32 bytes");
    if (a.getSize() == 0 || a.getSize() > kMaxAttachmentBytes)
      return Status::invalid("attachment size must be 1 byte to 64 MiB");
    if (a.getChunks().size() != chunk_count(a.getSize()))
      return Status::invalid("attachment chunk list does not match its size");
    for (auto c : a.getChunks())
      if (c.size() != 32) return Status::invalid("attachment chunk hash must be 32 bytes");
    if (auto s = text_ok(a.getName(), "attachment name"); !s) return s;
    if (auto s = text_ok(a.getMediaType(), "attachment media type", true); !s) return s;
    if (auto s = text_ok(a.getMaterial(), "attachment material"); !s) return s;
  }
  return Status::ok();
}

Status audit_text_ok(capnp::Text::Reader t, const char* what, bool required = false) {
  if (t.size() > kMaxAuditText) return Status::invalid(std::string(what) + " is too long");
  return text_ok(t, what, required);
}

Status audit_ok(proto::Audit::Reader a) {
  if (static_cast<uint16_t>(a.getWhat()) > static_cast<uint16_t>(proto::AuditWhat::ENROLL_REFUSED))
    return Status::invalid("audit: unknown kind of happening (written by a newer schema?)");
  auto code = a.getPeerCode();
  if (code.size() != 0 && !valid_code(std::string_view(code.begin(), code.size())))
    return Status::invalid("audit: peer code is not a division code");
  if (auto s = audit_text_ok(a.getWho(), "audit: who"); !s) return s;
  if (auto s = audit_text_ok(a.getSubject(), "audit: subject"); !s) return s;
  if (auto s = audit_text_ok(a.getReason(), "audit: reason"); !s) return s;
  if (a.getCount() == 0) return Status::invalid("audit: count must be at least 1");
  if (a.getFirstMs() == 0 || a.getLastMs() < a.getFirstMs())
    return Status::invalid("audit: first and last time are missing or out of order");
  return Status::ok();
}

Status document_ok(capnp::Data::Reader doc) {
  if (doc.size() > kMaxEventBytes) return Status::invalid("broadcast document is too large");
  return Status::ok();
}

Status keys_published_ok(proto::Event::Reader ev) {
  auto origin = ev.getId().getOrigin();
  const std::string_view issuer(origin.begin(), origin.size());
  if (issuer.size() > 6)
    return Status::invalid("key directory: only a county (or above) publishes keys, not " +
                           std::string(issuer));
  auto entries = ev.getBody().getKeysPublished().getEntries();
  if (auto s = list_ok(entries, "key directory entries"); !s) return s;
  if (entries.size() == 0) return Status::invalid("key directory: no entries");
  for (auto e : entries) {
    const std::string_view code(e.getCode().begin(), e.getCode().size());
    if (!valid_code(code)) return Status::invalid("key directory: an entry's code is malformed");
    if (!within(code, issuer))
      return Status::invalid("key directory: " + std::string(code) + " is outside " +
                             std::string(issuer));
    if (e.getKey().size() != 32) return Status::invalid("key directory: keys must be 32 bytes");
    if (static_cast<uint16_t>(e.getState()) > static_cast<uint16_t>(proto::KeyState::REVOKED))
      return Status::invalid("key directory: unknown key state (written by a newer schema?)");
    if (auto s = audit_text_ok(e.getReason(), "key directory: reason"); !s) return s;
  }
  return Status::ok();
}

Status body_ok(proto::Event::Reader ev) {
  auto body = ev.getBody();
  switch (body.which()) {
    case proto::Event::Body::SUBMITTED: {
      auto b = body.getSubmitted();
      auto a = b.getApplicant();
      if (auto s = text_ok(a.getName(), "applicant name", true); !s) return s;
      if (auto s = text_ok(a.getIdNumber(), "applicant ID number"); !s) return s;
      if (auto s = text_ok(a.getPhone(), "applicant phone"); !s) return s;
      if (auto s = text_ok(a.getAddress(), "applicant address"); !s) return s;
      if (auto s = text_ok(b.getItemCode(), "item code", true); !s) return s;
      if (auto s = text_ok(b.getItemName(), "item name"); !s) return s;
      if (auto s = text_ok(b.getSummary(), "summary"); !s) return s;
      if (auto s = list_ok(b.getFields(), "form fields"); !s) return s;
      for (auto f : b.getFields()) {
        if (auto s = text_ok(f.getKey(), "form field name", true); !s) return s;
        if (auto s = text_ok(f.getValue(), "form field value"); !s) return s;
      }
      if (auto s = materials_ok(b.getMaterials(), "materials"); !s) return s;
      if (auto s = attachments_ok(b.getAttachments()); !s) return s;
      if (b.getFeeDue() < 0) return Status::invalid("fee due is negative");
      return Status::ok();
    }
    case proto::Event::Body::ACCEPTED: {
      // The due date keys the by_due index: "YYYY-MM-DD" or empty, nothing else.
      auto due = body.getAccepted().getDueDate();
      if (due.size() != 0 && !date_ok(std::string_view(due.begin(), due.size())))
        return Status::invalid("accepted: due date must be YYYY-MM-DD");
      return text_ok(body.getAccepted().getNote(), "note");
    }
    case proto::Event::Body::SUPPLEMENT_REQUESTED: {
      auto b = body.getSupplementRequested();
      if (b.getMissing().size() == 0)
        return Status::invalid("a supplement request lists no material");
      if (auto s = text_ok(b.getNote(), "note"); !s) return s;
      return materials_ok(b.getMissing(), "missing materials");
    }
    case proto::Event::Body::SUPPLEMENTED: {
      auto b = body.getSupplemented();
      if (auto s = text_ok(b.getNote(), "note"); !s) return s;
      if (auto s = materials_ok(b.getProvided(), "provided materials"); !s) return s;
      return attachments_ok(b.getAttachments());
    }
    case proto::Event::Body::ESCALATED: {
      auto to = body.getEscalated().getTo();
      if (!valid_code(std::string_view(to.begin(), to.size())))
        return Status::invalid("escalated: 'to' is not a division code");
      return text_ok(body.getEscalated().getNote(), "note");
    }
    case proto::Event::Body::ASSIGNED: {
      auto d = body.getAssigned().getDepartments();
      if (d.size() == 0) return Status::invalid("assigned: no department");
      if (auto s = list_ok(d, "departments"); !s) return s;
      for (auto t : d) {
        if (auto s = text_ok(t, "department", true); !s) return s;
      }
      return text_ok(body.getAssigned().getNote(), "note");
    }
    case proto::Event::Body::OPINION:
      if (auto s = text_ok(body.getOpinion().getText(), "opinion"); !s) return s;
      return text_ok(body.getOpinion().getDepartment(), "department", true);
    case proto::Event::Body::DECIDED: {
      auto d = body.getDecided();
      if (auto s = text_ok(d.getReason(), "reason", !d.getApproved()); !s) return s;
      if (auto s = text_ok(d.getCertificateNo(), "certificate number"); !s) return s;
      if (auto s = attachments_ok(d.getAttachments()); !s) return s;
      return text_ok(d.getLegalBasis(), "legal basis");
    }
    case proto::Event::Body::DELIVERED:
      if (auto s = text_ok(body.getDelivered().getMethod(), "delivery method"); !s) return s;
      return text_ok(body.getDelivered().getNote(), "note");
    case proto::Event::Body::RATED: {
      auto r = body.getRated();
      if (r.getScore() < 1 || r.getScore() > 5) return Status::invalid("rating must be 1 to 5");
      if (auto s = text_ok(r.getChannel(), "rating channel"); !s) return s;
      if (auto s = list_ok(r.getReasons(), "rating reasons"); !s) return s;
      for (auto t : r.getReasons()) {
        if (auto s = text_ok(t, "rating reason", true); !s) return s;
      }
      return text_ok(r.getComment(), "rating comment");
    }
    case proto::Event::Body::FEE_COLLECTED: {
      auto f = body.getFeeCollected();
      if (f.getAmount() <= 0) return Status::invalid("fee collected must be positive");
      return text_ok(f.getReceiptNo(), "receipt number", true);
    }
    case proto::Event::Body::CLOSED:
      return text_ok(body.getClosed().getNote(), "note");
    case proto::Event::Body::WITHDRAWN:
      return text_ok(body.getWithdrawn().getReason(), "reason");
    case proto::Event::Body::COMMENT:
      return text_ok(body.getComment().getText(), "comment", true);
    case proto::Event::Body::COMPLAINT: {
      auto c = body.getComplaint();
      if (auto s = text_ok(c.getAgainst(), "complained-about code"); !s) return s;
      if (auto s = text_ok(c.getDepartment(), "complaint department"); !s) return s;
      if (auto s = text_ok(c.getPerson(), "complaint person"); !s) return s;
      if (auto s = text_ok(c.getChannel(), "complaint channel"); !s) return s;
      if (auto s = text_ok(c.getComplainant(), "complainant"); !s) return s;
      if (auto s = text_ok(c.getPhone(), "complainant phone"); !s) return s;
      auto due = c.getDueDate();
      if (due.size() != 0 && !date_ok(std::string_view(due.begin(), due.size())))
        return Status::invalid("complaint: due date must be YYYY-MM-DD");
      return text_ok(c.getText(), "complaint", true);
    }
    case proto::Event::Body::SUPERVISED: {
      auto o = body.getSupervised();
      auto due = o.getDueDate();
      if (!date_ok(std::string_view(due.begin(), due.size())))
        return Status::invalid("supervision order: due date must be YYYY-MM-DD");
      auto holder = o.getHolder();
      if (holder.size() != 0 && !valid_code(std::string_view(holder.begin(), holder.size())))
        return Status::invalid("supervision order: holder is not a division code");
      return text_ok(o.getNote(), "supervision note", true);
    }
    case proto::Event::Body::ANSWERED: {
      auto a = body.getAnswered();
      if (!a.hasAbout() || a.getAbout().getOrigin().size() == 0 || a.getAbout().getSeq() == 0)
        return Status::invalid("answer: names no event");
      if (a.getScore() > 5) return Status::invalid("answer: a revisit score is 0 to 5");
      return text_ok(a.getText(), "answer", true);
    }
    case proto::Event::Body::REPLIED:
      return text_ok(body.getReplied().getText(), "reply", true);
    // A document's pointer is read here, so one of the wrong type is refused
    // now (the reader throws) instead of when a command reads it.
    case proto::Event::Body::CATALOG_PUBLISHED:
      return document_ok(body.getCatalogPublished().getDocument());
    case proto::Event::Body::CALENDAR_PUBLISHED:
      return document_ok(body.getCalendarPublished().getDocument());
    case proto::Event::Body::AUDIT:
      return audit_ok(body.getAudit());
    case proto::Event::Body::KEY_ROTATED: {
      auto r = body.getKeyRotated();
      if (r.getOldKey().size() != 32 || r.getNewKey().size() != 32)
        return Status::invalid("key rotation: keys must be 32 bytes");
      if (r.getProof().size() != 64) return Status::invalid("key rotation: proof must be 64 bytes");
      if (r.getOldKey() == r.getNewKey())
        return Status::invalid("key rotation: the new key is the old one");
      return Status::ok();
    }
    case proto::Event::Body::KEYS_PUBLISHED:
      return keys_published_ok(ev);
    case proto::Event::Body::ROSTER_PUBLISHED:
      if (ev.getId().getOrigin().size() > 6)
        return Status::invalid("staff roster: only a county (or above) publishes it");
      if (body.getRosterPublished().getVersion() == 0)
        return Status::invalid("staff roster: version must be at least 1");
      return document_ok(body.getRosterPublished().getDocument());
    case proto::Event::Body::NOT_ACCEPTED: {
      auto n = body.getNotAccepted();
      if (auto s = text_ok(n.getReason(), "reason", true); !s) return s;
      return text_ok(n.getLegalBasis(), "legal basis");
    }
    case proto::Event::Body::DIVISIONS_PUBLISHED:
      if (ev.getId().getOrigin().size() > 6)
        return Status::invalid("division table: only a county (or above) publishes it");
      if (body.getDivisionsPublished().getVersion() == 0)
        return Status::invalid("division table: version must be at least 1");
      return document_ok(body.getDivisionsPublished().getDocument());
    case proto::Event::Body::RECEIVED: {
      auto r = body.getReceived();
      if (!r.hasEvent() || r.getEvent().getOrigin().size() == 0)
        return Status::invalid("receipt: names no event");
      if (ev.getActor().getRole() != proto::Role::SYSTEM)
        return Status::invalid("receipt: only the node itself records one (actor: system)");
      return Status::ok();
    }
    case proto::Event::Body::HELD31:
      break;
  }
  return Status::invalid("unknown event kind (written by a newer schema?)");
}

}  // namespace

const char* kind_name(EventKind k) {
  static const char* names[] = {"submitted",
                                "accepted",
                                "supplement_requested",
                                "supplemented",
                                "escalated",
                                "assigned",
                                "opinion",
                                "decided",
                                "delivered",
                                "rated",
                                "fee_collected",
                                "closed",
                                "withdrawn",
                                "comment",
                                "complaint",
                                "replied",
                                "catalog_published",
                                "calendar_published",
                                "audit",
                                "key_rotated",
                                "keys_published",
                                "roster_published",
                                "not_accepted",
                                "divisions_published",
                                "received",
                                "supervised",
                                "answered"};
  return names[static_cast<int>(k)];
}

const char* kind_name_zh(EventKind k) {
  static const char* names[] = {
      "申请登记", "受理",     "补正告知",     "补正材料",     "上报",         "分派",
      "部门意见", "办结",     "结果送达",     "评价",         "代收费",       "销号",
      "撤回",     "备注",     "投诉",         "答复",         "事项目录发布", "工作日历发布",
      "审计",     "密钥轮换", "密钥目录发布", "人员名册发布", "不予受理",     "区划表发布",
      "已接收",   "督办",     "答复"};
  return names[static_cast<int>(k)];
}

std::optional<EventKind> kind_from_body(proto::Event::Body::Which w) {
  if (w == proto::Event::Body::NOT_ACCEPTED) return EventKind::not_accepted;
  if (w == proto::Event::Body::DIVISIONS_PUBLISHED) return EventKind::divisions_published;
  if (w == proto::Event::Body::RECEIVED) return EventKind::received;
  if (w == proto::Event::Body::SUPERVISED) return EventKind::supervised;
  if (w == proto::Event::Body::ANSWERED) return EventKind::answered;
  const auto n = static_cast<int>(w);
  // Body members up to `rosterPublished` are numbered in EventKind order
  // from `submitted`; later members are mapped by name above; the held ordinal (@31) is no
  // kind yet.
  if (n < 0 || n > static_cast<int>(proto::Event::Body::ROSTER_PUBLISHED)) return std::nullopt;
  return static_cast<EventKind>(n);
}

bool is_broadcast(EventKind k) {
  return k == EventKind::catalog_published || k == EventKind::calendar_published ||
         k == EventKind::keys_published || k == EventKind::roster_published ||
         k == EventKind::divisions_published;
}

capnp::ReaderOptions reader_options(std::size_t max_bytes) {
  capnp::ReaderOptions o;
  // A legitimate message is read once: traversing more words than it holds
  // means pointer aliasing (amplification), which we refuse.
  o.traversalLimitInWords = max_bytes / sizeof(capnp::word) + 16;
  o.nestingLimit = kMaxNesting;
  return o;
}

Id read_id(proto::EventId::Reader r) {
  return Id{std::string(r.getOrigin().begin(), r.getOrigin().size()), r.getSeq()};
}

void write_id(proto::EventId::Builder b, const Id& id) {
  // With its length: an origin read from damaged bytes may hold a NUL.
  b.setOrigin(capnp::Text::Reader(id.origin.data(), id.origin.size()));
  b.setSeq(id.seq);
}

Status validate_event(proto::Event::Reader ev) {
  if (!ev.hasId()) return Status::invalid("event has no id");
  const Id id = read_id(ev.getId());
  if (!valid_code(id.origin))
    return Status::invalid("origin '" + id.origin + "' is not a division code");
  if (id.seq == 0) return Status::invalid("sequence numbers start at 1");
  if (ev.getHlc() == 0) return Status::invalid("event has no hlc");
  const auto home = std::string(ev.getHome().begin(), ev.getHome().size());
  if (!valid_code(home)) return Status::invalid("home '" + home + "' is not a division code");
  if (!within(home, id.origin))
    return Status::invalid("home " + home + " is outside the jurisdiction of origin " + id.origin);
  auto kind = kind_from_body(ev.getBody().which());
  if (!kind) return Status::invalid("unknown event kind (written by a newer schema?)");
  auto actor = ev.getActor();
  if (auto s = text_ok(actor.getName(), "actor name", true); !s) return s;
  if (auto s = text_ok(actor.getStaffId(), "actor staff id"); !s) return s;
  if (auto s = text_ok(actor.getOnBehalfOf(), "on behalf of"); !s) return s;
  if (auto s = list_ok(ev.getSettles(), "settles"); !s) return s;
  for (auto settled : ev.getSettles()) {
    auto origin = settled.getOrigin();
    if (auto s = text_ok(origin, "settled event's origin", true); !s) return s;
    if (!valid_code(std::string_view(origin.begin(), origin.size())) || settled.getSeq() == 0)
      return Status::invalid("a settled event id is malformed");
  }
  if (ev.hasSupersedes() && !names_case(*kind))
    return Status::invalid("only a case event may supersede another");
  if (is_broadcast(*kind)) {
    if (ev.hasCase()) return Status::invalid("a broadcast event names a case");
    if (home != id.origin) return Status::invalid("a broadcast's home must be its origin");
  } else if (*kind == EventKind::audit || *kind == EventKind::key_rotated) {
    if (ev.hasCase())
      return Status::invalid(std::string("a ") + kind_name(*kind) + " event names a case");
    if (home != id.origin)
      return Status::invalid(std::string("a ") + kind_name(*kind) +
                             " event's home must be its origin");
  } else {
    if (!ev.hasCase()) return Status::invalid("a case event names no case");
    const Id c = read_id(ev.getCase());
    if (!valid_code(c.origin) || c.seq == 0) return Status::invalid("case id is malformed");
    if (ev.hasSupersedes()) {
      const Id sup = read_id(ev.getSupersedes());
      if (sup.origin != id.origin || sup.seq == 0 || sup.seq >= id.seq)
        return Status::invalid("an event may supersede only an earlier event of its own origin");
      if (*kind == EventKind::submitted && c != sup)
        return Status::invalid("a re-issued submitted event must keep the case it supersedes");
    } else if (*kind == EventKind::submitted && c != id) {
      return Status::invalid("a submitted event must be its own case");
    }
    if (!within(home, c.origin))
      return Status::invalid("case " + format_id(c) + " cannot be homed at " + home);
  }
  return body_ok(ev);
}

struct EventView::Impl {
  std::string sealed;
  kj::Array<capnp::word> event_words;
  std::size_t event_size = 0;
  std::string signature;
  std::string signer;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
  // The root, read once: a view's fields are read many times over (sorted,
  // folded, indexed), and getRoot() checks the segment table each time.
  proto::Event::Reader root;
};

EventView::EventView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventView::EventView(EventView&&) noexcept = default;
EventView& EventView::operator=(EventView&&) noexcept = default;
EventView::~EventView() = default;

Result<EventView> EventView::parse(std::string_view signed_bytes) {
  if (signed_bytes.size() > kMaxSignedEventBytes)
    return Status::invalid("signed event is too large");
  if (signed_bytes.size() < 8 || signed_bytes.size() % 8 != 0)
    return Status::invalid("signed event is truncated");
  auto impl = std::make_unique<Impl>();
  impl->sealed.assign(signed_bytes);
  try {
    // The envelope is read in place when the copy above is word-aligned
    // (as heap strings are), else from an aligned copy.
    kj::Array<capnp::word> outer_copy;
    kj::ArrayPtr<const capnp::word> outer_words;
    if (reinterpret_cast<std::uintptr_t>(impl->sealed.data()) % alignof(capnp::word) == 0) {
      outer_words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(impl->sealed.data()),
                                 impl->sealed.size() / sizeof(capnp::word));
    } else {
      outer_copy = aligned_copy(signed_bytes);
      outer_words = outer_copy;
    }
    capnp::FlatArrayMessageReader outer(outer_words, reader_options(kMaxSignedEventBytes));
    if (outer.getEnd() != outer_words.end())
      return Status::invalid("signed event has trailing data");
    auto env = outer.getRoot<proto::SignedEvent>();
    auto ev = env.getEvent();
    auto sig = env.getSignature();
    if (sig.size() != 64) return Status::invalid("signature must be 64 bytes");
    if (ev.size() > kMaxEventBytes) return Status::invalid("event is too large");
    if (ev.size() < 8 || ev.size() % 8 != 0) return Status::invalid("event bytes are truncated");
    impl->signature.assign(as_view(sig));
    if (env.hasSigner()) {
      if (env.getSigner().size() != 32) return Status::invalid("signer key must be 32 bytes");
      impl->signer.assign(as_view(env.getSigner()));
    }
    impl->event_words = aligned_copy(as_view(ev));
    impl->event_size = ev.size();
    impl->reader = std::make_unique<capnp::FlatArrayMessageReader>(impl->event_words,
                                                                   reader_options(kMaxEventBytes));
    // The message must be exactly its bytes: no trailing garbage.
    if (impl->reader->getEnd() != impl->event_words.end())
      return Status::invalid("event bytes have trailing data");
    auto root = impl->reader->getRoot<proto::Event>();
    root.totalSize();  // walks every pointer under the limits
    if (auto s = validate_event(root); !s) return s;
    const EventKind kind = *kind_from_body(root.getBody().which());
    Id id = read_id(root.getId());
    Id case_id = names_case(kind) ? read_id(root.getCase()) : Id{};
    // A reader's traversal limit is a budget for its whole life, but a view
    // is read again and again (sorted, folded, served): it gets a reader of
    // its own without that budget. Safe: the walk above proved that one full
    // traversal of this message stays within the strict limit.
    auto lifetime = reader_options(kMaxEventBytes);
    lifetime.traversalLimitInWords = kj::maxValue;
    impl->reader = std::make_unique<capnp::FlatArrayMessageReader>(impl->event_words, lifetime);
    impl->root = impl->reader->getRoot<proto::Event>();
    const uint64_t hlc = impl->root.getHlc();
    EventView view(std::move(impl));
    view.hlc_ = hlc;
    view.kind_ = kind;
    view.id_ = std::move(id);
    view.case_ = std::move(case_id);
    return view;
  } catch (const kj::Exception& e) {
    return Status::invalid(std::string("malformed event: ") + e.getDescription().cStr());
  }
}

proto::Event::Reader EventView::event() const {
  return impl_->root;
}
std::string_view EventView::event_bytes() const {
  return {reinterpret_cast<const char*>(impl_->event_words.begin()), impl_->event_size};
}
std::string_view EventView::signature() const {
  return impl_->signature;
}
const std::string& EventView::sealed() const {
  return impl_->sealed;
}
std::string_view EventView::signer() const {
  return impl_->signer;
}

Status check_signature(const EventView& view, const PublicKey& key) {
  if (!verify(key, view.event_bytes(), view.signature()))
    return Status::invalid("bad signature on event " + format_id(view.id()));
  return Status::ok();
}

std::string rotation_proof_message(std::string_view origin, const PublicKey& old_key,
                                   const PublicKey& new_key) {
  std::string m = "liandong key rotation";
  m.push_back('\0');
  m.append(origin);
  m.push_back('\0');
  m.append(reinterpret_cast<const char*>(old_key.data()), old_key.size());
  m.append(reinterpret_cast<const char*>(new_key.data()), new_key.size());
  return m;
}

std::string seal(capnp::MessageBuilder& event, const SigningKey& key) {
  auto words = capnp::messageToFlatArray(event);
  auto bytes = words.asBytes();
  std::string_view ev(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  const Signature sig = sign(key, ev);
  capnp::MallocMessageBuilder outer(static_cast<unsigned>(words.size() + 32));
  auto env = outer.initRoot<proto::SignedEvent>();
  env.setEvent(capnp::Data::Reader(bytes.begin(), bytes.size()));
  env.setSignature(capnp::Data::Reader(sig.data(), sig.size()));
  env.setSigner(capnp::Data::Reader(key.pub.data(), key.pub.size()));
  auto out_words = capnp::messageToFlatArray(outer);
  auto out = out_words.asBytes();
  return std::string(reinterpret_cast<const char*>(out.begin()), out.size());
}

capnp::List<proto::AttachmentRef>::Reader attachments_of(proto::Event::Reader ev) {
  auto body = ev.getBody();
  switch (body.which()) {
    case proto::Event::Body::SUBMITTED:
      return body.getSubmitted().getAttachments();
    case proto::Event::Body::SUPPLEMENTED:
      return body.getSupplemented().getAttachments();
    case proto::Event::Body::DECIDED:
      return body.getDecided().getAttachments();
    default:
      return {};
  }
}

}  // namespace liandong
