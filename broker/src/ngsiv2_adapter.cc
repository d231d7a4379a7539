#include "citybed/broker/ngsiv2_adapter.h"

#include <boost/json.hpp>

#include "citybed/broker/json_writer.h"
#include "citybed/common/strings.h"
#include "json_parse.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {

namespace json = boost::json;

namespace {

Expected<Entity, std::string> FromV2(const json::value& v, const Codec& codec) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Unexpected(std::string("an entity that is not a JSON object"));
  const json::value* id = o->if_contains("id");
  if (id == nullptr || !id->is_string() || id->get_string().empty()) return Unexpected(std::string("an entity without an id"));
  std::string type = "Thing";  // Orion's default
  if (const json::value* t = o->if_contains("type"); t && t->is_string()) type = std::string(t->get_string());
  auto attrs = v2::ParseAttrs(*o, codec, false, UnixMicrosNow(), true);
  if (!attrs) return Unexpected("entity " + std::string(id->get_string()) + ": " + attrs.error().description);
  Entity e;
  const std::string v2id(id->get_string());
  e.id = v2::PreferredKey(v2id);
  if (e.id != v2id) e.v2_id = v2id;
  e.types.push_back(codec.context.ExpandToId(type, codec.names));
  for (v2::V2Attr& a : *attrs) e.attrs.push_back(std::move(a.attr));
  return e;
}

}  // namespace

Expected<std::string, std::string> V2ToLd::Convert(std::string_view v2_json, const RenderOptions& opts) const {
  boost::system::error_code ec;
  const json::value doc = ParseJson(v2_json, ec);
  if (ec) return Unexpected("not JSON: " + ec.message());
  const Codec codec{names_, ctx_};
  std::string out;
  JsonWriter w(out);
  if (const json::array* arr = doc.if_array()) {
    w.BeginArray();
    for (const json::value& v : *arr) {
      auto e = FromV2(v, codec);
      if (!e) return Unexpected(std::move(e).error());
      RenderEntity(w, *e, opts, codec);
    }
    w.EndArray();
    return out;
  }
  auto e = FromV2(doc, codec);
  if (!e) return Unexpected(std::move(e).error());
  RenderEntity(w, *e, opts, codec);
  return out;
}

}  // namespace citybed::broker
