#include "bench/desk_bench_store.h"

#include <capnp/message.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>

#include "protocol/event_codec.h"
#include "protocol/hlc.h"
#include "protocol/ids.h"
#include "storage/store.h"

namespace liandong::bench {

namespace {

using storage::Date;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kDayMs = 24ULL * 3600 * 1000;
constexpr uint64_t kMinuteMs = 60ULL * 1000;
constexpr std::size_t kTownships = 11, kVillagesPer = 14;

constexpr const char* kTownshipNames[kTownships] = {"南安镇", "新城镇", "樟斗镇", "池江镇",
                                                    "青龙镇", "左拔镇", "黄龙镇", "吉村镇",
                                                    "浮江乡", "河洞乡", "内良乡"};
constexpr const char* kVillageFirst[14] = {"新", "三", "水", "东", "西", "南", "北",
                                           "上", "下", "石", "黄", "龙", "梅", "竹"};
constexpr const char* kVillageSecond[12] = {"华", "江", "城", "岭", "坑", "田",
                                            "塘", "坪", "口", "溪", "山", "湖"};
constexpr const char* kSurnames[16] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                       "吴", "周", "徐", "孙", "朱", "胡", "郭", "何"};
constexpr const char* kGivenNames[12] = {"建国", "秀英", "春梅", "志强", "桂兰", "海燕",
                                         "德明", "玉珍", "小平", "金凤", "永福", "红霞"};
constexpr const char* kAgents[8] = {"王小红", "李秀英", "刘冬梅", "陈金花",
                                    "杨春生", "黄丽萍", "周德胜", "吴晓燕"};
constexpr const char* kClerks[4] = {"赵六", "刘芳", "黄丽", "刘建华"};
constexpr const char* kDeliveries[4] = {"当面送达", "电话告知后本人领取", "送达到户", "邮寄送达"};

std::string three_digits(std::size_t n) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03zu", n % 1000);
  return buf;
}
std::string township_code(std::size_t t) {
  return std::string(kDeskCounty) + three_digits(101 + t);
}
std::string village_code(std::size_t t, std::size_t v) {
  return township_code(t) + three_digits(v + 1);
}
std::string village_name(std::size_t t, std::size_t v) {
  return std::string(kVillageFirst[(t + v) % 14]) + kVillageSecond[(5 * t + v) % 12] + "村";
}

// A well-formed 18-character 居民身份证号码 (GB 11643 check digit).
std::string id_number(std::size_t i) {
  char base[18];
  std::snprintf(base, sizeof base, "360723%04zu%02zu%02zu%03zu", 1940 + i % 60, 1 + i % 12,
                1 + i % 28, i % 1000);
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int k = 0; k < 17; ++k)
    sum += (base[k] - '0') * kWeights[k];
  return std::string(base, 17) + "10X98765432"[sum % 11];
}

// A small deterministic hash, so that building an event (on any thread)
// picks the same words every run.
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x7F4A7C159E3779B9ULL);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ULL;
  return x ^ (x >> 29);
}

enum class Step : uint8_t {
  submitted,
  not_accepted,
  accepted,
  forwarded,          // escalated village -> township (转报乡镇)
  received_township,  // the township stored it
  reported,           // escalated township -> county (上报)
  received_county,
  assigned,
  opinion,
  decided,
  result_at_township,  // the township stored the county's decision
  result_at_village,   // the village stored the decision
  delivered,
  rated,
  fee_collected,
  closed,
  withdrawn,
};
enum class Level : uint8_t { village, township, county };

struct Planned {
  uint64_t ms = 0;
  uint32_t case_ix = 0;
  Step step = Step::submitted;
  Level by = Level::village;
  uint8_t arg = 0;  // opinion: the department's index in the item
  uint64_t seq = 0;
};

struct CaseInfo {
  uint16_t township = 0, village = 0, item = 0;
  Id id, forwarded, reported, decision;  // set when numbered
  Step last = Step::submitted;
  Level last_by = Level::village;
};

// The timeline of cases: office hours on working days, China time.
class Timeline {
 public:
  Timeline(const storage::Calendar& cal, std::mt19937_64& rng) : cal_(cal), rng_(rng) {}

  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // A time on day `d` between 08:30 and 17:30 China time.
  uint64_t office(const Date& d) {
    const uint64_t midnight_utc = static_cast<uint64_t>(storage::days_from_date(d)) * kDayMs;
    const uint64_t from = midnight_utc + 30 * kMinuteMs;  // 08:30 China = 00:30 UTC
    return from + static_cast<uint64_t>(uniform(0, 9 * 60 - 1)) * kMinuteMs +
           static_cast<uint64_t>(uniform(0, 59999));
  }
  // `n` working days after `t` (0: later the same day).
  uint64_t after(uint64_t t, int64_t n) {
    if (n <= 0) return t + static_cast<uint64_t>(uniform(10, 240)) * kMinuteMs;
    const uint64_t at =
        office(cal_.add_working_days(storage::china_date(t), static_cast<uint32_t>(n)));
    return std::max(at, t + kMinuteMs);
  }
  // Within a step's limit of `limit` working days, or (with `late`) past it.
  int64_t step_days(uint32_t limit, double late) {
    if (chance(late)) return limit + uniform(1, limit / 2 + 6);
    return uniform(0, limit);
  }

 private:
  const storage::Calendar& cal_;
  std::mt19937_64& rng_;
};

// Plans the events of case `ix`, submitted at `t`, until `cutoff`.
void plan_case(uint32_t ix, uint64_t t, uint64_t cutoff, const storage::CatalogItem& it,
               Timeline& tl, std::vector<Planned>& out) {
  auto push = [&](Step s, Level by, uint64_t ms, uint8_t arg = 0) {
    if (ms > cutoff) return false;
    out.push_back(Planned{ms, ix, s, by, arg, 0});
    return true;
  };
  auto seconds = [&](uint64_t lo, uint64_t hi) {
    return static_cast<uint64_t>(tl.uniform(static_cast<int64_t>(lo), static_cast<int64_t>(hi))) *
           1000;
  };
  if (!push(Step::submitted, Level::village, t)) return;
  if (tl.chance(0.01)) {
    push(Step::not_accepted, Level::village, t + seconds(300, 1800));
    return;
  }
  // 0.6 % are withdrawn by the applicant, at one of the first steps.
  const int withdraw_at = tl.chance(0.006) ? static_cast<int>(tl.uniform(1, 3)) : 0;
  auto withdraw = [&](int point) {
    if (withdraw_at != point) return false;
    push(Step::withdrawn, Level::village, tl.after(t, tl.uniform(0, 3)));
    return true;
  };
  if (!push(Step::accepted, Level::village, t += seconds(120, 1200))) return;
  if (withdraw(1)) return;
  t = tl.after(t, tl.step_days(it.limits.village_forward, 0.03));
  if (!push(Step::forwarded, Level::village, t)) return;
  if (!push(Step::received_township, Level::township, t += seconds(5, 900))) return;
  if (withdraw(2)) return;
  const bool joint = it.departments.size() > 1;
  // Assigned to the departments, their opinions (joint), then decided;
  // `decide_days` is the limit of the whole step.
  auto handle = [&](Level by, uint32_t decide_days, double late) {
    if (by == Level::county || joint) {
      if (!push(Step::assigned, by, t = tl.after(t, tl.uniform(0, 1)))) return false;
      if (withdraw(3)) return false;
    }
    if (joint) {
      std::vector<uint64_t> at;
      for (std::size_t d = 0; d < it.departments.size(); ++d)
        at.push_back(tl.after(t, tl.uniform(1, std::max<int64_t>(1, decide_days - 2))));
      std::sort(at.begin(), at.end());
      for (std::size_t d = 0; d < at.size(); ++d) {
        if (!push(Step::opinion, by, at[d], static_cast<uint8_t>(d))) return false;
      }
      t = tl.after(at.back(), tl.uniform(0, 2));
    } else {
      const int64_t lo = by == Level::county ? std::max<int64_t>(1, decide_days / 2) : 0;
      t = tl.after(t, tl.chance(late) ? decide_days + tl.uniform(1, decide_days / 2 + 8)
                                      : tl.uniform(lo, std::max<int64_t>(lo, decide_days)));
    }
    return push(Step::decided, by, t);
  };
  if (it.level == storage::DecidingLevel::county) {
    t = tl.after(t, tl.step_days(it.limits.township_handle, 0.04));
    if (!push(Step::reported, Level::township, t)) return;
    if (!push(Step::received_county, Level::county, t += seconds(5, 900))) return;
    if (!handle(Level::county, std::max<uint32_t>(it.limits.county_decide, 2), 0.06)) return;
    if (!push(Step::result_at_township, Level::township, t += seconds(5, 900))) return;
  } else if (!handle(Level::township, std::max<uint32_t>(it.limits.township_handle, 1), 0.04)) {
    return;
  }
  if (!push(Step::result_at_village, Level::village, t += seconds(5, 1800))) return;
  t = tl.after(t, tl.step_days(it.limits.village_notify, 0.03));
  if (!push(Step::delivered, Level::village, t)) return;
  if (tl.chance(0.85) && !push(Step::rated, Level::village, t += seconds(60, 600))) return;
  if (it.fee_fen > 0 && !push(Step::fee_collected, Level::village, t += seconds(60, 300))) return;
  push(Step::closed, Level::village, tl.after(t, tl.uniform(0, 2)));
}

struct Origins {
  std::vector<std::string> township_codes, village_codes;  // village: t * kVillagesPer + v
  std::vector<SigningKey> township_keys, village_keys;
  SigningKey county_key;
};

struct BuildContext {
  const storage::Catalog& catalog;
  const storage::Calendar& calendar;
  const std::vector<const storage::CatalogItem*>& items;
  const Origins& origins;
};

// The sealed event `p` of case `c`.
std::string build_event(const Planned& p, const CaseInfo& c, const BuildContext& ctx) {
  const storage::Catalog& catalog = ctx.catalog;
  const Origins& o = ctx.origins;
  const storage::CatalogItem& it = *ctx.items[c.item];
  const std::size_t vx = c.township * kVillagesPer + c.village;
  const std::string& village = o.village_codes[vx];
  const std::string& town = o.township_codes[c.township];
  const std::string& origin = p.by == Level::village    ? village
                              : p.by == Level::township ? town
                                                        : std::string(kDeskCounty);
  const SigningKey& key = p.by == Level::village    ? o.village_keys[vx]
                          : p.by == Level::township ? o.township_keys[c.township]
                                                    : o.county_key;
  const uint64_t h = mix(c.id.seq + vx * 1000003ULL, static_cast<uint64_t>(p.step));
  capnp::MallocMessageBuilder msg(256);
  auto ev = msg.initRoot<proto::Event>();
  write_id(ev.initId(), Id{origin, p.seq});
  write_id(ev.initCase(), p.step == Step::submitted ? Id{origin, p.seq} : c.id);
  ev.setHome(village);
  ev.setHlc(make_hlc(p.ms, 0));
  auto actor = ev.initActor();
  const bool receipt = p.step == Step::received_township || p.step == Step::received_county ||
                       p.step == Step::result_at_township || p.step == Step::result_at_village;
  if (receipt) {
    actor.setName("system");
    actor.setRole(proto::Role::SYSTEM);
  } else if (p.by == Level::village) {
    actor.setName(kAgents[vx % 8]);
    actor.setRole(proto::Role::AGENT);
    actor.setStaffId("DB-" + village + "-01");
  } else if (p.by == Level::township) {
    const bool decides = p.step == Step::decided;
    actor.setName(decides ? "罗建军" : kClerks[c.township % 4]);
    actor.setRole(decides ? proto::Role::DIRECTOR : proto::Role::CLERK);
    actor.setStaffId("XZ-" + town.substr(6) + (decides ? "-01" : "-03"));
  } else {
    const bool decides = p.step == Step::decided, assigns = p.step == Step::assigned;
    actor.setName(decides ? "孙八" : assigns ? "李建国" : "黄志强");
    actor.setRole(decides   ? proto::Role::OFFICER
                  : assigns ? proto::Role::DIRECTOR
                            : proto::Role::REVIEWER);
  }
  auto body = ev.initBody();
  const std::size_t i = p.case_ix;
  switch (p.step) {
    case Step::submitted: {
      auto b = body.initSubmitted();
      auto a = b.initApplicant();
      const std::string name = desk_applicant_name(i);
      a.setName(name);
      a.setIdNumber(id_number(i));
      a.setPhone("139" + std::to_string(10000000 + i % 89999999));
      a.setAddress(std::string("大余县") + kTownshipNames[c.township] +
                   village_name(c.township, c.village) + std::to_string(1 + i % 9) + "组" +
                   std::to_string(1 + i % 60) + "号");
      b.setItemCode(it.code);
      b.setItemName(it.name);
      b.setCatalogVersion(catalog.version);
      auto fields = b.initFields(2);
      fields[0].setKey("申请事由");
      fields[0].setValue(name + "申请办理" + it.name);
      fields[1].setKey("联系人");
      fields[1].setValue(name);
      auto ms = b.initMaterials(static_cast<unsigned>(it.materials.size()));
      for (unsigned k = 0; k < it.materials.size(); ++k) {
        ms[k].setName(it.materials[k].name);
        ms[k].setOriginal(it.materials[k].original);
        ms[k].setCount(it.materials[k].count);
        ms[k].setState(proto::MaterialState::PROVIDED);
      }
      b.setFeeDue(it.fee_fen);
      b.setSummary(name + "户申请" + it.name + "。");
      break;
    }
    case Step::not_accepted:
      body.initNotAccepted().setReason("申请人不符合办理条件：" + it.conditions);
      body.getNotAccepted().setLegalBasis(it.legal_basis);
      break;
    case Step::accepted: {
      auto b = body.initAccepted();
      const uint32_t days = it.total_days();
      // Promised when accepted: the item's whole limit from today.
      const std::string due =
          storage::format_date(ctx.calendar.add_working_days(storage::china_date(p.ms), days));
      b.setDueDate(due);
      b.setLimitDate(due);
      b.setLimitDays(days);
      break;
    }
    case Step::forwarded:
      body.initEscalated().setTo(town);
      body.getEscalated().setNote("材料齐全，转报乡镇");
      break;
    case Step::reported:
      body.initEscalated().setTo(kDeskCounty);
      body.getEscalated().setNote("乡镇已初审，上报县" + it.departments.front());
      break;
    case Step::received_township:
      write_id(body.initReceived().initEvent(), c.forwarded);
      break;
    case Step::received_county:
      write_id(body.initReceived().initEvent(), c.reported);
      break;
    case Step::result_at_township:
    case Step::result_at_village:
      write_id(body.initReceived().initEvent(), c.decision);
      break;
    case Step::assigned: {
      const bool joint = it.departments.size() > 1;
      auto d = body.initAssigned().initDepartments(joint ? it.departments.size() : 1);
      for (unsigned k = 0; k < d.size(); ++k)
        d.set(k, it.departments[k]);
      break;
    }
    case Step::opinion: {
      auto b = body.initOpinion();
      b.setDepartment(it.departments[p.arg]);
      b.setApprove(true);
      b.setText("经审查，符合条件，同意。");
      break;
    }
    case Step::decided: {
      auto b = body.initDecided();
      const bool approved = h % 100 >= 4;
      b.setApproved(approved);
      b.setReason(approved ? "符合条件，予以批准" : "经审查不符合条件，不予许可");
      b.setLegalBasis(it.legal_basis);
      if (approved) b.setCertificateNo(it.code + "-2026-" + std::to_string(p.seq));
      break;
    }
    case Step::delivered:
      body.initDelivered().setMethod(kDeliveries[h % 4]);
      break;
    case Step::rated:
      body.initRated().setScore(static_cast<uint8_t>(h % 10 == 0 ? 4 : 5));
      body.getRated().setComment(h % 3 == 0 ? "不出村就办好了" : "");
      break;
    case Step::fee_collected:
      body.initFeeCollected().setAmount(it.fee_fen);
      body.getFeeCollected().setReceiptNo("赣财非税(2026)" + std::to_string(1000000 + i));
      break;
    case Step::closed:
      body.initClosed().setNote("办结销号");
      break;
    case Step::withdrawn:
      body.initWithdrawn().setReason("申请人撤回申请");
      break;
  }
  return seal(msg, key);
}

storage::CaseStatus status_after(Step s) {
  using S = storage::CaseStatus;
  switch (s) {
    case Step::submitted:
      return S::submitted;
    case Step::not_accepted:
      return S::not_accepted;
    case Step::accepted:
      return S::accepted;
    case Step::forwarded:
    case Step::received_township:
    case Step::reported:
    case Step::received_county:
      return S::escalated;
    case Step::assigned:
    case Step::opinion:
      return S::assigned;
    case Step::decided:
    case Step::result_at_township:
    case Step::result_at_village:
      return S::decided;
    case Step::delivered:
    case Step::rated:
    case Step::fee_collected:
      return S::delivered;
    case Step::closed:
      return S::closed;
    case Step::withdrawn:
      return S::withdrawn;
  }
  return S::incomplete;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::unique_ptr<storage::Store> open_store(const std::filesystem::path& data) {
  storage::StoreOptions opts;
  opts.dir = data / "store";
  opts.initial_map_bytes = std::size_t{4} << 30;
  auto store = storage::Store::open(opts);
  if (!store.ok()) throw std::runtime_error(store.status().to_string());
  return std::move(store).value();
}

void apply_batch(storage::Store& store, std::vector<const EventView*>& batch) {
  if (batch.empty()) return;
  auto r = store.apply(batch);
  if (!r.ok()) throw std::runtime_error("apply: " + r.status().to_string());
  for (std::size_t k = 0; k < r->size(); ++k) {
    if ((*r)[k].outcome != storage::Outcome::stored)
      throw std::runtime_error("event " + format_id(batch[k]->id()) +
                               " not stored: " + (*r)[k].status.to_string());
  }
  batch.clear();
}

}  // namespace

std::string desk_applicant_name(std::size_t i) {
  return std::string(kSurnames[i % 16]) + kGivenNames[(i / 16) % 12];
}

std::string desk_divisions_toml() {
  std::string t = "version = 1\n\n[[division]]\ncode = \"" + std::string(kDeskCounty) +
                  "\"\nname = \"大余县\"\n";
  for (std::size_t k = 0; k < kTownships; ++k) {
    t += "\n[[division]]\ncode = \"" + township_code(k) + "\"\nname = \"" + kTownshipNames[k] +
         "\"\n";
    for (std::size_t v = 0; v < kVillagesPer; ++v)
      t += "\n[[division]]\ncode = \"" + village_code(k, v) + "\"\nname = \"" + village_name(k, v) +
           "\"\n";
  }
  return t;
}

DeskStoreFacts build_desk_stores(const DeskStoreOptions& opt, const DeskNode& county,
                                 const std::optional<DeskNode>& township) {
  DeskStoreFacts facts;
  std::vector<const storage::CatalogItem*> township_items, county_items, items;
  for (const auto& it : opt.catalog.items) {
    if (it.handling == storage::Handling::consult || it.departments.empty()) continue;
    if (it.level == storage::DecidingLevel::township) township_items.push_back(&it);
    if (it.level == storage::DecidingLevel::county) county_items.push_back(&it);
  }
  if (township_items.empty() || county_items.empty())
    throw std::runtime_error("the catalog needs township and county items");
  items = township_items;
  items.insert(items.end(), county_items.begin(), county_items.end());

  Origins o;
  o.county_key = county.key;
  for (std::size_t k = 0; k < kTownships; ++k) {
    o.township_codes.push_back(township_code(k));
    o.township_keys.push_back(township && o.township_codes.back() == kDeskTownship
                                  ? township->key
                                  : generate_signing_key());
    for (std::size_t v = 0; v < kVillagesPer; ++v) {
      o.village_codes.push_back(village_code(k, v));
      o.village_keys.push_back(generate_signing_key());
    }
  }

  // The plan: each case's events, submitted on a working day of the year
  // so far (from the first Monday of January), cut at now.
  auto t0 = Clock::now();
  const uint64_t cutoff = opt.now_ms - kMinuteMs;
  const Date today = storage::china_date(cutoff);
  std::vector<Date> days;
  for (int64_t d = storage::days_from_date(Date{2026, 1, 5});
       d <= storage::days_from_date(today) && days.size() < 4000; ++d) {
    if (opt.calendar.is_working_day(storage::date_from_days(d)))
      days.push_back(storage::date_from_days(d));
  }
  if (days.size() < 2) throw std::runtime_error("no working days before now");
  std::mt19937_64 rng(opt.seed);
  Timeline tl(opt.calendar, rng);
  std::vector<CaseInfo> cases(opt.cases);
  std::vector<Planned> plan;
  plan.reserve(opt.cases * 13);
  for (uint32_t i = 0; i < opt.cases; ++i) {
    CaseInfo& c = cases[i];
    c.township = static_cast<uint16_t>(tl.uniform(0, kTownships - 1));
    c.village = static_cast<uint16_t>(tl.uniform(0, kVillagesPer - 1));
    const bool up = tl.chance(0.45);  // items the county decides
    const auto& from = up ? county_items : township_items;
    const auto pick = static_cast<std::size_t>(tl.uniform(0, from.size() - 1));
    c.item = static_cast<uint16_t>((up ? township_items.size() : 0) + pick);
    uint64_t t = tl.office(days[static_cast<std::size_t>(tl.uniform(0, days.size() - 1))]);
    if (t > cutoff) t = tl.office(days[days.size() - 2]);
    plan_case(i, t, cutoff, *items[c.item], tl, plan);
  }
  std::sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) {
    return a.ms != b.ms ? a.ms < b.ms : a.case_ix < b.case_ix;
  });

  // Sequence numbers, dense per origin in time order (a node's own events
  // after those its store holds already).
  auto county_store = open_store(county.data);
  std::unique_ptr<storage::Store> town_store = township ? open_store(township->data) : nullptr;
  auto next_of = [](storage::Store& s) {
    auto st = s.stats();
    if (!st.ok()) throw std::runtime_error(st.status().to_string());
    return st->next_seq;
  };
  uint64_t county_seq = next_of(*county_store);
  std::vector<uint64_t> township_seq(kTownships, 1), village_seq(kTownships * kVillagesPer, 1);
  for (std::size_t k = 0; k < kTownships; ++k) {
    if (town_store && o.township_codes[k] == kDeskTownship) township_seq[k] = next_of(*town_store);
  }
  for (auto& p : plan) {
    CaseInfo& c = cases[p.case_ix];
    const std::size_t vx = c.township * kVillagesPer + c.village;
    p.seq = p.by == Level::village    ? village_seq[vx]++
            : p.by == Level::township ? township_seq[c.township]++
                                      : county_seq++;
    const std::string& origin = p.by == Level::village    ? o.village_codes[vx]
                                : p.by == Level::township ? o.township_codes[c.township]
                                                          : std::string(kDeskCounty);
    if (p.step == Step::submitted) c.id = Id{origin, p.seq};
    if (p.step == Step::forwarded) c.forwarded = Id{origin, p.seq};
    if (p.step == Step::reported) c.reported = Id{origin, p.seq};
    if (p.step == Step::decided) c.decision = Id{origin, p.seq};
    c.last = p.step;
    c.last_by = p.by;
  }
  facts.plan_s = seconds_since(t0);

  // The key directory of each store: every origin's first key.
  auto put_keys = [&](storage::Store& s, const std::string& under) {
    auto put = [&](const std::string& code, const SigningKey& k) {
      if (code.starts_with(under) || under.starts_with(code)) {
        if (!s.put_key(code, k.pub)) throw std::runtime_error("put_key " + code);
      }
    };
    put(kDeskCounty, o.county_key);
    for (std::size_t k = 0; k < kTownships; ++k)
      put(o.township_codes[k], o.township_keys[k]);
    for (std::size_t k = 0; k < o.village_codes.size(); ++k)
      put(o.village_codes[k], o.village_keys[k]);
  };
  put_keys(*county_store, kDeskCounty);
  if (town_store) put_keys(*town_store, kDeskTownship);

  // Sign in chunks on every thread, apply 1,000 per transaction.
  const unsigned threads = std::max(1u, opt.threads);
  const BuildContext ctx{opt.catalog, opt.calendar, items, o};
  constexpr std::size_t kChunk = 8000, kBatch = 1000;
  std::vector<const EventView*> batch, town_batch;
  for (std::size_t at = 0; at < plan.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, plan.size() - at);
    std::vector<std::optional<EventView>> views(n);
    auto ts = Clock::now();
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < threads; ++w) {
      workers.emplace_back([&, w] {
        for (std::size_t k = w; k < n; k += threads) {
          const Planned& p = plan[at + k];
          auto v = EventView::parse(build_event(p, cases[p.case_ix], ctx));
          if (v.ok()) views[k] = std::move(v).value();
        }
      });
    }
    for (auto& w : workers)
      w.join();
    facts.sign_s += seconds_since(ts);
    auto ta = Clock::now();
    for (std::size_t k = 0; k < n; ++k) {
      if (!views[k]) throw std::runtime_error("a planned event does not parse");
      batch.push_back(&*views[k]);
      if (town_store && o.township_codes[cases[plan[at + k].case_ix].township] == kDeskTownship) {
        town_batch.push_back(&*views[k]);
        ++facts.township_events;
      }
      if (batch.size() == kBatch) apply_batch(*county_store, batch);
      if (town_batch.size() == kBatch) apply_batch(*town_store, town_batch);
    }
    apply_batch(*county_store, batch);
    if (town_store) apply_batch(*town_store, town_batch);
    facts.apply_s += seconds_since(ta);
  }
  facts.events = plan.size();
  facts.cases = cases.size();

  // What the corpus left open, and where.
  for (const auto& c : cases) {
    const auto s = status_after(c.last);
    ++facts.by_status[static_cast<std::size_t>(s)];
    const bool town = o.township_codes[c.township] == kDeskTownship;
    facts.township_cases += town ? 1 : 0;
    const bool at_county = c.last_by == Level::county || c.last == Step::reported;
    if (s == storage::CaseStatus::escalated && at_county) ++facts.county_escalated;
    if (s == storage::CaseStatus::assigned && at_county) ++facts.county_assigned;
    const bool at_township =
        !at_county && (s == storage::CaseStatus::escalated || s == storage::CaseStatus::assigned);
    if (town && at_township) ++facts.township_held;
  }
  for (const auto& cs : {county_store.get(), town_store.get()}) {
    if (cs == nullptr) continue;
    storage::CaseFilter conflicts;
    conflicts.conflict_only = true;
    auto c = cs->list_cases(conflicts);
    if (!c.ok() || !c->empty())
      throw std::runtime_error("the corpus left cases in conflict: a bug in the bench");
  }
  // Case numbers to look up: spread over the corpus (old and new cases).
  const std::size_t step = std::max<std::size_t>(1, cases.size() / 240);
  for (std::size_t i = 0; i < cases.size() && facts.sample_cases.size() < 240; i += step)
    facts.sample_cases.push_back(format_id(cases[i].id));
  for (std::size_t i = 0; i < cases.size() && facts.sample_township_cases.size() < 240; ++i) {
    if (o.township_codes[cases[i].township] == kDeskTownship && i % 7 == 0)
      facts.sample_township_cases.push_back(format_id(cases[i].id));
  }
  return facts;
}

}  // namespace liandong::bench
