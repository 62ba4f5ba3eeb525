#include "server/idempotency_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace seam::server {
namespace {

namespace fs = std::filesystem;
using Claim = IdempotencyStore::Claim;

class IdempotencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam-idempotency-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "keys.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(IdempotencyStoreTest, AKeyRunsOnceAndItsRepeatsGetTheStoredAnswer) {
  auto store = IdempotencyStore::Open("");  // in memory
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string stored;
  auto first = (*store)->Begin("item-1", "big", "v1:f", &stored);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, Claim::kRun);
  // A repeat while the first runs is told to retry, not run twice.
  auto racing = (*store)->Begin("item-1", "big", "v1:f", &stored);
  EXPECT_EQ(racing.status().code(), StatusCode::kAborted) << racing.status().ToString();
  ASSERT_TRUE((*store)->Finish("item-1", "big", "v1:f", std::string("answer\0bytes", 12)).ok());
  auto repeat = (*store)->Begin("item-1", "big", "v1:f", &stored);
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(*repeat, Claim::kReplay);
  EXPECT_EQ(stored, std::string("answer\0bytes", 12));
  // A failed run frees its key.
  ASSERT_EQ(*(*store)->Begin("item-2", "big", "v1:f", &stored), Claim::kRun);
  (*store)->Abandon("item-2");
  EXPECT_EQ(*(*store)->Begin("item-2", "big", "v1:f", &stored), Claim::kRun);
  EXPECT_EQ((*store)->entries(), 1);
}

TEST_F(IdempotencyStoreTest, AKeyNamesOneItemOfOneModel) {
  auto store = IdempotencyStore::Open("");
  ASSERT_TRUE(store.ok());
  std::string stored;
  ASSERT_EQ(*(*store)->Begin("k", "big", "v1:f", &stored), Claim::kRun);
  ASSERT_TRUE((*store)->Finish("k", "big", "v1:f", "a").ok());
  auto other = (*store)->Begin("k", "small", "v1:f", &stored);
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("'big'"), std::string::npos) << other.status().message();
  // The same key for other inputs (or another version) is not a repeat either.
  auto changed = (*store)->Begin("k", "big", "v2:f", &stored);
  EXPECT_EQ(changed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(changed.status().message().find("different request"), std::string::npos);
}

TEST_F(IdempotencyStoreTest, AnswersSurviveAReopenInTheOrderTheyCame) {
  {
    auto store = IdempotencyStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::string stored;
    for (const char* key : {"c", "a", "b"}) {
      ASSERT_EQ(*(*store)->Begin(key, "big", "v1:f", &stored), Claim::kRun);
      std::string answer = "answer of ";
      answer += key;
      ASSERT_TRUE((*store)->Finish(key, "big", "v1:f", answer).ok());
    }
  }
  auto store = IdempotencyStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->entries(), 3);
  std::string stored;
  ASSERT_EQ(*(*store)->Begin("a", "big", "v1:f", &stored), Claim::kReplay);
  EXPECT_EQ(stored, "answer of a");
}

TEST_F(IdempotencyStoreTest, TheOldestAnswersAreForgottenBeyondTheLimits) {
  auto store = IdempotencyStore::Open(path_, {.max_entries = 3});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string stored;
  for (int i = 0; i < 5; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    ASSERT_EQ(*(*store)->Begin(key, "big", "v1:f", &stored), Claim::kRun);
    ASSERT_TRUE((*store)->Finish(key, "big", "v1:f", "x").ok());
  }
  EXPECT_EQ((*store)->entries(), 3);
  EXPECT_EQ(*(*store)->Begin("k0", "big", "v1:f", &stored), Claim::kRun);  // forgotten: runs again
  (*store)->Abandon("k0");
  EXPECT_EQ(*(*store)->Begin("k4", "big", "v1:f", &stored), Claim::kReplay);
  // By bytes: the newest answer is always kept.
  auto small = IdempotencyStore::Open("", {.max_bytes = 10});
  ASSERT_TRUE(small.ok());
  for (const char* key : {"a", "b"}) {
    ASSERT_EQ(*(*small)->Begin(key, "big", "v1:f", &stored), Claim::kRun);
    ASSERT_TRUE((*small)->Finish(key, "big", "v1:f", "eight by").ok());
  }
  EXPECT_EQ((*small)->entries(), 1);
  EXPECT_EQ(IdempotencyStore::Open("", {.max_entries = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(IdempotencyStoreTest, AFileThatIsNotAStoreIsRefusedAndLeftAlone) {
  std::ofstream(path_, std::ios::binary) << std::string(8192, 'x');
  auto store = IdempotencyStore::Open(path_);
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
  EXPECT_NE(store.status().message().find(path_), std::string::npos);
  EXPECT_EQ(fs::file_size(path_), 8192u);
}

}  // namespace
}  // namespace seam::server
