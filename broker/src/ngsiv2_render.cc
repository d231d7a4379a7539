// The store's NGSI-LD model rendered as NGSI-v2 (ngsiv2_internal.h): values, attributes,
// metadata, builtins, and the lookup of a v2 id.
#include <algorithm>
#include <functional>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;
namespace v2 {
namespace {

void WriteLatLon(std::string& out, const json::value& position) {
  const auto& a = position.get_array();
  AppendJsonNumber(out, a[1].to_number<double>());
  out += ", ";
  AppendJsonNumber(out, a[0].to_number<double>());
}

bool IsPosition(const json::value& v) {
  return v.is_array() && v.get_array().size() >= 2 && v.get_array()[0].is_number() && v.get_array()[1].is_number();
}

// The v2 text form of a stored simple location, or false when the geometry does not fit it.
bool WriteSimpleLocation(JsonWriter& w, std::string_view type, const json::value& geo) {
  if (!geo.is_object()) return false;
  const json::value* coords = geo.get_object().if_contains("coordinates");
  if (coords == nullptr) return false;
  std::string text;
  if (type == "geo:point") {
    if (!IsPosition(*coords)) return false;
    WriteLatLon(text, *coords);
    w.String(text);
    return true;
  }
  const json::array* points = nullptr;
  if (type == "geo:line" && coords->is_array()) points = &coords->get_array();
  if ((type == "geo:polygon" || type == "geo:box") && coords->is_array() && !coords->get_array().empty() &&
      coords->get_array()[0].is_array()) {
    points = &coords->get_array()[0].get_array();
  }
  if (points == nullptr) return false;
  for (const auto& p : *points) {
    if (!IsPosition(p)) return false;
  }
  w.BeginArray();
  if (type == "geo:box") {  // the two corners: south-west, north-east
    double w0 = 1e9, s0 = 1e9, e0 = -1e9, n0 = -1e9;
    for (const auto& p : *points) {
      w0 = std::min(w0, p.get_array()[0].to_number<double>());
      e0 = std::max(e0, p.get_array()[0].to_number<double>());
      s0 = std::min(s0, p.get_array()[1].to_number<double>());
      n0 = std::max(n0, p.get_array()[1].to_number<double>());
    }
    for (const auto& c : {json::value(json::array{w0, s0}), json::value(json::array{e0, n0})}) {
      text.clear();
      WriteLatLon(text, c);
      w.String(text);
    }
  } else {
    for (const auto& p : *points) {
      text.clear();
      WriteLatLon(text, p);
      w.String(text);
    }
  }
  w.EndArray();
  return true;
}

}  // namespace

// --- the store -> v2 ----------------------------------------------------------------------------------

bool Projection::WantsAttr(uint32_t name) const {
  if (std::find(except.begin(), except.end(), name) != except.end()) return false;
  return all_attrs || std::find(attrs.begin(), attrs.end(), name) != attrs.end();
}

Projection MakeProjection(const std::vector<std::string>& attrs, const std::vector<std::string>& metadata,
                          const Codec& codec) {
  Projection p;
  p.attr_names = attrs;
  if (!attrs.empty()) p.all_attrs = false;
  for (const std::string& a : attrs) {
    if (a == "*") p.all_attrs = true;
    else if (a == "dateCreated") p.date_created = true;
    else if (a == "dateModified") p.date_modified = true;
    else if (a == "dateExpires") p.date_expires = true;
    else if (a == "servicePath") p.service_path = true;
    else if (a == "alterationType") p.alteration_type = true;
    else p.attrs.push_back(codec.context.FindId(a, codec.names));
  }
  // Only builtins asked for (attrs=dateCreated): no user attribute.
  if (!metadata.empty()) p.all_metadata = false;
  for (const std::string& m : metadata) {
    if (m == "*") p.all_metadata = true;
    else if (m == "dateCreated") p.md_date_created = true;
    else if (m == "dateModified") p.md_date_modified = true;
    else if (m == "actionType") p.md_action_type = true;
    else if (m == "previousValue") p.md_previous_value = true;
    else p.metadata.push_back(codec.context.FindId(m, codec.names));
  }
  return p;
}

void RenderValue(JsonWriter& w, const Attribute& a, const Codec& codec) {
  if (a.kind == AttrKind::kGeoProperty && a.v2_type != 0) {
    if (WriteSimpleLocation(w, codec.names.Name(a.v2_type), a.value)) return;
  }
  if (a.kind == AttrKind::kProperty && IsDateTimeValue(a.value)) {
    const json::value& v = a.value.get_object().at("@value");
    if (v.is_string()) {
      if (auto t = ParseIso8601Micros(v.get_string())) {
        w.String(FormatDateTime(*t));
        return;
      }
    }
    w.Value(v);
    return;
  }
  RenderAttributeValue(w, a, codec);
}

namespace {

void WriteMetadatum(JsonWriter& w, std::string_view type, const std::function<void()>& value) {
  w.BeginObject();
  w.Key("type");
  w.String(type);
  w.Key("value");
  value();
  w.EndObject();
}

bool WantsMd(const Projection* p, uint32_t name) {
  return p == nullptr || p->all_metadata || std::find(p->metadata.begin(), p->metadata.end(), name) != p->metadata.end();
}

const Attribute* DefaultInstance(const Entity& e, uint32_t name) {
  const Attribute* first = nullptr;
  for (const Attribute& a : e.attrs) {
    if (a.name != name) continue;
    if (a.dataset_id == 0) return &a;
    if (first == nullptr) first = &a;
  }
  return first;
}

}  // namespace

void RenderAttr(JsonWriter& w, const Attribute& a, const Projection* p, const Codec& codec, const NotifyExtras* extras,
                const Entity* entity) {
  (void)entity;
  w.BeginObject();
  w.Key("type");
  w.String(V2AttrType(a, codec.names));
  w.Key("value");
  RenderValue(w, a, codec);
  w.Key("metadata");
  w.BeginObject();
  if (a.unit_code != 0 && WantsMd(p, codec.context.ExpandToId("unitCode", codec.names))) {
    w.Key("unitCode");
    WriteMetadatum(w, "Text", [&] { w.String(codec.names.Name(a.unit_code)); });
  }
  if (a.observed_at != kNoTime && WantsMd(p, codec.context.ExpandToId("observedAt", codec.names))) {
    w.Key("observedAt");
    WriteMetadatum(w, kDateTimeType, [&] { w.String(FormatDateTime(a.observed_at)); });
  }
  for (const Attribute& s : a.sub) {
    if (!WantsMd(p, s.name)) continue;
    w.Key(codec.context.CompactId(s.name, codec.names));
    WriteMetadatum(w, V2AttrType(s, codec.names), [&] { RenderValue(w, s, codec); });
  }
  if (p != nullptr) {
    if (p->md_date_created && a.created_at != kNoTime) {
      w.Key("dateCreated");
      WriteMetadatum(w, kDateTimeType, [&] { w.String(FormatDateTime(a.created_at)); });
    }
    if (p->md_date_modified && a.modified_at != kNoTime) {
      w.Key("dateModified");
      WriteMetadatum(w, kDateTimeType, [&] { w.String(FormatDateTime(a.modified_at)); });
    }
    if (extras != nullptr && p->md_previous_value && extras->before != nullptr) {
      if (const Attribute* old = DefaultInstance(*extras->before, a.name)) {
        w.Key("previousValue");
        WriteMetadatum(w, V2AttrType(*old, codec.names), [&] { RenderValue(w, *old, codec); });
      }
    }
    if (extras != nullptr && p->md_action_type && extras->before != nullptr) {
      w.Key("actionType");
      const bool existed = DefaultInstance(*extras->before, a.name) != nullptr;
      WriteMetadatum(w, "Text", [&] { w.String(existed ? "update" : "append"); });
    }
  }
  w.EndObject();
  w.EndObject();
}

void RenderEntity(JsonWriter& w, const Entity& e, RenderFormat format, const Projection& p, const Codec& codec,
                  bool with_id_type, const NotifyExtras* extras) {
  // The attributes to render: one instance per name, in the entity's order (values and unique:
  // in the order of attrs=).
  std::vector<const Attribute*> attrs;
  auto wanted = [&](uint32_t name) {
    if (!p.WantsAttr(name)) return false;
    if (extras && extras->only && std::find(extras->only->begin(), extras->only->end(), name) == extras->only->end()) {
      return false;
    }
    return true;
  };
  const bool ordered = (format == RenderFormat::kValues || format == RenderFormat::kUnique) && !p.attrs.empty();
  if (ordered) {
    for (uint32_t name : p.attrs) {
      if (const Attribute* a = DefaultInstance(e, name); a && wanted(name)) attrs.push_back(a);
    }
  } else {
    for (size_t i = 0; i < e.attrs.size(); ++i) {
      const Attribute& a = e.attrs[i];
      bool seen = false;
      for (const Attribute* x : attrs) seen = seen || x->name == a.name;
      if (seen || !wanted(a.name)) continue;
      attrs.push_back(DefaultInstance(e, a.name));
    }
  }
  // Builtin attributes, as DateTime / Text attributes.
  struct Builtin {
    std::string_view name, type;
    std::string value;
  };
  std::vector<Builtin> builtins;
  if (p.date_created && e.created_at != kNoTime) builtins.push_back({"dateCreated", kDateTimeType, FormatDateTime(e.created_at)});
  if (p.date_modified && e.modified_at != kNoTime) builtins.push_back({"dateModified", kDateTimeType, FormatDateTime(e.modified_at)});
  if (p.service_path) builtins.push_back({"servicePath", "Text", std::string(ServicePathOf(e))});
  if (p.alteration_type && extras && !extras->alteration_type.empty()) {
    builtins.push_back({"alterationType", "Text", std::string(extras->alteration_type)});
  }

  if (format == RenderFormat::kValues || format == RenderFormat::kUnique) {
    std::vector<std::string> seen;
    w.BeginArray();
    for (const Attribute* a : attrs) {
      if (format == RenderFormat::kUnique) {
        std::string text;
        JsonWriter tw(text);
        RenderValue(tw, *a, codec);
        if (std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
        seen.push_back(text);
        w.Raw(text);
      } else {
        RenderValue(w, *a, codec);
      }
    }
    for (const Builtin& b : builtins) w.String(b.value);
    w.EndArray();
    return;
  }
  w.BeginObject();
  if (with_id_type) {
    w.Key("id");
    w.String(V2Id(e));
    w.Key("type");
    w.String(V2Type(e, codec));
  }
  for (const Attribute* a : attrs) {
    w.Key(codec.context.CompactId(a->name, codec.names));
    if (format == RenderFormat::kKeyValues) {
      RenderValue(w, *a, codec);
    } else {
      RenderAttr(w, *a, &p, codec, extras, &e);
    }
  }
  for (const Builtin& b : builtins) {
    w.Key(b.name);
    if (format == RenderFormat::kKeyValues) {
      w.String(b.value);
    } else {
      w.BeginObject();
      w.Key("type");
      w.String(b.type);
      w.Key("value");
      w.String(b.value);
      w.Key("metadata");
      w.BeginObject();
      w.EndObject();
      w.EndObject();
    }
  }
  w.EndObject();
}

// --- lookup -------------------------------------------------------------------------------------------

std::string PreferredKey(std::string_view v2_id) {
  if (IsUri(v2_id)) return std::string(v2_id);
  std::string key(kIdPrefix);
  key += v2_id;
  return key;
}

std::vector<EntityPtr> FindById(const Store& store, std::string_view tenant, std::string_view v2_id) {
  std::vector<EntityPtr> out;
  if (IsUri(v2_id)) {
    if (EntityPtr e = store.Get(tenant, v2_id); e && V2Id(*e) == v2_id) out.push_back(std::move(e));
  }
  for (EntityPtr& e : store.FindAlias(tenant, v2_id)) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace v2
}  // namespace citybed::broker
