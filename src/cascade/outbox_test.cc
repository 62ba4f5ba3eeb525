#include "cascade/outbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace seam::cascade {
namespace {

namespace fs = std::filesystem;

// "k<i>" (built with +=: GCC 12 warns falsely on Key(i)).
std::string Key(int i) {
  std::string key = "k";
  key += std::to_string(i);
  return key;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam-outbox-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "outbox.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Outbox> OpenOk(OutboxLimits limits = {}) {
    auto box = Outbox::Open(path_, limits);
    EXPECT_TRUE(box.ok()) << box.status().ToString();
    return box.ok() ? std::move(box).value() : nullptr;
  }
  fs::path dir_;
  std::string path_;
};

TEST_F(OutboxTest, ItemsComeOutInOrderAndLeaveWhenAcknowledged) {
  auto box = OpenOk();
  ASSERT_TRUE(box);
  EXPECT_FALSE(box->Front()->has_value());
  const auto a = box->Enqueue("a", "report", "first", 1000);
  const auto b = box->Enqueue("b", "hard_example", std::string("\0\1\2", 3), 1001);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  EXPECT_EQ(box->size(), 2);
  EXPECT_EQ(box->bytes(), 8);
  auto front = box->Front();
  ASSERT_TRUE(front.ok() && front->has_value());
  EXPECT_EQ((*front)->key, "a");
  EXPECT_EQ((*front)->payload, "first");
  EXPECT_EQ((*front)->enqueued_unix_ms, 1000);
  ASSERT_TRUE(box->CountAttempt(*a).ok());
  EXPECT_EQ((*box->Front())->attempts, 1);
  ASSERT_TRUE(box->Ack(*a).ok());
  EXPECT_EQ((*box->Front())->payload, std::string("\0\1\2", 3));  // binary payloads intact
  EXPECT_EQ(box->Ack(*a).code(), StatusCode::kNotFound);
  // A key already queued is not queued twice.
  EXPECT_EQ(*box->Enqueue("b", "hard_example", "again", 1002), *b);
  EXPECT_EQ(box->size(), 1);
  const auto c = box->counters();
  EXPECT_EQ(c.enqueued, 2);
  EXPECT_EQ(c.delivered, 1);
  EXPECT_EQ(c.duplicate_keys, 1);
  EXPECT_FALSE(box->Enqueue("", "x", "y", 0).ok());
}

TEST_F(OutboxTest, ARejectedItemStepsAsideWithItsReason) {
  auto box = OpenOk();
  ASSERT_TRUE(box);
  const auto a = box->Enqueue("a", "hard_example", "poison", 1);
  ASSERT_TRUE(box->Enqueue("b", "hard_example", "fine", 2).ok());
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(box->Reject(*a, "INVALID_ARGUMENT: no such input").ok());
  EXPECT_EQ((*box->Front())->key, "b");  // what was behind it is not held up
  EXPECT_EQ(box->size(), 1);
  EXPECT_EQ(box->bytes(), 4);
  EXPECT_EQ(box->counters().rejected, 1);
  EXPECT_EQ(box->counters().delivered, 0);
  EXPECT_EQ(box->Reject(*a, "again").code(), StatusCode::kNotFound);
}

TEST_F(OutboxTest, NotesAreKeptWithTheQueue) {
  {
    auto box = OpenOk();
    ASSERT_TRUE(box);
    EXPECT_FALSE(box->Note("big")->has_value());
    ASSERT_TRUE(box->SetNote("big", "v1").ok());
    ASSERT_TRUE(box->SetNote("big", "v2").ok());
  }
  auto box = OpenOk();
  ASSERT_TRUE(box);
  EXPECT_EQ(box->Note("big")->value_or(""), "v2");
  EXPECT_FALSE(box->Note("schema")->has_value());  // notes have their own names
}

TEST_F(OutboxTest, WhatIsQueuedAndTheCountersSurviveAReopen) {
  {
    auto box = OpenOk();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(box->Enqueue(Key(i), "r", "p", i).ok());
    ASSERT_TRUE(box->Ack((*box->Front())->seq).ok());
  }
  auto box = OpenOk();
  EXPECT_EQ(box->size(), 4);
  EXPECT_EQ((*box->Front())->key, "k1");
  EXPECT_EQ(box->counters().enqueued, 5);
  EXPECT_EQ(box->counters().delivered, 1);
  // Seqs are never reused, even after the newest item was acknowledged.
  const int64_t next = *box->Enqueue("k5", "r", "p", 5);
  EXPECT_GT(next, 5);
}

TEST_F(OutboxTest, AFullOutboxRefusesOrDropsTheOldestAsConfigured) {
  {
    auto box = OpenOk({.max_items = 3, .max_bytes = 1000});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(box->Enqueue(Key(i), "r", "p", i).ok());
    auto refused = box->Enqueue("k3", "r", "p", 3);
    ASSERT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(refused.status().message().find("the outbox is full (3 items"), std::string::npos)
        << refused.status().message();
    EXPECT_EQ(box->size(), 3);
    EXPECT_EQ((*box->Front())->key, "k0");
    EXPECT_EQ(box->counters().refused, 1);
    EXPECT_FALSE(box->Enqueue("big", "r", std::string(1001, 'x'), 0).ok());
  }
  auto box =
      OpenOk({.max_items = 3, .max_bytes = 10, .when_full = OutboxLimits::WhenFull::kDropOldest});
  ASSERT_TRUE(box->Enqueue("k3", "r", "p", 3).ok());  // drops k0
  EXPECT_EQ((*box->Front())->key, "k1");
  // 9 bytes: k1 goes for the count, k2 for the bytes; k3 (1 byte) and k4 fill the 10 exactly.
  ASSERT_TRUE(box->Enqueue("k4", "r", std::string(9, 'x'), 4).ok());
  EXPECT_EQ(box->size(), 2);
  EXPECT_EQ(box->bytes(), 10);
  EXPECT_EQ((*box->Front())->key, "k3");
  EXPECT_EQ(box->counters().dropped, 3);
}

TEST_F(OutboxTest, AFileThatIsNotAnOutboxIsRefusedAndLeftAlone) {
  std::ofstream(path_, std::ios::binary) << std::string(8192, 'x');
  auto box = Outbox::Open(path_);
  ASSERT_FALSE(box.ok());
  EXPECT_EQ(box.status().code(), StatusCode::kDataLoss) << box.status().ToString();
  EXPECT_NE(box.status().message().find(path_), std::string::npos);
  EXPECT_EQ(fs::file_size(path_), 8192u);  // not overwritten
  EXPECT_FALSE(Outbox::Open((dir_ / "no-such-dir" / "x.db").string()).ok());
  EXPECT_FALSE(Outbox::Open((dir_ / "y.db").string(), {.max_items = 0}).ok());
}

// A process queueing and delivering items is killed (SIGKILL) at a random point: the outbox it
// leaves opens cleanly and holds exactly the items queued and not yet delivered, in order.
TEST_F(OutboxTest, KillNineLosesNothingThatWasQueuedAndRepeatsNothingDelivered) {
  for (int round = 0; round < 3; ++round) {
    fs::remove(path_);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      auto box = Outbox::Open(path_);
      if (!box.ok()) _exit(2);
      // Queue items k0, k1, ... and deliver the oldest after every second one, telling the
      // parent after each operation has returned (so it is on disk).
      for (int i = 0;; ++i) {
        if (!(*box)->Enqueue(Key(i), "report", std::string(100, 'p'), i).ok()) {
          _exit(3);
        }
        char e = 'e';
        if (write(fds[1], &e, 1) != 1) _exit(4);
        if (i % 2 == 1) {
          auto front = (*box)->Front();
          if (!front.ok() || !front->has_value() || !(*box)->Ack((*front)->seq).ok()) _exit(5);
          char a = 'a';
          if (write(fds[1], &a, 1) != 1) _exit(4);
        }
      }
    }
    close(fds[1]);
    int enqueued = 0, acked = 0;
    char op;
    while (enqueued < 150 + 37 * round && read(fds[0], &op, 1) == 1)
      (op == 'e' ? enqueued : acked)++;
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    while (read(fds[0], &op, 1) == 1) (op == 'e' ? enqueued : acked)++;  // reported meanwhile
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child ended on its own: " << status;

    auto box = OpenOk();
    ASSERT_TRUE(box);
    // What remains: k<first> .. k<last>, contiguous and in order. Everything reported queued and
    // not reported delivered is there; at most one more at each end (an operation that reached
    // the disk in the instant before the kill, not yet reported).
    std::vector<int> keys;
    while (true) {
      auto front = box->Front();
      ASSERT_TRUE(front.ok());
      if (!front->has_value()) break;
      keys.push_back(std::stoi((*front)->key.substr(1)));
      ASSERT_TRUE(box->Ack((*front)->seq).ok());
    }
    ASSERT_FALSE(keys.empty());
    for (size_t i = 1; i < keys.size(); ++i) ASSERT_EQ(keys[i], keys[i - 1] + 1);
    EXPECT_TRUE(keys.front() == acked || keys.front() == acked + 1)
        << "first " << keys.front() << ", delivered " << acked;
    EXPECT_TRUE(keys.back() == enqueued - 1 || keys.back() == enqueued)
        << "last " << keys.back() << ", queued " << enqueued;
  }
}

}  // namespace
}  // namespace seam::cascade
