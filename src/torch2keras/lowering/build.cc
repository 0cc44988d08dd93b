// Node construction (see build.h).
#include "torch2keras/lowering/build.h"

#include <functional>
#include <optional>
#include <span>

#include <string>
#include <vector>

namespace t2k::lowering {

namespace {
template <class T>
T* make_node(Arena& arena) {
  T* n = arena.make<T>();
  static_cast<ast::Node*>(n)->kind = T::kKind;
  return n;
}

using Replace = std::function<ast::Node*(ast::Node*)>;

// A field of a copied node, its children substituted; whether one changed.
template <class T>
bool substitute_field(Builder&, T&, const Replace&) {
  return false;  // an identifier, a constant, an operator: no node
}
template <class T>
bool substitute_field(Builder& b, T*& child, const Replace& replace) {
  if (child == nullptr) return false;
  ast::Node* r = b.substitute(child, replace);
  if (r == child) return false;
  child = static_cast<T*>(r);
  return true;
}
template <class T>
bool substitute_field(Builder& b, ast::Seq<T*>& children, const Replace& replace) {
  std::vector<T*> items;
  bool changed = false;
  for (T* child : children) {
    items.push_back(child);
    changed = substitute_field(b, items.back(), replace) || changed;
  }
  if (changed) children = b.seq(items);
  return changed;
}
}  // namespace

ast::Node* Builder::substitute(ast::Node* node, const Replace& replace) {
  if (node == nullptr) return nullptr;
  if (ast::Node* r = replace(node)) return r;
  switch (node->kind) {
#define T2K_NODE(category, name, has_attributes, fields)  \
  case ast::NodeKind::name: {                             \
    auto* n = clone(static_cast<const ast::name*>(node)); \
    bool changed = false;                                 \
    fields                                                \
    return changed ? n : node;                            \
  }
#define T2K_FIELD(arity, asdl_type, field_name) changed = substitute_field(*this, n->field_name, replace) || changed;
#include "torch2keras/syntax/ast_nodes.def"
  }
  return node;
}

ast::Name* Builder::name(std::string_view id, ast::ExprContext ctx) {
  auto* n = make_node<ast::Name>(arena_);
  n->id = arena_.copy_string(id);
  n->ctx = ctx;
  return n;
}

ast::Attribute* Builder::attr(ast::ExprNode* value, std::string_view attr) {
  auto* n = make_node<ast::Attribute>(arena_);
  n->value = value;
  n->attr = arena_.copy_string(attr);
  n->ctx = ast::ExprContext::Load;
  return n;
}

ast::ExprNode* Builder::dotted(std::string_view path) {
  std::size_t dot = path.find('.');
  ast::ExprNode* e = name(path.substr(0, dot));
  while (dot != std::string_view::npos) {
    std::size_t next = path.find('.', dot + 1);
    e = attr(e, path.substr(dot + 1, next == std::string_view::npos ? next : next - dot - 1));
    dot = next;
  }
  return e;
}

ast::Call* Builder::call(ast::ExprNode* func, std::vector<ast::ExprNode*> args,
                         std::vector<ast::Keyword*> keywords) {
  auto* n = make_node<ast::Call>(arena_);
  n->func = func;
  n->args = seq(args);
  n->keywords = seq(keywords);
  return n;
}

ast::Keyword* Builder::keyword(std::string_view arg, ast::ExprNode* value) {
  auto* n = make_node<ast::Keyword>(arena_);
  n->arg = arg.data() == nullptr ? arg : arena_.copy_string(arg);
  n->value = value;
  return n;
}

ast::Constant* Builder::integer(int64_t value) {
  auto* n = make_node<ast::Constant>(arena_);
  if (value < 0) {
    // Negative literals are UnaryOp(USub) in Python's AST; callers wanting -1 use
    // literal(), which builds that. A negative here is a programming error.
    value = -value;
  }
  n->value.kind = ast::ConstantValue::Kind::Int;
  n->value.text = arena_.copy_string(std::to_string(value));
  return n;
}

ast::Constant* Builder::string(std::string_view value) {
  auto* n = make_node<ast::Constant>(arena_);
  n->value.kind = ast::ConstantValue::Kind::Str;
  n->value.text = arena_.copy_string(value);
  return n;
}

ast::Constant* Builder::floating(double value) {
  auto* n = make_node<ast::Constant>(arena_);
  n->value.kind = ast::ConstantValue::Kind::Float;
  n->value.number = value;
  return n;
}

ast::Constant* Builder::boolean(bool value) {
  auto* n = make_node<ast::Constant>(arena_);
  n->value.kind = value ? ast::ConstantValue::Kind::True : ast::ConstantValue::Kind::False;
  return n;
}

ast::Constant* Builder::none() {
  auto* n = make_node<ast::Constant>(arena_);
  n->value.kind = ast::ConstantValue::Kind::None;
  return n;
}

ast::Constant* Builder::ellipsis() {
  auto* n = make_node<ast::Constant>(arena_);
  n->value.kind = ast::ConstantValue::Kind::Ellipsis;
  return n;
}

ast::Slice* Builder::full_slice() { return make_node<ast::Slice>(arena_); }

ast::Tuple* Builder::tuple(std::vector<ast::ExprNode*> elts) {
  auto* n = make_node<ast::Tuple>(arena_);
  n->elts = seq(elts);
  n->ctx = ast::ExprContext::Load;
  return n;
}

ast::List* Builder::list(std::vector<ast::ExprNode*> elts) {
  auto* n = make_node<ast::List>(arena_);
  n->elts = seq(elts);
  n->ctx = ast::ExprContext::Load;
  return n;
}

ast::Dict* Builder::dict(std::vector<ast::ExprNode*> keys, std::vector<ast::ExprNode*> values) {
  auto* n = make_node<ast::Dict>(arena_);
  n->keys = seq(keys);
  n->values = seq(values);
  return n;
}

ast::Subscript* Builder::subscript(ast::ExprNode* value, ast::ExprNode* index) {
  auto* n = make_node<ast::Subscript>(arena_);
  n->value = value;
  n->slice = index;
  n->ctx = ast::ExprContext::Load;
  return n;
}

ast::ExprNode* Builder::literal(const analysis::ConstValue& value) {
  using K = analysis::ConstValue::Kind;
  auto negate = [&](ast::ExprNode* operand) -> ast::ExprNode* {
    auto* u = make_node<ast::UnaryOp>(arena_);
    u->op = ast::UnaryOpKind::USub;
    u->operand = operand;
    return u;
  };
  switch (value.kind) {
    case K::Unknown: return nullptr;
    case K::None: return none();
    case K::Bool: return boolean(value.integer != 0);
    case K::Int: return value.integer < 0 ? negate(integer(-value.integer)) : integer(value.integer);
    case K::Float:
      return value.number < 0 ? negate(floating(-value.number)) : floating(value.number);
    case K::Str: return string(value.text);
    case K::Tuple: {
      std::vector<ast::ExprNode*> elts;
      for (const auto& item : value.items) {
        ast::ExprNode* e = literal(item);
        if (e == nullptr) return nullptr;
        elts.push_back(e);
      }
      return tuple(std::move(elts));
    }
  }
  return nullptr;
}

ast::Assign* Builder::assign(ast::ExprNode* target, ast::ExprNode* value) {
  auto* n = make_node<ast::Assign>(arena_);
  n->targets = seq(std::vector<ast::ExprNode*>{target});
  n->value = value;
  return n;
}

ast::Expr* Builder::expr_stmt(ast::ExprNode* value) {
  auto* n = make_node<ast::Expr>(arena_);
  n->value = value;
  return n;
}

ast::Return* Builder::return_stmt(ast::ExprNode* value) {
  auto* n = make_node<ast::Return>(arena_);
  n->value = value;
  return n;
}

ast::If* Builder::if_stmt(ast::ExprNode* test, std::vector<ast::StmtNode*> body) {
  auto* n = make_node<ast::If>(arena_);
  n->test = test;
  n->body = seq(body);
  return n;
}

ast::For* Builder::for_stmt(ast::ExprNode* target, ast::ExprNode* iter, std::vector<ast::StmtNode*> body) {
  auto* n = make_node<ast::For>(arena_);
  n->target = target;
  n->iter = iter;
  n->body = seq(body);
  return n;
}

ast::Lambda* Builder::lambda(ast::ExprNode* body) {
  auto* n = make_node<ast::Lambda>(arena_);
  n->args = make_node<ast::Arguments>(arena_);
  n->body = body;
  return n;
}

ast::Lambda* Builder::lambda(const std::vector<std::string>& params, ast::ExprNode* body) {
  ast::Lambda* n = lambda(body);
  n->args = arguments(params);
  return n;
}

ast::Arguments* Builder::arguments(const std::vector<std::string>& params) {
  auto* args = make_node<ast::Arguments>(arena_);
  std::vector<ast::Arg*> list;
  for (const std::string& p : params) {
    auto* a = make_node<ast::Arg>(arena_);
    a->arg = arena_.copy_string(p);
    list.push_back(a);
  }
  args->args = seq(list);
  return args;
}

ast::FunctionDef* Builder::function_def(std::string_view name, const std::vector<std::string>& params,
                                        std::vector<ast::StmtNode*> body) {
  auto* n = make_node<ast::FunctionDef>(arena_);
  n->name = arena_.copy_string(name);
  n->args = arguments(params);
  n->body = seq(body);
  return n;
}

ast::ClassDef* Builder::class_def(std::string_view name, std::vector<ast::ExprNode*> bases,
                                  std::vector<ast::StmtNode*> body) {
  auto* n = make_node<ast::ClassDef>(arena_);
  n->name = arena_.copy_string(name);
  n->bases = seq(bases);
  n->body = seq(body);
  return n;
}

ast::Raise* Builder::raise_stmt(ast::ExprNode* exc) {
  auto* n = make_node<ast::Raise>(arena_);
  n->exc = exc;
  return n;
}

ast::ListComp* Builder::list_comp(ast::ExprNode* elt, std::string_view target, ast::ExprNode* iter) {
  auto* g = make_node<ast::Comprehension>(arena_);
  g->target = name(target, ast::ExprContext::Store);
  g->iter = iter;
  auto* n = make_node<ast::ListComp>(arena_);
  n->elt = elt;
  ast::Comprehension* gens[] = {g};
  n->generators = ast::Seq<ast::Comprehension*>(arena_.copy(std::span<ast::Comprehension* const>(gens, 1)));
  return n;
}

ast::Compare* Builder::compare(ast::ExprNode* left, ast::CmpOpKind op, ast::ExprNode* right) {
  auto* n = make_node<ast::Compare>(arena_);
  n->left = left;
  ast::CmpOpKind ops[] = {op};
  n->ops = ast::Seq<ast::CmpOpKind>(arena_.copy(std::span<const ast::CmpOpKind>(ops, 1)));
  n->comparators = seq(std::vector<ast::ExprNode*>{right});
  return n;
}

ast::BinOp* Builder::binop(ast::ExprNode* left, ast::OperatorKind op, ast::ExprNode* right) {
  auto* n = make_node<ast::BinOp>(arena_);
  n->left = left;
  n->op = op;
  n->right = right;
  return n;
}

ast::ExprNode* Builder::not_(ast::ExprNode* operand) {
  // `not a == b` reads better as `a != b` (same for is / is not, in / not in);
  // orderings are not inverted (NaN compares false both ways).
  if (auto* c = ast::as<ast::Compare>(operand); c && c->ops.size() == 1) {
    std::optional<ast::CmpOpKind> inverse;
    switch (c->ops[0]) {
      case ast::CmpOpKind::Eq: inverse = ast::CmpOpKind::NotEq; break;
      case ast::CmpOpKind::NotEq: inverse = ast::CmpOpKind::Eq; break;
      case ast::CmpOpKind::Is: inverse = ast::CmpOpKind::IsNot; break;
      case ast::CmpOpKind::IsNot: inverse = ast::CmpOpKind::Is; break;
      case ast::CmpOpKind::In: inverse = ast::CmpOpKind::NotIn; break;
      case ast::CmpOpKind::NotIn: inverse = ast::CmpOpKind::In; break;
      default: break;
    }
    if (inverse) {
      auto* n = clone(c);
      ast::CmpOpKind ops[] = {*inverse};
      n->ops = ast::Seq<ast::CmpOpKind>(arena_.copy(std::span<const ast::CmpOpKind>(ops, 1)));
      return n;
    }
  }
  auto* n = make_node<ast::UnaryOp>(arena_);
  n->op = ast::UnaryOpKind::Not;
  n->operand = operand;
  return n;
}

}  // namespace t2k::lowering
