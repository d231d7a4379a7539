// Fetch over https: a TLS server on loopback with a test certificate (tests/support/tls, for
// localhost and 127.0.0.1); the certificate and the server's name are checked.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "citybed/common/http_fetch.h"

using namespace citybed;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

const std::string kTlsDir = CITYBED_TEST_TLS_DIR;

// Serves `connections` TLS connections, one request each, answering 200 with the target.
class TlsServer {
 public:
  explicit TlsServer(int connections) : ctx_(ssl::context::tls_server), acceptor_(io_, {tcp::v4(), 0}) {
    ctx_.use_certificate_chain_file(kTlsDir + "/cert.pem");
    ctx_.use_private_key_file(kTlsDir + "/key.pem", ssl::context::pem);
    thread_ = std::thread([this, connections] {
      for (int i = 0; i < connections; ++i) {
        tcp::socket socket(io_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return;
        beast::ssl_stream<tcp::socket> stream(std::move(socket), ctx_);
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) continue;  // the client refused the certificate
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) continue;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "text/plain");
        res.body() = "hello " + std::string(req.target());
        res.prepare_payload();
        http::write(stream, res, ec);
        stream.shutdown(ec);
      }
    });
  }
  ~TlsServer() {
    beast::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::io_context io_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("Fetch speaks https, trusting a given CA file and checking the server's name", "[common]") {
  TlsServer server(3);
  const std::string base = "https://127.0.0.1:" + std::to_string(server.port());

  FetchRequest ok;
  ok.url = base + "/ctx.jsonld";
  ok.ca_file = kTlsDir + "/cert.pem";
  ok.timeout = std::chrono::seconds(10);
  auto r = Fetch(ok);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "hello /ctx.jsonld");

  // The same certificate is not trusted without the CA file (it is self-signed).
  FetchRequest untrusted = ok;
  untrusted.ca_file.clear();
  auto u = Fetch(untrusted);
  REQUIRE(!u);
  CHECK(u.error().message.find("TLS handshake") != std::string::npos);

  // A name the certificate does not carry is refused even with the CA trusted.
  FetchRequest wrong_name = ok;
  wrong_name.url = "https://127.0.0.2:" + std::to_string(server.port()) + "/x";
  auto w = Fetch(wrong_name);
  REQUIRE(!w);
}
