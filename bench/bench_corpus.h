// Benchmark inputs: realistic signed `submitted` events of about 1 KiB (a
// 农村宅基地建房 application with a Chinese applicant, an ID number, form
// fields and a material list), made and signed before anything is timed.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "protocol/crypto.h"
#include "protocol/event_codec.h"

namespace liandong::bench {

// The receiving node: a township hub whose villages send the events.
constexpr const char* kHubCode = "360723101";

struct Corpus {
  std::vector<std::string> origins;  // village codes under kHubCode
  std::vector<SigningKey> keys;      // keys[k] signs for origins[k]
  std::vector<std::string> sealed;   // arrival order; each its own case
  std::vector<EventView> views;      // sealed[i] parsed, for apply-only runs
  std::size_t sealed_bytes = 0;      // sum over `sealed`
};

// Makes `events` events spread round-robin over `villages` origins, each
// origin's sequence numbers ascending from 1; signs on `threads` threads.
Corpus make_corpus(std::size_t events, std::size_t villages, unsigned threads);

}  // namespace liandong::bench
