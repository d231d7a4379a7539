#include "citybed/broker/interner.h"

#include <mutex>
#include <stdexcept>
#include <string>

namespace citybed::broker {
namespace {
thread_local NameAllowance* charged = nullptr;
}  // namespace

Interner::Charge::Charge(NameAllowance* allowance) : previous_(charged) { charged = allowance; }
Interner::Charge::~Charge() { charged = previous_; }

Interner::Interner() {
  chunks_[0].store(new std::string[1u << kChunkBits], std::memory_order_release);
  Intern(kUnknownText);  // id 1: kUnknown
}

Interner::~Interner() {
  for (auto& c : chunks_) delete[] c.load();
}

uint32_t Interner::Intern(std::string_view s) {
  {
    std::shared_lock lock(mu_);
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  if (next_ >= kMaxNames) {
    throw ProblemError(MakeProblem(ErrorType::kInternalError,
                                   "the name table is full (" + std::to_string(kMaxNames) + " names): no new name can be written", 507));
  }
  if (NameAllowance* a = charged) {
    const size_t names = a->names.load(std::memory_order_relaxed) + 1;
    const size_t bytes = a->bytes.load(std::memory_order_relaxed) + s.size();
    if ((a->max_names != 0 && names > a->max_names) || (a->max_bytes != 0 && bytes > a->max_bytes)) {
      throw NameQuotaExceeded("the tenant's writes have added all the new names they may to the name table all tenants "
                              "share (" + std::to_string(a->max_names) + " names, " + std::to_string(a->max_bytes) +
                              " bytes: citybed broker --max-names, --max-name-bytes); \"" +
                              std::string(s.substr(0, 64)) + (s.size() > 64 ? "...\"" : "\"") + " would be one more");
    }
    a->names.store(names, std::memory_order_relaxed);
    a->bytes.store(bytes, std::memory_order_relaxed);
  }
  const uint32_t id = next_++;
  const uint32_t chunk = id >> kChunkBits;
  std::string* block = chunks_[chunk].load(std::memory_order_relaxed);
  if (block == nullptr) {
    block = new std::string[1u << kChunkBits];
    chunks_[chunk].store(block, std::memory_order_release);
  }
  std::string& slot = block[id & ((1u << kChunkBits) - 1)];
  slot.assign(s);
  ids_.emplace(std::string_view(slot), id);
  return id;
}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  std::shared_lock lock(mu_);
  auto it = ids_.find(s);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

size_t Interner::size() const {
  std::shared_lock lock(mu_);
  return ids_.size();
}

}  // namespace citybed::broker
