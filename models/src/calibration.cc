#include "citybed/models/calibration.h"

#include <algorithm>
#include <cmath>

#include "citybed/common/file.h"
#include "citybed/common/sha256.h"

namespace citybed::models {

EmpiricalDuration::EmpiricalDuration(std::vector<std::pair<double, uint64_t>> buckets, bool contiguous, double lowest)
    : buckets_(std::move(buckets)), contiguous_(contiguous), lowest_(lowest) {
  std::sort(buckets_.begin(), buckets_.end());
  if (contiguous_) {
    // Each piece starts where the previous one ended, empty ones included.
    double lo = lowest_;
    for (const auto& b : buckets_) {
      lowers_.push_back(std::min(lo, b.first));
      lo = b.first;
    }
    size_t k = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      if (buckets_[i].second == 0) continue;
      lowers_[k] = lowers_[i];
      buckets_[k++] = buckets_[i];
    }
    lowers_.resize(k);
    buckets_.resize(k);
  }
  buckets_.erase(std::remove_if(buckets_.begin(), buckets_.end(), [](const auto& b) { return b.second == 0; }),
                 buckets_.end());
  for (size_t i = 0; i < buckets_.size(); ++i) {
    // An open last bucket: as wide as its lower bound.
    if (!std::isfinite(buckets_[i].first)) buckets_[i].first = i > 0 ? buckets_[i - 1].first * 2 : 1.0;
    samples_ += buckets_[i].second;
  }
  if (samples_ == 0) return;
  double cumulative = 0;
  const double n = static_cast<double>(samples_);
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const double hi = buckets_[i].first, lo = Lower(i);
    const double p = static_cast<double>(buckets_[i].second) / n;
    cumulative += p;
    cdf_.push_back(cumulative);
    // Uniform inside the bucket.
    mean_ += p * (lo + hi) / 2;
    second_ += p * (lo * lo + lo * hi + hi * hi) / 3;
  }
  cdf_.back() = 1.0;
}

// A bucket's lower bound. The broker's buckets are 1/8 of an octave wide (the upper bound at most
// 9/8 of the lower): the previous bucket's upper bound when it is that neighbour, else the width.
double EmpiricalDuration::Lower(size_t i) const {
  const double hi = buckets_[i].first;
  if (contiguous_) return i < lowers_.size() ? lowers_[i] : std::min(lowest_, hi);
  return i > 0 && buckets_[i - 1].first >= hi * (8.0 / 9.0) ? buckets_[i - 1].first : hi * (8.0 / 9.0);
}

EmpiricalDuration EmpiricalDuration::FromQuantiles(const std::vector<double>& quantiles, double lowest) {
  std::vector<std::pair<double, uint64_t>> b;
  double prev = lowest;
  for (double q : quantiles) {
    prev = std::max(prev, q);
    b.emplace_back(prev, 1);
  }
  return EmpiricalDuration(std::move(b), true, lowest);
}

EmpiricalDuration EmpiricalDuration::Constant(double seconds) {
  EmpiricalDuration d;
  d.buckets_ = {{seconds, 1}};
  d.cdf_ = {1.0};
  d.samples_ = 1;
  d.mean_ = seconds;
  d.second_ = seconds * seconds;
  d.constant_ = true;
  return d;
}

double EmpiricalDuration::Quantile(double q) const {
  if (samples_ == 0) return 0;
  if (constant_) return buckets_[0].first;
  q = std::clamp(q, 0.0, 1.0);
  const size_t i = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), q) - cdf_.begin());
  const size_t k = std::min(i, cdf_.size() - 1);
  const double hi = buckets_[k].first, lo = Lower(k);
  const double below = k > 0 ? cdf_[k - 1] : 0.0;
  const double width = cdf_[k] - below;
  const double f = width > 0 ? (q - below) / width : 0.5;
  return lo + (hi - lo) * std::clamp(f, 0.0, 1.0);
}

double EmpiricalDuration::Sample(sim::Rng& rng) const { return Quantile(rng.Uniform01()); }

double EmpiricalDuration::SquaredCv() const {
  if (mean_ <= 0) return 0;
  return std::max(0.0, second_ - mean_ * mean_) / (mean_ * mean_);
}

int ClassCalibration::StatusFor(double u) const {
  double c = 0;
  for (const auto& [status, p] : statuses) {
    c += p;
    if (u < c) return status;
  }
  return statuses.empty() ? 200 : statuses.back().first;
}

std::string Calibration::Standing() const {
  if (validation.is_null() || !validation.contains("pass") || !validation["pass"].is_boolean()) return "not validated";
  return validation["pass"].get<bool>() ? "validated" : "uncalibrated";
}

double Calibration::MeanDemand() const {
  double demand = 0, share = 0;
  for (const auto& c : classes) {
    if (!c) continue;
    demand += c->share * c->service.Mean();
    share += c->share;
  }
  return (share > 0 ? demand / share : 0) + overhead_s;
}

double Calibration::DemandScale(double n) const {
  std::vector<std::pair<double, double>> pts;
  for (const SweepPoint& p : sweep) {
    if (p.demand_s > 0 && p.concurrency >= 1) pts.emplace_back(std::log(static_cast<double>(p.concurrency)), p.demand_s);
  }
  if (pts.empty()) return 1.0;
  std::sort(pts.begin(), pts.end());
  const double base = pts.front().second;
  const double x = std::log(std::max(1.0, n));
  double d = pts.back().second;
  if (x <= pts.front().first) {
    d = pts.front().second;
  } else {
    for (size_t i = 1; i < pts.size(); ++i) {
      if (x <= pts[i].first) {
        const double f = (x - pts[i - 1].first) / (pts[i].first - pts[i - 1].first);
        d = pts[i - 1].second + f * (pts[i].second - pts[i - 1].second);
        break;
      }
    }
  }
  return std::clamp(d / base, 0.25, 4.0);
}

double Calibration::CpuFactor(double rate) const {
  if (open_loop.empty()) return 1.0;
  if (rate <= open_loop.front().rate) return open_loop.front().cpu_factor;
  for (size_t i = 1; i < open_loop.size(); ++i) {
    if (rate <= open_loop[i].rate) {
      const RatePoint &a = open_loop[i - 1], &b = open_loop[i];
      const double f = (rate - a.rate) / std::max(1e-9, b.rate - a.rate);
      return a.cpu_factor + f * (b.cpu_factor - a.cpu_factor);
    }
  }
  return open_loop.back().cpu_factor;
}

const EmpiricalDuration& Calibration::ClientDelay(double rate, OpClass cls) const {
  if (open_loop.empty()) return client_delay;
  size_t best = 0;
  double d = INFINITY;
  for (size_t i = 0; i < open_loop.size(); ++i) {
    const double e = std::abs(std::log(std::max(rate, 1e-9)) - std::log(std::max(open_loop[i].rate, 1e-9)));
    if (e < d) {
      d = e;
      best = i;
    }
  }
  const EmpiricalDuration& by_class = open_loop[best].client_delay_by_class[static_cast<size_t>(cls)];
  return by_class.empty() ? open_loop[best].client_delay : by_class;
}

double Calibration::MixSquaredCv() const {
  double m1 = 0, m2 = 0, share = 0;
  for (const auto& c : classes) {
    if (!c) continue;
    const double mean = c->service.Mean() + overhead_s;
    const double var = c->service.SquaredCv() * c->service.Mean() * c->service.Mean();
    m1 += c->share * mean;
    m2 += c->share * (var + mean * mean);
    share += c->share;
  }
  if (share <= 0 || m1 <= 0) return 1;
  m1 /= share;
  m2 /= share;
  return std::max(0.0, m2 - m1 * m1) / (m1 * m1);
}

namespace {

nlohmann::json DistributionJson(const EmpiricalDuration& d) {
  nlohmann::json b = nlohmann::json::array();
  for (const auto& [upper, n] : d.buckets()) b.push_back({upper, n});
  return {{"samples", d.samples()},
          {"mean_s", d.Mean()},
          {"p50_s", d.Quantile(0.5)},
          {"p99_s", d.Quantile(0.99)},
          {"scv", d.SquaredCv()},
          // How the buckets read: the broker's (1/8 of an octave wide), contiguous pieces from
          // "lowest", or one point.
          {"kind", d.constant() ? "constant" : d.contiguous() ? "pieces" : "broker-buckets"},
          {"lowest", d.lowest()},
          {"buckets", b}};
}

Expected<EmpiricalDuration> DistributionFrom(const nlohmann::json& j, const std::string& where, bool contiguous = false) {
  if (!j.is_object() || !j.contains("buckets") || !j["buckets"].is_array()) {
    return Unexpected(Error::InvalidArgument(where + ": no \"buckets\" array"));
  }
  std::vector<std::pair<double, uint64_t>> buckets;
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number() || !b[1].is_number_unsigned() || !(b[0].get<double>() > 0) ||
        !(b[0].get<double>() < 1e6)) {
      return Unexpected(Error::InvalidArgument(where + "/buckets: each bucket is [upper_seconds in (0, 10^6), count]"));
    }
    buckets.emplace_back(b[0].get<double>(), b[1].get<uint64_t>());
  }
  const std::string kind = j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>()
                                                                      : (contiguous ? "pieces" : "broker-buckets");
  const double lowest = j.contains("lowest") && j["lowest"].is_number() ? std::max(0.0, j["lowest"].get<double>()) : 0.0;
  EmpiricalDuration d;
  if (kind == "constant") {
    if (buckets.size() != 1) return Unexpected(Error::InvalidArgument(where + ": a constant has one bucket"));
    d = EmpiricalDuration::Constant(buckets[0].first);
  } else if (kind == "pieces" || kind == "broker-buckets") {
    d = EmpiricalDuration(std::move(buckets), kind == "pieces", lowest);
  } else {
    return Unexpected(Error::InvalidArgument(where + "/kind: \"constant\", \"pieces\" or \"broker-buckets\""));
  }
  if (d.empty()) return Unexpected(Error::InvalidArgument(where + ": no samples"));
  return d;
}

}  // namespace

nlohmann::json Calibration::ToJson() const {
  nlohmann::json j;
  j["format"] = format;
  j["created_utc"] = created_utc;
  j["broker"] = {{"target", broker}, {"version", broker_version}, {"threads", threads}};
  j["confidence"] = confidence;
  j["machine"] = machine;
  j["isolation"] = isolation;
  j["workload"] = scenario;
  nlohmann::json cls = nlohmann::json::object();
  for (size_t i = 0; i < kOpClasses; ++i) {
    if (!classes[i]) continue;
    const ClassCalibration& c = *classes[i];
    nlohmann::json st = nlohmann::json::object();
    for (const auto& [status, p] : c.statuses) st[std::to_string(status)] = p;
    cls[std::string(OpClassName(static_cast<OpClass>(i)))] = {
        {"share", c.share},
        {"service", DistributionJson(c.service)},
        {"cpu_mean_s", c.cpu_mean_s},
        {"response_p50_s", c.response_p50_s},
        {"response_p99_s", c.response_p99_s},
        {"answer_bytes", c.answer_bytes},
        {"statuses", st}};
  }
  j["classes"] = cls;
  j["overhead_s"] = overhead_s;
  j["fixed_delay_s"] = fixed_delay_s;
  if (!client_delay.empty()) j["client_delay"] = DistributionJson(client_delay);
  j["notifications"] = {{"service_s", notify_service_s}, {"fan_out", fan_out}, {"selectivity", notify_selectivity}};
  nlohmann::json sw = nlohmann::json::array();
  for (const SweepPoint& p : sweep) {
    sw.push_back({{"concurrency", p.concurrency},
                  {"throughput", p.throughput},
                  {"mean_response_s", p.mean_response_s},
                  {"p99_response_s", p.p99_response_s},
                  {"cpu_utilisation", p.cpu_utilisation},
                  {"demand_s", p.demand_s},
                  {"requests", p.requests}});
  }
  j["sweep"] = sw;
  nlohmann::json ol = nlohmann::json::array();
  for (const RatePoint& p : open_loop) {
    nlohmann::json by_class = nlohmann::json::object();
    for (size_t i = 0; i < kOpClasses; ++i) {
      if (!p.client_delay_by_class[i].empty()) {
        by_class[std::string(OpClassName(static_cast<OpClass>(i)))] = DistributionJson(p.client_delay_by_class[i]);
      }
    }
    ol.push_back({{"rate", p.rate},
                  {"cpu_per_request_s", p.cpu_per_request},
                  {"cpu_factor", p.cpu_factor},
                  {"client_delay", DistributionJson(p.client_delay)},
                  {"client_delay_by_class", by_class}});
  }
  j["open_loop"] = ol;
  j["broker"]["cores"] = broker_cores;
  j["usl"] = {{"gamma", usl.gamma}, {"alpha", usl.alpha}, {"beta", usl.beta},     {"gamma_ci95", usl.gamma_ci},
              {"alpha_ci95", usl.alpha_ci}, {"beta_ci95", usl.beta_ci}, {"r2", usl.r2}, {"converged", usl.converged},
              {"peak", usl.gamma > 0 ? usl.Peak() : 0.0}};
  j["capacity_rps"] = capacity_rps;
  j["open_loop_capacity_rps"] = open_loop_capacity_rps;
  j["validity"] = {{"threads", threads},
                   {"entities", entities},
                   {"max_load_rps", Capacity()},
                   {"note", "valid for this broker build, thread count and machine, near this entity count and "
                            "operation mix; recalibrate when any of them changes"}};
  j["checks"] = {{"utilisation_law_ratio", cpu_accounted_ratio}};
  j["warnings"] = warnings;
  if (!validation.is_null()) j["validation"] = validation;
  return j;
}

Expected<Calibration> Calibration::FromJson(const nlohmann::json& j) {
  auto bad = [](const std::string& m) { return Unexpected(Error::InvalidArgument(m)); };
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != "citybed-calibration/1") {
    return bad("/format: not a citybed calibration (expected \"citybed-calibration/1\")");
  }
  Calibration c;
  try {
    const nlohmann::json& broker = j.at("broker");
    if (broker.contains("threads") && (!broker["threads"].is_number_integer() || broker["threads"].get<int64_t>() < 1 ||
                                       broker["threads"].get<int64_t>() > 4096)) {
      return bad("/broker/threads: an integer from 1 to 4096");
    }
    if (broker.contains("cores") && (!broker["cores"].is_number_integer() || broker["cores"].get<int64_t>() < 0 ||
                                     broker["cores"].get<int64_t>() > 4096)) {
      return bad("/broker/cores: an integer from 0 to 4096");
    }
    c.created_utc = j.value("created_utc", "");
    c.broker = j.at("broker").value("target", "");
    c.broker_version = j.at("broker").value("version", "");
    c.threads = j.at("broker").value("threads", 1);
    c.confidence = j.value("confidence", "");
    c.machine = j.value("machine", "");
    c.isolation = j.value("isolation", "");
    c.scenario = j.value("workload", "");
    for (const auto& [name, v] : j.at("classes").items()) {
      auto cls = OpClassFromName(name);
      if (!cls) return bad("/classes/" + name + ": not an operation class");
      ClassCalibration cc;
      auto d = DistributionFrom(v.at("service"), "/classes/" + name + "/service");
      if (!d) return Unexpected(d.error());
      cc.service = std::move(*d);
      cc.share = v.value("share", 0.0);
      if (!(cc.share >= 0) || !(v.value("answer_bytes", 0.0) >= 0) || !(v.value("answer_bytes", 0.0) < 1e12)) {
        return bad("/classes/" + name + ": share and answer_bytes must be non-negative (answer_bytes below 10^12)");
      }
      cc.cpu_mean_s = v.value("cpu_mean_s", 0.0);
      cc.response_p50_s = v.value("response_p50_s", 0.0);
      cc.response_p99_s = v.value("response_p99_s", 0.0);
      cc.answer_bytes = v.value("answer_bytes", 0.0);
      if (v.contains("statuses")) {
        for (const auto& [st, p] : v["statuses"].items()) cc.statuses.emplace_back(std::stoi(st), p.get<double>());
      }
      c.classes[static_cast<size_t>(*cls)] = std::move(cc);
    }
    c.overhead_s = j.value("overhead_s", 0.0);
    c.fixed_delay_s = j.value("fixed_delay_s", 0.0);
    if (j.contains("client_delay")) {
      auto d = DistributionFrom(j["client_delay"], "/client_delay", true);
      if (!d) return Unexpected(d.error());
      c.client_delay = std::move(*d);
    }
    if (j.contains("notifications")) {
      c.notify_service_s = j["notifications"].value("service_s", 0.0);
      c.fan_out = j["notifications"].value("fan_out", 0.0);
      c.notify_selectivity = j["notifications"].value("selectivity", 1.0);
    }
    if (j.contains("sweep")) {
      for (const auto& p : j["sweep"]) {
        SweepPoint s;
        s.concurrency = p.value("concurrency", 0);
        s.throughput = p.value("throughput", 0.0);
        s.mean_response_s = p.value("mean_response_s", 0.0);
        s.p99_response_s = p.value("p99_response_s", 0.0);
        s.cpu_utilisation = p.value("cpu_utilisation", 0.0);
        s.demand_s = p.value("demand_s", 0.0);
        s.requests = p.value("requests", uint64_t{0});
        c.sweep.push_back(s);
      }
    }
    if (j.contains("open_loop")) {
      for (const auto& p : j["open_loop"]) {
        RatePoint r;
        r.rate = p.value("rate", 0.0);
        r.cpu_per_request = p.value("cpu_per_request_s", 0.0);
        r.cpu_factor = p.value("cpu_factor", 1.0);
        if (r.rate <= 0 || r.cpu_factor <= 0) return bad("/open_loop: rate and cpu_factor must be positive");
        auto d = DistributionFrom(p.at("client_delay"), "/open_loop/client_delay", true);
        if (!d) return Unexpected(d.error());
        r.client_delay = std::move(*d);
        if (p.contains("client_delay_by_class")) {
          for (const auto& [name, v] : p["client_delay_by_class"].items()) {
            auto cls = OpClassFromName(name);
            if (!cls) return bad("/open_loop/client_delay_by_class/" + name + ": not an operation class");
            auto dc = DistributionFrom(v, "/open_loop/client_delay_by_class/" + name, true);
            if (!dc) return Unexpected(dc.error());
            r.client_delay_by_class[static_cast<size_t>(*cls)] = std::move(*dc);
          }
        }
        c.open_loop.push_back(std::move(r));
      }
      std::sort(c.open_loop.begin(), c.open_loop.end(), [](const RatePoint& a, const RatePoint& b) { return a.rate < b.rate; });
    }
    c.broker_cores = j.at("broker").value("cores", 0);
    if (j.contains("usl")) {
      const auto& u = j["usl"];
      c.usl.gamma = u.value("gamma", 0.0);
      c.usl.alpha = u.value("alpha", 0.0);
      c.usl.beta = u.value("beta", 0.0);
      c.usl.gamma_ci = u.value("gamma_ci95", 0.0);
      c.usl.alpha_ci = u.value("alpha_ci95", 0.0);
      c.usl.beta_ci = u.value("beta_ci95", 0.0);
      c.usl.r2 = u.value("r2", 0.0);
      c.usl.converged = u.value("converged", false);
    }
    c.capacity_rps = j.value("capacity_rps", 0.0);
    c.open_loop_capacity_rps = j.value("open_loop_capacity_rps", 0.0);
    if (j.contains("validity")) c.entities = j["validity"].value("entities", uint64_t{0});
    c.cpu_accounted_ratio = j.contains("checks") ? j["checks"].value("utilisation_law_ratio", 0.0) : 0.0;
    if (j.contains("warnings")) c.warnings = j["warnings"].get<std::vector<std::string>>();
    if (j.contains("validation") && j["validation"].is_object()) c.validation = j["validation"];
  } catch (const std::exception& e) {
    return bad(std::string("calibration: ") + e.what());
  }
  if (c.threads < 1) return bad("/broker/threads: must be at least 1");
  bool any = false;
  for (const auto& cls : c.classes) any = any || cls.has_value();
  if (!any) return bad("/classes: no operation class was calibrated");
  for (const auto& cls : c.classes) {
    if (!cls) continue;
    for (const auto& [status, p] : cls->statuses) {
      if (status < 100 || status > 599 || !(p >= 0 && p <= 1)) return bad("/classes/*/statuses: HTTP statuses with probabilities in [0, 1]");
    }
  }
  if (c.notify_selectivity < 0 || c.notify_selectivity > 1) return bad("/notifications/selectivity: must be in [0, 1]");
  if (c.overhead_s < 0 || c.fixed_delay_s < 0 || c.notify_service_s < 0) {
    return bad("overhead_s, fixed_delay_s and notifications/service_s must not be negative");
  }
  return c;
}

Expected<Calibration> Calibration::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Unexpected(text.error());
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Unexpected(Error::InvalidArgument(path + ": not JSON"));
  auto c = FromJson(j);
  if (!c) return Unexpected(Error{c.error().code, path + ": " + c.error().message});
  c->sha256 = Sha256Hex(*text);
  c->path = path;
  return c;
}

}  // namespace citybed::models
