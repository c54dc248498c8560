// crash_writer: a store writer made to be killed, driven by tests/crash_test.cpp.
//
//   crash_writer --data DIR --code CODE --seed N [--seconds S] [--max-events N]
//                [--max-rate EVENTS_PER_S]
//
// Opens the store in DIR (creates it for node CODE if DIR holds none), loads
// or creates its signing keys, then until a bound runs out (default 60 s or
// 1,000,000 events) or it is killed: appends batches of 1-50 local actions
// (new applications and the follow-ups the workflow allows), and now and then
// ingests events signed by a second origin, the parent level of CODE, and
// re-ingests stored events to exercise dedup. --max-rate caps the events
// offered per second (default: no cap) so a test can bound the store's size.
// Uses the storage API only.
//
// Output contract (stdout), one line per event, written with write(2) only
// after the call that committed its batch has returned:
//   stored 360723101007-000042 lsn 57      this batch stored the event
//   duplicate 360723101-000007 lsn 12      it was already stored at that LSN
// A refused draft prints nothing. A line cut short by a kill has no newline.
// Diagnostics go to stderr.
//
// Besides the store, DIR holds writer.key (CODE's Ed25519 secret) and
// remote.key (the parent's): 64 raw bytes, mode 0600, written to a temporary
// file, synced and renamed, so a kill leaves no key or a whole one.
//
// Exit: 0 at a bound; 1 if the store or a key cannot be opened, a write
// fails or the store answers what it must not; 2 on bad arguments.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "storage/store.h"

namespace {

using namespace liandong;
using storage::CaseState;
using storage::CaseStatus;
using storage::LocalDraft;
using storage::Store;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLocalBatch = 50;
constexpr std::size_t kMaxRemoteBatch = 20;
constexpr std::size_t kMaxPool = 400;  // cases the writer remembers for follow-ups

struct Item {
  const char* code;
  const char* name;
  std::array<const char*, 4> materials;
  int64_t fee;  // fen
};
constexpr std::array<Item, 2> kItems = {{
    {"360723-ZJD-001",
     "农村宅基地建房",
     {"申请表", "居民身份证复印件", "户口簿", "村民代表会议纪要"},
     0},
    {"360723-LM-004",
     "林木采伐",
     {"采伐申请书", "林权证", "采伐作业设计", "居民身份证复印件"},
     2000},
}};
constexpr std::array<const char*, 8> kNames = {"张三",   "李四",   "王五",   "赵六",
                                               "刘秀英", "陈建国", "黄桂兰", "钟志强"};

struct Options {
  fs::path dir;
  std::string code;
  uint64_t seed = 0;
  double seconds = 60;
  uint64_t max_events = 1'000'000;
  uint64_t max_rate = 0;  // events per second; 0: as fast as the disk allows
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    try {
      if (flag == "--data") {
        o.dir = value;
      } else if (flag == "--code") {
        o.code = value;
      } else if (flag == "--seed") {
        o.seed = std::stoull(value);
      } else if (flag == "--seconds") {
        o.seconds = std::stod(value);
      } else if (flag == "--max-events") {
        o.max_events = std::stoull(value);
      } else if (flag == "--max-rate") {
        o.max_rate = std::stoull(value);
      } else {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
  }
  return argc % 2 == 1 && !o.dir.empty() && o.code.size() > 2 && valid_code(o.code);
}

Status write_all(int fd, std::string_view bytes) {
  for (int tries = 0; !bytes.empty() && tries < 1'000'000; ++tries) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::internal(std::string("write: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return bytes.empty() ? Status::ok() : Status::internal("write made no progress");
}

// Writes `bytes` to `path` so that a crash leaves no file or the whole file:
// a temporary file (0600), fsync, rename, fsync of the directory.
Status write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::internal("cannot create " + tmp.string() + ": " + std::strerror(errno));
  Status s = ::fchmod(fd, 0600) == 0 ? write_all(fd, bytes) : Status::internal("fchmod failed");
  if (s && ::fsync(fd) != 0) s = Status::internal("fsync " + tmp.string() + " failed");
  ::close(fd);
  if (!s) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::internal("rename to " + path.string() + ": " + std::strerror(errno));
  const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::internal("cannot open " + path.parent_path().string());
  const bool synced = ::fsync(dfd) == 0;
  ::close(dfd);
  return synced ? Status::ok() : Status::internal("fsync of the key directory failed");
}

// Loads the raw 64-byte secret at `path`, or makes one and writes it there.
Result<SigningKey> load_or_create_key(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) return Status::internal("cannot open " + path.string());
    const SigningKey key = generate_signing_key();
    auto s = write_file_atomically(
        path, std::string_view(reinterpret_cast<const char*>(key.secret.data()), 64));
    if (!s) return s;
    return key;
  }
  struct stat st {};
  std::string secret(65, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) == 0) n = ::read(fd, secret.data(), 65);
  ::close(fd);
  if (n != 64) return Status::invalid(path.string() + " is not a 64-byte key readable only by us");
  secret.resize(64);
  auto key = signing_key_from_secret(secret);
  if (!key) return Status::invalid(path.string() + " does not hold an Ed25519 secret");
  return *key;
}

// A plausible 18-character 居民身份证号码 with its ISO 7064 check character.
std::string id_number(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> year(1950, 2004), month(1, 12), day(1, 28), serial(0, 999);
  char body[18];
  std::snprintf(body, sizeof body, "360723%04d%02d%02d%03d", year(rng), month(rng), day(rng),
                serial(rng));
  constexpr std::array<int, 17> kWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < 17; ++i)
    sum += (body[i] - '0') * kWeights[i];
  return std::string(body, 17) + "10X98765432"[sum % 11];
}

void set_actor(proto::Event::Builder ev, const char* name, proto::Role role) {
  auto a = ev.initActor();
  a.setName(name);
  a.setRole(role);
  a.setStaffId("A-07");
}

// Fills the body of a new application (申请登记) with random content.
std::function<void(proto::Event::Builder)> submitted_body(std::mt19937_64& rng) {
  const Item& item = kItems[rng() % kItems.size()];
  const std::string name = kNames[rng() % kNames.size()], id = id_number(rng);
  const unsigned n_materials = 1 + static_cast<unsigned>(rng() % item.materials.size());
  const bool later = rng() % 4 == 0;
  return [=, &item](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto b = ev.getBody().initSubmitted();
    auto a = b.initApplicant();
    a.setName(name);
    a.setIdNumber(id);
    a.setPhone("13907970000");
    a.setAddress("江西省赣州市大余县南安镇新华村");
    b.setItemCode(item.code);
    b.setItemName(item.name);
    b.setCatalogVersion(3);
    auto f = b.initFields(1);
    f[0].setKey("用途");
    f[0].setValue(item.fee == 0 ? "自住" : "自用材");
    auto ms = b.initMaterials(n_materials);
    for (unsigned i = 0; i < n_materials; ++i) {
      ms[i].setName(item.materials[i]);
      ms[i].setOriginal(i == 0);
      ms[i].setCount(1);
      ms[i].setState(later && i + 1 == n_materials ? proto::MaterialState::LATER
                                                   : proto::MaterialState::PROVIDED);
    }
    b.setFeeDue(item.fee);
    b.setSummary(name + "申请" + item.name);
  };
}

using Fill = std::function<void(proto::Event::Builder)>;

Fill accept() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::CLERK);
    auto b = ev.getBody().initAccepted();
    b.setDueDate("2025-06-30");
    b.setNote("材料齐全，予以受理");
  };
}

Fill request_supplement() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::CLERK);
    auto b = ev.getBody().initSupplementRequested();
    auto m = b.initMissing(1);
    m[0].setName("户口簿");
    m[0].setOriginal(true);
    m[0].setCount(1);
    b.setNote("请一次性补齐户口簿原件");
  };
}

Fill supplement() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto m = ev.getBody().initSupplemented().initProvided(1);
    m[0].setName("户口簿");
    m[0].setOriginal(true);
    m[0].setCount(1);
  };
}

Fill escalate(const std::string& to) {
  return [to](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto b = ev.getBody().initEscalated();
    b.setTo(to);
    b.setNote("超出村级权限，上报乡镇");
  };
}

Fill decide() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟主任", proto::Role::DIRECTOR);
    auto b = ev.getBody().initDecided();
    b.setApproved(true);
    b.setLegalBasis("《中华人民共和国土地管理法》第六十二条");
    b.setCertificateNo("余宅字2025第0001号");
  };
}

Fill collect_fee(int64_t amount) {
  return [amount](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto b = ev.getBody().initFeeCollected();
    b.setAmount(amount);
    b.setReceiptNo("赣非税0001");
  };
}

Fill deliver() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    ev.getBody().initDelivered().setMethod("村代办点当面送达");
  };
}

Fill rate(uint8_t score) {
  return [score](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto b = ev.getBody().initRated();
    b.setScore(score);
    b.setComment("办事方便");
  };
}

Fill close_case() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    ev.getBody().initClosed().setNote("已归档");
  };
}

Fill withdraw() {
  return [](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    ev.getBody().initWithdrawn().setReason("申请人要求撤回");
  };
}

// A note (备注); naming events in `settles` settles a conflict (冲突待处理).
Fill comment(std::string text, std::vector<Id> settles = {}) {
  return [text = std::move(text), settles = std::move(settles)](proto::Event::Builder ev) {
    set_actor(ev, "钟代办", proto::Role::AGENT);
    auto s = ev.initSettles(static_cast<unsigned>(settles.size()));
    for (unsigned i = 0; i < s.size(); ++i)
      write_id(s[i], settles[i]);
    ev.getBody().initComment().setText(text);
  };
}

// A follow-up the workflow allows on a case in state `st` (the state the
// batch being built leads to), acting as a village whose township is `up`.
// Updates `st` to what the action leads to; nullopt when there is nothing to do.
std::optional<Fill> follow_up(CaseState& st, const std::string& up, std::mt19937_64& rng) {
  const uint64_t r = rng() % 100;
  if (st.conflict) {
    auto settles = std::move(st.conflicts);
    st.conflict = false;
    st.conflicts.clear();
    return comment("已与乡镇核实，以乡镇意见为准", std::move(settles));
  }
  auto to = [&](CaseStatus s, Fill f) -> std::optional<Fill> {
    st.status = s;
    return f;
  };
  switch (st.status) {
    case CaseStatus::submitted:
      if (r < 40) return to(CaseStatus::accepted, accept());
      if (r < 55) {
        st.prior = st.status;
        return to(CaseStatus::supplement_requested, request_supplement());
      }
      if (r < 75) {
        st.handler = up;
        return to(CaseStatus::escalated, escalate(up));
      }
      if (r < 80) return to(CaseStatus::withdrawn, withdraw());
      return comment("已电话告知申请人办理进度");
    case CaseStatus::accepted:
      if (r < 30) {
        st.handler = up;
        return to(CaseStatus::escalated, escalate(up));
      }
      if (r < 60) return to(CaseStatus::decided, decide());
      if (r < 75 && st.fee_collected < st.fee_due) {
        const int64_t due = st.fee_due - st.fee_collected;
        st.fee_collected = st.fee_due;
        return collect_fee(due);
      }
      if (r < 80) return to(CaseStatus::withdrawn, withdraw());
      return comment("材料已送乡镇审查");
    case CaseStatus::supplement_requested:
      if (r < 70) return to(st.prior, supplement());
      if (r < 75) return to(CaseStatus::withdrawn, withdraw());
      return comment("已通知申请人补正");
    case CaseStatus::decided:
      if (r < 70) return to(CaseStatus::delivered, deliver());
      return comment("结果已到村，待送达");
    case CaseStatus::delivered:
    case CaseStatus::closed:
      if (st.rating == 0 && r < 50) {
        st.rating = static_cast<uint8_t>(1 + rng() % 5);
        return rate(st.rating);
      }
      if (st.status == CaseStatus::delivered) return to(CaseStatus::closed, close_case());
      return std::nullopt;
    case CaseStatus::escalated:
    case CaseStatus::assigned:
      if (r < 5) return to(CaseStatus::withdrawn, withdraw());
      return comment("申请人询问进度，已答复");
    case CaseStatus::withdrawn:
    case CaseStatus::not_accepted:
    case CaseStatus::incomplete:
      return std::nullopt;
  }
  return std::nullopt;
}

class Writer {
 public:
  Writer(Store& store, SigningKey own, SigningKey remote, const Options& o)
      : store_(store), own_(own), remote_(remote), up_(parent_code(o.code)), rng_(o.seed) {}

  // Reads back what earlier runs left: open cases and the remote's last seq.
  Status resume() {
    for (auto s : {CaseStatus::submitted, CaseStatus::supplement_requested, CaseStatus::accepted,
                   CaseStatus::decided, CaseStatus::delivered, CaseStatus::escalated}) {
      storage::CaseFilter f;
      f.status = s;
      f.home_prefix = store_.code();
      f.limit = kMaxPool / 8;
      auto cases = store_.list_cases(f);
      if (!cases.ok()) return cases.status();
      for (const auto& c : *cases)
        remember(c.case_id);
    }
    // The remote's events are stored densely from 1: find the last one.
    uint64_t lo = 0, hi = 1;
    for (int i = 0; i < 64; ++i, hi *= 2) {
      auto f = store_.find(Id{up_, hi});
      if (!f.ok()) return f.status();
      if (!*f) break;
      lo = hi;
    }
    for (int i = 0; i < 64 && hi - lo > 1; ++i) {
      const uint64_t mid = lo + (hi - lo) / 2;
      auto f = store_.find(Id{up_, mid});
      if (!f.ok()) return f.status();
      (*f ? lo : hi) = mid;
    }
    remote_next_ = lo + 1;
    return Status::ok();
  }

  // One step: a local batch, a remote batch or a re-ingest. Returns how many
  // events it offered to the store.
  Result<uint64_t> step() {
    const uint64_t r = rng_() % 100;
    if (r < 80) return local_batch();
    if (r < 95) return remote_batch();
    return reingest();
  }

 private:
  void remember(const Id& id) {
    if (pool_.size() < kMaxPool) {
      pool_.push_back(id);
    } else {
      pool_[rng_() % kMaxPool] = id;
    }
  }

  // The state of case `id`, as planned for the batch being built.
  Result<CaseState*> planned(std::map<Id, CaseState>& plan, const Id& id) {
    if (auto it = plan.find(id); it != plan.end()) return &it->second;
    auto st = store_.get_case(id);
    if (!st.ok()) return st.status();
    if (!*st) return Status::internal("case " + format_id(id) + " is in the pool, not the store");
    return &plan.emplace(id, std::move(**st)).first->second;
  }

  Result<uint64_t> local_batch() {
    const std::size_t n = 1 + rng_() % kMaxLocalBatch;
    std::vector<LocalDraft> drafts;
    std::map<Id, CaseState> plan;
    for (std::size_t i = 0; i < n; ++i) {
      if (pool_.empty() || rng_() % 100 < 35) {
        drafts.push_back(LocalDraft{{}, {}, submitted_body(rng_)});
        continue;
      }
      const Id id = pool_[rng_() % pool_.size()];
      auto st = planned(plan, id);
      if (!st.ok()) return st.status();
      if (auto fill = follow_up(**st, up_, rng_)) drafts.push_back(LocalDraft{id, {}, *fill});
    }
    auto results = store_.append_local(drafts, own_);
    std::string out;
    for (const auto& r : results) {
      if (!r.ok()) {
        const Code c = r.status().code();
        if (c != Code::invalid && c != Code::not_found) return r.status();
        continue;  // the workflow refused it: nothing stored, nothing said
      }
      out += line("stored", r->view.id(), r->lsn);
      if (r->view.kind() == EventKind::submitted) remember(r->view.id());
    }
    return report(out, results.size());
  }

  // Events from the parent level: its own applications (some homed here)
  // and its actions on cases escalated to it; sometimes a repeat inside the
  // batch, and sometimes an action stamped seconds ago (made offline and
  // delivered late) that folds before newer events and may conflict with them.
  Result<uint64_t> remote_batch() {
    const std::size_t n = 1 + rng_() % kMaxRemoteBatch;
    std::vector<std::string> sealed;
    std::map<Id, CaseState> plan;
    for (std::size_t i = 0; i < n; ++i) {
      capnp::MallocMessageBuilder msg(512);
      auto ev = msg.initRoot<proto::Event>();
      const Id id{up_, remote_next_++};
      write_id(ev.initId(), id);
      set_actor(ev, "乡镇受理员", proto::Role::CLERK);
      uint64_t stamp = 0;  // 0: the remote's clock, now
      if (pool_.empty() || rng_() % 100 < 40) {
        submitted_body(rng_)(ev);
        write_id(ev.initCase(), id);
        ev.setHome(rng_() % 2 == 0 ? up_ : store_.code());
      } else {
        const Id case_id = pool_[rng_() % pool_.size()];
        auto st = planned(plan, case_id);
        if (!st.ok()) return st.status();
        CaseState& s = **st;
        write_id(ev.initCase(), case_id);
        ev.setHome(s.home);
        if (rng_() % 100 < 15) {
          stamp = make_hlc(wall_clock_ms() - 1 - rng_() % 3000, rng_() % 1000);
        } else {
          hlc_.observe(s.last.hlc);
        }
        if (s.status == CaseStatus::escalated && s.handler == up_) {
          s.status = CaseStatus::assigned;
          ev.getBody().initAssigned().initDepartments(1).set(0, "林业站");
        } else if (s.status == CaseStatus::assigned) {
          s.status = CaseStatus::decided;
          auto d = ev.getBody().initDecided();
          d.setApproved(true);
          d.setLegalBasis("《森林法》第五十六条");
        } else {
          ev.getBody().initComment().setText("乡镇已阅");
        }
      }
      ev.setHlc(stamp != 0 ? stamp : hlc_.now());
      sealed.push_back(seal(msg, remote_));
      if (rng_() % 10 == 0) {
        std::string again = sealed[rng_() % sealed.size()];
        sealed.push_back(std::move(again));
      }
    }
    return ingest(sealed);
  }

  // Offers a stored event again: the store must call it a duplicate.
  Result<uint64_t> reingest() {
    auto stats = store_.stats();
    if (!stats.ok()) return stats.status();
    if (stats->last_lsn == 0) return uint64_t{0};
    auto bytes = store_.read_log(1 + rng_() % stats->last_lsn);
    if (!bytes.ok()) return bytes.status();
    if (!*bytes) return Status::corruption("the log has a hole below its last LSN");
    return ingest(std::vector<std::string>{**bytes});
  }

  // Stores `sealed` through ingest(), or through apply() after checking the
  // signatures here, and reports every outcome.
  Result<uint64_t> ingest(const std::vector<std::string>& sealed) {
    std::vector<storage::IngestResult> results;
    std::vector<EventView> views;
    if (rng_() % 2 == 0) {
      auto r = store_.ingest(sealed);
      if (!r.ok()) return r.status();
      results = std::move(r).value();
    } else {
      for (const auto& s : sealed) {
        auto v = EventView::parse(s);
        if (!v.ok()) return v.status();
        auto key = store_.key(v->id().origin);
        if (!key.ok()) return key.status();
        if (!*key) return Status::internal("no key for " + v->id().origin);
        if (auto c = check_signature(*v, **key); !c) return c;
        views.push_back(std::move(v).value());
      }
      std::vector<const EventView*> batch;
      for (const auto& v : views)
        batch.push_back(&v);
      auto r = store_.apply(batch);
      if (!r.ok()) return r.status();
      results = std::move(r).value();
    }
    std::string out;
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      const auto& r = results[i];
      auto v = EventView::parse(sealed[i]);
      if (!v.ok()) return v.status();
      if (r.outcome == storage::Outcome::rejected)
        return Status::internal("store rejected " + format_id(v->id()) + ": " +
                                r.status.to_string());
      out += line(r.outcome == storage::Outcome::stored ? "stored" : "duplicate", v->id(), r.lsn);
      if (r.outcome == storage::Outcome::stored && v->kind() == EventKind::submitted &&
          within(v->event().getHome().cStr(), store_.code()))
        remember(v->id());
    }
    return report(out, sealed.size());
  }

  static std::string line(const char* what, const Id& id, uint64_t lsn) {
    return std::string(what) + " " + format_id(id) + " lsn " + std::to_string(lsn) + "\n";
  }

  Result<uint64_t> report(const std::string& out, uint64_t events) {
    if (auto s = write_all(STDOUT_FILENO, out); !s) return s;
    return events;
  }

  Store& store_;
  SigningKey own_, remote_;
  std::string up_;
  std::mt19937_64 rng_;
  Hlc hlc_;  // the remote origin's clock
  uint64_t remote_next_ = 1;
  std::vector<Id> pool_;  // cases homed here, for follow-ups
};

int run(const Options& o) {
  storage::StoreOptions so;
  so.dir = o.dir;
  auto store = Store::open(so);
  if (!store.ok() && store.status().code() == Code::not_found) store = Store::create(so, o.code);
  if (!store.ok()) {
    std::fprintf(stderr, "crash_writer: %s\n", store.status().to_string().c_str());
    return 1;
  }
  if ((*store)->code() != o.code) {
    std::fprintf(stderr, "crash_writer: the store in %s belongs to %s\n", o.dir.c_str(),
                 (*store)->code().c_str());
    return 1;
  }
  auto own = load_or_create_key(o.dir / "writer.key");
  auto remote = load_or_create_key(o.dir / "remote.key");
  Status s = !own.ok() ? own.status() : remote.status();
  if (s) s = (*store)->put_key(o.code, own->pub);
  if (s) s = (*store)->put_key(parent_code(o.code), remote->pub);
  if (!s) {
    std::fprintf(stderr, "crash_writer: %s\n", s.to_string().c_str());
    return 1;
  }
  Writer writer(**store, *own, *remote, o);
  s = writer.resume();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(static_cast<int64_t>(o.seconds * 1000));
  uint64_t events = 0;
  for (uint64_t steps = 0; s && steps < o.max_events && events < o.max_events; ++steps) {
    if (Clock::now() >= deadline) break;
    auto n = writer.step();
    if (!n.ok()) {
      s = n.status();
      break;
    }
    events += *n;
    if (o.max_rate > 0) {  // a throttle, not a wait for anything
      const auto due = start + std::chrono::microseconds(events * 1'000'000 / o.max_rate);
      std::this_thread::sleep_until(std::min(due, deadline));
    }
  }
  if (!s) {
    std::fprintf(stderr, "crash_writer: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: crash_writer --data DIR --code CODE --seed N [--seconds S] "
                 "[--max-events N] [--max-rate EVENTS_PER_S]\n");
    return 2;
  }
  return run(o);
}
