// Distributed writes (CIM 009 V1.9.1, 4.3.6.2–4.3.6.3): which registrations a write goes to, and
// how the parts of a write and their failures are told to the client. The handlers that send
// the parts are in ngsild_distributed_write.cc and ngsild_distributed_batch.cc.
#include <algorithm>
#include <boost/json.hpp>

#include "api_common.h"
#include "distributed.h"

namespace citybed::broker {

namespace json = boost::json;

WriteSplit PlanWrite(const std::vector<RegistrationPtr>& registrations, const WriteAsk& ask,
                     const std::vector<std::string>& via, int64_t now, std::vector<ForwardWarning>& warnings) {
  WriteSplit split;
  bool proxied_whole = false;
  for (const RegistrationPtr& r : registrations) {
    const bool proxied = r->mode == RegistrationMode::kExclusive || r->mode == RegistrationMode::kRedirect;
    if (r->mode == RegistrationMode::kAuxiliary || r->Expired(now)) continue;
    const bool allowed = r->Allows(ask.operation);
    if (!allowed && !proxied) continue;
    WriteTarget target;
    target.reg = r;
    bool matched = false;
    for (const RegistrationInfo& info : r->information) {
      bool entity = info.entities.empty();
      for (const RegisteredEntities& e : info.entities) {
        // A type unknown here: only a registration naming the id or a pattern of it can tell.
        if (ask.types.empty() && e.id.empty() && !e.id_regex) continue;
        if (!ask.types.empty() && !HasId(ask.types, e.type)) continue;
        if (!e.id.empty() && e.id != ask.id) continue;
        if (e.id.empty() && e.id_regex && !e.id_regex->FullMatch(ask.id)) continue;
        entity = true;
        break;
      }
      if (!entity) continue;
      if (info.property_names.empty() && info.relationship_names.empty()) {
        matched = true;
        target.every_attr = true;
        for (uint32_t a : ask.attrs) AddUniqueId(target.attrs, a);
        continue;
      }
      bool covers = false;
      for (uint32_t a : ask.attrs) {
        if (HasId(info.property_names, a) || HasId(info.relationship_names, a)) {
          AddUniqueId(target.attrs, a);
          covers = true;
        }
      }
      matched = matched || covers || ask.whole_entity;
    }
    if (!matched) continue;
    // What a proxied registration covers is not written here, even when its source is skipped.
    if (proxied) {
      if (target.every_attr) proxied_whole = true;
      for (uint32_t a : target.attrs) AddUniqueId(split.removed, a);
    }
    const std::string name = SourceName(*r);
    if (allowed && std::find(via.begin(), via.end(), name) != via.end()) {
      // The source is on the request's path: it has the write already.
      warnings.push_back({199, name, "registration " + r->id + " not used: its source is already on this request's path (Via)"});
      continue;
    }
    // Several registrations of one source (endpoint and tenant): one request, what they cover together.
    auto same = std::find_if(split.targets.begin(), split.targets.end(), [&](const WriteTarget& t) {
      return t.reg->endpoint == r->endpoint && t.reg->source_tenant == r->source_tenant;
    });
    if (allowed && same != split.targets.end()) {
      same->every_attr = same->every_attr || target.every_attr;
      for (uint32_t a : target.attrs) AddUniqueId(same->attrs, a);
      continue;
    }
    (allowed ? split.targets : split.refused).push_back(std::move(target));
  }
  auto by_id = [](const WriteTarget& a, const WriteTarget& b) { return a.reg->id < b.reg->id; };
  std::sort(split.targets.begin(), split.targets.end(), by_id);
  std::sort(split.refused.begin(), split.refused.end(), by_id);
  // Nothing left to write here: the entity is another's, or every attribute of the write is.
  bool all_removed = !ask.attrs.empty();
  for (uint32_t a : ask.attrs) all_removed = all_removed && HasId(split.removed, a);
  if (proxied_whole || all_removed) split.local = false;
  return split;
}

bool IsEntityMember(std::string_view key) {
  return key == "id" || key == "type" || key == "@context" || key == "scope" || key == "createdAt" ||
         key == "modifiedAt" || key == "deletedAt";
}

json::object NarrowedPayload(const json::object& body, const std::function<bool(std::string_view)>& keep) {
  json::object out;
  for (const auto& [key, value] : body) {
    if (IsEntityMember(key) || keep(key)) out.emplace(key, value);
  }
  return out;
}

json::object ProblemObject(const Problem& p) { return json::parse(p.ToJson()).as_object(); }

json::object AnswerProblem(int status, const std::string& body, const std::string& who) {
  boost::system::error_code ec;
  json::value v = body.empty() ? json::value() : json::parse(body, ec);
  if (!ec && v.is_object() && v.get_object().contains("type")) return std::move(v.get_object());
  const ErrorType type = status == 404   ? ErrorType::kResourceNotFound
                         : status == 409 ? ErrorType::kAlreadyExists
                         : status == 400 ? ErrorType::kBadRequestData
                         : status == 422 ? ErrorType::kOperationNotSupported
                                         : ErrorType::kInternalError;
  return ProblemObject(MakeProblem(type, who + " answered " + std::to_string(status), status));
}

ForwardWarning OutcomeWarning(const ForwardOutcome& o, const Registration& r) {
  if (o.answered()) return {299, SourceName(r), "registration " + r.id + ": the source answered " + std::to_string(o.status)};
  return {199, SourceName(r), "registration " + r.id + ": " + (o.cooled ? std::string("cooling down after a failure") : o.error)};
}

json::object OutcomeProblem(const ForwardOutcome& o, const Registration& r) {
  const std::string who = "context source " + SourceName(r);
  if (o.answered()) return AnswerProblem(o.status, o.body, who);
  return ProblemObject(MakeProblem(ErrorType::kInternalError,
                                   who + ": " + (o.cooled ? std::string("cooling down after a failure") : o.error),
                                   o.error == "timeout" ? 504 : 502));
}

json::object RefusedProblem(const Registration& r, std::string_view operation) {
  return ProblemObject(MakeProblem(ErrorType::kOperationNotSupported,
                                   "registration " + r.id + " (" + std::string(ToString(r.mode)) +
                                       ") holds this data and does not accept " + std::string(operation),
                                   409));
}

}  // namespace citybed::broker
