#include "citybed/results/request_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <tuple>
#include <utility>

namespace citybed::results {
namespace {

constexpr const char* kRequestsHeader =
    "intended_ns,completed_ns,in_window,op,name,region,about,site,domain,outcome,sent,status,problem,error,"
    "latency_ns,network_ns,waited_ns,bytes_up,bytes_down\n";
constexpr const char* kNotificationsHeader = "arrival_ns,in_window,region,freshness_ns\n";

// RFC 4180: a field holding a comma, a quote or a line break is quoted, quotes doubled.
void Field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void Number(std::string& out, int64_t v) {
  out += std::to_string(v);
}

std::string_view NameOf(const std::vector<std::string>& names, int index) {
  return index >= 0 && static_cast<size_t>(index) < names.size() ? std::string_view(names[static_cast<size_t>(index)])
                                                                 : std::string_view();
}

}  // namespace

RequestLog::RequestLog(std::string dir, std::vector<std::string> regions, std::vector<std::string> domains)
    : dir_(std::move(dir)), regions_(std::move(regions)), domains_(std::move(domains)) {}

Expected<std::unique_ptr<RequestLog>> RequestLog::Open(const std::string& dir, std::vector<std::string> regions,
                                                       std::vector<std::string> domains) {
  std::unique_ptr<RequestLog> log(new RequestLog(dir, std::move(regions), std::move(domains)));
  for (auto [file, name, header] : {std::tuple{&log->requests_file_, "requests.csv.partial", kRequestsHeader},
                                    std::tuple{&log->notifications_file_, "notifications.csv.partial", kNotificationsHeader}}) {
    const std::string path = dir + "/" + name;
    *file = std::fopen(path.c_str(), "w");
    if (*file == nullptr) return Unexpected(Error::Io("cannot write " + path + ": " + std::strerror(errno)));
    std::fputs(header, *file);
  }
  return log;
}

RequestLog::~RequestLog() {
  if (requests_file_ != nullptr) std::fclose(requests_file_);
  if (notifications_file_ != nullptr) std::fclose(notifications_file_);
}

void RequestLog::Request(const models::RequestRecord& r, bool in_window) {
  if (requests_file_ == nullptr) return;
  ++requests_;
  line_.clear();
  Number(line_, r.intended.ns());
  line_ += ',';
  Number(line_, r.completed.ns());
  line_ += in_window ? ",1," : ",0,";
  line_ += models::OpKindName(r.op);
  line_ += ',';
  Field(line_, r.name);
  line_ += ',';
  Field(line_, NameOf(regions_, r.region));
  line_ += ',';
  Field(line_, NameOf(regions_, r.about));
  line_ += ',';
  Number(line_, r.site);
  line_ += ',';
  Field(line_, NameOf(domains_, r.domain));
  line_ += ',';
  line_ += models::OutcomeName(r.outcome);
  line_ += r.sent ? ",1," : ",0,";
  Number(line_, r.status);
  line_ += ',';
  Field(line_, r.problem);
  line_ += ',';
  Field(line_, r.error);
  line_ += ',';
  Number(line_, r.latency.ns());
  line_ += ',';
  Number(line_, r.network.ns());
  line_ += ',';
  Number(line_, r.waited.ns());
  line_ += ',';
  Number(line_, static_cast<int64_t>(r.bytes_up));
  line_ += ',';
  Number(line_, static_cast<int64_t>(r.bytes_down));
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), requests_file_) != line_.size()) failed_ = true;
}

void RequestLog::Notification(const models::NotificationRecord& n, bool in_window) {
  if (notifications_file_ == nullptr) return;
  line_.clear();
  Number(line_, n.arrival.ns());
  line_ += in_window ? ",1," : ",0,";
  Field(line_, NameOf(regions_, n.region));
  line_ += ',';
  Number(line_, n.freshness.ns());
  line_ += '\n';
  if (std::fwrite(line_.data(), 1, line_.size(), notifications_file_) != line_.size()) failed_ = true;
}

Expected<std::vector<std::string>> RequestLog::Finish() {
  std::vector<std::string> written;
  for (auto [file, name] : {std::pair{&requests_file_, "requests.csv"}, std::pair{&notifications_file_, "notifications.csv"}}) {
    if (*file == nullptr) continue;
    const bool ok = std::fflush(*file) == 0 && ::fsync(fileno(*file)) == 0;
    const int closed = std::fclose(*file);
    *file = nullptr;
    const std::string path = dir_ + "/" + name;
    if (!ok || closed != 0 || failed_) return Unexpected(Error::Io("cannot write " + path + ".partial (disk full?)"));
    std::error_code ec;
    std::filesystem::rename(path + ".partial", path, ec);
    if (ec) return Unexpected(Error::Io("cannot rename " + path + ".partial: " + ec.message()));
    written.push_back(path);
  }
  return written;
}

}  // namespace citybed::results
