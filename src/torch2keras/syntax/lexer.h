// The tokenizer: turns decoded source text into CPython's token stream.
//
// It follows CPython 3.11's Parser/tokenizer.c rule for rule (indentation with tabs
// at 8 columns checked against tabs at 1 column, implicit joining inside brackets,
// backslash continuation, string prefixes, number forms and their errors), because
// the AST positions and the accept/reject decision both depend on it. With
// `Options::minor == 12` it lexes f-strings the PEP 701 way (FSTRING_START,
// FSTRING_MIDDLE, FSTRING_END and the tokens of each replacement field).
//
// The whole input is tokenized up front; the parser backtracks by index. On the
// first error the lexer emits an ERRORTOKEN and stops; the parser reports the error
// when it reaches that token, so an earlier syntax error wins as in CPython.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "torch2keras/syntax/syntax_error.h"
#include "torch2keras/syntax/token.h"

namespace t2k::syntax {

class Lexer {
 public:
  struct Options {
    int minor = 11;  // Python 3.<minor> tokenization: 11 or 12
    // Where the text starts, for the 3.11 f-string replacement-field sub-lexer:
    // the line number of its first line, and a shift added to both columns of
    // every token that ends on that first line (CPython's starting_col_offset).
    int32_t first_lineno = 1;
    int32_t first_line_col_shift = 0;
  };

  // `text` must use '\n' line ends only and end with '\n' (see decode_source).
  Lexer(std::string_view text, Options options);

  // Appends all tokens, ending with ENDMARKER or, on error, ERRORTOKEN.
  // Comments go to `comments` when it is not null.
  void tokenize(std::vector<Token>& tokens, std::vector<Comment>* comments);

  // The error behind the final ERRORTOKEN, if any.
  const std::optional<SyntaxError>& error() const { return error_; }

 private:
  struct Impl;
  std::string_view text_;
  Options options_;
  std::optional<SyntaxError> error_;
};

// The keyword kind of `name` (KW_IF, ...), or NAME for any other identifier.
TokenKind keyword_kind(std::string_view name);

}  // namespace t2k::syntax
