// The unparser's statements, comments and layout; expressions, patterns and
// string literals are in unparse_expr.cc.
//
// Statements are printed one per line at four spaces per level, defs and
// classes get PEP 8 blank lines (and the source's blank lines are kept where
// positions show them), and `else: if` collapses to `elif` as CPython's
// ast.unparse does. Comments are matched to statements by line before printing
// (CommentPlacer) and written when the printer reaches their anchor, so the
// printer itself never looks at comment positions.
//
// Recursion follows the tree, which is at most kMaxTreeDepth deep; long `elif`
// chains are printed in a loop.
#include "torch2keras/syntax/unparse.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <optional>

#include "torch2keras/base/codecs.h"
#include "torch2keras/syntax/unparse_impl.h"

namespace t2k::syntax::unparse_detail {

namespace {

// ---- comment placement -------------------------------------------------------------

bool is_def(const StmtNode* s) {
  return s->kind == NodeKind::FunctionDef || s->kind == NodeKind::AsyncFunctionDef ||
         s->kind == NodeKind::ClassDef;
}

Seq<ExprNode*> decorators_of(const StmtNode* s) {
  switch (s->kind) {
    case NodeKind::FunctionDef: return static_cast<const FunctionDef*>(s)->decorator_list;
    case NodeKind::AsyncFunctionDef: return static_cast<const AsyncFunctionDef*>(s)->decorator_list;
    case NodeKind::ClassDef: return static_cast<const ClassDef*>(s)->decorator_list;
    default: return {};
  }
}

// The first line of a statement: decorators come before the `def` line that
// CPython's position starts at.
int32_t start_line(const StmtNode* s) {
  int32_t line = s->loc.lineno;
  for (const ExprNode* d : decorators_of(s)) line = std::min(line, d->loc.lineno);
  return line;
}

// The last line of a clause header's own parts (test, parameters, patterns...):
// own-line comments after it sit between the header and the body.
int32_t header_last_line(const Node* n, int32_t line) {
  for_each_child(const_cast<Node*>(n), [&](Node* child) {
    Category c = category(child->kind);
    if (c == Category::Stmt || c == Category::ExceptHandler || child->kind == NodeKind::MatchCase)
      return;  // bodies and clauses
    if (has_attributes(child->kind))
      line = std::max(line, child->loc.end_lineno);
    else
      line = header_last_line(child, line);  // arguments, withitem: no positions
  });
  return line;
}

// One clause of a compound statement: a header line and the block under it.
struct Clause {
  const void* node;     // owner of the header's comments and of the block's end comments
  uint32_t index;       // 0: the node's own header; 1 `else`, 2 `finally` of node
  int32_t header_line;  // the header keyword's line; 0 when the tree does not record it
  Seq<StmtNode*> body;
  uint32_t field;  // which block of `node` (BlockEnd index)
};

// Appends the clauses of `s`; none for a simple statement.
void clauses_of(const StmtNode* s, std::vector<Clause>& out) {
  auto add = [&](const void* node, uint32_t index, int32_t line, Seq<StmtNode*> body,
                 uint32_t field) {
    if (!body.empty() || index == 0) out.push_back({node, index, line, body, field});
  };
  auto body_only = [&](const auto* x) { add(s, 0, s->loc.lineno, x->body, kBody); };
  auto with_else = [&](const auto* x) {  // if, while, for
    add(s, 0, s->loc.lineno, x->body, kBody);
    add(s, kElseClause, 0, x->orelse, kOrelse);
  };
  auto try_clauses = [&](const auto* x) {
    add(s, 0, s->loc.lineno, x->body, kBody);
    for (const ExceptHandler* h : x->handlers) add(h, 0, h->loc.lineno, h->body, kBody);
    add(s, kElseClause, 0, x->orelse, kOrelse);
    add(s, kFinallyClause, 0, x->finalbody, kFinalbody);
  };
  switch (s->kind) {
    case NodeKind::FunctionDef: body_only(static_cast<const FunctionDef*>(s)); break;
    case NodeKind::AsyncFunctionDef: body_only(static_cast<const AsyncFunctionDef*>(s)); break;
    case NodeKind::ClassDef: body_only(static_cast<const ClassDef*>(s)); break;
    case NodeKind::With: body_only(static_cast<const With*>(s)); break;
    case NodeKind::AsyncWith: body_only(static_cast<const AsyncWith*>(s)); break;
    case NodeKind::If: with_else(static_cast<const If*>(s)); break;
    case NodeKind::While: with_else(static_cast<const While*>(s)); break;
    case NodeKind::For: with_else(static_cast<const For*>(s)); break;
    case NodeKind::AsyncFor: with_else(static_cast<const AsyncFor*>(s)); break;
    case NodeKind::Try: try_clauses(static_cast<const Try*>(s)); break;
    case NodeKind::TryStar: try_clauses(static_cast<const TryStar*>(s)); break;
    case NodeKind::Match:
      for (const MatchCase* c : static_cast<const Match*>(s)->cases)
        add(c, 0, c->pattern->loc.lineno, c->body, kBody);
      break;
    default: break;
  }
}

// Assigns each comment to an anchor by walking the statements in source order
// with one cursor over the (sorted) comments. Each level leaves the comments it
// cannot place to its caller, so a comment ends up at the innermost fitting place.
// Comments inside a statement's lines are marked `in_span`: the lines around them
// are code, not blank lines to reproduce.
class CommentPlacer {
 public:
  CommentPlacer(const std::vector<Comment>& comments, Anchors& anchors)
      : comments_(comments), anchors_(anchors) {}

  void place_block(Seq<StmtNode*> body) { block(body, INT_MAX); }
  // Whatever is left goes to the end of the output.
  void place_rest() {
    while (next_ < comments_.size()) put(nullptr, Slot::End, 0, false);
  }

 private:
  bool pending(int32_t limit) const {
    return next_ < comments_.size() && comments_[next_].lineno < limit;
  }
  const Comment& peek() const { return comments_[next_]; }
  void put(const void* node, Slot slot, uint32_t index, bool in_span) {
    anchors_[AnchorKey{node, slot, index}].push_back({&comments_[next_++], in_span});
  }
  // Header comments of clause 0 go to the owner's Before/Trailing slots, those of
  // `else`/`finally` to ClauseBefore/ClauseTrailing.
  void put_header(const Clause& c, bool trailing, bool in_span) {
    if (c.index == 0)
      put(c.node, trailing ? Slot::Trailing : Slot::Before, 0, in_span);
    else
      put(c.node, trailing ? Slot::ClauseTrailing : Slot::ClauseBefore, c.index, in_span);
  }

  // `limit`: the first line after the block's region (the next clause or sibling).
  // Statements a rewriter added have no position (line 0) and get no comments; the
  // region of the one before them ends at the next statement that has one.
  void block(Seq<StmtNode*> body, int32_t limit) {
    std::vector<int32_t> next(body.size(), limit);
    for (std::size_t i = body.size(); i-- > 1;)
      next[i - 1] = body[i]->loc.lineno > 0 ? start_line(body[i]) : next[i];
    for (std::size_t i = 0; i < body.size(); ++i) {
      const StmtNode* s = body[i];
      if (s->loc.lineno <= 0) continue;
      while (pending(start_line(s))) put(s, Slot::Before, 0, false);
      stmt(s, next[i]);
    }
  }

  // Own-line comments after a block's last statement stay in it when indented
  // at least as deep as its statements.
  void block_end(Seq<StmtNode*> body, int32_t limit, const void* node, uint32_t field) {
    if (body.empty()) return;
    int32_t indent = body[0]->loc.col_offset;
    while (pending(limit) && peek().own_line && peek().col_offset >= indent)
      put(node, Slot::BlockEnd, field, false);
  }

  // The first line of a clause's body.
  static int32_t body_line(const Clause& c) {
    return c.body.empty() ? c.header_line : start_line(c.body[0]);
  }

  // `else:` and `finally:` lines are not in the tree. The line is exact when a
  // comment trails it; otherwise it is taken to be the last line between the two
  // blocks that holds no comment (blank lines before a clause are more common
  // than blank lines just after its header).
  int32_t estimate_header_line(const Clause& previous, const Clause& c) const {
    int32_t body_start = body_line(c);
    if (previous.body.empty()) return body_start;
    int32_t prev_end = previous.body.back()->loc.end_lineno;
    auto first = std::lower_bound(comments_.begin(), comments_.end(), prev_end + 1,
                                  [](const Comment& m, int32_t line) { return m.lineno < line; });
    auto last = first;
    for (; last != comments_.end() && last->lineno < body_start; ++last)
      if (!last->own_line) return last->lineno;
    int32_t line = body_start - 1;
    for (auto it = last; line > prev_end; --line) {
      while (it != first && std::prev(it)->lineno > line) --it;
      if (it == first || std::prev(it)->lineno != line) return line;
    }
    return body_start;  // `else: x` on one line after comment lines
  }

  void stmt(const StmtNode* s, int32_t next) {
    std::vector<Clause> clauses;
    clauses_of(s, clauses);
    if (clauses.empty()) {
      simple(s, next);
      return;
    }
    for (std::size_t k = 1; k < clauses.size(); ++k)
      if (clauses[k].header_line == 0)
        clauses[k].header_line = estimate_header_line(clauses[k - 1], clauses[k]);
    bool is_match = s->kind == NodeKind::Match;
    // The statement's own header: up to its first body line (for `match`, the
    // first `case` line).
    int32_t header_end = is_match ? clauses[0].header_line : body_line(clauses[0]);
    header(Clause{s, 0, s->loc.lineno, {}, 0}, header_end, header_last_line(s, s->loc.lineno),
           decorators_of(s), s->loc.lineno);
    for (std::size_t k = 0; k < clauses.size(); ++k) {
      const Clause& c = clauses[k];
      if (k > 0 || is_match) {
        // Between the blocks: what the previous block did not keep goes before
        // this clause's header.
        while (pending(c.header_line)) put_header(c, false, false);
        int32_t last_line = c.index == 0
                                ? header_last_line(static_cast<const Node*>(c.node), c.header_line)
                                : c.header_line;
        header(c, body_line(c), last_line, {}, 0);
      }
      int32_t limit = k + 1 < clauses.size() ? clauses[k + 1].header_line : next;
      block(c.body, limit);
      // A header a rewriter put around source statements (a `with` on its first
      // statement's line) has no indentation of its own in the source: the
      // comments after its block belong to the block around it.
      bool wrapper = k == 0 && clauses.size() == 1 && !c.body.empty() && c.header_line == start_line(c.body[0]);
      if (!wrapper) block_end(c.body, limit, c.node, c.field);
    }
  }

  // A simple statement owns the comments on the lines it spans: own-line ones
  // before its first trailing comment print before it, the first trailing one at
  // its end, the rest on lines after it.
  void simple(const StmtNode* s, int32_t next) {
    bool trailed = false;
    while (pending(next) && peek().lineno <= s->loc.end_lineno) {
      if (trailed) {
        put(s, Slot::After, 0, true);
      } else if (peek().own_line) {
        put(s, Slot::Before, 0, true);
      } else {
        put(s, Slot::Trailing, 0, true);
        trailed = true;
      }
    }
  }

  // The comments before `end` (the body's first line) for a header whose parts end
  // on `last_line`: own-line ones before its first trailing comment print before
  // the header, that one at its end, later ones just under it (HeaderExtra).
  // Own-line comments after `last_line` are the body's. Trailing comments on
  // decorator lines (before `def_line`) stay with their decorator.
  void header(const Clause& c, int32_t end, int32_t last_line, Seq<ExprNode*> decorators,
              int32_t def_line) {
    bool trailed = false;
    while (pending(end)) {
      const Comment& m = peek();
      if (m.own_line && m.lineno > last_line) return;
      if (!m.own_line && m.lineno < def_line && !decorators.empty()) {
        uint32_t which = 0;
        for (uint32_t i = 0; i < decorators.size(); ++i)
          if (decorators[i]->loc.lineno <= m.lineno) which = i;
        put(c.node, Slot::Decorator, which, true);
      } else if (trailed) {
        put(c.node, Slot::HeaderExtra, c.index, true);
      } else {
        trailed = !m.own_line;
        put_header(c, trailed, true);
      }
    }
  }

  const std::vector<Comment>& comments_;
  Anchors& anchors_;
  std::size_t next_ = 0;
};

}  // namespace

// ---- layout -----------------------------------------------------------------

void Unparser::place_comments(Seq<StmtNode*> body) {
  if (options_.comments == nullptr || options_.comments->empty()) return;
  CommentPlacer placer(*options_.comments, anchors_);
  placer.place_block(body);
  placer.place_rest();
}

void Unparser::blank_lines(int count) {
  // Never at the very start, never more than `count` in a row.
  if (out_.empty()) return;
  int have = 0;
  for (std::size_t i = out_.size(); i >= 2 && out_[i - 1] == '\n' && out_[i - 2] == '\n'; --i)
    ++have;
  for (; have < count; ++have) out_ += '\n';
}

std::vector<Placed> Unparser::take(const void* node, Slot slot, uint32_t index) {
  std::vector<Placed> found;
  if (anchors_.empty()) return found;
  auto it = anchors_.find(AnchorKey{node, slot, index});
  if (it == anchors_.end()) return found;
  found = std::move(it->second);
  anchors_.erase(it);
  return found;
}

void Unparser::comment_text(const Comment* c) {
  std::string_view text = c->text;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\f'))
    text.remove_suffix(1);
  out_ += text;
}

void Unparser::own_lines(const void* node, Slot slot, int level, uint32_t index) {
  for (const Placed& p : take(node, slot, index)) {
    if (!p.in_span) source_gap(p.comment->lineno, level);
    begin_line(level);
    comment_text(p.comment);
    out_ += '\n';
    printed_line(p.comment->lineno, !p.in_span);
  }
}

// Blank lines of the source between statements and the comments around them are
// kept (one at most inside a block, two at the top level) when the positions
// show them: between two things printed in a row that were not inside a
// statement's lines, nor at the start of a block. Trees without positions have none.
void Unparser::source_gap(int32_t line, int level) {
  if (!last_free_ || last_line_ <= 0 || line <= last_line_ + 1) return;
  int32_t blank = line - last_line_ - 1;
  if (const auto* removed = options_.removed_lines) {
    blank = 0;
    for (int32_t l = last_line_ + 1; l < line; ++l) {
      bool code = false;
      for (auto [first, last] : *removed) code = code || (l >= first && l <= last);
      blank += code ? 0 : 1;
    }
  }
  if (blank > 0) blank_lines(std::min(blank, level == 0 ? 2 : 1));
}

void Unparser::printed_line(int32_t line, bool free) {
  last_free_ = free;
  if (free) last_line_ = std::max(last_line_, line);
}

void Unparser::end_line(const void* node, Slot slot, int level, uint32_t index) {
  std::vector<Placed> found = take(node, slot, index);
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (i == 0) {
      out_ += "  ";
    } else {
      out_ += '\n';
      begin_line(level);
    }
    comment_text(found[i].comment);
  }
  out_ += '\n';
}

void Unparser::leftover_comments() {
  std::vector<const Comment*> rest;
  for (auto& [key, list] : anchors_)
    for (const Placed& p : list) rest.push_back(p.comment);
  anchors_.clear();
  std::sort(rest.begin(), rest.end(), [](const Comment* a, const Comment* b) {
    return a->lineno != b->lineno ? a->lineno < b->lineno : a->col_offset < b->col_offset;
  });
  for (const Comment* c : rest) {
    comment_text(c);
    out_ += '\n';
  }
}

void Unparser::module(Seq<StmtNode*> body, bool docstring) {
  place_comments(body);
  block(body, 0, nullptr, kBody, docstring);
  if (anchors_.count(AnchorKey{nullptr, Slot::End, 0}) != 0 && !body.empty() && is_def(body.back()))
    blank_lines(2);
  own_lines(nullptr, Slot::End, 0);
  leftover_comments();
  fix_coding_cookie();
}

void Unparser::block(Seq<StmtNode*> body, int level, const void* owner, uint32_t field,
                     bool docstring) {
  if (body.empty() && owner != nullptr) {
    // Only a rewritten tree can have an empty block; Python needs a statement.
    begin_line(level);
    out_ += "pass\n";
  }
  last_free_ = false;  // no blank line right under a header
  for (std::size_t i = 0; i < body.size(); ++i) {
    const StmtNode* s = body[i];
    if (i > 0 && (is_def(s) || is_def(body[i - 1]))) blank_lines(level == 0 ? 2 : 1);
    own_lines(s, Slot::Before, level);
    source_gap(start_line(s), level);
    if (i == 0 && docstring && is_docstring(s))
      docstring_stmt(static_cast<const Expr*>(s), level);
    else
      stmt(s, level);
    printed_line(s->loc.end_lineno, true);
  }
  if (owner != nullptr) own_lines(owner, Slot::BlockEnd, level, field);
}

bool Unparser::is_docstring(const StmtNode* s) {
  auto* e = as<Expr>(s);
  if (e == nullptr) return false;
  auto* c = as<Constant>(e->value);
  return c != nullptr && c->value.kind == ConstantValue::Kind::Str;
}

void Unparser::docstring_stmt(const Expr* s, int level) {
  begin_line(level);
  auto* c = static_cast<const Constant*>(s->value);
  if (c->kind.data() != nullptr && c->kind == "u") out_ += 'u';
  docstring_literal(out_, c->value.text);
  end_line(s, Slot::Trailing, level);
  own_lines(s, Slot::After, level);
}

// A simple statement's line ends with its trailing comments, then the rest.
void Unparser::finish_simple(const StmtNode* s, int level) {
  end_line(s, Slot::Trailing, level);
  own_lines(s, Slot::After, level);
}

void Unparser::header_end(const StmtNode* s, int level) {
  out_ += ':';
  end_line(s, Slot::Trailing, level);
  last_free_ = false;  // no blank line right under a header
  own_lines(s, Slot::HeaderExtra, level + 1);
}

// `else:` / `finally:` clause `index` of `s` with its block.
void Unparser::clause(const StmtNode* s, const char* keyword, uint32_t index, Seq<StmtNode*> body,
                      uint32_t field, int level) {
  own_lines(s, Slot::ClauseBefore, level, index);
  begin_line(level);
  out_ += keyword;
  out_ += ':';
  end_line(s, Slot::ClauseTrailing, level, index);
  own_lines(s, Slot::HeaderExtra, level + 1, index);
  block(body, level + 1, s, field, false);
}

void Unparser::stmt(const StmtNode* s, int level) {
  switch (s->kind) {
    case NodeKind::FunctionDef:
      function_def(static_cast<const FunctionDef*>(s), "def ", level);
      return;
    case NodeKind::AsyncFunctionDef:
      function_def(static_cast<const AsyncFunctionDef*>(s), "async def ", level);
      return;
    case NodeKind::ClassDef: {
      auto* x = static_cast<const ClassDef*>(s);
      decorators(s, x->decorator_list, level);
      begin_line(level);
      out_ += "class ";
      out_ += x->name;
      type_params(x->type_params);
      if (!x->bases.empty() || !x->keywords.empty()) {
        out_ += '(';
        call_arguments(x->bases, x->keywords);
        out_ += ')';
      }
      header_end(s, level);
      block(x->body, level + 1, s, kBody, true);
      return;
    }
    case NodeKind::If: if_stmt(static_cast<const If*>(s), level); return;
    case NodeKind::While: {
      auto* x = static_cast<const While*>(s);
      begin_line(level);
      out_ += "while ";
      expr(x->test, Prec::Test);
      header_end(s, level);
      block(x->body, level + 1, s, kBody, false);
      if (!x->orelse.empty()) clause(s, "else", kElseClause, x->orelse, kOrelse, level);
      return;
    }
    case NodeKind::For: for_stmt(static_cast<const For*>(s), "for ", level); return;
    case NodeKind::AsyncFor: for_stmt(static_cast<const AsyncFor*>(s), "async for ", level); return;
    case NodeKind::With: with_stmt(static_cast<const With*>(s), "with ", level); return;
    case NodeKind::AsyncWith:
      with_stmt(static_cast<const AsyncWith*>(s), "async with ", level);
      return;
    case NodeKind::Try: try_stmt(static_cast<const Try*>(s), "except", level); return;
    case NodeKind::TryStar: try_stmt(static_cast<const TryStar*>(s), "except*", level); return;
    case NodeKind::Match: {
      auto* x = static_cast<const Match*>(s);
      begin_line(level);
      out_ += "match ";
      star_expressions(x->subject);
      header_end(s, level);
      for (const MatchCase* c : x->cases) match_case(c, level + 1);
      return;
    }
    default: break;
  }
  begin_line(level);
  simple_stmt(s);
  finish_simple(s, level);
}

// The async twins (AsyncFunctionDef, AsyncFor, AsyncWith) and TryStar have their
// twin's fields, so one template prints both.
template <class T>
void Unparser::function_def(const T* x, const char* keyword, int level) {
  decorators(x, x->decorator_list, level);
  begin_line(level);
  out_ += keyword;
  out_ += x->name;
  type_params(x->type_params);
  out_ += '(';
  arguments(x->args, true);
  out_ += ')';
  if (x->returns != nullptr) {
    out_ += " -> ";
    expr(x->returns, Prec::Test);
  }
  header_end(x, level);
  block(x->body, level + 1, x, kBody, true);
}

template <class T>
void Unparser::for_stmt(const T* x, const char* keyword, int level) {
  begin_line(level);
  out_ += keyword;
  expr(x->target, Prec::Tuple);
  out_ += " in ";
  star_expressions(x->iter);
  header_end(x, level);
  block(x->body, level + 1, x, kBody, false);
  if (!x->orelse.empty()) clause(x, "else", kElseClause, x->orelse, kOrelse, level);
}

template <class T>
void Unparser::with_stmt(const T* x, const char* keyword, int level) {
  begin_line(level);
  out_ += keyword;
  with_items(x->items);
  header_end(x, level);
  block(x->body, level + 1, x, kBody, false);
}

template <class T>
void Unparser::try_stmt(const T* x, const char* except_keyword, int level) {
  begin_line(level);
  out_ += "try";
  header_end(x, level);
  block(x->body, level + 1, x, kBody, false);
  for (const ExceptHandler* h : x->handlers) except_handler(h, except_keyword, level);
  if (!x->orelse.empty()) clause(x, "else", kElseClause, x->orelse, kOrelse, level);
  if (!x->finalbody.empty()) clause(x, "finally", kFinallyClause, x->finalbody, kFinalbody, level);
}

void Unparser::decorators(const StmtNode* s, Seq<ExprNode*> list, int level) {
  for (uint32_t i = 0; i < list.size(); ++i) {
    begin_line(level);
    out_ += '@';
    expr(list[i], Prec::Test);
    end_line(s, Slot::Decorator, level, i);
  }
}

void Unparser::if_stmt(const If* s, int level) {
  begin_line(level);
  out_ += "if ";
  expr(s->test, Prec::Test);
  header_end(s, level);
  block(s->body, level + 1, s, kBody, false);
  // `else:` holding just an `if` prints as `elif` (iteratively: chains can be
  // thousands long), unless a comment sits on the `else:` line itself.
  std::vector<const If*> chain;
  while (s->orelse.size() == 1 && is<If>(s->orelse[0]) &&
         anchors_.count(AnchorKey{s, Slot::ClauseTrailing, kElseClause}) == 0) {
    auto* inner = static_cast<const If*>(s->orelse[0]);
    own_lines(s, Slot::ClauseBefore, level, kElseClause);
    own_lines(inner, Slot::Before, level);
    begin_line(level);
    out_ += "elif ";
    expr(inner->test, Prec::Test);
    header_end(inner, level);
    block(inner->body, level + 1, inner, kBody, false);
    chain.push_back(s);
    s = inner;
  }
  if (!s->orelse.empty()) clause(s, "else", kElseClause, s->orelse, kOrelse, level);
  // The collapsed `else` blocks end after the whole chain, innermost first.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    own_lines(*it, Slot::BlockEnd, level, kOrelse);
}

void Unparser::except_handler(const ExceptHandler* h, const char* keyword, int level) {
  own_lines(h, Slot::Before, level);
  begin_line(level);
  out_ += keyword;
  if (h->type != nullptr) {
    out_ += ' ';
    expr(h->type, Prec::Test);
    if (h->name.data() != nullptr) {
      out_ += " as ";
      out_ += h->name;
    }
  }
  out_ += ':';
  end_line(h, Slot::Trailing, level);
  own_lines(h, Slot::HeaderExtra, level + 1);
  block(h->body, level + 1, h, kBody, false);
}

void Unparser::match_case(const MatchCase* c, int level) {
  own_lines(c, Slot::Before, level);
  begin_line(level);
  out_ += "case ";
  pattern(c->pattern, Prec::Test);
  if (c->guard != nullptr) {
    out_ += " if ";
    expr(c->guard, Prec::Test);
  }
  out_ += ':';
  end_line(c, Slot::Trailing, level);
  own_lines(c, Slot::HeaderExtra, level + 1);
  block(c->body, level + 1, c, kBody, false);
}

void Unparser::with_items(Seq<WithItem*> items) {
  // `with (a, b):` is two context managers since 3.9; one tuple needs `with ((a, b)):`.
  bool tuple_alone = items.size() == 1 && items[0]->optional_vars == nullptr &&
                     is<Tuple>(items[0]->context_expr) &&
                     !static_cast<const Tuple*>(items[0]->context_expr)->elts.empty();
  if (tuple_alone) out_ += '(';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out_ += ", ";
    with_item(items[i]);
  }
  if (tuple_alone) out_ += ')';
}

void Unparser::with_item(const WithItem* w) {
  expr(w->context_expr, Prec::Test);
  if (w->optional_vars != nullptr) {
    out_ += " as ";
    expr(w->optional_vars, Prec::Test);
  }
}

void Unparser::simple_stmt(const StmtNode* s) {
  switch (s->kind) {
    case NodeKind::Return: {
      auto* x = static_cast<const Return*>(s);
      out_ += "return";
      if (x->value != nullptr) {
        out_ += ' ';
        star_expressions(x->value);
      }
      return;
    }
    case NodeKind::Delete: {
      out_ += "del ";
      expr_list(static_cast<const Delete*>(s)->targets, Prec::Test);
      return;
    }
    case NodeKind::Assign: {
      auto* x = static_cast<const Assign*>(s);
      for (const ExprNode* t : x->targets) {
        expr(t, Prec::Tuple);
        out_ += " = ";
      }
      expr(x->value, Prec::Tuple);  // `x = yield y` needs no parentheses
      return;
    }
    case NodeKind::TypeAlias: {
      auto* x = static_cast<const TypeAlias*>(s);
      out_ += "type ";
      expr(x->name, Prec::Atom);
      type_params(x->type_params);
      out_ += " = ";
      expr(x->value, Prec::Test);
      return;
    }
    case NodeKind::AugAssign: {
      auto* x = static_cast<const AugAssign*>(s);
      expr(x->target, Prec::Tuple);
      out_ += ' ';
      out_ += binary_operator(x->op);
      out_ += "= ";
      expr(x->value, Prec::Tuple);
      return;
    }
    case NodeKind::AnnAssign: {
      auto* x = static_cast<const AnnAssign*>(s);
      // simple=0 on a bare name means it was written `(x): int`.
      bool paren = x->simple == 0 && is<Name>(x->target);
      if (paren) out_ += '(';
      expr(x->target, Prec::Test);
      if (paren) out_ += ')';
      out_ += ": ";
      expr(x->annotation, Prec::Test);
      if (x->value != nullptr) {
        out_ += " = ";
        expr(x->value, Prec::Tuple);
      }
      return;
    }
    case NodeKind::Raise: {
      auto* x = static_cast<const Raise*>(s);
      out_ += "raise";
      if (x->exc != nullptr) {
        out_ += ' ';
        expr(x->exc, Prec::Test);
      }
      if (x->cause != nullptr) {
        out_ += " from ";
        expr(x->cause, Prec::Test);
      }
      return;
    }
    case NodeKind::Assert: {
      auto* x = static_cast<const Assert*>(s);
      out_ += "assert ";
      expr(x->test, Prec::Test);
      if (x->msg != nullptr) {
        out_ += ", ";
        expr(x->msg, Prec::Test);
      }
      return;
    }
    case NodeKind::Import: {
      out_ += "import ";
      aliases(static_cast<const Import*>(s)->names);
      return;
    }
    case NodeKind::ImportFrom: {
      auto* x = static_cast<const ImportFrom*>(s);
      out_ += "from ";
      out_.append(static_cast<std::size_t>(std::max(x->level, 0)), '.');
      if (x->module.data() != nullptr) out_ += x->module;
      out_ += " import ";
      aliases(x->names);
      return;
    }
    case NodeKind::Global:
    case NodeKind::Nonlocal: {
      out_ += s->kind == NodeKind::Global ? "global " : "nonlocal ";
      Seq<Identifier> names = s->kind == NodeKind::Global ? static_cast<const Global*>(s)->names
                                                          : static_cast<const Nonlocal*>(s)->names;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0) out_ += ", ";
        out_ += names[i];
      }
      return;
    }
    case NodeKind::Expr: expr(static_cast<const Expr*>(s)->value, Prec::Tuple); return;
    case NodeKind::Pass: out_ += "pass"; return;
    case NodeKind::Break: out_ += "break"; return;
    case NodeKind::Continue: out_ += "continue"; return;
    default: out_ += "pass"; return;  // compound statements never get here
  }
}

void Unparser::aliases(Seq<Alias*> names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out_ += ", ";
    alias(names[i]);
  }
}

void Unparser::alias(const Alias* a) {
  out_ += a->name;
  if (a->asname.data() != nullptr) {
    out_ += " as ";
    out_ += a->asname;
  }
}

namespace {

// The encoding a PEP 263 coding cookie in `line` declares, or "": a comment
// matching `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`.
std::string_view cookie_encoding(std::string_view line) {
  std::size_t i = line.find_first_not_of(" \t\f");
  if (i == std::string_view::npos || line[i] != '#') return {};
  for (std::size_t at = line.find("coding", i); at != std::string_view::npos;
       at = line.find("coding", at + 1)) {
    std::size_t j = at + 6;
    if (j >= line.size() || (line[j] != ':' && line[j] != '=')) continue;
    ++j;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    std::size_t name_start = j;
    auto word = [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '-' || ch == '_' || ch == '.';
    };
    while (j < line.size() && word(line[j])) ++j;
    if (j > name_start) return line.substr(name_start, j - name_start);
  }
  return {};
}

}  // namespace

// A comment on line 1 or 2 naming an encoding decides how Python reads the file,
// and the comment may have been elsewhere in the source (after blank lines). The
// output is UTF-8: unless decoding it as the named codec gives the same text
// (ASCII output under Latin-1, say), a UTF-8 cookie goes first, since only the
// first cookie counts.
void Unparser::fix_coding_cookie() {
  std::size_t line_start = 0;
  for (int line = 1; line <= 2 && line_start < out_.size(); ++line) {
    std::size_t end = out_.find('\n', line_start);
    if (end == std::string::npos) end = out_.size();
    std::string_view text(out_.data() + line_start, end - line_start);
    std::string_view declared = cookie_encoding(text);
    if (!declared.empty()) {
      std::optional<std::string> codec = codecs::canonical_codec_name(declared);
      std::string decoded;
      std::size_t error_offset = 0;
      bool harmless =
          codec.has_value() &&
          (*codec == "utf_8" ||
           (codecs::decode_to_utf8(*codec, out_, decoded, error_offset) && decoded == out_));
      if (!harmless) out_.insert(line_start, "# -*- coding: utf-8 -*-\n");
      return;
    }
    // Line 2 is only read for a cookie when line 1 is blank or a comment.
    std::size_t first = text.find_first_not_of(" \t\f");
    if (first != std::string_view::npos && text[first] != '#') return;
    line_start = end + 1;
  }
}

}  // namespace t2k::syntax::unparse_detail

namespace t2k::syntax {

std::string unparse(const ast::Node* tree, const UnparseOptions& options) {
  using namespace ast;
  unparse_detail::Unparser printer(options);
  if (tree == nullptr) return {};
  switch (category(tree->kind)) {
    case Category::Mod:
      if (auto* m = as<Module>(tree)) {
        printer.module(m->body, true);
      } else if (auto* i = as<Interactive>(tree)) {
        printer.module(i->body, false);
      } else if (auto* e = as<Expression>(tree)) {
        printer.root_expr(e->body);
      } else if (auto* f = as<FunctionType>(tree)) {
        printer.function_type(f);
      }
      break;
    case Category::Stmt: {
      auto* s = static_cast<StmtNode*>(const_cast<Node*>(tree));
      printer.module(Seq<StmtNode*>(std::span<StmtNode*>(&s, 1)), false);
      break;
    }
    case Category::Expr: printer.root_expr(static_cast<const ExprNode*>(tree)); break;
    default: printer.other(tree); break;
  }
  return printer.take_output();
}

}  // namespace t2k::syntax
