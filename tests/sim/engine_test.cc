#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "citybed/sim/engine.h"
#include "citybed/sim/random.h"

using namespace citybed::sim;
using namespace std::chrono_literals;

TEST_CASE("Engine runs same-time events in FIFO order", "[sim]") {
  Engine engine;
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) engine.ScheduleAt(Time() + 5ms, [&order, i] { order.push_back(i); });
  // An event scheduled at the same time from inside a callback runs after those already there.
  engine.ScheduleAt(Time() + 1ms, [&] {
    engine.ScheduleAt(Time() + 5ms, [&order] { order.push_back(-1); });
  });
  engine.Run();
  REQUIRE(order.size() == 1001);
  for (int i = 0; i < 1000; ++i) CHECK(order[static_cast<size_t>(i)] == i);
  CHECK(order.back() == -1);
}

TEST_CASE("Engine runs events in time order and time never goes back", "[sim]") {
  Engine engine;
  Rng rng(42);
  std::vector<std::pair<int64_t, int>> ran;
  int next_label = 0;
  for (int i = 0; i < 20000; ++i) {
    const int label = next_label++;
    engine.ScheduleAt(Time::FromNs(static_cast<int64_t>(rng.Below(1000))), [&, label] {
      ran.emplace_back(engine.Now().ns(), label);
    });
  }
  engine.Run();
  REQUIRE(ran.size() == 20000);
  for (size_t i = 1; i < ran.size(); ++i) {
    REQUIRE(ran[i - 1].first <= ran[i].first);
    if (ran[i - 1].first == ran[i].first) REQUIRE(ran[i - 1].second < ran[i].second);
  }
}

TEST_CASE("Engine refuses to schedule in the past", "[sim]") {
  Engine engine;
  engine.ScheduleAt(Time() + 10ms, [&] {
    CHECK_THROWS_AS(engine.ScheduleAt(Time() + 5ms, [] {}), std::invalid_argument);
    CHECK_THROWS_AS(engine.ScheduleIn(-1ms, [] {}), std::invalid_argument);
  });
  engine.Run();
  CHECK(engine.Now() == Time() + 10ms);
  CHECK(engine.Executed() == 1);
}

TEST_CASE("Cancel prevents a pending event and is a no-op otherwise", "[sim]") {
  Engine engine;
  int ran = 0;
  EventId a = engine.ScheduleIn(1ms, [&] { ran += 1; });
  EventId b = engine.ScheduleIn(2ms, [&] { ran += 10; });
  CHECK(engine.IsPending(a));
  CHECK(engine.Cancel(a));
  CHECK_FALSE(engine.IsPending(a));
  CHECK_FALSE(engine.Cancel(a));  // twice
  CHECK(engine.Pending() == 1);
  engine.Run();
  CHECK(ran == 10);
  CHECK_FALSE(engine.Cancel(b));  // already ran
  CHECK_FALSE(engine.Cancel(EventId{}));  // names nothing
}

TEST_CASE("A stale id does not cancel the event that reuses its slot", "[sim]") {
  Engine engine;
  int ran = 0;
  EventId first = engine.ScheduleIn(1ms, [&] { ++ran; });
  engine.Run();
  EventId second = engine.ScheduleIn(1ms, [&] { ran += 100; });
  CHECK(second.slot == first.slot);  // slots are recycled
  CHECK_FALSE(engine.Cancel(first));
  engine.Run();
  CHECK(ran == 101);
}

TEST_CASE("A running event cannot cancel itself but can cancel others", "[sim]") {
  Engine engine;
  EventId self, other;
  bool other_ran = false, cancel_self = true;
  self = engine.ScheduleIn(1ms, [&] {
    cancel_self = engine.Cancel(self);
    CHECK(engine.Cancel(other));
  });
  other = engine.ScheduleIn(2ms, [&] { other_ran = true; });
  engine.Run();
  CHECK_FALSE(cancel_self);
  CHECK_FALSE(other_ran);
}

TEST_CASE("Cancelling many events compacts the queue and keeps the live ones", "[sim]") {
  Engine engine;
  std::vector<EventId> ids;
  int ran = 0;
  for (int i = 0; i < 20000; ++i) ids.push_back(engine.ScheduleIn(Duration::Nanoseconds(i + 1), [&] { ++ran; }));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 10 != 0) CHECK(engine.Cancel(ids[i]));
  }
  CHECK(engine.Pending() == 2000);
  engine.Run();
  CHECK(ran == 2000);
  CHECK(engine.Empty());
}

TEST_CASE("Large callbacks are boxed and destroyed exactly once", "[sim]") {
  auto token = std::make_shared<int>(0);
  {
    Engine engine;
    struct Big {
      std::shared_ptr<int> token;
      char pad[200];
      void operator()() const { ++*token; }
    };
    engine.ScheduleIn(1ms, Big{token, {}});
    EventId cancelled = engine.ScheduleIn(2ms, Big{token, {}});
    engine.ScheduleIn(3s, Big{token, {}});  // still pending when the engine is destroyed
    CHECK(token.use_count() == 4);
    engine.Cancel(cancelled);
    CHECK(token.use_count() == 3);
    engine.RunUntil(Time() + 1s);
    CHECK(*token == 1);
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);  // the pending one was destroyed with the engine
}

TEST_CASE("RunUntil runs events up to and including the limit and advances Now", "[sim]") {
  Engine engine;
  std::vector<int> ran;
  engine.ScheduleAt(Time() + 1s, [&] { ran.push_back(1); });
  engine.ScheduleAt(Time() + 2s, [&] { ran.push_back(2); });
  engine.ScheduleAt(Time() + 3s, [&] { ran.push_back(3); });
  engine.RunUntil(Time() + 2s);
  CHECK(ran == std::vector<int>{1, 2});
  CHECK(engine.Now() == Time() + 2s);
  engine.RunUntil(Time() + 2500ms);
  CHECK(engine.Now() == Time() + 2500ms);
  CHECK(engine.NextTime() == Time() + 3s);
  CHECK(engine.Step());
  CHECK(ran.size() == 3);
  CHECK_FALSE(engine.Step());
}

TEST_CASE("Stop ends Run after the current event", "[sim]") {
  Engine engine;
  int ran = 0;
  for (int i = 1; i <= 10; ++i) {
    engine.ScheduleAt(Time() + Duration::Milliseconds(i), [&] {
      if (++ran == 4) engine.Stop();
    });
  }
  engine.Run();
  CHECK(ran == 4);
  CHECK(engine.Now() == Time() + 4ms);
  engine.Run();
  CHECK(ran == 10);
}

TEST_CASE("FIFO order survives the renumbering of exhausted sequence numbers", "[sim]") {
  Engine engine;
  engine.SetNextSequenceForTesting((uint64_t{1} << 38) - 50);
  std::vector<int> order;
  for (int i = 0; i < 200; ++i) engine.ScheduleAt(Time() + Duration::Milliseconds(i % 3), [&order, i] { order.push_back(i); });
  engine.Run();
  REQUIRE(order.size() == 200);
  for (size_t i = 1; i < order.size(); ++i) {
    const int a = order[i - 1], b = order[i];
    CHECK(((a % 3 < b % 3) || (a % 3 == b % 3 && a < b)));
  }
}

namespace {
// A small model with random delays and cancellations; returns its event trace as text.
std::string Trace(uint64_t seed) {
  Engine engine;
  RngStreams streams(seed);
  Rng arrivals = streams.Stream("arrivals");
  Rng work = streams.Stream("work");
  std::string trace;
  std::vector<EventId> timers;
  for (int job = 0; job < 2000; ++job) {
    const Duration at = Duration::Nanoseconds(static_cast<int64_t>(Exponential{1e6}(arrivals)));
    engine.ScheduleIn(at, [&, job] {
      trace += std::to_string(engine.Now().ns()) + " start " + std::to_string(job) + "\n";
      timers.push_back(engine.ScheduleIn(Duration::Nanoseconds(static_cast<int64_t>(Exponential{5e5}(work))), [&, job] {
        trace += std::to_string(engine.Now().ns()) + " done " + std::to_string(job) + "\n";
      }));
      if (job % 7 == 0 && timers.size() > 3) engine.Cancel(timers[timers.size() - 3]);
    });
  }
  engine.Run();
  return trace;
}
}  // namespace

TEST_CASE("Runs with the same seed produce byte-identical event traces", "[sim]") {
  const std::string a = Trace(7), b = Trace(7), c = Trace(8);
  CHECK(a.size() > 10000);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("Engines are independent objects", "[sim]") {
  Engine one, two;
  int a = 0, b = 0;
  one.ScheduleIn(1s, [&] { ++a; });
  two.ScheduleIn(2s, [&] { ++b; });
  one.Run();
  CHECK(a == 1);
  CHECK(b == 0);
  CHECK(two.Now() == Time());
  two.Run();
  CHECK(two.Now() == Time() + 2s);
}
