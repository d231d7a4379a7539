#include "citybed/common/http_fetch.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <optional>

#include "citybed/common/strings.h"
#include "citybed/common/url.h"

namespace citybed {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

bool FetchResult::Has(std::string_view name) const {
  for (const HttpField& f : headers) {
    if (EqualsAsciiNoCase(f.name, name)) return true;
  }
  return false;
}

std::string FetchResult::Get(std::string_view name) const {
  std::string out;
  for (const HttpField& f : headers) {
    if (!EqualsAsciiNoCase(f.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += f.value;
  }
  return out;
}

namespace {

// The exchange over a connected stream (plain or TLS).
template <class Stream, class Left>
Expected<FetchResult> Exchange(boost::asio::io_context& io, Stream& stream, beast::tcp_stream& tcp_layer,
                               const FetchRequest& request, const HttpUrl& parsed, Left left) {
  const std::string& url = request.url;
  beast::error_code ec;
  http::request<http::string_body> req{http::verb::get, parsed.target, 11};
  req.method_string(request.method);
  bool has_host = false;
  for (const HttpField& h : request.headers) {
    has_host = has_host || EqualsAsciiNoCase(h.name, "Host");
    req.insert(h.name, h.value);
  }
  if (!has_host) req.set(http::field::host, parsed.host_header);
  if (request.has_body || !request.body.empty()) {
    req.body() = request.body;
    req.prepare_payload();
  }
  io.restart();
  tcp_layer.expires_after(left());
  http::async_write(stream, req, [&](const beast::error_code& e, size_t) { ec = e; });
  io.run();
  if (ec) return Unexpected(Error::Unavailable("cannot send to " + url + ": " + ec.message()));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_body);
  // A HEAD request, and 204/304 answers, have no body whatever their headers say.
  parser.skip(request.method == "HEAD");
  io.restart();
  tcp_layer.expires_after(left());
  http::async_read(stream, buffer, parser, [&](const beast::error_code& e, size_t) { ec = e; });
  io.run();
  if (ec == beast::error::timeout) {
    return Unexpected(Error::Timeout("no answer from " + url + " within " + std::to_string(request.timeout.count()) + " ms"));
  }
  if (ec) return Unexpected(Error::Unavailable("cannot read from " + url + ": " + ec.message()));
  FetchResult result;
  auto& res = parser.get();
  result.status = static_cast<int>(res.result_int());
  result.body = std::move(res.body());
  for (const auto& f : res) result.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  return result;
}

}  // namespace

Expected<FetchResult> Fetch(const FetchRequest& request) {
  const std::string& url = request.url;
  auto parsed = ParseHttpUrl(url);
  if (!parsed) return Unexpected(parsed.error());
  const bool tls = parsed->scheme == "https";
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    auto left = [&] {
      return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        deadline - std::chrono::steady_clock::now()));
    };
    auto endpoints = resolver.resolve(parsed->host, parsed->port, ec);
    if (ec) return Unexpected(Error::Unavailable("cannot resolve " + parsed->host + ": " + ec.message()));
    stream.expires_after(left());
    stream.async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) { ec = e; });
    io.run();
    if (ec) return Unexpected(Error::Unavailable("cannot connect to " + url + ": " + ec.message()));
    if (!tls) {
      auto result = Exchange(io, stream, stream, request, *parsed, left);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return result;
    }

    namespace ssl = boost::asio::ssl;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    if (!request.ca_file.empty()) {
      ctx.load_verify_file(request.ca_file, ec);
      if (ec) return Unexpected(Error::Unavailable("cannot read CA file " + request.ca_file + ": " + ec.message()));
    }
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream&> tls_stream(stream, ctx);
    // The server's name: sent (SNI) and checked against its certificate.
    if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), parsed->host.c_str())) {
      return Unexpected(Error::Unavailable("cannot set the TLS server name for " + url));
    }
    tls_stream.set_verify_callback(ssl::host_name_verification(parsed->host));
    io.restart();
    stream.expires_after(left());
    tls_stream.async_handshake(ssl::stream_base::client, [&](const beast::error_code& e) { ec = e; });
    io.run();
    if (ec == beast::error::timeout) {
      return Unexpected(Error::Timeout("no TLS handshake with " + url + " within " + std::to_string(request.timeout.count()) + " ms"));
    }
    if (ec) return Unexpected(Error::Unavailable("TLS handshake with " + url + " failed: " + ec.message()));
    auto result = Exchange(io, tls_stream, stream, request, *parsed, left);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // no TLS close_notify wait
    return result;
  } catch (const std::exception& e) {
    return Unexpected(Error::Unavailable(std::string("request to ") + url + " failed: " + e.what()));
  }
}

}  // namespace citybed
