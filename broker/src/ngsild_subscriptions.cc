// Subscription operations: POST/GET /subscriptions, GET/PATCH/DELETE /subscriptions/{id}.
#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

Response NgsiLdApi::Impl::CreateSubscription(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a subscription must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  auto id = subs_.Create(call->tenant, body->get_object(), *ctx);
  if (!id) return ProblemResponse(id.error());
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/ngsi-ld/v1/subscriptions/" + PercentEncode(*id, ":"));
  return r;
}

Response NgsiLdApi::Impl::ListSubscriptions(Request& req, const PathParams&) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto page = ReadListPage(req);
  if (!page) return ProblemResponse(page.error());
  auto all = subs_.List(call->tenant);
  std::erase_if(all, [](const SubscriptionPtr& s) { return s->v2 != nullptr; });  // NGSI-v2 ones: /v2/subscriptions
  return ListPage(req, *call, *page, all.size(),
                  [&](JsonWriter& w, size_t i) { subs_.Render(w, *all[i], *call->ctx, false); });
}

Response NgsiLdApi::Impl::GetSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("subscriptionId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "subscription id \"" + id + "\" is not a URI"));
  SubscriptionPtr s = subs_.Get(call->tenant, id);
  if (!s) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "subscription " + id + " does not exist"));
  const bool sys = req.FindParam("options") && req.FindParam("options")->find("sysAttrs") != std::string::npos;
  std::string body;
  JsonWriter w(body);
  if (call->accept == AcceptKind::kLd) {
    // The subscription object, with "@context" as its last member.
    std::string inner;
    JsonWriter iw(inner);
    subs_.Render(iw, *s, *call->ctx, sys);
    inner.pop_back();
    inner += ",\"@context\":";
    AppendJsonValue(inner, call->ctx->context_value());
    inner += "}";
    body = std::move(inner);
  } else {
    subs_.Render(w, *s, *call->ctx, sys);
  }
  return Json(200, std::move(body), *call);
}

Response NgsiLdApi::Impl::UpdateSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true, .allow_merge_patch = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a subscription patch must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  if (!IsUri(p.Get("subscriptionId"))) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "subscription id \"" + p.Get("subscriptionId") + "\" is not a URI"));
  }
  auto r = subs_.Update(call->tenant, p.Get("subscriptionId"), body->get_object(), *ctx);
  if (!r) return ProblemResponse(r.error());
  Response resp;
  resp.status = 204;
  return resp;
}

Response NgsiLdApi::Impl::DeleteSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("subscriptionId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "subscription id \"" + id + "\" is not a URI"));
  if (!subs_.Delete(call->tenant, id)) {
    return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "subscription " + id + " does not exist"));
  }
  Response r;
  r.status = 204;
  return r;
}

}  // namespace citybed::broker
