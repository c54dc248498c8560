// Which upstream a child dials, and when (docs/PROTOCOL.md §6): the most
// preferred one that is due; while streaming to a fallback (the county),
// a probe of a more preferred one (the township) when its backoff is due,
// at most one dial in flight; a Welcome from a more preferred upstream
// makes it the one in use and the fallback is left with Bye. Failures back
// off per node/sync/redial.h, with the random source handed in.
//
// Pure bookkeeping: no sockets, no clock of its own; the caller carries out
// the dials and closes and reports what came of them.
//
// Thread contract: one thread (the owner of the links) uses an object.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <random>
#include <vector>

#include "node/sync/clock.h"

namespace liandong::sync {

class UpstreamPolicy {
 public:
  enum class State { down, connecting, up };
  struct Settings {
    std::chrono::milliseconds redial_min{500}, redial_max{30000};
    // A dial with no Welcome for this long has failed.
    std::chrono::milliseconds peer_timeout{20000};
  };

  // `count` upstreams, index 0 the most preferred. `rng` is the random
  // source of the backoff's jitter.
  UpstreamPolicy(std::size_t count, Settings settings, std::mt19937_64 rng);

  // The upstream to dial now, if any: none while a dial (other than the
  // one in use) is in flight; with one in use, only a more preferred one.
  std::optional<std::size_t> due(TimePoint now) const;
  // A dial of `i` went out (or a Hello on it).
  void dialing(std::size_t i, TimePoint now);
  // Dials in flight longer than peer_timeout: the caller closes them and
  // reports failed(i, ...).
  std::vector<std::size_t> timed_out(TimePoint now) const;
  // `i` answered Welcome. Returns the upstream that was in use and is now
  // left (the caller says Bye and closes it), if any.
  std::optional<std::size_t> welcomed(std::size_t i, TimePoint now);
  // A dial of `i` failed, or its link was lost: it is down and is tried
  // again after the backoff. `refused`: the parent refused us (a Refused
  // other than malformed/shuttingDown, or keys that fail the handshake):
  // the backoff grows to redial_max until the next Welcome.
  void failed(std::size_t i, TimePoint now, bool refused);
  // `i` may not be dialled before `until` (its peer was dropped for abuse).
  void hold(std::size_t i, TimePoint until);
  // The network came back or a person asked: every upstream that is down
  // (and not refused, unless `force`; never one held) is due now.
  void due_now(TimePoint now, bool force);

  std::optional<std::size_t> active() const { return active_; }
  State state(std::size_t i) const { return links_[i].state; }
  int failures(std::size_t i) const { return links_[i].failures; }
  bool refused(std::size_t i) const { return links_[i].refused; }
  TimePoint next_dial(std::size_t i) const { return links_[i].next_dial; }
  std::size_t size() const { return links_.size(); }
  // New timings (a reloaded config): the next backoff uses them.
  void retune(Settings s) { settings_ = s; }

 private:
  struct Link {
    State state = State::down;
    int failures = 0;
    bool refused = false;
    TimePoint next_dial{}, dialed{}, held_until{};
  };
  std::vector<Link> links_;
  Settings settings_;
  std::mt19937_64 rng_;
  std::optional<std::size_t> active_;
};

}  // namespace liandong::sync
