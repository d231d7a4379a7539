// Context source registrations (ETSI GS CIM 009, 5.2.9, 5.9, 5.10, 4.3.6): what other context
// sources (brokers of other cities, adapters) say they can provide — entities by id, id
// pattern or type, attributes, an area — and which operations they accept, in which mode
// (inclusive, exclusive, redirect, auxiliary).
//
// Registrations are validated when created or patched and kept per tenant. Names are kept
// expanded, so a registration made with one @context is found by a query made with another, and
// rendered with the caller's. Distributed operations (forwarding a query to the registered
// sources) build on the matching here. Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "citybed/broker/pattern.h"
#include "citybed/broker/context.h"
#include "citybed/broker/entity.h"
#include "citybed/broker/geo.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/json_writer.h"
#include "citybed/broker/problem.h"

namespace citybed::broker {

struct RegisteredEntities {
  std::string id;          // "" : any
  std::string id_pattern;  // "" : any
  PatternPtr id_regex;
  uint32_t type = 0;       // expanded; required by the specification
};

struct RegistrationInfo {
  std::vector<RegisteredEntities> entities;  // empty: any entity
  std::vector<uint32_t> property_names;      // expanded
  std::vector<uint32_t> relationship_names;  // expanded
};

enum class RegistrationMode { kInclusive, kExclusive, kRedirect, kAuxiliary };
std::string_view ToString(RegistrationMode m);

struct Registration {
  std::string id;
  std::string tenant;
  std::vector<RegistrationInfo> information;
  std::string endpoint;
  RegistrationMode mode = RegistrationMode::kInclusive;
  std::vector<std::string> operations;  // as given (names and group names)
  std::vector<std::string> expanded_operations;  // groups replaced by their operations
  std::optional<Geometry> location;
  int64_t expires_at = kNoTime;
  int64_t created_at = kNoTime;
  int64_t modified_at = kNoTime;
  boost::json::object document;  // every member as given, names expanded (rendering compacts them)

  // How requests are forwarded to the source (4.3.6, 5.2.9, 5.2.34):
  std::string source_tenant;  // the "tenant" member: the source's tenant to address; "" = default
  std::vector<std::pair<std::string, std::string>> source_info;  // contextSourceInfo: sent as headers
  std::string alias;           // contextSourceAlias: the source's name in Via headers (loops)
  int64_t timeout_ms = 0;      // management.timeout; 0 = the broker's default
  int64_t cooldown_ms = 0;     // management.cooldown; 0 = the broker's default
  bool local_only = false;     // management.localOnly: ask the source for its own data only

  bool Allows(std::string_view operation) const;
  bool Expired(int64_t now) const { return expires_at != kNoTime && expires_at <= now; }
};
using RegistrationPtr = std::shared_ptr<const Registration>;

// The operation names of CIM 009 4.20 and the groups that stand for several of them.
const std::vector<std::string>& RegistrationOperations();
bool IsRegistrationOperationOrGroup(std::string_view name);

struct RegistrationFilter {
  std::vector<uint32_t> types;  // any of them (expanded)
  std::vector<std::string> ids;
  PatternPtr id_pattern;
  std::vector<uint32_t> attrs;  // any of them
};

class RegistrationManager {
 public:
  explicit RegistrationManager(Interner& names) : names_(names) {}

  // Errors: BadRequestData (invalid), AlreadyExists.
  Expected<std::string, Problem> Create(const std::string& tenant, const boost::json::object& body, const Context& ctx);
  // Merges the members of `patch` into the registration and validates the result.
  Expected<void, Problem> Update(const std::string& tenant, const std::string& id, const boost::json::object& patch,
                                 const Context& ctx);
  bool Delete(const std::string& tenant, const std::string& id);
  RegistrationPtr Get(const std::string& tenant, const std::string& id) const;
  // Ordered by id; expired ones are not listed.
  std::vector<RegistrationPtr> List(const std::string& tenant, const RegistrationFilter& filter) const;
  bool HasTenant(const std::string& tenant) const;
  size_t Count() const;
  // At most `max` registrations per tenant (0: no limit): Create beyond it answers 403; Restore
  // is not limited.
  void SetMaxPerTenant(size_t max) { max_per_tenant_ = max; }

  void Render(JsonWriter& w, const Registration& r, const Context& ctx, bool sys_attrs) const;

  // The durable store's hooks (durable_store.h): `observer` hears of every created, updated or
  // deleted registration (set once, before serving); Restore puts back a stored `document`
  // (names expanded, as Registration::document holds it) with its times, also when it has
  // expired since.
  using ChangeObserver = std::function<void(const std::string& tenant, const std::string& id)>;
  void SetObserver(ChangeObserver observer) { observer_ = std::move(observer); }
  Expected<void, Problem> Restore(const std::string& tenant, const boost::json::object& document, const Context& ctx,
                                  int64_t created_at, int64_t modified_at);
  // Context source registration subscriptions (5.11) hear of every change through `listener`
  // (set once, before serving): the version before (null: created) and after (null: deleted),
  // on the writer's thread after the change is committed. Restores are not changes.
  using ChangeListener = std::function<void(const std::string& tenant, const RegistrationPtr& before,
                                            const RegistrationPtr& after)>;
  void SetListener(ChangeListener listener) { listener_ = std::move(listener); }

 private:
  Expected<std::shared_ptr<Registration>, Problem> Parse(const boost::json::object& body, const Context& ctx) const;

  Interner& names_;
  std::atomic<size_t> max_per_tenant_{0};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::map<std::string, RegistrationPtr>> tenants_;
  std::atomic<uint64_t> next_id_{1};
  ChangeListener listener_;
  ChangeObserver observer_;
};

}  // namespace citybed::broker
