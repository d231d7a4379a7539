// summary.json: what a run measured and whether it counts. Every field is documented in
// docs/results.md; the schema version is kSummarySchema.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "citybed/common/strings.h"
#include "citybed/results/run_output.h"
#include "format.h"

namespace citybed::results {

using nlohmann::json;

namespace {

double Seconds(sim::Time t) { return static_cast<double>(t.ns()) / 1e9; }        // exact decimals
// Rounded to a decimal unit (0.001): divided by the power of ten, so it prints as written.
double Round(double v, double unit) {
  const double scale = std::round(1.0 / unit);
  return std::round(v * scale) / scale;
}

uint64_t Lookup(const std::map<std::string, uint64_t>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

std::string PercentileName(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%g", p);
  return buf;
}

json SliceJson(const RequestStats& st, const Window& w) {
  json j;
  j["scheduled"] = st.scheduled;
  j["sent"] = st.sent;
  j["ok"] = st.ok;
  j["failed"] = st.failed();
  j["failures"] = {{"status", st.statuses},
                   {"problem", st.problems},
                   {"timeout", st.count(models::Outcome::kTimeout)},
                   {"connection", st.transport},
                   {"network", st.count(models::Outcome::kNetwork)},
                   {"cancelled", st.count(models::Outcome::kCancelled)}};
  j["error_rate"] = st.scheduled ? static_cast<double>(st.failed()) / static_cast<double>(st.scheduled) : 0.0;
  const double sim_s = w.simulated_s(), wall_s = w.wall_s();
  j["throughput"] = {{"ok_per_simulated_s", sim_s > 0 ? Round(static_cast<double>(st.ok) / sim_s, 0.001) : 0.0},
                     {"ok_per_wall_s", wall_s > 0 ? Round(static_cast<double>(st.ok) / wall_s, 0.001) : 0.0},
                     {"scheduled_per_simulated_s",
                      sim_s > 0 ? Round(static_cast<double>(st.scheduled) / sim_s, 0.001) : 0.0}};
  j["latency_ms"] = LatencyJson(st.latency);
  j["latency_ok_ms"] = LatencyJson(st.latency_ok);
  // The simulated network's share of the mean latency; the rest is the broker's (and waits).
  j["network_share"] = st.latency.Sum() > 0 ? Round(static_cast<double>(st.network_ns) / st.latency.Sum(), 1e-4) : 0.0;
  j["bytes_up"] = st.bytes_up;
  j["bytes_down"] = st.bytes_down;
  return j;
}

// The tightest latency SLO bound, if any.
std::optional<sim::Duration> TightestSlo(const models::SloSpec& slo) {
  std::optional<sim::Duration> t;
  for (const models::SloObjective& o : slo.latency) {
    if (!t || o.bound < *t) t = o.bound;
  }
  return t;
}

}  // namespace

json LatencyJson(const sim::LatencyHistogram& h) {
  return {{"p50", MsRounded(h.ValueAtPercentile(50))},   {"p90", MsRounded(h.ValueAtPercentile(90))},
          {"p99", MsRounded(h.ValueAtPercentile(99))},   {"p999", MsRounded(h.ValueAtPercentile(99.9))},
          {"max", MsRounded(h.Max())},                   {"mean", MsRounded(static_cast<int64_t>(std::llround(h.Mean())))},
          {"count", h.Count()}};
}

Window WindowOf(const models::Scenario& s, const models::EmulationResult& r) {
  Window w;
  w.from = sim::Time() + s.warmup;
  w.planned_to = sim::Time() + s.duration;
  w.to = r.reached_end ? w.planned_to : std::min(r.end, w.planned_to);
  w.speed = s.speed;
  return w;
}

uint64_t SamplesNeeded(double percentile) {
  if (percentile >= 100) return UINT64_MAX;
  return static_cast<uint64_t>(std::ceil(1.0 / (1.0 - percentile / 100.0) - 1e-9));
}

GeneratorVerdict JudgeGenerator(const models::Scenario& s, const models::EmulationResult& r, const Recorder& rec) {
  GeneratorVerdict g;
  g.percentile = s.generator.lag_percentile;
  g.measured = sim::Duration::Nanoseconds(r.executor.lag.ValueAtPercentile(g.percentile));
  const sim::Duration floor = sim::Duration::Milliseconds(1);
  const auto tightest = TightestSlo(s.slo);
  if (s.generator.lag_bound) {
    g.bound = *s.generator.lag_bound;
    g.rule = "the scenario's generator.lag_bound";
  } else if (tightest) {
    g.bound = std::max(floor, *tightest * 0.05);
    g.rule = "max(1 ms, 5 % of the tightest latency SLO (" + tightest->ToString() + "))";
  } else {
    const sim::Duration p99 = sim::Duration::Nanoseconds(rec.total().latency.ValueAtPercentile(99));
    g.bound = std::max(floor, p99 * 0.05);
    g.rule = "max(1 ms, 5 % of the measured p99 latency of all requests (" + p99.ToString() + "))";
  }
  if (tightest && tightest->ns() > 0) g.share_of_tightest_slo = g.measured / *tightest;
  if (r.executor.lag.Count() > 0 && g.measured > g.bound) {
    g.valid = false;
    g.reason = "the generator fell behind the wall clock: " + PercentileName(g.percentile) + " executor lag " +
               g.measured.ToString() + " exceeds " + g.bound.ToString() + " (" + g.rule +
               "): the run measures citybed, not the broker";
  }
  return g;
}

SloVerdict EvaluateSlo(const models::SloSpec& slo, const Recorder& rec) {
  SloVerdict v;
  for (const models::SloObjective& o : slo.latency) {
    const sim::LatencyHistogram* h = nullptr;
    if (o.operation == "all") h = &rec.total().latency;
    else if (o.operation == "notification") h = &rec.freshness();
    else if (auto it = rec.named().find(o.operation); it != rec.named().end()) h = &it->second.latency;
    else {
      for (size_t k = 0; k < kOps; ++k) {
        if (models::OpKindName(static_cast<models::OpKind>(k)) == o.operation) h = &rec.operation(static_cast<models::OpKind>(k)).latency;
      }
    }
    json j;
    j["objective"] = o.operation + " " + PercentileName(o.percentile) + " <= " + o.bound.ToString();
    j["operation"] = o.operation;
    j["percentile"] = o.percentile;
    j["bound_ms"] = o.bound.millis();
    const uint64_t needed = SamplesNeeded(o.percentile);
    j["samples_needed"] = needed;
    const uint64_t n = h == nullptr ? 0 : h->Count();
    j["samples"] = n;
    if (n < needed) {
      j["measured_ms"] = n > 0 ? json(MsRounded(h->ValueAtPercentile(o.percentile))) : json(nullptr);
      j["pass"] = nullptr;
      j["verdict"] = "not enough data";
      j["note"] = std::to_string(n) + " samples; " + PercentileName(o.percentile) + " needs at least " +
                  std::to_string(needed);
      v.judged = false;
    } else {
      const double measured = MsRounded(h->ValueAtPercentile(o.percentile));
      j["measured_ms"] = measured;
      const bool pass = measured <= o.bound.millis();
      j["pass"] = pass;
      j["verdict"] = pass ? "pass" : "fail";
      v.pass = v.pass && pass;
    }
    v.any = true;
    v.objectives.push_back(j);
  }
  if (slo.error_rate) {
    const auto& t = rec.total();
    json j;
    char bound[32];
    std::snprintf(bound, sizeof bound, "%g", *slo.error_rate * 100);
    j["objective"] = "error rate <= " + std::string(bound) + " %";
    j["operation"] = "all";
    j["bound"] = *slo.error_rate;
    j["samples"] = t.scheduled;
    if (t.scheduled == 0) {
      j["measured"] = nullptr;
      j["pass"] = nullptr;
      j["verdict"] = "not enough data";
      v.judged = false;
    } else {
      const double rate = static_cast<double>(t.failed()) / static_cast<double>(t.scheduled);
      j["measured"] = rate;
      j["pass"] = rate <= *slo.error_rate;
      j["verdict"] = rate <= *slo.error_rate ? "pass" : "fail";
      v.pass = v.pass && rate <= *slo.error_rate;
    }
    v.any = true;
    v.objectives.push_back(j);
  }
  return v;
}

json BuildSummary(const Recorder& rec, const RunInfo& info, const SloVerdict& slo, const GeneratorVerdict& gen) {
  const models::Scenario& s = *info.scenario;
  const models::EmulationResult& r = *info.result;
  const Window w = WindowOf(s, r);
  json j;
  j["schema"] = kSummarySchema;
  j["scenario"] = s.name;
  j["mode"] = info.model.is_null() ? "emulation" : "model";
  if (!info.model.is_null()) j["model"] = info.model;
  j["valid"] = r.valid();
  j["complete"] = r.reached_end;
  j["invalid_reasons"] = r.invalid_reasons;
  j["measured"] = w.measured() && rec.total().scheduled > 0;
  json window = {{"from_s", Seconds(w.from)},
                 {"to_s", Seconds(w.to)},
                 {"planned_to_s", Seconds(w.planned_to)},
                 {"simulated_s", w.simulated_s()},
                 {"wall_s", w.wall_s()},
                 {"speed", s.speed}};
  if (!w.measured()) {
    window["note"] = "the run ended at t=" + FormatSecondsExact(w.to.ns()) + " s, inside the warm-up (" +
                     FormatSecondsExact(w.from.ns()) + " s): nothing was measured";
  } else if (w.to < w.planned_to) {
    window["note"] = "the run ended early at t=" + FormatSecondsExact(w.to.ns()) + " s; rates are over " +
                     FormatSecondsExact(w.from.ns()) + "-" + FormatSecondsExact(w.to.ns()) + " s";
  }
  j["window"] = window;
  j["requests"] = SliceJson(rec.total(), w);
  json ops = json::object();
  for (size_t k = 0; k < kOps; ++k) {
    const auto& st = rec.operation(static_cast<models::OpKind>(k));
    if (st.scheduled > 0) ops[std::string(models::OpKindName(static_cast<models::OpKind>(k)))] = SliceJson(st, w);
  }
  j["operations"] = ops;
  json named = json::object();
  for (const auto& [name, st] : rec.named()) named[name] = SliceJson(st, w);
  j["named_requests"] = named;
  json regions = json::object();
  for (size_t i = 0; i < rec.regions().size(); ++i) {
    json rj = SliceJson(rec.regions()[i], w);
    const std::string& id = rec.options().regions[i];
    rj["sources"] = Lookup(info.sources_by_region, id);
    rj["entities"] = Lookup(info.entities_by_region, id);
    regions[id] = rj;
  }
  j["regions"] = regions;
  json domains = json::object();
  for (size_t i = 0; i < rec.domains().size(); ++i) {
    const std::string& name = rec.options().domains[i];
    const uint64_t n = Lookup(info.sources_by_domain, name);
    if (n == 0 && rec.domains()[i].scheduled == 0) continue;
    json dj = SliceJson(rec.domains()[i], w);
    dj["sources"] = n;
    dj["entities"] = Lookup(info.entities_by_domain, name);
    domains[name] = dj;
  }
  j["domains"] = domains;
  json types = json::object();
  for (const auto& [type, n] : info.sources_by_type) types[type] = {{"sources", n}, {"entities", Lookup(info.entities_by_type, type)}};
  j["entity_types"] = types;
  j["sources"] = info.sources;
  j["entities"] = info.entities;
  j["users"] = info.users;
  json errors = json::array();
  for (const auto& [cause, seen] : rec.causes()) {
    errors.push_back({{"cause", cause}, {"count", seen.count}, {"first_s", Seconds(seen.first)}, {"last_s", Seconds(seen.last)}});
  }
  std::sort(errors.begin(), errors.end(), [](const json& a, const json& b) { return a["count"] > b["count"]; });
  j["errors"] = errors;

  json notes = {{"received", r.notifications},
                {"entities", r.notified_entities},
                {"in_window", rec.notifications()},
                {"malformed", r.notification_errors},
                {"lost_on_network", r.notifications_lost},
                {"missing", rec.missing_notifications()},
                {"nominal_uplink", r.freshness_nominal_uplink},
                {"subscriptions", r.subscriptions},
                {"subscriptions_failed", r.subscriptions_failed},
                {"freshness_ms", LatencyJson(rec.freshness())}};
  if (r.broker_notifications.known) {
    const auto& b = r.broker_notifications;
    notes["broker"] = {{"triggered", b.triggered}, {"sent", b.sent}, {"failed", b.failed}, {"dropped", b.dropped},
                       {"missing", b.missing}};
  } else {
    notes["broker"] = "unknown";
  }
  j["notifications"] = notes;

  // What users got back from reads that cross regions (and every read of a federation).
  j["interoperability"] = rec.interop().ToJson();
  if (r.federation.active) {
    const models::Federation& fed = *info.federation;
    json f = {{"topology", std::string(models::ToString(fed.spec().topology))},
              {"brokers", fed.spec().brokers == models::FederationSpec::Brokers::kPerRegion ? "per-region" : "per-block"},
              {"sites", r.federation.sites},
              {"registrations", r.federation.registrations},
              {"relayed", r.federation.relayed}};
    if (r.federation.relayed) {
      const auto& bb = r.federation.backbone;
      f["relay"] = {{"messages", r.federation.hops},
                    {"lost", r.federation.lost},
                    {"unreachable", r.federation.unreachable},
                    {"faulted", r.federation.faulted},
                    {"bytes_forward", r.federation.bytes_forward},
                    {"bytes_back", r.federation.bytes_back},
                    {"backbone_delay_ms", LatencyJson(bb)}};
      f["relay"]["note"] = "broker-to-broker requests and answers, delayed by the simulated backbone (both ways, "
                           "warm-up included); delays in simulated ms";
    }
    j["federation"] = f;
  }

  const auto& lag = r.executor.lag;
  json g = {{"valid", gen.valid},
            {"lag_percentile", gen.percentile},
            {"lag_ms", MsRounded(gen.measured.ns())},
            {"lag_bound_ms", MsRounded(gen.bound.ns())},
            {"lag_rule", gen.rule},
            {"p50_lag_ms", MsRounded(lag.ValueAtPercentile(50))},
            {"p99_lag_ms", MsRounded(lag.ValueAtPercentile(99))},
            {"max_lag_ms", MsRounded(lag.Max())},
            {"events", r.executor.events},
            {"requests_emitted", r.emitted},
            {"requests_dispatched", r.dispatched},
            {"requests_sent", r.sent},
            {"network_failures", r.network_failures},
            {"timeouts", r.timeouts},
            {"cancelled", r.cancelled},
            {"skipped", r.skipped},
            {"wall_seconds", Round(r.wall_seconds, 0.001)},
            // What keeping time cost: the executor thread's CPU, of which spinning towards due
            // times (timers are armed ahead by how late they recently woke).
            {"cpu_seconds", Round(r.executor.cpu_seconds, 0.001)},
            {"spin_seconds", Round(r.executor.spin_seconds, 0.001)},
            {"wake_ahead_ms", MsRounded(r.executor.wake_ahead.ns())},
            {"timer_oversleep_p99_ms", MsRounded(r.executor.oversleep.ValueAtPercentile(99))}};
  g["share_of_tightest_slo"] = gen.share_of_tightest_slo ? json(Round(*gen.share_of_tightest_slo, 1e-4)) : json(nullptr);
  j["generator"] = g;
  // Waiting for one of citybed's connections: the broker was slow (every connection busy with
  // a request at the broker), not citybed. Over the window's requests, as every slice.
  const sim::LatencyHistogram& wait = rec.connection_wait();
  json c = {{"connections", s.broker.connections},
            {"max_outstanding", r.max_outstanding},
            {"wait_p50_ms", MsRounded(wait.ValueAtPercentile(50))},
            {"wait_p99_ms", MsRounded(wait.ValueAtPercentile(99))},
            {"wait_max_ms", MsRounded(wait.Max())},
            {"requests", wait.Count()}};
  if (s.broker.instances > 1) c["instances"] = s.broker.instances;  // `connections` to each
  j["connections"] = c;
  j["histograms"] = {{"relative_error", sim::LatencyHistogram().RelativeError()},
                     {"interval_relative_error", sim::LatencyHistogram(4).RelativeError()},
                     {"note", "percentiles are bucket midpoints: within relative_error of the true value"}};
  j["host"] = info.host;
  j["broker_resources"] = info.broker_resources;
  j["slo"] = slo.objectives;
  j["slo_verdict"] = !slo.any ? "none" : !slo.pass ? "fail" : !slo.judged ? "not enough data" : "pass";
  j["slo_pass"] = slo.pass && slo.judged;
  return j;
}

}  // namespace citybed::results
