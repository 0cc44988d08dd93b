// Model-class discovery: direct, container, layer and cross-class inheritance.
#include "torch2keras/analysis/classes.h"

#include <gtest/gtest.h>

#include "torch2keras/syntax/parser.h"

namespace {

using namespace t2k::analysis;

std::vector<ClassInfo> classes_of(const std::string& source, const KnownClasses& known = {}) {
  static std::vector<std::unique_ptr<t2k::syntax::ParsedSource>> keep;  // trees outlive results
  keep.push_back(t2k::syntax::parse_source(source, {}));
  auto& parsed = keep.back();
  EXPECT_FALSE(parsed->error.has_value());
  auto* module = static_cast<const t2k::ast::Module*>(parsed->tree);
  ImportScope scope(module->body, {"pkg.net", false});
  return find_classes(module, scope, "pkg.net", known);
}

TEST(Classes, DirectAndIndirectModules) {
  auto classes = classes_of(
      "import torch.nn as nn\n"
      "from torch import nn as tnn\n"
      "class Block(nn.Module): pass\n"
      "class Net(Block): pass\n"
      "class Stack(tnn.Sequential): pass\n"
      "class Layers(nn.ModuleList): pass\n"
      "class MyConv(nn.Conv2d): pass\n"
      "class Config: pass\n"
      "class Later(Early): pass\n"
      "class Early(nn.Module): pass\n");
  ASSERT_EQ(classes.size(), 8u);
  EXPECT_EQ(classes[0].qualified_name, "pkg.net.Block");
  EXPECT_EQ(classes[0].torch_base, TorchBase::Module);
  EXPECT_EQ(classes[0].torch_class, "torch.nn.Module");
  EXPECT_EQ(classes[1].torch_base, TorchBase::Module);  // through Block
  EXPECT_EQ(classes[1].base_paths[0], "pkg.net.Block");
  EXPECT_EQ(classes[2].torch_base, TorchBase::Sequential);
  EXPECT_EQ(classes[3].torch_base, TorchBase::ModuleList);
  EXPECT_EQ(classes[4].torch_base, TorchBase::Module);
  EXPECT_EQ(classes[4].torch_class, "torch.nn.Conv2d");
  EXPECT_EQ(classes[5].torch_base, TorchBase::None);
  EXPECT_EQ(classes[6].torch_base, TorchBase::Module);  // base defined later
}

TEST(Classes, CrossFileBasesComeFromKnown) {
  KnownClasses known{{"pkg.blocks.Bottleneck", {TorchBase::Module, "torch.nn.Module"}}};
  auto classes = classes_of("from .blocks import Bottleneck\nclass B(Bottleneck): pass\n", known);
  ASSERT_EQ(classes.size(), 1u);
  EXPECT_EQ(classes[0].base_paths[0], "pkg.blocks.Bottleneck");
  EXPECT_EQ(classes[0].torch_base, TorchBase::Module);
}

TEST(Classes, TorchPathsAreRecognised) {
  EXPECT_EQ(torch_base_of("torch.nn.Module"), TorchBase::Module);
  EXPECT_EQ(torch_base_of("torch.nn.modules.module.Module"), TorchBase::Module);
  EXPECT_EQ(torch_base_of("torch.nn.modules.container.Sequential"), TorchBase::Sequential);
  EXPECT_EQ(torch_base_of("torch.nn.ModuleDict"), TorchBase::ModuleDict);
  EXPECT_EQ(torch_base_of("torch.nn.functional"), TorchBase::None);
  EXPECT_EQ(torch_base_of("torch.nn.utils.rnn.PackedSequence"), TorchBase::None);
  EXPECT_EQ(torch_base_of("torch.Tensor"), TorchBase::None);
  EXPECT_EQ(torch_base_of("mylib.nn.Module"), TorchBase::None);
}

}  // namespace
