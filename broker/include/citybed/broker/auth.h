// Access keys (docs/reliability.md, "Who may ask"): with `citybed broker --auth FILE`, every
// request but /health and /version carries a key — `Authorization: Bearer <key>` or, as FIWARE's
// PEP proxies send it, `X-Auth-Token: <key>` — and a key is good for the tenants it names
// (NGSILD-Tenant, or Fiware-Service on /v2), for reads only or for writes too, and for
// /metrics when it says so. No key, or one the file does not hold: 401 with
// `WWW-Authenticate: Bearer`; a key not good for the request: 403. Keys are kept as SHA-256
// digests and compared in constant time; the file may give the digest instead of the key.
//
// The file: {"keys": [{"name": "ops", "key": "...", "tenants": ["*"], "access": "write",
//                      "metrics": true},
//                     {"name": "osaka-viewer", "sha256": "<hex>", "tenants": ["osaka", ""]}]}
// ("" is the default tenant; "*" any tenant; access "read" (default) or "write").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct AccessKey {
  std::string name;
  std::string sha256;                // hex digest of the key
  std::vector<std::string> tenants;  // "*": any
  bool write = false;
  bool metrics = false;
};

class Authorizer {
 public:
  // Reads and checks a key file; errors name the key (by index) and what is wrong.
  static Expected<Authorizer> Load(const std::string& path);
  static Expected<Authorizer> Parse(std::string_view text);

  // Nothing when the request may go on; else the refusal (kUnauthorized or kForbidden) and,
  // for the log, which key asked.
  std::optional<Problem> Check(const Request& req, bool write, std::string* who = nullptr) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<AccessKey> keys_;
};

}  // namespace citybed::broker
