// Expressions, call arguments, comprehensions, slices and assignment targets.
// Grammar quotes (//G) are from CPython 3.11's Grammar/python.gram.
#include "torch2keras/base/pyrepr.h"
#include "torch2keras/syntax/parser_impl.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

namespace {
bool starts_for(TokenKind k, TokenKind next) {
  return k == TK::KW_FOR || (k == TK::KW_ASYNC && next == TK::KW_FOR);
}
}  // namespace

// Inside brackets, an element directly followed by the start of another
// expression is CPython's "Perhaps you forgot a comma?" (invalid_expression).
void Parser::hint_missing_comma(const E* previous) {
  switch (kind()) {
    case TK::NAME:
    case TK::NUMBER:
    case TK::STRING:
    case TK::FSTRING_START:
    case TK::LPAR:
    case TK::LSQB:
    case TK::LBRACE:
    case TK::KW_NONE:
    case TK::KW_TRUE:
    case TK::KW_FALSE:
    case TK::KW_LAMBDA:
    case TK::KW_AWAIT:
    case TK::ELLIPSIS:
    case TK::TILDE: {
      // `NAME STRING` (print "x") and soft keywords are excluded, as in CPython.
      if (is<Name>(previous) && (check(TK::STRING) || check(TK::FSTRING_START))) return;
      const Token& t = cur();
      hint("invalid syntax. Perhaps you forgot a comma?",
           Loc{previous->loc.lineno, previous->loc.col_offset, t.end_lineno, t.end_col_offset});
      return;
    }
    default: return;
  }
}

//G expressions: expression (',' expression)* [',']
ExprNode* Parser::expressions() {
  std::size_t start = mark();
  E* first = expression();
  if (first == nullptr) return nullptr;
  if (!check(TK::COMMA)) return first;
  std::vector<E*> elts{first};
  while (accept(TK::COMMA)) {
    E* e = expression();
    if (e == nullptr) break;
    elts.push_back(e);
  }
  auto* t = make<Tuple>(start);
  t->elts = seq(elts);
  t->ctx = ExprContext::Load;
  return t;
}

//G expression: disjunction 'if' disjunction 'else' expression | disjunction | lambdef
ExprNode* Parser::expression() {
  Guard guard(this);
  if (check(TK::KW_LAMBDA)) return lambdef();
  std::size_t start = mark();
  E* body = disjunction();
  if (body == nullptr) return nullptr;
  if (check(TK::KW_IF)) {
    std::size_t after = mark();
    ++pos_;
    E* test = disjunction();
    bool has_else = test != nullptr && accept(TK::KW_ELSE);
    if (has_else) {
      if (E* orelse = expression()) {
        auto* e = make<IfExp>(start);
        e->test = test;
        e->body = body;
        e->orelse = orelse;
        return e;
      }
    }
    if (test != nullptr && !has_else) {
      hint("expected 'else' after 'if' expression", span(start));
    }
    reset(after);
  }
  return body;
}

//G yield_expr: 'yield' 'from' expression | 'yield' [star_expressions]
ExprNode* Parser::yield_expr() {
  std::size_t start = mark();
  if (!accept(TK::KW_YIELD)) return nullptr;
  if (accept(TK::KW_FROM)) {
    E* value = expression();
    if (value == nullptr) {
      reset(start);
      return nullptr;
    }
    auto* e = make<YieldFrom>(start);
    e->value = value;
    return e;
  }
  E* value = star_expressions();
  auto* e = make<Yield>(start);
  e->value = value;
  return e;
}

//G star_expressions: star_expression (',' star_expression)* [',']
ExprNode* Parser::star_expressions() {
  std::size_t start = mark();
  E* first = star_expression();
  if (first == nullptr) return nullptr;
  if (!check(TK::COMMA)) return first;
  std::vector<E*> elts{first};
  while (accept(TK::COMMA)) {
    E* e = star_expression();
    if (e == nullptr) break;
    elts.push_back(e);
  }
  auto* t = make<Tuple>(start);
  t->elts = seq(elts);
  t->ctx = ExprContext::Load;
  return t;
}

//G star_expression: '*' bitwise_or | expression
ExprNode* Parser::star_expression() {
  std::size_t start = mark();
  if (accept(TK::STAR)) {
    E* value = bitwise_or();
    if (value == nullptr) {
      reset(start);
      return nullptr;
    }
    auto* e = make<Starred>(start);
    e->value = value;
    e->ctx = ExprContext::Load;
    return e;
  }
  return expression();
}

//G star_named_expressions: ','.star_named_expression+ [',']
// Appends to `out`; the caller has consumed any leading elements and comma.
bool Parser::star_named_expressions(std::vector<E*>& out) {
  std::size_t before = out.size();
  for (;;) {
    E* e = star_named_expression();
    if (e == nullptr) break;
    out.push_back(e);
    if (!accept(TK::COMMA)) break;
  }
  return out.size() > before;
}

//G star_named_expression: '*' bitwise_or | named_expression
ExprNode* Parser::star_named_expression() {
  std::size_t start = mark();
  if (accept(TK::STAR)) {
    E* value = bitwise_or();
    if (value == nullptr) {
      reset(start);
      return nullptr;
    }
    auto* e = make<Starred>(start);
    e->value = value;
    e->ctx = ExprContext::Load;
    return e;
  }
  return named_expression();
}

//G assignment_expression: NAME ':=' ~ expression
ExprNode* Parser::assignment_expression() {
  if (!(check(TK::NAME) && kind_at(pos_ + 1) == TK::COLONEQUAL)) return nullptr;
  std::size_t start = mark();
  Name* target = name_expr(pos_, ExprContext::Store);
  pos_ += 2;
  E* value = expression();
  if (value == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<NamedExpr>(start);
  e->target = target;
  e->value = value;
  return e;
}

//G named_expression: assignment_expression | expression !':='
ExprNode* Parser::named_expression() {
  if (check(TK::NAME) && kind_at(pos_ + 1) == TK::COLONEQUAL) return assignment_expression();
  std::size_t start = mark();
  E* e = expression();
  if (e == nullptr) return nullptr;
  if (check(TK::COLONEQUAL)) {
    reset(start);
    return nullptr;
  }
  return e;
}

//G disjunction: conjunction ('or' conjunction)+ | conjunction
//G conjunction: inversion ('and' inversion)+ | inversion
ExprNode* Parser::disjunction() {
  return bool_op_chain(&Parser::conjunction, TK::KW_OR, BoolOpKind::Or);
}

ExprNode* Parser::conjunction() {
  return bool_op_chain(&Parser::inversion, TK::KW_AND, BoolOpKind::And);
}

// `operand (keyword operand)*` as one BoolOp when there are two or more operands.
ExprNode* Parser::bool_op_chain(E* (Parser::*operand)(), TokenKind keyword, BoolOpKind op) {
  std::size_t start = mark();
  E* first = (this->*operand)();
  if (first == nullptr || !check(keyword)) return first;
  std::vector<E*> values{first};
  while (check(keyword)) {
    std::size_t m = mark();
    ++pos_;
    E* e = (this->*operand)();
    if (e == nullptr) {
      reset(m);
      break;
    }
    values.push_back(e);
  }
  if (values.size() == 1) return first;
  auto* e = make<BoolOp>(start);
  e->op = op;
  e->values = seq(values);
  return e;
}

//G inversion: 'not' inversion | comparison
ExprNode* Parser::inversion() {
  if (!check(TK::KW_NOT)) return comparison();
  Guard guard(this);
  std::size_t start = mark();
  ++pos_;
  E* operand = inversion();
  if (operand == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<UnaryOp>(start);
  e->op = UnaryOpKind::Not;
  e->operand = operand;
  return e;
}

//G comparison: bitwise_or compare_op_bitwise_or_pair+ | bitwise_or
//G compare_op_bitwise_or_pair: '==' | '!=' | '<=' | '<' | '>=' | '>' | 'not' 'in'
//G                           | 'in' | 'is' 'not' | 'is'   (each followed by bitwise_or)
ExprNode* Parser::comparison() {
  std::size_t start = mark();
  E* left = bitwise_or();
  if (left == nullptr) return nullptr;
  std::vector<CmpOpKind> ops;
  std::vector<E*> comparators;
  for (;;) {
    std::size_t m = mark();
    CmpOpKind op;
    switch (kind()) {
      case TK::EQEQUAL: op = CmpOpKind::Eq; break;
      case TK::NOTEQUAL:
        // `<>` lexes as NOTEQUAL but is only valid under `barry_as_FLUFL`.
        if (cur().text != "!=") goto done;
        op = CmpOpKind::NotEq;
        break;
      case TK::LESSEQUAL: op = CmpOpKind::LtE; break;
      case TK::LESS: op = CmpOpKind::Lt; break;
      case TK::GREATEREQUAL: op = CmpOpKind::GtE; break;
      case TK::GREATER: op = CmpOpKind::Gt; break;
      case TK::KW_IN: op = CmpOpKind::In; break;
      case TK::KW_NOT:
        if (kind_at(pos_ + 1) != TK::KW_IN) goto done;
        ++pos_;
        op = CmpOpKind::NotIn;
        break;
      case TK::KW_IS:
        if (kind_at(pos_ + 1) == TK::KW_NOT) {
          ++pos_;
          op = CmpOpKind::IsNot;
        } else {
          op = CmpOpKind::Is;
        }
        break;
      default: goto done;
    }
    ++pos_;
    if (E* right = bitwise_or()) {
      ops.push_back(op);
      comparators.push_back(right);
      continue;
    }
    reset(m);
    break;
  }
done:
  if (ops.empty()) return left;
  auto* e = make<Compare>(start);
  e->left = left;
  e->ops = seq(ops);
  e->comparators = seq(comparators);
  return e;
}

// The left-associative binary operator levels, from bitwise_or down to term.
//G bitwise_or: bitwise_or '|' bitwise_xor | bitwise_xor
//G bitwise_xor: bitwise_xor '^' bitwise_and | bitwise_and
//G bitwise_and: bitwise_and '&' shift_expr | shift_expr
//G shift_expr: shift_expr ('<<' | '>>') sum | sum
//G sum: sum ('+' | '-') term | term
//G term: term ('*' | '/' | '//' | '%' | '@') factor | factor
namespace {
struct BinaryLevel {
  bool (*op_of)(TokenKind, OperatorKind&);
};
bool or_op(TokenKind k, OperatorKind& op) {
  op = OperatorKind::BitOr;
  return k == TK::VBAR;
}
bool xor_op(TokenKind k, OperatorKind& op) {
  op = OperatorKind::BitXor;
  return k == TK::CIRCUMFLEX;
}
bool and_op(TokenKind k, OperatorKind& op) {
  op = OperatorKind::BitAnd;
  return k == TK::AMPER;
}
bool shift_op(TokenKind k, OperatorKind& op) {
  if (k == TK::LEFTSHIFT) op = OperatorKind::LShift;
  else if (k == TK::RIGHTSHIFT) op = OperatorKind::RShift;
  else return false;
  return true;
}
bool sum_op(TokenKind k, OperatorKind& op) {
  if (k == TK::PLUS) op = OperatorKind::Add;
  else if (k == TK::MINUS) op = OperatorKind::Sub;
  else return false;
  return true;
}
bool term_op(TokenKind k, OperatorKind& op) {
  switch (k) {
    case TK::STAR: op = OperatorKind::Mult; return true;
    case TK::SLASH: op = OperatorKind::Div; return true;
    case TK::DOUBLESLASH: op = OperatorKind::FloorDiv; return true;
    case TK::PERCENT: op = OperatorKind::Mod; return true;
    case TK::AT: op = OperatorKind::MatMult; return true;
    default: return false;
  }
}
}  // namespace

#define T2K_BINARY_LEVEL(rule, next, op_of)                  \
  ExprNode* Parser::rule() {                                 \
    std::size_t start = mark();                              \
    E* left = next();                                        \
    if (left == nullptr) return nullptr;                     \
    OperatorKind op;                                         \
    while (op_of(kind(), op)) {                              \
      std::size_t m = mark();                                \
      ++pos_;                                                \
      E* right = next();                                     \
      if (right == nullptr) {                                \
        reset(m);                                            \
        break;                                               \
      }                                                      \
      auto* e = make<BinOp>(start);                          \
      e->left = left;                                        \
      e->op = op;                                            \
      e->right = right;                                      \
      left = e;                                              \
    }                                                        \
    return left;                                             \
  }
T2K_BINARY_LEVEL(bitwise_or, bitwise_xor, or_op)
T2K_BINARY_LEVEL(bitwise_xor, bitwise_and, xor_op)
T2K_BINARY_LEVEL(bitwise_and, shift_expr, and_op)
T2K_BINARY_LEVEL(shift_expr, sum, shift_op)
T2K_BINARY_LEVEL(sum, term, sum_op)
T2K_BINARY_LEVEL(term, factor, term_op)
#undef T2K_BINARY_LEVEL

//G factor: '+' factor | '-' factor | '~' factor | power
ExprNode* Parser::factor() {
  UnaryOpKind op;
  switch (kind()) {
    case TK::PLUS: op = UnaryOpKind::UAdd; break;
    case TK::MINUS: op = UnaryOpKind::USub; break;
    case TK::TILDE: op = UnaryOpKind::Invert; break;
    default: return power();
  }
  Guard guard(this);
  std::size_t start = mark();
  ++pos_;
  E* operand = factor();
  if (operand == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<UnaryOp>(start);
  e->op = op;
  e->operand = operand;
  return e;
}

//G power: await_primary '**' factor | await_primary
ExprNode* Parser::power() {
  std::size_t start = mark();
  E* left = await_primary();
  if (left == nullptr) return nullptr;
  if (!check(TK::DOUBLESTAR)) return left;
  std::size_t m = mark();
  ++pos_;
  E* right = factor();
  if (right == nullptr) {
    reset(m);
    return left;
  }
  auto* e = make<BinOp>(start);
  e->left = left;
  e->op = OperatorKind::Pow;
  e->right = right;
  return e;
}

//G await_primary: AWAIT primary | primary
ExprNode* Parser::await_primary() {
  if (!check(TK::KW_AWAIT)) return primary();
  std::size_t start = mark();
  ++pos_;
  E* value = primary();
  if (value == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<Await>(start);
  e->value = value;
  return e;
}

//G primary: primary '.' NAME | primary genexp | primary '(' [arguments] ')'
//G        | primary '[' slices ']' | atom
ExprNode* Parser::primary() {
  std::size_t start = mark();
  E* base = atom();
  if (base == nullptr) return nullptr;
  return primary_trailers(base, start);
}

ExprNode* Parser::primary_trailers(E* base, std::size_t start) {
  for (;;) {
    std::size_t m = mark();
    switch (kind()) {
      case TK::DOT: {
        if (kind_at(pos_ + 1) != TK::NAME) return base;
        ++pos_;
        Identifier attr = identifier(cur());
        ++pos_;
        auto* e = make<Attribute>(start);
        e->value = base;
        e->attr = attr;
        e->ctx = ExprContext::Load;
        base = e;
        break;
      }
      case TK::LPAR: {
        ++pos_;
        std::vector<E*> args;
        std::vector<Keyword*> keywords;
        // `f(x for x in y)` (CPython's `primary genexp`) is recognised inside
        // arguments(), so each argument is parsed once.
        if (!arguments(args, keywords, m) || !accept(TK::RPAR)) {
          reset(m);
          return base;
        }
        auto* call = make<Call>(start);
        call->func = base;
        call->args = seq(args);
        call->keywords = seq(keywords);
        base = call;
        break;
      }
      case TK::LSQB: {
        ++pos_;
        E* index = slices();
        if (index == nullptr || !accept(TK::RSQB)) {
          reset(m);
          return base;
        }
        auto* e = make<Subscript>(start);
        e->value = base;
        e->slice = index;
        e->ctx = ExprContext::Load;
        base = e;
        break;
      }
      default: return base;
    }
  }
}

//G arguments: args [','] &')'
//G args: ','.(starred_expression | (assignment_expression | expression !':=') !'=')+
//G       [',' kwargs] | kwargs
//G kwargs: ','.kwarg_or_starred+ ',' ','.kwarg_or_double_starred+
//G       | ','.kwarg_or_starred+ | ','.kwarg_or_double_starred+
//G kwarg_or_starred: NAME '=' expression | starred_expression
//G kwarg_or_double_starred: NAME '=' expression | '**' expression
// So: positional arguments may not follow keywords or `**`, and `*` may not
// follow `**`. Stops before ')' (which the caller checks).
// With `genexp_paren` set (a call's '(' token), a first argument followed by
// `for` makes the whole parenthesis a generator expression:
//G primary: primary genexp
//G genexp: '(' (assignment_expression | expression !':=') for_if_clauses ')'
bool Parser::arguments(std::vector<E*>& args, std::vector<Keyword*>& keywords,
                       std::optional<std::size_t> genexp_paren) {
  std::size_t start = mark();
  bool seen_keyword = false, seen_double_star = false;
  E* last_value = nullptr;  // the expression of the latest argument
  auto fail = [&]() {
    reset(start);
    args.clear();
    keywords.clear();
    return false;
  };
  while (!check(TK::RPAR)) {
    std::size_t item = mark();
    if (accept(TK::STAR)) {
      E* value = expression();
      if (value == nullptr) return fail();
      if (seen_double_star) {
        hint("iterable argument unpacking follows keyword argument unpacking", span(item));
        return fail();
      }
      auto* e = make<Starred>(item);
      e->value = value;
      e->ctx = ExprContext::Load;
      args.push_back(e);
      last_value = value;
    } else if (accept(TK::DOUBLESTAR)) {
      E* value = expression();
      if (value == nullptr) return fail();
      auto* k = make<Keyword>(item);
      k->value = value;
      keywords.push_back(k);
      seen_double_star = true;
      last_value = value;
    } else if (check(TK::NAME) && kind_at(pos_ + 1) == TK::EQUAL) {
      Identifier name = identifier(cur());
      pos_ += 2;
      E* value = expression();
      if (value == nullptr) return fail();
      auto* k = make<Keyword>(item);
      k->arg = name;
      k->value = value;
      keywords.push_back(k);
      seen_keyword = true;
      last_value = value;
    } else {
      E* value = named_expression();
      if (value == nullptr || check(TK::EQUAL)) {
        if (value != nullptr) {
          hint("expression cannot contain assignment, perhaps you meant \"==\"?");
        }
        return fail();
      }
      if (seen_keyword || seen_double_star) {
        hint(seen_double_star ? "positional argument follows keyword argument unpacking"
                              : "positional argument follows keyword argument");
        return fail();
      }
      bool is_genexp = starts_for(kind(), kind_at(pos_ + 1));
      if (is_genexp && !(genexp_paren && args.empty() && keywords.empty())) {
        hint("Generator expression must be parenthesized", value->loc);
        return fail();
      }
      if (is_genexp) {
        std::vector<Comprehension*> generators;
        if (!for_if_clauses(generators)) return fail();
        if (!check(TK::RPAR)) {
          if (check(TK::COMMA)) hint("Generator expression must be parenthesized", value->loc);
          return fail();
        }
        ++pos_;  // the genexp's position includes the call's parentheses
        auto* g = make<GeneratorExp>(*genexp_paren);
        --pos_;
        g->elt = value;
        g->generators = seq(generators);
        args.push_back(g);
        return true;
      }
      args.push_back(value);
      last_value = value;
    }
    if (!accept(TK::COMMA)) {
      E* last = args.empty() && keywords.empty() ? nullptr : last_value;
      if (last != nullptr && !check(TK::RPAR)) hint_missing_comma(last);
      break;
    }
  }
  return true;
}

//G starred_expression: '*' expression
ExprNode* Parser::starred_expression() {
  std::size_t start = mark();
  if (!accept(TK::STAR)) return nullptr;
  E* value = expression();
  if (value == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<Starred>(start);
  e->value = value;
  e->ctx = ExprContext::Load;
  return e;
}

//G slices: slice !',' | ','.(slice | starred_expression)+ [',']
ExprNode* Parser::slices() {
  std::size_t start = mark();
  E* first = check(TK::STAR) ? starred_expression() : slice();
  if (first == nullptr) return nullptr;
  if (!check(TK::COMMA) && !is<Starred>(first)) return first;
  std::vector<E*> elts{first};
  while (accept(TK::COMMA)) {
    E* e = check(TK::STAR) ? starred_expression() : slice();
    if (e == nullptr) break;
    elts.push_back(e);
  }
  auto* t = make<Tuple>(start);
  t->elts = seq(elts);
  t->ctx = ExprContext::Load;
  return t;
}

//G slice: [expression] ':' [expression] [':' [expression]] | named_expression
ExprNode* Parser::slice() {
  std::size_t start = mark();
  E* lower = expression();
  if (check(TK::COLON)) {
    ++pos_;
    E* upper = expression();
    E* step = nullptr;
    if (accept(TK::COLON)) step = expression();
    auto* s = make<Slice>(start);
    s->lower = lower;
    s->upper = upper;
    s->step = step;
    return s;
  }
  if (lower != nullptr && !check(TK::COLONEQUAL)) return lower;  // `expression !':='`
  // The named_expression alternative can only add `NAME ':=' expression`, which
  // needs `lower` to be that NAME; re-parsing a failed expression would make
  // nested subscripts exponential.
  if (lower == nullptr) return nullptr;
  reset(start);
  return named_expression();
}

//G atom: NAME | 'True' | 'False' | 'None' | strings | NUMBER
//G     | (tuple | group | genexp) | (list | listcomp)
//G     | (dict | set | dictcomp | setcomp) | '...'
ExprNode* Parser::atom() {
  std::size_t start = mark();
  auto constant = [&](ConstantValue::Kind k) {
    ++pos_;
    auto* c = make<Constant>(start);
    c->value.kind = k;
    return c;
  };
  switch (kind()) {
    case TK::NAME: {
      Name* n = name_expr(pos_, ExprContext::Load);
      ++pos_;
      return n;
    }
    case TK::KW_TRUE: return constant(ConstantValue::Kind::True);
    case TK::KW_FALSE: return constant(ConstantValue::Kind::False);
    case TK::KW_NONE: return constant(ConstantValue::Kind::None);
    case TK::ELLIPSIS: return constant(ConstantValue::Kind::Ellipsis);
    case TK::STRING:
    case TK::FSTRING_START: return strings();
    case TK::NUMBER: {
      E* n = number(cur());
      ++pos_;
      return n;
    }
    case TK::LPAR: return paren_atom();
    case TK::LSQB: return bracket_atom();
    case TK::LBRACE: return brace_atom();
    default: return nullptr;
  }
}

// CPython's default sys.get_int_max_str_digits().
constexpr std::size_t kMaxIntDigits = 4300;

// A NUMBER token as a Constant: int (any base, arbitrary size), float or imaginary.
ExprNode* Parser::number(const Token& t) {
  auto* c = make_at<Constant>(token_loc(t));
  std::string_view text = t.text;
  char last = text.back();
  bool based = text.size() > 1 && text[0] == '0' &&
               (text[1] == 'x' || text[1] == 'X' || text[1] == 'o' || text[1] == 'O' ||
                text[1] == 'b' || text[1] == 'B');
  if (last == 'j' || last == 'J') {
    c->value.kind = ConstantValue::Kind::Complex;
    c->value.number = pyrepr::parse_float_literal(text.substr(0, text.size() - 1));
  } else if (!based && text.find_first_of(".eE") != std::string_view::npos) {
    c->value.kind = ConstantValue::Kind::Float;
    c->value.number = pyrepr::parse_float_literal(text);
  } else {
    c->value.kind = ConstantValue::Kind::Int;
    std::string digits = pyrepr::int_literal_to_decimal(text);
    // CPython 3.11 limits int <-> decimal string conversion to 4300 digits: a longer
    // decimal literal is a SyntaxError, and a longer value from a hex/octal/binary
    // literal cannot be printed by ast.dump (ValueError). Both are rejected here.
    if (digits.size() > kMaxIntDigits) {
      std::string message = "Exceeds the limit (4300 digits) for integer string conversion";
      if (!based) {
        message += ": value has " + std::to_string(digits.size()) +
                   " digits; use sys.set_int_max_str_digits() to increase the limit - "
                   "Consider hexadecimal for huge integer literals to avoid decimal "
                   "conversion limits.";
      } else {
        message += "; use sys.set_int_max_str_digits() to increase the limit";
      }
      raise(message, token_loc(t));
    }
    c->value.text = arena_.copy_string(digits);
  }
  return c;
}

//G tuple: '(' [star_named_expression ',' [star_named_expressions]] ')'
//G group: '(' (yield_expr | named_expression) ')'
//G genexp: '(' (assignment_expression | expression !':=') for_if_clauses ')'
ExprNode* Parser::paren_atom() {
  std::size_t start = mark();
  ++pos_;
  auto fail = [&]() -> E* {
    reset(start);
    return nullptr;
  };
  if (accept(TK::RPAR)) {
    auto* t = make<Tuple>(start);
    t->ctx = ExprContext::Load;
    return t;
  }
  if (check(TK::KW_YIELD)) {
    E* y = yield_expr();
    if (y == nullptr || !accept(TK::RPAR)) return fail();
    y->flags |= kParenthesized;
    return y;
  }
  E* first = star_named_expression();
  if (first == nullptr) return fail();
  if (accept(TK::COMMA)) {
    std::vector<E*> elts{first};
    star_named_expressions(elts);
    if (!accept(TK::RPAR)) {
      hint_missing_comma(elts.back());
      return fail();
    }
    auto* t = make<Tuple>(start);
    t->elts = seq(elts);
    t->ctx = ExprContext::Load;
    return t;
  }
  if (is<Starred>(first)) return fail();
  if (accept(TK::RPAR)) {
    first->flags |= kParenthesized;
    return first;
  }
  if (starts_for(kind(), kind_at(pos_ + 1))) {
    std::vector<Comprehension*> generators;
    if (!for_if_clauses(generators) || !accept(TK::RPAR)) return fail();
    auto* g = make<GeneratorExp>(start);
    g->elt = first;
    g->generators = seq(generators);
    return g;
  }
  hint_missing_comma(first);
  return fail();
}

//G list: '[' [star_named_expressions] ']'
//G listcomp: '[' named_expression for_if_clauses ']'
ExprNode* Parser::bracket_atom() {
  std::size_t start = mark();
  ++pos_;
  auto fail = [&]() -> E* {
    reset(start);
    return nullptr;
  };
  std::vector<E*> elts;
  if (!accept(TK::RSQB)) {
    E* first = star_named_expression();
    if (first == nullptr) return fail();
    if (!is<Starred>(first) && starts_for(kind(), kind_at(pos_ + 1))) {
      std::vector<Comprehension*> generators;
      if (!for_if_clauses(generators) || !accept(TK::RSQB)) return fail();
      auto* c = make<ListComp>(start);
      c->elt = first;
      c->generators = seq(generators);
      return c;
    }
    elts.push_back(first);
    if (accept(TK::COMMA)) star_named_expressions(elts);
    if (!accept(TK::RSQB)) {
      hint_missing_comma(elts.back());
      return fail();
    }
  }
  auto* l = make<List>(start);
  l->elts = seq(elts);
  l->ctx = ExprContext::Load;
  return l;
}

//G dict: '{' [double_starred_kvpairs] '}'
//G set: '{' star_named_expressions '}'
//G dictcomp: '{' kvpair for_if_clauses '}'
//G setcomp: '{' named_expression for_if_clauses '}'
//G double_starred_kvpair: '**' bitwise_or | kvpair
//G kvpair: expression ':' expression
ExprNode* Parser::brace_atom() {
  std::size_t start = mark();
  ++pos_;
  auto fail = [&]() -> E* {
    reset(start);
    return nullptr;
  };
  if (accept(TK::RBRACE)) {
    auto* d = make<Dict>(start);
    return d;
  }

  // The first item decides between a dict and a set.
  std::vector<E*> keys, values;
  E* first = nullptr;
  bool is_dict = false;
  if (accept(TK::DOUBLESTAR)) {
    E* v = bitwise_or();
    if (v == nullptr) return fail();
    keys.push_back(nullptr);
    values.push_back(v);
    is_dict = true;
  } else if (check(TK::STAR) || (check(TK::NAME) && kind_at(pos_ + 1) == TK::COLONEQUAL)) {
    first = star_named_expression();
    if (first == nullptr) return fail();
  } else {
    E* key = expression();
    if (key == nullptr) return fail();
    if (accept(TK::COLON)) {
      E* v = expression();
      if (v == nullptr) return fail();
      if (starts_for(kind(), kind_at(pos_ + 1))) {
        std::vector<Comprehension*> generators;
        if (!for_if_clauses(generators) || !accept(TK::RBRACE)) return fail();
        auto* c = make<DictComp>(start);
        c->key = key;
        c->value = v;
        c->generators = seq(generators);
        return c;
      }
      keys.push_back(key);
      values.push_back(v);
      is_dict = true;
    } else {
      if (check(TK::COLONEQUAL)) return fail();
      first = key;
    }
  }

  if (is_dict) {
    while (accept(TK::COMMA)) {
      if (check(TK::RBRACE)) break;
      if (accept(TK::DOUBLESTAR)) {
        E* v = bitwise_or();
        if (v == nullptr) return fail();
        keys.push_back(nullptr);
        values.push_back(v);
        continue;
      }
      E* key = expression();
      if (key == nullptr) return fail();
      if (!accept(TK::COLON)) {
        if (check(TK::COMMA) || check(TK::RBRACE)) {
          hint("':' expected after dictionary key", key->loc);
        }
        return fail();
      }
      E* v = expression();
      if (v == nullptr) return fail();
      keys.push_back(key);
      values.push_back(v);
    }
    if (!accept(TK::RBRACE)) return fail();
    auto* d = make<Dict>(start);
    d->keys = seq(keys);
    d->values = seq(values);
    return d;
  }

  if (!is<Starred>(first) && starts_for(kind(), kind_at(pos_ + 1))) {
    std::vector<Comprehension*> generators;
    if (!for_if_clauses(generators) || !accept(TK::RBRACE)) return fail();
    auto* c = make<SetComp>(start);
    c->elt = first;
    c->generators = seq(generators);
    return c;
  }
  std::vector<E*> elts{first};
  if (accept(TK::COMMA)) star_named_expressions(elts);
  if (!accept(TK::RBRACE)) {
    hint_missing_comma(elts.back());
    return fail();
  }
  auto* s = make<Set>(start);
  s->elts = seq(elts);
  return s;
}

//G lambdef: 'lambda' [lambda_params] ':' expression
ExprNode* Parser::lambdef() {
  std::size_t start = mark();
  ++pos_;
  Arguments* args = params(true);
  if (args == nullptr || !accept(TK::COLON)) {
    reset(start);
    return nullptr;
  }
  E* body = expression();
  if (body == nullptr) {
    reset(start);
    return nullptr;
  }
  auto* e = make<Lambda>(start);
  e->args = args;
  e->body = body;
  return e;
}

//G for_if_clauses: for_if_clause+
//G for_if_clause: [ASYNC] 'for' star_targets 'in' ~ disjunction ('if' disjunction)*
bool Parser::for_if_clauses(std::vector<Comprehension*>& out) {
  std::size_t start = mark();
  while (starts_for(kind(), kind_at(pos_ + 1))) {
    bool is_async = accept(TK::KW_ASYNC);
    ++pos_;  // 'for'
    E* target = star_targets();
    if (target == nullptr || !accept(TK::KW_IN)) {
      reset(start);
      return false;
    }
    E* iter = disjunction();
    if (iter == nullptr) {
      reset(start);
      return false;
    }
    std::vector<E*> ifs;
    while (check(TK::KW_IF)) {
      std::size_t m = mark();
      ++pos_;
      E* cond = disjunction();
      if (cond == nullptr) {
        reset(m);
        break;
      }
      ifs.push_back(cond);
    }
    auto* c = make_at<Comprehension>({});
    c->target = target;
    c->iter = iter;
    c->ifs = seq(ifs);
    c->is_async = is_async ? 1 : 0;
    out.push_back(c);
  }
  return !out.empty();
}

// ---------------------------------------------------------------------------
// Targets. A target is parsed as a primary (atom plus trailers) with the
// expression grammar, then checked against the target grammar:
//G star_targets: star_target !',' | star_target (',' star_target)* [',']
//G star_target: '*' (!'*' star_target) | target_with_star_atom
//G target_with_star_atom: t_primary '.' NAME !t_lookahead
//G                      | t_primary '[' slices ']' !t_lookahead | star_atom
//G star_atom: NAME | '(' target_with_star_atom ')' | '(' [star_targets_tuple_seq] ')'
//G          | '[' [star_targets_list_seq] ']'
// (A primary never stops before '(', '[' or '.', so !t_lookahead always holds.)

ExprNode* Parser::star_targets() {
  std::size_t start = mark();
  E* first = star_target();
  if (first == nullptr) return nullptr;
  if (!check(TK::COMMA)) return first;
  std::vector<E*> elts{first};
  while (accept(TK::COMMA)) {
    E* e = star_target();
    if (e == nullptr) break;
    elts.push_back(e);
  }
  auto* t = make<Tuple>(start);
  t->elts = seq(elts);
  t->ctx = ExprContext::Store;
  return t;
}

ExprNode* Parser::star_target() {
  Guard guard(this);
  std::size_t start = mark();
  if (accept(TK::STAR)) {
    if (check(TK::STAR)) {
      reset(start);
      return nullptr;
    }
    E* value = star_target();
    if (value == nullptr) {
      reset(start);
      return nullptr;
    }
    auto* e = make<Starred>(start);
    e->value = value;
    e->ctx = ExprContext::Store;
    return e;
  }
  return target_primary();
}

ExprNode* Parser::target_primary() {
  std::size_t start = mark();
  E* e = primary();
  if (e == nullptr || !is_star_target(e)) {
    if (e != nullptr) hint_invalid_target(e, "cannot assign to %s");
    reset(start);
    return nullptr;
  }
  set_context(e, ExprContext::Store);
  return e;
}

//G del_target: t_primary '.' NAME !t_lookahead | t_primary '[' slices ']' !t_lookahead
//G           | del_t_atom
//G del_t_atom: NAME | '(' del_target ')' | '(' [del_targets] ')' | '[' [del_targets] ']'
ExprNode* Parser::del_target() {
  std::size_t start = mark();
  if (check(TK::STAR)) {
    // CPython's invalid_del_stmt: `del *a` names the starred expression.
    if (E* starred = star_expression()) hint("cannot delete starred", starred->loc);
    reset(start);
    return nullptr;
  }
  E* e = primary();
  if (e == nullptr || !is_del_target(e)) {
    if (e != nullptr) hint_invalid_target(e, "cannot delete %s");
    reset(start);
    return nullptr;
  }
  set_context(e, ExprContext::Del);
  return e;
}

bool Parser::is_star_target(E* e) {
  switch (e->kind) {
    case NodeKind::Name:
    case NodeKind::Attribute:
    case NodeKind::Subscript: return true;
    case NodeKind::Starred: {
      E* value = static_cast<Starred*>(e)->value;
      return !is<Starred>(value) && is_star_target(value);
    }
    case NodeKind::Tuple:
      for (E* elt : static_cast<Tuple*>(e)->elts)
        if (!is_star_target(elt)) return false;
      return true;
    case NodeKind::List:
      for (E* elt : static_cast<List*>(e)->elts)
        if (!is_star_target(elt)) return false;
      return true;
    default: return false;
  }
}

//G single_target: single_subscript_attribute_target | NAME | '(' single_target ')'
bool Parser::is_single_target(E* e) {
  return is<Name>(e) || is<Attribute>(e) || is<Subscript>(e);
}

bool Parser::is_del_target(E* e) {
  switch (e->kind) {
    case NodeKind::Name:
    case NodeKind::Attribute:
    case NodeKind::Subscript: return true;
    case NodeKind::Tuple:
      for (E* elt : static_cast<Tuple*>(e)->elts)
        if (!is_del_target(elt)) return false;
      return true;
    case NodeKind::List:
      for (E* elt : static_cast<List*>(e)->elts)
        if (!is_del_target(elt)) return false;
      return true;
    default: return false;
  }
}

void Parser::set_context(E* e, ExprContext ctx) {
  switch (e->kind) {
    case NodeKind::Name: static_cast<Name*>(e)->ctx = ctx; break;
    case NodeKind::Attribute: static_cast<Attribute*>(e)->ctx = ctx; break;
    case NodeKind::Subscript: static_cast<Subscript*>(e)->ctx = ctx; break;
    case NodeKind::Starred:
      static_cast<Starred*>(e)->ctx = ctx;
      set_context(static_cast<Starred*>(e)->value, ctx);
      break;
    case NodeKind::Tuple:
      static_cast<Tuple*>(e)->ctx = ctx;
      for (E* elt : static_cast<Tuple*>(e)->elts) set_context(elt, ctx);
      break;
    case NodeKind::List:
      static_cast<List*>(e)->ctx = ctx;
      for (E* elt : static_cast<List*>(e)->elts) set_context(elt, ctx);
      break;
    default: break;
  }
}

}  // namespace t2k::syntax
