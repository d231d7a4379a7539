// The broker's data model of an NGSI-LD entity, and its conversion from and to JSON.
//
// Names (attribute names, types, dataset ids) are stored expanded and interned (interner.h),
// so the store compares integers and a response can be compacted with any @context. Values are
// Boost.JSON values. System times are microseconds since the Unix epoch. A stored Entity is
// immutable: an update builds a new version (copy-on-write), so readers can render a snapshot
// without holding a lock.
//
// Input accepts the normalized and the concise forms (ETSI GS CIM 009 v1.8, 4.5); output
// renders normalized, concise or keyValues (simplified), with or without system attributes.
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/broker/context.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/json_writer.h"
#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
inline constexpr std::string_view kNullUri = "urn:ngsi-ld:null";

enum class AttrKind : uint8_t {
  kProperty,
  kRelationship,
  kGeoProperty,
  kLanguageProperty,
  kVocabProperty,
  kJsonProperty,
  kListProperty,
  kListRelationship,
};
std::string_view ToString(AttrKind kind);
// The member that holds an attribute's content: value, object, languageMap, vocab, json,
// valueList, objectList.
std::string_view ValueMember(AttrKind kind);

struct Attribute {
  uint32_t name = 0;        // interned expanded IRI
  AttrKind kind = AttrKind::kProperty;
  uint32_t dataset_id = 0;  // interned URI; 0 = the default instance
  uint32_t unit_code = 0;   // interned code as given; 0 = none
  int64_t observed_at = kNoTime;
  int64_t created_at = kNoTime;
  int64_t modified_at = kNoTime;
  uint32_t v2_type = 0;     // interned NGSI-v2 attribute (or metadata) type as written through
                            // /v2 ("Text", "geo:point", ...); 0 = derived from kind and value
  boost::json::value value;      // the content; for a VocabProperty expanded IRIs
  std::vector<Attribute> sub;    // sub-attributes (properties and relationships of this one)

  const Attribute* FindSub(uint32_t sub_name) const;
};

// A lazily filled, thread-safe cache of an immutable entity's most common rendering
// (normalized, core context, no system attributes): GET by id then costs a copy. Copying an
// Entity (to build its next version) starts with an empty cache.
class RenderCache {
 public:
  RenderCache() = default;
  RenderCache(const RenderCache&) {}
  RenderCache& operator=(const RenderCache&) {
    Clear();
    return *this;
  }
  ~RenderCache() { Clear(); }
  const std::string* Get() const { return text_.load(std::memory_order_acquire); }
  // Stores `text` unless another thread stored first; returns the stored text.
  const std::string* Set(std::string text) const;

 private:
  void Clear() { delete text_.exchange(nullptr); }
  mutable std::atomic<const std::string*> text_{nullptr};
};

struct Entity {
  std::string id;               // the store key and the NGSI-LD id
  std::string v2_id;            // NGSI-v2 id when it differs from `id` (ngsiv2_mapping.h); empty: same
  std::string service_path;     // NGSI-v2 Fiware-ServicePath the entity belongs to; empty: "/"
  std::vector<uint32_t> types;  // interned expanded IRIs, at least one
  int64_t created_at = kNoTime;
  int64_t modified_at = kNoTime;
  std::vector<Attribute> attrs;  // every instance of every attribute, in arrival order
  RenderCache rendered;          // see RenderCache; filled by RenderEntity
  RenderCache rendered_v2;       // the same for the NGSI-v2 normalized rendering (ngsiv2_entities.cc)

  const Attribute* Find(uint32_t name, uint32_t dataset_id = 0) const;
  Attribute* FindMutable(uint32_t name, uint32_t dataset_id);
  bool HasAttribute(uint32_t name) const;
  bool HasType(uint32_t type) const;
};
using EntityPtr = std::shared_ptr<const Entity>;

// Shared state needed to read and write payloads.
// The longest entity id accepted (it travels in Location headers and notification bodies).
inline constexpr size_t kMaxEntityIdLength = 2048;

struct Codec {
  Interner& names;
  const Context& context;
};

// True for a string that can be an entity id or another URI: a scheme, ':' and more.
bool IsUri(std::string_view s);
// True for a valid attribute name as the specification restricts them (no spaces, control
// characters or < > " ' = ; ( )).
bool IsValidName(std::string_view s);

// Parses one entity (normalized or concise). `require_type` is false for partial updates
// where the body carries only attributes. `now` stamps createdAt/modifiedAt of what it reads.
// The "@context" member, if any, is ignored here (the caller resolved it).
Expected<Entity, Problem> ParseEntity(const boost::json::object& body, const Codec& codec, int64_t now,
                                      bool require_id = true, bool require_type = true);
// Parses the attributes of a fragment {"attrName": attribute-or-array, ...}; skips "id",
// "type" and "@context". Used by the update, append and merge operations.
Expected<std::vector<Attribute>, Problem> ParseAttributes(const boost::json::object& body, const Codec& codec,
                                                          int64_t now);
// Parses one attribute (or an array of instances) named `name` (expanded id).
Expected<std::vector<Attribute>, Problem> ParseAttribute(uint32_t name, std::string_view display_name,
                                                         const boost::json::value& v, const Codec& codec,
                                                         int64_t now);

enum class Format { kNormalized, kConcise, kKeyValues };

struct RenderOptions {
  Format format = Format::kNormalized;
  bool sys_attrs = false;
  const std::vector<uint32_t>* only_attrs = nullptr;  // projection: render these names only
  std::vector<uint32_t> omit_attrs;                   // ... and not these (omit=, 4.21)
  bool omit_id = false, omit_type = false;            // pick= without them, or omit= of them
  std::string_view lang;                               // LanguageProperty: pick this language
  bool with_context = false;                           // add "@context" (application/ld+json)
};

// True when an attribute (or a sub-attribute) holds the NGSI-LD Null, which only partial
// updates and merges may carry (5.2.1).
bool ContainsNgsiLdNull(const Entity& e);

// Writes the entity as one JSON object.
void RenderEntity(JsonWriter& w, const Entity& e, const RenderOptions& opts, const Codec& codec);
// Writes one attribute (all its instances: an array when there are several).
void RenderAttributeInstances(JsonWriter& w, const std::vector<const Attribute*>& instances,
                              const RenderOptions& opts, const Codec& codec);
void RenderAttribute(JsonWriter& w, const Attribute& a, const RenderOptions& opts, const Codec& codec);
// "key": "<RFC 3339 time>", nothing when micros is kNoTime.
void WriteTimeMember(JsonWriter& w, std::string_view key, int64_t micros);
// The bare value of an attribute (its value/object/languageMap/vocab/json member), vocab terms compacted.
void RenderAttributeValue(JsonWriter& w, const Attribute& a, const Codec& codec);

// Builds the GeoJSON Feature of an entity (Accept: application/geo+json).
void RenderGeoJsonFeature(JsonWriter& w, const Entity& e, uint32_t geoproperty, const RenderOptions& opts,
                          const Codec& codec);

}  // namespace citybed::broker
