// Shared pieces of the NGSI-v2 API (private to citybed_broker): Orion's errors, the mapping
// between v2 payloads and the store's NGSI-LD model (ngsiv2_mapping.cc), and the handlers.
//
// The mapping, in short (docs/broker.md has the table):
//   id          a URI stays the NGSI-LD id; another id X is stored as urn:ngsi-v2:X (Entity::v2_id
//               keeps X). Two v2 entities may share an id (other type or service path): the
//               second gets a key with ";type=...;path=..." appended, found through the store's
//               alias index.
//   type, names expanded with the v2 @context (V2Options::context; the core context by default).
//   attribute   Property; geo:json/geo:point/geo:line/geo:box/geo:polygon -> GeoProperty
//               (GeoJSON); Relationship with a URI value -> Relationship; DateTime -> Property
//               whose value is {"@type": "DateTime", "@value": ...}; the v2 type is kept in
//               Attribute::v2_type when it is not the one derived from the value.
//   metadata    sub-properties; unitCode -> unitCode, observedAt (DateTime) -> observedAt.
//   builtins    dateCreated/dateModified <-> createdAt/modifiedAt; servicePath <-> Entity::service_path.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/broker/entity.h"
#include "citybed/broker/geo.h"
#include "citybed/broker/http_message.h"
#include "citybed/broker/ngsiv2_api.h"
#include "citybed/broker/query.h"
#include "citybed/broker/router.h"
#include "citybed/broker/store.h"
#include "citybed/broker/subscriptions.h"
#include "api_common.h"

namespace citybed::broker {

// Orion's error answer: {"error": <name>, "description": <text>}.
struct OrionError {
  int status = 400;
  std::string error = "BadRequest";
  std::string description;
};
Response OrionResponse(const OrionError& e);
OrionError V2BadRequest(std::string description);
OrionError V2EntityNotFound();     // 404 "The requested entity has not been found. Check type and id"
OrionError V2AttributeNotFound();  // 404 "The entity does not have such an attribute"
OrionError V2ParseError(std::string description);
// The store refused the write itself (a limit such as --max-attrs: 400 BadRequestData), as
// opposed to "no such entity": the answer gives its reason.
inline bool RefusedByStore(const Expected<Change, Problem>& change) {
  return !change && change.error().type == ErrorType::kBadRequestData;
}

namespace v2 {

inline constexpr std::string_view kIdPrefix = "urn:ngsi-v2:";
inline constexpr size_t kMaxNameLength = 256;

// --- names and validation ---------------------------------------------------------------

// Orion refuses these in ids, types, attribute and metadata names: the characters of
// ForbiddenValueChar, whitespace and control characters, and & ? / #.
bool ForbiddenNameChar(char c);
// ... and these in string values (unless the attribute is TextUnrestricted): < > " ' = ; ( ).
bool ForbiddenValueChar(char c);
// Empty when `s` is a valid identifier; else Orion's description of the problem. `what`:
// "entity id", "entity type", "attribute name", "metadata name", "attribute type", ...
std::string CheckIdentifier(std::string_view what, std::string_view s);

// The v2 face of a stored entity.
inline std::string_view V2Id(const Entity& e) { return e.v2_id.empty() ? std::string_view(e.id) : e.v2_id; }
inline std::string_view ServicePathOf(const Entity& e) {
  return e.service_path.empty() ? std::string_view("/") : std::string_view(e.service_path);
}
std::string_view V2Type(const Entity& e, const Codec& codec);
// The v2 type of an attribute (or metadata): Attribute::v2_type, else derived from its kind and value.
std::string V2AttrType(const Attribute& a, const Interner& names);

inline constexpr std::string_view kDateTimeType = "DateTime";
// A stored DateTime value: {"@type": "DateTime", "@value": "..."}.
bool IsDateTimeValue(const boost::json::value& v);

// 24 hexadecimal digits, like Orion's (MongoDB ObjectId) subscription and registration ids.
std::string NewObjectId();

// Formats microseconds as Orion renders DateTime: 2017-06-17T07:21:24.000Z.
std::string FormatDateTime(int64_t micros);

// --- service paths --------------------------------------------------------------------------

// A Fiware-ServicePath scope: exact paths and subtrees ("/a/#").
struct PathScope {
  struct Item {
    std::string path;  // normalised, without trailing "/" or "/#"
    bool subtree = false;
  };
  std::vector<Item> items;  // empty: everything ("/#")
  bool Contains(std::string_view entity_path) const;
  std::string Header() const;  // for rendering; "/#" when empty
};
// Parses the header of a query (a list of up to 10 paths, "/#" subtrees) or of a write
// (exactly one path without "#"). An absent header: all paths for reads, "/" for writes.
Expected<PathScope, OrionError> ParseServicePath(const Request& req, bool write);

// --- payloads -> the store's model ------------------------------------------------------------

// One attribute as a v2 request gave it.
struct V2Attr {
  Attribute attr;
  bool type_given = false;
  bool metadata_given = false;
};
// `key_values`: options=keyValues (a bare value per attribute).
Expected<V2Attr, OrionError> ParseAttr(std::string_view name, const boost::json::value& v, const Codec& codec,
                                       bool key_values, int64_t now);
// The attributes of an object; skips "id" and "type" when `entity_members` (else they are errors).
Expected<std::vector<V2Attr>, OrionError> ParseAttrs(const boost::json::object& o, const Codec& codec,
                                                     bool key_values, int64_t now, bool entity_members);
// A v2 value written with PUT /attrs/{attr}/value: JSON (application/json) or the text/plain
// forms (a number, true, false, null, or a "quoted string").
Expected<boost::json::value, OrionError> ParseTextValue(std::string_view body);
// The attribute written over `old` (nullptr: a new attribute): Orion keeps the old type when the
// request omits it, and merges metadata (keeps the old ones not given) unless
// `override_metadata`; "metadata": {} clears them.
Attribute MergeAttr(const Attribute* old, V2Attr incoming, bool override_metadata, const Interner& names,
                    int64_t now);
// Orion allows one geographical location per entity: an OrionError(413, NoResourcesAvailable)
// when an entity would have two.
std::optional<OrionError> CheckOneLocation(const Entity& e);
// True when the two versions of an attribute differ in type, value or metadata.
bool AttrChanged(const Attribute& a, const Attribute& b);

// --- the store's model -> v2 ----------------------------------------------------------------------

enum class RenderFormat { kNormalized, kKeyValues, kValues, kUnique };

// attrs= and metadata= of a request (or a subscription's notification.attrs/metadata).
struct Projection {
  bool all_attrs = true;                 // no attrs= or "*" among them
  std::vector<std::string> attr_names;   // as given, in order (values/unique follow it)
  std::vector<uint32_t> attrs;           // expanded, for the non-builtin names
  std::vector<uint32_t> except;          // exceptAttrs
  bool date_created = false, date_modified = false, date_expires = false, service_path = false,
       alteration_type = false;
  bool all_metadata = true;              // no metadata= or "*" among them
  std::vector<uint32_t> metadata;        // expanded user metadata names
  bool md_date_created = false, md_date_modified = false, md_action_type = false, md_previous_value = false;

  bool WantsAttr(uint32_t name) const;
};
Projection MakeProjection(const std::vector<std::string>& attrs, const std::vector<std::string>& metadata,
                          const Codec& codec);

// Extra attributes and metadata of a notification (Orion's builtins).
struct NotifyExtras {
  std::string_view alteration_type;                 // for the alterationType attribute
  const Entity* before = nullptr;                   // for previousValue and actionType
  const std::vector<uint32_t>* only = nullptr;      // onlyChangedAttrs: these attributes only
};

void RenderValue(JsonWriter& w, const Attribute& a, const Codec& codec);
void RenderAttr(JsonWriter& w, const Attribute& a, const Projection* p, const Codec& codec,
                const NotifyExtras* extras = nullptr, const Entity* entity = nullptr);
// An entity as an object (normalized, keyValues) or an array of values (values, unique).
// `with_id_type` false renders only the attributes (GET /attrs).
void RenderEntity(JsonWriter& w, const Entity& e, RenderFormat format, const Projection& p, const Codec& codec,
                  bool with_id_type = true, const NotifyExtras* extras = nullptr);

// --- request options ------------------------------------------------------------------------------

// options=... of a request; `allowed` lists the ones the operation takes (others: 400).
struct Options {
  bool key_values = false, values = false, unique = false, upsert = false, append = false, count = false,
       override_metadata = false, forced_update = false, no_attr_detail = false;
};
Expected<Options, OrionError> ReadOptions(const Request& req, std::initializer_list<std::string_view> allowed);
// attrs= / metadata= as a list (empty when absent).
std::vector<std::string> ListParam(const Request& req, std::string_view name);

// --- entity lookup ---------------------------------------------------------------------------------

// The NGSI-LD key a new v2 entity gets when its preferred key is free: the id itself when it is
// a URI, else urn:ngsi-v2:<id>.
std::string PreferredKey(std::string_view v2_id);
// Every stored entity whose v2 id is `v2_id`.
std::vector<EntityPtr> FindById(const Store& store, std::string_view tenant, std::string_view v2_id);

}  // namespace v2

// The handlers.
class NgsiV2Api::Impl {
 public:
  Impl(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
       RegistrationManager& registrations, V2Options options)
      : store_(store),
        contexts_(contexts),
        names_(names),
        subs_(subs),
        registrations_(registrations),
        options_(std::move(options)) {
    if (!options_.context) options_.context = contexts_.Core();
  }

  // What every handler reads first.
  struct Call {
    std::string tenant;
    v2::PathScope scope;
  };
  Expected<Call, OrionError> Prepare(const Request& req, bool write, bool has_body);
  // Accept: application/json (or */*); `text_ok` also text/plain (the /value operation).
  // Returns "application/json", "text/plain" or an error.
  Expected<std::string, OrionError> Negotiate(const Request& req, bool text_ok);
  Expected<boost::json::value, OrionError> ParseBody(const Request& req);
  // The body of /attrs operations: an object of attributes (keyValues or normalized).
  Expected<std::vector<v2::V2Attr>, OrionError> ParseAttrsBody(const Request& req, bool key_values, int64_t now);
  Codec MakeCodec() const { return Codec{names_, *options_.context}; }
  SubscriptionManager& subs() { return subs_; }
  const Context& context() const { return *options_.context; }
  Response Json(int status, std::string body) const;
  static Response NoContent();
  // The one entity a request names: id, optional type= and the service path scope. Errors:
  // 404 (none), 409 TooManyResults (several).
  Expected<EntityPtr, OrionError> FindOne(const Call& call, std::string_view id, const std::string* type);
  // Commits `fn` over the entity `target` (by store key) and notifies.
  void Notify(const std::string& tenant, const Change& change, const std::vector<uint32_t>& touched, bool forced) {
    subs_.OnChange(tenant, change, touched, ChangeHints{forced});
  }

  // Entities (ngsiv2_entities.cc).
  Response CreateEntity(Request& req, const PathParams& p);
  Response RetrieveEntity(Request& req, const PathParams& p);
  Response RetrieveAttrs(Request& req, const PathParams& p);
  Response DeleteEntity(Request& req, const PathParams& p);
  Response AppendAttrs(Request& req, const PathParams& p);   // POST /attrs
  Response UpdateAttrs(Request& req, const PathParams& p);   // PATCH /attrs
  Response WriteAttrsOf(Request& req, const PathParams& p, bool update_only);
  Response ReplaceAttrs(Request& req, const PathParams& p);  // PUT /attrs
  Response RetrieveAttr(Request& req, const PathParams& p);
  Response UpdateAttr(Request& req, const PathParams& p);    // PUT /attrs/{attr}
  Response DeleteAttr(Request& req, const PathParams& p);
  Response RetrieveValue(Request& req, const PathParams& p);
  Response UpdateValue(Request& req, const PathParams& p);
  // Queries, types (ngsiv2_query.cc).
  Response ListEntities(Request& req, const PathParams& p);
  Response QueryOp(Request& req, const PathParams& p);
  Response ListTypes(Request& req, const PathParams& p);
  Response RetrieveType(Request& req, const PathParams& p);
  // Batch (ngsiv2_batch.cc).
  Response UpdateOp(Request& req, const PathParams& p);
  // Subscriptions (ngsiv2_subscriptions.cc).
  // A subscription from its document, made under `call` (the service path header as given, or
  // null) with the id `id` (CreateSubscription and the durable store's restoration).
  Expected<std::shared_ptr<Subscription>, OrionError> BuildSubscription(const Call& call, const std::string* service_path,
                                                                       const boost::json::object& body, std::string id);
  std::string StoredSubscription(const Subscription& s) const;
  Response CreateSubscription(Request& req, const PathParams& p);
  Response ListSubscriptions(Request& req, const PathParams& p);
  Response RetrieveSubscription(Request& req, const PathParams& p);
  Response UpdateSubscription(Request& req, const PathParams& p);
  Response DeleteSubscription(Request& req, const PathParams& p);
  // Registrations (ngsiv2_registrations.cc): NGSI-LD context source registrations seen as v2.
  Response CreateRegistration(Request& req, const PathParams& p);
  Response ListRegistrations(Request& req, const PathParams& p);
  Response RetrieveRegistration(Request& req, const PathParams& p);
  Response UpdateRegistration(Request& req, const PathParams& p);
  Response DeleteRegistration(Request& req, const PathParams& p);
  void RenderRegistration(JsonWriter& w, const Registration& r) const;

  // Writes v2 attributes into an entity version. Returns the names written; `missing` gets
  // those that had to exist and did not, `existing` those that had not to exist and did.
  enum class WriteMode { kUpsert, kUpdateOnly, kAppendOnly };
  struct WriteOutcome {
    std::vector<uint32_t> written;
    std::vector<std::string> missing, existing;
  };
  WriteOutcome WriteAttrs(Entity& e, std::vector<v2::V2Attr> attrs, WriteMode mode, bool override_metadata,
                          int64_t now) const;
  // Creates an entity (422 Already Exists if its id, type and service path exist).
  Expected<Change, OrionError> Create(const std::string& tenant, Entity entity);

  // A parsed entity query (GET /v2/entities and POST /v2/op/query).
  struct EntityQuery {
    struct Selector {
      std::string id;
      PatternPtr id_regex;
      std::string type;  // as given; empty: any
      PatternPtr type_regex;
    };
    std::vector<Selector> selectors;  // any must match; empty: every entity
    std::optional<Query> q, mq;
    std::optional<GeoQuery> geo;
    GeoPoint near_point{0, 0};       // for orderBy=geo:distance
    bool has_near = false;
    std::vector<std::pair<std::string, bool>> order_by;  // (key, descending)
    std::vector<std::string> attrs, metadata;
    size_t limit = 20, offset = 0;
    bool count = false;
    v2::RenderFormat format = v2::RenderFormat::kNormalized;
  };
  Expected<void, OrionError> ReadListOptions(const Request& req, EntityQuery& q, bool allow_values);
  Expected<void, OrionError> ReadGeo(std::string_view georel, std::string_view geometry, std::string_view coords,
                                     EntityQuery& q);
  Response RunQuery(const Call& call, EntityQuery& q);
  // A listed page: the array of items [offset, offset + limit) of `total`, rendered by
  // `render(w, index)`, and Fiware-Total-Count with options=count.
  Response ListPage(const EntityQuery& paging, size_t total,
                    const std::function<void(JsonWriter&, size_t)>& render) const;

  Store& store_;
  ContextResolver& contexts_;
  Interner& names_;
  SubscriptionManager& subs_;
  RegistrationManager& registrations_;
  V2Options options_;
};

}  // namespace citybed::broker
