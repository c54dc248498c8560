#include "bench/bench_corpus.h"

#include <capnp/message.h>

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <thread>

#include "protocol/hlc.h"

namespace liandong::bench {

namespace {

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                     "吴", "周", "徐", "孙", "朱", "胡", "郭", "何"};
constexpr const char* kGivenNames[] = {"建国", "秀英", "春梅", "志强", "桂兰", "海燕",
                                       "德明", "玉珍", "小平", "金凤", "永福", "红霞"};

// A well-formed 18-character 居民身份证号码 (GB 11643 check digit).
std::string id_number(std::size_t i) {
  char base[18];
  std::snprintf(base, sizeof base, "360723%04zu%02zu%02zu%03zu", 1950 + i % 50, 1 + i % 12,
                1 + i % 28, i % 1000);
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int k = 0; k < 17; ++k)
    sum += (base[k] - '0') * kWeights[k];
  return std::string(base, 17) + "10X98765432"[sum % 11];
}

std::string make_event(const SigningKey& key, const std::string& origin, uint64_t seq,
                       std::size_t i, uint64_t hlc) {
  capnp::MallocMessageBuilder msg(256);
  auto ev = msg.initRoot<proto::Event>();
  write_id(ev.initId(), Id{origin, seq});
  write_id(ev.initCase(), Id{origin, seq});
  ev.setHome(origin);
  ev.setHlc(hlc);
  auto actor = ev.initActor();
  actor.setName("刘春梅");
  actor.setRole(proto::Role::AGENT);
  actor.setStaffId("DL-" + origin.substr(9));

  const std::string name = std::string(kSurnames[i % 16]) + kGivenNames[(i / 16) % 12];
  const std::string group = std::to_string(1 + i % 9);
  auto b = ev.initBody().initSubmitted();
  auto a = b.initApplicant();
  a.setName(name);
  a.setIdNumber(id_number(i));
  a.setPhone("138" + std::to_string(10000000 + i % 89999999));
  a.setAddress("黄龙镇大龙村" + group + "组" + std::to_string(1 + i % 60) + "号");
  b.setItemCode("360723-ZJD-0001");
  b.setItemName("农村宅基地建房");
  b.setCatalogVersion(12);
  static constexpr const char* kFields[][2] = {
      {"建房地址", "黄龙镇大龙村"},
      {"宅基地面积", "120㎡"},
      {"建筑面积", "240㎡"},
      {"建筑层数", "2"},
      {"四至", "东至村道，南至邻宅，西至自留地，北至山林"},
  };
  auto fields = b.initFields(std::size(kFields));
  for (unsigned k = 0; k < std::size(kFields); ++k) {
    fields[k].setKey(kFields[k][0]);
    fields[k].setValue(k == 0 ? std::string(kFields[k][1]) + "第" + group + "组"
                              : std::string(kFields[k][1]));
  }
  static constexpr const char* kMaterials[] = {"宅基地和建房申请表", "居民身份证", "户口簿",
                                               "村民小组会议记录"};
  auto ms = b.initMaterials(std::size(kMaterials));
  for (unsigned k = 0; k < std::size(kMaterials); ++k) {
    ms[k].setName(kMaterials[k]);
    ms[k].setOriginal(k == 0 || k == 3);
    ms[k].setCount(1);
    ms[k].setState(proto::MaterialState::PROVIDED);
  }
  b.setFeeDue(0);
  b.setSummary(name + "户申请拆旧建新。");
  return seal(msg, key);
}

}  // namespace

Corpus make_corpus(std::size_t events, std::size_t villages, unsigned threads) {
  Corpus c;
  for (std::size_t v = 0; v < villages; ++v) {
    char code[32];
    std::snprintf(code, sizeof code, "%s%03u", kHubCode, static_cast<unsigned>(v % 1000 + 1));
    c.origins.push_back(code);
    c.keys.push_back(generate_signing_key());
  }
  c.sealed.resize(events);
  std::vector<std::optional<EventView>> views(events);
  // Stamped an hour ago, one millisecond apart: well inside the skew limit.
  const uint64_t base_ms = wall_clock_ms() - 3600 * 1000;
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = t; i < events; i += threads) {
        const std::size_t v = i % villages;
        c.sealed[i] =
            make_event(c.keys[v], c.origins[v], i / villages + 1, i, make_hlc(base_ms + i, 0));
        auto view = EventView::parse(c.sealed[i]);
        if (view.ok()) views[i] = std::move(view).value();
      }
    });
  }
  for (auto& w : workers)
    w.join();
  c.views.reserve(events);
  for (std::size_t i = 0; i < events; ++i) {
    if (!views[i]) throw std::runtime_error("bench event does not parse");
    c.sealed_bytes += c.sealed[i].size();
    c.views.push_back(std::move(*views[i]));
  }
  return c;
}

}  // namespace liandong::bench
