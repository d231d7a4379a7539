// NGSI-LD errors (ETSI GS CIM 009, clause 5.5.2): every non-2xx answer of the broker is an
// application/problem+json body {"type", "title", "status", "detail"} whose type is one of the
// URIs below. Operations return Problem inside Expected; the router renders it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace citybed::broker {

enum class ErrorType {
  kInvalidRequest,         // 400: the request is not a valid NGSI-LD request (syntax, params)
  kBadRequestData,         // 400: the request is valid but its data is not
  kAlreadyExists,          // 409
  kOperationNotSupported,  // 422
  kResourceNotFound,       // 404
  kInternalError,          // 500
  kTooComplexQuery,        // 403
  kTooManyResults,         // 403
  kLdContextNotAvailable,  // 503
  kNoMultiTenantSupport,   // 501
  kNonexistentTenant,      // 404
  // HTTP-level refusals NGSI-LD defines no type for (RFC 7807 4.2: "about:blank", titled by
  // the status): no or an unknown credential, a credential not good for this request.
  kUnauthorized,           // 401
  kForbidden,              // 403
  kTooManyRequests,        // 429: beyond the tenant's rate limit (rate_limit.h)
};

std::string_view TypeUri(ErrorType type);   // "https://uri.etsi.org/ngsi-ld/errors/..."
std::string_view TypeName(ErrorType type);  // "BadRequestData"
int DefaultStatus(ErrorType type);

struct Problem {
  ErrorType type = ErrorType::kInternalError;
  std::string detail;
  int status = 0;  // 0: DefaultStatus(type); set for HTTP-level cases (405, 406, 413, 415)
  std::string title;  // empty: the type name

  int HttpStatus() const { return status ? status : DefaultStatus(type); }
  std::string ToJson() const;
};

inline Problem MakeProblem(ErrorType type, std::string detail, int status = 0) {
  return Problem{type, std::move(detail), status, {}};
}
// Thrown where a Problem cannot be returned (below a handler, e.g. the name table's quota,
// interner.h): parsers that can return one turn it into their result; the router answers any
// other as the Problem says.
class ProblemError : public std::runtime_error {
 public:
  explicit ProblemError(Problem problem) : std::runtime_error(problem.detail), problem_(std::move(problem)) {}
  const Problem& problem() const { return problem_; }

 private:
  Problem problem_;
};

// The most common one: a request whose data is not valid (400 BadRequestData).
inline Problem BadRequestData(std::string detail) { return MakeProblem(ErrorType::kBadRequestData, std::move(detail)); }

}  // namespace citybed::broker
