#include "citybed/broker/quotas.h"

namespace citybed::broker {

TenantQuotas::TenantQuotas(QuotaOptions options) : options_(options) {}

NameAllowance* TenantQuotas::Admit(std::string_view tenant, bool existing, bool* created) {
  if (created != nullptr) *created = false;
  {
    std::shared_lock lock(mu_);
    if (auto it = tenants_.find(tenant); it != tenants_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  if (auto it = tenants_.find(tenant); it != tenants_.end()) return it->second.get();
  if (!existing && options_.max_tenants != 0 && tenants_.size() >= options_.max_tenants) return nullptr;
  std::unique_ptr<NameAllowance> allowance;
  // A forgotten allowance with nothing charged is as good as new (and may be reused: nothing
  // charged means no charge is in progress that matters) — so that forgetting never grows memory.
  if (!forgotten_.empty() && forgotten_.back()->names.load(std::memory_order_relaxed) == 0) {
    allowance = std::move(forgotten_.back());
    forgotten_.pop_back();
  } else {
    allowance = std::make_unique<NameAllowance>();
  }
  allowance->max_names = options_.max_names_per_tenant;
  allowance->max_bytes = options_.max_name_bytes_per_tenant;
  NameAllowance* out = allowance.get();
  tenants_.emplace(std::string(tenant), std::move(allowance));
  if (created != nullptr) *created = true;
  return out;
}

void TenantQuotas::Forget(std::string_view tenant) {
  std::unique_lock lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end() || it->second->names.load(std::memory_order_relaxed) != 0) return;
  // Bounded: forgotten allowances are reused before a new one is made.
  forgotten_.push_back(std::move(it->second));
  tenants_.erase(it);
}

size_t TenantQuotas::tenants() const {
  std::shared_lock lock(mu_);
  return tenants_.size();
}

size_t TenantQuotas::names() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [tenant, a] : tenants_) n += a->names.load(std::memory_order_relaxed);
  return n;
}

}  // namespace citybed::broker
