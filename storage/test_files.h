// Attachment files for the tests of storage and the transfer: scans of a
// given size whose chunks all differ, and a `submitted` body naming them.
#pragma once

#include <string>
#include <vector>

#include "storage/store.h"
#include "storage/test_events.h"

namespace liandong::test {

// A scan of `size` bytes whose chunks all differ (`seed` varies the file).
inline std::string scan(std::size_t size, char seed) {
  std::string s(size, '\0');
  uint32_t x = 2166136261u ^ static_cast<unsigned char>(seed);
  for (auto& c : s) {
    x = x * 16777619u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// A `submitted` body naming `files` as scans of the 户口簿.
inline BodyFill submitted_with(std::vector<storage::FileRecord> files) {
  return [files](proto::Event::Builder ev) {
    submitted_body()(ev);
    auto as = ev.getBody().getSubmitted().initAttachments(static_cast<unsigned>(files.size()));
    for (unsigned i = 0; i < as.size(); ++i) {
      const auto& f = files[i];
      as[i].setSha256(
          capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(f.sha256.data()), 32));
      as[i].setSize(f.size);
      as[i].setName("户口簿.jpg");
      as[i].setMediaType("image/jpeg");
      as[i].setMaterial("户口簿");
      auto cs = as[i].initChunks(static_cast<unsigned>(f.chunks.size()));
      for (unsigned j = 0; j < cs.size(); ++j)
        cs.set(j,
               capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(f.chunks[j].data()), 32));
    }
  };
}

}  // namespace liandong::test
