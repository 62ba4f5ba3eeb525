#include "lab/link_trace.h"

#include <gtest/gtest.h>

namespace seam::lab {
namespace {

TEST(LinkTraceTest, ParsesMahimahiAndComputesRatesPerWindow) {
  // 2 packets at ms 1, 1 at ms 2, 3 at ms 10 (period 10 ms): 6 packets per 10 ms = 7.2 Mbit/s.
  auto trace = ParseMahimahi("1\n1\n2\n10\n10\n10\n", "t");
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->period_ms, 10);
  EXPECT_DOUBLE_EQ(trace->MeanRateBps(), 6 * 1500 * 8 / 0.010);
  // Window [0, 5): the 3 packets of ms 1 and 2; [5, 10): the 3 that close the lap at ms 10.
  EXPECT_DOUBLE_EQ(trace->RateBps(0, 5), 3 * 1500 * 8 / 0.005);
  EXPECT_DOUBLE_EQ(trace->RateBps(1, 5), 3 * 1500 * 8 / 0.005);
  EXPECT_DOUBLE_EQ(trace->RateBps(0, 10) + trace->RateBps(1, 10), 2 * trace->MeanRateBps());
  // The trace repeats: every 10 ms window of a later lap carries the same 6 packets.
  EXPECT_DOUBLE_EQ(trace->RateBps(7, 10), trace->MeanRateBps());
  EXPECT_EQ(ToMahimahi(*trace), "1\n1\n2\n10\n10\n10\n");
}

TEST(LinkTraceTest, WhatIsNotATraceIsRefusedWithTheLine) {
  auto words = ParseMahimahi("1\n2\nhello\n", "cell.trace");
  ASSERT_FALSE(words.ok());
  EXPECT_NE(words.status().message().find("cell.trace:3"), std::string::npos)
      << words.status().message();
  EXPECT_NE(words.status().message().find("Mahimahi"), std::string::npos);
  auto backwards = ParseMahimahi("5\n3\n", "t");
  ASSERT_FALSE(backwards.ok());
  EXPECT_NE(backwards.status().message().find("t:2"), std::string::npos);
  EXPECT_FALSE(ParseMahimahi("", "t").ok());
  EXPECT_FALSE(ParseMahimahi("-4\n", "t").ok());
  EXPECT_FALSE(ParseMahimahi("3.5\n", "t").ok());
  EXPECT_FALSE(ReadMahimahi("/nonexistent/trace").ok());
}

TEST(LinkTraceTest, SyntheticLteTracesVaryWithinTheirBoundsAndAreDeterministic) {
  SyntheticLteOptions options{.duration_ms = 30000, .seed = 3};
  auto a = SyntheticLteTrace(options);
  auto b = SyntheticLteTrace(options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->opportunities_ms, b->opportunities_ms);
  double low = 1e18, high = 0;
  for (int64_t k = 0; k < 60; ++k) {
    const double r = a->RateBps(k, 500);
    low = std::min(low, r);
    high = std::max(high, r);
  }
  EXPECT_GE(low, 0.05e6);  // a fade of the 1 Mbit/s floor, within one packet's rounding
  EXPECT_LE(high, 40.5e6);
  EXPECT_GT(high / low, 3);  // it really varies
  // And it survives the file format.
  auto again = ParseMahimahi(ToMahimahi(*a), "synthetic");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->opportunities_ms, a->opportunities_ms);
  EXPECT_FALSE(SyntheticLteTrace({.min_mbps = 0}).ok());
  EXPECT_FALSE(SyntheticLteTrace({.start_mbps = 100}).ok());
}

}  // namespace
}  // namespace seam::lab
