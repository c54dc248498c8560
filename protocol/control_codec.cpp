#include "protocol/control_codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <vector>

#include "protocol/control.capnp.h"

namespace liandong {

namespace {

std::string flat(capnp::MessageBuilder& m) {
  auto words = capnp::messageToFlatArray(m);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

capnp::Data::Reader data_of(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(s.data()), s.size());
}

std::string text_of(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

// Reads `bytes` as one message of root T with limits, calling fn(root).
// Bytes from ZeroMQ are not word aligned: copied into words first.
template <typename T, typename Fn>
Status read_flat(std::string_view bytes, Fn&& fn) {
  if (bytes.size() > kMaxControlMessageBytes)
    return Status::invalid("control message: larger than " +
                           std::to_string(kMaxControlMessageBytes) + " bytes");
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return Status::invalid(
        "control message: not a Cap'n Proto message (torn, or of an older "
        "liandong?)");
  std::vector<capnp::word> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions opts;
    opts.traversalLimitInWords = words.size() * 2 + 1024;
    opts.nestingLimit = 8;
    const kj::ArrayPtr<const capnp::word> view(words.data(), words.size());
    capnp::FlatArrayMessageReader reader(view, opts);
    if (reader.getEnd() != view.end()) return Status::invalid("control message: trailing data");
    return fn(reader.getRoot<T>());
  } catch (const kj::Exception& e) {
    return Status::invalid(std::string("control message: malformed: ") + e.getDescription().cStr());
  }
}

}  // namespace

std::string encode_control_request(const ControlRequest& r) {
  capnp::MallocMessageBuilder m;
  auto root = m.initRoot<proto::ControlRequest>();
  auto args = root.initArgs(static_cast<unsigned>(r.args.size()));
  for (unsigned i = 0; i < r.args.size(); ++i)
    args.set(i, capnp::Text::Reader(r.args[i].data(), r.args[i].size()));
  auto files = root.initFiles(static_cast<unsigned>(r.files.size()));
  unsigned i = 0;
  for (const auto& [name, bytes] : r.files) {
    files[i].setName(capnp::Text::Reader(name.data(), name.size()));
    files[i].setBytes(data_of(bytes));
    ++i;
  }
  return flat(m);
}

Result<ControlRequest> decode_control_request(std::string_view bytes, std::size_t max_file_bytes) {
  ControlRequest out;
  auto s = read_flat<proto::ControlRequest>(bytes, [&](proto::ControlRequest::Reader root) {
    auto args = root.getArgs();
    if (args.size() > kMaxControlArgs)
      return Status::invalid("control request: more than " + std::to_string(kMaxControlArgs) +
                             " arguments");
    for (auto a : args) {
      std::string arg(a.begin(), a.size());
      if (arg.find('\0') != std::string::npos)
        return Status::invalid("control request: an argument holds a NUL byte");
      out.args.push_back(std::move(arg));
    }
    auto files = root.getFiles();
    if (files.size() > kMaxControlFiles)
      return Status::invalid("control request: more than " + std::to_string(kMaxControlFiles) +
                             " files");
    for (auto f : files) {
      std::string name(f.getName().begin(), f.getName().size());
      if (name.empty()) return Status::invalid("control request: a file without a name");
      if (f.getBytes().size() > max_file_bytes)
        return Status::invalid("control request: " + name + " is larger than " +
                               std::to_string(max_file_bytes) + " bytes");
      if (!out.files.emplace(name, text_of(f.getBytes())).second)
        return Status::invalid("control request: " + name + " sent twice");
    }
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

std::string encode_control_reply(const ControlReply& r) {
  capnp::MallocMessageBuilder m;
  auto root = m.initRoot<proto::ControlReply>();
  root.setExitCode(r.exit_code);
  root.setOut(data_of(r.out));
  root.setErr(data_of(r.err));
  return flat(m);
}

Result<ControlReply> decode_control_reply(std::string_view bytes) {
  ControlReply out;
  auto s = read_flat<proto::ControlReply>(bytes, [&](proto::ControlReply::Reader root) {
    out.exit_code = root.getExitCode();
    out.out = text_of(root.getOut());
    out.err = text_of(root.getErr());
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

}  // namespace liandong
