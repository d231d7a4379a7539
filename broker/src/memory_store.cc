// Not the umbrella boost/geometry.hpp: the index and the cartesian strategies it needs.
#include <boost/geometry/index/rtree.hpp>
#include <boost/geometry/algorithms/covered_by.hpp>
#include <boost/geometry/algorithms/intersects.hpp>
#include <boost/geometry/strategies/cartesian.hpp>
#include <boost/iterator/function_output_iterator.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "citybed/broker/store.h"
#include "citybed/common/string_hash.h"

namespace citybed::broker {
namespace {

namespace bgi = boost::geometry::index;

struct IdLess {
  bool operator()(const std::string* a, const std::string* b) const { return *a < *b; }
};
using IdSet = std::set<const std::string*, IdLess>;
using RTreeValue = std::pair<GeoBox, const std::string*>;
struct RTreeEqual {
  bool operator()(const RTreeValue& a, const RTreeValue& b) const {
    namespace bg = boost::geometry;
    return a.second == b.second && bg::get<bg::min_corner, 0>(a.first) == bg::get<bg::min_corner, 0>(b.first) &&
           bg::get<bg::min_corner, 1>(a.first) == bg::get<bg::min_corner, 1>(b.first) &&
           bg::get<bg::max_corner, 0>(a.first) == bg::get<bg::max_corner, 0>(b.first) &&
           bg::get<bg::max_corner, 1>(a.first) == bg::get<bg::max_corner, 1>(b.first);
  }
};
using RTree = bgi::rtree<RTreeValue, bgi::quadratic<16>, bgi::indexable<RTreeValue>, RTreeEqual>;

using citybed::StringHash;

struct Shard {
  mutable std::shared_mutex mu;
  std::unordered_map<std::string, EntityPtr, StringHash, std::equal_to<>> entities;
  std::unordered_map<uint32_t, IdSet> by_type;
  std::unordered_map<uint32_t, RTree> geo;  // GeoProperty name -> boxes of its values
};

struct Tenant {
  explicit Tenant(int n) : shards(static_cast<size_t>(n)) {}
  std::vector<Shard> shards;
  std::atomic<size_t> count{0};
  // NGSI-v2 id -> store key, for entities whose v2 id differs from their key. Locked after a
  // shard's lock (never before), so it cannot deadlock with a Mutate.
  mutable std::shared_mutex alias_mu;
  std::unordered_multimap<std::string, std::string, StringHash, std::equal_to<>> aliases;
  std::atomic<size_t> alias_count{0};  // lets FindAlias skip the lock when there is none
};

// The boxes of an entity's GeoProperty instances, by attribute name.
std::vector<std::pair<uint32_t, GeoBox>> GeoBoxes(const Entity& e) {
  std::vector<std::pair<uint32_t, GeoBox>> out;
  for (const Attribute& a : e.attrs) {
    if (a.kind != AttrKind::kGeoProperty) continue;
    auto g = ParseGeoJson(a.value);
    if (g) out.emplace_back(a.name, Envelope(*g));
  }
  return out;
}

bool SameGeo(const Entity& a, const Entity& b) {
  auto geo_of = [](const Entity& e) {
    std::vector<const Attribute*> v;
    for (const Attribute& x : e.attrs) if (x.kind == AttrKind::kGeoProperty) v.push_back(&x);
    return v;
  };
  auto ga = geo_of(a), gb = geo_of(b);
  if (ga.size() != gb.size()) return false;
  for (size_t i = 0; i < ga.size(); ++i) {
    if (ga[i]->name != gb[i]->name || ga[i]->dataset_id != gb[i]->dataset_id || ga[i]->value != gb[i]->value) {
      return false;
    }
  }
  return true;
}

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(int shards) : shard_count_(std::max(1, shards)) {}

  void LimitAttributes(size_t max) override { max_attrs_.store(max, std::memory_order_relaxed); }

  Expected<Change, Problem> Mutate(std::string_view tenant_name, const std::string& id,
                                   const Mutator& fn) override {
    Tenant* tenant = FindTenant(tenant_name);
    Change change;
    if (tenant == nullptr) {  // no tenant yet: only a creation can happen
      auto next = fn(nullptr);
      if (!next) return Unexpected(std::move(next).error());
      if (auto over = OverLimit(nullptr, *next)) return Unexpected(std::move(*over));
      if (*next == nullptr) return change;
      tenant = GetOrCreateTenant(tenant_name);
    }
    Shard& shard = tenant->shards[ShardOf(id)];
    std::unique_lock lock(shard.mu);
    auto it = shard.entities.find(id);
    EntityPtr current = it == shard.entities.end() ? nullptr : it->second;
    auto next = fn(current);
    if (!next) return Unexpected(std::move(next).error());
    if (auto over = OverLimit(current, *next)) return Unexpected(std::move(*over));
    change.before = current;
    change.after = *next;
    if (current == *next) return change;
    if (current && (*next == nullptr || current->v2_id != (*next)->v2_id) && !current->v2_id.empty()) {
      RemoveAlias(*tenant, current->v2_id, id);
    }
    if (*next && (current == nullptr || current->v2_id != (*next)->v2_id) && !(*next)->v2_id.empty()) {
      std::unique_lock alias_lock(tenant->alias_mu);
      tenant->aliases.emplace((*next)->v2_id, id);
      tenant->alias_count.fetch_add(1, std::memory_order_release);
    }
    if (*next == nullptr) {  // delete
      const std::string* key = &it->first;
      Unindex(shard, *current, key);
      shard.entities.erase(it);
      tenant->count.fetch_sub(1, std::memory_order_relaxed);
    } else if (current == nullptr) {  // create
      auto [ins, ok] = shard.entities.emplace(id, *next);
      Index(shard, **next, &ins->first);
      tenant->count.fetch_add(1, std::memory_order_relaxed);
    } else {  // replace
      const std::string* key = &it->first;
      const bool types_same = current->types == (*next)->types;
      const bool geo_same = SameGeo(*current, **next);
      if (!types_same || !geo_same) {
        Unindex(shard, *current, key, !types_same, !geo_same);
        Index(shard, **next, key, !types_same, !geo_same);
      }
      it->second = *next;
    }
    return change;
  }

  EntityPtr Get(std::string_view tenant_name, std::string_view id) const override {
    const Tenant* tenant = FindTenant(tenant_name);
    if (tenant == nullptr) return nullptr;
    const Shard& shard = tenant->shards[ShardOf(id)];
    std::shared_lock lock(shard.mu);
    auto it = shard.entities.find(id);
    return it == shard.entities.end() ? nullptr : it->second;
  }

  bool HasTenant(std::string_view tenant_name) const override { return FindTenant(tenant_name) != nullptr; }

  std::vector<std::string> Tenants() const override {
    std::shared_lock lock(tenants_mu_);
    std::vector<std::string> out;
    for (const auto& [name, t] : tenants_) out.push_back(name);
    return out;
  }

  size_t Count(std::string_view tenant_name) const override {
    const Tenant* tenant = FindTenant(tenant_name);
    return tenant == nullptr ? 0 : tenant->count.load(std::memory_order_relaxed);
  }

  void Scan(std::string_view tenant_name, const ScanFilter& filter,
            const std::function<bool(const EntityPtr&)>& visit) const override {
    const Tenant* tenant = FindTenant(tenant_name);
    if (tenant == nullptr) return;
    // Shared locks on every shard, always in index order: writers take one shard lock only,
    // so this cannot deadlock, and the scan sees one consistent state.
    std::vector<std::shared_lock<std::shared_mutex>> locks;
    locks.reserve(tenant->shards.size());
    for (const Shard& s : tenant->shards) locks.emplace_back(s.mu);

    auto type_ok = [&](const Entity& e) {
      if (filter.types.empty()) return true;
      for (uint32_t t : filter.types) if (e.HasType(t)) return true;
      return false;
    };

    if (!filter.ids.empty()) {
      std::vector<std::string> ids = filter.ids;
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (const std::string& id : ids) {
        const Shard& shard = tenant->shards[ShardOf(id)];
        auto it = shard.entities.find(id);
        if (it == shard.entities.end() || !type_ok(*it->second)) continue;
        if (!visit(it->second)) return;
      }
      return;
    }

    if (filter.use_box) {
      std::vector<std::pair<const std::string*, size_t>> hits;
      for (size_t i = 0; i < tenant->shards.size(); ++i) {
        const Shard& shard = tenant->shards[i];
        auto collect = [&](const RTree& tree) {
          tree.query(bgi::intersects(filter.box),
                     boost::make_function_output_iterator([&](const RTreeValue& v) { hits.emplace_back(v.second, i); }));
        };
        if (filter.geoproperty == 0) {  // any GeoProperty
          for (const auto& [name, tree] : shard.geo) collect(tree);
          continue;
        }
        auto g = shard.geo.find(filter.geoproperty);
        if (g == shard.geo.end()) continue;
        collect(g->second);
      }
      std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
      hits.erase(std::unique(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                 hits.end());
      for (const auto& [key, shard_index] : hits) {
        const Shard& shard = tenant->shards[shard_index];
        auto it = shard.entities.find(*key);
        if (it == shard.entities.end() || !type_ok(*it->second)) continue;
        if (!visit(it->second)) return;
      }
      return;
    }

    // Merge the per-shard, per-type ordered id sets into one ascending stream.
    struct Cursor {
      IdSet::const_iterator it, end;
      size_t shard;
    };
    std::vector<Cursor> cursors;
    for (size_t i = 0; i < tenant->shards.size(); ++i) {
      const Shard& shard = tenant->shards[i];
      if (filter.types.empty()) {
        for (const auto& [type, set] : shard.by_type) if (!set.empty()) cursors.push_back({set.begin(), set.end(), i});
      } else {
        for (uint32_t t : filter.types) {
          auto s = shard.by_type.find(t);
          if (s != shard.by_type.end() && !s->second.empty()) cursors.push_back({s->second.begin(), s->second.end(), i});
        }
      }
    }
    auto later = [&](size_t a, size_t b) { return *(*cursors[a].it) > *(*cursors[b].it); };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < cursors.size(); ++i) heap.push(i);
    const std::string* last = nullptr;
    while (!heap.empty()) {
      const size_t c = heap.top();
      heap.pop();
      const std::string* key = *cursors[c].it;
      const size_t shard_index = cursors[c].shard;
      if (++cursors[c].it != cursors[c].end) heap.push(c);
      if (key == last) continue;  // an entity with several types appears once
      last = key;
      const Shard& shard = tenant->shards[shard_index];
      auto it = shard.entities.find(*key);
      if (it == shard.entities.end()) continue;
      if (!visit(it->second)) return;
    }
  }

  std::vector<EntityPtr> FindAlias(std::string_view tenant_name, std::string_view alias) const override {
    const Tenant* tenant = FindTenant(tenant_name);
    if (tenant == nullptr || tenant->alias_count.load(std::memory_order_acquire) == 0) return {};
    std::vector<std::string> keys;
    {
      std::shared_lock lock(tenant->alias_mu);
      auto [b, e] = tenant->aliases.equal_range(alias);
      for (auto it = b; it != e; ++it) keys.push_back(it->second);
    }
    std::vector<EntityPtr> out;
    for (const std::string& k : keys) {
      if (EntityPtr e = Get(tenant_name, k); e && e->v2_id == alias) out.push_back(std::move(e));
    }
    return out;
  }

  bool HasAliases(std::string_view tenant_name) const override {
    const Tenant* tenant = FindTenant(tenant_name);
    return tenant != nullptr && tenant->alias_count.load(std::memory_order_acquire) > 0;
  }

  std::vector<std::pair<uint32_t, size_t>> TypeCounts(std::string_view tenant_name) const override {
    std::map<uint32_t, size_t> counts;
    const Tenant* tenant = FindTenant(tenant_name);
    if (tenant == nullptr) return {};
    for (const Shard& shard : tenant->shards) {
      std::shared_lock lock(shard.mu);
      for (const auto& [type, set] : shard.by_type) if (!set.empty()) counts[type] += set.size();
    }
    return {counts.begin(), counts.end()};
  }

 private:
  // A write that would leave the entity with more attribute instances than allowed, growing it.
  std::optional<Problem> OverLimit(const EntityPtr& current, const EntityPtr& next) const {
    const size_t max = max_attrs_.load(std::memory_order_relaxed);
    if (max == 0 || next == nullptr || next->attrs.size() <= max) return std::nullopt;
    if (current != nullptr && next->attrs.size() <= current->attrs.size()) return std::nullopt;
    return BadRequestData("an entity may hold at most " + std::to_string(max) +
                          " attribute instances (citybed broker --max-attrs); this write would leave " + next->id + " with " +
                          std::to_string(next->attrs.size()));
  }

  size_t ShardOf(std::string_view id) const { return std::hash<std::string_view>{}(id) % shard_count_; }

  const Tenant* FindTenant(std::string_view name) const {
    std::shared_lock lock(tenants_mu_);
    auto it = tenants_.find(name);
    return it == tenants_.end() ? nullptr : it->second.get();
  }
  Tenant* FindTenant(std::string_view name) {
    return const_cast<Tenant*>(static_cast<const MemoryStore*>(this)->FindTenant(name));
  }
  Tenant* GetOrCreateTenant(std::string_view name) {
    std::unique_lock lock(tenants_mu_);
    auto& slot = tenants_[std::string(name)];
    if (!slot) slot = std::make_unique<Tenant>(shard_count_);
    return slot.get();
  }

  static void RemoveAlias(Tenant& tenant, const std::string& alias, const std::string& key) {
    std::unique_lock lock(tenant.alias_mu);
    auto [b, e] = tenant.aliases.equal_range(alias);
    for (auto it = b; it != e; ++it) {
      if (it->second == key) {
        tenant.aliases.erase(it);
        tenant.alias_count.fetch_sub(1, std::memory_order_release);
        return;
      }
    }
  }

  void Index(Shard& shard, const Entity& e, const std::string* key, bool types = true, bool geo = true) {
    if (types) for (uint32_t t : e.types) shard.by_type[t].insert(key);
    if (geo) for (const auto& [name, box] : GeoBoxes(e)) shard.geo[name].insert({box, key});
  }

  void Unindex(Shard& shard, const Entity& e, const std::string* key, bool types = true, bool geo = true) {
    if (types) {
      for (uint32_t t : e.types) {
        auto it = shard.by_type.find(t);
        if (it != shard.by_type.end()) it->second.erase(key);
      }
    }
    if (geo) {
      for (const auto& [name, box] : GeoBoxes(e)) {
        auto it = shard.geo.find(name);
        if (it != shard.geo.end()) it->second.remove(RTreeValue{box, key});
      }
    }
  }

  const size_t shard_count_;
  std::atomic<size_t> max_attrs_{0};  // 0: no limit
  mutable std::shared_mutex tenants_mu_;
  std::unordered_map<std::string, std::unique_ptr<Tenant>, StringHash, std::equal_to<>> tenants_;
};

}  // namespace

std::unique_ptr<Store> MakeMemoryStore(Interner& names, int shards) {
  (void)names;  // names are interned by the codecs; the store compares ids only
  return std::make_unique<MemoryStore>(shards);
}

}  // namespace citybed::broker
