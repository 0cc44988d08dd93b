// Diagnostics: what went wrong, where, with a stable code, rendered the way
// compilers do (`path:line:col: error: message [T2K001]`, the source line, a caret).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "torch2keras/syntax/syntax_error.h"

namespace t2k::diag {

enum class Severity : uint8_t { Error, Warning, Note };

enum class Kind : uint8_t {
#define T2K_DIAGNOSTIC(name, code, severity, summary) name,
#include "torch2keras/diag/diagnostic_kinds.def"
};

const char* code(Kind kind);
Severity default_severity(Kind kind);
const char* severity_name(Severity severity);

struct Diagnostic {
  Kind kind;
  Severity severity;
  std::string message;
  std::string filename;
  // 1-based line; 0-based UTF-8 byte column (-1: no column); end exclusive.
  int32_t lineno = 0;
  int32_t col_offset = -1;
  int32_t end_lineno = 0;
  int32_t end_col_offset = -1;
};

// The diagnostic for a syntax error in `filename`.
Diagnostic from_syntax_error(const syntax::SyntaxError& error, std::string_view filename);

// Renders `d` as `path:line:col: severity: message [code]`, then, when `source`
// (the decoded text of the file) has that line, the line and a caret under the
// column. Columns are shown 1-based and counted in characters, not bytes.
std::string render(const Diagnostic& d, std::string_view source);

}  // namespace t2k::diag
