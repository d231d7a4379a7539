// Subscription operations: POST/GET /subscriptions, GET/PATCH/DELETE /subscriptions/{id}, and
// the same for context source registration subscriptions under /csourceSubscriptions (5.11,
// 6.12, 6.13), held by a manager of their own (csource_subscriptions.cc notifies them).
#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// What a context source registration subscription cannot have: members about entity changes
// and entity representations (5.2.12 used for registrations, 5.11.2).
std::optional<Problem> CsourceSubscriptionProblem(const json::object& body) {
  for (const char* key : {"notificationTrigger", "scopeQ", "lang", "showChanges"}) {
    if (body.contains(key)) {
      return BadRequestData(std::string(key) + " does not apply to a context source registration subscription");
    }
  }
  return std::nullopt;
}

// What only a context source registration subscription can have (Table 5.2.12-1).
std::optional<Problem> EntitySubscriptionProblem(const json::object& body) {
  if (body.contains("temporalQ")) {
    return BadRequestData("temporalQ applies to context source registration subscriptions only");
  }
  return std::nullopt;
}

}  // namespace

void NgsiLdApi::Impl::NotifyMatchingRegistrations(const std::string& tenant, const std::string& id) {
  csource_subs_->NotifyMatching(tenant, id, registrations_.List(tenant, {}),
                                [this](JsonWriter& w, const Registration& r, const Context& ctx, bool sys) {
                                  registrations_.Render(w, r, ctx, sys);
                                });
}

Response NgsiLdApi::Impl::CreateSubscription(Request& req, const PathParams&, bool csource) {
  SubscriptionManager& subs = csource ? *csource_subs_ : subs_;
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a subscription must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  if (auto bad = csource ? CsourceSubscriptionProblem(body->get_object()) : EntitySubscriptionProblem(body->get_object())) {
    return ProblemResponse(*bad);
  }
  auto id = subs.Create(call->tenant, body->get_object(), *ctx);
  if (!id) return ProblemResponse(id.error());
  if (csource) NotifyMatchingRegistrations(call->tenant, *id);
  Response r;
  r.status = 201;
  r.SetHeader("Location", std::string(csource ? "/ngsi-ld/v1/csourceSubscriptions/" : "/ngsi-ld/v1/subscriptions/") +
                              PercentEncode(*id, ":"));
  return r;
}

Response NgsiLdApi::Impl::ListSubscriptions(Request& req, const PathParams&, bool csource) {
  SubscriptionManager& subs = csource ? *csource_subs_ : subs_;
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto page = ReadListPage(req);
  if (!page) return ProblemResponse(page.error());
  auto all = subs.List(call->tenant);
  std::erase_if(all, [](const SubscriptionPtr& s) { return s->v2 != nullptr; });  // NGSI-v2 ones: /v2/subscriptions
  return ListPage(req, *call, *page, all.size(),
                  [&](JsonWriter& w, size_t i) { subs.Render(w, *all[i], *call->ctx, false); });
}

Response NgsiLdApi::Impl::GetSubscription(Request& req, const PathParams& p, bool csource) {
  SubscriptionManager& subs = csource ? *csource_subs_ : subs_;
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("subscriptionId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "subscription id \"" + id + "\" is not a URI"));
  SubscriptionPtr s = subs.Get(call->tenant, id);
  if (!s) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "subscription " + id + " does not exist"));
  const bool sys = req.FindParam("options") && req.FindParam("options")->find("sysAttrs") != std::string::npos;
  std::string body;
  JsonWriter w(body);
  if (call->accept == AcceptKind::kLd) {
    // The subscription object, with "@context" as its last member.
    std::string inner;
    JsonWriter iw(inner);
    subs.Render(iw, *s, *call->ctx, sys);
    inner.pop_back();
    inner += ",\"@context\":";
    AppendJsonValue(inner, call->ctx->context_value());
    inner += "}";
    body = std::move(inner);
  } else {
    subs.Render(w, *s, *call->ctx, sys);
  }
  return Json(200, std::move(body), *call);
}

Response NgsiLdApi::Impl::UpdateSubscription(Request& req, const PathParams& p, bool csource) {
  SubscriptionManager& subs = csource ? *csource_subs_ : subs_;
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
  if (auto bad = csource ? CsourceSubscriptionProblem(body->get_object()) : EntitySubscriptionProblem(body->get_object())) {
    return ProblemResponse(*bad);
  }
  auto r = subs.Update(call->tenant, p.Get("subscriptionId"), body->get_object(), *ctx);
  if (!r) return ProblemResponse(r.error());
  if (csource) NotifyMatchingRegistrations(call->tenant, p.Get("subscriptionId"));
  Response resp;
  resp.status = 204;
  return resp;
}

Response NgsiLdApi::Impl::DeleteSubscription(Request& req, const PathParams& p, bool csource) {
  SubscriptionManager& subs = csource ? *csource_subs_ : subs_;
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("subscriptionId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "subscription id \"" + id + "\" is not a URI"));
  if (!subs.Delete(call->tenant, id)) {
    return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "subscription " + id + " does not exist"));
  }
  Response r;
  r.status = 204;
  return r;
}

}  // namespace citybed::broker
