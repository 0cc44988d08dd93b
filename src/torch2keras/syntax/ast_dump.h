// `ast.dump` in C++: prints a tree exactly as CPython's ast.dump does, which is how
// the parser is checked against the interpreter (tests/conformance).
#pragma once

#include <string>

#include "torch2keras/syntax/ast.h"

namespace t2k::syntax {

struct DumpOptions {
  bool include_attributes = false;  // ast.dump(..., include_attributes=True)
  int minor = 11;                   // 3.12 adds the `type_params` fields
};

// Appends `ast.dump(node)` (CPython 3.<minor>, annotate_fields=True, indent=None).
void dump_ast(std::string& out, const ast::Node* node, const DumpOptions& options);

}  // namespace t2k::syntax
