#include "capacity_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "citybed/common/file.h"
#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/models/world.h"
#include "citybed/results/capacity.h"
#include "exit_codes.h"
#include "model_support.h"

namespace citybed::app {

using nlohmann::json;
namespace fs = std::filesystem;

Expected<std::vector<int>> ParseInstanceList(const std::string& text) {
  std::vector<int> out;
  auto number = [](std::string_view s) -> int {
    s = Trim(s);
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
    return std::stoi(std::string(s));
  };
  for (std::string_view part : Split(text, ',')) {
    if (const size_t dots = part.find(".."); dots != std::string_view::npos) {
      const int a = number(part.substr(0, dots)), b = number(part.substr(dots + 2));
      if (a < 1 || b < a || b > 100000) return Unexpected(Error::InvalidArgument("\"" + std::string(part) + "\" is not a range A..B with 1 ≤ A ≤ B"));
      for (int k = a; k <= b; ++k) out.push_back(k);
    } else {
      const int k = number(part);
      if (k < 1 || k > 100000) return Unexpected(Error::InvalidArgument("\"" + std::string(part) + "\" is not a count of instances ≥ 1"));
      out.push_back(k);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty()) return Unexpected(Error::InvalidArgument("no instance count given"));
  return out;
}

Expected<json> ParseSloOptions(const std::vector<std::string>& items) {
  json slo = json::object();
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return Unexpected(Error::InvalidArgument("--slo " + item + ": expected OP:pNN=DURATION or error-rate=X"));
    const std::string key = std::string(Trim(std::string_view(item).substr(0, eq)));
    const std::string value = std::string(Trim(std::string_view(item).substr(eq + 1)));
    if (key == "error-rate" || key == "error_rate") {
      char* end = nullptr;
      double rate = std::strtod(value.c_str(), &end);
      if (end != nullptr && *end == '%' && end[1] == '\0') rate /= 100, ++end;
      if (end == value.c_str() || *end != '\0' || !(rate >= 0 && rate <= 1)) {
        return Unexpected(Error::InvalidArgument("--slo " + item + ": the error rate must be a fraction (0.01) or a percentage (1%)"));
      }
      slo["error_rate"] = rate;
      continue;
    }
    const size_t colon = key.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == key.size()) {
      return Unexpected(Error::InvalidArgument("--slo " + item + ": expected OP:pNN=DURATION, e.g. upsert:p99=100ms"));
    }
    // The scenario's parser checks the operation, the percentile and the duration (with pointers).
    slo["latency"][key.substr(0, colon)][key.substr(colon + 1)] = value;
  }
  return slo;
}

namespace {

// The time in which 99 % of the sources have reported once; 0 without sources.
Expected<double> SettleSeconds(const models::Scenario& s) {
  auto world = models::World::Build(s);
  if (!world) return Unexpected(world.error());
  std::vector<std::pair<double, double>> by_time;  // time to a first report, sources
  double total = 0;
  for (const models::SourceGroup& g : (*world)->sources()) {
    const models::ArrivalSpec& a = g.spec->arrival;
    const double t = a.process == models::ArrivalSpec::Process::kPoisson ? (a.rate > 0 ? 4.6 / a.rate : 0)
                                                                        : a.period.seconds() + a.jitter.seconds() / 2;
    by_time.emplace_back(t, g.count);
    total += g.count;
  }
  std::sort(by_time.begin(), by_time.end());
  double covered = 0;
  for (auto [t, n] : by_time) {
    covered += n;
    if (covered >= 0.99 * total) return std::min(t, 6 * 3600.0);
  }
  return 0.0;
}

// RFC 3339 with the scenario's own UTC offset (local time of day matters to profiles).
std::string LocalRfc3339(int64_t unix_us, double offset_hours) {
  const int64_t offset_s = std::llround(offset_hours * 3600);
  const int64_t local = unix_us / 1000000 + offset_s;
  const int64_t days = (local >= 0 ? local : local - 86399) / 86400;
  const int64_t secs = local - days * 86400;
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  const int64_t off = offset_s < 0 ? -offset_s : offset_s;
  char b[64];
  std::snprintf(b, sizeof b, "%04d-%02u-%02uT%02lld:%02lld:%02lld%c%02lld:%02lld", y, m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60), offset_s < 0 ? '-' : '+',
                static_cast<long long>(off / 3600), static_cast<long long>(off / 60 % 60));
  return b;
}

}  // namespace

Expected<json> DeriveProbeScenario(const CapacityOptions& o, const models::Scenario& original, json& settled) {
  auto text = ReadFile(o.file);
  if (!text) return Unexpected(text.error());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Unexpected(Error::InvalidArgument(o.file + " is not a JSON object"));
  if (!o.slo.empty()) {
    auto slo = ParseSloOptions(o.slo);
    if (!slo) return Unexpected(slo.error());
    j["slo"] = *slo;
  }
  if (o.connections > 0) j["broker"]["connections"] = o.connections;
  int64_t duration = original.duration.ns();
  if (!o.duration.empty()) {
    auto d = ParseDurationNs(o.duration);
    if (!d || *d <= 0) return Unexpected(Error::InvalidArgument("--duration " + o.duration + ": not a positive duration"));
    j["duration"] = o.duration;
    duration = *d;
  }
  // Settling: start earlier, by whole seconds, so that the measured window finds the entities.
  int64_t warmup_ns = original.warmup.ns();
  double settle = 0;
  std::string rule;
  if (o.settle == "auto") {
    auto t = SettleSeconds(original);
    if (!t) return Unexpected(t.error());
    settle = std::ceil(*t);
    rule = "auto: 99 % of the sources report once within it (a periodic source within its period and half its jitter, a "
           "Poisson one within 4.6 mean gaps; at most 6 h)";
  } else if (o.settle != "none") {
    auto d = ParseDurationNs(o.settle);
    if (!d || *d < 0) return Unexpected(Error::InvalidArgument("--settle " + o.settle + ": auto, none or a duration"));
    settle = std::ceil(static_cast<double>(*d) / 1e9);
    rule = "given (--settle)";
  } else {
    rule = "none (--settle none): the broker starts empty";
  }
  const int64_t extra = std::max<int64_t>(0, static_cast<int64_t>(settle * 1e9) - warmup_ns);
  if (extra > 0) {
    warmup_ns += extra;
    duration += extra;
    j["warmup"] = std::to_string(warmup_ns / 1000000) + "ms";
    j["duration"] = std::to_string(duration / 1000000) + "ms";
    j["start"] = LocalRfc3339(original.start_unix_us - extra / 1000, original.utc_offset_hours);
    // Events given as offsets from the start keep their clock time.
    if (j.contains("events") && j["events"].is_array()) {
      for (json& e : j["events"]) {
        if (!e.contains("at") || !e["at"].is_string()) continue;
        const std::string at = e["at"].get<std::string>();
        if (at.size() == 5 && at[2] == ':') continue;  // a time of day
        if (auto d = ParseDurationNs(at)) e["at"] = std::to_string((*d + extra) / 1000000) + "ms";
      }
    }
  }
  settled = {{"added_s", static_cast<double>(extra) / 1e9}, {"settle_s", settle}, {"rule", rule},
             {"note", "the probes start this much earlier than the scenario, as warm-up, so that the measured window (the "
                      "scenario's own clock time) finds the city's entities in the broker"}};
  // About fifty intervals over the measured window (at least a second each): enough for the
  // trend test and MSER-5; whole milliseconds that divide the warm-up.
  int64_t interval_ms = std::max<int64_t>(1000, (duration - warmup_ns) / 50 / 1000000);
  const int64_t warmup_ms = warmup_ns / 1000000;
  if (warmup_ms > 0 && warmup_ns % 1000000 == 0) {
    // The longest divisor of the warm-up up to the target, but at least a second; else the
    // shortest divisor from a second up (the warm-up itself at worst).
    int64_t best = 0;
    for (int64_t k = std::max<int64_t>(1, (warmup_ms + interval_ms - 1) / interval_ms); warmup_ms / k >= 1000; ++k) {
      if (warmup_ms % k == 0) {
        best = warmup_ms / k;
        break;
      }
    }
    if (best == 0) {
      for (int64_t k = warmup_ms / 1000; k >= 1 && best == 0; --k) {
        if (warmup_ms % k == 0 && warmup_ms / k >= 1000) best = warmup_ms / k;
      }
    }
    interval_ms = best > 0 ? best : warmup_ms;
  }
  json& outputs = j["outputs"];
  if (!outputs.is_object()) outputs = json::object();
  outputs["interval"] = std::to_string(interval_ms) + "ms";
  outputs["report"] = false;
  if (j.contains("regions") && j["regions"].is_object() && j["regions"].contains("generate") &&
      j["regions"]["generate"].contains("csv") && j["regions"]["generate"]["csv"].is_string()) {
    fs::path csv = j["regions"]["generate"]["csv"].get<std::string>();
    if (csv.is_relative()) {
      j["regions"]["generate"]["csv"] = fs::absolute(fs::path(o.file).parent_path() / csv).lexically_normal().string();
    }
  }
  return j;
}

Expected<void> PrepareCapacityFolder(const std::string& out, const CapacityOptions& o, const std::string& scenario_sha256) {
  // What determines the probes' results: the probe scenario, the calibration's content, the seed.
  std::string calibration_sha256;
  if (!o.model.empty()) {
    if (auto text = ReadFile(o.model)) calibration_sha256 = Sha256Hex(*text);
  }
  const json key = {{"probe_scenario_sha256", scenario_sha256}, {"calibration_sha256", calibration_sha256}, {"seed", o.seed}};
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) return Unexpected(Error::Io(out + " is not a folder"));
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    auto text = ReadFile(out + "/search.json");
    const json before = text ? json::parse(*text, nullptr, false) : json();
    const bool same = !before.is_discarded() && before == key;
    if (!same && !o.force) {
      return Unexpected(Error::AlreadyExists(out + (text ? " holds another capacity search" : " is not empty") +
                                             " (use --force to start afresh there, or another --out)"));
    }
    if (!same || o.force) {
      for (const auto& entry : fs::directory_iterator(out, ec)) fs::remove_all(entry.path(), ec);
    } else if (!o.quiet) {
      std::fprintf(stderr, "citybed capacity: resuming the search in %s (probes done before are read, not rerun)\n", out.c_str());
    }
  }
  fs::create_directories(out, ec);
  if (ec) return Unexpected(Error::Io("cannot create " + out + ": " + ec.message()));
  return WriteFileAtomic(out + "/search.json", key.dump(2) + "\n");
}

namespace {

// The highest expected rate over 24 h from the start (5-minute steps) and when.
std::pair<double, double> DayPeak(const models::World& w) {
  double peak = 0, at = 0;
  for (int64_t t = 0; t <= 24 * 3600; t += 300) {
    const double v = w.OfferedAt(t * 1000000000LL).total();
    if (v > peak) peak = v, at = static_cast<double>(t);
  }
  return {peak, at};
}

std::string ClockText(const models::Scenario& s, double offset_s) {
  const double local = std::fmod(static_cast<double>(s.start_unix_us) / 1e6 + s.utc_offset_hours * 3600 + offset_s, 86400.0);
  char b[16];
  std::snprintf(b, sizeof b, "%02d:%02d", static_cast<int>(local / 3600), static_cast<int>(std::fmod(local, 3600) / 60));
  return b;
}

Expected<std::unique_ptr<models::World>> BuildFrom(const json& scenario_json, const std::string& label,
                                                   std::unique_ptr<models::Scenario>& holder) {
  auto s = models::ParseScenario(scenario_json.dump(), label);
  if (!s) return Unexpected(Error::InvalidArgument(models::FormatErrors(label, s.error())));
  holder = std::make_unique<models::Scenario>(std::move(*s));
  return models::World::Build(*holder);
}

}  // namespace

Expected<json> MeasureDemand(const CapacityOptions& o, const json& probe, const models::Scenario& scenario) {
  json d;
  // The normal day: the scenario without its events.
  auto probe_world = models::World::Build(scenario);
  if (!probe_world) return Unexpected(probe_world.error());
  // The normal day: the probes' world, or, when the scenario has events, one without them.
  json normal = probe;
  normal.erase("events");
  std::unique_ptr<models::Scenario> normal_s;
  std::unique_ptr<models::World> normal_world;
  if (!scenario.events.empty()) {
    auto w = BuildFrom(normal, o.file, normal_s);
    if (!w) return Unexpected(w.error());
    normal_world = std::move(*w);
  }
  const models::World& world = normal_world ? *normal_world : **probe_world;
  d["reference_rps"] = MeanOffered(**probe_world, scenario.duration, scenario.warmup);  // the measured window
  double window_peak = 0;
  const int64_t from = scenario.warmup.ns(), span = scenario.duration.ns() - from;
  for (int i = 0; i <= 240; ++i) window_peak = std::max(window_peak, (*probe_world)->OfferedAt(from + span / 240 * i).total());
  d["window_peak_rps"] = window_peak;
  const auto [peak, at] = DayPeak(world);
  d["day_peak_rps"] = peak;
  d["day_peak_local_time"] = ClockText(scenario, at);
  d["note"] = "expected requests per second of the city itself (speed 1): the mean over the probes' measured window, its "
              "peak, and the peak over 24 h from the probes' start without events";
  double population = 0;
  for (const auto& r : scenario.regions) population += r.population;
  d["regions"] = scenario.regions.size();
  d["population"] = population;
  // The disaster day: the scenario's own events, or those of --disaster, or disaster-day.json beside it.
  std::string source;
  json events;
  if (o.disaster == "none") {
    d["disaster"] = nullptr;
    return d;
  }
  if (o.disaster.empty() && probe.contains("events") && !probe["events"].empty()) {
    source = o.file + " (its own events)";
    events = probe["events"];
  } else {
    const std::string file = o.disaster.empty() ? (fs::path(o.file).parent_path() / "disaster-day.json").string() : o.disaster;
    auto text = ReadFile(file);
    if (!text) {
      if (!o.disaster.empty()) return Unexpected(Error::NotFound("--disaster " + file + ": " + text.error().message));
      d["disaster"] = nullptr;
      return d;
    }
    const json dj = json::parse(*text, nullptr, false);
    if (dj.is_discarded() || !dj.contains("events")) {
      if (!o.disaster.empty()) return Unexpected(Error::InvalidArgument("--disaster " + file + ": no \"events\""));
      d["disaster"] = nullptr;
      return d;
    }
    source = file + " (its events applied to this scenario's regions)";
    events = dj["events"];
  }
  json with = normal;
  with["events"] = events;
  std::unique_ptr<models::Scenario> disaster_s;
  auto dworld = BuildFrom(with, source, disaster_s);
  if (!dworld) {
    if (!o.disaster.empty()) return Unexpected(Error::InvalidArgument("the disaster day: " + dworld.error().message));
    // The default disaster day does not fit this scenario (its crowds ask for types it lacks).
    d["disaster"] = nullptr;
    d["disaster_not_applied"] = source + ": " + dworld.error().message.substr(0, dworld.error().message.find('\n'));
    return d;
  }
  const auto [dpeak, dat] = DayPeak(**dworld);
  d["disaster"] = {{"source", source}, {"peak_rps", dpeak}, {"peak_local_time", ClockText(scenario, dat)},
                   {"factor", peak > 0 ? dpeak / peak : 0.0}};
  return d;
}

int Conclude(const CapacityOptions& o, json& report) {
  const json& demand = report["demand"];
  const double reference = demand["reference_rps"].get<double>();
  const double day_peak = demand["day_peak_rps"].get<double>();
  const double regions = std::max(1.0, demand["regions"].get<double>());
  const json* basis = nullptr;
  const json* model1 = nullptr;
  bool any_valid = false;
  for (const json& s : report["searches"]) {
    for (const json& p : s["probes"]) any_valid = any_valid || p.value("valid", 0) > 0;
    if (s["instances"] != 1) continue;
    if (s["mode"] == "model") model1 = &s;
    if (s["mode"] == "emulation") basis = &s;  // measured beats modelled, found or not
  }
  if (!basis) basis = model1;
  json h;
  auto rps_of = [&](const json& s) {
    const double measured = s["lambda"]["offered_rps"].get<double>();
    return measured > 0 ? measured : s["lambda"]["multiplier"].get<double>() * reference;
  };
  if (!any_valid || !basis) {
    report["verdict"] = {{"exit_code", kExitInvalidRun}, {"text", "no valid measurement: every probe was invalid (see the probes' notes)"}};
    return kExitInvalidRun;
  }
  const double lambda_rps = rps_of(*basis);
  h["basis"] = (*basis)["mode"];
  h["lambda_multiplier"] = (*basis)["lambda"]["multiplier"];
  h["lambda_rps"] = lambda_rps;
  h["last_success_multiplier"] = (*basis)["lambda"]["multiplier"];
  h["first_failure_multiplier"] = (*basis)["lambda"]["first_fail_multiplier"];
  h["found"] = (*basis)["found"];
  h["confirmed"] = (*basis)["confirmed"];
  if (basis->contains("saturation")) h["saturation_ok_rps"] = (*basis)["saturation"]["ok_rps"];
  if (basis->contains("binding_resource")) h["binding_resource"] = (*basis)["binding_resource"];
  const double planned = o.planned * day_peak;
  h["planned_rps"] = planned;
  h["headroom_day"] = planned > 0 ? lambda_rps / planned : 0.0;
  if (demand["disaster"].is_object()) {
    const double dp = o.planned * demand["disaster"]["peak_rps"].get<double>();
    h["disaster_peak_rps"] = dp;
    h["headroom_disaster"] = dp > 0 ? lambda_rps / dp : 0.0;
  }
  if (model1 && basis != model1) {
    const double m = rps_of(*model1);
    h["model_lambda_rps"] = m;
    h["model_error"] = lambda_rps > 0 ? (m - lambda_rps) / lambda_rps : 0.0;
  }
  report["headline"] = h;
  // The planner's translation.
  json p;
  const double per_region = day_peak / regions;
  const double per_100k = demand["population"].get<double>() > 0 ? day_peak / (demand["population"].get<double>() / 1e5) : 0.0;
  p["peak_rps_per_region"] = per_region;
  p["peak_rps_per_100k_inhabitants"] = per_100k;
  p["instance_capacity_rps"] = lambda_rps;
  p["target_utilisation"] = o.target;
  p["regions_per_instance_at_lambda"] = per_region > 0 ? lambda_rps / per_region : 0.0;
  p["regions_per_instance_at_target"] = per_region > 0 ? o.target * lambda_rps / per_region : 0.0;
  auto instances = [&](double peak_per_region) {
    const double need = o.rollout_regions * peak_per_region * o.planned;
    if (lambda_rps <= 0) return -1.0;
    return std::min(1e9, std::ceil(need / (o.target * lambda_rps)) + 1);
  };
  p["rollout_regions"] = o.rollout_regions;
  p["instances_for_rollout"] = instances(per_region);
  if (demand["disaster"].is_object()) p["instances_for_disaster_day"] = instances(demand["disaster"]["peak_rps"].get<double>() / regions);
  p["rule"] = "instances = ceil(regions × peak per region × planned / (target utilisation × λ*)) + 1 (N+1: one instance may fail)";
  json scaling = json::array();
  double l1 = 0;
  for (const json& s : report["searches"]) {
    if (s["mode"] != "model") continue;
    const double l = rps_of(s);
    if (s["instances"] == 1) l1 = l;
    scaling.push_back({{"instances", s["instances"]}, {"lambda_rps", l}, {"projection", s["projection"]},
                       {"efficiency", l1 > 0 ? l / (l1 * s["instances"].get<double>()) : 0.0}});
  }
  p["scaling_model"] = scaling;
  // Measured scaling: emulated K against K = 1 emulated, and the model's error at each K.
  json measured = json::array();
  double e1 = 0;
  for (const json& s : report["searches"]) {
    if (s["mode"] == "emulation" && s["instances"] == 1) e1 = rps_of(s);
  }
  for (const json& s : report["searches"]) {
    if (s["mode"] != "emulation") continue;
    const double l = rps_of(s);
    json row = {{"instances", s["instances"]}, {"lambda_rps", l},
                {"efficiency", e1 > 0 ? json(l / (e1 * s["instances"].get<double>())) : json(nullptr)}};
    for (const json& m : report["searches"]) {
      if (m["mode"] == "model" && m["instances"] == s["instances"] && l > 0) row["model_error"] = (rps_of(m) - l) / l;
    }
    measured.push_back(row);
  }
  if (!measured.empty()) p["scaling_emulation"] = measured;
  report["planner"] = p;
  const double needed = (1 + o.headroom) * planned;
  const bool fits = lambda_rps >= needed && lambda_rps > 0;
  char text[500];
  std::snprintf(text, sizeof text, "%s: λ* %.0f req/s (%s) %s the planned peak %.1f req/s × (1 + %.2f headroom) = %.1f req/s%s",
                fits ? "fits" : "does not fit", lambda_rps, (*basis)["mode"].get<std::string>().c_str(), fits ? "≥" : "<", planned,
                o.headroom, needed,
                (*basis)["found"].get<bool>() ? "" : "; the search did not bracket λ* (see its note)");
  report["verdict"] = {{"exit_code", fits ? kExitOk : kExitSloFailed}, {"fits", fits}, {"text", text}};
  return fits ? kExitOk : kExitSloFailed;
}

Expected<void> WriteCapacityFiles(const std::string& out, const json& report) {
  if (auto ok = WriteFileAtomic(out + "/capacity.json", report.dump(2) + "\n"); !ok) return ok;
  return WriteFileAtomic(out + "/report.html", results::BuildCapacityHtml(report));
}

void PrintConclusion(const json& report, const std::string& out) {
  std::printf("capacity of %s (%s):\n", report["scenario"]["name"].get<std::string>().c_str(),
              report["verdict"]["text"].get<std::string>().c_str());
  for (const json& s : report["searches"]) {
    const json& l = s["lambda"];
    std::printf("  %-9s K=%-3d λ* ×%-8.4g = %8.0f req/s offered (first failure ×%.4g)%s%s\n", s["mode"].get<std::string>().c_str(),
                s["instances"].get<int>(), l["multiplier"].get<double>(), l["offered_rps"].get<double>(),
                l["first_fail_multiplier"].get<double>(), s["confirmed"].get<bool>() ? ", confirmed" : ", not confirmed",
                s["projection"].get<bool>() ? " [projection]" : "");
    if (!s["unjudged_objectives"].empty()) {
      std::printf("            not judged at any load (too few samples): %s\n", s["unjudged_objectives"].dump().c_str());
    }
    if (s.contains("binding_resource")) {
      std::printf("            binding: %s — %s\n", s["binding_resource"]["resource"].get<std::string>().c_str(),
                  s["binding_resource"]["why"].get<std::string>().c_str());
    }
  }
  if (report.contains("headline")) {
    const json& h = report["headline"];
    std::printf("  headroom: %.1f× the day's peak (%.1f req/s)", h["headroom_day"].get<double>(), h["planned_rps"].get<double>());
    if (h.contains("headroom_disaster")) std::printf(", %.1f× the disaster day's (%.1f req/s)", h["headroom_disaster"].get<double>(), h["disaster_peak_rps"].get<double>());
    std::printf("\n");
    if (h.contains("model_error")) std::printf("  model against emulation: %+.1f %% on λ*\n", 100 * h["model_error"].get<double>());
  }
  if (report.contains("planner")) {
    const json& p = report["planner"];
    std::printf("  rollout: %d regions need %.0f instances (N+1, %.0f %% of λ* each)", p["rollout_regions"].get<int>(),
                p["instances_for_rollout"].get<double>(), 100 * p["target_utilisation"].get<double>());
    if (p.contains("instances_for_disaster_day")) std::printf("; %.0f on the disaster day", p["instances_for_disaster_day"].get<double>());
    std::printf("\n");
  }
  std::printf("results: %s (capacity.json, report.html)\n", out.c_str());
}

}  // namespace citybed::app
