// Per-tenant rate limits (docs/reliability.md, "Rate limits"): with `citybed broker
// --tenant-rate RATE[/BURST]` every tenant may send RATE requests per second on average, in
// bursts of at most BURST at once; `--tenant-rate TENANT=RATE[/BURST]` sets one tenant's own
// limit. A request beyond its tenant's limit is answered 429 with Retry-After before its handler
// runs, so one tenant's flood costs the others nothing but the refusals' parsing.
//
// The limit is the generic cell rate algorithm (a token bucket kept as one time per tenant: the
// theoretical arrival time TAT; a request at t is admitted when TAT − t ≤ (BURST − 1) / RATE, and
// then TAT = max(TAT, t) + 1 / RATE). The tenant is NGSILD-Tenant on /ngsi-ld, Fiware-Service on
// /v2 ("" the default tenant). /health, /version and /metrics are never limited.
//
// Memory is bounded: at most `max_tenants` tenants are tracked (a tenant whose TAT has passed is
// as good as new and is dropped first); beyond them, tenants share one overflow limit, so that
// inventing tenant names cannot grow the table. Tenants with their own limit are always tracked.
// Rates from 0.001 to 10^6 per second, bursts from 1 to 10^6. Thread-safe (sharded locks).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "citybed/common/expected.h"
#include "citybed/common/string_hash.h"

namespace citybed::broker {

struct RateLimit {
  double rate = 0;   // requests per second; 0: no limit
  double burst = 1;  // requests admitted at once after a quiet spell (≥ 1)
  // "RATE" or "RATE/BURST" (burst defaults to max(1, RATE)); errors say what is wrong.
  static Expected<RateLimit> Parse(std::string_view text);
};

struct RateLimitOptions {
  RateLimit per_tenant;                      // every tenant without its own
  std::map<std::string, RateLimit> tenants;  // its own, by tenant ("" the default tenant)
  size_t max_tenants = 100000;
  bool active() const { return per_tenant.rate > 0 || !tenants.empty(); }
};

class TenantRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TenantRateLimiter(RateLimitOptions options);

  // Nothing when the request is admitted; else the seconds until one of this tenant would be.
  std::optional<double> Admit(std::string_view tenant, Clock::time_point now = Clock::now());
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  size_t tracked() const;  // tenants in the table (for tests and /metrics)
  const RateLimitOptions& options() const { return options_; }

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Clock::time_point, StringHash, std::equal_to<>> tat;
    Clock::time_point swept{};
  };
  struct Configured {
    RateLimit limit;
    std::mutex mu;
    Clock::time_point tat{};
  };
  static constexpr size_t kShards = 16;
  RateLimitOptions options_;
  std::array<Shard, kShards> shards_;
  // Tenants with their own limit, made at construction and never dropped (the map is read-only
  // afterwards; each entry has its own lock).
  std::map<std::string, std::unique_ptr<Configured>, std::less<>> configured_;
  std::mutex overflow_mu_;
  Clock::time_point overflow_tat_{};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace citybed::broker
