// Error: what went wrong, as a category and a human-readable message. Errors travel inside
// Expected<T>; the message is written for the user who will read it (what and where), the
// category lets callers react (e.g. map to an exit code or an HTTP status).
#pragma once

#include <string>
#include <string_view>

namespace citybed {

enum class ErrorCode {
  kInvalidArgument,  // malformed input: a bad flag, duration, scenario value
  kNotFound,         // a file, entity or resource that does not exist
  kAlreadyExists,
  kUnavailable,      // a peer that cannot be reached (broker, context server)
  kTimeout,
  kIo,               // a local read/write failed
  kInternal,         // a bug: an invariant did not hold
};

std::string_view ToString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  static Error InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error Timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
};

}  // namespace citybed
