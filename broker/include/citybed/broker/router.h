// Router: maps (method, path) to a handler, as a pure function from Request to Response, so
// that every operation is testable without a socket and new APIs (NGSI-v2, context-source
// registrations, federation) plug in by adding routes. Patterns are literal segments and
// {name} captures, matched segment by segment on the raw path; captures are percent-decoded.
// A path that matches no pattern gets 404 ResourceNotFound; a known path with another method
// gets 405 with an Allow header. Handlers that throw get 500 InternalError: never a crash.
// Routes are added before serving; Handle is thread-safe afterwards.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/broker/problem.h"

namespace citybed::broker {

struct PathParams {
  std::vector<std::pair<std::string, std::string>> values;
  const std::string& Get(std::string_view name) const;
};

using Handler = std::function<Response(Request&, const PathParams&)>;

// Renders a problem as an application/problem+json response.
Response ProblemResponse(const Problem& p);

class Router {
 public:
  // The pattern, e.g. "/ngsi-ld/v1/entities/{entityId}", also labels the route in metrics.
  void Add(Method method, std::string pattern, Handler handler);
  // Parses req.target into req.path and req.query, then dispatches. `route` receives the
  // index of the matched pattern in Patterns(), or -1 when no route matched.
  Response Handle(Request& req, int* route = nullptr) const;
  // How a handler's failure is answered: a thrown ProblemError as its Problem says, any other
  // exception as a 500 InternalError. Default: ProblemResponse; the broker answers /v2 in
  // Orion's shape.
  using ErrorRenderer = std::function<Response(const Request&, const Problem&)>;
  void SetErrorRenderer(ErrorRenderer renderer) { error_renderer_ = std::move(renderer); }
  // The distinct patterns, in the order they were first added.
  const std::vector<std::string>& Patterns() const { return patterns_; }

 private:
  struct Route {
    Method method;
    int pattern_id;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool Match(const Route& r, const std::vector<std::string_view>& segs, PathParams& params);
  std::vector<Route> routes_;
  std::vector<std::string> patterns_;
  ErrorRenderer error_renderer_;
};

}  // namespace citybed::broker
