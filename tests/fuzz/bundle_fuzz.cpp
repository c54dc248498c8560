// Fuzz target: a bundle file (node/bundle_file.h) as a USB stick brings it.
// The first byte chooses what the rest is:
//   0  the outer framing (parse_bundle_header): magic, version, header
//   1  one item's plaintext (decode_item), which must survive encoding
//      and decoding again
//   2  a whole file, read as the township does with fixed keys
//      (bundle_keys.h): header checks, signature, sealed key, every record
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "node/bundle_file.h"
#include "tests/fuzz/bundle_keys.h"

using namespace liandong;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || !crypto_ready()) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      (void)node::parse_bundle_header(rest);
      break;
    case 1:
      if (auto item = node::decode_item(rest); item.ok()) {
        auto again = node::decode_item(node::encode_item(*item));
        if (!again.ok() || again->kind != item->kind) __builtin_trap();
      }
      break;
    default: {
      static const SigningKey signer = fuzz::bundle_signer();
      static const CurveKeyPair own = fuzz::bundle_reader_keys();
      auto in = std::make_unique<std::istringstream>(std::string(rest));
      auto r = node::BundleReader::open(std::move(in), fuzz::kBundleTo, own, fuzz::kBundleNowMs,
                                        [](const std::string& from, const PublicKey& key) {
                                          return from == fuzz::kBundleFrom && key == signer.pub;
                                        });
      if (!r.ok()) break;
      for (int i = 0; i < 100000; ++i) {
        auto item = (*r)->next();
        if (!item.ok() || !*item) break;
      }
      break;
    }
  }
  return 0;
}
