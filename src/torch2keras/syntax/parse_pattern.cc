// Patterns of the `match` statement (PEP 634).
// Grammar quotes (//G) are from CPython 3.11's Grammar/python.gram. PEG ordered
// choice matters here: `closed_pattern` commits to its first successful
// alternative, so `case _.x:` is a syntax error (the wildcard wins).
#include "torch2keras/syntax/parser_impl.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

//G patterns: open_sequence_pattern | pattern
//G open_sequence_pattern: maybe_star_pattern ',' maybe_sequence_pattern?
PatternNode* Parser::patterns() {
  std::size_t start = mark();
  P* first = maybe_star_pattern();
  if (first != nullptr && check(TK::COMMA)) {
    ++pos_;
    std::vector<P*> items{first};
    maybe_sequence_pattern(items);
    auto* s = make<MatchSequence>(start);
    s->patterns = seq(items);
    return s;
  }
  reset(start);
  return pattern();
}

//G pattern: as_pattern | or_pattern
//G as_pattern: or_pattern 'as' pattern_capture_target
PatternNode* Parser::pattern() {
  Guard guard(this);
  std::size_t start = mark();
  P* p = or_pattern();
  if (p == nullptr) return nullptr;
  if (check(TK::KW_AS)) {
    std::size_t m = mark();
    ++pos_;
    if (E* target = pattern_capture_target()) {
      auto* as = make<MatchAs>(start);
      as->pattern = p;
      as->name = static_cast<Name*>(target)->id;
      return as;
    }
    reset(m);
  }
  return p;
}

//G or_pattern: '|'.closed_pattern+
PatternNode* Parser::or_pattern() {
  std::size_t start = mark();
  P* first = closed_pattern();
  if (first == nullptr) return nullptr;
  if (!check(TK::VBAR)) return first;
  std::vector<P*> alternatives{first};
  while (check(TK::VBAR)) {
    std::size_t m = mark();
    ++pos_;
    P* p = closed_pattern();
    if (p == nullptr) {
      reset(m);
      break;
    }
    alternatives.push_back(p);
  }
  if (alternatives.size() == 1) return first;
  auto* o = make<MatchOr>(start);
  o->patterns = seq(alternatives);
  return o;
}

//G closed_pattern: literal_pattern | capture_pattern | wildcard_pattern | value_pattern
//G               | group_pattern | sequence_pattern | mapping_pattern | class_pattern
PatternNode* Parser::closed_pattern() {
  if (P* p = literal_pattern()) return p;
  if (P* p = capture_pattern()) return p;
  if (P* p = wildcard_pattern()) return p;
  if (P* p = value_pattern()) return p;
  if (check(TK::LPAR)) return group_or_sequence_pattern();
  if (check(TK::LSQB)) return list_sequence_pattern();
  if (check(TK::LBRACE)) return mapping_pattern();
  return class_pattern();
}

//G literal_pattern: signed_number !('+' | '-') | complex_number | strings
//G                | 'None' | 'True' | 'False'
PatternNode* Parser::literal_pattern() {
  std::size_t start = mark();
  ConstantValue::Kind singleton;
  switch (kind()) {
    case TK::KW_NONE: singleton = ConstantValue::Kind::None; break;
    case TK::KW_TRUE: singleton = ConstantValue::Kind::True; break;
    case TK::KW_FALSE: singleton = ConstantValue::Kind::False; break;
    default: {
      E* value = literal_expr();
      if (value == nullptr) return nullptr;
      auto* v = make<MatchValue>(start);
      v->value = value;
      return v;
    }
  }
  ++pos_;
  auto* s = make<MatchSingleton>(start);
  s->value.kind = singleton;
  return s;
}

//G literal_expr: signed_number !('+' | '-') | complex_number | strings
//G             | 'None' | 'True' | 'False'
ExprNode* Parser::literal_expr() {
  std::size_t start = mark();
  switch (kind()) {
    case TK::KW_NONE:
    case TK::KW_TRUE:
    case TK::KW_FALSE: {
      ConstantValue::Kind k = check(TK::KW_NONE)   ? ConstantValue::Kind::None
                              : check(TK::KW_TRUE) ? ConstantValue::Kind::True
                                                : ConstantValue::Kind::False;
      ++pos_;
      auto* c = make<Constant>(start);
      c->value.kind = k;
      return c;
    }
    case TK::STRING:
    case TK::FSTRING_START: return strings();
    default: break;
  }
  if (E* n = signed_number()) {
    if (!check(TK::PLUS) && !check(TK::MINUS)) return n;
    reset(start);
  }
  return complex_number();
}

//G signed_number: NUMBER | '-' NUMBER
ExprNode* Parser::signed_number() {
  std::size_t start = mark();
  if (check(TK::NUMBER)) {
    E* n = number(cur());
    ++pos_;
    return n;
  }
  if (check(TK::MINUS) && kind_at(pos_ + 1) == TK::NUMBER) {
    ++pos_;
    E* n = number(cur());
    ++pos_;
    auto* u = make<UnaryOp>(start);
    u->op = UnaryOpKind::USub;
    u->operand = n;
    return u;
  }
  return nullptr;
}

//G complex_number: signed_real_number ('+' | '-') imaginary_number
//G signed_real_number: real_number | '-' real_number
// A real part that is imaginary, or an imaginary part that is not, is an
// immediate error in CPython (_PyPegen_ensure_real / _PyPegen_ensure_imaginary).
ExprNode* Parser::complex_number() {
  std::size_t start = mark();
  E* real = signed_number();
  if (real == nullptr || !(check(TK::PLUS) || check(TK::MINUS))) {
    reset(start);
    return nullptr;
  }
  E* real_constant = is<UnaryOp>(real) ? static_cast<UnaryOp*>(real)->operand : real;
  if (static_cast<Constant*>(real_constant)->value.kind == ConstantValue::Kind::Complex) {
    raise("real number required in complex literal", real_constant->loc);
  }
  OperatorKind op = check(TK::PLUS) ? OperatorKind::Add : OperatorKind::Sub;
  ++pos_;
  if (!check(TK::NUMBER)) {
    reset(start);
    return nullptr;
  }
  E* imag = number(cur());
  ++pos_;
  if (static_cast<Constant*>(imag)->value.kind != ConstantValue::Kind::Complex) {
    raise("imaginary number required in complex literal", imag->loc);
  }
  auto* b = make<BinOp>(start);
  b->left = real;
  b->op = op;
  b->right = imag;
  return b;
}

//G capture_pattern: pattern_capture_target
PatternNode* Parser::capture_pattern() {
  std::size_t start = mark();
  E* target = pattern_capture_target();
  if (target == nullptr) return nullptr;
  auto* as = make<MatchAs>(start);
  as->name = static_cast<Name*>(target)->id;
  return as;
}

//G pattern_capture_target: !"_" NAME !('.' | '(' | '=')
ExprNode* Parser::pattern_capture_target() {
  if (!check(TK::NAME) || cur().text == "_") return nullptr;
  TokenKind next = kind_at(pos_ + 1);
  if (next == TK::DOT || next == TK::LPAR || next == TK::EQUAL) return nullptr;
  Name* n = name_expr(pos_, ExprContext::Store);
  ++pos_;
  return n;
}

//G wildcard_pattern: "_"
PatternNode* Parser::wildcard_pattern() {
  if (!is_soft_keyword("_")) return nullptr;
  std::size_t start = mark();
  ++pos_;
  return make<MatchAs>(start);
}

//G value_pattern: attr !('.' | '(' | '=')
PatternNode* Parser::value_pattern() {
  std::size_t start = mark();
  E* a = attr();
  if (a == nullptr || check(TK::DOT) || check(TK::LPAR) || check(TK::EQUAL)) {
    reset(start);
    return nullptr;
  }
  auto* v = make<MatchValue>(start);
  v->value = a;
  return v;
}

//G attr: name_or_attr '.' NAME
ExprNode* Parser::attr() {
  std::size_t start = mark();
  E* e = name_or_attr();
  if (e == nullptr || !is<Attribute>(e)) {
    reset(start);
    return nullptr;
  }
  return e;
}

//G name_or_attr: attr | NAME
ExprNode* Parser::name_or_attr() {
  std::size_t start = mark();
  if (!check(TK::NAME)) return nullptr;
  E* e = name_expr(pos_, ExprContext::Load);
  ++pos_;
  while (check(TK::DOT) && kind_at(pos_ + 1) == TK::NAME) {
    ++pos_;
    auto* a = make_at<Attribute>({});
    a->value = e;
    a->attr = identifier(cur());
    a->ctx = ExprContext::Load;
    ++pos_;
    a->loc = span(start);
    e = a;
  }
  return e;
}

//G group_pattern: '(' pattern ')'
//G sequence_pattern: '(' open_sequence_pattern? ')'
// One parse of the first item decides: `(p)` is a group, `(p,` a sequence.
PatternNode* Parser::group_or_sequence_pattern() {
  std::size_t start = mark();
  ++pos_;
  std::vector<P*> items;
  if (P* first = maybe_star_pattern()) {
    if (!is<MatchStar>(first) && accept(TK::RPAR)) return first;
    if (!accept(TK::COMMA)) {
      reset(start);
      return nullptr;
    }
    items.push_back(first);
    maybe_sequence_pattern(items);
  }
  if (!accept(TK::RPAR)) {
    reset(start);
    return nullptr;
  }
  auto* s = make<MatchSequence>(start);
  s->patterns = seq(items);
  return s;
}

//G sequence_pattern: '[' maybe_sequence_pattern? ']'
PatternNode* Parser::list_sequence_pattern() {
  std::size_t start = mark();
  ++pos_;
  std::vector<P*> items;
  maybe_sequence_pattern(items);
  if (!accept(TK::RSQB)) {
    reset(start);
    return nullptr;
  }
  auto* s = make<MatchSequence>(start);
  s->patterns = seq(items);
  return s;
}

//G maybe_sequence_pattern: ','.maybe_star_pattern+ ','?
bool Parser::maybe_sequence_pattern(std::vector<P*>& out) {
  std::size_t before = out.size();
  for (;;) {
    P* p = maybe_star_pattern();
    if (p == nullptr) break;
    out.push_back(p);
    if (!accept(TK::COMMA)) break;
  }
  return out.size() > before;
}

//G maybe_star_pattern: star_pattern | pattern
PatternNode* Parser::maybe_star_pattern() {
  if (P* p = star_pattern()) return p;
  return pattern();
}

//G star_pattern: '*' pattern_capture_target | '*' wildcard_pattern
PatternNode* Parser::star_pattern() {
  std::size_t start = mark();
  if (!accept(TK::STAR)) return nullptr;
  Identifier name;
  if (E* target = pattern_capture_target()) {
    name = static_cast<Name*>(target)->id;
  } else if (!wildcard_pattern()) {
    reset(start);
    return nullptr;
  }
  auto* s = make<MatchStar>(start);
  s->name = name;
  return s;
}

//G mapping_pattern: '{' '}' | '{' double_star_pattern ','? '}'
//G                | '{' items_pattern ',' double_star_pattern ','? '}'
//G                | '{' items_pattern ','? '}'
//G key_value_pattern: (literal_expr | attr) ':' pattern
//G double_star_pattern: '**' pattern_capture_target
PatternNode* Parser::mapping_pattern() {
  std::size_t start = mark();
  ++pos_;
  auto fail = [&]() -> P* {
    reset(start);
    return nullptr;
  };
  std::vector<E*> keys;
  std::vector<P*> values;
  Identifier rest;
  while (!check(TK::RBRACE)) {
    if (accept(TK::DOUBLESTAR)) {
      E* target = pattern_capture_target();
      if (target == nullptr) return fail();
      rest = static_cast<Name*>(target)->id;
      accept(TK::COMMA);
      break;
    }
    E* key = literal_expr();
    if (key == nullptr) key = attr();
    if (key == nullptr || !accept(TK::COLON)) return fail();
    P* value = pattern();
    if (value == nullptr) return fail();
    keys.push_back(key);
    values.push_back(value);
    if (!accept(TK::COMMA)) break;
  }
  if (!accept(TK::RBRACE)) return fail();
  auto* m = make<MatchMapping>(start);
  m->keys = seq(keys);
  m->patterns = seq(values);
  m->rest = rest;
  return m;
}

//G class_pattern: name_or_attr '(' ')'
//G              | name_or_attr '(' positional_patterns ','? ')'
//G              | name_or_attr '(' keyword_patterns ','? ')'
//G              | name_or_attr '(' positional_patterns ',' keyword_patterns ','? ')'
//G keyword_pattern: NAME '=' pattern
PatternNode* Parser::class_pattern() {
  std::size_t start = mark();
  E* cls = name_or_attr();
  if (cls == nullptr || !accept(TK::LPAR)) {
    reset(start);
    return nullptr;
  }
  std::vector<P*> positional, keyword_values;
  std::vector<Identifier> keyword_names;
  while (!check(TK::RPAR)) {
    if (check(TK::NAME) && kind_at(pos_ + 1) == TK::EQUAL) {
      keyword_names.push_back(identifier(cur()));
      pos_ += 2;
      P* value = pattern();
      if (value == nullptr) {
        reset(start);
        return nullptr;
      }
      keyword_values.push_back(value);
    } else {
      P* p = keyword_names.empty() ? pattern() : nullptr;
      if (p == nullptr) {
        if (!keyword_names.empty()) hint("positional patterns follow keyword patterns");
        reset(start);
        return nullptr;
      }
      positional.push_back(p);
    }
    if (!accept(TK::COMMA)) break;
  }
  if (!accept(TK::RPAR)) {
    reset(start);
    return nullptr;
  }
  auto* c = make<MatchClass>(start);
  c->cls = cls;
  c->patterns = seq(positional);
  c->kwd_attrs = seq(keyword_names);
  c->kwd_patterns = seq(keyword_values);
  return c;
}

}  // namespace t2k::syntax
