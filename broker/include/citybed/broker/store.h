// Store: where the broker keeps entities, per tenant. The interface is what the NGSI-LD
// operations need and no more, so a durable engine can replace the in-memory one later.
//
// Every write is one atomic read-modify-write of one entity (Mutate): the caller's mutator sees
// the current version and returns the next one; the store swaps it in and maintains its
// indexes. Versions are immutable (EntityPtr), so a reader keeps a consistent snapshot for as
// long as it holds the pointer. Scans visit entities in ascending id order, so pagination with
// offset/limit is stable.
//
// Thread-safe. The in-memory store shards entities by id hash; each shard has its own lock,
// type index (ordered id sets) and spatial index (Boost.Geometry R-trees per GeoProperty).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "citybed/broker/entity.h"
#include "citybed/broker/geo.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct ScanFilter {
  std::vector<uint32_t> types;   // entities having any of these types; empty: every type
  std::vector<std::string> ids;  // exactly these ids; empty: any id
  bool use_box = false;          // candidates whose GeoProperty `geoproperty` meets `box`
  GeoBox box;
  uint32_t geoproperty = 0;     // 0: any GeoProperty
};

// What a committed write did. before == null: created; after == null: deleted.
struct Change {
  EntityPtr before;
  EntityPtr after;
  bool changed() const { return before != after; }
};

class Store {
 public:
  // Returns the next version: the current pointer for "no change", nullptr to delete (or to
  // create nothing), or a Problem to abort. Runs under the entity's lock; must not call the store.
  // It may run more than once per Mutate (when the tenant is created concurrently), so it must
  // be a pure function of `current`.
  using Mutator = std::function<Expected<EntityPtr, Problem>(const EntityPtr& current)>;

  virtual ~Store() = default;
  // Creates the tenant on the first entity written to it.
  virtual Expected<Change, Problem> Mutate(std::string_view tenant, const std::string& id, const Mutator& fn) = 0;
  virtual EntityPtr Get(std::string_view tenant, std::string_view id) const = 0;
  virtual bool HasTenant(std::string_view tenant) const = 0;
  virtual std::vector<std::string> Tenants() const = 0;
  virtual size_t Count(std::string_view tenant) const = 0;
  // Visits candidates in ascending id order until `visit` returns false. A candidate matches
  // the filter's ids and types exactly; the box only narrows (the caller checks the geometry).
  virtual void Scan(std::string_view tenant, const ScanFilter& filter,
                    const std::function<bool(const EntityPtr&)>& visit) const = 0;
  // Entities whose NGSI-v2 id (Entity::v2_id) is `alias`: those whose v2 id differs from their
  // store key (ngsiv2_mapping.h). Entities with an empty v2_id are found by Get.
  virtual std::vector<EntityPtr> FindAlias(std::string_view tenant, std::string_view alias) const = 0;
  // Whether any entity of the tenant has a v2 id other than its key (FindAlias could find one).
  virtual bool HasAliases(std::string_view tenant) const = 0;
  // Entity types present in the tenant, with how many entities have each.
  virtual std::vector<std::pair<uint32_t, size_t>> TypeCounts(std::string_view tenant) const = 0;
  // Refuses (400 BadRequestData) a write that would leave an entity with more than `max`
  // attribute instances (0: no limit); an entity already beyond it may still shrink. Set once
  // the store is loaded, so that a lower limit never loses what is stored.
  virtual void LimitAttributes(size_t max) = 0;
};

std::unique_ptr<Store> MakeMemoryStore(Interner& names, int shards = 16);

}  // namespace citybed::broker
