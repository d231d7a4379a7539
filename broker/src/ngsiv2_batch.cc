// NGSI-v2 batch update: POST /v2/op/update (append, appendStrict, update, delete, replace).
#include <algorithm>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

enum class Action { kAppend, kAppendStrict, kUpdate, kDelete, kReplace };

bool ParseAction(std::string_view s, Action& a) {
  // The camelCase names, and the upper-case ones of older Orion versions.
  if (s == "append" || s == "APPEND") a = Action::kAppend;
  else if (s == "appendStrict" || s == "APPEND_STRICT") a = Action::kAppendStrict;
  else if (s == "update" || s == "UPDATE") a = Action::kUpdate;
  else if (s == "delete" || s == "DELETE") a = Action::kDelete;
  else if (s == "replace" || s == "REPLACE") a = Action::kReplace;
  else return false;
  return true;
}

std::string Names(const std::vector<std::string>& names) {
  std::string out = "[ ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out + " ]";
}

}  // namespace

Response NgsiV2Api::Impl::UpdateOp(Request& req, const PathParams&) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = v2::ReadOptions(req, {"keyValues", "overrideMetadata", "forcedUpdate", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("a batch update is a JSON object"));
  const json::object& o = body->get_object();
  const json::value* at = o.if_contains("actionType");
  if (at == nullptr) return OrionResponse(V2BadRequest("actionType is missing"));
  Action action;
  if (!at->is_string() || !ParseAction(at->get_string(), action)) {
    return OrionResponse(V2BadRequest("invalid update action type: right ones are: append, appendStrict, delete, "
                                      "replace, update"));
  }
  const json::value* ents = o.if_contains("entities");
  if (ents == nullptr) return OrionResponse(V2BadRequest("entities is missing"));
  if (!ents->is_array()) return OrionResponse(V2BadRequest("entities must be an array"));
  if (ents->get_array().size() > options_.max_batch) {
    return OrionResponse(V2BadRequest("a batch update may hold at most " + std::to_string(options_.max_batch) +
                                      " entities (citybed broker --max-batch)"));
  }
  for (const auto& kv : o) {
    if (kv.key() != "actionType" && kv.key() != "entities") {
      return OrionResponse(V2BadRequest("unrecognized member of a batch update: " + std::string(kv.key())));
    }
  }
  const int64_t now = UnixMicrosNow();
  const Codec codec = MakeCodec();

  // Parse everything first: a malformed entity refuses the whole request.
  struct Item {
    std::string id;
    std::string type;  // empty: not given
    std::vector<v2::V2Attr> attrs;
    uint32_t type_id = 0;  // the type an append creates the entity with (interned here, before any write)
  };
  std::vector<Item> items;
  items.reserve(ents->get_array().size());
  for (const auto& ev : ents->get_array()) {
    if (!ev.is_object()) return OrionResponse(V2BadRequest("each of entities is a JSON object"));
    const json::object& eo = ev.get_object();
    Item it;
    const json::value* id = eo.if_contains("id");
    if (id == nullptr || !id->is_string()) return OrionResponse(V2BadRequest("an entity of the batch has no id"));
    it.id = std::string(id->get_string());
    if (std::string bad = v2::CheckIdentifier("entity id", it.id); !bad.empty()) return OrionResponse(V2BadRequest(bad));
    if (const json::value* t = eo.if_contains("type")) {
      if (!t->is_string()) return OrionResponse(V2BadRequest("Invalid JSON type for entity type"));
      it.type = std::string(t->get_string());
      if (std::string bad = v2::CheckIdentifier("entity type", it.type); !bad.empty()) {
        return OrionResponse(V2BadRequest(bad));
      }
    }
    if (action == Action::kDelete) {
      // delete names attributes only: their content is ignored.
      for (const auto& kv : eo) {
        if (kv.key() == "id" || kv.key() == "type") continue;
        v2::V2Attr a;
        a.attr.name = codec.context.FindId(kv.key(), names_);  // looked up: a delete adds no name
        it.attrs.push_back(std::move(a));
      }
    } else {
      auto attrs = v2::ParseAttrs(eo, codec, opts->key_values, now, true);
      if (!attrs) return OrionResponse(attrs.error());
      if (action == Action::kAppend || action == Action::kAppendStrict) {
        it.type_id = codec.context.ExpandToId(it.type.empty() ? "Thing" : it.type, names_);
      }
      it.attrs = std::move(*attrs);
    }
    items.push_back(std::move(it));
  }

  size_t ok = 0, not_found = 0;
  std::vector<std::string> attr_failures;  // "id - [ a, b ]"
  bool attrs_missing = false;
  for (Item& it : items) {
    // The common case, a URI id in a tenant where every entity's v2 id is its key, takes one
    // lookup: the update itself checks that the entity at that key is the one named (v2 id,
    // type, service path). Otherwise, or when it is not, the id is resolved first (FindOne).
    bool resolved = !(IsUri(it.id) && !store_.HasAliases(call->tenant));
    for (;;) {  // at most twice: directly, then resolved
      std::string key = it.id;
      bool mismatch = false;
      if (resolved) {
        auto found = FindOne(*call, it.id, it.type.empty() ? nullptr : &it.type);
        if (!found && found.error().status != 404) return OrionResponse(found.error());
        const bool exists = static_cast<bool>(found);
        if (!exists) {
          if (action == Action::kAppend || action == Action::kAppendStrict) {
            Entity e;
            e.id = it.id;
            e.types.push_back(it.type_id);
            e.created_at = e.modified_at = now;
            e.service_path = call->scope.items.empty() ? "/" : call->scope.items[0].path;
            for (v2::V2Attr& a : it.attrs) {
              if (e.Find(a.attr.name) == nullptr) e.attrs.push_back(v2::MergeAttr(nullptr, std::move(a), false, names_, now));
            }
            if (auto bad = v2::CheckOneLocation(e)) return OrionResponse(*bad);
            auto change = Create(call->tenant, std::move(e));
            if (!change) {
              attr_failures.push_back(it.id + " - " + change.error().description);
              break;
            }
            Notify(call->tenant, *change, AllAttributeNames(*change->after), opts->forced_update);
            ++ok;
          } else {
            ++not_found;
            attr_failures.push_back(it.id + " - [ entity itself ]");
            attrs_missing = true;
          }
          break;
        }
        key = (*found)->id;
      }
      WriteOutcome out;
      std::vector<uint32_t> touched;
      std::optional<OrionError> refused;
      auto change = store_.Mutate(call->tenant, key, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
        refused.reset();
        out = {};
        touched.clear();
        if (!current) return current;
        if (!resolved && (v2::V2Id(*current) != it.id || !call->scope.Contains(v2::ServicePathOf(*current)) ||
                          (!it.type.empty() && v2::V2Type(*current, codec) != it.type))) {
          mismatch = true;
          return current;
        }
        auto next = std::make_shared<Entity>(*current);
        switch (action) {
          case Action::kAppend:
          case Action::kAppendStrict:
          case Action::kUpdate:
            out = WriteAttrs(*next, it.attrs,
                             action == Action::kAppend       ? WriteMode::kUpsert
                             : action == Action::kAppendStrict ? WriteMode::kAppendOnly
                                                               : WriteMode::kUpdateOnly,
                             opts->override_metadata, now);
            touched = out.written;
            if (out.written.empty()) return current;
            break;
          case Action::kReplace:
            touched = AllAttributeNames(*current);
            next->attrs.clear();
            for (const v2::V2Attr& a : it.attrs) {
              next->attrs.push_back(v2::MergeAttr(nullptr, a, false, names_, now));
              if (std::find(touched.begin(), touched.end(), a.attr.name) == touched.end()) touched.push_back(a.attr.name);
            }
            next->modified_at = now;
            break;
          case Action::kDelete:
            if (it.attrs.empty()) return EntityPtr();  // the whole entity
            for (const v2::V2Attr& a : it.attrs) {
              if (!next->HasAttribute(a.attr.name)) {
                out.missing.emplace_back(codec.context.CompactId(a.attr.name, names_));
                continue;
              }
              std::erase_if(next->attrs, [&](const Attribute& x) { return x.name == a.attr.name; });
              touched.push_back(a.attr.name);
            }
            if (touched.empty()) return current;
            next->modified_at = now;
            break;
        }
        if (auto bad = v2::CheckOneLocation(*next)) {
          refused = *bad;
          return current;
        }
        return EntityPtr(next);
      });
      if (refused) return OrionResponse(*refused);
      if (RefusedByStore(change)) {  // a limit (--max-attrs): this entity fails with its reason
        attr_failures.push_back(it.id + " - " + change.error().detail);
        break;
      }
      if (!resolved && (mismatch || !change || !change->before)) {
        // Not there, or another entity: resolve the id the general way (which may create it).
        resolved = true;
        continue;
      }
      if (!change || !change->before) {
        ++not_found;
        attr_failures.push_back(it.id + " - [ entity itself ]");
        attrs_missing = true;
        break;
      }
      if (change->changed()) {
        Notify(call->tenant, *change, change->after ? touched : AllAttributeNames(*change->before),
               opts->forced_update);
      } else if (opts->forced_update && !touched.empty()) {
        Notify(call->tenant, *change, touched, true);
      }
      const bool failed = !out.missing.empty() || !out.existing.empty();
      if (!out.missing.empty()) {
        attr_failures.push_back(it.id + " - " + Names(out.missing));
        attrs_missing = true;
      }
      if (!out.existing.empty()) attr_failures.push_back(it.id + " - " + Names(out.existing));
      // An entity counts as done when something of it was written.
      if (!failed || !touched.empty()) ++ok;
      break;
    }
  }
  if (attr_failures.empty()) return NoContent();
  if (not_found == items.size()) return OrionResponse(V2EntityNotFound());
  std::string list;
  for (const std::string& f : attr_failures) {
    if (!list.empty()) list += ", ";
    list += f;
  }
  const std::string what = attrs_missing ? "do not exist: " : "already exist: ";
  return OrionResponse(OrionError{422, ok > 0 ? "PartialUpdate" : "Unprocessable",
                                  "one or more of the attributes in the request " + what + list});
}

}  // namespace citybed::broker
