// Reading ONNX Runtime's trace: only "<node>_kernel_time" events of category "Node" count, in the
// order they ran, in milliseconds.
#include "profile/ort_trace.h"

#include <gtest/gtest.h>

namespace seam::profile {
namespace {

TEST(OrtTraceTest, CollectsKernelTimesByNodeInRunOrder) {
  const std::string trace = R"([
    {"cat":"Session","name":"model_loading_uri","ts":1,"dur":900},
    {"cat":"Node","name":"conv/1_fence_before","ts":10,"dur":0},
    {"cat":"Node","name":"conv/1_kernel_time","ts":30,"dur":250,"args":{"op_name":"Conv"}},
    {"cat":"Node","name":"conv/1_kernel_time","ts":11,"dur":500},
    {"cat":"Node","name":"relu_kernel_time","ts":12,"dur":40},
    {"cat":"Node","name":"conv/1_fence_after","ts":13,"dur":0},
    {"cat":"Session","name":"SequentialExecutor::Execute","ts":10,"dur":800}
  ])";
  auto times = ParseOrtTrace(trace, "t.json");
  ASSERT_TRUE(times.ok()) << times.status().ToString();
  ASSERT_EQ(times->size(), 2u);
  EXPECT_EQ(times->at("conv/1"), (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(times->at("relu"), (std::vector<double>{0.04}));
}

TEST(OrtTraceTest, RejectsWhatIsNotATrace) {
  auto times = ParseOrtTrace("{\"not\": \"an array\"}", "t.json");
  ASSERT_FALSE(times.ok());
  EXPECT_EQ(times.status().message(),
            "t.json: not an ONNX Runtime profile (expected a JSON array of events)");
  times = ParseOrtTrace(R"([{"cat":"Node","name":"x_kernel_time","ts":1}])", "t.json");
  ASSERT_FALSE(times.ok());
  EXPECT_EQ(times.status().message(),
            "t.json: event 'x_kernel_time' has no numeric 'dur' and 'ts'");
}

}  // namespace
}  // namespace seam::profile
