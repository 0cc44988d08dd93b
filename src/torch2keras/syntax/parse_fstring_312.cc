// String literals in 3.12 mode: PEP 701 f-strings and implicit concatenation.
//
// In Python 3.12 an f-string is no longer one STRING token: the lexer emits
// FSTRING_START, literal parts (FSTRING_MIDDLE) and the ordinary tokens of each
// replacement field, then FSTRING_END, and the grammar parses the field like any
// expression. The nodes are built as CPython 3.12.1's Parser/action_helpers.c
// builds them, which fixes these details (all checked against the interpreter):
//   * a literal part is a Constant at its own token's position (a "{{" part ends
//     after both braces); parts that decode to '' are dropped;
//   * a format spec is a JoinedStr from its ':' to its last part, whose literal
//     parts are decoded as non-raw even in an rf-string and are not merged, so
//     `f"{x:>{w}}"` keeps a trailing Constant(''); a spec holding nothing but ''
//     is an empty JoinedStr;
//   * `{x=}` adds a Constant holding the source text from after '{' to the
//     field's first '!', ':' or '}' (the '!' of `!=` included), with '#' comments
//     cut out (naively, as CPython does, even inside quotes), then decoded like a
//     literal part of the f-string;
//   * concatenation flattens the f-strings' values, merges runs of adjacent
//     constants (position first..last, kind of the first) and drops empty ones.
#include <cstring>

#include "torch2keras/syntax/parser_impl.h"
#include "torch2keras/syntax/string_literal.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

namespace {

Loc span_of(const Token& first, const Token& last) {
  return {first.lineno, first.col_offset, last.end_lineno, last.end_col_offset};
}

bool is_empty_str(const ExprNode* e) {
  const auto* c = as<Constant>(e);
  return c != nullptr && c->value.kind == ConstantValue::Kind::Str && c->value.text.empty();
}

// CPython 3.12.1's set_fstring_expr: the text of a `{x=}` field without comments.
// Every '#' starts a comment up to the end of its line, even inside a string.
std::string strip_debug_comments(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '#') {
      out += text[i];
      continue;
    }
    while (i < text.size() && text[i] != '\n') ++i;
    if (i < text.size()) out += '\n';
  }
  return out;
}

}  // namespace

//G strings: (fstring|string)+
ExprNode* Parser::strings_312() {
  std::size_t start = mark();
  std::vector<E*> items;
  for (;;) {
    if (check(TK::STRING)) {
      items.push_back(string_312(cur()));
      ++pos_;
    } else if (check(TK::FSTRING_START)) {
      items.push_back(fstring_312());
    } else {
      break;
    }
  }
  return concatenate_strings_312(items, span(start));
}

//G string: STRING
// CPython's _PyPegen_constant_from_string: kind 'u' for a lowercase u prefix.
ExprNode* Parser::string_312(const Token& t) {
  StringToken st = split_string_token(t.text);
  std::string decoded, error;
  bool ok = st.bytes ? decode_bytes(st.body, st.raw, decoded, error)
                     : decode_str(st.body, st.raw, decoded, error);
  if (!ok) raise_at_token(error, t);
  auto* c = make_at<Constant>(token_loc(t));
  c->value.kind = st.bytes ? ConstantValue::Kind::Bytes : ConstantValue::Kind::Str;
  c->value.text = arena_.copy_string(decoded);
  if (!st.bytes && t.text[0] == 'u') c->kind = "u";
  return c;
}

//G fstring: FSTRING_START fstring_middle* FSTRING_END
//G fstring_middle: fstring_replacement_field | FSTRING_MIDDLE
ExprNode* Parser::fstring_312() {
  Guard guard(this);
  const Token& open = cur();
  ++pos_;
  bool raw = open.text.find_first_of("rR") != std::string_view::npos;
  std::vector<E*> values;
  for (;;) {
    if (check(TK::FSTRING_MIDDLE)) {
      // _PyPegen_decode_fstring_part: parts without a backslash are taken as is.
      const Token& t = cur();
      ++pos_;
      std::string decoded, error;
      bool part_raw = raw || t.text.find('\\') == std::string_view::npos;
      if (!decode_str(t.text, part_raw, decoded, error)) raise_at_token(error, t);
      if (decoded.empty()) continue;
      auto* c = make_at<Constant>(token_loc(t));
      c->value.kind = ConstantValue::Kind::Str;
      c->value.text = arena_.copy_string(decoded);
      values.push_back(c);
    } else if (check(TK::LBRACE)) {
      fstring_replacement_field_312(values, false, raw);
    } else {
      break;
    }
  }
  // The lexer ends every f-string with FSTRING_END unless it failed first.
  if (!check(TK::FSTRING_END)) raise_at_token("f-string: expecting '}'", cur());
  const Token& close = cur();
  ++pos_;
  auto* j = make_at<JoinedStr>(span_of(open, close));
  j->values = seq(values);
  return j;
}

//G fstring_replacement_field:
//G     | '{' (yield_expr | star_expressions) '='? [fstring_conversion]
//G       [fstring_full_format_spec] '}'
//G fstring_conversion: "!" NAME
// The messages for a bad field are those of CPython's invalid_replacement_field
// and invalid_conversion_character.
void Parser::fstring_replacement_field_312(std::vector<E*>& out, bool nested, bool raw) {
  Guard guard(this);
  std::size_t start = mark();
  const Token& lbrace = cur();
  ++pos_;
  E* value = check(TK::KW_YIELD) ? yield_expr() : nullptr;
  if (value == nullptr) value = star_expressions();
  if (value == nullptr) {
    TK k = kind();
    if (k == TK::EQUAL || k == TK::EXCLAMATION || k == TK::COLON || k == TK::RBRACE) {
      raise_at_token(std::string("f-string: valid expression required before '") +
                         token_spelling(k) + "'",
                     cur());
    }
    raise_at_token("f-string: expecting a valid expression after '{'", cur());
  }
  bool debug = accept(TK::EQUAL);
  if (debug && !check(TK::EXCLAMATION) && !check(TK::COLON) && !check(TK::RBRACE))
    raise_at_token("f-string: expecting '!', or ':', or '}'", cur());
  if (!debug && !check(TK::EXCLAMATION) && !check(TK::COLON) && !check(TK::RBRACE))
    raise_at_token("f-string: expecting '=', or '!', or ':', or '}'", cur());

  int conversion = -1;
  const Token* bang = nullptr;
  const Token* conversion_name = nullptr;
  if (check(TK::EXCLAMATION)) {
    bang = &cur();
    ++pos_;
    if (!check(TK::NAME)) {
      raise_at_token(check(TK::COLON) || check(TK::RBRACE)
                         ? "f-string: missing conversion character"
                         : "f-string: invalid conversion character",
                     cur());
    }
    conversion_name = &cur();
    ++pos_;
    if (bang->end_lineno != conversion_name->lineno ||
        bang->end_col_offset != conversion_name->col_offset) {
      raise("f-string: conversion type must come right after the exclamanation mark",
            {bang->lineno, bang->col_offset, conversion_name->end_lineno,
             conversion_name->end_col_offset});
    }
    if (!check(TK::COLON) && !check(TK::RBRACE)) {
      raise_at_token("f-string: expecting ':' or '}'", cur());
    }
  }

  E* format_spec = nullptr;
  const Token* colon = nullptr;
  if (check(TK::COLON)) {
    colon = &cur();
    format_spec = fstring_format_spec_312(mark());
    if (!check(TK::RBRACE)) raise_at_token("f-string: expecting '}', or format specs", cur());
  }
  if (!check(TK::RBRACE)) raise_at_token("f-string: expecting '}'", cur());
  const Token& rbrace = cur();
  ++pos_;

  // _PyPegen_formatted_value: the conversion is checked once the field is complete.
  if (conversion_name != nullptr) {
    Identifier id = identifier(*conversion_name);
    if (id != "s" && id != "r" && id != "a") {
      raise_at_token("f-string: invalid conversion character '" + std::string(id) +
                         "': expected 's', 'r', or 'a'",
                     *conversion_name);
    }
    conversion = id[0];
  } else if (debug && format_spec == nullptr) {
    conversion = 'r';
  }
  auto* f = make<FormattedValue>(start);
  f->value = value;
  f->conversion = conversion;
  f->format_spec = format_spec;
  if (debug) {
    // CPython 3.12.1 records the text only for a field at the top level of its
    // f-string; in a format spec the Constant has no value and ast.parse fails
    // with "ValueError: field 'value' is required for Constant".
    if (nested) {
      raise_at_token(
          "f-string: a self-documenting `=` field inside a format spec is rejected by "
          "Python 3.12 (ValueError: field 'value' is required for Constant)",
          lbrace);
    }
    // The text ends at the field's first '!', ':' or '}' outside brackets (even
    // the '!' of `!=`): CPython's tokenizer records it there and never again.
    std::size_t k = start + 1;
    for (int depth = 0;; ++k) {
      TK t = tokens_[k].kind;
      if (depth == 0 && (t == TK::EXCLAMATION || t == TK::NOTEQUAL || t == TK::COLON ||
                         t == TK::RBRACE)) {
        break;
      }
      if (t == TK::LPAR || t == TK::LSQB || t == TK::LBRACE) ++depth;
      if (t == TK::RPAR || t == TK::RSQB || t == TK::RBRACE) --depth;
    }
    const Token& end = tokens_[k];
    const char* text_begin = lbrace.text.data() + 1;
    std::string text = strip_debug_comments(
        std::string_view(text_begin, static_cast<std::size_t>(end.text.data() - text_begin)));
    // Then decoded like a literal part of the f-string: `f"{'\n'=}"` shows a newline.
    std::string decoded, error;
    bool text_raw = raw || text.find('\\') == std::string::npos;
    if (!decode_str(text, text_raw, decoded, error)) raise_at_token(error, end);
    // Its position ends before the conversion's NAME, the spec or the '}'.
    const Token& last = colon != nullptr ? *colon : rbrace;
    Loc loc{f->loc.lineno, f->loc.col_offset + 1, last.lineno, last.col_offset};
    if (conversion_name != nullptr) {
      loc.end_lineno = conversion_name->lineno;
      loc.end_col_offset = conversion_name->col_offset - 1;
    }
    auto* c = make_at<Constant>(loc);
    c->value.kind = ConstantValue::Kind::Str;
    c->value.text = arena_.copy_string(decoded);
    out.push_back(c);
  }
  out.push_back(f);
}

//G fstring_full_format_spec: ':' fstring_format_spec*
//G fstring_format_spec: FSTRING_MIDDLE | fstring_replacement_field
// `colon` is the index of the ':' token.
ExprNode* Parser::fstring_format_spec_312(std::size_t colon) {
  ++pos_;
  std::vector<E*> items;
  for (;;) {
    if (check(TK::FSTRING_MIDDLE)) {
      // _PyPegen_decoded_constant_from_token: escapes are decoded even when raw.
      const Token& t = cur();
      ++pos_;
      std::string decoded, error;
      if (!decode_str(t.text, false, decoded, error)) raise_at_token(error, t);
      auto* c = make_at<Constant>(token_loc(t));
      c->value.kind = ConstantValue::Kind::Str;
      c->value.text = arena_.copy_string(decoded);
      items.push_back(c);
    } else if (check(TK::LBRACE)) {
      fstring_replacement_field_312(items, true, false);
    } else {
      break;
    }
  }
  if (items.size() == 1 && is_empty_str(items[0])) items.clear();
  auto* j = make<JoinedStr>(colon);
  j->values = seq(items);
  return j;
}

// CPython's _PyPegen_concatenate_strings over the items of `strings`.
ExprNode* Parser::concatenate_strings_312(const std::vector<E*>& items, const Loc& loc) {
  bool fstring = false, unicode = false, bytes = false;
  for (E* e : items) {
    if (const auto* c = as<Constant>(e)) {
      (c->value.kind == ConstantValue::Kind::Bytes ? bytes : unicode) = true;
    } else {
      fstring = true;
    }
  }
  if ((unicode || fstring) && bytes) {
    raise_at_token("cannot mix bytes and nonbytes literals", at(pos_));
  }
  if (bytes) {
    std::string value;
    for (E* e : items) value += static_cast<Constant*>(e)->value.text;
    auto* c = make_at<Constant>(loc);
    c->value.kind = ConstantValue::Kind::Bytes;
    c->value.text = arena_.copy_string(value);
    return c;
  }
  if (!fstring && items.size() == 1) return items[0];

  std::vector<E*> flat;
  for (E* e : items) {
    if (auto* j = as<JoinedStr>(e)) {
      for (E* v : j->values) flat.push_back(v);
    } else {
      flat.push_back(e);
    }
  }
  std::vector<E*> values;
  for (std::size_t i = 0; i < flat.size(); ++i) {
    E* e = flat[i];
    if (is<Constant>(e)) {
      std::size_t j = i + 1;
      while (j < flat.size() && is<Constant>(flat[j])) ++j;
      if (j - i > 1) {
        auto* first = static_cast<Constant*>(flat[i]);
        const Node* last = flat[j - 1];
        std::string value;
        for (std::size_t k = i; k < j; ++k) value += static_cast<Constant*>(flat[k])->value.text;
        auto* c = make_at<Constant>(
            {first->loc.lineno, first->loc.col_offset, last->loc.end_lineno,
             last->loc.end_col_offset});
        c->value.kind = ConstantValue::Kind::Str;
        c->value.text = arena_.copy_string(value);
        c->kind = first->kind;
        e = c;
        i = j - 1;
      }
      if (fstring && is_empty_str(e)) continue;
    }
    values.push_back(e);
  }
  if (!fstring) return values.front();
  auto* j = make_at<JoinedStr>(loc);
  j->values = seq(values);
  return j;
}

}  // namespace t2k::syntax
