// The Python AST: one C++ struct per CPython `ast` node, generated from ast_nodes.def.
//
// Conventions (all nodes live in an Arena and are trivially destructible):
//   * a node-valued field is a pointer; an optional one (`expr?`) is null for None;
//   * a list field is a `Seq<T>`; Dict.keys and Arguments.kw_defaults may hold nulls;
//   * an identifier is a std::string_view; an optional one is None when data() == nullptr;
//   * positions are CPython's: 1-based lines, 0-based columns in UTF-8 bytes.
// Semantic facts never live here: analyses keep side tables keyed by node.
#pragma once

#include <set>
#include <string>

#include <cstdint>
#include <span>
#include <string_view>

namespace t2k::ast {

// A list field: a view of arena-owned items.
template <class T>
class Seq {
 public:
  Seq() = default;
  Seq(std::span<T> items) : data_(items.data()), size_(static_cast<uint32_t>(items.size())) {}
  T* begin() const { return data_; }
  T* end() const { return data_ + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) const { return data_[i]; }
  T& front() const { return data_[0]; }
  T& back() const { return data_[size_ - 1]; }

 private:
  T* data_ = nullptr;
  uint32_t size_ = 0;
};

// CPython's four position attributes.
struct Loc {
  int32_t lineno = 0;
  int32_t col_offset = 0;
  int32_t end_lineno = 0;
  int32_t end_col_offset = 0;
};

using Identifier = std::string_view;

enum class ExprContext : uint8_t { Load, Store, Del };
enum class BoolOpKind : uint8_t { And, Or };
enum class OperatorKind : uint8_t {
  Add, Sub, Mult, MatMult, Div, Mod, Pow, LShift, RShift, BitOr, BitXor, BitAnd, FloorDiv
};
enum class UnaryOpKind : uint8_t { Invert, Not, UAdd, USub };
enum class CmpOpKind : uint8_t { Eq, NotEq, Lt, LtE, Gt, GtE, Is, IsNot, In, NotIn };

const char* name(ExprContext v);
const char* name(BoolOpKind v);
const char* name(OperatorKind v);
const char* name(UnaryOpKind v);
const char* name(CmpOpKind v);

// The value of a Constant or MatchSingleton.
struct ConstantValue {
  enum class Kind : uint8_t { None, True, False, Ellipsis, Int, Float, Complex, Str, Bytes };
  Kind kind = Kind::None;
  double number = 0;      // Float: the value; Complex: the imaginary part (real part is 0)
  std::string_view text;  // Int: decimal digits; Str: WTF-8 (lone surrogates allowed); Bytes
};

enum class NodeKind : uint8_t {
#define T2K_NODE(category, name, has_attributes, fields) name,
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"
};
inline constexpr int kNodeKindCount = 0
#define T2K_NODE(category, name, has_attributes, fields) +1
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"
    ;

enum class Category : uint8_t { Mod, Stmt, Expr, ExceptHandler, Pattern, TypeIgnore, TypeParam, Product };

enum NodeFlags : uint8_t {
  // The expression was written inside parentheses that are not part of its own
  // syntax (`(a)`, `(a, b)`); CPython's positions exclude such parentheses except
  // for tuples and generator expressions.
  kParenthesized = 1,
};

struct Node {
  NodeKind kind;
  uint8_t flags = 0;
  Loc loc;
};

// Category bases: a field of ASDL type `expr` holds an ExprNode*, and so on.
struct ModNode : Node {};
struct StmtNode : Node {};
struct ExprNode : Node {};
struct PatternNode : Node {};
struct TypeParamNode : Node {};

#define T2K_NODE(category, name, has_attributes, fields) struct name;
#define T2K_FIELD(arity, type, name)
#include "torch2keras/syntax/ast_nodes.def"

enum class Arity : uint8_t { ONE, OPT, SEQ };

namespace detail {
// How a field of ASDL type T is stored: node types by pointer, values by value.
template <class T>
struct Storage {
  using One = T*;
};
template <>
struct Storage<Identifier> {
  using One = Identifier;
};
template <>
struct Storage<int32_t> {
  using One = int32_t;
};
template <>
struct Storage<ConstantValue> {
  using One = ConstantValue;
};
template <>
struct Storage<ExprContext> {
  using One = ExprContext;
};
template <>
struct Storage<BoolOpKind> {
  using One = BoolOpKind;
};
template <>
struct Storage<OperatorKind> {
  using One = OperatorKind;
};
template <>
struct Storage<UnaryOpKind> {
  using One = UnaryOpKind;
};
template <>
struct Storage<CmpOpKind> {
  using One = CmpOpKind;
};
template <Arity A, class T>
struct FieldType {
  using type = typename Storage<T>::One;
};
template <class T>
struct FieldType<Arity::SEQ, T> {
  using type = Seq<typename Storage<T>::One>;
};

// The ASDL type names used in ast_nodes.def, as C++ types.
namespace asdl {
using Mod = ModNode;
using Stmt = StmtNode;
using Expr = ExprNode;
using Pattern = PatternNode;
using TypeParam = TypeParamNode;
using ExceptHandler = ::t2k::ast::ExceptHandler;
using TypeIgnore = ::t2k::ast::TypeIgnore;
using Comprehension = ::t2k::ast::Comprehension;
using Arguments = ::t2k::ast::Arguments;
using Arg = ::t2k::ast::Arg;
using Keyword = ::t2k::ast::Keyword;
using Alias = ::t2k::ast::Alias;
using WithItem = ::t2k::ast::WithItem;
using MatchCase = ::t2k::ast::MatchCase;
using Identifier = ::t2k::ast::Identifier;
using Int = int32_t;
using Constant = ::t2k::ast::ConstantValue;
using ExprContext = ::t2k::ast::ExprContext;
using BoolOpKind = ::t2k::ast::BoolOpKind;
using OperatorKind = ::t2k::ast::OperatorKind;
using UnaryOpKind = ::t2k::ast::UnaryOpKind;
using CmpOpKind = ::t2k::ast::CmpOpKind;
}  // namespace asdl

using ModBase = ModNode;
using StmtBase = StmtNode;
using ExprBase = ExprNode;
using PatternBase = PatternNode;
using TypeParamBase = TypeParamNode;
using ExceptHandlerBase = Node;
using TypeIgnoreBase = Node;
using ProductBase = Node;
}  // namespace detail

#define T2K_NODE(category, name, has_attributes, fields)          \
  struct name : detail::category##Base {                          \
    static constexpr NodeKind kKind = NodeKind::name;             \
    static constexpr Category kCategory = Category::category;     \
    static constexpr bool kHasAttributes = has_attributes;        \
    fields                                                        \
  };
#define T2K_FIELD(arity, asdl_type, field_name) \
  typename detail::FieldType<Arity::arity, detail::asdl::asdl_type>::type field_name{};
#include "torch2keras/syntax/ast_nodes.def"

// The CPython class name of a node kind ("FunctionDef", "keyword").
const char* name(NodeKind kind);
Category category(NodeKind kind);
bool has_attributes(NodeKind kind);

// Checked downcast: null when `node` is null or of another kind.
template <class T>
T* as(Node* node) {
  return node != nullptr && node->kind == T::kKind ? static_cast<T*>(node) : nullptr;
}
template <class T>
const T* as(const Node* node) {
  return node != nullptr && node->kind == T::kKind ? static_cast<const T*>(node) : nullptr;
}
template <class T>
bool is(const Node* node) {
  return node != nullptr && node->kind == T::kKind;
}

// Calls `visit(child)` for every non-null direct child node of `node`, in field order.
template <class Visitor>
void for_each_child(Node* node, Visitor&& visit);

namespace detail {
template <class Visitor, class T>
void visit_field(Visitor& visit, T* child) {
  if (child != nullptr) visit(static_cast<Node*>(child));
}
template <class Visitor, class T>
void visit_field(Visitor& visit, Seq<T*> children) {
  for (T* child : children)
    if (child != nullptr) visit(static_cast<Node*>(child));
}
template <class Visitor, class T>
void visit_field(Visitor&, const T&) {}
}  // namespace detail

// Inserts the id of every Name in the subtree of `node` (null: none) into `names`.
void collect_names(const Node* node, std::set<std::string>& names);

template <class Visitor>
void for_each_child(Node* node, Visitor&& visit) {
  switch (node->kind) {
#define T2K_NODE(category, name, has_attributes, fields) \
  case NodeKind::name: {                                 \
    [[maybe_unused]] auto* n = static_cast<name*>(node); \
    fields                                               \
    break;                                               \
  }
#define T2K_FIELD(arity, asdl_type, field_name) detail::visit_field(visit, n->field_name);
#include "torch2keras/syntax/ast_nodes.def"
  }
}

}  // namespace t2k::ast
