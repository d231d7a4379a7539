#include "citybed/broker/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace citybed::broker {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Expected<HttpResult> HttpRequest(Method method, const std::string& url, const std::vector<Header>& headers,
                                 std::string body, std::chrono::milliseconds timeout, size_t max_body_bytes) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed) return Unexpected(parsed.error());
  if (parsed->scheme != "http") {
    return Unexpected(Error::Unavailable("only http:// URLs are supported, not " + parsed->scheme + "://"));
  }
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left = [&] { return std::max(std::chrono::milliseconds(1),
                                       std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())); };
    auto endpoints = resolver.resolve(parsed->host, parsed->port, ec);
    if (ec) return Unexpected(Error::Unavailable("cannot resolve " + parsed->host + ": " + ec.message()));
    stream.expires_after(left());
    stream.async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    io.run();
    if (ec) return Unexpected(Error::Unavailable("cannot connect to " + url + ": " + ec.message()));

    http::request<http::string_body> req{http::verb::get, parsed->target, 11};
    req.method_string(std::string(ToString(method)));
    req.set(http::field::host, parsed->host + ":" + parsed->port);
    req.set(http::field::user_agent, "citybed-broker");
    for (const Header& h : headers) req.set(h.name, h.value);
    if (!body.empty() || method == Method::kPost || method == Method::kPut || method == Method::kPatch) {
      req.body() = std::move(body);
      req.prepare_payload();
    }
    io.restart();
    stream.expires_after(left());
    http::async_write(stream, req, [&](const beast::error_code& e, size_t) { ec = e; });
    io.run();
    if (ec) return Unexpected(Error::Unavailable("cannot send to " + url + ": " + ec.message()));

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body_bytes);
    io.restart();
    stream.expires_after(left());
    http::async_read(stream, buffer, parser, [&](const beast::error_code& e, size_t) { ec = e; });
    io.run();
    if (ec == beast::error::timeout) return Unexpected(Error::Timeout("no answer from " + url + " within " + std::to_string(timeout.count()) + " ms"));
    if (ec) return Unexpected(Error::Unavailable("cannot read from " + url + ": " + ec.message()));
    HttpResult result;
    auto& res = parser.get();
    result.status = static_cast<int>(res.result_int());
    result.body = std::move(res.body());
    for (const auto& f : res) result.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return result;
  } catch (const std::exception& e) {
    return Unexpected(Error::Unavailable(std::string("request to ") + url + " failed: " + e.what()));
  }
}

}  // namespace citybed::broker
