#include "citybed/broker/entity.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "citybed/broker/geo.h"
#include "citybed/common/strings.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 8;


bool KindFromString(std::string_view s, AttrKind& kind) {
  static constexpr std::pair<std::string_view, AttrKind> kKinds[] = {
      {"Property", AttrKind::kProperty},           {"Relationship", AttrKind::kRelationship},
      {"GeoProperty", AttrKind::kGeoProperty},     {"LanguageProperty", AttrKind::kLanguageProperty},
      {"VocabProperty", AttrKind::kVocabProperty}, {"JsonProperty", AttrKind::kJsonProperty},
      {"ListProperty", AttrKind::kListProperty},   {"ListRelationship", AttrKind::kListRelationship},
  };
  for (const auto& [name, k] : kKinds) {
    if (s == name) {
      kind = k;
      return true;
    }
  }
  return false;
}

// Members of an attribute object that are not sub-attributes.
bool IsAttributeMember(std::string_view key) {
  return key == "type" || key == "value" || key == "object" || key == "languageMap" || key == "vocab" ||
         key == "json" || key == "valueList" || key == "objectList" || key == "observedAt" || key == "unitCode" ||
         key == "datasetId" || key == "createdAt" || key == "modifiedAt" || key == "instanceId" ||
         key == "@context" || key == "lang" || key == "objectType" || key == "previousValue";
}

bool IsGeoJsonGeometry(const json::value& v) {
  if (!v.is_object()) return false;
  const json::value* t = v.get_object().if_contains("type");
  if (t == nullptr || !t->is_string() || !v.get_object().contains("coordinates")) return false;
  const std::string_view s = t->get_string();
  return s == "Point" || s == "LineString" || s == "Polygon" || s == "MultiPoint" || s == "MultiLineString" ||
         s == "MultiPolygon";
}

Expected<Attribute, Problem> ParseOne(uint32_t name, std::string_view display, const json::value& v,
                                      const Codec& codec, int64_t now, int depth);

Expected<void, Problem> ParseSubAttributes(Attribute& a, const json::object& o, const Codec& codec, int64_t now,
                                           int depth) {
  for (const auto& kv : o) {
    const std::string_view key = kv.key();
    if (IsAttributeMember(key)) continue;
    if (!IsValidName(key)) return Unexpected(BadRequestData("invalid sub-attribute name \"" + std::string(key) + "\""));
    const uint32_t sub_name = codec.context.ExpandToId(key, codec.names);
    auto sub = ParseOne(sub_name, key, kv.value(), codec, now, depth + 1);
    if (!sub) return Unexpected(std::move(sub).error());
    a.sub.push_back(std::move(*sub));
  }
  return {};
}

Expected<void, Problem> ParseCommonMembers(Attribute& a, const json::object& o, std::string_view display,
                                           const Codec& codec) {
  if (const json::value* obs = o.if_contains("observedAt")) {
    if (!obs->is_string()) return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\": observedAt must be a date-time string"));
    auto t = ParseRfc3339Micros(obs->get_string());
    if (!t) return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\": observedAt " + t.error().message));
    a.observed_at = *t;
  }
  if (const json::value* unit = o.if_contains("unitCode")) {
    if (!unit->is_string()) return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\": unitCode must be a string"));
    a.unit_code = codec.names.Intern(unit->get_string());
  }
  if (const json::value* ds = o.if_contains("datasetId")) {
    if (!ds->is_string() || !IsUri(ds->get_string())) {
      return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\": datasetId must be a URI"));
    }
    a.dataset_id = codec.names.Intern(ds->get_string());
  }
  return {};
}

Expected<Attribute, Problem> ParseOne(uint32_t name, std::string_view display, const json::value& v,
                                      const Codec& codec, int64_t now, int depth) {
  if (depth > kMaxDepth) return Unexpected(BadRequestData("attributes are nested deeper than 8 levels"));
  Attribute a;
  a.name = name;
  a.created_at = now;
  a.modified_at = now;
  const std::string where = "attribute \"" + std::string(display) + "\"";
  if (!v.is_object() || IsGeoJsonGeometry(v)) {
    // Concise form: a bare value (or a bare GeoJSON geometry for a GeoProperty).
    if (v.is_null()) return Unexpected(BadRequestData(where + " has a null value"));
    a.kind = IsGeoJsonGeometry(v) ? AttrKind::kGeoProperty : AttrKind::kProperty;
    if (a.kind == AttrKind::kGeoProperty) {
      auto g = ParseGeoJson(v);
      if (!g) return Unexpected(BadRequestData(where + ": " + g.error()));
    }
    a.value = v;
    return a;
  }
  const json::object& o = v.get_object();
  const json::value* type = o.if_contains("type");
  if (type != nullptr) {
    if (!type->is_string() || !KindFromString(type->get_string(), a.kind)) {
      return Unexpected(BadRequestData(where + " has an unknown type (use Property, Relationship, GeoProperty, "
                                    "LanguageProperty, VocabProperty, JsonProperty, ListProperty or ListRelationship)"));
    }
  } else if (o.contains("object")) {
    a.kind = AttrKind::kRelationship;
  } else if (o.contains("languageMap")) {
    a.kind = AttrKind::kLanguageProperty;
  } else if (o.contains("vocab")) {
    a.kind = AttrKind::kVocabProperty;
  } else if (o.contains("json")) {
    a.kind = AttrKind::kJsonProperty;
  } else if (o.contains("valueList")) {
    a.kind = AttrKind::kListProperty;
  } else if (o.contains("objectList")) {
    a.kind = AttrKind::kListRelationship;
  } else if (o.contains("value")) {
    a.kind = IsGeoJsonGeometry(o.at("value")) ? AttrKind::kGeoProperty : AttrKind::kProperty;
  } else {
    // Concise: a JSON object value with no NGSI-LD member is the value itself.
    a.kind = AttrKind::kProperty;
    a.value = v;
    return a;
  }
  const std::string_view member = ValueMember(a.kind);
  const json::value* content = o.if_contains(member);
  if (content == nullptr || content->is_null()) {
    return Unexpected(BadRequestData(where + " (" + std::string(ToString(a.kind)) + ") needs a non-null \"" +
                          std::string(member) + "\" member"));
  }
  switch (a.kind) {
    case AttrKind::kRelationship:
      if (content->is_string()) {
        if (!IsUri(content->get_string())) return Unexpected(BadRequestData(where + ": object must be a URI"));
      } else if (content->is_array()) {
        for (const auto& e : content->get_array()) {
          if (!e.is_string() || !IsUri(e.get_string())) return Unexpected(BadRequestData(where + ": object must be a URI"));
        }
      } else {
        return Unexpected(BadRequestData(where + ": object must be a URI"));
      }
      break;
    case AttrKind::kGeoProperty: {
      auto g = ParseGeoJson(*content);
      if (!g) return Unexpected(BadRequestData(where + ": " + g.error()));
      break;
    }
    case AttrKind::kLanguageProperty:
      if (!content->is_object()) return Unexpected(BadRequestData(where + ": languageMap must be an object"));
      for (const auto& kv : content->get_object()) {
        if (!kv.value().is_string() && !kv.value().is_array()) {
          return Unexpected(BadRequestData(where + ": languageMap values must be strings"));
        }
      }
      break;
    case AttrKind::kVocabProperty: {
      auto expand = [&](const json::value& e) -> Expected<json::value, Problem> {
        if (!e.is_string()) return Unexpected(BadRequestData(where + ": vocab must be a string or an array of strings"));
        return json::value(codec.context.Expand(e.get_string()));
      };
      if (content->is_array()) {
        json::array arr;
        for (const auto& e : content->get_array()) {
          auto x = expand(e);
          if (!x) return Unexpected(x.error());
          arr.push_back(std::move(*x));
        }
        a.value = std::move(arr);
      } else {
        auto x = expand(*content);
        if (!x) return Unexpected(x.error());
        a.value = std::move(*x);
      }
      break;
    }
    case AttrKind::kListProperty:
    case AttrKind::kListRelationship:
      if (!content->is_array()) return Unexpected(BadRequestData(where + ": " + std::string(member) + " must be an array"));
      break;
    default:
      break;
  }
  if (a.kind != AttrKind::kVocabProperty) a.value = *content;
  auto common = ParseCommonMembers(a, o, display, codec);
  if (!common) return Unexpected(std::move(common).error());
  auto sub = ParseSubAttributes(a, o, codec, now, depth);
  if (!sub) return Unexpected(std::move(sub).error());
  return a;
}

}  // namespace

std::string_view ToString(AttrKind kind) {
  switch (kind) {
    case AttrKind::kProperty: return "Property";
    case AttrKind::kRelationship: return "Relationship";
    case AttrKind::kGeoProperty: return "GeoProperty";
    case AttrKind::kLanguageProperty: return "LanguageProperty";
    case AttrKind::kVocabProperty: return "VocabProperty";
    case AttrKind::kJsonProperty: return "JsonProperty";
    case AttrKind::kListProperty: return "ListProperty";
    case AttrKind::kListRelationship: return "ListRelationship";
  }
  return "Property";
}

std::string_view ValueMember(AttrKind kind) {
  switch (kind) {
    case AttrKind::kRelationship: return "object";
    case AttrKind::kLanguageProperty: return "languageMap";
    case AttrKind::kVocabProperty: return "vocab";
    case AttrKind::kJsonProperty: return "json";
    case AttrKind::kListProperty: return "valueList";
    case AttrKind::kListRelationship: return "objectList";
    default: return "value";
  }
}

const Attribute* Attribute::FindSub(uint32_t sub_name) const {
  for (const Attribute& s : sub) {
    if (s.name == sub_name) return &s;
  }
  return nullptr;
}

const Attribute* Entity::Find(uint32_t name, uint32_t dataset_id) const {
  for (const Attribute& a : attrs) {
    if (a.name == name && a.dataset_id == dataset_id) return &a;
  }
  return nullptr;
}

Attribute* Entity::FindMutable(uint32_t name, uint32_t dataset_id) {
  for (Attribute& a : attrs) {
    if (a.name == name && a.dataset_id == dataset_id) return &a;
  }
  return nullptr;
}

bool Entity::HasAttribute(uint32_t name) const {
  for (const Attribute& a : attrs) {
    if (a.name == name) return true;
  }
  return false;
}

bool Entity::HasType(uint32_t type) const {
  for (uint32_t t : types) {
    if (t == type) return true;
  }
  return false;
}

bool IsUri(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  for (unsigned char c : s) {
    if (c <= 0x20 || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' || c == '|' || c == '\\' ||
        c == '^' || c == '`' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 1024) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\'' || c == '=' || c == ';' ||
        c == '(' || c == ')') {
      return false;
    }
  }
  return true;
}

Expected<std::vector<Attribute>, Problem> ParseAttribute(uint32_t name, std::string_view display,
                                                         const json::value& v, const Codec& codec, int64_t now) {
  std::vector<Attribute> out;
  if (v.is_array() && !v.get_array().empty() && v.get_array()[0].is_object() &&
      !IsGeoJsonGeometry(v.get_array()[0])) {
    // A multi-attribute: one object per instance, told apart by datasetId.
    for (const auto& instance : v.get_array()) {
      if (!instance.is_object()) {
        return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\": every instance must be an object"));
      }
      auto a = ParseOne(name, display, instance, codec, now, 0);
      if (!a) return Unexpected(std::move(a).error());
      for (const Attribute& prev : out) {
        if (prev.dataset_id == a->dataset_id) {
          return Unexpected(BadRequestData("attribute \"" + std::string(display) + "\" has two instances with the same datasetId"));
        }
      }
      out.push_back(std::move(*a));
    }
    return out;
  }
  auto a = ParseOne(name, display, v, codec, now, 0);
  if (!a) return Unexpected(std::move(a).error());
  out.push_back(std::move(*a));
  return out;
}

Expected<std::vector<Attribute>, Problem> ParseAttributes(const json::object& body, const Codec& codec, int64_t now) {
  std::vector<Attribute> attrs;
  attrs.reserve(body.size());
  for (const auto& kv : body) {
    const std::string_view key = kv.key();
    if (key == "id" || key == "type" || key == "@context" || key == "createdAt" || key == "modifiedAt" ||
        key == "scope") {
      continue;
    }
    if (!IsValidName(key)) return Unexpected(BadRequestData("invalid attribute name \"" + std::string(key) + "\""));
    const uint32_t name = codec.context.ExpandToId(key, codec.names);
    auto parsed = ParseAttribute(name, key, kv.value(), codec, now);
    if (!parsed) return Unexpected(std::move(parsed).error());
    for (Attribute& a : *parsed) attrs.push_back(std::move(a));
  }
  return attrs;
}

namespace {
bool HoldsNull(const Attribute& a) {
  if (a.value.is_string() && a.value.get_string() == kNullUri) return true;
  for (const Attribute& s : a.sub) {
    if (HoldsNull(s)) return true;
  }
  return false;
}
}  // namespace

bool ContainsNgsiLdNull(const Entity& e) {
  for (const Attribute& a : e.attrs) {
    if (HoldsNull(a)) return true;
  }
  return false;
}

namespace {
Expected<Entity, Problem> ParseEntityBody(const json::object& body, const Codec& codec, int64_t now, bool require_id,
                                          bool require_type);
}  // namespace

// A name the tenant may not add (the name table's quota, interner.h) refuses this entity only:
// in a batch, the others go on.
Expected<Entity, Problem> ParseEntity(const json::object& body, const Codec& codec, int64_t now, bool require_id,
                                      bool require_type) {
  try {
    return ParseEntityBody(body, codec, now, require_id, require_type);
  } catch (const ProblemError& e) {
    return Unexpected(e.problem());
  }
}

namespace {
Expected<Entity, Problem> ParseEntityBody(const json::object& body, const Codec& codec, int64_t now, bool require_id,
                                          bool require_type) {
  Entity e;
  e.created_at = now;
  e.modified_at = now;
  const json::value* id = body.if_contains("id");
  if (id == nullptr) id = body.if_contains("@id");
  if (id != nullptr) {
    if (!id->is_string() || !IsUri(id->get_string())) {
      return Unexpected(BadRequestData("entity id must be a URI, e.g. urn:ngsi-ld:Vehicle:A4567"));
    }
    if (id->get_string().size() > kMaxEntityIdLength) {
      return Unexpected(BadRequestData("entity id longer than " + std::to_string(kMaxEntityIdLength) + " characters"));
    }
    e.id = std::string(id->get_string());
  } else if (require_id) {
    return Unexpected(BadRequestData("entity has no id"));
  }
  const json::value* type = body.if_contains("type");
  if (type == nullptr) type = body.if_contains("@type");
  if (type != nullptr) {
    auto add = [&](const json::value& t) -> bool {
      if (!t.is_string() || !IsValidName(t.get_string())) return false;
      const uint32_t tid = codec.context.ExpandToId(t.get_string(), codec.names);
      if (!e.HasType(tid)) e.types.push_back(tid);
      return true;
    };
    bool ok = true;
    if (type->is_array()) {
      for (const auto& t : type->get_array()) ok = ok && add(t);
      ok = ok && !type->get_array().empty();
    } else {
      ok = add(*type);
    }
    if (!ok) return Unexpected(BadRequestData("entity type must be a name or a non-empty array of names"));
  } else if (require_type) {
    return Unexpected(BadRequestData("entity " + e.id + " has no type"));
  }
  auto attrs = ParseAttributes(body, codec, now);
  if (!attrs) return Unexpected(std::move(attrs).error());
  e.attrs = std::move(*attrs);
  // The same attribute instance (name, datasetId) twice: sorted, so that an entity with many
  // attributes costs n log n here, not n².
  std::vector<std::pair<uint32_t, uint32_t>> keys;
  keys.reserve(e.attrs.size());
  for (const Attribute& a : e.attrs) keys.emplace_back(a.name, a.dataset_id);
  std::sort(keys.begin(), keys.end());
  if (auto dup = std::adjacent_find(keys.begin(), keys.end()); dup != keys.end()) {
    return Unexpected(BadRequestData("attribute " + std::string(codec.context.CompactId(dup->first, codec.names)) +
                          " is given twice"));
  }
  return e;
}
}  // namespace

}  // namespace citybed::broker
