// Line wrapping (see wrap.h).
#include "torch2keras/syntax/wrap.h"

#include <cstddef>
#include <map>
#include <set>
#include <vector>

#include "torch2keras/syntax/lexer.h"

namespace t2k::syntax {
namespace {

struct Tok {
  std::size_t begin, end;  // byte offsets in the source
  TokenKind kind;
};

bool opens(TokenKind k) { return k == TokenKind::LPAR || k == TokenKind::LSQB || k == TokenKind::LBRACE; }
bool closes(TokenKind k) { return k == TokenKind::RPAR || k == TokenKind::RSQB || k == TokenKind::RBRACE; }

// black's priority of a binary-operator delimiter (linegen's
// is_split_before_delimiter: a line is split before each operator of the highest
// priority at bracket depth 0); 0: not one. Comparisons share one priority, and
// so do `+ -` and `* / // % @`; `**` is never split.
int operator_priority(TokenKind k) {
  switch (k) {
    case TokenKind::KW_OR:
    case TokenKind::KW_AND: return 14;
    case TokenKind::EQEQUAL:
    case TokenKind::NOTEQUAL:
    case TokenKind::LESS:
    case TokenKind::GREATER:
    case TokenKind::LESSEQUAL:
    case TokenKind::GREATEREQUAL: return 10;
    case TokenKind::VBAR: return 9;
    case TokenKind::CIRCUMFLEX: return 8;
    case TokenKind::AMPER: return 7;
    case TokenKind::LEFTSHIFT:
    case TokenKind::RIGHTSHIFT: return 6;
    case TokenKind::PLUS:
    case TokenKind::MINUS: return 5;
    case TokenKind::STAR:
    case TokenKind::SLASH:
    case TokenKind::DOUBLESLASH:
    case TokenKind::PERCENT:
    case TokenKind::AT: return 4;
    default: return 0;
  }
}

// Whether a token is `=` or an augmented assignment (`+=`...): what precedes a
// statement's value.
bool assigns(TokenKind k) {
  switch (k) {
    case TokenKind::EQUAL:
    case TokenKind::PLUSEQUAL:
    case TokenKind::MINEQUAL:
    case TokenKind::STAREQUAL:
    case TokenKind::SLASHEQUAL:
    case TokenKind::PERCENTEQUAL:
    case TokenKind::AMPEREQUAL:
    case TokenKind::VBAREQUAL:
    case TokenKind::CIRCUMFLEXEQUAL:
    case TokenKind::LEFTSHIFTEQUAL:
    case TokenKind::RIGHTSHIFTEQUAL:
    case TokenKind::DOUBLESTAREQUAL:
    case TokenKind::DOUBLESLASHEQUAL:
    case TokenKind::ATEQUAL: return true;
    default: return false;
  }
}

// Whether a token ends an operand (so that a following `-` or `*` is binary).
bool ends_operand(TokenKind k) {
  return k == TokenKind::NAME || k == TokenKind::NUMBER || k == TokenKind::STRING || closes(k) ||
         k == TokenKind::KW_NONE || k == TokenKind::KW_TRUE || k == TokenKind::KW_FALSE;
}

class Wrapper {
 public:
  Wrapper(std::string_view source, int width, std::string& out) : src_(source), width_(width), out_(out) {}

  // Writes the statement of tokens [i, j) as lines at `indent`. A bare tuple
  // returned or assigned (`return a, b, c`) gets black's invisible parentheses:
  // `return (`, one item per line, `)`.
  void statement(const std::vector<Tok>& t, std::size_t i, std::size_t j, int indent) {
    if (!fits(indent, text(t, i, j).size())) {
      std::size_t value = j;
      if (t[i].kind == TokenKind::KW_RETURN) value = i + 1;
      int depth = 0;
      for (std::size_t k = i; k < j; ++k) {
        if (opens(t[k].kind)) ++depth;
        else if (closes(t[k].kind)) --depth;
        else if (depth == 0 && assigns(t[k].kind)) value = k + 1;
      }
      std::vector<std::pair<std::size_t, std::size_t>> items;
      std::size_t start = value;
      depth = 0;
      for (std::size_t k = value; k < j; ++k) {
        if (opens(t[k].kind)) ++depth;
        else if (closes(t[k].kind)) --depth;
        else if (depth == 0 && t[k].kind == TokenKind::COMMA) items.emplace_back(start, k), start = k + 1;
      }
      if (value < j && !items.empty()) {
        if (start < j) items.emplace_back(start, j);
        line(indent, text(t, i, value), " (");
        for (auto [a, b] : items) emit(t, a, b, indent + 4, ",", true);
        return line(indent, ")", "");
      }
      // A value with binary operators at its top: black's invisible parentheses
      // around it become visible, `total += (`, the value, `)` (can_omit_invisible_parens),
      // unless there is one operator and the value ends in a call or display whose
      // opening bracket ends a line that fits: `x = f(a) + g(` ... `)`.
      if (std::vector<std::size_t> ops = value > i && value < j && t[i].kind != TokenKind::KW_RETURN
                                             ? operator_splits(t, value, j)
                                             : std::vector<std::size_t>{};
          !ops.empty()) {
        bool bracket_split = false;
        if (ops.size() == 1 && (t[j - 1].kind == TokenKind::RPAR || t[j - 1].kind == TokenKind::RBRACE)) {
          int d = 0;
          std::size_t open = j - 1;
          for (std::size_t k = j; k-- > value;) {
            if (closes(t[k].kind)) ++d;
            else if (opens(t[k].kind) && --d == 0) {
              open = k;
              break;
            }
          }
          bracket_split = open + 2 < j && fits(indent, text(t, i, open + 1).size());
        }
        if (!bracket_split) {
          line(indent, text(t, i, value), " (");
          emit(t, value, j, indent + 4, "", true);
          return line(indent, ")", "");
        }
      }
    }
    emit(t, i, j, indent, "");
  }

  // The positions of the depth-0 `for` clauses of the comprehension [i, j) and of
  // its `if` clauses (after the first `for`; an `if` before it is a conditional
  // expression of the element); empty when [i, j) is no comprehension.
  std::vector<std::size_t> comprehension_parts(const std::vector<Tok>& t, std::size_t i, std::size_t j) const {
    std::vector<std::size_t> at;
    int depth = 0;
    for (std::size_t k = i; k < j; ++k) {
      if (opens(t[k].kind)) ++depth;
      else if (closes(t[k].kind)) --depth;
      else if (depth == 0 && k > i && (t[k].kind == TokenKind::KW_FOR || (t[k].kind == TokenKind::KW_IF && !at.empty()))) {
        // `async for` splits before `async`.
        at.push_back(t[k].kind == TokenKind::KW_FOR && t[k - 1].kind == TokenKind::KW_ASYNC ? k - 1 : k);
      }
    }
    return at;
  }

  // The positions of the depth-0 binary operators of [i, j) with the highest
  // priority, where black's delimiter split breaks a line inside brackets; empty
  // when there is none (or a comprehension or conditional, which split
  // otherwise). A lambda's parameters are skipped: its body splits.
  std::vector<std::size_t> operator_splits(const std::vector<Tok>& t, std::size_t i, std::size_t j) const {
    std::vector<std::size_t> at;
    int depth = 0, best = 0;
    for (std::size_t k = i; k < j; ++k) {
      if (k == i && t[k].kind == TokenKind::KW_LAMBDA) {
        k = lambda_colon(t, k, j);
        continue;
      }
      if (opens(t[k].kind)) ++depth;
      else if (closes(t[k].kind)) --depth;
      else if (depth == 0 && (t[k].kind == TokenKind::KW_FOR || t[k].kind == TokenKind::KW_LAMBDA ||
                              t[k].kind == TokenKind::KW_IF || t[k].kind == TokenKind::COLON))
        return {};
      else if (int p = operator_priority(t[k].kind); depth == 0 && p > 0 && k > i && ends_operand(t[k - 1].kind)) {
        if (p > best) best = p, at.clear();
        if (p == best) at.push_back(k);
      }
    }
    return at;
  }

  // The position of the `:` ending the parameters of the lambda at `k` (j if none).
  static std::size_t lambda_colon(const std::vector<Tok>& t, std::size_t k, std::size_t j) {
    int depth = 0;
    for (; k < j; ++k) {
      if (opens(t[k].kind)) ++depth;
      else if (closes(t[k].kind)) --depth;
      else if (depth == 0 && t[k].kind == TokenKind::COLON) return k;
    }
    return j;
  }

  // Writes tokens [i, j) as lines at `indent`, `suffix` after the last one.
  // `inside`: the tokens are an item inside brackets, which black splits before
  // its operators (one operand per line) before it splits a bracket.
  void emit(const std::vector<Tok>& t, std::size_t i, std::size_t j, int indent, std::string_view suffix,
            bool inside = false) {
    std::string_view all = text(t, i, j);
    if (fits(indent, all.size() + suffix.size())) return line(indent, all, suffix);
    if (inside) {
      if (std::vector<std::size_t> at = operator_splits(t, i, j); !at.empty()) {
        at.push_back(j);
        emit(t, i, at[0], indent, "");
        for (std::size_t k = 0; k + 1 < at.size(); ++k)
          emit(t, at[k], at[k + 1], indent, k + 2 == at.size() ? suffix : std::string_view(), true);
        return;
      }
    }
    // The rightmost bracket pair at depth 0 with something inside: an empty one
    // (`.item()`) stays with the line's tail, as black omits such trailers.
    std::size_t open = j, close = j, candidate = j;
    int depth = 0;
    for (std::size_t k = i; k < j; ++k) {
      if (opens(t[k].kind)) {
        if (depth == 0) candidate = k;
        ++depth;
      } else if (closes(t[k].kind)) {
        if (--depth == 0 && k > candidate + 1) open = candidate, close = k;
      }
    }
    if (open == j || close == open + 1) return line(indent, all, suffix);
    line(indent, text(t, i, open + 1), "");
    std::string_view inner = text(t, open + 1, close);
    if (fits(indent + 4, inner.size())) {
      line(indent + 4, inner, "");
    } else if (std::vector<std::size_t> parts = comprehension_parts(t, open + 1, close); !parts.empty()) {
      // A comprehension: its element, then each `for` and `if` clause on a line
      // (a comma of a `for a, b in ...` target is no item separator).
      parts.push_back(close);
      std::size_t start = open + 1;
      for (std::size_t at : parts) {
        emit(t, start, at, indent + 4, "", true);
        start = at;
      }
    } else {
      // One item per line: the bracket's depth-0 commas.
      std::vector<std::pair<std::size_t, std::size_t>> items;
      std::size_t start = open + 1;
      depth = 0;
      bool trailing_comma = false;
      for (std::size_t k = open + 1; k < close; ++k) {
        if (opens(t[k].kind)) ++depth;
        else if (closes(t[k].kind)) --depth;
        else if (depth == 0 && t[k].kind == TokenKind::KW_LAMBDA) k = lambda_colon(t, k, close);  // its parameters' commas
        else if (depth == 0 && t[k].kind == TokenKind::COMMA) {
          items.emplace_back(start, k);
          start = k + 1;
          trailing_comma = k + 1 == close;
        }
      }
      if (start < close) items.emplace_back(start, close);
      bool commas = items.size() > 1 || trailing_comma;
      for (auto [a, b] : items) emit(t, a, b, indent + 4, commas ? "," : "", true);
    }
    line(indent, text(t, close, j), suffix);
  }

 private:
  bool fits(int indent, std::size_t size) const { return static_cast<std::size_t>(indent) + size <= static_cast<std::size_t>(width_); }

  std::string_view text(const std::vector<Tok>& t, std::size_t i, std::size_t j) const {
    return src_.substr(t[i].begin, t[j - 1].end - t[i].begin);
  }

  void line(int indent, std::string_view body, std::string_view suffix) {
    out_.append(static_cast<std::size_t>(indent), ' ');
    out_ += body;
    out_ += suffix;
    out_ += '\n';
  }

  std::string_view src_;
  int width_;
  std::string& out_;
};

}  // namespace

std::string wrap_long_lines(std::string_view source, int width) {
  if (source.empty() || source.back() != '\n') return std::string(source);
  std::vector<Token> tokens;
  std::vector<Comment> comments;
  Lexer lexer(source, Lexer::Options{});
  lexer.tokenize(tokens, &comments);
  if (tokens.empty() || tokens.back().kind == TokenKind::ERRORTOKEN) return std::string(source);

  // Lines with a comment: a trailing one moves to the end of the wrapped code (as
  // black does); a line holding another is left as it is.
  std::map<int32_t, std::string_view> trailing;
  std::set<int32_t> commented;
  for (const Comment& c : comments) {
    if (c.own_line) commented.insert(c.lineno);
    else trailing[c.lineno] = c.text;
  }
  // Physical lines: where each starts.
  std::vector<std::size_t> line_start{0};
  for (std::size_t k = 0; k < source.size(); ++k)
    if (source[k] == '\n') line_start.push_back(k + 1);

  // Logical lines that sit on one physical line and are too long: line -> tokens.
  std::vector<std::pair<int32_t, std::vector<Tok>>> wrap;
  std::vector<Tok> current;
  bool one_line = true;
  int32_t lineno = 0;
  for (const Token& tok : tokens) {
    if (tok.kind == TokenKind::NEWLINE) {
      if (!current.empty() && one_line) wrap.emplace_back(lineno, std::move(current));
      current.clear();
      one_line = true;
      continue;
    }
    if (tok.kind == TokenKind::INDENT || tok.kind == TokenKind::DEDENT ||
        tok.kind == TokenKind::ENDMARKER)
      continue;
    if (current.empty()) lineno = tok.lineno;
    one_line = one_line && tok.lineno == lineno && tok.end_lineno == lineno;
    auto begin = static_cast<std::size_t>(tok.text.data() - source.data());
    current.push_back({begin, begin + tok.text.size(), tok.kind});
  }

  std::string out;
  out.reserve(source.size() + source.size() / 8);
  Wrapper wrapper(source, width, out);
  std::size_t next = 0;  // index into `wrap`
  for (std::size_t l = 0; l + 1 < line_start.size(); ++l) {
    auto number = static_cast<int32_t>(l + 1);
    std::string_view physical = source.substr(line_start[l], line_start[l + 1] - line_start[l]);
    while (next < wrap.size() && wrap[next].first < number) ++next;
    bool candidate = next < wrap.size() && wrap[next].first == number;
    if (!candidate || physical.size() - 1 <= static_cast<std::size_t>(width) || commented.count(number)) {
      out += physical;
      continue;
    }
    const std::vector<Tok>& toks = wrap[next].second;
    int indent = static_cast<int>(toks.front().begin - line_start[l]);
    auto comment = trailing.find(number);
    // Without its comment the line may fit.
    if (comment != trailing.end() && toks.back().end - line_start[l] <= static_cast<std::size_t>(width)) {
      out += physical;
      continue;
    }
    wrapper.statement(toks, 0, toks.size(), indent);
    if (comment != trailing.end()) {
      out.pop_back();  // the newline
      out += "  ";
      out += comment->second;
      out += '\n';
    }
  }
  return out;
}

}  // namespace t2k::syntax
