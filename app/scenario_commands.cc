// The commands that read a scenario without running it: `citybed validate`, `entities`,
// `regions`, `sources`; and the loader every scenario command shares.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "citybed/models/protocol.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "exit_codes.h"
#include "scenario_commands.h"

namespace citybed::app {

std::unique_ptr<models::Scenario> LoadScenarioOrReport(const std::string& file) {
  auto s = models::LoadScenario(file);
  if (!s) {
    std::fputs(models::FormatErrors(file, s.error()).c_str(), stderr);
    std::fprintf(stderr, "%s: %zu mistake%s; nothing was run\n", file.c_str(), s.error().size(),
                 s.error().size() == 1 ? "" : "s");
    return nullptr;
  }
  return std::make_unique<models::Scenario>(std::move(*s));
}

namespace {

// A scenario and the World built from it (which refers to it), or nothing after saying why.
struct LoadedWorld {
  std::unique_ptr<models::Scenario> scenario;
  std::unique_ptr<models::World> world;
};
std::optional<LoadedWorld> LoadWorldOrReport(const std::string& file) {
  auto s = LoadScenarioOrReport(file);
  if (!s) return std::nullopt;
  auto world = models::World::Build(*s);
  if (!world) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), world.error().message.c_str());
    return std::nullopt;
  }
  return LoadedWorld{std::move(s), std::move(*world)};
}

// The expected request rate over the run (World::OfferedAt, the same definition the workload
// sends by), averaged with the trapezoid rule over 1/240 steps of the run: what the broker will
// be asked, per operation and per kind of source or user.
void PrintOfferedLoad(const models::World& world) {
  const models::Scenario& s = world.scenario();
  constexpr int kSamples = 240;
  double sum = 0, peak = -1;
  int64_t peak_at = 0;
  models::OfferedLoad mean;
  for (int i = 0; i <= kSamples; ++i) {
    const int64_t t = s.duration.ns() / kSamples * i;
    const models::OfferedLoad l = world.OfferedAt(t);
    const double w = (i == 0 || i == kSamples) ? 0.5 : 1.0;  // trapezoid
    sum += w;
    mean.sources += w * l.sources;
    mean.users += w * l.users;
    mean.crowds += w * l.crowds;
    for (size_t k = 0; k < l.by_op.size(); ++k) mean.by_op[k] += w * l.by_op[k];
    for (const auto& [kind, rate] : l.by_kind) mean.by_kind[kind] += w * rate;
    if (l.total() > peak) peak = l.total(), peak_at = t;
  }
  mean.sources /= sum, mean.users /= sum, mean.crowds /= sum;
  for (double& x : mean.by_op) x /= sum;
  for (auto& [kind, rate] : mean.by_kind) rate /= sum;
  const double hour = world.HourAt(peak_at);
  const int minutes = static_cast<int>(hour * 60) % (24 * 60);
  std::printf("  offered load, requests per simulated second: mean %.1f (sources %.1f, users %.1f, crowds %.1f), "
              "peak %.1f at %02d:%02d\n",
              mean.total(), mean.sources, mean.users, mean.crowds, peak, minutes / 60, minutes % 60);
  std::printf("    by operation:");
  for (size_t k = 0; k < mean.by_op.size(); ++k) {
    if (mean.by_op[k] > 0) std::printf(" %s %.1f", std::string(models::OpKindName(static_cast<models::OpKind>(k))).c_str(), mean.by_op[k]);
  }
  std::printf("\n    by kind:");
  for (const auto& [kind, rate] : mean.by_kind) std::printf(" %s %.1f", kind.c_str(), rate);
  std::printf("\n");
  if (const uint64_t subs = world.SubscriptionsAtStart(); subs > 0) {
    std::printf("    plus %llu subscriptions made by the users at the start\n", static_cast<unsigned long long>(subs));
  }
  std::printf("  at speed %g the broker sees about %.1f requests per wall second on average, %.1f at the peak\n", s.speed,
              mean.total() * s.speed, peak * s.speed);
}

int Validate(const std::vector<std::string>& files) {
  int bad = 0;
  for (const std::string& f : files) {
    auto loaded = LoadWorldOrReport(f);
    if (!loaded) {
      ++bad;
      continue;
    }
    const models::Scenario& s = *loaded->scenario;
    const models::World& world = *loaded->world;
    std::printf("%s: valid — %zu region%s, %llu sources, %llu users, %s\n", f.c_str(), s.regions.size(),
                s.regions.size() == 1 ? "" : "s", static_cast<unsigned long long>(world.total_sources()),
                static_cast<unsigned long long>(world.total_users()), s.duration.ToString().c_str());
    PrintOfferedLoad(world);
  }
  return bad == 0 ? kExitOk : kExitUsage;
}

int Entities(const std::string& file, int sample, int reports, const std::string& api) {
  auto loaded = LoadWorldOrReport(file);
  if (!loaded) return kExitUsage;
  models::World* world = loaded->world.get();
  std::string line;
  for (auto& g : world->sources()) {
    const uint32_t n = std::min<uint32_t>(g.count, static_cast<uint32_t>(sample));
    for (uint32_t i = 0; i < n; ++i) {
      // The same reports the emulation would send, at the source's nominal report times.
      for (int k = 0; k < reports; ++k) {
        const int64_t t_ns = static_cast<int64_t>(g.spec->arrival.Mean() * 1e9) * k;
        const uint32_t report = g.reports[i]++;
        sim::Rng rng = models::World::ReportRng(g, i, report);
        const models::SourceContext ctx = world->Context(g, i, t_ns);
        models::EntityUpdate u;
        u.id = models::EntityId(*g.model, ctx.region, i);
        u.type = g.model->entity_type();
        u.observed_us = ctx.unix_us;
        g.model->Report(ctx, g.StateOf(i), rng, u);
        line.clear();
        if (api == "ngsi-v2") models::AppendNgsiV2Entity(line, u); else models::AppendNgsiLdEntity(line, u);
        line.push_back('\n');
        std::fputs(line.c_str(), stdout);
      }
    }
  }
  return kExitOk;
}

int Regions(const std::string& file) {
  auto loaded = LoadWorldOrReport(file);
  if (!loaded) return kExitUsage;
  models::World* world = loaded->world.get();
  // The regions' CSV, with each region's path to the broker.
  std::printf("id,name,lat,lon,population,stage,radius_km,gateway,broker_path_ms,hops,path_loss\n");
  double sum_ms = 0, population = 0;
  for (const auto& r : world->regions()) {
    const double ms = r.path.Delay(0).millis();
    sum_ms += ms;
    population += r.spec->population;
    std::printf("%s,%s,%.4f,%.4f,%.0f,%d,%.2f,%s,%.3f,%zu,%.6f\n", r.spec->id.c_str(), r.spec->name.c_str(), r.spec->lat,
                r.spec->lon, r.spec->population, r.spec->stage, r.radius_km,
                world->network().name(r.gateway).c_str(), ms, r.path.nodes.size() - 1, r.path.loss);
  }
  const size_t n = world->regions().size();
  std::fflush(stdout);  // the table first, then the totals, when both go to one terminal
  std::fprintf(stderr, "%zu regions, %.0f inhabitants, %llu sources, %llu users; network: %zu nodes, diameter %s, "
               "mean path to the broker %.3f ms (one way, without queueing)\n",
               n, population, static_cast<unsigned long long>(world->total_sources()),
               static_cast<unsigned long long>(world->total_users()), world->network().node_count(),
               world->network().Diameter().ToString().c_str(), n ? sum_ms / static_cast<double>(n) : 0.0);
  return kExitOk;
}

}  // namespace

void RegisterScenarioCommands(CLI::App& app, Action& action) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* validate = app.add_subcommand("validate", "Check scenario files and report every mistake");
  validate->add_option("scenario", *files, "Scenario files")->required();
  validate->callback([files, &action] { action = [files] { return Validate(*files); }; });

  auto file = std::make_shared<std::string>();
  auto sample = std::make_shared<int>(3);
  auto reports = std::make_shared<int>(1);
  CLI::App* entities = app.add_subcommand("entities", "Print, as NDJSON, the entities a scenario's sources emit");
  entities->add_option("scenario", *file, "Scenario file")->required()->check(CLI::ExistingFile);
  entities->add_option("--sample", *sample, "Sources per source group (kind x region)")->check(Between(1, 1000000))
      ->capture_default_str();
  entities->add_option("--reports", *reports, "Reports per source")->check(Between(1, 10000))->capture_default_str();
  auto entities_api = std::make_shared<std::string>("ngsi-ld");
  entities->add_option("--api", *entities_api, "The rendering: ngsi-ld (normalized) or ngsi-v2 (normalized, as v2 sources write)")
      ->check(CLI::IsMember({"ngsi-ld", "ngsi-v2"}))->capture_default_str();
  entities->callback([file, sample, reports, entities_api, &action] {
    action = [=] { return Entities(*file, *sample, *reports, *entities_api); };
  });

  auto regions_file = std::make_shared<std::string>();
  CLI::App* regions = app.add_subcommand("regions", "Print a scenario's regions as CSV (generated ones too), and its network");
  regions->add_option("scenario", *regions_file, "Scenario file")->required()->check(CLI::ExistingFile);
  regions->callback([regions_file, &action] { action = [regions_file] { return Regions(*regions_file); }; });

  CLI::App* sources = app.add_subcommand("sources", "List the source kinds a scenario can use");
  sources->callback([&action] {
    action = [] {
      std::printf("%-22s %-28s %s\n", "kind", "entity type", "domain");
      for (const models::SourceModel* m : models::SourceModels()) {
        std::printf("%-22s %-28s %s\n", std::string(m->kind()).c_str(), std::string(m->entity_type()).c_str(),
                    std::string(m->domain()).c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace citybed::app
