#include "protocol/submission_json.h"

#include <capnp/compat/json.h>
#include <capnp/message.h>
#include <kj/exception.h>

#include <string>

namespace liandong {

Status decode_submission_json(std::string_view text, proto::Submitted::Builder out) {
  if (text.size() > kMaxSubmissionJsonBytes)
    return Status::invalid("application JSON is larger than " +
                           std::to_string(kMaxSubmissionJsonBytes >> 20) + " MiB");
  capnp::JsonCodec codec;
  codec.setMaxNestingDepth(8);  // submission > applicant or lists > items: 3 deep
  codec.setRejectUnknownFields(true);
  const kj::ArrayPtr<const char> bytes(text.data(), text.size());
  // Decoded into a scratch message first: a document refused halfway leaves
  // `out` untouched. The same bytes then decode into `out` the same way.
  try {
    capnp::MallocMessageBuilder scratch;
    codec.decode(bytes, scratch.initRoot<proto::Submitted>());
  } catch (const kj::Exception& e) {
    std::string why = e.getDescription().cStr();
    if (const auto nl = why.find('\n'); nl != std::string::npos) why.resize(nl);
    return Status::invalid("not a valid application: " + why);
  }
  try {
    codec.decode(bytes, out);
  } catch (const kj::Exception& e) {
    return Status::internal(std::string("application JSON: ") + e.getDescription().cStr());
  }
  return Status::ok();
}

}  // namespace liandong
