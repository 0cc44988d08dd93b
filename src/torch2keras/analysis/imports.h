// Import resolution: what a name in a module refers to, as a dotted path.
//
// The converter never imports the input, so `nn.Conv2d`, `Conv2d` (after
// `from torch.nn import *`) and `C` (after `from torch.nn import Conv2d as C`) are
// recognised as the same thing statically: every `import` and `from ... import`
// of a scope binds a local name to a canonical dotted path, and an expression made
// of a name and attributes resolves through those bindings:
//
//     import torch.nn as nn             nn        -> torch.nn
//     import torch.nn                   torch     -> torch        (binds the root)
//     from torch import nn              nn        -> torch.nn
//     from torch.nn import Conv2d as C  C         -> torch.nn.Conv2d
//     from .blocks import Block         Block     -> pkg.models.blocks.Block (in pkg.models.x)
//     F.relu (with F -> torch.nn.functional)      -> torch.nn.functional.relu
//
// Star imports resolve a name only through a caller-supplied test of which paths
// exist (the catalog knows that torch.nn has Conv2d; this layer knows no library).
// Module-level rebinding of an imported name (`nn = other`) is not tracked.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "torch2keras/syntax/ast.h"

namespace t2k::analysis {

// Where a module sits in its package, for relative imports: "pkg.models.resnet"
// (is_package false) or "pkg.models" for pkg/models/__init__.py (is_package true).
struct ModuleLocation {
  std::string dotted_name;
  bool is_package = false;
};

class ImportScope {
 public:
  // The import bindings of `body` (a module's or a function's statements),
  // including imports nested in if/try/with blocks at that level (but not in
  // nested functions or classes). `parent` is the enclosing scope, or null.
  ImportScope(ast::Seq<ast::StmtNode*> body, const ModuleLocation& location,
              const ImportScope* parent = nullptr);

  // The dotted path of `expr` (a Name or an Attribute chain on a Name) through
  // the bindings, e.g. "torch.nn.functional.relu"; nullopt when the root name is
  // not bound by an import here or in a parent scope.
  // `exists`, when given, decides star imports: an unbound root name N resolves
  // to "M.N" for the first star-imported module M with exists("M.N").
  std::optional<std::string> resolve(
      const ast::ExprNode* expr,
      const std::function<bool(std::string_view)>& exists = nullptr) const;

  // The path a plain name is bound to, or nullopt.
  std::optional<std::string> binding(std::string_view name) const;

  // Modules imported with `from M import *`, in source order.
  const std::vector<std::string>& star_modules() const { return star_modules_; }

 private:
  void bind_statements(ast::Seq<ast::StmtNode*> body);
  template <class TryNode>
  void bind_try(const TryNode* t);
  std::string absolute_module(const ast::ImportFrom* stmt) const;

  ModuleLocation location_;
  const ImportScope* parent_;
  std::unordered_map<std::string, std::string> bindings_;
  std::vector<std::string> star_modules_;
};

// The Name at the root of an Attribute chain (`a` in `a.b.c`), or null when the
// chain is rooted in something else (a call, a subscript).
const ast::Name* root_name(const ast::ExprNode* expr);

}  // namespace t2k::analysis
