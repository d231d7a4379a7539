// DurableStore: the Store (store.h) whose writes survive a crash — `citybed broker --store DIR`.
//
// The working set stays in the in-memory store (its indexes serve every read); each committed
// write marks its entity dirty, and one committer thread writes the dirty entities' current
// versions to an embedded engine (kv_engine.h: RocksDB, LMDB or SQLite) in one transaction per batch,
// flushed to disk before it returns — group commit: while one batch is flushed the next
// collects, so a flush serves every write that arrived during the previous one. The broker
// answers a write only after its batch is durable (Broker wraps the response), so every 2xx is
// on disk; at start-up the store loads what the engine holds.
//
// Failure: when a commit fails (disk full, I/O error, read-only directory) the writes of that
// batch are answered with 507 (no space) or 503, the broker refuses further write requests with
// the same error (Refusal), and the committer retries the batch every second; the first success lifts the refusal.
// What was refused or failed stays unacknowledged and may be missing after a restart; nothing
// acknowledged is lost and the engine's file is never half-written (each batch is atomic).
//
// Subscriptions and registrations live in their managers; the broker marks them dirty when they
// change (MarkDocument) and gives the store a renderer of their current stored form, so they
// ride the same group commit; at start-up the broker restores them from TakeDocuments(). Not
// persisted: the @context cache, counters, subscriptions' delivery status.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/broker/store.h"

namespace citybed::broker {

class KvEngine;

struct DurableStoreOptions {
  std::string path;             // a directory, created when missing; one broker at a time
  std::string engine = "rocksdb";  // "rocksdb", "lmdb" or "sqlite" (docs/reliability.md: why rocksdb)
};

// A subscription ('s') or registration ('r') as stored: what its renderer gave, read back.
struct StoredDocument {
  char kind = 0;
  std::string tenant, id;
  boost::json::value doc;
};

struct DurableStats {
  std::string engine;
  uint64_t commits = 0;          // batches made durable
  uint64_t records = 0;          // entity versions and deletions written
  uint64_t bytes = 0;            // encoded bytes written
  uint64_t failures = 0;         // commits that failed
  double commit_seconds = 0;     // wall time inside commits (write + flush)
  size_t largest_batch = 0;
  bool failing = false;          // writes refused until a commit succeeds again
  size_t recovered = 0;          // entities loaded at start-up
  double recovery_seconds = 0;
};

class DurableStore final : public Store {
 public:
  // Opens (or creates) the store in options.path, loads every entity it holds, starts the
  // committer. Errors: unknown engine, the directory cannot be created, opened or locked (another
  // broker uses it), a record cannot be read.
  static Expected<std::unique_ptr<DurableStore>> Open(const DurableStoreOptions& options, Interner& names,
                                                      int shards = 16);
  ~DurableStore() override;  // commits what is pending, then stops

  Expected<Change, Problem> Mutate(std::string_view tenant, const std::string& id, const Mutator& fn) override;
  EntityPtr Get(std::string_view tenant, std::string_view id) const override { return memory_->Get(tenant, id); }
  bool HasTenant(std::string_view tenant) const override { return memory_->HasTenant(tenant); }
  std::vector<std::string> Tenants() const override { return memory_->Tenants(); }
  size_t Count(std::string_view tenant) const override { return memory_->Count(tenant); }
  void Scan(std::string_view tenant, const ScanFilter& filter,
            const std::function<bool(const EntityPtr&)>& visit) const override {
    memory_->Scan(tenant, filter, visit);
  }
  std::vector<EntityPtr> FindAlias(std::string_view tenant, std::string_view alias) const override {
    return memory_->FindAlias(tenant, alias);
  }
  bool HasAliases(std::string_view tenant) const override { return memory_->HasAliases(tenant); }
  void LimitAttributes(size_t max) override { memory_->LimitAttributes(max); }
  std::vector<std::pair<uint32_t, size_t>> TypeCounts(std::string_view tenant) const override {
    return memory_->TypeCounts(tenant);
  }

  // While commits fail: the problem to refuse writes with (the broker checks it before a
  // write request reaches its handler).
  std::optional<Problem> Refusal() const;

  // The group commit's handshake with the server. Writes made by the calling thread since the
  // previous call have a ticket (the batch that will carry them); TakeTicket returns the
  // largest and forgets it (0: none).
  uint64_t TakeTicket();
  // Calls `done` once every write with a ticket ≤ `ticket` is durable (nullopt) or its batch
  // failed (the problem to answer with): at once, or later from the committer thread.
  using DurableCallback = std::function<void(const std::optional<Problem>&)>;
  void WhenDurable(uint64_t ticket, DurableCallback done);
  // Wraps a write's response so that it is sent only once the write is durable (or replaced by
  // the failure's answer: ProblemDetails, or Orion's error shape when `v2`).
  Response Deferred(Response response, uint64_t ticket, bool v2);
  // Blocks until every write made so far is durable or failed.
  void Flush();

  // Documents beside the entities. `render` gives the current stored form of (tenant, id), or
  // nullopt when it no longer exists; it runs on the committer thread.
  using DocumentRenderer = std::function<std::optional<std::string>(const std::string& tenant, const std::string& id)>;
  void SetDocumentSource(char kind, DocumentRenderer render);
  // A document changed (created, updated or deleted): written with the next batch, and the
  // calling thread's request waits for it like for an entity write.
  void MarkDocument(char kind, std::string_view tenant, std::string_view id);
  // The documents read at start-up, in key order (once).
  std::vector<StoredDocument> TakeDocuments();

  DurableStats stats() const;

 private:
  DurableStore(std::unique_ptr<KvEngine> engine, Interner& names, int shards);
  Expected<void> Load();
  void Run();
  void NoteTicket(uint64_t ticket);

  Interner& names_;
  std::unique_ptr<Store> memory_;
  std::unique_ptr<KvEngine> engine_;
  std::string dir_;
  int lock_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::set<std::tuple<char, std::string, std::string>> dirty_;  // (kind, tenant, id) written since the last swap
  std::map<char, DocumentRenderer> renderers_;
  std::vector<StoredDocument> documents_;  // read at start-up, until taken
  uint64_t open_batch_ = 1;  // the batch collecting now
  uint64_t attempted_ = 0;   // the last batch whose commit ended
  uint64_t durable_ = 0;     // every batch up to this one is durable
  std::multimap<uint64_t, DurableCallback> waiters_;
  std::optional<Problem> failure_;  // set while commits fail
  std::atomic<bool> failing_{false};
  bool stop_ = false;
  DurableStats stats_;
  std::thread committer_;
};

}  // namespace citybed::broker
