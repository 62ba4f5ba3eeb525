// Statement: a prepared SQLite statement, finalised on scope exit, with the few binders and
// readers seam's stores use (64-bit integers, text, blobs); ErrorStatus: SQLite's errors as
// seam's codes.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seam::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int i, std::string_view bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(stmt_); }  // SQLITE_ROW, SQLITE_DONE or an error
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

// The connection's last error as a Status naming `where` and `what` was being done: a damaged
// file is DATA_LOSS (left as it is: `start_over` says how to begin afresh), a full disk
// RESOURCE_EXHAUSTED, anything else UNAVAILABLE.
inline Status ErrorStatus(sqlite3* db, const std::string& where, const char* what,
                          const char* start_over) {
  const int code = sqlite3_errcode(db);
  const std::string message = where + ": " + what + ": " + sqlite3_errmsg(db);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    return DataLoss(message + " (the file is left as it is; " + start_over + ")");
  }
  if (code == SQLITE_FULL) return ResourceExhausted(message);
  return Unavailable(message);
}

}  // namespace seam::sqlite
