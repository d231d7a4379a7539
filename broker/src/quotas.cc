#include "citybed/broker/quotas.h"

namespace citybed::broker {

TenantQuotas::TenantQuotas(QuotaOptions options) : options_(options) {}

NameAllowance* TenantQuotas::Admit(std::string_view tenant, bool existing) {
  {
    std::shared_lock lock(mu_);
    if (auto it = tenants_.find(tenant); it != tenants_.end()) return it->second.get();
  }
  std::unique_lock lock(mu_);
  if (auto it = tenants_.find(tenant); it != tenants_.end()) return it->second.get();
  if (!existing && options_.max_tenants != 0 && tenants_.size() >= options_.max_tenants) return nullptr;
  auto allowance = std::make_unique<NameAllowance>();
  allowance->max_names = options_.max_names_per_tenant;
  allowance->max_bytes = options_.max_name_bytes_per_tenant;
  NameAllowance* out = allowance.get();
  tenants_.emplace(std::string(tenant), std::move(allowance));
  return out;
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
