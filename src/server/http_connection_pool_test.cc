#include "server/http_connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>

namespace seam::server {
namespace {

using namespace std::chrono_literals;

// A job that holds its thread until released, as a slow client holds a connection.
class Gate {
 public:
  std::function<void()> Job() {
    return [this] {
      ++started_;
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return open_; });
      ++finished_;
    };
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  int started() const { return started_; }
  int finished() const { return finished_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> started_{0}, finished_{0};
};

template <typename F>
bool Eventually(F condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TEST(HttpConnectionPoolTest, BusyThreadsDoNotStarveANewConnection) {
  HttpConnectionPool pool(/*base=*/2, /*max_connections=*/6);
  Gate slow;
  for (int i = 0; i < 5; ++i) pool.enqueue(slow.Job());  // five slow clients, two kept threads
  EXPECT_TRUE(Eventually([&] { return slow.started() == 5; }));
  EXPECT_EQ(pool.threads(), 5u);
  // A health probe arriving now is served at once, by the sixth thread.
  std::promise<void> served;
  pool.enqueue([&] { served.set_value(); });
  EXPECT_EQ(served.get_future().wait_for(5s), std::future_status::ready);
  slow.Open();
  EXPECT_TRUE(Eventually([&] { return slow.finished() == 5; }));
  // The extra threads end once nothing waits; the kept ones stay.
  EXPECT_TRUE(Eventually([&] { return pool.threads() == 2; }));
  EXPECT_EQ(pool.peak_threads(), 6u);
}

TEST(HttpConnectionPoolTest, PastTheLimitConnectionsQueueAndAreAllServed) {
  HttpConnectionPool pool(/*base=*/1, /*max_connections=*/3);
  Gate slow;
  for (int i = 0; i < 3; ++i) pool.enqueue(slow.Job());
  EXPECT_TRUE(Eventually([&] { return slow.started() == 3; }));
  std::atomic<int> queued_done{0};
  for (int i = 0; i < 4; ++i) pool.enqueue([&] { ++queued_done; });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(queued_done.load(), 0);  // no thread past the limit
  EXPECT_EQ(pool.threads(), 3u);
  slow.Open();
  EXPECT_TRUE(Eventually([&] { return queued_done.load() == 4; }));
  EXPECT_EQ(pool.peak_threads(), 3u);
}

TEST(HttpConnectionPoolTest, ShutdownServesWhatWasQueuedAndWaitsForEveryThread) {
  Gate slow;
  std::atomic<int> done{0};
  {
    HttpConnectionPool pool(/*base=*/1, /*max_connections=*/2);
    pool.enqueue(slow.Job());
    pool.enqueue(slow.Job());
    EXPECT_TRUE(Eventually([&] { return slow.started() == 2; }));
    pool.enqueue([&] { ++done; });
    auto stopped = std::async(std::launch::async, [&] { pool.shutdown(); });
    EXPECT_EQ(stopped.wait_for(100ms), std::future_status::timeout);  // the slow ones hold it
    slow.Open();
    EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(pool.threads(), 0u);
  }
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(slow.finished(), 2);
}

}  // namespace
}  // namespace seam::server
