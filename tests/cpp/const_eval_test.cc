// Compile-time evaluation of literal expressions: the values catalog forms fold.
#include "torch2keras/analysis/const_eval.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "torch2keras/syntax/parser.h"

namespace {

using namespace t2k::analysis;

// The value of one expression statement, printed as Python would.
std::string value_of(const std::string& expr) {
  static std::vector<std::unique_ptr<t2k::syntax::ParsedSource>> keep;  // trees outlive values
  keep.push_back(t2k::syntax::parse_source(expr + "\n", {}));
  auto& parsed = keep.back();
  EXPECT_FALSE(parsed->error.has_value());
  auto* module = static_cast<const t2k::ast::Module*>(parsed->tree);
  auto* stmt = t2k::ast::as<t2k::ast::Expr>(module->body[0]);
  return to_string(literal_value(stmt->value));
}

TEST(ConstEval, SlicesOfLiteralSequencesAsPythonSlicesThem) {
  EXPECT_EQ(value_of("[0, 2, 3, 1][1:]"), "(2, 3, 1)");
  EXPECT_EQ(value_of("(0, 2, 3, 1)[:-1]"), "(0, 2, 3)");
  EXPECT_EQ(value_of("(0, 1, 2, 3, 4)[::2]"), "(0, 2, 4)");
  EXPECT_EQ(value_of("(0, 1, 2, 3)[::-1]"), "(3, 2, 1, 0)");
  EXPECT_EQ(value_of("(0, 1, 2, 3)[3:0:-2]"), "(3, 1)");
  EXPECT_EQ(value_of("(0, 1, 2)[5:]"), "()");
  EXPECT_EQ(value_of("(0, 1, 2)[-10:2]"), "(0, 1)");
  EXPECT_EQ(value_of("(0, 1, 2)[None:None]"), "(0, 1, 2)");
}

TEST(ConstEval, SlicesThatAreNotConstantsAreUnknown) {
  EXPECT_EQ(value_of("(0, 1, 2)[::0]"), "<unknown>");  // ValueError in Python
  EXPECT_EQ(value_of("(0, 1, 2)[k:]"), "<unknown>");
  EXPECT_EQ(value_of("x[1:]"), "<unknown>");
  EXPECT_EQ(value_of("(0, 1, 2)[1]"), "1");
}

}  // namespace
