// Helpers shared by the fuzz targets: reading every field of a parsed event
// the way the node does, so that the sanitizers see each getter run on
// hostile bytes. Header-only; used by tests/fuzz/*_fuzz.cpp.
//
// Nothing here checks values: the walk only forces reads. A kj::Exception
// from a getter is the caller's to catch (as the node's decoding code does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/event_codec.h"
#include "protocol/ids.h"
#include "protocol/records.capnp.h"

namespace liandong::fuzz {

// Keeps the compiler from dropping reads whose results are unused.
struct Sink {
  std::size_t bytes = 0;
  uint64_t mix = 0;
  void text(capnp::Text::Reader t) {
    bytes += t.size();
    if (t.size() > 0) mix += static_cast<unsigned char>(t.begin()[t.size() - 1]);
  }
  void data(capnp::Data::Reader d) {
    bytes += d.size();
    if (d.size() > 0) mix += d.begin()[d.size() - 1];
  }
  void num(uint64_t v) { mix ^= v + 0x9e3779b97f4a7c15ULL + (mix << 6); }
  void id(proto::EventId::Reader r) {
    const Id id = read_id(r);
    num(id.seq);
    bytes += format_id(id).size();
  }
};

inline void walk_materials(Sink& s, capnp::List<proto::Material>::Reader ms) {
  for (auto m : ms) {
    s.text(m.getName());
    s.num(m.getOriginal());
    s.num(m.getCount());
    s.num(static_cast<uint64_t>(m.getState()));
  }
}

inline void walk_attachments(Sink& s, capnp::List<proto::AttachmentRef>::Reader as) {
  for (auto a : as) {
    s.data(a.getSha256());
    s.num(a.getSize());
    s.text(a.getName());
    s.text(a.getMediaType());
    s.text(a.getMaterial());
    s.num(a.getChunks().size());
    for (auto c : a.getChunks())
      s.data(c);
  }
}

// Reads every field of `ev`, whatever its body kind.
inline void walk_event(Sink& s, proto::Event::Reader ev) {
  if (ev.hasId()) s.id(ev.getId());
  if (ev.hasCase()) s.id(ev.getCase());
  s.text(ev.getHome());
  s.num(ev.getHlc());
  auto actor = ev.getActor();
  s.text(actor.getName());
  s.num(static_cast<uint64_t>(actor.getRole()));
  s.text(actor.getStaffId());
  s.text(actor.getOnBehalfOf());
  for (auto id : ev.getSettles())
    s.id(id);
  auto body = ev.getBody();
  switch (body.which()) {
    case proto::Event::Body::SUBMITTED: {
      auto b = body.getSubmitted();
      auto a = b.getApplicant();
      s.text(a.getName());
      s.text(a.getIdNumber());
      s.text(a.getPhone());
      s.text(a.getAddress());
      s.text(b.getItemCode());
      s.text(b.getItemName());
      s.num(b.getCatalogVersion());
      for (auto f : b.getFields()) {
        s.text(f.getKey());
        s.text(f.getValue());
      }
      walk_materials(s, b.getMaterials());
      walk_attachments(s, b.getAttachments());
      s.num(static_cast<uint64_t>(b.getFeeDue()));
      s.text(b.getSummary());
      s.num(b.getSupplementCase() ? 1 : 0);
      break;
    }
    case proto::Event::Body::ACCEPTED:
      s.text(body.getAccepted().getDueDate());
      s.text(body.getAccepted().getNote());
      break;
    case proto::Event::Body::SUPPLEMENT_REQUESTED:
      walk_materials(s, body.getSupplementRequested().getMissing());
      s.text(body.getSupplementRequested().getNote());
      break;
    case proto::Event::Body::SUPPLEMENTED:
      walk_materials(s, body.getSupplemented().getProvided());
      walk_attachments(s, body.getSupplemented().getAttachments());
      s.text(body.getSupplemented().getNote());
      break;
    case proto::Event::Body::ESCALATED:
      s.text(body.getEscalated().getTo());
      s.text(body.getEscalated().getNote());
      break;
    case proto::Event::Body::ASSIGNED:
      for (auto d : body.getAssigned().getDepartments())
        s.text(d);
      s.text(body.getAssigned().getNote());
      break;
    case proto::Event::Body::OPINION:
      s.text(body.getOpinion().getDepartment());
      s.num(body.getOpinion().getApprove());
      s.text(body.getOpinion().getText());
      break;
    case proto::Event::Body::DECIDED:
      s.num(body.getDecided().getApproved());
      s.text(body.getDecided().getReason());
      s.text(body.getDecided().getLegalBasis());
      s.text(body.getDecided().getCertificateNo());
      walk_attachments(s, body.getDecided().getAttachments());
      break;
    case proto::Event::Body::DELIVERED:
      s.text(body.getDelivered().getMethod());
      s.text(body.getDelivered().getNote());
      break;
    case proto::Event::Body::RATED:
      s.num(body.getRated().getScore());
      s.text(body.getRated().getComment());
      break;
    case proto::Event::Body::FEE_COLLECTED:
      s.num(static_cast<uint64_t>(body.getFeeCollected().getAmount()));
      s.text(body.getFeeCollected().getReceiptNo());
      break;
    case proto::Event::Body::CLOSED:
      s.text(body.getClosed().getNote());
      break;
    case proto::Event::Body::WITHDRAWN:
      s.text(body.getWithdrawn().getReason());
      break;
    case proto::Event::Body::COMMENT:
      s.text(body.getComment().getText());
      break;
    case proto::Event::Body::COMPLAINT:
      s.text(body.getComplaint().getText());
      s.text(body.getComplaint().getAgainst());
      break;
    case proto::Event::Body::REPLIED:
      s.text(body.getReplied().getText());
      break;
    case proto::Event::Body::CATALOG_PUBLISHED:
      s.num(body.getCatalogPublished().getVersion());
      s.data(body.getCatalogPublished().getDocument());
      break;
    case proto::Event::Body::CALENDAR_PUBLISHED:
      s.num(body.getCalendarPublished().getYear());
      s.data(body.getCalendarPublished().getDocument());
      break;
    case proto::Event::Body::AUDIT: {
      auto a = body.getAudit();
      s.num(static_cast<uint64_t>(a.getWhat()));
      s.text(a.getPeerCode());
      s.text(a.getWho());
      s.text(a.getSubject());
      s.text(a.getReason());
      s.num(a.getCount());
      s.num(a.getFirstMs());
      s.num(a.getLastMs());
      break;
    }
    case proto::Event::Body::KEY_ROTATED: {
      auto r = body.getKeyRotated();
      s.data(r.getOldKey());
      s.data(r.getNewKey());
      s.data(r.getProof());
      break;
    }
    case proto::Event::Body::NOT_ACCEPTED:
      s.text(body.getNotAccepted().getReason());
      s.text(body.getNotAccepted().getLegalBasis());
      break;
    case proto::Event::Body::ROSTER_PUBLISHED:
      s.num(body.getRosterPublished().getVersion());
      s.data(body.getRosterPublished().getDocument());
      break;
    case proto::Event::Body::DIVISIONS_PUBLISHED:
      s.num(body.getDivisionsPublished().getVersion());
      s.data(body.getDivisionsPublished().getDocument());
      break;
    case proto::Event::Body::RECEIVED:
      s.id(body.getReceived().getEvent());
      break;
    case proto::Event::Body::HELD31:
      break;
    case proto::Event::Body::SUPERVISED:
      s.text(body.getSupervised().getNote());
      s.text(body.getSupervised().getDueDate());
      s.text(body.getSupervised().getHolder());
      break;
    case proto::Event::Body::ANSWERED:
      s.id(body.getAnswered().getAbout());
      s.num(static_cast<uint64_t>(body.getAnswered().getTo()));
      s.text(body.getAnswered().getText());
      s.num(body.getAnswered().getScore());
      break;
    case proto::Event::Body::KEYS_PUBLISHED:
      for (auto e : body.getKeysPublished().getEntries()) {
        s.text(e.getCode());
        s.data(e.getKey());
        s.num(static_cast<uint64_t>(e.getState()));
        s.num(e.getTrustedSeq());
        s.text(e.getReason());
      }
      break;
  }
}

// Everything a node reads of a parsed view: the envelope getters, the
// kind's names and the signature check (against a key that never matches).
inline void walk_view(Sink& s, const EventView& v) {
  s.num(static_cast<uint64_t>(v.kind()));
  s.bytes += std::string_view(kind_name(v.kind())).size();
  s.bytes += std::string_view(kind_name_zh(v.kind())).size();
  s.num(is_broadcast(v.kind()));
  s.bytes += format_id(v.id()).size();
  if (!v.case_id().empty()) s.bytes += format_id(v.case_id()).size();
  s.num(v.hlc());
  s.bytes += v.event_bytes().size() + v.signature().size() + v.sealed().size();
  const PublicKey zero_key{};
  s.num(check_signature(v, zero_key).is_ok());
  walk_event(s, v.event());
  // The list the node pulls chunks for (node/transfers.h), whatever the kind.
  walk_attachments(s, attachments_of(v.event()));
}

}  // namespace liandong::fuzz
