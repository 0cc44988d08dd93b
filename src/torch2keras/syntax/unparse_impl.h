// The unparser's internals, shared by unparse.cc (statements, comments, layout)
// and unparse_expr.cc (expressions, patterns, string literals). Not a public
// header: the API is unparse.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/token.h"
#include "torch2keras/syntax/unparse.h"

namespace t2k::syntax::unparse_detail {

using namespace ast;

// ---- precedence ---------------------------------------------------------------

// From loosest to tightest binding. An expression printed where `ctx` is expected
// needs parentheses when its own precedence is lower than ctx.
enum class Prec : uint8_t {
  NamedExpr,  // x := e
  Tuple,      // a, b
  Yield,      // yield, yield from
  Test,       // if-else, lambda
  Or,
  And,
  Not,
  Cmp,  // comparisons, in, is
  BitOr,
  BitXor,
  BitAnd,
  Shift,
  Arith,   // + -
  Term,    // * @ / % //
  Factor,  // unary + - ~
  Power,
  Await,
  Atom,
};

inline Prec next_prec(Prec p) {
  return p == Prec::Atom ? p : static_cast<Prec>(static_cast<int>(p) + 1);
}

const char* binary_operator(OperatorKind op);  // "+", "<<", ...

// Appends a docstring: the str literal for `wtf8`, triple-quoted, with newlines
// and tabs as they are.
void docstring_literal(std::string& out, std::string_view wtf8);

// ---- comment anchors ---------------------------------------------------------------

// Where a comment prints, relative to a node (a statement, an except handler or a
// match case; null for the end of the output).
enum class Slot : uint8_t {
  Before,          // own lines before the node
  Trailing,        // end of the node's (header) line
  After,           // own lines after a simple statement
  BlockEnd,        // own lines after the last statement of block `index`
  ClauseBefore,    // own lines before the `else:`/`finally:` header `index`
  ClauseTrailing,  // end of that header line
  Decorator,       // end of the line of decorator `index`
  HeaderExtra,     // own lines just under header `index` (0: the node's own)
  End,             // the end of the output
};

// Block and clause indexes.
constexpr uint32_t kBody = 0, kOrelse = 1, kFinalbody = 2;
constexpr uint32_t kElseClause = 1, kFinallyClause = 2;

struct AnchorKey {
  const void* node;
  Slot slot;
  uint32_t index;
  bool operator<(const AnchorKey& o) const {
    return std::tie(node, slot, index) < std::tie(o.node, o.slot, o.index);
  }
};
struct Placed {
  const Comment* comment;
  bool in_span;  // on a line of code (a multi-line statement or header)
};
using Anchors = std::map<AnchorKey, std::vector<Placed>>;

// ---- the printer ---------------------------------------------------------------------

// One piece of an f-string body: literal text (braces doubled, escaped) or code
// (a replacement field's `{expr!r:`, `}`), which may not contain escapes.
struct FPart {
  std::string text;
  bool literal;
};

// How the characters of a str or bytes literal's body are written.
enum class Escapes : uint8_t {
  Repr,       // as repr() does: backslashes and unprintable characters escaped
  Docstring,  // the same, except that newlines and tabs stay raw (triple quotes)
  // As few escapes as possible, for a 3.11 f-string field where none may be: every
  // character the source can hold stays raw (VT, FF, DEL, C1 controls, U+2028...).
  // Only a backslash, NUL, CR (the source reader turns it into LF) and lone
  // surrogates (not UTF-8) are escaped, which makes the caller give up.
  Raw,
};

class Unparser {
 public:
  explicit Unparser(const UnparseOptions& options) : options_(options) {}

  // Statements at the top level; `docstring`: the first may be a docstring.
  void module(Seq<StmtNode*> body, bool docstring);
  void root_expr(const ExprNode* e);
  void function_type(const FunctionType* f);
  void other(const Node* n);
  std::string take_output() { return std::move(out_); }

 private:
  // Layout and comments.
  void place_comments(Seq<StmtNode*> body);
  void begin_line(int level) { out_.append(static_cast<std::size_t>(level) * 4, ' '); }
  void blank_lines(int count);
  std::vector<Placed> take(const void* node, Slot slot, uint32_t index);
  void comment_text(const Comment* c);
  void own_lines(const void* node, Slot slot, int level, uint32_t index = 0);
  void source_gap(int32_t line, int level);
  void printed_line(int32_t line, bool free);
  void end_line(const void* node, Slot slot, int level, uint32_t index = 0);
  void leftover_comments();
  void fix_coding_cookie();

  // Statements.
  void block(Seq<StmtNode*> body, int level, const void* owner, uint32_t field, bool docstring);
  static bool is_docstring(const StmtNode* s);
  void docstring_stmt(const Expr* s, int level);
  void stmt(const StmtNode* s, int level);
  void simple_stmt(const StmtNode* s);
  void header_end(const StmtNode* s, int level);
  void finish_simple(const StmtNode* s, int level);
  void clause(const StmtNode* s, const char* keyword, uint32_t index, Seq<StmtNode*> body,
              uint32_t field, int level);
  void decorators(const StmtNode* s, Seq<ExprNode*> list, int level);
  template <class T>
  void function_def(const T* x, const char* keyword, int level);
  template <class T>
  void for_stmt(const T* x, const char* keyword, int level);
  template <class T>
  void with_stmt(const T* x, const char* keyword, int level);
  template <class T>
  void try_stmt(const T* x, const char* except_keyword, int level);
  void if_stmt(const If* s, int level);
  void except_handler(const ExceptHandler* h, const char* keyword, int level);
  void match_case(const MatchCase* c, int level);
  void with_items(Seq<WithItem*> items);
  void with_item(const WithItem* w);
  void aliases(Seq<Alias*> names);
  void alias(const Alias* a);

  // Expressions.
  void expr(const ExprNode* e, Prec ctx);
  bool open(Prec own, Prec ctx) {
    bool paren = own < ctx;
    if (paren) out_ += '(';
    return paren;
  }
  void close(bool paren) {
    if (paren) out_ += ')';
  }
  // `star_expressions`: a bare tuple is fine, a yield is not (`return (yield)`).
  void star_expressions(const ExprNode* e) {
    bool yield = is<Yield>(e) || is<YieldFrom>(e);
    expr(e, yield ? Prec::Test : Prec::Tuple);
  }
  void expr_list(Seq<ExprNode*> items, Prec ctx);
  void constant(const Constant* c, Prec ctx);
  void number(double value, bool imaginary, Prec ctx);
  void subscript_slice(const ExprNode* slice);
  void comprehensions(Seq<Comprehension*> generators);
  void comprehension(const Comprehension* c);
  void call_arguments(Seq<ExprNode*> args, Seq<Keyword*> keywords);
  void keyword(const Keyword* k);
  void arguments(const Arguments* a, bool annotations);
  void arg(const Arg* a, bool annotation);
  void type_params(Seq<TypeParamNode*> params);
  void type_param(const TypeParamNode* p);
  void pattern(const PatternNode* p, Prec ctx);
  void patterns(Seq<PatternNode*> list);

  // Strings.
  bool in_field() const { return fstring_depth_ > 0; }
  // Inside a 3.11 field, for 3.11 output: raw characters. For 3.12 output a raw
  // control character is worse than the PEP 701 form with escapes.
  Escapes field_escapes() const { return options_.minor >= 12 ? Escapes::Repr : Escapes::Raw; }
  void field_string(std::string_view body, char prefix);
  void fstring(Seq<ExprNode*> values);
  bool fstring_311(Seq<ExprNode*> values);
  bool fstring_311_try(Seq<ExprNode*> values, int fixed_quote, std::string& text);
  // `spec`: the values of a format spec.
  void fstring_parts(Seq<ExprNode*> values, std::vector<FPart>& parts, Escapes escapes, bool spec);
  void formatted_value(const FormattedValue* f, std::vector<FPart>& parts, Escapes escapes,
                       bool after_empty);
  static bool is_empty_str(const ExprNode* e);
  std::string subexpression(const ExprNode* e);

  const UnparseOptions& options_;
  std::string out_;
  Anchors anchors_;
  // The source line of the last statement or comment printed, and whether the
  // text after it up to the next one was outside statements (blank or comments).
  int32_t last_line_ = 0;
  bool last_free_ = false;
  // While the fields of f-strings are printed the 3.11 way: how many such
  // f-strings enclose (no backslashes anywhere inside, so strings pick quotes
  // that need no escape), and the quotes (bits of kQuotes) that those which have
  // chosen one use, which nothing inside may contain.
  int fstring_depth_ = 0;
  uint8_t enclosing_quotes_ = 0;
  // Set when that failed; the f-string trying a quote then tries the next one,
  // and the outermost prints the PEP 701 way when none works.
  bool avoid_failed_ = false;
};

}  // namespace t2k::syntax::unparse_detail
