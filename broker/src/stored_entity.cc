#include "stored_entity.h"

#include <boost/json/object.hpp>

#include "citybed/broker/json_writer.h"
#include "json_parse.h"

namespace citybed::broker {
namespace {

void TimeMember(JsonWriter& w, std::string_view key, int64_t micros) {
  if (micros == kNoTime) return;
  w.Key(key);
  w.Int(micros);
}

void NameMember(JsonWriter& w, std::string_view key, uint32_t name, const Interner& names) {
  if (name == 0) return;
  w.Key(key);
  w.String(names.Name(name));
}

void EncodeAttribute(JsonWriter& w, const Attribute& a, const Interner& names) {
  w.BeginObject();
  w.Key("n");
  w.String(names.Name(a.name));
  if (a.kind != AttrKind::kProperty) {
    w.Key("k");
    w.Int(static_cast<int>(a.kind));
  }
  NameMember(w, "d", a.dataset_id, names);
  NameMember(w, "u", a.unit_code, names);
  TimeMember(w, "o", a.observed_at);
  TimeMember(w, "c", a.created_at);
  TimeMember(w, "m", a.modified_at);
  NameMember(w, "vt", a.v2_type, names);
  w.Key("v");
  w.Value(a.value);
  if (!a.sub.empty()) {
    w.Key("s");
    w.BeginArray();
    for (const Attribute& s : a.sub) EncodeAttribute(w, s, names);
    w.EndArray();
  }
  w.EndObject();
}

// Readers of one member each; false (with `why` set) when it is not what EncodeStoredEntity writes.
struct Reader {
  std::string why;

  bool String(const boost::json::object& o, std::string_view key, std::string& out) {
    auto* v = o.if_contains(key);
    if (v == nullptr) return true;
    if (!v->is_string()) return Fail(key);
    out.assign(v->get_string().begin(), v->get_string().end());
    return true;
  }
  bool Name(const boost::json::object& o, std::string_view key, uint32_t& out, Interner& names) {
    std::string s;
    if (!String(o, key, s)) return false;
    if (o.contains(key)) out = names.Intern(s);
    return true;
  }
  bool Time(const boost::json::object& o, std::string_view key, int64_t& out) {
    auto* v = o.if_contains(key);
    if (v == nullptr) return true;
    if (!v->is_int64()) return Fail(key);
    out = v->get_int64();
    return true;
  }
  bool Fail(std::string_view key) {
    why = "member \"" + std::string(key) + "\" is not what the store writes";
    return false;
  }

  bool Attr(const boost::json::value& v, Attribute& a, Interner& names, int depth) {
    if (!v.is_object() || depth > 16) return Fail("a");  // the API accepts 8 levels
    const auto& o = v.get_object();
    auto* n = o.if_contains("n");
    if (n == nullptr || !n->is_string()) return Fail("n");
    a.name = names.Intern(n->get_string());
    if (auto* k = o.if_contains("k")) {
      if (!k->is_int64() || k->get_int64() < 0 || k->get_int64() > static_cast<int>(AttrKind::kListRelationship)) {
        return Fail("k");
      }
      a.kind = static_cast<AttrKind>(k->get_int64());
    }
    if (!Name(o, "d", a.dataset_id, names) || !Name(o, "u", a.unit_code, names) || !Time(o, "o", a.observed_at) ||
        !Time(o, "c", a.created_at) || !Time(o, "m", a.modified_at) || !Name(o, "vt", a.v2_type, names)) {
      return false;
    }
    auto* value = o.if_contains("v");
    if (value == nullptr) return Fail("v");
    a.value = *value;
    if (auto* s = o.if_contains("s")) {
      if (!s->is_array()) return Fail("s");
      a.sub.resize(s->get_array().size());
      for (size_t i = 0; i < a.sub.size(); ++i) {
        if (!Attr(s->get_array()[i], a.sub[i], names, depth + 1)) return false;
      }
    }
    return true;
  }
};

}  // namespace

void EncodeStoredEntity(std::string& out, std::string_view tenant, const Entity& e, const Interner& names) {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("t");
  w.String(tenant);
  w.Key("id");
  w.String(e.id);
  if (!e.v2_id.empty()) {
    w.Key("v2");
    w.String(e.v2_id);
  }
  if (!e.service_path.empty()) {
    w.Key("sp");
    w.String(e.service_path);
  }
  w.Key("ty");
  w.BeginArray();
  for (uint32_t t : e.types) w.String(names.Name(t));
  w.EndArray();
  TimeMember(w, "c", e.created_at);
  TimeMember(w, "m", e.modified_at);
  w.Key("a");
  w.BeginArray();
  for (const Attribute& a : e.attrs) EncodeAttribute(w, a, names);
  w.EndArray();
  w.EndObject();
}

Expected<StoredEntity> DecodeStoredEntity(std::string_view text, Interner& names) {
  boost::system::error_code ec;
  boost::json::value v = ParseJson(text, ec);
  if (ec || !v.is_object()) return Unexpected(Error::Io("a stored entity is not a JSON object"));
  const auto& o = v.get_object();
  StoredEntity out;
  Entity& e = out.entity;
  Reader r;
  auto* id = o.if_contains("id");
  auto* types = o.if_contains("ty");
  auto* attrs = o.if_contains("a");
  bool ok = o.contains("t") && id != nullptr && id->is_string() && types != nullptr && types->is_array() &&
            attrs != nullptr && attrs->is_array();
  if (!ok) return Unexpected(Error::Io("a stored entity lacks its tenant, id, types or attributes"));
  ok = r.String(o, "t", out.tenant) && r.String(o, "id", e.id) && r.String(o, "v2", e.v2_id) &&
       r.String(o, "sp", e.service_path) && r.Time(o, "c", e.created_at) && r.Time(o, "m", e.modified_at);
  for (const auto& t : types->get_array()) {
    if (!ok) break;
    if (!t.is_string()) ok = r.Fail("ty");
    else e.types.push_back(names.Intern(t.get_string()));
  }
  e.attrs.resize(attrs->get_array().size());
  for (size_t i = 0; ok && i < e.attrs.size(); ++i) ok = r.Attr(attrs->get_array()[i], e.attrs[i], names, 0);
  if (!ok) return Unexpected(Error::Io("stored entity " + e.id + ": " + r.why));
  return out;
}

void EncodeStoredDocument(std::string& out, std::string_view tenant, std::string_view id, std::string_view doc) {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("t");
  w.String(tenant);
  w.Key("id");
  w.String(id);
  w.Key("doc");
  w.Raw(doc);
  w.EndObject();
}

Expected<StoredDocument> DecodeStoredDocument(char kind, std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = ParseJson(text, ec);
  const boost::json::object* o = !ec ? v.if_object() : nullptr;
  const boost::json::value* t = o ? o->if_contains("t") : nullptr;
  const boost::json::value* id = o ? o->if_contains("id") : nullptr;
  const boost::json::value* doc = o ? o->if_contains("doc") : nullptr;
  if (!t || !t->is_string() || !id || !id->is_string() || !doc) {
    return Unexpected(Error::Io(std::string("a stored ") + (kind == 's' ? "subscription" : "registration") +
                                " is not what the store writes"));
  }
  return StoredDocument{kind, std::string(t->get_string()), std::string(id->get_string()), std::move(v.as_object()["doc"])};
}

}  // namespace citybed::broker
