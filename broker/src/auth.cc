#include "citybed/broker/auth.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"

namespace citybed::broker {

namespace {

// Equal digests, in time independent of where they differ.
bool SameDigest(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool IsHexDigest(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The key a request carries: Authorization: Bearer <key>, else X-Auth-Token.
std::optional<std::string_view> Credential(const Request& req) {
  if (const std::string* a = req.FindHeader("Authorization")) {
    std::string_view v(*a);
    if (v.size() > 7 && EqualsAsciiNoCase(v.substr(0, 7), "Bearer ")) {
      v.remove_prefix(7);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      if (!v.empty()) return v;
    }
    return std::nullopt;
  }
  if (const std::string* t = req.FindHeader("X-Auth-Token"); t && !t->empty()) return std::string_view(*t);
  return std::nullopt;
}

}  // namespace

Expected<Authorizer> Authorizer::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Unexpected(Error::InvalidArgument("cannot read the key file " + path));
  std::stringstream text;
  text << in.rdbuf();
  auto a = Parse(text.str());
  if (!a) return Unexpected(Error::InvalidArgument(path + ": " + a.error().message));
  return a;
}

Expected<Authorizer> Authorizer::Parse(std::string_view text) {
  namespace json = boost::json;
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  const json::object* root = !ec ? doc.if_object() : nullptr;
  const json::value* keys = root ? root->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return Unexpected(Error::InvalidArgument("a key file is a JSON object {\"keys\": [...]}"));
  }
  Authorizer out;
  const json::array& list = keys->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "/keys/" + std::to_string(i);
    const json::object* k = list[i].if_object();
    if (k == nullptr) return Unexpected(Error::InvalidArgument(at + ": must be an object"));
    for (const auto& [member, value] : *k) {
      if (member != "name" && member != "key" && member != "sha256" && member != "tenants" && member != "access" &&
          member != "metrics") {
        return Unexpected(Error::InvalidArgument(at + "/" + std::string(member) +
                                                 ": unknown member (name, key, sha256, tenants, access, metrics)"));
      }
    }
    auto str = [&](const char* member) -> std::optional<std::string> {
      const json::value* v = k->if_contains(member);
      if (v == nullptr || !v->is_string()) return std::nullopt;
      return std::string(v->get_string());
    };
    AccessKey key;
    key.name = str("name").value_or("key #" + std::to_string(i));
    if (k->contains("key") == k->contains("sha256")) {
      return Unexpected(Error::InvalidArgument(at + ": give the key or its sha256, one of them"));
    }
    if (k->contains("key")) {
      const auto plain = str("key");
      if (!plain || plain->size() < 16) {
        return Unexpected(Error::InvalidArgument(at + "/key: must be a string of at least 16 characters"));
      }
      key.sha256 = Sha256Hex(*plain);
    } else {
      const auto digest = str("sha256");
      if (!digest || !IsHexDigest(*digest)) {
        return Unexpected(Error::InvalidArgument(at + "/sha256: must be 64 lower-case hex digits"));
      }
      key.sha256 = *digest;
    }
    const json::value* tenants = k->if_contains("tenants");
    if (tenants == nullptr || !tenants->is_array() || tenants->get_array().empty()) {
      return Unexpected(Error::InvalidArgument(at + "/tenants: must list the tenants the key is good for (\"*\": any, \"\": the default)"));
    }
    for (const json::value& t : tenants->get_array()) {
      if (!t.is_string()) return Unexpected(Error::InvalidArgument(at + "/tenants: must hold strings"));
      key.tenants.emplace_back(t.get_string());
    }
    const std::string access = k->contains("access") ? str("access").value_or("?") : "read";
    if (access != "read" && access != "write") {
      return Unexpected(Error::InvalidArgument(at + "/access: must be \"read\" or \"write\""));
    }
    key.write = access == "write";
    if (const json::value* m = k->if_contains("metrics")) {
      if (!m->is_bool()) return Unexpected(Error::InvalidArgument(at + "/metrics: must be true or false"));
      key.metrics = m->get_bool();
    }
    for (const AccessKey& other : out.keys_) {
      if (SameDigest(other.sha256, key.sha256)) return Unexpected(Error::InvalidArgument(at + ": the same key as " + other.name));
    }
    out.keys_.push_back(std::move(key));
  }
  if (out.keys_.empty()) return Unexpected(Error::InvalidArgument("/keys: holds no key (nobody could use the broker)"));
  return out;
}

std::optional<Problem> Authorizer::Check(const Request& req, bool write, std::string* who) const {
  std::string_view path(req.target);
  path = path.substr(0, path.find('?'));
  if (path == "/health" || path == "/version") return std::nullopt;
  const auto credential = Credential(req);
  if (!credential) {
    return MakeProblem(ErrorType::kUnauthorized, "this broker needs an access key: Authorization: Bearer <key>");
  }
  const std::string digest = Sha256Hex(*credential);
  const AccessKey* key = nullptr;
  for (const AccessKey& k : keys_) {
    if (SameDigest(k.sha256, digest)) key = &k;
  }
  if (key == nullptr) return MakeProblem(ErrorType::kUnauthorized, "the access key is not one this broker holds");
  if (who) *who = key->name;
  if (path == "/metrics") {
    if (key->metrics) return std::nullopt;
    return MakeProblem(ErrorType::kForbidden, "key " + key->name + " may not read /metrics");
  }
  const std::string tenant = req.Tenant();
  bool tenant_ok = false;
  for (const std::string& t : key->tenants) tenant_ok = tenant_ok || t == "*" || t == tenant;
  if (!tenant_ok) {
    return MakeProblem(ErrorType::kForbidden, "key " + key->name + " is not good for tenant \"" + tenant + "\"");
  }
  if (write && !key->write) return MakeProblem(ErrorType::kForbidden, "key " + key->name + " may read, not write");
  return std::nullopt;
}

}  // namespace citybed::broker
