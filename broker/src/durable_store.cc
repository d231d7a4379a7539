#include "citybed/broker/durable_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>

#include "citybed/broker/ngsiv2_api.h"
#include "citybed/broker/router.h"
#include "citybed/common/log.h"
#include "kv_engine.h"
#include "stored_entity.h"

namespace citybed::broker {
namespace {

// The engine's key of a record: its kind ('e' entity, 's' subscription, 'r' registration, 'c'
// context source registration subscription), the tenant, NUL, the id (a tenant name has no NUL: it comes from a header).
std::string RecordKey(char kind, std::string_view tenant, std::string_view id) {
  std::string k;
  k.reserve(2 + tenant.size() + id.size());
  k += kind;
  k += tenant;
  k += '\0';
  k += id;
  return k;
}

// The writes of the thread's current request: (store, largest ticket).
thread_local const DurableStore* tls_store = nullptr;
thread_local uint64_t tls_ticket = 0;

// Whether a failed commit of `bytes` more ran out of space: the engine said so, or (engines
// report a short write as an I/O error) the file system or the file size limit has less room
// than the batch and a margin.
bool OutOfSpace(const KvError& e, const std::string& dir, uint64_t bytes) {
  if (e.no_space) return true;
  const uint64_t need = bytes + (16u << 20);
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) == 0 && static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < need) return true;
  rlimit limit{};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
      if (f.is_regular_file(ec) && f.file_size(ec) + need > limit.rlim_cur) return true;
    }
  }
  return false;
}

Problem FailureProblem(const KvError& e, bool no_space) {
  // 507 Insufficient Storage (RFC 4918) for a full disk; 503 for every other failure.
  return MakeProblem(ErrorType::kInternalError,
                     std::string("the write was not stored durably") + (no_space ? " (no space left)" : "") + ": " + e.message,
                     no_space ? 507 : 503);
}

}  // namespace

DurableStore::DurableStore(std::unique_ptr<KvEngine> engine, Interner& names, int shards)
    : names_(names), memory_(MakeMemoryStore(names, shards)), engine_(std::move(engine)) {
  stats_.engine = std::string(engine_->name());
}

Expected<std::unique_ptr<DurableStore>> DurableStore::Open(const DurableStoreOptions& options, Interner& names,
                                                            int shards) {
  const std::string& engine_name = options.engine;
  if (engine_name != "rocksdb" && engine_name != "lmdb" && engine_name != "sqlite") {
    return Unexpected(Error::InvalidArgument("unknown store engine '" + engine_name + "' (rocksdb, lmdb or sqlite)"));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Unexpected(Error::Io("cannot create the store directory " + options.path + ": " + ec.message()));
  // One broker per directory: a second one would interleave its batches with ours.
  const std::string lock_path = options.path + "/citybed.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Unexpected(Error::Io("cannot open " + lock_path + ": " + std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Unexpected(Error::Io("the store " + options.path + " is in use by another broker"));
  }
  // The directory remembers its engine: opened with another, it would look empty.
  const std::string marker = options.path + "/engine";
  std::string recorded;
  if (FILE* f = std::fopen(marker.c_str(), "r")) {
    char buf[32] = {};
    recorded.assign(buf, std::fread(buf, 1, sizeof buf - 1, f));
    std::fclose(f);
    while (!recorded.empty() && (recorded.back() == '\n' || recorded.back() == ' ')) recorded.pop_back();
  }
  if (!recorded.empty() && recorded != engine_name) {
    ::close(fd);
    return Unexpected(Error::InvalidArgument("the store " + options.path + " was made with the " + recorded +
                                             " engine; open it with --store-engine " + recorded));
  }
  auto engine = engine_name == "rocksdb" ? OpenRocksDb(options.path)
                : engine_name == "lmdb"  ? OpenLmdb(options.path)
                                         : OpenSqlite(options.path);
  if (!engine) {
    ::close(fd);
    return Unexpected(Error::Io(engine.error().message));
  }
  if (recorded.empty()) {
    FILE* f = std::fopen(marker.c_str(), "w");
    bool written = f != nullptr && std::fprintf(f, "%s\n", engine_name.c_str()) > 0;
    if (f != nullptr) written = std::fclose(f) == 0 && written;
    if (!written) {
      ::close(fd);
      return Unexpected(Error::Io("cannot write " + marker));
    }
  }
  std::unique_ptr<DurableStore> store(new DurableStore(std::move(*engine), names, shards));
  store->lock_fd_ = fd;
  store->dir_ = options.path;
  if (auto ok = store->Load(); !ok) return Unexpected(ok.error());
  store->committer_ = std::thread([s = store.get()] { s->Run(); });
  return store;
}

Expected<void> DurableStore::Load() {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<Error> bad;
  auto scanned = engine_->Scan([&](std::string_view key, std::string_view value) {
    if (key.empty()) return true;
    if (key[0] == 's' || key[0] == 'r' || key[0] == 'c') {
      auto doc = DecodeStoredDocument(key[0], value);
      if (!doc) {
        bad = doc.error();
        return false;
      }
      documents_.push_back(std::move(*doc));
      return true;
    }
    if (key[0] != 'e') return true;  // a kind of record this version does not know
    auto rec = DecodeStoredEntity(value, names_);
    if (!rec) {
      bad = rec.error();
      return false;
    }
    auto ptr = std::make_shared<const Entity>(std::move(rec->entity));
    auto done = memory_->Mutate(rec->tenant, ptr->id, [&](const EntityPtr&) -> Expected<EntityPtr, Problem> { return ptr; });
    if (!done) {
      bad = Error::Io("cannot load stored entity " + ptr->id + ": " + done.error().detail);
      return false;
    }
    ++stats_.recovered;
    return true;
  });
  if (!scanned) return Unexpected(Error::Io(scanned.error().message));
  if (bad) return Unexpected(*bad);
  stats_.recovery_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {};
}

DurableStore::~DurableStore() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Expected<Change, Problem> DurableStore::Mutate(std::string_view tenant, const std::string& id, const Mutator& fn) {
  auto change = memory_->Mutate(tenant, id, fn);
  if (!change || !change->changed()) return change;
  uint64_t ticket;
  bool first;
  {
    std::lock_guard lock(mu_);
    first = dirty_.empty();  // else the committer was woken already, or will see it when done
    dirty_.emplace('e', std::string(tenant), id);
    ticket = open_batch_;
  }
  if (first) wake_.notify_one();
  NoteTicket(ticket);
  return change;
}

void DurableStore::NoteTicket(uint64_t ticket) {
  if (tls_store != this) tls_ticket = 0;
  tls_store = this;
  tls_ticket = std::max(tls_ticket, ticket);
}

void DurableStore::SetDocumentSource(char kind, DocumentRenderer render) {
  std::lock_guard lock(mu_);
  renderers_[kind] = std::move(render);
}

void DurableStore::MarkDocument(char kind, std::string_view tenant, std::string_view id) {
  uint64_t ticket;
  bool first;
  {
    std::lock_guard lock(mu_);
    first = dirty_.empty();
    dirty_.emplace(kind, std::string(tenant), std::string(id));
    ticket = open_batch_;
  }
  if (first) wake_.notify_one();
  NoteTicket(ticket);
}

std::vector<StoredDocument> DurableStore::TakeDocuments() { return std::move(documents_); }

std::optional<Problem> DurableStore::Refusal() const {
  if (!failing_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(mu_);
  return failure_;
}

uint64_t DurableStore::TakeTicket() {
  if (tls_store != this) return 0;
  const uint64_t t = tls_ticket;
  tls_ticket = 0;
  return t;
}

void DurableStore::WhenDurable(uint64_t ticket, DurableCallback done) {
  std::optional<Problem> outcome;
  {
    std::lock_guard lock(mu_);
    if (ticket > durable_) {
      if (ticket > attempted_ || !failure_) {
        waiters_.emplace(ticket, std::move(done));
        return;
      }
      outcome = failure_;  // its batch was tried and failed
    }
  }
  done(outcome);
}

Response DurableStore::Deferred(Response response, uint64_t ticket, bool v2) {
  Response out;
  auto answer = [this, ticket, v2](Response r, ResponseSink sink) {
    WhenDurable(ticket, [r = std::move(r), sink = std::move(sink), v2](const std::optional<Problem>& p) mutable {
      if (!p) return sink(std::move(r));
      sink(v2 ? OrionErrorResponse(p->HttpStatus(), p->detail) : ProblemResponse(*p));
    });
  };
  if (response.deferred()) {  // answered later anyway (a distributed operation): wait for both
    out.later = [later = std::move(response.later), answer](ResponseSink sink) {
      later([answer, sink = std::move(sink)](Response r) { answer(std::move(r), sink); });
    };
  } else {
    out.later = [response = std::move(response), answer](ResponseSink sink) { answer(response, std::move(sink)); };
  }
  return out;
}

void DurableStore::Flush() {
  uint64_t ticket;
  {
    std::lock_guard lock(mu_);
    ticket = dirty_.empty() ? open_batch_ - 1 : open_batch_;
  }
  std::promise<void> done;
  WhenDurable(ticket, [&](const std::optional<Problem>&) { done.set_value(); });
  done.get_future().wait();
}

DurableStats DurableStore::stats() const {
  std::lock_guard lock(mu_);
  DurableStats s = stats_;
  s.failing = failure_.has_value();
  return s;
}

void DurableStore::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !dirty_.empty(); });
    if (dirty_.empty()) break;  // stopping with nothing left
    auto batch = std::move(dirty_);
    dirty_.clear();
    const uint64_t committing = open_batch_++;
    lock.unlock();

    // The current version of each dirty entity (a later write than the one that marked it is
    // fine: its own waiter is in this batch or the next).
    std::vector<KvWrite> writes;
    writes.reserve(batch.size());
    uint64_t bytes = 0;
    for (const auto& [kind, tenant, id] : batch) {
      KvWrite w{RecordKey(kind, tenant, id), std::nullopt};
      if (kind == 'e') {
        if (EntityPtr e = memory_->Get(tenant, id)) {
          w.value.emplace();
          EncodeStoredEntity(*w.value, tenant, *e, names_);
        }
      } else if (auto it = renderers_.find(kind); it != renderers_.end()) {
        if (auto doc = it->second(tenant, id)) {
          w.value.emplace();
          EncodeStoredDocument(*w.value, tenant, id, *doc);
        }
      }
      if (w.value) bytes += w.value->size();
      writes.push_back(std::move(w));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto ok = engine_->Commit(writes);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    lock.lock();
    attempted_ = committing;
    stats_.commit_seconds += took;
    std::optional<Problem> outcome;
    if (ok) {
      durable_ = committing;
      ++stats_.commits;
      stats_.records += writes.size();
      stats_.bytes += bytes;
      stats_.largest_batch = std::max(stats_.largest_batch, writes.size());
      if (failure_) {
        CITYBED_LOG(kInfo) << "durable store: commits succeed again";
      }
      failure_.reset();
      failing_.store(false, std::memory_order_release);
    } else {
      ++stats_.failures;
      if (!failure_) {
        CITYBED_LOG(kError) << "durable store: " << ok.error().message << "; writes refused until a retry succeeds";
      }
      failure_ = FailureProblem(ok.error(), OutOfSpace(ok.error(), dir_, bytes));
      failing_.store(true, std::memory_order_release);
      outcome = failure_;
      dirty_.merge(batch);  // written again by the next attempt
    }
    std::vector<DurableCallback> ready;
    for (auto it = waiters_.begin(); it != waiters_.end() && it->first <= committing;) {
      ready.push_back(std::move(it->second));
      it = waiters_.erase(it);
    }
    lock.unlock();
    for (auto& cb : ready) cb(outcome);
    lock.lock();
    if (!ok) {
      if (stop_) break;  // stopping: the failed batch stays unacknowledged
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
    }
  }
  // Whatever still waits (stopping after a failure) learns that its write is not durable.
  auto left = std::move(waiters_);
  std::optional<Problem> outcome = failure_ ? failure_ : std::optional<Problem>(MakeProblem(
      ErrorType::kInternalError, "the broker stopped before the write was stored", 503));
  lock.unlock();
  for (auto& [t, cb] : left) cb(outcome);
}

}  // namespace citybed::broker
