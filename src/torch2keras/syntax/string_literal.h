// String and bytes literal bodies: prefixes and escape sequences, decoded exactly
// as CPython 3.11 decodes them (Objects/unicodeobject.c `unicode_escape`,
// Objects/bytesobject.c `_PyBytes_DecodeEscape`, Parser/string_parser.c).
#pragma once

#include <string>
#include <string_view>

namespace t2k::syntax {

// The parts of a STRING token: `rb'''...'''` -> bytes, raw, body "...".
struct StringToken {
  bool bytes = false;
  bool raw = false;
  bool fstring = false;
  bool u = false;               // a lowercase-or-uppercase `u` prefix
  int quote_size = 1;           // 1 or 3
  std::size_t prefix_size = 0;  // bytes of prefix letters
  std::string_view body;        // between the quotes, undecoded
};
StringToken split_string_token(std::string_view token_text);

// Decodes the body of a str literal (or an f-string literal part) to WTF-8.
// Non-raw bodies get escape processing; invalid escapes such as "\d" are kept
// verbatim (CPython warns). Returns false and sets `error` to CPython's message,
// e.g. "(unicode error) 'unicodeescape' codec can't decode bytes in position
// 0-2: truncated \xXX escape".
bool decode_str(std::string_view body, bool raw, std::string& out, std::string& error);

// CPython's "(unicode error) 'utf-8' codec can't decode byte 0x.. in position N:
// <reason>" for `text` whose first invalid UTF-8 sequence starts at `at`.
std::string utf8_error(std::string_view text, std::size_t at);

// Decodes the body of a bytes literal. Non-ASCII characters are an error
// ("bytes can only contain ASCII literal characters").
bool decode_bytes(std::string_view body, bool raw, std::string& out, std::string& error);

}  // namespace t2k::syntax
