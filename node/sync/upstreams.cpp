#include "node/sync/upstreams.h"

#include "node/sync/redial.h"

namespace liandong::sync {

namespace {
// A refusal backs off as after this many failures: straight to the cap.
constexpr int kRefusedFailures = 30;
}  // namespace

UpstreamPolicy::UpstreamPolicy(std::size_t count, Settings settings, std::mt19937_64 rng)
    : links_(count), settings_(settings), rng_(rng) {}

std::optional<std::size_t> UpstreamPolicy::due(TimePoint now) const {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (i != active_ && links_[i].state == State::connecting) return std::nullopt;
  }
  const std::size_t limit = active_ ? *active_ : links_.size();
  for (std::size_t i = 0; i < limit; ++i) {
    if (links_[i].state == State::down && links_[i].next_dial <= now) return i;
  }
  return std::nullopt;
}

void UpstreamPolicy::dialing(std::size_t i, TimePoint now) {
  links_[i].state = State::connecting;
  links_[i].dialed = now;
}

std::vector<std::size_t> UpstreamPolicy::timed_out(TimePoint now) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].state == State::connecting && now - links_[i].dialed > settings_.peer_timeout)
      out.push_back(i);
  }
  return out;
}

std::optional<std::size_t> UpstreamPolicy::welcomed(std::size_t i, TimePoint) {
  Link& l = links_[i];
  l.state = State::up;
  l.failures = 0;
  l.refused = false;
  if (active_ && *active_ <= i) return std::nullopt;
  const auto left = active_;
  active_ = i;
  if (left) links_[*left].state = State::down;
  return left;
}

void UpstreamPolicy::failed(std::size_t i, TimePoint now, bool refused) {
  Link& l = links_[i];
  l.state = State::down;
  if (refused) {
    l.refused = true;
    l.failures = kRefusedFailures;
  } else {
    ++l.failures;
  }
  l.next_dial =
      now + redial_delay(l.failures, l.refused, settings_.redial_min, settings_.redial_max, rng_);
  if (active_ == i) active_.reset();
}

void UpstreamPolicy::hold(std::size_t i, TimePoint until) {
  links_[i].state = State::down;
  links_[i].next_dial = links_[i].held_until = until;
  if (active_ == i) active_.reset();
}

void UpstreamPolicy::due_now(TimePoint now, bool force) {
  for (auto& l : links_) {
    if (l.state != State::down || (l.refused && !force) || l.held_until > now) continue;
    l.failures = 0;
    l.next_dial = now;
  }
}

}  // namespace liandong::sync
