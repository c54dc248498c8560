#include "node/desk/parts/pinyin.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <toml++/toml.h>

using liandong::desk::initials_match;
using liandong::desk::pinyin_initials;

namespace {

// Every item of config/catalog-example.toml, initials checked by hand
// against the readings in use (调解 is tiáojiě).
const std::map<std::string, std::string> kCatalogItems = {
    {"农村宅基地建房审批", "NCZJDJFSP"},
    {"林木采伐许可", "LMCFXK"},
    {"生育登记", "SYDJ"},
    {"出生登记（新生儿落户）", "CSDJXSELH"},
    {"户口迁移", "HKQY"},
    {"居民身份证换领补领", "JMSFZHLBL"},
    {"个体工商户登记", "GTGSHDJ"},
    {"农村最低生活保障", "NCZDSHBZ"},
    {"特困人员供养（五保）认定", "TKRYGYWBRD"},
    {"残疾人两项补贴", "CJRLXBT"},
    {"高龄津贴", "GLJT"},
    {"城乡居民医保报销（新农合）", "CXJMYBBXXNH"},
    {"城乡居民医保参保登记", "CXJMYBCBDJ"},
    {"农机购置补贴", "NJGZBT"},
    {"农村危房改造", "NCWFGZ"},
    {"临时救助", "LSJZ"},
    {"农村部分计划生育家庭奖励扶助", "NCBFJHSYJTJLFZ"},
    {"退役军人优待证申领", "TYJRYDZSL"},
    {"城乡居民养老保险待遇领取", "CXJMYLBXDYLQ"},
    {"土地承包经营纠纷调解", "TDCBJYJFTJ"},
    {"宅基地及邻里纠纷调解", "ZJDJLLJFTJ"},
    {"证明开具（居住、亲属关系等）", "ZMKJJZQSGXD"},
    {"政策咨询", "ZCZX"},
    {"办件进度及档案查询", "BJJDJDACX"},
};

}  // namespace

TEST_CASE("pinyin: initials of the examples in the desk's description", "[desk]") {
  CHECK(pinyin_initials("低保申请") == "DBSQ");
  CHECK(pinyin_initials("林木采伐许可") == "LMCFXK");
  CHECK(pinyin_initials("农村宅基地建房审批") == "NCZJDJFSP");
}

TEST_CASE("pinyin: every item of the example catalog has the initials checked by hand", "[desk]") {
  const auto catalog = toml::parse_file(LIANDONG_SOURCE_DIR "/config/catalog-example.toml");
  const toml::array* items = catalog["item"].as_array();
  REQUIRE(items != nullptr);
  REQUIRE(items->size() == kCatalogItems.size());
  for (const toml::node& item : *items) {
    const std::string name = item.as_table()->at("name").value_or(std::string());
    CAPTURE(name);
    auto expected = kCatalogItems.find(name);
    REQUIRE(expected != kCatalogItems.end());
    CHECK(pinyin_initials(name) == expected->second);
  }
}

TEST_CASE("pinyin: names of people and places", "[desk]") {
  // config/roster-example.toml, config/divisions-example.toml
  CHECK(pinyin_initials("王小红") == "WXH");
  CHECK(pinyin_initials("赵六") == "ZL");
  CHECK(pinyin_initials("孙八") == "SB");
  CHECK(pinyin_initials("李建国") == "LJG");
  CHECK(pinyin_initials("大余县南安镇水城村") == "DYXNAZSCC");
  CHECK(pinyin_initials("上竹乡") == "SZX");
  SECTION("GB2312 level 2 (sorted by radical, not by pinyin)") {
    CHECK(pinyin_initials("褚晓燕") == "CXY");  // the demo workload's applicant
    CHECK(pinyin_initials("邝昊") == "KH");
    CHECK(pinyin_initials("闫婷婷") == "YTT");
    CHECK(pinyin_initials("婺源") == "WY");
  }
  SECTION("outside GB2312") {
    CHECK(pinyin_initials("王喆") == "WZ");
    CHECK(pinyin_initials("李玥") == "LY");
    CHECK(pinyin_initials("张堃") == "ZK");
  }
  SECTION("not in any table: the character is dropped") {
    CHECK(pinyin_initials("刘䶮") == "L");  // CJK extension A
  }
}

TEST_CASE("pinyin: a word read otherwise than GB2312 files its first character", "[desk]") {
  CHECK(pinyin_initials("调解申请书") == "TJSQS");
  CHECK(pinyin_initials("伐区调查设计") == "FQDCSJ");  // 调 as diào stays D
  CHECK(pinyin_initials("危房重建") == "WFCJ");
  CHECK(pinyin_initials("重要") == "ZY");
  CHECK(pinyin_initials("银行卡") == "YHK");
  CHECK(pinyin_initials("行政") == "XZ");
}

TEST_CASE("pinyin: ASCII letters and digits are kept, everything else is dropped", "[desk]") {
  CHECK(pinyin_initials("B超检查") == "BCJC");
  CHECK(pinyin_initials("ab12") == "AB12");
  CHECK(pinyin_initials("第2代残疾人证") == "D2DCJRZ");
  CHECK(pinyin_initials("低保 申请！(加急)、") == "DBSQJJ");
  CHECK(pinyin_initials("ＡＢ①") == "");  // full-width letters, circled digit
  CHECK(pinyin_initials("") == "");
  SECTION("bytes that are not UTF-8 are dropped, the rest is read") {
    CHECK(pinyin_initials(std::string("\xff低\xe4\xbd保", 9)) == "DB");
    CHECK(pinyin_initials(std::string("申\xe8", 4)) == "S");  // cut in the middle
    CHECK(pinyin_initials(std::string("\xc0\xaf"
                                      "a",
                                      3)) == "A");                   // overlong '/'
    CHECK(pinyin_initials(std::string("\xed\xa0\x80x", 4)) == "X");  // surrogate
  }
}

TEST_CASE("pinyin: a search query matches initials or the name itself", "[desk]") {
  CHECK(initials_match("dbsq", "低保申请"));
  CHECK(initials_match("DBSQ", "低保申请"));
  CHECK(initials_match("db", "低保申请"));
  CHECK(initials_match("sq", "低保申请"));
  CHECK(initials_match("TJ", "土地承包经营纠纷调解"));
  CHECK(initials_match("低保", "低保申请"));
  CHECK(initials_match("申请", "低保申请"));
  CHECK(initials_match("b超", "B超检查"));
  CHECK(initials_match("", "低保申请"));
  CHECK_FALSE(initials_match("dbsqx", "低保申请"));
  CHECK_FALSE(initials_match("bd", "低保申请"));
  CHECK_FALSE(initials_match("d-b", "低保申请"));
  CHECK_FALSE(initials_match("五保", "低保申请"));
  CHECK_FALSE(initials_match("x", ""));
}

TEST_CASE("pinyin: threads get the same initials as one thread", "[desk]") {
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&results, t] {
      for (int round = 0; round < 200; ++round) {
        for (const auto& [name, initials] : kCatalogItems) {
          if (pinyin_initials(name) != initials) {
            results[t] = name;
            return;
          }
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (const std::string& wrong : results)
    CHECK(wrong.empty());
}
