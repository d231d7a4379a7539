// Distributed batch writes (CIM 009 V1.9.1, 4.3.6.3, 5.6.7–5.6.10, 5.6.20): each entity of a
// batch is split as a single write is (PlanWrite, distributed.h); what goes to one
// registration travels in one batch request to its source (the client's path and options),
// what stays here is run as a local batch, and the answers are combined entity by entity:
// an entity succeeded when every part of it did. All succeeded: the operation's answer (201
// with the created ids for create and an upsert that created some, else 204); otherwise 207
// with a BatchOperationResult whose errors name the registration of a source's failures.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "citybed/common/strings.h"

#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// What goes to one registration: its source's share of the batch.
struct SourceBatch {
  RegistrationPtr reg;
  json::array items;             // narrowed entities, or ids for a delete
  std::vector<std::string> ids;  // in the order sent
};

struct BatchState {
  std::string operation;
  Call call;
  std::vector<std::string> order;  // every id of the batch, first appearance
  std::vector<std::string> local_ids;
  std::vector<size_t> local_index;  // per item of the local batch, its index in the client's
  bool local_ran = false;
  Response local;
  std::vector<SourceBatch> sources;
  std::vector<json::object> errors;  // known before forwarding (refused parts)
  std::vector<ForwardWarning> warnings;
  std::string self;
};

// The ids a 201 answer lists as created (an array of ids).
std::vector<std::string> CreatedIds(const std::string& body) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = body.empty() ? json::value() : json::parse(body, ec);
  if (ec || !v.is_array()) return out;
  for (const json::value& id : v.get_array()) {
    if (id.is_string()) out.emplace_back(id.get_string());
  }
  return out;
}

// Reads one part's answer into the per-entity outcome: `failed` gets the ids with an error,
// `errors` the BatchEntityError items (`problem` for each of `ids` when the part failed as a
// whole), `created` what it created.
void ReadPart(int status, const std::string& body, bool answered, const json::object& problem,
              const std::vector<std::string>& ids, const std::string& registration, std::set<std::string>& failed,
              std::vector<json::object>& errors, std::vector<std::string>& created) {
  auto add_error = [&](const std::string& id, json::object problem) {
    json::object item{{"entityId", id}};
    if (!registration.empty()) item["registrationId"] = registration;
    item["error"] = std::move(problem);
    errors.push_back(std::move(item));
    failed.insert(id);
  };
  if (answered && WholeSuccess(status)) {
    if (status == 201) {
      for (std::string& id : CreatedIds(body)) created.push_back(std::move(id));
    }
    return;
  }
  if (answered && status == 207) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    const json::value* es = !ec && v.is_object() ? v.get_object().if_contains("errors") : nullptr;
    if (es != nullptr && es->is_array()) {
      for (const json::value& e : es->get_array()) {
        if (!e.is_object()) continue;
        json::object item = e.get_object();
        const json::value* id = item.if_contains("entityId");
        if (id != nullptr && id->is_string()) failed.insert(std::string(id->get_string()));
        if (!registration.empty()) item["registrationId"] = registration;
        errors.push_back(std::move(item));
      }
      return;
    }
  }
  for (const std::string& id : ids) add_error(id, problem);
}

Response CombineBatch(BatchState& s, const std::vector<ForwardOutcome>& outcomes,
                      const std::function<Response(int, std::string)>& json_response) {
  std::set<std::string> failed;
  std::vector<json::object> errors = s.errors;
  for (const json::object& e : s.errors) {
    if (const json::value* id = e.if_contains("entityId"); id && id->is_string()) failed.insert(std::string(id->get_string()));
  }
  std::vector<std::string> created;
  if (s.local_ran) {
    const size_t first = errors.size();
    ReadPart(s.local.status, s.local.body, true, AnswerProblem(s.local.status, s.local.body, "this broker"), s.local_ids,
             "", failed, errors, created);
    // The local batch names an item without a usable id by its place in the local batch: name
    // it by its place in the client's.
    for (size_t e = first; e < errors.size(); ++e) {
      json::value* id = errors[e].if_contains("entityId");
      if (id == nullptr || !id->is_string() || !id->get_string().starts_with("entity #")) continue;
      const size_t k = std::strtoull(id->get_string().c_str() + 8, nullptr, 10);
      if (k < s.local_index.size()) *id = "entity #" + std::to_string(s.local_index[k]);
    }
  }
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const ForwardOutcome& o = outcomes[i];
    const Registration& r = *s.sources[i].reg;
    if (!(o.answered() && WholeSuccess(o.status))) s.warnings.push_back(OutcomeWarning(o, r));
    ReadPart(o.status, o.body, o.answered(), OutcomeProblem(o, r), s.sources[i].ids, r.id, failed, errors, created);
  }
  Response r;
  if (errors.empty()) {
    const bool lists_created = s.operation == "createBatch" || (s.operation == "upsertBatch" && !created.empty());
    if (lists_created) {
      json::array ids;
      const std::set<std::string> made(created.begin(), created.end());
      for (const std::string& id : s.order) {
        if (s.operation == "createBatch" || made.count(id)) ids.emplace_back(id);
      }
      r = json_response(201, json::serialize(ids));
    } else {
      r.status = 204;
    }
  } else {
    json::array success, list;
    for (const std::string& id : s.order) {
      if (!failed.count(id)) success.emplace_back(id);
    }
    for (json::object& e : errors) list.emplace_back(std::move(e));
    r = json_response(207, json::serialize(json::object{{"success", std::move(success)}, {"errors", std::move(list)}}));
  }
  AddWarnings(r, s.warnings, s.self);
  return r;
}

}  // namespace

Response NgsiLdApi::Impl::DistributedBatch(Request& req, const PathParams& p, std::string_view operation,
                                           LocalWrite local) {
  auto run_local = [&] { return ((*this).*local)(req, p); };
  auto start = StartWrite(req, {.has_body = true});
  if (!start) return run_local();
  const Call* call = &start->call;
  const std::string& self = start->self;
  auto parsed = ParseBody(req);
  if (!parsed || !parsed->is_array() || parsed->get_array().empty() ||
      parsed->get_array().size() > options_.max_batch) {
    return run_local();
  }
  const json::array& items = parsed->get_array();
  const bool deletes = operation == "deleteBatch";
  std::optional<ForwardWarning> stop = PathStop(start->via, self);  // this broker's own parts only

  auto state = std::make_shared<BatchState>();
  state->operation = std::string(operation);
  state->call = *call;
  state->self = self;
  std::map<std::string, size_t> source_of;  // registration id -> index in state->sources
  json::array local_items;
  std::unordered_set<std::string> listed;  // ids in state->order
  std::set<std::string> warned;
  std::vector<ForwardWarning> item_warnings;
  const int64_t now = UnixMicrosNow();
  for (size_t index = 0; index < items.size(); ++index) {
    const json::value& item = items[index];
    // What this broker cannot read stays in the local batch, which reports it.
    std::string id;
    const json::object* o = nullptr;
    ContextPtr ctx = call->ctx;
    if (deletes) {
      if (item.is_string()) id = std::string(item.get_string());
    } else if (item.is_object()) {
      o = &item.get_object();
      if (const json::value* v = o->if_contains("id"); v && v->is_string()) id = std::string(v->get_string());
      auto pctx = PayloadContext(*o, *call);
      if (pctx) ctx = *pctx;
      else id.clear();
      // An item this broker finds invalid goes nowhere but into the local batch's errors.
      if (!id.empty() && !ParseAttributes(*o, MakeCodec(*ctx), UnixMicrosNow())) id.clear();
    }
    if (id.empty() || !IsUri(id)) {
      local_items.push_back(item);
      state->local_index.push_back(index);
      continue;
    }
    if (listed.insert(id).second) state->order.push_back(id);
    WriteAsk ask;
    ask.operation = state->operation;
    ask.id = id;
    ask.whole_entity = deletes;
    std::vector<std::pair<std::string, uint32_t>> named;
    if (o != nullptr) {
      ask.types = PayloadTypes(*o, *ctx);
      for (const auto& [key, value] : *o) {
        if (!IsEntityMember(key)) named.emplace_back(std::string(key), ctx->FindId(key, names_));
      }
    }
    if (ask.types.empty()) {
      if (EntityPtr e = store_.Get(call->tenant, id)) ask.types = e->types;
    }
    for (const auto& [name, n] : named) ask.attrs.push_back(n);
    WriteSplit split = PlanWrite(start->registrations, ask, start->via, now, item_warnings);
    for (ForwardWarning& w : item_warnings) {
      if (warned.insert(w.Header()).second) state->warnings.push_back(std::move(w));
    }
    item_warnings.clear();
    if (stop && !(split.targets.empty() && split.refused.empty())) {
      if (warned.insert(stop->Header()).second) state->warnings.push_back(*stop);
      split.targets.clear();
      split.refused.clear();
    }
    auto covered = [&](const WriteTarget& t) {
      std::vector<std::string> names;
      for (const auto& [name, n] : named) {
        if (t.every_attr || std::ranges::count(t.attrs, n) > 0) names.push_back(name);
      }
      return names;
    };
    for (const WriteTarget& t : split.targets) {
      auto [it, added] = source_of.try_emplace(t.reg->id, state->sources.size());
      if (added) state->sources.push_back(SourceBatch{t.reg, {}, {}});
      SourceBatch& b = state->sources[it->second];
      if (deletes) {
        b.items.emplace_back(id);
      } else {
        const std::vector<std::string> names = covered(t);
        b.items.emplace_back(NarrowedPayload(*o, [&](std::string_view key) {
          return std::find(names.begin(), names.end(), key) != names.end();
        }));
      }
      b.ids.push_back(id);
    }
    for (const WriteTarget& t : split.refused) {
      state->errors.push_back(
          json::object{{"entityId", id}, {"registrationId", t.reg->id}, {"error", RefusedProblem(*t.reg, state->operation)}});
    }
    if (!split.local) continue;
    state->local_index.push_back(index);
    if (deletes || split.removed.empty()) {
      local_items.push_back(item);
    } else {
      local_items.emplace_back(NarrowedPayload(*o, [&](std::string_view key) {
        return std::ranges::count(split.removed, ctx->FindId(key, names_)) == 0;
      }));
    }
    state->local_ids.push_back(id);
  }
  if (state->sources.empty() && state->errors.empty()) {
    Response r = run_local();
    AddWarnings(r, state->warnings, self);
    return r;
  }

  const std::string content_type(req.HeaderOr("Content-Type", "application/json"));
  std::vector<ForwardRequest> requests;
  for (const SourceBatch& b : state->sources) {
    ForwardRequest f = BaseForward(*b.reg, start->fc, ForwardedTarget(req, *b.reg));
    f.method = "POST";
    f.body = json::serialize(b.items);
    f.headers.push_back({"Content-Type", content_type});
    requests.push_back(std::move(f));
  }

  if (!local_items.empty()) {
    req.body = json::serialize(local_items);
    state->local = run_local();
    state->local_ran = true;
    if (state->local.status == 400 || state->local.status == 413 || state->local.status == 415) {
      return std::move(state->local);  // the batch itself is invalid: it goes nowhere
    }
  }
  auto respond = [this, state](std::vector<ForwardOutcome>& outcomes) {
    return CombineBatch(*state, outcomes, [&](int status, std::string text) { return Json(status, std::move(text), state->call); });
  };
  if (requests.empty()) {
    std::vector<ForwardOutcome> none;
    Response answer = respond(none);
    AddForwardedHeader(answer, none);
    return answer;
  }
  return AfterSources(start->forwarder, std::move(requests), respond);
}

}  // namespace citybed::broker
