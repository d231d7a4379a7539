// The one URL parser of citybed (broker URLs, notification endpoints, @context URLs), on
// Boost.URL: RFC 3986 syntax, so a value with spaces, CR/LF or other characters that cannot
// appear in a URL is refused instead of reaching a request line or a header.
#pragma once

#include <string>
#include <string_view>

#include "citybed/common/expected.h"

namespace citybed {

struct HttpUrl {
  std::string scheme;       // "http" or "https", lower case
  std::string host;         // a name, an IPv4 address, or an IPv6 address without brackets
  std::string port;         // "80" / "443" when absent
  std::string host_header;  // host[:port] as written (brackets kept), for the Host header
  std::string target;       // path and query, percent-encoded as written; "/" when empty
};

// Parses an absolute http:// or https:// URL. Errors name the URL and what is wrong.
Expected<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace citybed
