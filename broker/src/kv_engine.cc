#include "kv_engine.h"

#include <lmdb.h>
#include <openssl/sha.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>

namespace citybed::broker {
namespace {

// ---- LMDB -------------------------------------------------------------------------------
// One environment, one unnamed database, every commit synchronous (LMDB's default: the data
// pages, then the meta page, each flushed). The map starts at 1 GiB of address space (the file
// grows with the data) and doubles when a transaction finds it full.

class Lmdb final : public KvEngine {
 public:
  ~Lmdb() override {
    if (env_ != nullptr) mdb_env_close(env_);
  }

  Expected<void, KvError> Open(const std::string& dir) {
    dir_ = dir;
    if (int rc = mdb_env_create(&env_); rc != 0) return Fail("mdb_env_create", rc);
    if (int rc = mdb_env_set_mapsize(env_, map_size_); rc != 0) return Fail("mdb_env_set_mapsize", rc);
    if (int rc = mdb_env_open(env_, dir.c_str(), MDB_NOTLS, 0644); rc != 0) return Fail("cannot open " + dir, rc);
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    map_size_ = std::max(map_size_, info.me_mapsize);
    max_key_ = static_cast<size_t>(mdb_env_get_maxkeysize(env_));
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return Fail("mdb_txn_begin", rc);
    if (int rc = mdb_dbi_open(txn, nullptr, 0, &dbi_); rc != 0) {
      mdb_txn_abort(txn);
      return Fail("mdb_dbi_open", rc);
    }
    if (int rc = mdb_txn_commit(txn); rc != 0) return Fail("mdb_txn_commit", rc);
    return {};
  }

  Expected<void, KvError> Commit(const std::vector<KvWrite>& batch) override {
    for (int attempt = 0;; ++attempt) {
      int rc = TryCommit(batch);
      if (rc == 0) return {};
      if (rc == MDB_PANIC && attempt == 0) {
        // A failed write of the meta page leaves the environment unusable until it is opened
        // again; the file itself is intact (the previous meta page still names the last commit).
        mdb_env_close(env_);
        env_ = nullptr;
        if (auto ok = Open(dir_); !ok) return ok;
        continue;
      }
      if (rc != MDB_MAP_FULL || attempt >= 20) return Fail("commit", rc);
      // Full map: grow it (no transaction is open now) and write the batch again.
      map_size_ *= 2;
      if (int g = mdb_env_set_mapsize(env_, map_size_); g != 0) return Fail("mdb_env_set_mapsize", g);
    }
  }

  Expected<void, KvError> Scan(const std::function<bool(std::string_view, std::string_view)>& visit) override {
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn); rc != 0) return Fail("mdb_txn_begin", rc);
    MDB_cursor* cur = nullptr;
    if (int rc = mdb_cursor_open(txn, dbi_, &cur); rc != 0) {
      mdb_txn_abort(txn);
      return Fail("mdb_cursor_open", rc);
    }
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
      if (!visit({static_cast<const char*>(k.mv_data), k.mv_size}, {static_cast<const char*>(v.mv_data), v.mv_size})) break;
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) return Fail("scan", rc);
    return {};
  }

  std::string_view name() const override { return "lmdb"; }

 private:
  // LMDB's keys are at most 511 bytes: a longer key is its first 400 bytes and the SHA-256 of
  // the whole (the value carries the full tenant and id).
  std::string_view Key(const std::string& key, std::string& scratch) const {
    if (key.size() <= max_key_) return key;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    scratch.assign(key, 0, 400);
    scratch += '\x01';
    scratch.append(reinterpret_cast<const char*>(digest), sizeof digest);
    return scratch;
  }

  int TryCommit(const std::vector<KvWrite>& batch) {
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) return rc;
    std::string scratch;
    for (const KvWrite& w : batch) {
      std::string_view key = Key(w.key, scratch);
      MDB_val k{key.size(), const_cast<char*>(key.data())};
      int rc;
      if (w.value) {
        MDB_val v{w.value->size(), const_cast<char*>(w.value->data())};
        rc = mdb_put(txn, dbi_, &k, &v, 0);
      } else {
        rc = mdb_del(txn, dbi_, &k, nullptr);
        if (rc == MDB_NOTFOUND) rc = 0;
      }
      if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
      }
    }
    return mdb_txn_commit(txn);
  }

  static Unexpected<KvError> Fail(const std::string& what, int rc) {
    return Unexpected(KvError{rc == ENOSPC || rc == EDQUOT || rc == EFBIG, "LMDB: " + what + ": " + mdb_strerror(rc)});
  }

  std::string dir_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  size_t map_size_ = size_t{1} << 30;
  size_t max_key_ = 511;
};

// ---- SQLite -----------------------------------------------------------------------------
// One table (key primary, no rowid) in WAL mode with synchronous=FULL: a commit appends the
// batch to the write-ahead log and flushes it; checkpoints run automatically.

class Sqlite final : public KvEngine {
 public:
  ~Sqlite() override {
    sqlite3_finalize(put_);
    sqlite3_finalize(del_);
    if (db_ != nullptr) sqlite3_close(db_);
  }

  Expected<void, KvError> Open(const std::string& dir) {
    const std::string file = dir + "/entities.sqlite";
    if (int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        rc != SQLITE_OK) {
      return Fail("cannot open " + file);
    }
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                            "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"}) {
      if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(sql);
    }
    if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)", -1, &put_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "DELETE FROM kv WHERE k = ?1", -1, &del_, nullptr) != SQLITE_OK) {
      return Fail("prepare");
    }
    return {};
  }

  Expected<void, KvError> Commit(const std::vector<KvWrite>& batch) override {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return Fail("begin");
    for (const KvWrite& w : batch) {
      sqlite3_stmt* st = w.value ? put_ : del_;
      sqlite3_bind_blob(st, 1, w.key.data(), static_cast<int>(w.key.size()), SQLITE_STATIC);
      if (w.value) sqlite3_bind_blob(st, 2, w.value->data(), static_cast<int>(w.value->size()), SQLITE_STATIC);
      int rc = sqlite3_step(st);
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      if (rc != SQLITE_DONE) {
        auto err = Fail("write");
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return err;
      }
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto err = Fail("commit");
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
    return {};
  }

  Expected<void, KvError> Scan(const std::function<bool(std::string_view, std::string_view)>& visit) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT k, v FROM kv ORDER BY k", -1, &st, nullptr) != SQLITE_OK) return Fail("scan");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::string_view k(static_cast<const char*>(sqlite3_column_blob(st, 0)), static_cast<size_t>(sqlite3_column_bytes(st, 0)));
      std::string_view v(static_cast<const char*>(sqlite3_column_blob(st, 1)), static_cast<size_t>(sqlite3_column_bytes(st, 1)));
      if (!visit(k, v)) break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("scan");
    return {};
  }

  std::string_view name() const override { return "sqlite"; }

 private:
  Unexpected<KvError> Fail(const std::string& what) const {
    const int code = db_ != nullptr ? sqlite3_extended_errcode(db_) & 0xff : SQLITE_CANTOPEN;
    const char* msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    return Unexpected(KvError{code == SQLITE_FULL, "SQLite: " + what + ": " + msg});
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* del_ = nullptr;
};

// ---- RocksDB ----------------------------------------------------------------------------
// A log-structured merge tree: a commit appends the batch to the write-ahead log and flushes it
// (WriteOptions::sync), then applies it to the memtable; flushes to sorted files and compaction
// run in RocksDB's background threads. One flush per commit of a few kilobytes, where the
// B-trees above write every page a batch touched.

class Rocks final : public KvEngine {
 public:
  Expected<void, KvError> Open(const std::string& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.max_background_jobs = 2;
    // The store writes and never reads while the broker runs (reads are served from memory;
    // the one scan is at start-up): an unsorted vector memtable inserts in constant time where
    // the default skip list spent most of RocksDB's share comparing keys (perf, docs/reliability.md).
    options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    options.allow_concurrent_memtable_write = false;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, dir + "/rocksdb", &db);
    if (!s.ok()) return Fail("cannot open " + dir, s);
    db_.reset(db);
    return {};
  }

  Expected<void, KvError> Commit(const std::vector<KvWrite>& batch) override {
    rocksdb::WriteBatch b;
    for (const KvWrite& w : batch) {
      rocksdb::Status s = w.value ? b.Put(w.key, *w.value) : b.Delete(w.key);
      if (!s.ok()) return Fail("batch", s);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Write(wo, &b);
    if (!s.ok()) return Fail("commit", s);
    return {};
  }

  Expected<void, KvError> Scan(const std::function<bool(std::string_view, std::string_view)>& visit) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit({it->key().data(), it->key().size()}, {it->value().data(), it->value().size()})) break;
    }
    if (!it->status().ok()) return Fail("scan", it->status());
    return {};
  }

  std::string_view name() const override { return "rocksdb"; }

 private:
  static Unexpected<KvError> Fail(const std::string& what, const rocksdb::Status& s) {
    return Unexpected(KvError{s.IsNoSpace(), "RocksDB: " + what + ": " + s.ToString()});
  }

  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

Expected<std::unique_ptr<KvEngine>, KvError> OpenRocksDb(const std::string& dir) {
  auto e = std::make_unique<Rocks>();
  if (auto ok = e->Open(dir); !ok) return Unexpected(ok.error());
  return std::unique_ptr<KvEngine>(std::move(e));
}

Expected<std::unique_ptr<KvEngine>, KvError> OpenLmdb(const std::string& dir) {
  auto e = std::make_unique<Lmdb>();
  if (auto ok = e->Open(dir); !ok) return Unexpected(ok.error());
  return std::unique_ptr<KvEngine>(std::move(e));
}

Expected<std::unique_ptr<KvEngine>, KvError> OpenSqlite(const std::string& dir) {
  auto e = std::make_unique<Sqlite>();
  if (auto ok = e->Open(dir); !ok) return Unexpected(ok.error());
  return std::unique_ptr<KvEngine>(std::move(e));
}

}  // namespace citybed::broker
