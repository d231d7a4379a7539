#include "citybed/conformance/runner.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "citybed/common/http_fetch.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/conformance/match.h"
#include "citybed/sim/http_listener.h"

namespace citybed::conformance {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kUnsupported: return "unsupported";
    case Outcome::kError: return "error";
  }
  return "?";
}

size_t RunReport::count(Outcome o) const {
  size_t n = 0;
  for (const CaseResult& r : results) n += r.outcome == o;
  return n;
}

double RunReport::pass_rate() const {
  const size_t pass = count(Outcome::kPass), fail = count(Outcome::kFail);
  return pass + fail == 0 ? 0.0 : static_cast<double>(pass) / static_cast<double>(pass + fail);
}

namespace {

int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "5s", "1500ms", "2m", "1h", "1d" as microseconds.
std::optional<int64_t> DurationMicros(std::string_view text) {
  auto d = ParseDurationNs(text);
  if (!d) return std::nullopt;
  return *d / 1000;
}

// The notifications each case received, by uid.
class Receiver {
 public:
  Receiver()
      : work_(boost::asio::make_work_guard(io_)),
        listener_(io_, [this](const sim::ListenerRequest& r) { return OnRequest(r); }) {}
  ~Receiver() {
    // The listener belongs to the io thread: stop that first, then close on this one.
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    listener_.Close();
  }
  Expected<void> Start(const std::string& host) {
    if (auto ok = listener_.Listen(host, 0); !ok) return ok;
    thread_ = std::thread([this] { io_.run(); });
    return {};
  }
  uint16_t port() const { return listener_.port(); }

  // Waits until `uid` has at least `n` notifications under `path` (all paths when empty), or
  // `within` passes; returns them.
  json Wait(const std::string& uid, const std::string& path, size_t n, std::chrono::microseconds within) {
    std::unique_lock lock(mu_);
    const auto deadline = Clock::now() + within;
    auto matching = [&] {
      json out = json::array();
      for (const json& x : received_[uid]) {
        if (path.empty() || x["path"] == path) out.push_back(x);
      }
      return out;
    };
    if (n == 0) {
      cv_.wait_until(lock, deadline, [] { return false; });  // nothing must arrive: wait it all
    } else {
      cv_.wait_until(lock, deadline, [&] { return matching().size() >= n; });
    }
    return matching();
  }
  void Forget(const std::string& uid) {
    std::lock_guard lock(mu_);
    received_.erase(uid);
  }

 private:
  sim::ListenerReply OnRequest(const sim::ListenerRequest& r) {
    // /c/<uid>/rest
    const std::string target(r.target);
    if (target.rfind("/c/", 0) != 0) return {404, "", ""};
    const size_t slash = target.find('/', 3);
    const std::string uid = target.substr(3, slash == std::string::npos ? std::string::npos : slash - 3);
    std::string path = slash == std::string::npos ? "" : target.substr(slash);
    json n;
    n["path"] = path.empty() ? "/" : path;
    n["method"] = std::string(r.method);
    json headers = json::object();
    for (const auto& [name, value] : r.headers) {
      const std::string key = AsciiLower(std::string(name));
      if (headers.contains(key)) headers[key] = headers[key].get<std::string>() + ", " + std::string(value);
      else headers[key] = std::string(value);
    }
    n["headers"] = headers;
    json body = json::parse(r.body, nullptr, false);
    n["body"] = body.is_discarded() ? json(std::string(r.body)) : body;
    {
      std::lock_guard lock(mu_);
      received_[uid].push_back(std::move(n));
    }
    cv_.notify_all();
    return {204, "", ""};
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  sim::HttpListener listener_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<json>> received_;
};

std::string NewUid() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(UnixMicrosNow()));
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::lock_guard lock(mu);
  std::string s = "t";  // starts with a letter: valid as an NCName, a type name, a tenant
  for (int i = 0; i < 11; ++i) s.push_back(kAlphabet[rng() % 36]);
  return s;
}

struct CaseRun {
  const Case& c;
  const RunnerOptions& options;
  Receiver& receiver;
  std::string base;  // broker URL without a trailing slash
  std::map<std::string, std::string> vars;
  CaseResult result;

  Expected<Observed> Send(const json& request) {
    FetchRequest req;
    req.method = request["method"];
    req.url = base + request["path"].get<std::string>();
    if (request.contains("headers")) {
      for (auto h = request["headers"].begin(); h != request["headers"].end(); ++h) req.headers.push_back({h.key(), h.value()});
    }
    for (const auto& [name, value] : options.headers) {
      bool set = false;
      for (const HttpField& h : req.headers) set = set || EqualsAsciiNoCase(h.name, name);
      if (!set) req.headers.push_back({name, value});
    }
    if (request.contains("body")) {
      req.body = request["body"].dump();
      req.has_body = true;
    } else if (request.contains("rawBody")) {
      req.body = request["rawBody"];
      req.has_body = true;
    } else if (request.contains("rawBodyRepeat")) {
      const std::string text = request["rawBodyRepeat"]["text"];
      const size_t bytes = request["rawBodyRepeat"]["bytes"];
      req.body.reserve(bytes);
      while (req.body.size() < bytes && !text.empty()) req.body.append(text, 0, std::min(text.size(), bytes - req.body.size()));
      req.has_body = true;
    }
    req.timeout = options.timeout;
    auto r = Fetch(req);
    if (!r) return Unexpected(r.error());
    return Observed{r->status, std::move(r->headers), std::move(r->body)};
  }

  void Capture(const json& spec, const Observed& r) {
    for (auto it = spec.begin(); it != spec.end(); ++it) {
      std::string value;
      if (it->contains("header")) {
        for (const HttpField& f : r.headers) {
          if (AsciiLower(f.name) == AsciiLower((*it)["header"].get<std::string>())) value = f.value;
        }
      } else {
        const json body = json::parse(r.body, nullptr, false);
        try {
          const json::json_pointer p((*it)["json"].get<std::string>());
          if (!body.is_discarded() && body.contains(p)) value = body.at(p).is_string() ? body.at(p).get<std::string>() : body.at(p).dump();
        } catch (const std::exception&) {
        }
      }
      if (it->contains("regex")) {
        std::smatch m;
        const std::regex re((*it)["regex"].get<std::string>());
        if (std::regex_search(value, m, re)) value = m.size() > 1 ? m[1].str() : m[0].str();
      }
      vars["var:" + it.key()] = value;
    }
  }

  bool Finish(Outcome o, int step, std::string detail) {
    result.outcome = o;
    result.step = step;
    result.detail = std::move(detail);
    return false;
  }

  // Runs the steps; false when one decided the outcome.
  bool RunSteps() {
    for (size_t i = 0; i < c.steps.size(); ++i) {
      const int step = static_cast<int>(i);
      const json s = SubstituteAll(c.steps[i], vars);
      if (s.contains("sleep")) {
        const auto us = DurationMicros(s["sleep"].get<std::string>());
        if (!us) return Finish(Outcome::kError, step, "the case's sleep is not a duration");
        std::this_thread::sleep_for(std::chrono::microseconds(std::min<int64_t>(*us, 30'000'000)));
        continue;
      }
      if (s.contains("wait")) {
        const json& w = s["wait"];
        const auto within = DurationMicros(w["within"].get<std::string>());
        if (!within) return Finish(Outcome::kError, step, "the case's wait.within is not a duration");
        const json got = receiver.Wait(vars["uid"], w.value("path", ""), w["notifications"].get<size_t>(),
                                       std::chrono::microseconds(std::min<int64_t>(*within, 60'000'000)));
        json expect = s.value("expect", json::object());
        if (!expect.contains("count") && w["notifications"].get<size_t>() > 0 && got.size() < w["notifications"].get<size_t>()) {
          return Finish(Outcome::kFail, step, "expected " + w["notifications"].dump() + " notification(s) within " +
                                                  w["within"].get<std::string>() + ", received " + std::to_string(got.size()));
        }
        if (w["notifications"].get<size_t>() == 0 && !expect.contains("count") && !got.empty()) {
          return Finish(Outcome::kFail, step, "expected no notification, received " + std::to_string(got.size()) + ": " +
                                                  got[0]["body"].dump().substr(0, 200));
        }
        if (std::string e = CheckNotifications(expect, got); !e.empty()) return Finish(Outcome::kFail, step, e);
        continue;
      }
      auto r = Send(s["request"]);
      if (!r) return Finish(Outcome::kError, step, "could not run: " + r.error().message);
      const json expect = s.value("expect", json::object());
      const auto statuses = ExpectedStatuses(expect);
      if (r->status == 501 && std::find(statuses.begin(), statuses.end(), 501) == statuses.end()) {
        return Finish(Outcome::kUnsupported, step, "the broker answered 501: " + r->body.substr(0, 200));
      }
      if (expect.contains("problem")) {
        for (const HttpField& f : r->headers) {
          if (AsciiLower(f.name) == "content-type") result.notes.push_back("error media type: " + f.value);
        }
      }
      if (std::string e = CheckResponse(expect, *r); !e.empty()) return Finish(Outcome::kFail, step, e);
      if (s.contains("capture")) Capture(s["capture"], *r);
    }
    return true;
  }

  void Cleanup() {
    for (const json& request : c.cleanup) {
      auto r = Send(SubstituteAll(request, vars));
      (void)r;  // cleanup answers are not checked
    }
    receiver.Forget(vars["uid"]);
  }
};

}  // namespace

std::string Substitute(const std::string& s, const std::map<std::string, std::string>& vars) {
  if (s.find("{{") == std::string::npos) return s;
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t open = s.find("{{", pos);
    if (open == std::string::npos) break;
    const size_t close = s.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(s, pos, open - pos);
    const std::string key = s.substr(open + 2, close - open - 2);
    if (key == "now" || key.rfind("now+", 0) == 0 || key.rfind("now-", 0) == 0) {
      int64_t t = UnixMicrosNow();
      if (key.size() > 4) {
        const auto d = DurationMicros(key.substr(4));
        if (d) t += key[3] == '+' ? *d : -*d;
      }
      t -= t % 1000;  // milliseconds
      out += FormatRfc3339Micros(t);
    } else if (auto it = vars.find(key); it != vars.end()) {
      out += it->second;
    } else {
      out.append(s, open, close + 2 - open);  // unknown: left as written
    }
    pos = close + 2;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

json SubstituteAll(const json& v, const std::map<std::string, std::string>& vars) {
  if (v.is_string()) return Substitute(v.get_ref<const std::string&>(), vars);
  if (v.is_array()) {
    json out = json::array();
    for (const json& x : v) out.push_back(SubstituteAll(x, vars));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out[Substitute(it.key(), vars)] = SubstituteAll(it.value(), vars);
    return out;
  }
  return v;
}

Expected<RunReport> RunCases(const std::vector<const Case*>& cases, const std::string& suite, const RunnerOptions& options) {
  RunReport report;
  report.suite = suite;
  report.broker_url = options.broker_url;
  report.started_utc = FormatRfc3339Micros(UnixMicrosNow());
  std::string base = options.broker_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // Reachable at all?
  FetchRequest probe;
  probe.url = base + "/version";
  probe.timeout = options.timeout;
  for (const auto& [name, value] : options.headers) probe.headers.push_back({name, value});
  auto answer = Fetch(probe);
  if (!answer) return Unexpected(Error::Unavailable("the broker at " + options.broker_url + " cannot be reached: " + answer.error().message));
  if (answer->status == 200) report.broker_version = answer->body.substr(0, 2000);

  Receiver receiver;
  if (auto ok = receiver.Start(options.receiver_host); !ok) {
    return Unexpected(Error::Unavailable("cannot receive notifications on " + options.receiver_host + ": " + ok.error().message));
  }
  const std::string receiver_base = "http://" + options.receiver_host + ":" + std::to_string(receiver.port());

  report.results.resize(cases.size());
  std::atomic<size_t> next{0};
  std::mutex out_mu;
  auto worker = [&] {
    for (size_t i = next++; i < cases.size(); i = next++) {
      const Case& c = *cases[i];
      CaseRun run{c, options, receiver, base, {}, {}};
      const std::string uid = NewUid();
      run.vars["uid"] = uid;
      run.vars["tenant"] = "cb" + uid;
      run.vars["notify"] = receiver_base + "/c/" + uid;
      run.result.c = &c;
      const auto t0 = Clock::now();
      try {
        if (run.RunSteps()) run.result.outcome = Outcome::kPass;
      } catch (const std::exception& e) {
        run.result.outcome = Outcome::kError;
        run.result.detail = std::string("the case could not run: ") + e.what();
      }
      run.Cleanup();
      run.result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      std::lock_guard lock(out_mu);
      report.results[i] = run.result;
      if (options.on_result) options.on_result(report.results[i]);
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < std::max(1, options.jobs); ++k) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return report;
}

}  // namespace citybed::conformance
