// Applying one catalog entry to one call of the input.
//
// The entry is a Python function with PyTorch's signature (catalog/README.md).
// `instantiate` binds the call's arguments to that signature as Python would,
// walks the body (`require`, `ignore`, `if CONDITION: return FORM`, `return FORM`)
// with the arguments' compile-time values, and builds the chosen form with every
// parameter name replaced by its argument. Constants are folded and keywords equal
// to the Keras default are left out, so `nn.BatchNorm2d(64)` becomes
// `layers.BatchNormalization(momentum=0.9, epsilon=1e-05)`.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "torch2keras/analysis/const_eval.h"
#include "torch2keras/catalog/catalog.h"
#include "torch2keras/lowering/build.h"

namespace t2k::lowering {

struct InstantiateRequest {
  const catalog::Entry* entry = nullptr;
  // The arguments as they will appear in the output (already lowered).
  ast::ExprNode* self = nullptr;  // the receiver, for a tensor method
  std::vector<ast::ExprNode*> args;
  std::vector<ast::Keyword*> keywords;
  // Compile-time value of an input expression (names the caller knows); may be empty.
  std::function<analysis::ConstValue(const ast::ExprNode*)> const_of;
  // Replaces the value bound to an axis parameter (layout remapping); returns null
  // to keep it. Called with the parameter name and its bound expression (null
  // when the default is used).
  std::function<ast::ExprNode*(std::string_view param, ast::ExprNode* bound)> remap;
  // Whether an argument (as given in `args`) is a tensor: a lone tensor passed to
  // a `*operands` parameter is one operand, not the sequence of them. May be empty.
  std::function<bool(const ast::ExprNode*)> is_tensor;
  // Whether an argument is a sequence of sizes (`x.size()`, lowered to
  // ops.shape(x)): alone, it is the whole `*shape`, as in x.view(y.size()).
  std::function<bool(const ast::ExprNode*)> is_sequence;
  // Whether an argument names a device (`x.device`, "cuda", a `device` variable):
  // the catalog's is_device(x). May be empty (never a device).
  std::function<bool(const ast::ExprNode*)> is_device;
  // Whether an argument is a variable holding a dtype (`input_dtype = x.dtype`,
  // `dtype = torch.float32`): the catalog's is_dtype(x) besides dtype constants
  // and `.dtype` reads. May be empty.
  std::function<bool(const ast::ExprNode*)> is_dtype;
  bool channels_last = true;
  int rank = 0;  // the tensor rank, for SPATIAL_AXES
  // The file's own code trains its models (calls backward()): the catalog's
  // TRAINING_CODE, for layers whose training differs from PyTorch's in Keras.
  bool training_code = false;
};

struct InstantiateResult {
  ast::ExprNode* expr = nullptr;  // null on error
  std::string error;              // a diagnostic message when expr is null
  std::vector<std::string> helpers;  // runtime helper classes the form uses (PyTorch*)
  std::vector<std::string> warnings;  // the entry's warn(...) messages that apply (T2K112)
  // The error is only that the form depends on values not known at compile time:
  // a call of the entry's factory (make_factory) converts the call instead.
  bool undecided = false;
  // The chosen form's value is a tuple of tensors (PyTorch's named tuple, the
  // entry's `returns=` fields): a tuple display `(ops.max(x, axis=1),
  // ops.argmax(x, axis=1))`, or `tuple(CALL)` in the catalog for a call that
  // returns one (`tuple(ops.top_k(x, k))`, written as the call). The entry's
  // other forms may return a tensor (`x.max()`): the result kind is the form's.
  bool tuple = false;
};

InstantiateResult instantiate(const InstantiateRequest& request, Builder& builder);

// The entry as a module-level Python function with PyTorch's signature that
// returns the Keras layer, deciding at run time what `instantiate` decides for
// constant arguments (requirements become `ValueError`s). Used where a torch.nn
// class is a value (`norm_layer = nn.BatchNorm2d`) or called with arguments that
// are not compile-time constants. Runtime helpers it calls are added to `helpers`.
ast::FunctionDef* make_factory(const catalog::Entry* entry, bool channels_last, bool training_code, Builder& builder,
                               std::vector<std::string>& helpers);

// The literal value `call` passes for parameter `param` of `entry` (or the
// parameter's default), bound as Python binds arguments; unknown when the argument
// is not a literal, a `*`/`**` argument is present, or there is no such parameter.
// For a tensor method, `call.func` is `receiver.method` and `self` is not bound.
analysis::ConstValue bound_literal(const catalog::Entry& entry, const ast::Call& call, std::string_view param);

// The expression `call` passes for parameter `param` (null when defaulted or unbindable).
const ast::ExprNode* bound_expr(const catalog::Entry& entry, const ast::Call& call, std::string_view param);

// Folds constant subexpressions built by substitution (`1 - 0.1` -> `0.9`,
// `'none' == 'tanh'` -> `False`) and drops keywords equal to the Keras default.
ast::ExprNode* fold(ast::ExprNode* expr, Builder& builder);

}  // namespace t2k::lowering
