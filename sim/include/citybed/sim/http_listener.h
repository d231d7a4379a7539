// HttpListener: a small HTTP/1.1 server on an existing io_context, for what a simulation must
// receive (notifications from the broker under test) or serve (its own @context documents).
// Keep-alive, one request at a time per connection, bodies up to 16 MiB. The handler runs on
// the io_context's thread and returns the status and body to answer — or, for an answer that
// takes time (the federation relay delays and forwards), is given a callback to call once,
// later, on the same thread; a reply with `drop` closes the connection instead of answering.
// Not thread-safe.
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
  ListenerReply() = default;
  ListenerReply(int s, std::string type, std::string b) : status(s), content_type(std::move(type)), body(std::move(b)) {}
  static ListenerReply Drop() {
    ListenerReply r;
    r.drop = true;
    return r;
  }
  int status = 204;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields
  bool drop = false;  // close the connection without an answer
};

// The views point into the listener's buffers: valid during the handler's call only.
struct ListenerRequest {
  std::string_view method, target, body;
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received, in order
};

using ListenerHandler = std::function<ListenerReply(const ListenerRequest& request)>;
using ListenerReplySink = std::function<void(ListenerReply)>;
using ListenerAsyncHandler = std::function<void(const ListenerRequest& request, ListenerReplySink reply)>;

class HttpListener {
 public:
  HttpListener(boost::asio::io_context& io, ListenerHandler handler);
  HttpListener(boost::asio::io_context& io, ListenerAsyncHandler handler);
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
