// The unparser: prints an AST back as Python source, the inverse of the parser.
//
// This is the project's only writer of Python text (STYLE.md habit 5): the
// generated Keras code is built as a tree and printed here. The contract is a
// round trip, parse(unparse(parse(M))) == parse(M) as ast.dump compares them
// (positions aside), with the output shaped for people: CPython's precedence
// rules decide where parentheses go (none beyond what the tree needs), strings
// are quoted the way repr() quotes them, docstrings stay triple-quoted, bodies
// are indented by four spaces, defs and classes get PEP 8 blank lines, and the
// source's blank lines between statements are kept where positions show them.
// Each statement is one line: there is no line breaking.
//
// Comments are not part of the AST; a caller that wants them kept passes the
// list from ParsedSource::comments and they are reattached by line number (see
// UnparseOptions::comments). Every comment given is printed exactly once.
#pragma once

#include <string>
#include <vector>

#include <utility>
#include <vector>

#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/token.h"

namespace t2k::syntax {

struct UnparseOptions {
  // Comments to carry over (from ParsedSource::comments, in source order), or null.
  // They are placed by the positions of the statements of `tree`:
  //   * an own-line comment goes before the statement that follows it, at that
  //     statement's indentation;
  //   * a comment at the end of a line that statement S spans (and that no later
  //     sibling starts on) trails S's printed line, or S's header line for a
  //     compound statement; further trailing comments of the same statement go on
  //     their own lines just after it (a line holds one comment);
  //   * comments after the last statement of a block stay in that block when they
  //     are indented at least as deep as it; comments at the end stay at the end;
  //   * comments on `else:`/`except ...:`/`finally:`/`case ...:` lines and
  //     between clauses stay with that clause.
  // A comment is never put inside a string or after a line continuation (the
  // printer writes no continuations). If the tree has no positions (built by a
  // rewriter), unplaceable comments go to the end.
  const std::vector<Comment>* comments = nullptr;
  // The target syntax, Python 3.<minor>. 11: f-string replacement fields follow
  // the pre-PEP 701 rules (no backslash, no reuse of the enclosing quote), so
  // quotes are chosen to satisfy them and strings inside fields keep characters
  // such as a vertical tab raw; 12: PEP 701 f-strings (with escapes) are used
  // where the 3.11 form would need such raw characters or is impossible. PEP 695
  // syntax (type parameters, `type X = ...`) is printed for either value when the
  // tree has it.
  int minor = 11;
  // Line ranges (first, last) of the source whose code a rewriter removed from
  // the tree (`model.train()`, a `with torch.no_grad():` header), or null: they are
  // not blank lines of the source, so a gap made of them prints none.
  const std::vector<std::pair<int32_t, int32_t>>* removed_lines = nullptr;
};

// Returns Python source for `tree`:
//   * Module, Interactive or a statement: lines, each ending in '\n' ("" for an
//     empty module);
//   * Expression or an expression: the expression, without a newline;
//   * FunctionType: `(argtypes) -> returns`;
//   * any other node (arguments, keyword, alias, withitem, comprehension,
//     match_case, excepthandler, pattern, type parameter): its source form.
// The result is UTF-8 (lone surrogates print as escapes). If a module's first
// lines would carry a coding cookie under which the text reads differently (a
// Latin-1 cookie over non-ASCII text, an unknown codec), a
// `# -*- coding: utf-8 -*-` line is put before it.
std::string unparse(const ast::Node* tree, const UnparseOptions& options = {});

}  // namespace t2k::syntax
