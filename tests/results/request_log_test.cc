// The request log (results/request_log.h): every request and notification the recorder sees, as
// exact samples from which the summary's figures can be recomputed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "citybed/models/world.h"
#include "citybed/results/recorder.h"
#include "citybed/results/request_log.h"
#include "fake_port.h"

using namespace citybed;
using namespace citybed::models;
using citybed::sim::Duration;

namespace {

// Splits one RFC 4180 line into its fields (quoted fields may hold commas and doubled quotes).
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  REQUIRE(std::getline(in, line));
  const std::vector<std::string> header = Fields(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = Fields(line);
    REQUIRE(f.size() == header.size());
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("citybed-request-log-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("The request log holds exactly the samples the summary counts", "[results]") {
  auto parsed = ParseScenario(R"({"name": "log", "seed": 3, "duration": "3min", "warmup": "30s",
    "regions": [{"id": "tokyo", "lat": 35.68, "lon": 139.76, "population": 100000, "radius_km": 5}],
    "sources": [{"kind": "parking-spot", "count": 40, "arrival": {"process": "poisson", "rate": 0.2}}],
    "users": [{"kind": "resident", "count": 5, "arrival": {"process": "poisson", "rate": 0.2},
               "requests": [{"op": "get", "type": "ParkingSpot"}]}]})",
                              "t.json");
  REQUIRE(parsed);
  const Scenario& s = *parsed;
  auto w = World::Build(s);
  REQUIRE(w);
  results::RecorderOptions ro;
  ro.warmup = s.warmup;
  ro.duration = s.duration;
  ro.regions = {"tokyo"};
  ro.domains = DomainNames();
  results::Recorder recorder(ro);
  TempDir dir;
  auto log = results::RequestLog::Open(dir.path.string(), ro.regions, ro.domains);
  REQUIRE(log);
  recorder.SetLog(log->get());
  int n = 0;
  {
    testing::SimulatedRun run(**w, recorder);
    // Every fifth request fails with 503 after 300 ms; the others answer in 2 to 9 ms.
    run.port.delay = [&n](const std::string&) {
      return ++n % 5 == 0 ? Duration::Milliseconds(300) : Duration::Milliseconds(2 + n % 8);
    };
    run.port.status = [&n](const std::string& wire) { return n % 5 == 0 ? 503 : (wire.rfind("GET", 0) == 0 ? 200 : 201); };
    run.Run();
  }
  // Until Finish, only .partial files exist: an interrupted run leaves nothing that looks complete.
  CHECK(std::filesystem::exists(dir.path / "requests.csv.partial"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "requests.csv"));
  auto files = (*log)->Finish();
  REQUIRE(files);
  CHECK(files->size() == 2);
  CHECK_FALSE(std::filesystem::exists(dir.path / "requests.csv.partial"));

  const auto rows = ReadCsv((dir.path / "requests.csv").string());
  CHECK(rows.size() == recorder.all_scheduled());
  CHECK((*log)->requests() == recorder.all_scheduled());
  uint64_t in_window = 0, ok = 0, status_503 = 0, gets = 0;
  int64_t max_ns = 0;
  for (const auto& r : rows) {
    if (r.at("in_window") != "1") continue;
    ++in_window;
    ok += r.at("outcome") == "ok";
    status_503 += r.at("status") == "503";
    gets += r.at("op") == "get";
    max_ns = std::max<int64_t>(max_ns, std::stoll(r.at("latency_ns")));
    // The window rule, recomputed from the sample: intended in [warm-up, end).
    const int64_t intended = std::stoll(r.at("intended_ns"));
    CHECK(intended >= s.warmup.ns());
    CHECK(intended < s.duration.ns());
  }
  const results::RequestStats& total = recorder.total();
  CHECK(in_window == total.scheduled);
  CHECK(ok == total.ok);
  CHECK(status_503 == total.failed());
  CHECK(status_503 > 0);
  CHECK(gets == recorder.operation(OpKind::kGet).scheduled);
  CHECK(max_ns == total.latency.Max());

  const auto notes = ReadCsv((dir.path / "notifications.csv").string());
  uint64_t notes_in_window = 0;
  for (const auto& r : notes) notes_in_window += r.at("in_window") == "1";
  CHECK(notes_in_window == recorder.notifications());
}

TEST_CASE("The request log quotes fields that hold commas, quotes or line breaks", "[results]") {
  TempDir dir;
  auto log = results::RequestLog::Open(dir.path.string(), {"a,b"}, {});
  REQUIRE(log);
  RequestRecord r;
  r.op = OpKind::kQuery;
  r.name = "say \"hi\"";
  r.outcome = Outcome::kConnection;
  r.error = "reset, by peer\r\nagain";
  r.latency = Duration::Milliseconds(3);
  (*log)->Request(r, true);
  REQUIRE((*log)->Finish());
  std::ifstream in(dir.path / "requests.csv");
  std::stringstream text;
  text << in.rdbuf();
  const std::string body = text.str();
  const std::string header = body.substr(0, body.find('\n'));
  const std::string line = body.substr(header.size() + 1);
  // The embedded line break keeps the record one record: read it back whole.
  const std::vector<std::string> f = Fields(line.substr(0, line.size() - 1));
  const std::vector<std::string> h = Fields(header);
  REQUIRE(f.size() == h.size());
  std::map<std::string, std::string> row;
  for (size_t i = 0; i < h.size(); ++i) row[h[i]] = f[i];
  CHECK(row["region"] == "a,b");
  CHECK(row["name"] == "say \"hi\"");
  CHECK(row["error"] == "reset, by peer\r\nagain");
  CHECK(row["outcome"] == "connection");
  CHECK(row["latency_ns"] == "3000000");
}
