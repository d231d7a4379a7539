// Engine: a sequential discrete-event simulator.
//
// Contract
//   - Events run in order of (time, scheduling sequence): events at equal times run in the
//     order they were scheduled (FIFO). This is a promise that tests and results rely on:
//     the same model and seed give the same event order on every run.
//   - Now() never goes back: scheduling an event before Now() throws std::invalid_argument.
//   - Cancel(id) is O(1): it destroys the callback at once and leaves a tombstone that the
//     queue drops when it reaches it (compacted when tombstones outnumber live events).
//   - Callbacks are any `void()` callable. Callables up to kInlineBytes (48 bytes, alignment
//     <= 16) are stored in a pre-allocated slot without a heap allocation; larger ones are
//     boxed on the heap. A callback may schedule and cancel events, including its own id.
//   - No global state: an Engine is a plain object; a process may hold any number of them.
//   - Not thread-safe: one thread drives an Engine. The real-time executor (realtime.h)
//     feeds I/O completions in on that thread.
//
// Complexity (n = pending events, including tombstones)
//   ScheduleAt/ScheduleIn   O(log4 n)   4-ary min-heap of 16-byte (time, sequence|slot) keys
//   Cancel, IsPending       O(1)
//   running one event       O(log4 n)   pop + one indirect call
// Memory: 64 bytes per slot (one cache line, slots are recycled LIFO so they stay warm) plus
// 16 bytes per heap entry. Slots live in fixed chunks, so their addresses never move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "citybed/sim/time.h"

namespace citybed::sim {

// Names one scheduled event. Default-constructed ids name nothing. An id stays distinct from
// every later event's id (slot + generation), so cancelling a stale id is a safe no-op.
struct EventId {
  static constexpr uint32_t kNone = 0xFFFFFFFFu;
  uint32_t slot = kNone;
  uint32_t generation = 0;
  bool valid() const { return slot != kNone; }
  friend bool operator==(EventId, EventId) = default;
};

class Engine {
 public:
  static constexpr size_t kInlineBytes = 48;

  Engine();
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Schedules `f` to run at time `t` (>= Now()). Returns its id.
  template <class F>
  EventId ScheduleAt(Time t, F&& f);
  // Schedules `f` to run `d` (>= 0) after Now().
  template <class F>
  EventId ScheduleIn(Duration d, F&& f) {
    return ScheduleAt(now_ + d, std::forward<F>(f));
  }

  // Cancels a pending event. Returns true if it was pending (and now will not run); false if
  // it already ran, is running, was cancelled, or the id names nothing.
  bool Cancel(EventId id);
  bool IsPending(EventId id) const;

  // Runs events until none are left or Stop() is called.
  void Run();
  // Runs every event with time <= t, then advances Now() to t (unless stopped earlier).
  void RunUntil(Time t);
  // Runs the next event, if any. Returns false when no event is pending.
  bool Step();
  // Called from inside a callback: makes Run/RunUntil return after the running event.
  void Stop() { stop_requested_ = true; }

  Time Now() const { return now_; }
  // Time of the next pending event, or Time::Max() if none. Drops tombstones at the front.
  Time NextTime();
  bool Empty() const { return live_ == 0; }
  size_t Pending() const { return live_; }
  uint64_t Executed() const { return executed_; }

  // Test hook: continue numbering events from `seq` (exercises sequence renumbering).
  void SetNextSequenceForTesting(uint64_t seq) { next_seq_ = seq; }

 private:
  // A heap entry: time, and key = (sequence << kSlotBits) | slot. Ordering by (time, key)
  // is ordering by (time, sequence) because sequences are unique.
  struct Entry {
    int64_t time;
    uint64_t key;
  };
  static constexpr unsigned kSlotBits = 26;  // up to 67 M pending events
  static constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
  static constexpr uint64_t kMaxSequence = uint64_t{1} << (64 - kSlotBits);

  struct Ops {
    void (*run)(void* storage);      // invokes, then destroys the callable
    void (*destroy)(void* storage);  // destroys without invoking (cancel, engine teardown)
  };

  struct alignas(64) Slot {
    alignas(16) unsigned char storage[kInlineBytes];
    const Ops* ops;  // non-null while the event is pending
    uint32_t generation;
    uint32_t next_free;
  };
  static_assert(sizeof(Slot) == 64);

  static constexpr unsigned kChunkBits = 12;  // 4096 slots (256 KiB) per chunk
  static constexpr uint32_t kChunkMask = (1u << kChunkBits) - 1;

  template <class Fn>
  struct InlineOps {
    static void Run(void* p) {
      Fn& fn = *static_cast<Fn*>(p);
      struct Destroy {
        Fn& fn;
        ~Destroy() { fn.~Fn(); }
      } guard{fn};
      fn();
    }
    static void Destroy(void* p) { static_cast<Fn*>(p)->~Fn(); }
    static constexpr Ops kOps{&Run, &Destroy};
  };
  template <class Fn>
  struct BoxedOps {
    static Fn* Get(void* p) { return *static_cast<Fn**>(p); }
    static void Run(void* p) {
      std::unique_ptr<Fn> fn(Get(p));
      (*fn)();
    }
    static void Destroy(void* p) { delete Get(p); }
    static constexpr Ops kOps{&Run, &Destroy};
  };

  Slot& SlotAt(uint32_t index) const { return chunks_[index >> kChunkBits][index & kChunkMask]; }
  uint32_t AllocSlot();
  void FreeSlot(uint32_t index);
  void Push(int64_t time, uint32_t slot);
  void PopTop();
  void RenumberSequences();
  void CompactTombstones();
  void RunLoop(int64_t limit, uint64_t max_events);
  [[noreturn]] void ThrowPast(Time t) const;

  // Times are >= 0, so (time, key) compares as one unsigned 128-bit number: branch-free.
  static bool Less(const Entry& a, const Entry& b) {
    __extension__ using U128 = unsigned __int128;
    return ((U128(uint64_t(a.time)) << 64) | a.key) < ((U128(uint64_t(b.time)) << 64) | b.key);
  }

  std::vector<Entry> heap_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  uint32_t free_head_ = EventId::kNone;
  uint32_t slot_count_ = 0;
  size_t live_ = 0;         // pending, not cancelled
  size_t tombstones_ = 0;   // cancelled, still in heap_
  uint64_t next_seq_ = 0;
  uint64_t executed_ = 0;
  Time now_;
  bool stop_requested_ = false;
};

template <class F>
EventId Engine::ScheduleAt(Time t, F&& f) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&>, "an event callback must be callable as void()");
  if (t < now_) ThrowPast(t);
  const uint32_t index = AllocSlot();
  Slot& slot = SlotAt(index);
  try {
    if constexpr (sizeof(Fn) <= kInlineBytes && alignof(Fn) <= 16) {
      ::new (static_cast<void*>(slot.storage)) Fn(std::forward<F>(f));
      slot.ops = &InlineOps<Fn>::kOps;
    } else {
      Fn* boxed = new Fn(std::forward<F>(f));
      ::new (static_cast<void*>(slot.storage)) Fn*(boxed);
      slot.ops = &BoxedOps<Fn>::kOps;
    }
  } catch (...) {
    FreeSlot(index);
    throw;
  }
  Push(t.ns(), index);
  ++live_;
  return EventId{index, slot.generation};
}

}  // namespace citybed::sim
