#include "citybed/results/interop.h"

#include <cmath>

#include "citybed/models/federation.h"
#include "citybed/results/run_output.h"

namespace citybed::results {

using json = nlohmann::json;

namespace {

double Ratio(uint64_t a, uint64_t b) { return b == 0 ? 0.0 : std::round(static_cast<double>(a) / static_cast<double>(b) * 1e4) / 1e4; }

}  // namespace

void InteropSlice::Add(const models::InteropRecord& r) {
  ++reads;
  if (r.ok) ++ok;
  if (r.partial) ++partial;
  latency.Record(r.latency.ns());
  returned += static_cast<uint64_t>(r.returned);
  duplicates += static_cast<uint64_t>(r.duplicates);
  matched += static_cast<uint64_t>(r.matched);
  foreign += static_cast<uint64_t>(r.foreign);
  if (r.expected >= 0) {
    ++truth_known;
    expected += static_cast<uint64_t>(r.expected);
    const int got = std::min(r.matched, r.expected);
    matched_capped += static_cast<uint64_t>(got);
    if (got >= r.expected) ++complete;
  }
  if (r.ok && r.count_reported >= 0 && r.count_truth >= 0) {
    ++counts_known;
    if (r.count_reported == r.count_truth) ++counts_exact;
    count_abs_error_sum += std::fabs(static_cast<double>(r.count_reported - r.count_truth));
  }
  for (int64_t s : r.staleness_us) staleness.Record(s);
  if (r.fan_out >= 0) {
    ++distributed;
    fan_out_sum += static_cast<uint64_t>(r.fan_out);
    forwarded_bytes += r.forwarded_bytes;
  }
}

json InteropSlice::ToJson() const {
  json j = {{"reads", reads},
            {"ok", ok},
            {"partial_answers", partial},
            {"partial_share", Ratio(partial, reads)},
            {"latency_ms", LatencyJson(latency)},
            {"returned", returned},
            {"duplicates", duplicates}};
  if (truth_known > 0) {
    j["truth_known_reads"] = truth_known;
    j["expected_entities"] = expected;
    j["recall"] = expected == 0 ? 1.0 : Ratio(matched_capped, expected);
    j["complete_share"] = Ratio(complete, truth_known);
  }
  if (matched + foreign > 0) j["precision"] = Ratio(matched, matched + foreign);
  if (counts_known > 0) {
    j["count_checked"] = counts_known;
    j["count_exact_share"] = Ratio(counts_exact, counts_known);
    j["count_mean_abs_error"] = std::round(count_abs_error_sum / static_cast<double>(counts_known) * 100) / 100;
  }
  if (distributed > 0) {
    j["distributed_answers"] = distributed;
    j["fan_out_mean"] = std::round(static_cast<double>(fan_out_sum) / static_cast<double>(distributed) * 100) / 100;
    j["forwarded_bytes_mean"] = std::round(static_cast<double>(forwarded_bytes) / static_cast<double>(distributed));
  }
  if (staleness.Count() > 0) {
    // Kept in µs; shown in seconds, to the millisecond.
    const auto s = [&](double p) { return std::round(static_cast<double>(staleness.ValueAtPercentile(p)) / 1e3) / 1e3; };
    j["staleness_s"] = {{"p50", s(50)}, {"p90", s(90)}, {"p99", s(99)},
                        {"max", std::round(static_cast<double>(staleness.Max()) / 1e3) / 1e3},
                        {"count", staleness.Count()}};
  }
  return j;
}

void InteropStats::Add(const models::InteropRecord& r) {
  all_.Add(r);
  if (r.pair >= 0 && r.pair < 3) by_pair_[static_cast<size_t>(r.pair)].Add(r);
  by_op_[std::string(models::OpKindName(r.op))].Add(r);
}

json InteropStats::ToJson() const {
  if (empty()) return nullptr;
  json j = all_.ToJson();
  json pairs = json::object();
  for (size_t i = 0; i < by_pair_.size(); ++i) {
    if (by_pair_[i].reads > 0) pairs[std::string(models::ToString(static_cast<models::PairClass>(i)))] = by_pair_[i].ToJson();
  }
  j["by_pair"] = pairs;
  json ops = json::object();
  for (const auto& [name, slice] : by_op_) ops[name] = slice.ToJson();
  j["by_operation"] = ops;
  return j;
}

}  // namespace citybed::results
