// InteropStats: the "interoperability" section of a run's results — what users got back from
// reads that cross regions (and from every read of a federation), against the ground truth
// (models/interop.h). Aggregated per region-pair class (local, same block, national) and per
// operation; docs/results.md defines every figure:
// - recall: Σ min(matched, expected) / Σ expected, over reads whose truth is known; a failed
//   read returned nothing, so it counts with matched 0. complete_share: reads with every
//   expected entity.
// - precision: Σ matched / Σ (matched + foreign), over what answers returned.
// - fan-out: of the answers a broker assembled from other brokers, the mean number of sources
//   it asked and of bytes they sent (Citybed-Forwarded; the embedded broker says so).
// - duplicates, partial answers (NGSILD-Warning), count accuracy (NGSILD-Results-Count equal to
//   the truth), staleness of returned observations (µs) and latency (ns) as histograms.
#pragma once

#include <nlohmann/json.hpp>
#include <array>
#include <map>
#include <string>

#include "citybed/models/observer.h"
#include "citybed/sim/histogram.h"

namespace citybed::results {

struct InteropSlice {
  uint64_t reads = 0, ok = 0, partial = 0;
  uint64_t truth_known = 0, expected = 0, matched_capped = 0, complete = 0;
  uint64_t matched = 0, foreign = 0, returned = 0, duplicates = 0;
  uint64_t counts_known = 0, counts_exact = 0;
  uint64_t distributed = 0, fan_out_sum = 0, forwarded_bytes = 0;  // answers the asked broker forwarded
  double count_abs_error_sum = 0;
  sim::LatencyHistogram latency{4};    // ns
  sim::LatencyHistogram staleness{4};  // µs
  void Add(const models::InteropRecord& r);
  nlohmann::json ToJson() const;
};

class InteropStats {
 public:
  void Add(const models::InteropRecord& r);
  bool empty() const { return all_.reads == 0; }
  const InteropSlice& all() const { return all_; }
  // The section of summary.json (null when nothing was measured).
  nlohmann::json ToJson() const;

 private:
  InteropSlice all_;
  std::array<InteropSlice, 3> by_pair_;  // local, same block, national
  std::map<std::string, InteropSlice> by_op_;
};

}  // namespace citybed::results
