#include "citybed/broker/rate_limit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

namespace citybed::broker {

namespace {
std::optional<double> ParsePositive(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0 || v > 1e6) return std::nullopt;
  return v;
}
}  // namespace

Expected<RateLimit> RateLimit::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const auto rate = ParsePositive(text.substr(0, slash));
  if (!rate || *rate < 1e-3) {
    return Unexpected(Error::InvalidArgument("\"" + std::string(text) +
                                             "\": the rate must be a number of requests per second from 0.001 to 1000000"));
  }
  RateLimit l;
  l.rate = *rate;
  l.burst = std::max(1.0, l.rate);
  if (slash != std::string_view::npos) {
    const auto burst = ParsePositive(text.substr(slash + 1));
    if (!burst || *burst < 1) {
      return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\": the burst must be a number of requests from 1 to 1000000"));
    }
    l.burst = *burst;
  }
  return l;
}

TenantRateLimiter::TenantRateLimiter(RateLimitOptions options) : options_(std::move(options)) {
  // Tenants with their own limit are always tracked: no flood of invented names can push them
  // into the overflow allowance.
  for (const auto& [tenant, limit] : options_.tenants) {
    auto c = std::make_unique<Configured>();
    c->limit = limit;
    configured_.emplace(tenant, std::move(c));
  }
}

size_t TenantRateLimiter::tracked() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.tat.size();
  }
  return n;
}

std::optional<double> TenantRateLimiter::Admit(std::string_view tenant, Clock::time_point now) {
  // A tenant with its own limit (found without building a string), else the default.
  Configured* own = nullptr;
  if (!configured_.empty()) {
    if (auto c = configured_.find(tenant); c != configured_.end()) own = c->second.get();
  }
  const RateLimit& limit = own != nullptr ? own->limit : options_.per_tenant;
  if (limit.rate <= 0) return std::nullopt;
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / limit.rate));
  const auto tolerance = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((limit.burst - 1) / limit.rate));
  // The cell rate rule on one theoretical arrival time.
  auto decide = [&](Clock::time_point& tat) -> std::optional<double> {
    const Clock::time_point base = std::max(tat, now);
    if (base - now > tolerance) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return std::chrono::duration<double>(base - now - tolerance).count();
    }
    tat = base + interval;
    return std::nullopt;
  };
  if (own != nullptr) {
    std::lock_guard lock(own->mu);
    return decide(own->tat);
  }
  Shard& shard = shards_[std::hash<std::string_view>{}(tenant) % kShards];
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.tat.find(tenant);
    if (it != shard.tat.end()) return decide(it->second);
    // A new tenant: room in this shard's share of the table, after dropping the tenants whose
    // time has passed (they are as good as new) — at most one sweep per shard every 100 ms, so
    // that a stream of new names cannot make every request walk a full shard.
    const size_t share = std::max<size_t>(1, options_.max_tenants / kShards);
    if (shard.tat.size() >= share && now - shard.swept >= std::chrono::milliseconds(100)) {
      shard.swept = now;
      std::erase_if(shard.tat, [&](const auto& kv) { return kv.second <= now; });
    }
    if (shard.tat.size() < share) {
      auto [added, ok] = shard.tat.emplace(std::string(tenant), Clock::time_point{});
      return decide(added->second);
    }
  }
  std::lock_guard lock(overflow_mu_);
  return decide(overflow_tat_);
}

}  // namespace citybed::broker
