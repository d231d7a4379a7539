// NGSI-v2 queries: GET /v2/entities, POST /v2/op/query, /v2/types.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

using EntityQuery = NgsiV2Api::Impl::EntityQuery;

Expected<PatternPtr, OrionError> Regex(std::string_view what, const std::string& pattern) {
  if (pattern.size() > 256) return Unexpected(V2BadRequest(std::string(what) + " longer than 256 characters"));
  auto re = Pattern::Compile(pattern);
  if (!re) return Unexpected(V2BadRequest("invalid " + std::string(what) + " /" + pattern + "/: " + re.error()));
  return *re;
}

bool ParseNumber(std::string_view s, double& out) {
  const std::string t(Trim(s));
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return !t.empty() && end == t.c_str() + t.size() && std::isfinite(out);
}

// A query value for sorting, in MongoDB's order of kinds (missing, null, numbers, strings,
// objects, arrays, booleans), as Orion sorts.
int KindRank(const json::value* v) {
  if (v == nullptr) return 0;
  switch (v->kind()) {
    case json::kind::null: return 1;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return 2;
    case json::kind::string: return 3;
    case json::kind::object: return 4;
    case json::kind::array: return 5;
    case json::kind::bool_: return 6;
  }
  return 7;
}

int CompareValues(const json::value* a, const json::value* b) {
  // DateTimes compare as instants (they are kept as written, in any offset), before other values.
  auto instant = [](const json::value* v) -> std::optional<int64_t> {
    if (v == nullptr || !v2::IsDateTimeValue(*v)) return std::nullopt;
    const json::value& at = v->get_object().at("@value");
    if (!at.is_string()) return std::nullopt;
    if (auto t = ParseIso8601Micros(at.get_string())) return *t;
    return std::nullopt;
  };
  const auto ta = instant(a), tb = instant(b);
  if (ta && tb) return *ta < *tb ? -1 : (*ta > *tb ? 1 : 0);
  if (ta || tb) return ta ? -1 : 1;
  const int ra = KindRank(a), rb = KindRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 2) {
    const double x = a->to_number<double>(), y = b->to_number<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == 3) {
    const int c = a->get_string().subview().compare(b->get_string().subview());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (ra == 6) return a->get_bool() == b->get_bool() ? 0 : (a->get_bool() ? 1 : -1);
  return 0;
}

bool IsOrderKeyChar(char c) { return !v2::ForbiddenNameChar(c) || c == ':'; }

// The distance from a point to the entity's location (any GeoProperty), metres; infinity if none.
double DistanceTo(const Entity& e, const GeoPoint& p) {
  double best = std::numeric_limits<double>::infinity();
  for (const Attribute& a : e.attrs) {
    if (a.kind != AttrKind::kGeoProperty || a.dataset_id != 0) continue;
    auto g = ParseGeoJson(a.value);
    if (!g) continue;
    GeoQuery q;
    q.rel = GeoRel::kNear;
    q.geometry = p;
    // Binary search is not needed: a near query with no bound measures through GeoMatches'
    // own distance; compute the point distance directly for points, else the envelope centre.
    if (const GeoPoint* gp = std::get_if<GeoPoint>(&*g)) {
      best = std::min(best, HaversineMetres(p, *gp));
    } else {
      const GeoBox box = Envelope(*g);
      const GeoPoint c((box.min_corner().get<0>() + box.max_corner().get<0>()) / 2,
                       (box.min_corner().get<1>() + box.max_corner().get<1>()) / 2);
      best = std::min(best, HaversineMetres(p, c));
    }
  }
  return best;
}

bool GeoSelects(const GeoQuery& q, const Entity& e) {
  for (const Attribute& a : e.attrs) {
    if (a.kind != AttrKind::kGeoProperty || a.dataset_id != 0) continue;
    auto g = ParseGeoJson(a.value);
    if (g && GeoMatches(q, *g)) return true;
  }
  return false;
}

}  // namespace

Expected<void, OrionError> NgsiV2Api::Impl::ReadGeo(std::string_view georel, std::string_view geometry,
                                                    std::string_view coords, EntityQuery& q) {
  if (georel.empty() && geometry.empty() && coords.empty()) return {};
  if (georel.empty() || geometry.empty() || coords.empty()) {
    return Unexpected(V2BadRequest("georel, geometry and coords go together: give all three"));
  }
  GeoQuery g;
  std::vector<std::string_view> parts = Split(georel, ';');
  const std::string_view rel = Trim(parts[0]);
  if (rel == "near") g.rel = GeoRel::kNear;
  else if (rel == "coveredBy") g.rel = GeoRel::kWithin;
  else if (rel == "intersects") g.rel = GeoRel::kIntersects;
  else if (rel == "equals") g.rel = GeoRel::kEquals;
  else if (rel == "disjoint") g.rel = GeoRel::kDisjoint;
  else return Unexpected(V2BadRequest("Invalid georel: " + std::string(georel) +
                                      " (near, coveredBy, intersects, equals or disjoint)"));
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view mod = Trim(parts[i]);
    const size_t colon = mod.find(':');
    const std::string_view key = mod.substr(0, colon);
    double d = 0;
    if (colon == std::string_view::npos || !ParseNumber(mod.substr(colon + 1), d) || d < 0) {
      return Unexpected(V2BadRequest("Invalid georel modifier: " + std::string(mod)));
    }
    if (g.rel != GeoRel::kNear) return Unexpected(V2BadRequest("georel modifiers are only for near: " + std::string(mod)));
    if (key == "maxDistance") g.max_distance = d;
    else if (key == "minDistance") g.min_distance = d;
    else return Unexpected(V2BadRequest("Invalid georel modifier: " + std::string(mod)));
  }
  if (g.rel == GeoRel::kNear && g.max_distance < 0 && g.min_distance < 0) {
    return Unexpected(V2BadRequest("georel near needs maxDistance or minDistance"));
  }
  // coords: "lat,lon;lat,lon;..."
  json::array positions;
  for (std::string_view pt : Split(coords, ';')) {
    const std::vector<std::string_view> ll = Split(pt, ',');
    double lat = 0, lon = 0;
    if (ll.size() != 2 || !ParseNumber(ll[0], lat) || !ParseNumber(ll[1], lon) || std::fabs(lat) > 90 ||
        std::fabs(lon) > 180) {
      return Unexpected(V2BadRequest("invalid coords: " + std::string(coords) + " (latitude,longitude;...)"));
    }
    positions.push_back(json::array{lon, lat});
  }
  Expected<Geometry, std::string> geom = Unexpected(std::string("unknown geometry"));
  if (geometry == "point") {
    if (positions.size() != 1) return Unexpected(V2BadRequest("a point geometry has exactly one coordinate pair"));
    geom = ParseGeometry("Point", positions[0]);
  } else if (geometry == "line") {
    if (positions.size() < 2) return Unexpected(V2BadRequest("a line geometry has at least two coordinate pairs"));
    geom = ParseGeometry("LineString", positions);
  } else if (geometry == "box") {
    if (positions.size() != 2) return Unexpected(V2BadRequest("a box geometry has exactly two coordinate pairs"));
    const double w = std::min(positions[0].as_array()[0].as_double(), positions[1].as_array()[0].as_double());
    const double e = std::max(positions[0].as_array()[0].as_double(), positions[1].as_array()[0].as_double());
    const double s = std::min(positions[0].as_array()[1].as_double(), positions[1].as_array()[1].as_double());
    const double n = std::max(positions[0].as_array()[1].as_double(), positions[1].as_array()[1].as_double());
    geom = ParseGeometry("Polygon", json::array{json::array{json::array{w, s}, json::array{e, s}, json::array{e, n},
                                                            json::array{w, n}, json::array{w, s}}});
  } else if (geometry == "polygon") {
    if (positions.size() < 4) return Unexpected(V2BadRequest("a polygon geometry has at least four coordinate pairs"));
    geom = ParseGeometry("Polygon", json::array{positions});
  } else {
    return Unexpected(V2BadRequest("Invalid geometry: " + std::string(geometry) + " (point, line, box or polygon)"));
  }
  if (!geom) return Unexpected(V2BadRequest("invalid " + std::string(geometry) + ": " + geom.error()));
  if (g.rel == GeoRel::kNear && !std::holds_alternative<GeoPoint>(*geom)) {
    return Unexpected(V2BadRequest("georel near needs geometry point"));
  }
  g.geometry = std::move(*geom);
  if (g.rel == GeoRel::kNear) {
    q.has_near = true;
    q.near_point = std::get<GeoPoint>(g.geometry);
  }
  q.geo = std::move(g);
  return {};
}

Expected<void, OrionError> NgsiV2Api::Impl::ReadListOptions(const Request& req, EntityQuery& q, bool allow_values) {
  auto opts = allow_values ? v2::ReadOptions(req, {"count", "keyValues", "values", "unique", "normalized"})
                           : v2::ReadOptions(req, {"count"});
  if (!opts) return Unexpected(opts.error());
  q.count = opts->count;
  if (opts->key_values) q.format = v2::RenderFormat::kKeyValues;
  if (opts->values) q.format = v2::RenderFormat::kValues;
  if (opts->unique) q.format = v2::RenderFormat::kUnique;
  q.limit = options_.default_limit;
  if (const std::string* l = req.FindParam("limit")) {
    size_t n = 0;
    if (!ParseCount(*l, n)) return Unexpected(V2BadRequest("Bad pagination limit: /" + *l + "/ [must be a decimal number]"));
    if (n == 0) return Unexpected(V2BadRequest("Bad pagination limit: /0/ [a value of ZERO is unacceptable]"));
    if (n > options_.max_limit) {
      return Unexpected(V2BadRequest("Bad pagination limit: /" + *l + "/ [max: " + std::to_string(options_.max_limit) + "]"));
    }
    q.limit = n;
  }
  if (const std::string* o = req.FindParam("offset")) {
    if (!ParseCount(*o, q.offset)) return Unexpected(V2BadRequest("Bad pagination offset: /" + *o + "/ [must be a decimal number]"));
  }
  if (const std::string* ob = req.FindParam("orderBy")) {
    for (std::string_view tok : Split(*ob, ',')) {
      tok = Trim(tok);
      const bool desc = !tok.empty() && tok.front() == '!';
      if (desc) tok.remove_prefix(1);
      if (tok.empty() || !std::all_of(tok.begin(), tok.end(), IsOrderKeyChar)) {
        return Unexpected(V2BadRequest("invalid orderBy token: " + std::string(tok)));
      }
      for (const auto& [k, d] : q.order_by) {
        if (k == tok) return Unexpected(V2BadRequest("orderBy token repeated: " + std::string(tok)));
      }
      q.order_by.emplace_back(std::string(tok), desc);
    }
  }
  return {};
}

Response NgsiV2Api::Impl::RunQuery(const Call& call, EntityQuery& q) {
  const Codec codec = MakeCodec();
  for (const auto& [key, desc] : q.order_by) {
    if (key == "geo:distance" && !q.has_near) {
      return OrionResponse(V2BadRequest("orderBy=geo:distance needs georel=near"));
    }
  }
  if (q.q) q.q->Bind(context(), names_, /*intern=*/false);
  if (q.mq) q.mq->Bind(context(), names_, /*intern=*/false);

  auto selects = [&](const Entity& e) {
    if (!call.scope.Contains(v2::ServicePathOf(e))) return false;
    if (!q.selectors.empty()) {
      const std::string_view id = v2::V2Id(e);
      const std::string_view type = v2::V2Type(e, codec);
      bool any = false;
      for (const auto& s : q.selectors) {
        if (!s.id.empty() && s.id != id) continue;
        if (s.id_regex && !s.id_regex->Search(id)) continue;
        if (!s.type.empty() && s.type != type) continue;
        if (s.type_regex && !s.type_regex->Search(type)) continue;
        any = true;
        break;
      }
      if (!any) return false;
    }
    if (q.q && !q.q->Matches(e)) return false;
    if (q.mq && !q.mq->Matches(e)) return false;
    if (q.geo && !GeoSelects(*q.geo, e)) return false;
    return true;
  };

  // Candidates: exact ids through the alias index, else a scan narrowed by types and the
  // spatial index.
  std::vector<EntityPtr> matches;
  const bool all_ids = !q.selectors.empty() &&
                       std::all_of(q.selectors.begin(), q.selectors.end(), [](const auto& s) { return !s.id.empty(); });
  if (all_ids) {
    std::set<std::string> seen;
    for (const auto& s : q.selectors) {
      if (!seen.insert(s.id).second) continue;
      for (EntityPtr& e : v2::FindById(store_, call.tenant, s.id)) {
        if (selects(*e)) matches.push_back(std::move(e));
      }
    }
  } else {
    ScanFilter filter;
    const bool all_typed = !q.selectors.empty() && std::all_of(q.selectors.begin(), q.selectors.end(), [](const auto& s) {
      return !s.type.empty();
    });
    if (all_typed) {
      for (const auto& s : q.selectors) filter.types.push_back(codec.context.FindId(s.type, names_));
    }
    if (q.geo) {
      GeoBox box;
      if (CandidateBox(*q.geo, box)) {
        filter.use_box = true;
        filter.box = box;
        filter.geoproperty = 0;
      }
    }
    store_.Scan(call.tenant, filter, [&](const EntityPtr& e) {
      if (selects(*e)) matches.push_back(e);
      return true;
    });
  }

  // Order: creation time (Orion's default), then the orderBy keys.
  std::stable_sort(matches.begin(), matches.end(), [](const EntityPtr& a, const EntityPtr& b) {
    if (a->created_at != b->created_at) return a->created_at < b->created_at;
    return a->id < b->id;
  });
  if (!q.order_by.empty()) {
    std::vector<std::pair<uint32_t, bool>> keys;  // attribute keys, expanded
    for (const auto& [key, desc] : q.order_by) keys.emplace_back(codec.context.FindId(key, names_), desc);
    auto cmp_key = [&](const Entity& a, const Entity& b, size_t i) -> int {
      const std::string& key = q.order_by[i].first;
      if (key == "id") return v2::V2Id(a).compare(v2::V2Id(b));
      if (key == "type") return v2::V2Type(a, codec).compare(v2::V2Type(b, codec));
      if (key == "dateCreated") return a.created_at < b.created_at ? -1 : (a.created_at > b.created_at ? 1 : 0);
      if (key == "dateModified") return a.modified_at < b.modified_at ? -1 : (a.modified_at > b.modified_at ? 1 : 0);
      if (key == "geo:distance") {
        const double da = DistanceTo(a, q.near_point), db = DistanceTo(b, q.near_point);
        return da < db ? -1 : (da > db ? 1 : 0);
      }
      const Attribute* x = a.Find(keys[i].first);
      const Attribute* y = b.Find(keys[i].first);
      return CompareValues(x ? &x->value : nullptr, y ? &y->value : nullptr);
    };
    std::stable_sort(matches.begin(), matches.end(), [&](const EntityPtr& a, const EntityPtr& b) {
      for (size_t i = 0; i < q.order_by.size(); ++i) {
        int c = cmp_key(*a, *b, i);
        if (q.order_by[i].second) c = -c;
        if (c != 0) return c < 0;
      }
      return false;
    });
  }

  const v2::Projection proj = v2::MakeProjection(q.attrs, q.metadata, codec);
  std::string body;
  body.reserve(std::min(matches.size(), q.limit) * 400 + 2);
  JsonWriter w(body);
  w.BeginArray();
  for (size_t i = q.offset; i < matches.size() && i < q.offset + q.limit; ++i) {
    v2::RenderEntity(w, *matches[i], q.format, proj, codec);
  }
  w.EndArray();
  Response r = Json(200, std::move(body));
  if (q.count) r.SetHeader("Fiware-Total-Count", std::to_string(matches.size()));
  return r;
}

Response NgsiV2Api::Impl::ListEntities(Request& req, const PathParams&) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  EntityQuery q;
  if (auto ok = ReadListOptions(req, q, true); !ok) return OrionResponse(ok.error());
  const std::string* id = req.FindParam("id");
  const std::string* id_pattern = req.FindParam("idPattern");
  const std::string* type = req.FindParam("type");
  const std::string* type_pattern = req.FindParam("typePattern");
  if (id && id_pattern) return OrionResponse(V2BadRequest("Incompatible parameters: id, idPattern"));
  if (type && type_pattern) return OrionResponse(V2BadRequest("Incompatible parameters: type, typePattern"));
  std::vector<std::string> ids, types;
  if (id) ids = v2::ListParam(req, "id");
  if (type) types = v2::ListParam(req, "type");
  for (const std::string& t : types) {
    if (std::string bad = v2::CheckIdentifier("entity type", t); !bad.empty()) return OrionResponse(V2BadRequest(bad));
  }
  PatternPtr id_re, type_re;
  if (id_pattern) {
    auto re = Regex("idPattern", *id_pattern);
    if (!re) return OrionResponse(re.error());
    id_re = *re;
  }
  if (type_pattern) {
    auto re = Regex("typePattern", *type_pattern);
    if (!re) return OrionResponse(re.error());
    type_re = *re;
  }
  if (!ids.empty() || !types.empty() || id_re || type_re) {
    const std::vector<std::string> id_list = ids.empty() ? std::vector<std::string>{""} : ids;
    const std::vector<std::string> type_list = types.empty() ? std::vector<std::string>{""} : types;
    for (const std::string& i : id_list) {
      for (const std::string& t : type_list) q.selectors.push_back({i, id_re, t, type_re});
    }
  }
  if (const std::string* text = req.FindParam("q")) {
    auto parsed = Query::ParseV2(*text, false);
    if (!parsed) return OrionResponse(V2BadRequest(parsed.error().detail));
    q.q = std::move(*parsed);
  }
  if (const std::string* text = req.FindParam("mq")) {
    auto parsed = Query::ParseV2(*text, true);
    if (!parsed) return OrionResponse(V2BadRequest(parsed.error().detail));
    q.mq = std::move(*parsed);
  }
  auto param = [&](std::string_view n) {
    const std::string* v = req.FindParam(n);
    return v ? std::string_view(*v) : std::string_view();
  };
  if (auto ok = ReadGeo(param("georel"), param("geometry"), param("coords"), q); !ok) return OrionResponse(ok.error());
  q.attrs = v2::ListParam(req, "attrs");
  q.metadata = v2::ListParam(req, "metadata");
  return RunQuery(*call, q);
}

Response NgsiV2Api::Impl::QueryOp(Request& req, const PathParams&) {
  auto call = Prepare(req, false, true);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("the query is a JSON object"));
  EntityQuery q;
  if (auto ok = ReadListOptions(req, q, true); !ok) return OrionResponse(ok.error());
  const json::object& o = body->get_object();
  auto strings = [&](const json::value& v, std::string_view what, std::vector<std::string>& out) -> std::optional<OrionError> {
    if (!v.is_array()) return V2BadRequest(std::string(what) + " must be an array of strings");
    for (const auto& e : v.get_array()) {
      if (!e.is_string()) return V2BadRequest(std::string(what) + " must be an array of strings");
      out.emplace_back(e.get_string());
    }
    return std::nullopt;
  };
  for (const auto& kv : o) {
    if (kv.key() == "entities") {
      if (!kv.value().is_array()) return OrionResponse(V2BadRequest("entities must be an array"));
      for (const auto& ev : kv.value().get_array()) {
        if (!ev.is_object()) return OrionResponse(V2BadRequest("each of entities is an object"));
        const json::object& eo = ev.get_object();
        EntityQuery::Selector s;
        for (const auto& m : eo) {
          if (!m.value().is_string()) return OrionResponse(V2BadRequest(std::string(m.key()) + " must be a string"));
          const std::string v(m.value().get_string());
          if (m.key() == "id") s.id = v;
          else if (m.key() == "type") s.type = v;
          else if (m.key() == "idPattern") {
            auto re = Regex("idPattern", v);
            if (!re) return OrionResponse(re.error());
            s.id_regex = *re;
          } else if (m.key() == "typePattern") {
            auto re = Regex("typePattern", v);
            if (!re) return OrionResponse(re.error());
            s.type_regex = *re;
          } else {
            return OrionResponse(V2BadRequest("unrecognized member of entities: " + std::string(m.key())));
          }
        }
        if ((!s.id.empty() && s.id_regex) || (!s.type.empty() && s.type_regex)) {
          return OrionResponse(V2BadRequest("id and idPattern (type and typePattern) exclude one another"));
        }
        if (s.id.empty() && !s.id_regex) {
          s.id_regex = *Pattern::Compile(".*");
        }
        q.selectors.push_back(std::move(s));
      }
    } else if (kv.key() == "attrs" || kv.key() == "attributes") {
      if (auto bad = strings(kv.value(), kv.key(), q.attrs)) return OrionResponse(*bad);
    } else if (kv.key() == "metadata") {
      if (auto bad = strings(kv.value(), "metadata", q.metadata)) return OrionResponse(*bad);
    } else if (kv.key() == "expression") {
      if (!kv.value().is_object()) return OrionResponse(V2BadRequest("expression must be an object"));
      std::string georel, geometry, coords;
      for (const auto& m : kv.value().get_object()) {
        if (!m.value().is_string()) return OrionResponse(V2BadRequest("expression." + std::string(m.key()) + " must be a string"));
        const std::string v(m.value().get_string());
        if (m.key() == "q" || m.key() == "mq") {
          auto parsed = Query::ParseV2(v, m.key() == "mq");
          if (!parsed) return OrionResponse(V2BadRequest(parsed.error().detail));
          (m.key() == "q" ? q.q : q.mq) = std::move(*parsed);
        } else if (m.key() == "georel") {
          georel = v;
        } else if (m.key() == "geometry") {
          geometry = v;
        } else if (m.key() == "coords") {
          coords = v;
        } else {
          return OrionResponse(V2BadRequest("unrecognized member of expression: " + std::string(m.key())));
        }
      }
      if (auto ok = ReadGeo(georel, geometry, coords, q); !ok) return OrionResponse(ok.error());
    } else {
      return OrionResponse(V2BadRequest("unrecognized member of the query: " + std::string(kv.key())));
    }
  }
  return RunQuery(*call, q);
}

namespace {

struct TypeInfo {
  size_t count = 0;
  std::map<std::string, std::set<std::string>> attrs;
};

void RenderTypeBody(JsonWriter& w, const TypeInfo& t, bool detail) {
  w.Key("attrs");
  w.BeginObject();
  for (const auto& [name, types] : t.attrs) {
    w.Key(name);
    w.BeginObject();
    w.Key("types");
    w.BeginArray();
    if (detail) {
      for (const std::string& ty : types) w.String(ty);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  w.Key("count");
  w.Int(static_cast<int64_t>(t.count));
}

}  // namespace

Response NgsiV2Api::Impl::ListTypes(Request& req, const PathParams&) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto opts = v2::ReadOptions(req, {"count", "values", "noAttrDetail"});
  if (!opts) return OrionResponse(opts.error());
  EntityQuery paging;
  {
    Request plain = req;  // limit/offset only
    std::erase_if(plain.query, [](const auto& kv) { return kv.first == "options" || kv.first == "orderBy"; });
    if (auto ok = ReadListOptions(plain, paging, false); !ok) return OrionResponse(ok.error());
  }
  const Codec codec = MakeCodec();
  std::map<std::string, TypeInfo> types;
  store_.Scan(call->tenant, ScanFilter{}, [&](const EntityPtr& e) {
    if (!call->scope.Contains(v2::ServicePathOf(*e)) || e->types.empty()) return true;
    TypeInfo& t = types[std::string(v2::V2Type(*e, codec))];
    ++t.count;
    if (!opts->values) {
      for (const Attribute& a : e->attrs) {
        if (a.dataset_id != 0) continue;
        t.attrs[std::string(codec.context.CompactId(a.name, names_))].insert(v2::V2AttrType(a, names_));
      }
    }
    return true;
  });
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  size_t i = 0;
  for (const auto& [name, info] : types) {
    if (i++ < paging.offset) continue;
    if (i > paging.offset + paging.limit) break;
    if (opts->values) {
      w.String(name);
      continue;
    }
    w.BeginObject();
    w.Key("type");
    w.String(name);
    RenderTypeBody(w, info, !opts->no_attr_detail);
    w.EndObject();
  }
  w.EndArray();
  Response r = Json(200, std::move(body));
  if (opts->count) r.SetHeader("Fiware-Total-Count", std::to_string(types.size()));
  return r;
}

Response NgsiV2Api::Impl::RetrieveType(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto opts = v2::ReadOptions(req, {"noAttrDetail"});
  if (!opts) return OrionResponse(opts.error());
  const std::string& type = p.Get("entityType");
  if (std::string bad = v2::CheckIdentifier("entity type", type); !bad.empty()) return OrionResponse(V2BadRequest(bad));
  const Codec codec = MakeCodec();
  ScanFilter filter;
  filter.types.push_back(codec.context.FindId(type, names_));
  TypeInfo info;
  store_.Scan(call->tenant, filter, [&](const EntityPtr& e) {
    if (!call->scope.Contains(v2::ServicePathOf(*e)) || v2::V2Type(*e, codec) != type) return true;
    ++info.count;
    for (const Attribute& a : e->attrs) {
      if (a.dataset_id != 0) continue;
      info.attrs[std::string(codec.context.CompactId(a.name, names_))].insert(v2::V2AttrType(a, names_));
    }
    return true;
  });
  if (info.count == 0) return OrionResponse(OrionError{404, "NotFound", "Entity type not found"});
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  RenderTypeBody(w, info, !opts->no_attr_detail);
  w.EndObject();
  return Json(200, std::move(body));
}

}  // namespace citybed::broker
