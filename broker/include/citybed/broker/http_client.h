// A small blocking HTTP/1.1 client (plain http only) for the broker's own outgoing calls that
// are rare and bounded: fetching remote @context documents. Each call opens one connection,
// sends one request and enforces an overall deadline. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct Url {
  std::string scheme;  // "http"
  std::string host;
  std::string port;    // "80" when absent
  std::string target;  // path and query, "/" when absent
};
Expected<Url> ParseUrl(std::string_view url);

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<Header> headers;
};

Expected<HttpResult> HttpRequest(Method method, const std::string& url, const std::vector<Header>& headers,
                                 std::string body, std::chrono::milliseconds timeout,
                                 size_t max_body_bytes = 16 << 20);

}  // namespace citybed::broker
