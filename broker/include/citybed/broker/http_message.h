// Request and Response: the broker's own view of an HTTP exchange, independent of the socket
// layer. The router turns a Request into a Response as a pure function, so every NGSI-LD
// operation can be tested without a socket; the server (server.h) translates to and from
// Boost.Beast messages. Header names compare case-insensitively.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace citybed::broker {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kHead, kOptions, kOther };
std::string_view ToString(Method m);
Method ParseMethod(std::string_view m);


struct Header {
  std::string name;
  std::string value;
};

struct Request {
  Method method = Method::kGet;
  std::string target;  // path and query, as sent: "/ngsi-ld/v1/entities?type=Room"
  std::vector<Header> headers;
  std::string body;

  // Parsed from target by the router (percent-decoded).
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  const std::string* FindHeader(std::string_view name) const;
  std::string_view HeaderOr(std::string_view name, std::string_view fallback = {}) const;
  // The tenant it names, as the handlers read it: NGSILD-Tenant, or on /v2 paths Fiware-Service
  // trimmed and in lower case, as Orion reads it ("": the default tenant).
  std::string Tenant() const;
  const std::string* FindParam(std::string_view name) const;
  void SetHeader(std::string name, std::string value);
};

// A tenant name the broker accepts: letters, digits, - _ . and at most 64 of them (an answer
// names the tenant in a header; a name beyond these is refused, never echoed).
bool ValidTenantName(std::string_view t);

struct Response;
// Delivers a response that was produced later; callable once, from any thread.
using ResponseSink = std::function<void(Response)>;

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  // A response produced later (a distributed operation waiting for its context sources): when
  // set, the other members are ignored and the server calls `later(sink)` on the request's
  // thread; whoever holds the sink calls it exactly once, from any thread, with the answer.
  std::function<void(ResponseSink)> later;

  void SetHeader(std::string name, std::string value);
  const std::string* FindHeader(std::string_view name) const;
  bool deferred() const { return static_cast<bool>(later); }
};

// Waits for a deferred response (tests and in-process callers without a server); returns any
// other response as it is.
Response AwaitResponse(Response r);

// Splits "path?a=1&b=x%20y" into a decoded path and decoded query pairs. A malformed escape
// ("%zz") is an error, reported by returning false.
bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query);
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

// What may go into an HTTP header this broker writes (a response, a notification): a name of
// token characters (RFC 9110 5.6.2) of at most 256, a value without CR, LF or NUL of at most
// kMaxHeaderValue bytes. Client input that reaches a header is checked with these first.
inline constexpr size_t kMaxHeaderValue = 8192;
bool ValidHeaderName(std::string_view name);
bool ValidHeaderValue(std::string_view value);
// The media type of a Content-Type or Accept item: what precedes ';', trimmed.
std::string_view MediaType(std::string_view header);

}  // namespace citybed::broker
