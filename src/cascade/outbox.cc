#include "cascade/outbox.h"

#include <sqlite3.h>

#include "sqlite/statement.h"

namespace seam::cascade {
namespace {

constexpr char kSchema[] = "seam.outbox/v1";

using Stmt = sqlite::Statement;

}  // namespace

Status Outbox::Error(const char* what) const {
  return sqlite::ErrorStatus(db_, path_, what, "move it aside to start a new outbox");
}

Status Outbox::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(sql);
  return Status::Ok();
}

Status Outbox::Commit() {
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) return Status::Ok();
  Status error = Error("committing");
  // SQLite may leave the transaction open after a failed COMMIT (a full disk, an I/O error):
  // roll it back so that the next call does not find itself inside it.
  if (!sqlite3_get_autocommit(db_)) (void)sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return error;
}

Status Outbox::Bump(const char* counter, int64_t by) {
  Stmt s(db_, "UPDATE counters SET value = value + ? WHERE name = ?");
  if (!s.ok() || s.Bind(1, by).Bind(2, std::string_view(counter)).Step() != SQLITE_DONE) {
    return Error("updating a counter");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& path, OutboxLimits limits) {
  if (limits.max_items < 1 || limits.max_bytes < 1) {
    return InvalidArgument("outbox " + path + ": the limits must be at least 1 item and 1 byte");
  }
  std::unique_ptr<Outbox> box(new Outbox());
  box->path_ = path;
  box->limits_ = limits;
  if (sqlite3_open_v2(path.c_str(), &box->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return Unavailable(path + ": cannot open the outbox: " +
                       (box->db_ ? sqlite3_errmsg(box->db_) : "out of memory"));
  }
  sqlite3_busy_timeout(box->db_, 5000);
  {
    Stmt check(box->db_, "PRAGMA quick_check");
    if (!check.ok() || check.Step() != SQLITE_ROW) return box->Error("checking the file");
    if (check.Text(0) != "ok") {
      return DataLoss(path + ": the outbox file is damaged (" + check.Text(0) +
                      "); it is left as it is: move it aside to start a new outbox");
    }
  }
  SEAM_RETURN_IF_ERROR(box->Exec("PRAGMA journal_mode=WAL"));
  SEAM_RETURN_IF_ERROR(box->Exec("PRAGMA synchronous=FULL"));
  // A database that is something else is refused rather than written to.
  {
    Stmt tables(box->db_,
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                "('items', 'counters', 'meta', 'rejected', 'sqlite_sequence')");
    if (!tables.ok() || tables.Step() != SQLITE_ROW) return box->Error("reading the schema");
    if (tables.Int(0) > 0) {
      return DataLoss(path + ": not a seam outbox (it holds other tables); it is left as it is");
    }
  }
  if (sqlite3_exec(
          box->db_,
          "BEGIN IMMEDIATE;"
          "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
          "CREATE TABLE IF NOT EXISTS items(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
          " key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload BLOB NOT NULL,"
          " enqueued_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);"
          "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
          "CREATE TABLE IF NOT EXISTS rejected(seq INTEGER PRIMARY KEY, key TEXT NOT NULL,"
          " kind TEXT NOT NULL, payload BLOB NOT NULL, reason TEXT NOT NULL);"
          "INSERT OR IGNORE INTO meta VALUES ('schema', 'seam.outbox/v1');"
          "INSERT OR IGNORE INTO counters VALUES ('enqueued', 0), ('delivered', 0), ('dropped', 0),"
          " ('refused', 0), ('duplicate_keys', 0), ('queued_items', 0), ('queued_bytes', 0),"
          " ('rejected', 0);"
          "COMMIT;",
          nullptr, nullptr, nullptr) != SQLITE_OK) {
    return box->Error("creating the outbox's tables");
  }
  Stmt schema(box->db_, "SELECT value FROM meta WHERE name = 'schema'");
  if (!schema.ok() || schema.Step() != SQLITE_ROW) return box->Error("reading the schema");
  if (schema.Text(0) != kSchema) {
    return DataLoss(path + ": an outbox of schema '" + schema.Text(0) + "', expected '" + kSchema +
                    "'");
  }
  return box;
}

Outbox::~Outbox() { sqlite3_close(db_); }

Result<int64_t> Outbox::Enqueue(std::string_view key, std::string_view kind,
                                std::string_view payload, int64_t now_unix_ms) {
  if (key.empty()) return InvalidArgument(path_ + ": an outbox item needs an idempotency key");
  const auto size = static_cast<int64_t>(payload.size());
  if (size > limits_.max_bytes) {
    return InvalidArgument(path_ + ": an item of " + std::to_string(size) +
                           " bytes is larger than the outbox (" +
                           std::to_string(limits_.max_bytes) + " bytes)");
  }
  std::lock_guard lock(mu_);
  SEAM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [&](Status s) {
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    Stmt existing(db_, "SELECT seq FROM items WHERE key = ?");
    const int rc = existing.ok() ? existing.Bind(1, key).Step() : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
      const int64_t seq = existing.Int(0);
      if (Status s = Bump("duplicate_keys", 1); !s.ok()) return rollback(s);
      SEAM_RETURN_IF_ERROR(Commit());
      return seq;
    }
    if (rc != SQLITE_DONE) return rollback(Error("looking up a key"));
  }
  Stmt totals(db_,
              "SELECT (SELECT value FROM counters WHERE name = 'queued_items'),"
              " (SELECT value FROM counters WHERE name = 'queued_bytes')");
  if (!totals.ok() || totals.Step() != SQLITE_ROW) return rollback(Error("reading the totals"));
  int64_t items = totals.Int(0), bytes = totals.Int(1);
  while (items + 1 > limits_.max_items || bytes + size > limits_.max_bytes) {
    if (limits_.when_full == OutboxLimits::WhenFull::kRefuseNew) {
      if (Status s = Bump("refused", 1); !s.ok()) return rollback(s);
      SEAM_RETURN_IF_ERROR(Commit());
      return ResourceExhausted(path_ + ": the outbox is full (" + std::to_string(items) +
                               " items, " + std::to_string(bytes) + " bytes; limits " +
                               std::to_string(limits_.max_items) + " items, " +
                               std::to_string(limits_.max_bytes) +
                               " bytes): the item was refused, nothing queued was dropped");
    }
    Stmt oldest(db_, "SELECT seq, length(payload) FROM items ORDER BY seq LIMIT 1");
    if (!oldest.ok() || oldest.Step() != SQLITE_ROW) return rollback(Error("finding the oldest"));
    const int64_t seq = oldest.Int(0), length = oldest.Int(1);
    Stmt drop(db_, "DELETE FROM items WHERE seq = ?");
    if (!drop.ok() || drop.Bind(1, seq).Step() != SQLITE_DONE) {
      return rollback(Error("dropping the oldest item"));
    }
    for (auto [name, by] : {std::pair{"dropped", int64_t{1}},
                            {"queued_items", int64_t{-1}},
                            {"queued_bytes", -length}}) {
      if (Status s = Bump(name, by); !s.ok()) return rollback(s);
    }
    --items;
    bytes -= length;
  }
  Stmt insert(db_, "INSERT INTO items(key, kind, payload, enqueued_ms) VALUES (?, ?, ?, ?)");
  if (!insert.ok() ||
      insert.Bind(1, key).Bind(2, kind).BindBlob(3, payload).Bind(4, now_unix_ms).Step() !=
          SQLITE_DONE) {
    return rollback(Error("queueing an item"));
  }
  const int64_t seq = sqlite3_last_insert_rowid(db_);
  for (auto [name, by] :
       {std::pair{"enqueued", int64_t{1}}, {"queued_items", int64_t{1}}, {"queued_bytes", size}}) {
    if (Status s = Bump(name, by); !s.ok()) return rollback(s);
  }
  SEAM_RETURN_IF_ERROR(Commit());
  return seq;
}

Result<std::optional<OutboxItem>> Outbox::Front() {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT seq, key, kind, payload, enqueued_ms, attempts FROM items ORDER BY seq LIMIT 1");
  if (!s.ok()) return Error("reading the oldest item");
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<OutboxItem>();
  if (rc != SQLITE_ROW) return Error("reading the oldest item");
  return std::optional<OutboxItem>(OutboxItem{.seq = s.Int(0),
                                              .key = s.Text(1),
                                              .kind = s.Text(2),
                                              .payload = s.Text(3),
                                              .enqueued_unix_ms = s.Int(4),
                                              .attempts = s.Int(5)});
}

Status Outbox::CountAttempt(int64_t seq) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE items SET attempts = attempts + 1 WHERE seq = ?");
  if (!s.ok() || s.Bind(1, seq).Step() != SQLITE_DONE) return Error("counting an attempt");
  return Status::Ok();
}

Status Outbox::Ack(int64_t seq) { return Remove(seq, nullptr); }

Status Outbox::Reject(int64_t seq, std::string_view reason) { return Remove(seq, &reason); }

Status Outbox::Remove(int64_t seq, const std::string_view* rejected_because) {
  std::lock_guard lock(mu_);
  SEAM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  const char* what = rejected_because ? "rejecting an item" : "acknowledging an item";
  Stmt length(db_, "SELECT length(payload) FROM items WHERE seq = ?");
  const int rc = length.ok() ? length.Bind(1, seq).Step() : SQLITE_ERROR;
  if (rc != SQLITE_ROW) {
    // The error is read before the rollback, which would replace it.
    const Status error = rc == SQLITE_DONE
                             ? NotFound(path_ + ": item " + std::to_string(seq) + " is not queued")
                             : Error(what);
    (void)Exec("ROLLBACK");
    return error;
  }
  const int64_t size = length.Int(0);
  Status status = Status::Ok();
  if (rejected_because) {  // kept aside, with the reason, for someone to look at
    Stmt keep(db_,
              "INSERT INTO rejected(seq, key, kind, payload, reason)"
              " SELECT seq, key, kind, payload, ? FROM items WHERE seq = ?");
    if (!keep.ok() || keep.Bind(1, *rejected_because).Bind(2, seq).Step() != SQLITE_DONE) {
      status = Error(what);
    }
  }
  Stmt drop(db_, "DELETE FROM items WHERE seq = ?");
  if (status.ok() && !(drop.ok() && drop.Bind(1, seq).Step() == SQLITE_DONE)) status = Error(what);
  for (auto [name, by] : {std::pair{rejected_because ? "rejected" : "delivered", int64_t{1}},
                          {"queued_items", int64_t{-1}},
                          {"queued_bytes", -size}}) {
    if (status.ok()) status = Bump(name, by);
  }
  if (!status.ok()) {
    (void)Exec("ROLLBACK");
    return status;
  }
  return Commit();
}

Status Outbox::SetNote(std::string_view name, std::string_view value) {
  std::lock_guard lock(mu_);
  std::string key = "note:";
  key += name;
  Stmt set(db_, "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)");
  if (!set.ok() || set.Bind(1, std::string_view(key)).Bind(2, value).Step() != SQLITE_DONE) {
    return Error("keeping a note");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Outbox::Note(std::string_view name) {
  std::lock_guard lock(mu_);
  std::string key = "note:";
  key += name;
  Stmt get(db_, "SELECT value FROM meta WHERE name = ?");
  const int rc = get.ok() ? get.Bind(1, std::string_view(key)).Step() : SQLITE_ERROR;
  if (rc == SQLITE_ROW) return std::optional<std::string>(get.Text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return Error("reading a note");
}

int64_t Outbox::size() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT value FROM counters WHERE name = 'queued_items'");
  return s.ok() && s.Step() == SQLITE_ROW ? s.Int(0) : -1;
}

int64_t Outbox::bytes() {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT value FROM counters WHERE name = 'queued_bytes'");
  return s.ok() && s.Step() == SQLITE_ROW ? s.Int(0) : 0;
}

OutboxCounters Outbox::counters() {
  std::lock_guard lock(mu_);
  OutboxCounters c;
  Stmt s(db_, "SELECT name, value FROM counters");
  while (s.ok() && s.Step() == SQLITE_ROW) {
    const std::string name = s.Text(0);
    const int64_t v = s.Int(1);
    if (name == "enqueued") c.enqueued = v;
    if (name == "delivered") c.delivered = v;
    if (name == "dropped") c.dropped = v;
    if (name == "refused") c.refused = v;
    if (name == "duplicate_keys") c.duplicate_keys = v;
    if (name == "rejected") c.rejected = v;
  }
  return c;
}

}  // namespace seam::cascade
