// When a child dials its parent again after a failed or lost link
// (docs/PROTOCOL.md, "Redial"), and how long one dial may wait for TCP.
//
// Two kinds of failure, two policies:
//  - the link is gone (no route, no answer, connection reset, the parent
//    not running): nothing is wrong with this node, the network will come
//    back, and it must be noticed soon after it does. The backoff doubles
//    from redial_min but stops at kLinkRedialCap (or redial_max, if that is
//    lower): a dial is one TCP SYN, cheap enough to repeat every few
//    seconds for days.
//  - the parent refused us (a Refused message: unknown key, outside its
//    jurisdiction, wrong version; or the CurveZMQ handshake failed on keys):
//    dialing again changes nothing until a person fixes a config, so the
//    backoff grows to redial_max.
// Either way the delay gets jitter in [d/2, 3d/2), so villages that lost
// their link together do not redial in step.
//
// Thread contract: pure functions; the random source is the caller's.
#pragma once

#include <chrono>
#include <random>

namespace liandong::sync {

// The longest pause between dials of a link that was never refused.
inline constexpr std::chrono::milliseconds kLinkRedialCap{3000};
// How long one dial waits for its TCP connection (ZMQ_CONNECT_TIMEOUT)
// before it counts as failed: a SYN lost to a dead link is not retried by
// the kernel for minutes, and a link that came back meanwhile must not wait
// for that.
inline constexpr std::chrono::milliseconds kConnectTimeout{3000};

// The pause before dial number `failures` + 1 (failures >= 1).
std::chrono::milliseconds redial_delay(int failures, bool refused, std::chrono::milliseconds min,
                                       std::chrono::milliseconds max, std::mt19937_64& rng);

}  // namespace liandong::sync
