#include "citybed/broker/context.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "citybed/common/http_fetch.h"
#include "citybed/common/strings.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// The terms of the NGSI-LD core @context (ETSI GS CIM 009 v1.8, Annex B) that name things in
// payloads. Keyword aliases ("id": "@id", "type": "@type") are handled structurally.
constexpr std::pair<std::string_view, std::string_view> kCoreTerms[] = {
    {"ngsi-ld", "https://uri.etsi.org/ngsi-ld/"},
    {"geojson", "https://purl.org/geojson/vocab#"},
    {"Attribute", "ngsi-ld:Attribute"},
    {"AttributeList", "ngsi-ld:AttributeList"},
    {"ContextSourceNotification", "ngsi-ld:ContextSourceNotification"},
    {"ContextSourceRegistration", "ngsi-ld:ContextSourceRegistration"},
    {"Date", "ngsi-ld:Date"},
    {"DateTime", "ngsi-ld:DateTime"},
    {"EntityType", "ngsi-ld:EntityType"},
    {"EntityTypeInfo", "ngsi-ld:EntityTypeInfo"},
    {"EntityTypeList", "ngsi-ld:EntityTypeList"},
    {"Feature", "geojson:Feature"},
    {"FeatureCollection", "geojson:FeatureCollection"},
    {"GeoProperty", "ngsi-ld:GeoProperty"},
    {"GeometryCollection", "geojson:GeometryCollection"},
    {"JsonProperty", "ngsi-ld:JsonProperty"},
    {"LanguageProperty", "ngsi-ld:LanguageProperty"},
    {"LineString", "geojson:LineString"},
    {"ListProperty", "ngsi-ld:ListProperty"},
    {"ListRelationship", "ngsi-ld:ListRelationship"},
    {"MultiLineString", "geojson:MultiLineString"},
    {"MultiPoint", "geojson:MultiPoint"},
    {"MultiPolygon", "geojson:MultiPolygon"},
    {"Notification", "ngsi-ld:Notification"},
    {"Point", "geojson:Point"},
    {"Polygon", "geojson:Polygon"},
    {"Property", "ngsi-ld:Property"},
    {"Relationship", "ngsi-ld:Relationship"},
    {"Subscription", "ngsi-ld:Subscription"},
    {"TemporalProperty", "ngsi-ld:TemporalProperty"},
    {"Time", "ngsi-ld:Time"},
    {"VocabProperty", "ngsi-ld:VocabProperty"},
    {"accept", "ngsi-ld:accept"},
    {"attributeCount", "ngsi-ld:attributeCount"},
    {"attributeDetails", "ngsi-ld:attributeDetails"},
    {"attributeList", "ngsi-ld:attributeList"},
    {"attributeName", "ngsi-ld:attributeName"},
    {"attributeNames", "ngsi-ld:attributeNames"},
    {"attributeTypes", "ngsi-ld:attributeTypes"},
    {"attributes", "ngsi-ld:attributes"},
    {"bbox", "geojson:bbox"},
    {"coordinates", "geojson:coordinates"},
    {"createdAt", "ngsi-ld:createdAt"},
    {"datasetId", "ngsi-ld:datasetId"},
    {"deletedAt", "ngsi-ld:deletedAt"},
    {"description", "http://purl.org/dc/terms/description"},
    {"endpoint", "ngsi-ld:endpoint"},
    {"entities", "ngsi-ld:entities"},
    {"entityCount", "ngsi-ld:entityCount"},
    {"expiresAt", "ngsi-ld:expiresAt"},
    {"features", "geojson:features"},
    {"format", "ngsi-ld:format"},
    {"geoQ", "ngsi-ld:geoQ"},
    {"geometry", "geojson:geometry"},
    {"geoproperty", "ngsi-ld:geoproperty"},
    {"georel", "ngsi-ld:georel"},
    {"idPattern", "ngsi-ld:idPattern"},
    {"information", "ngsi-ld:information"},
    {"instanceId", "ngsi-ld:instanceId"},
    {"isActive", "ngsi-ld:isActive"},
    {"lang", "ngsi-ld:lang"},
    {"languageMap", "ngsi-ld:hasLanguageMap"},
    {"lastFailure", "ngsi-ld:lastFailure"},
    {"lastNotification", "ngsi-ld:lastNotification"},
    {"lastSuccess", "ngsi-ld:lastSuccess"},
    {"location", "ngsi-ld:location"},
    {"modifiedAt", "ngsi-ld:modifiedAt"},
    {"notification", "ngsi-ld:notification"},
    {"notificationTrigger", "ngsi-ld:notificationTrigger"},
    {"notifiedAt", "ngsi-ld:notifiedAt"},
    {"object", "ngsi-ld:hasObject"},
    {"observationInterval", "ngsi-ld:observationInterval"},
    {"observationSpace", "ngsi-ld:observationSpace"},
    {"observedAt", "ngsi-ld:observedAt"},
    {"operationSpace", "ngsi-ld:operationSpace"},
    {"properties", "geojson:properties"},
    {"q", "ngsi-ld:q"},
    {"scope", "ngsi-ld:scope"},
    {"scopeQ", "ngsi-ld:scopeQ"},
    {"status", "ngsi-ld:status"},
    {"subscriptionId", "ngsi-ld:subscriptionId"},
    {"subscriptionName", "ngsi-ld:subscriptionName"},
    {"throttling", "ngsi-ld:throttling"},
    {"timeInterval", "ngsi-ld:timeInterval"},
    {"timesSent", "ngsi-ld:timesSent"},
    {"title", "http://purl.org/dc/terms/title"},
    {"unitCode", "ngsi-ld:unitCode"},
    {"uri", "ngsi-ld:uri"},
    {"value", "ngsi-ld:hasValue"},
    {"watchedAttributes", "ngsi-ld:watchedAttributes"},
};

bool IsAbsoluteIri(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsCoreContextUrl(std::string_view url) {
  return (StartsWith(url, "https://uri.etsi.org/ngsi-ld/") || StartsWith(url, "http://uri.etsi.org/ngsi-ld/")) &&
         url.find("ngsi-ld-core-context") != std::string_view::npos;
}

std::string Context::ExpandIri(std::string_view value, int depth) const {
  if (depth > 8) return std::string(value);
  if (auto it = terms_.find(std::string(value)); it != terms_.end() && it->second.iri != value) {
    return ExpandIri(it->second.iri, depth + 1);
  }
  const size_t colon = value.find(':');
  if (colon != std::string_view::npos) {
    std::string_view prefix = value.substr(0, colon), suffix = value.substr(colon + 1);
    if (StartsWith(suffix, "//") || prefix == "_") return std::string(value);
    if (auto it = terms_.find(std::string(prefix)); it != terms_.end()) {
      return ExpandIri(it->second.iri, depth + 1) + std::string(suffix);
    }
    if (IsAbsoluteIri(value)) return std::string(value);
  }
  if (!vocab_.empty()) return vocab_ + std::string(value);
  return std::string(value);
}

std::string Context::Expand(std::string_view term) const { return ExpandIri(term, 0); }

std::optional<uint32_t> Context::Memoised(std::string_view term) const {
  std::shared_lock lock(memo_mu_);
  auto it = expanded_.find(std::string(term));
  if (it == expanded_.end()) return std::nullopt;
  return it->second;
}

uint32_t Context::FindId(std::string_view term, const Interner& names) const {
  if (auto id = Memoised(term)) return *id;
  return names.Find(Expand(term)).value_or(Interner::kUnknown);  // not memoised: it may be written later
}

uint32_t Context::ExpandToId(std::string_view term, Interner& names) const {
  if (auto id = Memoised(term)) return *id;
  const uint32_t id = names.Intern(Expand(term));
  std::unique_lock lock(memo_mu_);
  if (expanded_.size() < 100000) expanded_.emplace(std::string(term), id);
  return id;
}

std::string Context::Compact(std::string_view iri) const {
  if (auto it = reverse_.find(std::string(iri)); it != reverse_.end()) return it->second;
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& p : prefixes_) {
    if (StartsWith(iri, p.second) && iri.size() > p.second.size() &&
        (best == nullptr || p.second.size() > best->second.size())) {
      best = &p;
    }
  }
  if (!vocab_.empty() && StartsWith(iri, vocab_) && iri.size() > vocab_.size()) {
    std::string_view rest = iri.substr(vocab_.size());
    if (rest.find(':') == std::string_view::npos) return std::string(rest);
  }
  if (best != nullptr) return best->first + ":" + std::string(iri.substr(best->second.size()));
  return std::string(iri);
}

std::string_view Context::CompactId(uint32_t id, const Interner& names) const {
  {
    std::shared_lock lock(memo_mu_);
    auto it = compacted_.find(id);
    if (it != compacted_.end()) return it->second;
  }
  std::string term = Compact(names.Name(id));
  std::unique_lock lock(memo_mu_);
  auto [it, inserted] = compacted_.emplace(id, std::move(term));
  return it->second;  // node-based map: the string stays where it is
}

ContextResolver::ContextResolver(ContextResolverOptions options) : options_(std::move(options)) {
  if (!options_.fetcher) {
    const auto timeout = options_.fetch_timeout;
    const size_t limit = options_.max_document_bytes;
    options_.fetcher = [timeout, limit](const std::string& url) -> Expected<std::string> {
      FetchRequest req;
      req.url = url;
      req.headers = {{"Accept", "application/ld+json, application/json"}};
      req.timeout = timeout;
      req.max_body = limit;
      auto r = Fetch(req);
      if (!r) return Unexpected(r.error());
      if (r->status != 200) {
        return Unexpected(Error::Unavailable(url + " answered HTTP " + std::to_string(r->status)));
      }
      return std::move(r->body);
    };
  }
  auto core = std::make_shared<Context>();
  for (const auto& [term, iri] : kCoreTerms) core->terms_[std::string(term)] = {std::string(iri)};
  core->vocab_ = std::string(kDefaultVocab);
  core->link_url_ = std::string(kCoreContextUrl);
  core->context_value_ = json::string(kCoreContextUrl);
  core->is_core_ = true;
  Finish(*core);
  core_ = core;
}

// Adds the core terms last (they win), then builds the reverse and prefix tables.
void ContextResolver::Finish(Context& ctx) {
  ctx.link_header_ = "<" + (ctx.link_url_.empty() ? std::string(kCoreContextUrl) : ctx.link_url_) +
                     ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
  if (!ctx.is_core_) {
    for (const auto& [term, iri] : kCoreTerms) ctx.terms_[std::string(term)] = {std::string(iri)};
    ctx.vocab_ = std::string(kDefaultVocab);
  }
  for (const auto& [term, def] : ctx.terms_) {
    std::string iri = ctx.Expand(term);
    auto [it, inserted] = ctx.reverse_.emplace(iri, term);
    // Prefer the user's terms over core ones, then the shorter, then the lexically smaller term.
    if (!inserted) {
      const std::string& current = it->second;
      if (term.size() < current.size() || (term.size() == current.size() && term < current)) it->second = term;
    }
    if (!iri.empty() && (iri.back() == '/' || iri.back() == '#') && term.find(':') == std::string::npos) {
      ctx.prefixes_.emplace_back(term, iri);
    }
  }
}

namespace {
int64_t UnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
// The hosted id a URL names, if it ends in /ngsi-ld/v1/jsonldContexts/{id}.
std::string_view HostedIdOf(std::string_view url) {
  const size_t at = url.find(ContextResolver::kHostedPath);
  if (at == std::string_view::npos) return {};
  return url.substr(at + ContextResolver::kHostedPath.size());
}
std::string LocalIdOf(std::string_view url) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "cached-%016llx", static_cast<unsigned long long>(std::hash<std::string_view>{}(url)));
  return buf;
}
}  // namespace

Expected<std::string, Problem> ContextResolver::Host(const json::value& context) {
  if (!(context.is_object() || context.is_array() || context.is_string())) {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData, "@context must be an object, an array or a URL"));
  }
  // It must be a usable context.
  if (auto compiled = FromJson(context); !compiled) return Unexpected(std::move(compiled).error());
  std::lock_guard lock(mu_);
  char id[40];
  std::snprintf(id, sizeof id, "ctx-%llu-%06llx", static_cast<unsigned long long>(next_hosted_++),
                static_cast<unsigned long long>(UnixMicros() & 0xffffff));
  hosted_[id] = {context, UnixMicros(), 0};
  return std::string(id);
}

std::optional<json::value> ContextResolver::Lookup(std::string_view id_or_url, ContextInfo* info) {
  std::lock_guard lock(mu_);
  if (auto h = hosted_.find(std::string(id_or_url)); h != hosted_.end()) {
    if (info) *info = {h->first, "", "Hosted", h->second.created_us, h->second.hits};
    return h->second.context;
  }
  for (const auto& [url, doc] : documents_) {
    if (url == id_or_url || LocalIdOf(url) == id_or_url) {
      if (info) *info = {LocalIdOf(url), url, "Cached", doc.created_us, 0};
      return doc.context;
    }
  }
  return std::nullopt;
}

void ContextResolver::ForgetCompiled(std::string_view url_part) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->first.find(url_part) != std::string::npos) {
      compiled_.erase(it->first);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ContextResolver::Remove(std::string_view id_or_url) {
  std::lock_guard lock(mu_);
  if (hosted_.erase(std::string(id_or_url)) > 0) {
    ForgetCompiled(std::string(kHostedPath) + std::string(id_or_url));
    return true;
  }
  for (auto it = documents_.begin(); it != documents_.end(); ++it) {
    if (it->first == id_or_url || LocalIdOf(it->first) == id_or_url) {
      ForgetCompiled(it->first);
      documents_.erase(it);
      return true;
    }
  }
  return false;
}

Expected<void, Problem> ContextResolver::Reload(std::string_view id_or_url) {
  std::string url;
  {
    std::lock_guard lock(mu_);
    if (hosted_.count(std::string(id_or_url))) {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData, "a hosted @context cannot be reloaded"));
    }
    for (const auto& [u, doc] : documents_) {
      if (u == id_or_url || LocalIdOf(u) == id_or_url) url = u;
    }
  }
  if (url.empty()) return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "no @context " + std::string(id_or_url)));
  Remove(url);
  if (auto doc = Document(url); !doc) return Unexpected(std::move(doc).error());
  return {};
}

std::vector<ContextResolver::ContextInfo> ContextResolver::List() const {
  std::lock_guard lock(mu_);
  std::vector<ContextInfo> out;
  for (const auto& [id, h] : hosted_) out.push_back({id, "", "Hosted", h.created_us, h.hits});
  for (const auto& [url, doc] : documents_) out.push_back({LocalIdOf(url), url, "Cached", doc.created_us, 0});
  std::sort(out.begin(), out.end(), [](const ContextInfo& a, const ContextInfo& b) { return a.local_id < b.local_id; });
  return out;
}

Expected<json::value, Problem> ContextResolver::Document(const std::string& url) {
  const auto now = std::chrono::steady_clock::now();
  if (const std::string_view hosted = HostedIdOf(url); !hosted.empty()) {
    std::lock_guard lock(mu_);
    auto h = hosted_.find(std::string(hosted));
    if (h != hosted_.end()) {
      ++h->second.hits;
      return h->second.context;
    }
  }
  {
    std::lock_guard lock(mu_);
    auto it = documents_.find(url);
    if (it != documents_.end() && now - it->second.fetched < options_.cache_ttl) return it->second.context;
  }
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = documents_.find(url);
    if (it != documents_.end() && now - it->second.fetched < options_.cache_ttl) return it->second.context;
  }
  ++fetches_;
  auto body = options_.fetcher(url);
  if (!body) {
    // Offline: a copy fetched earlier serves past its time to live, and the fetch is tried again
    // a minute later, rather than failing (or stalling) every request that names the context.
    std::lock_guard lock(mu_);
    if (auto it = documents_.find(url); it != documents_.end()) {
      const auto retry = std::min<std::chrono::steady_clock::duration>(options_.cache_ttl, std::chrono::minutes(1));
      it->second.fetched = now - options_.cache_ttl + retry;
      return it->second.context;
    }
    return Unexpected(MakeProblem(ErrorType::kLdContextNotAvailable,
                                  "cannot retrieve the @context " + url + ": " + body.error().message));
  }
  if (body->size() > options_.max_document_bytes) {
    return Unexpected(MakeProblem(ErrorType::kLdContextNotAvailable, "the @context " + url + " is too large"));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(*body, ec);
  if (ec || !doc.is_object() || !doc.as_object().contains("@context")) {
    return Unexpected(MakeProblem(ErrorType::kLdContextNotAvailable,
                                  "the document at " + url + " is not a JSON-LD context (no \"@context\" member)"));
  }
  json::value context = doc.as_object()["@context"];
  std::lock_guard lock(mu_);
  documents_[url] = {context, now, UnixMicros()};
  return context;
}

Expected<void, Problem> ContextResolver::Apply(Context& ctx, const json::value& entry, int depth) {
  if (depth > 8) {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData, "@context nesting is deeper than 8 levels"));
  }
  switch (entry.kind()) {
    case json::kind::null:
      return {};
    case json::kind::string: {
      const std::string url(entry.get_string());
      if (IsCoreContextUrl(url)) return {};
      if (!IsAbsoluteIri(url)) {
        return Unexpected(MakeProblem(ErrorType::kBadRequestData, "@context entry \"" + url + "\" is not a URL"));
      }
      auto doc = Document(url);
      if (!doc) return Unexpected(std::move(doc).error());
      return Apply(ctx, *doc, depth + 1);
    }
    case json::kind::array:
      for (const json::value& e : entry.get_array()) {
        auto r = Apply(ctx, e, depth + 1);
        if (!r) return r;
      }
      return {};
    case json::kind::object:
      for (const auto& kv : entry.get_object()) {
        const std::string key(kv.key());
        if (key == "@vocab") {
          if (kv.value().is_string()) ctx.vocab_ = std::string(kv.value().get_string());
          continue;
        }
        if (!key.empty() && key.front() == '@') continue;  // @version, @protected, @language, ...
        const json::value& def = kv.value();
        if (def.is_string()) {
          std::string_view iri = def.get_string();
          if (!iri.empty() && iri.front() == '@') continue;  // keyword alias
          ctx.terms_[key] = {std::string(iri)};
        } else if (def.is_object()) {
          auto id = def.get_object().if_contains("@id");
          if (id && id->is_string() && !id->get_string().starts_with("@")) {
            ctx.terms_[key] = {std::string(id->get_string())};
          }
        } else if (def.is_null()) {
          ctx.terms_.erase(key);
        } else {
          return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                        "@context term \"" + key + "\" has an invalid definition"));
        }
      }
      return {};
    default:
      return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                    "@context must be a URL, an object or an array of them"));
  }
}

Expected<ContextPtr, Problem> ContextResolver::Build(const std::string& key, const json::value& context) {
  {
    std::lock_guard lock(mu_);
    auto it = compiled_.find(key);
    if (it != compiled_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits_;
      return it->second->second;
    }
  }
  auto ctx = std::make_shared<Context>();
  auto applied = Apply(*ctx, context, 0);
  if (!applied) return Unexpected(std::move(applied).error());
  ctx->context_value_ = context;
  if (context.is_string()) {
    ctx->link_url_ = std::string(context.get_string());
  } else if (context.is_array() && context.get_array().size() == 1 && context.get_array()[0].is_string()) {
    ctx->link_url_ = std::string(context.get_array()[0].get_string());
  }
  Finish(*ctx);
  std::lock_guard lock(mu_);
  auto it = compiled_.find(key);
  if (it != compiled_.end()) return it->second->second;
  lru_.emplace_front(key, ctx);
  compiled_[key] = lru_.begin();
  while (lru_.size() > options_.max_cached_contexts) {
    compiled_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return ContextPtr(ctx);
}

Expected<ContextPtr, Problem> ContextResolver::FromUrl(const std::string& url) {
  if (IsCoreContextUrl(url)) return core_;
  return Build(url, json::string(url));
}

Expected<ContextPtr, Problem> ContextResolver::FromJson(const json::value& context) {
  if (context.is_string() && IsCoreContextUrl(context.get_string())) return core_;
  if (context.is_array()) {  // ["<core url>"] alone is the core context too
    bool only_core = true;
    for (const auto& e : context.get_array()) {
      if (!e.is_string() || !IsCoreContextUrl(e.get_string())) only_core = false;
    }
    if (only_core) return core_;
  }
  return Build(json::serialize(context), context);
}

}  // namespace citybed::broker
