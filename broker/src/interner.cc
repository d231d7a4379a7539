#include "citybed/broker/interner.h"

#include <mutex>
#include <stdexcept>

namespace citybed::broker {

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
  if (next_ >= kMaxNames) throw std::length_error("Interner: more than 4 M distinct names");
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
