// The mapping between NGSI-v2 payloads and the store's NGSI-LD model (ngsiv2_internal.h).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;

Response OrionResponse(const OrionError& e) {
  Response r;
  r.status = e.status;
  r.SetHeader("Content-Type", "application/json");
  JsonWriter w(r.body);
  w.BeginObject();
  w.Key("error");
  w.String(e.error);
  w.Key("description");
  w.String(e.description);
  w.EndObject();
  return r;
}

Response OrionErrorResponse(int status, std::string_view description) {
  std::string_view name = "BadRequest";
  switch (status) {
    case 401: name = "Unauthorized"; break;
    case 403: name = "Forbidden"; break;
    case 404: name = "NotFound"; break;
    case 405: name = "MethodNotAllowed"; break;
    case 406: name = "NotAcceptable"; break;
    case 411: name = "ContentLengthRequired"; break;
    case 413: name = "RequestEntityTooLarge"; break;
    case 415: name = "UnsupportedMediaType"; break;
    case 429: name = "TooManyRequests"; break;
    case 431: name = "RequestHeaderFieldsTooLarge"; break;
    case 500: name = "InternalServerError"; break;
    case 503: name = "ServiceUnavailable"; break;
    case 507: name = "InsufficientStorage"; break;
    default: break;
  }
  return OrionResponse(OrionError{status, std::string(name), std::string(description)});
}

OrionError V2BadRequest(std::string description) { return OrionError{400, "BadRequest", std::move(description)}; }
OrionError V2EntityNotFound() {
  return OrionError{404, "NotFound", "The requested entity has not been found. Check type and id"};
}
OrionError V2AttributeNotFound() { return OrionError{404, "NotFound", "The entity does not have such an attribute"}; }
OrionError V2ParseError(std::string description) { return OrionError{400, "ParseError", std::move(description)}; }

namespace v2 {

bool IsDateTimeValue(const json::value& v) {
  if (!v.is_object()) return false;
  const auto& o = v.get_object();
  const json::value* t = o.if_contains("@type");
  return o.size() == 2 && t && t->is_string() && t->get_string() == kDateTimeType && o.contains("@value");
}

namespace {

std::string DerivedType(const json::value& v) {
  if (IsDateTimeValue(v)) return std::string(kDateTimeType);
  if (v.is_number()) return "Number";
  if (v.is_string()) return "Text";
  if (v.is_bool()) return "Boolean";
  if (v.is_null()) return "None";
  return "StructuredValue";
}

// Builtin names: Orion computes them; they cannot be written.
bool IsBuiltinAttr(std::string_view n) {
  return n == "dateCreated" || n == "dateModified" || n == "servicePath" || n == "alterationType";
}
bool IsBuiltinMetadata(std::string_view n) {
  return n == "dateCreated" || n == "dateModified" || n == "actionType" || n == "previousValue";
}
// Sub-attribute names an NGSI-LD attribute reserves for its own members: a metadata of that
// name cannot be carried.
bool IsLdMemberName(std::string_view n) {
  static constexpr std::string_view kMembers[] = {"type", "value", "object", "datasetId", "createdAt", "modifiedAt",
                                                  "languageMap", "vocab", "json", "valueList", "objectList", "id",
                                                  "instanceId", "deletedAt", "lang", "@context", "objectType"};
  return std::find(std::begin(kMembers), std::end(kMembers), n) != std::end(kMembers);
}
// Attribute names an NGSI-LD entity reserves for its own members (the NGSI-LD parser skips
// them): an attribute of that name would be rendered next to, or instead of, the member.
bool IsLdEntityMemberName(std::string_view n) {
  return n == "@context" || n == "createdAt" || n == "modifiedAt" || n == "deletedAt" || n == "scope";
}

bool HasForbiddenValue(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      for (char c : v.get_string()) {
        if (ForbiddenValueChar(c)) return true;
      }
      return false;
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (HasForbiddenValue(e)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (HasForbiddenValue(kv.value())) return true;
      }
      return false;
    default: return false;
  }
}

// "40.418, -3.692" -> (lon, lat).
bool ParseLatLon(const json::value& v, GeoPoint& out) {
  if (!v.is_string()) return false;
  const std::string_view s = v.get_string();
  const size_t comma = s.find(',');
  if (comma == std::string_view::npos) return false;
  const std::string lat_s(Trim(s.substr(0, comma))), lon_s(Trim(s.substr(comma + 1)));
  char* end = nullptr;
  const double lat = std::strtod(lat_s.c_str(), &end);
  if (lat_s.empty() || end != lat_s.c_str() + lat_s.size()) return false;
  const double lon = std::strtod(lon_s.c_str(), &end);
  if (lon_s.empty() || end != lon_s.c_str() + lon_s.size()) return false;
  if (!std::isfinite(lat) || !std::isfinite(lon) || std::fabs(lat) > 90 || std::fabs(lon) > 180) return false;
  out = GeoPoint(lon, lat);
  return true;
}

json::array Position(const GeoPoint& p) { return json::array{p.get<0>(), p.get<1>()}; }

// geo:point, geo:line, geo:box, geo:polygon values as GeoJSON geometries.
Expected<json::value, std::string> SimpleLocation(std::string_view type, const json::value& v) {
  if (type == "geo:point") {
    GeoPoint p;
    if (!ParseLatLon(v, p)) return Unexpected(std::string("a geo:point value is a string \"latitude, longitude\""));
    return json::value(json::object{{"type", "Point"}, {"coordinates", Position(p)}});
  }
  if (!v.is_array()) return Unexpected(std::string(type) + " needs an array of \"latitude, longitude\" strings");
  std::vector<GeoPoint> pts;
  for (const auto& e : v.get_array()) {
    GeoPoint p;
    if (!ParseLatLon(e, p)) return Unexpected(std::string(type) + " needs an array of \"latitude, longitude\" strings");
    pts.push_back(p);
  }
  json::array coords;
  if (type == "geo:line") {
    if (pts.size() < 2) return Unexpected(std::string("a geo:line needs at least 2 points"));
    for (const auto& p : pts) coords.push_back(Position(p));
    return json::value(json::object{{"type", "LineString"}, {"coordinates", std::move(coords)}});
  }
  if (type == "geo:box") {
    if (pts.size() != 2) return Unexpected(std::string("a geo:box needs exactly 2 points (two opposite corners)"));
    const double w = std::min(pts[0].get<0>(), pts[1].get<0>()), e = std::max(pts[0].get<0>(), pts[1].get<0>());
    const double s = std::min(pts[0].get<1>(), pts[1].get<1>()), n = std::max(pts[0].get<1>(), pts[1].get<1>());
    json::array ring{json::array{w, s}, json::array{e, s}, json::array{e, n}, json::array{w, n}, json::array{w, s}};
    return json::value(json::object{{"type", "Polygon"}, {"coordinates", json::array{std::move(ring)}}});
  }
  // geo:polygon
  if (pts.size() < 4 || pts.front().get<0>() != pts.back().get<0>() || pts.front().get<1>() != pts.back().get<1>()) {
    return Unexpected(std::string("a geo:polygon needs at least 4 points, the last equal to the first"));
  }
  json::array ring;
  for (const auto& p : pts) ring.push_back(Position(p));
  return json::value(json::object{{"type", "Polygon"}, {"coordinates", json::array{std::move(ring)}}});
}


// Builds an attribute (or a metadata) from a v2 type and value. `ignore_type`: a geo type
// that is not the entity's location (metadata ignoreType).
Expected<Attribute, OrionError> MakeValue(uint32_t name, std::string_view display, std::string_view type,
                                          const json::value& value, bool ignore_type, const Codec& codec) {
  Attribute a;
  a.name = name;
  a.kind = AttrKind::kProperty;
  const std::string where = "attribute " + std::string(display);
  auto set_type = [&](std::string_view t) {
    if (!t.empty() && t != DerivedType(a.value)) a.v2_type = codec.names.Intern(t);
  };
  const bool geo = type == "geo:json" || type == "geo:point" || type == "geo:line" || type == "geo:box" ||
                   type == "geo:polygon";
  if (geo && !ignore_type) {
    if (type == "geo:json") {
      auto g = ParseGeoJson(value);
      if (!g) return Unexpected(V2BadRequest(where + ": invalid geo:json: " + g.error()));
      a.kind = AttrKind::kGeoProperty;
      a.value = value;
      return a;
    }
    auto geojson = SimpleLocation(type, value);
    if (!geojson) return Unexpected(V2BadRequest(where + ": " + geojson.error()));
    // The GeoJSON it becomes must be one the geo-queries can read (positions limit included).
    if (auto g = ParseGeoJson(*geojson); !g) return Unexpected(V2BadRequest(where + ": " + g.error()));
    a.kind = AttrKind::kGeoProperty;
    a.value = std::move(*geojson);
    a.v2_type = codec.names.Intern(type);
    return a;
  }
  if (type == kDateTimeType && !value.is_null()) {
    if (!value.is_string()) return Unexpected(V2BadRequest(where + ": a DateTime value is an ISO 8601 string"));
    auto t = ParseIso8601Micros(value.get_string());
    if (!t) return Unexpected(V2BadRequest(where + ": date has invalid format: " + std::string(value.get_string())));
    // Kept as written when it is already an RFC 3339 date-time with its offset (what an NGSI-LD
    // reader expects); other ISO 8601 forms (a date alone, no seconds, +hhmm, no offset: UTC as
    // Orion reads it) are normalized to UTC.
    const std::string_view text = value.get_string();
    const bool offset = !text.empty() && (text.back() == 'Z' || text.back() == 'z' ||
                                          (text.size() > 6 && (text[text.size() - 6] == '+' || text[text.size() - 6] == '-') &&
                                           text[text.size() - 3] == ':'));
    const bool rfc3339 = offset && ParseRfc3339Micros(text).has_value();
    a.value = json::object{{"@type", kDateTimeType},
                           {"@value", rfc3339 ? std::string(value.get_string()) : FormatDateTime(*t)}};
    return a;
  }
  if (type == "Relationship" && value.is_string() && IsUri(value.get_string())) {
    a.kind = AttrKind::kRelationship;
    a.value = value;
    return a;
  }
  a.value = value;
  set_type(type);
  return a;
}

bool MetadataIsTrue(const json::object* md, std::string_view name) {
  if (md == nullptr) return false;
  const json::value* m = md->if_contains(name);
  if (m == nullptr || !m->is_object()) return false;
  const json::value* v = m->get_object().if_contains("value");
  return v && v->is_bool() && v->get_bool();
}

}  // namespace

namespace {
// Orion's forbidden characters, as lookup tables: in values, and (more) in ids, types and names.
constexpr std::array<bool, 256> ForbiddenTable(bool names) {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("<>\"'=;()")) t[c] = true;
  if (names) {
    for (int c = 0; c <= 0x20; ++c) t[static_cast<size_t>(c)] = true;
    t[0x7f] = true;
    for (unsigned char c : std::string_view("&?/#")) t[c] = true;
  }
  return t;
}
constexpr std::array<bool, 256> kForbiddenInValues = ForbiddenTable(false);
constexpr std::array<bool, 256> kForbiddenInNames = ForbiddenTable(true);
}  // namespace

bool ForbiddenValueChar(char c) { return kForbiddenInValues[static_cast<unsigned char>(c)]; }

bool ForbiddenNameChar(char c) { return kForbiddenInNames[static_cast<unsigned char>(c)]; }

std::string CheckIdentifier(std::string_view what, std::string_view s) {
  if (s.empty()) return std::string(what) + " length: 0, min length supported: 1";
  if (s.size() > kMaxNameLength) {
    return std::string(what) + " length: " + std::to_string(s.size()) + ", max length supported: 256";
  }
  for (char c : s) {
    if (ForbiddenNameChar(c)) return "Invalid characters in " + std::string(what);
  }
  return {};
}

std::string_view V2Type(const Entity& e, const Codec& codec) {
  return e.types.empty() ? std::string_view() : codec.context.CompactId(e.types[0], codec.names);
}

std::string V2AttrType(const Attribute& a, const Interner& names) {
  if (a.v2_type != 0) return std::string(names.Name(a.v2_type));
  switch (a.kind) {
    case AttrKind::kGeoProperty: return "geo:json";
    case AttrKind::kRelationship: return "Relationship";
    case AttrKind::kLanguageProperty: return "LanguageProperty";
    case AttrKind::kVocabProperty: return "VocabProperty";
    case AttrKind::kJsonProperty: return "JsonProperty";
    case AttrKind::kListProperty: return "ListProperty";
    case AttrKind::kListRelationship: return "ListRelationship";
    case AttrKind::kProperty: break;
  }
  return DerivedType(a.value);
}

std::string FormatDateTime(int64_t micros) {
  int64_t secs = micros >= 0 ? micros / 1000000 : (micros - 999999) / 1000000;
  const int64_t millis = (micros - secs * 1000000) / 1000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t rem = secs - days * 86400;
  int y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60), static_cast<int>(millis));
  return buf;
}

// --- service paths ------------------------------------------------------------------------------

bool PathScope::Contains(std::string_view entity_path) const {
  if (items.empty()) return true;
  for (const Item& it : items) {
    if (entity_path == it.path) return true;
    if (it.subtree) {
      if (it.path == "/") return true;
      if (entity_path.size() > it.path.size() && entity_path.substr(0, it.path.size()) == it.path &&
          entity_path[it.path.size()] == '/') {
        return true;
      }
    }
  }
  return false;
}

std::string PathScope::Header() const {
  if (items.empty()) return "/#";
  std::string out;
  for (const Item& it : items) {
    if (!out.empty()) out += ", ";
    out += it.path;
    if (it.subtree) out += it.path == "/" ? "#" : "/#";
  }
  return out;
}

Expected<PathScope, OrionError> ParseServicePath(const Request& req, bool write) {
  PathScope scope;
  const std::string* h = req.FindHeader("Fiware-ServicePath");
  if (h == nullptr || Trim(*h).empty()) {
    if (write) scope.items.push_back({"/", false});
    return scope;
  }
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(*h, ',')) parts.push_back(Trim(part));
  if (write && parts.size() > 1) return Unexpected(V2BadRequest("more than one service path in context update request"));
  if (parts.size() > 10) return Unexpected(V2BadRequest("too many service paths - a maximum of ten service paths is allowed"));
  for (std::string_view p : parts) {
    PathScope::Item item;
    if (p.empty() || p.front() != '/') return Unexpected(V2BadRequest("Only /absolute/ Service Paths allowed [a service path must begin with /]"));
    if (p.size() >= 2 && p.substr(p.size() - 2) == "/#") {
      if (write) return Unexpected(V2BadRequest("a service path with # is not allowed in an update"));
      item.subtree = true;
      p.remove_suffix(2);
      if (p.empty()) p = "/";
    } else if (p == "/#" || p == "#") {
      item.subtree = true;
      p = "/";
    }
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);  // trailing slashes are discarded
    if (p != "/") {
      int levels = 0;
      for (std::string_view comp : Split(p.substr(1), '/')) {
        ++levels;
        if (comp.empty()) return Unexpected(V2BadRequest("empty component in ServicePath"));
        if (comp.size() > 50) return Unexpected(V2BadRequest("component-name too long in ServicePath"));
        for (char c : comp) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
            return Unexpected(V2BadRequest("a component of ServicePath contains an illegal character"));
          }
        }
      }
      if (levels > 10) return Unexpected(V2BadRequest("too many components in ServicePath"));
    }
    item.path = std::string(p);
    scope.items.push_back(std::move(item));
  }
  return scope;
}

// --- payloads -> the store ------------------------------------------------------------------------

Expected<V2Attr, OrionError> ParseAttr(std::string_view name, const json::value& v, const Codec& codec, bool key_values,
                                       int64_t now) {
  if (std::string bad = CheckIdentifier("attribute name", name); !bad.empty()) {
    return Unexpected(V2BadRequest(bad));
  }
  if (IsBuiltinAttr(name)) {
    return Unexpected(V2BadRequest("attribute name " + std::string(name) + " is a builtin and cannot be written"));
  }
  if (IsLdEntityMemberName(name)) {
    return Unexpected(V2BadRequest("attribute name " + std::string(name) +
                                   " cannot be carried: NGSI-LD reserves it for an entity's own member"));
  }
  const uint32_t id = codec.context.ExpandToId(name, codec.names);
  V2Attr out;
  if (key_values) {
    if (HasForbiddenValue(v)) return Unexpected(V2BadRequest("Invalid characters in attribute value"));
    auto a = MakeValue(id, name, "", v, false, codec);
    if (!a) return Unexpected(std::move(a).error());
    out.attr = std::move(*a);
    out.attr.created_at = out.attr.modified_at = now;
    return out;
  }
  if (!v.is_object()) {
    return Unexpected(V2BadRequest("attribute " + std::string(name) +
                                   " must be a JSON object, unless keyValues option is used"));
  }
  const json::object& o = v.get_object();
  std::string_view type;
  static const json::value kNull;
  const json::value* value = &kNull;
  const json::object* md = nullptr;
  for (const auto& kv : o) {
    if (kv.key() == "type") {
      if (!kv.value().is_string()) return Unexpected(V2BadRequest("attribute type must be a string"));
      type = kv.value().get_string();
      if (std::string bad = CheckIdentifier("attribute type", type); !bad.empty()) return Unexpected(V2BadRequest(bad));
      out.type_given = true;
    } else if (kv.key() == "value") {
      value = &kv.value();
    } else if (kv.key() == "metadata") {
      if (!kv.value().is_object()) return Unexpected(V2BadRequest("metadata of attribute " + std::string(name) + " must be an object"));
      md = &kv.value().get_object();
      out.metadata_given = true;
    } else {
      return Unexpected(V2BadRequest("unrecognized property for attribute " + std::string(name) + ": " +
                                     std::string(kv.key())));
    }
  }
  const bool unrestricted = type == "TextUnrestricted" || MetadataIsTrue(md, "TextUnrestricted");
  if (!unrestricted && HasForbiddenValue(*value)) return Unexpected(V2BadRequest("Invalid characters in attribute value"));
  auto a = MakeValue(id, name, type, *value, MetadataIsTrue(md, "ignoreType"), codec);
  if (!a) return Unexpected(std::move(a).error());
  out.attr = std::move(*a);
  out.attr.created_at = out.attr.modified_at = now;
  if (md != nullptr) {
    for (const auto& kv : *md) {
      const std::string_view mname = kv.key();
      if (std::string bad = CheckIdentifier("metadata name", mname); !bad.empty()) return Unexpected(V2BadRequest(bad));
      if (IsBuiltinMetadata(mname)) {
        return Unexpected(V2BadRequest("metadata name " + std::string(mname) + " is a builtin and cannot be written"));
      }
      if (IsLdMemberName(mname)) {
        return Unexpected(V2BadRequest("metadata name " + std::string(mname) +
                                       " cannot be carried: NGSI-LD reserves it for an attribute's own member"));
      }
      if (!kv.value().is_object()) return Unexpected(V2BadRequest("metadata " + std::string(mname) + " must be an object"));
      const json::object& mo = kv.value().get_object();
      std::string_view mtype;
      const json::value* mvalue = &kNull;
      for (const auto& m : mo) {
        if (m.key() == "type") {
          if (!m.value().is_string()) return Unexpected(V2BadRequest("metadata type must be a string"));
          mtype = m.value().get_string();
          if (std::string bad = CheckIdentifier("metadata type", mtype); !bad.empty()) return Unexpected(V2BadRequest(bad));
        } else if (m.key() == "value") {
          mvalue = &m.value();
        } else {
          return Unexpected(V2BadRequest("unrecognized property for metadata " + std::string(mname) + ": " +
                                         std::string(m.key())));
        }
      }
      if (!unrestricted && HasForbiddenValue(*mvalue)) return Unexpected(V2BadRequest("Invalid characters in metadata value"));
      if (mname == "unitCode") {
        if (!mvalue->is_string() || mvalue->get_string().empty()) {
          return Unexpected(V2BadRequest("metadata unitCode must be a non-empty string (it maps to NGSI-LD unitCode)"));
        }
        out.attr.unit_code = codec.names.Intern(mvalue->get_string());
        continue;
      }
      if (mname == "observedAt") {
        std::optional<int64_t> t;
        if (mvalue->is_string()) {
          if (auto parsed = ParseIso8601Micros(mvalue->get_string())) t = *parsed;
        }
        if (!t) return Unexpected(V2BadRequest("metadata observedAt must be a DateTime (it maps to NGSI-LD observedAt)"));
        out.attr.observed_at = *t;
        continue;
      }
      auto sub = MakeValue(codec.context.ExpandToId(mname, codec.names), mname, mtype, *mvalue, true, codec);
      if (!sub) return Unexpected(std::move(sub).error());
      sub->created_at = sub->modified_at = now;
      out.attr.sub.push_back(std::move(*sub));
    }
  }
  return out;
}

Expected<std::vector<V2Attr>, OrionError> ParseAttrs(const json::object& o, const Codec& codec, bool key_values,
                                                     int64_t now, bool entity_members) {
  std::vector<V2Attr> out;
  out.reserve(o.size());
  for (const auto& kv : o) {
    if (kv.key() == "id" || kv.key() == "type") {
      if (entity_members) continue;
      return Unexpected(V2BadRequest("invalid input, '" + std::string(kv.key()) + "' as attribute"));
    }
    auto a = ParseAttr(kv.key(), kv.value(), codec, key_values, now);
    if (!a) return Unexpected(std::move(a).error());
    out.push_back(std::move(*a));
  }
  return out;
}

Expected<json::value, OrionError> ParseTextValue(std::string_view body) {
  const std::string_view t = Trim(body);
  if (t == "true") return json::value(true);
  if (t == "false") return json::value(false);
  if (t == "null") return json::value(nullptr);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
    json::value s = json::string(t.substr(1, t.size() - 2));
    if (HasForbiddenValue(s)) return Unexpected(V2BadRequest("Invalid characters in attribute value"));
    return s;
  }
  const std::string num(t);
  char* end = nullptr;
  const double d = std::strtod(num.c_str(), &end);
  if (!num.empty() && end == num.c_str() + num.size() && std::isfinite(d)) {
    if (std::floor(d) == d && std::fabs(d) < 9e15 && num.find_first_of(".eE") == std::string::npos) {
      return json::value(static_cast<int64_t>(d));
    }
    return json::value(d);
  }
  return Unexpected(V2BadRequest("attribute value type not recognized: text/plain payloads are a number, true, false, "
                                 "null or a \"quoted string\""));
}

Attribute MergeAttr(const Attribute* old, V2Attr in, bool override_metadata, const Interner& names, int64_t now) {
  Attribute a = std::move(in.attr);
  a.modified_at = now;
  if (old == nullptr) return a;
  a.created_at = old->created_at;
  a.dataset_id = old->dataset_id;
  if (override_metadata) return a;
  if (!in.metadata_given) {
    a.sub = old->sub;
    if (a.unit_code == 0) a.unit_code = old->unit_code;
    if (a.observed_at == kNoTime) a.observed_at = old->observed_at;
    return a;
  }
  if (a.sub.empty() && a.unit_code == 0 && a.observed_at == kNoTime) return a;  // "metadata": {} clears
  for (const Attribute& s : old->sub) {
    if (a.FindSub(s.name) == nullptr) a.sub.push_back(s);
  }
  if (a.unit_code == 0) a.unit_code = old->unit_code;
  if (a.observed_at == kNoTime) a.observed_at = old->observed_at;
  (void)names;
  return a;
}

std::optional<OrionError> CheckOneLocation(const Entity& e) {
  int n = 0;
  for (const Attribute& a : e.attrs) n += a.kind == AttrKind::kGeoProperty && a.dataset_id == 0;
  if (n <= 1) return std::nullopt;
  return OrionError{413, "NoResourcesAvailable",
                    "You cannot use more than one geo location attribute when creating an entity. Use ignoreType "
                    "metadata if you want to add additional informative locations."};
}

bool AttrChanged(const Attribute& a, const Attribute& b) {
  if (a.kind != b.kind || a.v2_type != b.v2_type || a.unit_code != b.unit_code || a.observed_at != b.observed_at ||
      a.value != b.value || a.sub.size() != b.sub.size()) {
    return true;
  }
  for (const Attribute& s : a.sub) {
    const Attribute* t = b.FindSub(s.name);
    if (t == nullptr || AttrChanged(s, *t)) return true;
  }
  return false;
}

}  // namespace v2
}  // namespace citybed::broker
