// Tokens of Python source, as CPython's tokenizer produces them.
#pragma once

#include <cstdint>
#include <string_view>

namespace t2k::syntax {

enum class TokenKind : uint8_t {
#define T2K_TOKEN(name, spelling) name,
#define T2K_KEYWORD(name, spelling) name,
#define T2K_OTHER(name) name,
#include "torch2keras/syntax/token_kinds.def"
};

// CPython's token name ("NAME", "LPAR", ...); keywords print as their spelling.
const char* token_name(TokenKind kind);
// The fixed spelling of an operator or keyword, or "" for NAME, NUMBER, ...
const char* token_spelling(TokenKind kind);

// One token. Positions are CPython's (1-based lines, 0-based UTF-8 byte columns),
// which for tokens of a 3.11 f-string replacement field are not offsets into `text`'s
// buffer: see Lexer::Options::first_line_col_shift.
struct Token {
  TokenKind kind;
  std::string_view text;
  int32_t lineno;
  int32_t col_offset;
  int32_t end_lineno;
  int32_t end_col_offset;
};

// A `#` comment, kept beside the token stream for the printer.
struct Comment {
  std::string_view text;  // from '#' to the end of the line, without the newline
  int32_t lineno;
  int32_t col_offset;
  bool own_line;  // nothing but whitespace precedes it on its line
};

}  // namespace t2k::syntax
