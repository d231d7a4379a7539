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
#include "citybed/common/url.h"

namespace citybed::broker {


struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<Header> headers;
};

Expected<HttpResult> HttpRequest(Method method, const std::string& url, const std::vector<Header>& headers,
                                 std::string body, std::chrono::milliseconds timeout,
                                 size_t max_body_bytes = 16 << 20);

}  // namespace citybed::broker
