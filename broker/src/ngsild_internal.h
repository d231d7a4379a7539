// Shared pieces of the NGSI-LD handlers (private to citybed_broker).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "citybed/broker/context.h"
#include "citybed/broker/entity.h"
#include "citybed/broker/http_message.h"
#include "citybed/broker/ngsild_api.h"
#include "citybed/broker/problem.h"
#include "citybed/broker/query.h"
#include "citybed/broker/registrations.h"
#include "citybed/broker/router.h"
#include "citybed/broker/store.h"
#include "citybed/broker/subscriptions.h"
#include "api_common.h"
#include "distributed.h"

namespace citybed::broker {

enum class AcceptKind { kJson, kLd, kGeo };

// What every handler learns from the request's headers before it looks at the body.
struct Call {
  std::string tenant;
  ContextPtr ctx;  // from the Link header (application/json) or the core context
  AcceptKind accept = AcceptKind::kJson;
  bool ld_body = false;  // Content-Type: application/ld+json
};

struct CallOptions {
  bool has_body = false;
  bool allow_geo = false;          // Accept: application/geo+json
  bool allow_merge_patch = false;  // Content-Type: application/merge-patch+json
};

class NgsiLdApi::Impl {
 public:
  Impl(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
       RegistrationManager& registrations, ApiOptions options)
      : store_(store), contexts_(contexts), names_(names), subs_(subs), registrations_(registrations), options_(options) {}

  // Common steps.
  Expected<Call, Problem> Prepare(const Request& req, const CallOptions& opts);
  Expected<boost::json::value, Problem> ParseBody(const Request& req);
  // The context of one payload object: its "@context" (application/ld+json, required) or the
  // call's (application/json, where "@context" is an error).
  Expected<ContextPtr, Problem> PayloadContext(const boost::json::object& body, const Call& call);
  Response Json(int status, std::string body, const Call& call);
  // limit (default and maximum from the options) and offset of a listing of subscriptions or
  // registrations (entity queries add their own rules: ngsild_query.cc ReadPage).
  struct ListPageSpec {
    size_t limit = 0, offset = 0;
  };
  Expected<ListPageSpec, Problem> ReadListPage(const Request& req) const;
  // A listed page: the array of items [offset, offset + limit) of `total` rendered by
  // `render(w, index)`, NGSILD-Results-Count with count=true, and the Link headers.
  Response ListPage(const Request& req, const Call& call, const ListPageSpec& page, size_t total,
                    const std::function<void(JsonWriter&, size_t)>& render);
  Problem TenantMissing(const std::string& tenant) const;
  bool TenantExists(const std::string& tenant) const;
  Codec MakeCodec(const Context& ctx) { return Codec{names_, ctx}; }
  // options=keyValues|sysAttrs|concise, format=..., attrs=a,b, lang=.
  Expected<RenderOptions, Problem> ReadRenderOptions(const Request& req, const Context& ctx,
                                                     std::vector<uint32_t>& attrs_storage);
  void Notify(const std::string& tenant, const Change& change, const std::vector<uint32_t>& touched) {
    subs_.OnChange(tenant, change, touched);
  }

  // Entities (ngsild_entities.cc).
  Response CreateEntity(Request& req, const PathParams& p);
  Response RetrieveEntity(Request& req, const PathParams& p);
  Response DeleteEntity(Request& req, const PathParams& p);
  Response ReplaceEntity(Request& req, const PathParams& p);
  Response MergeEntity(Request& req, const PathParams& p);
  Response AppendAttrs(Request& req, const PathParams& p);
  Response UpdateAttrs(Request& req, const PathParams& p);
  Response PartialAttrUpdate(Request& req, const PathParams& p);
  Response ReplaceAttr(Request& req, const PathParams& p);
  Response DeleteAttr(Request& req, const PathParams& p);
  // Queries and discovery (ngsild_query.cc).
  Response QueryEntities(Request& req, const PathParams& p);
  Response QueryPost(Request& req, const PathParams& p);
  Response ListTypes(Request& req, const PathParams& p);
  Response GetType(Request& req, const PathParams& p);
  Response ListAttributes(Request& req, const PathParams& p);
  Response GetAttribute(Request& req, const PathParams& p);
  // Batch (ngsild_batch.cc).
  Response BatchCreate(Request& req, const PathParams& p);
  Response BatchUpsert(Request& req, const PathParams& p);
  Response BatchUpdate(Request& req, const PathParams& p);
  Response BatchDelete(Request& req, const PathParams& p);
  Response BatchMerge(Request& req, const PathParams& p);
  // Merges `body` (an entity fragment, 5.6.17) into entity `id`, adding `types`; ResourceNotFound
  // when it does not exist.
  Expected<void, Problem> MergeOne(const std::string& tenant, const std::string& id, const boost::json::object& body,
                                   const ContextPtr& ctx, const std::vector<uint32_t>& types);
  // Subscriptions (ngsild_subscriptions.cc); `csource`: context source registration
  // subscriptions (/csourceSubscriptions, held by csource_subs_).
  Response CreateSubscription(Request& req, const PathParams& p, bool csource);
  Response ListSubscriptions(Request& req, const PathParams& p, bool csource);
  Response GetSubscription(Request& req, const PathParams& p, bool csource);
  Response UpdateSubscription(Request& req, const PathParams& p, bool csource);
  Response DeleteSubscription(Request& req, const PathParams& p, bool csource);
  // A context source registration subscription's first notification (5.11.2, 5.3.2).
  void NotifyMatchingRegistrations(const std::string& tenant, const std::string& id);
  // Context source registrations (ngsild_registrations.cc).
  Response CreateRegistration(Request& req, const PathParams& p);
  Response ListRegistrations(Request& req, const PathParams& p);
  Response GetRegistration(Request& req, const PathParams& p);
  Response UpdateRegistration(Request& req, const PathParams& p);
  Response DeleteRegistration(Request& req, const PathParams& p);
  // @context hosting (ngsild_contexts.cc).
  Response AddContext(Request& req, const PathParams& p);
  Response ListContexts(Request& req, const PathParams& p);
  Response ServeContext(Request& req, const PathParams& p);
  Response DeleteContext(Request& req, const PathParams& p);

  // A parsed query over entities (GET /entities and POST /entityOperations/query).
  struct EntityQuery {
    ScanFilter filter;
    std::vector<EntitySelector> selectors;  // any must match (POST query); empty: no condition
    std::vector<uint32_t> all_types;        // type=A;B: entities must have every one
    std::vector<uint32_t> attrs;            // entity must have one of them; also the projection
    std::optional<Query> q;
    std::optional<GeoQuery> geo;
    uint32_t geoproperty = 0;
    PatternPtr id_pattern;
  };
  // `as_get`: the request whose parameters a forwarded query copies (GET /entities: the request
  // itself; a POST query: its body as GET parameters); null: not forwarded, for `not_forwarded`.
  Response RunQuery(const Request& req, const Call& call, EntityQuery& query, const Context& ctx,
                    const Request* as_get, const std::string& not_forwarded = "");
  // Writes one page of a query's answer (entities or a GeoJSON FeatureCollection), with the
  // count (when asked) and the page links.
  Response QueryPage(const Request& req, const Call& call, const RenderOptions& opts,
                     const std::vector<const Entity*>& page, size_t offset, size_t limit, bool count,
                     size_t total, bool has_next, const Context& ctx);

  // Distributed operations (ngsild_distributed.cc).
  void EnableForwarding(Forwarder* forwarder, std::string via_name) {
    std::lock_guard lock(forwarding_mu_);
    forwarder_ = forwarder;
    via_name_ = std::move(via_name);
  }
  // The sources a request concerns (none when forwarding is off, local=true, or the request
  // already passed this broker), with the warnings planning gave, and the Via value to send.
  struct Distribution {
    std::vector<SourcePlan> plans;
    std::vector<ForwardWarning> warnings;
    ForwardContext fc;
    Forwarder* forwarder = nullptr;
    std::string self;  // this broker's name in Via headers and warnings
  };
  Distribution Distribute(const Request& req, const Call& call, const DistributedAsk& ask);
  // Answers a query from the local matches (the first offset + limit, in store order) and the
  // sources' answers, later.
  Response DistributedQuery(const Request& req, const Call& call, Distribution dist, std::vector<EntityPtr> local,
                            size_t local_matched, bool local_more, const RenderOptions& opts,
                            std::vector<uint32_t> projection, size_t offset, size_t limit, bool count);
  // The answer to a retrieve of `e` (null: not found anywhere): 5.7.1.4's checks, then the entity.
  Response FinishRetrieve(const Request& req, const Call& call, const Entity* e, const std::string& id,
                          const RenderOptions& opts, const std::vector<uint32_t>& attrs);
  // Answers a retrieve from the local entity (null when absent) merged with the sources' answers.
  Response DistributedRetrieve(const Request& req, const Call& call, Distribution dist, EntityPtr local,
                               const std::string& id, const RenderOptions& opts, std::vector<uint32_t> attrs);

  // A write that registered context sources may concern (ngsild_distributed_write.cc): split
  // between them and `local` (the operation's handler, run on what stays here), answered when
  // every source has answered or timed out.
  using LocalWrite = Response (Impl::*)(Request&, const PathParams&);
  Response DistributedWrite(Request& req, const PathParams& p, std::string_view operation, LocalWrite local);
  // The same for a batch (ngsild_distributed_batch.cc): each entity split, one batch per source.
  Response DistributedBatch(Request& req, const PathParams& p, std::string_view operation, LocalWrite local);
  // What a distributed write starts from; nullopt when nothing can be forwarded: forwarding off,
  // local=true, no registration of the tenant, or headers the local handler will refuse.
  struct WriteStart {
    Forwarder* forwarder = nullptr;
    std::string self;  // this broker's name in Via headers and warnings
    Call call;
    std::vector<RegistrationPtr> registrations;
    std::vector<std::string> via;  // the request's Via names
    ForwardContext fc;             // fc.client is the request
  };
  std::optional<WriteStart> StartWrite(const Request& req, const CallOptions& opts);
  // An entity payload's types (its "type" member: a name or an array of names), expanded
  // without adding names.
  std::vector<uint32_t> PayloadTypes(const boost::json::object& o, const Context& ctx) const;

  // Applies attributes to an entity version. Returns the names written and those refused.
  struct AttrOutcome {
    std::vector<uint32_t> updated;
    std::vector<std::pair<uint32_t, std::string>> not_updated;
  };
  enum class AttrMode { kAppend, kAppendNoOverwrite, kUpdateOnly, kMerge };
  static AttrOutcome ApplyAttributes(Entity& e, std::vector<Attribute> attrs, AttrMode mode, int64_t now);
  Response AttrOutcomeResponse(const AttrOutcome& out, const Call& call, const Context& ctx);

  Store& store_;
  ContextResolver& contexts_;
  Interner& names_;
  SubscriptionManager& subs_;
  SubscriptionManager* csource_subs_ = nullptr;  // context source registration subscriptions; null: 501
  RegistrationManager& registrations_;
  ApiOptions options_;
  std::mutex forwarding_mu_;
  Forwarder* forwarder_ = nullptr;  // guarded by forwarding_mu_
  std::string via_name_;            // guarded by forwarding_mu_
};

// Adds Link headers to the next (when `has_next`) and previous pages of a paged answer.
void AddPageLinks(const Request& req, Response& r, size_t offset, size_t limit, bool has_next);

}  // namespace citybed::broker
