// Interner: maps strings (expanded IRIs of attribute names, entity types, dataset ids) to
// dense 32-bit ids, so entities store and compare names as integers. Id 0 means "none".
// Intern and Find are thread-safe (a shared mutex); Name(id) is lock-free for any id that the
// caller obtained from Intern/Find, because the string is written before its id is published
// and chunks never move. Capacity: kMaxNames; beyond it Intern throws std::length_error.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace citybed::broker {

class Interner {
 public:
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kMaxChunks = 1024;
  static constexpr uint32_t kMaxNames = kMaxChunks << kChunkBits;  // 4 M
  // The id read-only requests use for a name nobody has written (Context::FindId): reserved at
  // construction for a text no attribute or type can be named (it has spaces), so it matches
  // nothing and renders harmlessly. Reads never intern, so they cannot fill the table.
  static constexpr uint32_t kUnknown = 1;
  static constexpr std::string_view kUnknownText = " (a name no entity has) ";

  Interner();
  ~Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  std::string_view Name(uint32_t id) const {
    return chunks_[id >> kChunkBits].load(std::memory_order_acquire)[id & ((1u << kChunkBits) - 1)];
  }
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::array<std::atomic<std::string*>, kMaxChunks> chunks_{};
  uint32_t next_ = 1;
};

}  // namespace citybed::broker
