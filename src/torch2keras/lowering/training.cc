// Gradient tapes for training code (see training.h).
#include "torch2keras/lowering/training.h"

#include <algorithm>
#include <set>

#include "torch2keras/syntax/unparse.h"

namespace t2k::lowering {
namespace {

// `code` in backquotes, as messages name code.
std::string quoted(std::string_view code) {
  std::string out(1, '`');
  out += code;
  out += '`';
  return out;
}

// The tensor whose `.backward()` the statement calls, or null.
ast::ExprNode* backward_of(const ast::StmtNode* s) {
  auto* e = ast::as<ast::Expr>(s);
  auto* call = e ? ast::as<ast::Call>(e->value) : nullptr;
  auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
  if (m == nullptr || m->attr != "backward" || !call->args.empty()) return nullptr;
  return m->value;
}

// Whether `s` is a call `X.zero_grad(...)`, `pytorch_zero_grad(X)` or `X.step()`:
// where one training step's gradients start.
bool step_boundary(const ast::StmtNode* s) {
  auto* e = ast::as<ast::Expr>(s);
  auto* call = e ? ast::as<ast::Call>(e->value) : nullptr;
  if (call == nullptr) return false;
  if (auto* m = ast::as<ast::Attribute>(call->func)) return m->attr == "zero_grad" || m->attr == "step";
  auto* n = ast::as<ast::Name>(call->func);
  return n != nullptr && n->id == "pytorch_zero_grad";
}

// The statement blocks of `s` that belong to its enclosing block's tape (if,
// with, try), not loops or definitions.
std::vector<ast::Seq<ast::StmtNode*>*> inner_blocks(ast::StmtNode* s) {
  if (auto* i = ast::as<ast::If>(s)) return {&i->body, &i->orelse};
  if (auto* w = ast::as<ast::With>(s)) return {&w->body};
  if (auto* t = ast::as<ast::Try>(s)) return {&t->body, &t->orelse, &t->finalbody};
  return {};
}

// The number of backward() calls in `s` outside loops and definitions.
int backward_count(ast::StmtNode* s) {
  if (backward_of(s) != nullptr) return 1;
  int n = 0;
  for (ast::Seq<ast::StmtNode*>* block : inner_blocks(s))
    for (ast::StmtNode* x : *block) n += backward_count(x);
  return n;
}

// The names `s` (with its blocks) stores and those it reads.
void names_of(const ast::Node* n, std::set<std::string>& stored, std::set<std::string>& read) {
  if (n == nullptr) return;
  if (auto* name = ast::as<ast::Name>(n))
    (name->ctx == ast::ExprContext::Store ? stored : read).insert(std::string(name->id));
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { names_of(c, stored, read); });
}

// Whether `s` assigns a size or a constant (`b = ops.shape(x)[0]`, `n = 0`):
// nothing a gradient flows through, which the tape need not record.
bool size_only(const ast::StmtNode* s) {
  auto* a = ast::as<ast::Assign>(s);
  if (a == nullptr) return false;
  if (ast::is<ast::Constant>(a->value)) return true;
  auto* sub = ast::as<ast::Subscript>(a->value);
  auto* call = sub ? ast::as<ast::Call>(sub->value) : ast::as<ast::Call>(a->value);
  return call != nullptr && (syntax::unparse(call->func) == "ops.shape" || syntax::unparse(call->func) == "len");
}

// The names the losses of `s`'s backward() calls read.
void collect_backward_reads(ast::StmtNode* s, std::set<std::string>& out) {
  if (ast::ExprNode* loss = backward_of(s)) {
    std::set<std::string> stored;
    names_of(loss, stored, out);
    return;
  }
  for (ast::Seq<ast::StmtNode*>* block : inner_blocks(s))
    for (ast::StmtNode* x : *block) collect_backward_reads(x, out);
}

class TapeWriter {
 public:
  TapeWriter(Builder& b, const TrainingError& error, std::string tape) : b_(b), error_(error), tape_(std::move(tape)) {}

  bool used = false;

  std::vector<ast::StmtNode*> block(const std::vector<ast::StmtNode*>& in) {
    std::vector<ast::StmtNode*> stmts;
    for (ast::StmtNode* s : in) stmts.push_back(nested(s));
    std::vector<std::size_t> with_backward;
    int count = 0;
    for (std::size_t i = 0; i < stmts.size(); ++i)
      if (int n = backward_count(stmts[i])) with_backward.push_back(i), count += n;
    if (with_backward.empty()) return stmts;
    std::size_t first = with_backward.front(), last = with_backward.back();
    std::size_t start = 0;
    for (std::size_t i = first; i-- > 0;)
      if (step_boundary(stmts[i])) {
        start = i + 1;
        break;
      }
    // Back further to the statements the losses are computed from: PyTorch code
    // may compute the loss, then call zero_grad(), then backward().
    std::set<std::string> needed;
    for (std::size_t i : with_backward) collect_backward_reads(stmts[i], needed);
    for (std::size_t i = last + 1; i-- > 0;) {
      std::set<std::string> stored, read;
      names_of(stmts[i], stored, read);
      bool feeds = false;
      for (const std::string& n : stored) feeds = feeds || needed.count(n) > 0;
      feeds = feeds && !size_only(stmts[i]);
      if (feeds || (i >= start && i <= last)) needed.insert(read.begin(), read.end());
      if (feeds && i < start) start = i;
    }
    // The last backward() itself goes after the tape when it is the region's end
    // and its loss is a name (an expression, `(loss / n).backward()`, is computed
    // on the tape).
    bool trailing = backward_of(stmts[last]) != nullptr && ast::is<ast::Name>(backward_of(stmts[last]));
    std::vector<ast::StmtNode*> region(stmts.begin() + static_cast<std::ptrdiff_t>(start),
                                       stmts.begin() + static_cast<std::ptrdiff_t>(last) + (trailing ? 0 : 1));
    for (ast::StmtNode*& s : region) s = replace_backward(s, region);
    std::vector<ast::StmtNode*> out(stmts.begin(), stmts.begin() + static_cast<std::ptrdiff_t>(start));
    if (region.empty()) {
      error_(stmts[last], quoted(syntax::unparse(backward_of(stmts[last])) + ".backward()") +
                              " follows no computation in its block, so there is nothing for a "
                              "GradientTape to record; compute the loss in the same block (loop body) as backward()");
      return stmts;
    }
    out.push_back(with_tape(region, count > 1));
    if (trailing) out.push_back(replace_backward(stmts[last], region));
    out.insert(out.end(), stmts.begin() + static_cast<std::ptrdiff_t>(last) + 1, stmts.end());
    used = true;
    return out;
  }

 private:
  // `s` with the blocks of its loops, definitions and compound statements done.
  ast::StmtNode* nested(ast::StmtNode* s) {
    if (auto* f = ast::as<ast::For>(s)) {
      auto* c = b_.clone(f);
      c->body = b_.seq(block({f->body.begin(), f->body.end()}));
      return c;
    }
    if (auto* w = ast::as<ast::While>(s)) {
      auto* c = b_.clone(w);
      c->body = b_.seq(block({w->body.begin(), w->body.end()}));
      return c;
    }
    if (auto* f = ast::as<ast::FunctionDef>(s)) {
      auto* c = b_.clone(f);
      c->body = b_.seq(block({f->body.begin(), f->body.end()}));
      return c;
    }
    // An if / with / try without a backward() of its own may hold loops that have.
    if (backward_count(s) == 0 && !inner_blocks(s).empty()) {
      ast::StmtNode* c = clone_statement(s);
      for (ast::Seq<ast::StmtNode*>* blk : inner_blocks(c)) *blk = b_.seq(block({blk->begin(), blk->end()}));
      return c;
    }
    return s;
  }

  ast::StmtNode* clone_statement(ast::StmtNode* s) {
    if (auto* i = ast::as<ast::If>(s)) return b_.clone(i);
    if (auto* w = ast::as<ast::With>(s)) return b_.clone(w);
    if (auto* t = ast::as<ast::Try>(s)) return b_.clone(t);
    return s;
  }

  // `s` with its backward() calls (in it, or in its if / with / try blocks) made
  // pytorch_backward(tape, X); X must be assigned in the tape's `region`.
  ast::StmtNode* replace_backward(ast::StmtNode* s, const std::vector<ast::StmtNode*>& region) {
    if (ast::ExprNode* loss = backward_of(s)) {
      std::set<std::string> stored, read;  // what the tape's statements assign
      for (const ast::StmtNode* r : region) names_of(r, stored, read);
      if (auto* n = ast::as<ast::Name>(loss); n && !stored.count(std::string(n->id)))
        error_(s, quoted(std::string(n->id) + ".backward()") +
                      ": the loss is not computed between the step's start (its zero_grad() or the "
                      "block's start) and backward(), so a GradientTape there would record nothing; compute it "
                      "in that part of the block");
      auto* st = b_.expr_stmt(b_.call("pytorch_backward", {b_.name(tape_), loss}));
      st->loc = s->loc;
      return st;
    }
    if (backward_count(s) == 0) return s;
    ast::StmtNode* c = clone_statement(s);
    for (ast::Seq<ast::StmtNode*>* blk : inner_blocks(c)) {
      std::vector<ast::StmtNode*> items;
      for (ast::StmtNode* x : *blk) items.push_back(replace_backward(x, region));
      *blk = b_.seq(items);
    }
    return c;
  }

  // `with tf.GradientTape([persistent=True]) as tape:` around `body`.
  ast::StmtNode* with_tape(const std::vector<ast::StmtNode*>& body, bool persistent) {
    std::vector<ast::Keyword*> kws;
    if (persistent) kws.push_back(b_.keyword("persistent", b_.boolean(true)));
    auto* item = b_.arena().make<ast::WithItem>();
    item->kind = ast::NodeKind::WithItem;
    item->context_expr = b_.call("tf.GradientTape", {}, kws);
    item->optional_vars = b_.name(tape_, ast::ExprContext::Store);
    auto* w = b_.arena().make<ast::With>();
    w->kind = ast::NodeKind::With;
    w->items = b_.seq(std::vector<ast::WithItem*>{item});
    w->body = b_.seq(body);
    // Its statements' lines: the comments above the first one go above the `with`,
    // those between its statements stay between them.
    w->loc = body.front()->loc;
    w->loc.end_lineno = body.back()->loc.end_lineno;
    w->loc.end_col_offset = body.back()->loc.end_col_offset;
    return w;
  }

  Builder& b_;
  const TrainingError& error_;
  std::string tape_;
};

}  // namespace

std::vector<ast::StmtNode*> insert_gradient_tapes(const std::vector<ast::StmtNode*>& body, Builder& b,
                                                  const TrainingError& error, bool& used) {
  // The tape's name: `tape`, unless the code already uses it.
  std::set<std::string> names;
  for (ast::StmtNode* s : body) ast::collect_names(s, names);
  std::string tape = "tape";
  while (names.count(tape)) tape.push_back('_');
  TapeWriter writer(b, error, tape);
  std::vector<ast::StmtNode*> out = writer.block(body);
  used = used || writer.used;
  return out;
}

}  // namespace t2k::lowering
