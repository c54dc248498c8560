#include "node/sync/credit_window.h"

#include <catch2/catch.hpp>

using liandong::sync::CreditWindow;
using namespace std::chrono_literals;

namespace {
const CreditWindow::TimePoint t0{};
}

TEST_CASE("credit window: an ack of everything sent releases every batch in flight", "[credit]") {
  CreditWindow w;
  w.restart(10, t0);
  w.on_sent(15, 500, t0);
  w.on_sent(19, 300, t0 + 1ms);
  CHECK(w.bytes_in_flight() == 800);
  CHECK_FALSE(w.idle());

  SECTION("one ack for both") {
    CHECK(w.on_ack(19, t0 + 2ms));
    CHECK(w.acked() == 19);
    CHECK(w.idle());
    CHECK(w.bytes_in_flight() == 0);
  }
  SECTION("an ack for the first releases only the first") {
    CHECK(w.on_ack(15, t0 + 2ms));
    CHECK(w.acked() == 15);
    CHECK(w.bytes_in_flight() == 300);
    CHECK(w.on_ack(19, t0 + 3ms));
    CHECK(w.idle());
  }
  SECTION("a late ack below what was acked changes nothing") {
    CHECK(w.on_ack(19, t0 + 2ms));
    CHECK_FALSE(w.on_ack(15, t0 + 3ms));
    CHECK(w.acked() == 19);
    CHECK(w.sent() == 19);
  }
}

// The regression: the daemon capped each ack at a cached last-LSN that lagged
// behind what its pump had already read from the log and sent (events the
// node itself had just written, such as audit records). The batch was never
// released, the small-batch rule then held every later event behind it, and
// nothing moved until ack_timeout resent it. An ack may only be capped at
// what was sent.
TEST_CASE("credit window: an ack is never clamped below what was sent (ack clamped at last-LSN)",
          "[credit]") {
  CreditWindow w;
  w.restart(0, t0);
  // The pump read the log to 12 and sent it; the node's cached end said 10.
  w.on_sent(12, 400, t0);
  CHECK(w.on_ack(12, t0 + 5ms));
  CHECK(w.acked() == 12);
  CHECK(w.idle());
  // A small batch built next is not held behind a batch already acked.
  CHECK(w.release({/*reached_end=*/true, /*has_events=*/true, /*full=*/false}, t0 + 6ms, 2000ms));
}

TEST_CASE("credit window: an ack beyond what was sent counts as what was sent", "[credit]") {
  CreditWindow w;
  w.restart(3, t0);
  w.on_sent(7, 100, t0);
  CHECK(w.on_ack(1'000'000, t0 + 1ms));
  CHECK(w.acked() == 7);
  CHECK(w.sent() == 7);
  CHECK(w.idle());
}

TEST_CASE("credit window: a resend request rewinds to the receiver's cursor", "[credit]") {
  CreditWindow w;
  w.restart(0, t0);
  w.on_sent(5, 100, t0);
  w.on_sent(9, 100, t0);
  w.on_resend(5, /*limit=*/20, t0 + 1ms);
  CHECK(w.acked() == 5);
  CHECK(w.sent() == 5);
  CHECK(w.idle());
  // Beyond the end of our log: the end of our log.
  w.on_resend(50, /*limit=*/20, t0 + 2ms);
  CHECK(w.sent() == 20);
}

TEST_CASE("credit window: batches with no ack for ack_timeout are sent again from acked",
          "[credit]") {
  CreditWindow w;
  w.restart(0, t0);
  w.on_sent(4, 100, t0);
  CHECK(w.on_ack(4, t0 + 1s));
  w.on_sent(8, 100, t0 + 1s);
  CHECK_FALSE(w.expire(t0 + 1s + 900ms, 1000ms));
  CHECK(w.expire(t0 + 2s + 1ms, 1000ms));
  CHECK(w.acked() == 4);
  CHECK(w.sent() == 4);
  CHECK(w.idle());
  CHECK_FALSE(w.expire(t0 + 10s, 1000ms));  // nothing in flight: nothing to expire
}

TEST_CASE("credit window: the window closes at window_bytes in flight", "[credit]") {
  CreditWindow w;
  w.restart(0, t0);
  CHECK(w.open(1000));
  w.on_sent(1, 600, t0);
  CHECK(w.open(1000));
  w.on_sent(2, 600, t0);
  CHECK_FALSE(w.open(1000));
  w.drop_in_flight();
  CHECK(w.open(1000));
  CHECK(w.sent() == 0);
}

// The regression: the daemon held a cursor-only batch while its last
// *message* was recent, and sent the heartbeat first whenever one was due,
// so the cursor-only batch never went on an idle link.
TEST_CASE("credit window: a cursor-only batch goes once no batch went for a heartbeat interval",
          "[credit]") {
  const CreditWindow::Built cursor_only{true, false, false};
  CreditWindow w;
  w.restart(0, t0);
  w.on_sent(3, 100, t0 + 10s);
  CHECK(w.on_ack(3, t0 + 10s + 1ms));
  CHECK_FALSE(w.release(cursor_only, t0 + 10s + 500ms, 2000ms));
  // Only batches count: whatever else was sent meanwhile does not hold it.
  CHECK(w.release(cursor_only, t0 + 12s, 2000ms));
  // Not while a batch is in flight (it rides on the next one).
  w.on_sent(5, 100, t0 + 20s);
  CHECK_FALSE(w.release(cursor_only, t0 + 30s, 2000ms));
  // Away from the end of the log, a stretch with nothing for the peer goes.
  CHECK(w.release({false, false, false}, t0 + 20s, 2000ms));
}

TEST_CASE("credit window: a small batch waits for the ack in flight, a full one does not",
          "[credit]") {
  CreditWindow w;
  w.restart(0, t0);
  CHECK(w.release({true, true, false}, t0, 2000ms));
  w.on_sent(1, 100, t0);
  CHECK_FALSE(w.release({true, true, false}, t0 + 1ms, 2000ms));
  CHECK(w.release({true, true, true}, t0 + 1ms, 2000ms));
  CHECK(w.release({false, true, false}, t0 + 1ms, 2000ms));
  CHECK(w.on_ack(1, t0 + 2ms));
  CHECK(w.release({true, true, false}, t0 + 2ms, 2000ms));
}
