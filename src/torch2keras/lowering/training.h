// Training code converted as it is written: PyTorch's autograd calls in a block
// of script code (`loss.backward()`) become a TensorFlow GradientTape around the
// statements that compute the loss, and the runtime's pytorch_backward, which
// adds the tape's gradients to each parameter's stored gradient (PyTorch's
// .grad) for optimizer.step() to apply (emit/runtime/layers.py).
//
// The pass runs on statements the script rewriting already converted
// (lower.cc): their expressions are Keras code, and each `X.backward()` is
// still there for this pass to find.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "torch2keras/lowering/build.h"
#include "torch2keras/syntax/ast.h"

namespace t2k::lowering {

// The context of a `with` block of script code that computes without
// gradients (`with torch.no_grad():`), as the script rewriting marks it for the
// training passes: inside a GradientTape it becomes `with tape.stop_recording():`
// (its values are constants to backward(), as PyTorch's), elsewhere its block.
// The mark is never printed.
inline constexpr std::string_view kNoGradMarker = "__t2k_no_grad__";

// Whether `s` is such a marked block.
bool is_no_grad_block(const ast::StmtNode* s);

// `body` with each marked block left (outside a tape) replaced by its
// statements, in nested blocks and definitions too; the header lines go to
// `left_out` (no blank line printed for them).
std::vector<ast::StmtNode*> unmark_no_grad_blocks(const std::vector<ast::StmtNode*>& body, Builder& b,
                                                  std::vector<std::pair<int, int>>& left_out);

// What a script expression holds, as far as the training passes need to know:
// a model (fit() trains its variables), another module with parameters, a loss
// module (none), a DataLoader, an optimizer, a torch.optim.lr_scheduler
// scheduler, a function of the script (eager code, which a compiled train
// step cannot run).
enum class TrainingRole : uint8_t { Other, Model, Module, Loss, Loader, Optimizer, Scheduler, Function };

// What the script analysis knows that the training passes ask.
struct ScriptFacts {
  std::function<TrainingRole(const ast::ExprNode*)> role_of;
  // Whether the `training=` keyword of a model call is a guess: the model's mode
  // there is not known (diagnosed T2K110), so no compiled step may fix it.
  std::function<bool(const ast::Keyword*)> mode_assumed;
  // The name tensorflow is imported as (GradientTapes).
  std::string tensorflow = "tf";
};

// `body` with each standard training loop over a DataLoader rewritten as Keras'
// compile() + fit() (one epoch: the loop is one pass over the loader):
//
//   for x, y in loader:                        model.compile(optimizer=optimizer,
//       optimizer.zero_grad()                                loss=PyTorchCriterion(criterion))
//       loss = criterion(model(x, training=True), y)  ->  model.fit(loader, epochs=1, shuffle=False,
//       loss.backward()                                           verbose=0)
//       optimizer.step()
//
// Standard means the loop's body is, in this order: the optimizer's zero_grad();
// the forward pass, `out = model(x, training=True)` (a model known to be in training mode,
// called on the loader's first item) and a loss of the prediction and the second
// item (and names the loop does not assign; the prediction and the target
// whole, not their items or attributes: Keras applies a loss to each output of
// a tuple or dict; no other model or module, whose variables fit() would not
// train; no function of the script, which runs eagerly), or the two in one statement;
// loss.backward(); optionally clip_grad_norm_ / clip_grad_value_ of the model's
// parameters (the optimizer's global_clipnorm / clipvalue during fit());
// optimizer.step(); then any number of `scheduler.step()` (a
// PyTorchSchedulerStep callback, per batch) and records of the loss,
// `losses.append(loss.item())` / `total += loss.item()` (a PyTorchBatchLosses
// callback, whose values are added after fit()). `for i, (x, y) in
// enumerate(loader)` is the same loop when `i` is not used. The loop's names
// (the batch, the prediction, the loss) must not be read outside it, in `body`
// or in `read_elsewhere` (nor be declared global or nonlocal).
//
// A loop over a DataLoader that is not standard but whose body is one training
// step a compiled graph runs as PyTorch does (several losses, a GAN's two models
// and optimizers; assignments, zero_grad(), backward(), clipping and step()
// calls of models, modules, losses, Keras and the runtime), Python code of its
// values (.item() records, `d_x = out.mean().item()`, prints every n batches,
// counters) and per-batch scheduler steps becomes a PyTorchTrainStep subclass
// whose overridden train_step is the step (with its GradientTape), defined
// before the statement of `body` (or of a function in it) that holds the loop,
// and the loop a fit() of it over the loader, the Python code replayed after it
// for each batch from the values the step returned (see FitWriter::step_loop):
//
//   for x, y in loader:                      class TrainStep(PyTorchTrainStep):
//       opt_d.zero_grad()                        def train_step(self, data):
//       loss_d = ...                                 x, y = data[0]
//       loss_d.backward()                            ... (the body)
//       opt_d.step()                     ->          return {'loss_d': loss_d, ...}
//       ...                                  trainer = TrainStep()
//       history.append(loss_d.item())       trainer.compile()
//                                            trainer.fit(loader, epochs=1, ..., callbacks=[batch_logs])
//                                            for logs in batch_logs.logs:
//                                                history.append(logs['loss_d'])
//
// Gradient accumulation is such a step too: an `if` of the batch index whose
// body steps optimizers, clips or zeroes gradients (`if (i + 1) % accum_steps
// == 0: optimizer.step(); optimizer.zero_grad()`) becomes `def update(): ...`
// and `pytorch_if(<condition of i>, update)`, the index `i = data[1][0]`; the
// runtime keeps the gradients a step does not zero first from one batch to
// the next (_T2KCarry), as PyTorch's .grad adds up.
//
// An evaluation loop of that shape (a model called, values recorded, no
// backward()) becomes a PyTorchEvalStep subclass whose test_step evaluate()
// runs, replayed the same way.
//
// Any other loop stays for the GradientTape pass (a loop written out, Keras'
// "training loop from scratch"). The runtime helpers
// the rewritten loops use are added to `helpers`, the lines of their bodies
// (whose comments describe statements fit() now makes) to `left_out`.
std::vector<ast::StmtNode*> fit_standard_loops(const std::vector<ast::StmtNode*>& body, Builder& b,
                                               const ScriptFacts& facts, const std::set<std::string>& read_elsewhere,
                                               std::set<std::string>& helpers,
                                               std::vector<std::pair<int, int>>& left_out);

// Reports an error at a node (the diagnostic's position).
using TrainingError = std::function<void(const ast::Node* at, std::string message)>;

// `body` with each block that calls `X.backward()` rewritten:
//
//     optimizer.zero_grad()                  optimizer.zero_grad()
//     out = model(x, training=True)          with tf.GradientTape() as tape:
//     loss = criterion(out, y)        ->         out = model(x, training=True)
//     loss.backward()                            loss = criterion(out, y)
//     optimizer.step()                       pytorch_backward(tape, loss)
//                                            optimizer.step()
//
// The tape covers the block from just after the last `zero_grad()` / `step()` call
// before the first backward() (else from the block's start) to the last
// backward(); statements that contain a backward() in an `if` or `with` belong to
// the block around them, loops are blocks of their own (one tape per iteration).
// Several backward() calls in one block (a GAN's two losses) share one persistent
// tape: a value computed for the first loss still has its gradient path for the
// second, as in PyTorch's graph. A backward() of a name no statement of the tape
// assigns (the loss was computed before the block) is an error: the tape would
// have recorded nothing. `used` is set when a tape was written.
std::vector<ast::StmtNode*> insert_gradient_tapes(const std::vector<ast::StmtNode*>& body, Builder& b,
                                                  const TrainingError& error, bool& used,
                                                  std::string_view tensorflow = "tf");

}  // namespace t2k::lowering
