// What `citybed run` sets up before its workload starts: the command line's overrides of the
// scenario (validated like the file), the broker's access key, and the brokers — embedded ones
// started in this process (one, K instances, or a federation's sites) or the scenario's URLs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "citybed/broker/broker.h"
#include "citybed/common/expected.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "run_options.h"

namespace citybed::app {

// --duration, --speed, --seed, --broker, --instances, --placement onto `s`; kExitOk, or
// kExitUsage after saying what is wrong.
int ApplyRunOverrides(const RunOptions& o, models::Scenario& s);

// "Authorization: Bearer <key>\r\n" from the variable broker.token_env names; "" when none is named.
Expected<std::string> AccessKeyHeader(const models::Scenario& s);

struct RunBrokers {
  std::vector<std::unique_ptr<broker::Broker>> embedded;  // started here, each on a free port
  std::vector<std::string> site_urls;     // one per instance or federation site, when more than one
  std::vector<std::string> site_ld_urls;  // a federation's sites' NGSI-LD URLs
  size_t external_sites = 0;              // federation sites served by a city's own broker
  std::string url;                        // the broker the run names (the first site), no trailing '/'
};

// The brokers of the run; `model_file` non-empty: model mode (none is started, url "model:FILE").
Expected<RunBrokers> StartRunBrokers(const models::Scenario& s, const models::World& world, const std::string& model_file);

}  // namespace citybed::app
