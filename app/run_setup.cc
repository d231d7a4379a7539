// What a run sets up before its workload starts (run_setup.h).
#include "run_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "citybed/common/strings.h"
#include "citybed/common/url.h"
#include "citybed/models/federation.h"
#include "exit_codes.h"

namespace citybed::app {

int ApplyRunOverrides(const RunOptions& o, models::Scenario& s) {
  if (!o.duration.empty()) {
    auto d = sim::Duration::Parse(o.duration);
    if (!d || d->ns() <= 0) {
      std::fprintf(stderr, "citybed run: --duration: %s\n", d ? "must be longer than 0" : d.error().message.c_str());
      return kExitUsage;
    }
    s.duration = *d;
    if (s.warmup >= s.duration) s.warmup = sim::Duration();
  }
  if (o.speed > 0) s.speed = o.speed;
  if (o.seed >= 0) s.seed = static_cast<uint64_t>(o.seed);
  if (!o.broker.empty()) {
    // One URL, or a comma-separated list: instances of one broker that citybed does not start.
    std::vector<std::string> urls;
    if (o.broker != "embedded") {
      for (const std::string_view part : Split(o.broker, ',')) {
        const std::string one(Trim(part));
        auto url = ParseHttpUrl(one);
        if (!url || url->scheme != "http") {
          std::fprintf(stderr, "citybed run: --broker must be \"embedded\", an http:// URL or a comma-separated list of them: %s\n",
                       url ? "https is not supported" : url.error().message.c_str());
          return kExitUsage;
        }
        urls.push_back(one);
      }
    }
    // "embedded" keeps the scenario's number of instances; one URL is one broker.
    s.broker.url = urls.empty() ? "embedded" : urls.front();
    s.broker.urls = urls.size() > 1 ? urls : std::vector<std::string>{};
    if (!urls.empty()) s.broker.instances = static_cast<int>(urls.size());
    if (s.federation && o.broker != "embedded") {
      std::fprintf(stderr, "citybed run: %s federates embedded brokers (its \"federation\" section); --broker cannot "
                           "replace them\n", o.file.c_str());
      return kExitUsage;
    }
  }
  if (o.instances > 0) {
    if (o.instances > 1 && s.federation) {
      std::fprintf(stderr, "citybed run: %s federates brokers (a broker per region or block); --instances spreads the regions "
                           "of one broker\n", o.file.c_str());
      return kExitUsage;
    }
    if (o.model.empty() && !s.broker.urls.empty() && static_cast<size_t>(o.instances) != s.broker.urls.size()) {
      std::fprintf(stderr, "citybed run: --instances %d, but %zu broker URLs are given\n", o.instances, s.broker.urls.size());
      return kExitUsage;
    }
    if (o.instances > 1 && o.model.empty() && s.broker.url != "embedded" && s.broker.urls.empty()) {
      std::fprintf(stderr, "citybed run: --instances %d needs the embedded broker or one URL per instance (--broker URL,URL,...)\n",
                   o.instances);
      return kExitUsage;
    }
    s.broker.instances = o.instances;
  }
  if (!o.placement.empty()) {
    if (o.placement == "round-robin") s.broker.placement = models::Placement::kRoundRobin;
    else if (o.placement == "balanced") s.broker.placement = models::Placement::kBalanced;
    else {
      std::fprintf(stderr, "citybed run: --placement must be round-robin or balanced\n");
      return kExitUsage;
    }
  }
  return kExitOk;
}

Expected<std::string> AccessKeyHeader(const models::Scenario& s) {
  if (s.broker.token_env.empty()) return std::string();
  const char* token = std::getenv(s.broker.token_env.c_str());
  if (token == nullptr || *token == '\0') {
    return Unexpected(Error::InvalidArgument("broker.token_env names " + s.broker.token_env +
                                             ", which is not set: set it to the broker's access key"));
  }
  const std::string_view key(token);
  if (key.find_first_of("\r\n") != std::string_view::npos) {
    return Unexpected(Error::InvalidArgument("the access key in " + s.broker.token_env + " holds a line break"));
  }
  return "Authorization: Bearer " + std::string(key) + "\r\n";
}

Expected<RunBrokers> StartRunBrokers(const models::Scenario& s, const models::World& world, const std::string& model_file) {
  RunBrokers b;
  std::vector<std::unique_ptr<broker::Broker>>& embedded = b.embedded;
  std::vector<std::string>& site_urls = b.site_urls;
  std::vector<std::string>& site_ld_urls = b.site_ld_urls;
  size_t& external_sites = b.external_sites;
  std::string& url = b.url;
  const bool model = !model_file.empty();
  url = model ? "model:" + model_file : s.broker.url;
  if (!model && !s.broker.urls.empty()) {  // instances citybed does not start
    site_urls = s.broker.urls;
    url = site_urls.front();
  }
  if (url == "embedded" && !model) {
    const models::Federation* fed = world.federation();
    const size_t n = fed ? fed->sites().size() : static_cast<size_t>(std::max(1, s.broker.instances));
    for (size_t i = 0; i < n; ++i) {
      // A site served by a city's own broker (federation.external): citybed starts nothing.
      if (fed) {
        const auto ext = fed->spec().external.find(fed->sites()[i].id);
        if (ext != fed->spec().external.end()) {
          site_urls.push_back(ext->second.url);
          site_ld_urls.push_back(ext->second.ld_url);
          ++external_sites;
          continue;
        }
      }
      broker::BrokerOptions bo;
      bo.server.port = 0;
      bo.server.threads = s.broker.threads;
      if (fed) {
        bo.via_name = fed->sites()[i].id;
        bo.api.forward_timeout = std::chrono::milliseconds(std::max<int64_t>(1, fed->spec().timeout.ns() / 1000000));
        bo.api.forward_cooldown = std::chrono::milliseconds(fed->spec().cooldown.ns() / 1000000);
      }
      embedded.push_back(std::make_unique<broker::Broker>(bo));
      if (auto ok = embedded.back()->Start(); !ok) {
        return Unexpected(Error::Unavailable("cannot start the embedded broker" + (fed ? " of " + fed->sites()[i].id : std::string()) +
                                             ": " + ok.error().message));
      }
      if (fed) site_ld_urls.push_back(embedded.back()->url());
      if (fed || n > 1) site_urls.push_back(embedded.back()->url());
    }
    url = fed ? site_urls.front() : embedded.front()->url();
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return b;
}

}  // namespace citybed::app
