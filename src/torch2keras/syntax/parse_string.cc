// String literals: implicit concatenation, bytes/str mixing, and f-strings.
//
// Python 3.11 f-strings are single STRING tokens whose replacement fields are
// parsed afterwards by a sub-parser over the text "(" + expression + ")", as
// CPython 3.11's Parser/string_parser.c does. Its node positions have quirks we
// reproduce on purpose: literal parts and FormattedValue nodes carry the position
// of the whole concatenated string; a format spec's JoinedStr (and its last
// literal) carry the position of its own token; expression columns are shifted
// only on the first line of the field (see fstring_311_expression).
//
// In 3.12 mode strings() hands over to parse_fstring_312.cc (PEP 701 f-strings).
#include <cstring>

#include "torch2keras/syntax/lexer.h"
#include "torch2keras/syntax/parser_impl.h"
#include "torch2keras/syntax/string_literal.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

// CPython's FstringParser: the pieces of one JoinedStr being built.
struct FStringState {
  std::vector<ExprNode*> values;
  std::string last_str;  // pending literal text (empty pieces are dropped)
  bool fmode = false;    // an f-string was seen, so the result is a JoinedStr
};

namespace {

Loc loc_of(const Token& first, const Token& last) {
  return {first.lineno, first.col_offset, last.end_lineno, last.end_col_offset};
}

// A str Constant as CPython's make_str_node_and_del makes it: kind 'u' when the
// first token of the concatenation starts with a lowercase 'u'.
Constant* make_str(Arena& arena, std::string_view value, const Token& first, const Token& last) {
  auto* c = arena.make<Constant>();
  static_cast<Node*>(c)->kind = NodeKind::Constant;
  c->loc = loc_of(first, last);
  c->value.kind = ConstantValue::Kind::Str;
  c->value.text = arena.copy_string(value);
  if (!first.text.empty() && first.text[0] == 'u') c->kind = "u";
  return c;
}

// CPython's _PyPegen_FstringParser_Finish.
ExprNode* finish(Arena& arena, FStringState& state, const Token& first, const Token& last) {
  if (!state.fmode) return make_str(arena, state.last_str, first, last);
  if (!state.last_str.empty()) {
    state.values.push_back(make_str(arena, state.last_str, first, last));
    state.last_str.clear();
  }
  auto* j = arena.make<JoinedStr>();
  static_cast<Node*>(j)->kind = NodeKind::JoinedStr;
  j->loc = loc_of(first, last);
  j->values = Seq<ExprNode*>(arena.copy(std::span<ExprNode* const>(state.values)));
  return j;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

}  // namespace

// CPython reports string errors at the token after the strings.
const Token& Parser::token_after_strings() {
  std::size_t k = mark();
  while (kind_at(k) == TK::STRING) ++k;
  return at(k);
}

//G strings: STRING+
// (3.12: `strings: (fstring|string)+`, in parse_fstring_312.cc.)
ExprNode* Parser::strings() {
  if (options_.minor >= 12) return strings_312();
  std::size_t start = mark();
  std::size_t end = start;
  while (kind_at(end) == TK::STRING) ++end;
  // CPython reports string errors at the token after the strings.
  const Token& after = at(end);
  const Token& first = tokens_[start];
  const Token& last = tokens_[end - 1];
  bool bytesmode = false;
  std::string bytes_value;
  FStringState state;
  std::string decoded, error;
  for (std::size_t i = start; i < end; ++i) {
    const Token& t = tokens_[i];
    StringToken st = split_string_token(t.text);
    if (st.bytes) {
      if (!decode_bytes(st.body, st.raw, decoded, error)) {
        if (error[0] == 'b') raise_at_token(error, t);
        raise_at_token(error, after);
      }
    } else if (!st.fstring) {
      if (!decode_str(st.body, st.raw, decoded, error)) raise_at_token(error, after);
    }
    if (i != start && bytesmode != st.bytes) {
      raise_at_token("cannot mix bytes and nonbytes literals", after);
    }
    bytesmode = st.bytes;
    if (st.fstring) {
      std::size_t pos = 0;
      fstring_311(st.body, pos, st.raw, 0, t, first, last, state);
    } else if (bytesmode) {
      bytes_value += decoded;
    } else {
      state.last_str += decoded;
    }
  }
  pos_ = end;
  if (bytesmode) {
    auto* c = make_at<Constant>(loc_of(first, last));
    c->value.kind = ConstantValue::Kind::Bytes;
    c->value.text = arena_.copy_string(bytes_value);
    return c;
  }
  return finish(arena_, state, first, last);
}

// CPython 3.11's _PyPegen_FstringParser_ConcatFstring over `body` from `i`: at
// recursion level 0 up to the end, in a format spec up to its closing '}'.
void Parser::fstring_311(std::string_view body, std::size_t& i, bool raw, int recurse_level,
                         const Token& t, const Token& first, const Token& last,
                         FStringState& state) {
  state.fmode = true;
  std::size_t end = body.size();
  for (;;) {
    // fstring_find_literal: up to an undoubled '{' (not part of "\N{...}"),
    // or a '}' (the end of a format spec).
    std::size_t s = i;
    std::size_t literal_start = s;
    std::size_t literal_end;
    bool doubled = false;
    for (;;) {
      if (s >= end) {
        literal_end = s;
        i = s;
        break;
      }
      char ch = body[s++];
      if (!raw && ch == '\\' && s < end) {
        ch = body[s++];
        if (ch == 'N') {
          if (s < end && body[s++] == '{') {
            while (s < end && body[s++] != '}') {
            }
          }
          continue;
        }
      }
      if (ch == '{' || ch == '}') {
        if (recurse_level == 0) {
          if (s < end && body[s] == ch) {
            literal_end = s;  // keep one brace
            i = s + 1;
            doubled = true;
            break;
          }
          if (ch == '}') raise_at_token("f-string: single '}' is not allowed", token_after_strings());
        }
        --s;
        literal_end = s;
        i = s;
        break;
      }
    }
    if (literal_end > literal_start) {
      std::string decoded, error;
      if (!decode_str(body.substr(literal_start, literal_end - literal_start), raw, decoded,
                      error)) {
        raise_at_token(error, token_after_strings());
      }
      state.last_str += decoded;
    }
    if (doubled) continue;
    if (i >= end || body[i] == '}') break;

    std::string expr_text;
    ExprNode* expression =
        fstring_311_field(body, i, raw, recurse_level, t, first, last, expr_text);
    state.last_str += expr_text;
    if (!state.last_str.empty()) {
      state.values.push_back(make_str(arena_, state.last_str, first, last));
      state.last_str.clear();
    }
    state.values.push_back(expression);
  }
  if (recurse_level != 0 && (i >= end || body[i] != '}')) {
    raise_at_token("f-string: expecting '}'", token_after_strings());
  }
}

// CPython 3.11's fstring_find_expr: one replacement field starting at the '{' at
// body[i]; leaves `i` after its closing '}'.
ExprNode* Parser::fstring_311_field(std::string_view body, std::size_t& i, bool raw,
                                    int recurse_level, const Token& t, const Token& first,
                                    const Token& last, std::string& expr_text) {
  const Token& error_token = token_after_strings();
  auto fail = [&](const std::string& message) { raise_at_token(message, error_token); };
  if (recurse_level >= 2) fail("f-string: expressions nested too deeply");
  std::size_t end = body.size();
  ++i;  // '{'
  std::size_t expr_start = i;
  char quote_char = 0;
  int string_type = 0;
  std::vector<char> parens;
  for (; i < end; ++i) {
    char ch = body[i];
    if (ch == '\\') fail("f-string expression part cannot include a backslash");
    if (quote_char != 0) {
      if (ch == quote_char) {
        if (string_type == 3) {
          if (i + 2 < end && body[i + 1] == ch && body[i + 2] == ch) {
            i += 2;
            string_type = 0;
            quote_char = 0;
          }
        } else {
          string_type = 0;
          quote_char = 0;
        }
      }
      continue;
    }
    if (ch == '\'' || ch == '"') {
      if (i + 2 < end && body[i + 1] == ch && body[i + 2] == ch) {
        string_type = 3;
        i += 2;
      } else {
        string_type = 1;
      }
      quote_char = ch;
    } else if (ch == '[' || ch == '{' || ch == '(') {
      if (parens.size() >= 200) fail("f-string: too many nested parenthesis");
      parens.push_back(ch);
    } else if (ch == '#') {
      fail("f-string expression part cannot include '#'");
    } else if (parens.empty() &&
               (ch == '!' || ch == ':' || ch == '}' || ch == '=' || ch == '>' || ch == '<')) {
      if (i + 1 < end) {
        char next = body[i + 1];
        if ((ch == '!' && next == '=') || (ch == '=' && next == '=') ||
            (ch == '<' && next == '=') || (ch == '>' && next == '=')) {
          ++i;
          continue;
        }
      }
      if (ch == '>' || ch == '<') continue;
      break;
    } else if (ch == ']' || ch == '}' || ch == ')') {
      if (parens.empty()) fail(std::string("f-string: unmatched '") + ch + "'");
      char opening = parens.back();
      parens.pop_back();
      if (!((opening == '(' && ch == ')') || (opening == '[' && ch == ']') ||
            (opening == '{' && ch == '}'))) {
        fail(std::string("f-string: closing parenthesis '") + ch +
             "' does not match opening parenthesis '" + opening + "'");
      }
    }
  }
  std::size_t expr_end = i;
  if (quote_char != 0) fail("f-string: unterminated string");
  if (!parens.empty()) fail(std::string("f-string: unmatched '") + parens.back() + "'");
  if (i >= end) fail("f-string: expecting '}'");

  ExprNode* value = fstring_311_expression(body, expr_start, expr_end, t);

  if (body[i] == '=') {
    ++i;
    while (i < end && is_ascii_space(body[i])) ++i;
    if (i >= end) fail("f-string: expecting '}'");
    expr_text.assign(body.substr(expr_start, i - expr_start));
  }
  int conversion = -1;
  if (body[i] == '!') {
    ++i;
    if (i >= end) fail("f-string: expecting '}'");
    conversion = static_cast<unsigned char>(body[i]);
    ++i;
    if (!(conversion == 's' || conversion == 'r' || conversion == 'a')) {
      fail("f-string: invalid conversion character: expected 's', 'r', or 'a'");
    }
  }
  ExprNode* format_spec = nullptr;
  if (i < end && body[i] == ':') {
    ++i;
    if (i >= end) fail("f-string: expecting '}'");
    // fstring_parse: a nested JoinedStr positioned at this token alone.
    FStringState spec;
    fstring_311(body, i, raw, recurse_level + 1, t, first, last, spec);
    format_spec = finish(arena_, spec, t, t);
  }
  if (i >= end || body[i] != '}') fail("f-string: expecting '}'");
  ++i;
  if (!expr_text.empty() && format_spec == nullptr && conversion == -1) conversion = 'r';
  auto* f = make_at<FormattedValue>(loc_of(first, last));
  f->value = value;
  f->conversion = conversion;
  f->format_spec = format_spec;
  return f;
}

// CPython 3.11's fstring_compile_expr: parses body[expr_start, expr_end) as
// "(" + text + ")" with a sub-parser whose tokens get CPython's positions.
ExprNode* Parser::fstring_311_expression(std::string_view body, std::size_t expr_start,
                                         std::size_t expr_end, const Token& t) {
  const Token& error_token = token_after_strings();
  std::size_t s = expr_start;
  while (s < expr_end && (body[s] == ' ' || body[s] == '\t' || body[s] == '\n' ||
                          body[s] == '\f')) {
    ++s;
  }
  if (s == expr_end) {
    char c = body[expr_end];
    if (c == '!' || c == ':' || c == '=') {
      raise_at_token(std::string("f-string: expression required before '") + c + "'",
                     error_token);
    }
    raise_at_token("f-string: empty expression not allowed", error_token);
  }

  // fstring_find_expr_location: the line and column of the '{' within the token.
  std::string_view text = t.text;
  std::size_t brace = static_cast<std::size_t>(body.data() - text.data()) + expr_start - 1;
  bool newline_after_brace = true;
  for (std::size_t p = brace + 1; p < text.size() && text[p] != '}' && text[p] != '\n'; ++p) {
    if (text[p] != ' ' && text[p] != '\t' && text[p] != '\f') {
      newline_after_brace = false;
      break;
    }
  }
  int32_t cols = 0, lines = 0;
  if (!newline_after_brace) {
    std::size_t p = brace;
    while (p > 0 && text[p] != '\n') --p;
    cols = static_cast<int32_t>(brace - p);
    if (text[p] == '\n') cols -= 1;
  }
  for (std::size_t p = 0; p < brace; ++p)
    if (text[p] == '\n') ++lines;

  std::string buffer;
  buffer.reserve(expr_end - expr_start + 3);
  buffer += '(';
  buffer.append(body.substr(expr_start, expr_end - expr_start));
  buffer += ")\n";
  std::string_view owned = arena_.copy_string(buffer);

  Lexer::Options lex_options;
  lex_options.minor = 11;
  lex_options.first_lineno = t.lineno + lines;
  lex_options.first_line_col_shift = lines != 0 ? cols : t.col_offset + cols;
  Lexer lexer(owned, lex_options);
  std::vector<Token> tokens;
  lexer.tokenize(tokens, nullptr);

  Parser sub(tokens, arena_, options_, lexer.error());
  sub.depth_ = depth_;
  std::optional<SyntaxError> sub_error;
  ExprNode* e = sub.parse_fstring_field(sub_error);
  if (e == nullptr) {
    error_ = *sub_error;
    error_->message = "f-string: " + error_->message;
    throw ParseAbort{};
  }
  return e;
}

}  // namespace t2k::syntax
