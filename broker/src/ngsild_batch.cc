// Batch operations: POST /entityOperations/{create,upsert,update,delete,merge}.
// Each entity succeeds or fails on its own; the answer is 201/204 when all succeeded and
// 207 with a BatchOperationResult {"success": [ids], "errors": [{"entityId", "error"}]} when not.
#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

struct BatchResult {
  std::vector<std::string> success;
  std::vector<std::string> created;
  std::vector<std::pair<std::string, Problem>> errors;
};

enum class BatchKind { kCreate, kUpsertReplace, kUpsertUpdate, kUpdate, kUpdateNoOverwrite };

}  // namespace

namespace {

Response BatchResponse(const BatchResult& r, bool report_created) {
  Response resp;
  if (r.errors.empty()) {
    if (report_created && !r.created.empty()) {
      resp.status = 201;
      JsonWriter w(resp.body);
      w.BeginArray();
      for (const std::string& id : r.created) w.String(id);
      w.EndArray();
      resp.SetHeader("Content-Type", "application/json");
    } else {
      resp.status = 204;
    }
    return resp;
  }
  resp.status = 207;
  JsonWriter w(resp.body);
  w.BeginObject();
  w.Key("success");
  w.BeginArray();
  for (const std::string& id : r.success) w.String(id);
  w.EndArray();
  w.Key("errors");
  w.BeginArray();
  for (const auto& [id, problem] : r.errors) {
    w.BeginObject();
    w.Key("entityId");
    w.String(id);
    w.Key("error");
    w.Raw(problem.ToJson());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  resp.SetHeader("Content-Type", "application/json");
  return resp;
}

}  // namespace

static Response RunBatch(NgsiLdApi::Impl& api, Request& req, BatchKind kind) {
  auto call = api.Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = api.ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_array()) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch must be a JSON array of entities"));
  }
  const json::array& items = body->get_array();
  if (items.empty()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch needs at least one entity"));
  if (items.size() > api.options_.max_batch) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData,
                                       "a batch may hold at most " + std::to_string(api.options_.max_batch) + " entities (citybed broker --max-batch)"));
  }
  if (kind != BatchKind::kCreate && kind != BatchKind::kUpsertReplace && kind != BatchKind::kUpsertUpdate &&
      !api.TenantExists(call->tenant)) {
    return ProblemResponse(api.TenantMissing(call->tenant));
  }
  const int64_t now = UnixMicrosNow();
  BatchResult result;
  result.success.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const json::value& item = items[i];
    std::string label;
    if (!item.is_object()) {
      label = "entity #" + std::to_string(i);
      result.errors.emplace_back(label, MakeProblem(ErrorType::kBadRequestData, "batch items must be JSON objects"));
      continue;
    }
    const json::object& o = item.get_object();
    if (const json::value* id = o.if_contains("id"); id && id->is_string()) label = std::string(id->get_string());
    else label = "entity #" + std::to_string(i);
    auto ctx = api.PayloadContext(o, *call);
    if (!ctx) {
      result.errors.emplace_back(label, ctx.error());
      continue;
    }
    const bool needs_type = kind == BatchKind::kCreate || kind == BatchKind::kUpsertReplace || kind == BatchKind::kUpsertUpdate;
    auto parsed = ParseEntity(o, api.MakeCodec(**ctx), now, true, needs_type);
    if (!parsed) {
      result.errors.emplace_back(label, parsed.error());
      continue;
    }
    if ((kind == BatchKind::kCreate || kind == BatchKind::kUpsertReplace) && ContainsNgsiLdNull(*parsed)) {
      result.errors.emplace_back(label, MakeProblem(ErrorType::kBadRequestData,
                                                    "urn:ngsi-ld:null may only appear in partial updates and merges"));
      continue;
    }
    auto entity = std::make_shared<Entity>(std::move(*parsed));
    const std::string id = entity->id;
    std::vector<uint32_t> touched;
    bool created = false;
    auto change = api.store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
      created = current == nullptr;
      switch (kind) {
        case BatchKind::kCreate:
          if (current) return Unexpected(MakeProblem(ErrorType::kAlreadyExists, "entity " + id + " already exists"));
          touched = AllAttributeNames(*entity);
          return EntityPtr(entity);
        case BatchKind::kUpsertReplace: {
          touched = AllAttributeNames(*entity);
          if (!current) return EntityPtr(entity);
          auto next = std::make_shared<Entity>(*entity);
          next->created_at = current->created_at;
          next->v2_id = current->v2_id;  // the NGSI-v2 identity stays (ngsiv2_mapping.h)
          next->service_path = current->service_path;
          return EntityPtr(next);
        }
        case BatchKind::kUpsertUpdate:
        case BatchKind::kUpdate:
        case BatchKind::kUpdateNoOverwrite: {
          if (!current) {
            if (kind != BatchKind::kUpsertUpdate) {
              return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " does not exist"));
            }
            touched = AllAttributeNames(*entity);
            return EntityPtr(entity);
          }
          auto next = std::make_shared<Entity>(*current);
          for (uint32_t t : entity->types) if (!next->HasType(t)) next->types.push_back(t);
          auto out = NgsiLdApi::Impl::ApplyAttributes(
              *next, entity->attrs,
              kind == BatchKind::kUpdateNoOverwrite ? NgsiLdApi::Impl::AttrMode::kAppendNoOverwrite
                                                    : NgsiLdApi::Impl::AttrMode::kAppend,
              now);
          touched = out.updated;
          if (out.updated.empty() && next->types.size() == current->types.size()) return current;
          return EntityPtr(next);
        }
      }
      return current;
    });
    if (!change) {
      result.errors.emplace_back(id, change.error());
      continue;
    }
    api.Notify(call->tenant, *change, touched);
    result.success.push_back(id);
    if (created && change->after) result.created.push_back(id);
  }
  return BatchResponse(result, kind != BatchKind::kUpdate && kind != BatchKind::kUpdateNoOverwrite);
}

Response NgsiLdApi::Impl::BatchCreate(Request& req, const PathParams&) { return RunBatch(*this, req, BatchKind::kCreate); }

Response NgsiLdApi::Impl::BatchUpsert(Request& req, const PathParams&) {
  BatchKind kind = BatchKind::kUpsertReplace;
  if (const std::string* options = req.FindParam("options")) {
    for (const std::string& o : SplitList(*options)) {
      if (o == "update") kind = BatchKind::kUpsertUpdate;
      else if (o == "replace") kind = BatchKind::kUpsertReplace;
      else return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "upsert options are replace or update, not " + o));
    }
  }
  return RunBatch(*this, req, kind);
}

Response NgsiLdApi::Impl::BatchUpdate(Request& req, const PathParams&) {
  BatchKind kind = BatchKind::kUpdate;
  if (const std::string* options = req.FindParam("options")) {
    for (const std::string& o : SplitList(*options)) {
      if (o == "noOverwrite") kind = BatchKind::kUpdateNoOverwrite;
      else return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "update options are noOverwrite, not " + o));
    }
  }
  return RunBatch(*this, req, kind);
}

Response NgsiLdApi::Impl::BatchDelete(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_array()) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch delete must be a JSON array of entity ids"));
  }
  if (body->get_array().size() > options_.max_batch) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch may hold at most " + std::to_string(options_.max_batch) +
                                                                       " entities (citybed broker --max-batch)"));
  }
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  BatchResult result;
  for (const json::value& item : body->get_array()) {
    if (!item.is_string() || !IsUri(item.get_string())) {
      result.errors.emplace_back(item.is_string() ? std::string(item.get_string()) : std::string("?"),
                                 MakeProblem(ErrorType::kBadRequestData, "batch delete items must be entity ids (URIs)"));
      continue;
    }
    const std::string id(item.get_string());
    auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
      if (!current) return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " does not exist"));
      return EntityPtr(nullptr);
    });
    if (!change) {
      result.errors.emplace_back(id, change.error());
      continue;
    }
    Notify(call->tenant, *change, AllAttributeNames(*change->before));
    result.success.push_back(id);
  }
  return BatchResponse(result, false);
}

// 5.6.20 Batch Entity Merge: every item an entity fragment with id and type, merged as
// PATCH /entities/{id} merges (5.6.17); a missing entity is that item's ResourceNotFound.
Response NgsiLdApi::Impl::BatchMerge(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_array()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch must be a JSON array of entities"));
  const json::array& items = body->get_array();
  if (items.empty()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a batch needs at least one entity"));
  if (items.size() > options_.max_batch) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData,
                                       "a batch may hold at most " + std::to_string(options_.max_batch) + " entities (citybed broker --max-batch)"));
  }
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  BatchResult result;
  for (size_t i = 0; i < items.size(); ++i) {
    const json::value& item = items[i];
    const json::object* o = item.if_object();
    const json::value* id = o ? o->if_contains("id") : nullptr;
    const std::string label = id && id->is_string() ? std::string(id->get_string()) : "entity #" + std::to_string(i);
    if (o == nullptr || id == nullptr || !id->is_string() || !IsUri(id->get_string())) {
      result.errors.emplace_back(label, BadRequestData("batch merge items must be entities with an id (a URI)"));
      continue;
    }
    auto ctx = PayloadContext(*o, *call);
    if (!ctx) {
      result.errors.emplace_back(label, ctx.error());
      continue;
    }
    // A name beyond the tenant's allowance (quotas.h) fails this item only: earlier ones are merged.
    try {
      std::vector<uint32_t> types;
      const json::value* t = o->if_contains("type");
      if (t != nullptr && t->is_string() && IsValidName(t->get_string())) {
        types.push_back((*ctx)->ExpandToId(t->get_string(), names_));
      } else if (t != nullptr && t->is_array()) {
        for (const json::value& x : t->get_array()) {
          if (x.is_string() && IsValidName(x.get_string())) types.push_back((*ctx)->ExpandToId(x.get_string(), names_));
        }
      }
      if (types.empty()) {
        result.errors.emplace_back(label, BadRequestData("batch merge items need a type"));
        continue;
      }
      if (auto merged = MergeOne(call->tenant, label, *o, *ctx, types); !merged) {
        result.errors.emplace_back(label, merged.error());
        continue;
      }
    } catch (const ProblemError& e) {
      result.errors.emplace_back(label, e.problem());
      continue;
    }
    result.success.push_back(label);
  }
  return BatchResponse(result, false);
}

}  // namespace citybed::broker
