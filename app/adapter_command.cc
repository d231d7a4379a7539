// `citybed adapter`: presents an NGSI-v2 broker (FIWARE Orion) as an NGSI-LD context source, so
// that a region whose platform speaks NGSI-v2 joins a federation of NGSI-LD brokers
// (docs/federation.md). It serves the two operations a federation forwards:
//   GET /ngsi-ld/v1/entities/{id}   -> GET /v2/entities/{id}
//   GET /ngsi-ld/v1/entities?...    -> GET /v2/entities?...  (type, id, idPattern, attrs, q,
//                                      georel/geometry/coordinates, limit, offset, count)
// and answers in NGSI-LD by the embedded broker's own v2 <-> NGSI-LD mapping (V2ToLd). What
// cannot be said in NGSI-v2 (a q with | or grouping, a type expression with ; or |, GeoJSON
// geometries v2 lacks) is refused with a ProblemDetails that says so. Each request waits for
// the upstream's answer on its serving thread: give it as many --threads as requests it should
// hold in flight.
#include <boost/json.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "citybed/broker/context.h"
#include "citybed/broker/ngsiv2_adapter.h"
#include "citybed/broker/router.h"
#include "citybed/broker/server.h"
#include "citybed/common/http_fetch.h"
#include "citybed/common/log.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/common/url.h"
#include "citybed/common/version.h"
#include "citybed/models/protocol.h"
#include "commands.h"
#include "exit_codes.h"

namespace citybed::app {
namespace {

namespace bjson = boost::json;  // not "json": other files of the unity batch use nlohmann::json
using broker::ErrorType;
using broker::MakeProblem;
using broker::ProblemResponse;
using broker::Request;
using broker::Response;

struct AdapterOptions {
  std::string upstream;
  std::string host = "127.0.0.1";
  uint16_t port = 1031;
  int threads = 4;
  std::string timeout = "5s";
  std::string service;  // Fiware-Service when the request names no tenant
  std::string log_level = "info";
};

// The v2 id an NGSI-LD id stands for (the inverse of the embedded broker's mapping).
std::string V2Id(const std::string& ld_id) {
  constexpr std::string_view kPrefix = "urn:ngsi-v2:";
  return ld_id.rfind(kPrefix, 0) == 0 ? ld_id.substr(kPrefix.size()) : ld_id;
}

std::string Shortest(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

// "[139.7,35.6]" -> "35.6,139.7"; a polygon's first ring -> "lat,lon;lat,lon;...".
Expected<std::string, std::string> V2Coords(const std::string& geometry, const std::string& coordinates) {
  boost::system::error_code ec;
  const bjson::value c = bjson::parse(coordinates, ec);
  if (ec) return Unexpected(std::string("coordinates are not JSON"));
  auto point = [](const bjson::value& p) -> Expected<std::string, std::string> {
    const bjson::array* a = p.if_array();
    if (a == nullptr || a->size() < 2 || !(*a)[0].is_number() || !(*a)[1].is_number()) {
      return Unexpected(std::string("a position must be [lon, lat]"));
    }
    return Shortest((*a)[1].to_number<double>()) + "," + Shortest((*a)[0].to_number<double>());
  };
  if (geometry == "Point") return point(c);
  const bjson::array* outer = c.if_array();
  const bjson::array* ring = outer;
  if (geometry == "Polygon") ring = outer && !outer->empty() ? (*outer)[0].if_array() : nullptr;
  else if (geometry != "LineString") return Unexpected("geometry " + geometry + " has no NGSI-v2 equivalent");
  if (ring == nullptr) return Unexpected(std::string("coordinates do not match the geometry"));
  std::string out;
  for (const bjson::value& p : *ring) {
    auto s = point(p);
    if (!s) return s;
    out += (out.empty() ? "" : ";") + *s;
  }
  return out;
}

class Adapter {
 public:
  Adapter(AdapterOptions o, std::chrono::milliseconds timeout) : o_(std::move(o)), timeout_(timeout) {
    const std::string base = "/ngsi-ld/v1";
    router_.Add(broker::Method::kGet, base + "/entities", [this](Request& r, const broker::PathParams&) { return Query(r); });
    router_.Add(broker::Method::kGet, base + "/entities/{entityId}",
                [this](Request& r, const broker::PathParams& p) { return Retrieve(r, p.Get("entityId")); });
    router_.Add(broker::Method::kGet, "/version", [this](Request&, const broker::PathParams&) {
      Response r;
      r.SetHeader("Content-Type", "application/json");
      r.body = R"({"adapter":"citybed","version":")" + std::string(citybed::Version()) + R"(","upstream":")" + o_.upstream + "\"}";
      return r;
    });
  }
  broker::Router& router() { return router_; }

 private:
  // The client's @context, and the render options it asked for.
  struct Ask {
    broker::ContextPtr ctx;
    broker::RenderOptions opts;
    std::vector<HttpField> headers;
  };

  Expected<Ask, broker::Problem> Prepare(const Request& req) {
    Ask a;
    a.ctx = contexts_.Core();
    if (const std::string* link = req.FindHeader("Link")) {
      const size_t lt = link->find('<'), gt = link->find('>');
      if (lt == std::string::npos || gt == std::string::npos || gt < lt) {
        return Unexpected(MakeProblem(ErrorType::kBadRequestData, "the Link header names no @context"));
      }
      auto ctx = contexts_.FromUrl(link->substr(lt + 1, gt - lt - 1));
      if (!ctx) return Unexpected(ctx.error());
      a.ctx = *ctx;
    }
    if (const std::string* options = req.FindParam("options")) {
      for (std::string_view opt : Split(*options, ',')) {
        if (opt == "keyValues" || opt == "simplified") a.opts.format = broker::Format::kKeyValues;
        else if (opt == "concise") a.opts.format = broker::Format::kConcise;
      }
    }
    std::string tenant = o_.service;
    if (const std::string* t = req.FindHeader("NGSILD-Tenant")) tenant = models::V2Tenant(*t);
    if (!tenant.empty()) a.headers.push_back({"Fiware-Service", tenant});
    a.headers.push_back({"Accept", "application/json"});
    return a;
  }

  // Forwards to the upstream and converts its answer.
  Response Upstream(const std::string& target, const Ask& a, bool single) {
    FetchRequest f;
    f.url = o_.upstream + target;
    f.headers = a.headers;
    f.timeout = timeout_;
    auto r = Fetch(f);
    if (!r) {
      return ProblemResponse(MakeProblem(ErrorType::kInternalError, "the NGSI-v2 broker at " + o_.upstream +
                                                                          " did not answer: " + r.error().message, 502));
    }
    if (r->status == 404 && single) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no such entity upstream"));
    if (r->status != 200) {
      return ProblemResponse(MakeProblem(r->status == 400 ? ErrorType::kBadRequestData : ErrorType::kInternalError,
                                         "the NGSI-v2 broker answered " + std::to_string(r->status) + ": " + r->body,
                                         r->status == 400 ? 400 : 502));
    }
    auto body = broker::V2ToLd(names_, *a.ctx).Convert(r->body, a.opts);
    if (!body) return ProblemResponse(MakeProblem(ErrorType::kInternalError, "the NGSI-v2 broker's answer: " + body.error(), 502));
    Response out;
    out.body = std::move(*body);
    out.SetHeader("Content-Type", "application/json");
    out.SetHeader("Link", a.ctx->link_header());
    if (const std::string count = r->Get("Fiware-Total-Count"); !count.empty()) out.SetHeader("NGSILD-Results-Count", count);
    return out;
  }

  Response Retrieve(const Request& req, const std::string& id) {
    auto a = Prepare(req);
    if (!a) return ProblemResponse(a.error());
    std::string target = "/v2/entities/" + PercentEncode(V2Id(id));
    std::string sep = "?";
    for (const char* key : {"type", "attrs"}) {
      if (const std::string* v = req.FindParam(key)) {
        target += sep + key + "=" + PercentEncode(*v, ",");
        sep = "&";
      }
    }
    return Upstream(target, *a, true);
  }

  Response Query(const Request& req) {
    auto a = Prepare(req);
    if (!a) return ProblemResponse(a.error());
    std::vector<std::pair<std::string, std::string>> q;
    if (const std::string* type = req.FindParam("type")) {
      if (type->find_first_of(";|()") != std::string::npos) {
        return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "NGSI-v2 cannot say the type expression " + *type));
      }
      q.emplace_back("type", *type);
    }
    if (const std::string* ids = req.FindParam("id")) {
      std::string joined;
      for (std::string_view id : Split(*ids, ',')) joined += (joined.empty() ? "" : ",") + V2Id(std::string(id));
      q.emplace_back("id", joined);
    }
    for (const char* key : {"idPattern", "attrs", "limit", "offset"}) {
      if (const std::string* v = req.FindParam(key)) q.emplace_back(key, *v);
    }
    if (const std::string* ld_q = req.FindParam("q")) {
      auto v2q = models::V2Query(*ld_q);
      if (!v2q) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "NGSI-v2 cannot say q=" + *ld_q + ": " + v2q.error().message));
      q.emplace_back("q", *v2q);
    }
    if (const std::string* georel = req.FindParam("georel")) {
      const std::string* geometry = req.FindParam("geometry");
      const std::string* coordinates = req.FindParam("coordinates");
      if (geometry == nullptr || coordinates == nullptr) {
        return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a geo-query needs geometry and coordinates"));
      }
      std::string rel = *georel;
      for (std::string_view from : {"maxDistance==", "minDistance=="}) {
        const size_t at = rel.find(from);
        if (at != std::string::npos) rel.replace(at, from.size(), std::string(from.substr(0, from.size() - 2)) + ":");
      }
      if (rel == "within") rel = "coveredBy";
      auto coords = V2Coords(*geometry, *coordinates);
      if (!coords) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, coords.error()));
      std::string shape = *geometry == "Point" ? "point" : *geometry == "Polygon" ? "polygon" : "line";
      q.emplace_back("georel", rel);
      q.emplace_back("geometry", shape);
      q.emplace_back("coords", *coords);
    }
    if (const std::string* count = req.FindParam("count"); count && *count == "true") q.emplace_back("options", "count");
    std::string target = "/v2/entities";
    for (size_t i = 0; i < q.size(); ++i) target += (i ? "&" : "?") + q[i].first + "=" + PercentEncode(q[i].second, ",;:");
    return Upstream(target, *a, false);
  }

  AdapterOptions o_;
  std::chrono::milliseconds timeout_;
  broker::Router router_;
  broker::Interner names_;
  broker::ContextResolver contexts_;
};

int RunAdapter(const AdapterOptions& o) {
  auto level = ParseLogLevel(o.log_level);
  auto timeout = ParseDurationNs(o.timeout);
  auto upstream = ParseHttpUrl(o.upstream);
  if (!level || !timeout || !upstream) {
    std::fprintf(stderr, "citybed adapter: %s\n",
                 (!level ? level.error() : !timeout ? timeout.error() : upstream.error()).message.c_str());
    return kExitUsage;
  }
  SetLogLevel(*level);
  AdapterOptions opts = o;
  while (!opts.upstream.empty() && opts.upstream.back() == '/') opts.upstream.pop_back();
  Adapter adapter(opts, std::chrono::milliseconds(std::max<int64_t>(1, *timeout / 1000000)));
  broker::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.threads = o.threads;
  broker::Metrics metrics(adapter.router().Patterns());
  broker::HttpServer server(so, [&adapter](Request& req, int* route) { return adapter.router().Handle(req, route); }, metrics);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (auto ok = server.Start(); !ok) {
    std::fprintf(stderr, "citybed adapter: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  CITYBED_LOG(kInfo) << "citybed adapter: NGSI-LD at http://" << o.host << ":" << server.port()
                     << "/ngsi-ld/v1 for the NGSI-v2 broker at " << opts.upstream;
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return kExitOk;
}

}  // namespace

void RegisterAdapter(CLI::App& app, Action& action) {
  auto o = std::make_shared<AdapterOptions>();
  CLI::App* cmd = app.add_subcommand(
      "adapter", "Present an NGSI-v2 broker (Orion) as an NGSI-LD context source: retrieve and query, until SIGINT/SIGTERM");
  cmd->add_option("--upstream", o->upstream, "The NGSI-v2 broker, http://host:port")->required();
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Serving threads: requests held in flight towards the upstream")
      ->check(Between(1, 256))
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout, "Deadline of a request to the upstream")->capture_default_str();
  cmd->add_option("--service", o->service, "Fiware-Service for requests that name no NGSILD-Tenant");
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  cmd->callback([o, &action] { action = [o] { return RunAdapter(*o); }; });
}

}  // namespace citybed::app
