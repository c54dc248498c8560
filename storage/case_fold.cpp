#include "storage/case_fold.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "storage/case_state.capnp.h"

namespace liandong::storage {

namespace {

using S = CaseStatus;
using K = EventKind;

std::string str(capnp::Text::Reader t) {
  return std::string(t.begin(), t.size());
}

bool one_of(S s, std::initializer_list<S> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool all_opinions_in(const CaseState& st) {
  if (st.departments.size() < 2) return true;  // not a joint case
  for (const auto& d : st.departments) {
    auto it = std::find_if(st.opinions.begin(), st.opinions.end(),
                           [&](const DeptOpinion& o) { return o.department == d; });
    if (it == st.opinions.end()) return false;
  }
  return true;
}

Status refuse(const CaseState& st, K k) {
  return Status::invalid(std::string(kind_name_zh(k)) + " (" + kind_name(k) +
                         ") is not allowed on a case in status " + status_name_zh(st.status) +
                         " (" + status_name(st.status) + ")");
}

// Whether the event names every unsettled conflict of the case.
bool settles_all(const CaseState& st, proto::Event::Reader ev) {
  if (st.conflicts.empty()) return false;
  for (const auto& c : st.conflicts) {
    bool found = false;
    for (auto s : ev.getSettles()) {
      if (read_id(s) == c) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

// The transition table: may `ev` apply to `st` (ignoring conflict state)?
Status transition_ok(const CaseState& st, const EventView& view, bool settling) {
  const K k = view.kind();
  auto ev = view.event();
  if (st.status == S::incomplete) return Status::invalid("the case's application has not arrived");
  switch (k) {
    case K::submitted:
      return Status::invalid("case " + format_id(st.case_id) + " already exists");
    case K::accepted:
      if (st.status == S::submitted) return Status::ok();
      break;
    case K::supplement_requested:
      if (one_of(st.status, {S::submitted, S::accepted, S::escalated, S::assigned}))
        return Status::ok();
      break;
    case K::supplemented:
      if (st.status == S::supplement_requested) return Status::ok();
      // A 容缺 material (accepted now, supplied later) may follow while the
      // case is handled, until it is closed.
      if (one_of(st.status, {S::submitted, S::accepted, S::escalated, S::assigned, S::decided,
                             S::delivered}) &&
          std::any_of(st.materials.begin(), st.materials.end(),
                      [](const MaterialLine& m) { return m.state == proto::MaterialState::LATER; }))
        return Status::ok();
      break;
    case K::not_accepted:
      if (one_of(st.status, {S::submitted, S::supplement_requested})) return Status::ok();
      break;
    case K::escalated: {
      if (!one_of(st.status, {S::submitted, S::accepted, S::escalated})) break;
      const auto to = str(ev.getBody().getEscalated().getTo());
      if (!within(st.home, to) || to.size() >= st.handler.size())
        return Status::invalid("escalation must go to a level above " + st.handler +
                               " on the case's path");
      return Status::ok();
    }
    case K::assigned:
      if (one_of(st.status, {S::accepted, S::escalated, S::assigned})) return Status::ok();
      break;
    case K::opinion: {
      if (st.status != S::assigned) break;
      const auto dept = str(ev.getBody().getOpinion().getDepartment());
      if (std::find(st.departments.begin(), st.departments.end(), dept) == st.departments.end())
        return Status::invalid("department " + dept + " is not assigned to this case");
      for (const auto& o : st.opinions) {
        if (o.department == dept)
          return Status::invalid("department " + dept + " has already given its opinion");
      }
      return Status::ok();
    }
    case K::decided:
      if (!one_of(st.status, {S::accepted, S::escalated, S::assigned})) break;
      if (!all_opinions_in(st))
        return Status::invalid("joint case: not every assigned department has given its opinion");
      return Status::ok();
    case K::replied:
      if (one_of(st.status, {S::submitted, S::accepted, S::escalated, S::assigned}))
        return Status::ok();
      break;
    case K::delivered:
      if (st.status == S::decided) return Status::ok();
      break;
    case K::rated:
      if (!one_of(st.status, {S::delivered, S::closed})) break;
      if (st.rating != 0) return Status::invalid("the case has already been rated");
      return Status::ok();
    case K::fee_collected:
      if (one_of(st.status, {S::accepted, S::escalated, S::assigned, S::decided, S::delivered}))
        return Status::ok();
      break;
    case K::closed:
      if (st.status == S::delivered) return Status::ok();
      break;
    case K::withdrawn:
      if (one_of(st.status,
                 {S::submitted, S::supplement_requested, S::accepted, S::escalated, S::assigned}))
        return Status::ok();
      // Settling a withdrawal that raced a decision: the applicant's
      // withdrawal stands and the decision is void.
      if (settling && one_of(st.status, {S::decided, S::delivered})) return Status::ok();
      break;
    case K::comment:
    case K::complaint:
    case K::received:
    case K::answered:
      return Status::ok();
    case K::supervised:
      if (one_of(st.status, {S::closed, S::withdrawn, S::not_accepted}))
        return Status::invalid("办件已" + std::string(status_name_zh(st.status)) +
                               "，不能督办 (the case is " + status_name(st.status) + ")");
      return Status::ok();
    case K::catalog_published:
    case K::calendar_published:
      return Status::invalid("a broadcast is not a case event");
    case K::audit:
    case K::key_rotated:
    case K::keys_published:
    case K::roster_published:
    case K::divisions_published:
      return Status::invalid(std::string("a ") + kind_name(k) + " event is not a case event");
  }
  return refuse(st, k);
}

void record_materials(CaseState& st, capnp::List<proto::Material>::Reader ms,
                      std::optional<proto::MaterialState> force = std::nullopt) {
  for (auto m : ms) {
    const auto text = m.getName();
    const std::string_view name(text.begin(), text.size());
    const auto state = force ? *force : m.getState();
    auto it = std::find_if(st.materials.begin(), st.materials.end(),
                           [&](const MaterialLine& l) { return l.name == name; });
    if (it == st.materials.end()) {
      st.materials.push_back({std::string(name), state});
    } else {
      it->state = state;
    }
  }
}

void transition(CaseState& st, const EventView& view) {
  auto ev = view.event();
  auto body = ev.getBody();
  switch (view.kind()) {
    case K::submitted: {
      auto b = body.getSubmitted();
      st.home = str(ev.getHome());
      st.handler = view.id().origin;
      st.item_code = str(b.getItemCode());
      st.item_name = str(b.getItemName());
      st.applicant_name = str(b.getApplicant().getName());
      st.applicant_id = str(b.getApplicant().getIdNumber());
      st.applicant_phone = str(b.getApplicant().getPhone());
      st.fee_due = b.getFeeDue();
      st.materials.clear();
      st.materials.reserve(b.getMaterials().size());
      record_materials(st, b.getMaterials());
      st.status = S::submitted;
      st.submitted_hlc = view.hlc();
      // 补办件: waiting for its missing materials from the start.
      st.supplement_case = b.getSupplementCase();
      if (st.supplement_case) {
        st.prior = S::submitted;
        st.status = S::supplement_requested;
      }
      break;
    }
    case K::accepted:
      st.status = S::accepted;
      st.due_date = str(body.getAccepted().getDueDate());
      st.due_limit_date = str(body.getAccepted().getLimitDate());
      st.due_extend_reason = str(body.getAccepted().getExtendReason());
      st.accepted_hlc = view.hlc();
      if (view.id().origin.size() < st.handler.size() || st.handler.empty())
        st.handler = view.id().origin;
      break;
    case K::supplement_requested:
      st.prior = st.status;
      st.status = S::supplement_requested;
      record_materials(st, body.getSupplementRequested().getMissing(),
                       proto::MaterialState::MISSING);
      break;
    case K::supplemented:
      record_materials(st, body.getSupplemented().getProvided(), proto::MaterialState::PROVIDED);
      // Supplied in parts: the case waits while any material told missing
      // is still missing, and goes on when the last one is in.
      if (st.status == S::supplement_requested &&
          std::none_of(st.materials.begin(), st.materials.end(), [](const MaterialLine& m) {
            return m.state == proto::MaterialState::MISSING;
          }))
        st.status = st.prior;
      break;
    case K::not_accepted:
      st.status = S::not_accepted;
      st.closed_hlc = view.hlc();
      break;
    case K::escalated:
      st.status = S::escalated;
      st.handler = str(body.getEscalated().getTo());
      break;
    case K::assigned:
      st.status = S::assigned;
      for (auto d : body.getAssigned().getDepartments()) {
        auto name = str(d);
        if (std::find(st.departments.begin(), st.departments.end(), name) == st.departments.end())
          st.departments.push_back(name);
      }
      break;
    case K::opinion: {
      auto o = body.getOpinion();
      st.opinions.push_back({str(o.getDepartment()), o.getApprove(), view.id()});
      break;
    }
    case K::decided:
      st.status = S::decided;
      st.has_decision = true;
      st.approved = body.getDecided().getApproved();
      st.decided_hlc = view.hlc();
      break;
    case K::replied:
      st.status = S::decided;
      st.has_decision = true;
      st.approved = true;
      st.decided_hlc = view.hlc();
      break;
    case K::delivered:
      st.status = S::delivered;
      st.delivered_hlc = view.hlc();
      break;
    case K::rated:
      st.rating = body.getRated().getScore();
      if (st.rating <= 2) ++st.supervision;  // opens 整改
      break;
    case K::supervised:
    case K::answered:
      ++st.supervision;
      break;
    case K::fee_collected:
      st.fee_collected += body.getFeeCollected().getAmount();
      break;
    case K::closed:
      st.status = S::closed;
      st.closed_hlc = view.hlc();
      break;
    case K::withdrawn:
      // A withdrawal that settles a raced decision voids that decision.
      st.status = S::withdrawn;
      st.has_decision = false;
      st.approved = false;
      st.closed_hlc = view.hlc();
      break;
    case K::complaint:
      ++st.complaints;
      ++st.supervision;
      break;
    case K::received:
      // The home node stored the decision (结果已达): its 送达 clock runs.
      if (view.id().origin == st.home && st.has_decision && st.result_received_hlc == 0)
        st.result_received_hlc = view.hlc();
      break;
    case K::comment:
    case K::catalog_published:
    case K::calendar_published:
    case K::audit:
    case K::key_rotated:
    case K::keys_published:
    case K::roster_published:
    case K::divisions_published:
      break;
  }
}

}  // namespace

const char* status_name(CaseStatus s) {
  static const char* names[] = {"incomplete", "submitted",   "supplement_requested",
                                "accepted",   "escalated",   "assigned",
                                "decided",    "delivered",   "closed",
                                "withdrawn",  "not_accepted"};
  return names[static_cast<int>(s)];
}

const char* status_name_zh(CaseStatus s) {
  static const char* names[] = {"未到齐", "已登记", "待补正", "已受理", "待上级办理", "办理中",
                                "已办结", "已送达", "已销号", "已撤回", "不予受理"};
  return names[static_cast<int>(s)];
}

std::optional<CaseStatus> status_from_name(std::string_view name) {
  for (int i = 0; i < kCaseStatusCount; ++i) {
    auto s = static_cast<CaseStatus>(i);
    if (name == status_name(s) || name == status_name_zh(s)) return s;
  }
  // The words a person also types for a case passed up, and the older ones.
  if (name == "待乡镇办理" || name == "待县办理" || name == "已上报") return CaseStatus::escalated;
  if (name == "已回复") return CaseStatus::delivered;
  return std::nullopt;
}

OrderKey order_key(const EventView& ev) {
  return OrderKey{ev.hlc(), ev.id()};
}

Status check(const CaseState* st, const EventView& ev) {
  if (is_broadcast(ev.kind())) return Status::invalid("a broadcast is not a case event");
  if (!names_case(ev.kind()))
    return Status::invalid(std::string("a ") + kind_name(ev.kind()) + " event is not a case event");
  if (st == nullptr || st->status == S::incomplete) {
    if (ev.kind() != K::submitted)
      return Status::not_found("no case " + format_id(ev.case_id()) + " here");
    return Status::ok();
  }
  const bool settling = settles_all(*st, ev.event());
  if (st->conflict && !settling)
    return Status::invalid("case " + format_id(st->case_id) +
                           " is in conflict (冲突待处理): settle it first");
  return transition_ok(*st, ev, settling);
}

std::optional<Id> superseded_by(const EventView& ev) {
  if (!names_case(ev.kind()) || !ev.event().hasSupersedes()) return std::nullopt;
  return read_id(ev.event().getSupersedes());
}

bool needs_refold(const CaseState&, const EventView& ev) {
  return superseded_by(ev).has_value();
}

namespace {

bool listed(const std::vector<Id>& ids, const Id& id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void add_superseded(CaseState& st, const Id& id) {
  auto at = std::lower_bound(st.superseded.begin(), st.superseded.end(), id);
  if (at == st.superseded.end() || *at != id) st.superseded.insert(at, id);
}

}  // namespace

void apply(CaseState& st, const EventView& ev) {
  if (listed(st.superseded, ev.id())) return;
  if (auto sup = superseded_by(ev)) add_superseded(st, *sup);
  ++st.event_count;
  st.last = order_key(ev);
  if (ev.kind() == K::submitted && st.status == S::incomplete) {
    st.case_id = ev.case_id();
    transition(st, ev);
    return;
  }
  if (st.status == S::incomplete) return;  // held until the application arrives
  const bool settling = settles_all(st, ev.event());
  if (settling) {
    st.conflicts.clear();
    st.conflict = false;
  }
  if (transition_ok(st, ev, settling)) {
    transition(st, ev);
  } else {
    st.conflict = true;
    st.conflicts.push_back(ev.id());
  }
}

CaseState fold(std::vector<const EventView*> events) {
  std::sort(events.begin(), events.end(),
            [](const EventView* a, const EventView* b) { return order_key(*a) < order_key(*b); });
  CaseState st;
  if (!events.empty()) st.case_id = events.front()->case_id();
  for (const auto* ev : events) {
    if (auto sup = superseded_by(*ev)) add_superseded(st, *sup);
  }
  for (const auto* ev : events)
    apply(st, *ev);
  return st;
}

namespace {

// The whole string, NUL bytes included (a `const char*` would stop there).
capnp::Text::Reader text(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

}  // namespace

std::string encode_state(const CaseState& s) {
  // The first segment is a reused buffer big enough for nearly every case
  // (the builder zeroes what it used when it is destroyed), so encoding
  // allocates only the returned string.
  constexpr std::size_t kScratchWords = 512;
  thread_local std::array<capnp::word, kScratchWords> scratch{};
  capnp::MallocMessageBuilder msg(kj::arrayPtr(scratch.data(), scratch.size()));
  auto b = msg.initRoot<capnp_state::CaseState>();
  write_id(b.initCase(), s.case_id);
  b.setHome(text(s.home));
  b.setItemCode(text(s.item_code));
  b.setItemName(text(s.item_name));
  b.setApplicantName(text(s.applicant_name));
  b.setApplicantId(text(s.applicant_id));
  b.setApplicantPhone(text(s.applicant_phone));
  b.setStatus(static_cast<uint8_t>(s.status));
  b.setPrior(static_cast<uint8_t>(s.prior));
  b.setHandler(text(s.handler));
  b.setConflict(s.conflict);
  auto cs = b.initConflicts(static_cast<unsigned>(s.conflicts.size()));
  for (unsigned i = 0; i < cs.size(); ++i)
    write_id(cs[i], s.conflicts[i]);
  auto ds = b.initDepartments(static_cast<unsigned>(s.departments.size()));
  for (unsigned i = 0; i < ds.size(); ++i)
    ds.set(i, text(s.departments[i]));
  auto os = b.initOpinions(static_cast<unsigned>(s.opinions.size()));
  for (unsigned i = 0; i < os.size(); ++i) {
    os[i].setDepartment(text(s.opinions[i].department));
    os[i].setApprove(s.opinions[i].approve);
    write_id(os[i].initEvent(), s.opinions[i].event);
  }
  auto ms = b.initMaterials(static_cast<unsigned>(s.materials.size()));
  for (unsigned i = 0; i < ms.size(); ++i) {
    ms[i].setName(text(s.materials[i].name));
    ms[i].setState(s.materials[i].state);
  }
  b.setHasDecision(s.has_decision);
  b.setApproved(s.approved);
  b.setFeeDue(s.fee_due);
  b.setFeeCollected(s.fee_collected);
  b.setRating(s.rating);
  b.setComplaints(s.complaints);
  b.setSupervision(s.supervision);
  b.setEventCount(s.event_count);
  b.setDueDate(text(s.due_date));
  b.setSubmittedHlc(s.submitted_hlc);
  b.setAcceptedHlc(s.accepted_hlc);
  b.setDecidedHlc(s.decided_hlc);
  b.setDeliveredHlc(s.delivered_hlc);
  b.setClosedHlc(s.closed_hlc);
  b.setSupplementCase(s.supplement_case);
  b.setDueLimitDate(text(s.due_limit_date));
  b.setDueExtendReason(text(s.due_extend_reason));
  b.setResultReceivedHlc(s.result_received_hlc);
  b.setLastHlc(s.last.hlc);
  write_id(b.initLast(), s.last.id);
  if (!s.superseded.empty()) {
    auto sup = b.initSuperseded(static_cast<unsigned>(s.superseded.size()));
    for (unsigned i = 0; i < sup.size(); ++i)
      write_id(sup[i], s.superseded[i]);
  }
  const auto segments = msg.getSegmentsForOutput();
  if (segments.size() == 1) {
    // The flat form of a one-segment message: the segment table (count - 1,
    // then the size in words, both little-endian 32-bit) and the segment.
    const auto seg = segments[0].asBytes();
    std::string out(8 + seg.size(), '\0');
    const uint32_t words = static_cast<uint32_t>(segments[0].size());
    for (int i = 0; i < 4; ++i)
      out[4 + i] = static_cast<char>((words >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, seg.begin(), seg.size());
    return out;
  }
  auto flat = capnp::messageToFlatArray(msg);
  auto bytes = flat.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Result<CaseState> decode_state(std::string_view bytes) {
  if (bytes.size() % 8 != 0 || bytes.size() > kMaxStateBytes)
    return Status::corruption("case state has a bad size");
  auto words = kj::heapArray<capnp::word>(bytes.size() / 8);
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    // Traversal bounded by the entry's own size (twice over: empty texts and
    // zero-sized list items are charged a word each): a damaged entry whose
    // pointers alias cannot decode to a state, and so to an entry written
    // back, many times its size.
    capnp::FlatArrayMessageReader msg(words, reader_options(2 * bytes.size() + 512));
    auto r = msg.getRoot<capnp_state::CaseState>();
    CaseState s;
    s.case_id = read_id(r.getCase());
    s.home = str(r.getHome());
    s.item_code = str(r.getItemCode());
    s.item_name = str(r.getItemName());
    s.applicant_name = str(r.getApplicantName());
    s.applicant_id = str(r.getApplicantId());
    s.applicant_phone = str(r.getApplicantPhone());
    if (r.getStatus() >= kCaseStatusCount || r.getPrior() >= kCaseStatusCount)
      return Status::corruption("case state has an unknown status");
    s.status = static_cast<CaseStatus>(r.getStatus());
    s.prior = static_cast<CaseStatus>(r.getPrior());
    s.handler = str(r.getHandler());
    s.conflict = r.getConflict();
    for (auto c : r.getConflicts())
      s.conflicts.push_back(read_id(c));
    for (auto d : r.getDepartments())
      s.departments.push_back(str(d));
    for (auto o : r.getOpinions())
      s.opinions.push_back({str(o.getDepartment()), o.getApprove(), read_id(o.getEvent())});
    for (auto m : r.getMaterials())
      s.materials.push_back({str(m.getName()), m.getState()});
    s.has_decision = r.getHasDecision();
    s.approved = r.getApproved();
    s.fee_due = r.getFeeDue();
    s.fee_collected = r.getFeeCollected();
    s.rating = r.getRating();
    s.complaints = r.getComplaints();
    s.supervision = r.getSupervision();
    s.event_count = r.getEventCount();
    s.due_date = str(r.getDueDate());
    s.submitted_hlc = r.getSubmittedHlc();
    s.accepted_hlc = r.getAcceptedHlc();
    s.decided_hlc = r.getDecidedHlc();
    s.delivered_hlc = r.getDeliveredHlc();
    s.closed_hlc = r.getClosedHlc();
    s.supplement_case = r.getSupplementCase();
    s.due_limit_date = str(r.getDueLimitDate());
    s.due_extend_reason = str(r.getDueExtendReason());
    s.result_received_hlc = r.getResultReceivedHlc();
    s.last = OrderKey{r.getLastHlc(), read_id(r.getLast())};
    for (auto id : r.getSuperseded())
      s.superseded.push_back(read_id(id));
    std::sort(s.superseded.begin(), s.superseded.end());
    return s;
  } catch (const kj::Exception& e) {
    return Status::corruption(std::string("case state unreadable: ") + e.getDescription().cStr());
  }
}

}  // namespace liandong::storage
