// Replications: independent runs of one scenario under different seeds, summarised as means with
// 95 % confidence intervals (Student's t across replications) — what `citybed run
// --replications N` writes as replications.json (docs/results.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace citybed::results {

// The seed of replication r (r = 0 is the scenario's own): a named stream of the scenario's seed,
// so replications are independent and reproducible.
uint64_t ReplicationSeed(uint64_t seed, uint64_t r);

// Every numeric figure (a number, not a boolean) that all the summaries hold at the same JSON
// pointer: {"/requests/throughput/ok_per_simulated_s": {"mean", "ci95", "n", "values"}, ...};
// ci95 is the half-width, null with one replication. Figures that are null or missing in some
// summary are left out and counted in "omitted".
nlohmann::json AggregateSummaries(const std::vector<nlohmann::json>& summaries);

}  // namespace citybed::results
