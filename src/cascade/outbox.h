// Outbox: a durable first-in first-out queue of items meant for the cloud (hard examples a
// cascade could not hand off, results and reports), kept on the device or edge while the uplink
// is down and delivered in order when it returns. Each item has an idempotency key, unique in
// the outbox and sent with the item, so that a receiver can tell a re-delivery (an item sent,
// received, and not yet acknowledged here when the sender died) from a new item.
//
// Storage: one SQLite file in WAL mode with synchronous=FULL: an Enqueue or Ack that returned is
// on disk, and survives kill -9 of the process and a power cut. Items are removed when
// acknowledged. A file that is not a healthy outbox is refused (DATA_LOSS naming it) and left
// untouched: nothing queued is thrown away.
//
// Bounded: at most `max_items` items and `max_bytes` of payload. When full, `kRefuseNew`
// (default) answers RESOURCE_EXHAUSTED and keeps what is queued; `kDropOldest` removes the
// oldest items to make room (for data whose value decays: the newest frame matters most). Both
// are counted, and the counters persist with the queue.
//
// Thread safety: every method may be called from any thread (one connection, under a mutex).
// Several processes must not open the same file at once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;

namespace seam::cascade {

struct OutboxLimits {
  int64_t max_items = 100000;
  int64_t max_bytes = int64_t{256} << 20;
  enum class WhenFull { kRefuseNew, kDropOldest } when_full = WhenFull::kRefuseNew;
};

struct OutboxItem {
  int64_t seq = 0;   // increasing in enqueue order, never reused
  std::string key;   // the idempotency key
  std::string kind;  // what it is ("hard_example", "report"...): for the receiver
  std::string payload;
  int64_t enqueued_unix_ms = 0;
  int64_t attempts = 0;  // delivery attempts so far
};

struct OutboxCounters {
  int64_t enqueued = 0, delivered = 0, dropped = 0, refused = 0, duplicate_keys = 0, rejected = 0;
};

class Outbox {
 public:
  // Opens (or creates) the outbox file. INVALID_ARGUMENT for limits out of range, DATA_LOSS for
  // a file that is not a healthy outbox, UNAVAILABLE when it cannot be opened (errors name it).
  static Result<std::unique_ptr<Outbox>> Open(const std::string& path, OutboxLimits limits = {});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends an item; returns its seq. An item whose key is already queued is not queued again
  // (its seq is returned, counted as a duplicate key). RESOURCE_EXHAUSTED when full and
  // refusing; INVALID_ARGUMENT for an empty key or a payload larger than max_bytes.
  Result<int64_t> Enqueue(std::string_view key, std::string_view kind, std::string_view payload,
                          int64_t now_unix_ms);

  // The oldest queued item, nullopt when the outbox is empty.
  Result<std::optional<OutboxItem>> Front();
  // One more delivery attempt of item `seq` (counted in the file, so it survives restarts).
  Status CountAttempt(int64_t seq);
  // Item `seq` was delivered: removed. NOT_FOUND when it is not queued.
  Status Ack(int64_t seq);
  // Item `seq` can never be delivered (its receiver refuses it for good): moved out of the queue,
  // so that what is behind it is not held up, into the file's `rejected` table with `reason`
  // (kept for someone to look at), and counted. NOT_FOUND when it is not queued.
  Status Reject(int64_t seq, std::string_view reason);

  // Small named values kept with the queue (what a sender needs to start while its receiver is
  // unreachable, e.g. the receiving model's metadata). Durable as the items are.
  Status SetNote(std::string_view name, std::string_view value);
  Result<std::optional<std::string>> Note(std::string_view name);

  int64_t size();  // items queued; -1 when the file cannot be read
  int64_t bytes();
  OutboxCounters counters();
  const std::string& path() const { return path_; }

 private:
  Outbox() = default;
  Status Exec(const char* sql);
  Status Commit();  // COMMIT, or roll back what a failed COMMIT left open
  // Ack (null) or Reject (the reason) of item `seq`.
  Status Remove(int64_t seq, const std::string_view* rejected_because);
  Status Bump(const char* counter, int64_t by);  // caller holds mu_, inside a transaction
  Status Error(const char* what) const;          // the connection's last error, named

  std::string path_;
  OutboxLimits limits_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace seam::cascade
