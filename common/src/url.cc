#include "citybed/common/url.h"

#include <boost/url/parse.hpp>

namespace citybed {

Expected<HttpUrl> ParseHttpUrl(std::string_view text) {
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u) {
    return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\" is not an absolute URL (" + u.error().message() + ")"));
  }
  HttpUrl out;
  out.scheme = std::string(u->scheme());
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https") {
    return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\" is not an http:// or https:// URL"));
  }
  if (!u->has_authority() || u->encoded_host().empty()) {
    return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\" has no host"));
  }
  if (u->has_userinfo()) {
    return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\": user information in URLs is not supported"));
  }
  out.host = u->host_address();
  if (u->has_port()) {
    if (u->port().empty() || u->port_number() == 0) {
      return Unexpected(Error::InvalidArgument("\"" + std::string(text) + "\" has an invalid port"));
    }
    out.port = std::string(u->port());
  } else {
    out.port = out.scheme == "https" ? "443" : "80";
  }
  out.host_header = std::string(u->encoded_host_and_port());
  out.target = std::string(u->encoded_path());
  if (out.target.empty()) out.target = "/";
  if (u->has_query()) out.target += "?" + std::string(u->encoded_query());
  return out;
}

}  // namespace citybed
