#include "citybed/models/relay.h"

#include <boost/asio/steady_timer.hpp>
#include <charconv>

#include "citybed/common/http_client.h"
#include "citybed/common/strings.h"
#include "citybed/common/url.h"
#include "citybed/sim/http_listener.h"

namespace citybed::models {

namespace asio = boost::asio;

class Relay::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, const World& world, std::vector<std::string> urls, double speed,
       const sim::RetransmitPolicy& retransmit, sim::Rng rng, std::function<sim::Time()> now)
      : io_(io),
        world_(world),
        fed_(*world.federation()),
        urls_(std::move(urls)),
        speed_(speed),
        retransmit_(retransmit),
        rng_(rng),
        now_(std::move(now)) {}

  Expected<void> Listen(const std::string& host) {
    host_ = host;
    listener_ = std::make_unique<sim::HttpListener>(
        io_, [self = weak_from_this()](const sim::ListenerRequest& r, sim::ListenerReplySink reply) {
          if (auto s = self.lock()) s->OnRequest(r, std::move(reply));
        });
    if (auto ok = listener_->Listen(host, 0); !ok) return ok;
    for (const std::string& url : urls_) {
      auto parsed = ParseHttpUrl(url);
      if (!parsed) return Unexpected(parsed.error());
      HttpClientOptions o;
      o.host = parsed->host;
      o.port = parsed->port;
      o.connections = 8;
      o.timeout = std::chrono::milliseconds(60000);
      o.keep_warnings = true;  // a source broker's NGSILD-Warnings travel back with its answer
      pools_.push_back(std::make_unique<HttpClientPool>(io_, o));
      hosts_.push_back(parsed->host_header);
    }
    return {};
  }

  void Close() {
    held_.clear();
    if (listener_) listener_->Close();
    for (auto& p : pools_) p->Shutdown();
  }

  std::string EndpointFor(int at, int source) const {
    return "http://" + host_ + ":" + std::to_string(listener_ ? listener_->port() : 0) + "/hop/" + std::to_string(at) +
           "/" + std::to_string(source);
  }

  RelayStats stats_;

 private:
  struct Hop {
    int at = 0, source = 0;
    std::string method, target, content_type, body, extra;
    sim::ListenerReplySink reply;
    std::unique_ptr<asio::steady_timer> timer;
  };

  static bool ReadInt(std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  }

  void OnRequest(const sim::ListenerRequest& r, sim::ListenerReplySink reply) {
    // /hop/<at>/<source>/<the source's path and query>
    auto hop = std::make_shared<Hop>();
    const std::string_view target = r.target;
    const auto parts = Split(target.substr(0, target.find('?')), '/');
    const int n = static_cast<int>(urls_.size());
    if (parts.size() < 4 || parts[1] != "hop" || !ReadInt(parts[2], hop->at) || !ReadInt(parts[3], hop->source) ||
        hop->at < 0 || hop->at >= n || hop->source < 0 || hop->source >= n) {
      reply({404, "application/json", R"({"title":"not a relay hop"})"});
      return;
    }
    const size_t prefix = 1 + parts[1].size() + 1 + parts[2].size() + 1 + parts[3].size();  // "/hop/<at>/<source>"
    hop->target = std::string(target.substr(prefix));
    if (hop->target.empty() || hop->target[0] != '/') hop->target = "/" + hop->target;
    hop->method = std::string(r.method);
    hop->body = std::string(r.body);
    for (const auto& [name, value] : r.headers) {
      if (EqualsAsciiNoCase(name, "Content-Type")) {
        hop->content_type = std::string(value);
        continue;
      }
      if (EqualsAsciiNoCase(name, "Host") || EqualsAsciiNoCase(name, "Content-Length") ||
          EqualsAsciiNoCase(name, "Connection")) {
        continue;
      }
      hop->extra.append(name).append(": ").append(value).append("\r\n");
    }
    hop->reply = std::move(reply);
    ++stats_.hops;
    const uint64_t bytes = hop->body.size() + hop->extra.size() + hop->target.size() + 64;
    stats_.bytes_forward += bytes;
    Cross(hop, fed_.SiteToSite(hop->at, hop->source), bytes, [this, hop] { Forward(hop); });
  }

  // Waits the backbone's delay for `bytes` on `route` (in wall time), then `next`; a message
  // lost after its last retry drops the connection instead.
  template <class Next>
  void Cross(const std::shared_ptr<Hop>& hop, const sim::Route& route, uint64_t bytes, Next next) {
    const sim::Delivery d = sim::Network::Deliver(route, bytes, retransmit_, rng_);
    stats_.backbone.Record(d.delay.ns());
    if (!d.delivered) {
      ++stats_.lost;
      hop->reply(sim::ListenerReply::Drop());
      return;
    }
    const auto wall = std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(d.delay.ns()) / speed_));
    if (wall.count() <= 0) {
      next();
      return;
    }
    hop->timer = std::make_unique<asio::steady_timer>(io_, wall);
    hop->timer->async_wait([self = shared_from_this(), next](const boost::system::error_code& ec) {
      if (!ec) next();
    });
  }

  void Forward(const std::shared_ptr<Hop>& hop) {
    if (const FaultSpec* fault = world_.FaultSpecAt(hop->source, now_())) {
      if (auto mode = fault->At(now_())) {
        ++stats_.faulted;
        switch (*mode) {
          case FaultSpec::Mode::kRefuse:
          case FaultSpec::Mode::kFlap: hop->reply(sim::ListenerReply::Drop()); return;
          case FaultSpec::Mode::kBlackhole: held_.push_back(hop); return;  // answered never
          case FaultSpec::Mode::kError:
            hop->reply({503, "application/json",
                        R"({"type":"https://uri.etsi.org/ngsi-ld/errors/InternalError","title":"Service Unavailable","status":503})"});
            return;
          case FaultSpec::Mode::kSlow: {
            hop->timer = std::make_unique<asio::steady_timer>(
                io_, std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(fault->delay.ns()) / speed_)));
            hop->timer->async_wait([self = shared_from_this(), hop](const boost::system::error_code& ec) {
              if (!ec) self->Send(hop);
            });
            return;
          }
        }
      }
    }
    Send(hop);
  }

  void Send(const std::shared_ptr<Hop>& hop) {
    std::string wire = FormatRequest(hop->method, hop->target, hosts_[static_cast<size_t>(hop->source)], hop->extra,
                                     hop->content_type, hop->body);
    auto* ctx = new std::shared_ptr<Hop>(hop);
    pools_[static_cast<size_t>(hop->source)]->Send(std::move(wire), {&Impl::OnAnswer, this, reinterpret_cast<uint64_t>(ctx)});
  }

  static void OnAnswer(void* self_ptr, uint64_t tag, HttpOutcome& o) {
    auto* self = static_cast<Impl*>(self_ptr);
    std::unique_ptr<std::shared_ptr<Hop>> holder(reinterpret_cast<std::shared_ptr<Hop>*>(tag));
    std::shared_ptr<Hop> hop = *holder;
    if (!o.error.empty() || o.status == 0) {
      ++self->stats_.unreachable;
      hop->reply(sim::ListenerReply::Drop());
      return;
    }
    auto answer = std::make_shared<sim::ListenerReply>();
    answer->status = o.status;
    answer->body = std::move(o.body);
    if (!answer->body.empty()) answer->content_type = "application/json";
    if (!o.results_count.empty()) answer->headers.emplace_back("NGSILD-Results-Count", o.results_count);
    for (std::string& w : o.warning_texts) answer->headers.emplace_back("NGSILD-Warning", std::move(w));
    const uint64_t bytes = answer->body.size() + 160;
    self->stats_.bytes_back += bytes;
    self->Cross(hop, self->fed_.SiteToSite(hop->source, hop->at), bytes, [hop, answer] { hop->reply(std::move(*answer)); });
  }

  asio::io_context& io_;
  const World& world_;
  const Federation& fed_;
  std::vector<std::string> urls_;
  std::vector<std::string> hosts_;
  double speed_;
  sim::RetransmitPolicy retransmit_;
  sim::Rng rng_;
  std::string host_;
  std::unique_ptr<sim::HttpListener> listener_;
  std::vector<std::unique_ptr<HttpClientPool>> pools_;
  std::function<sim::Time()> now_;
  std::vector<std::shared_ptr<Hop>> held_;  // black-holed: kept unanswered until Close
};

Relay::Relay(asio::io_context& io, const World& world, std::vector<std::string> site_urls, double speed,
             const sim::RetransmitPolicy& retransmit, sim::Rng rng, std::function<sim::Time()> now)
    : impl_(std::make_shared<Impl>(io, world, std::move(site_urls), speed, retransmit, rng, std::move(now))) {}
Relay::~Relay() { impl_->Close(); }
Expected<void> Relay::Listen(const std::string& host) { return impl_->Listen(host); }
void Relay::Close() { impl_->Close(); }
std::string Relay::EndpointFor(int at, int source) const { return impl_->EndpointFor(at, source); }
const RelayStats& Relay::stats() const { return impl_->stats_; }

}  // namespace citybed::models
