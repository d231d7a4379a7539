// HttpListener: a small HTTP/1.1 server on an existing io_context, for what a simulation must
// receive (notifications from the broker under test) or serve (its own @context documents).
// Keep-alive, one request at a time per connection, bodies up to 16 MiB. The handler runs on
// the io_context's thread and returns the status and body to answer. Not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "citybed/common/expected.h"

namespace citybed::sim {

struct ListenerReply {
  int status = 204;
  std::string content_type;
  std::string body;
};

struct ListenerRequest {
  std::string_view method, target, body;
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received, in order
};

using ListenerHandler = std::function<ListenerReply(const ListenerRequest& request)>;

class HttpListener {
 public:
  HttpListener(boost::asio::io_context& io, ListenerHandler handler);
  ~HttpListener();
  // Binds host:port (0: any free port) and starts accepting.
  Expected<void> Listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  void Close();
  uint64_t requests() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace citybed::sim
