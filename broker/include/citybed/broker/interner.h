// Interner: maps strings (expanded IRIs of attribute names, entity types, dataset ids) to
// dense 32-bit ids, so entities store and compare names as integers. Id 0 means "none".
// Intern and Find are thread-safe (a shared mutex); Name(id) is lock-free for any id that the
// caller obtained from Intern/Find, because the string is written before its id is published
// and chunks never move. Capacity: kMaxNames; beyond it Intern throws a ProblemError (507).
//
// The table is shared by every tenant, so no tenant may fill it: while an Interner::Charge is
// alive on a thread (the broker sets one around each write, quotas.h), every name that thread
// adds to the table for the first time counts against the charge's NameAllowance, and a name
// beyond the allowance is not added: Intern throws NameQuotaExceeded. Names already in the table
// cost nothing, whoever added them.
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

#include "citybed/broker/problem.h"

namespace citybed::broker {

// What one tenant may add to the name table: names and their bytes. Counted under the
// interner's lock; read anywhere.
struct NameAllowance {
  size_t max_names = 0;  // 0: no limit
  size_t max_bytes = 0;  // 0: no limit
  std::atomic<size_t> names{0};
  std::atomic<size_t> bytes{0};
};

// A 403 (about:blank "Forbidden") that names the allowance.
class NameQuotaExceeded : public ProblemError {
 public:
  explicit NameQuotaExceeded(std::string detail) : ProblemError(MakeProblem(ErrorType::kForbidden, std::move(detail))) {}
};

class Interner {
 public:
  // Charges the names this thread adds to `allowance` (null: to nobody) until destroyed.
  // Nests: the previous charge is restored.
  class Charge {
   public:
    explicit Charge(NameAllowance* allowance);
    ~Charge();
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;

   private:
    NameAllowance* previous_;
  };

  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kMaxChunks = 4096;
  static constexpr uint32_t kMaxNames = kMaxChunks << kChunkBits;  // 16 M: the default quotas (1,000 tenants × 16,384 names) fit
  // The id read-only requests use for a name nobody has written (Context::FindId): reserved at
  // construction for a text no attribute or type can be named (it has spaces), so it matches
  // nothing and renders harmlessly. Reads never intern, so they cannot fill the table (except
  // the answers of context sources that a distributed read merges: docs/reliability.md).
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
