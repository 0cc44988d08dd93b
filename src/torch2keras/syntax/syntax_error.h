// A syntax error as CPython reports it: class, message and the range it points at.
#pragma once

#include <cstdint>
#include <string>

namespace t2k::syntax {

struct SyntaxError {
  // The Python exception class CPython raises (IndentationError and TabError are
  // SyntaxError subclasses; RecursionError is what ast.parse raises for a tree
  // nested too deeply to convert to Python objects).
  enum class Kind : uint8_t { SyntaxError, IndentationError, TabError, RecursionError };
  Kind kind = Kind::SyntaxError;
  std::string message;
  // 1-based line; 0-based UTF-8 byte column; the end is exclusive. A column of -1
  // means the error has no column (encoding problems), as in CPython.
  int32_t lineno = 0;
  int32_t col_offset = -1;
  int32_t end_lineno = 0;
  int32_t end_col_offset = -1;
};

inline const char* kind_name(SyntaxError::Kind kind) {
  switch (kind) {
    case SyntaxError::Kind::SyntaxError: return "SyntaxError";
    case SyntaxError::Kind::IndentationError: return "IndentationError";
    case SyntaxError::Kind::TabError: return "TabError";
    case SyntaxError::Kind::RecursionError: return "RecursionError";
  }
  return "SyntaxError";
}

}  // namespace t2k::syntax
