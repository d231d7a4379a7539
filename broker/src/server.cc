#include "citybed/broker/server.h"

#include "citybed/common/cpu_time.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <atomic>
#include <optional>
#include <future>
#include <thread>
#include <unordered_set>
#include <vector>

#include "citybed/broker/router.h"
#include "citybed/common/log.h"
#include "citybed/common/op_class.h"

namespace citybed::broker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

// Whether every header of an answer can be written (http_message.h).
bool HeadersFit(const std::vector<Header>& headers) {
  return std::all_of(headers.begin(), headers.end(),
                     [](const Header& h) { return ValidHeaderName(h.name) && ValidHeaderValue(h.value); });
}

struct Worker {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::unordered_set<Session*> sessions;  // this worker's thread only
  std::optional<asio::steady_timer> sweeper;
  // Load shedding: a timer due every shed_lag / 4 (at most 10 ms). While it is overdue by more
  // than shed_lag, the loop runs that far behind its work: requests read then are shed.
  std::optional<asio::steady_timer> probe;
  std::chrono::steady_clock::time_point probe_due{};
  bool stopping = false;
  bool sweeping = true;  // false once Stop() ended the sweeps (a queued sweep must not re-arm)
  std::thread thread;
};

class HttpServer::Impl {
 public:
  Impl(ServerOptions o, RequestHandler h, Metrics& m) : options(std::move(o)), handler(std::move(h)), metrics(m) {}

  ServerOptions options;
  RequestHandler handler;
  Metrics& metrics;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::atomic<size_t> open{0};
  std::atomic<uint16_t> bound_port{0};
  size_t next_worker = 0;
  int accept_backoff_ms = 0;  // while out of descriptors (Accept)
  bool running = false;

  Expected<void> Start();
  void Stop(std::chrono::milliseconds grace);
  void Accept();
  void Sweep(Worker& w);
  void Probe(Worker& w);
  Clock::duration SweepInterval() const {
    auto shortest = std::min(options.header_timeout, options.idle_timeout) / 4;
    return std::clamp<Clock::duration>(shortest, std::chrono::milliseconds(10), std::chrono::seconds(1));
  }
};

// One in eight, from a per-thread xorshift generator.
bool SampleCpu() {
  thread_local uint64_t x = 0x9e3779b97f4a7c15ULL ^ reinterpret_cast<uintptr_t>(&x);
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return (x & 7) == 0;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Worker& worker, HttpServer::Impl& server)
      : socket_(std::move(socket)),
        worker_(worker),
        server_(server),
        buffer_(server.options.max_header_bytes + kReadChunk) {}

  void Start() {
    worker_.sessions.insert(this);
    server_.metrics.ConnectionOpened();
    beast::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    BeginRequest();
  }

  // Called by the sweeper (same thread): closes the socket when its deadline passed.
  void ExpireIf(Clock::time_point now) {
    if (!closed_ && now >= deadline_) {
      deadline_ = Clock::time_point::max();  // counted once; the pending operation ends the session
      server_.metrics.Timeout();
      beast::error_code ec;
      socket_.close(ec);  // the pending operation completes with an error and ends the session
    }
  }
  // Shutdown: idle connections close now, busy ones after their reply.
  void Drain(bool force) {
    if (closed_) return;
    if (force || state_ == State::kIdle) {
      beast::error_code ec;
      socket_.close(ec);
    }
  }

 private:
  static constexpr size_t kReadChunk = 64 << 10;
  enum class State { kIdle, kReading, kHandling, kWriting };

  void BeginRequest() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    if (buffer_.size() > 0) {  // a pipelined request is already here
      state_ = State::kReading;
      read_begin_ = Clock::now();
      deadline_ = Clock::now() + server_.options.header_timeout;
      Parse();
      return;
    }
    if (worker_.stopping) {
      Close();
      return;
    }
    state_ = State::kIdle;
    deadline_ = Clock::now() + server_.options.idle_timeout;
    ReadSome();
  }

  void ReadSome() {
    const size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) {
      Fail(431, "the request header is larger than " + std::to_string(server_.options.max_header_bytes) + " bytes");
      return;
    }
    socket_.async_read_some(buffer_.prepare(std::min(room, kReadChunk)),
                            [self = shared_from_this()](const beast::error_code& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const beast::error_code& ec, size_t n) {
    if (ec) {
      Close();
      return;
    }
    buffer_.commit(n);
    if (state_ == State::kIdle) {
      state_ = State::kReading;
      read_begin_ = Clock::now();
      deadline_ = Clock::now() + server_.options.header_timeout;
    }
    Parse();
  }

  void Parse() {
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
      if (used == 0) break;
    }
    if (ec == http::error::body_limit) {
      server_.metrics.BodyTooLarge();
      Fail(413, "the body is larger than the limit of " + std::to_string(server_.options.max_body_bytes) + " bytes");
      return;
    }
    if (ec == http::error::header_limit) {
      Fail(431, "the request header is larger than " + std::to_string(server_.options.max_header_bytes) + " bytes");
      return;
    }
    if (ec) {
      Fail(400, "malformed HTTP request: " + ec.message());
      return;
    }
    if (parser_->is_done()) {
      Handle();
    } else {
      ReadSome();
    }
  }

  void Handle() {
    state_ = State::kHandling;
    const auto start = Clock::now();
    auto& msg = parser_->get();
    Request req;
    req.method = ParseMethod(msg.method_string());
    req.target = std::string(msg.target());
    req.headers.reserve(8);
    for (const auto& f : msg) req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    req.body = std::move(msg.body());
    const bool keep_alive = msg.keep_alive();
    int route = -1;
    // Overloaded (the loop runs behind): answer at once instead of adding to the backlog.
    // The lag is read live, when the request is (how overdue the probe is now), not as the last
    // probe measured it: within one long round over many ready connections, the requests read
    // after the loop fell shed_lag behind are shed, so an admitted request waits about shed_lag
    // at most, instead of the whole round.
    if (server_.options.shed_lag.count() > 0 && std::chrono::steady_clock::now() > worker_.probe_due + server_.options.shed_lag &&
        !AlwaysServed(req)) {
      server_.metrics.Shed();
      Response r = ErrorAnswer(503, req.target, "the broker is overloaded; retry after the time Retry-After gives");
      r.SetHeader("Retry-After", "1");
      Write(std::move(r), keep_alive, req.method, -1, start);
      return;
    }
    // Per-class service metrics: the handler's wall and CPU time, and the read before it.
    const bool measure = server_.options.service_metrics;
    op_class_ = measure ? ClassifyRequest(msg.method_string(), req.target) : OpClass::kOther;
    ServiceMetrics::ClassStats* stats = measure ? &server_.metrics.service().of(op_class_) : nullptr;
    // The thread's CPU clock is a system call (about a microsecond on a VM): read for one request
    // in 8, at random, so that the CPU histogram is an unbiased sample at an eighth of the cost.
    const bool cpu_sample = measure && SampleCpu();
    const double cpu_start = cpu_sample ? ThisThreadCpuSeconds() : 0;
    if (stats) {
      stats->read.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(start - read_begin_).count());
      stats->in_flight.fetch_add(1, std::memory_order_relaxed);
      in_flight_ = true;
    }
    Response resp = server_.handler(req, &route);  // the router turns exceptions into 500s
    if (stats) {
      const auto end = Clock::now();
      stats->wall.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
      if (cpu_sample) stats->cpu.Record(static_cast<int64_t>((ThisThreadCpuSeconds() - cpu_start) * 1e9));
    }
    if (resp.deferred()) {
      // Answered later from another thread (a distributed operation): the answer comes back to
      // this session's thread. The forwarder bounds the wait, so the sweeper leaves it alone.
      deadline_ = Clock::time_point::max();
      auto later = std::move(resp.later);
      const Method method = req.method;
      auto sink = [self = shared_from_this(), keep_alive, method, route, start](Response done) {
        asio::post(self->socket_.get_executor(), [self, done = std::move(done), keep_alive, method, route, start]() mutable {
          if (self->closed_) return;
          if (done.deferred()) done = ProblemResponse(MakeProblem(ErrorType::kInternalError, "a deferred answer was deferred again"));
          self->Write(std::move(done), keep_alive, method, route, start);
        });
      };
      try {
        later(std::move(sink));
      } catch (const std::exception& e) {
        CITYBED_LOG(kError) << "starting a deferred answer failed: " << e.what();
        Write(ProblemResponse(MakeProblem(ErrorType::kInternalError, "the request could not be started")), false,
              req.method, route, start);
      }
      return;
    }
    Write(std::move(resp), keep_alive, req.method, route, start);
  }

  // The answer to an HTTP-level error or a shed request, in the shape the owner chose.
  Response ErrorAnswer(int status, std::string_view target, std::string detail) const {
    if (server_.options.error_response) return server_.options.error_response(status, target, detail);
    const ErrorType type = status == 400   ? ErrorType::kInvalidRequest
                           : status >= 500 ? ErrorType::kInternalError
                                           : ErrorType::kBadRequestData;
    return ProblemResponse(MakeProblem(type, std::move(detail), status));
  }

  // What is served even when shedding: the probes an operator watches the overload with.
  static bool AlwaysServed(const Request& req) {
    if (req.method != Method::kGet) return false;
    std::string_view path(req.target);
    path = path.substr(0, path.find('?'));
    return path == "/health" || path == "/version" || path == "/metrics" || path == "/ngsi-ld/v1/metrics";
  }

  // An HTTP-level error: answer it and close the connection (the stream cannot be trusted).
  void Fail(int status, std::string detail) {
    // The request line is parsed before the header fields, so the target is known even when
    // the header announced a body above the limit.
    const std::string target = parser_ ? std::string(parser_->get().target()) : std::string();
    Response resp = ErrorAnswer(status, target, std::move(detail));
    buffer_.consume(buffer_.size());
    Write(std::move(resp), false, Method::kOther, -1, Clock::now());
  }

  void Write(Response resp, bool keep_alive, Method method, int route, Clock::time_point start) {
    state_ = State::kWriting;
    if (in_flight_) {
      in_flight_ = false;
      server_.metrics.service().of(op_class_).in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    deadline_ = Clock::now() + server_.options.header_timeout;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(resp.status));
    if (!HeadersFit(resp.headers)) {
      // A header built from client input (a Location holding a huge id, ...) that HTTP cannot
      // carry: answered as an internal error rather than thrown out of the session.
      CITYBED_LOG(kError) << "a response header for status " << resp.status << " cannot be sent; answering 500";
      resp = ProblemResponse(MakeProblem(ErrorType::kInternalError, "a response header could not be formed"));
      res_.result(500);
    }
    // insert, not set: a field may repeat (one NGSILD-Warning per failed source; SetHeader keeps
    // the others unique).
    for (Header& h : resp.headers) res_.insert(h.name, std::move(h.value));
    const bool no_body = resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200);
    if (!no_body) {
      if (method == Method::kHead) {
        res_.content_length(resp.body.size());
      } else {
        res_.body() = std::move(resp.body);
        res_.prepare_payload();
      }
    }
    res_.keep_alive(keep_alive && !worker_.stopping);
    // Counted when the answer is handed to the socket, so that a client holding its answer
    // always finds it in /metrics (the duration is the handling, without the write).
    server_.metrics.RecordRequest(route, method, static_cast<int>(res_.result_int()),
                                  std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    http::async_write(socket_, res_, [self = shared_from_this()](const beast::error_code& ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(const beast::error_code& ec) {
    if (ec || !res_.keep_alive()) {
      beast::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      Close();
      return;
    }
    BeginRequest();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (in_flight_) {  // a deferred answer that will not be written
      in_flight_ = false;
      server_.metrics.service().of(op_class_).in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    beast::error_code ec;
    socket_.close(ec);
    worker_.sessions.erase(this);
    server_.metrics.ConnectionClosed();
    server_.open.fetch_sub(1);
  }

  tcp::socket socket_;
  Worker& worker_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  State state_ = State::kIdle;
  Clock::time_point deadline_;
  Clock::time_point read_begin_;
  OpClass op_class_ = OpClass::kOther;
  bool in_flight_ = false;
  bool closed_ = false;
};

Expected<void> HttpServer::Impl::Start() {
  const int n = std::max(1, options.threads);
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->guard.emplace(asio::make_work_guard(w->io));
    workers.push_back(std::move(w));
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return Unexpected(Error::InvalidArgument("invalid --host \"" + options.host + "\": " + ec.message()));
  tcp::endpoint endpoint(address, options.port);
  acceptor.emplace(workers[0]->io);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unexpected(Error::Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
                                         ec.message()));
  }
  bound_port = acceptor->local_endpoint().port();
  running = true;
  for (auto& w : workers) {
    Worker* wp = w.get();
    wp->sweeper.emplace(wp->io);
    Sweep(*wp);
    if (options.shed_lag.count() > 0) {
      wp->probe.emplace(wp->io);
      Probe(*wp);
    }
    wp->thread = std::thread([wp] {
      // An exception escaping a completion handler would end the thread and the process: log
      // it and go on serving.
      for (;;) {
        try {
          wp->io.run();
          return;
        } catch (const std::exception& e) {
          CITYBED_LOG(kError) << "server thread: " << e.what() << "; continuing";
        }
      }
    });
  }
  asio::post(workers[0]->io, [this] { Accept(); });
  return {};
}

void HttpServer::Impl::Probe(Worker& w) {
  const auto interval = std::clamp<Clock::duration>(options.shed_lag / 4, std::chrono::milliseconds(1),
                                                    std::chrono::milliseconds(10));
  w.probe_due = Clock::now() + interval;
  w.probe->expires_at(w.probe_due);
  w.probe->async_wait([this, &w](const beast::error_code& ec) {
    if (ec || !w.sweeping) return;
    Probe(w);
  });
}

void HttpServer::Impl::Sweep(Worker& w) {
  w.sweeper->expires_after(SweepInterval());
  w.sweeper->async_wait([this, &w](const beast::error_code& ec) {
    if (ec || !w.sweeping) return;
    const auto now = Clock::now();
    std::vector<Session*> all(w.sessions.begin(), w.sessions.end());
    for (Session* s : all) s->ExpireIf(now);
    Sweep(w);
  });
}

void HttpServer::Impl::Accept() {
  Worker& target = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(target.io, [this, &target](const beast::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
        ec.value() == ENFILE) {
      // Out of descriptors (or kernel memory): the connection stays in the backlog, so accepting
      // again at once would fail again at once — a loop at 100 % CPU. Wait, doubling from 10 ms
      // to 1 s, until descriptors are freed; counted in /metrics.
      metrics.AcceptFailed();
      if (accept_backoff_ms == 0) {
        CITYBED_LOG(kWarn) << "cannot accept connections: " << ec.message() << "; retrying";
      }
      accept_backoff_ms = std::clamp(accept_backoff_ms * 2, 10, 1000);
      auto timer = std::make_shared<asio::steady_timer>(workers[0]->io, std::chrono::milliseconds(accept_backoff_ms));
      timer->async_wait([this, timer](const beast::error_code& e) {
        if (!e && acceptor->is_open()) Accept();
      });
      return;
    }
    accept_backoff_ms = 0;
    if (!ec) {
      if (open.load() >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        open.fetch_add(1);
        asio::post(target.io, [this, &target, s = std::move(socket)]() mutable {
          std::make_shared<Session>(std::move(s), target, *this)->Start();
        });
      }
    }
    Accept();
  });
}

void HttpServer::Impl::Stop(std::chrono::milliseconds grace) {
  if (!running) return;
  running = false;
  // Close the listener and wait until it is closed: an accept that completed before the close
  // has by then posted its session to its worker, ahead of the drains below (a session posted
  // to a worker that already stopped would keep its socket open forever).
  auto close = [this] {
    beast::error_code ec;
    acceptor->close(ec);
  };
  if (std::this_thread::get_id() == workers[0]->thread.get_id()) {
    close();
  } else {
    std::promise<void> closed;
    asio::post(workers[0]->io, [&] {
      close();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  for (auto& w : workers) {
    Worker* wp = w.get();
    asio::post(wp->io, [wp] {
      wp->stopping = true;
      std::vector<Session*> all(wp->sessions.begin(), wp->sessions.end());
      for (Session* s : all) s->Drain(false);
    });
  }
  const auto deadline = Clock::now() + grace;
  while (open.load() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (auto& w : workers) {
    Worker* wp = w.get();
    asio::post(wp->io, [wp] {
      std::vector<Session*> all(wp->sessions.begin(), wp->sessions.end());
      for (Session* s : all) s->Drain(true);
      wp->sweeping = false;
      if (wp->sweeper) wp->sweeper->cancel();
      if (wp->probe) wp->probe->cancel();
    });
    wp->guard.reset();
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

HttpServer::HttpServer(ServerOptions options, RequestHandler handler, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), metrics)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(1000)); }

Expected<void> HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }
uint16_t HttpServer::port() const { return impl_->bound_port.load(); }
double HttpServer::CpuSeconds() const {
  double total = 0;
  if (!impl_->running) return total;
  for (const auto& w : impl_->workers) {
    if (w->thread.joinable()) total += ThreadCpuSeconds(w->thread);
  }
  return total;
}
size_t HttpServer::open_connections() const { return impl_->open.load(); }

}  // namespace citybed::broker
