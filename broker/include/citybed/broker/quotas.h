// Tenant quotas (docs/reliability.md, "Tenant quotas"): what one tenant may put into what every
// tenant shares, so that no tenant can fill a shared structure and deny service to the others.
//
//   tenants                  the tenants that may write (a new tenant's first write beyond the
//                            limit is refused; tenants already holding data always may)
//   names per tenant         names (types, attribute names, datasetIds, units) a tenant's writes
//                            may add to the name table all tenants share, in count and in bytes
//   subscriptions per tenant and registrations per tenant (each kind on its own)
//   attributes per entity    attribute instances one entity may hold (the store checks it)
//
// A write beyond a quota is refused before it changes anything, with 403 and a detail that names
// the quota and its flag (NGSI-LD: ProblemDetails "about:blank"; NGSI-v2: Orion's shape).
// Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citybed/broker/interner.h"
#include "citybed/common/string_hash.h"

namespace citybed::broker {

struct QuotaOptions {
  size_t max_tenants = 1000;                    // 0: no limit
  size_t max_names_per_tenant = 16384;          // 0: no limit
  size_t max_name_bytes_per_tenant = 1 << 20;   // 0: no limit
  size_t max_subscriptions_per_tenant = 10000;  // 0: no limit; NGSI-LD and NGSI-v2 together
  size_t max_registrations_per_tenant = 10000;  // 0: no limit; NGSI-LD and NGSI-v2 together
  size_t max_attrs_per_entity = 4096;           // 0: no limit
};

class TenantQuotas {
 public:
  explicit TenantQuotas(QuotaOptions options);
  // The name allowance of a tenant about to write; null when it is a new tenant beyond
  // max_tenants. `existing`: the tenant holds data already (admitted beyond the limit).
  // `created` (if given) says whether this call made the tenant's entry.
  NameAllowance* Admit(std::string_view tenant, bool existing = false, bool* created = nullptr);
  // Gives back a new tenant's place when its first write left nothing behind (the broker checks
  // that); its allowance stays valid for whoever still holds it.
  void Forget(std::string_view tenant);
  size_t tenants() const;
  // Names and bytes all tenants' writes have added to the name table.
  size_t names() const;
  const QuotaOptions& options() const { return options_; }

 private:
  QuotaOptions options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<NameAllowance>, StringHash, std::equal_to<>> tenants_;
  std::vector<std::unique_ptr<NameAllowance>> forgotten_;  // kept: a concurrent request may still hold one
};

}  // namespace citybed::broker
