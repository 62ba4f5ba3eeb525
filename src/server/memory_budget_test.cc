#include "server/memory_budget.h"

#include <gtest/gtest.h>

namespace seam::server {
namespace {

TEST(MemoryBudgetTest, ReservationsPastTheLimitAreRefusedUntilLeasesEnd) {
  MemoryBudget budget(100'000'000);
  auto first = budget.Reserve(60'000'000, "a request of model 'relu'");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(budget.used(), 60'000'000u);
  auto second = budget.Reserve(60'000'000, "a request of model 'relu'");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(second.status().message(),
            "a request of model 'relu' needs 60.0 MB and the server already holds 60.0 MB of "
            "requests, of at most 100.0 MB (--max-request-memory-mb); retry later");
  EXPECT_EQ(budget.used(), 60'000'000u);  // a refusal holds nothing
  first->Release();
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(budget.Reserve(60'000'000, "r").ok());  // released at once: the lease was a temporary
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudgetTest, ARequestOverTheWholeLimitIsToldItCanNeverFit) {
  MemoryBudget budget(50'000'000);
  auto huge = budget.Reserve(80'000'000, "a JSON request body of 5.0 MB");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kFailedPrecondition);  // retrying will not help
  EXPECT_NE(huge.status().message().find("more than the server holds for all requests at once"),
            std::string::npos)
      << huge.status().message();
}

TEST(MemoryBudgetTest, ChargesAreNeverRefusedButCountAgainstLaterReservations) {
  MemoryBudget budget(100);
  MemoryBudget::Lease outputs = budget.Charge(150);  // outputs already made
  EXPECT_EQ(budget.used(), 150u);
  EXPECT_FALSE(budget.Reserve(1, "r").ok());
  MemoryBudget::Lease moved = std::move(outputs);
  outputs.Release();  // moved from: releases nothing
  EXPECT_EQ(budget.used(), 150u);
  moved = MemoryBudget::Lease();
  EXPECT_EQ(budget.used(), 0u);
  MemoryBudget unlimited(0);
  EXPECT_TRUE(unlimited.Reserve(uint64_t{1} << 40, "r").ok());
}

}  // namespace
}  // namespace seam::server
