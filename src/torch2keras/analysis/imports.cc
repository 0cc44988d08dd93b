// Import resolution; see imports.h.
#include "torch2keras/analysis/imports.h"

namespace t2k::analysis {

using namespace ast;

const Name* root_name(const ExprNode* expr) {
  while (const auto* attribute = as<Attribute>(expr)) expr = attribute->value;
  return as<Name>(expr);
}

ImportScope::ImportScope(Seq<StmtNode*> body, const ModuleLocation& location,
                         const ImportScope* parent)
    : location_(location), parent_(parent) {
  bind_statements(body);
}

// The package a relative import starts from: level 1 is the module's own package.
std::string ImportScope::absolute_module(const ImportFrom* stmt) const {
  std::string module = stmt->module.data() != nullptr ? std::string(stmt->module) : "";
  if (stmt->level == 0) return module;
  std::string base = location_.dotted_name;
  int up = stmt->level - (location_.is_package ? 1 : 0);
  for (int i = 0; i < up; ++i) {
    std::size_t dot = base.rfind('.');
    base = dot == std::string::npos ? "" : base.substr(0, dot);
  }
  if (module.empty()) return base;
  return base.empty() ? module : base + "." + module;
}

template <class TryNode>
void ImportScope::bind_try(const TryNode* t) {
  bind_statements(t->body);
  for (const ExceptHandler* handler : t->handlers) bind_statements(handler->body);
  bind_statements(t->orelse);
  bind_statements(t->finalbody);
}

void ImportScope::bind_statements(Seq<StmtNode*> body) {
  for (StmtNode* stmt : body) {
    switch (stmt->kind) {
      case NodeKind::Import:
        for (const Alias* alias : static_cast<const Import*>(stmt)->names) {
          std::string name(alias->name);
          if (alias->asname.data() != nullptr) {
            bindings_[std::string(alias->asname)] = name;
          } else {
            // `import a.b.c` binds `a` (to the package a).
            std::string root = name.substr(0, name.find('.'));
            bindings_[root] = root;
          }
        }
        break;
      case NodeKind::ImportFrom: {
        const auto* from = static_cast<const ImportFrom*>(stmt);
        std::string module = absolute_module(from);
        for (const Alias* alias : from->names) {
          if (alias->name == "*") {
            star_modules_.push_back(module);
            continue;
          }
          std::string local(alias->asname.data() != nullptr ? alias->asname : alias->name);
          std::string path = module.empty() ? std::string(alias->name)
                                            : module + "." + std::string(alias->name);
          bindings_[local] = path;
        }
        break;
      }
      // Imports under control flow at this level still bind at this level.
      case NodeKind::If:
        bind_statements(static_cast<const If*>(stmt)->body);
        bind_statements(static_cast<const If*>(stmt)->orelse);
        break;
      case NodeKind::Try: bind_try(static_cast<const Try*>(stmt)); break;
      case NodeKind::TryStar: bind_try(static_cast<const TryStar*>(stmt)); break;
      case NodeKind::With: bind_statements(static_cast<const With*>(stmt)->body); break;
      default: break;
    }
  }
}

std::optional<std::string> ImportScope::binding(std::string_view name) const {
  for (const ImportScope* scope = this; scope != nullptr; scope = scope->parent_) {
    auto it = scope->bindings_.find(std::string(name));
    if (it != scope->bindings_.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> ImportScope::resolve(
    const ExprNode* expr, const std::function<bool(std::string_view)>& exists) const {
  std::vector<std::string_view> attributes;
  while (const auto* attribute = as<Attribute>(expr)) {
    attributes.push_back(attribute->attr);
    expr = attribute->value;
  }
  const Name* root = as<Name>(expr);
  if (root == nullptr) return std::nullopt;
  std::optional<std::string> path = binding(root->id);
  if (!path && exists) {
    for (const ImportScope* scope = this; scope != nullptr && !path; scope = scope->parent_) {
      for (const std::string& module : scope->star_modules_) {
        std::string candidate = module + "." + std::string(root->id);
        if (exists(candidate)) {
          path = candidate;
          break;
        }
      }
    }
  }
  if (!path) return std::nullopt;
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    *path += '.';
    path->append(*it);
  }
  return path;
}

}  // namespace t2k::analysis
