#include "citybed/sim/engine.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace citybed::sim {

Engine::Engine() { heap_.reserve(1024); }

Engine::~Engine() {
  for (const Entry& e : heap_) {
    Slot& slot = SlotAt(static_cast<uint32_t>(e.key & kSlotMask));
    if (slot.ops != nullptr) slot.ops->destroy(slot.storage);
  }
}

void Engine::ThrowPast(Time t) const {
  throw std::invalid_argument("Engine::ScheduleAt: time " + t.ToString() + " is before Now() " +
                              now_.ToString() + "; time never goes back");
}

uint32_t Engine::AllocSlot() {
  if (free_head_ != EventId::kNone) {
    const uint32_t index = free_head_;
    free_head_ = SlotAt(index).next_free;
    return index;
  }
  if (slot_count_ > kSlotMask) throw std::length_error("Engine: more than 2^26 pending events");
  if ((slot_count_ & kChunkMask) == 0) {
    chunks_.push_back(std::make_unique<Slot[]>(size_t{1} << kChunkBits));
  }
  const uint32_t index = slot_count_++;
  Slot& slot = SlotAt(index);
  slot.ops = nullptr;
  slot.generation = 0;
  return index;
}

void Engine::FreeSlot(uint32_t index) {
  Slot& slot = SlotAt(index);
  slot.ops = nullptr;
  ++slot.generation;
  slot.next_free = free_head_;
  free_head_ = index;
}

void Engine::Push(int64_t time, uint32_t slot) {
  if (next_seq_ >= kMaxSequence) RenumberSequences();
  const Entry e{time, (next_seq_++ << kSlotBits) | slot};
  size_t i = heap_.size();
  heap_.push_back(e);
  while (i > 0) {
    const size_t parent = (i - 1) >> 2;
    if (!Less(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

// Removes the root. Floyd's variant: the hole walks down along the smaller children to a leaf
// without comparing against the displaced last entry, which then sifts up from there. The last
// entry usually belongs near the bottom, so this saves a comparison per level and the branch
// mispredictions that come with it.
void Engine::PopTop() {
  const Entry last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  Entry* h = heap_.data();
  size_t i = 0;
  while (true) {
    const size_t first = 4 * i + 1;
    if (first + 3 < n) {
      const size_t a = first + (Less(h[first + 1], h[first]) ? 1 : 0);
      const size_t b = first + 2 + (Less(h[first + 3], h[first + 2]) ? 1 : 0);
      const size_t best = Less(h[b], h[a]) ? b : a;
      h[i] = h[best];
      i = best;
    } else if (first < n) {
      size_t best = first;
      for (size_t c = first + 1; c < n; ++c) {
        if (Less(h[c], h[best])) best = c;
      }
      h[i] = h[best];
      i = best;
    } else {
      break;
    }
  }
  while (i > 0) {
    const size_t parent = (i - 1) >> 2;
    if (!Less(last, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = last;
}

// Sequences are 38 bits. When they run out (after 2.7e11 schedules), renumber the pending
// entries in their current order; relative order, and so FIFO, is unchanged.
void Engine::RenumberSequences() {
  std::sort(heap_.begin(), heap_.end(), Less);  // a sorted array is a valid min-heap
  uint64_t seq = 0;
  for (Entry& e : heap_) e.key = (seq++ << kSlotBits) | (e.key & kSlotMask);
  next_seq_ = seq;
}

void Engine::CompactTombstones() {
  auto dead = [this](const Entry& e) {
    const uint32_t index = static_cast<uint32_t>(e.key & kSlotMask);
    if (SlotAt(index).ops != nullptr) return false;
    FreeSlot(index);
    return true;
  };
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), dead), heap_.end());
  std::sort(heap_.begin(), heap_.end(), Less);
  tombstones_ = 0;
}

bool Engine::Cancel(EventId id) {
  if (!IsPending(id)) return false;
  Slot& slot = SlotAt(id.slot);
  const Ops* ops = slot.ops;
  slot.ops = nullptr;  // tombstone: the heap entry stays until popped or compacted
  ops->destroy(slot.storage);
  --live_;
  ++tombstones_;
  if (tombstones_ > 4096 && tombstones_ > live_) CompactTombstones();
  return true;
}

bool Engine::IsPending(EventId id) const {
  if (id.slot >= slot_count_) return false;
  const Slot& slot = SlotAt(id.slot);
  return slot.generation == id.generation && slot.ops != nullptr;
}

Time Engine::NextTime() {
  while (!heap_.empty()) {
    const uint32_t index = static_cast<uint32_t>(heap_[0].key & kSlotMask);
    if (SlotAt(index).ops != nullptr) return Time::FromNs(heap_[0].time);
    PopTop();
    FreeSlot(index);
    --tombstones_;
  }
  return Time::Max();
}

// The hot loop: pop the earliest entry, drop it if cancelled, else set Now() and run it.
void Engine::RunLoop(int64_t limit, uint64_t max_events) {
  stop_requested_ = false;
  const uint64_t stop_at = max_events > UINT64_MAX - executed_ ? UINT64_MAX : executed_ + max_events;
  while (!heap_.empty() && !stop_requested_ && executed_ < stop_at) {
    const Entry top = heap_[0];
    if (top.time > limit) break;
    PopTop();
    if (!heap_.empty()) __builtin_prefetch(&SlotAt(static_cast<uint32_t>(heap_[0].key & kSlotMask)));
    const uint32_t index = static_cast<uint32_t>(top.key & kSlotMask);
    Slot& slot = SlotAt(index);
    const Ops* ops = slot.ops;
    if (ops == nullptr) {
      FreeSlot(index);
      --tombstones_;
      continue;
    }
    assert(top.time >= now_.ns() && "time never goes back");
    now_ = Time::FromNs(top.time);
    slot.ops = nullptr;  // running: no longer pending, Cancel(own id) is a no-op
    --live_;
    ++executed_;
    try {
      ops->run(slot.storage);
    } catch (...) {
      FreeSlot(index);
      throw;
    }
    FreeSlot(index);
  }
}

void Engine::Run() { RunLoop(Time::Max().ns(), UINT64_MAX); }

void Engine::RunUntil(Time t) {
  if (t < now_) ThrowPast(t);
  RunLoop(t.ns(), UINT64_MAX);
  if (!stop_requested_) now_ = t;
}

bool Engine::Step() {
  if (NextTime() == Time::Max()) return false;
  RunLoop(Time::Max().ns(), 1);
  return true;
}

}  // namespace citybed::sim
