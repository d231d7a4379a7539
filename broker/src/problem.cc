#include "citybed/broker/problem.h"

#include "citybed/broker/json_writer.h"

namespace citybed::broker {

std::string_view TypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kInvalidRequest: return "InvalidRequest";
    case ErrorType::kBadRequestData: return "BadRequestData";
    case ErrorType::kAlreadyExists: return "AlreadyExists";
    case ErrorType::kOperationNotSupported: return "OperationNotSupported";
    case ErrorType::kResourceNotFound: return "ResourceNotFound";
    case ErrorType::kInternalError: return "InternalError";
    case ErrorType::kTooComplexQuery: return "TooComplexQuery";
    case ErrorType::kTooManyResults: return "TooManyResults";
    case ErrorType::kLdContextNotAvailable: return "LdContextNotAvailable";
    case ErrorType::kNoMultiTenantSupport: return "NoMultiTenantSupport";
    case ErrorType::kNonexistentTenant: return "NonexistentTenant";
    case ErrorType::kUnauthorized: return "Unauthorized";
    case ErrorType::kForbidden: return "Forbidden";
    case ErrorType::kTooManyRequests: return "Too Many Requests";
  }
  return "InternalError";
}

std::string_view TypeUri(ErrorType type) {
  switch (type) {
    case ErrorType::kInvalidRequest: return "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest";
    case ErrorType::kBadRequestData: return "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
    case ErrorType::kAlreadyExists: return "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists";
    case ErrorType::kOperationNotSupported: return "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported";
    case ErrorType::kResourceNotFound: return "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
    case ErrorType::kInternalError: return "https://uri.etsi.org/ngsi-ld/errors/InternalError";
    case ErrorType::kTooComplexQuery: return "https://uri.etsi.org/ngsi-ld/errors/TooComplexQuery";
    case ErrorType::kTooManyResults: return "https://uri.etsi.org/ngsi-ld/errors/TooManyResults";
    case ErrorType::kLdContextNotAvailable: return "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable";
    case ErrorType::kNoMultiTenantSupport: return "https://uri.etsi.org/ngsi-ld/errors/NoMultiTenantSupport";
    case ErrorType::kNonexistentTenant: return "https://uri.etsi.org/ngsi-ld/errors/NonexistentTenant";
    case ErrorType::kUnauthorized:
    case ErrorType::kForbidden:
    case ErrorType::kTooManyRequests: return "about:blank";
  }
  return "https://uri.etsi.org/ngsi-ld/errors/InternalError";
}

int DefaultStatus(ErrorType type) {
  switch (type) {
    case ErrorType::kInvalidRequest:
    case ErrorType::kBadRequestData: return 400;
    case ErrorType::kAlreadyExists: return 409;
    case ErrorType::kOperationNotSupported: return 422;
    case ErrorType::kResourceNotFound:
    case ErrorType::kNonexistentTenant: return 404;
    case ErrorType::kInternalError: return 500;
    case ErrorType::kTooComplexQuery:
    case ErrorType::kTooManyResults: return 403;
    case ErrorType::kLdContextNotAvailable: return 503;
    case ErrorType::kNoMultiTenantSupport: return 501;
    case ErrorType::kUnauthorized: return 401;
    case ErrorType::kForbidden: return 403;
    case ErrorType::kTooManyRequests: return 429;
  }
  return 500;
}

std::string Problem::ToJson() const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("type");
  w.String(TypeUri(type));
  w.Key("title");
  w.String(title.empty() ? TypeName(type) : std::string_view(title));
  w.Key("status");
  w.Int(HttpStatus());
  w.Key("detail");
  w.String(detail);
  w.EndObject();
  return out;
}

}  // namespace citybed::broker
