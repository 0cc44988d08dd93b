// Node construction for rewriters: the generated Keras code is a tree built here
// and printed by syntax/unparse (STYLE.md habit 5: only the printer writes text).
// Nodes have no positions (lineno 0) unless copied from the input.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "torch2keras/analysis/const_eval.h"
#include "torch2keras/base/arena.h"
#include "torch2keras/syntax/ast.h"

namespace t2k::lowering {

class Builder {
 public:
  explicit Builder(Arena& arena) : arena_(arena) {}

  Arena& arena() { return arena_; }

  template <class T>
  ast::Seq<T> seq(const std::vector<T>& items) {
    return ast::Seq<T>(arena_.copy(std::span<const T>(items.data(), items.size())));
  }

  ast::Name* name(std::string_view id, ast::ExprContext ctx = ast::ExprContext::Load);
  ast::Attribute* attr(ast::ExprNode* value, std::string_view attr);
  // "ops.transpose" -> Attribute(Name("ops"), "transpose").
  ast::ExprNode* dotted(std::string_view path);
  ast::Call* call(ast::ExprNode* func, std::vector<ast::ExprNode*> args,
                  std::vector<ast::Keyword*> keywords = {});
  ast::Call* call(std::string_view func, std::vector<ast::ExprNode*> args,
                  std::vector<ast::Keyword*> keywords = {}) {
    return call(dotted(func), std::move(args), std::move(keywords));
  }
  ast::Keyword* keyword(std::string_view arg, ast::ExprNode* value);
  ast::Constant* integer(int64_t value);
  ast::Constant* string(std::string_view value);
  ast::Constant* floating(double value);
  ast::Constant* boolean(bool value);
  ast::Constant* none();
  ast::Constant* ellipsis();    // `...`
  ast::Slice* full_slice();     // `:`
  ast::Tuple* tuple(std::vector<ast::ExprNode*> elts);
  ast::List* list(std::vector<ast::ExprNode*> elts);
  // {k: v, ...}; a null key is `**v`.
  ast::Dict* dict(std::vector<ast::ExprNode*> keys, std::vector<ast::ExprNode*> values);
  // [elt for target in iter]
  ast::ListComp* list_comp(ast::ExprNode* elt, std::string_view target, ast::ExprNode* iter);
  ast::Subscript* subscript(ast::ExprNode* value, ast::ExprNode* index);
  // A literal for a known constant value; null for Unknown.
  ast::ExprNode* literal(const analysis::ConstValue& value);

  ast::Assign* assign(ast::ExprNode* target, ast::ExprNode* value);
  ast::Expr* expr_stmt(ast::ExprNode* value);
  ast::Return* return_stmt(ast::ExprNode* value);
  ast::If* if_stmt(ast::ExprNode* test, std::vector<ast::StmtNode*> body);
  // `for target in iter:` with `body`, no else.
  ast::For* for_stmt(ast::ExprNode* target, ast::ExprNode* iter, std::vector<ast::StmtNode*> body);
  ast::Raise* raise_stmt(ast::ExprNode* exc);
  // `lambda: body` (no parameters).
  ast::Lambda* lambda(ast::ExprNode* body);
  // `lambda p1, p2, ...: body`.
  ast::Lambda* lambda(const std::vector<std::string>& params, ast::ExprNode* body);
  // The parameters `params...` (no defaults or annotations).
  ast::Arguments* arguments(const std::vector<std::string>& params);
  // `def name(params...):` with `body`, no defaults, decorators or annotations.
  ast::FunctionDef* function_def(std::string_view name, const std::vector<std::string>& params,
                                 std::vector<ast::StmtNode*> body);
  // `class name(bases...):` with `body`, no keywords or decorators.
  ast::ClassDef* class_def(std::string_view name, std::vector<ast::ExprNode*> bases,
                           std::vector<ast::StmtNode*> body);
  // `left op right`.
  ast::Compare* compare(ast::ExprNode* left, ast::CmpOpKind op, ast::ExprNode* right);
  // `left op right`.
  ast::BinOp* binop(ast::ExprNode* left, ast::OperatorKind op, ast::ExprNode* right);
  // `not operand`, as the inverse comparison where there is one (`a != b`).
  ast::ExprNode* not_(ast::ExprNode* operand);

  // `node` with each subtree for which `replace` gives a node (searched top
  // down; a replacement is not searched again) replaced by that node. The nodes
  // above a replacement are copied, the rest are shared; `node` itself when
  // nothing is replaced.
  ast::Node* substitute(ast::Node* node, const std::function<ast::Node*(ast::Node*)>& replace);

  // A shallow copy of `node` (same children), for rewriting one field.
  template <class T>
  T* clone(const T* node) {
    return arena_.make<T>(*node);
  }

 private:
  Arena& arena_;
};

}  // namespace t2k::lowering
