// The Python parser: source bytes in, CPython-identical AST out.
//
// `parse_source` decodes the bytes (PEP 263 coding cookie, BOM, newline
// translation), tokenizes and parses them into an AST whose nodes, fields and
// positions equal what `ast.parse` builds on CPython 3.<minor>. Syntax that the
// chosen version rejects is a SyntaxError here too.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/base/arena.h"
#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/syntax_error.h"
#include "torch2keras/syntax/token.h"

namespace t2k::syntax {

// What the source is parsed as: CPython's compile() modes.
enum class Mode : uint8_t {
  Exec,      // a module: `file_input`
  Eval,      // one expression: `eval_input`
  Single,    // an interactive statement: `single_input`
  FuncType,  // a function type comment: `func_type_input`
};

struct ParseOptions {
  int minor = 11;  // Python 3.<minor> syntax and AST: 11 (default) or 12
  Mode mode = Mode::Exec;
  bool keep_comments = true;
  // The bytes are already text (UTF-8 of a Python str), as for `ast.parse(str)`:
  // no BOM stripping and no coding cookie (a U+FEFF is then an invalid character).
  bool source_is_text = false;
};

// A parsed source file. The AST's strings point into `text` or `arena`, so the
// tree lives exactly as long as this object.
struct ParsedSource {
  std::string text;  // the decoded source: UTF-8, '\n' line ends, ending with '\n'
  Arena arena;
  ast::ModNode* tree = nullptr;      // null when `error` is set
  std::optional<SyntaxError> error;  // the first syntax error, as CPython reports it
  std::vector<Comment> comments;     // in source order
};

// Decodes `bytes` as CPython does for `ast.parse(bytes)`: strips a UTF-8 BOM,
// honours a coding cookie on line 1 or 2, translates "\r\n" and "\r" to "\n" and
// appends a final "\n". Errors: null bytes, unknown or unsupported encodings,
// undecodable bytes, a BOM with a non-UTF-8 cookie.
// With `is_text`, the BOM and cookie steps are skipped (see source_is_text).
std::optional<SyntaxError> decode_source(std::string_view bytes, std::string& text,
                                         bool is_text = false);

// Decodes and parses. Never throws; errors are reported in the result.
std::unique_ptr<ParsedSource> parse_source(std::string_view bytes, const ParseOptions& options);

// Parses already-decoded text (see decode_source) into `arena`.
ast::ModNode* parse_text(std::string_view text, Arena& arena, const ParseOptions& options,
                         std::optional<SyntaxError>& error, std::vector<Comment>* comments);

// CPython converts a tree to Python objects with a depth limit of 3000 nodes
// (RecursionError "maximum recursion depth exceeded during ast construction");
// trees deeper than this are rejected by parse_source the same way.
inline constexpr int kMaxTreeDepth = 3000;

}  // namespace t2k::syntax
