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

#include <functional>
#include <string>
#include <vector>

#include "torch2keras/lowering/build.h"
#include "torch2keras/syntax/ast.h"

namespace t2k::lowering {

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
                                                  const TrainingError& error, bool& used);

}  // namespace t2k::lowering
