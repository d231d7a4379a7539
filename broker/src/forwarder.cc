#include "citybed/broker/forwarder.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "citybed/common/cpu_time.h"
#include "citybed/common/http_client.h"
#include "citybed/common/http_fetch.h"
#include "citybed/common/log.h"
#include "citybed/common/strings.h"
#include "citybed/common/url.h"

namespace citybed::broker {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class Forwarder::Impl : public std::enable_shared_from_this<Impl> {
 public:
  // One Send: the outcomes so far and how many are still out. Lives on the forwarder's thread.
  struct Batch {
    std::vector<ForwardOutcome> outcomes;
    size_t left = 0;
    Forwarder::Done done;
    Clock::time_point start;
  };

  explicit Impl(ForwarderOptions o) : options_(o), work_(asio::make_work_guard(io_)) {}
  ~Impl() { StopNow(); }

  void Start() {
    if (running_.exchange(true)) return;
    thread_ = std::thread([this] {
      for (;;) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          CITYBED_LOG(kError) << "forwarder: " << e.what() << "; continuing";
        }
      }
    });
  }

  void StopNow() {
    if (!running_.exchange(false)) return;
    // Fail what is waiting or in flight (their batches complete), then let the thread end.
    asio::post(io_, [this] {
      for (auto& [key, pool] : pools_) pool->Shutdown();
    });
    if (blocking_) blocking_->join();
    work_.reset();
    if (thread_.joinable()) thread_.join();
    pools_.clear();
  }

  void Send(std::vector<ForwardRequest> requests, Done done) {
    auto batch = std::make_shared<Batch>();
    batch->outcomes.resize(requests.size());
    batch->left = requests.size();
    batch->done = std::move(done);
    batch->start = Clock::now();
    if (!running_.load()) {
      for (ForwardOutcome& o : batch->outcomes) o.error = "the broker is stopping";
      batch->done(std::move(batch->outcomes));
      return;
    }
    if (requests.empty()) {
      asio::post(io_, [batch] { batch->done({}); });
      return;
    }
    auto shared = std::make_shared<std::vector<ForwardRequest>>(std::move(requests));
    asio::post(io_, [self = shared_from_this(), batch, shared] {
      for (size_t i = 0; i < shared->size(); ++i) self->Dispatch(batch, i, std::move((*shared)[i]));
    });
  }

  ForwarderCounters Counters() const {
    ForwarderCounters c;
    c.sent = sent_.load();
    c.answered = answered_.load();
    c.failed = failed_.load();
    c.timeouts = timeouts_.load();
    c.cooled = cooled_.load();
    c.bytes_received = bytes_.load();
    c.in_flight = in_flight_.load();
    return c;
  }

  double CpuSeconds() { return ThreadCpuSeconds(thread_); }

 private:
  // On the forwarder's thread from here on.
  void Dispatch(const std::shared_ptr<Batch>& batch, size_t index, ForwardRequest req) {
    auto url = ParseHttpUrl(req.url);
    if (!url) {
      Finish(batch, index, Failed(url.error().message));
      return;
    }
    const std::string pool_key = url->scheme + "://" + url->host_header;
    const std::string key = req.endpoint.empty() ? pool_key : req.endpoint;
    const auto now = Clock::now();
    if (auto it = cool_until_.find(key); it != cool_until_.end()) {
      if (now < it->second) {
        ForwardOutcome o = Failed("cooling down after a failure of " + key);
        o.cooled = true;
        cooled_.fetch_add(1);
        Finish(batch, index, std::move(o));
        return;
      }
      cool_until_.erase(it);
    }
    sent_.fetch_add(1);
    in_flight_.fetch_add(1);
    if (url->scheme == "https") {
      SendBlocking(batch, index, std::move(req), key);
      return;
    }
    HttpClientPool* pool = PoolFor(*url, pool_key);
    if (pool == nullptr) {
      in_flight_.fetch_sub(1);
      Finish(batch, index, Failed("too many distinct context source endpoints"));
      return;
    }
    std::string extra;
    for (const Header& h : req.headers) extra += h.name + ": " + h.value + "\r\n";
    const std::string* type = nullptr;
    for (const Header& h : req.headers) {
      if (EqualsAsciiNoCase(h.name, "Content-Type")) type = &h.value;
    }
    if (type != nullptr) {
      std::string filtered;  // FormatRequest writes Content-Type itself
      for (const Header& h : req.headers) {
        if (!EqualsAsciiNoCase(h.name, "Content-Type")) filtered += h.name + ": " + h.value + "\r\n";
      }
      extra = std::move(filtered);
    }
    std::string wire = FormatRequest(req.method, url->target, url->host_header, extra, type ? *type : "", req.body);
    auto* pending = new Pending{shared_from_this(), batch, index, key, req.cooldown};
    pool->Send(std::move(wire), {&Impl::OnAnswer, pending, 0}, now + req.timeout);
  }

  struct Pending {
    std::shared_ptr<Impl> self;
    std::shared_ptr<Batch> batch;
    size_t index;
    std::string key;
    std::chrono::milliseconds cooldown;
  };

  static void OnAnswer(void* ctx, uint64_t, HttpOutcome& h) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(ctx));
    ForwardOutcome o;
    o.status = h.status;
    o.error = h.error;
    o.body = std::move(h.body);
    o.results_count = std::move(h.results_count);
    o.warnings = std::move(h.warning_texts);
    p->self->in_flight_.fetch_sub(1);
    p->self->Complete(p->batch, p->index, std::move(o), p->key, p->cooldown);
  }

  void SendBlocking(const std::shared_ptr<Batch>& batch, size_t index, ForwardRequest req, const std::string& key) {
    if (!blocking_) blocking_.emplace(2);  // made on first use: most federations speak plain http
    asio::post(*blocking_, [self = shared_from_this(), batch, index, req = std::move(req), key]() {
      FetchRequest f;
      f.method = req.method;
      f.url = req.url;
      for (const Header& h : req.headers) f.headers.push_back({h.name, h.value});
      f.body = req.body;
      f.timeout = req.timeout;
      ForwardOutcome o;
      if (auto r = Fetch(f)) {
        o.status = r->status;
        o.body = std::move(r->body);
        o.results_count = r->Get("NGSILD-Results-Count");
        for (const HttpField& h : r->headers) {
          if (EqualsAsciiNoCase(h.name, "NGSILD-Warning")) o.warnings.push_back(h.value);
        }
      } else {
        o.error = r.error().code == ErrorCode::kTimeout ? "timeout" : r.error().message;
      }
      asio::post(self->io_, [self, batch, index, o = std::move(o), key, cooldown = req.cooldown]() mutable {
        self->in_flight_.fetch_sub(1);
        self->Complete(batch, index, std::move(o), key, cooldown);
      });
    });
  }

  void Complete(const std::shared_ptr<Batch>& batch, size_t index, ForwardOutcome o, const std::string& key,
                std::chrono::milliseconds cooldown) {
    // A failure is no HTTP answer or a server error: the endpoint cools down. A 4xx is the
    // source's verdict on the request, not a failure of the source.
    const bool failed = !o.error.empty() || o.status >= 500;
    if (failed && cooldown.count() > 0) cool_until_[key] = Clock::now() + cooldown;
    if (o.error == "timeout") timeouts_.fetch_add(1);
    (failed ? failed_ : answered_).fetch_add(1);
    bytes_.fetch_add(o.body.size());
    Finish(batch, index, std::move(o));
  }

  static ForwardOutcome Failed(std::string why) {
    ForwardOutcome o;
    o.error = std::move(why);
    return o;
  }

  void Finish(const std::shared_ptr<Batch>& batch, size_t index, ForwardOutcome o) {
    o.seconds = std::chrono::duration<double>(Clock::now() - batch->start).count();
    batch->outcomes[index] = std::move(o);
    if (--batch->left > 0) return;
    try {
      batch->done(std::move(batch->outcomes));
    } catch (const std::exception& e) {
      CITYBED_LOG(kError) << "forwarder: completing a distributed operation failed: " << e.what();
    }
  }

  HttpClientPool* PoolFor(const HttpUrl& url, const std::string& key) {
    auto it = pools_.find(key);
    if (it != pools_.end()) return it->second.get();
    if (pools_.size() >= options_.max_endpoints) return nullptr;
    HttpClientOptions o;
    o.host = url.host;
    o.port = url.port;
    o.connections = options_.connections_per_endpoint;
    o.timeout = std::chrono::milliseconds(60000);  // each request carries its own deadline
    o.keep_warnings = true;  // a source's own partial answers are passed on (distributed.h)
    return pools_.emplace(key, std::make_unique<HttpClientPool>(io_, o)).first->second.get();
  }

  ForwarderOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<asio::thread_pool> blocking_;  // https requests (Fetch blocks); forwarder thread only
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::map<std::string, std::unique_ptr<HttpClientPool>> pools_;  // forwarder thread only
  std::map<std::string, Clock::time_point> cool_until_;          // forwarder thread only
  std::atomic<uint64_t> sent_{0}, answered_{0}, failed_{0}, timeouts_{0}, cooled_{0}, bytes_{0};
  std::atomic<size_t> in_flight_{0};
};

Forwarder::Forwarder(ForwarderOptions options) : impl_(std::make_shared<Impl>(options)) {}
Forwarder::~Forwarder() { impl_->StopNow(); }
void Forwarder::Start() { impl_->Start(); }
void Forwarder::Stop() { impl_->StopNow(); }
void Forwarder::Send(std::vector<ForwardRequest> requests, Done done) { impl_->Send(std::move(requests), std::move(done)); }
ForwarderCounters Forwarder::Counters() const { return impl_->Counters(); }
double Forwarder::CpuSeconds() const { return impl_->CpuSeconds(); }

}  // namespace citybed::broker
