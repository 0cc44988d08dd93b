// The parser's internals, shared by parse_stmt.cc, parse_expr.cc,
// parse_pattern.cc and parse_string.cc. Not a public header.
//
// The parser is hand-written recursive descent over a fully tokenized input. It
// implements the *valid* part of CPython's PEG grammar (Grammar/python.gram); the
// `invalid_*` rules only choose error messages in CPython, so they are replaced
// here by a few targeted messages. Conventions:
//   * every parse_X returns null on failure and then leaves `pos_` unchanged
//     (PEG semantics), unless it throws ParseAbort for a hard error;
//   * grammar rules are quoted above the function that implements them (`//G`);
//   * node positions follow pegen's EXTRA: from the first token of the rule to the
//     last consumed token that is not NEWLINE/INDENT/DEDENT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/base/arena.h"
#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/parser.h"
#include "torch2keras/syntax/syntax_error.h"
#include "torch2keras/syntax/token.h"

namespace t2k::syntax {

// Thrown to abandon the parse on a hard error (already stored in Parser::error_).
struct ParseAbort {};

// How CPython's error messages name an expression ("function call", "literal").
const char* expr_name(const ast::ExprNode* e);

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Arena& arena, const ParseOptions& options,
         const std::optional<SyntaxError>& lexer_error);

  // Runs the start rule for options.mode. Returns null and sets `error` on failure.
  ast::ModNode* parse(std::optional<SyntaxError>& error);

  // The 3.11 f-string replacement field sub-parser: `fstring: star_expressions`.
  ast::ExprNode* parse_fstring_field(std::optional<SyntaxError>& error);

 private:
  using E = ast::ExprNode;
  using S = ast::StmtNode;
  using P = ast::PatternNode;

  // ---- tokens -------------------------------------------------------------
  const Token& at(std::size_t i) {
    if (i > max_pos_) max_pos_ = i;
    return tokens_[i < tokens_.size() ? i : tokens_.size() - 1];
  }
  const Token& cur() { return at(pos_); }
  TokenKind kind() { return cur().kind; }
  // Looks ahead without counting as "reached" for error locations (CPython
  // reports a generic error at the furthest token its rules consumed or tested).
  TokenKind kind_at(std::size_t i) {
    return tokens_[i < tokens_.size() ? i : tokens_.size() - 1].kind;
  }
  bool check(TokenKind k) { return kind() == k; }
  bool accept(TokenKind k) {
    if (kind() != k) return false;
    ++pos_;
    return true;
  }
  // A soft keyword ("match", "case", "_", "type") is a NAME with that text.
  bool is_soft_keyword(std::string_view word) {
    return kind() == TokenKind::NAME && cur().text == word;
  }
  std::size_t mark() const { return pos_; }
  void reset(std::size_t m) { pos_ = m; }

  // ---- nodes --------------------------------------------------------------
  ast::Loc span(std::size_t start);  // pegen's EXTRA for a rule that began at `start`
  ast::Loc token_loc(const Token& t) {
    return {t.lineno, t.col_offset, t.end_lineno, t.end_col_offset};
  }
  // (Node::kind is set through a Node*: Constant has a field named `kind`.)
  template <class T>
  T* make(std::size_t start) {
    return make_at<T>(span(start));
  }
  template <class T>
  T* make_at(const ast::Loc& loc) {
    T* n = arena_.make<T>();
    static_cast<ast::Node*>(n)->kind = T::kKind;
    n->loc = loc;
    return n;
  }
  template <class T>
  ast::Seq<T> seq(const std::vector<T>& items) {
    return ast::Seq<T>(arena_.copy(std::span<const T>(items)));
  }
  template <class T>
  ast::Seq<T> seq1(T item) {
    return ast::Seq<T>(arena_.copy(std::span<const T>(&item, 1)));
  }
  ast::Identifier identifier(const Token& name);  // NFKC-normalized
  ast::Name* name_expr(std::size_t index, ast::ExprContext ctx);

  // ---- errors -------------------------------------------------------------
  [[noreturn]] void raise(std::string message, const ast::Loc& loc,
                          SyntaxError::Kind kind = SyntaxError::Kind::SyntaxError);
  [[noreturn]] void raise_at_token(std::string message, const Token& t,
                                   SyntaxError::Kind kind = SyntaxError::Kind::SyntaxError);
  void enter();  // recursion guard
  void leave() { --depth_; }
  struct Guard {
    Parser* p;
    explicit Guard(Parser* parser) : p(parser) { p->enter(); }
    ~Guard() { p->leave(); }
  };
  SyntaxError generic_error();
  // Records that `message` explains a failure at the current token.
  // `loc`, when given, is where the message points (CPython's known location).
  void hint(std::string message, std::optional<ast::Loc> loc = std::nullopt) {
    if (pos_ >= hint_pos_) {
      hint_pos_ = pos_;
      hint_ = std::move(message);
      hint_loc_ = loc;
    }
  }
  // The message for an invalid assignment target (CPython's invalid_assignment).
  void hint_invalid_target(E* target, const char* fmt);
  void hint_missing_comma(const E* previous);
  // A token the grammar forces (`&&':'`): its absence is an immediate error.
  void expect_forced(TokenKind k, const char* message);

  // ---- statements (parse_stmt.cc) -----------------------------------------
  ast::ModNode* file();
  ast::ModNode* interactive();
  ast::ModNode* eval();
  ast::ModNode* func_type();
  bool statements(std::vector<S*>& out);
  bool statement(std::vector<S*>& out);
  bool simple_stmts(std::vector<S*>& out);
  S* simple_stmt();
  S* assignment_or_expression();
  S* compound_stmt();
  ast::Seq<S*> block(const char* what, std::size_t header);
  bool decorators(std::vector<E*>& out);
  S* function_def(std::vector<E*>* decorators, std::size_t start);
  S* class_def(std::vector<E*>* decorators, std::size_t start);
  ast::Arguments* params(bool lambda);
  ast::Arg* param(bool lambda, bool star_annotation);
  S* if_stmt(bool elif);
  void hint_condition_or_colon(E* test);
  ast::Seq<S*> else_block();
  S* while_stmt();
  S* for_stmt(std::size_t start, bool is_async);
  S* with_stmt(std::size_t start, bool is_async);
  ast::WithItem* with_item();
  S* try_stmt();
  S* import_name();
  S* import_from();
  ast::Alias* dotted_as_name();
  ast::Alias* import_from_as_name();
  S* return_stmt();
  S* raise_stmt();
  S* global_stmt(bool nonlocal);
  S* del_stmt();
  S* assert_stmt();
  S* type_alias();
  ast::Seq<ast::TypeParamNode*> type_params();
  S* match_stmt();
  ast::MatchCase* case_block();

  // ---- expressions (parse_expr.cc) ----------------------------------------
  E* expressions();
  E* expression();
  E* yield_expr();
  E* star_expressions();
  E* star_expression();
  bool star_named_expressions(std::vector<E*>& out);
  E* star_named_expression();
  E* assignment_expression();
  E* named_expression();
  E* disjunction();
  E* conjunction();
  E* bool_op_chain(E* (Parser::*operand)(), TokenKind keyword, ast::BoolOpKind op);
  E* inversion();
  E* comparison();
  E* bitwise_or();
  E* bitwise_xor();
  E* bitwise_and();
  E* shift_expr();
  E* sum();
  E* term();
  E* factor();
  E* power();
  E* await_primary();
  E* primary();
  E* primary_trailers(E* base, std::size_t start);
  E* slices();
  E* slice();
  E* atom();
  E* paren_atom();
  E* bracket_atom();
  E* brace_atom();
  E* lambdef();
  E* number(const Token& t);
  bool for_if_clauses(std::vector<ast::Comprehension*>& out);
  // `args` of a call or class header, after '(' and up to (not including) ')'.
  bool arguments(std::vector<E*>& args, std::vector<ast::Keyword*>& keywords,
                 std::optional<std::size_t> genexp_paren = std::nullopt);
  E* starred_expression();

  // Targets: parsed with the expression grammar's primary, then checked.
  E* star_targets();
  E* star_target();
  E* target_primary();  // t_primary followed by .NAME / [slices], or a star_atom
  E* del_target();
  bool is_star_target(E* e);
  bool is_single_target(E* e);
  bool is_del_target(E* e);
  void set_context(E* e, ast::ExprContext ctx);

  // ---- patterns (parse_pattern.cc) ----------------------------------------
  P* patterns();
  P* pattern();
  P* as_pattern();
  P* or_pattern();
  P* closed_pattern();
  P* literal_pattern();
  E* literal_expr();
  E* signed_number();
  E* complex_number();
  P* capture_pattern();
  E* pattern_capture_target();
  P* wildcard_pattern();
  P* value_pattern();
  E* attr();
  E* name_or_attr();
  P* group_or_sequence_pattern();
  P* list_sequence_pattern();
  bool maybe_sequence_pattern(std::vector<P*>& out);
  P* maybe_star_pattern();
  P* star_pattern();
  P* mapping_pattern();
  P* class_pattern();

  // ---- strings (parse_string.cc) ------------------------------------------
  E* strings();
  const Token& token_after_strings();
  void fstring_311(std::string_view body, std::size_t& i, bool raw, int recurse_level,
                   const Token& t, const Token& first, const Token& last,
                   struct FStringState& state);
  E* fstring_311_field(std::string_view body, std::size_t& i, bool raw, int recurse_level,
                       const Token& t, const Token& first, const Token& last,
                       std::string& expr_text);
  E* fstring_311_expression(std::string_view body, std::size_t expr_start, std::size_t expr_end,
                            const Token& t);

  // ---- PEP 701 f-strings, 3.12 mode (parse_fstring_312.cc) ----------------
  // The f-string's parts are tokens of the main stream (FSTRING_START,
  // FSTRING_MIDDLE, the fields' tokens, FSTRING_END); see lexer.cc.
  E* strings_312();
  E* string_312(const Token& t);
  E* fstring_312();
  // Appends the field's FormattedValue to `out`, preceded by the text Constant of
  // a self-documenting `{x=}` field. `nested`: the field is in a format spec;
  // `raw`: the f-string is raw (the `{x=}` text is decoded like a literal part).
  void fstring_replacement_field_312(std::vector<E*>& out, bool nested, bool raw);
  E* fstring_format_spec_312(std::size_t colon);
  E* concatenate_strings_312(const std::vector<E*>& items, const ast::Loc& loc);
  // ---- end of the 3.12 f-string block ---------------------------------------

  const std::vector<Token>& tokens_;
  Arena& arena_;
  ParseOptions options_;
  const std::optional<SyntaxError>& lexer_error_;
  std::optional<SyntaxError> error_;
  std::size_t pos_ = 0;
  std::size_t max_pos_ = 0;
  int depth_ = 0;
  std::size_t work_ = 0;  // guarded rule entries so far (see enter())
  // The furthest token at which a specific message ("expected ':'") applies; used
  // when the parse fails there with no better explanation.
  std::size_t hint_pos_ = 0;
  std::string hint_;
  std::optional<ast::Loc> hint_loc_;

  friend struct FStringState;
};

}  // namespace t2k::syntax
