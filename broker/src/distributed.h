// Distributed operations (CIM 009 V1.9.1, 4.3.6, 5.7.1.4, 5.7.2.4, 6.3.17): which context
// source registrations a retrieve, a query or a write concerns, the requests forwarded to them,
// and how their answers merge with the local entities. Private to citybed_broker; the handlers in
// ngsild_entities.cc and ngsild_query.cc use it, and the Forwarder carries the requests.
//
// Rules (docs/federation.md explains them):
// - A registration concerns a request when it is of the request's tenant, allows the operation
//   (retrieveEntity, queryEntity), has not expired, and one of its RegistrationInfo can hold a
//   matching entity: a registered type among the asked types, a registered id among the asked
//   ids (or matched by the asked idPattern), a registered idPattern matching an asked id, a
//   registered attribute among the asked attrs, a registered location meeting the geo-query.
// - Loops: a registration whose source (contextSourceAlias, else the endpoint's host:port) is
//   already in the request's Via header is skipped with a 199 warning; a request whose Via
//   holds this broker's own name is answered from local data only.
// - The forwarded request keeps the client's filters (id, idPattern, q, geo-query, scopeQ),
//   narrows type and attrs to what the registration offers, asks for normalized entities with
//   system attributes (for the merge rule) and for offset + limit entities from the start, and
//   carries the client's @context Link, the registration's tenant, its contextSourceInfo as
//   headers and Via with this broker appended.
// - Query answers are the union in id order (every list is in id order), so pages are
//   consistent; the count is the sum of the sources' counts less the duplicates seen.
// - Merge (4.5.5): entities by id, types united; instances of an attribute by datasetId; for
//   the same instance the most recent observedAt wins, then the most recent modifiedAt, then
//   the local one or the earlier registration (by id). An auxiliary registration adds only
//   attributes no other source has.
// - Failures (6.3.17): no answer in time, a cooled-down source or a loop → 199; an answer that
//   is not NGSI-LD → 111; an error status (other than 404) → 299. The answer keeps what the
//   other sources gave and carries one NGSILD-Warning header per failure: never a 5xx.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "citybed/broker/entity.h"
#include "citybed/broker/forwarder.h"
#include "citybed/broker/geo.h"
#include "citybed/broker/http_message.h"
#include "citybed/broker/pattern.h"
#include "citybed/broker/registrations.h"

namespace citybed::broker {

// What a request asks for, to match registrations (names expanded).
struct DistributedAsk {
  std::string operation;          // "retrieveEntity" or "queryEntity"
  std::vector<uint32_t> types;    // any of them; empty: any type
  std::vector<std::string> ids;   // any of them; empty: any id
  const Pattern* id_pattern = nullptr;
  std::vector<uint32_t> attrs;    // any of them; empty: every attribute
  const GeoQuery* geo = nullptr;
};

// A registration the request concerns, and what to ask it for.
struct SourcePlan {
  RegistrationPtr reg;
  bool types_restricted = false;  // ask for `types` instead of the client's type selection
  std::vector<uint32_t> types;
  bool attrs_restricted = false;  // ask for `attrs` instead of the client's attrs
  std::vector<uint32_t> attrs;
  std::vector<std::string> ids;   // registered ids to ask for (when every matching info names them)
};

struct ForwardWarning {
  int code = 199;        // 6.3.17: 110, 111, 199, 299
  std::string agent;     // the source: its alias or host:port
  std::string text;
  std::string passed_on{};  // a warning a source's answer carried (its own sources' failures), as it came
  std::string Header() const;  // warn-code SP warn-agent SP quoted warn-text (RFC 7234 5.5)
};
// At most this many NGSILD-Warning fields in one answer; beyond, one more says how many were
// left out (a hub over a hundred failing regions must not write headers its clients refuse).
inline constexpr size_t kMaxWarnings = 24;
// At most this many brokers on a request's path (Via): a request that has passed more is
// answered from local data, with a 199 warning. Via stops cycles; this bounds the paths of a
// dense mesh, where a request could otherwise take every simple path between its brokers.
inline constexpr size_t kMaxHops = 8;

// Why a request must not be forwarded further, when it must not: this broker (`self`) is on its
// path already (a loop of registrations, 4.3.6.4), or the path holds kMaxHops brokers.
std::optional<ForwardWarning> PathStop(const std::vector<std::string>& via, const std::string& self);

// The received-by names of a Via header ("1.1 a, 1.1 b" -> {"a", "b"}).
std::vector<std::string> ViaNames(std::string_view via);
// A registration's name in Via headers and warnings: contextSourceAlias, else host:port.
std::string SourceName(const Registration& r);

// The registrations `ask` concerns, in the order sources are merged (by id, auxiliary last);
// loop-skipped ones become warnings.
std::vector<SourcePlan> PlanSources(const std::vector<RegistrationPtr>& registrations, const DistributedAsk& ask,
                                    const std::vector<std::string>& via, int64_t now,
                                    std::vector<ForwardWarning>& warnings);

// Distributed provision (4.3.6.2, 4.3.6.3, 5.6): which registrations a write concerns and how
// its attributes split between them and this broker.
// - A registration concerns a write when it is of the tenant, allows the operation (its
//   `operations`: redirectionOps, updateOps or the operation's name), has not expired, is not
//   auxiliary (auxiliary sources are read from, never written to), and one RegistrationInfo
//   matches the entity (a registered id, id pattern or type of it — by id alone when the
//   entity's type is unknown here) and covers attributes of the write (its propertyNames and
//   relationshipNames; none named: every attribute). A delete of the entity concerns every
//   registration of the entity, whatever attributes it names.
// - inclusive: the covered attributes are forwarded and written here as well; exclusive and
//   redirect: forwarded, and not written here. A registration of the whole entity in one of
//   these modes, or proxied registrations covering every attribute of the write, leave
//   nothing to do here. Such a registration that does not accept the operation refuses its
//   part (WriteSplit::refused); an inclusive one that does not is left out.
struct WriteAsk {
  std::string operation;        // the 4.20 name: createEntity, appendAttrs, deleteEntity, ...
  std::string id;
  std::vector<uint32_t> types;  // the entity's types; empty: unknown here (matched by id only)
  std::vector<uint32_t> attrs;  // the attributes the write names (expanded)
  bool whole_entity = false;    // deleteEntity: registrations of any attribute of the entity concern it
};
struct WriteTarget {
  RegistrationPtr reg;
  bool every_attr = false;      // the registration covers every attribute of the entity
  std::vector<uint32_t> attrs;  // the attributes of the write it covers
};
struct WriteSplit {
  std::vector<WriteTarget> targets;  // by registration id
  // Exclusive or redirect registrations of what the write names that do not accept its
  // operation: the data is theirs, so it is written nowhere, and the write fails for that part.
  std::vector<WriteTarget> refused;
  bool local = true;                 // also written here
  std::vector<uint32_t> removed;     // attributes not written here (exclusive, redirect)
};
WriteSplit PlanWrite(const std::vector<RegistrationPtr>& registrations, const WriteAsk& ask,
                     const std::vector<std::string>& via, int64_t now, std::vector<ForwardWarning>& warnings);

// Members of an entity payload that are not attributes (id, type, @context, scope, the system
// times): a narrowed payload keeps them.
bool IsEntityMember(std::string_view key);
// The payload with the entity members and the attributes `keep` accepts.
boost::json::object NarrowedPayload(const boost::json::object& body, const std::function<bool(std::string_view)>& keep);
// The ProblemDetails of an error answer: the body when it is one, else one made from the status
// (404 ResourceNotFound, 409 AlreadyExists, 400 BadRequestData, 422 OperationNotSupported,
// else InternalError), its detail naming `who`.
boost::json::object AnswerProblem(int status, const std::string& body, const std::string& who);
boost::json::object ProblemObject(const Problem& p);

// The common part of forwarded requests.
struct ForwardContext {
  const Request* client = nullptr;  // its query parameters and headers
  std::string link;                 // the client's @context as a Link header value
  std::string via;                  // the Via value to send (incoming + this broker)
  std::chrono::milliseconds default_timeout{3000};
  std::chrono::milliseconds default_cooldown{5000};
};

// A failed forwarded request as a warning (199: no answer, 299: an error status) and as the
// ProblemDetails of its part (the source's own, else 504 for a timeout, 502 otherwise).
ForwardWarning OutcomeWarning(const ForwardOutcome& o, const Registration& r);
boost::json::object OutcomeProblem(const ForwardOutcome& o, const Registration& r);
// The part of a write an exclusive or redirect registration holds but does not accept (409).
boost::json::object RefusedProblem(const Registration& r, std::string_view operation);

// The URL a request is forwarded to as it is: the source's API root, the request's path after
// its API root, the client's query but `local`, and local=true when the registration's
// management.localOnly asks for the source's own data only.
std::string ForwardedTarget(const Request& req, const Registration& r);

// A request to `r`'s source with the headers every forwarded request carries (Accept, the
// client's @context Link when there is one, the registration's tenant and contextSourceInfo,
// Via), its deadline and cool-down.
ForwardRequest BaseForward(const Registration& r, const ForwardContext& fc, std::string url);
// The source's NGSI-LD API root: its endpoint followed by /ngsi-ld/v1.
std::string ApiRoot(const std::string& endpoint);

// GET {endpoint}/ngsi-ld/v1/entities?... for a query: the first `want` entities (limit capped
// at `max_limit`), with count.
ForwardRequest QueryForward(const SourcePlan& plan, const ForwardContext& fc, Interner& names, const Context& ctx,
                            size_t want, size_t max_limit);
// GET {endpoint}/ngsi-ld/v1/entities/{id}?... for a retrieve.
ForwardRequest RetrieveForward(const SourcePlan& plan, const ForwardContext& fc, Interner& names,
                               const Context& ctx, const std::string& id);

// Reads a source's answer: entities (one object for a retrieve, an array for a query) parsed
// with the client's context, their system times kept; the warnings the source's answer carried
// are passed on (a block's failed regions reach the hub's client). Returns false with a warning when the
// answer is a failure; a 404 to a retrieve is an empty, valid answer.
bool ReadSourceAnswer(const SourcePlan& plan, const ForwardOutcome& outcome, bool single, const Codec& codec,
                      std::vector<Entity>& entities, std::vector<ForwardWarning>& warnings);

// A POST query's body (6.23.3.1, the Query data type 5.2.23) as the parameters of the
// equivalent GET /entities, which is what a forwarded query sends (QueryForward copies the
// client's parameters). Terms stay as the client wrote them: the forwarded request names the
// same @context. Returns the reason instead when there is no exact GET form.
Expected<std::vector<std::pair<std::string, std::string>>, std::string> QueryBodyAsParams(const boost::json::object& o);

// Merges `from` into `into` (same id) by the rules above; `auxiliary` adds missing attributes only.
void MergeSourceEntity(Entity& into, const Entity& from, bool auxiliary);

// Citybed-Forwarded: sources=<asked>, answered=<answered>, bytes=<received> (docs/federation.md).
void AddForwardedHeader(Response& r, const std::vector<ForwardOutcome>& outcomes);

void AddWarnings(Response& r, const std::vector<ForwardWarning>& warnings, std::string_view self);

inline bool HasId(const std::vector<uint32_t>& v, uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }
inline void AddUniqueId(std::vector<uint32_t>& v, uint32_t x) {
  if (!HasId(v, x)) v.push_back(x);
}

// A part of a distributed write that succeeded: any 2xx but 207 (a partial success).
inline bool WholeSuccess(int status) { return status >= 200 && status < 300 && status != 207; }

// A response that waits for context sources: when the server asks for the answer, `requests`
// are sent through `forwarder`, and the answer is what `finish` makes of their outcomes (in the
// requests' order), with the Citybed-Forwarded header added.
Response AfterSources(Forwarder* forwarder, std::vector<ForwardRequest> requests,
                      std::function<Response(std::vector<ForwardOutcome>&)> finish);

}  // namespace citybed::broker
