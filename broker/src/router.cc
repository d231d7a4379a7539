#include "citybed/broker/router.h"

#include <algorithm>
#include <exception>

#include "citybed/common/log.h"
#include "citybed/common/strings.h"

namespace citybed::broker {

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : values) {
    if (k == name) return v;
  }
  return kEmpty;
}

Response ProblemResponse(const Problem& p) {
  Response r;
  r.status = p.HttpStatus();
  // CIM 009 V1.9.1, 6.3.4: an unsupported media type is "just a 415 HTTP status code (without
  // any payload body)".
  if (r.status == 415) return r;
  // 5.5.3 and 6.3.3: ProblemDetails (RFC 7807 members) served as application/json.
  r.SetHeader("Content-Type", "application/json");
  r.body = p.ToJson();
  return r;
}

namespace {
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t end = path.find('/', i);
    out.push_back(path.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return out;
}
}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler) {
  auto it = std::find(patterns_.begin(), patterns_.end(), pattern);
  const int id = static_cast<int>(it - patterns_.begin());
  if (it == patterns_.end()) patterns_.push_back(pattern);
  Route r{method, id, {}, std::move(handler)};
  for (std::string_view s : Segments(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

bool Router::Match(const Route& r, const std::vector<std::string_view>& segs, PathParams& params) {
  if (r.segments.size() != segs.size()) return false;
  params.values.clear();
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      std::string decoded;
      if (!PercentDecode(segs[i], decoded, false) || decoded.empty()) return false;
      params.values.emplace_back(p.substr(1, p.size() - 2), std::move(decoded));
    } else if (p != segs[i]) {
      return false;
    }
  }
  return true;
}

Response Router::Handle(Request& req, int* route) const {
  if (route) *route = -1;
  const size_t q = req.target.find('?');
  const std::string_view raw_path = std::string_view(req.target).substr(0, q);
  if (!ParseTarget(req.target, req.path, req.query)) {
    return ProblemResponse(MakeProblem(ErrorType::kInvalidRequest, "the request target has a malformed %-escape"));
  }
  const auto segs = Segments(raw_path);
  PathParams params;
  std::string allow;
  for (const Route& r : routes_) {
    if (!Match(r, segs, params)) continue;
    if (r.method != req.method && !(req.method == Method::kHead && r.method == Method::kGet)) {
      if (allow.find(ToString(r.method)) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += ToString(r.method);
      }
      continue;
    }
    if (route) *route = r.pattern_id;
    try {
      return r.handler(req, params);
    } catch (const ProblemError& e) {
      return error_renderer_ ? error_renderer_(req, e.problem()) : ProblemResponse(e.problem());
    } catch (const std::exception& e) {
      CITYBED_LOG(kError) << ToString(req.method) << " " << req.target << ": " << e.what();
      const Problem internal = MakeProblem(ErrorType::kInternalError, std::string("internal error: ") + e.what());
      return error_renderer_ ? error_renderer_(req, internal) : ProblemResponse(internal);
    }
  }
  if (!allow.empty()) {
    Response r = ProblemResponse(MakeProblem(ErrorType::kInvalidRequest,
                                             std::string(ToString(req.method)) + " is not allowed on " + req.path +
                                                 " (allowed: " + allow + ")",
                                             405));
    r.SetHeader("Allow", allow);
    return r;
  }
  return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no resource at " + req.path));
}

}  // namespace citybed::broker
