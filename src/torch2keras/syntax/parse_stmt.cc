// Statements: start rules, simple and compound statements, parameters, imports.
// Grammar quotes (//G) are from CPython 3.11's Grammar/python.gram, valid rules only.
#include <cstring>

#include "torch2keras/syntax/parser_impl.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

// ---------------------------------------------------------------------------
// Start rules

//G file: [statements] ENDMARKER
ModNode* Parser::file() {
  std::vector<S*> body;
  statements(body);
  if (!check(TK::ENDMARKER)) return nullptr;
  auto* m = make_at<Module>({});
  m->body = seq(body);
  return m;
}

//G interactive: statement_newline
//G statement_newline: compound_stmt NEWLINE | simple_stmts | NEWLINE | ENDMARKER
// Source input never yields the bare NEWLINE (blank lines are skipped) and a bare
// ENDMARKER is an error. Like CPython's bad_single_statement, nothing but blank
// lines and comments may follow the statement.
ModNode* Parser::interactive() {
  std::vector<S*> body;
  if (S* s = compound_stmt()) {
    body.push_back(s);
  } else if (!simple_stmts(body)) {
    return nullptr;
  }
  for (std::size_t i = pos_;; ++i) {
    TokenKind k = kind_at(i);
    if (k == TK::ENDMARKER) break;
    if (k != TK::NEWLINE && k != TK::DEDENT) {
      raise_at_token("multiple statements found while compiling a single statement", at(i));
    }
  }
  auto* m = make_at<Interactive>({});
  m->body = seq(body);
  return m;
}

//G eval: expressions NEWLINE* ENDMARKER
ModNode* Parser::eval() {
  E* e = expressions();
  if (e == nullptr) return nullptr;
  while (accept(TK::NEWLINE)) {
  }
  if (!check(TK::ENDMARKER)) return nullptr;
  auto* m = make_at<Expression>({});
  m->body = e;
  return m;
}

//G func_type: '(' [type_expressions] ')' '->' expression NEWLINE* ENDMARKER
//G type_expressions: ','.expression+ [',' '*' expression] [',' '**' expression]
//G                 | '*' expression [',' '**' expression] | '**' expression
// The starred entries are kept as plain expressions, as CPython does.
ModNode* Parser::func_type() {
  if (!accept(TK::LPAR)) return nullptr;
  std::vector<E*> argtypes;
  int stage = 0;  // 0: plain entries, 1: after '*' entry, 2: after '**' entry
  while (!check(TK::RPAR)) {
    if (!argtypes.empty() && !accept(TK::COMMA)) return nullptr;
    if (accept(TK::STAR)) {
      if (stage != 0) return nullptr;
      stage = 1;
    } else if (accept(TK::DOUBLESTAR)) {
      if (stage == 2) return nullptr;
      stage = 2;
    } else if (stage != 0) {
      return nullptr;
    }
    E* e = expression();
    if (e == nullptr) return nullptr;
    argtypes.push_back(e);
  }
  ++pos_;
  if (!accept(TK::RARROW)) return nullptr;
  E* returns = expression();
  if (returns == nullptr) return nullptr;
  while (accept(TK::NEWLINE)) {
  }
  if (!check(TK::ENDMARKER)) return nullptr;
  auto* m = make_at<FunctionType>({});
  m->argtypes = seq(argtypes);
  m->returns = returns;
  return m;
}

//G statements: statement+
bool Parser::statements(std::vector<S*>& out) {
  std::size_t before = out.size();
  while (statement(out)) {
  }
  return out.size() > before;
}

//G statement: compound_stmt | simple_stmts
bool Parser::statement(std::vector<S*>& out) {
  if (S* s = compound_stmt()) {
    out.push_back(s);
    return true;
  }
  return simple_stmts(out);
}

//G simple_stmts: ';'.simple_stmt+ [';'] NEWLINE
bool Parser::simple_stmts(std::vector<S*>& out) {
  std::size_t start = mark();
  std::size_t before = out.size();
  for (;;) {
    S* s = simple_stmt();
    if (s == nullptr) break;
    out.push_back(s);
    if (!accept(TK::SEMI)) break;
  }
  if (out.size() > before && accept(TK::NEWLINE)) return true;
  out.resize(before);
  reset(start);
  return false;
}

//G simple_stmt: assignment | star_expressions | return_stmt | import_stmt | raise_stmt
//G            | 'pass' | del_stmt | yield_stmt | assert_stmt | 'break' | 'continue'
//G            | global_stmt | nonlocal_stmt
StmtNode* Parser::simple_stmt() {
  std::size_t start = mark();
  switch (kind()) {
    case TK::KW_RETURN: return return_stmt();
    case TK::KW_IMPORT: return import_name();
    case TK::KW_FROM: return import_from();
    case TK::KW_RAISE: return raise_stmt();
    case TK::KW_PASS: ++pos_; return make<Pass>(start);
    case TK::KW_BREAK: ++pos_; return make<Break>(start);
    case TK::KW_CONTINUE: ++pos_; return make<Continue>(start);
    case TK::KW_DEL: return del_stmt();
    case TK::KW_ASSERT: return assert_stmt();
    case TK::KW_GLOBAL: return global_stmt(false);
    case TK::KW_NONLOCAL: return global_stmt(true);
    case TK::KW_YIELD: {
      //G yield_stmt: yield_expr
      E* y = yield_expr();
      if (y == nullptr) return nullptr;
      auto* s = make<Expr>(start);
      s->value = y;
      return s;
    }
    default: break;
  }
  if (options_.minor >= 12 && is_soft_keyword("type") && kind_at(pos_ + 1) == TK::NAME) {
    if (S* s = type_alias()) return s;
  }
  return assignment_or_expression();
}

namespace {
bool augassign_operator(TokenKind k, OperatorKind& op) {
  switch (k) {
    case TK::PLUSEQUAL: op = OperatorKind::Add; return true;
    case TK::MINEQUAL: op = OperatorKind::Sub; return true;
    case TK::STAREQUAL: op = OperatorKind::Mult; return true;
    case TK::ATEQUAL: op = OperatorKind::MatMult; return true;
    case TK::SLASHEQUAL: op = OperatorKind::Div; return true;
    case TK::PERCENTEQUAL: op = OperatorKind::Mod; return true;
    case TK::AMPEREQUAL: op = OperatorKind::BitAnd; return true;
    case TK::VBAREQUAL: op = OperatorKind::BitOr; return true;
    case TK::CIRCUMFLEXEQUAL: op = OperatorKind::BitXor; return true;
    case TK::LEFTSHIFTEQUAL: op = OperatorKind::LShift; return true;
    case TK::RIGHTSHIFTEQUAL: op = OperatorKind::RShift; return true;
    case TK::DOUBLESTAREQUAL: op = OperatorKind::Pow; return true;
    case TK::DOUBLESLASHEQUAL: op = OperatorKind::FloorDiv; return true;
    default: return false;
  }
}
}  // namespace

namespace {
// Whether `e` can be a `bitwise_or` other than the forms CPython's
// invalid_named_expression excludes (list, tuple, genexp, True, None, False).
bool is_bitwise_or_level(const ExprNode* e) {
  switch (e->kind) {
    case NodeKind::Compare:
    case NodeKind::BoolOp:
    case NodeKind::IfExp:
    case NodeKind::Lambda:
    case NodeKind::NamedExpr:
    case NodeKind::Starred:
    case NodeKind::List:
    case NodeKind::Tuple:
    case NodeKind::GeneratorExp:
      return (e->flags & kParenthesized) != 0 && !is<List>(e) && !is<Tuple>(e) &&
             !is<GeneratorExp>(e);
    case NodeKind::UnaryOp:
      return static_cast<const UnaryOp*>(e)->op != UnaryOpKind::Not ||
             (e->flags & kParenthesized) != 0;
    case NodeKind::Constant: {
      auto k = static_cast<const Constant*>(e)->value.kind;
      return k != ConstantValue::Kind::True && k != ConstantValue::Kind::False &&
             k != ConstantValue::Kind::None;
    }
    default: return true;
  }
}
}  // namespace

// The assignment rule and the expression statement, decided after parsing the
// leading star_expressions once (every assignment target is also an expression):
//G assignment:
//G     | NAME ':' expression ['=' annotated_rhs]
//G     | ('(' single_target ')' | single_subscript_attribute_target) ':' expression
//G       ['=' annotated_rhs]
//G     | (star_targets '=')+ (yield_expr | star_expressions) !'='
//G     | single_target augassign ~ (yield_expr | star_expressions)
//G annotated_rhs: yield_expr | star_expressions
StmtNode* Parser::assignment_or_expression() {
  std::size_t start = mark();
  E* first = star_expressions();
  if (first == nullptr) return nullptr;
  auto rhs = [&]() -> E* {
    if (E* y = yield_expr()) return y;
    return star_expressions();
  };

  if (check(TK::COLON)) {
    if (!is_single_target(first)) {
      if (is<Tuple>(first) || is<List>(first)) {
        hint(std::string("only single target (not ") + (is<List>(first) ? "list" : "tuple") +
                 ") can be annotated",
             first->loc);
      } else {
        hint("illegal target for annotation", first->loc);
      }
      reset(start);
      return nullptr;
    }
    ++pos_;
    E* annotation = expression();
    if (annotation == nullptr) {
      reset(start);
      return nullptr;
    }
    E* value = nullptr;
    if (accept(TK::EQUAL)) {
      value = rhs();
      if (value == nullptr) {
        reset(start);
        return nullptr;
      }
    }
    set_context(first, ExprContext::Store);
    auto* s = make<AnnAssign>(start);
    s->target = first;
    s->annotation = annotation;
    s->value = value;
    s->simple = (is<Name>(first) && (first->flags & kParenthesized) == 0) ? 1 : 0;
    return s;
  }

  if (check(TK::EQUAL)) {
    std::vector<E*> targets{first};
    E* value = nullptr;
    while (accept(TK::EQUAL)) {
      value = rhs();
      if (value == nullptr) {
        reset(start);
        return nullptr;
      }
      if (check(TK::EQUAL)) targets.push_back(value);
    }
    for (E* t : targets) {
      if (!is_star_target(t)) {
        if (is<Yield>(t) || is<YieldFrom>(t)) {
          hint("assignment to yield expression not possible", t->loc);
        } else if (targets.size() == 1 && is_bitwise_or_level(t)) {
          // CPython's invalid_named_expression: `f() = 1` reads as a typo for `==`.
          hint(std::string("cannot assign to ") + expr_name(t) +
                   " here. Maybe you meant '==' instead of '='?",
               t->loc);
        } else {
          hint_invalid_target(t, "cannot assign to %s");
        }
        reset(start);
        return nullptr;
      }
    }
    for (E* t : targets) set_context(t, ExprContext::Store);
    auto* s = make<Assign>(start);
    s->targets = seq(targets);
    s->value = value;
    return s;
  }

  OperatorKind op;
  if (augassign_operator(kind(), op)) {
    if (!is_single_target(first)) {
      hint(std::string("'") + expr_name(first) +
               "' is an illegal expression for augmented assignment",
           first->loc);
      reset(start);
      return nullptr;
    }
    ++pos_;
    E* value = rhs();
    if (value == nullptr) {
      reset(start);
      return nullptr;
    }
    set_context(first, ExprContext::Store);
    auto* s = make<AugAssign>(start);
    s->target = first;
    s->op = op;
    s->value = value;
    return s;
  }

  // CPython's invalid_legacy_expression: `print x` and `exec x`.
  if (auto* n = as<Name>(first); n != nullptr && (n->id == "print" || n->id == "exec") &&
                                 !check(TK::NEWLINE) && !check(TK::SEMI)) {
    std::size_t after = mark();
    if (star_expressions() != nullptr) {
      hint(std::string("Missing parentheses in call to '") + std::string(n->id) +
               "'. Did you mean " + std::string(n->id) + "(...)?",
           Loc{first->loc.lineno, first->loc.col_offset, at(pos_ - 1).end_lineno,
               at(pos_ - 1).end_col_offset});
    }
    reset(after);
  }
  auto* s = make<Expr>(start);
  s->value = first;
  return s;
}

//G return_stmt: 'return' [star_expressions]
StmtNode* Parser::return_stmt() {
  std::size_t start = mark();
  ++pos_;
  E* value = star_expressions();
  auto* s = make<Return>(start);
  s->value = value;
  return s;
}

//G raise_stmt: 'raise' expression ['from' expression] | 'raise'
StmtNode* Parser::raise_stmt() {
  std::size_t start = mark();
  ++pos_;
  E* exc = expression();
  E* cause = nullptr;
  if (exc != nullptr && accept(TK::KW_FROM)) {
    cause = expression();
    if (cause == nullptr) {
      reset(start);
      return nullptr;
    }
  }
  auto* s = make<Raise>(start);
  s->exc = exc;
  s->cause = cause;
  return s;
}

//G global_stmt: 'global' ','.NAME+
//G nonlocal_stmt: 'nonlocal' ','.NAME+
StmtNode* Parser::global_stmt(bool nonlocal) {
  std::size_t start = mark();
  ++pos_;
  std::vector<Identifier> names;
  do {
    if (!check(TK::NAME)) {
      reset(start);
      return nullptr;
    }
    names.push_back(identifier(cur()));
    ++pos_;
  } while (accept(TK::COMMA));
  auto fill = [&](auto* s) -> StmtNode* {
    s->names = seq(names);
    return s;
  };
  return nonlocal ? fill(make<Nonlocal>(start)) : fill(make<Global>(start));
}

//G del_stmt: 'del' del_targets &(';' | NEWLINE)
//G del_targets: ','.del_target+ [',']
StmtNode* Parser::del_stmt() {
  std::size_t start = mark();
  ++pos_;
  std::vector<E*> targets;
  for (;;) {
    E* t = del_target();
    if (t == nullptr) break;
    targets.push_back(t);
    if (!accept(TK::COMMA)) break;
  }
  if (targets.empty() || !(check(TK::SEMI) || check(TK::NEWLINE))) {
    reset(start);
    return nullptr;
  }
  auto* s = make<Delete>(start);
  s->targets = seq(targets);
  return s;
}

//G assert_stmt: 'assert' expression [',' expression]
StmtNode* Parser::assert_stmt() {
  std::size_t start = mark();
  ++pos_;
  E* test = expression();
  if (test == nullptr) {
    reset(start);
    return nullptr;
  }
  E* msg = nullptr;
  if (accept(TK::COMMA)) {
    msg = expression();
    if (msg == nullptr) {
      reset(start);
      return nullptr;
    }
  }
  auto* s = make<Assert>(start);
  s->test = test;
  s->msg = msg;
  return s;
}

// ---------------------------------------------------------------------------
// Imports

namespace {
// Joins a dotted name's parts: CPython builds "a.b.c" from the normalized parts.
Identifier join_dotted(Arena& arena, const std::vector<Identifier>& parts) {
  if (parts.size() == 1) return parts[0];
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) joined += '.';
    joined.append(parts[i]);
  }
  return arena.copy_string(joined);
}
}  // namespace

//G import_name: 'import' dotted_as_names
//G dotted_as_names: ','.dotted_as_name+
StmtNode* Parser::import_name() {
  std::size_t start = mark();
  ++pos_;
  std::vector<Alias*> names;
  do {
    Alias* a = dotted_as_name();
    if (a == nullptr) {
      reset(start);
      return nullptr;
    }
    names.push_back(a);
  } while (accept(TK::COMMA));
  auto* s = make<Import>(start);
  s->names = seq(names);
  return s;
}

//G dotted_as_name: dotted_name ['as' NAME]
//G dotted_name: dotted_name '.' NAME | NAME
Alias* Parser::dotted_as_name() {
  std::size_t start = mark();
  std::vector<Identifier> parts;
  if (!check(TK::NAME)) return nullptr;
  parts.push_back(identifier(cur()));
  ++pos_;
  while (check(TK::DOT) && kind_at(pos_ + 1) == TK::NAME) {
    ++pos_;
    parts.push_back(identifier(cur()));
    ++pos_;
  }
  Identifier asname;
  if (check(TK::KW_AS)) {
    if (kind_at(pos_ + 1) != TK::NAME) {
      reset(start);
      return nullptr;
    }
    ++pos_;
    asname = identifier(cur());
    ++pos_;
  }
  auto* a = make<Alias>(start);
  a->name = join_dotted(arena_, parts);
  a->asname = asname;
  return a;
}

//G import_from:
//G     | 'from' ('.' | '...')* dotted_name 'import' import_from_targets
//G     | 'from' ('.' | '...')+ 'import' import_from_targets
//G import_from_targets:
//G     | '(' import_from_as_names [','] ')'
//G     | import_from_as_names !','
//G     | '*'
StmtNode* Parser::import_from() {
  std::size_t start = mark();
  ++pos_;
  int level = 0;
  for (;;) {
    if (accept(TK::DOT)) {
      level += 1;
    } else if (accept(TK::ELLIPSIS)) {
      level += 3;
    } else {
      break;
    }
  }
  Identifier module;
  if (check(TK::NAME)) {
    std::vector<Identifier> parts{identifier(cur())};
    ++pos_;
    while (check(TK::DOT) && kind_at(pos_ + 1) == TK::NAME) {
      ++pos_;
      parts.push_back(identifier(cur()));
      ++pos_;
    }
    module = join_dotted(arena_, parts);
  } else if (level == 0) {
    reset(start);
    return nullptr;
  }
  if (!accept(TK::KW_IMPORT)) {
    reset(start);
    return nullptr;
  }
  std::vector<Alias*> names;
  if (check(TK::STAR)) {
    auto* a = make_at<Alias>(token_loc(cur()));
    a->name = "*";
    ++pos_;
    names.push_back(a);
  } else {
    bool parenthesized = accept(TK::LPAR);
    for (;;) {
      Alias* a = import_from_as_name();
      if (a == nullptr) break;
      names.push_back(a);
      if (!check(TK::COMMA)) break;
      if (!parenthesized && kind_at(pos_ + 1) != TK::NAME) {
        hint("trailing comma not allowed without surrounding parentheses");
        break;
      }
      ++pos_;
    }
    if (names.empty() || (parenthesized && !accept(TK::RPAR)) ||
        (!parenthesized && check(TK::COMMA))) {
      reset(start);
      return nullptr;
    }
  }
  auto* s = make<ImportFrom>(start);
  s->module = module;
  s->names = seq(names);
  s->level = level;
  return s;
}

//G import_from_as_name: NAME ['as' NAME]
Alias* Parser::import_from_as_name() {
  std::size_t start = mark();
  if (!check(TK::NAME)) return nullptr;
  Identifier name = identifier(cur());
  ++pos_;
  Identifier asname;
  if (check(TK::KW_AS)) {
    if (kind_at(pos_ + 1) != TK::NAME) {
      reset(start);
      return nullptr;
    }
    ++pos_;
    asname = identifier(cur());
    ++pos_;
  }
  auto* a = make<Alias>(start);
  a->name = name;
  a->asname = asname;
  return a;
}

// ---------------------------------------------------------------------------
// Compound statements

//G compound_stmt: function_def | if_stmt | class_def | with_stmt | for_stmt
//G              | try_stmt | while_stmt | match_stmt
StmtNode* Parser::compound_stmt() {
  std::size_t start = mark();
  switch (kind()) {
    case TK::AT: {
      std::vector<E*> decos;
      if (!decorators(decos)) return nullptr;
      S* s = nullptr;
      if (check(TK::KW_CLASS)) {
        s = class_def(&decos, start);
      } else {
        s = function_def(&decos, start);
      }
      if (s == nullptr) reset(start);
      return s;
    }
    case TK::KW_DEF: return function_def(nullptr, start);
    case TK::KW_ASYNC:
      switch (kind_at(pos_ + 1)) {
        case TK::KW_DEF: return function_def(nullptr, start);
        case TK::KW_WITH: ++pos_; return with_stmt(start, true);
        case TK::KW_FOR: ++pos_; return for_stmt(start, true);
        default: return nullptr;
      }
    case TK::KW_IF: return if_stmt(false);
    case TK::KW_CLASS: return class_def(nullptr, start);
    case TK::KW_WITH: return with_stmt(start, false);
    case TK::KW_FOR: return for_stmt(start, false);
    case TK::KW_TRY: return try_stmt();
    case TK::KW_WHILE: return while_stmt();
    case TK::NAME:
      if (cur().text == "match") return match_stmt();
      return nullptr;
    default: return nullptr;
  }
}

//G block: NEWLINE INDENT statements DEDENT | simple_stmts
// `what` names the statement for CPython's "expected an indented block after ..."
// and `header` is its first token.
Seq<StmtNode*> Parser::block(const char* what, std::size_t header) {
  std::size_t start = mark();
  std::vector<S*> body;
  if (accept(TK::NEWLINE)) {
    if (!accept(TK::INDENT)) {
      std::string message = std::string("expected an indented block after ") + what +
                            " on line " + std::to_string(at(header).lineno);
      raise_at_token(message, cur(), SyntaxError::Kind::IndentationError);
    }
    if (!statements(body) || !accept(TK::DEDENT)) {
      reset(start);
      return {};
    }
    return seq(body);
  }
  if (!simple_stmts(body)) {
    reset(start);
    return {};
  }
  return seq(body);
}

//G decorators: ('@' named_expression NEWLINE)+
bool Parser::decorators(std::vector<E*>& out) {
  std::size_t start = mark();
  while (accept(TK::AT)) {
    E* e = named_expression();
    if (e == nullptr || !accept(TK::NEWLINE)) {
      reset(start);
      out.clear();
      return false;
    }
    out.push_back(e);
  }
  return !out.empty();
}

void Parser::expect_forced(TokenKind k, const char* message) {
  if (!accept(k)) raise_at_token(message, cur());
}

//G function_def_raw:
//G     | 'def' NAME [type_params] &&'(' [params] ')' ['->' expression] &&':' block
//G     | ASYNC 'def' NAME [type_params] &&'(' [params] ')' ['->' expression] &&':' block
// The node starts at 'def' (or 'async'), not at the decorators.
StmtNode* Parser::function_def(std::vector<E*>* decos, std::size_t outer_start) {
  std::size_t start = mark();
  bool is_async = accept(TK::KW_ASYNC);
  if (!accept(TK::KW_DEF) || !check(TK::NAME)) {
    reset(outer_start);
    return nullptr;
  }
  Identifier name = identifier(cur());
  ++pos_;
  Seq<TypeParamNode*> tparams;
  if (options_.minor >= 12 && check(TK::LSQB)) tparams = type_params();
  expect_forced(TK::LPAR, "expected '('");
  Arguments* args = params(false);
  if (args == nullptr || !accept(TK::RPAR)) {
    reset(outer_start);
    return nullptr;
  }
  E* returns = nullptr;
  if (accept(TK::RARROW)) {
    returns = expression();
    if (returns == nullptr) {
      reset(outer_start);
      return nullptr;
    }
  }
  expect_forced(TK::COLON, "expected ':'");
  Seq<S*> body = block("function definition", start);
  if (body.empty()) {
    reset(outer_start);
    return nullptr;
  }
  auto fill = [&](auto* s) -> StmtNode* {
    s->name = name;
    s->args = args;
    s->body = body;
    if (decos != nullptr) s->decorator_list = seq(*decos);
    s->returns = returns;
    s->type_params = tparams;
    return s;
  };
  return is_async ? fill(make<AsyncFunctionDef>(start)) : fill(make<FunctionDef>(start));
}

//G class_def_raw: 'class' NAME [type_params] ['(' [arguments] ')'] ':' block
StmtNode* Parser::class_def(std::vector<E*>* decos, std::size_t outer_start) {
  std::size_t start = mark();
  if (!accept(TK::KW_CLASS) || !check(TK::NAME)) {
    reset(outer_start);
    return nullptr;
  }
  Identifier name = identifier(cur());
  ++pos_;
  Seq<TypeParamNode*> tparams;
  if (options_.minor >= 12 && check(TK::LSQB)) tparams = type_params();
  std::vector<E*> bases;
  std::vector<Keyword*> keywords;
  if (accept(TK::LPAR)) {
    if (!arguments(bases, keywords) || !accept(TK::RPAR)) {
      reset(outer_start);
      return nullptr;
    }
  }
  if (!accept(TK::COLON)) {
    hint("expected ':'");
    reset(outer_start);
    return nullptr;
  }
  Seq<S*> body = block("class definition", start);
  if (body.empty()) {
    reset(outer_start);
    return nullptr;
  }
  auto* s = make<ClassDef>(start);
  s->name = name;
  s->bases = seq(bases);
  s->keywords = seq(keywords);
  s->body = body;
  if (decos != nullptr) s->decorator_list = seq(*decos);
  s->type_params = tparams;
  return s;
}

//G param: NAME annotation?
//G annotation: ':' expression
//G star_annotation: ':' star_expression      (for `*args: *Ts`, 3.11)
//G lambda_param: NAME
Arg* Parser::param(bool lambda, bool star_annotation) {
  std::size_t start = mark();
  if (!check(TK::NAME)) return nullptr;
  Identifier name = identifier(cur());
  ++pos_;
  E* annotation = nullptr;
  if (!lambda && accept(TK::COLON)) {
    annotation = star_annotation ? star_expression() : expression();
    if (annotation == nullptr) {
      reset(start);
      return nullptr;
    }
  }
  auto* a = make<Arg>(start);
  a->arg = name;
  a->annotation = annotation;
  return a;
}

// The parameter list of a def (up to ')') or a lambda (up to ':'). Implements
// CPython's `parameters` / `lambda_parameters` rules:
//G parameters:
//G     | slash_no_default param_no_default* param_with_default* [star_etc]
//G     | slash_with_default param_with_default* [star_etc]
//G     | param_no_default+ param_with_default* [star_etc]
//G     | param_with_default+ [star_etc]
//G     | star_etc
//G star_etc:
//G     | '*' param_no_default param_maybe_default* [kwds]
//G     | '*' param_no_default_star_annotation param_maybe_default* [kwds]
//G     | '*' ',' param_maybe_default+ [kwds]
//G     | kwds
//G kwds: '**' param_no_default
// Every parameter is followed by ',' or by the closing token (')' or ':').
Arguments* Parser::params(bool lambda) {
  std::size_t start = mark();
  TokenKind close = lambda ? TK::COLON : TK::RPAR;
  auto* args = make_at<Arguments>({});
  std::vector<Arg*> positional, posonly, kwonly;
  std::vector<E*> defaults, kw_defaults;
  Arg* vararg = nullptr;
  Arg* kwarg = nullptr;
  auto fail = [&]() -> Arguments* {
    reset(start);
    return nullptr;
  };
  // After a parameter: ',' or (without consuming) the closing token.
  auto separator = [&]() -> bool { return accept(TK::COMMA) || check(close); };
  auto parse_default = [&](E*& out) -> bool {
    out = nullptr;
    if (!accept(TK::EQUAL)) return true;
    out = expression();
    return out != nullptr;
  };

  bool seen_default = false;
  bool seen_slash = false;
  while (check(TK::NAME)) {
    Arg* a = param(lambda, false);
    if (a == nullptr) return fail();
    E* def = nullptr;
    if (!parse_default(def)) return fail();
    if (def != nullptr) {
      seen_default = true;
      defaults.push_back(def);
    } else if (seen_default) {
      hint("non-default argument follows default argument", a->loc);
      return fail();
    }
    positional.push_back(a);
    if (!separator()) return fail();
    if (check(TK::SLASH)) {
      if (seen_slash) {
        hint("/ may appear only once", token_loc(cur()));
        return fail();
      }
      ++pos_;
      if (!separator()) return fail();
      seen_slash = true;
      posonly.insert(posonly.end(), positional.begin(), positional.end());
      positional.clear();
    }
  }
  if (check(TK::SLASH)) {
    hint(seen_slash ? "/ may appear only once" : "at least one argument must precede /",
         token_loc(cur()));
    return fail();
  }
  if (check(TK::STAR)) {
    Loc star = token_loc(cur());
    ++pos_;
    if (accept(TK::COMMA)) {
      if (!check(TK::NAME)) {
        hint("named arguments must follow bare *", star);
        return fail();
      }
    } else if (check(close)) {
      hint("named arguments must follow bare *", star);
      return fail();
    } else {
      vararg = param(lambda, options_.minor >= 11);
      if (vararg == nullptr || !separator()) return fail();
    }
    while (check(TK::NAME)) {
      Arg* a = param(lambda, false);
      if (a == nullptr) return fail();
      E* def = nullptr;
      if (!parse_default(def)) return fail();
      kwonly.push_back(a);
      kw_defaults.push_back(def);
      if (!separator()) return fail();
    }
  }
  if (check(TK::DOUBLESTAR)) {
    ++pos_;
    kwarg = param(lambda, false);
    if (kwarg == nullptr || !separator()) return fail();
    if (check(TK::NAME) || check(TK::STAR) || check(TK::DOUBLESTAR) || check(TK::SLASH)) {
      hint("arguments cannot follow var-keyword argument", token_loc(cur()));
    }
  }
  if (!check(close)) return fail();
  args->posonlyargs = seq(posonly);
  args->args = seq(positional);
  args->vararg = vararg;
  args->kwonlyargs = seq(kwonly);
  args->kw_defaults = seq(kw_defaults);
  args->kwarg = kwarg;
  args->defaults = seq(defaults);
  return args;
}

//G if_stmt: 'if' named_expression ':' block (elif_stmt | [else_block])
//G elif_stmt: 'elif' named_expression ':' block (elif_stmt | [else_block])
StmtNode* Parser::if_stmt(bool elif) {
  std::size_t start = mark();
  ++pos_;  // 'if' or 'elif'
  E* test = named_expression();
  if (test == nullptr) {
    reset(start);
    return nullptr;
  }
  if (!accept(TK::COLON)) {
    hint_condition_or_colon(test);
    reset(start);
    return nullptr;
  }
  Seq<S*> body = block(elif ? "'elif' statement" : "'if' statement", start);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  Seq<S*> orelse;
  if (check(TK::KW_ELIF)) {
    S* nested = if_stmt(true);
    if (nested == nullptr) {
      reset(start);
      return nullptr;
    }
    orelse = seq1<S*>(nested);
  } else if (check(TK::KW_ELSE)) {
    orelse = else_block();
    if (orelse.empty()) {
      reset(start);
      return nullptr;
    }
  }
  auto* s = make<If>(start);
  s->test = test;
  s->body = body;
  s->orelse = orelse;
  return s;
}

// After an `if`/`elif`/`while` condition that is not followed by ':'. CPython's
// invalid_named_expression explains `if x = 1:`.
void Parser::hint_condition_or_colon(E* test) {
  if (check(TK::EQUAL) && is<Name>(test)) {
    hint("invalid syntax. Maybe you meant '==' or ':=' instead of '='?", test->loc);
  } else if (check(TK::EQUAL)) {
    hint(std::string("cannot assign to ") + expr_name(test) +
             " here. Maybe you meant '==' instead of '='?",
         test->loc);
  } else {
    hint("expected ':'");
  }
}

//G else_block: 'else' &&':' block
Seq<StmtNode*> Parser::else_block() {
  std::size_t start = mark();
  if (!accept(TK::KW_ELSE)) return {};
  expect_forced(TK::COLON, "expected ':'");
  Seq<S*> body = block("'else' statement", start);
  if (body.empty()) reset(start);
  return body;
}

//G while_stmt: 'while' named_expression ':' block [else_block]
StmtNode* Parser::while_stmt() {
  std::size_t start = mark();
  ++pos_;
  E* test = named_expression();
  if (test == nullptr) {
    reset(start);
    return nullptr;
  }
  if (!accept(TK::COLON)) {
    hint_condition_or_colon(test);
    reset(start);
    return nullptr;
  }
  Seq<S*> body = block("'while' statement", start);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  Seq<S*> orelse;
  if (check(TK::KW_ELSE)) {
    orelse = else_block();
    if (orelse.empty()) {
      reset(start);
      return nullptr;
    }
  }
  auto* s = make<While>(start);
  s->test = test;
  s->body = body;
  s->orelse = orelse;
  return s;
}

//G for_stmt: [ASYNC] 'for' star_targets 'in' ~ star_expressions ':' block [else_block]
StmtNode* Parser::for_stmt(std::size_t start, bool is_async) {
  std::size_t for_token = mark();
  ++pos_;  // 'for'
  E* target = star_targets();
  if (target == nullptr || !accept(TK::KW_IN)) {
    reset(start);
    return nullptr;
  }
  E* iter = star_expressions();
  if (iter == nullptr) {
    reset(start);
    return nullptr;
  }
  if (!accept(TK::COLON)) {
    hint("expected ':'");
    reset(start);
    return nullptr;
  }
  Seq<S*> body = block("'for' statement", for_token);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  Seq<S*> orelse;
  if (check(TK::KW_ELSE)) {
    orelse = else_block();
    if (orelse.empty()) {
      reset(start);
      return nullptr;
    }
  }
  auto fill = [&](auto* s) -> StmtNode* {
    s->target = target;
    s->iter = iter;
    s->body = body;
    s->orelse = orelse;
    return s;
  };
  return is_async ? fill(make<AsyncFor>(start)) : fill(make<For>(start));
}

//G with_stmt:
//G     | [ASYNC] 'with' '(' ','.with_item+ ','? ')' ':' block
//G     | [ASYNC] 'with' ','.with_item+ ':' block
StmtNode* Parser::with_stmt(std::size_t start, bool is_async) {
  std::size_t with_token = mark();
  ++pos_;  // 'with'
  std::size_t after_with = mark();
  std::vector<WithItem*> items;
  bool ok = false;
  // The parenthesized form first, as in CPython; fall back to the plain form.
  if (accept(TK::LPAR)) {
    for (;;) {
      WithItem* item = with_item();
      if (item == nullptr) break;
      items.push_back(item);
      if (!accept(TK::COMMA)) break;
    }
    ok = !items.empty() && accept(TK::RPAR) && accept(TK::COLON);
    if (!ok) {
      items.clear();
      reset(after_with);
    }
  }
  if (!ok) {
    for (;;) {
      WithItem* item = with_item();
      if (item == nullptr) break;
      items.push_back(item);
      if (!accept(TK::COMMA)) break;
    }
    ok = !items.empty() && accept(TK::COLON);
    if (!ok) {
      hint("expected ':'");
      reset(start);
      return nullptr;
    }
  }
  Seq<S*> body = block("'with' statement", with_token);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  auto fill = [&](auto* s) -> StmtNode* {
    s->items = seq(items);
    s->body = body;
    return s;
  };
  return is_async ? fill(make<AsyncWith>(start)) : fill(make<With>(start));
}

//G with_item: expression 'as' star_target &(',' | ')' | ':') | expression
WithItem* Parser::with_item() {
  std::size_t start = mark();
  E* e = expression();
  if (e == nullptr) return nullptr;
  auto* item = make_at<WithItem>({});
  item->context_expr = e;
  std::size_t after = mark();
  if (accept(TK::KW_AS)) {
    E* target = star_target();
    if (target != nullptr && (check(TK::COMMA) || check(TK::RPAR) || check(TK::COLON))) {
      item->optional_vars = target;
      return item;
    }
    if (target != nullptr && check(TK::NEWLINE)) hint("expected ':'", token_loc(cur()));
    reset(after);
  }
  (void)start;
  return item;
}

//G try_stmt:
//G     | 'try' &&':' block finally_block
//G     | 'try' &&':' block except_block+ [else_block] [finally_block]
//G     | 'try' &&':' block except_star_block+ [else_block] [finally_block]
//G except_block: 'except' expression ['as' NAME] ':' block | 'except' ':' block
//G except_star_block: 'except' '*' expression ['as' NAME] ':' block
//G finally_block: 'finally' &&':' block
StmtNode* Parser::try_stmt() {
  std::size_t start = mark();
  ++pos_;
  expect_forced(TK::COLON, "expected ':'");
  Seq<S*> body = block("'try' statement", start);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  std::vector<ExceptHandler*> handlers;
  int star = -1;  // unknown until the first handler
  while (check(TK::KW_EXCEPT)) {
    std::size_t h = mark();
    ++pos_;
    bool this_star = accept(TK::STAR);
    if (star != -1 && this_star != (star == 1)) {
      hint("cannot have both 'except' and 'except*' on the same 'try'");
      reset(h);
      break;
    }
    E* type = nullptr;
    Identifier name;
    if (this_star || !check(TK::COLON)) {
      type = expression();
      if (type == nullptr) {
        reset(h);
        break;
      }
      if (accept(TK::KW_AS)) {
        if (!check(TK::NAME)) {
          reset(h);
          break;
        }
        name = identifier(cur());
        ++pos_;
      }
    }
    if (!accept(TK::COLON)) {
      hint("expected ':'");
      reset(h);
      break;
    }
    Seq<S*> hbody = block(this_star ? "'except*' statement" : "'except' statement", h);
    if (hbody.empty()) {
      reset(h);
      break;
    }
    star = this_star ? 1 : 0;
    auto* handler = make<ExceptHandler>(h);
    handler->type = type;
    handler->name = name;
    handler->body = hbody;
    handlers.push_back(handler);
  }
  Seq<S*> orelse;
  if (!handlers.empty() && check(TK::KW_ELSE)) {
    orelse = else_block();
    if (orelse.empty()) {
      reset(start);
      return nullptr;
    }
  }
  Seq<S*> finalbody;
  if (check(TK::KW_FINALLY)) {
    std::size_t f = mark();
    ++pos_;
    expect_forced(TK::COLON, "expected ':'");
    finalbody = block("'finally' statement", f);
    if (finalbody.empty()) {
      reset(start);
      return nullptr;
    }
  }
  if (handlers.empty() && finalbody.empty()) {
    hint("expected 'except' or 'finally' block");
    reset(start);
    return nullptr;
  }
  auto fill = [&](auto* s) -> StmtNode* {
    s->body = body;
    s->handlers = seq(handlers);
    s->orelse = orelse;
    s->finalbody = finalbody;
    return s;
  };
  return star == 1 ? fill(make<TryStar>(start)) : fill(make<Try>(start));
}

// ---------------------------------------------------------------------------
// 3.12: type aliases and type parameters (PEP 695)

//G type_alias: "type" NAME [type_params] '=' expression
StmtNode* Parser::type_alias() {
  std::size_t start = mark();
  ++pos_;  // "type"
  Name* name = name_expr(pos_, ExprContext::Store);
  ++pos_;
  Seq<TypeParamNode*> tparams;
  if (check(TK::LSQB)) tparams = type_params();
  if (!accept(TK::EQUAL)) {
    reset(start);
    return nullptr;
  }
  E* value = expression();
  if (value == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* s = make<TypeAlias>(start);
  s->name = name;
  s->type_params = tparams;
  s->value = value;
  return s;
}

//G type_params: '[' type_param_seq ']'
//G type_param_seq: ','.type_param+ [',']
//G type_param: NAME [':' expression] | '*' NAME | '**' NAME
Seq<TypeParamNode*> Parser::type_params() {
  std::size_t start = mark();
  ++pos_;  // '['
  std::vector<TypeParamNode*> out;
  for (;;) {
    std::size_t p = mark();
    if (check(TK::NAME)) {
      Identifier name = identifier(cur());
      ++pos_;
      E* bound = nullptr;
      if (accept(TK::COLON)) {
        bound = expression();
        if (bound == nullptr) break;
      }
      auto* tv = make<TypeVar>(p);
      tv->name = name;
      tv->bound = bound;
      out.push_back(tv);
    } else if ((check(TK::STAR) || check(TK::DOUBLESTAR)) && kind_at(pos_ + 1) == TK::NAME) {
      bool spec = check(TK::DOUBLESTAR);
      ++pos_;
      Identifier name = identifier(cur());
      ++pos_;
      if (check(TK::COLON)) {
        raise_at_token(spec ? "cannot use bound with ParamSpec"
                            : "cannot use bound with TypeVarTuple",
                       cur());
      }
      if (spec) {
        auto* ps = make<ParamSpec>(p);
        ps->name = name;
        out.push_back(ps);
      } else {
        auto* tt = make<TypeVarTuple>(p);
        tt->name = name;
        out.push_back(tt);
      }
    } else {
      break;
    }
    if (!accept(TK::COMMA)) break;
  }
  if (out.empty() || !accept(TK::RSQB)) {
    raise_at_token("invalid syntax", at(max_pos_ > start ? max_pos_ : start));
  }
  return seq(out);
}

// ---------------------------------------------------------------------------
// match (3.10)

//G match_stmt: "match" subject_expr ':' NEWLINE INDENT case_block+ DEDENT
//G subject_expr: star_named_expression ',' star_named_expressions? | named_expression
StmtNode* Parser::match_stmt() {
  std::size_t start = mark();
  ++pos_;  // "match"
  std::size_t subject_start = mark();
  E* subject = star_named_expression();
  if (subject != nullptr && check(TK::COMMA)) {
    std::vector<E*> elts{subject};
    ++pos_;
    star_named_expressions(elts);
    auto* t = make<Tuple>(subject_start);
    t->elts = seq(elts);
    t->ctx = ExprContext::Load;
    subject = t;
  } else if (subject != nullptr && is<Starred>(subject)) {
    subject = nullptr;
  }
  if (subject == nullptr || !accept(TK::COLON) || !accept(TK::NEWLINE)) {
    reset(start);
    return nullptr;
  }
  if (!accept(TK::INDENT)) {
    raise_at_token("expected an indented block after 'match' statement on line " +
                       std::to_string(at(start).lineno),
                   cur(), SyntaxError::Kind::IndentationError);
  }
  std::vector<MatchCase*> cases;
  while (MatchCase* c = case_block()) cases.push_back(c);
  if (cases.empty() || !accept(TK::DEDENT)) {
    reset(start);
    return nullptr;
  }
  auto* s = make<Match>(start);
  s->subject = subject;
  s->cases = seq(cases);
  return s;
}

//G case_block: "case" patterns guard? ':' block
//G guard: 'if' named_expression
MatchCase* Parser::case_block() {
  std::size_t start = mark();
  if (!is_soft_keyword("case")) return nullptr;
  ++pos_;
  P* pat = patterns();
  if (pat == nullptr) {
    reset(start);
    return nullptr;
  }
  E* guard = nullptr;
  if (accept(TK::KW_IF)) {
    guard = named_expression();
    if (guard == nullptr) {
      reset(start);
      return nullptr;
    }
  }
  if (!accept(TK::COLON)) {
    hint("expected ':'");
    reset(start);
    return nullptr;
  }
  Seq<S*> body = block("'case' statement", start);
  if (body.empty()) {
    reset(start);
    return nullptr;
  }
  auto* c = make_at<MatchCase>({});
  c->pattern = pat;
  c->guard = guard;
  c->body = body;
  return c;
}

}  // namespace t2k::syntax
