// Distributed provision (CIM 009 V1.9.1, 4.3.6.2, 4.3.6.3, 5.6): a write that registered
// context sources concern is split by PlanWrite (distributed.h) — the covered attributes go to
// each source in the request's own form (same method and path under the source's endpoint,
// the body narrowed to what the registration covers), the rest is written here — and the
// answers are combined: the operation's own success status when every part succeeded, else
// 207 with a BatchOperationResult (entity operations) or an UpdateResult (attribute
// operations) naming the registration of every failed part. The local part runs on the
// serving thread first; the sources' answers are awaited on the forwarder's thread
// (Response::later), so no serving thread waits for a source.
#include <algorithm>

#include "citybed/common/strings.h"

#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// What a write's payload is.
enum class Shape {
  kEntity,     // an entity (create, replace) or an entity fragment (merge): id, type, attributes
  kAttrs,      // attributes by name (append, update)
  kAttribute,  // one attribute's fragment, named in the path (partial update, replace attribute)
  kNone,       // no body (delete entity, delete attribute)
};

struct WriteKind {
  std::string_view operation;  // 4.20
  Shape shape;
  bool update_result;  // partial success as an UpdateResult, else a BatchOperationResult
  int success;         // the status when every part succeeded and nothing was written here
};

WriteKind KindOf(std::string_view operation) {
  static const WriteKind kKinds[] = {
      {"createEntity", Shape::kEntity, false, 201},  {"replaceEntity", Shape::kEntity, false, 204},
      {"mergeEntity", Shape::kEntity, false, 204},   {"deleteEntity", Shape::kNone, false, 204},
      {"appendAttrs", Shape::kAttrs, true, 204},     {"updateEntity", Shape::kAttrs, true, 204},
      {"updateAttrs", Shape::kAttribute, true, 204}, {"replaceAttrs", Shape::kAttribute, true, 204},
      {"deleteAttrs", Shape::kNone, true, 204},
  };
  for (const WriteKind& k : kKinds) {
    if (k.operation == operation) return k;
  }
  return kKinds[0];
}

// One part of a distributed write: this broker's or a registration's.
struct Part {
  std::string registration;         // "" for this broker's part
  bool ok = false;
  int status = 0;                   // its HTTP status (504/502: the source did not answer; 409: refused)
  json::object problem;             // when failed
  std::optional<json::object> partial;  // a 207 answer's body (an UpdateResult or a BatchOperationResult)
  const std::vector<std::string>* names = nullptr;  // the attributes it was given, as the client wrote them
};

// What the client's answer is built from, kept past the handler.
struct WriteState {
  WriteKind kind;
  Call call;
  std::string id;
  std::vector<WriteTarget> targets;  // sent
  std::vector<WriteTarget> refused;  // not sent: the registration does not accept the operation
  std::vector<std::vector<std::string>> covered_names;  // per target, then per refused
  std::vector<std::string> local_names;  // attributes written here, as the client wrote them
  bool local_ran = false;
  Response local;
  std::vector<ForwardWarning> warnings;
  std::string self;
  std::string operation;
};

std::vector<Part> Parts(WriteState& s, const std::vector<ForwardOutcome>& outcomes) {
  std::vector<Part> parts;
  auto partial_of = [](const std::string& body) -> std::optional<json::object> {
    boost::system::error_code ec;
    json::value v = body.empty() ? json::value() : json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
  };
  if (s.local_ran) {
    Part p;
    p.ok = WholeSuccess(s.local.status);
    p.status = s.local.status;
    p.names = &s.local_names;
    if (s.local.status == 207) p.partial = partial_of(s.local.body);
    else if (!p.ok) p.problem = AnswerProblem(s.local.status, s.local.body, "this broker");
    parts.push_back(std::move(p));
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const ForwardOutcome& o = outcomes[i];
    const Registration& r = *s.targets[i].reg;
    Part p;
    p.registration = r.id;
    p.names = &s.covered_names[i];
    p.ok = o.answered() && WholeSuccess(o.status);
    p.status = o.answered() ? o.status : o.error == "timeout" ? 504 : 502;
    if (p.ok) {
      parts.push_back(std::move(p));
      continue;
    }
    s.warnings.push_back(OutcomeWarning(o, r));
    if (o.answered() && o.status == 207) p.partial = partial_of(o.body);
    p.problem = OutcomeProblem(o, r);
    parts.push_back(std::move(p));
  }
  for (size_t i = 0; i < s.refused.size(); ++i) {
    const Registration& r = *s.refused[i].reg;
    Part p;
    p.registration = r.id;
    p.names = &s.covered_names[s.targets.size() + i];
    p.problem = RefusedProblem(r, s.operation);
    p.status = 409;
    parts.push_back(std::move(p));
  }
  return parts;
}

std::string Detail(const json::object& problem) {
  if (const json::value* d = problem.if_contains("detail"); d && d->is_string()) return std::string(d->get_string());
  if (const json::value* t = problem.if_contains("title"); t && t->is_string()) return std::string(t->get_string());
  return "failed";
}

// 207: an UpdateResult (5.2.18) for attribute operations, else a BatchOperationResult (5.2.16).
json::object MultiStatus(const WriteState& s, const std::vector<Part>& parts) {
  json::object result;
  if (s.kind.update_result) {
    json::array updated, not_updated;
    auto add_updated = [&](std::string_view n) {
      for (const json::value& u : updated) {
        if (u.as_string() == n) return;
      }
      updated.emplace_back(n);
    };
    for (const Part& p : parts) {
      if (p.ok) {
        for (const std::string& n : *p.names) add_updated(n);
      } else if (p.partial) {
        if (const json::value* u = p.partial->if_contains("updated"); u && u->is_array()) {
          for (const json::value& n : u->get_array()) {
            if (n.is_string()) add_updated(n.get_string());
          }
        }
        const json::value* nu = p.partial->if_contains("notUpdated");
        if (nu && nu->is_array()) {
          for (const json::value& n : nu->get_array()) {
            json::value item = n;
            if (item.is_object() && !p.registration.empty()) item.get_object()["registrationId"] = p.registration;
            not_updated.push_back(std::move(item));
          }
        }
        if (!(nu && nu->is_array()) && !(p.partial->contains("updated"))) {
          for (const std::string& n : *p.names) {
            json::object item{{"attributeName", n}, {"reason", "partly refused (207) without an UpdateResult"}};
            if (!p.registration.empty()) item["registrationId"] = p.registration;
            not_updated.push_back(std::move(item));
          }
        }
      } else {
        for (const std::string& n : *p.names) {
          json::object item{{"attributeName", n}, {"reason", Detail(p.problem)}};
          if (!p.registration.empty()) item["registrationId"] = p.registration;
          not_updated.push_back(std::move(item));
        }
      }
    }
    // An attribute some part did not write is not "updated", though another part wrote it.
    json::array written;
    for (const json::value& u : updated) {
      bool refused = false;
      for (const json::value& n : not_updated) {
        const json::value* name = n.is_object() ? n.get_object().if_contains("attributeName") : nullptr;
        refused = refused || (name != nullptr && *name == u);
      }
      if (!refused) written.push_back(u);
    }
    result["updated"] = std::move(written);
    result["notUpdated"] = std::move(not_updated);
    return result;
  }
  json::array success, errors;
  bool any_ok = false;
  for (const Part& p : parts) {
    any_ok = any_ok || p.ok;
    if (p.ok) continue;
    if (p.partial) {
      if (const json::value* es = p.partial->if_contains("errors"); es && es->is_array() && !es->get_array().empty()) {
        for (const json::value& e : es->get_array()) {
          json::value item = e;
          if (item.is_object() && !p.registration.empty()) item.get_object()["registrationId"] = p.registration;
          errors.push_back(std::move(item));
        }
        if (const json::value* ok = p.partial->if_contains("success"); ok && ok->is_array() && !ok->get_array().empty()) any_ok = true;
        continue;
      }
      json::object item{{"entityId", s.id}, {"error", ProblemObject(MakeProblem(ErrorType::kInternalError, "partly refused (207) without a BatchOperationResult", 207))}};
      if (!p.registration.empty()) item["registrationId"] = p.registration;
      errors.push_back(std::move(item));
      continue;
    }
    json::object item{{"entityId", s.id}};
    if (!p.registration.empty()) item["registrationId"] = p.registration;
    item["error"] = p.problem;
    errors.push_back(std::move(item));
  }
  if (any_ok) success.emplace_back(s.id);
  result["success"] = std::move(success);
  result["errors"] = std::move(errors);
  return result;
}

// Every part succeeded: the operation's answer. One part, and nothing else, failed: its
// error. Otherwise 207 with what succeeded and what did not.
Response Combine(WriteState& s, const std::vector<ForwardOutcome>& outcomes,
                 const std::function<Response(int, std::string)>& json_response) {
  const std::vector<Part> parts = Parts(s, outcomes);
  size_t failed = 0;
  const Part* failure = nullptr;
  for (const Part& p : parts) {
    if (!p.ok) {
      ++failed;
      failure = &p;
    }
  }
  Response r;
  if (failed == 0) {
    if (s.local_ran) {
      r = std::move(s.local);
    } else {
      r.status = s.kind.success;
      if (s.kind.success == 201) r.SetHeader("Location", "/ngsi-ld/v1/entities/" + PercentEncode(s.id, ":"));
    }
  } else if (failed == parts.size() && failed == 1 && !failure->partial) {
    r.status = failure->status >= 400 && failure->status < 600 ? failure->status : 502;
    r.body = json::serialize(failure->problem);
    r.SetHeader("Content-Type", "application/json");  // as every ProblemDetails here (5.5.3)
  } else {
    r = json_response(207, json::serialize(MultiStatus(s, parts)));
  }
  AddWarnings(r, s.warnings, s.self);
  return r;
}

}  // namespace

Response NgsiLdApi::Impl::DistributedWrite(Request& req, const PathParams& p, std::string_view operation,
                                           LocalWrite local) {
  auto run_local = [&] { return ((*this).*local)(req, p); };
  const WriteKind kind = KindOf(operation);
  auto start = StartWrite(req, {.has_body = kind.shape != Shape::kNone, .allow_merge_patch = operation == "mergeEntity"});
  if (!start) return run_local();
  const Call* call = &start->call;
  json::object body;
  ContextPtr ctx = call->ctx;
  if (kind.shape != Shape::kNone) {
    auto parsed = ParseBody(req);
    if (!parsed || !parsed->is_object()) return run_local();
    auto pctx = PayloadContext(parsed->get_object(), *call);
    if (!pctx) return run_local();
    ctx = *pctx;
    body = std::move(parsed->get_object());
  }
  WriteAsk ask;
  ask.operation = std::string(operation);
  ask.whole_entity = operation == "deleteEntity";
  if (operation == "createEntity") {
    const json::value* id = body.if_contains("id");
    if (id == nullptr || !id->is_string()) return run_local();
    ask.id = std::string(id->get_string());
  } else {
    ask.id = p.Get("entityId");
  }
  if (!IsUri(ask.id)) return run_local();
  // A request this broker finds invalid goes nowhere, whether or not a part of it stays here.
  if (kind.shape == Shape::kEntity || kind.shape == Shape::kAttrs) {
    if (operation == "createEntity" && !body.contains("type")) return run_local();
    if (auto valid = ParseAttributes(body, MakeCodec(*ctx), UnixMicrosNow()); !valid) return ProblemResponse(valid.error());
  }
  // The entity's types: the payload's, else the stored entity's, else the ?type= of the path.
  ask.types = PayloadTypes(body, *ctx);
  if (EntityPtr e = store_.Get(call->tenant, ask.id)) {
    for (uint32_t t : e->types) {
      if (std::ranges::count(ask.types, t) == 0) ask.types.push_back(t);
    }
  }
  if (ask.types.empty()) {
    if (const std::string* t = req.FindParam("type")) {
      for (const std::string& x : SplitList(*t)) ask.types.push_back(ctx->FindId(x, names_));
    }
  }
  // The attributes the write names, with their expansions.
  std::vector<std::pair<std::string, uint32_t>> named;
  if (kind.shape == Shape::kEntity || kind.shape == Shape::kAttrs) {
    for (const auto& [key, value] : body) {
      if (IsEntityMember(key)) continue;  // also in attribute payloads: never attribute names
      named.emplace_back(std::string(key), ctx->FindId(key, names_));
    }
  } else if (const std::string attr = p.Get("attrId"); !attr.empty()) {
    named.emplace_back(attr, ctx->FindId(attr, names_));
  }
  for (const auto& [name, id] : named) ask.attrs.push_back(id);

  const std::string& self = start->self;
  auto state = std::make_shared<WriteState>();
  state->kind = kind;
  state->self = self;
  state->operation = std::string(operation);
  WriteSplit split = PlanWrite(start->registrations, ask, start->via, UnixMicrosNow(), state->warnings);
  if (!split.targets.empty() || !split.refused.empty()) {
    if (auto stop = PathStop(start->via, self)) {  // this broker's own part only
      state->warnings.push_back(std::move(*stop));
      split.targets.clear();
      split.refused.clear();
    }
  }
  if (split.targets.empty() && split.refused.empty() && split.local && split.removed.empty()) {
    Response r = run_local();
    if (!r.deferred()) AddWarnings(r, state->warnings, self);
    return r;
  }

  // The requests to the sources.
  const std::string content_type(req.HeaderOr("Content-Type", "application/json"));
  std::vector<ForwardRequest> requests;
  for (const WriteTarget& t : split.targets) {
    ForwardRequest f = BaseForward(*t.reg, start->fc, ForwardedTarget(req, *t.reg));
    f.method = std::string(ToString(req.method));
    std::vector<std::string> covered;
    for (const auto& [name, id] : named) {
      if (t.every_attr || std::ranges::count(t.attrs, id) > 0) covered.push_back(name);
    }
    if (kind.shape == Shape::kEntity || kind.shape == Shape::kAttrs) {
      f.body = json::serialize(NarrowedPayload(body, [&](std::string_view key) {
        return std::find(covered.begin(), covered.end(), key) != covered.end();
      }));
    } else if (kind.shape == Shape::kAttribute) {
      f.body = req.body;
    }
    if (!f.body.empty()) f.headers.push_back({"Content-Type", content_type});
    requests.push_back(std::move(f));
    state->covered_names.push_back(std::move(covered));
  }
  for (const WriteTarget& t : split.refused) {
    std::vector<std::string> covered;
    for (const auto& [name, id] : named) {
      if (t.every_attr || std::ranges::count(t.attrs, id) > 0) covered.push_back(name);
    }
    state->covered_names.push_back(std::move(covered));
  }
  state->targets = split.targets;
  state->refused = split.refused;
  state->call = *call;
  state->id = ask.id;

  // This broker's part: the payload without what proxied registrations took.
  if (split.local) {
    for (const auto& [name, id] : named) {
      if (std::ranges::count(split.removed, id) == 0) state->local_names.push_back(name);
    }
    if (!split.removed.empty() && (kind.shape == Shape::kEntity || kind.shape == Shape::kAttrs)) {
      req.body = json::serialize(NarrowedPayload(body, [&](std::string_view key) {
        return std::find(state->local_names.begin(), state->local_names.end(), key) != state->local_names.end();
      }));
    }
    state->local = run_local();
    state->local_ran = true;
    // A request this broker finds invalid goes nowhere.
    if (state->local.status == 400 || state->local.status == 415 || state->local.status == 413) {
      return std::move(state->local);
    }
  }

  if (requests.empty()) {  // only registrations that refuse the operation
    Response answer = Combine(*state, {}, [&](int status, std::string text) { return Json(status, std::move(text), state->call); });
    return answer;
  }
  return AfterSources(start->forwarder, std::move(requests), [this, state](std::vector<ForwardOutcome>& outcomes) {
    return Combine(*state, outcomes, [&](int status, std::string text) { return Json(status, std::move(text), state->call); });
  });
}

std::optional<NgsiLdApi::Impl::WriteStart> NgsiLdApi::Impl::StartWrite(const Request& req, const CallOptions& opts) {
  WriteStart w;
  {
    std::lock_guard lock(forwarding_mu_);
    w.forwarder = forwarder_;
    w.self = via_name_;
  }
  if (w.forwarder == nullptr) return std::nullopt;
  if (const std::string* l = req.FindParam("local"); l && *l == "true") return std::nullopt;
  auto call = Prepare(req, opts);
  if (!call || !registrations_.HasTenant(call->tenant)) return std::nullopt;
  w.registrations = registrations_.List(call->tenant, {});
  if (w.registrations.empty()) return std::nullopt;
  w.call = std::move(*call);
  const std::string incoming(req.HeaderOr("Via", ""));
  w.via = ViaNames(incoming);
  w.fc.client = &req;
  // An application/ld+json payload carries its @context; a Link beside it would be an error.
  if (!w.call.ld_body) w.fc.link = w.call.ctx->link_header();
  w.fc.via = (incoming.empty() ? std::string() : incoming + ", ") + "1.1 " + w.self;
  w.fc.default_timeout = options_.forward_timeout;
  w.fc.default_cooldown = options_.forward_cooldown;
  return w;
}

std::vector<uint32_t> NgsiLdApi::Impl::PayloadTypes(const json::object& o, const Context& ctx) const {
  std::vector<uint32_t> types;
  const json::value* t = o.if_contains("type");
  if (t != nullptr && t->is_string()) types.push_back(ctx.FindId(t->get_string(), names_));
  if (t != nullptr && t->is_array()) {
    for (const json::value& x : t->get_array()) {
      if (x.is_string()) types.push_back(ctx.FindId(x.get_string(), names_));
    }
  }
  return types;
}

}  // namespace citybed::broker
