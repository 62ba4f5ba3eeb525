// IdempotencyStore: how `seam serve` runs a keyed request (oip/idempotency.h) once. A request
// whose key was answered before gets the stored answer back without running; one whose key is
// being run right now is told to retry (UNAVAILABLE); a failed run frees its key. Store-and-
// forward senders (cascade/outbox.h) re-deliver what they could not see acknowledged, so the
// receiver must tell a repeat from a new item: together they deliver exactly once.
//
// Storage: SQLite. With a file (seam serve --idempotency-db), in WAL mode with synchronous=FULL:
// an answer is on disk before the caller has it, so a server killed and restarted still replays
// it. Without one, in memory (repeats are caught while the process lives). Bounded: the oldest
// answers are forgotten beyond `max_entries` or `max_bytes` of answers (a key older than that is
// run again). A file that is not a healthy store is refused (DATA_LOSS naming it).
//
// Order: each answer stored gets the next `seq`, so the table records the order in which keyed
// requests were first answered (what a store-and-forward test checks).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;

namespace seam::server {

struct IdempotencyLimits {
  int64_t max_entries = 1000000;
  int64_t max_bytes = int64_t{256} << 20;
};

class IdempotencyStore {
 public:
  // `path` "": in memory. INVALID_ARGUMENT for limits below 1, DATA_LOSS for a file that is not
  // a healthy store, UNAVAILABLE when it cannot be opened (errors name the file).
  static Result<std::unique_ptr<IdempotencyStore>> Open(const std::string& path,
                                                        IdempotencyLimits limits = {});
  ~IdempotencyStore();
  IdempotencyStore(const IdempotencyStore&) = delete;
  IdempotencyStore& operator=(const IdempotencyStore&) = delete;

  enum class Claim {
    kRun,     // new: run it, then Finish (answered) or Abandon (failed)
    kReplay,  // answered before: `*stored` holds the answer
  };
  // `fingerprint` says what the request is (its model version and inputs: RequestFingerprint).
  // ABORTED while another request with `key` runs (retry once it is answered); INVALID_ARGUMENT
  // when `key` was answered for another model or another request (a key names one item).
  Result<Claim> Begin(std::string_view key, std::string_view model, std::string_view fingerprint,
                      std::string* stored);
  // The request claimed with `key` was answered `response` (serialised): kept for its repeats.
  Status Finish(std::string_view key, std::string_view model, std::string_view fingerprint,
                std::string_view response);
  // The request claimed with `key` failed: a repeat runs it.
  void Abandon(std::string_view key);

  int64_t entries();
  const std::string& path() const { return path_; }

 private:
  IdempotencyStore() = default;
  Status Error(const char* what) const;
  Status Count();  // entries_ and bytes_ from the table (caller holds mu_ or is Open)
  Status Prune();  // forgets the oldest answers beyond the limits (caller holds mu_)

  std::string path_;
  IdempotencyLimits limits_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::set<std::string, std::less<>> running_;  // keys claimed and not yet finished
  int64_t entries_ = 0, bytes_ = 0;             // of the answers table
};

}  // namespace seam::server
