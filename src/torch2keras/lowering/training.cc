// Gradient tapes for training code (see training.h).
#include "torch2keras/lowering/training.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
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

}  // namespace

bool is_no_grad_block(const ast::StmtNode* s) {
  auto* w = ast::as<ast::With>(s);
  if (w == nullptr || w->items.size() != 1) return false;
  auto* n = ast::as<ast::Name>(w->items[0]->context_expr);
  return n != nullptr && n->id == kNoGradMarker;
}

namespace {

// A shallow copy of the compound statement `s` and the statement blocks of the
// copy (bodies, else blocks, handlers' bodies; definitions' bodies), or `s` and
// none.
std::pair<ast::StmtNode*, std::vector<ast::Seq<ast::StmtNode*>*>> copy_with_blocks(ast::StmtNode* s, Builder& b) {
  if (auto* f = ast::as<ast::For>(s)) {
    auto* c = b.clone(f);
    return {c, {&c->body, &c->orelse}};
  }
  if (auto* w = ast::as<ast::While>(s)) {
    auto* c = b.clone(w);
    return {c, {&c->body, &c->orelse}};
  }
  if (auto* i = ast::as<ast::If>(s)) {
    auto* c = b.clone(i);
    return {c, {&c->body, &c->orelse}};
  }
  if (auto* w = ast::as<ast::With>(s)) {
    auto* c = b.clone(w);
    return {c, {&c->body}};
  }
  if (auto* t = ast::as<ast::Try>(s)) {
    auto* c = b.clone(t);
    std::vector<ast::ExceptHandler*> handlers;
    std::vector<ast::Seq<ast::StmtNode*>*> blocks = {&c->body, &c->orelse, &c->finalbody};
    for (ast::ExceptHandler* h : t->handlers) handlers.push_back(b.clone(h));
    c->handlers = b.seq(handlers);
    for (ast::ExceptHandler* h : c->handlers) blocks.push_back(&h->body);
    return {c, blocks};
  }
  if (auto* f = ast::as<ast::FunctionDef>(s)) {
    auto* c = b.clone(f);
    return {c, {&c->body}};
  }
  if (auto* k = ast::as<ast::ClassDef>(s)) {
    auto* c = b.clone(k);
    return {c, {&c->body}};
  }
  return {s, {}};
}

}  // namespace

std::vector<ast::StmtNode*> unmark_no_grad_blocks(const std::vector<ast::StmtNode*>& body, Builder& b,
                                                  std::vector<std::pair<int, int>>& left_out) {
  std::vector<ast::StmtNode*> out;
  for (ast::StmtNode* s : body) {
    if (is_no_grad_block(s)) {
      auto* w = static_cast<ast::With*>(s);
      left_out.emplace_back(w->loc.lineno, w->loc.lineno);  // the header line
      for (ast::StmtNode* x : unmark_no_grad_blocks({w->body.begin(), w->body.end()}, b, left_out)) out.push_back(x);
      continue;
    }
    auto [copy, blocks] = copy_with_blocks(s, b);
    for (ast::Seq<ast::StmtNode*>* blk : blocks) *blk = b.seq(unmark_no_grad_blocks({blk->begin(), blk->end()}, b, left_out));
    out.push_back(copy);
  }
  return out;
}

namespace {

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
  // (pytorch_if(condition, update): a train_step's conditional zero_grad() / step().)
  return n != nullptr && (n->id == "pytorch_zero_grad" || n->id == "pytorch_if");
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
  TapeWriter(Builder& b, const TrainingError& error, std::string tape, std::string_view tensorflow = "tf")
      : b_(b), error_(error), tape_(std::move(tape)), tensorflow_(tensorflow) {}

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

  // `stmts` with their no_grad blocks (in them, or in their if / with / try
  // blocks) `with tape.stop_recording():`.
  // (Loops' blocks too; a no_grad block inside another is its block: the tape
  // is not recording there already.)
  std::vector<ast::StmtNode*> stop_recording(const std::vector<ast::StmtNode*>& stmts, bool stopped = false) {
    std::vector<ast::StmtNode*> out;
    for (ast::StmtNode* s : stmts) {
      if (is_no_grad_block(s)) {
        auto* w = static_cast<ast::With*>(s);
        std::vector<ast::StmtNode*> body = stop_recording({w->body.begin(), w->body.end()}, true);
        if (stopped) {
          out.insert(out.end(), body.begin(), body.end());
          continue;
        }
        auto* c = b_.clone(w);
        auto* item = b_.clone(c->items[0]);
        item->context_expr = b_.call(b_.attr(b_.name(tape_), "stop_recording"), {});
        c->items = b_.seq(std::vector<ast::WithItem*>{item});
        c->body = b_.seq(body);
        out.push_back(c);
        continue;
      }
      if (ast::is<ast::FunctionDef>(s) || ast::is<ast::ClassDef>(s)) {
        out.push_back(s);
        continue;
      }
      auto [copy, blocks] = copy_with_blocks(s, b_);
      for (ast::Seq<ast::StmtNode*>* blk : blocks) *blk = b_.seq(stop_recording({blk->begin(), blk->end()}, stopped));
      out.push_back(copy);
    }
    return out;
  }

  // `with tf.GradientTape([persistent=True]) as tape:` around `body`.
  ast::StmtNode* with_tape(const std::vector<ast::StmtNode*>& in, bool persistent) {
    std::vector<ast::StmtNode*> body = stop_recording(in);
    std::vector<ast::Keyword*> kws;
    if (persistent) kws.push_back(b_.keyword("persistent", b_.boolean(true)));
    auto* item = b_.arena().make<ast::WithItem>();
    item->kind = ast::NodeKind::WithItem;
    item->context_expr = b_.call(std::string(tensorflow_) + ".GradientTape", {}, kws);
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
  std::string tensorflow_;
};

// ---- compile() + fit() for standard loops.

// The call statement `s` makes, or null.
const ast::Call* statement_call(const ast::StmtNode* s) {
  auto* e = ast::as<ast::Expr>(s);
  return e ? ast::as<ast::Call>(e->value) : nullptr;
}

// X of a statement `X.method()` (no arguments), or null.
ast::ExprNode* method_receiver(const ast::StmtNode* s, std::string_view method) {
  const ast::Call* call = statement_call(s);
  auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
  if (m == nullptr || m->attr != method || !call->args.empty() || !call->keywords.empty()) return nullptr;
  return m->value;
}

bool is_name(const ast::ExprNode* e, std::string_view id) {
  auto* n = ast::as<ast::Name>(e);
  return n != nullptr && n->id == id;
}

// E of `ops.convert_to_numpy(E).item()` (PyTorch's E.item(), converted), or null.
const ast::ExprNode* item_argument(const ast::ExprNode* e) {
  auto* item = ast::as<ast::Call>(e);
  auto* m = item ? ast::as<ast::Attribute>(item->func) : nullptr;
  if (m == nullptr || m->attr != "item" || !item->args.empty() || !item->keywords.empty()) return nullptr;
  auto* numpy = ast::as<ast::Call>(m->value);
  if (numpy == nullptr || syntax::unparse(numpy->func) != "ops.convert_to_numpy" || numpy->args.size() != 1 ||
      !numpy->keywords.empty())
    return nullptr;
  return numpy->args[0];
}

// Whether `e` is `loss.item()`, converted, of the name `loss`.
bool loss_item(const ast::ExprNode* e, std::string_view loss) { return is_name(item_argument(e), loss); }

// Whether `n` occurs in `node` as a name it reads (or rebinds by augmented
// assignment, which reads it).
bool reads(const ast::Node* node, const std::string& n) {
  if (node == nullptr) return false;
  if (auto* name = ast::as<ast::Name>(node)) return name->id == n && name->ctx == ast::ExprContext::Load;
  if (auto* aug = ast::as<ast::AugAssign>(node); aug && is_name(aug->target, n)) return true;
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(node), [&](ast::Node* c) { found = found || reads(c, n); });
  return found;
}

// What a run of statements does to a name first: reads it, writes it (every
// path: an assignment at the run's own level), or neither.
enum class FirstUse : uint8_t { Neither, Read, Written };

FirstUse first_use(const std::vector<ast::StmtNode*>& stmts, std::size_t from, std::size_t to, const std::string& n);

FirstUse first_use(ast::Seq<ast::StmtNode*> block, const std::string& n) {
  return first_use(std::vector<ast::StmtNode*>(block.begin(), block.end()), 0, block.size(), n);
}

// A loop, an `if`, a `with` or a `try` reads `n` when an expression of its
// own or one of its blocks does (a loop's target binds `n` for its body); it is
// never taken to write `n` (a loop may run no time, a branch not at all).
bool compound_reads(const ast::StmtNode* s, const std::string& n) {
  if (auto* f = ast::as<ast::For>(s)) {
    if (reads(f->iter, n)) return true;
    std::set<std::string> bound;
    ast::collect_names(f->target, bound);
    return (!bound.count(n) && first_use(f->body, n) == FirstUse::Read) || first_use(f->orelse, n) == FirstUse::Read;
  }
  if (auto* w = ast::as<ast::While>(s))
    return reads(w->test, n) || first_use(w->body, n) == FirstUse::Read || first_use(w->orelse, n) == FirstUse::Read;
  if (auto* i = ast::as<ast::If>(s))
    return reads(i->test, n) || first_use(i->body, n) == FirstUse::Read || first_use(i->orelse, n) == FirstUse::Read;
  if (auto* w = ast::as<ast::With>(s)) {
    for (ast::WithItem* item : w->items)
      if (reads(item->context_expr, n)) return true;
    return first_use(w->body, n) == FirstUse::Read;
  }
  if (auto* t = ast::as<ast::Try>(s)) {
    for (ast::ExceptHandler* h : t->handlers)
      if (first_use(h->body, n) == FirstUse::Read) return true;
    return first_use(t->body, n) == FirstUse::Read || first_use(t->orelse, n) == FirstUse::Read ||
           first_use(t->finalbody, n) == FirstUse::Read;
  }
  return reads(s, n);  // a definition reads what its body (a closure) reads
}

FirstUse first_use(const std::vector<ast::StmtNode*>& stmts, std::size_t from, std::size_t to, const std::string& n) {
  for (std::size_t i = from; i < to && i < stmts.size(); ++i) {
    const ast::StmtNode* s = stmts[i];
    if (ast::is<ast::For>(s) || ast::is<ast::While>(s) || ast::is<ast::If>(s) || ast::is<ast::With>(s) ||
        ast::is<ast::Try>(s) || ast::is<ast::FunctionDef>(s) || ast::is<ast::ClassDef>(s)) {
      if (compound_reads(s, n)) return FirstUse::Read;
      continue;
    }
    if (reads(s, n)) return FirstUse::Read;
    if (ast::is<ast::Return>(s) || ast::is<ast::Raise>(s) || ast::is<ast::Break>(s) || ast::is<ast::Continue>(s))
      return FirstUse::Written;  // what follows does not run: nothing reads the value
    if (auto* a = ast::as<ast::Assign>(s)) {
      std::set<std::string> stored;
      for (ast::ExprNode* t : a->targets)
        if (ast::is<ast::Name>(t) || ast::is<ast::Tuple>(t)) ast::collect_names(t, stored);
      if (stored.count(n)) return FirstUse::Written;
    }
  }
  return FirstUse::Neither;
}

// The parts of a standard training loop (see fit_standard_loops).
struct StandardLoop {
  ast::ExprNode* model = nullptr;      // M of `M(x, training=True)`
  ast::ExprNode* loader = nullptr;     // what the loop iterates
  ast::ExprNode* optimizer = nullptr;  // O of O.zero_grad() / O.step()
  ast::ExprNode* criterion = nullptr;  // PyTorchCriterion's argument
  std::vector<ast::ExprNode*> schedulers;          // S of S.step() after O.step()
  std::vector<const ast::StmtNode*> records;       // losses.append(loss.item()), total += loss.item()
  // clip_grad_norm_ / clip_grad_value_ of the model's parameters between
  // backward() and step(): the Keras optimizer setting and its value.
  std::string clip_setting;
  ast::ExprNode* clip_value = nullptr;
  std::vector<std::string> names;                  // the loop's own: batch items, prediction, loss
};

// A training loop over a DataLoader that fit() runs through an overridden
// train_step (see step_loop).
enum class StepPart : uint8_t {
  Step,        // computed by the train_step
  ItemAssign,  // `d_x = output.mean().item()`: the tensor computed by the step, the name the host's
  Host,        // Python code of the values, replayed after fit() for each batch
  Scheduler,   // scheduler.step() after the optimizers': a callback after each batch
};

// A value of the step a host statement reads: `at` (`ops.convert_to_numpy(E).item()`,
// or `ops.shape(x)[0]`) is `logs[key]` in the replay; the step returns `tensor`
// (E) under `key`, computed where the host statement was (`key = E`) unless it
// is a name the step holds to its end.
struct HostValue {
  const ast::ExprNode* at = nullptr;
  const ast::ExprNode* tensor = nullptr;
  std::string key;
  std::size_t part = 0;  // the host statement's index in StepLoop::parts
  bool computed = false;  // `key = tensor` goes into the step
};

struct StepLoop {
  ast::ExprNode* loader = nullptr;  // what the loop iterates
  ast::ExprNode* target = nullptr;  // the batch: a name or a tuple of names
  std::string index;                // i of `for i, batch in enumerate(loader)`, or empty
  const ast::Call* enumerate = nullptr;  // that enumerate(loader[, start]) call
  std::vector<std::pair<ast::StmtNode*, StepPart>> parts;  // the body but its scheduler steps
  std::vector<std::string> keys;                  // the values the step returns: .item() names, item assignments
  std::vector<HostValue> values;                  // what the host statements read of the step
  std::map<std::size_t, std::string> item_keys;   // an item assignment's part index -> its key
  std::set<std::string> owned;                    // the host code's names and paths (see host_owned)
  bool index_live = false;                        // the index is read after the loop
  bool index_in_step = false;                     // a condition of the step reads the index (step_if)
  std::vector<ast::ExprNode*> schedulers;         // S of per-batch S.step() at the end
  std::vector<std::string> names;                 // the step's own: its target, what its statements assign
  bool reads_self = false;                        // the step reads `self` (a method's)
  bool training = true;                           // a train_step (fit); else a test_step (evaluate)
};

class FitWriter {
 public:
  FitWriter(Builder& b, const ScriptFacts& facts, const std::set<std::string>& read_elsewhere,
            std::set<std::string>& helpers, std::vector<std::pair<int, int>>& left_out, std::set<std::string> taken)
      : b_(b),
        role_of_(facts.role_of),
        mode_assumed_(facts.mode_assumed),
        tensorflow_(facts.tensorflow),
        read_elsewhere_(read_elsewhere),
        helpers_(helpers),
        left_out_(left_out),
        taken_(std::move(taken)) {}

  std::set<std::string> declared;  // global / nonlocal names

  // `in` with its standard loops fitted. A `root` block (a function's body, the
  // module's) receives the train_step classes made in it, each just before its
  // statement that holds the loop (the class's train_step reads the
  // function's names when fit() traces it, not when the class is made).
  std::vector<ast::StmtNode*> block(const std::vector<ast::StmtNode*>& in, bool loop_body, bool root = false) {
    std::vector<ast::StmtNode*> out;
    if (root) roots_.push_back(frames_.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      std::size_t out_before = out.size(), hoisted_before = hoisted_.size();
      frames_.push_back({&in, i, loop_body});
      ast::StmtNode* s = in[i];
      if (auto* f = ast::as<ast::For>(s)) {
        std::optional<Epochs> epochs = epoch_loop(f);
        std::optional<StandardLoop> loop = epochs ? std::nullopt : standard(f);
        if (epochs) {
          std::vector<ast::StmtNode*> fit = rewrite(f, epochs->inner, &*epochs);
          out.insert(out.end(), fit.begin(), fit.end());
        } else if (loop && !live_after(loop->names)) {
          std::vector<ast::StmtNode*> fit = rewrite(f, *loop);
          out.insert(out.end(), fit.begin(), fit.end());
        } else if (std::vector<ast::StmtNode*> fit = loop ? std::vector<ast::StmtNode*>{} : step_fit(f);
                   !fit.empty()) {
          out.insert(out.end(), fit.begin(), fit.end());
        } else {
          auto* c = b_.clone(f);
          c->body = nested(f->body, true);
          out.push_back(c);
        }
      } else if (auto* w = ast::as<ast::While>(s)) {
        auto* c = b_.clone(w);
        c->body = nested(w->body, true);
        out.push_back(c);
      } else if (auto* fn = ast::as<ast::FunctionDef>(s)) {
        auto* c = b_.clone(fn);
        c->body = nested(fn->body, false, true);
        out.push_back(c);
      } else if (auto* iff = ast::as<ast::If>(s)) {
        auto* c = b_.clone(iff);
        c->body = nested(iff->body, false);
        c->orelse = nested(iff->orelse, false);
        out.push_back(c);
      } else if (auto* with = ast::as<ast::With>(s)) {
        auto* c = b_.clone(with);
        c->body = nested(with->body, false);
        out.push_back(c);
      } else {
        out.push_back(s);
      }
      frames_.pop_back();
      if (root && hoisted_.size() > hoisted_before) {
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(out_before),
                   hoisted_.begin() + static_cast<std::ptrdiff_t>(hoisted_before), hoisted_.end());
        hoisted_.resize(hoisted_before);
      }
    }
    if (root) roots_.pop_back();
    return out;
  }

 private:
  struct Frame {
    const std::vector<ast::StmtNode*>* stmts;
    std::size_t index;
    bool loop_body;  // the block repeats: what comes before the statement runs after it too
  };

  ast::Seq<ast::StmtNode*> nested(ast::Seq<ast::StmtNode*> body, bool loop_body, bool root = false) {
    std::vector<ast::StmtNode*> in(body.begin(), body.end());
    return b_.seq(block(in, loop_body, root));
  }

  // An epoch loop around a standard loop: `for epoch in range(n):` whose body is
  // the standard loop, then per-epoch `scheduler.step()` calls: one fit() of n
  // epochs (Keras calls the loader's on_epoch_end between them, as each PyTorch
  // pass reshuffles).
  struct Epochs {
    StandardLoop inner;
    ast::ExprNode* start = nullptr;  // range(start, stop); null: from 0
    ast::ExprNode* stop = nullptr;
    std::vector<ast::ExprNode*> schedulers;  // stepped after each epoch
  };

  std::optional<Epochs> epoch_loop(const ast::For* f) const {
    auto* range = ast::as<ast::Call>(f->iter);
    auto* epoch = ast::as<ast::Name>(f->target);
    if (range == nullptr || !is_name(range->func, "range") || range->args.empty() || range->args.size() > 2 ||
        !range->keywords.empty() || epoch == nullptr || !f->orelse.empty() || f->body.empty())
      return std::nullopt;
    auto* inner = ast::as<ast::For>(f->body[0]);
    std::optional<StandardLoop> loop = inner ? standard(inner) : std::nullopt;
    if (!loop) return std::nullopt;
    Epochs e{*loop};
    e.start = range->args.size() == 2 ? range->args[0] : nullptr;
    e.stop = range->args.back();
    for (std::size_t i = 1; i < f->body.size(); ++i) {
      ast::ExprNode* sched = method_receiver(f->body[i], "step");
      if (sched == nullptr || role_of_(sched) == TrainingRole::Optimizer || assigned_in_loop(sched, *loop))
        return std::nullopt;
      e.schedulers.push_back(sched);
    }
    // The epoch number is not read in the loop (each epoch runs the same code).
    std::set<std::string> names;
    ast::collect_names(inner, names);
    for (ast::ExprNode* sched : e.schedulers) ast::collect_names(sched, names);
    if (names.count(std::string(epoch->id))) return std::nullopt;
    e.inner.names.emplace_back(epoch->id);
    if (live_after(e.inner.names)) return std::nullopt;
    return e;
  }

  // Whether code after the statement being rewritten (in its block and the
  // blocks around it, and before it in enclosing loops) reads gradients:
  // clipping, a parameter's `.grad`.
  bool gradients_read_after() const {
    std::function<bool(const ast::Node*)> reads_gradients = [&](const ast::Node* n) {
      if (n == nullptr) return false;
      if (auto* a = ast::as<ast::Attribute>(n); a && a->attr == "grad") return true;
      if (auto* call = ast::as<ast::Call>(n);
          call && (is_name(call->func, "pytorch_clip_grad_norm_") || is_name(call->func, "pytorch_clip_grad_value_")))
        return true;
      bool found = false;
      ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || reads_gradients(c); });
      return found;
    };
    for (std::size_t k = frames_.size(); k-- > (roots_.empty() ? 0 : roots_.back());) {
      const Frame& f = frames_[k];
      for (std::size_t i = 0; i < f.stmts->size(); ++i)
        if ((i > f.index || (f.loop_body && i < f.index)) && reads_gradients((*f.stmts)[i])) return true;
    }
    return false;
  }

  // Whether one of the loop's names may be read after it (its value would be gone).
  bool live_after(const std::vector<std::string>& names) const {
    // A function or lambda of the root block may run after the loop (called
    // later) and read the names it closes over.
    std::set<std::string> closed;
    if (!roots_.empty()) {
      std::function<void(const ast::Node*, bool)> scan = [&](const ast::Node* n, bool inside) {
        if (n == nullptr) return;
        bool def = ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n) || ast::is<ast::ClassDef>(n);
        if (auto* name = ast::as<ast::Name>(n); name && name->ctx == ast::ExprContext::Load && inside)
          closed.emplace(name->id);
        ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { scan(c, inside || def); });
      };
      for (const ast::StmtNode* st : *frames_[roots_.back()].stmts) scan(st, false);
    }
    for (const std::string& n : names) {
      if (declared.count(n) || closed.count(n)) return true;
      FirstUse use = FirstUse::Neither;
      for (std::size_t k = frames_.size(); k-- > 0 && use == FirstUse::Neither;) {
        const Frame& f = frames_[k];
        use = first_use(*f.stmts, f.index + 1, f.stmts->size(), n);
        if (use == FirstUse::Neither && f.loop_body) use = first_use(*f.stmts, 0, f.index, n);
      }
      if (use == FirstUse::Read || (use == FirstUse::Neither && read_elsewhere_.count(n))) return true;
    }
    return false;
  }

  // The loop's parts when it is a standard training loop.
  std::optional<StandardLoop> standard(const ast::For* f) const {
    if (!f->orelse.empty()) return std::nullopt;
    StandardLoop loop;
    // `for x, y in loader` or `for i, (x, y) in enumerate(loader)`.
    const ast::ExprNode* target = f->target;
    loop.loader = f->iter;
    if (auto* en = ast::as<ast::Call>(f->iter); en && is_name(en->func, "enumerate") && en->args.size() == 1 &&
                                                en->keywords.empty()) {
      auto* pair = ast::as<ast::Tuple>(target);
      if (pair == nullptr || pair->elts.size() != 2 || !ast::is<ast::Name>(pair->elts[0])) return std::nullopt;
      loop.names.emplace_back(static_cast<ast::Name*>(pair->elts[0])->id);
      target = pair->elts[1];
      loop.loader = en->args[0];
    }
    auto* items = ast::as<ast::Tuple>(target);
    if (items == nullptr || items->elts.size() != 2 || !ast::is<ast::Name>(items->elts[0]) ||
        !ast::is<ast::Name>(items->elts[1]) || role_of_(loop.loader) != TrainingRole::Loader)
      return std::nullopt;
    std::string x(static_cast<ast::Name*>(items->elts[0])->id), y(static_cast<ast::Name*>(items->elts[1])->id);
    loop.names.push_back(x);
    loop.names.push_back(y);

    // zero_grad(), the forward pass, backward(), step(), then schedulers and records.
    const auto& body = f->body;
    std::size_t i = 0;
    loop.optimizer = body.size() > 0 ? method_receiver(body[0], "zero_grad") : nullptr;
    if (loop.optimizer == nullptr || role_of_(loop.optimizer) != TrainingRole::Optimizer) return std::nullopt;
    ++i;
    // The model call `M(x, training=True)`.
    auto model_call = [&](const ast::ExprNode* e) -> const ast::Call* {
      auto* c = ast::as<ast::Call>(e);
      if (c == nullptr || c->args.size() != 1 || !is_name(c->args[0], x) || c->keywords.size() != 1 ||
          c->keywords[0]->arg != "training" || syntax::unparse(c->keywords[0]->value) != "True" ||
          mode_assumed_(c->keywords[0]) ||
          role_of_(c->func) != TrainingRole::Model)
        return nullptr;
      return c;
    };
    std::string prediction;
    const ast::Call* forward = nullptr;
    auto* first = i < body.size() ? ast::as<ast::Assign>(body[i]) : nullptr;
    if (first && first->targets.size() == 1 && ast::is<ast::Name>(first->targets[0]) && model_call(first->value)) {
      prediction = std::string(static_cast<ast::Name*>(first->targets[0])->id);
      forward = model_call(first->value);
      loop.names.push_back(prediction);
      ++i;
    }
    auto* loss_assign = i < body.size() ? ast::as<ast::Assign>(body[i]) : nullptr;
    if (loss_assign == nullptr || loss_assign->targets.size() != 1 || !ast::is<ast::Name>(loss_assign->targets[0]))
      return std::nullopt;
    std::string loss(static_cast<ast::Name*>(loss_assign->targets[0])->id);
    loop.names.push_back(loss);
    ++i;
    loop.criterion = criterion(loss_assign->value, prediction, y, forward, model_call, loop);
    if (loop.criterion == nullptr) return std::nullopt;
    loop.model = forward->func;
    if (i >= body.size() || !is_name(method_receiver(body[i], "backward"), loss)) return std::nullopt;
    ++i;
    if (i < body.size() && clipping(body[i], loop)) ++i;
    if (i >= body.size() || syntax::unparse(method_receiver(body[i], "step")) != syntax::unparse(loop.optimizer))
      return std::nullopt;
    ++i;
    for (; i < body.size(); ++i) {
      const ast::StmtNode* s = body[i];
      if (ast::ExprNode* sched = method_receiver(s, "step")) {
        if (role_of_(sched) == TrainingRole::Optimizer || assigned_in_loop(sched, loop)) return std::nullopt;
        loop.schedulers.push_back(sched);
        continue;
      }
      const ast::Call* call = statement_call(s);
      auto* append = call ? ast::as<ast::Attribute>(call->func) : nullptr;
      if (append && append->attr == "append" && call->args.size() == 1 && call->keywords.empty() &&
          loss_item(call->args[0], loss) && !assigned_in_loop(append->value, loop)) {
        loop.records.push_back(s);
        continue;
      }
      auto* aug = ast::as<ast::AugAssign>(s);
      if (aug && aug->op == ast::OperatorKind::Add && ast::is<ast::Name>(aug->target) &&
          !assigned_in_loop(aug->target, loop) && loss_item(aug->value, loss)) {
        loop.records.push_back(s);
        continue;
      }
      return std::nullopt;
    }
    return loop;
  }

  // The parts of a training loop that is not standard (several losses, a GAN's
  // two models and optimizers) but whose body fit() can run as an overridden
  // train_step, compiled: `for BATCH in loader` (or `for i, BATCH in
  // enumerate(loader)`, `i` read by host statements only), BATCH a name or a
  // tuple of names, whose body's statements are each
  //   - a step statement: an assignment to names, a zero_grad(), backward(),
  //     clipping or optimizer.step() call; their expressions call only
  //     models, modules, losses, Keras (ops, layers, keras.random) and the
  //     runtime (a function of the script, numpy, print or len would run once,
  //     when the step is traced); no loop or with, no if but a step_if (of
  //     the batch index: gradient accumulation). At least one backward() and
  //     one optimizer step (without zero_grad(), the gradients add up over the
  //     batches: the runtime carries them);
  //   - an item assignment `d_x = output.mean().item()`: the step computes the
  //     tensor where the statement was and returns it; the name is then the
  //     host statements' (no step statement reads it);
  //   - a host statement: Python code of the loop's values (`history.append(
  //     (d.item(), g.item()))`, `total += loss.item()`, `if i % 50 == 0:
  //     print(...)`), replayed after fit() for each batch in order from the
  //     values the step returned: it reads the step's tensors only as
  //     `N.item()` (of a name no later step statement assigns again), reads
  //     no model, module, loss, optimizer or script function, and changes
  //     nothing the step reads;
  //   - per-batch scheduler.step() calls after every optimizer step (callbacks
  //     after each batch).
  // No step name is read before the body assigns it (the previous batch's
  // value: a compiled step keeps none), no model call's mode is a guess
  // (T2K110).
  std::optional<StepLoop> step_loop(const ast::For* f) const {
    if (!f->orelse.empty() || f->body.empty()) return std::nullopt;
    StepLoop loop;
    loop.target = f->target;
    loop.loader = f->iter;
    // enumerate(loader[, start]): the replay enumerates the batches' logs so.
    if (auto* en = ast::as<ast::Call>(f->iter); en && is_name(en->func, "enumerate") && !en->args.empty() &&
                                                en->args.size() + en->keywords.size() <= 2) {
      auto* pair = ast::as<ast::Tuple>(f->target);
      if (pair == nullptr || pair->elts.size() != 2 || !ast::is<ast::Name>(pair->elts[0])) return std::nullopt;
      loop.index = std::string(static_cast<ast::Name*>(pair->elts[0])->id);
      loop.enumerate = en;
      loop.target = pair->elts[1];
      loop.loader = en->args[0];
    }
    if (role_of_(loop.loader) != TrainingRole::Loader || !names_only(loop.target)) return std::nullopt;

    // Per-batch scheduler steps, after every optimizer step: callbacks.
    std::size_t end = f->body.size();
    bool stepped = false;
    for (std::size_t k = end; k-- > 0;) {
      ast::ExprNode* receiver = method_receiver(f->body[k], "step");
      if (receiver != nullptr && role_of_(receiver) == TrainingRole::Optimizer) stepped = true;
      if (receiver == nullptr || role_of_(receiver) == TrainingRole::Optimizer) continue;
      if (stepped) return std::nullopt;  // it would change the rate of a step after it
      loop.schedulers.insert(loop.schedulers.begin(), receiver);
    }
    // Which statements the step computes: the training calls, the item
    // assignments' tensors, and backwards from them what they need (an
    // assignment of a name a later step statement, item assignment or .item()
    // of a host statement reads). The others are host statements (a counter,
    // a print).
    std::vector<StepPart> kinds(end, StepPart::Host);
    std::set<std::string> needed, assigned;  // assigned: the names and paths the body assigns or appends to
    for (std::size_t k = 0; k < end; ++k) host_owned(f->body[k], assigned);
    for (std::size_t k = end; k-- > 0;) {
      ast::StmtNode* s = f->body[k];
      std::set<std::string> stored, read;
      if (ast::ExprNode* receiver = method_receiver(s, "step"); receiver && role_of_(receiver) != TrainingRole::Optimizer) {
        kinds[k] = StepPart::Scheduler;
        continue;
      }
      if (const ast::ExprNode* e = item_value(s)) {
        kinds[k] = StepPart::ItemAssign;
        names_of(e, stored, needed);
        continue;
      }
      names_of(s, stored, read);
      bool feeds = false;
      if (ast::is<ast::Assign>(s) || ast::is<ast::AugAssign>(s))
        for (const std::string& n : stored) feeds = feeds || needed.count(n) > 0;
      if (feeds || training_call(s) || step_if(s, loop.index, assigned)) {
        kinds[k] = StepPart::Step;
        needed.insert(read.begin(), read.end());
      } else {
        items_read(s, needed);
      }
    }
    // The step's statements and names first: what host statements may read.
    std::set<std::string> step_names, step_reads, step_paths;
    ast::collect_names(loop.target, step_names);
    int backwards = 0;
    for (std::size_t k = 0; k < end; ++k) {
      ast::StmtNode* s = f->body[k];
      StepPart part = kinds[k];
      // An assignment of a tensor of the step that the step does not read again
      // and host code could not make (`out = out.detach()` at the end) is the
      // step's; `n = x.size(0)` is host code.
      if (part == StepPart::Host && ast::is<ast::Assign>(s) && step_statement(s) && reads_names(s, step_names)) {
        StepLoop probe = loop;
        if (!host_statement(s, loop.parts.size(), step_names, step_paths, {}, probe))
          part = kinds[k] = StepPart::Step;
      }
      bool conditional = part == StepPart::Step && step_if(s, loop.index, assigned);
      if (part == StepPart::Step && !step_statement(s) && !conditional) return std::nullopt;
      if (part == StepPart::Scheduler) continue;
      loop.parts.emplace_back(s, part);
      if (part == StepPart::Host) continue;
      if (part == StepPart::Step) {
        backwards += backward_count(s);
        std::set<std::string> stored;
        // (The index in a condition is the step's own: data[1][0].)
        if (conditional) {
          auto* iff = static_cast<ast::If*>(s);
          loop.index_in_step = loop.index_in_step || (!loop.index.empty() && reads(iff->test, loop.index));
          for (const ast::StmtNode* x : iff->body) names_of(x, stored, step_reads);
        } else {
          names_of(s, stored, step_reads);
        }
        step_names.insert(stored.begin(), stored.end());
        read_paths(s, step_paths);
      } else {
        names_of(item_value(s), step_names, step_reads);
        read_paths(item_value(s), step_paths);
      }
    }
    // A loop with no training call at all is an evaluation: a test_step, run by
    // evaluate(), when it calls a model and records something of it. (Without
    // a zero_grad(), the gradients add up over the batches, PyTorch's
    // accumulation: the runtime carries them from one step to the next.)
    loop.training = backwards > 0;
    // A training step steps an optimizer (one whose kind is not known, in a dict,
    // would be taken for a scheduler).
    bool optimizer_step = false;
    for (auto [s, part] : loop.parts) {
      if (part != StepPart::Step) continue;
      std::vector<const ast::StmtNode*> calls = {s};
      if (auto* iff = ast::as<ast::If>(s)) calls.assign(iff->body.begin(), iff->body.end());
      for (const ast::StmtNode* c : calls)
        if (ast::ExprNode* o = method_receiver(c, "step"))
          optimizer_step = optimizer_step || role_of_(o) == TrainingRole::Optimizer;
    }
    if (loop.training && !optimizer_step) return std::nullopt;
    // A per-batch scheduler changes what the step reads only through the
    // optimizers' rates: an object the step reads (a KL warm-up's beta) would be
    // read once, when the step is traced.
    for (ast::ExprNode* sched : loop.schedulers)
      if (!dotted(sched) || overlaps(syntax::unparse(sched), step_paths)) return std::nullopt;
    if (!loop.index.empty() && step_reads.count(loop.index)) return std::nullopt;
    std::set<std::string> target_names;
    ast::collect_names(loop.target, target_names);
    std::vector<ast::StmtNode*> step;
    for (std::size_t k = 0; k < loop.parts.size(); ++k) {
      auto [s, part] = loop.parts[k];
      if (part == StepPart::Step) step.push_back(s);
      if (part == StepPart::ItemAssign) {
        // Its name is the host's: no step statement reads it. Assigned again,
        // each value is returned under a name of its own (score, score_).
        std::string n(static_cast<const ast::Name*>(static_cast<ast::Assign*>(s)->targets[0])->id);
        if (step_reads.count(n) || step_names.count(n) || target_names.count(n)) return std::nullopt;
        std::string key = n;
        while (std::find(loop.keys.begin(), loop.keys.end(), key) != loop.keys.end() || step_names.count(key) ||
               step_reads.count(key))
          key.push_back('_');
        loop.keys.push_back(key);
        loop.item_keys[k] = key;
      }
    }
    // Each step name is assigned before it is read (the target is bound per batch).
    for (const std::string& n : step_names)
      if (!target_names.count(n) && first_use(step, 0, step.size(), n) == FirstUse::Read) return std::nullopt;
    // What the host code owns: the names it assigns, what it appends to, the
    // index. It may read those, and plain Python values of the code around.
    loop.owned.clear();
    if (!loop.index.empty()) loop.owned.insert(loop.index);
    for (auto [s, part] : loop.parts) {
      if (part == StepPart::ItemAssign)
        loop.owned.emplace(static_cast<const ast::Name*>(static_cast<ast::Assign*>(s)->targets[0])->id);
      if (part == StepPart::Host) host_owned(s, loop.owned);
    }
    // The host statements read the step's tensors through .item() only, at their
    // value there, and change nothing the step reads.
    for (std::size_t k = 0; k < loop.parts.size(); ++k) {
      auto [s, part] = loop.parts[k];
      if (part != StepPart::Host) continue;
      std::set<std::string> later;  // what step statements after this one assign
      for (std::size_t j = k + 1; j < loop.parts.size(); ++j)
        if (loop.parts[j].second == StepPart::Step) {
          std::set<std::string> read;
          names_of(loop.parts[j].first, later, read);
        }
      if (!host_statement(s, k, step_names, step_paths, later, loop)) return std::nullopt;
    }
    for (ast::ExprNode* sched : loop.schedulers)
      if (reads_names(sched, step_names)) return std::nullopt;
    if (!loop.training) {
      bool model = false, host = false;
      for (auto [s, part] : loop.parts) {
        if (part == StepPart::Step && training_call(s)) return std::nullopt;
        model = model || (part != StepPart::Host && calls_model(s));
        host = host || part != StepPart::Step;
      }
      for (const HostValue& v : loop.values) model = model || calls_model(v.tensor);
      if (!model || !host || !loop.schedulers.empty()) return std::nullopt;
    }
    loop.names.assign(step_names.begin(), step_names.end());
    for (auto [s, part] : loop.parts)
      if (part != StepPart::Host) loop.reads_self = loop.reads_self || reads(s, "self");
    return loop;
  }

  static bool names_only(const ast::ExprNode* target) {
    if (ast::is<ast::Name>(target)) return true;
    auto* t = ast::as<ast::Tuple>(target);
    if (t == nullptr) return false;
    for (const ast::ExprNode* e : t->elts)
      if (!names_only(e)) return false;
    return true;
  }

  static bool reads_names(const ast::Node* n, const std::set<std::string>& names) {
    for (const std::string& name : names)
      if (reads(n, name)) return true;
    return false;
  }

  // E of an item assignment `N = ops.convert_to_numpy(E).item()` (PyTorch's
  // `N = E.item()`) whose E may be computed in the step, or null.
  const ast::ExprNode* item_value(const ast::StmtNode* s) const {
    auto* a = ast::as<ast::Assign>(s);
    if (a == nullptr || a->targets.size() != 1 || !ast::is<ast::Name>(a->targets[0])) return nullptr;
    const ast::ExprNode* e = item_argument(a->value);
    return e != nullptr && step_expression(e) ? e : nullptr;
  }

  // Adds to `owned` what the host statement `s` makes or changes itself: the
  // names and attributes it assigns (`seen`, `self.steps`), the lists it
  // appends to (`history`, `self.losses`). The replay after fit() finds them as
  // the loop did; anything else could have changed during fit() (an optimizer's
  // param_groups, a monitor reading the weights).
  static void host_owned(const ast::Node* n, std::set<std::string>& owned) {
    if (n == nullptr) return;
    auto target = [&](const ast::ExprNode* t) {
      std::set<std::string> names;
      if (ast::is<ast::Attribute>(t) && dotted(t)) owned.insert(syntax::unparse(t));
      else if (names_only(t)) ast::collect_names(t, owned);
    };
    if (auto* a = ast::as<ast::Assign>(n))
      for (const ast::ExprNode* t : a->targets) target(t);
    if (auto* aug = ast::as<ast::AugAssign>(n)) target(aug->target);
    if (auto* f = ast::as<ast::For>(n)) target(f->target);
    if (auto* call = ast::as<ast::Call>(n))
      if (auto* m = ast::as<ast::Attribute>(call->func);
          m && (m->attr == "append" || m->attr == "extend" || m->attr == "insert") && dotted(m->value))
        owned.insert(syntax::unparse(m->value));
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { host_owned(c, owned); });
  }

  // Whether the name `n` holds a plain Python value wherever the root block
  // assigns it (a number, a string, range(): `epoch`, `num_epochs`), or is not
  // assigned there (a parameter): what host code may read as it is.
  bool plain_outside(const std::string& n) const {
    if (roots_.empty()) return true;
    static const std::set<std::string_view> kPlainCalls = {"int", "float", "len", "range", "round", "str", "min",
                                                           "max", "abs", "sum", "enumerate"};
    bool plain = true;
    std::function<bool(const ast::Node*)> plain_value = [&](const ast::Node* v) {
      if (v == nullptr) return true;
      if (auto* call = ast::as<ast::Call>(v)) {
        auto* fn = ast::as<ast::Name>(call->func);
        if (fn == nullptr || !kPlainCalls.count(fn->id)) return false;
      }
      if (ast::is<ast::Attribute>(v) || ast::is<ast::Subscript>(v)) return false;
      if (auto* name = ast::as<ast::Name>(v); name && role_of_(name) != TrainingRole::Other &&
                                                role_of_(name) != TrainingRole::Loader)
        return false;
      bool ok = true;
      ast::for_each_child(const_cast<ast::Node*>(v), [&](ast::Node* c) { ok = ok && plain_value(c); });
      return ok;
    };
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* x) {
      if (!plain || x == nullptr) return;
      auto binds = [&](const ast::ExprNode* t) {
        std::set<std::string> names;
        ast::collect_names(t, names);
        return names.count(n) > 0;
      };
      if (auto* a = ast::as<ast::Assign>(x)) {
        for (const ast::ExprNode* t : a->targets)
          if (binds(t) && !plain_value(a->value)) plain = false;
      } else if (auto* aug = ast::as<ast::AugAssign>(x); aug && binds(aug->target) && !plain_value(aug->value)) {
        plain = false;
      } else if (auto* f = ast::as<ast::For>(x); f && binds(f->target) && !plain_value(f->iter)) {
        plain = false;
      } else if (auto* w = ast::as<ast::With>(x)) {
        for (const ast::WithItem* item : w->items)
          if (item->optional_vars != nullptr && binds(item->optional_vars)) plain = false;
      }
      ast::for_each_child(const_cast<ast::Node*>(x), scan);
    };
    for (const ast::StmtNode* st : *frames_[roots_.back()].stmts) scan(st);
    return plain;
  }

  // Whether `s` is a host statement (see step_loop): Python code replayed after
  // fit(), which reads the step's names (`step_names`) only as `N.item()` of a
  // name no step statement assigns after it (`later`), such names being added
  // to `keys`; reads no model, module, loss, optimizer or script function;
  // assigns no step name and nothing the step reads (`step_paths`); an
  // expression, an assignment, an if or a for loop of those, no jump.
  bool host_statement(const ast::StmtNode* s, std::size_t part, const std::set<std::string>& step_names,
                      const std::set<std::string>& step_paths, const std::set<std::string>& later,
                      StepLoop& loop) const {
    bool ok = true;
    // A value of the step: a name it holds to its end is returned as it is;
    // another expression of its names is computed where the statement was.
    auto value = [&](const ast::ExprNode* at, const ast::ExprNode* tensor, std::string base) {
      auto* name = ast::as<ast::Name>(tensor);
      if (name != nullptr && step_names.count(std::string(name->id)) && !later.count(std::string(name->id))) {
        if (std::find(loop.keys.begin(), loop.keys.end(), name->id) == loop.keys.end()) loop.keys.emplace_back(name->id);
        loop.values.push_back({at, tensor, std::string(name->id), part, false});
        return;
      }
      // Computed in the step, once a batch, where the statement was: it reads only
      // the step's names and values fixed for the loop (not the host code's own,
      // which change between batches: `c[i]` of a host loop's i), and the
      // statement runs every batch (not under a host `if` or loop, whose
      // condition the step does not know).
      std::set<std::string> host_names(loop.owned.begin(), loop.owned.end());
      // (A name's value or a size may be taken every batch: nothing computes.)
      bool plain = (tensor == at && ast::is<ast::Subscript>(at)) || ast::is<ast::Name>(tensor);
      if (!reads_names(tensor, step_names) || !step_expression(tensor) || reads_names(tensor, host_names) ||
          (!plain && (ast::is<ast::If>(s) || ast::is<ast::For>(s)))) {
        ok = false;
        return;
      }
      // The same expression computed since with no step statement between: its value.
      std::string text = syntax::unparse(tensor);
      for (auto it = loop.values.rbegin(); it != loop.values.rend() && it->computed; ++it) {
        bool between = false;
        for (std::size_t j = it->part + 1; j < part; ++j) between = between || loop.parts[j].second != StepPart::Host;
        if (between) break;
        if (syntax::unparse(it->tensor) == text) {
          loop.values.push_back({at, tensor, it->key, part, false});
          return;
        }
      }
      // A name of train_step's own: none the step uses, nor its parameters.
      std::set<std::string> names(step_names.begin(), step_names.end());
      names.insert(loop.keys.begin(), loop.keys.end());
      for (const std::string& p : step_paths) names.insert(p.substr(0, p.find('.')));
      names.insert({"self", "keras_self", "data", "tape"});
      while (names.count(base)) base.push_back('_');
      loop.keys.push_back(base);
      loop.values.push_back({at, tensor, base, part, true});
    };
    // The name a computed value is returned under, after what the statement
    // records it in: `n = x.size(0)` n, `total += ...` batch_total,
    // `accs.append(...)` batch_accs.
    std::string base = "value";
    if (auto* aug = ast::as<ast::AugAssign>(s); aug && ast::is<ast::Name>(aug->target))
      base = "batch_" + std::string(static_cast<const ast::Name*>(aug->target)->id);
    if (auto* a = ast::as<ast::Assign>(s); a && a->targets.size() == 1 && ast::is<ast::Name>(a->targets[0]))
      base = std::string(static_cast<const ast::Name*>(a->targets[0])->id);
    if (const ast::Call* call = statement_call(s))
      if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "append") {
        const ast::ExprNode* list = m->value;
        if (auto* la = ast::as<ast::Attribute>(list)) base = "batch_" + std::string(la->attr);
        if (auto* ln = ast::as<ast::Name>(list)) base = "batch_" + std::string(ln->id);
      }
    std::function<void(const ast::Node*)> visit = [&](const ast::Node* n) {
      if (!ok || n == nullptr) return;
      if (ast::is<ast::While>(n) || ast::is<ast::With>(n) || ast::is<ast::Try>(n) || ast::is<ast::Return>(n) ||
          ast::is<ast::Break>(n) || ast::is<ast::Continue>(n) || ast::is<ast::Raise>(n) ||
          ast::is<ast::FunctionDef>(n) || ast::is<ast::ClassDef>(n) || ast::is<ast::Global>(n) ||
          ast::is<ast::Nonlocal>(n) || ast::is<ast::Delete>(n) || ast::is<ast::Yield>(n) || ast::is<ast::Await>(n)) {
        ok = false;
        return;
      }
      if (ast::category(n->kind) == ast::Category::Expr) {
        auto* e = static_cast<const ast::ExprNode*>(n);
        if (const ast::ExprNode* item = item_argument(e)) {
          value(e, item, base);
          return;
        }
        // `x.size(0)` of a tensor of the step: a Python int in PyTorch.
        auto* sub = ast::as<ast::Subscript>(e);
        auto* shape = sub ? ast::as<ast::Call>(sub->value) : nullptr;
        if (shape != nullptr && syntax::unparse(shape->func) == "ops.shape" && shape->args.size() == 1 &&
            ast::is<ast::Name>(shape->args[0]) && ast::is<ast::Constant>(sub->slice) &&
            step_names.count(std::string(static_cast<const ast::Name*>(shape->args[0])->id))) {
          value(e, e, std::string(static_cast<const ast::Name*>(shape->args[0])->id) + "_size");
          return;
        }
      }
      // What it reads of the code around: its own (owned) names, attributes and
      // items; plain values of names; nothing a model, an optimizer or fit()
      // may change (`group["lr"]` of a param group, `monitor.value`).
      if (ast::is<ast::Attribute>(n) || ast::is<ast::Subscript>(n)) {
        const ast::ExprNode* root = static_cast<const ast::ExprNode*>(n);
        while (true) {
          if (auto* a = ast::as<ast::Attribute>(root)) root = a->value;
          else if (auto* sb = ast::as<ast::Subscript>(root)) root = sb->value;
          else break;
        }
        auto* rn = ast::as<ast::Name>(root);
        std::string path = ast::is<ast::Attribute>(n) && dotted(static_cast<const ast::ExprNode*>(n))
                               ? syntax::unparse(static_cast<const ast::ExprNode*>(n))
                               : rn != nullptr ? std::string(rn->id) : std::string();
        bool own = false;
        for (const std::string& o : loop.owned)
          own = own || path == o || path.starts_with(o + ".") || (rn != nullptr && o == rn->id);
        // A method of an owned list (append) is called on it: checked below.
        bool method_of_owned = false;
        if (auto* a = ast::as<ast::Attribute>(n); a && dotted(a->value))
          for (const std::string& o : loop.owned) method_of_owned = method_of_owned || syntax::unparse(a->value) == o;
        if (!own && !method_of_owned && rn != nullptr) ok = false;
      }
      if (auto* name = ast::as<ast::Name>(n)) {
        std::string id(name->id);
        TrainingRole role = role_of_(name);
        if (step_names.count(id) || role == TrainingRole::Model || role == TrainingRole::Module ||
            role == TrainingRole::Loss || role == TrainingRole::Optimizer || role == TrainingRole::Function ||
            (name->ctx != ast::ExprContext::Load && overlaps(id, step_paths)))
          ok = false;
        if (name->ctx == ast::ExprContext::Load && !loop.owned.count(id) && role != TrainingRole::Loader &&
            !plain_outside(id))
          ok = false;
      }
      // Calls of Python's builtins and of the methods that add to a list, set or
      // dict or format a string, on nothing the step reads: a method of another
      // object (a scheduler's get_last_lr(), a logger) could read or change what
      // the replay after fit() finds otherwise than the loop did.
      if (auto* call = ast::as<ast::Call>(n)) {
        static const std::set<std::string_view> kBuiltins = {
            "print", "len", "str", "repr", "float", "int", "bool", "round", "sum", "min", "max", "abs",
            "format", "list", "tuple", "dict", "set", "sorted", "enumerate", "range", "zip"};
        static const std::set<std::string_view> kMethods = {"append", "extend", "insert", "add", "update",
                                                            "format", "join"};
        const ast::ExprNode* root = call->func;
        while (auto* a = ast::as<ast::Attribute>(root)) root = a->value;
        auto* fn = ast::as<ast::Name>(call->func);
        auto* method = ast::as<ast::Attribute>(call->func);
        if (fn != nullptr && !kBuiltins.count(fn->id)) ok = false;
        if (method != nullptr && !kMethods.count(method->attr)) ok = false;
        if (fn == nullptr && method == nullptr) ok = false;
        if (method != nullptr && (!dotted(method->value) || overlaps(syntax::unparse(method->value), step_paths)))
          ok = false;
      }
      // Assigned: names, or attributes (`self.steps += 1`) of nothing the step reads.
      auto assignable = [&](const ast::ExprNode* t) {
        if (auto* a = ast::as<ast::Attribute>(t)) return dotted(a) && !overlaps(syntax::unparse(a), step_paths);
        return names_only(t);
      };
      if (auto* aug = ast::as<ast::AugAssign>(n); aug && !assignable(aug->target)) ok = false;
      if (auto* a = ast::as<ast::Assign>(n))
        for (const ast::ExprNode* t : a->targets)
          if (!assignable(t)) ok = false;
      ast::for_each_child(const_cast<ast::Node*>(n), visit);
    };
    visit(s);
    return ok;
  }

  // Adds to `paths` the longest dotted names `n` reads (`self.model`, `x`).
  static void read_paths(const ast::Node* n, std::set<std::string>& paths) {
    if (n == nullptr) return;
    if (ast::category(n->kind) == ast::Category::Expr && dotted(static_cast<const ast::ExprNode*>(n))) {
      auto* name = ast::as<ast::Name>(n);
      if (name == nullptr || name->ctx == ast::ExprContext::Load)
        paths.insert(syntax::unparse(static_cast<const ast::ExprNode*>(n)));
      return;
    }
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { read_paths(c, paths); });
  }

  // Whether `e` is a name or attributes of one (`history`, `self.history`).
  static bool dotted(const ast::ExprNode* e) {
    while (auto* a = ast::as<ast::Attribute>(e)) e = a->value;
    return ast::is<ast::Name>(e);
  }

  // Whether the dotted name `path` is one of `paths`, or a part of one, or
  // one of them a part of it (`self` and `self.model`; not `self.history`
  // and `self.model`).
  static bool overlaps(const std::string& path, const std::set<std::string>& paths) {
    for (const std::string& p : paths)
      if (p == path || p.starts_with(path + ".") || path.starts_with(p + ".")) return true;
    return false;
  }

  // Whether `n` calls a model.
  bool calls_model(const ast::Node* n) const {
    if (n == nullptr) return false;
    if (auto* call = ast::as<ast::Call>(n); call && role_of_(call->func) == TrainingRole::Model) return true;
    bool found = false;
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || calls_model(c); });
    return found;
  }

  // Whether `s` calls zero_grad(), backward(), a clipping or an optimizer's step().
  bool training_call(const ast::StmtNode* s) const {
    const ast::Call* call = statement_call(s);
    if (call == nullptr) return false;
    if (backward_of(s) != nullptr || zero_grad(s)) return true;
    if (ast::ExprNode* o = method_receiver(s, "step")) return role_of_(o) == TrainingRole::Optimizer;
    auto* fn = ast::as<ast::Name>(call->func);
    return fn != nullptr && (fn->id == "pytorch_clip_grad_norm_" || fn->id == "pytorch_clip_grad_value_");
  }

  // Adds to `names` the names read inside the `E.item()` and `x.size(0)` of `n`:
  // what the step must compute for the host statement `n`.
  static void items_read(const ast::Node* n, std::set<std::string>& names) {
    if (n == nullptr) return;
    if (ast::category(n->kind) == ast::Category::Expr) {
      auto* e = static_cast<const ast::ExprNode*>(n);
      const ast::ExprNode* item = item_argument(e);
      auto* sub = ast::as<ast::Subscript>(e);
      auto* shape = sub ? ast::as<ast::Call>(sub->value) : nullptr;
      if (item == nullptr && shape != nullptr && syntax::unparse(shape->func) == "ops.shape") item = shape;
      if (item != nullptr) {
        std::set<std::string> stored;
        names_of(item, stored, names);
        return;
      }
    }
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { items_read(c, names); });
  }

  // Whether `s` is `O.zero_grad(...)` of an optimizer or `pytorch_zero_grad(M)`.
  bool zero_grad(const ast::StmtNode* s) const {
    const ast::Call* call = statement_call(s);
    if (call == nullptr) return false;
    if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "zero_grad")
      return role_of_(m->value) == TrainingRole::Optimizer;
    return is_name(call->func, "pytorch_zero_grad");
  }

  // Whether `n` reads a private attribute (`self.__opt`): inside the step's
  // class Python would mangle it to another name.
  static bool private_attribute(const ast::Node* n) {
    if (n == nullptr) return false;
    if (auto* a = ast::as<ast::Attribute>(n); a && a->attr.starts_with("__") && !a->attr.ends_with("__")) return true;
    bool found = false;
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || private_attribute(c); });
    return found;
  }

  // Whether `s` is an `if` of the step (see step_loop): no else; a body of
  // zero_grad(), clipping, optimizer and scheduler step() calls (no
  // backward(); a runtime scheduler's step() is a variable's update); a
  // condition of the batch index `index`, constants, arithmetic, comparisons,
  // len() and values of the code around that the loop's body does not change
  // (`assigned`): `(i + 1) % accum_steps == 0 or i + 1 == len(loader)`. The
  // step computes it from the index fit() gives (pytorch_if), or, without
  // the index, as Python when traced.
  bool step_if(const ast::StmtNode* s, const std::string& index, const std::set<std::string>& assigned) const {
    auto* iff = ast::as<ast::If>(s);
    if (iff == nullptr || !iff->orelse.empty() || iff->body.empty()) return false;
    for (const ast::StmtNode* x : iff->body) {
      const ast::Call* call = statement_call(x);
      if (ast::ExprNode* sched = method_receiver(x, "step");
          sched && role_of_(sched) == TrainingRole::Scheduler && call->args.empty() && call->keywords.empty())
        continue;
      if (!training_call(x) || backward_of(x) != nullptr || !step_statement(x)) return false;
    }
    bool ok = true;
    std::function<void(const ast::Node*)> visit = [&](const ast::Node* n) {
      if (!ok || n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n)) {
        ok = is_name(call->func, "len") && call->args.size() == 1 && call->keywords.empty() &&
             dotted(call->args[0]) && !overlaps(syntax::unparse(call->args[0]), assigned);
        return;
      }
      if (auto* a = ast::as<ast::Attribute>(n)) {
        const ast::ExprNode* root = a;
        while (auto* r = ast::as<ast::Attribute>(root)) root = r->value;
        ok = dotted(a) && !overlaps(syntax::unparse(a), assigned) && role_of_(root) == TrainingRole::Other;
        return;
      }
      if (auto* name = ast::as<ast::Name>(n)) {
        std::string id(name->id);
        TrainingRole role = role_of_(name);
        ok = id == index || (!assigned.count(id) && role == TrainingRole::Other && plain_outside(id));
        return;
      }
      if (!ast::is<ast::Constant>(n) && !ast::is<ast::BinOp>(n) && !ast::is<ast::Compare>(n) &&
          !ast::is<ast::BoolOp>(n) && !ast::is<ast::UnaryOp>(n)) {
        ok = false;
        return;
      }
      ast::for_each_child(const_cast<ast::Node*>(n), visit);
    };
    visit(iff->test);
    return ok;
  }

  // Whether `s` may be a statement of a compiled train_step (see step_loop).
  bool step_statement(const ast::StmtNode* s) const {
    if (private_attribute(s)) return false;
    if (auto* a = ast::as<ast::Assign>(s)) {
      for (const ast::ExprNode* t : a->targets)
        if (!names_only(t)) return false;
      return step_expression(a->value);
    }
    if (auto* aug = ast::as<ast::AugAssign>(s)) return ast::is<ast::Name>(aug->target) && step_expression(aug->value);
    const ast::Call* call = statement_call(s);
    if (call == nullptr) return false;
    if (backward_of(s) != nullptr) return step_expression(backward_of(s));
    if (ast::ExprNode* o = method_receiver(s, "step")) return role_of_(o) == TrainingRole::Optimizer;
    auto* fn = ast::as<ast::Name>(call->func);
    bool clip = fn != nullptr && (fn->id == "pytorch_clip_grad_norm_" || fn->id == "pytorch_clip_grad_value_");
    if (!zero_grad(s) && !clip) return false;
    for (const ast::ExprNode* a : call->args)
      if (!step_expression(a)) return false;
    for (const ast::Keyword* kw : call->keywords)
      if (!step_expression(kw->value)) return false;
    return true;
  }

  // Whether the expression `e` computes the same in a traced step as in each
  // batch of the loop: its calls are of models, modules and losses (one that
  // is a guess of the model's mode is not), Keras and the runtime; nothing of
  // numpy, Python's random or time, no function of the script.
  bool step_expression(const ast::ExprNode* e) const {
    // (min() and max() of tensors would ask for a Python bool of a traced tensor.)
    static const std::set<std::string_view> kPure = {"abs", "tuple", "isinstance"};
    static const std::set<std::string_view> kEager = {"np", "numpy", "random", "time", "math"};
    bool ok = true;
    std::function<void(const ast::Node*)> visit = [&](const ast::Node* n) {
      if (!ok || n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n)) {
        TrainingRole role = role_of_(call->func);
        std::string func = syntax::unparse(call->func);
        bool layer = role == TrainingRole::Model || role == TrainingRole::Module || role == TrainingRole::Loss;
        if (auto* m = ast::as<ast::Attribute>(call->func)) {
          TrainingRole owner = role_of_(m->value);
          layer = layer || owner == TrainingRole::Model || owner == TrainingRole::Module;
        }
        bool library = dotted(call->func) &&
                       (func.starts_with("ops.") || func.starts_with("keras.") || func.starts_with("layers."));
        auto* fn = ast::as<ast::Name>(call->func);
        bool runtime = fn != nullptr && (fn->id.starts_with("pytorch_") || fn->id.starts_with("PyTorch") ||
                                         kPure.count(fn->id));
        if (!layer && !library && !runtime) ok = false;
      }
      if (auto* name = ast::as<ast::Name>(n)) {
        if (kEager.count(name->id) || role_of_(name) == TrainingRole::Function) ok = false;
      }
      // A condition (`a if loss > b else c`, `x and y`) would be a traced tensor's
      // Python bool; a private attribute (`self.__opt`) is another name inside the
      // step's class.
      if (ast::is<ast::Lambda>(n) || ast::is<ast::NamedExpr>(n) || ast::is<ast::Yield>(n) ||
          ast::is<ast::Await>(n) || ast::is<ast::IfExp>(n) || ast::is<ast::BoolOp>(n))
        ok = false;
      if (private_attribute(n)) ok = false;
      ast::for_each_child(const_cast<ast::Node*>(n), visit);
    };
    visit(e);
    return ok;
  }

  // Whether `s` clips the gradients of the model's parameters, PyTorch's
  // clip_grad_norm_(model.parameters(), max_norm) (the 2-norm) or
  // clip_grad_value_(model.parameters(), clip_value), converted; records the
  // Keras optimizer setting that does it in fit() (global_clipnorm, which the
  // runtime optimizers compute as PyTorch does; clipvalue) in `loop`.
  bool clipping(const ast::StmtNode* s, StandardLoop& loop) const {
    const ast::Call* call = statement_call(s);
    auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
    if (fn == nullptr || call->args.empty() || call->args.size() > 2 ||
        syntax::unparse(call->args[0]) != syntax::unparse(loop.model))
      return false;
    bool norm = fn->id == "pytorch_clip_grad_norm_";
    if (!norm && fn->id != "pytorch_clip_grad_value_") return false;
    ast::ExprNode* value = call->args.size() == 2 ? call->args[1] : nullptr;
    for (ast::Keyword* kw : call->keywords) {
      std::string text = syntax::unparse(kw->value);
      if (kw->arg == (norm ? "max_norm" : "clip_value") && value == nullptr) value = kw->value;
      else if (!(norm && kw->arg == "norm_type" && (text == "2" || text == "2.0")) &&
               !(norm && kw->arg == "error_if_nonfinite" && text == "False") && kw->arg != "foreach")
        return false;
    }
    if (value == nullptr || assigned_in_loop(value, loop)) return false;
    loop.clip_setting = norm ? "global_clipnorm" : "clipvalue";
    loop.clip_value = value;
    return true;
  }

  // Whether `e` reads a name the loop assigns.
  static bool assigned_in_loop(const ast::ExprNode* e, const StandardLoop& loop) {
    std::set<std::string> names;
    ast::collect_names(e, names);
    for (const std::string& n : loop.names)
      if (names.count(n)) return true;
    return false;
  }

  // The argument of PyTorchCriterion for the loss expression `e` of the
  // prediction (the name `prediction`, or, when `forward` is null, the model call
  // inside `e`, which `forward` is then set to) and the target `y`: `criterion`
  // itself for `criterion(pred, y)`, else a lambda of the two. Null when `e`
  // reads another of the loop's names.
  template <class ModelCall>
  ast::ExprNode* criterion(ast::ExprNode* e, const std::string& prediction, const std::string& y,
                           const ast::Call*& forward, const ModelCall& model_call, const StandardLoop& loop) const {
    auto* call = ast::as<ast::Call>(e);
    // The forward pass written inside the loss: `criterion(model(x, training=True), y)`.
    std::string pred = prediction;
    if (forward == nullptr) {
      if (call == nullptr) return nullptr;
      ast::Call* inlined = nullptr;
      for (std::size_t k = 0; k < call->args.size(); ++k)
        if (model_call(call->args[k])) {
          if (inlined != nullptr) return nullptr;
          inlined = b_.clone(call);
          forward = model_call(call->args[k]);
          pred = fresh("outputs", e);
          std::vector<ast::ExprNode*> args(call->args.begin(), call->args.end());
          args[k] = b_.name(pred);
          inlined->args = b_.seq(args);
        }
      if (inlined == nullptr) return nullptr;
      e = call = inlined;
    }
    std::set<std::string> names;
    ast::collect_names(e, names);
    if (!names.count(y) || !names.count(pred)) return nullptr;
    for (const std::string& n : loop.names)
      if (n != pred && n != y && names.count(n)) return nullptr;
    const ast::ExprNode* root = forward->func;
    while (auto* a = ast::as<ast::Attribute>(root)) root = a->value;
    if (!compiles_as_loss(e, pred, y, ast::is<ast::Name>(root) ? static_cast<const ast::Name*>(root)->id : "")) return nullptr;
    if (call != nullptr && call->args.size() == 2 && call->keywords.empty() && is_name(call->args[0], pred) &&
        is_name(call->args[1], y)) {
      std::set<std::string> in_func;
      ast::collect_names(call->func, in_func);
      if (!in_func.count(pred) && !in_func.count(y)) return call->func;
    }
    return b_.lambda({pred, y}, e);
  }

  // Whether the loss expression `e` can be fit()'s loss: the prediction and the
  // target used whole, no model or module but the trained one (its variables
  // would not train), no function of the script (eager code).
  bool compiles_as_loss(const ast::ExprNode* e, const std::string& pred, const std::string& y,
                        std::string_view model) const {
    bool ok = true;
    std::function<void(const ast::Node*)> visit = [&](const ast::Node* n) {
      if (!ok || n == nullptr) return;
      const ast::ExprNode* inner = nullptr;
      if (auto* sub = ast::as<ast::Subscript>(n)) inner = sub->value;
      if (auto* attr = ast::as<ast::Attribute>(n)) inner = attr->value;
      if (inner != nullptr && (is_name(inner, pred) || is_name(inner, y))) ok = false;
      if (auto* name = ast::as<ast::Name>(n); name && name->id != model) {
        TrainingRole role = role_of_(name);
        ok = ok && role != TrainingRole::Model && role != TrainingRole::Module && role != TrainingRole::Function;
      }
      ast::for_each_child(const_cast<ast::Node*>(n), visit);
    };
    visit(e);
    return ok;
  }

  // `base`, or `base_`..., a name neither the code nor `e` uses.
  std::string fresh(std::string base, const ast::ExprNode* e) const {
    std::set<std::string> names;
    ast::collect_names(e, names);
    while (taken_.count(base) || names.count(base)) base.push_back('_');
    return base;
  }

  std::vector<ast::StmtNode*> rewrite(const ast::For* f, const StandardLoop& loop, const Epochs* epochs = nullptr) {
    std::vector<ast::StmtNode*> out;
    std::vector<ast::ExprNode*> callbacks;
    std::string recorder;
    if (!loop.records.empty()) recorder = callback_object("batch_losses", "PyTorchBatchLosses", out, callbacks);
    scheduler_callbacks(loop.schedulers, true, callbacks);
    if (epochs != nullptr) scheduler_callbacks(epochs->schedulers, false, callbacks);
    helpers_.insert("PyTorchCriterion");
    // Clipping: the optimizer's setting for this fit() only.
    auto clip = [&](ast::ExprNode* value) {
      auto* target = b_.attr(loop.optimizer, loop.clip_setting);
      target->ctx = ast::ExprContext::Store;
      out.push_back(b_.assign(target, value));
    };
    if (!loop.clip_setting.empty()) clip(loop.clip_value);
    out.push_back(b_.expr_stmt(b_.call(
        b_.attr(loop.model, "compile"), {},
        {b_.keyword("optimizer", loop.optimizer),
         b_.keyword("loss", b_.call("PyTorchCriterion", {loop.criterion}))})));
    std::vector<ast::Keyword*> fit_options = {b_.keyword("epochs", epochs ? epochs->stop : b_.integer(1))};
    if (epochs != nullptr && epochs->start != nullptr) fit_options.push_back(b_.keyword("initial_epoch", epochs->start));
    fit_options.push_back(b_.keyword("shuffle", b_.boolean(false)));
    fit_options.push_back(b_.keyword("verbose", b_.integer(0)));
    if (!callbacks.empty()) fit_options.push_back(b_.keyword("callbacks", b_.list(callbacks)));
    out.push_back(b_.expr_stmt(b_.call(b_.attr(loop.model, "fit"), {loop.loader}, fit_options)));
    if (!loop.clip_setting.empty()) clip(b_.none());
    // The records, from the callback's values: `losses.extend(...)`, `total += sum(...)`.
    ast::ExprNode* values = recorder.empty() ? nullptr : b_.attr(b_.name(recorder), "losses");
    for (const ast::StmtNode* r : loop.records) {
      if (auto* aug = ast::as<ast::AugAssign>(r)) {
        auto* c = b_.clone(aug);
        c->value = b_.call("sum", {values});
        out.push_back(c);
      } else {
        auto* append = static_cast<ast::Attribute*>(statement_call(r)->func);
        out.push_back(b_.expr_stmt(b_.call(b_.attr(append->value, "extend"), {values})));
      }
    }
    // The statements take the loop's first line (comments above it stay above
    // them); the last one spans the loop's lines.
    for (ast::StmtNode* s : out) {
      s->loc = f->loc;
      s->loc.end_lineno = f->loc.lineno;
    }
    out.back()->loc.end_lineno = f->loc.end_lineno;
    out.back()->loc.end_col_offset = f->loc.end_col_offset;
    left_out_.emplace_back(f->loc.lineno, f->loc.end_lineno);
    return out;
  }

  // The loop `f` as a PyTorchTrainStep subclass whose train_step is its body's
  // step (the item assignments' tensors computed where they were), made,
  // compiled and fit() on the loader once (one epoch), then its host statements
  // replayed for each batch from the values the step returned:
  //
  //   class TrainStep(PyTorchTrainStep):
  //       def train_step(self, data):
  //           real = data[0]
  //           ... (the step, with its GradientTape)
  //           return {'errD': errD, 'errG': errG}
  //
  //   trainer = TrainStep()
  //   trainer.compile()
  //   batch_logs = PyTorchBatchLogs()
  //   trainer.fit(loader, epochs=1, shuffle=False, verbose=0, callbacks=[batch_logs])
  //   for logs in batch_logs.logs:
  //       history.append((logs['errD'], logs['errG']))
  //
  // Empty when the body's tape cannot be written (the tape pass reports it
  // on the loop as written).
  std::vector<ast::StmtNode*> step_fit(const ast::For* f) {
    std::optional<StepLoop> step = step_loop(f);
    if (!step || live_after(step->names)) return {};
    // The index after the loop is the last batch's: the replay binds it.
    step->index_live = !step->index.empty() && live_after({step->index});
    // The gradients after the loop are the last batch's in PyTorch; the step's
    // stay inside its graph.
    if (step->training && gradients_read_after()) return {};
    return rewrite_step(f, *step);
  }

  std::vector<ast::StmtNode*> rewrite_step(const ast::For* f, const StepLoop& loop) {
    bool replays = false;
    for (auto [s, part] : loop.parts) replays = replays || part != StepPart::Step;
    if (loop.index_live && !replays) return {};  // nothing would bind the index
    std::string logs = fresh("logs", nullptr);
    for (const HostValue& v : loop.values) taken_.insert(v.key);
    std::vector<ast::StmtNode*> body, replay;
    for (std::size_t k = 0; k < loop.parts.size(); ++k) {
      auto [s, part] = loop.parts[k];
      if (auto* iff = ast::as<ast::If>(s); part == StepPart::Step && iff && reads(iff->test, loop.index)) {
        // `def update(): <body>` and `pytorch_if(<condition>, update)`: both paths traced.
        bool steps = false;
        for (const ast::StmtNode* x : iff->body) steps = steps || method_receiver(x, "step") != nullptr;
        std::string fn = fresh(steps ? "update" : "zero_gradients", nullptr);
        taken_.insert(fn);
        auto* def = b_.function_def(fn, {}, {iff->body.begin(), iff->body.end()});
        def->loc = iff->loc;
        def->loc.lineno = iff->loc.lineno + 1;
        auto* call = b_.expr_stmt(b_.call("pytorch_if", {tensor_condition(iff->test), b_.name(fn)}));
        call->loc = iff->loc;
        call->loc.end_lineno = iff->loc.lineno;
        body.push_back(def);
        body.push_back(call);
        helpers_.insert("pytorch_if");
      } else if (part == StepPart::Step) {
        body.push_back(s);
      } else if (part == StepPart::ItemAssign) {
        auto* a = static_cast<ast::Assign*>(s);
        const std::string& key = loop.item_keys.at(k);
        auto* computed = b_.clone(a);  // `d_x = ops.mean(output)` in the step
        computed->targets = b_.seq(std::vector<ast::ExprNode*>{b_.name(key, ast::ExprContext::Store)});
        computed->value = const_cast<ast::ExprNode*>(item_value(s));
        body.push_back(computed);
        auto* read = b_.clone(a);  // `d_x = logs['d_x']` in the replay
        read->value = b_.subscript(b_.name(logs), b_.string(key));
        replay.push_back(read);
      } else {
        // Its values of the step: computed here (in the step), read from the logs.
        std::map<const ast::Node*, std::string> read;
        for (const HostValue& v : loop.values) {
          if (v.part != k) continue;
          read.emplace(v.at, v.key);
          if (v.computed) {
            auto* computed = b_.assign(b_.name(v.key, ast::ExprContext::Store), const_cast<ast::ExprNode*>(v.tensor));
            computed->loc = s->loc;
            body.push_back(computed);
          }
        }
        replay.push_back(static_cast<ast::StmtNode*>(b_.substitute(s, [&](ast::Node* n) -> ast::Node* {
          auto it = read.find(n);
          return it == read.end() ? nullptr : b_.subscript(b_.name(logs), b_.string(it->second));
        })));
      }
    }
    bool tape_error = false;
    TrainingError on_error = [&](const ast::Node*, std::string) { tape_error = true; };
    TapeWriter tapes(b_, on_error, fresh("tape", nullptr), tensorflow_);
    std::vector<ast::StmtNode*> step = tapes.block(body);
    if (tape_error) return {};
    std::string data = fresh("data", nullptr), self = loop.reads_self ? fresh("keras_self", nullptr) : "self";
    auto* unpack = b_.assign(store(loop.target), b_.subscript(b_.name(data), b_.integer(0)));
    unpack->loc = f->loc;
    unpack->loc.end_lineno = f->loc.lineno;
    step.insert(step.begin(), unpack);
    if (loop.index_in_step) {
      // `i = data[1][0]` (+ enumerate's start): the batch's index in the pass.
      ast::ExprNode* index = b_.subscript(b_.subscript(b_.name(data), b_.integer(1)), b_.integer(0));
      if (loop.enumerate->args.size() + loop.enumerate->keywords.size() == 2)
        index = b_.binop(index, ast::OperatorKind::Add,
                         loop.enumerate->args.size() == 2 ? loop.enumerate->args[1] : loop.enumerate->keywords[0]->value);
      auto* bind = b_.assign(b_.name(loop.index, ast::ExprContext::Store), index);
      bind->loc = unpack->loc;
      step.insert(step.begin() + 1, bind);
    }
    // Keras needs a value back from each step: the losses when nothing was recorded.
    std::vector<std::string> returned = loop.keys;
    if (returned.empty())
      for (const ast::StmtNode* s : body)
        if (auto* loss = ast::as<ast::Name>(backward_of(s));
            loss && std::find(returned.begin(), returned.end(), loss->id) == returned.end())
          returned.emplace_back(loss->id);
    std::vector<ast::ExprNode*> keys, values;
    for (const std::string& n : returned) {
      keys.push_back(b_.string(n));
      values.push_back(b_.name(n));
    }
    auto* result = b_.return_stmt(b_.dict(keys, values));
    result->loc = body.back()->loc;
    result->loc.lineno = result->loc.end_lineno;
    step.push_back(result);
    auto* method = b_.function_def(loop.training ? "train_step" : "test_step", {self, data}, step);
    method->loc = unpack->loc;
    method->loc.end_lineno = result->loc.end_lineno;
    std::string cls = fresh(loop.training ? "TrainStep" : "EvalStep", nullptr);
    taken_.insert(cls);
    auto* doc = b_.expr_stmt(b_.string(std::string("The loop below for one batch (data[0]") +
                                       (loop.index_in_step ? ", its index data[1][0]" : "") + "), as Keras' " +
                                       (loop.training ? "train_step." : "test_step.")));
    doc->loc = unpack->loc;
    std::string base = loop.training ? "PyTorchTrainStep" : "PyTorchEvalStep";
    auto* def = b_.class_def(cls, {b_.name(base)}, {doc, method});
    def->loc = method->loc;
    helpers_.insert(base);
    if (loop.training) helpers_.insert("pytorch_backward");

    std::vector<ast::StmtNode*> after;
    std::string trainer = fresh(loop.training ? "trainer" : "evaluator", nullptr);
    taken_.insert(trainer);
    after.push_back(b_.assign(b_.name(trainer, ast::ExprContext::Store), b_.call(cls, {})));
    after.push_back(b_.expr_stmt(b_.call(b_.attr(b_.name(trainer), "compile"), {})));
    std::vector<ast::ExprNode*> callbacks;
    std::string recorder;
    if (!replay.empty()) recorder = callback_object("batch_logs", "PyTorchBatchLogs", after, callbacks);
    scheduler_callbacks(loop.schedulers, true, callbacks);
    std::vector<ast::Keyword*> options;
    if (loop.training) options = {b_.keyword("epochs", b_.integer(1)), b_.keyword("shuffle", b_.boolean(false))};
    options.push_back(b_.keyword("verbose", b_.integer(0)));
    if (!callbacks.empty()) options.push_back(b_.keyword("callbacks", b_.list(callbacks)));
    after.push_back(b_.expr_stmt(b_.call(b_.attr(b_.name(trainer), loop.training ? "fit" : "evaluate"), {loop.loader},
                                         options)));
    // The loop's first line (comments above it stay above these); the replay
    // keeps its statements' own.
    for (ast::StmtNode* s : after) {
      s->loc = f->loc;
      s->loc.end_lineno = f->loc.lineno;
    }
    if (!replay.empty()) {
      // The host statements keep their lines (and comments), after fit().
      taken_.insert(logs);
      ast::ExprNode* target = b_.name(logs, ast::ExprContext::Store);
      ast::ExprNode* iter = b_.attr(b_.name(recorder), "logs");
      if (!loop.index.empty() && (loop.index_live || reads_any(replay, loop.index))) {
        target = b_.tuple({b_.name(loop.index, ast::ExprContext::Store), target});
        static_cast<ast::Tuple*>(target)->ctx = ast::ExprContext::Store;
        auto* en = b_.clone(loop.enumerate);  // its start too
        std::vector<ast::ExprNode*> args(en->args.begin(), en->args.end());
        args[0] = iter;
        en->args = b_.seq(args);
        iter = en;
      }
      auto* again = b_.for_stmt(target, iter, replay);
      again->loc = replay.front()->loc;
      again->loc.end_lineno = replay.back()->loc.end_lineno;
      again->loc.end_col_offset = replay.back()->loc.end_col_offset;
      after.push_back(again);
    }
    // The step's statements moved to the class: their lines are code, not blank
    // lines to print between the replay's statements (one-line statements only:
    // comments inside a left-out range are dropped).
    std::set<const ast::StmtNode*> host;
    for (auto [s, part] : loop.parts)
      if (part == StepPart::Host) host.insert(s);
    for (const ast::StmtNode* s : f->body)
      if (!host.count(s) && s->loc.lineno == s->loc.end_lineno) left_out_.emplace_back(s->loc.lineno, s->loc.end_lineno);
    if (!hoistable()) {
      after.insert(after.begin(), def);
      return after;
    }
    hoisted_.push_back(def);
    return after;
  }

  // Whether the class may go before the root block's statement that holds the
  // loop (out of an epoch loop) with the comments where they were: each
  // statement down to the loop is the first of its parent's block, on the line
  // after its header (no comment between them to move above the class).
  bool hoistable() const {
    if (roots_.empty()) return false;
    for (std::size_t k = roots_.back() + 1; k < frames_.size(); ++k) {
      const ast::StmtNode* parent = (*frames_[k - 1].stmts)[frames_[k - 1].index];
      if (frames_[k].index != 0 || (*frames_[k].stmts)[0]->loc.lineno != parent->loc.lineno + 1) return false;
    }
    return true;
  }

  // `name = helper()` (a fresh name from `base`) appended to `out`, the object
  // a callback of the fit(): its name.
  std::string callback_object(std::string base, std::string_view helper, std::vector<ast::StmtNode*>& out,
                              std::vector<ast::ExprNode*>& callbacks) {
    std::string name = fresh(std::move(base), nullptr);
    taken_.insert(name);
    out.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), b_.call(helper, {})));
    callbacks.push_back(b_.name(name));
    helpers_.insert(std::string(helper));
    return name;
  }

  // A PyTorchSchedulerStep callback for each scheduler (stepped after each
  // batch, or each epoch).
  void scheduler_callbacks(const std::vector<ast::ExprNode*>& schedulers, bool per_batch,
                           std::vector<ast::ExprNode*>& callbacks) {
    for (ast::ExprNode* s : schedulers) {
      std::vector<ast::Keyword*> kws;
      if (per_batch) kws.push_back(b_.keyword("per_batch", b_.boolean(true)));
      callbacks.push_back(b_.call("PyTorchSchedulerStep", {s}, kws));
      helpers_.insert("PyTorchSchedulerStep");
    }
  }

  static bool reads_any(const std::vector<ast::StmtNode*>& stmts, const std::string& n) {
    for (const ast::StmtNode* s : stmts)
      if (reads(s, n)) return true;
    return false;
  }

  // The condition `e` of a step_if as a bool tensor of the traced index:
  // `and`, `or` and `not` (Python's would ask a tensor for a bool) as
  // ops.logical_and / logical_or / logical_not.
  ast::ExprNode* tensor_condition(ast::ExprNode* e) {
    if (auto* op = ast::as<ast::BoolOp>(e)) {
      const char* fn = op->op == ast::BoolOpKind::And ? "ops.logical_and" : "ops.logical_or";
      ast::ExprNode* out = tensor_condition(op->values[0]);
      for (std::size_t k = 1; k < op->values.size(); ++k) out = b_.call(fn, {out, tensor_condition(op->values[k])});
      return out;
    }
    if (auto* u = ast::as<ast::UnaryOp>(e); u && u->op == ast::UnaryOpKind::Not)
      return b_.call("ops.logical_not", {tensor_condition(u->operand)});
    return e;
  }

  // `target` (a name or a tuple of names) as an assignment target.
  ast::ExprNode* store(ast::ExprNode* target) {
    if (auto* n = ast::as<ast::Name>(target)) return b_.name(n->id, ast::ExprContext::Store);
    auto* t = static_cast<ast::Tuple*>(target);
    std::vector<ast::ExprNode*> elts;
    for (ast::ExprNode* e : t->elts) elts.push_back(store(e));
    auto* c = b_.tuple(elts);
    c->ctx = ast::ExprContext::Store;
    return c;
  }

  Builder& b_;
  const std::function<TrainingRole(const ast::ExprNode*)>& role_of_;
  const std::function<bool(const ast::Keyword*)>& mode_assumed_;
  std::string tensorflow_;
  const std::set<std::string>& read_elsewhere_;
  std::set<std::string>& helpers_;
  std::vector<std::pair<int, int>>& left_out_;
  std::set<std::string> taken_;
  std::vector<Frame> frames_;
  std::vector<ast::StmtNode*> hoisted_;  // train_step classes for the root block
  std::vector<std::size_t> roots_;        // the frames_ index of each root block's statements
};

}  // namespace

std::vector<ast::StmtNode*> fit_standard_loops(const std::vector<ast::StmtNode*>& body, Builder& b,
                                               const ScriptFacts& facts, const std::set<std::string>& read_elsewhere,
                                               std::set<std::string>& helpers,
                                               std::vector<std::pair<int, int>>& left_out) {
  std::set<std::string> taken = read_elsewhere;
  for (ast::StmtNode* s : body) ast::collect_names(s, taken);
  FitWriter writer(b, facts, read_elsewhere, helpers, left_out, std::move(taken));
  // Names declared global or nonlocal outlive the function: always read after the loop.
  std::function<void(const ast::Node*)> declared = [&](const ast::Node* n) {
    if (auto* g = ast::as<ast::Global>(n))
      for (std::string_view id : g->names) writer.declared.insert(std::string(id));
    if (auto* g = ast::as<ast::Nonlocal>(n))
      for (std::string_view id : g->names) writer.declared.insert(std::string(id));
    ast::for_each_child(const_cast<ast::Node*>(n), declared);
  };
  for (ast::StmtNode* s : body) declared(s);
  return writer.block(body, false, true);
}

std::vector<ast::StmtNode*> insert_gradient_tapes(const std::vector<ast::StmtNode*>& body, Builder& b,
                                                  const TrainingError& error, bool& used,
                                                  std::string_view tensorflow) {
  // The tape's name: `tape`, unless the code already uses it.
  std::set<std::string> names;
  for (ast::StmtNode* s : body) ast::collect_names(s, names);
  std::string tape = "tape";
  while (names.count(tape)) tape.push_back('_');
  TapeWriter writer(b, error, tape, tensorflow);
  std::vector<ast::StmtNode*> out = writer.block(body);
  used = used || writer.used;
  return out;
}

}  // namespace t2k::lowering
