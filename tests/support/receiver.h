// Receiver: a tiny HTTP server for tests, on 127.0.0.1 and an ephemeral port. It records every
// request, answers with a scripted status (e.g. fail the first N with 500), and serves fixed
// documents by path (e.g. @context files). Tests wait for requests on a condition variable with
// a deadline, never with sleeps.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace citybed::testing {

class Receiver {
 public:
  struct Received {
    std::string method, target, body;
    std::map<std::string, std::string> headers;
  };

  Receiver() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    io_.stop();
    thread_.join();
    held_.clear();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }

  void FailFirst(int n) {
    std::lock_guard lock(mu_);
    fail_first_ = n;
  }
  void AlwaysFail() {
    std::lock_guard lock(mu_);
    fail_first_ = 1 << 30;
  }
  // A scripted answer for any request: status and body, or no answer at all (`hold`: the
  // request is read and recorded, the connection stays open and silent: a black hole).
  struct Scripted {
    int status = 200;
    std::string body;
    bool hold = false;
  };
  void Script(std::function<Scripted(const Received&)> script) {
    std::lock_guard lock(mu_);
    script_ = std::move(script);
  }
  void Serve(const std::string& path, std::string body) {
    std::lock_guard lock(mu_);
    documents_[path] = std::move(body);
  }

  // Waits until at least `n` requests (any status) arrived, or `timeout` passed.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }
  // Waits until clients have closed at least `n` connections, or `timeout` passed.
  bool WaitForClosed(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closed_ >= n; });
  }
  size_t closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(s), *this);
      session->Read();
      Accept();
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    Session(boost::asio::ip::tcp::socket s, Receiver& r) : socket(std::move(s)), owner(r) {}
    boost::asio::ip::tcp::socket socket;
    Receiver& owner;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;
    void Read() {
      req = {};
      boost::beast::http::async_read(socket, buffer, req, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) {  // the client closed the connection (or reset it)
          if (ec != boost::asio::error::operation_aborted) {
            std::lock_guard lock(self->owner.mu_);
            ++self->owner.closed_;
            self->owner.cv_.notify_all();
          }
          return;
        }
        self->Answer();
      });
    }
    void Answer() {
      Received r{std::string(req.method_string()), std::string(req.target()), req.body(), {}};
      for (const auto& f : req) r.headers[std::string(f.name_string())] = std::string(f.value());
      int status = 204;
      std::string body;
      bool hold = false, script_used = false;
      {
        std::lock_guard lock(owner.mu_);
        auto doc = owner.documents_.find(r.target);
        if (owner.script_) {
          Scripted answer = owner.script_(r);
          status = answer.status;
          body = std::move(answer.body);
          hold = answer.hold;
          script_used = true;
        } else if (doc != owner.documents_.end()) {
          status = 200;
          body = doc->second;
        } else if (owner.fail_first_ > 0) {
          --owner.fail_first_;
          status = 500;
        }
        owner.received_.push_back(std::move(r));
      }
      owner.cv_.notify_all();
      if (hold) {
        std::lock_guard lock(owner.mu_);
        owner.held_.push_back(shared_from_this());  // open and silent until the receiver stops
        return;
      }
      res = {};
      res.version(11);
      res.result(status);
      res.keep_alive(req.keep_alive());
      if (!body.empty()) {
        res.set(boost::beast::http::field::content_type, script_used ? "application/json" : "application/ld+json");
        res.body() = body;
      }
      res.prepare_payload();
      boost::beast::http::async_write(socket, res, [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (!ec && self->res.keep_alive()) self->Read();
      });
    }
  };

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::map<std::string, std::string> documents_;
  std::function<Scripted(const Received&)> script_;
  std::vector<std::shared_ptr<Session>> held_;
  int fail_first_ = 0;
  size_t closed_ = 0;
};

}  // namespace citybed::testing
