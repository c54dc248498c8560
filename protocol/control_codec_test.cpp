// The control socket's messages (protocol/control.capnp): what the CLI
// sends comes back the same, and a malformed or oversized request is
// refused with a reason.
#include "protocol/control_codec.h"

#include <catch2/catch.hpp>

using namespace liandong;

TEST_CASE("control codec: a request with files and a reply round-trip", "[protocol]") {
  ControlRequest r;
  r.args = {"submit", "--json", "a.json", "", "王五"};
  r.files["a.json"] = std::string("{\"x\":\0}", 7);
  auto back = decode_control_request(encode_control_request(r), 100);
  REQUIRE(back.ok());
  CHECK(back->args == r.args);
  CHECK(back->files == r.files);
  ControlReply reply{1, "已登记\n", std::string("错误：\0x\n", 12)};
  auto rb = decode_control_reply(encode_control_reply(reply));
  REQUIRE(rb.ok());
  CHECK(rb->exit_code == 1);
  CHECK(rb->out == reply.out);
  CHECK(rb->err == reply.err);
}

TEST_CASE("control codec: malformed, oversized or repeated requests are refused", "[protocol]") {
  ControlRequest r;
  r.args = {"submit", "--json", "a.json"};
  r.files["a.json"] = "{}{}";
  const std::string bytes = encode_control_request(r);
  CHECK_FALSE(decode_control_request(bytes, 3).ok());  // a file over its bound
  CHECK_FALSE(decode_control_request(bytes.substr(0, bytes.size() - 8), 100).ok());
  CHECK_FALSE(decode_control_request(bytes + std::string(8, '\0'), 100).ok());
  CHECK_FALSE(decode_control_request("", 100).ok());
  CHECK_FALSE(decode_control_request("submit", 100).ok());  // the old frames
  CHECK_FALSE(decode_control_request(std::string(16, '\xff'), 100).ok());
  ControlRequest nul;
  nul.args = {std::string("a\0b", 3)};
  CHECK_FALSE(decode_control_request(encode_control_request(nul), 100).ok());
  ControlRequest many;
  many.args.assign(kMaxControlArgs + 1, "x");
  CHECK_FALSE(decode_control_request(encode_control_request(many), 100).ok());
  ControlRequest unnamed;
  unnamed.files[""] = "x";
  CHECK_FALSE(decode_control_request(encode_control_request(unnamed), 100).ok());
}
