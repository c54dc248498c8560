// Registering applications and acting on cases through the real CLI, for
// the tests that drive a tree of nodes (tests/net_fixture.h) or one store.
// The helpers that must succeed check with Catch2's REQUIRE, so they run
// inside a test case only.
//
// Thread contract: submit_args is pure; try_submit may run on any thread
// (net.cli is const); submit and act only on the test's main thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/net_fixture.h"

namespace liandong::test {

// One application (申请) as `liandong submit` takes it. The defaults are the
// village agent 王小红 of the test rosters registering a 农村宅基地建房
// application for 张三.
struct Application {
  std::string actor = "王小红";
  std::string role;  // --role; "" leaves it to the CLI (agent at a village point)
  std::string item = "NC-ZJD-001";
  std::string item_name = "农村宅基地建房";  // --item-name; "" leaves it out
  std::string applicant = "张三";
  std::string id_number = "360723198805123413";  // "" leaves it out
  std::vector<std::string> extra;  // more flags: {"--fee-due", "12.50"}, {"--material", "..."}
};

// The arguments of `liandong submit ... --json-out` for `a` (no binary, no --data).
std::vector<std::string> submit_args(const Application& a);

// Registers `a` at `code`; the new case id, or nullopt with a readable
// reason in `*err` (when err is not null): the exit code, the time it took
// and stderr, or the output that held no case id.
std::optional<std::string> try_submit(
    const Net& net, const std::string& code, const Application& a, std::string* err = nullptr,
    std::chrono::milliseconds deadline = std::chrono::seconds(30));

// Registers `a` at `code` and REQUIREs that it worked; the case id.
std::string submit(const Net& net, const std::string& code, const Application& a = {});

// Registers `a` in the store at `data` (no daemon needed: the CLI writes
// the store) and REQUIREs that it worked; the case id.
std::string submit_in(const std::filesystem::path& data, const Application& a);

// `liandong act CASE ARGS... --json` at `code`, REQUIRE-ing that it worked;
// the new event's id.
std::string act(const Net& net, const std::string& code, const std::string& case_id,
                std::vector<std::string> args);

}  // namespace liandong::test
