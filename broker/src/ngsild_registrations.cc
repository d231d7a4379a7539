// Context source registrations: POST/GET /csourceRegistrations, GET/PATCH/DELETE
// /csourceRegistrations/{id} (CIM 009, 5.9 and 5.10).

#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

Response NgsiLdApi::Impl::CreateRegistration(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a registration must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  auto id = registrations_.Create(call->tenant, body->get_object(), **ctx);
  if (!id) return ProblemResponse(id.error());
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/ngsi-ld/v1/csourceRegistrations/" + PercentEncode(*id, ":"));
  return r;
}

Response NgsiLdApi::Impl::ListRegistrations(Request& req, const PathParams&) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  RegistrationFilter filter;
  if (const std::string* t = req.FindParam("type")) {
    for (std::string_view part : SplitList(*t)) {
      for (std::string_view alt : Split(part, '|')) filter.types.push_back(call->ctx->FindId(Trim(alt), names_));
    }
  }
  if (const std::string* ids = req.FindParam("id")) {
    for (const std::string& id : SplitList(*ids)) {
      if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "id " + id + " is not a URI"));
      filter.ids.push_back(id);
    }
  }
  if (const std::string* p = req.FindParam("idPattern")) {
    auto re = Pattern::Compile(*p);
    if (!re) {
      return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "idPattern is not a valid regular expression: " + re.error()));
    }
    filter.id_pattern = *re;
  }
  if (const std::string* attrs = req.FindParam("attrs")) {
    for (const std::string& a : SplitList(*attrs)) filter.attrs.push_back(call->ctx->FindId(a, names_));
  }
  auto page = ReadListPage(req);
  if (!page) return ProblemResponse(page.error());
  const bool sys = req.FindParam("options") && req.FindParam("options")->find("sysAttrs") != std::string::npos;
  const auto all = registrations_.List(call->tenant, filter);
  return ListPage(req, *call, *page, all.size(),
                  [&](JsonWriter& w, size_t i) { registrations_.Render(w, *all[i], *call->ctx, sys); });
}

Response NgsiLdApi::Impl::GetRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  const std::string& id = p.Get("registrationId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "registration id " + id + " is not a URI"));
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  RegistrationPtr r = registrations_.Get(call->tenant, id);
  if (!r) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "registration " + id + " does not exist"));
  const bool sys = req.FindParam("options") && req.FindParam("options")->find("sysAttrs") != std::string::npos;
  std::string body;
  JsonWriter w(body);
  registrations_.Render(w, *r, *call->ctx, sys);
  if (call->accept == AcceptKind::kLd) {
    body.pop_back();
    body += ",\"@context\":";
    AppendJsonValue(body, call->ctx->context_value());
    body += "}";
  }
  return Json(200, std::move(body), *call);
}

Response NgsiLdApi::Impl::UpdateRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true, .allow_merge_patch = true});
  if (!call) return ProblemResponse(call.error());
  const std::string& id = p.Get("registrationId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "registration id " + id + " is not a URI"));
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a registration patch must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  if (auto ok = registrations_.Update(call->tenant, id, body->get_object(), **ctx); !ok) return ProblemResponse(ok.error());
  Response r;
  r.status = 204;
  return r;
}

Response NgsiLdApi::Impl::DeleteRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  const std::string& id = p.Get("registrationId");
  if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "registration id " + id + " is not a URI"));
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  if (!registrations_.Delete(call->tenant, id)) {
    return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "registration " + id + " does not exist"));
  }
  Response r;
  r.status = 204;
  return r;
}

}  // namespace citybed::broker
