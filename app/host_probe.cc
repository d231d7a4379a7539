#include "host_probe.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace citybed::app {

HostProbe::HostProbe() : first_(Take()) {}

HostProbe::Sample HostProbe::Take() {
  Sample s;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal && cpu == "cpu") {
    s.total = user + nice + system + idle + iowait + irq + softirq + steal;
    s.idle = idle + iowait;
    s.steal = steal;
  }
  std::ifstream self("/proc/self/stat");
  std::string line;
  if (std::getline(self, line)) {
    // Fields after the command name (which may hold spaces) start after the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    s.self = utime + stime;
  }
  return s;
}

nlohmann::json HostProbe::Describe() const {
  const Sample now = Take();
  nlohmann::json j;
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  j["cores"] = cores;
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  j["load_avg_1m"] = load;
  const double total = now.total - first_.total;
  if (total <= 0) return j;
  const double busy = total - (now.idle - first_.idle) - (now.steal - first_.steal);
  const double self = now.self - first_.self;
  auto round = [](double x) { return std::round(x * 1e4) / 1e4; };
  const double steal = (now.steal - first_.steal) / total;
  const double others = std::max(0.0, busy - self) / total;
  j["steal_share"] = round(steal);
  j["others_share"] = round(others);
  j["citybed_share"] = round(std::max(0.0, self) / total);
  if (steal > 0.05 || others > 0.25) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "other work used %.0f %% of the machine's CPU during the run%s; latencies and the generator's lag "
                  "may be worse than the broker alone would give",
                  others * 100, steal > 0.05 ? (" and the hypervisor stole " + std::to_string(static_cast<int>(steal * 100)) + " %").c_str() : "");
    j["warning"] = text;
  }
  return j;
}

}  // namespace citybed::app
