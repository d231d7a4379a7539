// NgsiLdApi: the NGSI-LD operations of ETSI GS CIM 009 (V1.9.1) over HTTP, as router handlers:
//   /ngsi-ld/v1/entities[/{id}[/attrs[/{attr}]]]        create, retrieve, query, update, append,
//                                                        partial update, replace, merge, delete
//   /ngsi-ld/v1/entityOperations/{create,upsert,update,delete,query}
//   /ngsi-ld/v1/types[/{type}], /ngsi-ld/v1/attributes[/{attr}]
//   /ngsi-ld/v1/subscriptions[/{id}]
//   /ngsi-ld/v1/csourceRegistrations[/{id}]               context source registrations
//   /ngsi-ld/v1/jsonldContexts[/{id}]                      @context hosting
// With forwarding enabled, retrieve and query are distributed operations (4.3.6): they reach
// the registered context sources and merge their answers (distributed.h).
// Every handler negotiates content (Content-Type, Accept, Link, @context), resolves the tenant
// (NGSILD-Tenant), and answers errors as application/problem+json. Stateless itself; all state
// is in the Store and the SubscriptionManager. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "citybed/broker/context.h"
#include "citybed/broker/forwarder.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/registrations.h"
#include "citybed/broker/router.h"
#include "citybed/broker/store.h"
#include "citybed/broker/subscriptions.h"

namespace citybed::broker {

struct ApiOptions {
  size_t default_limit = 20;    // results per page when `limit` is absent
  size_t max_limit = 1000;      // a larger `limit` is refused with 403 TooManyResults
  size_t max_batch = 10000;     // entities per batch operation
  // Distributed operations (docs/federation.md): what a registration's management member does
  // not set. A source that fails is not asked again for `forward_cooldown`.
  std::chrono::milliseconds forward_timeout{3000};
  std::chrono::milliseconds forward_cooldown{5000};
};

class NgsiLdApi {
 public:
  // `csource_subs` holds context source registration subscriptions (/csourceSubscriptions,
  // 5.11; null: those answer 501).
  NgsiLdApi(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
            RegistrationManager& registrations, ApiOptions options = {}, SubscriptionManager* csource_subs = nullptr);
  void Register(Router& router);
  // Retrieve and query forward to the registered context sources through `forwarder` (which
  // must outlive the API's use); `via_name` is this broker's name in Via headers. Without this
  // call, registrations are stored and listed but nothing is forwarded. Thread-safe.
  void EnableForwarding(Forwarder* forwarder, std::string via_name);

  class Impl;  // defined in src/ngsild_internal.h, private to the broker target

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace citybed::broker
