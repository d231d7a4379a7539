// Fetch: one blocking HTTP/1.1 exchange over a fresh connection (http://, or https:// with TLS
// through OpenSSL: the system's CA certificates, the server's name checked), with an overall
// deadline —
// for requests that are rare and one at a time: the broker fetching a remote @context, the
// conformance runner talking to a broker under test. (High-rate load goes through
// HttpClientPool instead.) The request is sent as given: the method, the target, the
// headers in order and the body verbatim; only Host and, with a body, Content-Length are added
// when absent. Thread-safe: no shared state.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/common/expected.h"

namespace citybed {

struct HttpField {
  std::string name;
  std::string value;
};

struct FetchRequest {
  std::string method = "GET";
  std::string url;  // http[s]://host[:port]/path?query
  std::vector<HttpField> headers;
  std::string body;
  bool has_body = false;  // send the body (and Content-Length) even when empty
  std::chrono::milliseconds timeout{10000};
  size_t max_body = 16 << 20;
  std::string ca_file;  // https: a PEM file of CA certificates trusted besides the system's
};

struct FetchResult {
  int status = 0;
  std::string body;
  std::vector<HttpField> headers;  // in order; a name may repeat
  // Every value of a header (case-insensitive name), joined with ", "; nullopt-like "" + false.
  bool Has(std::string_view name) const;
  std::string Get(std::string_view name) const;
};

// Errors: kInvalidArgument (bad URL), kUnavailable (cannot connect, verify the certificate,
// send or read), kTimeout.
Expected<FetchResult> Fetch(const FetchRequest& request);

}  // namespace citybed
