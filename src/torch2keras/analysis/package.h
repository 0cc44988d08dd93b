// Package linking: the definitions a module imports from its own package.
//
// `from ..ops.misc import Conv2dNormActivation` in torchvision/models/mobilenetv2.py
// names a class the converter must see (its constructor decides the model's
// layers) and the generated module must contain (it has no torchvision to
// import). The linker finds the package around the input file (the directories
// with an __init__.py above it), resolves the module's relative imports (and
// absolute imports of its own package) to files, and collects the module-level
// definitions the input's classes and functions use, transitively: classes,
// functions and assignments, with import statements for exactly the names they
// use. Pulled statements are in dependency order (a definition after those it
// uses), and the import statements that named them are left out of the input.
#pragma once

#include <memory>
#include <set>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/parser.h"

namespace t2k::analysis {

struct PulledDefinition {
  std::string file;      // the file it comes from
  ast::StmtNode* stmt;   // a ClassDef, FunctionDef or Assign of that file
};

struct LinkedModule {
  std::string dotted_name;  // "torchvision.models.mobilenetv2" ("" outside a package)
  bool is_package = false;  // the input is an __init__.py
  // Import statements the pulled definitions need, then the definitions.
  std::vector<ast::StmtNode*> imports;
  std::vector<PulledDefinition> definitions;
  // Names the input imports from its package that the linker defined (their
  // import statements are to be dropped).
  std::set<std::string> linked_names;
  std::map<std::string, std::string> linked_files;  // linked name -> the file defining it
  std::vector<std::unique_ptr<syntax::ParsedSource>> sources;  // owners of the pulled trees
  std::vector<std::string> problems;  // files that could not be read or parsed
};

// Links `module` (parsed from `path`). Never throws; unreadable files are problems.
// `converted_elsewhere(path)`: a dotted path the converter maps by itself (a
// catalog entry such as torchvision.ops.StochasticDepth); its definition is not
// pulled in.
LinkedModule link_package(const ast::Module* module, const std::string& path,
                          const std::function<bool(std::string_view)>& converted_elsewhere = {});

}  // namespace t2k::analysis
