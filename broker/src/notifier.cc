#include "citybed/broker/notifier.h"

#include "citybed/common/cpu_time.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "citybed/common/url.h"
#include "citybed/common/log.h"
#include "citybed/common/strings.h"

namespace citybed::broker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class Notifier::Impl {
 public:
  explicit Impl(NotifierOptions o) : options_(o), work_(asio::make_work_guard(io_)), sweep_(io_) {}

  ~Impl() { StopNow(); }

  void Start() {
    accepting_ = true;
    asio::post(io_, [this] { ArmSweep(); });
    thread_ = std::thread([this] {
      // A failure inside one delivery must not end the thread (and the process) for all.
      for (;;) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          CITYBED_LOG(kError) << "notifier: " << e.what() << "; continuing";
        }
      }
    });
  }

  bool Enqueue(NotificationJob job) {
    if (!accepting_.load() || queued_.load() >= options_.queue_capacity) {
      dropped_.fetch_add(1);
      return false;
    }
    job.bytes = job.uri.size() + job.body.size();
    for (const Header& h : job.headers) job.bytes += h.name.size() + h.value.size();
    if (!TakeShare(job)) return false;
    queued_.fetch_add(1);
    job.queued = std::chrono::steady_clock::now();
    auto shared = std::make_shared<NotificationJob>(std::move(job));
    asio::post(io_, [this, shared] { Dispatch(shared, false); });
    return true;
  }

  void Stop(std::chrono::milliseconds flush) {
    accepting_ = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, flush, [this] { return queued_.load() == 0; });
    }
    StopNow();
  }

  NotifierCounters Counters() const {
    NotifierCounters c;
    c.sent = sent_.load();
    c.failed = failed_.load();
    c.dropped = dropped_.load();
    c.retried = retried_.load();
    c.queued = queued_.load();
    c.dropped_tenant_share = dropped_share_.load();
    {
      std::lock_guard lock(share_mu_);
      c.queued_bytes = queued_bytes_;
    }
    return c;
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : stream(io) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    bool reused = false;
    std::chrono::steady_clock::time_point idle_since;  // when it was last put in its endpoint's idle list
  };
  using JobPtr = std::shared_ptr<NotificationJob>;
  using ConnPtr = std::shared_ptr<Conn>;
  struct Endpoint {
    std::string host, port;
    std::vector<ConnPtr> idle;
    int active = 0;
    std::deque<JobPtr> waiting;
  };

  void StopNow() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
    const size_t left = queued_.exchange(0);
    dropped_.fetch_add(left);
    std::lock_guard lock(share_mu_);
    queued_bytes_ = 0;
    tenant_shares_.clear();
  }

  // Room for the job in the queue's bytes and in its tenant's share; false: dropped (counted).
  bool TakeShare(const NotificationJob& job) {
    std::lock_guard lock(share_mu_);
    if (options_.queue_bytes != 0 && queued_bytes_ + job.bytes > options_.queue_bytes) {
      dropped_.fetch_add(1);
      return false;
    }
    if (options_.tenant_queue_bytes != 0 || options_.tenant_queue_jobs != 0) {
      auto it = tenant_shares_.find(job.tenant);
      const TenantShare held = it == tenant_shares_.end() ? TenantShare{} : it->second;
      if ((options_.tenant_queue_bytes != 0 && held.bytes + job.bytes > options_.tenant_queue_bytes) ||
          (options_.tenant_queue_jobs != 0 && held.jobs + 1 > options_.tenant_queue_jobs)) {
        dropped_.fetch_add(1);
        dropped_share_.fetch_add(1);
        return false;
      }
      TenantShare& share = it == tenant_shares_.end() ? tenant_shares_[job.tenant] : it->second;
      share.bytes += job.bytes;
      ++share.jobs;
    }
    queued_bytes_ += job.bytes;
    return true;
  }

  // A job ended (delivered or given up): gives back its share and wakes whoever waits on the counters.
  void Finish(const NotificationJob& job) {
    {
      std::lock_guard lock(share_mu_);
      queued_bytes_ -= std::min(queued_bytes_, job.bytes);
      if (auto it = tenant_shares_.find(job.tenant); it != tenant_shares_.end()) {
        it->second.bytes -= std::min(it->second.bytes, job.bytes);
        it->second.jobs -= std::min<size_t>(it->second.jobs, 1);
        if (it->second.jobs == 0) tenant_shares_.erase(it);
      }
    }
    queued_.fetch_sub(1);
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

 public:
  bool WaitUntil(const std::function<bool(const NotifierCounters&)>& done, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(Counters()); });
  }

 private:

  void Dispatch(const JobPtr& job, bool retry_on_fresh) {
    auto url = ParseHttpUrl(job->uri);
    if (!url || url->scheme != "http") {
      Fail(job, nullptr, nullptr, "endpoint " + job->uri + " is not an http:// URL", false);
      return;
    }
    const std::string key = url->host + ":" + url->port;
    Endpoint& ep = endpoints_[key];
    if (ep.host.empty()) {
      ep.host = url->host;
      ep.port = url->port;
    }
    job->status->last_notification.store(UnixMicrosNow());
    if (!ep.idle.empty() && !retry_on_fresh) {
      ConnPtr conn = ep.idle.back();  // the most recently used
      ep.idle.pop_back();
      --idle_total_;
      ++ep.active;
      conn->reused = true;
      Send(key, conn, job, url->target);
      return;
    }
    if (ep.active >= options_.connections_per_endpoint) {
      ep.waiting.push_back(job);
      return;
    }
    ++ep.active;
    auto conn = std::make_shared<Conn>(io_);
    auto resolver = std::make_shared<tcp::resolver>(io_);
    const std::string target = url->target;
    resolver->async_resolve(ep.host, ep.port, [this, key, conn, job, target, resolver](
                                                   const beast::error_code& ec, tcp::resolver::results_type results) {
      if (ec) {
        Fail(job, conn, &key, "cannot resolve " + job->uri + ": " + ec.message(), true);
        return;
      }
      conn->stream.expires_after(options_.timeout);
      conn->stream.async_connect(results, [this, key, conn, job, target](const beast::error_code& e,
                                                                          const tcp::endpoint&) {
        if (e) {
          Fail(job, conn, &key, "cannot connect to " + job->uri + ": " + e.message(), true);
          return;
        }
        conn->stream.socket().set_option(tcp::no_delay(true));
        Send(key, conn, job, target);
      });
    });
  }

  void Send(const std::string& key, const ConnPtr& conn, const JobPtr& job, const std::string& target) {
    Endpoint& ep = endpoints_[key];
    conn->req = {};
    conn->req.method(http::verb::post);
    conn->req.target(target);
    conn->req.version(11);
    conn->req.set(http::field::host, ep.host + ":" + ep.port);
    conn->req.set(http::field::user_agent, "citybed-broker");
    for (const Header& h : job->headers) conn->req.set(h.name, h.value);
    conn->req.body() = job->body;
    conn->req.prepare_payload();
    conn->req.keep_alive(true);
    conn->stream.expires_after(options_.timeout);
    http::async_write(conn->stream, conn->req, [this, key, conn, job](const beast::error_code& ec, size_t) {
      if (ec) {
        Retry(key, conn, job, "cannot send to " + job->uri + ": " + ec.message());
        return;
      }
      conn->res = {};
      http::async_read(conn->stream, conn->buffer, conn->res, [this, key, conn, job](const beast::error_code& e, size_t) {
        if (e) {
          Retry(key, conn, job, "no answer from " + job->uri + ": " + e.message());
          return;
        }
        const int status = static_cast<int>(conn->res.result_int());
        const bool keep = conn->res.keep_alive();
        if (status >= 200 && status < 300) {
          Succeed(key, conn, job, keep);
        } else {
          Fail(job, conn, &key, job->uri + " answered HTTP " + std::to_string(status), true, keep);
        }
      });
    });
  }

  // A reused keep-alive connection may have been closed by the peer: try once on a fresh one.
  void Retry(const std::string& key, const ConnPtr& conn, const JobPtr& job, const std::string& why) {
    if (conn->reused) {
      Release(key, conn, false);
      Dispatch(job, true);
      return;
    }
    Fail(job, conn, &key, why, true);
  }

  void Succeed(const std::string& key, const ConnPtr& conn, const JobPtr& job, bool keep) {
    const int64_t now = UnixMicrosNow();
    job->status->times_sent.fetch_add(1);
    job->status->last_success.store(now);
    if (options_.delivery != nullptr) {
      options_.delivery->Record(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - job->queued).count());
    }
    job->status->failing.store(false);
    sent_.fetch_add(1);
    Release(key, conn, keep);
    Finish(*job);
  }

  void Fail(const JobPtr& job, const ConnPtr& conn, const std::string* key, const std::string& why, bool retryable,
            bool keep = false) {
    if (conn && key) Release(*key, conn, keep);
    if (retryable && job->attempt + 1 < options_.max_attempts) {
      retried_.fetch_add(1);
      const auto delay = options_.first_backoff * (1 << job->attempt);
      ++job->attempt;
      auto timer = std::make_shared<asio::steady_timer>(io_, delay);
      timer->async_wait([this, job, timer](const beast::error_code&) { Dispatch(job, false); });
      return;
    }
    CITYBED_LOG(kDebug) << "notification dropped after " << (job->attempt + 1) << " attempt(s): " << why;
    job->status->times_failed.fetch_add(1);
    job->status->last_failure.store(UnixMicrosNow());
    job->status->failing.store(true);
    failed_.fetch_add(1);
    Finish(*job);
  }

  void Release(const std::string& key, const ConnPtr& conn, bool keep) {
    Endpoint& ep = endpoints_[key];
    --ep.active;
    if (keep && conn->stream.socket().is_open() && idle_total_ < options_.max_idle) {
      conn->stream.expires_never();
      conn->idle_since = std::chrono::steady_clock::now();
      ep.idle.push_back(conn);
      ++idle_total_;
    } else {
      Close(*conn);
    }
    if (!ep.waiting.empty()) {
      JobPtr next = ep.waiting.front();
      ep.waiting.pop_front();
      asio::post(io_, [this, next] { Dispatch(next, false); });
    }
  }

  static void Close(Conn& conn) {
    beast::error_code ignored;
    conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    conn.stream.close();
  }

  // Every half idle timeout: closes the connections unused for longer than the timeout and
  // forgets endpoints with nothing open, queued or in flight.
  void ArmSweep() {
    sweep_.expires_after(std::max(options_.idle_timeout / 2, std::chrono::milliseconds(10)));
    sweep_.async_wait([this](const beast::error_code& ec) {
      if (ec) return;
      const auto cutoff = std::chrono::steady_clock::now() - options_.idle_timeout;
      for (auto it = endpoints_.begin(); it != endpoints_.end();) {
        Endpoint& ep = it->second;
        size_t stale = 0;  // the idle list is in the order connections were put in it
        while (stale < ep.idle.size() && ep.idle[stale]->idle_since <= cutoff) Close(*ep.idle[stale++]);
        ep.idle.erase(ep.idle.begin(), ep.idle.begin() + static_cast<std::ptrdiff_t>(stale));
        idle_total_ -= stale;
        if (ep.idle.empty() && ep.active == 0 && ep.waiting.empty()) {
          it = endpoints_.erase(it);
        } else {
          ++it;
        }
      }
      ArmSweep();
    });
  }

  NotifierOptions options_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer sweep_;
  size_t idle_total_ = 0;  // io thread only
  std::thread thread_;

 public:
  // From the owner's thread (as Start and Stop).
  double CpuSeconds() { return thread_.joinable() ? ThreadCpuSeconds(thread_) : 0.0; }
  std::unordered_map<std::string, Endpoint> endpoints_;  // io thread only
  std::atomic<bool> accepting_{false};
  std::atomic<size_t> queued_{0};
  std::atomic<uint64_t> sent_{0}, failed_{0}, dropped_{0}, retried_{0}, dropped_share_{0};
  mutable std::mutex share_mu_;  // the queue's bytes, in all and per tenant
  size_t queued_bytes_ = 0;
  struct TenantShare {
    size_t bytes = 0, jobs = 0;
  };
  std::unordered_map<std::string, TenantShare> tenant_shares_;  // tenants with jobs queued or in flight
  std::mutex mu_;
  std::condition_variable cv_;
};

Notifier::Notifier(NotifierOptions options) : impl_(std::make_unique<Impl>(options)) {}
Notifier::~Notifier() = default;
void Notifier::Start() { impl_->Start(); }
void Notifier::Stop(std::chrono::milliseconds flush) { impl_->Stop(flush); }
bool Notifier::Enqueue(NotificationJob job) { return impl_->Enqueue(std::move(job)); }
NotifierCounters Notifier::Counters() const { return impl_->Counters(); }
double Notifier::CpuSeconds() const { return impl_->CpuSeconds(); }
bool Notifier::WaitUntil(const std::function<bool(const NotifierCounters&)>& done, std::chrono::milliseconds timeout) {
  return impl_->WaitUntil(done, timeout);
}

}  // namespace citybed::broker
