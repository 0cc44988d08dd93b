// Tests of line wrapping (syntax/wrap.h): exact output of the black-like splits,
// lines that must stay as they are, and that wrapping never changes the tree.
#include "torch2keras/syntax/wrap.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"

namespace t2k::syntax {
namespace {

std::string dump(std::string_view source) {
  ParseOptions options;
  auto parsed = parse_source(source, options);
  if (parsed->error) return "ERROR " + parsed->error->message;
  std::string out;
  dump_ast(out, parsed->tree, DumpOptions{});
  return out;
}

// Wraps `source` at `width` and checks that the tree is unchanged.
std::string wrap(std::string_view source, int width) {
  std::string out = wrap_long_lines(source, width);
  EXPECT_EQ(dump(out), dump(source)) << out;
  return out;
}

TEST(Wrap, ShortLinesStay) {
  std::string src = "x = f(a, b)\nif x:\n    y = [1, 2]\n";
  EXPECT_EQ(wrap(src, 20), src);
}

TEST(Wrap, RightmostBracketBodyOnItsOwnLine) {
  EXPECT_EQ(wrap("self.conv = layers.Conv2D(out_channels, 3, padding='same')\n", 40),
            "self.conv = layers.Conv2D(\n"
            "    out_channels, 3, padding='same'\n"
            ")\n");
}

TEST(Wrap, OneItemPerLineWithTrailingCommas) {
  EXPECT_EQ(wrap("    y = keras.Sequential([layers.Conv2D(8, 3), layers.ReLU(), layers.Dense(10)])\n", 30),
            "    y = keras.Sequential(\n"
            "        [\n"
            "            layers.Conv2D(\n"
            "                8, 3\n"
            "            ),\n"
            "            layers.ReLU(),\n"
            "            layers.Dense(10),\n"
            "        ]\n"
            "    )\n");
}

// Each expected output below is black 24's (-l 99 -S) for the same line.
TEST(Wrap, EmptyTrailingCallStaysWithTheTail) {
  EXPECT_EQ(wrap("        correct += ops.convert_to_numpy(ops.sum(ops.equal(ops.argmax(model(inputs, training=False), "
                 "axis=1), targets))).item()\n",
                 99),
            "        correct += ops.convert_to_numpy(\n"
            "            ops.sum(ops.equal(ops.argmax(model(inputs, training=False), axis=1), targets))\n"
            "        ).item()\n");
}

TEST(Wrap, ValueWithOperatorsGetsParentheses) {
  // A subscript or attribute at the end, or two operators: the whole value in parentheses.
  EXPECT_EQ(wrap("        total_loss += ops.convert_to_numpy(criterion(outputs, labels)).item() * "
                 "ops.shape(labels)[0]\n",
                 99),
            "        total_loss += (\n"
            "            ops.convert_to_numpy(criterion(outputs, labels)).item() * ops.shape(labels)[0]\n"
            "        )\n");
  EXPECT_EQ(wrap("        total_loss_value_here = some_function_name(argument_one, argument_two) + "
                 "other_function(argument_three) + aa(bb)\n",
                 99),
            "        total_loss_value_here = (\n"
            "            some_function_name(argument_one, argument_two)\n"
            "            + other_function(argument_three)\n"
            "            + aa(bb)\n"
            "        )\n");
  // One operator and a call at the end: split in that call.
  EXPECT_EQ(wrap("        total_loss_value_here = some_function_name(argument_one, argument_two) + "
                 "other_function(argument_three, arg4)\n",
                 99),
            "        total_loss_value_here = some_function_name(argument_one, argument_two) + other_function(\n"
            "            argument_three, arg4\n"
            "        )\n");
}

TEST(Wrap, ComprehensionSplitsAtItsClauses) {
  // Not at the comma of a tuple target (that would not parse).
  EXPECT_EQ(wrap("x = [ops.concatenate([first_tensor_name, second_tensor_name], axis=1) for first_tensor_name, "
                 "second_tensor_name in zip(xs, ys) if first_tensor_name is not None]\n",
                 99),
            "x = [\n"
            "    ops.concatenate([first_tensor_name, second_tensor_name], axis=1)\n"
            "    for first_tensor_name, second_tensor_name in zip(xs, ys)\n"
            "    if first_tensor_name is not None\n"
            "]\n");
}

TEST(Wrap, LambdaParametersStayOnOneLineAndItsBodySplitsAtOperators) {
  // The commas between a lambda's parameters separate no items of the call.
  EXPECT_EQ(wrap("model.compile(optimizer=optimizer, loss=PyTorchCriterion(lambda out, y: "
                 "pytorch_cross_entropy(out, y, label_smoothing=0.1) + 0.01 * ops.mean(out ** 2)))\n",
                 80),
            "model.compile(\n"
            "    optimizer=optimizer,\n"
            "    loss=PyTorchCriterion(\n"
            "        lambda out, y: pytorch_cross_entropy(out, y, label_smoothing=0.1)\n"
            "        + 0.01 * ops.mean(out ** 2)\n"
            "    ),\n"
            ")\n");
}

TEST(Wrap, BareTuplesGetParenthesesOneItemPerLine) {
  // black's invisible parentheses: a returned or assigned tuple, not its last call.
  EXPECT_EQ(wrap("    return ops.transpose(a, (0, 2, 1)), ops.transpose(b, (0, 2, 1)), c\n", 40),
            "    return (\n"
            "        ops.transpose(a, (0, 2, 1)),\n"
            "        ops.transpose(b, (0, 2, 1)),\n"
            "        c,\n"
            "    )\n");
  EXPECT_EQ(wrap("q, k = self.proj(x, 1, 2, 3), self.proj(y, 4, 5, 6)\n", 40),
            "q, k = (\n"
            "    self.proj(x, 1, 2, 3),\n"
            "    self.proj(y, 4, 5, 6),\n"
            ")\n");
}

TEST(Wrap, ItemsInsideBracketsSplitBeforeTheirOperators) {
  // black's delimiter split: an item too long for its line breaks before each
  // operator of its loosest kind at depth 0, the operator starting the line; a
  // unary minus, a comprehension and `**` do not split.
  EXPECT_EQ(wrap("    return (first_value(x) + second_value(y) * 2 - third(z), other)\n", 40),
            "    return (\n"
            "        first_value(x)\n"
            "        + second_value(y) * 2\n"
            "        - third(z),\n"
            "        other,\n"
            "    )\n");
  EXPECT_EQ(wrap("y = ops.transpose(aaaa * bbbb - cccc + -dddd, (0, 3, 1, 2))\n", 30),
            "y = ops.transpose(\n"
            "    aaaa * bbbb\n"
            "    - cccc\n"
            "    + -dddd,\n"
            "    (0, 3, 1, 2),\n"
            ")\n");
  EXPECT_EQ(wrap("z = f([value * 2 for value in values_list], k ** other_exponent)\n", 30),
            "z = f(\n"
            "    [\n"
            "        value * 2\n"
            "        for value in values_list\n"
            "    ],\n"
            "    k ** other_exponent,\n"
            ")\n");
}

TEST(Wrap, HeadersWrapTheirParameters) {
  EXPECT_EQ(wrap("def f(self, alpha: int = 1, beta: float = 2.0) -> None:\n    pass\n", 30),
            "def f(\n"
            "    self,\n"
            "    alpha: int = 1,\n"
            "    beta: float = 2.0,\n"
            ") -> None:\n"
            "    pass\n");
}

TEST(Wrap, TrailingCommentFollowsTheClosingBracket) {
  // As black does: the code wraps, the comment ends its last line.
  EXPECT_EQ(wrap("x = function_with_a_long_name(argument_one, argument_two)  # note\n", 40),
            "x = function_with_a_long_name(\n"
            "    argument_one, argument_two\n"
            ")  # note\n");
  // Code that fits without its comment stays on its line.
  std::string fits = "x = f(argument_one, argument_two)  # a comment that makes the line long\n";
  EXPECT_EQ(wrap(fits, 40), fits);
}

TEST(Wrap, CommentsAndStringsStay) {
  std::string commented = "x = function_with_a_long_name(\n    # own line\n    argument_one, argument_two)\n";
  EXPECT_EQ(wrap(commented, 20), commented);
  std::string doc = "'''a long docstring line (with brackets, and commas) that is long'''\n";
  EXPECT_EQ(wrap(doc, 20), doc);
  std::string multi = "s = '''\nlong line (a, b, c) inside a string literal here\n'''\n";
  EXPECT_EQ(wrap(multi, 20), multi);
  // A line without brackets or operators to split at stays too.
  std::string bare = "total = alpha_beta_gamma_delta_epsilon\n";
  EXPECT_EQ(wrap(bare, 20), bare);
}

TEST(Wrap, AssignedSumWithoutBracketsGetsParentheses) {
  EXPECT_EQ(wrap("total = alpha + beta + gamma + delta + epsilon\n", 20),
            "total = (\n    alpha\n    + beta\n    + gamma\n    + delta\n    + epsilon\n)\n");
}

TEST(Wrap, InvalidSourceIsReturnedAsIs) {
  std::string bad = "x = (1,\n";
  EXPECT_EQ(wrap_long_lines(bad, 4), bad);
}

}  // namespace
}  // namespace t2k::syntax
