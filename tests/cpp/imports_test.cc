// Import resolution: every import and alias form names the same dotted path.
#include "torch2keras/analysis/imports.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "torch2keras/syntax/parser.h"

namespace {

using t2k::analysis::ImportScope;
using t2k::analysis::ModuleLocation;

struct Fixture {
  std::unique_ptr<t2k::syntax::ParsedSource> parsed;
  std::unique_ptr<ImportScope> scope;
  // The expression statement at index `i` of the module body.
  const t2k::ast::ExprNode* expr(std::size_t i) const {
    auto* module = static_cast<const t2k::ast::Module*>(parsed->tree);
    return t2k::ast::as<t2k::ast::Expr>(module->body[i])->value;
  }
};

Fixture scope_of(const std::string& source, ModuleLocation location = {"pkg.models.net", false}) {
  Fixture f;
  f.parsed = t2k::syntax::parse_source(source, {});
  EXPECT_FALSE(f.parsed->error.has_value()) << f.parsed->error->message;
  auto* module = static_cast<const t2k::ast::Module*>(f.parsed->tree);
  f.scope = std::make_unique<ImportScope>(module->body, location);
  return f;
}

TEST(Imports, EveryAliasForm) {
  auto f = scope_of(
      "import torch\n"
      "import torch.nn as nn\n"
      "import torch.nn.functional as F\n"
      "from torch.nn import Conv2d as C, ReLU\n"
      "from torch import nn as tnn\n");
  EXPECT_EQ(f.scope->binding("torch"), "torch");
  EXPECT_EQ(f.scope->binding("nn"), "torch.nn");
  EXPECT_EQ(f.scope->binding("F"), "torch.nn.functional");
  EXPECT_EQ(f.scope->binding("C"), "torch.nn.Conv2d");
  EXPECT_EQ(f.scope->binding("ReLU"), "torch.nn.ReLU");
  EXPECT_EQ(f.scope->binding("tnn"), "torch.nn");
  EXPECT_EQ(f.scope->binding("Conv2d"), std::nullopt);
}

TEST(Imports, AttributeChainsResolveThroughTheRoot) {
  auto f = scope_of("import torch.nn.functional as F\nimport torch.nn\nF.relu\ntorch.nn.Linear\nx.y\n");
  EXPECT_EQ(f.scope->resolve(f.expr(2)), "torch.nn.functional.relu");
  EXPECT_EQ(f.scope->resolve(f.expr(3)), "torch.nn.Linear");
  EXPECT_EQ(f.scope->resolve(f.expr(4)), std::nullopt);
}

TEST(Imports, RelativeImportsUseThePackage) {
  auto f = scope_of("from .blocks import Block\nfrom .. import utils\nfrom ..layers.conv import Conv\n");
  EXPECT_EQ(f.scope->binding("Block"), "pkg.models.blocks.Block");
  EXPECT_EQ(f.scope->binding("utils"), "pkg.utils");
  EXPECT_EQ(f.scope->binding("Conv"), "pkg.layers.conv.Conv");
  // In a package's __init__.py, level 1 is the package itself.
  auto g = scope_of("from .blocks import Block\n", {"pkg.models", true});
  EXPECT_EQ(g.scope->binding("Block"), "pkg.models.blocks.Block");
}

TEST(Imports, StarImportsNeedAnExistenceTest) {
  auto f = scope_of("from torch.nn import *\nConv2d\nConv2d.foo\n");
  EXPECT_EQ(f.scope->resolve(f.expr(1)), std::nullopt);
  auto exists = [](std::string_view path) { return path == "torch.nn.Conv2d"; };
  EXPECT_EQ(f.scope->resolve(f.expr(1), exists), "torch.nn.Conv2d");
  EXPECT_EQ(f.scope->resolve(f.expr(2), exists), "torch.nn.Conv2d.foo");
  ASSERT_EQ(f.scope->star_modules().size(), 1u);
  EXPECT_EQ(f.scope->star_modules()[0], "torch.nn");
}

TEST(Imports, ConditionalImportsBindAndInnerScopesChain) {
  auto f = scope_of(
      "try:\n    import torch.nn as nn\nexcept ImportError:\n    nn = None\n"
      "if True:\n    from torch.nn import functional as F\n"
      "def forward():\n    import math\n");
  EXPECT_EQ(f.scope->binding("nn"), "torch.nn");
  EXPECT_EQ(f.scope->binding("F"), "torch.nn.functional");
  EXPECT_EQ(f.scope->binding("math"), std::nullopt);  // only in the function's scope
  auto* module = static_cast<const t2k::ast::Module*>(f.parsed->tree);
  auto* def = t2k::ast::as<t2k::ast::FunctionDef>(module->body[2]);
  ImportScope inner(def->body, {"pkg.models.net", false}, f.scope.get());
  EXPECT_EQ(inner.binding("math"), "math");
  EXPECT_EQ(inner.binding("nn"), "torch.nn");
}

}  // namespace
