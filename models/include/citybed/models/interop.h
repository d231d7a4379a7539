// InteropProbe: what a user's read got back, against the ground truth the simulation holds
// (docs/federation.md, "What users get back"). The World knows which entities exist (every
// source that has reported), where the fixed ones stand, and the latest observation each has
// written; a read's answer is compared with that:
// - get: the entity must come back (a 404 is a miss); staleness of what came back.
// - geo-query: the truth is every reported fixed source of the asked type within the distance
//   (an entity within 0.1 % of the boundary is neither required nor foreign); a complete answer
//   holds min(truth, limit) of them. Sources that move have no fixed truth: a geo-query for a
//   moving type is measured for duplicates and partial answers only.
// - query without q: the truth is every reported source of the type; with q, only duplicates,
//   partial answers and the count are measured (the probe does not evaluate q).
// Staleness is the age of a returned observation against the latest one the source had written
// when the read was sent (both the observedAt the entity carries). Not thread-safe; one run's
// thread owns it.
#pragma once

#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/models/workload.h"
#include "citybed/models/world.h"

namespace citybed::models {

class InteropProbe {
 public:
  explicit InteropProbe(const World& world) : world_(world) {}
  // Whether reads of this kind are measured: cross-region reads, and every read of a federation.
  bool Measures(const WorkloadRequest& q) const;
  // The measure of one read, from its request and what the driver recorded of it.
  InteropRecord Measure(const WorkloadRequest& q, const RequestRecord& r);

 private:
  // Where each fixed source of a group stands (computed when first needed); empty: it moves.
  const std::vector<LonLat>& PlacesOf(int group);

  const World& world_;
  std::unordered_map<int, std::vector<LonLat>> places_;
};

// The latest observedAt (µs since the epoch) in an entity of an NGSI-LD or NGSI-v2 answer, or
// nothing when it carries none.
std::optional<int64_t> LatestObservation(std::string_view entity_json);

}  // namespace citybed::models
