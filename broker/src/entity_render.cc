// Rendering the NGSI-LD model as JSON: normalized, concise, keyValues, GeoJSON; `lang`,
// projections and the per-version cache of the normalized form (entity.h).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "citybed/broker/entity.h"
#include "citybed/common/strings.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {


// The language a `lang` parameter picks from a languageMap (CIM 009 4.15): the tags of a comma
// list, best quality first ("en,fr;q=0.8"; "*" for any), then "@none", then any language.
// Null when the map is empty.
const json::key_value_pair* PickLanguage(const json::object& map, std::string_view lang) {
  if (map.empty()) return nullptr;
  struct Choice {
    std::string_view tag;
    double q;
    size_t order;
  };
  std::vector<Choice> choices;
  size_t order = 0;
  for (std::string_view item : Split(lang, ',')) {
    item = Trim(item);
    double q = 1;
    if (const size_t semi = item.find(';'); semi != std::string_view::npos) {
      std::string_view param = Trim(item.substr(semi + 1));
      if (param.starts_with("q=")) q = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
      item = Trim(item.substr(0, semi));
    }
    if (!item.empty() && q > 0) choices.push_back({item, q, order++});
  }
  std::stable_sort(choices.begin(), choices.end(), [](const Choice& a, const Choice& b) { return a.q > b.q; });
  for (const Choice& c : choices) {
    if (c.tag == "*") return &*map.begin();
    for (const auto& kv : map) {
      if (EqualsAsciiNoCase(kv.key(), c.tag)) return &kv;
    }
  }
  for (const auto& kv : map) {
    if (kv.key() == "@none") return &kv;
  }
  return &*map.begin();
}

// The value that keyValues shows for an attribute.
void WriteSimplified(JsonWriter& w, const Attribute& a, const RenderOptions& opts, const Codec& codec) {
  if (a.kind == AttrKind::kLanguageProperty && a.value.is_object()) {
    if (!opts.lang.empty()) {
      if (const json::key_value_pair* pick = PickLanguage(a.value.get_object(), opts.lang)) {
        w.Value(pick->value());
        return;
      }
    }
    w.BeginObject();
    w.Key("languageMap");
    w.Value(a.value);
    w.EndObject();
    return;
  }
  RenderAttributeValue(w, a, codec);
}

bool Projected(const RenderOptions& opts, uint32_t name) {
  for (uint32_t n : opts.omit_attrs) {
    if (n == name) return false;
  }
  if (opts.only_attrs == nullptr) return true;
  for (uint32_t n : *opts.only_attrs) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

void WriteTimeMember(JsonWriter& w, std::string_view key, int64_t micros) {
  if (micros == kNoTime) return;
  w.Key(key);
  std::string s;
  AppendRfc3339Micros(s, micros);
  w.String(s);
}

void RenderAttributeValue(JsonWriter& w, const Attribute& a, const Codec& codec) {
  if (a.kind == AttrKind::kVocabProperty) {
    auto one = [&](const json::value& v) {
      if (v.is_string()) w.String(codec.context.Compact(v.get_string())); else w.Value(v);
    };
    if (a.value.is_array()) {
      w.BeginArray();
      for (const auto& e : a.value.get_array()) one(e);
      w.EndArray();
    } else {
      one(a.value);
    }
    return;
  }
  w.Value(a.value);
}

void RenderAttribute(JsonWriter& w, const Attribute& a, const RenderOptions& opts, const Codec& codec) {
  if (opts.format == Format::kKeyValues) {
    WriteSimplified(w, a, opts, codec);
    return;
  }
  const bool concise = opts.format == Format::kConcise;
  const bool has_extras = a.observed_at != kNoTime || a.unit_code != 0 || a.dataset_id != 0 || !a.sub.empty() ||
                          opts.sys_attrs;
  if (concise && !has_extras && (a.kind == AttrKind::kProperty || a.kind == AttrKind::kGeoProperty) &&
      !a.value.is_object()) {
    w.Value(a.value);  // a bare value
    return;
  }
  if (concise && !has_extras && a.kind == AttrKind::kGeoProperty) {
    w.Value(a.value);  // a bare GeoJSON geometry
    return;
  }
  // With `lang`, a LanguageProperty shows as a Property holding the chosen language's string
  // and a "lang" member naming it (CIM 009 4.15), in the normalized and concise forms alike.
  const json::key_value_pair* picked = nullptr;
  if (a.kind == AttrKind::kLanguageProperty && !opts.lang.empty() && a.value.is_object()) {
    picked = PickLanguage(a.value.get_object(), opts.lang);
  }
  w.BeginObject();
  if (!concise) {  // concise drops "type": the content member tells the kind
    w.Key("type");
    w.String(picked ? ToString(AttrKind::kProperty) : ToString(a.kind));
  }
  if (picked) {
    w.Key("value");
    w.Value(picked->value());
    w.Key("lang");
    w.String(picked->key());
  } else {
    w.Key(ValueMember(a.kind));
    RenderAttributeValue(w, a, codec);
  }
  WriteTimeMember(w, "observedAt", a.observed_at);
  if (a.unit_code != 0) {
    w.Key("unitCode");
    w.String(codec.names.Name(a.unit_code));
  }
  if (a.dataset_id != 0) {
    w.Key("datasetId");
    w.String(codec.names.Name(a.dataset_id));
  }
  if (opts.sys_attrs) {
    WriteTimeMember(w, "createdAt", a.created_at);
    WriteTimeMember(w, "modifiedAt", a.modified_at);
  }
  for (const Attribute& s : a.sub) {
    w.Key(codec.context.CompactId(s.name, codec.names));
    RenderAttribute(w, s, opts, codec);
  }
  w.EndObject();
}

void RenderAttributeInstances(JsonWriter& w, const std::vector<const Attribute*>& instances,
                              const RenderOptions& opts, const Codec& codec) {
  if (instances.size() == 1) {
    RenderAttribute(w, *instances[0], opts, codec);
    return;
  }
  if (opts.format == Format::kKeyValues) {  // the default instance, else the first
    const Attribute* pick = instances[0];
    for (const Attribute* a : instances) {
      if (a->dataset_id == 0) pick = a;
    }
    RenderAttribute(w, *pick, opts, codec);
    return;
  }
  w.BeginArray();
  for (const Attribute* a : instances) RenderAttribute(w, *a, opts, codec);
  w.EndArray();
}

const std::string* RenderCache::Set(std::string text) const {
  auto* fresh = new std::string(std::move(text));
  const std::string* expected = nullptr;
  if (text_.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;
  return expected;
}

namespace {
void RenderEntityUncached(JsonWriter& w, const Entity& e, const RenderOptions& opts, const Codec& codec);
}  // namespace

void RenderEntity(JsonWriter& w, const Entity& e, const RenderOptions& opts, const Codec& codec) {
  const bool cacheable = opts.format == Format::kNormalized && !opts.sys_attrs && opts.only_attrs == nullptr &&
                         opts.omit_attrs.empty() && !opts.omit_id && !opts.omit_type &&
                         opts.lang.empty() && !opts.with_context && codec.context.is_core();
  if (!cacheable) {
    RenderEntityUncached(w, e, opts, codec);
    return;
  }
  const std::string* text = e.rendered.Get();
  if (text == nullptr) {
    std::string fresh;
    fresh.reserve(512);
    JsonWriter fw(fresh);
    RenderEntityUncached(fw, e, opts, codec);
    text = e.rendered.Set(std::move(fresh));
  }
  w.Raw(*text);
}

namespace {
void RenderEntityUncached(JsonWriter& w, const Entity& e, const RenderOptions& opts, const Codec& codec) {
  w.BeginObject();
  if (!opts.omit_id) {
    w.Key("id");
    w.String(e.id);
  }
  if (!opts.omit_type) {
    w.Key("type");
    if (e.types.size() == 1) {
      w.String(codec.context.CompactId(e.types[0], codec.names));
    } else {
      w.BeginArray();
      for (uint32_t t : e.types) w.String(codec.context.CompactId(t, codec.names));
      w.EndArray();
    }
  }
  if (opts.sys_attrs && opts.format != Format::kKeyValues) {
    WriteTimeMember(w, "createdAt", e.created_at);
    WriteTimeMember(w, "modifiedAt", e.modified_at);
  }
  // Group the instances of each attribute, in order of first appearance.
  std::vector<const Attribute*> group;
  for (size_t i = 0; i < e.attrs.size(); ++i) {
    const Attribute& a = e.attrs[i];
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = e.attrs[j].name == a.name;
    if (seen || !Projected(opts, a.name)) continue;
    group.clear();
    for (size_t j = i; j < e.attrs.size(); ++j) {
      if (e.attrs[j].name == a.name) group.push_back(&e.attrs[j]);
    }
    w.Key(codec.context.CompactId(a.name, codec.names));
    RenderAttributeInstances(w, group, opts, codec);
  }
  if (opts.with_context) {
    w.Key("@context");
    w.Value(codec.context.context_value());
  }
  w.EndObject();
}
}  // namespace

void RenderGeoJsonFeature(JsonWriter& w, const Entity& e, uint32_t geoproperty, const RenderOptions& opts,
                          const Codec& codec) {
  w.BeginObject();
  w.Key("id");
  w.String(e.id);
  w.Key("type");
  w.String("Feature");
  w.Key("geometry");
  const Attribute* geo = e.Find(geoproperty);
  if (geo != nullptr && geo->kind == AttrKind::kGeoProperty) w.Value(geo->value); else w.Null();
  w.Key("properties");
  RenderOptions inner = opts;
  inner.with_context = false;
  // properties: the entity without its id (type kept, as the specification shows).
  std::string body;
  JsonWriter pw(body);
  RenderEntity(pw, e, inner, codec);
  w.Raw(body);
  if (opts.with_context) {
    w.Key("@context");
    w.Value(codec.context.context_value());
  }
  w.EndObject();
}

}  // namespace citybed::broker
