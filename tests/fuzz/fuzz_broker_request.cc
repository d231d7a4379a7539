// libFuzzer target: one request to the broker's handlers, as an attacker or a careless client
// would send it (docs/reliability.md, "Fuzzing"). The input is
//   METHOD TARGET\n
//   Name: value\n          (any number of header lines)
//   \n
//   body
// and goes through Broker::Handle — routing, both APIs' parsers and handlers, the query
// languages, @context processing (remote contexts fail at once: no network), subscriptions and
// registrations — on one broker that keeps its state across inputs (renewed every 20,000).
// Besides crashes and sanitizer reports, it fails on answers a client could not use: a status
// outside 100–599, a header value with CR or LF, a JSON answer that is not valid JSON (invalid
// UTF-8 included).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "citybed/broker/broker.h"

using namespace citybed::broker;

namespace {

std::unique_ptr<Broker> MakeBroker() {
  BrokerOptions o;
  o.server.port = 0;
  o.notifier.queue_capacity = 1000;
  o.contexts.fetcher = [](const std::string& url) -> citybed::Expected<std::string> {
    return citybed::Unexpected(citybed::Error::Unavailable("no network while fuzzing: " + url));
  };
  return std::make_unique<Broker>(o);
}

void Fail(const char* why) {
  std::fprintf(stderr, "fuzz_broker_request: %s\n", why);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Broker> broker = MakeBroker();
  static size_t inputs = 0;
  if (++inputs % 20000 == 0) broker = MakeBroker();

  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto line = [&in]() {
    const size_t end = in.find('\n');
    std::string_view l = in.substr(0, end);
    in = end == std::string_view::npos ? std::string_view() : in.substr(end + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  Request req;
  const std::string_view first = line();
  const size_t space = first.find(' ');
  req.method = ParseMethod(first.substr(0, space));
  req.target = space == std::string_view::npos ? std::string("/") : std::string(first.substr(space + 1));
  if (req.target.empty() || req.target[0] != '/') req.target.insert(0, "/");
  for (std::string_view h = line(); !h.empty(); h = line()) {
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.SetHeader(std::string(h.substr(0, colon)), std::string(value));
  }
  req.body = std::string(in);

  const Response r = broker->Handle(req);
  if (r.deferred()) return 0;  // nothing is forwarded before Start
  if (r.status < 100 || r.status > 599) Fail("status outside 100-599");
  bool json = false;
  for (const Header& h : r.headers) {
    if (h.name.find_first_of("\r\n") != std::string::npos || h.value.find_first_of("\r\n") != std::string::npos) {
      Fail("a header with CR or LF");
    }
    if ((h.name == "Content-Type" || h.name == "content-type") && h.value.find("json") != std::string::npos) json = true;
  }
  if (json && !r.body.empty()) {
    boost::system::error_code ec;
    (void)boost::json::parse(r.body, ec);
    if (ec) Fail("an answer said to be JSON is not valid JSON");
  }
  return 0;
}
