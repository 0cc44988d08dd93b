// Names and categories of AST node kinds, derived from ast_nodes.def.
#include "torch2keras/syntax/ast.h"

namespace t2k::ast {

const char* name(ExprContext v) {
  static constexpr const char* kNames[] = {"Load", "Store", "Del"};
  return kNames[static_cast<int>(v)];
}
const char* name(BoolOpKind v) {
  static constexpr const char* kNames[] = {"And", "Or"};
  return kNames[static_cast<int>(v)];
}
const char* name(OperatorKind v) {
  static constexpr const char* kNames[] = {"Add",    "Sub",    "Mult",  "MatMult", "Div",
                                           "Mod",    "Pow",    "LShift", "RShift", "BitOr",
                                           "BitXor", "BitAnd", "FloorDiv"};
  return kNames[static_cast<int>(v)];
}
const char* name(UnaryOpKind v) {
  static constexpr const char* kNames[] = {"Invert", "Not", "UAdd", "USub"};
  return kNames[static_cast<int>(v)];
}
const char* name(CmpOpKind v) {
  static constexpr const char* kNames[] = {"Eq", "NotEq", "Lt", "LtE", "Gt",
                                           "GtE", "Is", "IsNot", "In", "NotIn"};
  return kNames[static_cast<int>(v)];
}

const char* name(NodeKind kind) {
  // Product types are lowercase in Python (`keyword`, `match_case`); their C++
  // structs follow our type-naming rule instead.
  switch (kind) {
    case NodeKind::Comprehension: return "comprehension";
    case NodeKind::Arguments: return "arguments";
    case NodeKind::Arg: return "arg";
    case NodeKind::Keyword: return "keyword";
    case NodeKind::Alias: return "alias";
    case NodeKind::WithItem: return "withitem";
    case NodeKind::MatchCase: return "match_case";
    default: break;
  }
  static constexpr const char* kNames[] = {
#define T2K_NODE(category, name, has_attributes, fields) #name,
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"
  };
  return kNames[static_cast<int>(kind)];
}

Category category(NodeKind kind) {
  static constexpr Category kCategories[] = {
#define T2K_NODE(category, name, has_attributes, fields) Category::category,
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"
  };
  return kCategories[static_cast<int>(kind)];
}

bool has_attributes(NodeKind kind) {
  static constexpr bool kHas[] = {
#define T2K_NODE(category, name, has_attributes, fields) has_attributes != 0,
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"
  };
  return kHas[static_cast<int>(kind)];
}

void collect_names(const Node* node, std::set<std::string>& names) {
  if (node == nullptr) return;
  if (auto* n = as<Name>(node)) names.insert(std::string(n->id));
  for_each_child(const_cast<Node*>(node), [&](Node* child) { collect_names(child, names); });
}

}  // namespace t2k::ast
