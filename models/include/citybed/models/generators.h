// Generators of large scenarios: regions (populations, places in Japan, rollout waves) and the
// backbone that links them to the broker (regional data-centre hubs and a core between them).
// Deterministic: the same generator settings and seed give the same regions and network.
#pragma once

#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/scenario.h"
#include "citybed/sim/network.h"

namespace citybed::models {

// Generates (or reads from CSV) the regions; sorted by population, largest first, with
// stages from the rollout waves. `base_dir` resolves a relative CSV path.
Expected<std::vector<RegionSpec>> GenerateRegions(const RegionGenerator& g, uint64_t seed, const std::string& base_dir);

// Builds the backbone: a hub node per data-centre city, a gateway per region linked to its
// nearest hub, and the core between hubs. Returns the broker's node; `gateways[i]` receives
// region i's gateway node.
Expected<int> BuildBackbone(const BackboneGenerator& g, const std::vector<RegionSpec>& regions, sim::Network& net,
                            std::vector<int>& gateways);

// The hub (an index into g.hubs) a region's gateway attaches to: the nearest one.
size_t NearestHub(const BackboneGenerator& g, const RegionSpec& region);

// The CSV that `citybed regions` prints.
std::string RegionsCsv(const std::vector<RegionSpec>& regions);

}  // namespace citybed::models
