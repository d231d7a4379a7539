// NGSI-v2 subscriptions: /v2/subscriptions[/{id}] (the Orion subscription model).
#include <algorithm>
#include <cstdio>
#include <random>

#include "citybed/common/strings.h"
#include "citybed/common/url.h"
#include "ngsiv2_internal.h"
#include "json_parse.h"

namespace citybed::broker {
namespace json = boost::json;

bool V2Subscription::ScopeContains(std::string_view entity_path) const {
  if (scope.empty()) return true;
  v2::PathScope s;
  for (const auto& [path, subtree] : scope) s.items.push_back({path, subtree});
  return s.Contains(entity_path);
}

namespace {

bool ValidAlteration(std::string_view a) {
  return a == "entityCreate" || a == "entityChange" || a == "entityUpdate" || a == "entityDelete";
}

bool ValidFormat(std::string_view f) {
  return f == "normalized" || f == "keyValues" || f == "values" || f == "simplifiedNormalized" ||
         f == "simplifiedKeyValues";
}

Expected<std::vector<std::string>, OrionError> StringArray(const json::value& v, std::string_view what,
                                                           bool non_empty) {
  if (!v.is_array()) return Unexpected(V2BadRequest(std::string(what) + " must be an array of strings"));
  std::vector<std::string> out;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return Unexpected(V2BadRequest(std::string(what) + " must be an array of strings"));
    out.emplace_back(e.get_string());
  }
  if (non_empty && out.empty()) return Unexpected(V2BadRequest(std::string(what) + " is empty"));
  return out;
}

// Reads a subscription document into `s` (whose v2 part is rebuilt); `scope` is the request's.
Expected<void, OrionError> ParseDocument(const json::object& body, Subscription& s, const Codec& codec,
                                         Interner& names) {
  auto v = std::make_shared<V2Subscription>();
  if (s.v2) {  // keep the scope of the original subscription
    v->service_path = s.v2->service_path;
    v->scope = s.v2->scope;
  }
  s.description.clear();
  s.expires_at = kNoTime;
  s.throttling = 0;
  s.entities.clear();
  s.watched.clear();
  s.q.reset();
  s.geoq.reset();
  bool has_subject = false, has_notification = false;
  for (const auto& kv : body) {
    const std::string_view key = kv.key();
    const json::value& val = kv.value();
    if (key == "description") {
      if (!val.is_string() || val.get_string().size() > 1024) {
        return Unexpected(V2BadRequest("description must be a string of at most 1024 characters"));
      }
      s.description = std::string(val.get_string());
    } else if (key == "expires") {
      if (!val.is_string()) return Unexpected(V2BadRequest("expires must be a date (ISO 8601)"));
      auto t = ParseIso8601Micros(val.get_string());
      if (!t) return Unexpected(V2BadRequest("expires has an invalid format: " + std::string(val.get_string())));
      s.expires_at = *t;
    } else if (key == "status") {
      if (!val.is_string() || (val.get_string() != "active" && val.get_string() != "inactive" &&
                               val.get_string() != "oneshot")) {
        return Unexpected(V2BadRequest("status must be active, inactive or oneshot"));
      }
      v->status = std::string(val.get_string());
    } else if (key == "throttling") {
      if (!val.is_number() || !(val.to_number<double>() >= 0) || val.to_number<double>() > 1e9) {
        return Unexpected(V2BadRequest("throttling must be a non-negative number of seconds, at most 1e9"));
      }
      s.throttling = val.to_number<double>();
    } else if (key == "subject") {
      has_subject = true;
      if (!val.is_object()) return Unexpected(V2BadRequest("subject must be an object"));
      const json::object& so = val.get_object();
      const json::value* ents = so.if_contains("entities");
      if (ents == nullptr) return Unexpected(V2BadRequest("no subject entities specified"));
      if (!ents->is_array() || ents->get_array().empty()) {
        return Unexpected(V2BadRequest("subject entities must be a non-empty array"));
      }
      for (const auto& ev : ents->get_array()) {
        if (!ev.is_object()) return Unexpected(V2BadRequest("each of subject.entities is an object"));
        V2Subscription::Selector sel;
        for (const auto& m : ev.get_object()) {
          if (!m.value().is_string()) return Unexpected(V2BadRequest(std::string(m.key()) + " must be a string"));
          const std::string text(m.value().get_string());
          auto compile = [&](PatternPtr& out) -> std::optional<OrionError> {
            auto re = Pattern::Compile(text);
            if (!re) return V2BadRequest("invalid " + std::string(m.key()) + " /" + text + "/: " + re.error());
            out = *re;
            return std::nullopt;
          };
          std::optional<OrionError> bad;
          if (m.key() == "id") sel.id = text;
          else if (m.key() == "idPattern") sel.id_pattern = text, bad = compile(sel.id_regex);
          else if (m.key() == "type") sel.type = text;
          else if (m.key() == "typePattern") sel.type_pattern = text, bad = compile(sel.type_regex);
          else return Unexpected(V2BadRequest("unrecognized member of subject.entities: " + std::string(m.key())));
          if (bad) return Unexpected(*bad);
        }
        if (sel.id.empty() == sel.id_pattern.empty()) {
          return Unexpected(V2BadRequest("each of subject.entities needs id or idPattern (one of them)"));
        }
        if (!sel.type.empty() && !sel.type_pattern.empty()) {
          return Unexpected(V2BadRequest("type and typePattern exclude one another"));
        }
        EntitySelector ld;  // for the manager's type index only
        if (!sel.type.empty()) ld.type = codec.context.ExpandToId(sel.type, names);
        s.entities.push_back(std::move(ld));
        v->entities.push_back(std::move(sel));
      }
      if (const json::value* cond = so.if_contains("condition")) {
        if (!cond->is_object() || cond->get_object().empty()) {
          return Unexpected(V2BadRequest("subject.condition must be a non-empty object"));
        }
        for (const auto& c : cond->get_object()) {
          if (c.key() == "attrs") {
            auto list = StringArray(c.value(), "condition.attrs", true);
            if (!list) return Unexpected(list.error());
            v->condition_attrs = std::move(*list);
            for (const std::string& a : v->condition_attrs) s.watched.push_back(codec.context.ExpandToId(a, names));
          } else if (c.key() == "alterationTypes") {
            auto list = StringArray(c.value(), "condition.alterationTypes", false);
            if (!list) return Unexpected(list.error());
            for (const std::string& a : *list) {
              if (!ValidAlteration(a)) return Unexpected(V2BadRequest("unknown alterationType: " + a));
            }
            v->alteration_types = std::move(*list);
          } else if (c.key() == "expression") {
            if (!c.value().is_object()) return Unexpected(V2BadRequest("condition.expression must be an object"));
            for (const auto& m : c.value().get_object()) {
              if (!m.value().is_string()) return Unexpected(V2BadRequest("expression." + std::string(m.key()) + " must be a string"));
              const std::string text(m.value().get_string());
              if (m.key() == "q") v->q = text;
              else if (m.key() == "mq") v->mq = text;
              else if (m.key() == "georel") v->georel = text;
              else if (m.key() == "geometry") v->geometry = text;
              else if (m.key() == "coords") v->coords = text;
              else return Unexpected(V2BadRequest("unrecognized member of condition.expression: " + std::string(m.key())));
            }
          } else if (c.key() == "notifyOnMetadataChange") {
            if (!c.value().is_bool()) return Unexpected(V2BadRequest("notifyOnMetadataChange must be a boolean"));
          } else {
            return Unexpected(V2BadRequest("unrecognized member of subject.condition: " + std::string(c.key())));
          }
        }
      }
      for (const auto& m : so) {
        if (m.key() != "entities" && m.key() != "condition") {
          return Unexpected(V2BadRequest("unrecognized member of subject: " + std::string(m.key())));
        }
      }
    } else if (key == "notification") {
      has_notification = true;
      if (!val.is_object()) return Unexpected(V2BadRequest("notification must be an object"));
      const json::object& no = val.get_object();
      const json::value* http = no.if_contains("http");
      const json::value* custom = no.if_contains("httpCustom");
      if (http && custom) return Unexpected(V2BadRequest("notification has both http and httpCustom"));
      if (!http && !custom) {
        return Unexpected(V2BadRequest("notification has no http or httpCustom (the transports this broker supports)"));
      }
      const json::value* transport = http ? http : custom;
      if (!transport->is_object()) return Unexpected(V2BadRequest("notification.http must be an object"));
      v->custom = custom != nullptr;
      for (const auto& m : transport->get_object()) {
        if (m.key() == "url") {
          if (!m.value().is_string()) return Unexpected(V2BadRequest("notification url must be a string"));
          v->url = std::string(m.value().get_string());
          auto parsed = ParseHttpUrl(v->url);
          if (!parsed) return Unexpected(V2BadRequest("invalid notification url: " + v->url));
          if (parsed->scheme != "http") {
            return Unexpected(V2BadRequest("notification url " + v->url + ": only http:// endpoints are supported"));
          }
        } else if (v->custom && m.key() == "headers") {
          if (!m.value().is_object()) return Unexpected(V2BadRequest("httpCustom.headers must be an object"));
          for (const auto& h : m.value().get_object()) {
            if (!h.value().is_string()) return Unexpected(V2BadRequest("httpCustom.headers values are strings"));
            if (!ValidHeaderName(h.key()) || !ValidHeaderValue(h.value().get_string())) {
              return Unexpected(V2BadRequest("httpCustom.headers: invalid header " + std::string(h.key().substr(0, 64))));
            }
            v->custom_headers.push_back({std::string(h.key()), std::string(h.value().get_string())});
          }
        } else if (v->custom && m.key() == "qs") {
          if (!m.value().is_object()) return Unexpected(V2BadRequest("httpCustom.qs must be an object"));
          for (const auto& h : m.value().get_object()) {
            if (!h.value().is_string()) return Unexpected(V2BadRequest("httpCustom.qs values are strings"));
            v->custom_qs.emplace_back(std::string(h.key()), std::string(h.value().get_string()));
          }
        } else if (v->custom && m.key() == "method") {
          if (!m.value().is_string() || m.value().get_string() != "POST") {
            return Unexpected(V2BadRequest("httpCustom.method: only POST is supported by this broker"));
          }
        } else if (m.key() == "timeout") {
          if (!m.value().is_number()) return Unexpected(V2BadRequest("timeout must be a number"));
        } else {
          return Unexpected(V2BadRequest("unsupported member of notification." + std::string(http ? "http" : "httpCustom") +
                                         ": " + std::string(m.key()) + " (payload templates are not supported)"));
        }
      }
      if (v->url.empty()) return Unexpected(V2BadRequest("notification url is missing"));
      for (const auto& m : no) {
        const std::string_view nk = m.key();
        if (nk == "http" || nk == "httpCustom") continue;
        if (nk == "attrs") {
          auto list = StringArray(m.value(), "notification.attrs", false);
          if (!list) return Unexpected(list.error());
          v->attrs = std::move(*list);
        } else if (nk == "exceptAttrs") {
          auto list = StringArray(m.value(), "notification.exceptAttrs", true);
          if (!list) return Unexpected(list.error());
          v->except_attrs = std::move(*list);
        } else if (nk == "metadata") {
          auto list = StringArray(m.value(), "notification.metadata", false);
          if (!list) return Unexpected(list.error());
          v->metadata = std::move(*list);
        } else if (nk == "attrsFormat") {
          if (!m.value().is_string() || !ValidFormat(m.value().get_string())) {
            return Unexpected(V2BadRequest("invalid attrsFormat (normalized, keyValues, values, simplifiedNormalized, "
                                           "simplifiedKeyValues)"));
          }
          v->attrs_format = std::string(m.value().get_string());
        } else if (nk == "onlyChangedAttrs" || nk == "covered") {
          if (!m.value().is_bool()) return Unexpected(V2BadRequest(std::string(nk) + " must be a boolean"));
          if (nk == "onlyChangedAttrs") v->only_changed_attrs = m.value().get_bool();
        } else if (nk == "maxFailsLimit") {
          if (!m.value().is_number()) return Unexpected(V2BadRequest("maxFailsLimit must be a number"));
        } else if (nk == "timesSent" || nk == "lastNotification" || nk == "lastSuccess" || nk == "lastFailure" ||
                   nk == "lastSuccessCode" || nk == "lastFailureReason" || nk == "failsCounter") {
          continue;  // read-only members (a client may send back what it read)
        } else {
          return Unexpected(V2BadRequest("unrecognized member of notification: " + std::string(nk)));
        }
      }
      if (!v->attrs.empty() && !v->except_attrs.empty()) {
        return Unexpected(V2BadRequest("notification has both attrs and exceptAttrs"));
      }
    } else if (key == "id") {
      continue;  // a client may send back what it read; the path names the subscription
    } else {
      return Unexpected(V2BadRequest("unrecognized member of a subscription: " + std::string(key)));
    }
  }
  if (!has_subject) return Unexpected(V2BadRequest("no subject for subscription specified"));
  if (!has_notification) return Unexpected(V2BadRequest("no notification for subscription specified"));
  // The expression: q and mq in the v2 language, and a geographical condition.
  if (!v->q.empty()) {
    auto q = Query::ParseV2(v->q, false);
    if (!q) return Unexpected(V2BadRequest(q.error().detail));
    q->Bind(codec.context, names);
    s.q = std::move(*q);
  }
  if (!v->mq.empty()) {
    auto mq = Query::ParseV2(v->mq, true);
    if (!mq) return Unexpected(V2BadRequest(mq.error().detail));
    mq->Bind(codec.context, names);
    v->mq_query = std::move(*mq);
  }
  // The geographical condition is read by the caller (NgsiV2Api::Impl::ReadGeo, as a query's).
  s.active = v->status != "inactive";
  s.v2 = std::move(v);
  return {};
}

// The document of a subscription (GET, and the base a PATCH is applied to).
void RenderSubscription(JsonWriter& w, const Subscription& s, bool with_status, int64_t now) {
  const V2Subscription& v = *s.v2;
  w.BeginObject();
  w.Key("id");
  w.String(s.id);
  if (!s.description.empty()) {
    w.Key("description");
    w.String(s.description);
  }
  w.Key("subject");
  w.BeginObject();
  w.Key("entities");
  w.BeginArray();
  for (const auto& e : v.entities) {
    w.BeginObject();
    if (!e.id.empty()) {
      w.Key("id");
      w.String(e.id);
    } else {
      w.Key("idPattern");
      w.String(e.id_pattern);
    }
    if (!e.type.empty()) {
      w.Key("type");
      w.String(e.type);
    } else if (!e.type_pattern.empty()) {
      w.Key("typePattern");
      w.String(e.type_pattern);
    }
    w.EndObject();
  }
  w.EndArray();
  const bool has_expr = !v.q.empty() || !v.mq.empty() || !v.georel.empty();
  // GET shows the condition always (as Orion does); the document a PATCH applies to keeps only
  // what was given, since an empty condition or attrs list is not valid input.
  const bool condition = with_status || !v.condition_attrs.empty() || has_expr || !v.alteration_types.empty();
  if (!condition) {
    w.EndObject();  // subject
  } else {
  w.Key("condition");
  w.BeginObject();
  if (with_status || !v.condition_attrs.empty()) {
    w.Key("attrs");
    w.BeginArray();
    for (const std::string& a : v.condition_attrs) w.String(a);
    w.EndArray();
  }
  if (has_expr) {
    w.Key("expression");
    w.BeginObject();
    for (const auto& [k, text] : {std::pair<std::string_view, const std::string*>{"q", &v.q}, {"mq", &v.mq},
                                  {"georel", &v.georel}, {"geometry", &v.geometry}, {"coords", &v.coords}}) {
      if (text->empty()) continue;
      w.Key(k);
      w.String(*text);
    }
    w.EndObject();
  }
  if (!v.alteration_types.empty()) {
    w.Key("alterationTypes");
    w.BeginArray();
    for (const std::string& a : v.alteration_types) w.String(a);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  }
  w.Key("notification");
  w.BeginObject();
  if (!v.except_attrs.empty()) {
    w.Key("exceptAttrs");
    w.BeginArray();
    for (const std::string& a : v.except_attrs) w.String(a);
    w.EndArray();
  } else {
    w.Key("attrs");
    w.BeginArray();
    for (const std::string& a : v.attrs) w.String(a);
    w.EndArray();
  }
  w.Key("onlyChangedAttrs");
  w.Bool(v.only_changed_attrs);
  w.Key("attrsFormat");
  w.String(v.attrs_format);
  if (!v.metadata.empty()) {
    w.Key("metadata");
    w.BeginArray();
    for (const std::string& m : v.metadata) w.String(m);
    w.EndArray();
  }
  w.Key(v.custom ? "httpCustom" : "http");
  w.BeginObject();
  w.Key("url");
  w.String(v.url);
  if (v.custom && !v.custom_headers.empty()) {
    w.Key("headers");
    w.BeginObject();
    for (const Header& h : v.custom_headers) {
      w.Key(h.name);
      w.String(h.value);
    }
    w.EndObject();
  }
  if (v.custom && !v.custom_qs.empty()) {
    w.Key("qs");
    w.BeginObject();
    for (const auto& [k, val] : v.custom_qs) {
      w.Key(k);
      w.String(val);
    }
    w.EndObject();
  }
  w.EndObject();
  if (with_status) {
    const uint64_t sent = s.status->times_sent.load() + s.status->times_failed.load();
    if (sent > 0) {
      w.Key("timesSent");
      w.Int(static_cast<int64_t>(sent));
    }
    auto stamp = [&](std::string_view key, int64_t t) {
      if (t == INT64_MIN || t == kNoTime) return;
      w.Key(key);
      w.String(v2::FormatDateTime(t));
    };
    stamp("lastNotification", s.status->last_notification.load());
    stamp("lastSuccess", s.status->last_success.load());
    stamp("lastFailure", s.status->last_failure.load());
  }
  w.EndObject();
  if (s.expires_at != kNoTime) {
    w.Key("expires");
    w.String(v2::FormatDateTime(s.expires_at));
  }
  w.Key("status");
  if (!with_status) {
    w.String(v.status);
  } else if (s.expires_at != kNoTime && now >= s.expires_at) {
    w.String("expired");
  } else if (v.status == "oneshot" && s.oneshot_fired->load()) {
    w.String("inactive");
  } else {
    w.String(v.status);
  }
  if (s.throttling > 0) {
    w.Key("throttling");
    w.Number(s.throttling);
  }
  w.EndObject();
}

}  // namespace

Expected<std::shared_ptr<Subscription>, OrionError> NgsiV2Api::Impl::BuildSubscription(const Call& call,
                                                                                      const std::string* service_path,
                                                                                      const json::object& body,
                                                                                      std::string id) {
  auto s = std::make_shared<Subscription>();
  s->id = std::move(id);
  s->context = options_.context;
  {
    // The scope: the request's service path, kept as given.
    auto v = std::make_shared<V2Subscription>();
    if (service_path != nullptr) v->service_path = std::string(Trim(*service_path));
    for (const auto& item : call.scope.items) v->scope.emplace_back(item.path, item.subtree);
    s->v2 = std::move(v);
  }
  auto ok = ParseDocument(body, *s, MakeCodec(), names_);
  if (!ok) return Unexpected(ok.error());
  if (!s->v2->georel.empty() || !s->v2->geometry.empty() || !s->v2->coords.empty()) {
    EntityQuery probe;
    if (auto g = ReadGeo(s->v2->georel, s->v2->geometry, s->v2->coords, probe); !g) return Unexpected(g.error());
    s->geoq = std::move(probe.geo);
  }
  return s;
}

std::string NgsiV2Api::Impl::StoredSubscription(const Subscription& s) const {
  std::string text;
  JsonWriter w(text);
  RenderSubscription(w, s, false, 0);
  return text;
}

std::string NgsiV2Api::StoredSubscription(const Subscription& s) const { return impl_->StoredSubscription(s); }

Expected<void, Problem> NgsiV2Api::RestoreSubscription(const std::string& tenant, const std::string& service_path,
                                                       const json::object& doc, int64_t created_at,
                                                       int64_t modified_at) {
  Request req;
  if (!service_path.empty()) req.SetHeader("Fiware-ServicePath", service_path);
  auto call = impl_->Prepare(req, false, false);
  if (!call) return Unexpected(BadRequestData(call.error().description));
  const json::value* id = doc.if_contains("id");
  if (id == nullptr || !id->is_string()) return Unexpected(BadRequestData("a stored subscription has no id"));
  auto s = impl_->BuildSubscription(*call, req.FindHeader("Fiware-ServicePath"), doc, std::string(id->get_string()));
  if (!s) return Unexpected(BadRequestData(s.error().description));
  (*s)->created_at = created_at;
  (*s)->modified_at = modified_at;
  return impl_->subs().Add(tenant, *s);
}

Response NgsiV2Api::Impl::CreateSubscription(Request& req, const PathParams&) {
  auto call = Prepare(req, false, true);
  if (!call) return OrionResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("a subscription is a JSON object"));
  auto built = BuildSubscription(*call, req.FindHeader("Fiware-ServicePath"), body->get_object(), v2::NewObjectId());
  if (!built) return OrionResponse(built.error());
  auto s = std::move(*built);
  s->created_at = s->modified_at = UnixMicrosNow();
  if (auto added = subs_.Add(call->tenant, s); !added) return OrionErrorResponse(added.error().HttpStatus(), added.error().detail);
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/v2/subscriptions/" + s->id);
  return r;
}

Response NgsiV2Api::Impl::ListSubscriptions(Request& req, const PathParams&) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  EntityQuery paging;
  if (auto ok = ReadListOptions(req, paging, false); !ok) return OrionResponse(ok.error());
  const std::string* path_header = req.FindHeader("Fiware-ServicePath");
  auto all = subs_.List(call->tenant);
  std::erase_if(all, [&](const SubscriptionPtr& s) {
    if (!s->v2) return true;  // NGSI-LD ones: /ngsi-ld/v1/subscriptions
    // With a service path, the subscriptions made with exactly that path.
    return path_header != nullptr && s->v2->service_path != Trim(*path_header);
  });
  std::sort(all.begin(), all.end(), [](const SubscriptionPtr& a, const SubscriptionPtr& b) {
    return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
  });
  const int64_t now = UnixMicrosNow();
  return ListPage(paging, all.size(), [&](JsonWriter& w, size_t i) { RenderSubscription(w, *all[i], true, now); });
}

Response NgsiV2Api::Impl::RetrieveSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  SubscriptionPtr s = subs_.Get(call->tenant, p.Get("subscriptionId"));
  if (!s || !s->v2) return OrionResponse(OrionError{404, "NotFound", "The requested subscription has not been found. Check id"});
  std::string body;
  JsonWriter w(body);
  RenderSubscription(w, *s, true, UnixMicrosNow());
  return Json(200, std::move(body));
}

Response NgsiV2Api::Impl::UpdateSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, true);
  if (!call) return OrionResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("a subscription patch is a JSON object"));
  SubscriptionPtr current = subs_.Get(call->tenant, p.Get("subscriptionId"));
  if (!current || !current->v2) {
    return OrionResponse(OrionError{404, "NotFound", "The requested subscription has not been found. Check id"});
  }
  // The current document with the patch's top-level members replacing its own.
  std::string text;
  JsonWriter w(text);
  RenderSubscription(w, *current, false, 0);
  boost::system::error_code pec;
  json::object merged = ParseJson(text, pec).as_object();
  for (const auto& kv : body->get_object()) merged[kv.key()] = kv.value();
  auto next = std::make_shared<Subscription>(*current);
  auto ok = ParseDocument(merged, *next, MakeCodec(), names_);
  if (!ok) return OrionResponse(ok.error());
  if (!next->v2->georel.empty() || !next->v2->geometry.empty() || !next->v2->coords.empty()) {
    EntityQuery probe;
    if (auto g = ReadGeo(next->v2->georel, next->v2->geometry, next->v2->coords, probe); !g) return OrionResponse(g.error());
    next->geoq = std::move(probe.geo);
  }
  if (body->get_object().contains("status")) {
    next->oneshot_fired = std::make_shared<std::atomic<bool>>(false);  // a new oneshot fires again
  }
  if (body->get_object().contains("throttling")) next->last_trigger = std::make_shared<std::atomic<int64_t>>(kNoTime);
  next->modified_at = UnixMicrosNow();
  if (auto r = subs_.Replace(call->tenant, next); !r) {
    return OrionResponse(OrionError{404, "NotFound", "The requested subscription has not been found. Check id"});
  }
  return NoContent();
}

Response NgsiV2Api::Impl::DeleteSubscription(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  SubscriptionPtr s = subs_.Get(call->tenant, p.Get("subscriptionId"));
  if (!s || !s->v2 || !subs_.Delete(call->tenant, s->id)) {
    return OrionResponse(OrionError{404, "NotFound", "The requested subscription has not been found. Check id"});
  }
  return NoContent();
}

namespace v2 {

std::string NewObjectId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t prefix = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(prefix),
                static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffffffULL));
  return buf;
}

}  // namespace v2
}  // namespace citybed::broker
