#include "cascade/cascade_file.h"

#include <gtest/gtest.h>

namespace seam::cascade {
namespace {

using nlohmann::json;

json Valid() {
  return json::parse(R"({
    "name": "fashion",
    "small": {"model": "fashion_small.onnx"},
    "big": {"address": "127.0.0.1:8001", "model": "fashion_big", "version": 1},
    "send": "input",
    "rule": {"kind": "margin", "output": "logits", "threshold": 0.4},
    "deadline_ms": 250
  })");
}

std::string Error(const json& j) {
  auto c = ParseCascade(j, "/site/cascade.json");
  return c.ok() ? "" : c.status().message();
}

TEST(CascadeFileTest, AValidFileIsReadWithItsModelBesideIt) {
  auto c = ParseCascade(Valid(), "/site/cascade.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->small_model, "/site/fashion_small.onnx");
  EXPECT_EQ(c->big_model, "fashion_big");
  EXPECT_EQ(c->big_version, 1);
  EXPECT_EQ(c->rule.kind, RuleKind::kMargin);
  EXPECT_DOUBLE_EQ(c->rule.threshold, 0.4);
  EXPECT_TRUE(c->rule.softmax);
  EXPECT_DOUBLE_EQ(c->deadline_ms, 250);
  // Written back, it reads the same.
  auto again = ParseCascade(ToJson(*c, "/site"), "/site/cascade.json");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ToJson(*again, "/site"), ToJson(*c, "/site"));
  EXPECT_EQ(ToJson(*c, "/site")["small"]["model"], "fashion_small.onnx");
}

TEST(CascadeFileTest, MistakesNameTheFileAndTheField) {
  json j = Valid();
  j["rule"]["threshold"] = 1.2;
  EXPECT_NE(Error(j).find("/site/cascade.json: rule: a margin threshold is between 0 and 1"),
            std::string::npos)
      << Error(j);
  j = Valid();
  j["rule"].erase("output");
  EXPECT_NE(Error(j).find("'rule.output' is missing"), std::string::npos) << Error(j);
  j = Valid();
  j["rule"]["kind"] = "confidence";
  EXPECT_NE(Error(j).find("unknown hand-off rule 'confidence'"), std::string::npos) << Error(j);
  j = Valid();
  j["big"]["adress"] = "x";
  EXPECT_NE(Error(j).find("unknown field 'big.adress'"), std::string::npos) << Error(j);
  j = Valid();
  j["deadline_ms"] = 0;
  EXPECT_NE(Error(j).find("deadline_ms"), std::string::npos) << Error(j);
  j = Valid();
  j["big"]["version"] = "1";
  EXPECT_NE(Error(j).find("'big.version' must be a whole number"), std::string::npos) << Error(j);
  j = Valid();
  j["big"]["version"] = 1.7;
  EXPECT_NE(Error(j).find("'big.version' must be a whole number"), std::string::npos) << Error(j);
  j = Valid();
  j["deadline_ms"] = 1e20;
  EXPECT_NE(Error(j).find("at most a day"), std::string::npos) << Error(j);
  j = Valid();
  j.erase("big");
  EXPECT_NE(Error(j).find("'big' is missing"), std::string::npos) << Error(j);
  EXPECT_NE(Error(json::array()).find("a JSON object"), std::string::npos);
  auto missing = ReadCascadeFile("/nonexistent/cascade.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/cascade.json"), std::string::npos);
}

TEST(CascadeFileTest, TheBigServersCredentialsAreSourcesReadAndWrittenBack) {
  json j = Valid();
  j["big"]["security"] = {{"ca", "file:/etc/seam/ca.pem"}, {"token", "env:SEAM_CLOUD_TOKEN"}};
  auto c = ParseCascade(j, "/site/cascade.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->big_security.ca, "file:/etc/seam/ca.pem");
  EXPECT_EQ(c->big_security.token, "env:SEAM_CLOUD_TOKEN");
  EXPECT_EQ(ToJson(*c, "/site")["big"]["security"], j["big"]["security"]);
  EXPECT_FALSE(ToJson(*ParseCascade(Valid(), "/site/c.json"), "/site")["big"].contains("security"));
  j["big"]["security"] = {{"tokn", "env:X"}};
  EXPECT_NE(Error(j).find("'big.security': unknown key 'tokn'"), std::string::npos) << Error(j);
  j["big"]["security"] = {{"token", 7}};
  EXPECT_NE(Error(j).find("'token' must be a string"), std::string::npos) << Error(j);
  j["big"]["security"] = {{"cert", "c.pem"}, {"key", "file:k.pem"}};
  EXPECT_NE(Error(j).find("a client certificate needs TLS"), std::string::npos) << Error(j);
}

}  // namespace
}  // namespace seam::cascade
