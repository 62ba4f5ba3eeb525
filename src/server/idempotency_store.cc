#include "server/idempotency_store.h"

#include <sqlite3.h>

#include "sqlite/statement.h"

namespace seam::server {
namespace {

constexpr char kSchema[] = "seam.idempotency/v1";
using sqlite::Statement;

}  // namespace

Status IdempotencyStore::Error(const char* what) const {
  return sqlite::ErrorStatus(db_, path_.empty() ? "the idempotency store (in memory)" : path_, what,
                             "move it aside to start a new one");
}

Result<std::unique_ptr<IdempotencyStore>> IdempotencyStore::Open(const std::string& path,
                                                                 IdempotencyLimits limits) {
  if (limits.max_entries < 1 || limits.max_bytes < 1) {
    return InvalidArgument("idempotency store " + path +
                           ": the limits must be at least 1 entry and 1 byte");
  }
  std::unique_ptr<IdempotencyStore> store(new IdempotencyStore());
  store->path_ = path;
  store->limits_ = limits;
  const std::string name = path.empty() ? ":memory:" : path;
  if (sqlite3_open_v2(name.c_str(), &store->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return Unavailable(name + ": cannot open the idempotency store: " +
                       (store->db_ ? sqlite3_errmsg(store->db_) : "out of memory"));
  }
  sqlite3_busy_timeout(store->db_, 5000);
  auto exec = [&](const char* sql) -> Status {
    if (sqlite3_exec(store->db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return store->Error(sql);
    }
    return Status::Ok();
  };
  if (!path.empty()) {
    {  // finalised before the pragmas below: an unfinished statement holds a read transaction
      Statement check(store->db_, "PRAGMA quick_check");
      if (!check.ok() || check.Step() != SQLITE_ROW) return store->Error("checking the file");
      if (check.Text(0) != "ok") {
        return DataLoss(path + ": the idempotency store is damaged (" + check.Text(0) +
                        "); it is left as it is: move it aside to start a new one");
      }
    }
    SEAM_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL"));
    SEAM_RETURN_IF_ERROR(exec("PRAGMA synchronous=FULL"));
    Statement tables(store->db_,
                     "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                     "('answers', 'meta', 'sqlite_sequence')");
    if (!tables.ok() || tables.Step() != SQLITE_ROW) return store->Error("reading the schema");
    if (tables.Int(0) > 0) {
      return DataLoss(path +
                      ": not a seam idempotency store (it holds other tables); it is "
                      "left as it is");
    }
  }
  SEAM_RETURN_IF_ERROR(
      exec("BEGIN IMMEDIATE;"
           "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
           "CREATE TABLE IF NOT EXISTS answers(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
           " key TEXT NOT NULL UNIQUE, model TEXT NOT NULL, fingerprint TEXT NOT NULL,"
           " response BLOB NOT NULL);"
           "INSERT OR IGNORE INTO meta VALUES ('schema', 'seam.idempotency/v1');"
           "COMMIT;"));
  {
    Statement schema(store->db_, "SELECT value FROM meta WHERE name = 'schema'");
    if (!schema.ok() || schema.Step() != SQLITE_ROW) return store->Error("reading the schema");
    if (schema.Text(0) != kSchema) {
      return DataLoss(path + ": an idempotency store of schema '" + schema.Text(0) +
                      "', expected '" + kSchema + "'");
    }
  }
  SEAM_RETURN_IF_ERROR(store->Count());
  SEAM_RETURN_IF_ERROR(store->Prune());  // limits lowered since the file was written
  return store;
}

IdempotencyStore::~IdempotencyStore() { sqlite3_close(db_); }

Result<IdempotencyStore::Claim> IdempotencyStore::Begin(std::string_view key,
                                                        std::string_view model,
                                                        std::string_view fingerprint,
                                                        std::string* stored) {
  std::lock_guard lock(mu_);
  if (running_.find(key) != running_.end()) {
    return Aborted("a request with idempotency key '" + std::string(key) +
                   "' is being run; retry once it is answered");
  }
  Statement find(db_, "SELECT model, fingerprint, response FROM answers WHERE key = ?");
  const int rc = find.ok() ? find.Bind(1, key).Step() : SQLITE_ERROR;
  if (rc == SQLITE_ROW) {
    if (find.Text(0) != model) {
      return InvalidArgument("idempotency key '" + std::string(key) +
                             "' was already used for model '" + find.Text(0) + "', not '" +
                             std::string(model) + "': a key names one item");
    }
    if (find.Text(1) != fingerprint) {
      return InvalidArgument("idempotency key '" + std::string(key) +
                             "' was already used for a different request (another version of '" +
                             std::string(model) + "' or other inputs): a key names one item");
    }
    *stored = find.Text(2);
    return Claim::kReplay;
  }
  if (rc != SQLITE_DONE) return Error("looking up a key");
  running_.emplace(key);
  return Claim::kRun;
}

Status IdempotencyStore::Finish(std::string_view key, std::string_view model,
                                std::string_view fingerprint, std::string_view response) {
  std::lock_guard lock(mu_);
  if (auto it = running_.find(key); it != running_.end()) running_.erase(it);
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("beginning a transaction");
  }
  Statement insert(db_,
                   "INSERT OR IGNORE INTO answers(key, model, fingerprint, response)"
                   " VALUES (?, ?, ?, ?)");
  Status status;
  if (!insert.ok() ||
      insert.Bind(1, key).Bind(2, model).Bind(3, fingerprint).BindBlob(4, response).Step() !=
          SQLITE_DONE) {
    status = Error("storing an answer");
  } else {
    if (sqlite3_changes(db_) == 1) {  // not already there (a repeat racing its first answer)
      ++entries_;
      bytes_ += static_cast<int64_t>(response.size());
    }
    status = Prune();
  }
  if (status.ok() && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
    return status;
  }
  if (status.ok()) status = Error("committing");
  if (!sqlite3_get_autocommit(db_)) (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  (void)Count();  // what the rollback left
  return status;
}

Status IdempotencyStore::Prune() {
  while (entries_ > limits_.max_entries || (bytes_ > limits_.max_bytes && entries_ > 1)) {
    Statement oldest(db_, "SELECT seq, length(response) FROM answers ORDER BY seq LIMIT 1");
    if (!oldest.ok() || oldest.Step() != SQLITE_ROW) return Error("finding the oldest answer");
    Statement drop(db_, "DELETE FROM answers WHERE seq = ?");
    if (!drop.ok() || drop.Bind(1, oldest.Int(0)).Step() != SQLITE_DONE) {
      return Error("forgetting the oldest answer");
    }
    --entries_;
    bytes_ -= oldest.Int(1);
  }
  return Status::Ok();
}

Status IdempotencyStore::Count() {
  Statement totals(db_, "SELECT COUNT(*), COALESCE(SUM(length(response)), 0) FROM answers");
  if (!totals.ok() || totals.Step() != SQLITE_ROW) return Error("counting the answers");
  entries_ = totals.Int(0);
  bytes_ = totals.Int(1);
  return Status::Ok();
}

void IdempotencyStore::Abandon(std::string_view key) {
  std::lock_guard lock(mu_);
  if (auto it = running_.find(key); it != running_.end()) running_.erase(it);
}

int64_t IdempotencyStore::entries() {
  std::lock_guard lock(mu_);
  return entries_;
}

}  // namespace seam::server
