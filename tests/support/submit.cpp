#include "tests/support/submit.h"

#include <catch2/catch.hpp>

namespace liandong::test {

std::vector<std::string> submit_args(const Application& a) {
  std::vector<std::string> args = {"submit", "--actor", a.actor};
  if (!a.role.empty()) args.insert(args.end(), {"--role", a.role});
  args.insert(args.end(), {"--item", a.item});
  if (!a.item_name.empty()) args.insert(args.end(), {"--item-name", a.item_name});
  args.insert(args.end(), {"--applicant", a.applicant});
  if (!a.id_number.empty()) args.insert(args.end(), {"--id-number", a.id_number});
  args.insert(args.end(), a.extra.begin(), a.extra.end());
  args.push_back("--json-out");
  return args;
}

std::optional<std::string> try_submit(const Net& net, const std::string& code, const Application& a,
                                      std::string* err, std::chrono::milliseconds deadline) {
  const auto started = std::chrono::steady_clock::now();
  const ProcessResult r = net.cli(code, submit_args(a), deadline);
  if (r.exit_code != 0) {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (err != nullptr)
      *err = (r.timed_out ? "no answer within " + std::to_string(deadline.count()) + " ms, killed"
                          : "exit " + std::to_string(r.exit_code)) +
             " after " + std::to_string(took.count()) + " ms: " + r.err;
    return std::nullopt;
  }
  auto j = parse_json(r.out);
  if (!j || j->str("case").empty()) {
    if (err != nullptr) *err = "unexpected output: " + r.out;
    return std::nullopt;
  }
  return j->str("case");
}

std::string submit(const Net& net, const std::string& code, const Application& a) {
  std::string err;
  auto c = try_submit(net, code, a, &err);
  INFO("submit at " << code << ": " << err);
  REQUIRE(c);
  return *c;
}

std::string submit_in(const std::filesystem::path& data, const Application& a) {
  std::vector<std::string> args = submit_args(a);
  args.insert(args.begin(), LIANDONG_BIN);
  args.insert(args.end(), {"--data", data.string()});
  const ProcessResult r = run_process(args);
  INFO("submit in " << data.string() << ": exit " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  auto j = parse_json(r.out);
  REQUIRE(j);
  REQUIRE_FALSE(j->str("case").empty());
  return j->str("case");
}

std::string act(const Net& net, const std::string& code, const std::string& case_id,
                std::vector<std::string> args) {
  args.insert(args.begin(), {"act", case_id});
  args.push_back("--json");
  const ProcessResult r = net.cli(code, args);
  INFO("act " << case_id << " " << args[2] << " at " << code << ": exit " << r.exit_code << ": "
              << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  auto j = parse_json(r.out);
  REQUIRE(j);
  REQUIRE_FALSE(j->str("event").empty());
  return j->str("event");
}

}  // namespace liandong::test
