// RequestLog: every request and every notification of a run, one CSV line each, so that anyone
// can recompute the summary's counts, rates and percentiles from the samples
// (`citybed run --request-log`, or `outputs.request_log: true`; docs/results.md
// "requests.csv and notifications.csv"). Times are integer nanoseconds of simulated time, as
// the recorder keeps them: nothing is rounded.
//
// The files are streamed while the run goes, as requests.csv.partial and
// notifications.csv.partial, and renamed by Finish when the run folder is written; an
// interrupted run leaves only .partial files, never a file that looks complete. A day of a
// national scenario is tens of millions of lines (about 120 bytes each): opt-in.
// Not thread-safe: the run's thread calls it (through the Recorder).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/observer.h"

namespace citybed::results {

class RequestLog {
 public:
  // `regions` and `domains` name the records' indexes.
  static Expected<std::unique_ptr<RequestLog>> Open(const std::string& dir, std::vector<std::string> regions,
                                                    std::vector<std::string> domains);
  ~RequestLog();  // without Finish: closes, and the .partial files stay as they are
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // `in_window`: the summary counts it (the recorder's rule, docs/results.md).
  void Request(const models::RequestRecord& r, bool in_window);
  void Notification(const models::NotificationRecord& n, bool in_window);
  // Flushes to disk and renames both files; returns their paths.
  Expected<std::vector<std::string>> Finish();
  uint64_t requests() const { return requests_; }

 private:
  RequestLog(std::string dir, std::vector<std::string> regions, std::vector<std::string> domains);
  std::string dir_;
  std::vector<std::string> regions_, domains_;
  std::FILE* requests_file_ = nullptr;
  std::FILE* notifications_file_ = nullptr;
  std::string line_;
  uint64_t requests_ = 0;
  bool failed_ = false;  // a write failed: Finish reports it
};

}  // namespace citybed::results
