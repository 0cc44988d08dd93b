// Module values of ModuleDicts: which module each key holds (keys from dict(...),
// {...}, OrderedDict and (key, module) pairs, and from what constructor code adds
// later), so lowering can resolve `self.transformer.wte` and refuse a missing key.
#include "torch2keras/lowering/module_values.h"

#include <gtest/gtest.h>

#include <memory>

#include "torch2keras/catalog/catalog.h"
#include "torch2keras/syntax/parser.h"

namespace {

using t2k::lowering::dict_item;
using t2k::lowering::module_dict;
using t2k::lowering::ModuleDesc;
using t2k::lowering::ModuleValues;

// One parsed input and its analyses (each holds references to the ones before).
struct Analysed {
  explicit Analysed(const std::string& source)
      : parsed(t2k::syntax::parse_source(source, {})),
        module(static_cast<const t2k::ast::Module*>(parsed->tree)),
        scope(module->body, {"pkg.net", false}),
        classes(t2k::analysis::find_classes(module, scope, "pkg.net", {})),
        values(module, scope, classes, t2k::catalog::Catalog::instance()) {}

  ModuleDesc attr(std::string_view cls, std::string_view name) {
    auto d = values.attr(values.model_class(cls), name);
    EXPECT_TRUE(d.has_value()) << name;
    return d.value_or(ModuleDesc{});
  }

  std::unique_ptr<t2k::syntax::ParsedSource> parsed;
  const t2k::ast::Module* module;
  t2k::analysis::ImportScope scope;
  std::vector<t2k::analysis::ClassInfo> classes;
  ModuleValues values;
};

// The catalog class a value holds ("torch.nn.Embedding"), or "" for anything else.
std::string layer(const std::optional<ModuleDesc>& d) {
  return d && d->kind == ModuleDesc::Leaf && d->entry != nullptr ? d->entry->keys[0] : "";
}

TEST(ModuleValues, ModuleDictKeysFromDictCall) {
  Analysed a(
      "import torch.nn as nn\n"
      "class GPT(nn.Module):\n"
      "    def __init__(self):\n"
      "        super().__init__()\n"
      "        self.transformer = nn.ModuleDict(dict(\n"
      "            wte=nn.Embedding(20, 8),\n"
      "            h=nn.ModuleList([nn.ReLU(), nn.Tanh()]),\n"
      "            ln_f=nn.LayerNorm(8),\n"
      "        ))\n"
      "        self.first = self.transformer.wte\n");
  ModuleDesc d = a.attr("GPT", "transformer");
  ASSERT_TRUE(module_dict(d));
  EXPECT_EQ(d.keys, (std::vector<std::string>{"wte", "h", "ln_f"}));
  EXPECT_EQ(layer(dict_item(d, "wte")), "torch.nn.Embedding");
  EXPECT_EQ(layer(dict_item(d, "ln_f")), "torch.nn.LayerNorm");
  // A ModuleList of two modules is an item, not a (key, module) pair.
  auto h = dict_item(d, "h");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, ModuleDesc::List);
  EXPECT_EQ(h->items.size(), 2u);
  EXPECT_FALSE(dict_item(d, "wpe").has_value());
  // Constructor code reading the dict by attribute.
  EXPECT_EQ(layer(a.attr("GPT", "first")), "torch.nn.Embedding");
}

TEST(ModuleValues, ModuleDictKeysFromLiteralsAndPairs) {
  Analysed a(
      "from collections import OrderedDict\n"
      "import torch.nn as nn\n"
      "class Net(nn.Module):\n"
      "    def __init__(self):\n"
      "        super().__init__()\n"
      "        self.a = nn.ModuleDict({'relu': nn.ReLU(), 'fc': nn.Linear(2, 2)})\n"
      "        self.b = nn.ModuleDict(OrderedDict([('relu', nn.ReLU()), ('fc', nn.Linear(2, 2))]))\n"
      "        self.c = nn.ModuleDict([('relu', nn.ReLU()), ('fc', nn.Linear(2, 2))])\n"
      "        self.d = nn.ModuleDict(modules={**{'relu': nn.ReLU()}, 'fc': nn.Linear(2, 2)})\n");
  for (std::string_view name : {"a", "b", "c", "d"}) {
    ModuleDesc d = a.attr("Net", name);
    ASSERT_TRUE(module_dict(d)) << name;
    EXPECT_EQ(d.keys, (std::vector<std::string>{"relu", "fc"})) << name;
    EXPECT_EQ(layer(dict_item(d, "relu")), "torch.nn.ReLU") << name;
    EXPECT_EQ(layer(dict_item(d, "fc")), "torch.nn.Linear") << name;
    EXPECT_FALSE(dict_item(d, "gelu").has_value()) << name;
  }
}

TEST(ModuleValues, ModuleDictKeysAddedLater) {
  Analysed a(
      "import torch.nn as nn\n"
      "class Net(nn.Module):\n"
      "    def __init__(self, names=('x', 'y')):\n"
      "        super().__init__()\n"
      "        self.heads = nn.ModuleDict()\n"
      "        self.heads['a'] = nn.ReLU()\n"
      "        self.heads.b = nn.Tanh()\n"
      "        self.heads.add_module('c', nn.GELU())\n"
      "        self.heads.update({'d': nn.Sigmoid()})\n"
      "        self.fixed = nn.ModuleDict({'a': nn.ReLU()})\n"
      "        self.loop = nn.ModuleDict()\n"
      "        for n in names:\n"
      "            self.loop[n] = nn.ReLU()\n"
      "        self.loop['t'] = nn.Tanh()\n"
      "        self.opaque = nn.ModuleDict()\n"
      "        self.opaque.update(make_heads())\n");
  ModuleDesc heads = a.attr("Net", "heads");
  ASSERT_TRUE(module_dict(heads));
  EXPECT_EQ(heads.keys, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(layer(dict_item(heads, "b")), "torch.nn.Tanh");
  EXPECT_EQ(layer(dict_item(heads, "d")), "torch.nn.Sigmoid");
  EXPECT_FALSE(dict_item(heads, "e").has_value());
  // Keys from a loop are not known: any key may be one of them.
  ModuleDesc loop = a.attr("Net", "loop");
  EXPECT_EQ(layer(dict_item(loop, "x")), "torch.nn.ReLU");
  auto t = dict_item(loop, "t");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, ModuleDesc::Union);  // the loop's ReLU or the Tanh
  // An update with a mapping the analysis cannot see: any key, any module.
  auto anything = dict_item(a.attr("Net", "opaque"), "anything");
  ASSERT_TRUE(anything.has_value());
  EXPECT_EQ(anything->kind, ModuleDesc::Unknown);
  EXPECT_FALSE(dict_item(a.attr("Net", "fixed"), "b").has_value());
}

}  // namespace
