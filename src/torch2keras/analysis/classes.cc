// Model-class discovery; see classes.h.
#include "torch2keras/analysis/classes.h"

namespace t2k::analysis {

using namespace ast;

const char* name(TorchBase base) {
  switch (base) {
    case TorchBase::None: return "None";
    case TorchBase::Module: return "Module";
    case TorchBase::Sequential: return "Sequential";
    case TorchBase::ModuleList: return "ModuleList";
    case TorchBase::ModuleDict: return "ModuleDict";
  }
  return "None";
}

TorchBase torch_base_of(std::string_view path) {
  // torch.nn.X, or torch.nn.modules.<file>.X (where the classes are defined).
  std::string_view last = path.substr(path.rfind('.') + 1);
  bool in_torch_nn = path.rfind("torch.nn.", 0) == 0 &&
                     (path.find('.', 9) == std::string_view::npos ||
                      path.rfind("torch.nn.modules.", 0) == 0);
  if (!in_torch_nn || last.empty() || !(last[0] >= 'A' && last[0] <= 'Z')) {
    return TorchBase::None;
  }
  if (last == "Sequential") return TorchBase::Sequential;
  if (last == "ModuleList") return TorchBase::ModuleList;
  if (last == "ModuleDict") return TorchBase::ModuleDict;
  return TorchBase::Module;
}

std::vector<ClassInfo> find_classes(const Module* module, const ImportScope& scope,
                                    std::string_view module_name, const KnownClasses& known) {
  std::vector<ClassInfo> classes;
  std::unordered_map<std::string, std::size_t> by_name;  // qualified name -> index
  for (StmtNode* stmt : module->body) {
    const auto* def = as<ClassDef>(stmt);
    if (def == nullptr) continue;
    ClassInfo info;
    info.node = def;
    info.qualified_name = std::string(module_name) + "." + std::string(def->name);
    for (const ExprNode* base : def->bases) {
      std::optional<std::string> path = scope.resolve(base);
      if (!path) {
        // A class of this module used as a base (`class B(A)`).
        if (const Name* n = root_name(base); n != nullptr && n == base) {
          path = std::string(module_name) + "." + std::string(n->id);
        }
      }
      info.base_paths.push_back(path.value_or(""));
    }
    by_name[info.qualified_name] = classes.size();
    classes.push_back(std::move(info));
  }
  // Propagate through bases until nothing changes (bases may be defined later
  // in unusual code, so source order alone is not enough).
  for (bool changed = true; changed;) {
    changed = false;
    for (ClassInfo& info : classes) {
      if (info.torch_base != TorchBase::None) continue;
      for (const std::string& base : info.base_paths) {
        TorchBase found = torch_base_of(base);
        std::string torch_class = found != TorchBase::None ? base : "";
        if (found == TorchBase::None) {
          if (auto it = by_name.find(base); it != by_name.end()) {
            found = classes[it->second].torch_base;
            torch_class = classes[it->second].torch_class;
          } else if (auto k = known.find(base); k != known.end()) {
            found = k->second.torch_base;
            torch_class = k->second.torch_class;
          }
        }
        if (found != TorchBase::None) {
          info.torch_base = found;
          info.torch_class = torch_class;
          changed = true;
          break;
        }
      }
    }
  }
  return classes;
}

}  // namespace t2k::analysis
