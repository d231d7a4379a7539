// @context hosting: POST/GET /jsonldContexts, GET/DELETE /jsonldContexts/{id} (CIM 009, 5.13).
#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// The URL a hosted context is reachable at, from the Host the client used.
std::string HostedUrl(const Request& req, const std::string& id) {
  return "http://" + std::string(req.HeaderOr("Host", "localhost")) + std::string(ContextResolver::kHostedPath) + id;
}

void WriteInfo(JsonWriter& w, const Request& req, const ContextResolver::ContextInfo& info) {
  w.BeginObject();
  w.Key("URL");
  w.String(info.kind == "Hosted" ? HostedUrl(req, info.local_id) : info.url);
  w.Key("localId");
  w.String(info.local_id);
  w.Key("kind");
  w.String(info.kind);
  w.Key("createdAt");
  w.String(FormatRfc3339Micros(info.created_us));
  w.Key("numberOfHits");
  w.Int(static_cast<int64_t>(info.hits));
  w.EndObject();
}

}  // namespace

Response NgsiLdApi::Impl::AddContext(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  const json::value* context = body->is_object() ? body->get_object().if_contains("@context") : nullptr;
  if (context == nullptr) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the body must be a JSON-LD document with an \"@context\" member"));
  }
  auto id = contexts_.Host(*context);
  if (!id) return ProblemResponse(id.error());
  Response r;
  r.status = 201;
  r.SetHeader("Location", std::string(ContextResolver::kHostedPath) + *id);
  return r;
}

Response NgsiLdApi::Impl::ListContexts(Request& req, const PathParams&) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  const bool details = req.FindParam("details") && *req.FindParam("details") == "true";
  std::string kind;
  if (const std::string* k = req.FindParam("kind")) {
    if (*k != "Hosted" && *k != "Cached" && *k != "ImplicitlyCreated") {
      return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "kind must be Hosted, Cached or ImplicitlyCreated"));
    }
    kind = *k;
  }
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (const auto& info : contexts_.List()) {
    if (!kind.empty() && info.kind != kind) continue;
    if (details) WriteInfo(w, req, info);
    else w.String(info.kind == "Hosted" ? HostedUrl(req, info.local_id) : info.url);
  }
  w.EndArray();
  Response r;
  r.status = 200;
  r.body = std::move(body);
  r.SetHeader("Content-Type", "application/json");
  return r;
}

Response NgsiLdApi::Impl::ServeContext(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  ContextResolver::ContextInfo info;
  auto doc = contexts_.Lookup(p.Get("contextId"), &info);
  if (!doc) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no @context " + p.Get("contextId")));
  Response r;
  r.status = 200;
  if (req.FindParam("details") && *req.FindParam("details") == "true") {
    JsonWriter w(r.body);
    WriteInfo(w, req, info);
    r.SetHeader("Content-Type", "application/json");
    return r;
  }
  json::object document;
  document["@context"] = *doc;
  r.body = json::serialize(document);
  r.SetHeader("Content-Type", "application/ld+json");
  return r;
}

Response NgsiLdApi::Impl::DeleteContext(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  const std::string& id = p.Get("contextId");
  if (req.FindParam("reload") && *req.FindParam("reload") == "true") {
    if (auto ok = contexts_.Reload(id); !ok) return ProblemResponse(ok.error());
  } else if (!contexts_.Remove(id)) {
    return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no @context " + id));
  }
  Response r;
  r.status = 204;
  return r;
}

}  // namespace citybed::broker
