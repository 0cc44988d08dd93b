// Model classes: which classes of the input are torch modules, and through what.
//
// A class is a model class when it derives from torch.nn.Module, directly or
// through torch.nn.Sequential / ModuleList / ModuleDict, another torch.nn class
// (class MyConv(nn.Conv2d)), or other classes of the input — of the same file or,
// via `known`, of other files of the same package. Bases are resolved through the
// module's imports (see imports.h); a base that resolves to nothing known leaves
// the class a plain class.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "torch2keras/analysis/imports.h"
#include "torch2keras/syntax/ast.h"

namespace t2k::analysis {

// The torch.nn container a model class behaves as.
enum class TorchBase : uint8_t { None, Module, Sequential, ModuleList, ModuleDict };

const char* name(TorchBase base);

struct ClassInfo {
  const ast::ClassDef* node = nullptr;
  std::string qualified_name;            // "pkg.models.net.ResNet"
  std::vector<std::string> base_paths;   // each base resolved ("" when it cannot be)
  TorchBase torch_base = TorchBase::None;
  // The torch class at the root of the chain ("torch.nn.Module",
  // "torch.nn.Conv2d"), or "" for a plain class.
  std::string torch_class;
};

// What other files' classes are, by qualified name (for cross-file bases).
struct KnownClass {
  TorchBase torch_base = TorchBase::None;
  std::string torch_class;
};
using KnownClasses = std::unordered_map<std::string, KnownClass>;

// The module-level classes of `module` (in source order) and what they derive from.
std::vector<ClassInfo> find_classes(const ast::Module* module, const ImportScope& scope,
                                    std::string_view module_name,
                                    const KnownClasses& known = {});

// Whether a dotted path names a torch.nn class, and which container it is:
// torch.nn.X, torch.nn.modules.<file>.X. Returns TorchBase::None for other paths.
TorchBase torch_base_of(std::string_view path);

}  // namespace t2k::analysis
