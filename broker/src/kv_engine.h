// KvEngine: the embedded storage engine under the durable store (durable_store.h) — keys to
// values, written in atomic batches that are on stable storage when Commit returns, read back
// in one scan at start-up. Three engines from Debian, measured side by side
// (docs/reliability.md, "Durable store"): RocksDB (librocksdb, a log-structured merge tree
// with a write-ahead log), LMDB (liblmdb, a copy-on-write B+tree in a memory map) and SQLite
// in WAL mode (libsqlite3).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/common/expected.h"

namespace citybed::broker {

struct KvWrite {
  std::string key;
  std::optional<std::string> value;  // nullopt: delete the key
};

struct KvError {
  bool no_space = false;  // the disk (or the engine's map) is full: 507 to the writer
  std::string message;
};

class KvEngine {
 public:
  virtual ~KvEngine() = default;
  // Applies every write as one transaction; returns once it is durable (fsync), or an error
  // with nothing of the batch applied.
  virtual Expected<void, KvError> Commit(const std::vector<KvWrite>& batch) = 0;
  // Visits every record (in key order) until `visit` returns false.
  virtual Expected<void, KvError> Scan(const std::function<bool(std::string_view key, std::string_view value)>& visit) = 0;
  virtual std::string_view name() const = 0;
};

// `dir` exists (DurableStore makes and locks it). Errors: the engine's files cannot be opened
// or are in a state it cannot read.
Expected<std::unique_ptr<KvEngine>, KvError> OpenRocksDb(const std::string& dir);
Expected<std::unique_ptr<KvEngine>, KvError> OpenLmdb(const std::string& dir);
Expected<std::unique_ptr<KvEngine>, KvError> OpenSqlite(const std::string& dir);

}  // namespace citybed::broker
