// The tokenizer. See lexer.h; the rules and messages below are CPython 3.11's
// (Parser/tokenizer.c), checked against the interpreter by tests/conformance,
// except f-strings in 3.12 mode, which follow CPython 3.12.1 (the PEP 701 section).
#include "torch2keras/syntax/lexer.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "torch2keras/base/unicode.h"
#include "torch2keras/syntax/string_literal.h"

namespace t2k::syntax {

namespace {

constexpr int kMaxIndent = 100;  // CPython's MAXINDENT
constexpr int kMaxLevel = 200;   // CPython's MAXLEVEL (bracket nesting)
constexpr int kTabSize = 8;
constexpr int kMaxFStringLevel = 150;  // CPython 3.12's MAXFSTRINGLEVEL (mode stack size)
constexpr int kMaxExprNesting = 3;     // CPython 3.12's MAX_EXPR_NESTING (fields in specs)

bool is_digit(int c) { return c >= '0' && c <= '9'; }
bool is_xdigit(int c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_identifier_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 128;
}
bool is_identifier_char(int c) { return is_identifier_start(c) || is_digit(c); }

struct KeywordEntry {
  std::string_view spelling;
  TokenKind kind;
};
constexpr KeywordEntry kKeywords[] = {
#define T2K_TOKEN(name, spelling)
#define T2K_KEYWORD(name, spelling) {spelling, TokenKind::name},
#define T2K_OTHER(name)
#include "torch2keras/syntax/token_kinds.def"
};

// Three-, two- and one-character operators, longest first (CPython's PyToken_*Chars).
TokenKind operator_kind(const char* p, const char* end, int* length) {
  auto at = [&](int i) -> int { return p + i < end ? static_cast<unsigned char>(p[i]) : -1; };
  int c0 = at(0), c1 = at(1), c2 = at(2);
  *length = 3;
  if (c2 == '=') {
    if (c0 == '*' && c1 == '*') return TokenKind::DOUBLESTAREQUAL;
    if (c0 == '/' && c1 == '/') return TokenKind::DOUBLESLASHEQUAL;
    if (c0 == '<' && c1 == '<') return TokenKind::LEFTSHIFTEQUAL;
    if (c0 == '>' && c1 == '>') return TokenKind::RIGHTSHIFTEQUAL;
  }
  if (c0 == '.' && c1 == '.' && c2 == '.') return TokenKind::ELLIPSIS;
  *length = 2;
  switch (c0) {
    case '=': if (c1 == '=') return TokenKind::EQEQUAL; break;
    case '!': if (c1 == '=') return TokenKind::NOTEQUAL; break;
    case '<':
      if (c1 == '=') return TokenKind::LESSEQUAL;
      if (c1 == '<') return TokenKind::LEFTSHIFT;
      if (c1 == '>') return TokenKind::NOTEQUAL;  // `<>`: rejected by the parser
      break;
    case '>':
      if (c1 == '=') return TokenKind::GREATEREQUAL;
      if (c1 == '>') return TokenKind::RIGHTSHIFT;
      break;
    case '+': if (c1 == '=') return TokenKind::PLUSEQUAL; break;
    case '-':
      if (c1 == '=') return TokenKind::MINEQUAL;
      if (c1 == '>') return TokenKind::RARROW;
      break;
    case '*':
      if (c1 == '*') return TokenKind::DOUBLESTAR;
      if (c1 == '=') return TokenKind::STAREQUAL;
      break;
    case '/':
      if (c1 == '/') return TokenKind::DOUBLESLASH;
      if (c1 == '=') return TokenKind::SLASHEQUAL;
      break;
    case '%': if (c1 == '=') return TokenKind::PERCENTEQUAL; break;
    case '&': if (c1 == '=') return TokenKind::AMPEREQUAL; break;
    case '|': if (c1 == '=') return TokenKind::VBAREQUAL; break;
    case '^': if (c1 == '=') return TokenKind::CIRCUMFLEXEQUAL; break;
    case '@': if (c1 == '=') return TokenKind::ATEQUAL; break;
    case ':': if (c1 == '=') return TokenKind::COLONEQUAL; break;
    default: break;
  }
  *length = 1;
  switch (c0) {
    case '(': return TokenKind::LPAR;
    case ')': return TokenKind::RPAR;
    case '[': return TokenKind::LSQB;
    case ']': return TokenKind::RSQB;
    case ':': return TokenKind::COLON;
    case ',': return TokenKind::COMMA;
    case ';': return TokenKind::SEMI;
    case '+': return TokenKind::PLUS;
    case '-': return TokenKind::MINUS;
    case '*': return TokenKind::STAR;
    case '/': return TokenKind::SLASH;
    case '|': return TokenKind::VBAR;
    case '&': return TokenKind::AMPER;
    case '<': return TokenKind::LESS;
    case '>': return TokenKind::GREATER;
    case '=': return TokenKind::EQUAL;
    case '.': return TokenKind::DOT;
    case '%': return TokenKind::PERCENT;
    case '{': return TokenKind::LBRACE;
    case '}': return TokenKind::RBRACE;
    case '~': return TokenKind::TILDE;
    case '^': return TokenKind::CIRCUMFLEX;
    case '@': return TokenKind::AT;
    default: return TokenKind::OP;
  }
}

}  // namespace

TokenKind keyword_kind(std::string_view name) {
  if (name.size() < 2 || name.size() > 8) return TokenKind::NAME;
  for (const KeywordEntry& entry : kKeywords)
    if (entry.spelling == name) return entry.kind;
  return TokenKind::NAME;
}

const char* token_name(TokenKind kind) {
  static constexpr const char* kNames[] = {
#define T2K_TOKEN(name, spelling) #name,
#define T2K_KEYWORD(name, spelling) spelling,
#define T2K_OTHER(name) #name,
#include "torch2keras/syntax/token_kinds.def"
  };
  return kNames[static_cast<int>(kind)];
}

const char* token_spelling(TokenKind kind) {
  static constexpr const char* kSpellings[] = {
#define T2K_TOKEN(name, spelling) spelling,
#define T2K_KEYWORD(name, spelling) spelling,
#define T2K_OTHER(name) "",
#include "torch2keras/syntax/token_kinds.def"
  };
  return kSpellings[static_cast<int>(kind)];
}

// The tokenizer state for one run. Offsets are indices into `text`.
struct Lexer::Impl {
  std::string_view text;
  Options options;
  std::vector<Token>& tokens;
  std::vector<Comment>* comments;
  std::optional<SyntaxError>& error;

  std::size_t pos = 0;
  std::size_t line_start = 0;  // offset of the current line's first byte
  int32_t lineno;
  bool atbol = true;
  bool blankline = false;

  int indent = 0;  // index into indstack
  int pendin = 0;  // pending INDENT (> 0) or DEDENT (< 0) tokens
  int indstack[kMaxIndent + 1] = {0};
  int altindstack[kMaxIndent + 1] = {0};

  int level = 0;  // bracket depth
  char parenstack[kMaxLevel];
  int32_t parenlinenostack[kMaxLevel];
  int32_t parencolstack[kMaxLevel];

  Impl(std::string_view t, Options o, std::vector<Token>& out, std::vector<Comment>* c,
       std::optional<SyntaxError>& e)
      : text(t), options(o), tokens(out), comments(c), error(e), lineno(o.first_lineno) {}

  int peek(std::size_t at) const {
    return at < text.size() ? static_cast<unsigned char>(text[at]) : -1;
  }
  int32_t col(std::size_t offset, std::size_t of_line) const {
    return static_cast<int32_t>(offset - of_line);
  }
  int32_t shift_for(int32_t end_line) const {
    return end_line == options.first_lineno ? options.first_line_col_shift : 0;
  }

  // Emits a token from `begin` (on line `first_line`, which starts at `first_line_start`)
  // to `end` on the current line.
  void emit(TokenKind kind, std::size_t begin, std::size_t end, int32_t first_line,
            std::size_t first_line_start) {
    int32_t shift = shift_for(lineno);
    tokens.push_back(Token{kind, text.substr(begin, end - begin), first_line,
                           col(begin, first_line_start) + shift, lineno,
                           col(end, line_start) + shift});
  }
  void emit(TokenKind kind, std::size_t begin, std::size_t end) {
    emit(kind, begin, end, lineno, line_start);
  }

  // Records an error spanning [begin, end) on the current line and emits ERRORTOKEN.
  void fail(SyntaxError::Kind kind, std::string message, std::size_t begin, std::size_t end) {
    int32_t shift = shift_for(lineno);
    SyntaxError e;
    e.kind = kind;
    e.message = std::move(message);
    e.lineno = lineno;
    e.col_offset = col(begin, line_start) + shift;
    e.end_lineno = lineno;
    e.end_col_offset = col(end, line_start) + shift;
    error = e;
    tokens.push_back(Token{TokenKind::ERRORTOKEN, text.substr(begin, end - begin), e.lineno,
                           e.col_offset, e.end_lineno, e.end_col_offset});
  }
  void fail(std::string message, std::size_t begin, std::size_t end) {
    fail(SyntaxError::Kind::SyntaxError, std::move(message), begin, end);
  }
  // CPython's syntaxerror(): points at the token start, up to the current position.
  void fail_at(std::string message, std::size_t begin, std::size_t here) {
    fail(std::move(message), begin, here);
  }

  void new_line(std::size_t newline_offset) {
    ++lineno;
    line_start = newline_offset + 1;
  }

  void run();
  bool process_indentation();  // false on error
  bool lex_number(std::size_t start, std::size_t& p);
  bool verify_end_of_number(std::size_t start, std::size_t& p, const char* kind);
  bool lex_decimal_tail(std::size_t start, std::size_t& p);
  bool lex_string(std::size_t start, std::size_t quote_at);
  bool verify_identifier(std::size_t start, std::size_t end);

  // ---- PEP 701 f-strings (3.12 mode): CPython 3.12's tokenizer modes ----------
  // One entry per f-string being tokenized, innermost last (CPython's
  // tok_mode_stack above its regular mode). While `in_literal`, the text is
  // scanned as literal parts (FSTRING_MIDDLE) up to a replacement field or the
  // closing quotes; otherwise the regular rules apply, with the brackets of the
  // field counted here so that its ':' and '}' can be recognized.
  struct FStringMode {
    int quote = '"';
    int quote_size = 1;  // 1 or 3
    bool raw = false;
    bool in_literal = true;
    // CPython's curly_bracket_depth (brackets open in this f-string, the fields'
    // own braces included) and curly_bracket_expr_start_depth (-1 between fields,
    // 0 in a field, 1 in a field nested in a format spec, ...).
    int bracket_depth = 0;
    int expr_start_depth = -1;
    // A ':', '!' or '}' ended the expression of the current top-level field
    // (CPython's last_expr_end != -1): literal text now is a format spec.
    bool expression_ended = false;
    std::size_t start = 0;  // the prefix, for "unterminated f-string literal"
    int32_t start_line = 0;
    std::size_t start_line_start = 0;
  };
  enum class FStringStep { Emitted, Field, Error };
  std::vector<FStringMode> fstring_modes;
  bool lex_fstring_start(std::size_t start, std::size_t quote_at);
  FStringStep lex_fstring_literal();
  bool enter_fstring_field(std::size_t brace);
  bool lex_fstring_field_operator(std::size_t start);
  bool fstring_quote_error(int quote, int quote_size, std::size_t start);
};

Lexer::Lexer(std::string_view text, Options options) : text_(text), options_(options) {}

void Lexer::tokenize(std::vector<Token>& tokens, std::vector<Comment>* comments) {
  error_.reset();
  Impl impl(text_, options_, tokens, comments, error_);
  impl.run();
}

bool Lexer::Impl::process_indentation() {
  int column = 0, altcolumn = 0;
  // Indentation cannot be split over lines with backslashes: the column of the
  // first backslash (when not 0, as CPython tests it) is the line's indentation.
  int cont_line_col = 0;
  for (;;) {
    int c = peek(pos);
    if (c == ' ') {
      ++column;
      ++altcolumn;
    } else if (c == '\t') {
      column = (column / kTabSize + 1) * kTabSize;
      altcolumn = altcolumn + 1;
    } else if (c == '\014') {  // form feed resets the count, as in CPython
      column = altcolumn = 0;
    } else if (c == '\\') {
      cont_line_col = cont_line_col != 0 ? cont_line_col : column;
      if (peek(pos + 1) != '\n') {
        fail("unexpected character after line continuation character", pos + 1, pos + 2);
        return false;
      }
      pos += 2;
      new_line(pos - 1);
      if (peek(pos) == -1) {
        fail("unexpected EOF while parsing", pos, pos);
        return false;
      }
      continue;
    } else {
      break;
    }
    ++pos;
  }
  int c = peek(pos);
  // Lines holding only whitespace and/or a comment do not affect indentation.
  blankline = (c == '#' || c == '\n');
  if (c == -1) {  // end of input: dedent to the first column
    column = altcolumn = 0;
    blankline = false;
  }
  if (blankline || level != 0) return true;
  if (cont_line_col != 0) column = altcolumn = cont_line_col;
  if (column == indstack[indent]) {
    if (altcolumn != altindstack[indent]) {
      fail(SyntaxError::Kind::TabError, "inconsistent use of tabs and spaces in indentation",
           line_start, line_start);
      return false;
    }
  } else if (column > indstack[indent]) {
    if (indent + 1 >= kMaxIndent) {
      fail(SyntaxError::Kind::IndentationError, "too many levels of indentation", line_start,
           line_start);
      return false;
    }
    if (altcolumn <= altindstack[indent]) {
      fail(SyntaxError::Kind::TabError, "inconsistent use of tabs and spaces in indentation",
           line_start, line_start);
      return false;
    }
    ++pendin;
    indstack[++indent] = column;
    altindstack[indent] = altcolumn;
  } else {
    while (indent > 0 && column < indstack[indent]) {
      --pendin;
      --indent;
    }
    if (column != indstack[indent]) {
      fail(SyntaxError::Kind::IndentationError,
           "unindent does not match any outer indentation level", text.find('\n', pos),
           text.find('\n', pos));
      return false;
    }
    if (altcolumn != altindstack[indent]) {
      fail(SyntaxError::Kind::TabError, "inconsistent use of tabs and spaces in indentation",
           line_start, line_start);
      return false;
    }
  }
  return true;
}

bool Lexer::Impl::verify_end_of_number(std::size_t start, std::size_t& p, const char* kind) {
  // CPython accepts (with a DeprecationWarning) a number directly followed by a
  // keyword that can follow a number in valid code ("1if x else y"); any other
  // identifier character right after a number is an error.
  int c = peek(p);
  auto follows = [&](const char* rest) {
    return text.compare(p + 1, std::strlen(rest), rest) == 0;
  };
  bool keyword = false;
  switch (c) {
    case 'a': keyword = follows("nd"); break;
    case 'e': keyword = follows("lse"); break;
    case 'f': keyword = follows("or"); break;
    case 'i': {
      int c2 = peek(p + 1);
      keyword = (c2 == 'f' || c2 == 'n' || c2 == 's');
      break;
    }
    case 'o': keyword = follows("r"); break;
    case 'n': keyword = follows("ot"); break;
    default: break;
  }
  if (keyword) return true;
  if (c != -1 && is_identifier_char(c)) {
    fail_at(std::string("invalid ") + kind + " literal", start, p + 1);
    return false;
  }
  return true;
}

bool Lexer::Impl::lex_decimal_tail(std::size_t start, std::size_t& p) {
  for (;;) {
    while (is_digit(peek(p))) ++p;
    if (peek(p) != '_') return true;
    ++p;
    if (!is_digit(peek(p))) {
      fail_at("invalid decimal literal", start, p);
      return false;
    }
  }
}

// Scans a number starting at `start`; on success `p` is one past its end.
bool Lexer::Impl::lex_number(std::size_t start, std::size_t& p) {
  p = start;
  int c = peek(p);
  auto fraction_exponent_imaginary = [&]() -> bool {
    // At the character after the integer part (or after a leading '.').
    if (peek(p) == '.') {
      ++p;
      if (is_digit(peek(p)) && !lex_decimal_tail(start, p)) return false;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
      std::size_t e = p;
      ++p;
      int s = peek(p);
      if (s == '+' || s == '-') {
        ++p;
        if (!is_digit(peek(p))) {
          fail_at("invalid decimal literal", start, p);
          return false;
        }
      } else if (!is_digit(s)) {
        p = e;
        return verify_end_of_number(start, p, "decimal");
      }
      if (!lex_decimal_tail(start, p)) return false;
    }
    if (peek(p) == 'j' || peek(p) == 'J') {
      ++p;
      return verify_end_of_number(start, p, "imaginary");
    }
    return verify_end_of_number(start, p, "decimal");
  };

  if (c == '.') {  // ".5": the caller saw a digit after the dot
    return fraction_exponent_imaginary();
  }
  if (c != '0') {
    if (!lex_decimal_tail(start, p)) return false;
    return fraction_exponent_imaginary();
  }
  ++p;
  c = peek(p);
  if (c == 'x' || c == 'X') {
    ++p;
    do {
      if (peek(p) == '_') ++p;
      if (!is_xdigit(peek(p))) {
        fail_at("invalid hexadecimal literal", start, p);
        return false;
      }
      while (is_xdigit(peek(p))) ++p;
    } while (peek(p) == '_');
    return verify_end_of_number(start, p, "hexadecimal");
  }
  if (c == 'o' || c == 'O' || c == 'b' || c == 'B') {
    bool octal = (c == 'o' || c == 'O');
    const char* kind = octal ? "octal" : "binary";
    int limit = octal ? '8' : '2';
    ++p;
    do {
      if (peek(p) == '_') ++p;
      int d = peek(p);
      if (d < '0' || d >= limit) {
        if (is_digit(d)) {
          fail_at(std::string("invalid digit '") + static_cast<char>(d) + "' in " + kind +
                      " literal",
                  start, p + 1);
        } else {
          fail_at(std::string("invalid ") + kind + " literal", start, p);
        }
        return false;
      }
      while (peek(p) >= '0' && peek(p) < limit) ++p;
    } while (peek(p) == '_');
    if (is_digit(peek(p))) {
      fail_at(std::string("invalid digit '") + static_cast<char>(peek(p)) + "' in " + kind +
                  " literal",
              start, p + 1);
      return false;
    }
    return verify_end_of_number(start, p, kind);
  }
  // "0", "00", "0_0", or an old-style octal (now an error), or a float "0.5", "09.5".
  bool nonzero = false;
  for (;;) {
    if (peek(p) == '_') {
      ++p;
      if (!is_digit(peek(p))) {
        fail_at("invalid decimal literal", start, p);
        return false;
      }
    }
    if (peek(p) != '0') break;
    ++p;
  }
  std::size_t zeros_end = p;
  if (is_digit(peek(p))) {
    nonzero = true;
    if (!lex_decimal_tail(start, p)) return false;
  }
  c = peek(p);
  if (c == '.' || c == 'e' || c == 'E' || c == 'j' || c == 'J')
    return fraction_exponent_imaginary();
  if (nonzero) {
    fail("leading zeros in decimal integer literals are not permitted; use an 0o prefix for "
         "octal integers",
         start, zeros_end);
    return false;
  }
  return verify_end_of_number(start, p, "decimal");
}

// Checks a NAME containing non-ASCII bytes: valid UTF-8 whose characters are
// XID_Start/XID_Continue (CPython's verify_identifier).
bool Lexer::Impl::verify_identifier(std::size_t start, std::size_t end) {
  std::size_t i = start;
  bool first = true;
  while (i < end) {
    std::size_t char_start = i;
    std::optional<char32_t> c = unicode::decode_utf8(text, i);
    if (!c) {
      fail(utf8_error(text.substr(start, end - start), char_start - start), char_start,
           char_start + 1);
      return false;
    }
    bool ok = first ? (*c == U'_' || unicode::is_xid_start(*c)) : unicode::is_xid_continue(*c);
    first = false;
    if (!ok) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(*c));
      std::string message;
      if (unicode::is_printable(*c)) {
        message = "invalid character '";
        message.append(text.substr(char_start, i - char_start));
        message += "' (U+";
        message += hex;
        message += ")";
      } else {
        message = std::string("invalid non-printable character U+") + hex;
      }
      fail(std::move(message), char_start, i);
      return false;
    }
  }
  return true;
}

// Scans a string literal whose prefix starts at `start` and whose opening quote is
// at `quote_at`. Emits STRING, or an error for an unterminated literal.
bool Lexer::Impl::lex_string(std::size_t start, std::size_t quote_at) {
  int32_t first_line = lineno;
  std::size_t first_line_start = line_start;
  int quote = peek(quote_at);
  std::size_t p = quote_at + 1;
  int quote_size = 1;
  int end_quote_size = 0;
  if (peek(p) == quote) {
    if (peek(p + 1) == quote) {
      quote_size = 3;
      p += 2;
    } else {
      end_quote_size = 1;  // the empty string
      p += 1;
    }
  }
  while (end_quote_size != quote_size) {
    int c = peek(p);
    if (c == -1 || (quote_size == 1 && c == '\n')) {
      // CPython reports from the opening quote, on the line where the string began.
      // CPython counts lines as it reads them: at the end of input the last line
      // read is the one before the final newline.
      int32_t detected_at = (c == -1 && p > 0 && text[p - 1] == '\n') ? lineno - 1 : lineno;
      lineno = first_line;
      line_start = first_line_start;
      if (fstring_quote_error(quote, quote_size, start)) return false;
      std::string message = quote_size == 3
                                ? "unterminated triple-quoted string literal (detected at line "
                                : "unterminated string literal (detected at line ";
      message += std::to_string(detected_at) + ")";
      fail(std::move(message), start, start + 1);
      return false;
    }
    ++p;
    if (c == quote) {
      ++end_quote_size;
      continue;
    }
    end_quote_size = 0;
    if (c == '\n') {
      new_line(p - 1);
    } else if (c == '\\') {
      int escaped = peek(p);
      if (escaped == -1) continue;
      ++p;
      if (escaped == '\n') new_line(p - 1);
    }
  }
  pos = p;
  emit(TokenKind::STRING, start, p, first_line, first_line_start);
  return true;
}

// ---- PEP 701 f-strings (3.12 mode) -------------------------------------------
// CPython 3.12 tokenizes an f-string in place: FSTRING_START (prefix and quotes),
// then literal parts (FSTRING_MIDDLE) and the ordinary tokens of each replacement
// field, then FSTRING_END. A field's ':' at its own bracket level switches back to
// literal scanning for the format spec, whose nested fields nest the same way.
// The quirks below (which '{{' and '}}' are escapes, where a literal part ends,
// its positions) are those of CPython 3.12.1, checked against the interpreter.

// Emits FSTRING_START for the prefix at `start` and the quotes at `quote_at`.
bool Lexer::Impl::lex_fstring_start(std::size_t start, std::size_t quote_at) {
  int quote = peek(quote_at);
  int quote_size = (peek(quote_at + 1) == quote && peek(quote_at + 2) == quote) ? 3 : 1;
  std::size_t end = quote_at + static_cast<std::size_t>(quote_size);
  if (fstring_modes.size() + 1 >= static_cast<std::size_t>(kMaxFStringLevel)) {
    fail("too many nested f-strings", end, end);
    return false;
  }
  FStringMode mode;
  mode.quote = quote;
  mode.quote_size = quote_size;
  for (std::size_t i = start; i < quote_at; ++i)
    if (text[i] == 'r' || text[i] == 'R') mode.raw = true;
  mode.start = start;
  mode.start_line = lineno;
  mode.start_line_start = line_start;
  fstring_modes.push_back(mode);
  pos = end;
  emit(TokenKind::FSTRING_START, start, end);
  return true;
}

// Leaves literal scanning for the replacement field whose '{' is at `brace`; the
// regular rules then tokenize the '{'.
bool Lexer::Impl::enter_fstring_field(std::size_t brace) {
  FStringMode& mode = fstring_modes.back();
  if (++mode.expr_start_depth >= kMaxExprNesting) {
    fail("f-string: expressions nested too deeply", brace, brace + 1);
    return false;
  }
  mode.in_literal = false;
  return true;
}

// CPython's tok_get_fstring_mode: at `pos` in literal scanning, emits FSTRING_END
// or one FSTRING_MIDDLE (possibly empty), or returns Field at a field's '{'.
Lexer::Impl::FStringStep Lexer::Impl::lex_fstring_literal() {
  FStringMode& mode = fstring_modes.back();
  std::size_t start = pos;
  int32_t first_line = lineno;
  std::size_t first_line_start = line_start;
  // The part [start, text_end) ends (as a token) at `end`: one past the text for
  // "{{" and "}}", whose second brace is dropped.
  auto middle = [&](std::size_t text_end, std::size_t end) {
    pos = end;
    tokens.push_back(Token{TokenKind::FSTRING_MIDDLE, text.substr(start, text_end - start),
                           first_line, col(start, first_line_start), lineno,
                           col(end, line_start)});
    return FStringStep::Emitted;
  };
  if (peek(start) == '{' && peek(start + 1) != '{') {
    return enter_fstring_field(start) ? FStringStep::Field : FStringStep::Error;
  }
  auto size = static_cast<std::size_t>(mode.quote_size);
  if (text.compare(start, size, std::string(size, static_cast<char>(mode.quote))) == 0) {
    pos = start + size;
    emit(TokenKind::FSTRING_END, start, pos);
    fstring_modes.pop_back();
    return FStringStep::Emitted;
  }
  // In a format spec '{' always opens a nested field, and '}' always closes the
  // field; a newline in a single-quoted f-string ends the spec (CPython 3.12.1).
  bool in_format_spec = mode.expression_ended && mode.expr_start_depth >= 0;
  bool unicode_escape = false;  // inside "\N{...}", whose '}' is literal
  int end_quote_size = 0;
  std::size_t p = start;
  while (end_quote_size != mode.quote_size) {
    int c = peek(p);
    if (c == -1 || (mode.quote_size == 1 && c == '\n')) {
      if (in_format_spec && c == '\n') {
        mode.in_literal = false;
        return middle(p, p);
      }
      // Reported from the prefix, on the line where the f-string began.
      int32_t detected_at = (c == -1 && p > 0 && text[p - 1] == '\n') ? lineno - 1 : lineno;
      lineno = mode.start_line;
      line_start = mode.start_line_start;
      std::string message = mode.quote_size == 3
                                ? "unterminated triple-quoted f-string literal (detected at line "
                                : "unterminated f-string literal (detected at line ";
      message += std::to_string(detected_at) + ")";
      fail(std::move(message), mode.start, mode.start + 1);
      return FStringStep::Error;
    }
    ++p;
    if (c == mode.quote) {
      ++end_quote_size;
      continue;
    }
    end_quote_size = 0;
    switch (c) {
      case '\n':
        new_line(p - 1);
        break;
      case '{':
        if (peek(p) != '{' || in_format_spec) {
          --p;
          if (!enter_fstring_field(p)) return FStringStep::Error;
          return middle(p, p);
        }
        return middle(p, p + 1);
      case '}':
        if (unicode_escape) return middle(p, p);
        if (peek(p) == '}' && !in_format_spec) return middle(p, p + 1);
        --p;
        mode.in_literal = false;  // the regular rules take the '}'
        return middle(p, p);
      case '\\': {
        // The escaped character is skipped, raw or not, except a brace.
        int next = peek(p);
        if (next == '{' || next == '}' || next == -1) break;
        ++p;
        if (next == '\n') {
          new_line(p - 1);
        } else if (next == 'N' && !mode.raw && peek(p) == '{') {
          ++p;
          unicode_escape = true;
        }
        break;
      }
      default:
        break;
    }
  }
  p -= size;  // the closing quotes become FSTRING_END next
  return middle(p, p);
}

// An operator or bracket inside a replacement field (CPython 3.12's punctuation
// rules in tok_get_normal_mode when inside an f-string).
bool Lexer::Impl::lex_fstring_field_operator(std::size_t start) {
  FStringMode& mode = fstring_modes.back();
  int c = peek(start);
  if (mode.expr_start_depth >= 0 && (c == ':' || c == '}' || c == '!' || c == '{')) {
    int cursor = mode.bracket_depth - (c != '{' ? 1 : 0);
    if (cursor == 0) mode.expression_ended = c != '{';
    if (c == ':' && cursor == mode.expr_start_depth) {
      mode.in_literal = true;  // the format spec
      pos = start + 1;
      emit(TokenKind::COLON, start, pos);
      return true;
    }
  }
  int length = 1;
  TokenKind kind = operator_kind(text.data() + start, text.data() + text.size(), &length);
  if (length == 1) {
    switch (c) {
      case '(':
      case '[':
      case '{':
        if (level >= kMaxLevel) {
          fail("too many nested parentheses", start, start + 1);
          return false;
        }
        parenstack[level] = static_cast<char>(c);
        parenlinenostack[level] = lineno;
        parencolstack[level] = col(start, line_start);
        ++level;
        ++mode.bracket_depth;
        break;
      case ')':
      case ']':
      case '}': {
        if (c == '}' && mode.bracket_depth == 0) {
          fail("f-string: single '}' is not allowed", start, start + 1);
          return false;
        }
        if (level == 0) {
          fail(std::string("unmatched '") + static_cast<char>(c) + "'", start, start + 1);
          return false;
        }
        --level;
        char opening = parenstack[level];
        if (!((opening == '(' && c == ')') || (opening == '[' && c == ']') ||
              (opening == '{' && c == '}'))) {
          std::string message;
          if (opening == '{' && mode.bracket_depth - 1 == mode.expr_start_depth) {
            message = std::string("f-string: unmatched '") + static_cast<char>(c) + "'";
          } else {
            message = std::string("closing parenthesis '") + static_cast<char>(c) +
                      "' does not match opening parenthesis '" + opening + "'";
            if (parenlinenostack[level] != lineno)
              message += " on line " + std::to_string(parenlinenostack[level]);
          }
          fail(std::move(message), start, start + 1);
          return false;
        }
        --mode.bracket_depth;
        if (c == '}' && mode.bracket_depth == mode.expr_start_depth) {
          --mode.expr_start_depth;  // the field is closed
          mode.in_literal = true;
        }
        break;
      }
      case '!':
        kind = TokenKind::EXCLAMATION;
        break;
      default:
        break;
    }
  }
  pos = start + static_cast<std::size_t>(length);
  emit(kind, start, pos);
  return true;
}

// A string inside a replacement field that is cut off where its quotes match the
// f-string's own: CPython 3.12 reports the field as unclosed.
bool Lexer::Impl::fstring_quote_error(int quote, int quote_size, std::size_t start) {
  if (fstring_modes.empty()) return false;
  const FStringMode& mode = fstring_modes.back();
  if (mode.quote != quote || mode.quote_size != quote_size) return false;
  fail("f-string: expecting '}'", start, start + 1);
  return true;
}

void Lexer::Impl::run() {
  for (;;) {
    if (!fstring_modes.empty() && fstring_modes.back().in_literal) {
      FStringStep step = lex_fstring_literal();
      if (step == FStringStep::Error) return;
      if (step == FStringStep::Emitted) continue;
    }
    // At the start of a line: measure indentation, queue INDENT/DEDENT tokens.
    if (atbol) {
      atbol = false;
      if (!process_indentation()) return;
    }
    if (pendin != 0) {
      TokenKind kind = pendin < 0 ? TokenKind::DEDENT : TokenKind::INDENT;
      pendin += pendin < 0 ? 1 : -1;
      emit(kind, pos, pos);
      continue;
    }
    // Skip spaces between tokens.
    while (peek(pos) == ' ' || peek(pos) == '\t' || peek(pos) == '\014') ++pos;
    std::size_t start = pos;
    int c = peek(pos);

    if (c == '#') {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      if (comments != nullptr) {
        bool own_line = text.find_first_not_of(" \t\014", line_start) == start;
        int32_t shift = shift_for(lineno);
        comments->push_back(
            Comment{text.substr(start, end - start), lineno, col(start, line_start) + shift,
                    own_line});
      }
      pos = end;
      start = pos;
      c = peek(pos);
    }

    if (c == -1) {
      if (level > 0) {
        // CPython: "'(' was never closed", pointing at the bracket.
        int i = level - 1;
        SyntaxError e;
        e.message = std::string("'") + parenstack[i] + "' was never closed";
        e.lineno = e.end_lineno = parenlinenostack[i];
        e.col_offset = parencolstack[i];
        e.end_col_offset = parencolstack[i] + 1;
        error = e;
        tokens.push_back(Token{TokenKind::ERRORTOKEN, {}, e.lineno, e.col_offset, e.end_lineno,
                               e.end_col_offset});
        return;
      }
      emit(TokenKind::ENDMARKER, pos, pos);
      return;
    }

    if (c == '\n') {
      if (blankline || level > 0) {
        ++pos;
        new_line(pos - 1);
        atbol = true;
        continue;
      }
      emit(TokenKind::NEWLINE, pos, pos);
      ++pos;
      new_line(pos - 1);
      atbol = true;
      continue;
    }
    blankline = false;

    if (is_identifier_start(c)) {
      // String prefixes: any case of b, r, u, f, br, rb, fr, rf.
      bool saw_b = false, saw_r = false, saw_u = false, saw_f = false;
      std::size_t p = pos;
      bool is_string = false;
      for (;;) {
        int d = peek(p);
        if (!(saw_b || saw_u || saw_f) && (d == 'b' || d == 'B')) {
          saw_b = true;
        } else if (!(saw_b || saw_u || saw_r || saw_f) && (d == 'u' || d == 'U')) {
          saw_u = true;
        } else if (!(saw_r || saw_u) && (d == 'r' || d == 'R')) {
          saw_r = true;
        } else if (!(saw_f || saw_b || saw_u) && (d == 'f' || d == 'F')) {
          saw_f = true;
        } else {
          break;
        }
        ++p;
        if (peek(p) == '"' || peek(p) == '\'') {
          is_string = true;
          break;
        }
      }
      if (is_string) {
        if (saw_f && options.minor >= 12) {
          if (!lex_fstring_start(start, p)) return;
        } else if (!lex_string(start, p)) {
          return;
        }
      } else {
        bool nonascii = false;
        while (is_identifier_char(peek(p))) {
          if (peek(p) >= 128) nonascii = true;
          ++p;
        }
        if (nonascii && !verify_identifier(start, p)) return;
        pos = p;
        TokenKind kind = keyword_kind(text.substr(start, p - start));
        emit(kind, start, p);
      }
      continue;
    }

    if (c == '"' || c == '\'') {
      if (!lex_string(start, pos)) return;
      continue;
    }

    if (is_digit(c) || (c == '.' && is_digit(peek(pos + 1)))) {
      std::size_t p;
      if (!lex_number(start, p)) return;
      pos = p;
      emit(TokenKind::NUMBER, start, p);
      continue;
    }

    if (c == '\\') {
      if (peek(pos + 1) != '\n') {
        fail("unexpected character after line continuation character", pos + 1, pos + 2);
        return;
      }
      pos += 2;
      new_line(pos - 1);
      if (peek(pos) == -1) {
        fail("unexpected EOF while parsing", pos, pos);
        return;
      }
      continue;
    }

    // CPython rejects a non-printable character outside strings and comments.
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(c));
      fail(std::string("invalid non-printable character U+") + hex, pos, pos + 1);
      return;
    }

    if (!fstring_modes.empty()) {
      if (!lex_fstring_field_operator(start)) return;
      continue;
    }

    {
      int length = 1;
      TokenKind kind = operator_kind(text.data() + pos, text.data() + text.size(), &length);
      if (kind == TokenKind::OP && c == '!' && options.minor >= 12) kind = TokenKind::EXCLAMATION;
      switch (c) {
        case '(':
        case '[':
        case '{':
          if (level >= kMaxLevel) {
            fail("too many nested parentheses", pos, pos + 1);
            return;
          }
          parenstack[level] = static_cast<char>(c);
          parenlinenostack[level] = lineno;
          parencolstack[level] = col(pos, line_start) + shift_for(lineno);
          ++level;
          break;
        case ')':
        case ']':
        case '}': {
          if (level == 0) {
            fail(std::string("unmatched '") + static_cast<char>(c) + "'", pos, pos + 1);
            return;
          }
          --level;
          char opening = parenstack[level];
          if (!((opening == '(' && c == ')') || (opening == '[' && c == ']') ||
                (opening == '{' && c == '}'))) {
            std::string message = std::string("closing parenthesis '") + static_cast<char>(c) +
                                  "' does not match opening parenthesis '" + opening + "'";
            if (parenlinenostack[level] != lineno)
              message += " on line " + std::to_string(parenlinenostack[level]);
            fail(std::move(message), pos, pos + 1);
            return;
          }
          break;
        }
        default:
          break;
      }
      pos += length;
      emit(kind, start, pos);
    }
  }
}

}  // namespace t2k::syntax
