#include "citybed/broker/http_message.h"

#include <cctype>
#include <future>

#include "citybed/common/strings.h"

namespace citybed::broker {

std::string_view ToString(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
    case Method::kHead: return "HEAD";
    case Method::kOptions: return "OPTIONS";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "PATCH") return Method::kPatch;
  if (m == "DELETE") return Method::kDelete;
  if (m == "HEAD") return Method::kHead;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}


const std::string* Request::FindHeader(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsAsciiNoCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string_view Request::HeaderOr(std::string_view name, std::string_view fallback) const {
  const std::string* v = FindHeader(name);
  return v ? std::string_view(*v) : fallback;
}

bool ValidTenantName(std::string_view t) {
  if (t.size() > 64) return false;
  for (unsigned char c : t) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string Request::Tenant() const {
  const bool v2 = target == "/v2" || target.starts_with("/v2/");
  if (!v2) return std::string(HeaderOr("NGSILD-Tenant", ""));
  return AsciiLower(Trim(HeaderOr("Fiware-Service", "")));
}

const std::string* Request::FindParam(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

void Request::SetHeader(std::string name, std::string value) {
  for (Header& h : headers) {
    if (EqualsAsciiNoCase(h.name, name)) {
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(name), std::move(value)});
}

void Response::SetHeader(std::string name, std::string value) {
  for (Header& h : headers) {
    if (EqualsAsciiNoCase(h.name, name)) {
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(name), std::move(value)});
}

const std::string* Response::FindHeader(std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsAsciiNoCase(h.name, name)) return &h.value;
  }
  return nullptr;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query) {
  const size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), path, false)) return false;
  query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    // '+' stays '+': NGSI-LD queries carry time zones ("+09:00") that clients often leave unescaped.
    if (!PercentDecode(pair.substr(0, eq), key, false)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value, false)) return false;
    query.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

bool ValidHeaderName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token) return false;
  }
  return true;
}

std::string_view MediaType(std::string_view header) { return Trim(header.substr(0, header.find(';'))); }

bool ValidHeaderValue(std::string_view value) {
  if (value.size() > kMaxHeaderValue) return false;
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

Response AwaitResponse(Response r) {
  if (!r.deferred()) return r;
  auto promise = std::make_shared<std::promise<Response>>();
  std::future<Response> answer = promise->get_future();
  auto later = std::move(r.later);
  later([promise](Response done) { promise->set_value(std::move(done)); });
  return AwaitResponse(answer.get());
}

}  // namespace citybed::broker
