// The run folder: its default name, the check before a run that it can take the results, and
// the atomic writes after.
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "citybed/common/file.h"
#include "citybed/results/run_output.h"

namespace citybed::results {

std::string RunFolderName(const std::string& scenario_name) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(stamp) + "-" + scenario_name;
}

Expected<void> PrepareRunFolder(const std::string& dir, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Unexpected(Error::Io(dir + " exists and is not a folder"));
  }
  if (!force) {
    for (const char* name : {"summary.json", "manifest.json", "timeseries.csv"}) {
      if (fs::exists(fs::path(dir) / name, ec)) {
        return Unexpected(Error::AlreadyExists(dir + " already holds a run (" + name +
                                               "); choose another --out, or add --force to replace it"));
      }
    }
  }
  fs::create_directories(dir, ec);
  if (ec) return Unexpected(Error::Io("cannot create " + dir + ": " + ec.message()));
  // A replaced run's sample files would pass for this run's (request_log.h writes them only when asked).
  for (const char* name : {"requests.csv", "notifications.csv", "requests.csv.partial", "notifications.csv.partial"}) {
    fs::remove(fs::path(dir) / name, ec);
  }
  // Writable? Try it rather than trust permission bits (read-only mounts, ACLs, root).
  const std::string probe = (fs::path(dir) / ".citybed-write-check").string();
  if (auto ok = WriteFileAtomic(probe, "citybed\n"); !ok) {
    return Unexpected(Error::Io("cannot write results into " + dir + ": " + ok.error().message));
  }
  fs::remove(probe, ec);
  return {};
}

Expected<std::vector<std::string>> WriteRunFolder(const std::string& dir, const RunFiles& f) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected(Error::Io("cannot create " + dir + ": " + ec.message()));
  std::vector<std::string> written;
  const std::pair<std::string, std::string> files[] = {
      {"manifest.json", f.manifest.dump(2) + "\n"},
      {"timeseries.csv", f.csv},
      {"timeseries.csv-metadata.json", f.csv_metadata.dump(2) + "\n"},
      {"report.html", f.html},
      {"summary.json", f.summary.dump(2) + "\n"}};  // last: its presence says the run folder is complete
  for (const auto& [name, content] : files) {
    if (name == "report.html" && content.empty()) continue;
    const std::string path = dir + "/" + name;
    if (auto ok = WriteFileAtomic(path, content); !ok) return Unexpected(ok.error());
    written.push_back(path);
  }
  return written;
}

}  // namespace citybed::results
