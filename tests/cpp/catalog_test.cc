// The embedded catalog loads without problems: a malformed entry (a Python syntax
// error in a catalog file, an unknown decorator keyword, a bad returns=) would
// otherwise leave its file's entries out, and conversions would report them as
// "no catalog entry" instead of failing here.
#include "torch2keras/catalog/catalog.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using t2k::catalog::Catalog;
using t2k::catalog::ResultDType;

TEST(Catalog, LoadsWithoutProblems) {
  std::string all;
  for (const std::string& p : Catalog::instance().problems()) all += p + "\n";
  EXPECT_TRUE(all.empty()) << all;
}

TEST(Catalog, DeclaresDtypeClasses) {
  const Catalog& c = Catalog::instance();
  ASSERT_NE(c.find_function("torch.arange"), nullptr);
  EXPECT_EQ(c.find_function("torch.arange")->returns_dtype, ResultDType::Number);
  ASSERT_NE(c.find_module("torch.nn.Embedding"), nullptr);
  EXPECT_EQ(c.find_module("torch.nn.Embedding")->input_dtype, ResultDType::Int);
  ASSERT_NE(c.find_module("torch.nn.Linear"), nullptr);
  EXPECT_EQ(c.find_module("torch.nn.Linear")->input_dtype, ResultDType::Float);
  ASSERT_NE(c.find_method("bool"), nullptr);
  EXPECT_EQ(c.find_method("bool")->returns_dtype, ResultDType::Bool);
}

}  // namespace
