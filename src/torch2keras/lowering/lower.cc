// Lowering of model classes (see lower.h).
//
// Three passes over the input:
//   1. module descriptors: what each `self.<attr>` of each model class holds
//      (a catalog layer, a model class, a Sequential of known items, a list),
//      found from `__init__` and what it calls (helpers, module functions, loops);
//   2. the forward path (`forward` and the methods it calls) is lowered with a
//      layout fact per tensor value; each method's signature (the layout its
//      tensor parameters need, the layout of its result) is computed on demand,
//      callees first;
//   3. everything else of a model class (`__init__`, other methods) and the
//      module-level code is rewritten by replacing constructor calls through the
//      catalog, after pass 2 decided where static Sequentials need transposes.
#include "torch2keras/lowering/lower.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "torch2keras/catalog/catalog.h"
#include "torch2keras/lowering/instantiate.h"
#include "torch2keras/lowering/module_values.h"
#include "torch2keras/lowering/training.h"
#include "torch2keras/syntax/unparse.h"

namespace t2k::lowering {
namespace {

using analysis::ClassInfo;
using analysis::ConstValue;
using catalog::Entry;
using catalog::Layout;

// ---------------------------------------------------------------------------
// Layout facts.

// The dtype class of a tensor as far as the converter can tell, for PyTorch's type
// promotion (torch docs, "Tensor Attributes: type promotion"): an integer or
// boolean tensor with a float is promoted to the float's type, an integer true
// division is float, a boolean with an int is int. TensorFlow's operators do not
// promote: they refuse mixed operands (int32 * 0.5, int32 < int64), and a boolean
// operand casts the other one to bool (tf.constant([1.5]) * tf.constant([True]) is
// [True]); keras.ops functions promote as PyTorch does for these operands.
// Float: layer outputs, torch.zeros, x.float(); Int: torch.arange of ints,
// argmax, x.long(); Bool: comparisons; Unknown: a model input nothing tells
// about (lower_unit), or a value computed from one.
enum class DType : uint8_t { Unknown, Bool, Int, Float };

// The dtype class of a Keras dtype name ("int64" -> Int), Unknown for others.
DType dtype_class(std::string_view keras_dtype) {
  if (keras_dtype == "bool") return DType::Bool;
  if (keras_dtype.starts_with("int") || keras_dtype.starts_with("uint")) return DType::Int;
  if (keras_dtype.starts_with("float") || keras_dtype.starts_with("bfloat")) return DType::Float;
  return DType::Unknown;
}

// The dtype class a catalog entry's `input=` requires (Entry::input_dtype);
// Unknown when it takes any.
DType required_dtype(const Entry& entry) {
  return entry.input_dtype == catalog::ResultDType::Int     ? DType::Int
         : entry.input_dtype == catalog::ResultDType::Float ? DType::Float
                                                           : DType::Unknown;
}

// Whether `e` names a device as PyTorch code writes one: a string ("cuda"), or a
// name or attribute for one (`device`, `self.device`, `dev`, `x.device`).
bool names_device(const ast::ExprNode* e) {
  if (auto* c = ast::as<ast::Constant>(e)) return c->value.kind == ast::ConstantValue::Kind::Str;
  std::string_view name;
  if (auto* n = ast::as<ast::Name>(e)) name = n->id;
  if (auto* a = ast::as<ast::Attribute>(e)) name = a->attr;
  return name == "dev" || name.ends_with("device");
}

// Whether `e` is a size as lowered: ops.shape(x)[i].
bool shape_item(const ast::ExprNode* e) {
  auto* s = ast::as<ast::Subscript>(e);
  auto* shape = s != nullptr ? ast::as<ast::Call>(s->value) : nullptr;
  return shape != nullptr && syntax::unparse(shape->func) == "ops.shape";
}

// Whether `e` reads sizes as lowered: ops.shape(x), or an item or slice of it.
bool shape_read(const ast::ExprNode* e) {
  auto* c = ast::as<ast::Call>(e);
  return shape_item(e) || (c != nullptr && syntax::unparse(c->func) == "ops.shape");
}

// The keras.ops function of an arithmetic operator (`+`: ops.add), or null.
const char* keras_operator(ast::OperatorKind op) {
  using Op = ast::OperatorKind;
  switch (op) {
    case Op::Add: return "ops.add";
    case Op::Sub: return "ops.subtract";
    case Op::Mult: return "ops.multiply";
    case Op::Div: return "ops.divide";
    case Op::FloorDiv: return "ops.floor_divide";
    case Op::Mod: return "ops.mod";
    case Op::Pow: return "ops.power";
    default: return nullptr;
  }
}

// The keras.ops function of a comparison (`<`: ops.less), or null.
const char* keras_comparison(ast::CmpOpKind op) {
  using Op = ast::CmpOpKind;
  switch (op) {
    case Op::Eq: return "ops.equal";
    case Op::NotEq: return "ops.not_equal";
    case Op::Lt: return "ops.less";
    case Op::LtE: return "ops.less_equal";
    case Op::Gt: return "ops.greater";
    case Op::GtE: return "ops.greater_equal";
    default: return nullptr;
  }
}

// An operand of arithmetic or a comparison as type promotion sees it: a tensor
// of a dtype class, or a Python number (Int: an int literal or a size, Float: a
// float literal, Unknown: a value not known here).
struct Operand {
  bool tensor = false;
  DType dtype = DType::Unknown;
  // A number computed from sizes read at run time: a graph's int32 tensor when
  // they are unknown, which TensorFlow's operators refuse to mix with a float
  // tensor (Fact::run_time_size).
  bool run_time_size = false;
};

// PyTorch's promotion of `l op r` where one operand is a tensor: the result's
// dtype class, and whether TensorFlow's operator could differ (keras.ops is then
// written). TensorFlow's agrees for float tensors with each other or with any
// Python number, and for an int tensor with an int (true division aside: it
// makes float64 of int32). A tensor of unknown dtype with a Python int keeps
// TensorFlow's operator, which is right for floats and ints and fails loudly
// for booleans (bool == 0); with a float it would fail for ints (int32 * 0.5),
// with another tensor silently compute in bool (float * bool). `comparison`:
// the result is boolean.
struct Promotion {
  DType dtype = DType::Unknown;
  bool keras_op = false;
};
Promotion promote(bool true_division, bool comparison, Operand l, Operand r) {
  auto agrees = [&](Operand a, Operand b) {
    if (!a.tensor) return false;
    if (b.run_time_size) return a.dtype == DType::Int && !true_division;
    if (a.dtype == DType::Float) return !b.tensor || b.dtype == DType::Float;
    if (a.dtype == DType::Unknown) return !b.tensor && b.dtype == DType::Int && !true_division;
    return a.dtype == DType::Int && !b.tensor && b.dtype == DType::Int && !true_division;
  };
  Promotion p;
  p.keras_op = !agrees(l, r) && !agrees(r, l);
  if (comparison) p.dtype = DType::Bool;
  else if (true_division || l.dtype == DType::Float || r.dtype == DType::Float) p.dtype = DType::Float;
  else if (l.dtype == DType::Int && r.dtype == DType::Int) p.dtype = DType::Int;
  return p;
}

struct Fact {
  enum Kind : uint8_t {
    NonTensor,  // a Python value, a module, a container
    Torch,      // a tensor in PyTorch axis order (rank 0: unknown)
    CL,         // a tensor whose channel axis was moved last (rank known)
    Pending,    // a tensor parameter whose layout its first layout-sensitive use decides
    Shape,      // ops.shape() of a channels-last tensor of `rank` (of a Perm one: its `order`)
    List,       // a Python list of tensors, all channels-last (elem_cl) or all PyTorch order
    // (N, S * C) flattened from a channels-last (N, *spatial, C) tensor: features in
    // (spatial, channel) order where PyTorch has (channel, spatial); `spatial` = S.
    // Only a Linear takes it as it is (its weight rows are permuted at load time);
    // it lives in variables of a function's outer block and flows straight into
    // module calls; anything else reads it converted (lower_expr).
    Flat,
    // A tensor stored with its axes in another order than PyTorch's or channels-last:
    // stored axis i holds PyTorch axis `order[i]` (a view splitting the channel axis
    // of a channels-last tensor: (N, H, W, G, C/G) holds PyTorch's (N, G, C/G, H, W)).
    // Like Flat, it lives in variables of a function's outer block and flows into
    // views and transposes, which relabel or regroup it; anything else reads it
    // transposed (lower_expr).
    Perm,
    // A PackedSequence (torch.nn.utils.rnn): the runtime's PyTorchPackedSequence,
    // made by an entry with returns="packed". Only what takes one (`packed=` of
    // the catalog: an RNN module's input, pad_packed_sequence) and assignments
    // read it; any other use is an error (lower_expr).
    Packed,
  };
  Kind kind = NonTensor;
  int rank = 0;
  int param = -1;  // Pending: the parameter's index
  bool elem_cl = false;  // List: the elements are channels-last of `rank`
  // CL and Torch: the product of the spatial sizes (H * W) when known at conversion time
  // (an adaptive pool's output_size, a keepdim mean over them, kept by norms and
  // element-wise ops); 0 when unknown. A flatten of a channels-last tensor whose
  // spatial size is 1 is a flatten in PyTorch order: (N, 1, 1, C) and (N, C, 1, 1)
  // hold their values in the same order.
  int spatial = 0;
  // Torch: the tensor is a channels-last tensor with its axes relabelled (x.permute(0,
  // 2, 3, 1): PyTorch's (N, H, W, C) holds the data as stored) and this is that
  // tensor's spatial size, which relabelling back restores (ConvNeXt's LayerNorm2d).
  int relabel_spatial = 0;
  // Inside a unit: "the spatial size its first parameter has at each call", so a
  // block that keeps the size (LayerNorm2d) passes its caller's on.
  static constexpr int kInputSpatial = -2;
  std::vector<int> order;  // Perm (and Shape of one): the PyTorch axis each stored axis holds
  // A tensor: per PyTorch axis, a symbol naming its size (0: unknown), so that a
  // view's target shape can be read axis by axis. Symbols come from
  // `b, c, h, w = x.size()` (sym below) and from x.size(d) of the viewed x itself.
  // Only a variable read and the ops that set them (views, transposes, aliases)
  // keep them; every other expression forgets them (lower_expr).
  std::vector<int> dims;
  int sym = 0;  // NonTensor: an int known to be the size named by this symbol
  // NonTensor: a number computed from a size forward code reads (ops.shape(x)[i]):
  // a Python int when the size is static, a symbolic int32 tensor in a graph
  // traced with that size unknown, where Python float arithmetic on it fails
  // (`d ** -0.5`, `d * 0.5`). Not a layout fact; a join keeps it if either has it.
  bool run_time_size = false;
  // CL and Torch: the channel axis has size 1 (torch.unsqueeze(t, 1)): (N, 1, H, W)
  // and (N, H, W, 1) hold their values in one order, so a conversion is a reshape.
  // Element-wise ops among such tensors and numbers keep it; anything else forgets it.
  bool unit_channel = false;
  // A tensor: its dtype class (DType); arithmetic that PyTorch promotes and
  // TensorFlow does not is written with keras.ops (lower_binop).
  DType dtype = DType::Float;
  bool boolean() const { return dtype == DType::Bool; }
  // List: PyTorch's named tuple (x.max(dim) is (values, indices)): the names of its
  // items, the catalog entry's `returns=` fields; `r.values` reads r[0]. Null otherwise.
  const std::vector<std::string>* fields = nullptr;
  // List: the result of a module given a PackedSequence (an RNN's `(output, h_n)`):
  // its first item is a PackedSequence (Packed), the others tensors. Read as a
  // whole by anything but an unpacking or `[0]`, it is an error (lower_expr).
  bool packed_first = false;
  // List from a tuple form whose entry gives its items' dtype classes (catalog
  // `items=`): item i's; empty: the items' dtype is not known apart.
  std::vector<DType> item_dtypes;

  static Fact torch(int rank = 0) { return {Torch, rank}; }
  static Fact cl(int rank) { return {CL, rank}; }
  // A list of tensors like `elem` (the list's dtype is its elements').
  static Fact list(Fact elem) {
    Fact f{List, elem.rank, -1, elem.kind == CL};
    f.dtype = elem.dtype;
    return f;
  }
  static Fact flat(int spatial) { return {Flat, 2, -1, false, spatial}; }
  static Fact perm(std::vector<int> order) {
    Fact f{Perm, static_cast<int>(order.size())};
    f.order = std::move(order);
    return f;
  }
  // A 0-d tensor (a reduction over every axis): it broadcasts in any layout.
  static Fact scalar() { return {Torch, -1}; }
  static Fact packed() { return {Packed}; }
  // What a module given a PackedSequence returns (packed_first).
  static Fact packed_result() {
    Fact f = list(torch());
    f.packed_first = true;
    return f;
  }
  bool holds_packed() const { return kind == Packed || (kind == List && packed_first); }
  // Item `i` of a List (or of a tuple unpacked from one).
  Fact item(std::size_t i) const {
    if (packed_first && i == 0) return packed();
    Fact f = element();
    if (i < item_dtypes.size()) f.dtype = item_dtypes[i];
    return f;
  }
  bool is_scalar() const { return kind == Torch && rank == -1; }
  // An element of a List: the list's dtype class is its elements'.
  Fact element() const {
    Fact e = elem_cl ? cl(rank) : torch(rank);
    e.dtype = dtype;
    return e;
  }
  bool tensor() const { return kind == Torch || kind == CL || kind == Pending || kind == Flat || kind == Perm; }
  // The same layout facts; the dtype class is not a layout fact (meet joins it).
  bool operator==(const Fact& o) const {
    return kind == o.kind && rank == o.rank && param == o.param && elem_cl == o.elem_cl && spatial == o.spatial &&
           relabel_spatial == o.relabel_spatial && order == o.order && dims == o.dims && sym == o.sym &&
           unit_channel == o.unit_channel && fields == o.fields && packed_first == o.packed_first &&
           item_dtypes == o.item_dtypes;
  }
  // The same layout, whatever each knows of the spatial size.
  bool same_axes(const Fact& o) const {
    return kind == o.kind && rank == o.rank && param == o.param && elem_cl == o.elem_cl && order == o.order;
  }
  // What both of two facts with the same axes know (a join of branches).
  Fact meet(const Fact& o) const {
    Fact f = *this;
    if (spatial != o.spatial) f.spatial = 0;
    if (relabel_spatial != o.relabel_spatial) f.relabel_spatial = 0;
    if (dims != o.dims) f.dims.clear();
    if (sym != o.sym) f.sym = 0;
    f.run_time_size = run_time_size || o.run_time_size;
    if (unit_channel != o.unit_channel) f.unit_channel = false;
    if (dtype != o.dtype) f.dtype = DType::Unknown;
    if (fields != o.fields) f.fields = nullptr;
    if (item_dtypes != o.item_dtypes) f.item_dtypes.clear();
    return f;
  }
  // The dtype class after branches leaving `a` and `b` (a non-tensor, None in
  // one branch: the other's).
  static DType joined_dtype(const Fact& a, const Fact& b) {
    if (!a.tensor()) return b.dtype;
    return !b.tensor() || a.dtype == b.dtype ? a.dtype : DType::Unknown;
  }
  // The same value with its size symbols forgotten.
  Fact unsized() const {
    Fact f = *this;
    f.dims.clear();
    f.sym = 0;
    return f;
  }
  // The spatial size of an element-wise result of tensors of sizes `a` and `b`
  // (same layout): a size 1 broadcasts (every spatial axis is 1).
  static int broadcast_spatial(int a, int b) { return a == b ? a : a == 1 ? b : b == 1 ? a : 0; }
  Fact with_spatial(int s) const {
    Fact f = *this;
    if (kind == CL || kind == Torch) f.spatial = s;
    return f;
  }
};

// One method on the forward path (or a module-level function it calls: cls is
// null) and its layout signature.
struct Unit {
  const ClassInfo* cls = nullptr;
  const ast::FunctionDef* def = nullptr;
  bool busy = false, done = false;
  // Reads `self.training`, here or in a method it calls: the lowered method takes
  // Keras' `training` argument and its callers pass theirs.
  bool uses_training = false;
  // Lists of tensors the first call passes (a parameter or *args): a list is
  // not a tensor, so its elements' layout comes from the caller.
  std::vector<Fact> seeds;
  std::optional<Fact> vararg_seed;
  // Parameters the first call gives a Python value (`self.training`, a
  // constant): their tests are static, as at that call.
  std::vector<bool> python_seeds;
  std::vector<Fact> params;  // per positional parameter after self: resolved facts
  // What the first call passes (a module call: its input), for a parameter whose
  // layout a use that works in either decides (a list display): the caller's own
  // layout costs that caller nothing.
  std::vector<Fact> hints;
  // Parameters (index after self) annotated as tensors (`y: torch.Tensor`): a
  // tensor whatever the callers pass (torch.max(x, y) is then element-wise).
  std::set<int> annotated_tensors;
  // The dtype classes of the tensors the first call passes (per positional
  // parameter after self), for a parameter whose own uses tell nothing (param_dtype).
  std::vector<std::optional<DType>> caller_dtypes;
  Fact ret;
  // Parameters (index after self) whose tensor this function changes in place:
  // the caller's variable changes too.
  std::set<int> mutated_params;
  // Parameters whose tensor it may return (`return x`): the result aliases the
  // caller's argument.
  std::set<int> returns_params;
  std::set<int> tuple_returns_params;  // an item of a returned tuple
  ast::FunctionDef* lowered = nullptr;
};

const std::unordered_set<std::string_view>& keras_reserved_attributes() {
  // Attributes of keras.layers.Layer / keras.Model that a model cannot reuse.
  static const std::unordered_set<std::string_view> names = {
      "layers", "name", "weights", "trainable", "input", "output", "losses", "metrics",
      "built", "dtype", "variables", "optimizer", "submodules", "inputs", "outputs"};
  return names;
}

// The transpose axes from PyTorch's (N, C, *spatial) to channels-last
// (N, *spatial, C), and back, for a rank-`rank` tensor.
std::vector<int64_t> axes_to_cl(int rank) {
  std::vector<int64_t> p{0};
  for (int i = 2; i < rank; ++i) p.push_back(i);
  p.push_back(1);
  return p;
}

std::vector<int64_t> axes_to_torch(int rank) {
  std::vector<int64_t> p{0, rank - 1};
  for (int i = 1; i < rank - 1; ++i) p.push_back(i);
  return p;
}

// How a tensor of fact `f` stores its axes: stored axis i holds PyTorch axis
// order[i]. Empty when the rank is not known (or `f` is not a tensor).
std::vector<int> stored_order(const Fact& f) {
  std::vector<int> order;
  if (f.kind == Fact::Perm) return f.order;
  if ((f.kind != Fact::Torch && f.kind != Fact::CL) || f.rank <= 0) return order;
  if (f.kind == Fact::CL)
    for (int64_t a : axes_to_cl(f.rank)) order.push_back(static_cast<int>(a));
  else
    for (int a = 0; a < f.rank; ++a) order.push_back(a);
  return order;
}

// The fact of a tensor stored in `order` (stored_order): PyTorch order,
// channels-last or Fact::Perm.
Fact fact_of_order(std::vector<int> order) {
  int r = static_cast<int>(order.size());
  bool torch = true, cl = r >= 3;
  std::vector<int64_t> to_cl = axes_to_cl(r);
  for (int i = 0; i < r; ++i) {
    torch = torch && order[static_cast<std::size_t>(i)] == i;
    cl = cl && order[static_cast<std::size_t>(i)] == to_cl[static_cast<std::size_t>(i)];
  }
  return torch ? Fact::torch(r) : cl ? Fact::cl(r) : Fact::perm(std::move(order));
}

// Where a tensor stored in `order` (stored_order) keeps PyTorch axis `axis`.
int64_t stored_position(const std::vector<int>& order, int64_t axis) {
  return std::find(order.begin(), order.end(), axis) - order.begin();
}

// The transpose axes that bring data stored in `from` to `to` (both orders of the
// same PyTorch axes): stored axis i of the result is stored axis axes[i] of the input.
std::vector<int64_t> reorder_axes(const std::vector<int>& from, const std::vector<int>& to) {
  std::vector<int64_t> axes;
  for (int a : to) axes.push_back(stored_position(from, a));
  return axes;
}

// A view (reshape) of a tensor stored in `order` whose PyTorch axes have the size
// symbols `dims`, to a target shape whose items have the symbols `target` (0:
// unknown), done on the stored data: the leading and trailing target axes with
// the input's symbols are those axes, and the axes between are one input axis
// split or several merged (a channel shuffle's view(b, g, c // g, h, w) of a
// channels-last (b, c, h, w), and the view(b, c, h, w) that merges them back).
// Views agree on the element count, so the split or merged axes have the same
// total size. Merged axes must be stored together in PyTorch's order: `axes`
// transposes them so first (empty: they are); `order` is how the result is
// stored, so the reshape's shape is the target items in that order.
struct RegroupedView {
  std::vector<int64_t> axes;
  std::vector<int> order;
};

std::optional<RegroupedView> regroup_view(const std::vector<int>& order, const std::vector<int>& dims,
                                          const std::vector<int>& target) {
  int r = static_cast<int>(order.size()), n = static_cast<int>(target.size());
  if (static_cast<int>(dims.size()) != r) return std::nullopt;
  auto dim = [&](int a) { return dims[static_cast<std::size_t>(a)]; };
  auto item = [&](int i) { return target[static_cast<std::size_t>(i)]; };
  int lead = 0, trail = 0;
  while (lead < r && lead < n && dim(lead) != 0 && item(lead) == dim(lead)) ++lead;
  while (trail < r - lead && trail < n - lead && dim(r - 1 - trail) != 0 && item(n - 1 - trail) == dim(r - 1 - trail))
    ++trail;
  int from = r - lead - trail, to = n - lead - trail;  // input axes regrouped, target axes they become
  if (from < 1 || to < 1 || (from > 1 && to > 1)) return std::nullopt;
  std::vector<int> pos(static_cast<std::size_t>(r));
  for (int s = 0; s < r; ++s) pos[static_cast<std::size_t>(order[static_cast<std::size_t>(s)])] = s;
  bool together = true;
  for (int k = 1; k < from; ++k)
    together = together && pos[static_cast<std::size_t>(lead + k)] == pos[static_cast<std::size_t>(lead)] + k;
  RegroupedView v;
  std::vector<int> stored = order;
  if (!together) {
    // The merged axes, in PyTorch's order, where the first of them is stored.
    int at = r;
    for (int k = 0; k < from; ++k) at = std::min(at, pos[static_cast<std::size_t>(lead + k)]);
    std::erase_if(stored, [&](int a) { return a >= lead && a < lead + from; });
    for (int k = 0; k < from; ++k) stored.insert(stored.begin() + at + k, lead + k);
    v.axes = reorder_axes(order, stored);
  }
  for (int a : stored) {
    if (a < lead) v.order.push_back(a);
    else if (a == lead)
      for (int k = 0; k < to; ++k) v.order.push_back(lead + k);
    else if (a >= lead + from) v.order.push_back(a - from + to);
  }
  return v;
}

std::vector<ast::ExprNode*> int_items(Builder& b, const std::vector<int64_t>& values) {
  std::vector<ast::ExprNode*> items;
  for (int64_t v : values) items.push_back(b.integer(v));
  return items;
}

std::vector<ast::ExprNode*> perm_to_cl(Builder& b, int rank) { return int_items(b, axes_to_cl(rank)); }
std::vector<ast::ExprNode*> perm_to_torch(Builder& b, int rank) { return int_items(b, axes_to_torch(rank)); }

// `x` with its stored axes reordered by `axes` (reorder_axes): ops.swapaxes when
// two axes trade places, else ops.transpose.
ast::ExprNode* transposed(Builder& b, ast::ExprNode* x, const std::vector<int64_t>& axes) {
  std::vector<int64_t> moved;
  for (std::size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != static_cast<int64_t>(i)) moved.push_back(static_cast<int64_t>(i));
  if (moved.size() == 2) return b.call("ops.swapaxes", {x, b.integer(moved[0]), b.integer(moved[1])});
  return b.call("ops.transpose", {x, b.tuple(int_items(b, axes))});
}

// A permuted tensor `x` (Fact::Perm `f`) transposed to how `to` stores its axes.
ast::ExprNode* restored(Builder& b, ast::ExprNode* x, const Fact& f, const Fact& to) {
  return transposed(b, x, reorder_axes(f.order, stored_order(to)));
}

// layers.Permute running the transpose `axes` (batch axis first and kept):
// Keras numbers the other axes from 1.
ast::ExprNode* permute_layer(Builder& b, const std::vector<int64_t>& axes) {
  return b.call("layers.Permute", {b.tuple(int_items(b, std::vector<int64_t>(axes.begin() + 1, axes.end())))});
}

// ---------------------------------------------------------------------------
// Control flow: what a block of statements binds, reads and leaves by.

namespace {

// Whether every path through `stmts` ends in `return` (or `raise`).
bool always_returns(const std::vector<ast::StmtNode*>& stmts) {
  if (stmts.empty()) return false;
  const ast::StmtNode* last = stmts.back();
  if (ast::is<ast::Return>(last) || ast::is<ast::Raise>(last)) return true;
  if (auto* i = ast::as<ast::If>(last))
    return always_returns({i->body.begin(), i->body.end()}) && always_returns({i->orelse.begin(), i->orelse.end()});
  return false;
}

// Whether `stmts` hold a statement of `kind` that acts on the code around them:
// a `return` outside nested functions, a `break`/`continue` outside nested loops.
bool acts_outside(const ast::Node* n, ast::NodeKind kind, bool in_loop = false) {
  if (n == nullptr) return false;
  if (ast::is<ast::FunctionDef>(n) || ast::is<ast::AsyncFunctionDef>(n) || ast::is<ast::ClassDef>(n) ||
      ast::is<ast::Lambda>(n))
    return false;
  if (n->kind == kind && (kind == ast::NodeKind::Return || !in_loop)) return true;
  bool loop = in_loop || ast::is<ast::For>(n) || ast::is<ast::While>(n);
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) {
    // A loop's `else` is outside the loop, but its body is not.
    found = found || acts_outside(c, kind, loop);
  });
  return found;
}

bool acts_outside(const std::vector<ast::StmtNode*>& stmts, ast::NodeKind kind) {
  for (const ast::StmtNode* s : stmts)
    if (acts_outside(s, kind)) return true;
  return false;
}

// Whether the Keras layer of converted module `d` keeps PyTorch's setting `attr`
// under its name (the catalog entry's `settings=`: self.lstm.hidden_size).
bool keeps_setting(const ModuleDesc& d, std::string_view attr) {
  return d.entry != nullptr && std::find(d.entry->settings.begin(), d.entry->settings.end(), attr) != d.entry->settings.end();
}

// Whether a parameter annotation names Python values only: bool, int, float,
// str, and lists, tuples and Optionals of them (`shift_size: list[int]`).
bool python_annotation(const ast::ExprNode* ann) {
  if (auto* n = ast::as<ast::Name>(ann)) return n->id == "bool" || n->id == "int" || n->id == "float" || n->id == "str";
  if (auto* c = ast::as<ast::Constant>(ann)) return c->value.kind == ast::ConstantValue::Kind::Ellipsis;
  auto* sub = ast::as<ast::Subscript>(ann);
  auto* outer = sub ? ast::as<ast::Name>(sub->value) : nullptr;
  if (outer == nullptr) return false;
  static const std::set<std::string_view> kContainers = {"list", "List", "tuple", "Tuple", "Sequence", "Optional"};
  if (!kContainers.count(outer->id)) return false;
  if (auto* t = ast::as<ast::Tuple>(sub->slice)) {
    for (const ast::ExprNode* x : t->elts)
      if (!python_annotation(x)) return false;
    return true;
  }
  return python_annotation(sub->slice);
}

// Whether a parameter annotation names a tensor: torch.Tensor, Tensor,
// torch.FloatTensor..., or an Optional of one.
bool tensor_annotation(const ast::ExprNode* ann) {
  std::string_view name;
  if (auto* n = ast::as<ast::Name>(ann)) name = n->id;
  if (auto* a = ast::as<ast::Attribute>(ann); a && ast::is<ast::Name>(a->value) && ast::as<ast::Name>(a->value)->id == "torch")
    name = a->attr;
  if (!name.empty()) return name == "Tensor" || (name.size() > 6 && name.substr(name.size() - 6) == "Tensor");
  auto* sub = ast::as<ast::Subscript>(ann);
  auto* outer = sub ? ast::as<ast::Name>(sub->value) : nullptr;
  return outer != nullptr && outer->id == "Optional" && tensor_annotation(sub->slice);
}

// Whether the name `id` occurs in `n`.
bool mentions_name(const ast::Node* n, std::string_view id) {
  if (auto* x = ast::as<ast::Name>(n)) return x->id == id;
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || mentions_name(c, id); });
  return found;
}

// The names `stmts` bind (assignment and loop targets), in order of first
// binding; nested functions, lambdas and comprehensions have their own scopes.
void stored_names(const ast::Node* n, std::vector<std::string>& names) {
  if (n == nullptr) return;
  if (ast::is<ast::Lambda>(n) || ast::is<ast::ListComp>(n) || ast::is<ast::SetComp>(n) ||
      ast::is<ast::DictComp>(n) || ast::is<ast::GeneratorExp>(n) || ast::is<ast::ClassDef>(n))
    return;
  if (auto* f = ast::as<ast::FunctionDef>(n)) {
    std::string id(f->name);
    if (std::find(names.begin(), names.end(), id) == names.end()) names.push_back(id);
    return;
  }
  if (auto* name = ast::as<ast::Name>(n); name && name->ctx == ast::ExprContext::Store) {
    std::string id(name->id);
    if (std::find(names.begin(), names.end(), id) == names.end()) names.push_back(id);
    return;
  }
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { stored_names(c, names); });
}

std::vector<std::string> stored_names(const std::vector<ast::StmtNode*>& stmts) {
  std::vector<std::string> names;
  for (const ast::StmtNode* s : stmts) stored_names(s, names);
  return names;
}

bool before(const ast::Loc& a, const ast::Loc& b) {
  return a.lineno < b.lineno || (a.lineno == b.lineno && a.col_offset < b.col_offset);
}

// Whether `n` may rebind or change `name` at a position before `pos`: an
// assignment to it (or to an item of it), or an in-place method on it.
bool rebinds_before(const ast::Node* n, const std::string& name, const ast::Loc& pos) {
  if (n == nullptr || !before(n->loc, pos)) return false;
  if (ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n) || ast::is<ast::ClassDef>(n)) return false;
  if (auto* x = ast::as<ast::Name>(n)) return x->ctx == ast::ExprContext::Store && x->id == name;
  auto names = [&](const ast::ExprNode* target) {
    auto* sub = ast::as<ast::Subscript>(target);
    auto* base = sub ? ast::as<ast::Name>(sub->value) : nullptr;
    return base != nullptr && base->id == name;
  };
  if (auto* a = ast::as<ast::Assign>(n))
    for (const ast::ExprNode* t : a->targets)
      if (names(t)) return true;
  if (auto* a = ast::as<ast::AugAssign>(n); a && names(a->target)) return true;
  if (auto* c = ast::as<ast::Call>(n))
    if (auto* f = ast::as<ast::Attribute>(c->func); f && f->attr.ends_with("_") && !f->attr.ends_with("__"))
      if (auto* r = ast::as<ast::Name>(f->value); r && r->id == name) return true;
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || rebinds_before(c, name, pos); });
  return found;
}

bool rebinds_before(const std::vector<ast::StmtNode*>& stmts, const std::string& name, const ast::Loc& pos) {
  for (const ast::StmtNode* s : stmts)
    if (rebinds_before(s, name, pos)) return true;
  return false;
}

bool contains(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// Whether `n` reads `name` at a position after `after` ends.
bool reads_after(const ast::Node* n, const std::string& name, const ast::Loc& after) {
  if (n == nullptr) return false;
  if (auto* x = ast::as<ast::Name>(n); x && x->ctx == ast::ExprContext::Load && x->id == name)
    return x->loc.lineno > after.end_lineno ||
           (x->loc.lineno == after.end_lineno && x->loc.col_offset >= after.end_col_offset);
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || reads_after(c, name, after); });
  return found;
}

// Whether `n` reads `name` after `after` ends, outside comprehensions that
// bind `name` themselves (their variable is their own).
bool read_outside_comprehensions(const ast::Node* n, const std::string& name, const ast::Loc& after) {
  if (n == nullptr) return false;
  auto binds = [&](ast::Seq<ast::Comprehension*> gens) {
    std::set<std::string> targets;
    for (const ast::Comprehension* g : gens) ast::collect_names(g->target, targets);
    return targets.count(name) > 0;
  };
  if (auto* c = ast::as<ast::ListComp>(n); c && binds(c->generators)) return false;
  if (auto* c = ast::as<ast::GeneratorExp>(n); c && binds(c->generators)) return false;
  if (auto* c = ast::as<ast::SetComp>(n); c && binds(c->generators)) return false;
  if (auto* c = ast::as<ast::DictComp>(n); c && binds(c->generators)) return false;
  if (auto* x = ast::as<ast::Name>(n); x && x->ctx == ast::ExprContext::Load && x->id == name)
    return x->loc.lineno > after.end_lineno ||
           (x->loc.lineno == after.end_lineno && x->loc.col_offset >= after.end_col_offset);
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n),
                      [&](ast::Node* c) { found = found || read_outside_comprehensions(c, name, after); });
  return found;
}

// Whether the value `name` holds when `block` ends is read: a read after
// `block` that no plain assignment (`name = ...`) before it rebinds.
bool live_after(const ast::Node* n, const std::string& name, const ast::Loc& block) {
  auto after = [&block](int32_t line, int32_t col) {
    return line > block.end_lineno || (line == block.end_lineno && col >= block.end_col_offset);
  };
  auto earlier = [](int32_t l1, int32_t c1, int32_t l2, int32_t c2) { return l1 < l2 || (l1 == l2 && c1 < c2); };
  std::optional<std::pair<int32_t, int32_t>> read, bound;
  std::function<void(const ast::Node*)> walk = [&](const ast::Node* x) {
    if (x == nullptr) return;
    if (auto* v = ast::as<ast::Name>(x); v && v->ctx == ast::ExprContext::Load && v->id == name &&
                                         after(v->loc.lineno, v->loc.col_offset))
      if (!read || earlier(v->loc.lineno, v->loc.col_offset, read->first, read->second))
        read = {v->loc.lineno, v->loc.col_offset};
    if (auto* a = ast::as<ast::Assign>(x); a && after(a->loc.lineno, a->loc.col_offset))
      for (const ast::ExprNode* t : a->targets)
        if (auto* v = ast::as<ast::Name>(t); v && v->id == name)
          if (!bound || earlier(a->loc.end_lineno, a->loc.end_col_offset, bound->first, bound->second))
            bound = {a->loc.end_lineno, a->loc.end_col_offset};
    ast::for_each_child(const_cast<ast::Node*>(x), walk);
  };
  walk(n);
  return read && (!bound || earlier(read->first, read->second, bound->first, bound->second));
}

bool reads(const ast::Node* n, const std::string& name) {
  return reads_after(n, name, ast::Loc{});
}

// Whether `n` uses `name` inside a subscript's index (`x[i]`), or with
// `ranges`, as a range() argument.
bool indexes_with(const ast::Node* n, const std::string& name, bool ranges) {
  if (n == nullptr) return false;
  if (auto* sub = ast::as<ast::Subscript>(n); sub && reads(sub->slice, name)) return true;
  if (auto* c = ast::as<ast::Call>(n); ranges && c && ast::is<ast::Name>(c->func) &&
                                       ast::as<ast::Name>(c->func)->id == "range")
    for (const ast::ExprNode* a : c->args)
      if (reads(a, name)) return true;
  bool found = false;
  ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || indexes_with(c, name, ranges); });
  return found;
}


}  // namespace

class Lowerer {
 public:
  Lowerer(const ast::Module* module, const analysis::ImportScope& scope,
          const std::vector<ClassInfo>& classes, Builder& b, const LowerOptions& options)
      : module_(module), scope_(scope), classes_(classes), b_(b), opt_(options),
        catalog_(catalog::Catalog::instance()), values_(module, scope, classes, catalog_) {}

  LowerOutput run();

 private:
  // ---- resolution helpers
  std::optional<std::string> resolve(const ast::ExprNode* e) const {
    return scope_.resolve(e, [this](std::string_view p) { return catalog_.knows_path(p); });
  }
  bool is_torch_path(const std::string& p) const {
    return p == "torch" || p.starts_with("torch.") || p == "torchvision" || p.starts_with("torchvision.") ||
           dropped_names_.count(p) > 0;
  }
  const ClassInfo* model_class(std::string_view name) const { return values_.model_class(name); }
  const ast::FunctionDef* method(const ClassInfo* cls, std::string_view name) const {
    return values_.method(cls, name);
  }

  void error(diag::Kind kind, const ast::Node* at, std::string message) {
    diag::Diagnostic d;
    d.kind = kind;
    d.severity = diag::default_severity(kind);
    d.message = std::move(message);
    d.filename = opt_.filename;
    if (at != nullptr) {
      d.lineno = at->loc.lineno;
      d.col_offset = at->loc.col_offset;
      d.end_lineno = at->loc.end_lineno;
      d.end_col_offset = at->loc.end_col_offset;
    }
    out_.diagnostics.push_back(std::move(d));
  }

  // Forgets what was said about the code inside `n` (a definition left out of the
  // Keras module: its unconverted parts no longer matter).
  // `self.f(args)` where the constructor assigned `self.f = lambda params: body`
  // (at the top level of __init__): the body with each parameter replaced by its
  // argument and each constructor alias of a self attribute (`m = self.mlp`) by
  // that attribute; null when `call` is not one. A parameter read twice is given
  // a temporary (an argument runs once). Lambdas with defaults, *args or
  // keywords in the call are not inlined.
  ast::ExprNode* inline_ctor_lambda(const ast::Call* call);
  // `hasattr(torch.nn.functional, "scaled_dot_product_attention")` (nanoGPT's
  // flash check): whether the converter has that torch function or module (the
  // converted model has what the catalog has); nullopt for other calls.
  std::optional<bool> torch_hasattr(const ast::ExprNode* e) const {
    auto* call = ast::as<ast::Call>(e);
    auto* fn = call != nullptr ? ast::as<ast::Name>(call->func) : nullptr;
    if (fn == nullptr || fn->id != "hasattr" || scope_.binding("hasattr") || call->args.size() != 2) return std::nullopt;
    auto p = resolve(call->args[0]);
    ConstValue name = analysis::literal_value(call->args[1]);
    if (!p || !is_torch_path(*p) || name.kind != ConstValue::Kind::Str) return std::nullopt;
    std::string path = *p + "." + name.text;
    return catalog_.find_function(path) != nullptr || catalog_.find_module(path) != nullptr;
  }
  // Whether `init` (a constructor) assigns `self.<attr>`, in a statement before
  // `before` when given, a value other than None when `non_none`; nested
  // functions and lambdas aside.
  static bool init_assigns(const ast::FunctionDef* init, std::string_view attr, const ast::Node* before,
                           bool non_none) {
    bool found = false;
    std::function<void(const ast::Node*)> walk = [&](const ast::Node* x) {
      if (found || x == nullptr || ast::is<ast::FunctionDef>(x) || ast::is<ast::Lambda>(x)) return;
      if (before != nullptr && x->loc.lineno >= before->loc.lineno) return;
      if (auto* as = ast::as<ast::Assign>(x);
          as && !(non_none && analysis::literal_value(as->value).kind == ConstValue::Kind::None))
        for (const ast::ExprNode* t : as->targets)
          if (auto* a = ast::as<ast::Attribute>(t); a && a->attr == attr && is_self(a->value))
            found = true;
      ast::for_each_child(const_cast<ast::Node*>(x), walk);
    };
    for (const ast::StmtNode* st : init->body) walk(st);
    return found;
  }
  // Whether the constructor being rewritten assigns `self.<attr>` a value other
  // than None in a statement before `at`.
  bool assigned_before(std::string_view attr, const ast::Node* at) const {
    const ast::FunctionDef* init = current_class_ != nullptr ? method(current_class_, "__init__") : nullptr;
    return init != nullptr && init_assigns(init, attr, at, true);
  }
  // Whether `self.<attr>` of the class being rewritten holds modules (a layer, a
  // block, a container of them), not a plain value.
  bool holds_modules(const ast::Attribute* a) {
    std::optional<ModuleDesc> d = self_module(current_class_, a);
    return d && module_instance(*d);
  }
  // Whether `d` is modules made (a layer, a block, a container of them): not a
  // class, not None, not a value the analysis cannot see.
  static bool module_instance(const ModuleDesc& d) {
    return d.kind != ModuleDesc::Unknown && d.kind != ModuleDesc::None && d.kind != ModuleDesc::LeafClass &&
           d.kind != ModuleDesc::UserClass;
  }
  // Whether a base class of `cls` in the input (or its bases) assigns
  // `self.<attr>` in its constructor.
  bool base_assigns(const ClassInfo* cls, std::string_view attr, int depth) const {
    if (depth > 8) return false;
    for (const ast::ExprNode* b : cls->node->bases) {
      auto* n = ast::as<ast::Name>(b);
      const ClassInfo* base = n != nullptr ? model_class(n->id) : nullptr;
      if (base == nullptr || base == cls) continue;
      const ast::FunctionDef* init = method(base, "__init__");
      if ((init != nullptr && init_assigns(init, attr, nullptr, false)) || base_assigns(base, attr, depth + 1))
        return true;
    }
    return false;
  }
  std::set<std::pair<const ClassInfo*, std::string>> inlined_lambdas_;  // left out of the constructor
  // The first call of a method of self inside `e` (`self.get_num_params()`), or null.
  static const ast::Call* self_method_call(const ast::Node* e) {
    const ast::Call* found = nullptr;
    std::function<void(const ast::Node*)> walk = [&](const ast::Node* n) {
      if (found != nullptr || n == nullptr) return;
      if (auto* c = ast::as<ast::Call>(n))
        if (auto* a = ast::as<ast::Attribute>(c->func);
            a && is_self(a->value))
          found = c;
      ast::for_each_child(const_cast<ast::Node*>(n), walk);
    };
    for (const ast::ExprNode* a : ast::as<ast::Call>(e)->args) walk(a);
    return found;
  }
  std::size_t error_count() const {
    return static_cast<std::size_t>(std::count_if(out_.diagnostics.begin(), out_.diagnostics.end(),
                                                  [](const diag::Diagnostic& d) { return d.severity == diag::Severity::Error; }));
  }
  // Whether a method of any class of the file reads `self.<name>` (a subclass may
  // call a base's method; a same-named method of another class counts too).
  bool called_in_class(std::string_view name) const {
    if (!self_reads_) {  // the input's classes do not change: one walk
      self_reads_.emplace();
      std::function<void(const ast::Node*)> walk = [&](const ast::Node* n) {
        if (auto* a = ast::as<ast::Attribute>(n); a && is_self(a->value))
          self_reads_->insert(std::string(a->attr));
        ast::for_each_child(const_cast<ast::Node*>(n), walk);
      };
      for (const ClassInfo& c : classes_) walk(c.node);
    }
    return self_reads_->count(std::string(name)) > 0;
  }
  mutable std::optional<std::set<std::string>> self_reads_;  // attributes read as self.<name>
  void forget_diagnostics_in(const ast::Node* n) {
    std::erase_if(out_.diagnostics, [n](const diag::Diagnostic& d) {
      return d.lineno >= n->loc.lineno && d.lineno <= n->loc.end_lineno;
    });
  }

  // ---- pass 2: layout signatures and the forward path
  Unit& unit(const ClassInfo* cls, const ast::FunctionDef* def, const ast::Call* first_call = nullptr);
  void seed_lists(Unit& u, const ast::Call* call);
  Fact apply_desc(const ModuleDesc& d, Fact in, ast::ExprNode*& arg, const ast::Node* at);
  Fact fold_seq(const ModuleDesc& d, Fact in, ast::ExprNode*& arg, const ast::Node* at);
  Fact probe_desc(const ModuleDesc& d, Fact in, ast::ExprNode*& probe, const ast::Node* at);
  // The tensor `expr` (fact f) in the layout asked for, converting it if needed;
  // the result keeps f's dtype class.
  Fact demand_cl(Fact f, int rank, ast::ExprNode*& expr) { return same_dtype(f, demand_cl_layout(f, rank, expr)); }
  Fact demand_torch(Fact f, ast::ExprNode*& expr) { return same_dtype(f, demand_torch_layout(f, expr)); }
  Fact same_dtype(const Fact& from, Fact to) {
    if (to.tensor()) to.dtype = resolved(from).dtype;
    return to;
  }
  Fact demand_cl_layout(Fact f, int rank, ast::ExprNode*& expr);
  Fact demand_torch_layout(Fact f, ast::ExprNode*& expr);
  // --io-layout keras: the outer model takes and returns image-like tensors (3 to 5
  // axes, as verify counts them) channels-last (with --layout channels_first too).
  bool keras_io() const { return frame_ != nullptr && frame_->top_level && !opt_.io_torch; }
  // An output of the outer model (fact `f`) channels-last when image-like.
  ast::ExprNode* keras_io_output(const Fact& f, ast::ExprNode* e);
  // `x` (N, S * C) reordered between PyTorch's (C, S) feature order and the
  // channels-last flatten's (S, C) (Fact::Flat).
  ast::ExprNode* reorder_flat(ast::ExprNode* x, int spatial, bool to_torch);
  // A rank-`rank` tensor whose spatial axes are all 1, reshaped between (N, C, 1, 1)
  // and (N, 1, 1, C): the same values in the same order.
  ast::ExprNode* unit_map(ast::ExprNode* x, int rank, bool to_cl) {
    if (!ast::is<ast::Name>(x) && frame_ != nullptr && frame_->hoist != nullptr) x = into_temp(x);
    std::vector<ast::ExprNode*> shape{b_.subscript(b_.call("ops.shape", {x}), b_.integer(0))};
    if (!to_cl) shape.push_back(b_.literal(ConstValue::int_value(-1)));
    for (int i = 2; i < rank; ++i) shape.push_back(b_.integer(1));
    if (to_cl) shape.push_back(b_.literal(ConstValue::int_value(-1)));
    return b_.call("ops.reshape", {x, b_.tuple(shape)});
  }
  // A rank-`rank` tensor whose channel axis is 1 (Fact::unit_channel), between
  // (N, 1, H, W) and (N, H, W, 1): the channel index taken and put back where the
  // other layout has it.
  ast::ExprNode* unit_channel_map(ast::ExprNode* x, bool to_cl) {
    ast::ExprNode* taken = to_cl ? b_.subscript(x, b_.tuple({b_.full_slice(), b_.integer(0)}))
                                 : b_.subscript(x, b_.tuple({b_.ellipsis(), b_.integer(0)}));
    return b_.call("ops.expand_dims", {taken, to_cl ? b_.literal(ConstValue::int_value(-1)) : b_.integer(1)});
  }
  // `value` assigned to a fresh variable (tmp, tmp1...) before the current
  // statement (frame_->hoist must be set); the variable.
  ast::Name* into_temp(ast::ExprNode* value) {
    std::string name;
    do {
      name = "tmp" + (frame_->temps == 0 ? std::string() : std::to_string(frame_->temps));
      ++frame_->temps;
    } while (frame_->names.count(name));
    frame_->hoist->push_back(b_.assign(b_.name(name, ast::ExprContext::Store), value));
    return b_.name(name);
  }
  // Variables of the outer block holding a Fact::Flat or Fact::Perm value converted
  // (before a compound statement: branches and loops join PyTorch-order values).
  void flush_flat(std::vector<ast::StmtNode*>& out);
  // Loops: the spatial sizes, size symbols and size-1 channel axes of the variables
  // a loop `body` rebinds or changes are not known inside (an iteration may change
  // them), in either layout.
  void forget_spatial(const std::vector<ast::StmtNode*>& body) {
    const ast::Loc end{std::numeric_limits<int32_t>::max(), 0, std::numeric_limits<int32_t>::max(), 0};
    for (auto& [name, f] : frame_->env) {
      if (!rebinds_before(body, name, end)) continue;
      f = f.with_spatial(0).unsized();
      f.relabel_spatial = 0;
      f.unit_channel = false;
    }
  }
  // The spatial size of what `entry` (a spatial op) returns for `call` on an
  // input of fact `in` (Fact::spatial).
  static int result_spatial(const Entry& entry, const Fact& in, const ast::Call* call);
  // The input rank a Spatial `entry` runs at for an input of fact `in`: its declared
  // rank, or with rank="input" the input's (3 to 5; 4 when unknown). An input whose
  // known rank differs from a declared one (a Conv2d given (N, C, L), or an
  // unbatched (C, H, W)) is an error at `at`: a channels-last op of another rank
  // would run on the wrong axes.
  int spatial_rank(const Entry& entry, const Fact& in, const ast::Node* at);
  // The rank of a tensor of fact `in` when it is known (a parameter's: from the
  // first caller's argument).
  std::optional<int> known_rank(const Fact& in) const;
  // Whether `call` of a Flatten/Reshape entry merges every axis after the batch
  // axis of a rank-`rank` tensor: flatten(x, 1), x.view(x.size(0), -1).
  static bool flattens_batch(const Entry& entry, const ast::Call* call, int rank);
  // `b, c, h, w = x.size()` (or x.shape) where x is a channels-last variable of that
  // rank (or a parameter its first caller passes so): the targets in channels-last
  // order (b, h, w, c) and x, after deciding the parameter; else nulls.
  std::pair<ast::Tuple*, const ast::Name*> channels_last_shape_unpack(const ast::Assign* a);
  // The items of the sequence a call passes for an entry's first `dims` parameter,
  // as written: a method's arguments (x.view(a, b), x.view((a, b))) or a function's
  // tuple or list display (torch.reshape(x, (a, b))); a lone int literal is one
  // item. Empty when not written out (a variable, `*args`).
  static std::vector<ast::ExprNode*> sequence_arg(const Entry& entry, const ast::Call* call);
  // The shape a Reshape entry's call asks for, as written (empty if not a display).
  // Whether `entry` reads a Fact::Perm tensor as it is stored: a view regroups it,
  // a permute relabels it, x.size(d) remaps d, an alias (x.contiguous()) passes it on.
  static bool reads_permuted(const Entry* entry) {
    return entry != nullptr && (entry->layout == Layout::Reshape || entry->layout == Layout::Permute ||
                                entry->layout == Layout::Shape || (entry->alias && entry->layout == Layout::Any));
  }
  static std::vector<ast::ExprNode*> reshape_target(const Entry& entry, const ast::Call* call) {
    return entry.layout == Layout::Reshape ? sequence_arg(entry, call) : std::vector<ast::ExprNode*>{};
  }
  // `s` (a clone whose value is a channels-last tensor of `rank`) indexed with its
  // channel index moved last, when every index is a slice or an int (literal or
  // int variable) and the batch axis is kept, or `...` and slices/ints of spatial
  // axes; the result's fact, else nullopt and `s` unchanged. `dry`: only whether.
  std::optional<Fact> index_channels_last(ast::Subscript* s, int rank, bool dry = false);
  // What the first caller passed for the parameter of a Pending fact (Unit::hints).
  std::optional<Fact> hint(const Fact& f) const {
    if (f.kind != Fact::Pending || frame_ == nullptr) return std::nullopt;
    const std::vector<Fact>& h = frame_->unit->hints;
    if (f.param < 0 || static_cast<std::size_t>(f.param) >= h.size()) return std::nullopt;
    return h[static_cast<std::size_t>(f.param)];
  }
  // The axes of a Permute entry's call when they are int literals (negative ones
  // normalised), else empty. An entry with two axis parameters swaps them
  // (x.transpose(1, 2)) in a tensor of `rank` (0: unknown, so empty).
  static std::vector<int64_t> literal_permutation(const Entry& entry, const ast::Call* call, int rank = 0);
  // How a permute by the axes `p` (literal_permutation) runs on a value of fact `f`
  // as it is stored in channels_last: `axes` is the transpose of the stored data,
  // empty when the permute only relabels the axes (it moves the channel axis last,
  // of a channels-last tensor, or back to axis 1, of one in PyTorch order); `out`
  // is the result's fact. A pending parameter first moved to channels-last is
  // taken channels-last (converted through `expr`). nullopt: the permute takes
  // its input in PyTorch order.
  struct StoredPermute {
    std::vector<int64_t> axes;
    Fact out;
  };
  std::optional<StoredPermute> stored_permute(const std::vector<int64_t>& p, Fact f, ast::ExprNode*& expr);
  // Whether module `d` reads a channels-last flatten (Fact::Flat) as it is: a
  // Linear, maybe after layout-free layers of a static Sequential; a layout-free
  // module passes it on when its own result is taken so (`passes`).
  bool takes_flat(const ModuleDesc& d, bool passes) const;
  Fact demand_as(const Fact& want, Fact f, ast::ExprNode*& expr);
  Fact resolved(Fact f) const;
  void lower_unit(Unit& u);
  // A layout hint for the parameter at `index` (after self) of `def` (a method of
  // `cls`, or a module function: cls null) that no caller gives one for: the first
  // layout-sensitive module its value reaches, through assignments and calls of
  // this class's methods and of module functions, when that module is a spatial
  // one of rank r: channels-last of rank r (googlenet's forward reads its input
  // in _transform_input's x[:, 0] before a Conv2d reads it). A hint only steers
  // choices that are exact in either layout.
  std::optional<Fact> module_hint(const ClassInfo* cls, const ast::FunctionDef* def, std::size_t index, int depth = 0);
  // What module_hint finds in module `d`: nullopt when it works in any layout
  // (its result goes on), else the layout its first sensitive layer takes.
  std::optional<Fact> desc_hint(const ModuleDesc& d, int depth);

  // ---- pass 3: constructor code
  ast::ExprNode* rewrite_ctor_expr(ast::ExprNode* e);
  // `pytorch_deepcopy`, the runtime's copy.deepcopy of a layer (marked as used).
  ast::ExprNode* deepcopy_function();
  bool dict_of_modules(const ast::ExprNode* arg) const;
  bool empty_sequential_attribute(const ast::Assign* a) const;
  std::string module_parameter_path(const ast::ExprNode* e);
  ast::StmtNode* tied_parameters(const ast::Assign* a);
  bool tensor_attribute(const ClassInfo* cls, std::string_view attr) const;
  bool scan_tensor_attribute(const ClassInfo* cls, std::string_view attr) const;
  // The dtype class of parameter or buffer `self.<attr>` of `cls`, from the
  // value its constructor code gives it (source_dtype); Unknown when not known.
  DType tensor_attribute_dtype(const ClassInfo* cls, std::string_view attr) const;
  // The dtype class of PyTorch expression `e` in function `fn` (constructor
  // code), read from the source as result_dtype reads lowered code: dtype=
  // arguments, casts, the catalog's returns=, literals; a local name by its
  // assignments in `fn`.
  DType source_dtype(const ast::ExprNode* e, const ast::FunctionDef* fn, int depth = 0) const;
  mutable std::map<std::pair<const ClassInfo*, std::string>, bool> tensor_attributes_;
  mutable std::map<std::pair<const ClassInfo*, std::string>, DType> tensor_attribute_dtypes_;
  DType scan_tensor_attribute_dtype(const ClassInfo* cls, std::string_view attr) const;
  // `self.<attr>` of `cls` when it is a parameter made in one assignment
  // `self.<attr> = nn.Parameter(v)`, or a buffer made in one
  // `self.register_buffer("<attr>", v)` (persistent), and every read of an
  // attribute of that name in the module is an operand of + - * / (ConvNeXt's
  // layer scale, an input normalisation's mean and std): it may be stored in the
  // layout of the activations it meets (parameter_layouts_). Its nn.Parameter or
  // register_buffer call; else null.
  const ast::Call* broadcast_parameter(const ClassInfo* cls, std::string_view attr) const;
  mutable std::map<std::pair<const ClassInfo*, std::string>, const ast::Call*> broadcast_parameters_;
  // Broadcast parameters (by nn.Parameter call) and the rank of the channels-last
  // activations they are stored for (pytorch_parameter's channels_last_rank), or 0
  // (PyTorch order): the other operand of the first operation decides.
  std::map<const ast::Call*, int> parameter_layouts_;
  std::string keras_layer_callee(const ModuleDesc& d);
  std::optional<ModuleDesc> ctor_layer(const ast::ExprNode* e);
  std::optional<ModuleDesc> ctor_module(const ast::ExprNode* e);
  ast::StmtNode* translate_initializer(const ast::Call* call, const std::string& path);
  // Whether constructor code's `e` is a tensor the catalog makes: a catalog
  // function's call (torch.ones(3)), or a catalog method of one (.view(1, 3, 1, 1)).
  bool made_tensor(const ast::ExprNode* e) const;
  void bind_ctor_tensor(const std::string& name, const ast::ExprNode* value);
  bool ctor_tensor_item(const ast::Subscript* target) const;
  ast::StmtNode* ctor_item_assign(const ast::Subscript* target, ast::ExprNode* value, const ast::StmtNode* at);
  ast::ClassDef* rewrite_plain_class(const ast::ClassDef* cd);
  ast::ExprNode* sequential_layers(const std::vector<ast::ExprNode*>& args);
  std::string factory(const Entry* entry);
  std::vector<ast::StmtNode*> rewrite_ctor_body(ast::Seq<ast::StmtNode*> body, bool in_init);
  bool initialization_only(ast::Seq<ast::StmtNode*> stmts, const ast::Node* block, bool& initializes);
  std::vector<ast::StmtNode*> build_read_layers(const ast::Assign* a);
  bool changes_layer_parameter(const ast::Call* call);
  ast::FunctionDef* rewrite_function(const ast::FunctionDef* f, bool in_init, bool in_model);
  ast::ClassDef* lower_class(const ClassInfo& cls);

  // Forward-path state (one unit at a time; units nest through recursion).
  struct Frame {
    Unit* unit = nullptr;
    std::unordered_map<std::string, Fact> env;
    std::unordered_map<std::string, ModuleDesc> module_vars;  // loop variables over ModuleLists
    std::optional<Fact> ret;
    bool top_level = false;
    int depth = 0;  // statement blocks being lowered: 1 is the function body
    // Where a layout change of a variable is written (`x = ops.transpose(x, ...)`
    // before the statement being lowered); null: convert inline.
    std::vector<ast::StmtNode*>* hoist = nullptr;
    // How often each variable was read so far in the statement being lowered: a
    // variable read before in it keeps its layout there, so it is converted inline.
    std::unordered_map<std::string, int> reads;
    int temps = 0;  // variables made for values used twice (tmp, tmp1, ...)
    std::set<std::string> names;  // every name the function's code uses
    // Functions defined in this code: the input def and its copy in the output.
    std::unordered_map<std::string, std::pair<const ast::FunctionDef*, ast::FunctionDef*>> nested;
    // The statements after the one being lowered in its block; a tensor `if`
    // whose one branch returns takes them as its other branch (rest_taken).
    const std::vector<ast::StmtNode*>* rest = nullptr;
    bool rest_taken = false;
    std::vector<const ast::StmtNode*> loops;  // the input loops around the statement
    // Inside a branch of a tensor `if` or a loop body (`src`): a variable of the
    // code before it (`outer`) still holding its value from there is converted
    // before the statement (into `pre`), so that both branches, or every
    // iteration, see the new layout; inline once the first branch is done.
    struct CondScope {
      std::vector<ast::StmtNode*>* pre;
      std::set<std::string> outer;
      std::unordered_map<std::string, Fact>* entry_env;
      const std::vector<ast::StmtNode*>* src = nullptr;
      CondScope* parent = nullptr;
      std::set<std::string> mutated;  // changed in place so far (mutate)
      bool first_branch = true;
      // Reads of each variable in the scope so far: one read before the statement
      // being lowered used the layout the variable had, so it is not changed
      // before the scope any more.
      std::unordered_map<std::string, int> reads;
    };
    CondScope* cond = nullptr;
    const ast::StmtNode* stmt = nullptr;  // the input statement being lowered
    // Which variables share a tensor's storage (P48): `y = x` makes an alias,
    // `y = x.view(...)` / `y = x[...]` a view. An in-place change of one is seen
    // through the others. Parameters' storages are the callers' tensors.
    std::unordered_map<std::string, int> storage;
    std::set<std::string> views;
    std::map<int, int> param_storage;  // storage id -> parameter index
    std::map<int, std::set<std::string>> holders;  // storage id -> lists/tuples/dicts holding it
    std::set<std::string> none_vars;  // variables bound to None
    // Variables that may share one of these storages, depending on a branch taken
    // at run time (`z = x if t else 2 * x`): a change of one of them cannot be
    // followed when the variable is read later.
    std::map<std::string, std::set<int>> maybe_alias;
    std::set<std::string> int_vars;   // variables bound to an int literal (counters)
    int next_storage = 0;
    // Statements written after the one being lowered (aliases of a variable the
    // statement changed in place).
    std::vector<ast::StmtNode*>* post = nullptr;
  };

  ast::ExprNode* rebind(ast::ExprNode* expr, ast::ExprNode* converted, Fact to);
  ast::ExprNode* convert_value(ast::ExprNode* expr, std::vector<ast::ExprNode*> perm, Fact to);
  Frame* frame_ = nullptr;
  struct Val {
    ast::ExprNode* expr;
    Fact fact;
    std::vector<Fact> elts = {};  // a list or tuple display: each element's fact
  };
  // A Layout::Reshape call on `x` (channels-last or permuted, sizes named by
  // Fact::dims) done on the stored data (regroup_view): sets `req` to write the
  // target shape in the stored order and `x` to what is reshaped; the result's
  // fact, or nullopt.
  std::optional<Fact> regroup(const Entry& entry, const ast::Call* call, Val& x, InstantiateRequest& req);
  // The variable whose storage `e` shares through views and aliases
  // (y.flatten(2).transpose(1, 2), y[:, 0].detach()), setting `view` when a step
  // is a view; null when a step makes a new tensor.
  const ast::Name* view_root(const ast::ExprNode* e, bool& view);
  // A Layout::Flatten call (start_dim, end_dim literals) on `x` (channels-last or
  // permuted) whose merged axes are stored together in PyTorch's order: the same
  // flatten of the stored axes (flatten(2) of a channels-last (N, C, H, W) is
  // (N, H * W, C) as stored, channels-last of rank 3); `req` remaps the axes. The
  // result's fact, or nullopt.
  std::optional<Fact> regroup_flatten(const Entry& entry, const ast::Call* call, const Val& x, InstantiateRequest& req);
  // x[:, [0, 2]] (`s`, x lowered to `x` of fact `f`): a list of int literals as
  // the only index besides `:`s picks those entries of its axis, as
  // keras.ops.take (TensorFlow's indexing takes no list); nullopt otherwise.
  std::optional<Val> take_index(const ast::Subscript* s, Fact f, ast::ExprNode* x);
  // `o` (lowered operands `l`, `r`, result fact `out`) where an operand is a
  // boolean tensor. PyTorch: bool + bool and bool * bool stay boolean (or, and),
  // bool / bool is float, bool - bool is an error; with a number or another
  // tensor the boolean is promoted to its type (an int literal: int, a float
  // literal: float, a tensor: its dtype). TensorFlow's operators take no booleans,
  // so the promotion is written (ops.logical_or/and, ops.cast).
  Val lower_boolean_arithmetic(ast::BinOp* o, const Val& l, const Val& r, Fact out);
  int storage_of(const std::string& name);
  void record_binding(const std::string& target, const ast::ExprNode* value);
  const Unit* unit_called(const ast::Call* call);
  Val mutate(ast::ExprNode* target, Val value, const ast::Node* at);
  std::vector<ast::StmtNode*> sync_aliases(const std::string& name, const ast::Node* at);
  void lower_item_assign(ast::Subscript* target, ast::ExprNode* value, std::vector<ast::StmtNode*>& out,
                         const ast::Node* at);
  bool inplace_module(const ModuleDesc& d) const;
  bool change_visible(const std::string& name, const ast::Node* at);
  void note_in_place_change(const std::string& name);
  bool assigns_into_tensor(const ast::Subscript* target);
  // `container` (a list, tuple or dict variable) now holds `value`'s tensor: an
  // in-place change of that tensor reaches the container's item.
  void hold(const ast::ExprNode* container, const ast::ExprNode* value);
  void follow_leading_inplace(const ModuleDesc& seq, ast::Call* lowered, ast::ExprNode* arg, const ast::Call* call);
  // The expression mutate() last gave for a changed variable: assigned to another
  // name, that name is an alias (`y = self.relu(out)`, in place).
  const ast::ExprNode* inplace_result_ = nullptr;
  const ast::ExprNode* inplace_unused_ = nullptr;  // an in-place op's value no one reads
  void check_mutated_args(const ast::Call* call, const Unit& u);
  Val lower_expr(ast::ExprNode* e);
  // A lowered operand as type promotion sees it (Operand).
  Operand operand(const Val& v) const;
  // The dtype class of a catalog op's value `form` (Entry::returns_dtype): a
  // dtype the form names at its top (`ops.cast(x, "int64")`, `dtype="int64"`:
  // casts, dtype= arguments), else the entry's declaration, else the primary
  // tensor's (promoted with the other tensor arguments of an element-wise op),
  // else float (a factory: PyTorch's default dtype).
  DType result_dtype(const Entry& entry, const ast::ExprNode* form, const Val* primary, const std::vector<Val>& args,
                     const std::vector<std::pair<ast::Keyword*, Val>>& kws) const;
  // `p` (lowered from `source`), an operand of `other` in + - * /: a broadcast
  // parameter in its stored layout when `other` is channels-last of that rank,
  // else read in PyTorch's shape (pytorch_parameter_value).
  void place_parameter(const ast::ExprNode* source, Val& p, const Val& other);
  Val lower_node(ast::ExprNode* e);
  // The test of an `if`, `while` or conditional expression, and what it is:
  // Python values only (static: stays a Python `if`), computed from tensors
  // (keras.ops.cond / while_loop), or a parameter that may be either (Unknown:
  // written as for a tensor, which keras.ops.cond also runs right for a Python
  // bool, with a note).
  enum class TestKind { Static, Tensor, Unknown };
  struct Test {
    ast::ExprNode* expr;
    TestKind kind;
  };
  Test lower_test(ast::ExprNode* test);
  void note_maybe_tensor(const Test& t, const ast::Node* at, std::string_view written_as);
  void lower_tensor_if(ast::If* i, const Test& t, std::vector<ast::StmtNode*>& out);
  ast::ExprNode* branch_function(std::vector<ast::StmtNode*> stmts, const std::vector<std::string>& outputs,
                                 bool returns, const std::set<std::string>& defined_before, const std::string& name,
                                 std::vector<ast::StmtNode*>& out);
  std::string fresh_name(std::string_view base);
  TestKind test_kind(ast::ExprNode* test);
  std::vector<ast::StmtNode*> lower_loop_body(const ast::StmtNode* loop, const std::vector<ast::StmtNode*>& body,
                                              const ast::ExprNode* head);
  struct TracedLoop {
    std::vector<ast::StmtNode*> body;
    std::vector<std::string> carried;
    // Carried integer tensors -> the variable holding their dtype at entry: the
    // body returns them cast to it (a loop value must keep its dtype, and an
    // int64 PyTorch index becomes int32 where Keras computes one: argmax).
    std::map<std::string, std::string> entry_dtypes;
    // What the body function returns: the carried values, cast where needed.
    ast::ExprNode* returned(Builder& b) const {
      std::vector<ast::ExprNode*> values;
      for (const std::string& n : carried) {
        auto it = entry_dtypes.find(n);
        values.push_back(it == entry_dtypes.end() ? static_cast<ast::ExprNode*>(b.name(n)) : b.call("ops.cast", {b.name(n), b.name(it->second)}));
      }
      return values.size() == 1 ? values[0] : b.tuple(values);
    }
  };
  std::optional<TracedLoop> lower_traced_loop(const ast::StmtNode* loop, const std::vector<ast::StmtNode*>& src,
                                              const ast::Seq<ast::StmtNode*>& orelse, const ast::ExprNode* head,
                                              std::string_view op, const std::string& index,
                                              const std::function<void(const std::string&)>& fail,
                                              std::vector<ast::StmtNode*>& out);
  void bind_carried(const std::vector<std::string>& carried);
  ast::ExprNode* names_expr(const std::vector<std::string>& names, ast::ExprContext ctx);
  void lower_tensor_while(ast::While* w, std::vector<ast::StmtNode*>& out);
  void lower_tensor_for(ast::For* f, ast::Call* range, std::vector<ast::StmtNode*>& out);
  void float_counters(const std::vector<std::string>& carried, const std::set<std::string>& ints,
                      std::vector<ast::StmtNode*>& out);
  bool read_after(const std::string& name, const ast::Node* after) const;
  bool python_side_effect(const std::vector<ast::StmtNode*>& stmts, const ast::Node* at, std::string_view why);
  Val lower_call(ast::Call* call);
  Val call_unit(ast::Call* call, ast::ExprNode* func, const Unit& u);
  bool may_pass_tensors(const ast::Call* call) const;
  bool module_container(std::string_view name) const;
  std::vector<Val> lower_elements(ast::Tuple* tuple);
  // A copy of `call` with `func` and its arguments lowered. `place(i, v)` puts
  // positional argument i in the layout its callee needs; keyword arguments are
  // given in PyTorch layout.
  ast::Call* relower_call(ast::Call* call, ast::ExprNode* func,
                          const std::function<void(std::size_t, Val&)>& place);
  std::vector<ast::StmtNode*> lower_stmts(ast::Seq<ast::StmtNode*> body);
  // Forward code's `[f(m, x) for m in self.blocks]` (over modules or tensors:
  // names of `self` or of tensors) in statement `s`: the loop it stands for,
  // which the lowering follows as written by hand,
  //     m_outputs = []              (the name assigned, for `name = [...]`)
  //     for m in self.blocks:
  //         m_outputs.append(f(m, x))
  // then `s` with that name in the comprehension's place. A generator
  // expression counts where a call takes it (torch.cat(f(m) for m in ...)).
  // nullopt when `s` holds none, or its variables hold values read after it
  // (the loop would rebind them).
  std::optional<std::vector<ast::StmtNode*>> comprehension_loop(ast::StmtNode* s);
  // A copy of `node` with `target` (a node of its subtree) replaced by
  // `replacement`: the nodes on the way are copied, the rest shared.
  ast::Node* replaced(ast::Node* node, const ast::Node* target, ast::Node* replacement);
  // `body` with every name `names` maps replaced by its expression (a lambda's
  // body applied to arguments; inner lambdas and comprehensions binding the same
  // name aside: not handled, rare in practice).
  ast::Node* substituted(ast::Node* body, const std::map<std::string, ast::ExprNode*>& names);
  std::vector<ast::StmtNode*> lower_stmts(const std::vector<ast::StmtNode*>& body) {
    return lower_stmts(b_.seq(body));
  }
  void lower_stmt(ast::StmtNode* s, std::vector<ast::StmtNode*>& out);
  // `q, k, v = map(lambda t: <body>, <items>)` as statements that apply the body
  // to each item by name (`q, k, v = <items>`, then `q, k, v = <body of q>,
  // <body of k>, <body of v>`), so that each is lowered like any expression;
  // empty when `a` is not such an assignment.
  std::vector<ast::StmtNode*> expanded_map(const ast::Assign* a);
  std::optional<ModuleDesc> module_of(const ast::ExprNode* callee);
  // What `self.<attr>` or `self.<attr>[i]` holds in class `cls` (module_of's part
  // that needs no frame), nullopt for a method or another callee.
  std::optional<ModuleDesc> self_module(const ClassInfo* cls, const ast::ExprNode* callee);
  // module_of's work: with `in_frame`, names of the frame (loop variables,
  // getattr) too.
  std::optional<ModuleDesc> module_at(const ClassInfo* cls, const ast::ExprNode* callee, bool in_frame);
  // The dtype class parameter `name` of `def` (a method of `cls`) has, as its
  // uses tell (Fact::dtype): where it is the first argument of a module call
  // before it is assigned again, the dtype that module requires of its input
  // (input_dtype); the first such use decides. Unknown when none is seen.
  // PyTorch refuses other dtypes there, so a model PyTorch runs agrees.
  DType param_dtype(const ClassInfo* cls, const ast::FunctionDef* def, std::string_view name, int depth = 0);
  // Whether source expression `e` has the dtype of the variables `names` whatever
  // it is (for a module requiring floats): one of them, an item, a view or
  // element-wise op of it that keeps the dtype (a catalog entry declaring no
  // other, given no dtype=: F.relu(x), x.permute(...)), one of them with an int.
  bool keeps_dtype_of(const ast::ExprNode* e, const std::set<std::string>& names) const;
  // The dtype class module `d` requires of its first input: its catalog entry's
  // (Entry::input_dtype), a Sequential's first item's, a model class's forward's
  // first parameter's; Unknown otherwise.
  DType input_dtype(const ModuleDesc& d, int depth);
  std::optional<ModuleDesc> module_member(const ModuleDesc& owner, std::string_view attr);
  ModuleDesc module_item(const ModuleDesc& container, const ast::ExprNode* index);
  bool check_dict_key(const ModuleDesc& owner, const ast::ExprNode* dict, std::string_view key, const ast::Node* at);
  ModuleDesc any_item(const ModuleDesc& container);
  std::optional<ModuleDesc> loop_modules(const ast::ExprNode* iter, bool& pairs);
  bool bind_loop_modules(const ast::ExprNode* iter, const ast::ExprNode* target);
  bool keras_sequential(const ast::ExprNode* e);
  ast::ExprNode* containers_as_lists(ast::ExprNode* e);
  ast::ExprNode* module_paths_for_keras(ast::ExprNode* e);
  ast::Attribute* keras_attribute(const ast::Attribute* a);
  ast::ExprNode* with_args(ast::ExprNode* e, const std::function<ast::ExprNode*(ast::ExprNode*)>& rewrite);
  ast::ExprNode* strip_annotation(ast::ExprNode* a);
  ast::Arguments* strip_arguments(const ast::Arguments* a, bool add_training);

  void check_leftover_torch(ast::Node* n, bool& found);
  void rename_reserved_names();
  // After lowering: the input's function-local `layers` / `ops` (renamed
  // `layers_` / `ops_` while lowering) get their names back, so that a
  // constructor keeps PyTorch's keyword (`Net(layers=2)`); in the functions that
  // bind them, the generated code reads keras.layers / keras.ops instead.
  void restore_local_names();
  std::set<std::string> locally_renamed_;
  // Keras' Layer.__call__ fills a `call` parameter named `mask` itself (from the
  // input's Keras mask) when it is None and the call has one tensor argument, so
  // `block(x, None)` fails with "multiple values for argument 'mask'": a forward
  // parameter `mask` is `mask_` in the converted `call`, and module calls pass
  // `mask=` as `mask_=` (the runtime TransformerEncoder's is `mask_` too). A
  // forward parameter `training` (a Python flag the caller passes) would repeat
  // Keras' own `training` parameter: it is `training_`.
  void rename_call_parameters();
  // Per class, the forward parameters renamed so (mask, training).
  std::map<const ClassInfo*, std::set<std::string>> call_params_renamed_;
  bool references_torch(ast::Node* n);
  // The first torch name (or left-out name) `n` reads, as written; "" if none.
  std::string first_torch_reference(ast::Node* n);

  const ast::Module* module_;
  const analysis::ImportScope& scope_;
  const std::vector<ClassInfo>& classes_;
  Builder& b_;
  LowerOptions opt_;
  const catalog::Catalog& catalog_;
  ModuleValues values_;
  LowerOutput out_;

  std::map<std::pair<const ClassInfo*, const ast::FunctionDef*>, Unit> units_;
  // Static Sequential items that need a layout change before them: ctor call -> (to_cl?, rank).
  // Layers of a Sequential that get a Permute written in front of them (their
  // input in another layout) and, in Sequentials built in loops, after them (their
  // output back in the Sequential's layout): ctor call -> the conversions.
  struct Wrap {
    std::optional<std::pair<bool, int>> before, after;  // (to channels-last?, rank)
  };
  std::map<const ast::Call*, Wrap> wraps_;
  // Linear layers (by constructor call) and the spatial size S of the
  // channels-last flatten they read (Fact::Flat); 0: they read PyTorch order.
  std::map<const ast::Call*, int> flat_inputs_;
  // Permute layers (by constructor call): the layout every call gives them (the
  // first call's) and, when that is channels-last or a relabelled channels-last
  // tensor, the permutation of the stored data they run (empty: none, written as
  // layers.Identity()).
  struct PermuteLayer {
    Fact input;
    std::optional<std::vector<int64_t>> stored;
  };
  std::map<const ast::Call*, PermuteLayer> permute_layers_;
  // Layers of any rank (catalog rank="input", by constructor call): true when the
  // first call gave a tensor of unknown rank, so the layer runs in PyTorch's axis
  // order (made with data_format channels_first) in either layout.
  std::map<const ast::Call*, bool> torch_order_layers_;
  int conditional_depth_ = 0;  // inside a branch of a conditional expression
  // Fact::Flat hand-over: lower_expr's caller takes a flattened value as it is
  // (accept_flat_), passed to the call being lowered (accepting_) or to the first
  // argument of a module call (accept_first_arg_).
  bool accept_flat_ = false, accepting_ = false, accept_first_arg_ = false;
  // The expression lowered next may be a Fact::Perm (a view or transpose reading
  // it, or a variable of the outer block holding it).
  bool accept_perm_ = false;
  // The expression lowered next may hold a PackedSequence (Fact::holds_packed): it
  // is assigned, unpacked or indexed, or it is what a catalog entry's `packed=`
  // parameter takes (accept_packed_first_arg_: a module call's first argument).
  bool accept_packed_ = false, accept_packed_first_arg_ = false;
  // The value a call returned with the size symbols it set (Fact::dims), which
  // lower_expr keeps; every other expression's it forgets.
  const ast::ExprNode* sized_result_ = nullptr;
  int next_sym_ = 0;  // the last size symbol given out (Fact::dims)
  // --explain-layout: the input expressions being lowered (the innermost one is
  // what a layout change is written for), probes that write nothing, and why the
  // construct being lowered needs the layout it asks for.
  std::vector<const ast::ExprNode*> expr_stack_;
  int probing_ = 0;
  std::string layout_why_;
  struct Why {
    Lowerer* lowerer;
    std::string saved;
    Why(Lowerer* l, std::string why) : lowerer(l), saved(std::exchange(l->layout_why_, std::move(why))) {}
    ~Why() { lowerer->layout_why_ = std::move(saved); }
  };
  // A T2K109 note: `value` changes layout (`change`: "is transposed to ...").
  void note_layout(const ast::ExprNode* value, std::string_view change, const ast::Node* at = nullptr);
  static std::string layout_need(const Entry& entry);
  int dynamic_seqs_ = 0;  // nesting of Sequentials built in loops being folded
  int int_context_ = 0;  // nesting of int()/round()/math.floor/math.ceil arguments being lowered
  const ClassInfo* current_class_ = nullptr;  // pass 3: the class being rewritten
  const ast::FunctionDef* current_function_ = nullptr;  // pass 3: the function being rewritten
  // Constructor code: local names holding tensors made there (torch.arange(n),
  // their methods and items), each with the name it is a view of ("" if none).
  std::map<std::string, std::string> ctor_tensors_;
  // Constructor code's dtype classes (Fact::dtype): of the names holding made
  // tensors, and of rewritten expressions computing one (catalog calls, arithmetic).
  std::map<std::string, DType> ctor_dtypes_;
  // Input expressions kept as they are after an error about the whole of them
  // (a comprehension): their parts are not reported again.
  std::set<const ast::Node*> refused_;
  std::map<const ast::ExprNode*, DType> ctor_expr_dtypes_;
  // A rewritten constructor expression as a Val: a tensor (of its dtype class)
  // when `source` makes one (made_tensor).
  Val ctor_val(ast::ExprNode* rewritten, const ast::ExprNode* source) const {
    if (!made_tensor(source)) {
      // A size of a made tensor (`x.size(0) * k`): an int32 tensor in a compiled
      // step, which TensorFlow's `/` refuses to mix with a float tensor.
      Fact size;
      size.run_time_size = size_of_made_tensor(source);
      return {rewritten, size};
    }
    Fact f = Fact::torch();
    f.dtype = DType::Unknown;
    if (auto* n = ast::as<ast::Name>(rewritten); n && ctor_dtypes_.count(std::string(n->id)))
      f.dtype = ctor_dtypes_.at(std::string(n->id));
    for (const ast::ExprNode* x = rewritten; x != nullptr;) {
      if (auto it = ctor_expr_dtypes_.find(x); it != ctor_expr_dtypes_.end()) {
        f.dtype = it->second;
        break;
      }
      auto* sub = ast::as<ast::Subscript>(x);  // items keep the dtype
      x = sub ? sub->value : nullptr;
      if (auto* n = ast::as<ast::Name>(x); n && ctor_dtypes_.count(std::string(n->id)))
        f.dtype = ctor_dtypes_.at(std::string(n->id));
    }
    return {rewritten, f};
  }
  // Converted layers whose parameters forward code reads (`self.qkv.weight`,
  // `self.transformer.proj.weight`), by path from self ("qkv", "transformer.proj"):
  // their constructors build them (catalog @build).
  std::set<std::string> read_parameters_;
  // Methods only `self.apply(...)` runs (weight initialisation): left out.
  std::set<std::string> init_only_methods_;
  std::map<const Entry*, std::string> factories_;
  std::vector<ast::StmtNode*> factory_defs_;
  std::set<std::string> internal_classes_;  // passed as values: used inside other models
  // Names bound by imports that are not carried over (torch, package-relative): code
  // using them cannot run in the generated module.
  std::set<std::string> dropped_names_;
  // Why a dropped name is gone, for errors where it is used (default: a
  // package-relative import).
  std::map<std::string, std::string> drop_reasons_;

  // ---- pass 3: script code (the data and training code around the models:
  // module-level statements, functions no model calls, Dataset classes). It
  // runs eagerly like constructor code, in PyTorch's shapes (the converted models
  // take them: --io-layout torch), with what PyTorch's training API does written
  // for Keras: model.train()/eval() as the training= of the model's calls,
  // backward() as a GradientTape (training.h), .parameters() as the model.
  //
  // What a script name holds, as far as its assignments and loops tell
  // (flow-insensitive; a name given two different kinds is Other): a converted
  // model (a model class of the file, or an nn.Sequential: called with
  // training=), another converted module (a layer, a loss), a DataLoader (its
  // loop targets are tensors), an optimizer, a tensor.
  // A Loss is a module whose value is a float tensor (nn.CrossEntropyLoss()):
  // no parameters, no mode.
  enum class ScriptKind : uint8_t { Other, Model, Module, Loss, Loader, Optimizer, Scheduler, Tensor };
  // A module of either kind: called on tensors, moved by .to(), .parameters().
  static bool module_like(ScriptKind k) { return k == ScriptKind::Module || k == ScriptKind::Loss; }
  // A model's mode where a statement runs: set by model.train() / model.eval(),
  // training from its constructor (PyTorch's default), unknown for a parameter.
  enum class Mode : uint8_t { Unknown, Train, Eval };
  bool script_mode_ = false;
  std::map<std::string, ScriptKind> script_kinds_;
  std::map<std::string, ScriptKind> script_globals_;  // of the module-level script code
  std::map<std::string, Mode> script_global_modes_;   // module-level models whose mode never changes
  std::map<std::string, Mode> script_modes_;  // by the model's expression, `model` / `self.net`
  // The kinds of script functions' parameters, from their calls in the file.
  std::map<const ast::FunctionDef*, std::map<std::string, ScriptKind>> script_params_;
  bool parameters_context_ = false;  // rewriting an optimizer's or clip's arguments
  bool uses_tape_ = false;  // a GradientTape was written: the module imports tensorflow
  // The catalog entry of the named-tuple form (`x.max(1)`: values, indices) that
  // script code's `original` call is, when `rewritten` is its tuple; else null.
  const Entry* named_tuple_entry(const ast::ExprNode* original, const ast::ExprNode* rewritten) const;
  // The item `which` (an index or a field name) of `rewritten`, the tuple a
  // named-tuple form (`x.max(1)`: values, indices) of script code became from
  // `original`; null when it is no such tuple or item.
  ast::ExprNode* named_tuple_item(const ast::ExprNode* original, ast::ExprNode* rewritten,
                                  const analysis::ConstValue& which);
  // For `v, i = model(x).max(1)` in script code (`assign`, its value rewritten
  // to the named-tuple form's tuple of items, each computing model(x)): the
  // statement `max_input = model(x)` to put before it, the items then reading
  // that name (the model called once, as PyTorch does); null when the items
  // share no computation.
  ast::StmtNode* named_tuple_input(const ast::ExprNode* original, ast::Assign* assign);
  // `@pytorch_no_grad` for the decorator `d` when it is @torch.no_grad() or
  // @torch.inference_mode() (the function's results carry no gradient), else null.
  ast::ExprNode* no_grad_decorator(const ast::ExprNode* d);
  // The name tensorflow is imported as: `tf`, or `tf_`... where the code uses `tf`.
  std::string tensorflow_alias() {
    if (tensorflow_alias_.empty()) {
      std::set<std::string> names;
      for (const ast::StmtNode* st : module_->body) ast::collect_names(st, names);
      tensorflow_alias_ = "tf";
      while (names.count(tensorflow_alias_)) tensorflow_alias_.push_back('_');
    }
    return tensorflow_alias_;
  }
  std::string tensorflow_alias_;
  bool trains_ = false;     // the file calls backward() or train(): its models run in training mode (TRAINING_CODE)
  std::set<std::string> warned_modes_;  // models an unknown-mode warning was given for
  std::set<const ast::Keyword*> assumed_modes_;  // training= keywords of models of unknown mode
  ScriptKind script_kind(const ast::ExprNode* e) const;
  // The kinds `f` returns (one per item of a returned tuple; every return
  // agreeing, a conflict is Other), its names' kinds being `kinds`.
  std::optional<std::vector<ScriptKind>> return_kinds(const ast::FunctionDef* f,
                                                      const std::map<std::string, ScriptKind>& kinds) const;
  // Whether `e` is the batch size of `x`: x.size(0), x.shape[0], x.size()[0].
  static bool batch_size_of(const ast::ExprNode* e, const ast::ExprNode* x);
  // Whether `e` is a size of a made tensor, or arithmetic of such sizes and
  // numbers (`x.size(0) * k`, `x.shape[-1]`, `x.numel()`).
  bool size_of_made_tensor(const ast::ExprNode* e) const;
  std::map<std::string, ScriptKind> scan_script_kinds(ast::Seq<ast::StmtNode*> body,
                                                      std::map<std::string, ScriptKind> kinds) const;
  // The kinds of the parameters of a function no code of the file calls (a
  // library of helpers; a script whose entry point is elsewhere), from what
  // its body calls on them: module methods (parameters(), train()) a model,
  // zero_grad() and step() an optimizer, a tensor method of the catalog
  // (argmax(), size()) a tensor, one called for a value whose backward() or
  // item() is called a loss module, the iterable of a loop that calls a model
  // or backward() a DataLoader. A parameter used otherwise has none.
  void infer_uncalled_parameters(const std::vector<const ast::FunctionDef*>& functions,
                                 const std::vector<ast::StmtNode*>& module_code);
  void infer_script_parameters(const std::vector<const ast::FunctionDef*>& functions,
                               const std::vector<ast::StmtNode*>& module_code);
  // The mode `e` (a model expression) has: a constructor's Train, a name's
  // current mode, through .to()/.train()/.eval() chains.
  Mode value_mode(const ast::ExprNode* e) const;
  // The mode of `key` after `body` runs from `entry` (statement-level train()/eval()
  // calls; one inside a compound statement makes it Unknown).
  Mode mode_after(ast::Seq<ast::StmtNode*> body, const std::string& key, Mode entry) const;
  // The training= keyword for a call of the model `func`, or null.
  ast::Keyword* training_keyword(const ast::ExprNode* func, const ast::Node* at);
  // A script statement PyTorch's training API makes (model.train(), torch.save,
  // `with torch.no_grad():`, an in-place tensor method): appended to `out` as
  // Keras code; false when `s` is none of those.
  bool rewrite_script_statement(ast::StmtNode* s, std::vector<ast::StmtNode*>& out);
  // A script call of PyTorch's module API (`model.parameters()`, `model.to(d)`,
  // `model(x)`) as Keras code, or null when `call` is none of those.
  ast::ExprNode* rewrite_script_call(const ast::Call* call, bool parameters_argument);
  // `path` of torch.save / torch.load as a Keras weights file (".weights.h5").
  ast::ExprNode* weights_path(ast::ExprNode* path);
  ast::FunctionDef* rewrite_script_function(const ast::FunctionDef* f, const std::map<std::string, ScriptKind>& params);
  // `body` (rewritten script code) with its training loops in Keras form:
  // standard loops as compile() + fit() (fit_standard_loops), the other
  // backward() calls on GradientTapes (insert_gradient_tapes; the module then
  // imports tensorflow). `read_elsewhere`: the names code outside `body` may read.
  std::vector<ast::StmtNode*> lower_training(const std::vector<ast::StmtNode*>& body,
                                             const std::set<std::string>& read_elsewhere);
  // For a module-level script statement: the names other module-level
  // statements read, and those functions read without assigning them (globals).
  std::set<std::string> module_reads_;
  // (parameter of `g`, argument) for each argument `call` passes to it by
  // position (up to a `*args`) or by keyword.
  // `skip` leading parameters take no argument (a constructor's `self`).
  static std::vector<std::pair<std::string, const ast::ExprNode*>> bound_arguments(const ast::FunctionDef* g,
                                                                                 const ast::Call* call,
                                                                                 std::size_t skip = 0);
  // Plain classes of script code (a Trainer holding the model, the optimizer and
  // the loader): their constructors by class name. Their methods are script code,
  // `self.<attr>` of the kinds the constructor gives them.
  std::map<std::string, const ast::FunctionDef*> script_classes_;
  bool plain_self_ = false;  // rewriting a plain class: `self` is no Keras layer
  // `functions` ordered so that each comes after the script functions that call
  // it (file order within a cycle).
  std::vector<const ast::FunctionDef*> callers_first(const std::set<const ast::FunctionDef*>& functions) const;
  // The modes calls pass a script function's model parameters in (Unknown where
  // calls disagree), recorded as the callers are rewritten.
  std::map<const ast::FunctionDef*, std::map<std::string, Mode>> script_parameter_modes_;
  std::map<std::string, const ast::FunctionDef*> script_functions_;  // by name
  // What script functions return, by name: one kind, or one per item of a tuple
  // (`return train_loader, val_loader`).
  std::map<std::string, std::vector<ScriptKind>> script_returns_;
  // A call of a script function: the modes of the models it passes, and their
  // modes after it (script_mode_effects_).
  void record_parameter_modes(const ast::Call* call);
  // The mode a script function leaves a model parameter in when it sets it
  // (`model.train()` inside train_epoch): known, or Unknown.
  std::map<const ast::FunctionDef*, std::map<std::string, Mode>> script_mode_effects_;
  void find_mode_effects(const std::vector<const ast::FunctionDef*>& functions);
};

// ===========================================================================
// Pass 2.

Fact Lowerer::resolved(Fact f) const {
  if (f.kind != Fact::Pending || frame_ == nullptr) return f;
  const Fact& p = frame_->unit->params[static_cast<std::size_t>(f.param)];
  if (p.kind == Fact::Pending) return f;
  Fact r = p;
  r.dims = f.dims;  // named for this variable's value
  r.dtype = f.dtype;
  return r;
}

Fact Lowerer::demand_cl_layout(Fact f, int rank, ast::ExprNode*& expr) {
  f = resolved(f);
  if (f.kind == Fact::Flat) f = demand_torch(f, expr);
  if (f.kind == Fact::Perm && opt_.channels_last && rank >= 3 && f.rank == rank) {
    expr = rebind(expr, restored(b_, expr, f, Fact::cl(rank)), Fact::cl(rank));
    return Fact::cl(rank);
  }
  if (f.kind == Fact::Perm) f = demand_torch(f, expr);
  if (!opt_.channels_last || rank < 3) return f.kind == Fact::Pending ? demand_torch(f, expr) : f;
  if (f.kind == Fact::Pending) {
    Fact p = Fact::cl(rank).with_spatial(f.param == 0 ? Fact::kInputSpatial : 0);
    frame_->unit->params[static_cast<std::size_t>(f.param)] = p;
    return p;
  }
  if (f.kind == Fact::CL) return f;
  if (f.kind == Fact::Torch && f.unit_channel && (f.rank == rank || f.rank == 0)) {
    Fact to = Fact::cl(rank).with_spatial(f.spatial);
    to.unit_channel = true;
    expr = rebind(expr, unit_channel_map(expr, true), to);
    return to;
  }
  if (f.kind == Fact::Torch && f.spatial == 1 && f.rank == rank) {
    // (N, C, 1, 1) and (N, 1, 1, C) hold their values in one order: a reshape.
    expr = rebind(expr, unit_map(expr, rank, true), Fact::cl(rank).with_spatial(1));
    return Fact::cl(rank).with_spatial(1);
  }
  if (f.kind == Fact::Torch) {
    // `self.conv(x.transpose(1, 2))` of an (N, L, C) x: the swap's channels-last
    // form is x itself (a rank 3 transpose to channels-last is that swap).
    if (auto* swap = ast::as<ast::Call>(expr); swap && rank == 3 && swap->args.size() == 3 &&
                                              swap->keywords.empty() && syntax::unparse(swap->func) == "ops.swapaxes") {
      ConstValue a = analysis::literal_value(swap->args[1]), b = analysis::literal_value(swap->args[2]);
      if (a.kind == ConstValue::Kind::Int && b.kind == ConstValue::Kind::Int &&
          std::set<int64_t>{(a.integer + 3) % 3, (b.integer + 3) % 3} == std::set<int64_t>{1, 2}) {
        note_layout(expr, "is the tensor it swaps, as channels-last stores it");
        expr = swap->args[0];
        return Fact::cl(rank);
      }
    }
    expr = convert_value(expr, perm_to_cl(b_, rank), Fact::cl(rank));
    return Fact::cl(rank);
  }
  return f;
}

// `expr` transposed by `perm`. A variable is converted in place by a statement
// before the current one, so later uses see the new layout and the code reads as
// `x = ops.transpose(x, (0, 3, 1, 2))`.
ast::ExprNode* Lowerer::convert_value(ast::ExprNode* expr, std::vector<ast::ExprNode*> perm, Fact to) {
  return rebind(expr, b_.call("ops.transpose", {expr, b_.tuple(std::move(perm))}), to);
}

// `converted` (computed from `expr`) in place of `expr`: a variable is rebound by a
// statement before the current one when it can be, as convert_value does.
ast::ExprNode* Lowerer::rebind(ast::ExprNode* expr, ast::ExprNode* converted, Fact to) {
  note_layout(expr, to.unit_channel ? (to.kind == Fact::CL ? "is reshaped to channels-last (its channel axis is 1)"
                                                            : "is reshaped to PyTorch's axis order (its channel axis is 1)")
                    : to.kind == Fact::CL && to.spatial == 1 ? "is reshaped to channels-last (its spatial axes are 1)"
                    : to.kind == Fact::CL     ? "is transposed to channels-last"
                    : to.kind == Fact::Flat ? "has its features reordered to a channels-last flatten's (H, W, C) order"
                    : to.spatial == 1 ? "is reshaped to PyTorch's axis order (its spatial axes are 1)"
                    : ast::is<ast::Call>(converted) && syntax::unparse(static_cast<ast::Call*>(converted)->func) == "ops.reshape"
                        ? "has its features reordered from a channels-last flatten's (H, W, C) order to PyTorch's (C, H, W)"
                        : "is transposed to PyTorch's axis order");
  auto* name = ast::as<ast::Name>(expr);
  if (name == nullptr || frame_ == nullptr || frame_->hoist == nullptr) return converted;
  if (auto r = frame_->reads.find(std::string(name->id)); r != frame_->reads.end() && r->second > 1) return converted;
  // A variable already in the layout asked for: what is converted is another view
  // of its data (`y.transpose(1, 2)` of a PyTorch-order y is y's data read
  // channels-last), not the variable, which keeps its value.
  if (auto it = frame_->env.find(std::string(name->id)); it != frame_->env.end()) {
    Fact held = resolved(it->second);
    if (held.tensor() && held.kind != Fact::Pending && held.same_axes(to)) return converted;
  }
  if (Frame::CondScope* c = frame_->cond; c != nullptr && c->outer.count(std::string(name->id))) {
    std::string id(name->id);
    auto read = c->reads.find(id);
    auto here = frame_->reads.find(id);
    bool read_before = (read != c->reads.end() ? read->second : 0) > (here != frame_->reads.end() ? here->second : 0);
    if (!c->first_branch || c->pre == nullptr || c->mutated.count(id) || read_before ||
        (frame_->stmt != nullptr && rebinds_before(*c->src, id, frame_->stmt->loc)))
      return converted;
    c->pre->push_back(b_.assign(b_.name(name->id, ast::ExprContext::Store), converted));
    frame_->env[std::string(name->id)] = to;
    (*c->entry_env)[std::string(name->id)] = to;
    return expr;
  }
  frame_->hoist->push_back(b_.assign(b_.name(name->id, ast::ExprContext::Store), converted));
  frame_->env[std::string(name->id)] = to;
  return expr;
}

// `expr` (fact `f`) in the layout a parameter takes: channels-last for a CL
// parameter, PyTorch order otherwise.
Fact Lowerer::demand_as(const Fact& want, Fact f, ast::ExprNode*& expr) {
  return want.kind == Fact::CL ? demand_cl(f, want.rank, expr) : demand_torch(f, expr);
}

Fact Lowerer::demand_torch_layout(Fact f, ast::ExprNode*& expr) {
  f = resolved(f);
  if (f.kind == Fact::Pending) {
    frame_->unit->params[static_cast<std::size_t>(f.param)] = Fact::torch();
    return Fact::torch();
  }
  if (f.kind == Fact::CL && f.unit_channel) {
    Fact to = Fact::torch(f.rank).with_spatial(f.spatial);
    to.unit_channel = true;
    expr = rebind(expr, unit_channel_map(expr, false), to);
    return to;
  }
  if (f.kind == Fact::CL && f.spatial == 1) {
    expr = rebind(expr, unit_map(expr, f.rank, false), Fact::torch(f.rank).with_spatial(1));
    return Fact::torch(f.rank).with_spatial(1);
  }
  if (f.kind == Fact::CL) {
    expr = convert_value(expr, perm_to_torch(b_, f.rank), Fact::torch(f.rank));
    return Fact::torch(f.rank);
  }
  if (f.kind == Fact::Flat) {
    expr = rebind(expr, reorder_flat(expr, f.spatial, true), Fact::torch(2));
    return Fact::torch(2);
  }
  if (f.kind == Fact::Perm) {
    expr = rebind(expr, restored(b_, expr, f, Fact::torch(f.rank)), Fact::torch(f.rank));
    return Fact::torch(f.rank);
  }
  if (f.kind == Fact::List && f.elem_cl) {
    // A list of channels-last tensors: each one converted (each item of a tuple
    // form's display: values and indices).
    note_layout(expr, "has each of its tensors transposed to PyTorch's axis order");
    Fact to = Fact::list(Fact::torch(f.rank));
    to.fields = f.fields;
    if (auto* items = ast::as<ast::Tuple>(expr)) {
      std::vector<ast::ExprNode*> converted;
      for (ast::ExprNode* x : items->elts)
        converted.push_back(b_.call("ops.transpose", {x, b_.tuple(perm_to_torch(b_, f.rank))}));
      expr = b_.tuple(converted);
      return to;
    }
    ast::ExprNode* t = b_.call("ops.transpose", {b_.name("t"), b_.tuple(perm_to_torch(b_, f.rank))});
    expr = b_.list_comp(t, "t", expr);
    return to;
  }
  return f;
}

int Lowerer::result_spatial(const Entry& entry, const Fact& in, const ast::Call* call) {
  if (entry.spatial_size == "input") return in.spatial;
  if (entry.spatial_size.empty() || call == nullptr) return 0;
  ConstValue v = bound_literal(entry, *call, entry.spatial_size);
  int axes = std::max(entry.rank - 2, 0);
  if (v.kind == ConstValue::Kind::Int && v.integer > 0) {
    int64_t size = 1;
    for (int i = 0; i < axes; ++i) size *= v.integer;
    return size <= (1 << 30) ? static_cast<int>(size) : 0;
  }
  if (v.kind != ConstValue::Kind::Tuple || static_cast<int>(v.items.size()) != axes) return 0;
  int64_t size = 1;
  for (const ConstValue& item : v.items) {
    if (item.kind != ConstValue::Kind::Int || item.integer <= 0) return 0;  // None: the input's
    size *= item.integer;
  }
  return size <= (1 << 30) ? static_cast<int>(size) : 0;
}

std::optional<Fact> Lowerer::index_channels_last(ast::Subscript* s, int rank, bool dry) {
  std::vector<ast::ExprNode*> items;
  if (auto* t = ast::as<ast::Tuple>(s->slice)) items.assign(t->elts.begin(), t->elts.end());
  else items.push_back(s->slice);
  if (items.empty() || static_cast<int>(items.size()) > rank) return std::nullopt;
  auto* first = ast::as<ast::Constant>(items[0]);
  bool ellipsis = first != nullptr && first->value.kind == ast::ConstantValue::Kind::Ellipsis;
  for (std::size_t i = ellipsis ? 1 : 0; i < items.size(); ++i) {
    // A slice keeps its axis, whatever its bounds (x[:, :x.size(1) // 2]); an int
    // (literal or int variable) removes it; anything else may be a tensor, None...
    if (ast::is<ast::Slice>(items[i]) || analysis::literal_value(items[i]).kind == ConstValue::Kind::Int) continue;
    auto* n = ast::as<ast::Name>(items[i]);
    if (n == nullptr || !frame_->int_vars.count(std::string(n->id))) return std::nullopt;
  }
  if (ellipsis) {
    // x[..., ::2, 1:]: spatial axes only (the last ones in PyTorch order), which
    // come just before the channel axis in channels-last: x[..., ::2, 1:, :].
    if (items.size() - 1 > static_cast<std::size_t>(rank - 2)) return std::nullopt;
    if (dry) return Fact{};
    int ints = 0;
    for (std::size_t i = 1; i < items.size(); ++i) {
      if (!ast::is<ast::Slice>(items[i])) ++ints;
      items[i] = lower_expr(items[i]).expr;
    }
    items.push_back(b_.full_slice());
    s->slice = b_.tuple(items);
    return rank - ints >= 3 ? Fact::cl(rank - ints) : Fact::torch(rank - ints);
  }
  if (!ast::is<ast::Slice>(items[0])) return std::nullopt;  // the batch axis is kept
  if (dry) return Fact{};
  while (static_cast<int>(items.size()) < rank) items.push_back(b_.full_slice());
  auto full = [](const ast::ExprNode* e) {
    auto* sl = ast::as<ast::Slice>(e);
    return sl != nullptr && sl->lower == nullptr && sl->upper == nullptr && sl->step == nullptr;
  };
  std::vector<ast::ExprNode*> moved{items[0]};
  for (int i = 2; i < rank; ++i) moved.push_back(items[static_cast<std::size_t>(i)]);
  moved.push_back(items[1]);
  bool plain = full(moved[0]);
  for (int i = 1; i + 1 < rank; ++i) plain = plain && full(moved[static_cast<std::size_t>(i)]);
  int kept = 0;
  for (ast::ExprNode* e : moved) kept += ast::is<ast::Slice>(e) ? 1 : 0;
  for (ast::ExprNode*& e : moved) e = lower_expr(e).expr;  // ints and slice bounds: no tensors to convert
  std::vector<ast::ExprNode*> written = moved;  // x[:, 1, :, :] is x[:, 1]
  while (written.size() > 1 && full(written.back())) written.pop_back();
  if (plain) s->slice = b_.tuple({b_.ellipsis(), moved.back()});
  else s->slice = written.size() == 1 ? written[0] : b_.tuple(written);
  // The channel axis indexed away: the rest is in PyTorch order already.
  if (!ast::is<ast::Slice>(items[1]) || kept < 3) return Fact::torch(kept);
  return Fact::cl(kept);
}

std::vector<int64_t> Lowerer::literal_permutation(const Entry& entry, const ast::Call* call, int rank) {
  std::vector<int64_t> p;
  if (entry.dim_params.size() == 2) {
    if (rank <= 0 || call == nullptr) return p;
    ConstValue a = bound_literal(entry, *call, entry.dim_params[0]), b = bound_literal(entry, *call, entry.dim_params[1]);
    if (a.kind != ConstValue::Kind::Int || b.kind != ConstValue::Kind::Int) return p;
    int64_t i = a.integer < 0 ? a.integer + rank : a.integer, j = b.integer < 0 ? b.integer + rank : b.integer;
    if (i < 0 || i >= rank || j < 0 || j >= rank) return p;
    for (int64_t k = 0; k < rank; ++k) p.push_back(k);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
    return p;
  }
  for (const ast::ExprNode* e : sequence_arg(entry, call)) {
    ConstValue v = analysis::literal_value(e);
    if (v.kind != ConstValue::Kind::Int) return {};
    p.push_back(v.integer);
  }
  int64_t r = static_cast<int64_t>(p.size());
  std::vector<bool> seen(p.size(), false);
  for (int64_t& a : p) {
    if (a < 0) a += r;
    if (a < 0 || a >= r || seen[static_cast<std::size_t>(a)]) return {};
    seen[static_cast<std::size_t>(a)] = true;
  }
  return p;
}

std::optional<Lowerer::StoredPermute> Lowerer::stored_permute(const std::vector<int64_t>& p, Fact f,
                                                              ast::ExprNode*& expr) {
  int r = static_cast<int>(p.size());
  if (!opt_.channels_last || r < 3) return std::nullopt;
  const std::vector<int64_t> to_cl = axes_to_cl(r), to_torch = axes_to_torch(r);
  f = resolved(f);
  if (f.kind == Fact::Pending && p == to_cl) f = demand_cl(f, r, expr);
  std::optional<StoredPermute> s;
  if (f.kind == Fact::CL && f.rank == r) {
    s = StoredPermute{{}, Fact::torch(r)};
    if (p == to_cl) s->out.relabel_spatial = f.spatial;
    else  // PyTorch axis a of the input is stored at to_torch[a].
      for (int64_t axis : p) s->axes.push_back(to_torch[static_cast<std::size_t>(axis)]);
  } else if (f.kind == Fact::Torch && (f.rank == r || f.rank == 0) && p == to_torch) {
    s = StoredPermute{{}, Fact::cl(r).with_spatial(f.relabel_spatial)};
  } else if (f.kind == Fact::Perm && f.rank == r) {
    // Relabelled: stored axis i holds the input's axis order[i], the result's axis
    // p^-1(order[i]); maybe PyTorch order or channels-last again.
    std::vector<int> to(static_cast<std::size_t>(r));
    for (int k = 0; k < r; ++k) to[static_cast<std::size_t>(p[static_cast<std::size_t>(k)])] = k;
    std::vector<int> order;
    for (int a : f.order) order.push_back(to[static_cast<std::size_t>(a)]);
    s = StoredPermute{{}, fact_of_order(std::move(order))};
  }
  if (s && static_cast<int>(f.dims.size()) == r)  // the result's axis k is the input's axis p[k]
    for (int64_t a : p) s->out.dims.push_back(f.dims[static_cast<std::size_t>(a)]);
  return s;
}

std::pair<ast::Tuple*, const ast::Name*> Lowerer::channels_last_shape_unpack(const ast::Assign* a) {
  if (!opt_.channels_last || a->targets.size() != 1) return {};
  auto* tt = ast::as<ast::Tuple>(a->targets[0]);
  if (tt == nullptr) return {};
  const ast::ExprNode* x = nullptr;
  if (auto* c = ast::as<ast::Call>(a->value); c && c->args.empty() && c->keywords.empty())
    if (auto* at = ast::as<ast::Attribute>(c->func); at && at->attr == "size") x = at->value;
  if (auto* at = ast::as<ast::Attribute>(a->value); at && at->attr == "shape") x = at->value;
  auto* n = ast::as<ast::Name>(x);
  if (n == nullptr) return {};
  auto it = frame_->env.find(std::string(n->id));
  if (it == frame_->env.end()) return {};
  int rank = static_cast<int>(tt->elts.size());
  for (ast::ExprNode* e : tt->elts)
    if (!ast::is<ast::Name>(e)) return {};
  Fact f = resolved(it->second);
  if (std::optional<Fact> h = hint(f); h && h->kind == Fact::CL && h->rank == rank) {
    ast::ExprNode* ref = b_.name(n->id);
    f = demand_cl(f, rank, ref);
  }
  if (f.kind != Fact::CL || f.rank != rank || rank < 3) return {};
  ++frame_->reads[std::string(n->id)];
  std::vector<ast::ExprNode*> order{tt->elts[0]};
  for (int i = 2; i < rank; ++i) order.push_back(tt->elts[static_cast<std::size_t>(i)]);
  order.push_back(tt->elts[1]);
  auto* out = b_.tuple(order);
  out->ctx = ast::ExprContext::Store;
  return {out, n};
}

std::optional<Fact> Lowerer::regroup(const Entry& entry, const ast::Call* call, Val& x, InstantiateRequest& req) {
  Fact f = resolved(x.fact);
  if (!opt_.channels_last || (f.kind != Fact::CL && f.kind != Fact::Perm)) return std::nullopt;
  std::vector<ast::ExprNode*> items = sequence_arg(entry, call);
  if (items.empty()) return std::nullopt;
  // x.size(d) / x.shape[d] of the viewed variable itself: its axis d.
  auto* var = ast::as<ast::Name>(x.expr);
  auto axis_of = [&](const ast::ExprNode* e) -> std::optional<int> {
    const ast::ExprNode *of = nullptr, *d = nullptr;
    if (auto* c = ast::as<ast::Call>(e); c && c->args.size() == 1 && c->keywords.empty())
      if (auto* a = ast::as<ast::Attribute>(c->func); a && a->attr == "size") of = a->value, d = c->args[0];
    if (auto* sub = ast::as<ast::Subscript>(e))
      if (auto* a = ast::as<ast::Attribute>(sub->value); a && a->attr == "shape") of = a->value, d = sub->slice;
    auto* n = ast::as<ast::Name>(of);
    ConstValue v = d != nullptr ? analysis::literal_value(d) : ConstValue::unknown();
    if (var == nullptr || n == nullptr || n->id != var->id || v.kind != ConstValue::Kind::Int) return std::nullopt;
    int64_t a = v.integer < 0 ? v.integer + f.rank : v.integer;
    if (a < 0 || a >= f.rank) return std::nullopt;
    return static_cast<int>(a);
  };
  std::vector<int> target;
  for (const ast::ExprNode* e : items) {
    int sym = 0;
    if (auto* n = ast::as<ast::Name>(e)) {
      if (auto it = frame_->env.find(std::string(n->id)); it != frame_->env.end()) sym = it->second.sym;
    } else if (std::optional<int> a = axis_of(e)) {
      if (f.dims.empty()) {  // named now, for this variable's value
        for (int k = 0; k < f.rank; ++k) f.dims.push_back(++next_sym_);
        if (auto it = frame_->env.find(std::string(var->id)); it != frame_->env.end()) it->second.dims = f.dims;
      }
      sym = f.dims[static_cast<std::size_t>(*a)];
    }
    target.push_back(sym);
  }
  std::optional<RegroupedView> v = regroup_view(stored_order(f), f.dims, target);
  if (!v) return std::nullopt;
  if (!v->axes.empty()) {
    // Not rebound in place: the shape's x.size(d) items read x as it is stored.
    Why why(this, "the view merges axes that an earlier transpose left out of PyTorch's order (the data moves "
                  "here, as PyTorch's .contiguous() moves it)");
    note_layout(x.expr, "has the axes it merges transposed together");
    x.expr = transposed(b_, x.expr, v->axes);
  }
  std::vector<int> order = v->order;
  req.remap = [this, order](std::string_view, ast::ExprNode* bound) -> ast::ExprNode* {
    std::vector<ast::ExprNode*> elts;
    if (auto* t = ast::as<ast::Tuple>(bound)) elts.assign(t->elts.begin(), t->elts.end());
    else if (auto* l = ast::as<ast::List>(bound)) elts.assign(l->elts.begin(), l->elts.end());
    if (elts.size() != order.size()) return nullptr;
    std::vector<ast::ExprNode*> stored;
    for (int a : order) stored.push_back(elts[static_cast<std::size_t>(a)]);
    return b_.tuple(stored);
  };
  Fact out = fact_of_order(v->order);
  out.dims = target;
  return out;
}

std::optional<Fact> Lowerer::regroup_flatten(const Entry& entry, const ast::Call* call, const Val& x,
                                             InstantiateRequest& req) {
  Fact f = resolved(x.fact);
  if (!opt_.channels_last || (f.kind != Fact::CL && f.kind != Fact::Perm) || entry.dim_params.size() != 2) return std::nullopt;
  ConstValue a = bound_literal(entry, *call, entry.dim_params[0]), b = bound_literal(entry, *call, entry.dim_params[1]);
  if (a.kind != ConstValue::Kind::Int || b.kind != ConstValue::Kind::Int) return std::nullopt;
  int r = f.rank;
  int start = static_cast<int>(a.integer < 0 ? a.integer + r : a.integer);
  int end = static_cast<int>(b.integer < 0 ? b.integer + r : b.integer);
  if (start < 0 || end >= r || start >= end) return std::nullopt;
  // The axes as symbols of their own (the merged one unknown): regroup_view's view.
  std::vector<int> dims = f.dims;
  if (static_cast<int>(dims.size()) != r) {
    dims.clear();
    for (int k = 0; k < r; ++k) dims.push_back(++next_sym_);
  }
  std::vector<int> target(dims.begin(), dims.begin() + start);
  target.push_back(0);
  target.insert(target.end(), dims.begin() + end + 1, dims.end());
  std::vector<int> order = stored_order(f);
  std::optional<RegroupedView> v = regroup_view(order, dims, target);
  if (!v || !v->axes.empty()) return std::nullopt;  // a transpose first: PyTorch order is as cheap
  std::map<std::string, int64_t> axes{{entry.dim_params[0], stored_position(order, start)},
                                      {entry.dim_params[1], stored_position(order, end)}};
  req.remap = [this, axes](std::string_view param, ast::ExprNode*) -> ast::ExprNode* {
    auto it = axes.find(std::string(param));
    return it == axes.end() ? nullptr : b_.literal(ConstValue::int_value(it->second));
  };
  Fact out = fact_of_order(v->order);
  out.dims = f.dims.empty() ? std::vector<int>{} : target;
  return out;
}

std::optional<Lowerer::Val> Lowerer::take_index(const ast::Subscript* s, Fact f, ast::ExprNode* x) {
  std::vector<ast::ExprNode*> items;
  if (auto* t = ast::as<ast::Tuple>(s->slice)) items.assign(t->elts.begin(), t->elts.end());
  else items.push_back(s->slice);
  std::optional<int> at;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (auto* sl = ast::as<ast::Slice>(items[i]); sl && !sl->lower && !sl->upper && !sl->step) continue;
    auto* l = ast::as<ast::List>(items[i]);
    if (l == nullptr || at || l->elts.empty()) return std::nullopt;
    for (const ast::ExprNode* e : l->elts)
      if (analysis::literal_value(e).kind != ConstValue::Kind::Int) return std::nullopt;
    at = static_cast<int>(i);
  }
  if (!at) return std::nullopt;
  f = resolved(f);
  int axis = *at;
  if (f.kind == Fact::CL && axis < f.rank) {
    axis = axis == 0 ? 0 : axis == 1 ? -1 : axis - 1;
    f = f.with_spatial(*at >= 2 ? 0 : f.spatial);
  } else {
    f = demand_torch(f, x).with_spatial(0);
  }
  f.unit_channel = false;
  ast::ExprNode* picked = b_.call("ops.take", {x, items[static_cast<std::size_t>(*at)]},
                                  {b_.keyword("axis", b_.literal(ConstValue::int_value(axis)))});
  return Val{picked, f};
}

DType Lowerer::result_dtype(const Entry& entry, const ast::ExprNode* form, const Val* primary,
                            const std::vector<Val>& args, const std::vector<std::pair<ast::Keyword*, Val>>& kws) const {
  if (auto* call = ast::as<ast::Call>(form)) {
    const ast::ExprNode* named = nullptr;
    if (syntax::unparse(call->func) == "ops.cast" && call->args.size() == 2) named = call->args[1];
    for (const ast::Keyword* kw : call->keywords)
      if (kw->arg == "dtype") named = kw->value;
    if (auto* c = ast::as<ast::Constant>(named); c && c->value.kind == ast::ConstantValue::Kind::Str)
      if (DType d = dtype_class(c->value.text); d != DType::Unknown) return d;
  }
  // The input itself (`x.to(device)`, `x.float()` of a float): its dtype.
  if (primary != nullptr && form == primary->expr && resolved(primary->fact).tensor()) return resolved(primary->fact).dtype;
  using catalog::ResultDType;
  switch (entry.returns_dtype) {
    case ResultDType::Bool: return DType::Bool;
    case ResultDType::Int: return DType::Int;
    case ResultDType::Float: return DType::Float;
    case ResultDType::Number:
      // torch.arange: int64 from ints, float32 when a number is a float. A
      // number not known here counts as an int: taken for an int, a float
      // tensor only gets keras.ops where its operators would do.
      for (const Val& v : args)
        if (Operand o = operand(v); o.tensor || o.dtype == DType::Float) return DType::Float;
      return DType::Int;
    case ResultDType::Cast: return DType::Unknown;
    case ResultDType::Sum:
      if (primary != nullptr && resolved(primary->fact).dtype == DType::Bool) return DType::Int;
      break;
    case ResultDType::Same: break;
  }
  if (primary == nullptr || !resolved(primary->fact).tensor()) return DType::Float;
  DType d = resolved(primary->fact).dtype;
  if (entry.layout != Layout::Any) return d;
  // Element-wise over several tensors (torch.maximum(a, b)): promoted.
  auto join = [&](const Val& v) {
    Fact g = resolved(v.fact);
    if (&v == primary || !g.tensor() || g.dtype == d) return;
    d = d == DType::Float || g.dtype == DType::Float ? DType::Float : DType::Unknown;
  };
  for (const Val& v : args) join(v);
  for (const auto& [kw, v] : kws) join(v);
  return d;
}

Operand Lowerer::operand(const Val& v) const {
  Fact f = resolved(v.fact);
  if (f.tensor()) return {true, f.dtype};
  if (f.run_time_size) return {false, DType::Int, true};
  ConstValue c = analysis::literal_value(v.expr);
  if (c.kind == ConstValue::Kind::Int || c.kind == ConstValue::Kind::Bool || f.sym != 0) return {false, DType::Int};
  if (c.kind == ConstValue::Kind::Float) return {false, DType::Float};
  // Python's float-valued functions and constants (math.log(10000.0), math.pi), float() and int().
  if (auto* call = ast::as<ast::Call>(v.expr)) {
    std::string fn = syntax::unparse(call->func);
    if (fn == "float" || (fn.starts_with("math.") && fn != "math.floor" && fn != "math.ceil" && fn != "math.prod" &&
                          fn != "math.gcd" && fn != "math.comb" && fn != "math.perm" && fn != "math.isqrt"))
      return {false, DType::Float};
    if (fn == "int" || fn == "len") return {false, DType::Int};
  }
  if (std::string s = syntax::unparse(v.expr); s == "math.pi" || s == "math.e" || s == "math.inf" || s == "math.tau")
    return {false, DType::Float};
  if (shape_item(v.expr)) return {false, DType::Int};
  return {false, DType::Unknown};
}

Lowerer::Val Lowerer::lower_boolean_arithmetic(ast::BinOp* o, const Val& l, const Val& r, Fact out) {
  using Op = ast::OperatorKind;
  Fact lf = resolved(l.fact), rf = resolved(r.fact);
  if (o->op == Op::BitAnd || o->op == Op::BitOr || o->op == Op::BitXor) {
    out.dtype = lf.boolean() && rf.boolean() ? DType::Bool : DType::Unknown;
    return {o, out};
  }
  if (lf.boolean() && rf.boolean()) {
    if (o->op == Op::Add || o->op == Op::Mult) {
      out.dtype = DType::Bool;
      return {b_.call(o->op == Op::Add ? "ops.logical_or" : "ops.logical_and", {o->left, o->right}), out};
    }
    if (o->op == Op::Div) {
      out.dtype = DType::Float;
      o->left = b_.call("ops.cast", {o->left, b_.string("float32")});
      o->right = b_.call("ops.cast", {o->right, b_.string("float32")});
      return {o, out};
    }
    error(diag::Kind::UnsupportedConstruct, o,
          "this arithmetic on two boolean tensors is not supported: PyTorch rejects `-` and promotes the "
          "others to integers; write .long() or .float() first");
    return {o, out};
  }
  // One boolean: the type of the other operand.
  bool left = lf.boolean();
  ast::ExprNode*& boolean = left ? o->left : o->right;
  ast::ExprNode*& other = left ? o->right : o->left;
  ConstValue v = analysis::literal_value(other);
  ast::ExprNode* dtype = nullptr;
  Fact g = resolved((left ? r : l).fact);
  if (v.kind == ConstValue::Kind::Int) {
    dtype = b_.string("int32");
    out.dtype = DType::Int;
  } else if (v.kind == ConstValue::Kind::Float) {
    dtype = b_.string("float32");
    out.dtype = DType::Float;
  } else if (g.tensor()) {
    if (!ast::is<ast::Name>(other) && frame_->hoist != nullptr) other = into_temp(other);  // read twice
    dtype = b_.attr(other, "dtype");
    out.dtype = g.dtype;
  } else {
    // A Python value whose type is not known here: PyTorch gives an int for an
    // int, a float for a float, and keeps booleans with a bool (self.training).
    error(diag::Kind::UnsupportedConstruct, o,
          "arithmetic between a boolean tensor and `" + syntax::unparse(other) +
              "`, whose type is not known here: PyTorch promotes the boolean to it; write .float() or .long()");
    return {o, out};
  }
  boolean = b_.call("ops.cast", {boolean, dtype});
  return {o, out};
}

std::vector<ast::ExprNode*> Lowerer::sequence_arg(const Entry& entry, const ast::Call* call) {
  std::vector<ast::ExprNode*> items;
  if (call == nullptr || entry.dim_params.empty()) return items;
  const ast::ExprNode* seq = nullptr;
  if (entry.kind == catalog::EntryKind::Method) {
    if (!call->keywords.empty()) return items;
    if (call->args.size() != 1) items.assign(call->args.begin(), call->args.end());
    else if (analysis::literal_value(call->args[0]).kind == ConstValue::Kind::Int) items.push_back(call->args[0]);
    else seq = call->args[0];
  } else {
    seq = bound_expr(entry, *call, entry.dim_params[0]);
  }
  if (auto* t = ast::as<ast::Tuple>(seq)) items.assign(t->elts.begin(), t->elts.end());
  else if (auto* l = ast::as<ast::List>(seq)) items.assign(l->elts.begin(), l->elts.end());
  for (ast::ExprNode* e : items)
    if (ast::is<ast::Starred>(e)) return {};
  return items;
}

bool Lowerer::flattens_batch(const Entry& entry, const ast::Call* call, int rank) {
  if (call == nullptr) return false;
  if (entry.layout == Layout::Flatten) {
    ConstValue start = bound_literal(entry, *call, "start_dim"), end = bound_literal(entry, *call, "end_dim");
    return start.kind == ConstValue::Kind::Int && start.integer == 1 && end.kind == ConstValue::Kind::Int &&
           (end.integer == -1 || end.integer == rank - 1);
  }
  // The target shape (n, -1) where n is the batch size of the tensor reshaped.
  std::vector<ast::ExprNode*> shape = reshape_target(entry, call);
  const ast::ExprNode* tensor = nullptr;
  if (entry.kind != catalog::EntryKind::Method) tensor = bound_expr(entry, *call, entry.tensor_param);
  else if (auto* a = ast::as<ast::Attribute>(call->func)) tensor = a->value;
  if (tensor == nullptr || shape.size() != 2) return false;
  ConstValue last = analysis::literal_value(shape[1]);
  if (last.kind != ConstValue::Kind::Int || last.integer != -1) return false;
  // x.size(0), x.shape[0], x.size()[0] or len(x), of the same x.
  const ast::ExprNode* of = nullptr;
  if (auto* c = ast::as<ast::Call>(shape[0])) {
    auto* a = ast::as<ast::Attribute>(c->func);
    auto* f = ast::as<ast::Name>(c->func);
    if (a != nullptr && a->attr == "size" && c->args.size() == 1 &&
        analysis::literal_value(c->args[0]).kind == ConstValue::Kind::Int && analysis::literal_value(c->args[0]).integer == 0)
      of = a->value;
    else if (f != nullptr && f->id == "len" && c->args.size() == 1)
      of = c->args[0];
  } else if (auto* s = ast::as<ast::Subscript>(shape[0])) {
    ConstValue i = analysis::literal_value(s->slice);
    if (i.kind == ConstValue::Kind::Int && i.integer == 0) {
      if (auto* a = ast::as<ast::Attribute>(s->value); a && a->attr == "shape") of = a->value;
      if (auto* c = ast::as<ast::Call>(s->value); c && c->args.empty())
        if (auto* a = ast::as<ast::Attribute>(c->func); a && a->attr == "size") of = a->value;
    }
  }
  return of != nullptr && syntax::unparse(of) == syntax::unparse(tensor);
}

void Lowerer::note_layout(const ast::ExprNode* value, std::string_view change, const ast::Node* site) {
  if (!opt_.explain_layout || probing_ > 0 || frame_ == nullptr) return;
  auto shorten = [](std::string text) {
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
  };
  const ast::Node* at = site != nullptr ? site : frame_->stmt;
  std::string message = "`" + shorten(syntax::unparse(value)) + "` " + std::string(change);
  // The innermost input expression (one the lowering built has no position).
  auto e = std::find_if(expr_stack_.rbegin(), expr_stack_.rend(), [](const ast::ExprNode* x) { return x->loc.lineno > 0; });
  if (site == nullptr && e != expr_stack_.rend()) {
    at = *e;
    message += " for `" + shorten(syntax::unparse(*e)) + "`";
  }
  if (!layout_why_.empty()) message += ": " + layout_why_;
  for (const diag::Diagnostic& d : out_.diagnostics)
    if (d.kind == diag::Kind::LayoutChange && at != nullptr && d.lineno == at->loc.lineno &&
        d.col_offset == at->loc.col_offset && d.message == message)
      return;
  error(diag::Kind::LayoutChange, at, std::move(message));
}

std::optional<int> Lowerer::known_rank(const Fact& in) const {
  Fact f = resolved(in);
  if (std::optional<Fact> h = hint(f)) f = *h;  // a parameter: what the first caller passed
  if ((f.kind == Fact::Torch || f.kind == Fact::CL || f.kind == Fact::Perm) && f.rank > 0) return f.rank;
  return std::nullopt;
}

int Lowerer::spatial_rank(const Entry& entry, const Fact& in, const ast::Node* at) {
  std::optional<int> rank = known_rank(in);
  if (entry.rank == Entry::kRankOfInput) return rank && *rank >= 3 && *rank <= 5 ? *rank : 4;
  if (rank && *rank != entry.rank)
    error(diag::Kind::UnsupportedConstruct, at,
          "`" + entry.keys[0] + "` takes a batch of " + std::to_string(entry.rank) +
              " axes (N, C, ...) here, but this input has " + std::to_string(*rank) +
              " (PyTorch's unbatched inputs are not supported; a tensor of another rank would be read on the "
              "wrong axes)");
  return entry.rank;
}

std::string Lowerer::layout_need(const Entry& entry) {
  switch (entry.layout) {
    case Layout::Spatial: return "it works channels-last";
    case Layout::Features: return "it acts on the last PyTorch axis";
    case Layout::Flatten:
      return "PyTorch orders the merged axes (C, H, W); the spatial size is not known at conversion time "
             "(a flatten of a known size read by a Linear needs no transpose)";
    case Layout::Reshape:
      return "a view works in PyTorch's axis order: this one splits or merges axes that are not stored "
             "together, or its shape does not repeat the input's own sizes around them (b, c, h, w = "
             "x.size() names them); a flatten of a known size read by a Linear needs no transpose";
    case Layout::Dim:
    case Layout::Reduce:
    case Layout::Shape: return "its axes are not compile-time constants, or it mixes layouts";
    case Layout::Any: return "it mixes channels-last tensors with tensors in PyTorch order";
    default: return "it works in PyTorch's axis order";
  }
}

ast::ExprNode* Lowerer::reorder_flat(ast::ExprNode* x, int spatial, bool to_torch) {
  // (N, S, C) -> (N, C, S) and back: a transpose of the feature axis split in two.
  if (!ast::is<ast::Name>(x) && frame_ != nullptr && frame_->hoist != nullptr) x = into_temp(x);
  auto batch = [&] { return b_.subscript(b_.call("ops.shape", {x}), b_.integer(0)); };
  auto rest = [&] { return b_.literal(ConstValue::int_value(-1)); };
  ast::ExprNode* split = b_.call(
      "ops.reshape", {x, b_.tuple({batch(), to_torch ? b_.integer(spatial) : rest(),
                                   to_torch ? rest() : b_.integer(spatial)})});
  ast::ExprNode* swapped = b_.call("ops.swapaxes", {split, b_.integer(1), b_.integer(2)});
  return b_.call("ops.reshape", {swapped, b_.tuple({batch(), rest()})});
}

void Lowerer::flush_flat(std::vector<ast::StmtNode*>& out) {
  std::vector<std::string> names;
  for (auto& [name, f] : frame_->env)
    if (f.kind == Fact::Flat || f.kind == Fact::Perm) names.push_back(name);
  std::sort(names.begin(), names.end());
  Why why(this, "branches and loops see values in one layout");
  for (const std::string& n : names) {
    if (frame_->env[n].kind == Fact::Perm) {
      ast::ExprNode* x = b_.name(n);
      Fact f = frame_->env[n];
      frame_->env[n] = Fact::torch(f.rank);  // demand_torch's rebind would hoist it
      note_layout(x, "is transposed to PyTorch's axis order");
      out.push_back(b_.assign(b_.name(n, ast::ExprContext::Store), restored(b_, x, f, Fact::torch(f.rank))));
      continue;
    }
    note_layout(b_.name(n), "has its features reordered from a channels-last flatten's (H, W, C) order to "
                            "PyTorch's (C, H, W)");
    out.push_back(b_.assign(b_.name(n, ast::ExprContext::Store), reorder_flat(b_.name(n), frame_->env[n].spatial, true)));
    frame_->env[n] = Fact::torch(2);
  }
}

bool Lowerer::takes_flat(const ModuleDesc& d, bool passes) const {
  if (d.kind == ModuleDesc::Leaf)
    return d.entry->layout == Layout::Features || (d.entry->layout == Layout::Any && passes);
  if (d.kind != ModuleDesc::Seq || d.dynamic || dynamic_seqs_ > 0) return false;
  for (const ModuleDesc& item : d.items) {
    if (item.kind == ModuleDesc::Leaf && item.entry->layout == Layout::Any) continue;
    return takes_flat(item, false);
  }
  return passes;
}

ast::ExprNode* Lowerer::keras_io_output(const Fact& f, ast::ExprNode* e) {
  if (f.kind == Fact::List || (f.kind == Fact::NonTensor && !ast::is<ast::Constant>(e))) {
    // A tuple a block returned, a list or dict of outputs: their tensors are in
    // PyTorch order; each image-like one goes out channels-last.
    Why why(this, "the model returns these tensors in PyTorch's axis order and channels-last images "
                  "(--io-layout keras)");
    note_layout(e, "has each image-like tensor moved to channels-last on return");
    out_.helpers.insert("pytorch_channels_last");
    return b_.call("pytorch_channels_last", {e});
  }
  if (f.kind != Fact::Torch) return e;  // channels-last already, or layout-free (a parameter as it came)
  if (f.rank == 0 || (f.rank >= 3 && f.rank <= 5)) {
    Why why(this, "the model computes it in PyTorch's axis order and returns channels-last images "
                  "(--io-layout keras)");
    note_layout(e, f.rank == 0 ? "is moved to channels-last on return when it is image-like (3 to 5 axes)"
                                : "is transposed to channels-last on return");
  }
  if (f.rank >= 3 && f.rank <= 5) return b_.call("ops.transpose", {e, b_.tuple(perm_to_cl(b_, f.rank))});
  if (f.rank != 0) return e;
  out_.helpers.insert("pytorch_channels_last");  // the rank is known only when it runs
  return b_.call("pytorch_channels_last", {e});
}

// The layout a module leaves its (single) input in, converting `arg` as needed.
bool same_layout(const Fact& a, const Fact& b);
bool layout_free(const ModuleDesc& d);

Fact Lowerer::apply_desc(const ModuleDesc& d, Fact in, ast::ExprNode*& arg, const ast::Node* at) {
  // A channels-last flatten (Fact::Flat) goes as it is only into a Linear, through
  // layout-free layers and static Sequentials.
  if (Fact f = resolved(in); f.kind == Fact::Flat && !takes_flat(d, true)) in = demand_torch(f, arg);
  std::optional<Why> why;
  if (d.kind == ModuleDesc::Leaf) why.emplace(this, layout_need(*d.entry));
  if (d.kind == ModuleDesc::User)
    why.emplace(this, "`" + std::string(d.cls->node->name) + "` takes its input in this layout");
  switch (d.kind) {
    case ModuleDesc::Leaf: {
      const Entry* e = d.entry;
      switch (e->layout) {
        case Layout::Any: return resolved(in);
        case Layout::Spatial: {
          Fact f = resolved(in);
          if (e->rank == Entry::kRankOfInput && d.ctor != nullptr) {
            // A layer of any rank (nn.Upsample): the first call decides its data
            // format; given a tensor of unknown rank, PyTorch's axis order, right
            // whatever the rank turns out to be.
            auto [it, first] = torch_order_layers_.emplace(d.ctor, !known_rank(f).has_value() && opt_.channels_last);
            if (it->second) {
              Fact out = Fact::torch(f.kind == Fact::Torch ? f.rank : 0);
              out.dtype = demand_torch(f, arg).dtype;
              return out;
            }
          }
          return demand_cl(f, spatial_rank(*e, f, at), arg).with_spatial(result_spatial(*e, f, d.ctor));
        }
        case Layout::Flatten: {
          // A flatten of a spatial size 1 tensor (N, 1, 1, C) is already in PyTorch order.
          Fact f = resolved(in);
          bool batch = flattens_batch(*e, d.ctor, f.rank);
          if (f.kind == Fact::CL && f.spatial == 1 && batch) return Fact::torch(2);
          demand_torch(in, arg);
          return Fact::torch(batch ? 2 : 0);
        }
        case Layout::Permute: {
          // A Permute layer (torchvision's, in ConvNeXt's blocks) that relabels a
          // channels-last tensor's axes becomes layers.Identity(); one that moves
          // them runs the composed permutation. Every call takes its input in the
          // first call's layout.
          std::vector<int64_t> p = literal_permutation(*e, d.ctor);
          Fact f = resolved(in);
          if (d.ctor != nullptr && dynamic_seqs_ == 0) {
            auto first = permute_layers_.find(d.ctor);
            if (first != permute_layers_.end()) f = demand_as(first->second.input, f, arg);
            auto s = stored_permute(p, f, arg);
            if (s && (s->axes.empty() || s->axes[0] == 0)) {
              permute_layers_.emplace(d.ctor, PermuteLayer{resolved(f), s->axes});
              return s->out;
            }
          }
          f = demand_torch(f, arg);
          if (d.ctor != nullptr) permute_layers_.emplace(d.ctor, PermuteLayer{f, std::nullopt});
          return Fact::torch(static_cast<int>(p.size()));
        }
        case Layout::Channel: {
          Fact f = resolved(in);
          if (f.kind == Fact::Torch && f.rank == e->rank) return demand_cl(f, e->rank, arg);
          if (f.kind == Fact::Pending) return demand_torch(f, arg);
          return f;
        }
        case Layout::Features: {
          // A Linear reads PyTorch's feature order, or the channels-last flatten
          // of one spatial size, every time it runs: load_torch_state_dict permutes
          // its weight rows for the latter (pytorch_flattened_input).
          Fact f = resolved(in);
          if (d.ctor == nullptr || dynamic_seqs_ > 0) return demand_torch(f, arg);
          auto it = flat_inputs_.emplace(d.ctor, f.kind == Fact::Flat ? f.spatial : 0).first;
          if (f.kind == Fact::Flat && it->second != f.spatial) return demand_torch(f, arg);
          if (f.kind == Fact::Flat) return Fact::torch(2);
          f = demand_torch(f, arg);
          // Fed a channels-last flatten elsewhere: this input reordered to match.
          if (it->second > 1) {
            Why also(this, "the Linear reads a channels-last flatten at another call");
            note_layout(arg, "has its features reordered to a channels-last flatten's (H, W, C) order");
            arg = reorder_flat(arg, it->second, false);
          }
          return f;
        }
        default: {
          demand_torch(in, arg);
          return Fact::torch();
        }
      }
    }
    case ModuleDesc::User: {
      if (d.cls->torch_base == analysis::TorchBase::Sequential)
        return fold_seq(values_.self_items(d.cls), in, arg, at);
      const ast::FunctionDef* fwd = method(d.cls, "forward");
      if (fwd == nullptr) return demand_torch(in, arg);
      Unit* up = &units_[{d.cls, fwd}];
      if (!up->done && !up->busy && resolved(in).kind == Fact::List) up->seeds = {resolved(in)};
      if (!up->done && !up->busy) up->hints = {resolved(in)};
      if (!up->done && !up->busy && resolved(in).tensor()) {
        up->caller_dtypes.resize(std::max<std::size_t>(up->caller_dtypes.size(), 1));
        up->caller_dtypes[0] = resolved(in).dtype;
      }
      Unit& u = unit(d.cls, fwd);
      if (u.busy) return demand_torch(in, arg);  // recursion: PyTorch layout at the boundary
      Fact want = u.params.empty() ? Fact::torch() : u.params[0];
      if (want.kind == Fact::List || resolved(in).kind == Fact::List) {
        // A list of tensors: the callee takes the layout its first caller gave.
        if (!(resolved(in) == want))
          error(diag::Kind::UnsupportedConstruct, at,
                "this call passes a list of tensors in another layout than the first call did; "
                "use --layout channels_first");
        Fact ret = u.ret.kind == Fact::Pending ? Fact::torch() : u.ret;
        if (ret.spatial == Fact::kInputSpatial) ret.spatial = 0;
        return ret;
      }
      Fact given = demand_as(want, in, arg);
      Fact ret = u.ret.kind == Fact::Pending ? want : u.ret;
      if (ret.spatial == Fact::kInputSpatial) ret.spatial = given.kind == Fact::CL ? given.spatial : 0;
      return ret;
    }
    case ModuleDesc::Seq:
      return fold_seq(d, in, arg, at);
    case ModuleDesc::Union: {
      // One of several modules: they must agree on the layouts.
      // A layout-free alternative (`nn.Sequential()` as identity, an activation)
      // keeps whatever layout the others give their input, if they keep it too.
      std::vector<const ModuleDesc*> alts = d.alternatives();
      if (alts.empty()) break;
      std::stable_partition(alts.begin(), alts.end(), [](const ModuleDesc* a) { return !layout_free(*a); });
      if (alts.size() == 1 || layout_free(*alts[0])) return apply_desc(*alts[0], in, arg, at);
      std::string first_conversion;
      std::optional<Fact> first_out;
      for (const ModuleDesc* alt : alts) {
        ast::ExprNode* probe = b_.name("_");
        Fact out = probe_desc(*alt, in, probe, at);
        std::string conversion = syntax::unparse(probe);
        if (!first_out) {
          first_out = out;
          first_conversion = conversion;
        } else if (layout_free(*alt)) {
          // The input as the first alternative receives it must come out unchanged.
          Fact given = resolved(in);
          if (first_conversion != "_") given = given.kind == Fact::CL ? Fact::torch(given.rank) : Fact::cl(first_out->rank);
          if (!same_layout(given, resolved(*first_out))) {
            error(diag::Kind::UnsupportedConstruct, at,
                  "the modules this call may run need different tensor layouts; use --layout channels_first");
            return demand_torch(in, arg);
          }
        } else if (!resolved(out).same_axes(resolved(*first_out)) || conversion != first_conversion) {
          error(diag::Kind::UnsupportedConstruct, at,
                "the modules this call may run need different tensor layouts; use --layout channels_first");
          return demand_torch(in, arg);
        }
      }
      return apply_desc(*alts[0], in, arg, at).with_spatial(0);  // sizes may differ
    }
    case ModuleDesc::None:
    case ModuleDesc::LeafClass:
    case ModuleDesc::UserClass:
    case ModuleDesc::List:
    case ModuleDesc::Unknown:
      break;
  }
  if (getenv("T2K_DEBUG")) {
    std::function<void(const ModuleDesc&, int)> dump = [&](const ModuleDesc& x, int depth) {
      fprintf(stderr, "%*skind=%d cls=%s entry=%s dyn=%d\n", depth * 2, "", x.kind,
              x.cls ? std::string(x.cls->node->name).c_str() : "-", x.entry ? std::string(x.entry->def->name).c_str() : "-", x.dynamic);
      for (auto& i : x.items) dump(i, depth + 1);
    };
    dump(d, 0);
  }
  error(diag::Kind::UnsupportedConstruct, at,
        "cannot tell which module this call runs; the converter needs module attributes "
        "assigned in `__init__` (or helpers it calls)");
  return demand_torch(in, arg);
}

// Applies `d` to a placeholder: the result layout, and `probe` changed when the
// module needs its input in another layout. Nothing is written.
Fact Lowerer::probe_desc(const ModuleDesc& d, Fact in, ast::ExprNode*& probe, const ast::Node* at) {
  auto* saved_hoist = frame_->hoist;
  frame_->hoist = nullptr;
  ++probing_;
  Fact out = apply_desc(d, in, probe, at);
  --probing_;
  frame_->hoist = saved_hoist;
  return out;
}

// Whether two facts put tensor axes in the same order (a PyTorch-order rank may be unknown).
bool same_layout(const Fact& a, const Fact& b) {
  if (a.kind != b.kind) return false;
  return a.kind != Fact::CL || a.rank == b.rank;
}

// Whether a module works on any layout and keeps it (activations, dropout).
bool layout_free(const ModuleDesc& d) {
  switch (d.kind) {
    case ModuleDesc::Leaf: return d.entry->layout == Layout::Any;
    case ModuleDesc::Seq:
    case ModuleDesc::Union:
      for (const ModuleDesc& i : d.items)
        if (i.kind != ModuleDesc::None && !layout_free(i)) return false;
      return true;
    default: return false;
  }
}

// A Sequential: its items in order. The incoming value is converted for the first
// layout-sensitive item; a later item that needs another layout gets a Permute
// written in front of it (static Sequentials), or is an error when the items are
// built in a loop (their order is not known here).
Fact Lowerer::fold_seq(const ModuleDesc& d, Fact in, ast::ExprNode*& arg, const ast::Node* at) {
  Fact f = resolved(in);
  if (d.dynamic) {
    // Items built in a loop may be one constructor call run several times.
    if (f.kind == Fact::Flat) f = demand_torch(f, arg);
    ++dynamic_seqs_;
  }
  struct Leave {
    const ModuleDesc& d;
    int& depth;
    ~Leave() {
      if (d.dynamic) --depth;
    }
  } leave{d, dynamic_seqs_};
  bool transparent = true;  // every item so far kept its input's layout, unconverted
  int rounds = d.dynamic ? 2 : 1;
  for (int round = 0; round < rounds; ++round) {
    for (const ModuleDesc& item : d.items) {
      if (auto fl = item.kind == ModuleDesc::Leaf ? flat_inputs_.find(item.ctor) : flat_inputs_.end();
          fl != flat_inputs_.end() && fl->second > 1 && f.kind != Fact::Flat && !(transparent && round == 0)) {
        // A reordering is not a Permute that could be placed between the layers.
        error(diag::Kind::UnsupportedConstruct, at,
              "a Linear in this Sequential reads a channels-last flatten at another call and "
              "PyTorch order here; use --layout channels_first");
        return demand_torch(f, arg);
      }
      ast::ExprNode* probe = b_.name("_");
      ast::ExprNode* before = probe;
      Fact g = probe_desc(item, f, probe, at);
      f = resolved(f);  // the probe may have decided a pending parameter's layout
      bool converts = probe != before;
      if (converts && transparent && round == 0) {
        // Convert the Sequential's input instead: the items before are layout-free.
        g = apply_desc(item, f, arg, at);
      } else if (converts && !d.dynamic && item.ctor != nullptr && item.kind != ModuleDesc::Union) {
        bool to_cl = resolved(g).kind == Fact::CL && f.kind != Fact::CL;
        wraps_[item.ctor].before = std::pair{to_cl, to_cl ? g.rank : f.rank};
        Why why(this, item.kind == ModuleDesc::Leaf ? layout_need(*item.entry)
                                                    : "it takes its input in that layout");
        note_layout(item.ctor, to_cl ? "gets a layers.Permute in front, to channels-last"
                                     : "gets a layers.Permute in front, to PyTorch's axis order");
      } else if (d.dynamic && (converts || !same_layout(resolved(g), f)) && f.kind == Fact::CL &&
                 item.ctor != nullptr && item.kind != ModuleDesc::Union) {
        // Built in a loop, so any item may follow any other: the item takes and
        // gives the Sequential's channels-last layout, with Permutes around it.
        Wrap& w = wraps_[item.ctor];
        if (converts) w.before = std::pair{false, f.rank};
        Fact out = resolved(g);
        if (!same_layout(out, f)) w.after = std::pair{true, f.rank};
        Why why(this, "its layers are built in a loop, so each keeps the Sequential's channels-last layout");
        note_layout(item.ctor, "gets layers.Permute around it");
        g = f;
      } else if (converts || (d.dynamic && !same_layout(resolved(g), f))) {
        error(diag::Kind::UnsupportedConstruct, at,
              "a layer inside this `nn.Sequential(*layers)` needs a layout change that cannot "
              "be placed between its layers; use --layout channels_first");
        return demand_torch(f, arg);
      }
      transparent = transparent && !converts && layout_free(item);
      f = resolved(g);
    }
  }
  return f;
}

Unit& Lowerer::unit(const ClassInfo* cls, const ast::FunctionDef* def, const ast::Call* first_call) {
  Unit& u = units_[{cls, def}];
  if (!u.done && !u.busy) {
    u.cls = cls;
    u.def = def;
    if (first_call != nullptr) seed_lists(u, first_call);
    lower_unit(u);
  }
  return u;
}

// The list-of-tensors arguments of `call` (variables with a List fact, `*xs`) seed
// the unit's parameters; its tensor variables hint theirs.
void Lowerer::seed_lists(Unit& u, const ast::Call* call) {
  if (frame_ == nullptr) return;
  auto fact_of = [this](const ast::ExprNode* e) -> std::optional<Fact> {
    auto* n = ast::as<ast::Name>(e);
    if (n == nullptr) return std::nullopt;
    auto it = frame_->env.find(std::string(n->id));
    if (it == frame_->env.end()) return std::nullopt;
    Fact f = resolved(it->second);
    return f.kind == Fact::List ? std::optional<Fact>(f) : std::nullopt;
  };
  // A Python value for sure: a constant, `self.training`, a variable holding one.
  auto python_value = [this](const ast::ExprNode* e) {
    if (ast::is<ast::Constant>(e)) return true;
    if (auto* a = ast::as<ast::Attribute>(e); a && is_self(a->value))
      return a->attr == "training" ||
             (frame_->unit->cls != nullptr && !tensor_attribute(frame_->unit->cls, a->attr) &&
              !values_.attr(frame_->unit->cls, a->attr));
    if (auto* n = ast::as<ast::Name>(e)) {
      auto it = frame_->env.find(std::string(n->id));
      return it != frame_->env.end() && resolved(it->second).kind == Fact::NonTensor;
    }
    return false;
  };
  // `f(x, shift_size=self.shift_size)`: a keyword naming a parameter seeds it too.
  const std::size_t first = u.cls != nullptr ? 1 : 0;
  const ast::Arguments* params = u.def->args;
  for (ast::Keyword* kw : call->keywords) {
    if (kw->arg.data() == nullptr || !python_value(kw->value)) continue;
    for (std::size_t i = first; i < params->args.size(); ++i)
      if (params->args[i]->arg == kw->arg) {
        if (u.python_seeds.size() <= i - first) u.python_seeds.resize(i - first + 1);
        u.python_seeds[i - first] = true;
      }
  }
  for (std::size_t i = 0; i < call->args.size(); ++i) {
    if (auto* st = ast::as<ast::Starred>(call->args[i])) {
      if (auto f = fact_of(st->value)) u.vararg_seed = f;
      break;
    }
    if (python_value(call->args[i])) {
      if (u.python_seeds.size() <= i) u.python_seeds.resize(i + 1);
      u.python_seeds[i] = true;
    }
    if (auto f = fact_of(call->args[i])) {
      if (u.seeds.size() <= i) u.seeds.resize(i + 1);
      u.seeds[i] = *f;
    }
    // A tensor variable: its layout hints the parameter's (Unit::hints).
    if (auto* n = ast::as<ast::Name>(call->args[i]))
      if (auto it = frame_->env.find(std::string(n->id)); it != frame_->env.end() && resolved(it->second).tensor()) {
        if (u.hints.size() <= i) u.hints.resize(i + 1);
        Fact f = resolved(it->second).unsized();
        u.hints[i] = hint(f).value_or(f);  // a parameter of the caller: its own hint
        if (u.caller_dtypes.size() <= i) u.caller_dtypes.resize(i + 1);
        u.caller_dtypes[i] = f.dtype;
      }
  }
}

std::optional<ModuleDesc> Lowerer::module_of(const ast::ExprNode* callee) {
  return module_at(frame_->unit->cls, callee, true);
}

std::optional<ModuleDesc> Lowerer::self_module(const ClassInfo* cls, const ast::ExprNode* callee) {
  return module_at(cls, callee, false);
}

std::optional<ModuleDesc> Lowerer::module_at(const ClassInfo* cls, const ast::ExprNode* callee, bool in_frame) {
  if (auto* a = ast::as<ast::Attribute>(callee)) {
    auto* self = ast::as<ast::Name>(a->value);
    if (self && self->id == "self" && cls != nullptr) {
      if (method(cls, a->attr) != nullptr) return std::nullopt;
      if (auto d = values_.attr(cls, a->attr)) {
        return *d;
      }
      return ModuleDesc{};
    }
    if (auto owner = module_at(cls, a->value, in_frame)) return module_member(*owner, a->attr);
  }
  if (auto* s = ast::as<ast::Subscript>(callee)) {
    if (auto d = module_at(cls, s->value, in_frame)) return module_item(*d, s->slice);
  }
  if (!in_frame) return std::nullopt;
  // getattr(self.heads, name) of a ModuleDict: its item (lower_call writes it so).
  if (auto* c = ast::as<ast::Call>(callee); c && c->args.size() == 2 && c->keywords.empty()) {
    auto* fn = ast::as<ast::Name>(c->func);
    auto d = fn && fn->id == "getattr" && !frame_->env.count("getattr") ? module_of(c->args[0]) : std::nullopt;
    if (d && module_dict(*d)) return module_item(*d, c->args[1]);
  }
  if (auto* n = ast::as<ast::Name>(callee)) {
    auto it = frame_->module_vars.find(std::string(n->id));
    if (it != frame_->module_vars.end()) return it->second;
  }
  return std::nullopt;
}

bool Lowerer::keeps_dtype_of(const ast::ExprNode* e, const std::set<std::string>& name) const {
  if (auto* n = ast::as<ast::Name>(e)) return name.count(std::string(n->id)) > 0;
  if (auto* s = ast::as<ast::Subscript>(e)) return keeps_dtype_of(s->value, name);
  if (auto* u = ast::as<ast::UnaryOp>(e)) return u->op == ast::UnaryOpKind::USub && keeps_dtype_of(u->operand, name);
  if (auto* b = ast::as<ast::BinOp>(e)) {
    using Op = ast::OperatorKind;
    if (b->op != Op::Add && b->op != Op::Sub && b->op != Op::Mult && b->op != Op::FloorDiv) return false;
    auto int_literal = [](const ast::ExprNode* x) { return analysis::literal_value(x).kind == ConstValue::Kind::Int; };
    return (keeps_dtype_of(b->left, name) && int_literal(b->right)) ||
           (keeps_dtype_of(b->right, name) && int_literal(b->left));
  }
  auto* call = ast::as<ast::Call>(e);
  if (call == nullptr) return false;
  for (const ast::Keyword* kw : call->keywords)
    if (kw->arg == "dtype") return false;
  const Entry* entry = nullptr;
  const ast::ExprNode* input = nullptr;
  // In-place forms (F.relu_(x), x.add_(1)) as theirs.
  auto plain = [](std::string_view n) { return n.ends_with("_") && !n.ends_with("__") ? n.substr(0, n.size() - 1) : n; };
  if (auto p = resolve(call->func)) {
    entry = catalog_.find_function(*p);
    if (entry == nullptr) entry = catalog_.find_function(plain(*p));
    if (!call->args.empty()) input = call->args[0];
  } else if (auto* m = ast::as<ast::Attribute>(call->func)) {
    entry = catalog_.find_method(m->attr);
    if (entry == nullptr) entry = catalog_.find_method(plain(m->attr));
    input = m->value;
  }
  return entry != nullptr && input != nullptr && entry->returns_dtype == catalog::ResultDType::Same &&
         !entry->returns_list && keeps_dtype_of(input, name);
}

DType Lowerer::param_dtype(const ClassInfo* cls, const ast::FunctionDef* def, std::string_view name, int depth) {
  std::optional<DType> found;
  // The variables holding the parameter's dtype: it, and what keeps it (x = F.pad(input, p)).
  std::set<std::string> holders{std::string(name)};
  // What a call that takes the variable as positional argument `i` requires of it.
  auto required = [&](const ast::Call* call, std::size_t i) -> DType {
    if (depth > 4) return DType::Unknown;
    if (i == 0)
      if (std::optional<ModuleDesc> d = self_module(cls, call->func)) return input_dtype(*d, depth);
    if (auto p = resolve(call->func)) {
      const Entry* fn = catalog_.find_function(*p);
      if (fn != nullptr && i == 0) return required_dtype(*fn);
    }
    // A method of this class or a function of the input: its parameter's uses.
    const ast::FunctionDef* callee = nullptr;
    const ClassInfo* owner = nullptr;
    std::size_t skip = 0;
    if (auto* a = ast::as<ast::Attribute>(call->func); a && cls != nullptr && is_self(a->value)) {
      callee = method(cls, a->attr), owner = cls, skip = 1;
    } else if (auto* f = ast::as<ast::Name>(call->func)) {
      callee = values_.module_function(f->id);
    }
    if (callee == nullptr || i + skip >= callee->args->args.size()) return DType::Unknown;
    return param_dtype(owner, callee, callee->args->args[i + skip]->arg, depth + 1);
  };
  std::function<void(ast::Node*)> scan = [&](ast::Node* n) {
    if (found || holders.empty()) return;
    // A tensor method requiring a dtype of its tensor (x.mean()).
    if (auto* call = ast::as<ast::Call>(n)) {
      auto* m = ast::as<ast::Attribute>(call->func);
      const Entry* entry = m != nullptr && !resolve(call->func) ? catalog_.find_method(m->attr) : nullptr;
      if (entry != nullptr && required_dtype(*entry) != DType::Unknown && keeps_dtype_of(m->value, holders))
        found = required_dtype(*entry);
    }
    if (auto* call = ast::as<ast::Call>(n); call != nullptr && !found) {
      for (std::size_t i = 0; i < call->args.size() && !found; ++i)
        if (keeps_dtype_of(call->args[i], holders))
          if (DType t = required(call, i); t != DType::Unknown) found = t;
    }
    ast::for_each_child(n, scan);
  };
  // Statements in order; a statement's expressions before the statements it holds.
  std::function<void(ast::Node*)> walk = [&](ast::Node* st) {
    std::vector<ast::Node*> inner;
    ast::for_each_child(st, [&](ast::Node* c) {
      if (ast::category(c->kind) == ast::Category::Stmt) inner.push_back(c);
      else scan(c);
    });
    for (ast::Node* c : inner) walk(c);
    // An assignment ends what a holder's uses tell of the parameter, unless the
    // value has its dtype (x = F.relu(x)); a name assigned such a value holds it.
    std::set<std::string> assigned;
    auto targets = [&](ast::Node* t) { ast::collect_names(t, assigned); };
    if (auto* a = ast::as<ast::Assign>(st)) {
      if (keeps_dtype_of(a->value, holders)) {
        for (ast::ExprNode* t : a->targets)
          if (auto* n = ast::as<ast::Name>(t)) holders.insert(std::string(n->id));
      } else {
        for (ast::ExprNode* t : a->targets) targets(t);
      }
    }
    if (auto* a = ast::as<ast::AugAssign>(st);
        a && !(analysis::literal_value(a->value).kind == ConstValue::Kind::Int &&
               (a->op == ast::OperatorKind::Add || a->op == ast::OperatorKind::Sub || a->op == ast::OperatorKind::Mult)))
      targets(a->target);
    if (auto* a = ast::as<ast::AnnAssign>(st)) targets(a->target);
    if (auto* f = ast::as<ast::For>(st)) targets(f->target);
    for (const std::string& n : assigned) holders.erase(n);
  };
  for (ast::StmtNode* st : def->body) {
    if (found || holders.empty()) break;
    walk(st);
  }
  return found.value_or(DType::Unknown);
}

DType Lowerer::input_dtype(const ModuleDesc& d, int depth) {
  if (depth > 4) return DType::Unknown;
  switch (d.kind) {
    case ModuleDesc::Leaf:
      return required_dtype(*d.entry);
    case ModuleDesc::User: {
      if (d.cls->torch_base == analysis::TorchBase::Sequential)
        return input_dtype(values_.self_items(d.cls), depth + 1);
      const ast::FunctionDef* fwd = method(d.cls, "forward");
      if (fwd == nullptr || fwd->args->args.size() < 2) return DType::Unknown;
      return param_dtype(d.cls, fwd, fwd->args->args[1]->arg, depth + 1);
    }
    case ModuleDesc::Seq: {
      // The first item that requires a dtype, after items that keep it (an
      // activation, dropout); built by appends, any item may be first: those
      // that require one must agree.
      std::optional<DType> t;
      for (const ModuleDesc& i : d.items) {
        DType u = input_dtype(i, depth + 1);
        bool keeps = i.kind == ModuleDesc::Leaf && (i.entry->layout == Layout::Any || i.entry->alias || i.entry->view);
        if (u == DType::Unknown && keeps) continue;
        if (u == DType::Unknown || (t && *t != u)) return DType::Unknown;
        if (!d.dynamic) return u;
        t = u;
      }
      return t.value_or(DType::Unknown);
    }
    case ModuleDesc::Union: {
      // Every alternative must agree.
      std::optional<DType> t;
      for (const ModuleDesc& i : d.items) {
        DType u = input_dtype(i, depth + 1);
        if (t && *t != u) return DType::Unknown;
        t = u;
      }
      return t.value_or(DType::Unknown);
    }
    default: return DType::Unknown;
  }
}

// "qkv" for self.qkv, "transformer.proj" for self.transformer.proj or
// self.transformer["proj"] (a ModuleDict's layer); "" for other expressions.
std::string self_module_path(const ast::ExprNode* e) {
  std::vector<std::string> parts;
  while (!ast::is<ast::Name>(e)) {
    if (auto* a = ast::as<ast::Attribute>(e)) {
      parts.emplace_back(a->attr);
      e = a->value;
    } else if (auto* s = ast::as<ast::Subscript>(e)) {
      ConstValue k = analysis::literal_value(s->slice);
      if (k.kind != ConstValue::Kind::Str) return "";
      parts.push_back(k.text);
      e = s->value;
    } else {
      return "";
    }
  }
  if (static_cast<const ast::Name*>(e)->id != "self" || parts.empty()) return "";
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += (path.empty() ? "" : ".") + *it;
  return path;
}

// ModuleDict's own methods: `self.blocks.items` is the method, whatever the keys.
bool module_dict_method(std::string_view attr) {
  static const std::set<std::string_view> kMethods = {"keys", "values", "items", "update", "pop", "clear"};
  return kMethods.count(attr) > 0;
}

// What `owner.<attr>` holds: a module of a ModuleDict (`self.transformer.wte`,
// Unknown for a key it does not have), an attribute of a model class's instance
// (`self.encoder.proj`); nullopt when that is no module (a method, a layer's
// weight).
std::optional<ModuleDesc> Lowerer::module_member(const ModuleDesc& owner, std::string_view attr) {
  if (module_dict(owner)) {
    if (module_dict_method(attr)) return std::nullopt;
    return dict_item(owner, attr).value_or(ModuleDesc{});
  }
  // Blocks (one of several: `stage.proj` in a loop over blocks): what each holds.
  std::vector<const ModuleDesc*> blocks = owner.alternatives();
  if (blocks.empty()) return std::nullopt;
  ModuleDesc held;
  held.kind = ModuleDesc::Union;
  for (const ModuleDesc* b : blocks) {
    if (b->kind != ModuleDesc::User || b->cls == nullptr || method(b->cls, attr) != nullptr) return std::nullopt;
    held = join(std::move(held), values_.attr(b->cls, attr).value_or(ModuleDesc{}));
  }
  return held;
}

// What `container[index]` holds: the module under a constant key of a
// ModuleDict, the item at a constant index of a list with a fixed layout, else
// any item (Unknown when none can be told).
ModuleDesc Lowerer::module_item(const ModuleDesc& container, const ast::ExprNode* index) {
  ConstValue i = analysis::literal_value(index);
  if (module_dict(container)) {
    if (i.kind == ConstValue::Kind::Str) return dict_item(container, i.text).value_or(ModuleDesc{});
    return any_item(container);
  }
  if ((container.kind == ModuleDesc::Seq || container.kind == ModuleDesc::List) && !container.items.empty()) {
    if (i.kind == ConstValue::Kind::Int && !container.dynamic) {
      int64_t n = static_cast<int64_t>(container.items.size());
      int64_t k = i.integer < 0 ? i.integer + n : i.integer;
      if (k >= 0 && k < n) return container.items[static_cast<std::size_t>(k)];
    }
    return any_item(container);
  }
  return ModuleDesc{};
}

// `self.transformer.nope` / `self.transformer["nope"]` on a ModuleDict whose keys
// are all known, none of them `nope`: an error, as in PyTorch. True when the key
// may be there.
bool Lowerer::check_dict_key(const ModuleDesc& owner, const ast::ExprNode* dict, std::string_view key,
                             const ast::Node* at) {
  if (!module_dict(owner) || dict_item(owner, key)) return true;
  std::vector<std::string> keys;
  for (const ModuleDesc* alt : owner.alternatives())
    for (const std::string& k : alt->keys)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  std::string listed;
  for (const std::string& k : keys) listed += (listed.empty() ? "`" : ", `") + k + "`";
  error(diag::Kind::UnsupportedConstruct, at,
        "`" + std::string(key) + "` is not a module of the nn.ModuleDict `" + syntax::unparse(dict) + "`" +
            (listed.empty() ? std::string(" (it is empty)") : " (its keys: " + listed + ")"));
  return false;
}

// Any one of a container's items (the union of them, over each alternative).
ModuleDesc Lowerer::any_item(const ModuleDesc& container) {
  ModuleDesc u;
  u.kind = ModuleDesc::Union;
  for (const ModuleDesc* alt : container.alternatives())
    for (const ModuleDesc& i : alt->items) u = join(std::move(u), i);
  return u.kind == ModuleDesc::Union && u.items.empty() ? ModuleDesc{} : u;
}

// The modules a `for` loop iterates over: `self.layers`, `self.layers.values()`,
// `self.items()` of a ModuleDict subclass, `self` of a ModuleList subclass.
std::optional<ModuleDesc> Lowerer::loop_modules(const ast::ExprNode* iter, bool& pairs) {
  pairs = false;
  const ast::ExprNode* container = iter;
  if (auto* c = ast::as<ast::Call>(iter); c && c->args.empty()) {
    auto* m = ast::as<ast::Attribute>(c->func);
    if (m == nullptr || (m->attr != "items" && m->attr != "values" && m->attr != "children")) return std::nullopt;
    pairs = m->attr == "items";
    container = m->value;
  }
  const ClassInfo* cls = frame_->unit->cls;
  if (auto* n = ast::as<ast::Name>(container); n && n->id == "self" && cls != nullptr) {
    if (cls->torch_base == analysis::TorchBase::Module) return std::nullopt;
    return any_item(values_.self_items(cls));
  }
  // self.blocks[1:]: some of the items.
  if (auto* sub = ast::as<ast::Subscript>(container); sub && ast::is<ast::Slice>(sub->slice)) container = sub->value;
  auto d = module_of(container);
  // A ModuleDict iterates over its keys (`for k in self.heads`), a union of them too.
  if (d && module_dict(*d)) return container == iter ? std::nullopt : std::optional<ModuleDesc>(any_item(*d));
  if (!d || (d->kind != ModuleDesc::List && d->kind != ModuleDesc::Seq)) return std::nullopt;
  return any_item(*d);
}

// Binds the loop targets that iterate over modules (`for block in self.blocks`,
// `for i, block in enumerate(self.blocks)`, `for a, b in zip(self.xs, self.ys)`,
// `for name, m in self.items()`); true when one was bound.
bool Lowerer::bind_loop_modules(const ast::ExprNode* iter, const ast::ExprNode* target) {
  bool pairs = false;
  if (auto d = loop_modules(iter, pairs)) {
    if (auto* t = ast::as<ast::Tuple>(target); t && pairs && t->elts.size() == 2) target = t->elts[1];
    // `for attn, ff in self.layers` over a ModuleList of ModuleLists of one length
    // (lucidrains' blocks): each name is any of the inner lists' items at its place.
    if (auto* t = ast::as<ast::Tuple>(target); t && !pairs) {
      std::vector<ModuleDesc> places(t->elts.size());
      for (ModuleDesc& p : places) p.kind = ModuleDesc::List;
      for (const ModuleDesc* inner : d->alternatives()) {
        if (inner->kind != ModuleDesc::List || inner->dict || inner->dynamic || inner->items.size() != places.size())
          return false;
        for (std::size_t k = 0; k < places.size(); ++k) places[k].items.push_back(inner->items[k]);
      }
      for (std::size_t k = 0; k < places.size(); ++k) {
        auto* n = ast::as<ast::Name>(t->elts[k]);
        if (n == nullptr) return false;
        frame_->module_vars[std::string(n->id)] = any_item(places[k]);
      }
      return true;
    }
    auto* n = ast::as<ast::Name>(target);
    if (n == nullptr) return false;
    frame_->module_vars[std::string(n->id)] = *d;
    return true;
  }
  auto* c = ast::as<ast::Call>(iter);
  auto* fn = c ? ast::as<ast::Name>(c->func) : nullptr;
  auto* t = ast::as<ast::Tuple>(target);
  if (fn == nullptr || t == nullptr || !c->keywords.empty()) return false;
  if (fn->id == "enumerate" && c->args.size() == 1 && t->elts.size() == 2)
    return bind_loop_modules(c->args[0], t->elts[1]);
  if (fn->id == "zip" && c->args.size() == t->elts.size()) {
    bool any = false;
    for (std::size_t i = 0; i < c->args.size(); ++i) any = bind_loop_modules(c->args[i], t->elts[i]) || any;
    return any;
  }
  return false;
}

// Whether `e` is a torch Sequential written as a keras.Sequential, which cannot
// be indexed, sliced, iterated or measured: its `.layers` can.
bool Lowerer::keras_sequential(const ast::ExprNode* e) {
  if (!ast::is<ast::Attribute>(e) && !ast::is<ast::Subscript>(e)) return false;
  auto d = module_of(e);
  return d && d->kind == ModuleDesc::Seq && d->cls == nullptr;
}

// `e` with each keras.Sequential used as a container replaced by its `.layers`
// (`self.features[1:]`, `enumerate(self.blocks)`, `len(self.stages)`).
ast::ExprNode* Lowerer::containers_as_lists(ast::ExprNode* e) {
  if (keras_sequential(e)) return b_.attr(e, "layers");
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    ast::ExprNode* value = containers_as_lists(sub->value);
    if (value == sub->value) return e;
    auto* c = b_.clone(sub);
    c->value = value;
    return c;
  }
  if (auto* call = ast::as<ast::Call>(e)) {
    auto* fn = ast::as<ast::Name>(call->func);
    static const std::set<std::string_view> kIterating = {"enumerate", "zip", "reversed", "list", "len", "iter",
                                                           "tuple"};
    if (fn == nullptr || !kIterating.count(fn->id) || frame_->env.count(std::string(fn->id))) return e;
    return with_args(e, [this](ast::ExprNode* a) { return containers_as_lists(a); });
  }
  return e;
}

// `self.<attr>` renamed where the attribute clashes with a Keras attribute
// (`self.layers` -> `self.layers_`); null for any other attribute.
ast::Attribute* Lowerer::keras_attribute(const ast::Attribute* a) {
  auto* self = ast::as<ast::Name>(a->value);
  if (plain_self_ || self == nullptr || self->id != "self" || !keras_reserved_attributes().count(a->attr)) return nullptr;
  auto* c = b_.clone(a);
  c->attr = b_.arena().copy_string(std::string(a->attr) + "_");
  return c;
}

// A copy of call `e` with `rewrite` applied to each positional argument; `e`
// itself when nothing changed.
ast::ExprNode* Lowerer::with_args(ast::ExprNode* e, const std::function<ast::ExprNode*(ast::ExprNode*)>& rewrite) {
  auto* call = ast::as<ast::Call>(e);
  std::vector<ast::ExprNode*> args;
  bool changed = false;
  for (ast::ExprNode* a : call->args) {
    args.push_back(rewrite(a));
    changed = changed || args.back() != a;
  }
  if (!changed) return e;
  auto* c = b_.clone(call);
  c->args = b_.seq(args);
  return c;
}

// `e` with `self.<attr>` renamed where the attribute clashes with Keras and a
// ModuleDict's module read by key, as lower_expr does (an iterable that is not
// lowered: `for layer in self.layers`, `for block in self.transformer.h`).
ast::ExprNode* Lowerer::module_paths_for_keras(ast::ExprNode* e) {
  if (auto* a = ast::as<ast::Attribute>(e)) {
    if (ast::Attribute* renamed = keras_attribute(a)) return renamed;
    if (auto owner = module_dict_method(a->attr) ? std::nullopt : module_of(a->value); owner && module_dict(*owner)) {
      check_dict_key(*owner, a->value, a->attr, e);
      return b_.subscript(module_paths_for_keras(a->value), b_.string(a->attr));
    }
    ast::ExprNode* v = module_paths_for_keras(a->value);
    if (v == a->value) return e;
    auto* c = b_.clone(a);
    c->value = v;
    return c;
  }
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    ast::ExprNode* v = module_paths_for_keras(sub->value);
    if (v == sub->value) return e;
    auto* c = b_.clone(sub);
    c->value = v;
    return c;
  }
  if (auto* call = ast::as<ast::Call>(e)) {
    // self.transformer.blocks.items(): the method's receiver too.
    auto* c = ast::as<ast::Call>(with_args(e, [this](ast::ExprNode* a) { return module_paths_for_keras(a); }));
    if (auto* m = ast::as<ast::Attribute>(call->func)) {
      ast::ExprNode* receiver = module_paths_for_keras(m->value);
      if (receiver != m->value) {
        auto* method = b_.clone(m);
        method->value = receiver;
        c = c == call ? b_.clone(call) : c;
        c->func = method;
      }
    }
    return c;
  }
  return e;
}

std::vector<Lowerer::Val> Lowerer::lower_elements(ast::Tuple* tuple) {
  std::vector<Val> out;
  for (ast::ExprNode* x : tuple->elts) out.push_back(lower_expr(x));
  return out;
}

ast::Call* Lowerer::relower_call(ast::Call* call, ast::ExprNode* func,
                                 const std::function<void(std::size_t, Val&)>& place) {
  auto* c = b_.clone(call);
  c->func = func;
  bool accept_first = std::exchange(accept_first_arg_, false);
  bool packed_first = std::exchange(accept_packed_first_arg_, false);
  std::vector<ast::ExprNode*> args;
  for (std::size_t i = 0; i < call->args.size(); ++i) {
    accept_flat_ = i == 0 && accept_first;
    accept_packed_ = i == 0 && packed_first;
    Val v = lower_expr(call->args[i]);
    place(i, v);
    args.push_back(v.expr);
  }
  std::vector<ast::Keyword*> kws;
  for (ast::Keyword* kw : call->keywords) {
    Val v = lower_expr(kw->value);
    if (v.fact.tensor() || v.fact.kind == Fact::List) demand_torch(v.fact, v.expr);
    kws.push_back(b_.keyword(kw->arg, v.expr));
  }
  c->args = b_.seq(args);
  c->keywords = b_.seq(kws);
  return c;
}

// The keyword a statement starts with, for messages (`while`, `async for`).
std::string statement_keyword(ast::NodeKind kind) {
  switch (kind) {
    case ast::NodeKind::AsyncFor: return "async for";
    case ast::NodeKind::AsyncWith: return "async with";
    case ast::NodeKind::AsyncFunctionDef: return "async def";
    case ast::NodeKind::ClassDef: return "class";
    case ast::NodeKind::Delete: return "del";
    case ast::NodeKind::ImportFrom: return "from ... import";
    case ast::NodeKind::TryStar: return "try/except*";
    default: break;
  }
  std::string name = ast::name(kind);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// How many times the node `x` itself is in the tree `e` (a catalog form puts the
// argument it substitutes in each place the parameter is named).
int occurrences(const ast::Node* e, const ast::Node* x) {
  if (e == nullptr) return 0;
  if (e == x) return 1;
  int n = 0;
  ast::for_each_child(const_cast<ast::Node*>(e), [&](ast::Node* c) { n += occurrences(c, x); });
  return n;
}

// Item `index` of a tuple display (a tuple form's lowered value: x.max(1) is
// (ops.max(x, axis=1), ops.argmax(x, axis=1))), or null. The items are ops
// without side effects: the others need not be computed.
ast::ExprNode* tuple_item(ast::ExprNode* e, const ConstValue& index) {
  auto* t = ast::as<ast::Tuple>(e);
  if (t == nullptr || index.kind != ConstValue::Kind::Int) return nullptr;
  auto n = static_cast<int64_t>(t->elts.size());
  int64_t i = index.integer < 0 ? index.integer + n : index.integer;
  return i >= 0 && i < n ? t->elts[static_cast<std::size_t>(i)] : nullptr;
}

// Whether `name` is a class or a value the input defines at module level (a
// namedtuple or dataclass of outputs): calling it packs the tensors it is given,
// which go in PyTorch order.
bool Lowerer::module_container(std::string_view name) const {
  for (const ast::StmtNode* s : module_->body) {
    if (auto* c = ast::as<ast::ClassDef>(s); c && c->name == name) return true;
    if (auto* a = ast::as<ast::Assign>(s))
      for (const ast::ExprNode* t : a->targets)
        if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == name) return true;
  }
  return false;
}

// Whether `call` may pass tensors: an argument is a variable holding a tensor or a
// list of tensors, or an expression computed here (a call, an operator, an
// attribute, a subscript).
bool Lowerer::may_pass_tensors(const ast::Call* call) const {
  std::function<bool(const ast::ExprNode*)> maybe = [&](const ast::ExprNode* e) {
    if (auto* st = ast::as<ast::Starred>(e)) e = st->value;
    if (auto* t = ast::as<ast::Tuple>(e)) return std::any_of(t->elts.begin(), t->elts.end(), maybe);
    if (auto* l = ast::as<ast::List>(e)) return std::any_of(l->elts.begin(), l->elts.end(), maybe);
    if (auto* n = ast::as<ast::Name>(e)) {
      auto it = frame_->env.find(std::string(n->id));
      if (it == frame_->env.end()) return false;
      Fact f = resolved(it->second);
      return f.tensor() || f.kind == Fact::List;
    }
    return ast::is<ast::Call>(e) || ast::is<ast::BinOp>(e) || ast::is<ast::Subscript>(e) ||
           (ast::is<ast::Attribute>(e) && static_cast<const ast::Attribute*>(e)->attr != "training");
  };
  for (const ast::ExprNode* a : call->args)
    if (maybe(a)) return true;
  for (const ast::Keyword* k : call->keywords)
    if (maybe(k->value)) return true;
  return false;
}

// A callee that changes a parameter's tensor in place changes the caller's
// variable too: an error when that variable is read after the call (its change
// cannot reach it).
void Lowerer::check_mutated_args(const ast::Call* call, const Unit& u) {
  for (int i : u.mutated_params) {
    auto* n = static_cast<std::size_t>(i) < call->args.size() ? ast::as<ast::Name>(call->args[i]) : nullptr;
    if (n == nullptr) continue;
    bool rebound = false;  // `x = block(x)`, `x, m = f(x)`: the caller's x is replaced anyway
    if (auto* as = ast::as<ast::Assign>(frame_->stmt); as && as->value == call && as->targets.size() == 1) {
      if (auto* t = ast::as<ast::Name>(as->targets[0])) rebound = t->id == n->id;
      if (auto* tt = ast::as<ast::Tuple>(as->targets[0]))
        for (const ast::ExprNode* x : tt->elts)
          if (auto* t = ast::as<ast::Name>(x)) rebound = rebound || t->id == n->id;
    }
    if (!rebound && read_after(std::string(n->id), call)) {
      std::string message = "`";
      message += syntax::unparse(call->func);
      message += "` changes its argument `";
      message += n->id;
      message += "` in place, and it is read after this call; Keras tensors cannot be changed in place, "
                 "so the change would be lost: not supported yet";
      error(diag::Kind::UnsupportedConstruct, call, message);
    }
  }
}

// A call of a unit: each tensor argument in the layout the callee's parameter
// takes; Keras' `training` passed on when the callee reads it.
Lowerer::Val Lowerer::call_unit(ast::Call* call, ast::ExprNode* func, const Unit& u) {
  ast::Call* c = relower_call(call, func, [&](std::size_t i, Val& v) {
    Fact want = i < u.params.size() ? u.params[i] : Fact::torch();
    if (want.kind == Fact::List || resolved(v.fact).kind == Fact::List) {
      if (!(resolved(v.fact) == want) && want.kind != Fact::Pending && want.kind != Fact::NonTensor)
        error(diag::Kind::UnsupportedConstruct, call,
              "this call passes a list of tensors in another layout than the first call did; "
              "use --layout channels_first");
      return;
    }
    if (Fact f = resolved(v.fact); i < u.python_seeds.size() && u.python_seeds[i] &&
                                   (f.kind == Fact::Torch || f.kind == Fact::CL))
      error(diag::Kind::UnsupportedConstruct, call,
            "this call passes a tensor where the first call passed a Python value, and the callee "
            "was converted for a Python value");
    if (v.fact.tensor()) demand_as(want, v.fact, v.expr);
  });
  check_mutated_args(call, u);
  if (u.uses_training) {
    std::vector<ast::Keyword*> kws(c->keywords.begin(), c->keywords.end());
    kws.push_back(b_.keyword("training", b_.name("training")));
    c->keywords = b_.seq(kws);
    frame_->unit->uses_training = true;
  }
  Fact r = u.ret.kind == Fact::Pending ? Fact::torch() : u.ret;
  if (r.spatial == Fact::kInputSpatial) r.spatial = 0;
  return {c, r};
}

Lowerer::Val Lowerer::lower_call(ast::Call* call) {
  // `*x.shape[:2]` among the arguments (Whisper's q.view(*q.shape[:2], h, -1)): the
  // sizes one by one, x.shape[0], x.shape[1], so that the call binds statically.
  for (std::size_t i = 0; i < call->args.size(); ++i) {
    auto* st = ast::as<ast::Starred>(call->args[i]);
    auto* sub = st != nullptr ? ast::as<ast::Subscript>(st->value) : nullptr;
    auto* shape = sub != nullptr ? ast::as<ast::Attribute>(sub->value) : nullptr;
    auto* sl = sub != nullptr ? ast::as<ast::Slice>(sub->slice) : nullptr;
    if (shape == nullptr || shape->attr != "shape" || sl == nullptr || sl->step != nullptr) continue;
    ConstValue lo = sl->lower ? analysis::literal_value(sl->lower) : ConstValue::int_value(0);
    ConstValue hi = sl->upper ? analysis::literal_value(sl->upper) : ConstValue{};
    if (lo.kind != ConstValue::Kind::Int || hi.kind != ConstValue::Kind::Int || lo.integer < 0 ||
        hi.integer < lo.integer || hi.integer - lo.integer > 8)
      continue;
    std::vector<ast::ExprNode*> args(call->args.begin(), call->args.end());
    std::vector<ast::ExprNode*> sizes;
    for (int64_t k = lo.integer; k < hi.integer; ++k) sizes.push_back(b_.subscript(shape, b_.integer(k)));
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    args.insert(args.begin() + static_cast<std::ptrdiff_t>(i), sizes.begin(), sizes.end());
    auto* expanded = b_.clone(call);
    expanded->args = b_.seq(args);
    return lower_call(expanded);
  }
  // Python's random, numpy's and the time in model code: PyTorch runs them at
  // each call; a compiled Keras model (fit(), a tf.function) once, when traced,
  // keeping the value (a LayerDrop's `random.random() < p` would drop the same
  // layers at every step).
  if (!script_mode_)
    if (std::optional<std::string> p = resolve(call->func);
        p && (p->starts_with("random.") || p->starts_with("numpy.random.") || p->starts_with("time.")))
      error(diag::Kind::TracedPythonValue, call,
            "`" + *p + "()` in model code runs once when Keras compiles the model (fit(), a tf.function) "
                                "and its value is kept for every step, where PyTorch calls it each time; draw "
                                "random numbers with keras.random (torch.rand) instead");
  // x.view(x.size(0), -1), x.reshape(x.shape[0], -1): x.flatten(1), PyTorch's
  // idiom, whose merged size stays static (a Dense after it built inside a
  // compiled step needs it).
  if (auto* m = ast::as<ast::Attribute>(call->func);
      m && (m->attr == "view" || m->attr == "reshape") && call->args.size() == 2 && call->keywords.empty() &&
      analysis::literal_value(call->args[1]).kind == ConstValue::Kind::Int &&
      analysis::literal_value(call->args[1]).integer == -1 && batch_size_of(call->args[0], m->value)) {
    auto* flat = b_.clone(call);
    flat->func = b_.attr(m->value, "flatten");
    flat->args = b_.seq(std::vector<ast::ExprNode*>{b_.integer(1)});
    return lower_call(flat);
  }
  // The caller takes a channels-last flatten as it is (Fact::Flat).
  bool accepting = std::exchange(accepting_, false);
  auto in_torch_layout = [this](std::size_t, Val& v) {
    if (v.fact.tensor() || v.fact.kind == Fact::List) demand_torch(v.fact, v.expr);
  };
  if (std::optional<bool> has = torch_hasattr(call)) return {b_.literal(ConstValue::boolean(*has)), {}};
  // 0. A lambda the constructor keeps in an attribute (minGPT's
  // `self.mlpf = lambda x: m.c_proj(m.act(m.c_fc(x)))`): its body, inlined.
  if (ast::ExprNode* inlined = inline_ctor_lambda(call)) {
    accepting_ = accepting;
    return lower_expr(inlined);
  }
  // 1. A module call: self.conv(x), self.layers[0](x), `layer(x)` in a loop.
  if (auto d = module_of(call->func)) {
    Fact out = Fact::torch();
    ast::ExprNode* func = lower_expr(call->func).expr;
    accept_first_arg_ = takes_flat(*d, accepting);  // a Linear reads a flatten as it is
    // An RNN takes a PackedSequence (catalog `packed="input"`) and returns one first.
    accept_packed_first_arg_ = d->kind == ModuleDesc::Leaf && d->entry->packed_param == "input";
    std::vector<Fact> arg_facts(call->args.size());
    // A block lowered at this call (when its input is placed) sees the dtypes of
    // the variables passed after the input too (a boolean mask: `mask == 0`).
    if (const ast::FunctionDef* fwd = d->kind == ModuleDesc::User ? method(d->cls, "forward") : nullptr) {
      Unit& up = units_[{d->cls, fwd}];
      for (std::size_t i = 1; !up.done && !up.busy && i < call->args.size(); ++i)
        if (auto* n = ast::as<ast::Name>(call->args[i]))
          if (auto it = frame_->env.find(std::string(n->id)); it != frame_->env.end() && resolved(it->second).tensor()) {
            if (up.caller_dtypes.size() <= i) up.caller_dtypes.resize(i + 1);
            up.caller_dtypes[i] = resolved(it->second).dtype;
          }
    }
    ast::Call* c = relower_call(call, func, [&](std::size_t i, Val& v) {
      arg_facts[i] = resolved(v.fact);
      if (i == 0 && v.fact.kind == Fact::Packed) {
        out = Fact::packed_result();
        return;
      }
      if (i == 0) {
        out = apply_desc(*d, v.fact, v.expr, call);
        // A layer that may change the channels (a conv) makes a size-1 channel
        // axis something else, and floats of any input.
        if (!layout_free(*d)) out.unit_channel = false, out.dtype = DType::Float;
        return;
      }
      // Further inputs of a model class: the layout its forward takes them in.
      const ast::FunctionDef* fwd = d->kind == ModuleDesc::User ? method(d->cls, "forward") : nullptr;
      auto u = fwd ? units_.find({d->cls, fwd}) : units_.end();
      if (u != units_.end() && u->second.done && i < u->second.params.size() && v.fact.tensor()) {
        demand_as(u->second.params[i], v.fact, v.expr);
        return;
      }
      in_torch_layout(i, v);
    });
    // nn.ReLU(inplace=True) writes into its input; so may a block's forward.
    if (inplace_module(*d) && !call->args.empty()) return mutate(call->args[0], {c, out}, call);
    // One of several modules (chosen by constructor arguments) writes into it.
    if (auto* n = call->args.empty() ? nullptr : ast::as<ast::Name>(call->args[0]);
        n != nullptr && d->kind == ModuleDesc::Union && frame_->env.count(std::string(n->id))) {
      bool some = false;
      for (const ModuleDesc& item : d->items) some = some || inplace_module(item);
      if (some && change_visible(std::string(n->id), call))
        error(diag::Kind::UnsupportedConstruct, call,
              "`" + syntax::unparse(call->func) + "` may be an in-place activation (depending on constructor "
              "arguments) that changes `" + std::string(n->id) + "`, which is read later; not supported");
    }
    if (d->kind == ModuleDesc::Seq && !call->args.empty()) follow_leading_inplace(*d, c, call->args[0], call);
    // Keras takes only tensors positionally: from the first argument after the
    // input that may be a Python value (`self.head(x, 2, 0.5)`), the arguments go
    // by the names of the callee's forward parameters.
    if (const ast::FunctionDef* fwd = d->kind == ModuleDesc::User ? method(d->cls, "forward") : nullptr) {
      const auto& params = fwd->args->args;  // self first
      std::vector<ast::ExprNode*> args(c->args.begin(), c->args.end());
      std::vector<ast::Keyword*> kws(c->keywords.begin(), c->keywords.end());
      std::size_t from = args.size();
      for (std::size_t i = 1; i < args.size() && from == args.size(); ++i) {
        if (ast::is<ast::Starred>(call->args[i])) break;
        const Fact& f = arg_facts[i];
        bool tensor = f.kind == Fact::Torch || f.kind == Fact::CL || f.kind == Fact::Flat || f.kind == Fact::Perm ||
                      f.kind == Fact::List || f.kind == Fact::Packed;
        if (!tensor) from = i;
      }
      if (from < args.size() && args.size() < params.size() && fwd->args->posonlyargs.empty()) {
        for (std::size_t i = from; i < args.size(); ++i) kws.insert(kws.begin() + static_cast<std::ptrdiff_t>(i - from),
                                                                  b_.keyword(params[i + 1]->arg, args[i]));
        args.resize(from);
        c->args = b_.seq(args);
        c->keywords = b_.seq(kws);
      }
    }
    if (d->kind == ModuleDesc::Leaf || (d->kind == ModuleDesc::User && call_params_renamed_.count(d->cls))) {
      const std::set<std::string> leaf = {"mask"};
      const std::set<std::string>& renamed = d->kind == ModuleDesc::Leaf ? leaf : call_params_renamed_.at(d->cls);
      std::vector<ast::Keyword*> kws;
      for (ast::Keyword* kw : c->keywords)
        kws.push_back(kw->arg.data() != nullptr && renamed.count(std::string(kw->arg))
                          ? b_.keyword(b_.arena().copy_string(std::string(kw->arg) + "_"), kw->value)
                          : kw);
      c->keywords = b_.seq(kws);
    }
    if (const ast::FunctionDef* fwd = d->kind == ModuleDesc::User ? method(d->cls, "forward") : nullptr)
      if (auto u = units_.find({d->cls, fwd}); u != units_.end()) check_mutated_args(call, u->second);
    return {c, out};
  }
  // 2. A method of this class on the forward path: self._forward_impl(x).
  if (auto* a = ast::as<ast::Attribute>(call->func)) {
    auto* self = ast::as<ast::Name>(a->value);
    if (self && self->id == "self" && frame_->unit->cls != nullptr) {
      if (const ast::FunctionDef* m = method(frame_->unit->cls, a->attr)) {
        Frame* saved = frame_;
        Unit& u = unit(frame_->unit->cls, m, call);
        frame_ = saved;
        return call_unit(call, call->func, u);
      }
    }
  }
  // 2a. super().forward(x) / super().method(x) in a subclass of a model class: the
  // base class's method (`forward` is Keras' `call`).
  if (auto* a = ast::as<ast::Attribute>(call->func); a && frame_->unit->cls != nullptr) {
    auto* sup = ast::as<ast::Call>(a->value);
    auto* sup_name = sup ? ast::as<ast::Name>(sup->func) : nullptr;
    if (sup_name && sup_name->id == "super") {
      for (ast::ExprNode* base : frame_->unit->cls->node->bases) {
        auto* bn = ast::as<ast::Name>(base);
        const ClassInfo* base_cls = bn ? model_class(bn->id) : nullptr;
        const ast::FunctionDef* m = base_cls ? method(base_cls, a->attr) : nullptr;
        if (m == nullptr) continue;
        Frame* saved = frame_;
        Unit& u = unit(base_cls, m, call);
        frame_ = saved;
        auto* func = b_.attr(b_.call("super", {}), a->attr == "forward" ? "call" : std::string(a->attr));
        return call_unit(call, func, u);
      }
      // super().forward(x) in a subclass of a catalog module (Whisper's
      // `class LayerNorm(nn.LayerNorm)`): the runtime base class's call, with the
      // module's layout.
      const Entry* base = frame_->unit->cls->torch_class.empty() ? nullptr
                                                                  : catalog_.find_module(frame_->unit->cls->torch_class);
      if (base != nullptr && a->attr == "forward" && !call->args.empty()) {
        ModuleDesc leaf;
        leaf.kind = ModuleDesc::Leaf;
        leaf.entry = base;
        Fact out = Fact::torch();
        ast::Call* c = relower_call(call, b_.attr(b_.call("super", {}), "call"), [&](std::size_t i, Val& v) {
          if (i == 0) out = apply_desc(leaf, v.fact, v.expr, call);
          else if (v.fact.tensor() || v.fact.kind == Fact::List) demand_torch(v.fact, v.expr);
        });
        return {c, out};
      }
    }
  }
  // 2b. A module-level function of the input that uses PyTorch: channel_shuffle(x, 2).
  if (auto* n = ast::as<ast::Name>(call->func); n && !frame_->env.count(std::string(n->id))) {
    const ast::FunctionDef* fn = values_.module_function(n->id);
    if (fn != nullptr && (references_torch(const_cast<ast::FunctionDef*>(fn)) || may_pass_tensors(call))) {
      Frame* saved = frame_;
      Unit& u = unit(nullptr, fn, call);
      frame_ = saved;
      return call_unit(call, call->func, u);
    }
  }
  // 2c. A function defined in this forward code (a closure): lowered at its first
  // call, with that call's lists of tensors, and written where it is defined.
  if (auto* n = ast::as<ast::Name>(call->func)) {
    if (auto it = frame_->nested.find(std::string(n->id)); it != frame_->nested.end()) {
      auto [def, placed] = it->second;
      Frame* saved = frame_;
      Unit& u = unit(frame_->unit->cls, def, call);
      frame_ = saved;
      if (u.lowered != nullptr) {
        placed->body = u.lowered->body;
        placed->args = strip_arguments(def->args, u.uses_training);
        placed->decorator_list = {};
      }
      return call_unit(call, call->func, u);
    }
  }
  // isinstance(x, torch.Tensor) is known from x's layout fact.
  if (auto* n = ast::as<ast::Name>(call->func); n && n->id == "isinstance" && call->args.size() == 2 &&
                                                 !frame_->env.count("isinstance")) {
    if (resolve(call->args[1]).value_or("") == "torch.Tensor") {
      Val v = lower_expr(call->args[0]);
      Fact f = resolved(v.fact);
      if (f.tensor()) return {b_.boolean(true), Fact{}};
      if (f.kind == Fact::List) return {b_.boolean(false), Fact{}};
      error(diag::Kind::UnsupportedConstruct, call,
            "cannot tell whether `" + syntax::unparse(call->args[0]) + "` is a tensor here");
      return {call, Fact{}};
    }
  }
  // A list of tensors grows: `features.append(x)` keeps one layout for all elements.
  if (auto* a = ast::as<ast::Attribute>(call->func); a && a->attr == "append" && call->args.size() == 1) {
    if (auto* var = ast::as<ast::Name>(a->value)) {
      auto it = frame_->env.find(std::string(var->id));
      Fact cur = it != frame_->env.end() ? resolved(it->second) : Fact{};
      if (cur.kind == Fact::List || cur.kind == Fact::NonTensor) {
        hold(var, call->args[0]);
        return {relower_call(call, call->func, [&](std::size_t, Val& v) {
                  Fact f = resolved(v.fact);
                  if (!f.tensor()) return;
                  if (cur.kind == Fact::NonTensor) {
                    if (f.kind == Fact::Pending) f = demand_torch(f, v.expr);
                    frame_->env[std::string(var->id)] = Fact::list(f);
                  } else if (cur.elem_cl) {
                    demand_cl(f, cur.rank, v.expr);
                  } else {
                    demand_torch(f, v.expr);
                  }
                }),
                Fact{}};
      }
    }
  }
  // 2d. A method of a block of the input (`self.backbone.forward_features(x)`,
  // `block.split(q)` in a loop over blocks of one class): lowered as a method of
  // that class; the block's `forward` is a call of the block. A method of blocks
  // of several classes is not followed: an error when it is given tensors.
  if (auto* a = ast::as<ast::Attribute>(call->func)) {
    std::optional<ModuleDesc> owner = module_of(a->value);
    std::vector<const ModuleDesc*> alts = owner ? owner->alternatives() : std::vector<const ModuleDesc*>{};
    std::set<const ClassInfo*> classes;
    bool blocks = !alts.empty();
    for (const ModuleDesc* alt : alts) {
      blocks = blocks && alt->kind == ModuleDesc::User && alt->cls != nullptr;
      classes.insert(alt->cls);
    }
    if (blocks && classes.size() == 1) {
      const ClassInfo* cls = *classes.begin();
      if (a->attr == "forward") {
        auto* plain = b_.clone(call);
        plain->func = a->value;
        return lower_call(plain);
      }
      if (const ast::FunctionDef* m = method(cls, a->attr)) {
        Frame* saved = frame_;
        Unit& u = unit(cls, m, call);
        frame_ = saved;
        return call_unit(call, lower_expr(call->func).expr, u);
      }
    } else if (blocks && method(alts[0]->cls, a->attr) != nullptr && may_pass_tensors(call)) {
      error(diag::Kind::UnsupportedConstruct, call,
            "cannot tell what `" + syntax::unparse(call->func) + "` does with the tensors it is given (a "
            "method of blocks of several classes); call the blocks themselves");
      return {call, Fact::torch()};
    }
  }
  // getattr(self.heads, name) and hasattr(self.heads, name) of a ModuleDict, a
  // dict in Keras: self.heads[name] and name in self.heads. setattr, delattr and
  // a getattr default are refused (the dict's attributes are not its layers).
  if (auto* n = ast::as<ast::Name>(call->func);
      n && !call->args.empty() && !frame_->env.count(std::string(n->id)) &&
      (n->id == "getattr" || n->id == "hasattr" || n->id == "setattr" || n->id == "delattr")) {
    if (std::optional<ModuleDesc> owner = module_of(call->args[0]); owner && module_dict(*owner)) {
      if (call->args.size() != 2 || !call->keywords.empty() || n->id == "setattr" || n->id == "delattr") {
        error(diag::Kind::UnsupportedConstruct, call,
              "`" + std::string(n->id) + "` on the nn.ModuleDict `" + syntax::unparse(call->args[0]) +
                  "` is not supported (in Keras it is a dict of layers); index it by key");
        return {call, Fact{}};
      }
      ast::ExprNode* dict = lower_expr(call->args[0]).expr;
      ast::ExprNode* key = lower_expr(call->args[1]).expr;
      if (n->id == "hasattr") return {b_.compare(key, ast::CmpOpKind::In, dict), Fact{}};
      if (ConstValue k = analysis::literal_value(call->args[1]); k.kind == ConstValue::Kind::Str)
        check_dict_key(*owner, call->args[0], k.text, call);
      return {b_.subscript(dict, key), Fact{}};
    }
  }
  // 3. A catalog function or tensor method.
  const Entry* entry = nullptr;
  ast::ExprNode* receiver = nullptr;
  Fact receiver_fact;
  ast::ExprNode* func = nullptr;  // the callee, once lowered
  std::optional<std::string> path = resolve(call->func);
  // An in-place form (`x.add_(y)`, `torch.relu_(x)`, `inplace=True`) writes into
  // this: the entry's value is assigned back (mutate).
  ast::ExprNode* inplace_target = nullptr;
  auto inplace_name = [](std::string_view n) { return n.size() > 1 && n.ends_with("_") && !n.ends_with("__"); };
  if (path) {
    entry = catalog_.find_function(*path);
    if (entry == nullptr && inplace_name(*path) && !call->args.empty()) {
      entry = catalog_.find_function(path->substr(0, path->size() - 1));
      if (entry != nullptr) inplace_target = call->args[0];
    }
    if (entry == nullptr && is_torch_path(*path)) {
      if (*path == "torch.utils.checkpoint.checkpoint" && !call->args.empty()) {
        // checkpoint(fn, *args) is fn(*args) in inference.
        auto* plain = b_.clone(call);
        plain->func = call->args[0];
        std::vector<ast::ExprNode*> rest(call->args.begin() + 1, call->args.end());
        plain->args = b_.seq(rest);
        plain->keywords = {};
        return lower_call(plain);
      }
      error(diag::Kind::UnsupportedOp, call, "`" + *path + "` is not supported yet (no catalog entry)");
      return {call, Fact::torch()};
    }
  } else if (auto* a = ast::as<ast::Attribute>(call->func)) {
    accept_perm_ = reads_permuted(catalog_.find_method(a->attr));
    Val r = lower_expr(a->value);
    // Reused below for a plain call, so the receiver is lowered once (`self.x`
    // attributes go through lower_expr for their Keras renames instead).
    auto* self = ast::as<ast::Name>(a->value);
    if (self == nullptr || self->id != "self") {
      auto* lowered = b_.clone(a);
      lowered->value = r.expr;
      func = lowered;
    }
    if (r.fact.tensor() || r.fact.kind == Fact::Shape) {
      entry = catalog_.find_method(a->attr);
      if (inplace_name(a->attr)) {
        // An entry of the in-place name itself that gives its receiver unchanged
        // (`x.requires_grad_(False)`, a flag) changes no value.
        bool flag = entry != nullptr && entry->alias;
        if (entry == nullptr) entry = catalog_.find_method(a->attr.substr(0, a->attr.size() - 1));
        // `y.add_(1).mul_(2)`: the receiver is y itself, once changed.
        if (entry != nullptr && !flag)
          inplace_target = ast::is<ast::Call>(a->value) && ast::is<ast::Name>(r.expr) ? r.expr : a->value;
      }
      receiver = r.expr;
      receiver_fact = r.fact;
      if (entry == nullptr) {
        error(diag::Kind::UnsupportedOp, call,
              "tensor method `." + std::string(a->attr) + "()` is not supported yet (no catalog entry)");
        return {call, Fact::torch()};
      }
    }
  }
  if (entry == nullptr) {
    // A plain Python call (len, range, a helper function): lower the arguments,
    // in PyTorch layout. A callee the converter cannot follow that is given
    // tensors may return a tensor in any layout: an error, not a guess.
    static const std::set<std::string_view> kPlainBuiltins = {
        "len", "isinstance", "print", "int", "float", "bool", "str", "repr", "type", "hasattr",
        "id", "range", "getattr", "tuple", "list", "dict", "set", "sorted", "enumerate", "zip", "super", "reversed"};
    if (auto* n = ast::as<ast::Name>(call->func); n && !kPlainBuiltins.count(n->id) && !model_class(n->id) &&
                                                  !module_container(n->id) && may_pass_tensors(call)) {
      error(diag::Kind::UnsupportedConstruct, call,
            "cannot tell what `" + std::string(n->id) + "` does with the tensors it is given; call modules, "
            "methods of this class or functions defined in this file");
      return {call, Fact::torch()};
    }
    if (func == nullptr) func = lower_expr(call->func).expr;
    if (auto* listed = ast::as<ast::Call>(containers_as_lists(call)); listed != call) call = listed;
    // len(t) of a tensor: its first axis (the batch axis in either layout), which
    // a compiled graph may know only when it runs.
    if (auto* n = ast::as<ast::Name>(call->func);
        n && n->id == "len" && call->args.size() == 1 && call->keywords.empty() && !frame_->env.count("len")) {
      Val x = lower_expr(call->args[0]);
      if (Fact f = resolved(x.fact); f.tensor()) {
        if (f.kind == Fact::Pending || f.kind == Fact::Flat) demand_torch(f, x.expr);
        return {b_.subscript(b_.call("ops.shape", {x.expr}), b_.integer(0)), Fact{}};
      }
    }
    // Python number functions of a size read at run time (run_time_size): math.sqrt
    // is keras.ops.sqrt (a graph's size is a tensor), except where int() or
    // round() makes an int of it; the result is such a number too.
    const std::string callee = syntax::unparse(call->func);
    const bool to_int = callee == "int" || callee == "round" || callee == "math.floor" || callee == "math.ceil";
    bool run_time = false;
    int_context_ += to_int;
    ast::Call* plain = relower_call(call, func, [&](std::size_t i, Val& v) {
      in_torch_layout(i, v);
      run_time = run_time || resolved(v.fact).run_time_size;
    });
    int_context_ -= to_int;
    Fact number;
    number.run_time_size = run_time;
    if (run_time && callee == "math.sqrt" && plain->args.size() == 1 && plain->keywords.empty() && int_context_ == 0)
      return {b_.call("ops.sqrt", {plain->args[0]}), number};
    // int(t) / float(t) / bool(t) read a tensor's value into Python: fine eagerly,
    // impossible inside a compiled graph.
    if (auto* n = ast::as<ast::Name>(call->func);
        n && (n->id == "int" || n->id == "float" || n->id == "bool") && call->args.size() == 1 &&
        !frame_->env.count(std::string(n->id)) && test_kind(call->args[0]) == TestKind::Tensor)
      error(diag::Kind::UnsupportedConstruct, call,
            "`" + std::string(n->id) + "()` of a tensor reads its value into Python, which a compiled graph "
            "cannot do; keep it a tensor (a tensor condition becomes keras.ops.cond)");
    return {plain, number};
  }

  // `x.view(*shape)`, `x.reshape(*x.shape[:-2], -1)`, `torch.zeros(*size)`: the
  // arguments of a `*size` parameter with a `*` among them go as one tuple, which
  // PyTorch's size functions take too, so that the call binds statically.
  if (const ast::Arguments* sig = entry->def->args; sig->vararg != nullptr) {
    const std::size_t fixed = sig->args.size() - (entry->kind == catalog::EntryKind::Method ? 1 : 0);
    bool starred = false;
    for (std::size_t i = fixed; i < call->args.size(); ++i) starred = starred || ast::is<ast::Starred>(call->args[i]);
    if (starred) {
      std::vector<ast::ExprNode*> args(call->args.begin(), call->args.begin() + static_cast<std::ptrdiff_t>(fixed));
      std::vector<ast::ExprNode*> rest(call->args.begin() + static_cast<std::ptrdiff_t>(fixed), call->args.end());
      // `x.view(*shape)` is x.view(shape).
      args.push_back(rest.size() == 1 ? static_cast<ast::Starred*>(rest[0])->value : b_.tuple(rest));
      auto* packed = b_.clone(call);
      packed->args = b_.seq(args);
      call = packed;
    }
  }
  if (inplace_target == nullptr && !call->args.empty()) {
    const ast::Arguments* sig = entry->def->args;
    std::size_t offset = entry->kind == catalog::EntryKind::Method ? 1 : 0;
    for (std::size_t i = offset; i < sig->args.size(); ++i)
      if (sig->args[i]->arg == "inplace" && i - offset < call->args.size() &&
          analysis::literal_value(call->args[i - offset]).truth().value_or(false))
        inplace_target = call->args[0];
    for (const ast::Keyword* kw : call->keywords)
      if (kw->arg == "inplace" && analysis::literal_value(kw->value).truth().value_or(false))
        inplace_target = entry->kind == catalog::EntryKind::Method ? nullptr : call->args[0];
  }

  InstantiateRequest req;
  req.entry = entry;
  req.channels_last = opt_.channels_last;
  Why why(this, layout_need(*entry));
  // Lower the arguments; find the tensor the layout rule is about.
  // A function's tensor argument (torch.transpose(x, 1, 2)) may be read permuted.
  std::string_view tensor_param = entry->tensor_param;
  if (tensor_param.empty() && entry->kind == catalog::EntryKind::Function && !entry->def->args->args.empty())
    tensor_param = entry->def->args->args[0]->arg;
  bool permuted_ok = entry->kind == catalog::EntryKind::Function && reads_permuted(entry);
  // The parameter that takes a PackedSequence (pad_packed_sequence's `sequence`)
  // takes nothing else: a tensor there is an error in PyTorch too.
  auto takes_packed = [&](std::string_view param, const ast::ExprNode* arg, const Val& v) {
    if (param.empty() || param != entry->packed_param || v.fact.kind == Fact::Packed) return;
    error(diag::Kind::UnsupportedConstruct, arg,
          "`" + syntax::unparse(arg) + "` is not a PackedSequence made in this function (by "
              "`pack_padded_sequence`, or an RNN given one); `" + entry->keys[0] + "` takes only one");
  };
  std::vector<Val> args;
  for (std::size_t i = 0; i < call->args.size(); ++i) {
    const auto& sig = entry->def->args->args;
    std::size_t offset = entry->kind == catalog::EntryKind::Method ? 1 : 0;
    std::string_view param = i + offset < sig.size() ? std::string_view(sig[i + offset]->arg) : std::string_view();
    accept_perm_ = permuted_ok && i < sig.size() && sig[i]->arg == tensor_param;
    accept_packed_ = !param.empty() && param == entry->packed_param;
    args.push_back(lower_expr(call->args[i]));
    takes_packed(param, call->args[i], args.back());
  }
  std::vector<std::pair<ast::Keyword*, Val>> kws;
  for (ast::Keyword* kw : call->keywords) {
    accept_perm_ = permuted_ok && kw->arg == tensor_param;
    accept_packed_ = !entry->packed_param.empty() && kw->arg == entry->packed_param;
    kws.push_back({kw, lower_expr(kw->value)});
    takes_packed(kw->arg, kw->value, kws.back().second);
  }

  // The primary tensor: the receiver, the `tensor` parameter, or the first argument.
  Val* primary = nullptr;
  Val recv_val{receiver, receiver_fact};
  if (receiver != nullptr) primary = &recv_val;
  else if (!entry->tensor_param.empty()) {
    const ast::Arguments* sig = entry->def->args;
    for (std::size_t i = 0; i < sig->args.size() && primary == nullptr; ++i)
      if (sig->args[i]->arg == entry->tensor_param && i < args.size()) primary = &args[i];
    for (auto& [kw, v] : kws)
      if (kw->arg == entry->tensor_param) primary = &v;
  } else if (!args.empty()) {
    primary = &args[0];
  }
  // A reduction given a second tensor is element-wise (torch.max(a, b), x.min(y):
  // PyTorch's overload with `other`); the entry's forms tell them apart by
  // is_tensor / given. A parameter whose kind is open (`def forward(self, x, y)`)
  // is that tensor when its first caller passes one or it is annotated as one
  // (`y: torch.Tensor`), the axis when annotated `int`; else the call is an error
  // (either reading is silently wrong when the other was meant).
  Layout layout = entry->layout;
  auto operand = [&](Val& v) {
    Fact g = resolved(v.fact);
    if (&v == primary || !g.tensor()) return false;
    if (g.kind != Fact::Pending) return true;
    if (frame_ != nullptr && frame_->unit->annotated_tensors.count(g.param)) return true;
    std::optional<Fact> h = hint(g);
    if (h && h->tensor() && h->kind != Fact::Pending) return true;
    error(diag::Kind::UnsupportedConstruct, v.expr,
          "cannot tell whether `" + syntax::unparse(v.expr) + "` is a tensor (`" + syntax::unparse(call->func) +
              "` element-wise) or an axis (a reduction): no caller in this file passes it; annotate the "
              "parameter (`: torch.Tensor` or `: int`)");
    return false;
  };
  if (layout == Layout::Reduce) {
    for (Val& v : args)
      if (operand(v)) layout = Layout::Any;
    for (auto& [kw, v] : kws)
      if (operand(v)) layout = Layout::Any;
  }
  // A reduction's other arguments are tensors only when it is element-wise.
  const bool operands = entry->layout != Layout::Reduce || layout == Layout::Any;
  Fact out = Fact::torch();
  int rank = 0;
  auto torch_all = [&] {
    for (Val& v : args)
      if (v.fact.tensor() || v.fact.kind == Fact::List) v.fact = demand_torch(v.fact, v.expr);
    for (auto& [kw, v] : kws)
      if (v.fact.tensor() || v.fact.kind == Fact::List) v.fact = demand_torch(v.fact, v.expr);
    if (receiver != nullptr && recv_val.fact.tensor()) recv_val.fact = demand_torch(recv_val.fact, recv_val.expr);
  };
  // Dim-style rules work on a list of tensors too (torch.cat).
  auto list_fact = [&](Val& v) -> Fact {
    auto* l = ast::as<ast::List>(v.expr);
    auto* t = ast::as<ast::Tuple>(v.expr);
    if (l == nullptr && t == nullptr) {
      Fact f = resolved(v.fact);
      // A list variable (torch.cat(features, 1)): its elements' layout.
      if (f.kind == Fact::List) return f.element();
      if (f.kind == Fact::NonTensor && ast::is<ast::Name>(v.expr))
        error(diag::Kind::UnsupportedConstruct, call,
              "cannot tell the layout of the tensors in `" + syntax::unparse(v.expr) +
                  "`; build the list in this function from tensors it computes");
      return f;
    }
    return Fact{};
  };
  if (layout == Layout::Permute && primary != nullptr) {
    // ConvNeXt's LayerNorm2d: x.permute(0, 2, 3, 1) of a channels-last x writes nothing.
    Fact f = resolved(primary->fact);
    if (auto s = stored_permute(literal_permutation(*entry, call, f.rank), f, primary->expr)) {
      ast::ExprNode* result = s->axes.empty() ? primary->expr : transposed(b_, primary->expr, s->axes);
      if (!s->out.dims.empty()) sized_result_ = result;
      return {result, s->out};
    }
  }
  switch (layout) {
    case Layout::Any: {
      // Element-wise: every tensor argument in the primary's layout.
      Fact f = primary ? resolved(primary->fact) : Fact{};
      int spatial = f.spatial;  // of the broadcast result (Fact::broadcast_spatial)
      int relabel_spatial = f.relabel_spatial;
      auto others = [&](Val& v) {
        Fact g = resolved(v.fact);
        if (&v == primary || !g.tensor() || g.is_scalar()) return;
        if (f.kind == Fact::Perm) f = demand_torch(f, primary->expr);  // only an alias of x reads it permuted
        if (f.is_scalar()) {  // torch.maximum(s, x): the tensor's layout
          f = g;
          spatial = g.spatial;
          relabel_spatial = g.relabel_spatial;
          return;
        }
        spatial = Fact::broadcast_spatial(spatial, g.spatial);
        if (g.relabel_spatial != f.relabel_spatial) relabel_spatial = 0;  // a broadcast may grow it
        if (f.kind == Fact::CL && g.kind == Fact::Torch && g.spatial == 1 && g.rank == f.rank) demand_cl(g, f.rank, v.expr);
        else if (g.kind == Fact::CL && f.kind == Fact::Torch && f.spatial == 1 && f.rank == g.rank)
          f = demand_cl(f, g.rank, primary->expr);
        else if (f.kind == Fact::CL && g.kind != Fact::CL) demand_torch(f, primary->expr), f = Fact::torch(f.rank);
        else if (g.kind == Fact::CL && f.kind != Fact::CL) demand_torch(g, v.expr);
      };
      for (Val& v : args) others(v);
      for (auto& [kw, v] : kws) others(v);
      out = f.tensor() ? f.with_spatial(spatial) : Fact::torch();
      out.relabel_spatial = f.tensor() ? relabel_spatial : 0;
      for (Val& v : args)
        if (Fact g = resolved(v.fact); &v != primary && g.tensor() && !g.is_scalar() && !g.unit_channel) out.unit_channel = false;
      for (auto& [kw, v] : kws)
        if (Fact g = resolved(v.fact); g.tensor() && !g.is_scalar() && !g.unit_channel) out.unit_channel = false;
      break;
    }
    case Layout::Unsqueeze: {
      // torch.unsqueeze(t, 1) of an (N, H, W) in PyTorch order is channels-last
      // as it is: (N, H, W, 1), a channel axis of size 1 (Fact::unit_channel).
      Fact f = primary ? resolved(primary->fact) : Fact{};
      ConstValue d = bound_literal(*entry, *call, entry->dim_params[0]);
      if (opt_.channels_last && f.kind == Fact::Torch && f.rank >= 3 && f.rank <= 4 &&
          d.kind == ConstValue::Kind::Int && (d.integer == 1 || d.integer == -f.rank)) {
        req.remap = [this](std::string_view, ast::ExprNode*) -> ast::ExprNode* {
          return b_.literal(ConstValue::int_value(-1));
        };
        out = Fact::cl(f.rank + 1);
        out.unit_channel = true;
      } else {
        torch_all();
        out = Fact::torch(f.tensor() && f.rank > 0 ? f.rank + 1 : 0);
        // (N, L) -> (N, 1, L): a Conv1d reading it reshapes it to channels-last.
        Fact in = primary ? resolved(primary->fact) : Fact{};  // in PyTorch order now
        out.unit_channel = in.kind == Fact::Torch && d.kind == ConstValue::Kind::Int &&
                           (d.integer == 1 || (in.rank == 2 && d.integer == -2));
      }
      if (receiver != nullptr) receiver = recv_val.expr;
      break;
    }
    case Layout::Spatial: {
      Fact f = primary ? resolved(primary->fact) : Fact{};
      rank = spatial_rank(*entry, f, call);
      if (primary && entry->rank == Entry::kRankOfInput && !known_rank(f).has_value()) {
        // A function of any rank (F.interpolate) given a tensor of unknown rank:
        // run it in PyTorch's axis order (data_format channels_first), right
        // whatever the rank turns out to be.
        out = Fact::torch().with_spatial(0);
        out.dtype = demand_torch(f, primary->expr).dtype;
        req.channels_last = false;
        rank = 0;
      } else if (primary) {
        out = demand_cl(f, rank, primary->expr).with_spatial(result_spatial(*entry, f, call));
      }
      break;
    }
    case Layout::Flatten:
    case Layout::Reshape: {
      // A flatten of a spatial size 1 tensor (N, 1, 1, C) is already in PyTorch order.
      Fact f = primary ? resolved(primary->fact) : Fact{};
      std::vector<ast::ExprNode*> target = reshape_target(*entry, call);
      bool batch = flattens_batch(*entry, call, f.rank);
      // A view to (A, B, 1, ..., 1): a vector per sample made a 1x1 map, to scale a
      // feature map. Its channels-last form (A, 1, ..., 1, B) is a reshape away.
      bool to_map = opt_.channels_last && target.size() >= 3 && target.size() <= 5 &&
                    (f.kind == Fact::Torch || (f.kind == Fact::CL && f.spatial == 1));
      for (std::size_t i = 2; to_map && i < target.size(); ++i) {
        ConstValue one = analysis::literal_value(target[i]);
        to_map = one.kind == ConstValue::Kind::Int && one.integer == 1;
      }
      if (to_map) {
        // In PyTorch order, with the size 1 known: a channels-last use reshapes it.
        if (f.kind == Fact::CL) demand_torch(f, primary->expr);
        out = Fact::torch(static_cast<int>(target.size())).with_spatial(1);
      } else if (f.kind == Fact::CL && f.spatial == 1 && layout == Layout::Reshape) {
        // (N, 1, 1, C) holds its values in the order (N, C, 1, 1) does: any view of it
        // reads them as PyTorch does.
        out = Fact::torch(static_cast<int>(target.size()));
      } else if (f.kind == Fact::CL && f.spatial == 1 && batch) {
        out = Fact::torch(2);
      } else if (f.kind == Fact::CL && f.spatial > 1 && accepting && frame_->depth == 1 && batch) {
        // (N, H, W, C) flattened in its own order: a Linear reading it gets its
        // weight rows permuted at load time instead of a transpose here.
        out = Fact::flat(f.spatial);
      } else if (std::optional<Fact> g = primary == nullptr ? std::nullopt
                                         : layout == Layout::Reshape ? regroup(*entry, call, *primary, req)
                                                                            : regroup_flatten(*entry, call, *primary, req)) {
        out = *g;
      } else {
        torch_all();
        out = Fact::torch(batch ? 2 : 0);
      }
      if (receiver != nullptr) receiver = recv_val.expr;
      break;
    }
    case Layout::Value:
      out = Fact{};
      break;
    case Layout::Dim:
    case Layout::Reduce:
    case Layout::Shape: {
      Fact f = primary ? list_fact(*primary) : Fact{};
      // A list of tensors: all channels-last of one rank, or all converted.
      if (primary && (ast::is<ast::List>(primary->expr) || ast::is<ast::Tuple>(primary->expr))) {
        auto elts = ast::is<ast::List>(primary->expr) ? static_cast<ast::List*>(primary->expr)->elts
                                                       : static_cast<ast::Tuple*>(primary->expr)->elts;
        std::vector<Fact> facts = primary->elts;
        facts.resize(elts.size());
        bool all_cl = !facts.empty();
        for (auto& g : facts) all_cl = all_cl && g.kind == Fact::CL && g.rank == facts[0].rank;
        if (all_cl) f = facts[0];
        else {
          std::vector<ast::ExprNode*> conv;
          for (std::size_t i = 0; i < elts.size(); ++i) {
            ast::ExprNode* x = elts[i];
            if (facts[i].kind == Fact::CL || facts[i].kind == Fact::Pending) demand_torch(facts[i], x);
            conv.push_back(x);
          }
          primary->expr = ast::is<ast::List>(primary->expr) ? static_cast<ast::ExprNode*>(b_.list(conv))
                                                            : b_.tuple(conv);
          f = Fact::torch();
        }
      }
      if (receiver != nullptr && receiver_fact.kind == Fact::Shape) f = receiver_fact;
      // A parameter: channels-last if its first caller passes it so (its axes remap).
      if (std::optional<Fact> h = hint(f); h && h->kind == Fact::CL) f = demand_cl(f, h->rank, primary->expr);
      if (f.kind == Fact::Pending) f = demand_torch(f, primary->expr);
      if (f.kind == Fact::CL || f.kind == Fact::Shape || f.kind == Fact::Perm) {
        // Remap constant axes; anything else converts the tensor to PyTorch order.
        // (Only x.size(d) reads a permuted x: reads_permuted.)
        int r = f.rank;
        bool ok = true;
        std::map<std::string, ast::ExprNode*> remapped;
        std::vector<int> reduced;
        auto map_axis = [&](int64_t d) -> int64_t {
          if (d < 0) d += r;
          if (!f.order.empty()) return stored_position(f.order, d);  // permuted (channels-last: none)
          if (d == 0) return 0;
          if (d == 1) return -1;
          return d - 1;
        };
        for (const std::string& p : entry->dim_params) {
          ast::ExprNode* given = nullptr;
          const ast::Arguments* sig = entry->def->args;
          std::size_t offset = entry->kind == catalog::EntryKind::Method ? 1 : 0;
          for (std::size_t i = 0; i < sig->args.size(); ++i)
            if (sig->args[i]->arg == p && i >= offset && i - offset < args.size()) given = args[i - offset].expr;
          for (auto& [kw, v] : kws)
            if (kw->arg == p) given = v.expr;
          // An axis left to an int default (sort's and topk's dim=-1) is remapped
          // as if given.
          ConstValue v = given != nullptr ? analysis::literal_value(given) : bound_literal(*entry, *call, p);
          if (given == nullptr && v.kind != ConstValue::Kind::Int) {
            // Reduce: no axis is every axis, whatever their order (a scalar).
            if (layout == Layout::Reduce) {
              reduced.clear();
              for (int d = 0; d < r; ++d) reduced.push_back(d);
              continue;
            }
            ok = false;  // no axis: PyTorch order is simplest
            break;
          }
          if (v.kind == ConstValue::Kind::Int) {
            int64_t m = map_axis(v.integer);
            reduced.push_back(static_cast<int>(v.integer < 0 ? v.integer + r : v.integer));
            remapped[p] = b_.literal(ConstValue::int_value(m));
          } else if (v.kind == ConstValue::Kind::Tuple && v.known()) {
            std::vector<ast::ExprNode*> axes;
            for (auto& item : v.items) {
              if (item.kind != ConstValue::Kind::Int) ok = false;
              reduced.push_back(static_cast<int>(item.integer < 0 ? item.integer + r : item.integer));
              axes.push_back(b_.literal(ConstValue::int_value(map_axis(item.integer))));
            }
            remapped[p] = b_.tuple(axes);
          } else {
            ok = false;
          }
        }
        if (ok) {
          req.remap = [remapped](std::string_view param, ast::ExprNode*) -> ast::ExprNode* {
            auto it = remapped.find(std::string(param));
            return it == remapped.end() ? nullptr : it->second;
          };
          // Axes 0 and 1 (batch, channels) leave the spatial size as it is.
          bool spatial_axes = false;
          for (int d : reduced) spatial_axes = spatial_axes || d >= 2;
          if (layout == Layout::Dim) out = spatial_axes ? f.with_spatial(0) : f;
          else if (layout == Layout::Shape) out = Fact{};
          else {
            // Reduce: keepdim keeps the layout; otherwise see which axes remain.
            bool keep = false;
            for (auto& [kw, v] : kws)
              if (kw->arg == "keepdim") keep = analysis::literal_value(v.expr).truth().value_or(false);
            const ast::Arguments* sig = entry->def->args;
            std::size_t offset = entry->kind == catalog::EntryKind::Method ? 1 : 0;
            for (std::size_t i = 0; i < sig->args.size(); ++i)
              if (sig->args[i]->arg == "keepdim" && i >= offset && i - offset < args.size())
                keep = analysis::literal_value(args[i - offset].expr).truth().value_or(false);
            bool channel_reduced = false;
            int spatial_left = r - 2;
            for (int d : reduced) {
              if (d == 1) channel_reduced = true;
              else if (d >= 2) --spatial_left;
            }
            if (keep) out = f.with_spatial(!spatial_axes ? f.spatial : spatial_left == 0 ? 1 : 0);
            else if (!channel_reduced && spatial_left > 0)
              out = Fact::cl(r - static_cast<int>(reduced.size())).with_spatial(spatial_axes ? 0 : f.spatial);
            else if (static_cast<int>(reduced.size()) == r) out = Fact::scalar();
            else out = Fact::torch(r - static_cast<int>(reduced.size()));
          }
        } else {
          if (receiver != nullptr && receiver_fact.kind == Fact::Shape) {
            error(diag::Kind::UnsupportedConstruct, call, "this use of a channels-last shape is not supported yet");
          } else {
            demand_torch(f, primary->expr);
          }
          out = layout == Layout::Shape ? Fact{} : Fact::torch();
        }
      } else {
        out = layout == Layout::Shape ? Fact{} : Fact::torch();
        // x.mean() of a tensor in PyTorch order: a 0-d tensor.
        if (layout == Layout::Reduce && f.tensor()) {
          bool everything = true;
          for (const std::string& p : entry->dim_params) {
            // No axis (None, or amax's ()), not an int default (kthvalue's dim=-1).
            ConstValue d = bound_literal(*entry, *call, p);
            if (d.kind != ConstValue::Kind::None && !(d.kind == ConstValue::Kind::Tuple && d.items.empty()))
              everything = false;
          }
          if (const ast::ExprNode* k = bound_expr(*entry, *call, "keepdim"); k && analysis::literal_value(k).truth().value_or(true))
            everything = false;
          if (everything) out = Fact::scalar();
        }
      }
      if (receiver != nullptr) receiver = recv_val.expr = primary->expr;
      break;
    }
    default:
      torch_all();
      out = Fact::torch();
      // An op that keeps its input's shape keeps what its fact knows (F.layer_norm).
      if (primary != nullptr && entry->spatial_size == "input" && resolved(primary->fact).kind == Fact::Torch)
        out = resolved(primary->fact);
      break;
  }
  // Only shape-keeping ops (element-wise, the one above) keep a relabelled tensor's size.
  if (layout != Layout::Any && !(layout == Layout::Torch && entry->spatial_size == "input"))
    out.relabel_spatial = 0;
  if (layout != Layout::Any && layout != Layout::Unsqueeze) out.unit_channel = false;
  if (layout != Layout::Any && layout != Layout::Spatial && layout != Layout::Dim &&
      layout != Layout::Reduce && layout != Layout::Shape && layout != Layout::Value &&
      layout != Layout::Flatten && layout != Layout::Reshape && layout != Layout::Unsqueeze)
    torch_all();
  auto pass_arguments = [&] {
    req.self = receiver != nullptr ? recv_val.expr : nullptr;
    req.args.clear();
    for (Val& v : args) req.args.push_back(v.expr);
    req.keywords.clear();
    for (auto& [kw, v] : kws) req.keywords.push_back(b_.keyword(kw->arg, v.expr));
  };
  pass_arguments();
  req.is_tensor = [&args, &kws, primary, operands](const ast::ExprNode* e) {
    for (const Val& v : args)
      if (v.expr == e) return v.fact.tensor() && (operands || &v == primary);
    for (const auto& [kw, v] : kws)
      if (v.expr == e) return v.fact.tensor() && (operands || &v == primary);
    return false;
  };
  req.is_sequence = [](const ast::ExprNode* e) {
    auto* c = ast::as<ast::Call>(e);
    return c != nullptr && syntax::unparse(c->func) == "ops.shape";
  };
  // A device: a string (PyTorch takes dtypes only as torch.* objects, which are
  // lowered to their Keras names and excluded by the catalog), `<tensor>.device`,
  // or a variable named for one (`device`, `self.device`, `dev`).
  req.is_device = [&args, this](const ast::ExprNode* e) {
    // A known tensor is not a device; a parameter whose kind is open may be one.
    for (const Val& v : args)
      if (Fact f = resolved(v.fact); v.expr == e && (f.kind == Fact::Torch || f.kind == Fact::CL)) return false;
    return names_device(e);
  };
  // A variable every assignment of which in this function gives it a dtype:
  // `input_dtype = x.dtype` (HF's LlamaRMSNorm), `dtype = torch.float32`.
  req.is_dtype = [this](const ast::ExprNode* e) {
    auto* n = ast::as<ast::Name>(e);
    if (n == nullptr || frame_ == nullptr || frame_->unit == nullptr || frame_->unit->def == nullptr) return false;
    int dtypes = 0, others = 0;
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* x) {
      // Any other binding of the name (a loop or unpacking target) is not followed.
      if (auto* a = ast::as<ast::Assign>(x)) {
        for (const ast::ExprNode* t : a->targets) {
          if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == n->id) {
            auto* attr = ast::as<ast::Attribute>(a->value);
            std::optional<std::string> p = resolve(a->value);
            bool dtype = (attr != nullptr && attr->attr == "dtype") || (p && catalog_.find_dtype(*p) != nullptr);
            ++(dtype ? dtypes : others);
          } else if (!ast::is<ast::Name>(t)) {
            others += mentions_name(t, n->id);
          }
        }
      }
      if (auto* f = ast::as<ast::For>(x)) others += mentions_name(f->target, n->id);
      ast::for_each_child(const_cast<ast::Node*>(x), scan);
    };
    scan(frame_->unit->def);
    for (const ast::Arg* a : frame_->unit->def->args->args) others += a->arg == n->id;
    return dtypes > 0 && others == 0;
  };
  req.rank = rank;
  InstantiateResult r = instantiate(req, b_);
  // A computed argument the chosen form uses twice (`self.bn(x).flatten(1)` is
  // ops.reshape(t, (ops.shape(t)[0], -1)), x.max(1) reads x for the values and
  // the indices) is computed once, into a variable, and the form made again.
  if (r.expr != nullptr && frame_->hoist != nullptr) {
    bool hoisted = false;
    auto once = [&](ast::ExprNode*& expr) {
      if (expr == nullptr || ast::is<ast::Name>(expr) || ast::is<ast::Constant>(expr)) return;
      if (occurrences(r.expr, expr) < 2) return;
      expr = into_temp(expr);
      hoisted = true;
    };
    if (receiver != nullptr) once(recv_val.expr);
    for (Val& v : args) once(v.expr);
    for (auto& [kw, v] : kws) once(v.expr);
    if (hoisted) {
      pass_arguments();
      r = instantiate(req, b_);
    }
  }
  if (r.expr == nullptr) {
    error(diag::Kind::UnsupportedArgument, call, r.error);
    // The call with its arguments lowered: their torch names (torch.float16) are
    // not reported again as unconverted.
    auto* kept = b_.clone(call);
    kept->args = b_.seq(req.args);
    kept->keywords = b_.seq(req.keywords);
    return {kept, out};
  }
  for (auto& h : r.helpers) out_.helpers.insert(h);
  out.dtype = result_dtype(*entry, r.expr, primary, args, kws);
  // Size symbols: a view's result has the ones regroup gave it, an alias its input's.
  if (entry->alias && primary != nullptr && out.tensor()) out.dims = resolved(primary->fact).dims;
  else if (layout != Layout::Reshape) out.dims.clear();
  if (!out.dims.empty()) sized_result_ = r.expr;
  if (entry->returns_packed) return {r.expr, Fact::packed()};
  // x.size(d), x.numel(): sizes read at run time (Fact::run_time_size).
  if ((layout == Layout::Shape || layout == Layout::Value) && out.kind == Fact::NonTensor) out.run_time_size = true;
  // chunk/split give a list of tensors, and a tuple form (x.max(dim): values and
  // indices) a tuple of them, each in the layout computed for the input.
  if ((entry->returns_list || r.tuple) && out.tensor()) {
    DType value = out.dtype;
    out = Fact::list(out);
    if (r.tuple && !entry->fields.empty()) out.fields = &entry->fields;
    for (catalog::ResultDType d : r.tuple ? entry->item_dtypes : std::vector<catalog::ResultDType>{})
      out.item_dtypes.push_back(d == catalog::ResultDType::Bool    ? DType::Bool
                                : d == catalog::ResultDType::Int   ? DType::Int
                                : d == catalog::ResultDType::Float ? DType::Float
                                                                   : value);
  }
  if (inplace_target != nullptr) return mutate(inplace_target, {r.expr, out}, call);
  return {r.expr, out};
}


// The test of an `if`, `while` or conditional expression (see TestKind). `and`,
// `or` and `not` over tensors become keras.ops.logical_and/_or/_not (Python's
// would call bool() on a tensor, which fails in a compiled graph); Python values
// before the first tensor keep Python's short-circuit (`x is not None and ...`).
Lowerer::Test Lowerer::lower_test(ast::ExprNode* test) {
  if (auto* o = ast::as<ast::BoolOp>(test)) {
    std::vector<Test> parts;
    for (ast::ExprNode* x : o->values) parts.push_back(lower_test(x));
    std::size_t first_tensor = 0;
    while (first_tensor < parts.size() && parts[first_tensor].kind == TestKind::Static) ++first_tensor;
    std::vector<ast::ExprNode*> values;
    for (std::size_t k = 0; k < first_tensor; ++k) {
      // `training and t`: a falsy prefix is the test's value, and keras.ops.cond
      // takes a bool, not None.
      ast::ExprNode* x = parts[k].expr;
      bool plain = ast::is<ast::Name>(x) || ast::is<ast::Attribute>(x);
      values.push_back(plain && first_tensor < parts.size() ? b_.call("bool", {x}) : x);
    }
    TestKind kind = TestKind::Static;
    if (first_tensor < parts.size()) {
      const char* op = o->op == ast::BoolOpKind::And ? "ops.logical_and" : "ops.logical_or";
      ast::ExprNode* chain = parts[first_tensor].expr;
      kind = parts[first_tensor].kind;
      for (std::size_t k = first_tensor + 1; k < parts.size(); ++k) {
        ast::ExprNode* x = parts[k].expr;
        if (parts[k].kind == TestKind::Static && (ast::is<ast::Name>(x) || ast::is<ast::Attribute>(x)))
          x = b_.call("bool", {x});  // `training` may be None
        chain = b_.call(op, {chain, x});
        if (parts[k].kind == TestKind::Tensor) kind = TestKind::Tensor;
      }
      values.push_back(chain);
    }
    if (values.size() == 1) return {values[0], kind};
    auto* c = b_.clone(o);
    c->values = b_.seq(values);
    return {c, kind};
  }
  if (auto* u = ast::as<ast::UnaryOp>(test); u && u->op == ast::UnaryOpKind::Not) {
    Test t = lower_test(u->operand);
    if (t.kind != TestKind::Static) return {b_.call("ops.logical_not", {t.expr}), t.kind};
    // `not hasattr(self.heads, "c")` written as a comparison: `"c" not in self.heads`.
    if (ast::is<ast::Call>(u->operand) && ast::is<ast::Compare>(t.expr)) return {b_.not_(t.expr), t.kind};
    auto* c = b_.clone(u);
    c->operand = t.expr;
    return {c, t.kind};
  }
  Val v = lower_expr(test);
  Fact f = resolved(v.fact);
  if (f.kind == Fact::Torch || f.kind == Fact::CL) {
    // `0 < m < 2`: Python chains with `and`, which calls bool() on a tensor.
    if (auto* c = ast::as<ast::Compare>(v.expr); c && c->ops.size() > 1) {
      ast::ExprNode* chain = nullptr;
      ast::ExprNode* left = c->left;
      for (std::size_t k = 0; k < c->ops.size(); ++k) {
        auto* pair = b_.clone(c);
        pair->left = left;
        pair->ops = b_.seq(std::vector<ast::CmpOpKind>{c->ops[k]});
        pair->comparators = b_.seq(std::vector<ast::ExprNode*>{c->comparators[k]});
        chain = chain ? static_cast<ast::ExprNode*>(b_.call("ops.logical_and", {chain, pair})) : pair;
        left = c->comparators[k];
      }
      return {chain, TestKind::Tensor};
    }
    // `if (y > 0).sum():` tests a number: true when it is not zero, as bool() is.
    bool boolean = ast::is<ast::Compare>(v.expr) || f.boolean();
    if (auto* call = ast::as<ast::Call>(v.expr); call != nullptr && !boolean) {
      std::string callee = syntax::unparse(call->func);
      boolean = callee.starts_with("ops.logical_") || callee == "ops.isnan" || callee == "ops.isinf" ||
                callee == "ops.isfinite" || callee == "ops.any" || callee == "ops.all";
    }
    if (!boolean) return {b_.call("ops.not_equal", {v.expr, b_.integer(0)}), TestKind::Tensor};
    return {v.expr, TestKind::Tensor};
  }
  if (f.kind == Fact::Pending) return {v.expr, TestKind::Unknown};
  return {v.expr, TestKind::Static};
}

void Lowerer::note_maybe_tensor(const Test& t, const ast::Node* at, std::string_view written_as) {
  if (t.kind != TestKind::Unknown) return;
  bool loop = written_as != "keras.ops.cond";
  error(diag::Kind::MaybeTensorCondition, at,
        std::string(loop && ast::is<ast::Call>(at) ? "this loop bound" : "this condition") +
            " may be a Python value or a tensor: written as " + std::string(written_as) +
            (loop ? ", which is right for a Python value and for a tensor inside a compiled graph"
                  : ", which runs only the branch taken for a Python bool and works on a boolean tensor "
                    "inside a compiled graph"));
}

// The spatial size (Fact::spatial) is tracked through names, calls (each catalog
// layout says what it does to it) and the operators that keep shapes; anything
// else (a subscript, a comprehension...) forgets it.
Lowerer::Val Lowerer::lower_expr(ast::ExprNode* e) {
  bool accept = std::exchange(accept_flat_, false);
  bool accept_perm = std::exchange(accept_perm_, false);
  bool accept_packed = std::exchange(accept_packed_, false);
  accepting_ = accept && e != nullptr && e->kind == ast::NodeKind::Call;
  if (e != nullptr) expr_stack_.push_back(e);
  Val v = lower_node(e);
  if (e != nullptr) expr_stack_.pop_back();
  accepting_ = false;
  const ast::ExprNode* sized = std::exchange(sized_result_, nullptr);
  if (e == nullptr) return v;
  // A channels-last flatten read by anything but a Linear: in PyTorch order.
  if (v.fact.kind == Fact::Flat && !accept) v.fact = demand_torch(v.fact, v.expr);
  // A permuted tensor read by anything but a view or a transpose: in PyTorch order.
  if (v.fact.kind == Fact::Perm && !accept_perm) v.fact = demand_torch(v.fact, v.expr);
  // A PackedSequence read by anything but what takes one.
  if (v.fact.holds_packed() && !accept_packed) {
    std::string what = "`" + syntax::unparse(e) + "`";
    what += v.fact.kind == Fact::Packed ? " is a PackedSequence" : " holds a PackedSequence (its first item)";
    error(diag::Kind::UnsupportedConstruct, e,
          what + "; the converter passes one only to an RNN, LSTM or GRU module and to "
                 "`pad_packed_sequence`: pad it with `pad_packed_sequence` before other uses");
    v.fact = Fact{};
  }
  if (e->kind != ast::NodeKind::Name && (sized == nullptr || v.expr != sized)) v.fact = v.fact.unsized();
  if (v.fact.kind == Fact::NonTensor && (v.fact.sym != 0 || shape_read(v.expr))) v.fact.run_time_size = true;
  switch (e->kind) {
    case ast::NodeKind::Name:
    case ast::NodeKind::Call:
    case ast::NodeKind::BinOp:
    case ast::NodeKind::UnaryOp:
    case ast::NodeKind::IfExp:
      return v;
    default:
      v.fact.spatial = 0;
      v.fact.relabel_spatial = 0;
      v.fact.unit_channel = false;
      return v;
  }
}

Lowerer::Val Lowerer::lower_node(ast::ExprNode* e) {
  if (e == nullptr) return {nullptr, {}};
  switch (e->kind) {
    case ast::NodeKind::Name: {
      auto* n = static_cast<ast::Name*>(e);
      ++frame_->reads[std::string(n->id)];
      for (Frame::CondScope* c = frame_->cond; c != nullptr; c = c->parent) ++c->reads[std::string(n->id)];
      auto it = frame_->env.find(std::string(n->id));
      return {e, it != frame_->env.end() ? resolved(it->second) : Fact{}};
    }
    case ast::NodeKind::Attribute: {
      auto* a = static_cast<ast::Attribute*>(e);
      auto* self = ast::as<ast::Name>(a->value);
      if (self && self->id == "self") {
        if (a->attr == "training") {
          frame_->unit->uses_training = true;
          return {b_.name("training"), {}};
        }
        // A parameter or buffer is a tensor in PyTorch's axis order.
        Fact f = frame_->unit->cls != nullptr && tensor_attribute(frame_->unit->cls, a->attr) ? Fact::torch()
                                                                                                : Fact{};
        if (f.tensor()) f.dtype = tensor_attribute_dtype(frame_->unit->cls, a->attr);
        if (ast::Attribute* renamed = keras_attribute(a)) return {renamed, f};
        return {e, f};
      }
      // self.transformer.wte: a module of a ModuleDict, which the Keras model holds
      // in a dict: self.transformer["wte"].
      if (std::optional<ModuleDesc> owner = module_dict_method(a->attr) ? std::nullopt : module_of(a->value);
          owner && module_dict(*owner)) {
        check_dict_key(*owner, a->value, a->attr, e);
        return {b_.subscript(lower_expr(a->value).expr, b_.string(a->attr)), {}};
      }
      // torch.long, torch.float32: the Keras dtype name (catalog/dtypes.py).
      if (auto p = resolve(e); p && is_torch_path(*p))
        if (const std::string* dtype = catalog_.find_dtype(*p)) return {b_.string(*dtype), {}};
      // self.fc.weight, self.conv.stride: a converted layer keeps its weights and
      // settings under Keras' names and shapes (kernel is weight transposed); the
      // catalog knows how to read some parameters in PyTorch's shape.
      if (std::optional<ModuleDesc> d = module_of(a->value); d && d->kind == ModuleDesc::Leaf) {
        // A setting the Keras layer keeps under PyTorch's name (self.lstm.hidden_size).
        if (keeps_setting(*d, a->attr)) {
          auto* c = b_.clone(a);
          c->value = lower_expr(a->value).expr;
          return {c, {}};
        }
        if (const Entry* entry = catalog_.find_parameter(keras_layer_callee(*d), a->attr)) {
          InstantiateRequest req;
          req.entry = entry;
          req.channels_last = opt_.channels_last;
          req.self = lower_expr(a->value).expr;
          InstantiateResult r = instantiate(req, b_);
          if (std::string layer = self_module_path(a->value); !layer.empty()) read_parameters_.insert(layer);
          if (r.expr != nullptr) return {r.expr, Fact::torch()};
        }
        error(diag::Kind::UnsupportedConstruct, e,
              "reading `" + syntax::unparse(e) + "` of a converted `" + d->entry->keys[0] +
                  "` is not supported yet: its Keras layer keeps weights and settings under other names "
                  "and shapes (call the module instead, or use F.* functions with your own parameters)");
      }
      accept_packed_ = true;
      Val v = lower_expr(a->value);
      if (v.fact.holds_packed()) {
        error(diag::Kind::UnsupportedConstruct, e,
              "reading `" + syntax::unparse(e) + "` of a PackedSequence is not supported: PyTorch lays out "
              "its fields (data, batch_sizes, sorted_indices) by time step, which the converted model does "
              "not build; pad it with `pad_packed_sequence` first");
        return {e, Fact{}};
      }
      // A field of PyTorch's named tuple (x.max(1).values): its item.
      if (Fact f = resolved(v.fact); f.kind == Fact::List && f.fields != nullptr) {
        auto field = std::find(f.fields->begin(), f.fields->end(), a->attr);
        if (field != f.fields->end()) {
          auto i = static_cast<int64_t>(field - f.fields->begin());
          if (ast::ExprNode* item = tuple_item(v.expr, ConstValue::int_value(i)))
            return {item, f.item(static_cast<std::size_t>(i))};
          return {b_.subscript(v.expr, b_.integer(i)), f.item(static_cast<std::size_t>(i))};
        }
      }
      // A tensor attribute with a catalog entry (`x.requires_grad`).
      if (const Entry* entry = v.fact.tensor() ? catalog_.find_attribute(a->attr) : nullptr) {
        InstantiateRequest req;
        req.entry = entry;
        req.channels_last = opt_.channels_last;
        // A tensor-valued attribute in PyTorch's axis order (x.T, x.mT).
        Fact torch_fact;
        if (entry->layout == Layout::Torch) torch_fact = demand_torch(v.fact, v.expr);
        req.self = v.expr;
        InstantiateResult r = instantiate(req, b_);
        if (r.expr != nullptr && entry->layout == Layout::Torch) {
          Fact out = Fact::torch();
          out.dtype = torch_fact.dtype;
          return {r.expr, out};
        }
        // x.data is x; other attributes are Python values (x.requires_grad).
        if (r.expr != nullptr) return {r.expr, entry->layout == Layout::Any ? v.fact : Fact{}};
        error(diag::Kind::UnsupportedArgument, e, r.error);
        return {e, {}};
      }
      if (v.fact.tensor() && a->attr == "shape") {
        // The whole shape, in PyTorch's axis order (`n, c, h, w = x.shape`); a
        // constant entry of a channels-last shape is remapped instead (Subscript).
        demand_torch(v.fact, v.expr);
        return {b_.call("ops.shape", {v.expr}), {}};
      }
      // Any other attribute of a tensor (x.H, x.grad, x.is_leaf) has no catalog
      // entry: passed on, it would fail at run time or mean something else. (A
      // parameter whose layout is undecided may be any value: `cfg.size`.)
      if (Fact f = resolved(v.fact); f.tensor() && f.kind != Fact::Pending) {
        error(diag::Kind::UnsupportedOp, e,
              "tensor attribute `." + std::string(a->attr) + "` (in `" + syntax::unparse(e) +
                  "`) is not in the catalog: it has no Keras translation yet");
        return {e, {}};
      }
      if (v.expr != a->value) {
        auto* c = b_.clone(a);
        c->value = v.expr;
        return {c, {}};
      }
      return {e, {}};
    }
    case ast::NodeKind::Call:
      return lower_call(static_cast<ast::Call*>(e));
    case ast::NodeKind::BinOp: {
      auto* o = b_.clone(static_cast<ast::BinOp*>(e));
      Val l = lower_expr(o->left), r = lower_expr(o->right);
      place_parameter(o->left, l, r);
      place_parameter(o->right, r, l);
      Fact lf = resolved(l.fact), rf = resolved(r.fact);
      if (o->op == ast::OperatorKind::MatMult) {
        // `a @ b` multiplies matrices of the last two PyTorch axes: PyTorch order.
        Why why(this, "`@` multiplies matrices of the last two axes in PyTorch's order");
        if (lf.tensor()) demand_torch(lf, l.expr);
        if (rf.tensor()) demand_torch(rf, r.expr);
        // keras.ops.matmul, not TensorFlow's `@`, which refuses a 1-D operand
        // (torch.matmul's vector rules: `h @ context` with context of shape (D,)).
        if (lf.tensor() || rf.tensor()) return {b_.call("ops.matmul", {l.expr, r.expr}), Fact::torch()};
        o->left = l.expr;
        o->right = r.expr;
        return {o, Fact::torch()};
      }
      Fact out = lf.tensor() ? lf : rf;
      // A 0-d tensor goes with a tensor in any layout.
      if (lf.is_scalar() && rf.tensor()) out = rf, lf = rf;
      else if (rf.is_scalar() && lf.tensor()) rf = lf;
      if (lf.tensor() && rf.tensor() && !lf.same_axes(rf)) {
        if (lf.kind == Fact::Pending && rf.kind == Fact::CL) out = demand_cl(lf, rf.rank, l.expr);
        else if (rf.kind == Fact::Pending && lf.kind == Fact::CL) out = demand_cl(rf, lf.rank, r.expr);
        else if (lf.kind == Fact::CL && rf.kind == Fact::Torch && rf.rank == lf.rank) out = demand_cl(rf, lf.rank, r.expr), out = lf;
        else if (rf.kind == Fact::CL && lf.kind == Fact::Torch && lf.rank == rf.rank) demand_cl(lf, rf.rank, l.expr), out = rf;
        else {
          demand_torch(lf, l.expr);
          demand_torch(rf, r.expr);
          out = Fact::torch(std::max(lf.rank, rf.rank));
        }
      }
      if (lf.tensor() && rf.tensor()) {
        out = out.with_spatial(Fact::broadcast_spatial(lf.spatial, rf.spatial));
        if (lf.relabel_spatial != rf.relabel_spatial) out.relabel_spatial = 0;  // a broadcast may grow it
        out.unit_channel = lf.unit_channel && rf.unit_channel;
      }
      o->left = l.expr;
      o->right = r.expr;
      if (resolved(l.fact).boolean() || resolved(r.fact).boolean()) return lower_boolean_arithmetic(o, l, r, out);
      if (const char* op = keras_operator(o->op); op != nullptr && (lf.tensor() || rf.tensor())) {
        Promotion p = promote(o->op == ast::OperatorKind::Div, false, operand(l), operand(r));
        out.dtype = p.dtype;
        if (p.keras_op) return {b_.call(op, {l.expr, r.expr}), out};
      }
      if (!lf.tensor() && !rf.tensor() && (lf.run_time_size || rf.run_time_size)) {
        // Python float arithmetic on a size read at run time (`q.shape[-1] ** -0.5`):
        // keras.ops, right for a Python int and for a graph's int32 size tensor,
        // which TensorFlow's operators refuse to combine with a float (or make
        // float64 of, `d / 2`). An int result stays Python's; so does the argument
        // of int()/round()/math.floor (a shape that a static graph needs as ints).
        out = Fact{};
        out.run_time_size = true;
        const char* op = keras_operator(o->op);
        ConstValue exponent = analysis::literal_value(r.expr);
        bool float_result = o->op == ast::OperatorKind::Div || operand(l).dtype == DType::Float ||
                            operand(r).dtype == DType::Float ||
                            (o->op == ast::OperatorKind::Pow &&
                             !(exponent.kind == ConstValue::Kind::Int && exponent.integer >= 0) && !rf.run_time_size);
        if (op != nullptr && float_result && int_context_ == 0) return {b_.call(op, {l.expr, r.expr}), out};
      }
      return {o, out};
    }
    case ast::NodeKind::UnaryOp: {
      auto* o = b_.clone(static_cast<ast::UnaryOp*>(e));
      Val v = lower_expr(o->operand);
      // `not hasattr(self.heads, "c")` written as a comparison: `"c" not in self.heads`.
      if (o->op == ast::UnaryOpKind::Not && ast::is<ast::Call>(o->operand) && ast::is<ast::Compare>(v.expr))
        return {b_.not_(v.expr), v.fact};
      o->operand = v.expr;
      return {o, v.fact};
    }
    case ast::NodeKind::Subscript: {
      auto* s = b_.clone(static_cast<ast::Subscript*>(e));
      if (std::optional<ModuleDesc> owner = module_of(s->value); owner && module_dict(*owner))
        if (ConstValue k = analysis::literal_value(s->slice); k.kind == ConstValue::Kind::Str)
          check_dict_key(*owner, s->value, k.text, e);
      Val v{nullptr, {}};
      // x.shape[1] of a channels-last x: its shape, entry remapped below.
      // The receiver is lowered once, whatever it holds.
      if (auto* sa = ast::as<ast::Attribute>(s->value); sa && sa->attr == "shape") {
        accept_perm_ = true;
        Val x = lower_expr(sa->value);
        Fact xf = resolved(x.fact);
        if ((xf.kind == Fact::CL || xf.kind == Fact::Perm) &&
            analysis::literal_value(s->slice).kind == ConstValue::Kind::Int) {
          Fact shape{Fact::Shape, xf.rank};
          shape.order = xf.order;  // a permuted x's; channels-last: empty
          v = {b_.call("ops.shape", {x.expr}), shape};
        } else if (xf.tensor()) {
          demand_torch(xf, x.expr);
          v = {b_.call("ops.shape", {x.expr}), {}};
        } else {
          auto* attr = b_.clone(sa);
          attr->value = x.expr;
          v = {attr, {}};
        }
      } else {
        accept_packed_ = true;  // an RNN's result indexed: `self.lstm(packed)[0]`
        v = lower_expr(s->value);
        if (keras_sequential(s->value)) v.expr = b_.attr(v.expr, "layers");  // self.features[:4]
      }
      Fact f = resolved(v.fact);
      if (f.holds_packed()) {
        // Item 0 of an RNN's result given a PackedSequence is one; its other items
        // are tensors. PyTorch's PackedSequence is a tuple too, but its items
        // (data, batch_sizes...) are laid out by time step.
        ConstValue i = analysis::literal_value(s->slice);
        if (f.kind == Fact::List && i.kind == ConstValue::Kind::Int && i.integer >= 0) {
          s->value = v.expr;
          return {s, f.item(static_cast<std::size_t>(i.integer))};
        }
        error(diag::Kind::UnsupportedConstruct, e,
              f.kind == Fact::Packed
                  ? "indexing the PackedSequence `" + syntax::unparse(s->value) + "` is not supported: PyTorch "
                        "lays out its fields (data, batch_sizes...) by time step, which the converted model "
                        "does not build; pad it with `pad_packed_sequence` first"
                  : "`" + syntax::unparse(s->value) + "` holds a PackedSequence first: index it with a "
                        "non-negative int literal, or unpack it");
        return {e, Fact{}};
      }
      if (f.kind == Fact::Shape) {
        ConstValue i = analysis::literal_value(s->slice);
        if (i.kind == ConstValue::Kind::Int) {
          int64_t d = i.integer < 0 ? i.integer + f.rank : i.integer;
          int64_t m = d == 0 ? 0 : d == 1 ? f.rank - 1 : d - 1;
          if (!f.order.empty()) m = stored_position(f.order, d);
          s->value = v.expr;
          s->slice = b_.integer(m);
          return {s, {}};
        }
        error(diag::Kind::UnsupportedConstruct, e, "this use of a channels-last shape is not supported yet");
      }
      if (f.kind == Fact::List) {
        // An item of a list of tensors (x.chunk(2, 1)[0]) has the items' layout; a
        // slice is a list like it. An item of a tuple form is its expression
        // (x.max(1)[0] is ops.max(x, axis=1)).
        ConstValue index = analysis::literal_value(s->slice);
        Fact item = index.kind == ConstValue::Kind::Int && index.integer >= 0
                        ? f.item(static_cast<std::size_t>(index.integer))
                        : f.element();
        if (ast::ExprNode* x = tuple_item(v.expr, index)) return {x, item};
        s->value = v.expr;
        Val idx = lower_expr(s->slice);
        s->slice = idx.expr;
        return {s, ast::is<ast::Slice>(s->slice) ? f : item};
      }
      if (f.tensor()) {
        if (std::optional<Val> picked = take_index(s, f, v.expr)) {
          picked->fact.dtype = f.dtype;  // items keep the dtype
          return *picked;
        }
        bool listed = ast::is<ast::List>(s->slice);
        if (auto* t = ast::as<ast::Tuple>(s->slice))
          for (const ast::ExprNode* i : t->elts) listed = listed || ast::is<ast::List>(i);
        if (listed)
          error(diag::Kind::UnsupportedConstruct, e,
                "indexing a tensor with a list is supported as its only index besides `:`s, of int "
                "literals (x[:, [0, 2]] is keras.ops.take); write torch.index_select for the rest");
      }
      // A parameter indexed first: the layout its first caller passes it in.
      if (std::optional<Fact> h = hint(f); h && h->kind == Fact::CL) {
        if (index_channels_last(s, h->rank, /*dry=*/true)) f = demand_cl(f, h->rank, v.expr);
      }
      if (f.kind == Fact::CL && opt_.channels_last) {
        // x[:, c], x[:, a:b, ::2]: the channel index moves last (x[..., c]).
        if (std::optional<Fact> g = index_channels_last(s, f.rank)) {
          s->value = v.expr;
          g->dtype = f.dtype;
          return {s, *g};
        }
      }
      if (f.tensor()) demand_torch(f, v.expr);
      s->value = v.expr;
      Val idx = lower_expr(s->slice);
      s->slice = idx.expr;
      bool tensor_index = false;
      for (const Fact& g : idx.elts) tensor_index = tensor_index || g.kind == Fact::Torch || g.kind == Fact::CL;
      // x[index] with an integer tensor `index` alone (Swin's relative position
      // table): the rows it names, index.shape + x.shape[1:], as keras.ops.take
      // along axis 0. A mask known to be boolean is an error below; one that is not
      // known fails loudly in the gather.
      if (Fact g = resolved(idx.fact); f.tensor() && g.tensor() && !g.boolean() && !ast::is<ast::Tuple>(s->slice)) {
        demand_torch(g, idx.expr);
        Fact rows = Fact::torch();
        rows.dtype = f.dtype;
        return {b_.call("ops.take", {v.expr, idx.expr}, {b_.keyword("axis", b_.integer(0))}), rows};
      }
      if (Fact g = resolved(idx.fact); g.kind == Fact::Torch || g.kind == Fact::CL) tensor_index = true;
      // x[i, j] / x[:, i]: integer index tensors (PyTorch's advanced indexing; the
      // last valid step of padded sequences, out[torch.arange(B), lengths - 1]).
      if (auto* t = ast::as<ast::Tuple>(s->slice); f.tensor() && tensor_index && t && t->elts.size() == idx.elts.size()) {
        auto full = [](const ast::ExprNode* x) {
          auto* sl = ast::as<ast::Slice>(x);
          return sl != nullptr && !sl->lower && !sl->upper && !sl->step;
        };
        std::vector<std::size_t> tensors;
        bool others_full = true;
        for (std::size_t i = 0; i < t->elts.size(); ++i) {
          Fact g = resolved(idx.elts[i]);
          // (A parameter beside a tensor index is one too: `lengths - 1`.)
          if ((g.kind == Fact::Torch || g.kind == Fact::CL || g.kind == Fact::Pending) && !g.boolean())
            tensors.push_back(i);
          else
            others_full = others_full && full(t->elts[i]);
        }
        bool leading = !tensors.empty() && tensors.back() + 1 == tensors.size();
        if (others_full && (leading || tensors.size() == 1)) {
          for (std::size_t i : tensors) {
            Fact g = resolved(idx.elts[i]);
            demand_torch(g, t->elts[i]);
          }
          Fact rows = Fact::torch();
          rows.dtype = f.dtype;
          if (tensors.size() == 1)  // x[:, i]: the entries i names along that axis
            return {b_.call("ops.take", {v.expr, t->elts[tensors[0]]},
                            {b_.keyword("axis", b_.integer(static_cast<int64_t>(tensors[0])))}),
                    rows};
          std::vector<ast::ExprNode*> indices;
          for (std::size_t i : tensors) indices.push_back(t->elts[i]);
          out_.helpers.insert("pytorch_advanced_index");
          return {b_.call("pytorch_advanced_index", {v.expr, b_.tuple(indices)}), rows};
        }
      }
      if (f.tensor() && tensor_index)
        error(diag::Kind::UnsupportedConstruct, e,
              "indexing a tensor with a tensor is not supported: a boolean mask gives a shape that depends "
              "on the data, which a compiled graph cannot hold (use torch.where(mask, x, y)), and an index "
              "tensor is a gather (torch.index_select / torch.gather)");
      Fact item = f.tensor() ? Fact::torch() : Fact{};
      item.dtype = f.dtype;  // items keep the dtype
      return {s, item};
    }
    case ast::NodeKind::Tuple:
    case ast::NodeKind::List: {
      bool is_list = e->kind == ast::NodeKind::List;
      auto elts = is_list ? static_cast<ast::List*>(e)->elts : static_cast<ast::Tuple*>(e)->elts;
      std::vector<ast::ExprNode*> out;
      std::vector<Fact> facts;
      bool changed = false;
      for (ast::ExprNode* x : elts) {
        Val v = lower_expr(x);
        changed = changed || v.expr != x;
        out.push_back(v.expr);
        facts.push_back(resolved(v.fact));
      }
      // A list display of tensors: one layout for all of them. Parameters whose
      // layout is still open take the others' (PyTorch order when all are open).
      Fact list_fact;
      if (is_list && !facts.empty()) {
        std::optional<Fact> decided;
        for (const Fact& f : facts)
          if (f.kind == Fact::CL || f.kind == Fact::Torch) decided = decided ? decided : std::optional<Fact>(f);
        // All open: the layout the first caller passes the first one in.
        if (!decided)
          for (const Fact& f : facts)
            if (std::optional<Fact> h = hint(f); !decided && h && h->kind == Fact::CL) decided = h;
        for (std::size_t i = 0; i < facts.size(); ++i) {
          if (facts[i].kind != Fact::Pending) continue;
          if (decided && decided->kind == Fact::CL) facts[i] = demand_cl(facts[i], decided->rank, out[i]);
          else facts[i] = demand_torch(facts[i], out[i]);
          changed = true;
        }
        bool all_tensors = true, all_same = true;
        for (const Fact& f : facts) {
          all_tensors = all_tensors && (f.kind == Fact::CL || f.kind == Fact::Torch);
          all_same = all_same && f.same_axes(facts[0]);
        }
        if (all_tensors && !all_same) {
          for (std::size_t i = 0; i < out.size(); ++i)
            if (facts[i].kind == Fact::CL) facts[i] = demand_torch(facts[i], out[i]), changed = true;
          for (Fact& f : facts) f = Fact::torch(f.rank);
        }
        if (all_tensors) list_fact = Fact::list(facts[0]);
      }
      if (!changed) return {e, list_fact, facts};
      if (is_list) return {b_.list(out), list_fact, facts};
      return {b_.tuple(out), {}, facts};
    }
    case ast::NodeKind::Compare: {
      auto* c = b_.clone(static_cast<ast::Compare*>(e));
      // `x is None`, `k in d`: Python values whatever the operands are.
      bool identity = true;
      for (ast::CmpOpKind op : c->ops)
        identity = identity && (op == ast::CmpOpKind::Is || op == ast::CmpOpKind::IsNot ||
                                op == ast::CmpOpKind::In || op == ast::CmpOpKind::NotIn);
      // Element-wise, like a binary operator: tensors of one layout (a scalar
      // goes with any), else all in PyTorch order.
      std::vector<Val> vals{lower_expr(c->left)};
      for (ast::ExprNode* x : c->comparators) vals.push_back(lower_expr(x));
      std::optional<Fact> common;
      bool mixed = false, any_tensor = false;
      for (Val& v : vals) {
        Fact f = resolved(v.fact);
        if (!f.tensor()) continue;
        any_tensor = true;
        if (f.is_scalar()) continue;
        if (!common) common = f;
        else if (!common->same_axes(f) || f.kind == Fact::Pending) mixed = true;
        else common = common->meet(f);
      }
      if (identity || mixed || (common && common->kind != Fact::CL && common->kind != Fact::Torch)) {
        for (Val& v : vals)
          if (resolved(v.fact).tensor()) demand_torch(v.fact, v.expr);
        common = Fact::torch();
      }
      c->left = vals[0].expr;
      std::vector<ast::ExprNode*> cs;
      for (std::size_t i = 1; i < vals.size(); ++i) cs.push_back(vals[i].expr);
      c->comparators = b_.seq(cs);
      Fact out = any_tensor && !identity ? (common ? *common : Fact::scalar()) : Fact{};
      if (!out.tensor()) return {c, out};
      out.dtype = DType::Bool;
      // A single comparison PyTorch promotes and TensorFlow does not (Promotion).
      if (const char* op = c->ops.size() == 1 ? keras_comparison(c->ops[0]) : nullptr;
          op != nullptr && promote(false, true, operand(vals[0]), operand(vals[1])).keras_op)
        return {b_.call(op, {vals[0].expr, vals[1].expr}), out};
      return {c, out};
    }
    case ast::NodeKind::Slice: {
      // Bounds like `x.size(1) // 2` are expressions to lower too.
      auto* sl = b_.clone(static_cast<ast::Slice*>(e));
      for (ast::ExprNode** part : {&sl->lower, &sl->upper, &sl->step})
        if (*part != nullptr) {
          Val v = lower_expr(*part);
          if (resolved(v.fact).tensor()) demand_torch(v.fact, v.expr);
          *part = v.expr;
        }
      return {sl, {}};
    }
    case ast::NodeKind::Dict: {
      // A dict of outputs: its tensors in PyTorch order.
      auto* d = b_.clone(static_cast<ast::Dict*>(e));
      std::vector<ast::ExprNode*> keys, values;
      for (ast::ExprNode* k : d->keys) keys.push_back(k ? lower_expr(k).expr : nullptr);
      for (ast::ExprNode* v : d->values) {
        Val x = lower_expr(v);
        if (Fact f = resolved(x.fact); f.tensor() || f.kind == Fact::List) demand_torch(f, x.expr);
        values.push_back(x.expr);
      }
      d->keys = b_.seq(keys);
      d->values = b_.seq(values);
      return {d, {}};
    }
    case ast::NodeKind::ListComp:
    case ast::NodeKind::SetComp:
    case ast::NodeKind::DictComp:
    case ast::NodeKind::GeneratorExp: {
      // Not followed yet: one over tensors or modules is an error, not a guess.
      bool tensors = false;
      std::set<std::string> names;
      ast::collect_names(e, names);
      for (const std::string& n : names) {
        auto it = frame_->env.find(n);
        tensors = tensors || n == "self" || (it != frame_->env.end() && (resolved(it->second).tensor() ||
                                                                           resolved(it->second).kind == Fact::List));
      }
      if (tensors) {
        // comprehension_loop writes them as loops, unless a variable of theirs is read after.
        std::string used;
        auto gens = ast::is<ast::ListComp>(e)       ? static_cast<ast::ListComp*>(e)->generators
                    : ast::is<ast::GeneratorExp>(e) ? static_cast<ast::GeneratorExp*>(e)->generators
                                                    : ast::Seq<ast::Comprehension*>{};
        for (ast::Comprehension* g : gens) {
          std::set<std::string> targets;
          ast::collect_names(g->target, targets);
          for (const std::string& t : targets)
            if (used.empty() && frame_->stmt != nullptr &&
                read_outside_comprehensions(frame_->unit->def, t, frame_->stmt->loc))
              used = t;
        }
        refused_.insert(e);
        error(diag::Kind::UnsupportedConstruct, e,
              !used.empty()
                  ? "this comprehension over tensors or modules would be written as a loop, which binds `" + used +
                        "`, a name read after it; rename the comprehension's variable"
                  : std::string("comprehensions over tensors or modules are converted in a list display or "
                                "a call's argument; write a `for` loop"));
      }
      return {e, {}};
    }
    case ast::NodeKind::BoolOp: {
      // `self.training and self.aux_logits`: Python values; tensors in PyTorch order.
      auto* o = b_.clone(static_cast<ast::BoolOp*>(e));
      std::vector<ast::ExprNode*> values;
      bool tensor = false;
      for (ast::ExprNode* x : o->values) {
        Val v = lower_expr(x);
        // A parameter (Pending) may be a Python bool (`training`): left undecided.
        if (Fact f = resolved(v.fact); f.kind == Fact::CL || f.kind == Fact::Torch)
          demand_torch(f, v.expr), tensor = true;
        values.push_back(v.expr);
      }
      o->values = b_.seq(values);
      return {o, tensor ? Fact::torch() : Fact{}};
    }
    case ast::NodeKind::IfExp: {
      auto* o = b_.clone(static_cast<ast::IfExp*>(e));
      Test t = lower_test(o->test);
      o->test = t.expr;
      ++conditional_depth_;
      Val x = lower_expr(o->body), y = lower_expr(o->orelse);
      --conditional_depth_;
      if (!resolved(x.fact).same_axes(resolved(y.fact))) {
        if (x.fact.tensor()) demand_torch(x.fact, x.expr);
        if (y.fact.tensor()) demand_torch(y.fact, y.expr);
        x.fact = Fact::torch();
      }
      x.fact = resolved(x.fact).meet(resolved(y.fact));
      if (t.kind != TestKind::Static) {
        // `a if t else b` on a tensor t: keras.ops.cond runs only the branch taken.
        note_maybe_tensor(t, o->test, "keras.ops.cond");
        return {b_.call("ops.cond", {t.expr, b_.lambda(x.expr), b_.lambda(y.expr)}),
                x.fact.tensor() ? x.fact : Fact::torch()};
      }
      o->body = x.expr;
      o->orelse = y.expr;
      return {o, x.fact};
    }
    case ast::NodeKind::Starred: {
      // `(*x.shape[:-2], -1)`: the iterable lowered (ops.shape(x)[:-2]).
      auto* st = b_.clone(static_cast<ast::Starred*>(e));
      Val v = lower_expr(st->value);
      if (v.expr == st->value) return {e, {}};
      st->value = v.expr;
      return {st, {}};
    }
    default:
      return {e, {}};
  }
}

void Lowerer::lower_stmt(ast::StmtNode* s, std::vector<ast::StmtNode*>& out) {
  // `a, (b, c) = value`: each name gets the fact of the item it unpacks (the
  // items of a list of tensors, nested as deep as the targets are).
  std::function<void(ast::ExprNode*, Fact)> bind_target = [&](ast::ExprNode* target, Fact f) {
    if (auto* n = ast::as<ast::Name>(target)) {
      frame_->env[std::string(n->id)] = f;
      return;
    }
    auto* t = ast::as<ast::Tuple>(target);
    auto* l = ast::as<ast::List>(target);
    if (t == nullptr && l == nullptr) return;
    // After a starred target, items are counted from the end: they get the element's fact.
    std::optional<std::size_t> i = 0;
    for (ast::ExprNode* x : t ? t->elts : l->elts) {
      if (ast::is<ast::Starred>(x)) i.reset();
      Fact item = f.kind != Fact::List ? f : i ? f.item(*i) : f.element();
      if (f.kind == Fact::Shape) item = Fact{}, item.run_time_size = true;
      if (ast::is<ast::Name>(x) || ast::is<ast::Tuple>(x) || ast::is<ast::List>(x)) bind_target(x, item);
      if (i) ++*i;
    }
  };
  switch (s->kind) {
    case ast::NodeKind::Expr: {
      auto* e = static_cast<ast::Expr*>(s);
      if (ast::is<ast::Constant>(e->value)) {  // docstring
        out.push_back(s);
        return;
      }
      auto* c = b_.clone(e);
      c->value = lower_expr(e->value).expr;
      // `x.relu_()`: the rebinding of x was written before (or x is not read
      // again): nothing is left.
      // `x[a:b].zero_()`: the change was written; what is left reads a part of x.
      if (ast::is<ast::Call>(e->value) &&
          (ast::is<ast::Name>(c->value) || ast::is<ast::Subscript>(c->value) || c->value == inplace_unused_))
        return;
      out.push_back(c);
      return;
    }
    case ast::NodeKind::Assign: {
      auto* a = static_cast<ast::Assign*>(s);
      if (std::vector<ast::StmtNode*> expanded = expanded_map(a); !expanded.empty()) {
        for (ast::StmtNode* st : expanded) lower_stmt(st, out);
        return;
      }
      auto* c = b_.clone(a);
      if (auto* st = ast::as<ast::Subscript>(a->targets[0]); st && a->targets.size() == 1) {
        if (assigns_into_tensor(st)) {
          lower_item_assign(st, a->value, out, s);
          return;
        }
        // An item of a list or dict (`outs[name] = head(x)`): its tensors in
        // PyTorch order, held by the container.
        Val v = lower_expr(a->value);
        // Into a list of tensors: its elements' layout; anything else: PyTorch order.
        Fact holder;
        if (auto* n = ast::as<ast::Name>(st->value))
          if (auto it = frame_->env.find(std::string(n->id)); it != frame_->env.end()) holder = resolved(it->second);
        if (Fact f = resolved(v.fact); holder.kind == Fact::List && f.tensor()) demand_as(holder.element(), f, v.expr);
        else if (f.tensor() || f.kind == Fact::List) demand_torch(f, v.expr);
        hold(st->value, v.expr == inplace_result_ ? v.expr : a->value);
        c->value = v.expr;
        out.push_back(c);
        return;
      }
      if (auto* tv = ast::as<ast::Tuple>(a->value)) {
        // `a, b = x, y`: each element keeps its own layout.
        std::vector<Val> elts = lower_elements(tv);
        std::vector<ast::ExprNode*> exprs;
        for (Val& x : elts) exprs.push_back(x.expr);
        c->value = b_.tuple(exprs);
        auto* tt = ast::as<ast::Tuple>(a->targets[0]);
        // `a, b = b, a`: every element is read before any name is bound.
        std::vector<std::optional<std::pair<int, bool>>> sources;
        for (std::size_t i = 0; tt != nullptr && i < tv->elts.size(); ++i) {
          auto* v = ast::as<ast::Name>(tv->elts[i]);
          if (v != nullptr && frame_->env.count(std::string(v->id)))
            sources.emplace_back(std::pair{storage_of(std::string(v->id)), frame_->views.count(std::string(v->id)) > 0});
          else
            sources.emplace_back(std::nullopt);
        }
        for (std::size_t i = 0; tt != nullptr && i < tt->elts.size() && i < elts.size(); ++i) {
          bind_target(tt->elts[i], elts[i].fact);
          if (auto* n = ast::as<ast::Name>(tt->elts[i]); n && i < sources.size()) {
            record_binding(std::string(n->id), sources[i] ? nullptr : tv->elts[i]);
            if (sources[i]) {
              frame_->storage[std::string(n->id)] = sources[i]->first;
              if (sources[i]->second) frame_->views.insert(std::string(n->id));
            }
          }
        }
        if (tt == nullptr) {
          // `pair = (y, x)`: a tuple of tensors, each in PyTorch order (as a list
          // is), so that its items unpack and index as tensors.
          bool tensors = false;
          for (std::size_t i = 0; i < elts.size(); ++i)
            if (Fact f = resolved(elts[i].fact); f.tensor() || f.kind == Fact::List) {
              demand_torch(f, exprs[i]);
              tensors = true;
            }
          c->value = b_.tuple(exprs);
          for (ast::ExprNode* t : a->targets) {
            bind_target(t, tensors ? Fact::list(Fact::torch()) : Fact{});
            for (ast::ExprNode* x : tv->elts) hold(t, x);
          }
        }
      } else if (auto [unpacked, shaped] = channels_last_shape_unpack(a); unpacked != nullptr) {
        // `b, c, h, w = x.size()` of a channels-last x: `b, h, w, c = ops.shape(x)`;
        // the names and x's axes share size symbols (a view of x reads them).
        c->targets = b_.seq(std::vector<ast::ExprNode*>{unpacked});
        c->value = b_.call("ops.shape", {b_.name(shaped->id)});
        Fact& x = frame_->env[std::string(shaped->id)];
        x.dims.clear();
        for (ast::ExprNode* n : ast::as<ast::Tuple>(a->targets[0])->elts) {
          x.dims.push_back(++next_sym_);
          Fact size;
          size.sym = next_sym_;
          bind_target(n, size);
        }
      } else {
        // `x = torch.flatten(x, 1)` in the function body may keep a channels-last flatten.
        accept_flat_ = a->targets.size() == 1 && ast::is<ast::Name>(a->targets[0]) && frame_->depth == 1;
        accept_perm_ = accept_flat_;
        // A variable may hold a PackedSequence (what reads it decides); an attribute
        // or an item may not.
        accept_packed_ = true;
        for (const ast::ExprNode* t : a->targets)
          accept_packed_ = accept_packed_ && (ast::is<ast::Name>(t) || ast::is<ast::Tuple>(t) || ast::is<ast::List>(t));
        // `m = self.mlp`: a local name for a module or container, read as it is
        // (`m.c_fc(x)` of a ModuleDict is m["c_fc"](x)).
        if (auto* n = a->targets.size() == 1 ? ast::as<ast::Name>(a->targets[0]) : nullptr) {
          std::optional<ModuleDesc> d;
          if (ast::is<ast::Attribute>(a->value) || ast::is<ast::Subscript>(a->value) || ast::is<ast::Name>(a->value))
            d = module_of(a->value);
          if (d && module_instance(*d) && !(d->kind == ModuleDesc::Union && d->items.empty()))
            frame_->module_vars[std::string(n->id)] = *d;
          else
            frame_->module_vars.erase(std::string(n->id));
        }
        Val v = lower_expr(a->value);
        // (A catalog module's result is a tensor fact even where the module returns
        // a tuple, MultiheadAttention's (output, weights): left as it is.)
        std::optional<ModuleDesc> called;
        if (auto* call = ast::as<ast::Call>(a->value)) called = module_of(call->func);
        if (Fact f = resolved(v.fact); f.tensor() && f.kind != Fact::Packed && (!called || called->kind == ModuleDesc::User))
          for (ast::ExprNode* t : a->targets)
            if (ast::is<ast::Tuple>(t) || ast::is<ast::List>(t)) {
              // `q, k, v = qkv`: a tensor unpacked along its first axis in PyTorch's
              // order, as ops.unstack (a graph tensor cannot be iterated in Python),
              // with the count the targets give (the first axis may be unknown).
              Fact item = Fact::torch(f.rank > 0 ? f.rank - 1 : 0);
              item.dtype = demand_torch(f, v.expr).dtype;
              const auto& elts = ast::is<ast::Tuple>(t) ? ast::as<ast::Tuple>(t)->elts : ast::as<ast::List>(t)->elts;
              bool starred = false;
              for (const ast::ExprNode* x : elts) starred = starred || ast::is<ast::Starred>(x);
              std::vector<ast::Keyword*> num;
              if (!starred) num.push_back(b_.keyword("num", b_.integer(static_cast<int64_t>(elts.size()))));
              v = {b_.call("ops.unstack", {v.expr}, num), Fact::list(item)};
              break;
            }
        for (ast::ExprNode* t : a->targets) {
          bind_target(t, v.fact);
          // `self.src_mask = mask` (a cache): Keras layers keep no tensors between calls.
          auto* at = ast::as<ast::Attribute>(t);
          if (Fact f = resolved(v.fact); at && is_self(at->value) &&
                                         (f.tensor() || f.kind == Fact::List))
            error(diag::Kind::UnsupportedConstruct, s,
                  "forward code keeping a tensor in `" + syntax::unparse(t) +
                      "` between calls is not supported: a Keras layer's call keeps no state in attributes "
                      "(in a compiled graph a tensor belongs to one trace); compute it in each call, in a "
                      "local variable");
        }
        c->value = v.expr;
      }
      // An in-place op's value is its target itself (`y = self.relu(out)` with an
      // in-place ReLU makes y an alias of out): lowered, it is that variable.
      const ast::ExprNode* bound = c->value == inplace_result_ ? c->value : a->value;
      if (auto* l = ast::as<ast::List>(a->value))
        for (ast::ExprNode* t : a->targets)
          for (ast::ExprNode* x : l->elts) hold(t, x);
      if (auto* d = ast::as<ast::Dict>(a->value))
        for (ast::ExprNode* t : a->targets)
          for (ast::ExprNode* x : d->values) hold(t, x);
      for (ast::ExprNode* t : a->targets)
        if (auto* n = ast::as<ast::Name>(t)) {
          auto* k = ast::as<ast::Constant>(a->value);
          if (k && k->value.kind == ast::ConstantValue::Kind::None) frame_->none_vars.insert(std::string(n->id));
          else frame_->none_vars.erase(std::string(n->id));
          if (k && k->value.kind == ast::ConstantValue::Kind::Int) frame_->int_vars.insert(std::string(n->id));
          else frame_->int_vars.erase(std::string(n->id));
        }
      // `c = d = value`: the first name takes value's storage, the others alias it.
      const ast::Name* first_name = nullptr;
      for (ast::ExprNode* t : a->targets) {
        if (auto* n = ast::as<ast::Name>(t)) {
          record_binding(std::string(n->id), first_name ? first_name : bound);
          if (first_name == nullptr) first_name = n;
        } else if (auto* tt = ast::as<ast::Tuple>(t); tt && !ast::is<ast::Tuple>(a->value)) {
          // `a, b = self.split(h)` where split returns (h, ...): an item may be h.
          std::set<int> ids;
          if (auto* call = ast::as<ast::Call>(a->value))
            if (const Unit* u = unit_called(call))
              for (int i : u->tuple_returns_params)
                if (auto* v = static_cast<std::size_t>(i) < call->args.size() ? ast::as<ast::Name>(call->args[i]) : nullptr;
                    v && frame_->env.count(std::string(v->id)))
                  ids.insert(storage_of(std::string(v->id)));
          for (ast::ExprNode* x : tt->elts)
            if (auto* n = ast::as<ast::Name>(x)) {
              record_binding(std::string(n->id), nullptr);
              if (!ids.empty()) frame_->maybe_alias[std::string(n->id)] = ids;
            }
        }
      }
      // `x = x.permute(0, 2, 3, 1)` of a channels-last x relabels x: nothing to write.
      if (auto* t = a->targets.size() == 1 ? ast::as<ast::Name>(a->targets[0]) : nullptr)
        if (auto* v = ast::as<ast::Name>(c->value); v && v->id == t->id && !ast::is<ast::Name>(a->value)) return;
      out.push_back(c);
      return;
    }
    case ast::NodeKind::AnnAssign: {
      auto* a = static_cast<ast::AnnAssign*>(s);
      if (a->value == nullptr) return;
      accept_packed_ = ast::is<ast::Name>(a->target);
      Val v = lower_expr(a->value);
      bind_target(a->target, v.fact);
      out.push_back(b_.assign(a->target, v.expr));
      out.back()->loc = s->loc;
      return;
    }
    case ast::NodeKind::AugAssign: {
      auto* a = static_cast<ast::AugAssign*>(s);
      if (auto* t = ast::as<ast::Attribute>(a->target); t && is_self(t->value)) {
        // `self.calls += 1` on a buffer (or any state) changes the module in forward.
        error(diag::Kind::UnsupportedConstruct, s,
              "changing `self." + std::string(t->attr) +
                  "` in forward code is not supported (a Keras layer's call cannot update its state the "
                  "PyTorch way)");
        out.push_back(s);
        return;
      }
      auto* bin = b_.arena().make<ast::BinOp>();
      bin->kind = ast::NodeKind::BinOp;
      bin->left = a->target;
      bin->op = a->op;
      bin->right = a->value;
      if (auto* st = ast::as<ast::Subscript>(a->target); st && assigns_into_tensor(st)) {
        // `x[..., :k] *= s` is `x[..., :k] = x[..., :k] * s`, in place.
        bin->loc = a->loc;
        lower_item_assign(st, bin, out, s);
        return;
      }
      Val v = lower_expr(bin);
      auto* lowered = ast::as<ast::BinOp>(v.expr);
      auto* c = b_.clone(a);
      if (lowered != nullptr && lowered->left == a->target) {
        c->value = lowered->right;
        out.push_back(c);
      } else {
        // The target itself needed a layout change: write it out in full.
        auto* as = b_.assign(a->target, v.expr);
        as->loc = s->loc;
        out.push_back(as);
      }
      bind_target(a->target, v.fact);
      // On a tensor, `x += y` changes x's storage in place: its aliases see it.
      if (auto* n = ast::as<ast::Name>(a->target); n && resolved(v.fact).tensor()) {
        note_in_place_change(std::string(n->id));
        for (ast::StmtNode* x : sync_aliases(std::string(n->id), s)) out.push_back(x);
      }
      return;
    }
    case ast::NodeKind::Return: {
      auto* r = static_cast<ast::Return*>(s);
      auto* c = b_.clone(r);
      // `return x` of a parameter's tensor: callers get their argument back.
      if (auto* n = ast::as<ast::Name>(r->value); n && frame_->env.count(std::string(n->id)))
        if (auto p = frame_->param_storage.find(storage_of(std::string(n->id))); p != frame_->param_storage.end())
          frame_->unit->returns_params.insert(p->second);
      // `return t, t * 2`: an item of the result is the caller's argument.
      if (auto* tup = ast::as<ast::Tuple>(r->value))
        for (const ast::ExprNode* x : tup->elts)
          if (auto* n = ast::as<ast::Name>(x); n && frame_->env.count(std::string(n->id)))
            if (auto p = frame_->param_storage.find(storage_of(std::string(n->id))); p != frame_->param_storage.end())
              frame_->unit->tuple_returns_params.insert(p->second);
      if (auto* t = ast::as<ast::Tuple>(r->value)) {
        // Several outputs: each in PyTorch layout.
        std::vector<ast::ExprNode*> elts;
        // Nested tuples and lists of outputs too: every tensor in PyTorch order.
        bool nested_or_plain = false;  // an item that is a tuple or not a tensor
        std::function<ast::ExprNode*(ast::ExprNode*)> output = [&](ast::ExprNode* x) -> ast::ExprNode* {
          if (auto* nt = ast::as<ast::Tuple>(x)) {
            nested_or_plain = true;
            std::vector<ast::ExprNode*> items;
            for (ast::ExprNode* y : nt->elts) items.push_back(output(y));
            return b_.tuple(items);
          }
          Val v = lower_expr(x);
          Fact f = resolved(v.fact);
          Why why(this, "returned tuples hold their tensors in PyTorch's axis order");
          if (keras_io()) v.expr = keras_io_output(f, v.expr);
          else if (f.tensor() || f.kind == Fact::List) demand_torch(f, v.expr);
          if (!f.tensor()) nested_or_plain = true;
          return v.expr;
        };
        for (ast::ExprNode* x : t->elts) elts.push_back(output(x));
        bool all_tensors = !nested_or_plain;
        c->value = b_.tuple(elts);
        // A tuple of tensors (`return logits, boxes`): its items, in PyTorch order,
        // unpack or index as tensors.
        if (!frame_->ret) frame_->ret = all_tensors ? Fact::list(Fact::torch()) : Fact{};
      } else if (r->value != nullptr) {
        Val v = lower_expr(r->value);
        auto convert_out = [&](Val& x) {
          Fact f = resolved(x.fact);
          Why why(this, frame_->top_level && opt_.io_torch
                            ? "the model returns PyTorch-shaped outputs (--io-layout torch)"
                            : "the function returns one layout on every path");
          if (frame_->top_level && opt_.io_torch) {
            if (f.kind == Fact::CL || f.kind == Fact::List) f = demand_torch(f, x.expr);
            if (!frame_->ret) frame_->ret = f.tensor() ? Fact::torch(f.rank) : f;
            return;
          }
          if (keras_io()) {
            x.expr = keras_io_output(f, x.expr);
            if (!frame_->ret) frame_->ret = f;
            return;
          }
          if (!frame_->ret) frame_->ret = f;
          else if (frame_->ret->same_axes(f)) frame_->ret = frame_->ret->meet(f);
          else if (f.tensor()) demand_torch(f, x.expr);
        };
        convert_out(v);
        c->value = v.expr;
      }
      out.push_back(c);
      return;
    }
    case ast::NodeKind::If: {
      auto* i = static_cast<ast::If*>(s);
      auto* c = b_.clone(i);
      Test t = lower_test(i->test);
      if (t.kind != TestKind::Static) {
        lower_tensor_if(i, t, out);
        return;
      }
      c->test = t.expr;
      // A test the lowering decided (`isinstance(x, Tensor)` on a list): only the
      // branch that runs is written.
      if (auto* k = ast::as<ast::Constant>(c->test);
          k && (k->value.kind == ast::ConstantValue::Kind::True || k->value.kind == ast::ConstantValue::Kind::False)) {
        bool taken = k->value.kind == ast::ConstantValue::Kind::True;
        std::vector<ast::StmtNode*> chosen = lower_stmts(taken ? i->body : i->orelse);
        out.insert(out.end(), chosen.begin(), chosen.end());
        return;
      }
      auto saved = frame_->env;
      std::vector<ast::StmtNode*> body = lower_stmts(i->body);
      auto after_body = frame_->env;
      frame_->env = saved;
      std::vector<ast::StmtNode*> orelse = lower_stmts(i->orelse);
      // Join: a variable with different layouts after the branches is made PyTorch order in both.
      auto* saved_hoist = frame_->hoist;
      frame_->hoist = nullptr;
      for (auto& [name, f] : after_body) {
        auto it = frame_->env.find(name);
        if (it == frame_->env.end()) {
          frame_->env[name] = f;
          continue;
        }
        Fact a = resolved(f), bf = resolved(it->second);
        if (a.same_axes(bf)) {
          it->second = a.meet(bf);
          continue;
        }
        Why why(this, "the branches of this `if` leave it in different layouts");
        // A list appended to in one branch only (`if keep: feats.append(x)`): the
        // other branch's (empty or unchanged) list takes the same element layout.
        if ((a.kind == Fact::List) != (bf.kind == Fact::List) &&
            (a.kind == Fact::NonTensor || bf.kind == Fact::NonTensor)) {
          it->second = a.kind == Fact::List ? a : bf;
          continue;
        }
        if (a.kind == Fact::List && bf.kind == Fact::List) {
          ast::ExprNode* x = b_.name(name);
          demand_torch(a, x);
          if (!ast::is<ast::Name>(x))
            body.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), x));
          ast::ExprNode* y = b_.name(name);
          demand_torch(bf, y);
          if (!ast::is<ast::Name>(y)) orelse.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), y));
          it->second = Fact::list(Fact::torch(a.rank));
          continue;
        }
        if (a.kind == Fact::CL) {
          ast::ExprNode* x = b_.name(name);
          demand_torch(a, x);
          body.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), x));
        }
        if (bf.kind == Fact::CL) {
          ast::ExprNode* x = b_.name(name);
          demand_torch(bf, x);
          orelse.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), x));
        }
        it->second = a.tensor() || bf.tensor() ? Fact::torch() : Fact{};
        // The dtype class both branches agree on (None in one of them: the other's).
        it->second.dtype = Fact::joined_dtype(a, bf);
      }
      frame_->hoist = saved_hoist;
      c->body = b_.seq(body);
      c->orelse = b_.seq(orelse);
      out.push_back(c);
      return;
    }
    case ast::NodeKind::For: {
      auto* f = static_cast<ast::For*>(s);
      auto* c = b_.clone(f);
      // `for i in range(n)` with a tensor n: keras.ops.fori_loop.
      if (auto* call = ast::as<ast::Call>(f->iter)) {
        auto* fn = ast::as<ast::Name>(call->func);
        TestKind bound = TestKind::Static;
        for (ast::ExprNode* a : call->args)
          if (TestKind k = test_kind(a); k != TestKind::Static && bound != TestKind::Tensor) bound = k;
        if (fn && fn->id == "range" && !frame_->env.count("range") && bound != TestKind::Static) {
          note_maybe_tensor({call, bound}, call, "keras.ops.fori_loop");
          lower_tensor_for(f, call, out);
          return;
        }
      }
      // `for layer in self.layers:` binds a module variable (also through
      // enumerate(...) and zip(...)).
      if (bind_loop_modules(f->iter, f->target)) {
        c->iter = module_paths_for_keras(containers_as_lists(f->iter));
      } else {
        Val it = lower_expr(f->iter);
        if (Fact t = resolved(it.fact); t.tensor() && t.kind != Fact::Packed) {
          // `for row in x:` over a tensor's first axis in PyTorch's order: its
          // slices, as ops.unstack (a graph tensor cannot be iterated in Python).
          Fact item = Fact::torch(t.rank > 0 ? t.rank - 1 : 0);
          item.dtype = demand_torch(t, it.expr).dtype;
          it = {b_.call("ops.unstack", {it.expr}), Fact::list(item)};
        }
        c->iter = it.expr;
        std::vector<std::string> targets;
        stored_names(f->target, targets);
        for (const std::string& n : targets) frame_->env[n] = Fact{}, record_binding(n, nullptr);
        // `for t in features:` over a list of tensors: t has the elements' layout.
        if (auto* n = ast::as<ast::Name>(f->target); n && resolved(it.fact).kind == Fact::List)
          frame_->env[std::string(n->id)] = resolved(it.fact).element();
      }
      c->body = b_.seq(lower_loop_body(f, {f->body.begin(), f->body.end()}, f->iter));
      c->orelse = b_.seq(lower_stmts(f->orelse));
      out.push_back(c);
      return;
    }
    case ast::NodeKind::While: {
      auto* w = static_cast<ast::While*>(s);
      if (test_kind(w->test) == TestKind::Static) {
        // A Python loop: the test sees the loop-carried values in their entry layout.
        auto* c = b_.clone(w);
        c->test = lower_test(w->test).expr;
        c->body = b_.seq(lower_loop_body(w, {w->body.begin(), w->body.end()}, w->test));
        c->orelse = b_.seq(lower_stmts(w->orelse));
        out.push_back(c);
        return;
      }
      lower_tensor_while(w, out);
      return;
    }
    case ast::NodeKind::FunctionDef: {
      // A closure: written here, lowered at its first call (lower_call, 2c).
      auto* f = static_cast<ast::FunctionDef*>(s);
      auto* placed = b_.clone(f);
      frame_->nested[std::string(f->name)] = {f, placed};
      out.push_back(placed);
      return;
    }
    case ast::NodeKind::Pass:
    case ast::NodeKind::Break:
    case ast::NodeKind::Continue:
    case ast::NodeKind::Raise:
      out.push_back(s);
      return;
    case ast::NodeKind::Assert: {
      auto* a = b_.clone(static_cast<ast::Assert*>(s));
      if (test_kind(a->test) == TestKind::Tensor) {
        // bool() of a tensor cannot run inside a compiled graph.
        error(diag::Kind::DroppedCode, s,
              "left out an `assert` on a tensor value: it cannot be checked inside a compiled graph");
        return;
      }
      // A test of sizes (nanoGPT's `assert t <= self.block_size`): Python ints when the
      // model is traced with known shapes, tensors when a compiled graph leaves them
      // unknown, which Python's assert cannot take: pytorch_assert checks the first.
      // Sizes: `.size(...)` / `.shape` read here, or names the function binds to them.
      auto reads_size = [](const ast::Node* root) {
        bool found = false;
        std::function<void(const ast::Node*)> walk = [&](const ast::Node* n) {
          if (found || n == nullptr) return;
          if (auto* at = ast::as<ast::Attribute>(n); at && (at->attr == "shape" || at->attr == "size")) found = true;
          ast::for_each_child(const_cast<ast::Node*>(n), walk);
        };
        walk(root);
        return found;
      };
      std::set<std::string> size_names;
      std::function<void(const ast::Node*)> bound = [&](const ast::Node* n) {
        if (n == nullptr || (ast::is<ast::FunctionDef>(n) && n != frame_->unit->def)) return;
        if (auto* as = ast::as<ast::Assign>(n); as && reads_size(as->value))
          for (ast::ExprNode* t : as->targets) ast::collect_names(t, size_names);
        ast::for_each_child(const_cast<ast::Node*>(n), bound);
      };
      bound(frame_->unit->def);
      bool sizes = reads_size(a->test);
      std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
        if (sizes || n == nullptr) return;
        if (auto* x = ast::as<ast::Name>(n); x && size_names.count(std::string(x->id))) sizes = true;
        ast::for_each_child(const_cast<ast::Node*>(n), scan);
      };
      scan(a->test);
      a->test = lower_expr(a->test).expr;
      if (sizes) {
        out_.helpers.insert("pytorch_assert");
        auto* check = b_.expr_stmt(b_.call("pytorch_assert", {a->test, a->msg ? a->msg : b_.string("")}));
        check->loc = s->loc;
        out.push_back(check);
        return;
      }
      out.push_back(a);
      return;
    }
    case ast::NodeKind::With: {
      auto* w = static_cast<ast::With*>(s);
      // `with torch.no_grad():` has no effect on inference: keep the body.
      bool torch_ctx = true;
      for (ast::WithItem* item : w->items) {
        auto* call = ast::as<ast::Call>(item->context_expr);
        auto p = resolve(call ? call->func : item->context_expr);
        torch_ctx = torch_ctx && p && is_torch_path(*p);
      }
      if (torch_ctx) {
        std::vector<ast::StmtNode*> body = lower_stmts(w->body);
        // In the `with` line's place, so no blank line is left where it was.
        if (!body.empty() && body[0] != w->body[0]) body[0]->loc.lineno = w->loc.lineno;
        for (ast::StmtNode* x : body) out.push_back(x);
        // torch.no_grad(): the tensors the block computes carry no gradient.
        bool no_grad = false;
        for (ast::WithItem* item : w->items) {
          auto* call = ast::as<ast::Call>(item->context_expr);
          std::string p = resolve(call ? call->func : item->context_expr).value_or("");
          no_grad = no_grad || p == "torch.no_grad" || p == "torch.inference_mode";
        }
        for (const std::string& n : no_grad ? stored_names(body) : std::vector<std::string>{})
          if (auto it = frame_->env.find(n); it != frame_->env.end() && resolved(it->second).tensor())
            out.push_back(b_.assign(b_.name(n, ast::ExprContext::Store), b_.call("ops.stop_gradient", {b_.name(n)})));
        return;
      }
      error(diag::Kind::UnsupportedConstruct, s, "`with` blocks in forward code are not supported yet");
      out.push_back(s);
      return;
    }
    default:
      error(diag::Kind::UnsupportedConstruct, s,
            std::string("`") + statement_keyword(s->kind) + "` statements in forward code are not supported yet");
      out.push_back(s);
      return;
  }
}

namespace {
template <class T>
struct SeqItems {
  using type = void;
};
template <class T>
struct SeqItems<ast::Seq<T>> {
  using type = T;
};

bool contains(ast::Node* node, const ast::Node* target) {
  if (node == target) return true;
  bool found = false;
  ast::for_each_child(node, [&](ast::Node* c) { found = found || contains(c, target); });
  return found;
}
}  // namespace

std::vector<ast::StmtNode*> Lowerer::expanded_map(const ast::Assign* a) {
  auto* targets = a->targets.size() == 1 ? ast::as<ast::Tuple>(a->targets[0]) : nullptr;
  auto* call = ast::as<ast::Call>(a->value);
  auto* fn = call != nullptr ? ast::as<ast::Name>(call->func) : nullptr;
  if (targets == nullptr || fn == nullptr || fn->id != "map" || frame_->env.count("map") || call->args.size() != 2 ||
      !call->keywords.empty())
    return {};
  auto* lambda = ast::as<ast::Lambda>(call->args[0]);
  if (lambda == nullptr) return {};
  const ast::Arguments* params = lambda->args;
  if (params->args.size() != 1 || !params->posonlyargs.empty() || params->vararg != nullptr ||
      params->kwarg != nullptr || !params->kwonlyargs.empty() || !params->defaults.empty())
    return {};
  std::vector<ast::ExprNode*> names;
  for (ast::ExprNode* t : targets->elts) {
    if (!ast::is<ast::Name>(t)) return {};
    names.push_back(t);
  }
  // The body applied to `item`: each read of the parameter replaced by it.
  const std::string param(params->args[0]->arg);
  auto applied = [&](std::string_view item) {
    return static_cast<ast::ExprNode*>(substituted(lambda->body, {{param, b_.name(item)}}));
  };
  // The items by name: a display of names is already that; anything else is
  // first unpacked into the targets.
  std::vector<ast::StmtNode*> out;
  std::vector<std::string_view> items;
  if (auto* display = ast::as<ast::Tuple>(call->args[1]); display && display->elts.size() == names.size())
    for (ast::ExprNode* e : display->elts)
      if (auto* n = ast::as<ast::Name>(e)) items.push_back(n->id);
  if (items.size() != names.size()) {
    items.clear();
    auto* unpack = b_.assign(targets, call->args[1]);
    unpack->loc = a->loc;
    out.push_back(unpack);
    for (ast::ExprNode* n : names) items.push_back(ast::as<ast::Name>(n)->id);
  }
  std::vector<ast::ExprNode*> values;
  for (std::string_view item : items) values.push_back(applied(item));
  auto* apply = b_.assign(targets, b_.tuple(values));
  apply->loc = a->loc;
  out.push_back(apply);
  return out;
}

ast::ExprNode* Lowerer::inline_ctor_lambda(const ast::Call* call) {
  auto* a = ast::as<ast::Attribute>(call->func);
  auto* self = a != nullptr ? ast::as<ast::Name>(a->value) : nullptr;
  const ClassInfo* cls = frame_ != nullptr && frame_->unit != nullptr ? frame_->unit->cls : nullptr;
  if (self == nullptr || self->id != "self" || cls == nullptr || !call->keywords.empty()) return nullptr;
  const ast::FunctionDef* init = method(cls, "__init__");
  if (init == nullptr) return nullptr;
  const ast::Lambda* lambda = nullptr;
  std::map<std::string, ast::ExprNode*> names;  // constructor aliases of self attributes
  for (ast::StmtNode* st : init->body) {
    auto* as = ast::as<ast::Assign>(st);
    if (as == nullptr || as->targets.size() != 1) continue;
    auto* target = ast::as<ast::Attribute>(as->targets[0]);
    if (target != nullptr && target->attr == a->attr && is_self(target->value))
      lambda = ast::as<ast::Lambda>(as->value);
    if (auto* n = ast::as<ast::Name>(as->targets[0]); n && lambda == nullptr) {
      auto* v = ast::as<ast::Attribute>(as->value);
      if (v != nullptr && is_self(v->value))
        names[std::string(n->id)] = as->value;
      else
        names.erase(std::string(n->id));
    }
  }
  if (lambda == nullptr) return nullptr;
  const ast::Arguments* params = lambda->args;
  if (!params->posonlyargs.empty() || params->vararg != nullptr || params->kwarg != nullptr ||
      !params->kwonlyargs.empty() || !params->defaults.empty() || params->args.size() != call->args.size())
    return nullptr;
  for (std::size_t i = 0; i < params->args.size(); ++i) {
    std::string p(params->args[i]->arg);
    ast::ExprNode* arg = call->args[i];
    std::size_t reads = 0;
    std::function<void(const ast::Node*)> count = [&](const ast::Node* n) {
      if (auto* x = ast::as<ast::Name>(n); x && x->id == p) ++reads;
      ast::for_each_child(const_cast<ast::Node*>(n), count);
    };
    count(lambda->body);
    if (reads > 1 && !ast::is<ast::Name>(arg) && frame_->hoist != nullptr) {
      Val v = lower_expr(arg);
      ast::Name* t = into_temp(v.expr);
      frame_->env[std::string(t->id)] = v.fact;
      arg = t;
    }
    names[p] = arg;
  }
  inlined_lambdas_.emplace(cls, std::string(a->attr));
  return static_cast<ast::ExprNode*>(substituted(lambda->body, names));
}

ast::Node* Lowerer::substituted(ast::Node* body, const std::map<std::string, ast::ExprNode*>& names) {
  std::vector<const ast::Name*> uses;
  std::function<void(const ast::Node*)> collect = [&](const ast::Node* n) {
    if (auto* x = ast::as<ast::Name>(n); x && names.count(std::string(x->id))) uses.push_back(x);
    ast::for_each_child(const_cast<ast::Node*>(n), collect);
  };
  collect(body);
  for (const ast::Name* x : uses) body = replaced(body, x, names.at(std::string(x->id)));
  return body;
}

ast::Node* Lowerer::replaced(ast::Node* node, const ast::Node* target, ast::Node* replacement) {
  if (node == target) return replacement;
  if (node == nullptr || !contains(node, target)) return node;
  auto field = [&]<class F>(F& f) {
    if constexpr (std::is_pointer_v<F>) {
      if constexpr (std::is_base_of_v<ast::Node, std::remove_pointer_t<F>>)
        f = static_cast<F>(replaced(f, target, replacement));
    } else {
      using T = typename SeqItems<F>::type;
      if constexpr (std::is_pointer_v<T> && std::is_base_of_v<ast::Node, std::remove_pointer_t<T>>) {
        std::vector<T> items;
        for (T x : f) items.push_back(static_cast<T>(replaced(x, target, replacement)));
        f = b_.seq(items);
      }
    }
  };
  switch (node->kind) {
#define T2K_NODE(category, name, has_attributes, fields) \
  case ast::NodeKind::name: {                            \
    [[maybe_unused]] auto* n = b_.clone(static_cast<ast::name*>(node)); \
    fields                                               \
    return n;                                            \
  }
#define T2K_FIELD(arity, asdl_type, field_name) field(n->field_name);
#include "torch2keras/syntax/ast_nodes.def"
  }
  return node;
}

std::optional<std::vector<ast::StmtNode*>> Lowerer::comprehension_loop(ast::StmtNode* s) {
  // The first comprehension over modules or tensors among the statement's own
  // expressions (not those of statements it holds, not nested functions).
  auto over_model = [&](ast::Node* comp) {
    std::set<std::string> names;
    ast::collect_names(comp, names);
    for (const std::string& n : names) {
      auto it = frame_->env.find(n);
      if (n == "self" || (it != frame_->env.end() && (resolved(it->second).tensor() ||
                                                      resolved(it->second).kind == Fact::List)))
        return true;
    }
    return false;
  };
  ast::ExprNode* comp = nullptr;
  std::function<void(ast::Node*, bool)> find = [&](ast::Node* n, bool consumed) {
    if (comp != nullptr || ast::is<ast::Lambda>(n) || ast::is<ast::FunctionDef>(n) || ast::is<ast::ClassDef>(n)) return;
    if (n != s && ast::category(n->kind) == ast::Category::Stmt) return;
    if ((ast::is<ast::ListComp>(n) || (consumed && ast::is<ast::GeneratorExp>(n))) && over_model(n)) {
      comp = static_cast<ast::ExprNode*>(n);
      return;
    }
    bool call = ast::is<ast::Call>(n);
    ast::for_each_child(n, [&](ast::Node* c) { find(c, call); });
  };
  find(s, false);
  if (comp == nullptr) return std::nullopt;
  ast::ExprNode* elt = ast::is<ast::ListComp>(comp) ? static_cast<ast::ListComp*>(comp)->elt
                                                    : static_cast<ast::GeneratorExp*>(comp)->elt;
  ast::Seq<ast::Comprehension*> gens = ast::is<ast::ListComp>(comp) ? static_cast<ast::ListComp*>(comp)->generators
                                                                    : static_cast<ast::GeneratorExp*>(comp)->generators;
  // Its variables must be free here: the loop binds them in the function.
  for (ast::Comprehension* g : gens) {
    std::set<std::string> targets;
    ast::collect_names(g->target, targets);
    for (const std::string& t : targets)
      if (g->is_async || read_outside_comprehensions(frame_->unit->def, t, s->loc)) return std::nullopt;
  }
  // The list's name: the one assigned, or one after the loop variable.
  std::string list;
  auto* a = ast::as<ast::Assign>(s);
  bool whole = a != nullptr && a->value == comp && a->targets.size() == 1 && ast::is<ast::Name>(a->targets[0]);
  if (whole) {
    list = std::string(ast::as<ast::Name>(a->targets[0])->id);
  } else {
    auto* first = ast::as<ast::Name>(gens[0]->target);
    std::string base = (first != nullptr ? std::string(first->id) : std::string("item")) + "_outputs";
    list = base;
    for (int i = 2; frame_->names.count(list) || frame_->env.count(list); ++i) list = base + std::to_string(i);
    frame_->names.insert(list);
  }
  std::vector<ast::StmtNode*> body{b_.expr_stmt(b_.call(b_.attr(b_.name(list), "append"), {elt}))};
  for (std::size_t i = gens.size(); i-- > 0;) {
    for (std::size_t j = gens[i]->ifs.size(); j-- > 0;) body = {b_.if_stmt(gens[i]->ifs[j], body)};
    body = {b_.for_stmt(gens[i]->target, gens[i]->iter, body)};
  }
  std::vector<ast::StmtNode*> out{b_.assign(b_.name(list, ast::ExprContext::Store), b_.list({}))};
  out.push_back(body[0]);
  if (!whole) {
    auto* rest = static_cast<ast::StmtNode*>(replaced(s, comp, b_.name(list)));
    if (contains(rest, comp)) return std::nullopt;
    out.push_back(rest);
  }
  for (ast::StmtNode* x : out) x->loc = s->loc;
  return out;
}

std::vector<ast::StmtNode*> Lowerer::lower_stmts(ast::Seq<ast::StmtNode*> seq) {
  std::vector<ast::StmtNode*> out;
  ++frame_->depth;
  std::vector<ast::StmtNode*> body(seq.begin(), seq.end());
  for (std::size_t k = 0; k < body.size(); ++k) {
    ast::StmtNode* s = body[k];
    // A comprehension over modules or tensors: the loop it stands for, lowered
    // statement by statement.
    if (auto loop = comprehension_loop(s)) {
      body.erase(body.begin() + static_cast<std::ptrdiff_t>(k));
      body.insert(body.begin() + static_cast<std::ptrdiff_t>(k), loop->begin(), loop->end());
      s = body[k];
    }
    switch (s->kind) {
      case ast::NodeKind::Assign:
      case ast::NodeKind::AugAssign:
      case ast::NodeKind::AnnAssign:
      case ast::NodeKind::Expr:
      case ast::NodeKind::Return:
      case ast::NodeKind::Pass:
        break;
      default:
        flush_flat(out);  // branches and loops see PyTorch order
    }
    std::vector<ast::StmtNode*> pre, lowered;
    std::vector<ast::StmtNode*> rest(body.begin() + k + 1, body.end());
    auto* saved_hoist = frame_->hoist;
    auto* saved_rest = frame_->rest;
    bool saved_taken = frame_->rest_taken;
    auto saved_reads = std::move(frame_->reads);
    frame_->reads.clear();
    frame_->hoist = &pre;
    frame_->rest = &rest;
    frame_->rest_taken = false;
    const ast::StmtNode* saved_stmt = frame_->stmt;
    std::vector<ast::StmtNode*> post;
    auto* saved_post = frame_->post;
    frame_->stmt = s;
    frame_->post = &post;
    lower_stmt(s, lowered);
    lowered.insert(lowered.end(), post.begin(), post.end());
    frame_->stmt = saved_stmt;
    frame_->post = saved_post;
    bool rest_taken = frame_->rest_taken;
    frame_->hoist = saved_hoist;
    frame_->rest = saved_rest;
    frame_->rest_taken = saved_taken;
    frame_->reads = std::move(saved_reads);
    std::size_t before = out.size();
    out.insert(out.end(), pre.begin(), pre.end());
    out.insert(out.end(), lowered.begin(), lowered.end());
    // Keep the statement's position so comments and blank lines stay with it.
    for (std::size_t i = before; i < out.size(); ++i)
      if (out[i]->loc.lineno == 0 && i == before) out[i]->loc = s->loc;
    if (rest_taken) break;  // the statements after s were lowered inside it
  }
  --frame_->depth;
  return out;
}

// ---------------------------------------------------------------------------
// Tensor-valued conditions (issue 4): keras.ops.cond.


// Whether the code after `after` may read `name`: a read later in the function,
// or any read in a loop around it (the next iteration).
bool Lowerer::read_after(const std::string& name, const ast::Node* after) const {
  if (reads_after(frame_->unit->def, name, after->loc)) return true;
  for (const ast::StmtNode* loop : frame_->loops)
    if (reads(loop, name)) return true;
  return false;
}

// An error when `stmts` (a tensor-conditional branch or a traced loop body)
// change a Python list or dict of the code around them (`outs.append(x)`,
// `d[k] = v`): traced once, they would not happen as PyTorch runs them.
bool Lowerer::python_side_effect(const std::vector<ast::StmtNode*>& stmts, const ast::Node* at,
                                 std::string_view why) {
  static const std::set<std::string_view> kMutators = {"append", "extend", "insert", "pop", "remove",
                                                       "clear", "update", "add", "setdefault"};
  std::string found;
  std::function<void(const ast::Node*)> walk = [&](const ast::Node* n) {
    if (n == nullptr || !found.empty() || ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n)) return;
    auto outer = [&](const ast::ExprNode* e) -> std::string {
      auto* v = ast::as<ast::Name>(e);
      if (v == nullptr) return "";
      auto it = frame_->env.find(std::string(v->id));
      return it != frame_->env.end() && !resolved(it->second).tensor() ? std::string(v->id) : "";
    };
    if (auto* c = ast::as<ast::Call>(n))
      if (auto* m = ast::as<ast::Attribute>(c->func); m && kMutators.count(m->attr)) found = outer(m->value);
    if (auto* a = ast::as<ast::Assign>(n))
      for (const ast::ExprNode* t : a->targets)
        if (auto* sub = ast::as<ast::Subscript>(t); sub && found.empty()) found = outer(sub->value);
    if (!found.empty()) return;
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { walk(c); });
  };
  for (const ast::StmtNode* s : stmts) walk(s);
  if (found.empty()) return false;
  error(diag::Kind::UnsupportedConstruct, at,
        "this changes the Python list or dict `" + found + "` under a tensor condition; " + std::string(why) +
            ", so the change would not happen as in PyTorch: not supported");
  return true;
}

std::string Lowerer::fresh_name(std::string_view base) {
  std::string name(base);
  for (int k = 2; frame_->names.count(name); ++k) name = std::string(base) + std::to_string(k);
  frame_->names.insert(name);
  return name;
}

// One branch of keras.ops.cond: `lambda: value` when the branch is one
// assignment of the outputs (or one `return`), else a local function written
// into `out` that takes the outer variables it rebinds and returns the outputs.
ast::ExprNode* Lowerer::branch_function(std::vector<ast::StmtNode*> stmts, const std::vector<std::string>& outputs,
                                        bool returns, const std::set<std::string>& defined_before,
                                        const std::string& name, std::vector<ast::StmtNode*>& out) {
  // `name` was reserved before the branches were lowered (outer functions get
  // the lower numbers); a lambda gives it back.
  auto lambda = [&](ast::ExprNode* body) {
    frame_->names.erase(name);
    return b_.lambda(body);
  };
  auto outputs_expr = [&](ast::ExprContext ctx) -> ast::ExprNode* {
    if (outputs.empty()) return b_.none();
    if (outputs.size() == 1) return b_.name(outputs[0], ctx);
    std::vector<ast::ExprNode*> names;
    for (const std::string& o : outputs) names.push_back(b_.name(o, ctx));
    return b_.tuple(names);
  };
  std::erase_if(stmts, [](ast::StmtNode* x) { return ast::is<ast::Pass>(x); });
  if (returns && stmts.size() == 1)
    if (auto* r = ast::as<ast::Return>(stmts[0]); r && r->value) return lambda(r->value);
  if (!returns && stmts.empty()) return lambda(outputs_expr(ast::ExprContext::Load));
  if (!returns && stmts.size() == 1 && !outputs.empty())
    if (auto* a = ast::as<ast::Assign>(stmts[0]); a && a->targets.size() == 1) {
      std::vector<std::string> targets;
      if (auto* n = ast::as<ast::Name>(a->targets[0])) targets.push_back(std::string(n->id));
      else if (auto* t = ast::as<ast::Tuple>(a->targets[0]))
        for (ast::ExprNode* x : t->elts)
          if (auto* n = ast::as<ast::Name>(x)) targets.push_back(std::string(n->id));
      if (targets == outputs && (outputs.size() == 1 || ast::is<ast::Tuple>(a->targets[0])))
        return lambda(a->value);
    }
  // A function: the outer variables it rebinds are its parameters (Python makes
  // a name assigned in a function local to it).
  std::vector<std::string> params;
  for (const std::string& n : stored_names(stmts))
    if (defined_before.count(n)) params.push_back(n);
  if (!returns) stmts.push_back(b_.return_stmt(outputs_expr(ast::ExprContext::Load)));
  out.push_back(b_.function_def(name, params, stmts));
  if (params.empty()) return b_.name(name);
  std::vector<ast::ExprNode*> args;
  for (const std::string& p : params) args.push_back(b_.name(p));
  return b_.lambda(b_.call(b_.name(name), args));
}

// `if t:` on a tensor t becomes keras.ops.cond(t, true_fn, false_fn): both
// branches are functions returning the variables the `if` rebinds that live on
// (defined before it, or bound by both branches), joined to one layout. A branch
// that returns takes the statements after the `if` as the other branch, so both
// return and the cond is returned.
void Lowerer::lower_tensor_if(ast::If* i, const Test& t, std::vector<ast::StmtNode*>& out) {
  note_maybe_tensor(t, i->test, "keras.ops.cond");
  std::vector<ast::StmtNode*> then_src(i->body.begin(), i->body.end());
  std::vector<ast::StmtNode*> else_src(i->orelse.begin(), i->orelse.end());
  auto fail = [&](const std::string& why) {
    error(diag::Kind::UnsupportedConstruct, i, "this `if` tests a tensor (keras.ops.cond), but " + why);
    out.push_back(i);
  };
  for (auto kind : {ast::NodeKind::Break, ast::NodeKind::Continue})
    if (acts_outside(then_src, kind) || acts_outside(else_src, kind))
      return fail(std::string("a branch has a `") + statement_keyword(kind) +
                  "`, which cannot leave a keras.ops.cond branch");
  if (acts_outside(then_src, ast::NodeKind::Raise) || acts_outside(else_src, ast::NodeKind::Raise))
    return fail("a branch raises an exception, which a compiled graph cannot do on a tensor's value");
  if (!frame_->loops.empty() &&
      (acts_outside(then_src, ast::NodeKind::Return) || acts_outside(else_src, ast::NodeKind::Return)))
    return fail("a branch returns from inside a loop");
  bool then_returns = always_returns(then_src), else_returns = always_returns(else_src);
  bool returns = then_returns && else_returns;
  if (!returns && (then_returns || else_returns) && frame_->rest != nullptr) {
    std::vector<ast::StmtNode*>& other = then_returns ? else_src : then_src;
    if (!acts_outside(other, ast::NodeKind::Return)) {
      // `if t: return a` then more code: that code is the other branch.
      other.insert(other.end(), frame_->rest->begin(), frame_->rest->end());
      frame_->rest_taken = true;
      returns = always_returns(other);
      if (!returns)
        return fail("only one branch returns a value (the other reaches the end of the function and "
                    "returns None)");
    }
  }
  if (!returns && (acts_outside(then_src, ast::NodeKind::Return) || acts_outside(else_src, ast::NodeKind::Return)))
    return fail("it returns on some paths only; write both branches so that each returns or neither does");

  std::vector<ast::StmtNode*> both = then_src;
  both.insert(both.end(), else_src.begin(), else_src.end());
  if (python_side_effect(both, i, "in a compiled graph both branches of keras.ops.cond are traced"))
    return out.push_back(i);
  std::string then_name = fresh_name("true_fn"), else_name = fresh_name("false_fn");
  std::set<std::string> defined_before;
  for (const auto& [name, f] : frame_->env) defined_before.insert(name);
  auto saved = frame_->env;
  std::set<std::string> none_before = frame_->none_vars;
  Frame::CondScope scope{frame_->hoist, defined_before, &saved, &then_src, frame_->cond};
  Frame::CondScope* saved_scope = frame_->cond;
  frame_->cond = &scope;
  int storage_before = frame_->next_storage;
  auto storage_saved = frame_->storage;
  std::vector<ast::StmtNode*> then_stmts = lower_stmts(then_src);
  auto then_env = frame_->env;
  auto then_storage = frame_->storage;
  frame_->env = saved;
  frame_->storage = storage_saved;
  scope.first_branch = false;
  std::vector<ast::StmtNode*> else_stmts = lower_stmts(else_src);
  auto else_env = frame_->env;
  auto else_storage = frame_->storage;
  frame_->env = saved;
  frame_->cond = saved_scope;

  std::vector<std::string> outputs;
  if (!returns) {
    std::vector<std::string> then_names = stored_names(then_stmts), else_names = stored_names(else_stmts);
    std::vector<std::string> all = then_names;
    for (const std::string& n : else_names)
      if (!contains(all, n)) all.push_back(n);
    for (const std::string& n : all) {
      bool both = contains(then_names, n) && contains(else_names, n);
      if (!both && none_before.count(n)) {
        error(diag::Kind::UnsupportedConstruct, i,
              "`" + n + "` stays None on one branch of this tensor `if` and is a value on the other; "
              "keras.ops.cond needs values of the same structure from both branches");
        continue;
      }
      if (defined_before.count(n) || both) {
        outputs.push_back(n);
      } else if (read_after(n, i)) {
        error(diag::Kind::UnsupportedConstruct, i,
              "`" + n + "` is bound in one branch of this tensor `if` only and read after it; "
              "keras.ops.cond needs it from both branches (give it a value before the `if`)");
      }
    }
    // Every output in one layout: PyTorch order unless both agree.
    auto* saved_hoist = frame_->hoist;
    frame_->hoist = nullptr;
    for (const std::string& n : outputs) {
      auto fact_in = [&](auto& env) {
        auto it = env.find(n);
        return it != env.end() ? resolved(it->second) : Fact{};
      };
      Fact a = fact_in(then_env), bf = fact_in(else_env);
      Fact joined = a.same_axes(bf) ? a.meet(bf) : Fact::torch();
      if (!a.same_axes(bf))
        joined.dtype = Fact::joined_dtype(a, bf);
      Why why(this, "the branches leave it in different layouts");
      if (!a.same_axes(bf)) {
        if (a.kind == Fact::CL) {
          ast::ExprNode* x = b_.name(n);
          demand_torch(a, x);
          then_stmts.push_back(b_.assign(b_.name(n, ast::ExprContext::Store), x));
        }
        if (bf.kind == Fact::CL) {
          ast::ExprNode* x = b_.name(n);
          demand_torch(bf, x);
          else_stmts.push_back(b_.assign(b_.name(n, ast::ExprContext::Store), x));
        }
      }
      // ops.cond on a tensor gives tensors, whatever the branches computed.
      if (!joined.tensor() && joined.kind != Fact::List && t.kind == TestKind::Tensor) joined = Fact::torch();
      frame_->env[n] = joined;
      record_binding(n, nullptr);
    }
    frame_->hoist = saved_hoist;
    // An output bound to an existing tensor in a branch may be that tensor.
    for (const std::string& n : outputs) {
      std::set<int> ids;
      for (const auto* st : {&then_storage, &else_storage})
        if (auto it = st->find(n); it != st->end() && it->second < storage_before) ids.insert(it->second);
      if (!ids.empty()) frame_->maybe_alias[n] = ids;
    }
    for (auto* stmts : {&then_stmts, &else_stmts})
      for (ast::StmtNode* x : *stmts)
        if (auto* a = ast::as<ast::Assign>(x); a && a->targets.size() == 1 && ast::is<ast::Name>(a->targets[0]))
          if (auto* k = ast::as<ast::Constant>(a->value); k && k->value.kind == ast::ConstantValue::Kind::None &&
                                                          contains(outputs, std::string(ast::as<ast::Name>(a->targets[0])->id)))
            error(diag::Kind::UnsupportedConstruct, x,
                  "a branch of a tensor `if` sets this to None; keras.ops.cond needs tensors of the same "
                  "structure from both branches");
  }
  std::vector<ast::StmtNode*> defs;
  ast::ExprNode* then_fn = branch_function(then_stmts, outputs, returns, defined_before, then_name, defs);
  ast::ExprNode* else_fn = branch_function(else_stmts, outputs, returns, defined_before, else_name, defs);
  ast::ExprNode* cond = b_.call("ops.cond", {t.expr, then_fn, else_fn});
  out.insert(out.end(), defs.begin(), defs.end());
  if (returns) {
    out.push_back(b_.return_stmt(cond));
  } else if (outputs.empty()) {
    out.push_back(b_.expr_stmt(cond));
  } else {
    std::vector<ast::ExprNode*> targets;
    for (const std::string& n : outputs) targets.push_back(b_.name(n, ast::ExprContext::Store));
    out.push_back(b_.assign(outputs.size() == 1 ? targets[0] : b_.tuple(targets), cond));
  }
}

// ---------------------------------------------------------------------------
// In-place changes (P48): Keras tensors are immutable, so `x.add_(y)`,
// `F.relu(x, inplace=True)`, `x += y` on a tensor and `x[i] = v` rebind x to the
// new value, and every other variable sharing x's storage that is read later is
// rebound too (an alias) or reported (a view, which cannot follow).

int Lowerer::storage_of(const std::string& name) {
  auto [it, inserted] = frame_->storage.try_emplace(name, 0);
  if (inserted) it->second = frame_->next_storage++;
  return it->second;
}

// `target = value`: an alias when value is a variable, a view when it is a view
// op (`view=True` in the catalog, or a subscript) of one, else a new storage.
void Lowerer::record_binding(const std::string& target, const ast::ExprNode* value) {
  frame_->maybe_alias.erase(target);
  if (auto* e = ast::as<ast::IfExp>(value)) {
    // One of two values: it may be either one's tensor.
    std::set<int> ids;
    for (const ast::ExprNode* x : {e->body, e->orelse})
      if (auto* n = ast::as<ast::Name>(x); n && frame_->env.count(std::string(n->id)))
        ids.insert(storage_of(std::string(n->id)));
    frame_->storage[target] = frame_->next_storage++;
    frame_->views.erase(target);
    if (!ids.empty()) frame_->maybe_alias[target] = ids;
    return;
  }
  const ast::Name* source = nullptr;
  bool view = false, inner_view = false;
  if (auto* n = ast::as<ast::Name>(value)) {
    source = n;
    view = frame_->views.count(std::string(n->id)) > 0;
  } else if (auto* sub = ast::as<ast::Subscript>(value)) {
    source = ast::as<ast::Name>(sub->value);
    view = true;
  } else if (auto* call = ast::as<ast::Call>(value)) {
    const Entry* entry = nullptr;
    if (auto d = module_of(call->func); d && d->kind == ModuleDesc::Leaf && !call->args.empty()) {
      entry = d->entry;  // self.drop(y) in inference is y
      source = ast::as<ast::Name>(call->args[0]);
    } else if (auto* a = ast::as<ast::Attribute>(call->func); a && !resolve(call->func)) {
      entry = catalog_.find_method(a->attr);
      source = view_root(a->value, inner_view);  // y.flatten(2).transpose(1, 2) views y
    } else if (auto path = resolve(call->func); path && !call->args.empty()) {
      entry = catalog_.find_function(*path);
      source = view_root(call->args[0], inner_view);
    }
    // A function, method or block of the input that may return its argument.
    const Unit* unit = entry == nullptr ? unit_called(call) : nullptr;
    if (unit != nullptr && !unit->returns_params.empty()) {
      int i = *unit->returns_params.begin();
      source = static_cast<std::size_t>(i) < call->args.size() ? ast::as<ast::Name>(call->args[i]) : nullptr;
      if (source != nullptr) {
        frame_->storage[target] = storage_of(std::string(source->id));
        frame_->views.erase(target);
        return;
      }
    }
    view = entry != nullptr && (entry->view || (entry->alias && inner_view));
    bool alias = entry != nullptr && entry->alias;
    if (alias && source != nullptr && frame_->views.count(std::string(source->id))) view = true;
    if (!view && !alias) source = nullptr;
  }
  if (source != nullptr && frame_->env.count(std::string(source->id)) && std::string(source->id) != target) {
    frame_->storage[target] = storage_of(std::string(source->id));
  } else if (source == nullptr || std::string(source->id) != target) {
    frame_->storage[target] = frame_->next_storage++;
  }
  if (view) frame_->views.insert(target);
  else frame_->views.erase(target);
}

const ast::Name* Lowerer::view_root(const ast::ExprNode* e, bool& view) {
  if (auto* n = ast::as<ast::Name>(e)) {
    view = view || frame_->views.count(std::string(n->id)) > 0;
    return n;
  }
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    view = true;
    return view_root(sub->value, view);
  }
  auto* call = ast::as<ast::Call>(e);
  if (call == nullptr) return nullptr;
  const Entry* entry = nullptr;
  const ast::ExprNode* of = nullptr;
  if (auto d = module_of(call->func)) {
    if (d->kind != ModuleDesc::Leaf || call->args.empty()) return nullptr;
    entry = d->entry;  // self.drop(y) in inference is y
    of = call->args[0];
  } else if (auto* a = ast::as<ast::Attribute>(call->func); a && !resolve(call->func)) {
    entry = catalog_.find_method(a->attr);
    of = a->value;
  } else if (auto path = resolve(call->func); path && !call->args.empty()) {
    entry = catalog_.find_function(*path);
    of = call->args[0];
  }
  if (entry == nullptr || !(entry->view || entry->alias)) return nullptr;
  view = view || entry->view;
  return view_root(of, view);
}

// The lowered unit a call runs (a block's forward, a method, a module function).
const Unit* Lowerer::unit_called(const ast::Call* call) {
  const ast::FunctionDef* def = nullptr;
  const ClassInfo* cls = nullptr;
  if (auto d = module_of(call->func); d && d->kind == ModuleDesc::User) cls = d->cls, def = method(d->cls, "forward");
  else if (auto* fn = ast::as<ast::Name>(call->func)) def = values_.module_function(fn->id);
  else if (auto* m = ast::as<ast::Attribute>(call->func); m && is_self(m->value))
    cls = frame_->unit->cls, def = cls ? method(cls, m->attr) : nullptr;
  auto u = def ? units_.find({cls, def}) : units_.end();
  return u != units_.end() ? &u->second : nullptr;
}

// After `name` changed in place: `alias = name` for each alias read later; an
// error for a view read later (its values would have to follow).
std::vector<ast::StmtNode*> Lowerer::sync_aliases(const std::string& name, const ast::Node* at) {
  std::vector<ast::StmtNode*> out;
  int id = storage_of(name);
  if (auto h = frame_->holders.find(id); h != frame_->holders.end())
    for (const std::string& holder : h->second)
      if (holder != name && frame_->env.count(holder) && read_after(holder, at))
        error(diag::Kind::UnsupportedConstruct, at,
              "this changes `" + name + "` in place, and `" + holder +
                  "` (a list, tuple or dict holding it) is read later; Keras tensors cannot be changed in "
                  "place, so the change would not reach it: write the change without an in-place op");
  std::vector<std::string> sharing;
  for (const auto& [other, sid] : frame_->storage)
    if (sid == id && other != name && frame_->env.count(other)) sharing.push_back(other);
  std::sort(sharing.begin(), sharing.end());
  for (const auto& [other, ids] : frame_->maybe_alias)
    if (other != name && ids.count(id) && frame_->env.count(other) && read_after(other, at))
      error(diag::Kind::UnsupportedConstruct, at,
            "this changes `" + name + "` in place, and `" + other +
                "` may be the same tensor (it holds one of several values: a branch taken at run time, an item of a returned tuple) and is read later; "
                "write the change without an in-place op");
  // In a loop, an alias bound before it follows only while the changed variable
  // keeps its tensor: one rebound by the loop body is a new tensor next time.
  const ast::StmtNode* loop = frame_->loops.empty() ? nullptr : frame_->loops.back();
  auto loop_body = [&]() -> std::vector<ast::StmtNode*> {
    if (auto* f = ast::as<ast::For>(loop)) return {f->body.begin(), f->body.end()};
    if (auto* w = ast::as<ast::While>(loop)) return {w->body.begin(), w->body.end()};
    return {};
  };
  std::vector<std::string> loop_stored = loop ? stored_names(loop_body()) : std::vector<std::string>{};
  auto plainly_rebound = [&](const std::string& v) {
    // `v = ...` (not `v += ...`) somewhere in the loop body.
    bool found = false;
    std::function<void(const ast::Node*)> walk = [&](const ast::Node* n) {
      if (n == nullptr || found || ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n)) return;
      if (auto* a = ast::as<ast::Assign>(n))
        for (const ast::ExprNode* t : a->targets) {
          std::vector<std::string> names;
          stored_names(t, names);
          found = found || contains(names, v);
        }
      ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { walk(c); });
    };
    for (const ast::StmtNode* x : loop_body()) walk(x);
    return found;
  };
  for (const std::string& other : sharing) {
    if (!read_after(other, at)) continue;
    if (loop != nullptr && !contains(loop_stored, other) && plainly_rebound(name)) {
      error(diag::Kind::UnsupportedConstruct, at,
            "this changes `" + name + "` in place inside a loop that rebinds it, and `" + other +
                "` (the same tensor on the first iteration only) is read later; write the change without an "
                "in-place op");
      continue;
    }
    if (frame_->views.count(other) || frame_->views.count(name)) {
      error(diag::Kind::UnsupportedConstruct, at,
            "this changes `" + name + "` in place, and `" + other +
                "` (a view sharing its memory) is read later; Keras tensors cannot be changed in place, "
                "so write the change without an in-place op");
      continue;
    }
    out.push_back(b_.assign(b_.name(other, ast::ExprContext::Store), b_.name(name)));
    frame_->env[other] = frame_->env[name];
  }
  return out;
}

// `target` changed in place to `value`: rebinds a variable (when it, or an alias,
// is read later, or it is a caller's tensor); the value of the expression.
Lowerer::Val Lowerer::mutate(ast::ExprNode* target, Val value, const ast::Node* at) {
  // In a branch of `a if c else b` (timm's LayerScale: `x.mul_(g) if inplace else
  // x * g`) the change happens only when that branch runs: written before the
  // statement, it would happen always. The branch gives the changed value; the
  // variable itself may not be read after the statement.
  if (conditional_depth_ > 0 && !ast::is<ast::Call>(target) && !ast::is<ast::BinOp>(target)) {
    auto* n = ast::as<ast::Name>(target);
    if (n == nullptr || read_after(std::string(n->id), frame_->stmt))
      error(diag::Kind::UnsupportedConstruct, at,
            "an in-place change of `" + syntax::unparse(target) +
                "` in a branch of a conditional expression (`a if c else b`), read after this statement, is "
                "not supported yet; write an `if` statement");
    return value;
  }
  if (auto* sub = ast::as<ast::Subscript>(target); sub && frame_->hoist != nullptr) {
    // `x[:, :2].mul_(2)`: x[:, :2] = <value>, then the part is read back.
    lower_item_assign(sub, value.expr, *frame_->hoist, at);
    return lower_expr(target);
  }
  // A temporary (`self.relu(self.bn(x))`): nothing else holds it.
  if (ast::is<ast::Call>(target) || ast::is<ast::BinOp>(target)) return value;
  auto* n = ast::as<ast::Name>(target);
  if (n == nullptr || !frame_->env.count(std::string(n->id))) {
    error(diag::Kind::UnsupportedConstruct, at,
          "an in-place change of `" + syntax::unparse(target) +
              "` in forward code is not supported (Keras tensors and layer variables cannot be changed "
              "in place); change a local variable");
    return value;
  }
  std::string name(n->id);
  note_in_place_change(name);
  frame_->env[name] = value.fact;
  // `x = self.relu(x)` with an in-place ReLU: the statement itself rebinds x.
  auto* assign = ast::as<ast::Assign>(frame_->stmt);
  if (assign != nullptr && assign->value == at && assign->targets.size() == 1)
    if (auto* t = ast::as<ast::Name>(assign->targets[0]); t && t->id == n->id) {
      std::vector<ast::StmtNode*> syncs = sync_aliases(name, at);
      if (frame_->post) frame_->post->insert(frame_->post->end(), syncs.begin(), syncs.end());
      return value;
    }
  if (!change_visible(name, at)) {
    inplace_unused_ = value.expr;  // a statement of only this value computes nothing
    return value;
  }
  if (frame_->hoist == nullptr) {
    error(diag::Kind::UnsupportedConstruct, at, "an in-place change here is not supported yet");
    return value;
  }
  frame_->hoist->push_back(b_.assign(b_.name(name, ast::ExprContext::Store), value.expr));
  for (ast::StmtNode* x : sync_aliases(name, at)) frame_->hoist->push_back(x);
  ast::Name* result = b_.name(name);
  inplace_result_ = result;
  return {result, value.fact};
}

// `x[index] = value` (PyTorch writes into x): x = pytorch_setitem(x, index,
// value), in PyTorch axis order; `index` is written as `np.s_[...]` when it has
// slices or several parts.
void Lowerer::lower_item_assign(ast::Subscript* target, ast::ExprNode* value, std::vector<ast::StmtNode*>& out,
                                const ast::Node* at) {
  auto* base = ast::as<ast::Name>(target->value);
  if (base == nullptr || !frame_->env.count(std::string(base->id))) {
    error(diag::Kind::UnsupportedConstruct, at,
          "item assignment to `" + syntax::unparse(target->value) +
              "` in forward code is not supported (Keras tensors and layer variables cannot be changed in "
              "place); assign into a local variable");
    return;
  }
  std::string name(base->id);
  note_in_place_change(name);
  Val v = lower_expr(value);
  Fact vf = resolved(v.fact);
  if (vf.tensor() || vf.kind == Fact::List) demand_torch(vf, v.expr);
  Val idx = lower_expr(target->slice);
  if (Fact f = resolved(idx.fact); f.tensor()) demand_torch(f, idx.expr);
  Val x = lower_expr(target->value);
  Fact xf = demand_torch(resolved(x.fact), x.expr);
  if (!xf.tensor()) xf = Fact::torch();
  ast::ExprNode* index = idx.expr;
  if (ast::is<ast::Slice>(index) || ast::is<ast::Tuple>(index)) index = b_.subscript(b_.dotted("np.s_"), index);
  out_.helpers.insert("pytorch_setitem");
  auto* assign = b_.assign(b_.name(name, ast::ExprContext::Store), b_.call("pytorch_setitem", {x.expr, index, v.expr}));
  assign->loc = at->loc;
  out.push_back(assign);
  frame_->env[name] = xf;
  for (ast::StmtNode* s : sync_aliases(name, at)) out.push_back(s);
}

// A Sequential that starts with in-place activations (nn.Sequential(nn.ReLU(
// inplace=True), conv, ...)) changes its input variable: after the call, the
// variable is those first layers applied to it, when it (or an alias) is read
// later (the vq-vae-2 ResBlock bug, P48).
void Lowerer::follow_leading_inplace(const ModuleDesc& seq, ast::Call* lowered, ast::ExprNode* arg,
                                     const ast::Call* call) {
  auto* n = ast::as<ast::Name>(arg);
  // The first layers that change the input in place: in-place activations, with
  // layers giving their input back in inference (dropout, Identity) between, and
  // nested Sequentials made of those.
  std::function<bool(const ModuleDesc&, bool&)> acts_in_place = [&](const ModuleDesc& d, bool& changes) {
    if (d.kind == ModuleDesc::Leaf && inplace_module(d) && d.entry->layout == Layout::Any) return changes = true;
    if (d.kind == ModuleDesc::Leaf && d.entry != nullptr && d.entry->alias) return true;
    if (d.kind == ModuleDesc::Seq && d.cls == nullptr && !d.dynamic) {
      for (const ModuleDesc& item : d.items)
        if (!acts_in_place(item, changes)) return false;
      return true;
    }
    return false;
  };
  std::size_t k = 0;
  for (std::size_t i = 0; i < seq.items.size(); ++i) {
    bool changes = false;
    if (!acts_in_place(seq.items[i], changes)) break;
    if (changes) k = i + 1;
  }
  if (n == nullptr || k == 0 || !frame_->env.count(std::string(n->id))) return;
  std::string name(n->id);
  if (!change_visible(name, call)) return;
  note_in_place_change(name);
  bool in_statement = reads_after(frame_->stmt, name, call->loc);
  if (seq.dynamic || seq.cls != nullptr || in_statement || frame_->post == nullptr ||
      wraps_.count(seq.items[0].ctor)) {
    error(diag::Kind::UnsupportedConstruct, call,
          "`" + syntax::unparse(call->func) + "` starts with an in-place activation that changes `" + name +
              "`, which is read later; not supported here (apply the activation before the call)");
    return;
  }
  // `x = self.block.layers[0](x)`: the same layer, on the value before the call.
  ast::ExprNode* value = b_.name(name);
  for (std::size_t i = 0; i < k; ++i)
    value = b_.call(b_.subscript(b_.attr(lowered->func, "layers"), b_.integer(static_cast<int64_t>(i))), {value});
  frame_->post->push_back(b_.assign(b_.name(name, ast::ExprContext::Store), value));
  for (ast::StmtNode* x : sync_aliases(name, call)) frame_->post->push_back(x);
}

// Whether `target` (of `target = v` / `target op= v`) is an item of a tensor
// (item assignment in PyTorch writes into it) rather than of a list or dict.
bool Lowerer::assigns_into_tensor(const ast::Subscript* target) {
  const ast::ExprNode* base = target->value;
  while (auto* sub = ast::as<ast::Subscript>(base)) base = sub->value;
  if (auto* n = ast::as<ast::Name>(base)) {
    auto it = frame_->env.find(std::string(n->id));
    return it == frame_->env.end() || resolved(it->second).tensor();
  }
  if (auto* a = ast::as<ast::Attribute>(base); a && is_self(a->value))
    return frame_->unit->cls == nullptr || tensor_attribute(frame_->unit->cls, a->attr) ||
           !values_.attr(frame_->unit->cls, a->attr);
  return true;
}

void Lowerer::hold(const ast::ExprNode* container, const ast::ExprNode* value) {
  while (auto* sub = ast::as<ast::Subscript>(container)) container = sub->value;
  auto* c = ast::as<ast::Name>(container);
  auto* v = ast::as<ast::Name>(value);
  if (c == nullptr || v == nullptr || !frame_->env.count(std::string(v->id))) return;
  frame_->holders[storage_of(std::string(v->id))].insert(std::string(c->id));
}

// `name`'s tensor changes in place here: from now on, conversions of it cannot
// go before the enclosing tensor `if` or loop (CondScope), and when it is a
// parameter's tensor the caller's variable changes too (mutated_params).
void Lowerer::note_in_place_change(const std::string& name) {
  for (Frame::CondScope* c = frame_->cond; c != nullptr; c = c->parent) c->mutated.insert(name);
  if (auto p = frame_->param_storage.find(storage_of(name)); p != frame_->param_storage.end())
    frame_->unit->mutated_params.insert(p->second);
}

// Whether an in-place change of `name` at `at` would be seen later: `name`, an
// alias of its tensor, or a list/tuple/dict holding it is read afterwards, or
// the tensor is a caller's.
bool Lowerer::change_visible(const std::string& name, const ast::Node* at) {
  int id = storage_of(name);
  if (frame_->param_storage.count(id) || read_after(name, at)) return true;
  for (const auto& [other, sid] : frame_->storage)
    if (sid == id && other != name && frame_->env.count(other) && read_after(other, at)) return true;
  if (auto h = frame_->holders.find(id); h != frame_->holders.end())
    for (const std::string& holder : h->second)
      if (read_after(holder, at)) return true;
  for (const auto& [other, ids] : frame_->maybe_alias)
    if (other != name && ids.count(id) && frame_->env.count(other) && read_after(other, at)) return true;
  return false;
}

// A catalog layer built with `inplace=True` (nn.ReLU(inplace=True)).
bool Lowerer::inplace_module(const ModuleDesc& d) const {
  if (d.kind == ModuleDesc::Union) {
    // `act(x)` over a ModuleDict of in-place activations: each one changes x.
    bool all = !d.items.empty();
    for (const ModuleDesc& item : d.items) all = all && inplace_module(item);
    return all;
  }
  if (d.kind != ModuleDesc::Leaf || d.ctor == nullptr || d.entry == nullptr) return false;
  const ast::Arguments* sig = d.entry->def->args;
  for (std::size_t i = 0; i < sig->args.size(); ++i)
    if (sig->args[i]->arg == "inplace" && i < d.ctor->args.size())
      return analysis::literal_value(d.ctor->args[i]).truth().value_or(false);
  for (const ast::Keyword* kw : d.ctor->keywords)
    if (kw->arg == "inplace") return analysis::literal_value(kw->value).truth().value_or(false);
  return false;
}

// The kind of `test` (see TestKind), found without writing anything: the
// lowering's state is restored afterwards.
Lowerer::TestKind Lowerer::test_kind(ast::ExprNode* test) {
  auto env = frame_->env;
  auto reads = frame_->reads;
  auto params = frame_->unit->params;
  std::size_t diagnostics = out_.diagnostics.size();
  std::vector<ast::StmtNode*> scratch;
  auto* saved_hoist = frame_->hoist;
  frame_->hoist = &scratch;
  TestKind kind = lower_test(test).kind;
  frame_->hoist = saved_hoist;
  frame_->env = std::move(env);
  frame_->reads = std::move(reads);
  frame_->unit->params = std::move(params);
  out_.diagnostics.resize(diagnostics);
  return kind;
}

// The body of a Python loop. Variables of the code before the loop that it does
// not rebind (nor `head`, the loop's iterable or test, reads) are converted once
// before the loop; values it carries round keep the layout they had on entry.
std::vector<ast::StmtNode*> Lowerer::lower_loop_body(const ast::StmtNode* loop, const std::vector<ast::StmtNode*>& src,
                                                     const ast::ExprNode* head) {
  forget_spatial(src);  // an iteration may change the sizes the next one starts from
  auto before = frame_->env;
  Frame::CondScope scope{frame_->hoist, {}, &before, &src, frame_->cond};
  for (const auto& [name, f] : before)
    if (!reads(head, name)) scope.outer.insert(name);
  Frame::CondScope* saved_scope = frame_->cond;
  frame_->cond = &scope;
  frame_->loops.push_back(loop);
  std::vector<ast::StmtNode*> body = lower_stmts(src);
  frame_->loops.pop_back();
  frame_->cond = saved_scope;
  auto* saved_hoist = frame_->hoist;
  frame_->hoist = nullptr;
  for (auto& [name, g] : frame_->env) {
    auto it = before.find(name);
    if (it == before.end()) continue;
    Fact a = resolved(it->second), now = resolved(g);
    if (a.same_axes(now) || !now.tensor()) continue;
    Why why(this, "a loop carries it round in the layout it had on entry");
    ast::ExprNode* x = b_.name(name);
    if (a.kind == Fact::CL) demand_cl(now, a.rank, x);
    else demand_torch(now, x);
    body.push_back(b_.assign(b_.name(name, ast::ExprContext::Store), x));
    g = a;
  }
  frame_->hoist = saved_hoist;
  return body;
}

// `while t:` on a tensor t becomes keras.ops.while_loop(cond_fn, body_fn,
// loop_vars): the loop variables are the variables of the code before it that
// the body rebinds; both functions take them, the body returns them.
// The body of a loop that keras.ops.while_loop / fori_loop (`op`) traces once,
// and the variables it carries: the variables of the code before the loop that
// the lowered body rebinds (in-place ops and the aliases they update included),
// `index` (fori_loop's, bound by the caller) left out. Null after an error
// (`fail` reports it). Its conversions of values it only reads go before the loop.
std::optional<Lowerer::TracedLoop> Lowerer::lower_traced_loop(const ast::StmtNode* loop,
                                                              const std::vector<ast::StmtNode*>& src,
                                                              const ast::Seq<ast::StmtNode*>& orelse,
                                                              const ast::ExprNode* head, std::string_view op,
                                                              const std::string& index,
                                                              const std::function<void(const std::string&)>& fail,
                                                              std::vector<ast::StmtNode*>& out) {
  forget_spatial(src);
  for (auto kind : {ast::NodeKind::Break, ast::NodeKind::Continue, ast::NodeKind::Return})
    if (acts_outside(src, kind)) {
      fail(std::string("its body has a `") + statement_keyword(kind) + "`");
      return std::nullopt;
    }
  if (!orelse.empty()) {
    fail("it has an `else` block");
    return std::nullopt;
  }
  if (python_side_effect(src, loop, std::string(op) + " traces its body once")) {
    out.push_back(const_cast<ast::StmtNode*>(loop));
    return std::nullopt;
  }
  std::set<std::string> defined_before;
  for (const auto& [name, f] : frame_->env) defined_before.insert(name);
  for (const std::string& n : stored_names(src))
    if (n != index && !defined_before.count(n) && read_after(n, loop))
      error(diag::Kind::UnsupportedConstruct, loop,
            "`" + n + "` is first bound inside this loop and read after it; give it a value before the loop (" +
                std::string(op) + " carries only values bound before it)");
  std::set<std::string> ints = frame_->int_vars;  // before the body rebinds them
  auto entry = frame_->env;
  TracedLoop traced{lower_loop_body(loop, src, head), {}, {}};
  for (const std::string& n : stored_names(traced.body))
    if (n != index && defined_before.count(n)) traced.carried.push_back(n);
  for (const std::string& n : traced.carried)
    if (Fact f = resolved(entry[n]); f.tensor() && f.dtype == DType::Int) {
      std::string dtype = fresh_name(n + "_dtype");
      out.push_back(b_.assign(b_.name(dtype, ast::ExprContext::Store), b_.attr(b_.name(n), "dtype")));
      traced.entry_dtypes[n] = dtype;
    }
  if (traced.carried.empty()) {
    fail(index.empty() ? "its body rebinds no variable, so the loop would never end"
                       : "its body rebinds no variable, so it computes nothing");
    return std::nullopt;
  }
  float_counters(traced.carried, ints, out);
  return traced;
}

// After a traced loop: its carried variables are tensors, each a new one.
void Lowerer::bind_carried(const std::vector<std::string>& carried) {
  for (const std::string& n : carried) {
    Fact f = resolved(frame_->env[n]);
    if (!f.tensor() && f.kind != Fact::List) frame_->env[n] = Fact::torch();
    record_binding(n, nullptr);
  }
}

// `names` as one value: a name, or a tuple of names.
ast::ExprNode* Lowerer::names_expr(const std::vector<std::string>& names, ast::ExprContext ctx) {
  if (names.size() == 1) return b_.name(names[0], ctx);
  std::vector<ast::ExprNode*> elts;
  for (const std::string& n : names) elts.push_back(b_.name(n, ctx));
  return b_.tuple(elts);
}

// `while t:` on a tensor t becomes keras.ops.while_loop(cond_fn, body_fn,
// loop_vars): both functions take the loop variables, the body returns them.
void Lowerer::lower_tensor_while(ast::While* w, std::vector<ast::StmtNode*>& out) {
  auto fail = [&](const std::string& why) {
    error(diag::Kind::UnsupportedConstruct, w, "this `while` tests a tensor (keras.ops.while_loop), but " + why);
    out.push_back(w);
  };
  // The body first, then the test, on the loop variables in their entry layout.
  auto traced = lower_traced_loop(w, {w->body.begin(), w->body.end()}, w->orelse, w->test, "keras.ops.while_loop",
                                  "", fail, out);
  if (!traced) return;
  // Conversions the test needs are local to cond_fn.
  std::vector<ast::StmtNode*> cond_body;
  auto entry = frame_->env;
  // In cond_fn the carried values are tensors (`n < size and t.sum() < k` is
  // ops.logical_and of them, not Python's `and`).
  for (const std::string& n : traced->carried)
    if (Fact f = resolved(frame_->env[n]); !f.tensor() && f.kind != Fact::List) {
      Fact carried = Fact::torch(0);
      if (frame_->int_vars.count(n)) carried.dtype = DType::Int;
      frame_->env[n] = carried;
    }
  auto* saved_hoist = frame_->hoist;
  frame_->hoist = &cond_body;
  Test t = lower_test(w->test);
  frame_->hoist = saved_hoist;
  frame_->env = std::move(entry);
  cond_body.push_back(b_.return_stmt(t.expr));
  note_maybe_tensor(t, w->test, "keras.ops.while_loop");
  bind_carried(traced->carried);
  traced->body.push_back(b_.return_stmt(traced->returned(b_)));
  std::string cond_name = fresh_name("cond_fn"), body_name = fresh_name("body_fn");
  out.push_back(b_.function_def(cond_name, traced->carried, cond_body));
  out.push_back(b_.function_def(body_name, traced->carried, traced->body));
  out.push_back(b_.assign(names_expr(traced->carried, ast::ExprContext::Store),
                          b_.call("ops.while_loop", {b_.name(cond_name), b_.name(body_name),
                                                     names_expr(traced->carried, ast::ExprContext::Load)})));
}

// `for i in range(lo, hi)` with a tensor bound becomes keras.ops.fori_loop(lo,
// hi, body_fn, carry): body_fn takes the index (a tensor) and the carried values.
void Lowerer::lower_tensor_for(ast::For* f, ast::Call* range, std::vector<ast::StmtNode*>& out) {
  std::vector<ast::StmtNode*> src(f->body.begin(), f->body.end());
  auto fail = [&](const std::string& why) {
    error(diag::Kind::UnsupportedConstruct, f,
          "this loop's trip count is a tensor (keras.ops.fori_loop), but " + why);
    out.push_back(f);
  };
  auto* index = ast::as<ast::Name>(f->target);
  if (index == nullptr) return fail("its target is not a single name");
  if (range->args.size() == 3 && analysis::literal_value(range->args[2]).integer != 1)
    return fail("its step is not 1");
  if (range->args.empty() || range->args.size() > 3 || !range->keywords.empty())
    return fail("its range() has an unexpected form");
  std::vector<ast::ExprNode*> bounds;
  if (range->args.size() == 1) bounds.push_back(b_.integer(0));
  for (std::size_t i = 0; i < range->args.size() && i < 2; ++i) {
    Val v = lower_expr(range->args[i]);
    if (Fact g = resolved(v.fact); g.tensor()) demand_torch(g, v.expr);
    bounds.push_back(v.expr);
  }
  std::string index_name(index->id);
  frame_->env[index_name] = Fact::torch();
  record_binding(index_name, nullptr);
  auto traced = lower_traced_loop(f, src, f->orelse, f->iter, "keras.ops.fori_loop", index_name, fail, out);
  if (!traced) return;
  bind_carried(traced->carried);
  std::vector<ast::StmtNode*>& body = traced->body;
  const std::vector<std::string>& carried = traced->carried;
  // PyTorch's index is a Python int, which mixes with float tensors; fori_loop's
  // is an int32 tensor, which does not: made float unless it indexes.
  bool read = false, indexing = false;
  for (const ast::StmtNode* x : src) {
    read = read || reads(x, index_name);
    indexing = indexing || indexes_with(x, index_name, false);
  }
  if (read && !indexing) {
    body.insert(body.begin(), b_.assign(b_.name(index_name, ast::ExprContext::Store),
                                        b_.call("ops.cast", {b_.name(index_name), b_.string("float32")})));
    body.front()->loc.lineno = body.front()->loc.end_lineno = f->loc.lineno;
  }
  std::vector<std::string> params = {index_name};
  if (carried.size() == 1) {
    params.push_back(carried[0]);
  } else {
    std::string carry = fresh_name("carry");
    params.push_back(carry);
    body.insert(body.begin(), b_.assign(names_expr(carried, ast::ExprContext::Store), b_.name(carry)));
    body.front()->loc.lineno = body.front()->loc.end_lineno = f->loc.lineno;  // no blank line after it
  }
  body.push_back(b_.return_stmt(traced->returned(b_)));
  std::string body_name = fresh_name("body_fn");
  out.push_back(b_.function_def(body_name, params, body));
  out.push_back(b_.assign(names_expr(carried, ast::ExprContext::Store),
                          b_.call("ops.fori_loop", {bounds[0], bounds[1], b_.name(body_name),
                                                    names_expr(carried, ast::ExprContext::Load)})));
}

// A Python int carried by a traced loop (`n = 0 ... n += 1`) becomes an int32
// tensor, which does not mix with float tensors as PyTorch's int does (`x / n`):
// such a counter is carried as a float, unless the function indexes or counts
// with it (`x[n]`, `range(n)`). `ints`: the variables bound to ints before the loop.
void Lowerer::float_counters(const std::vector<std::string>& carried, const std::set<std::string>& ints,
                             std::vector<ast::StmtNode*>& out) {
  for (const std::string& v : carried) {
    if (!ints.count(v) || indexes_with(frame_->unit->def, v, true)) continue;
    out.push_back(b_.assign(b_.name(v, ast::ExprContext::Store), b_.call("float", {b_.name(v)})));
    frame_->int_vars.erase(v);
  }
}

std::optional<Fact> Lowerer::desc_hint(const ModuleDesc& d, int depth) {
  switch (d.kind) {
    case ModuleDesc::Leaf:
      if (d.entry->layout == Layout::Any) return std::nullopt;
      if (d.entry->layout == Layout::Spatial && opt_.channels_last && d.entry->rank >= 3) return Fact::cl(d.entry->rank);
      return Fact::torch();
    case ModuleDesc::Seq:
      for (const ModuleDesc& item : d.items)
        if (std::optional<Fact> h = desc_hint(item, depth)) return h;
      return std::nullopt;
    case ModuleDesc::User:
      if (d.cls->torch_base == analysis::TorchBase::Sequential) return desc_hint(values_.self_items(d.cls), depth);
      return module_hint(d.cls, method(d.cls, "forward"), 0, depth + 1).value_or(Fact::torch());
    default:
      return Fact::torch();
  }
}

std::optional<Fact> Lowerer::module_hint(const ClassInfo* cls, const ast::FunctionDef* def, std::size_t index,
                                         int depth) {
  std::size_t first = cls != nullptr ? 1 : 0;
  if (def == nullptr || depth > 4 || def->args->args.size() <= index + first) return std::nullopt;
  std::set<std::string> names{std::string(def->args->args[index + first]->arg)};
  std::optional<Fact> found;
  std::function<void(ast::Node*)> visit = [&](ast::Node* n) {
    if (found || n == nullptr) return;
    ast::for_each_child(n, visit);  // arguments before the call that reads them
    auto* c = ast::as<ast::Call>(n);
    if (found || c == nullptr) return;
    std::optional<std::size_t> arg;  // the first argument computed from the value (`x * self.scale`)
    for (std::size_t i = 0; i < c->args.size() && !arg; ++i)
      for (const std::string& n : names)
        if (!arg && reads(c->args[i], n)) arg = i;
    if (!arg) return;
    auto* a = ast::as<ast::Attribute>(c->func);
    auto* self = a != nullptr ? ast::as<ast::Name>(a->value) : nullptr;
    if (self != nullptr && self->id == "self" && cls != nullptr) {
      if (const ast::FunctionDef* m = method(cls, a->attr)) found = module_hint(cls, m, *arg, depth + 1);
      else if (std::optional<ModuleDesc> d = values_.attr(cls, a->attr)) found = desc_hint(*d, depth);
    } else if (auto* f = ast::as<ast::Name>(c->func)) {
      if (const ast::FunctionDef* fn = values_.module_function(f->id)) found = module_hint(nullptr, fn, *arg, depth + 1);
    }
  };
  for (ast::StmtNode* st : def->body) {
    visit(st);
    if (found) break;
    // `x = self._transform_input(x)`: the value goes on in the targets.
    auto* as = ast::as<ast::Assign>(st);
    bool carries = false;
    for (const std::string& n : names) carries = carries || (as != nullptr && reads(as->value, n));
    if (!carries) continue;
    for (ast::ExprNode* t : as->targets) {
      if (auto* n = ast::as<ast::Name>(t)) names.insert(std::string(n->id));
      if (auto* tt = ast::as<ast::Tuple>(t))
        for (ast::ExprNode* x : tt->elts)
          if (auto* n = ast::as<ast::Name>(x)) names.insert(std::string(n->id));
    }
  }
  return found && found->kind == Fact::CL ? found : std::nullopt;
}

void Lowerer::lower_unit(Unit& u) {
  u.busy = true;
  // Lowered once, for every call: not a probe of the call that asks first, and
  // its own Sequentials are static even when a Sequential built in a loop holds it.
  struct Reset {
    Lowerer* l;
    int probing, dynamic_seqs;
    std::vector<const ast::ExprNode*> stack;
    std::string why;
    explicit Reset(Lowerer* x)
        : l(x), probing(std::exchange(x->probing_, 0)), dynamic_seqs(std::exchange(x->dynamic_seqs_, 0)),
          stack(std::exchange(x->expr_stack_, {})), why(std::exchange(x->layout_why_, {})) {}
    ~Reset() {
      l->probing_ = probing;
      l->dynamic_seqs_ = dynamic_seqs;
      l->expr_stack_ = std::move(stack);
      l->layout_why_ = std::move(why);
    }
  } reset(this);
  Frame frame;
  frame.unit = &u;
  ast::collect_names(u.def, frame.names);
  frame.top_level = u.cls != nullptr && u.def->name == "forward" &&
                    !internal_classes_.count(std::string(u.cls->node->name)) &&
                    [&] {
                      for (const ModelInfo& m : out_.models)
                        if (m.name == u.cls->node->name) return m.top_level;
                      return false;
                    }();
  const ast::Arguments* a = u.def->args;
  std::size_t first_default = a->args.size() - a->defaults.size();
  // After `self` for a method; a function defined in forward (a closure) or a
  // static method of the class has none.
  auto is_static = [&]() {
    for (const ast::ExprNode* d : u.def->decorator_list)
      if (auto* n = ast::as<ast::Name>(d); n && n->id == "staticmethod") return true;
    return false;
  };
  bool method_of_class = false;
  for (const ClassInfo* c = u.cls; c != nullptr && !method_of_class;) {
    for (const ast::StmtNode* st : c->node->body) method_of_class = method_of_class || st == u.def;
    const ClassInfo* base = nullptr;
    for (const ast::ExprNode* b : c->node->bases)
      if (auto* bn = ast::as<ast::Name>(b); bn && model_class(bn->id) && model_class(bn->id) != c) base = model_class(bn->id);
    c = base;
  }
  const std::size_t first = method_of_class && !is_static() ? 1 : 0;
  for (std::size_t i = first; i < a->args.size(); ++i) {
    Fact f{Fact::Pending, 0, static_cast<int>(i - first)};
    // Parameters with a non-tensor default or a bool/int annotation are Python values.
    if (i >= first_default) {
      ConstValue d = analysis::literal_value(a->defaults[i - first_default]);
      if (d.kind != ConstValue::Kind::None && d.kind != ConstValue::Kind::Unknown) f = Fact{};
    }
    if (python_annotation(a->args[i]->annotation)) f = Fact{};
    if (tensor_annotation(a->args[i]->annotation)) u.annotated_tensors.insert(static_cast<int>(i - first));
    if (i - first < u.seeds.size() && u.seeds[i - first].kind == Fact::List) f = u.seeds[i - first];
    if (i - first < u.python_seeds.size() && u.python_seeds[i - first]) f = Fact{};
    if (f.kind == Fact::Pending) {
      f.dtype = param_dtype(u.cls, u.def, a->args[i]->arg);
      if (std::size_t k = i - first; f.dtype == DType::Unknown && k < u.caller_dtypes.size() && u.caller_dtypes[k])
        f.dtype = *u.caller_dtypes[k];
    }
    u.params.push_back(f.kind == Fact::Pending || f.kind == Fact::List ? f : Fact{});
    if (std::size_t k = i - first; f.kind == Fact::Pending && (k >= u.hints.size() || u.hints[k].kind != Fact::CL))
      if (std::optional<Fact> h = module_hint(u.cls, u.def, k)) {
        if (u.hints.size() <= k) u.hints.resize(k + 1);
        u.hints[k] = *h;
      }
    frame.env[std::string(a->args[i]->arg)] = f;
    frame.storage[std::string(a->args[i]->arg)] = frame.next_storage;
    frame.param_storage[frame.next_storage++] = static_cast<int>(i - first);
  }
  if (a->vararg != nullptr && u.vararg_seed) frame.env[std::string(a->vararg->arg)] = *u.vararg_seed;
  Frame* saved = frame_;
  frame_ = &frame;
  std::vector<ast::StmtNode*> body = lower_stmts(u.def->body);
  // Parameters never used in a layout-sensitive way stay in PyTorch order.
  for (Fact& p : u.params)
    if (p.kind == Fact::Pending) p = Fact::torch();
  u.ret = frame.ret.value_or(Fact{});
  if (u.ret.kind == Fact::Pending) u.ret = u.params[static_cast<std::size_t>(u.ret.param)];
  if (u.ret.relabel_spatial < 0) u.ret.relabel_spatial = 0;  // the caller's size: not passed through
  // The outer model's inputs. --io-layout torch: PyTorch shapes come in, and
  // parameters it uses channels-last are transposed on entry. --io-layout keras:
  // channels-last images come in, and parameters it uses in PyTorch order (all of
  // them with --layout channels_first) are converted on entry.
  if (frame.top_level) {
    std::vector<ast::StmtNode*> prologue;
    std::size_t insert_at = 0;
    if (!body.empty()) {
      auto* first = ast::as<ast::Expr>(body[0]);
      if (first && ast::is<ast::Constant>(first->value)) insert_at = 1;  // after the docstring
    }
    for (std::size_t i = first; i < a->args.size(); ++i) {
      const Fact& p = u.params[i - first];
      ast::ExprNode* x = b_.name(a->args[i]->arg);
      if (opt_.io_torch && p.kind == Fact::CL) {
        Why why(this, "the model takes PyTorch-shaped inputs (--io-layout torch)");
        note_layout(x, "is transposed to channels-last on entry", a->args[i]);
        x = b_.call("ops.transpose", {x, b_.tuple(perm_to_cl(b_, p.rank))});
      } else if (!opt_.io_torch && p.kind == Fact::Torch && (p.rank == 0 || (p.rank >= 3 && p.rank <= 5))) {
        Why why(this, "the model uses this input in PyTorch's axis order, and takes channels-last images "
                      "(--io-layout keras)");
        note_layout(x, "is transposed to PyTorch's axis order on entry", a->args[i]);
        if (p.rank == 0) out_.helpers.insert("pytorch_channels_first");  // the rank is known when it runs
        x = p.rank == 0 ? b_.call("pytorch_channels_first", {x})
                        : b_.call("ops.transpose", {x, b_.tuple(perm_to_torch(b_, p.rank))});
      } else {
        continue;
      }
      prologue.push_back(b_.assign(b_.name(a->args[i]->arg, ast::ExprContext::Store), x));
      // On the line of the first statement, so the printer adds no blank line.
      if (insert_at < body.size()) prologue.back()->loc = body[insert_at]->loc;
    }
    body.insert(body.begin() + static_cast<std::ptrdiff_t>(insert_at), prologue.begin(), prologue.end());
    if (opt_.io_torch)
      for (Fact& p : u.params) p = Fact::torch(p.rank);
  }
  frame_ = saved;
  auto* def = b_.clone(u.def);
  def->body = b_.seq(body);
  def->args = strip_arguments(u.def->args, (u.cls != nullptr && u.def->name == "forward") || u.uses_training);
  def->returns = strip_annotation(u.def->returns);
  // Python's own decorators stay (@staticmethod: `self.causal(n)` passes no self);
  // torch's (@torch.jit.unused, @torch.no_grad()) have no Keras meaning.
  std::vector<ast::ExprNode*> decorators;
  for (ast::ExprNode* d : u.def->decorator_list) {
    if (auto* n = ast::as<ast::Name>(d); n && (n->id == "staticmethod" || n->id == "classmethod") && !scope_.binding(n->id))
      decorators.push_back(d);
    if (ast::ExprNode* no_grad = no_grad_decorator(d)) decorators.push_back(no_grad);
  }
  def->decorator_list = b_.seq(decorators);
  if (u.def->name == "forward") def->name = "call";
  u.lowered = def;
  u.busy = false;
  u.done = true;
}

// ===========================================================================
// Pass 3.

const Entry* Lowerer::named_tuple_entry(const ast::ExprNode* original, const ast::ExprNode* rewritten) const {
  auto* tuple = ast::as<ast::Tuple>(rewritten);
  auto* call = ast::as<ast::Call>(original);
  if (!script_mode_ || tuple == nullptr || call == nullptr) return nullptr;
  const Entry* entry = nullptr;
  if (auto p = resolve(call->func)) entry = catalog_.find_function(*p);
  if (auto* m = ast::as<ast::Attribute>(call->func); entry == nullptr && m != nullptr)
    entry = catalog_.find_method(m->attr);
  return entry != nullptr && entry->fields.size() == tuple->elts.size() ? entry : nullptr;
}

ast::ExprNode* Lowerer::named_tuple_item(const ast::ExprNode* original, ast::ExprNode* rewritten,
                                         const ConstValue& which) {
  const Entry* entry = named_tuple_entry(original, rewritten);
  if (entry == nullptr) return nullptr;
  auto* tuple = static_cast<ast::Tuple*>(rewritten);
  if (which.kind == ConstValue::Kind::Int && which.integer >= 0 &&
      static_cast<std::size_t>(which.integer) < tuple->elts.size())
    return tuple->elts[static_cast<std::size_t>(which.integer)];
  if (which.kind == ConstValue::Kind::Str)
    for (std::size_t i = 0; i < entry->fields.size(); ++i)
      if (entry->fields[i] == which.text) return tuple->elts[i];
  return nullptr;
}

ast::StmtNode* Lowerer::named_tuple_input(const ast::ExprNode* original, ast::Assign* assign) {
  if (named_tuple_entry(original, assign->value) == nullptr) return nullptr;
  auto* tuple = static_cast<ast::Tuple*>(assign->value);
  auto* m = ast::as<ast::Attribute>(static_cast<const ast::Call*>(original)->func);
  if (tuple->elts.size() < 2) return nullptr;
  // Each item's first argument the same computation (not a name): computed once.
  std::string shared;
  for (ast::ExprNode* e : tuple->elts) {
    auto* item = ast::as<ast::Call>(e);
    if (item == nullptr || item->args.empty() || ast::is<ast::Name>(item->args[0])) return nullptr;
    std::string text = syntax::unparse(item->args[0]);
    if (!shared.empty() && text != shared) return nullptr;
    shared = text;
  }
  bool computes = false;
  std::function<void(const ast::Node*)> find_call = [&](const ast::Node* n) {
    if (n == nullptr || computes) return;
    computes = ast::is<ast::Call>(n);
    ast::for_each_child(const_cast<ast::Node*>(n), find_call);
  };
  find_call(static_cast<ast::Call*>(tuple->elts[0])->args[0]);
  if (!computes) return nullptr;
  std::set<std::string> names;
  if (current_function_ != nullptr) ast::collect_names(current_function_, names);
  std::string name = std::string(m != nullptr ? m->attr : "values") + "_input";
  while (names.count(name)) name.push_back('_');
  auto* input = b_.assign(b_.name(name, ast::ExprContext::Store), static_cast<ast::Call*>(tuple->elts[0])->args[0]);
  input->loc = assign->loc;
  std::vector<ast::ExprNode*> items;
  for (ast::ExprNode* e : tuple->elts) {
    auto* item = b_.clone(static_cast<ast::Call*>(e));
    std::vector<ast::ExprNode*> args(item->args.begin(), item->args.end());
    args[0] = b_.name(name);
    item->args = b_.seq(args);
    items.push_back(item);
  }
  auto* t = b_.clone(tuple);
  t->elts = b_.seq(items);
  assign->value = t;
  return input;
}

ast::ExprNode* Lowerer::no_grad_decorator(const ast::ExprNode* d) {
  auto* call = ast::as<ast::Call>(d);
  auto p = resolve(call != nullptr ? call->func : d);
  if (!p || (*p != "torch.no_grad" && *p != "torch.inference_mode" && *p != "torch.autograd.no_grad" &&
             *p != "torch.autograd.grad_mode.no_grad"))
    return nullptr;
  if (call != nullptr && (!call->args.empty() || !call->keywords.empty())) return nullptr;  // inference_mode(False)
  out_.helpers.insert("pytorch_no_grad");
  return b_.name("pytorch_no_grad");
}

bool Lowerer::references_torch(ast::Node* n) {
  if (n == nullptr) return false;
  if (ast::is<ast::Name>(n) || ast::is<ast::Attribute>(n)) {
    if (auto p = resolve(static_cast<ast::ExprNode*>(n)); p && is_torch_path(*p)) return true;
    if (auto* name = ast::as<ast::Name>(n); name && dropped_names_.count(std::string(name->id))) return true;
  }
  bool found = false;
  ast::for_each_child(n, [&](ast::Node* c) { found = found || references_torch(c); });
  return found;
}

std::string Lowerer::first_torch_reference(ast::Node* n) {
  if (n == nullptr) return "";
  if (ast::is<ast::Name>(n) || ast::is<ast::Attribute>(n)) {
    auto* e = static_cast<ast::ExprNode*>(n);
    if (auto p = resolve(e); p && is_torch_path(*p)) return syntax::unparse(e);
    if (auto* name = ast::as<ast::Name>(n); name && dropped_names_.count(std::string(name->id))) return std::string(name->id);
  }
  std::string found;
  ast::for_each_child(n, [&](ast::Node* c) {
    if (found.empty()) found = first_torch_reference(c);
  });
  return found;
}

ast::ExprNode* Lowerer::strip_annotation(ast::ExprNode* a) {
  if (a == nullptr) return nullptr;
  return references_torch(a) ? nullptr : a;
}

ast::Arguments* Lowerer::strip_arguments(const ast::Arguments* a, bool add_training) {
  auto* c = b_.clone(a);
  auto strip = [&](ast::Seq<ast::Arg*> args) {
    std::vector<ast::Arg*> out;
    for (ast::Arg* arg : args) {
      auto* x = b_.clone(arg);
      x->annotation = strip_annotation(arg->annotation);
      out.push_back(x);
    }
    return out;
  };
  auto args = strip(a->args);
  auto defaults = std::vector<ast::ExprNode*>(a->defaults.begin(), a->defaults.end());
  for (auto*& d : defaults) d = rewrite_ctor_expr(d);
  auto kwonly = strip(a->kwonlyargs);
  std::vector<ast::ExprNode*> kw_defaults(a->kw_defaults.begin(), a->kw_defaults.end());
  for (auto*& d : kw_defaults) d = d ? rewrite_ctor_expr(d) : d;
  if (add_training) {
    // `training=None` after the parameters (keyword-only when there is a *args).
    auto* t = b_.arena().make<ast::Arg>();
    t->kind = ast::NodeKind::Arg;
    t->arg = "training";
    if (a->vararg != nullptr || !a->kwonlyargs.empty()) {
      kwonly.push_back(t);
      kw_defaults.push_back(b_.none());
    } else {
      args.push_back(t);
      defaults.push_back(b_.none());
    }
  }
  c->args = b_.seq(args);
  c->defaults = b_.seq(defaults);
  c->kwonlyargs = b_.seq(kwonly);
  c->kw_defaults = b_.seq(kw_defaults);
  c->posonlyargs = b_.seq(strip(a->posonlyargs));
  if (a->vararg) {
    c->vararg = b_.clone(a->vararg);
    c->vararg->annotation = strip_annotation(a->vararg->annotation);
  }
  if (a->kwarg) {
    c->kwarg = b_.clone(a->kwarg);
    c->kwarg->annotation = strip_annotation(a->kwarg->annotation);
  }
  return c;
}

// The name of the generated function that builds `entry`'s Keras layer from
// PyTorch's arguments (instantiate.h, make_factory), created on first use.
std::string Lowerer::factory(const Entry* entry) {
  if (auto it = factories_.find(entry); it != factories_.end()) return it->second;
  std::vector<std::string> helpers;
  ast::FunctionDef* def = make_factory(entry, opt_.channels_last, trains_, b_, helpers);
  std::string name(def->name);
  bool taken = model_class(name) != nullptr;
  for (ast::StmtNode* s : module_->body) {
    if (auto* f = ast::as<ast::FunctionDef>(s)) taken = taken || f->name == name;
    if (auto* c = ast::as<ast::ClassDef>(s)) taken = taken || c->name == name;
  }
  if (taken) {
    name = "torch_" + name;
    def->name = b_.arena().copy_string(name);
  }
  for (auto& h : helpers) out_.helpers.insert(h);
  factory_defs_.push_back(def);
  factories_[entry] = name;
  return name;
}

// Constructor code's `self.fc` (or `self.transformer.wte`, a ModuleDict's)
// holding a converted layer (a catalog module): its description; nullopt for
// anything else.
std::optional<ModuleDesc> Lowerer::ctor_layer(const ast::ExprNode* e) {
  auto d = ctor_module(e);
  if (!d || d->kind != ModuleDesc::Leaf || d->entry == nullptr) return std::nullopt;
  return d;
}

// The Keras layer class a converted module's constructor becomes ("layers.Dense"),
// or "" when it is not one plain Keras layer call (a Sequential of several, a
// factory decided at run time).
std::string Lowerer::keras_layer_callee(const ModuleDesc& d) {
  if (d.kind != ModuleDesc::Leaf || d.ctor == nullptr) return "";
  InstantiateRequest made;
  made.entry = d.entry;
  made.args.assign(d.ctor->args.begin(), d.ctor->args.end());
  made.keywords.assign(d.ctor->keywords.begin(), d.ctor->keywords.end());
  made.channels_last = opt_.channels_last;
  made.rank = d.entry->rank;
  InstantiateResult layer_form = instantiate(made, b_);
  auto* layer_call = layer_form.expr ? ast::as<ast::Call>(layer_form.expr) : nullptr;
  return layer_call == nullptr ? "" : syntax::unparse(layer_call->func);
}

// `nn.init.kaiming_normal_(self.conv.weight, mode="fan_out")` in a constructor:
// `self.conv.kernel_initializer = keras.initializers.VarianceScaling(...)`, set
// before the layer is built. Null when that is not exact (the initializer has no
// direct Keras form, or self.conv is not one plain Keras layer): the caller drops
// the call with a warning.
ast::StmtNode* Lowerer::translate_initializer(const ast::Call* call, const std::string& path) {
  const Entry* init = catalog_.find_initializer(path);
  if (init == nullptr || call->args.empty() || current_class_ == nullptr) return nullptr;
  auto* param = ast::as<ast::Attribute>(call->args[0]);
  auto d = param ? ctor_layer(param->value) : std::nullopt;
  if (!d) return nullptr;
  std::string callee = keras_layer_callee(*d);
  if (callee.empty()) return nullptr;
  const std::string* attribute = catalog_.initializer_attribute(callee, std::string(param->attr));
  if (attribute == nullptr) return nullptr;
  InstantiateRequest req;
  req.entry = init;
  req.args.assign(call->args.begin(), call->args.end());
  req.keywords.assign(call->keywords.begin(), call->keywords.end());
  req.channels_last = opt_.channels_last;
  InstantiateResult r = instantiate(req, b_);
  if (r.expr == nullptr) return nullptr;
  return b_.assign(b_.attr(rewrite_ctor_expr(param->value), *attribute), r.expr);
}

// Whether `self.<attr>` of `cls` (or a base model class) holds a tensor: an
// nn.Parameter, a tensor made with a torch function, or a registered buffer or
// parameter.
bool Lowerer::tensor_attribute(const ClassInfo* cls, std::string_view attr) const {
  // Asked at every `self.<attr>` read in forward code: the class scan is done once.
  auto key = std::make_pair(cls, std::string(attr));
  if (auto it = tensor_attributes_.find(key); it != tensor_attributes_.end()) return it->second;
  bool& answer = tensor_attributes_[key];
  answer = scan_tensor_attribute(cls, attr);
  return answer;
}

bool Lowerer::scan_tensor_attribute(const ClassInfo* cls, std::string_view attr) const {
  for (const ClassInfo* c = cls; c != nullptr;) {
    bool found = false;
    std::function<void(ast::Node*)> scan = [&](ast::Node* n) {
      if (n == nullptr || found) return;
      if (auto* a = ast::as<ast::Assign>(n)) {
        // nn.Parameter(...) or a torch function's tensor, or one of them chosen by a
        // constructor argument (timm's `nn.Parameter(...) if class_token else None`).
        std::function<bool(const ast::ExprNode*)> made = [&](const ast::ExprNode* v) {
          if (auto* ie = ast::as<ast::IfExp>(v)) return made(ie->body) || made(ie->orelse);
          auto* call = ast::as<ast::Call>(v);
          auto p = call ? resolve(call->func) : std::nullopt;
          const Entry* fn = p ? catalog_.find_function(*p) : nullptr;
          // (Not a Python value made by a function: nn.ParameterList's list.)
          return p && (*p == "torch.nn.Parameter" || (fn != nullptr && fn->layout != Layout::Value));
        };
        bool tensor = made(a->value);
        for (ast::ExprNode* t : a->targets)
          if (auto* at = ast::as<ast::Attribute>(t); at && tensor && at->attr == attr)
            if (auto* sn = ast::as<ast::Name>(at->value); sn && sn->id == "self") found = true;
      }
      if (auto* call = ast::as<ast::Call>(n)) {
        auto* m = ast::as<ast::Attribute>(call->func);
        auto* sn = m ? ast::as<ast::Name>(m->value) : nullptr;
        if (sn && sn->id == "self" && (m->attr == "register_buffer" || m->attr == "register_parameter") &&
            !call->args.empty()) {
          ConstValue k = analysis::literal_value(call->args[0]);
          if (k.kind == ConstValue::Kind::Str && k.text == attr) found = true;
        }
      }
      ast::for_each_child(n, scan);
    };
    for (ast::StmtNode* st : c->node->body) scan(st);
    if (found) return true;
    const ClassInfo* base = nullptr;
    for (ast::ExprNode* b : c->node->bases)
      if (auto* bn = ast::as<ast::Name>(b); bn && model_class(bn->id)) base = model_class(bn->id);
    c = base;
  }
  return false;
}

DType Lowerer::tensor_attribute_dtype(const ClassInfo* cls, std::string_view attr) const {
  // Asked at every `self.<attr>` read in forward code: the class scan is done once.
  auto key = std::make_pair(cls, std::string(attr));
  if (auto it = tensor_attribute_dtypes_.find(key); it != tensor_attribute_dtypes_.end()) return it->second;
  return tensor_attribute_dtypes_[key] = scan_tensor_attribute_dtype(cls, attr);
}

DType Lowerer::scan_tensor_attribute_dtype(const ClassInfo* cls, std::string_view attr) const {
  std::optional<DType> d;
  auto join = [&](DType t) { d = !d || *d == t ? t : DType::Unknown; };
  for (const ClassInfo* c = cls; c != nullptr;) {
    for (ast::StmtNode* st : c->node->body) {
      auto* fn = ast::as<ast::FunctionDef>(st);
      if (fn == nullptr) continue;
      std::function<void(ast::Node*)> scan = [&](ast::Node* n) {
        if (auto* a = ast::as<ast::Assign>(n))
          for (ast::ExprNode* t : a->targets)
            if (auto* at = ast::as<ast::Attribute>(t); at && at->attr == attr && is_self(at->value))
              join(source_dtype(a->value, fn));
        if (auto* call = ast::as<ast::Call>(n)) {
          auto* m = ast::as<ast::Attribute>(call->func);
          auto* sn = m ? ast::as<ast::Name>(m->value) : nullptr;
          if (sn && sn->id == "self" && (m->attr == "register_buffer" || m->attr == "register_parameter") &&
              call->args.size() >= 2)
            if (ConstValue k = analysis::literal_value(call->args[0]); k.kind == ConstValue::Kind::Str && k.text == attr)
              join(source_dtype(call->args[1], fn));
        }
        ast::for_each_child(n, scan);
      };
      scan(fn);
    }
    const ClassInfo* base = nullptr;
    for (ast::ExprNode* b : c->node->bases)
      if (auto* bn = ast::as<ast::Name>(b); bn && model_class(bn->id)) base = model_class(bn->id);
    c = base;
  }
  return d.value_or(DType::Unknown);
}

DType Lowerer::source_dtype(const ast::ExprNode* e, const ast::FunctionDef* fn, int depth) const {
  if (depth > 8 || e == nullptr) return DType::Unknown;
  using catalog::ResultDType;
  if (auto* n = ast::as<ast::Name>(e)) {
    // Every assignment of the name in fn (item assignments keep the dtype).
    std::optional<DType> d;
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* x) {
      if (auto* a = ast::as<ast::Assign>(x))
        for (ast::ExprNode* t : a->targets)
          if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == n->id) {
            DType t2 = source_dtype(a->value, fn, depth + 1);
            d = !d || *d == t2 ? t2 : DType::Unknown;
          }
      ast::for_each_child(const_cast<ast::Node*>(x), scan);
    };
    for (ast::StmtNode* st : fn->body) scan(st);
    return d.value_or(DType::Unknown);
  }
  if (auto* s = ast::as<ast::Subscript>(e)) return source_dtype(s->value, fn, depth + 1);
  if (auto* u = ast::as<ast::UnaryOp>(e)) return source_dtype(u->operand, fn, depth + 1);
  auto literal_class = [](const ast::ExprNode* x) {
    ConstValue c = analysis::literal_value(x);
    return c.kind == ConstValue::Kind::Int || c.kind == ConstValue::Kind::Bool ? DType::Int
           : c.kind == ConstValue::Kind::Float                                  ? DType::Float
                                                                                : DType::Unknown;
  };
  // A tensor as far as the source tells (constructor code runs after forward
  // code is lowered: made_tensor does not know its names yet).
  auto tensorish = [&](const ast::ExprNode* x) {
    return literal_class(x) == DType::Unknown && (made_tensor(x) || source_dtype(x, fn, depth + 1) != DType::Unknown);
  };
  if (auto* b = ast::as<ast::BinOp>(e)) {
    auto side = [&](const ast::ExprNode* x) {
      Operand o{tensorish(x), DType::Unknown};
      o.dtype = o.tensor ? source_dtype(x, fn, depth + 1) : literal_class(x);
      return o;
    };
    if (b->op == ast::OperatorKind::MatMult) return source_dtype(b->left, fn, depth + 1);
    return promote(b->op == ast::OperatorKind::Div, false, side(b->left), side(b->right)).dtype;
  }
  if (auto* c = ast::as<ast::Compare>(e); c && tensorish(c->left)) return DType::Bool;
  auto* call = ast::as<ast::Call>(e);
  if (call == nullptr) return DType::Unknown;
  for (const ast::Keyword* kw : call->keywords)
    if (kw->arg == "dtype")
      if (auto p = resolve(kw->value))
        if (const std::string* d = catalog_.find_dtype(*p)) return dtype_class(*d);
  const Entry* entry = nullptr;
  const ast::ExprNode* input = nullptr;
  auto p = resolve(call->func);
  if (p && *p == "torch.nn.Parameter") return call->args.empty() ? DType::Float : source_dtype(call->args[0], fn, depth + 1);
  if (p) {
    entry = catalog_.find_function(*p);
    if (!call->args.empty()) input = call->args[0];
  } else if (auto* m = ast::as<ast::Attribute>(call->func); m && tensorish(m->value)) {
    entry = catalog_.find_method(m->attr);
    input = m->value;
    // x.to(torch.long), x.type(torch.bool): the dtype named.
    if (entry != nullptr && entry->returns_dtype == ResultDType::Cast && !call->args.empty())
      if (auto q = resolve(call->args[0]))
        if (const std::string* d = catalog_.find_dtype(*q)) return dtype_class(*d);
  }
  if (entry == nullptr) return DType::Unknown;
  switch (entry->returns_dtype) {
    case ResultDType::Bool: return DType::Bool;
    case ResultDType::Int: return DType::Int;
    case ResultDType::Float: return DType::Float;
    case ResultDType::Cast: return DType::Unknown;
    case ResultDType::Number:
      for (const ast::ExprNode* a : call->args)
        if (literal_class(a) == DType::Float || tensorish(a)) return DType::Float;
      return DType::Int;
    case ResultDType::Sum:
    case ResultDType::Same: {
      if (input == nullptr || !tensorish(input)) return DType::Float;  // a factory: PyTorch's default dtype
      DType d = source_dtype(input, fn, depth + 1);
      return entry->returns_dtype == ResultDType::Sum && d == DType::Bool ? DType::Int : d;
    }
  }
  return DType::Unknown;
}

const ast::Call* Lowerer::broadcast_parameter(const ClassInfo* cls, std::string_view attr) const {
  auto key = std::make_pair(cls, std::string(attr));
  if (auto it = broadcast_parameters_.find(key); it != broadcast_parameters_.end()) return it->second;
  const ast::Call* made = nullptr;
  int stores = 0;
  bool other_reads = false;
  // The assignment, in the class.
  int made_count = 0;
  std::function<void(ast::Node*)> find = [&](ast::Node* n) {
    if (auto* a = ast::as<ast::Assign>(n); a && a->targets.size() == 1)
      if (auto* t = ast::as<ast::Attribute>(a->targets[0]); t && t->attr == attr)
        if (auto* sn = ast::as<ast::Name>(t->value); sn && sn->id == "self")
          if (auto* call = ast::as<ast::Call>(a->value); call && resolve(call->func).value_or("") == "torch.nn.Parameter")
            made = call, ++made_count;
    // self.register_buffer("attr", value): a persistent buffer is a weight too
    // (pytorch_parameter); a non-persistent one stays a constant in PyTorch order.
    if (auto* call = ast::as<ast::Call>(n); call && call->args.size() == 2 && call->keywords.empty())
      if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "register_buffer")
        if (auto* sn = ast::as<ast::Name>(m->value); sn && sn->id == "self")
          if (ConstValue k = analysis::literal_value(call->args[0]); k.kind == ConstValue::Kind::Str && k.text == attr)
            made = call, ++made_count;
    ast::for_each_child(n, find);
  };
  for (ast::StmtNode* st : cls->node->body) find(st);
  // Every use of the name, in the module.
  std::function<void(ast::Node*, const ast::Node*)> scan = [&](ast::Node* n, const ast::Node* parent) {
    if (auto* a = ast::as<ast::Attribute>(n); a && a->attr == attr) {
      auto* bin = ast::as<ast::BinOp>(parent);
      using Op = ast::OperatorKind;
      if (a->ctx != ast::ExprContext::Load) ++stores;
      else if (bin == nullptr || !(bin->op == Op::Add || bin->op == Op::Sub || bin->op == Op::Mult || bin->op == Op::Div))
        other_reads = other_reads || !ast::is<ast::AugAssign>(parent);  // `y += self.p`; `self.p += y` stores
    }
    ast::for_each_child(n, [&](ast::Node* c) { scan(c, n); });
  };
  for (ast::StmtNode* st : module_->body) scan(st, nullptr);
  auto* registered = made != nullptr ? ast::as<ast::Attribute>(made->func) : nullptr;
  bool buffer = registered != nullptr && registered->attr == "register_buffer";
  const ast::Call* answer = made_count == 1 && stores == (buffer ? 0 : 1) && !other_reads ? made : nullptr;
  broadcast_parameters_[key] = answer;
  return answer;
}

void Lowerer::place_parameter(const ast::ExprNode* source, Val& p, const Val& other) {
  auto* a = ast::as<ast::Attribute>(source);
  auto* self = a != nullptr ? ast::as<ast::Name>(a->value) : nullptr;
  if (!opt_.channels_last || self == nullptr || self->id != "self" || frame_->unit->cls == nullptr) return;
  const ast::Call* made = broadcast_parameter(frame_->unit->cls, a->attr);
  if (made == nullptr) return;
  Fact of = resolved(other.fact);
  if (std::optional<Fact> h = hint(of); h && h->kind == Fact::CL) of = *h;  // a parameter the caller passes so
  auto [it, first] = parameter_layouts_.emplace(made, 0);
  if (first && of.kind == Fact::CL && of.rank >= 3) it->second = of.rank;
  if (it->second == 0) return;
  if (of.kind == Fact::CL && of.rank == it->second) {
    p.fact = Fact::cl(it->second);
    return;
  }
  Why why(this, "it meets a tensor in PyTorch's axis order here");
  note_layout(source, "is read in PyTorch's shape (it is stored channels-last)");
  out_.helpers.insert("pytorch_parameter_value");
  p.expr = b_.call("pytorch_parameter_value", {p.expr});
  p.fact = Fact::torch();
}

// "wte.weight" for self.wte.weight, "transformer.wte.weight" for
// self.transformer.wte.weight (a chain of attributes from `self` whose last but
// one reaches a module: of the class, of a ModuleDict, of a block); "" otherwise.
std::string Lowerer::module_parameter_path(const ast::ExprNode* e) {
  auto* param = ast::as<ast::Attribute>(e);
  auto owner = param != nullptr ? ctor_module(param->value) : std::nullopt;
  if (!owner || owner->kind == ModuleDesc::Unknown || owner->kind == ModuleDesc::None) return "";
  std::vector<std::string_view> parts;
  while (auto* a = ast::as<ast::Attribute>(e)) {
    parts.push_back(a->attr);
    e = a->value;
  }
  auto* self = ast::as<ast::Name>(e);
  if (self == nullptr || self->id != "self") return "";  // through an item: not supported
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += (path.empty() ? "" : ".") + std::string(*it);
  return path;
}

// Weight tying, `self.head.weight = self.emb.weight` between two modules' parameters:
// pytorch_tie_weights(self, "head.weight", "emb.weight") makes one variable serve
// both (the runtime knows which layer pairs can share). Null for other statements.
ast::StmtNode* Lowerer::tied_parameters(const ast::Assign* a) {
  if (a->targets.size() != 1) return nullptr;
  std::string target = module_parameter_path(a->targets[0]);
  std::string source = target.empty() ? "" : module_parameter_path(a->value);
  if (source.empty()) return nullptr;
  // pytorch_tie_weights ties an nn.Linear's weight to an nn.Embedding's, or two
  // nn.Embeddings': other pairs of catalog modules are refused here, not when the
  // Keras model is made.
  auto end = [&](const ast::ExprNode* e) -> std::string {
    auto* w = ast::as<ast::Attribute>(e);
    std::optional<ModuleDesc> d = w && current_class_ ? self_module(current_class_, w->value) : std::nullopt;
    return d && d->kind == ModuleDesc::Leaf && !d->entry->keys.empty() ? d->entry->keys[0] : "";
  };
  std::string t = end(a->targets[0]), f = end(a->value);
  auto is = [](const std::string& k, std::string_view what) { return k == what; };
  bool pair = (is(t, "torch.nn.Linear") && is(f, "torch.nn.Embedding")) ||
              (is(t, "torch.nn.Embedding") && is(f, "torch.nn.Linear")) ||
              (is(t, "torch.nn.Embedding") && is(f, "torch.nn.Embedding"));
  if (!t.empty() && !f.empty() && !pair) {
    error(diag::Kind::UnsupportedConstruct, a,
          "weight tying between a `" + t + "` and a `" + f + "` is not supported yet (an nn.Linear's and an "
          "nn.Embedding's weight, or two nn.Embeddings', are)");
    return nullptr;
  }
  out_.helpers.insert("pytorch_tie_weights");
  auto* st = b_.expr_stmt(b_.call("pytorch_tie_weights", {b_.name("self"), b_.string(target), b_.string(source)}));
  st->loc = a->loc;
  return st;
}

// `self.x = nn.Sequential()` that nothing adds to: PyTorch's identity module.
// keras.Sequential() cannot be called empty, so it becomes layers.Identity().
bool Lowerer::empty_sequential_attribute(const ast::Assign* a) const {
  auto* call = ast::as<ast::Call>(a->value);
  if (call == nullptr || !call->args.empty() || !call->keywords.empty() || a->targets.size() != 1) return false;
  if (resolve(call->func).value_or("") != "torch.nn.Sequential" || current_class_ == nullptr) return false;
  auto* target = ast::as<ast::Attribute>(a->targets[0]);
  auto* self = target ? ast::as<ast::Name>(target->value) : nullptr;
  if (self == nullptr || self->id != "self") return false;
  bool added_to = false;
  std::function<void(ast::Node*)> scan = [&](ast::Node* n) {
    if (n == nullptr || added_to) return;
    if (auto* c = ast::as<ast::Call>(n)) {
      auto* m = ast::as<ast::Attribute>(c->func);
      auto* owner = m ? ast::as<ast::Attribute>(m->value) : nullptr;
      auto* owner_self = owner ? ast::as<ast::Name>(owner->value) : nullptr;
      if (owner_self && owner_self->id == "self" && owner->attr == target->attr &&
          (m->attr == "add_module" || m->attr == "append" || m->attr == "extend" || m->attr == "insert"))
        added_to = true;
    }
    ast::for_each_child(n, scan);
  };
  for (ast::StmtNode* st : current_class_->node->body) scan(st);
  return !added_to;
}

// Whether `arg` holds a dict of modules: `OrderedDict(...)`, `dict(...)`, or a
// name the function being rewritten assigns one of those to.
bool Lowerer::dict_of_modules(const ast::ExprNode* arg) const {
  auto is_dict_call = [this](const ast::ExprNode* v) {
    auto* c = ast::as<ast::Call>(v);
    if (c == nullptr) return false;
    std::string p = resolve(c->func).value_or("");
    auto* n = ast::as<ast::Name>(c->func);
    return p == "collections.OrderedDict" || (n != nullptr && n->id == "dict");
  };
  if (is_dict_call(arg)) return true;
  auto* name = ast::as<ast::Name>(arg);
  if (name == nullptr || current_function_ == nullptr) return false;
  bool found = false;
  std::function<void(ast::Node*)> scan = [&](ast::Node* n) {
    if (n == nullptr || found) return;
    if (auto* a = ast::as<ast::Assign>(n)) {
      for (ast::ExprNode* t : a->targets)
        if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == name->id && is_dict_call(a->value)) found = true;
    } else if (auto* a = ast::as<ast::AnnAssign>(n)) {
      auto* tn = ast::as<ast::Name>(a->target);
      if (tn && tn->id == name->id && a->value && is_dict_call(a->value)) found = true;
    }
    ast::for_each_child(n, scan);
  };
  for (ast::StmtNode* st : current_function_->body) scan(st);
  return found;
}

// The layers argument of keras.Sequential for nn.Sequential(*args): `layers` for
// (*layers), the list of the arguments, or pytorch_named_layers(d) for a dict of
// modules (the keys name the layers, so load_torch_state_dict finds them).
ast::ExprNode* Lowerer::sequential_layers(const std::vector<ast::ExprNode*>& args) {
  if (args.size() == 1 && ast::is<ast::Starred>(args[0])) return static_cast<ast::Starred*>(args[0])->value;
  if (args.size() == 1 && dict_of_modules(args[0])) {
    out_.helpers.insert("pytorch_named_layers");
    return b_.call("pytorch_named_layers", {args[0]});
  }
  return b_.list(args);
}

// `next(self.parameters())`: PyTorch's idiom for "a tensor with the model's dtype
// and device" (pytorch/examples' init_hidden: weight.new_zeros(...)).
bool first_parameter(const ast::ExprNode* e) {
  auto* call = ast::as<ast::Call>(e);
  auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
  if (fn == nullptr || fn->id != "next" || call->args.size() != 1) return false;
  auto* inner = ast::as<ast::Call>(call->args[0]);
  auto* m = inner ? ast::as<ast::Attribute>(inner->func) : nullptr;
  auto* self = m ? ast::as<ast::Name>(m->value) : nullptr;
  return self != nullptr && self->id == "self" && m->attr == "parameters" && inner->args.empty();
}

// The tensor whose sizes `e` reads as written in PyTorch (x.size(d),
// x.shape[d], x.size()[d], x.numel(), x.size(...)), or null; `index` is set to
// d of the first three (else null).
static const ast::ExprNode* size_read_of(const ast::ExprNode* e, const ast::ExprNode** index = nullptr) {
  const ast::ExprNode* receiver = nullptr;
  const ast::ExprNode* at = nullptr;
  if (auto* call = ast::as<ast::Call>(e))  // x.size(d), x.numel()
    if (auto* m = ast::as<ast::Attribute>(call->func); m && (m->attr == "size" || m->attr == "numel")) {
      receiver = m->value;
      if (m->attr == "size" && call->args.size() == 1 && call->keywords.empty()) at = call->args[0];
    }
  if (auto* sub = ast::as<ast::Subscript>(e)) {  // x.shape[d], x.size()[d]
    if (auto* a = ast::as<ast::Attribute>(sub->value); a && a->attr == "shape") receiver = a->value, at = sub->slice;
    if (auto* call = ast::as<ast::Call>(sub->value))
      if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "size" && call->args.empty())
        receiver = m->value, at = sub->slice;
  }
  if (index != nullptr) *index = at;
  return receiver;
}

bool Lowerer::batch_size_of(const ast::ExprNode* e, const ast::ExprNode* x) {
  const ast::ExprNode* index = nullptr;
  const ast::ExprNode* receiver = size_read_of(e, &index);
  ConstValue d = index != nullptr ? analysis::literal_value(index) : ConstValue{};
  return receiver != nullptr && d.kind == ConstValue::Kind::Int && d.integer == 0 &&
         syntax::unparse(receiver) == syntax::unparse(x);
}

bool Lowerer::size_of_made_tensor(const ast::ExprNode* e) const {
  if (auto* bo = ast::as<ast::BinOp>(e))
    return !made_tensor(bo->left) && !made_tensor(bo->right) &&
           (size_of_made_tensor(bo->left) || size_of_made_tensor(bo->right));
  if (auto* u = ast::as<ast::UnaryOp>(e)) return size_of_made_tensor(u->operand);
  const ast::ExprNode* receiver = size_read_of(e);
  return receiver != nullptr && made_tensor(receiver);
}

bool Lowerer::made_tensor(const ast::ExprNode* e) const {
  if (first_parameter(e)) return true;
  if (script_mode_ && script_kind(e) == ScriptKind::Tensor) return true;  // a batch, a model's output
  if (auto* n = ast::as<ast::Name>(e)) return ctor_tensors_.count(std::string(n->id)) > 0;
  if (auto* sub = ast::as<ast::Subscript>(e)) return made_tensor(sub->value);
  if (auto* bo = ast::as<ast::BinOp>(e)) return made_tensor(bo->left) || made_tensor(bo->right);
  if (auto* uo = ast::as<ast::UnaryOp>(e)) return made_tensor(uo->operand);
  // A parameter or buffer registered before (`self.position_ids.size()`).
  if (auto* a = ast::as<ast::Attribute>(e); a && current_class_ != nullptr && is_self(a->value))
    return tensor_attribute(current_class_, a->attr);
  auto* call = ast::as<ast::Call>(e);
  if (call == nullptr) return false;
  if (auto p = resolve(call->func)) {
    // Not the catalog's functions of other values (an optimizer, a DataLoader, a device).
    const Entry* f = catalog_.find_function(*p);
    return f != nullptr && f->layout != Layout::Value && f->layout != Layout::Shape;
  }
  auto* m = ast::as<ast::Attribute>(call->func);
  if (m == nullptr || !made_tensor(m->value)) return false;
  // `.item()`, `.tolist()`, `.size(0)` of a tensor are Python values.
  const Entry* method = catalog_.find_method(m->attr);
  return method == nullptr || (method->layout != Layout::Value && method->layout != Layout::Shape);
}

// Constructor code `t = <tensor>`: t holds a made tensor from here on, a view of
// the variable the value reads through view/alias methods (`x.permute(...)`).
void Lowerer::bind_ctor_tensor(const std::string& name, const ast::ExprNode* value) {
  if (!made_tensor(value)) {
    ctor_tensors_.erase(name);
    return;
  }
  std::string base;
  for (const ast::ExprNode* x = value;;) {
    if (auto* n = ast::as<ast::Name>(x)) {
      auto it = ctor_tensors_.find(std::string(n->id));
      base = it == ctor_tensors_.end() ? "" : it->second.empty() ? std::string(n->id) : it->second;
      break;
    }
    if (auto* sub = ast::as<ast::Subscript>(x)) {  // basic indexing is a view
      x = sub->value;
      continue;
    }
    auto* call = ast::as<ast::Call>(x);
    if (call == nullptr) break;
    if (auto p = resolve(call->func)) {  // torch.flatten(x, 1)
      const Entry* entry = catalog_.find_function(*p);
      if (entry == nullptr || !(entry->view || entry->alias) || call->args.empty()) break;
      x = call->args[0];
      continue;
    }
    auto* m = ast::as<ast::Attribute>(call->func);
    const Entry* entry = m ? catalog_.find_method(m->attr) : nullptr;
    if (entry == nullptr || !(entry->view || entry->alias)) break;
    x = m->value;
  }
  ctor_tensors_[name] = base;
}

// Whether constructor code's `t[index]` is an item of a variable holding a made
// tensor, or of a script class's attribute holding one (a Dataset's `self.x`).
bool Lowerer::ctor_tensor_item(const ast::Subscript* target) const {
  if (auto* n = ast::as<ast::Name>(target->value)) return ctor_tensors_.count(std::string(n->id)) > 0;
  auto* a = ast::as<ast::Attribute>(target->value);
  return a != nullptr && script_mode_ && is_self(a->value) && script_kind(a) == ScriptKind::Tensor;
}

// Constructor code `t[index] = value` / `t[index] op= value` on a made tensor
// (ctor_tensor_item): t = pytorch_setitem(t, index, value), as in forward code. A
// view whose base (or a view of it) is read later would not see the change: an error.
ast::StmtNode* Lowerer::ctor_item_assign(const ast::Subscript* target, ast::ExprNode* value, const ast::StmtNode* at) {
  if (auto* a = ast::as<ast::Attribute>(target->value)) {  // self.x = pytorch_setitem(self.x, index, value)
    ast::ExprNode* index = rewrite_ctor_expr(target->slice);
    if (ast::is<ast::Slice>(index) || ast::is<ast::Tuple>(index)) index = b_.subscript(b_.dotted("np.s_"), index);
    out_.helpers.insert("pytorch_setitem");
    auto* holder = b_.clone(a);
    holder->ctx = ast::ExprContext::Store;
    auto* assign = b_.assign(holder, b_.call("pytorch_setitem", {b_.attr(a->value, a->attr), index, value}));
    assign->loc = at->loc;
    return assign;
  }
  std::string name(ast::as<ast::Name>(target->value)->id);
  const std::string& base = ctor_tensors_[name];
  for (const auto& [other, other_base] : ctor_tensors_) {
    bool shares = other != name && ((!base.empty() && (other == base || other_base == base)) || other_base == name);
    if (shares && current_function_ != nullptr && live_after(current_function_, other, at->loc))
      error(diag::Kind::UnsupportedConstruct, at,
            "an in-place change of `" + name + "`, which shares its storage with `" + other +
                "` (read later), is not supported in constructor code; change a copy (`.clone()`)");
  }
  ast::ExprNode* index = rewrite_ctor_expr(target->slice);
  if (ast::is<ast::Slice>(index) || ast::is<ast::Tuple>(index)) index = b_.subscript(b_.dotted("np.s_"), index);
  out_.helpers.insert("pytorch_setitem");
  auto* assign = b_.assign(b_.name(name, ast::ExprContext::Store), b_.call("pytorch_setitem", {b_.name(name), index, value}));
  assign->loc = at->loc;
  return assign;
}

ast::ExprNode* Lowerer::deepcopy_function() {
  // Keras deep-copies a layer by serialising it, which a converted class cannot
  // do (no get_config): the runtime copies it attribute by attribute.
  out_.helpers.insert("pytorch_deepcopy");
  return b_.name("pytorch_deepcopy");
}

// `m.parameters()` of the idioms an optimizer takes that are the same parameters
// (the runtime leaves frozen ones out): `[p for p in m.parameters() if
// p.requires_grad]` (or a generator), `filter(lambda p: p.requires_grad,
// m.parameters())`, `list(m.parameters())`; null for anything else.
static ast::Call* trainable_parameters(ast::ExprNode* e) {
  auto parameters_call = [](ast::ExprNode* x) -> ast::Call* {
    auto* c = ast::as<ast::Call>(x);
    auto* m = c ? ast::as<ast::Attribute>(c->func) : nullptr;
    return m && m->attr == "parameters" && c->args.empty() && c->keywords.empty() ? c : nullptr;
  };
  auto requires_grad_of = [](const ast::ExprNode* x, std::string_view p) {
    auto* a = ast::as<ast::Attribute>(x);
    auto* n = a ? ast::as<ast::Name>(a->value) : nullptr;
    return a && n && a->attr == "requires_grad" && n->id == p;
  };
  ast::ExprNode* elt = nullptr;
  ast::Seq<ast::Comprehension*> generators;
  if (auto* l = ast::as<ast::ListComp>(e)) elt = l->elt, generators = l->generators;
  if (auto* g = ast::as<ast::GeneratorExp>(e)) elt = g->elt, generators = g->generators;
  if (elt != nullptr && generators.size() == 1 && !generators[0]->is_async) {
    auto* target = ast::as<ast::Name>(generators[0]->target);
    auto* name = ast::as<ast::Name>(elt);
    const auto& ifs = generators[0]->ifs;
    if (target && name && name->id == target->id && (ifs.empty() || (ifs.size() == 1 && requires_grad_of(ifs[0], target->id))))
      return parameters_call(generators[0]->iter);
    return nullptr;
  }
  auto* call = ast::as<ast::Call>(e);
  auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
  if (fn && fn->id == "list" && call->args.size() == 1 && call->keywords.empty()) return parameters_call(call->args[0]);
  if (fn && fn->id == "filter" && call->args.size() == 2 && call->keywords.empty()) {
    auto* lambda = ast::as<ast::Lambda>(call->args[0]);
    if (lambda && lambda->args->args.size() == 1 && lambda->args->posonlyargs.empty() &&
        requires_grad_of(lambda->body, lambda->args->args[0]->arg))
      return parameters_call(call->args[1]);
  }
  return nullptr;
}

ast::ExprNode* Lowerer::rewrite_ctor_expr(ast::ExprNode* e) {
  if (e == nullptr) return e;
  // An optimizer's argument: the trainable parameters of a model, as PyTorch code
  // spells them, or several models' (`list(a.parameters()) + list(b.parameters())`:
  // a list of them). Inside any other expression (an operation, an item)
  // `m.parameters()` is no longer the argument.
  struct Restore {
    bool& flag;
    bool saved;
    ~Restore() { flag = saved; }
  } restore{parameters_context_, parameters_context_};
  if (script_mode_ && parameters_context_) {
    if (ast::Call* parameters = trainable_parameters(e)) return rewrite_ctor_expr(parameters);
    std::vector<ast::ExprNode*> parts;
    std::function<void(ast::ExprNode*)> sum = [&](ast::ExprNode* x) {
      if (auto* bin = ast::as<ast::BinOp>(x); bin && bin->op == ast::OperatorKind::Add) {
        sum(bin->left);
        sum(bin->right);
      } else {
        parts.push_back(x);
      }
    };
    sum(e);
    bool all = parts.size() > 1;
    for (ast::ExprNode* x : parts) all = all && trainable_parameters(x) != nullptr;
    if (all) {
      std::vector<ast::ExprNode*> models;
      for (ast::ExprNode* x : parts) models.push_back(rewrite_ctor_expr(trainable_parameters(x)));
      return b_.list(models);
    }
    if (!(ast::is<ast::List>(e) || ast::is<ast::Tuple>(e) || ast::is<ast::Dict>(e) || ast::is<ast::Call>(e)))
      parameters_context_ = false;
  }
  // A 0-d tensor of the layer's weight dtype stands for it (only its dtype and
  // device are read; the Keras weights may not exist before the first call).
  if (first_parameter(e))
    return b_.call("ops.zeros", {b_.tuple({})}, {b_.keyword("dtype", b_.attr(b_.name("self"), "variable_dtype"))});
  if (std::optional<bool> has = torch_hasattr(e)) return b_.literal(ConstValue::boolean(*has));
  if (auto* call = ast::as<ast::Call>(e)) {
    // An optimizer's or clip_grad_norm_'s arguments take `model.parameters()`.
    auto taker = script_mode_ ? resolve(call->func) : std::nullopt;
    bool takes_parameters = taker && ((taker->starts_with("torch.optim.") && !taker->starts_with("torch.optim.lr_scheduler")) ||
                                      taker->starts_with("torch.nn.utils.clip_grad"));
    // `model.parameters()` is the model only as such an argument (or in a list or
    // dict display there), not inside another call (`sorted(m.parameters())`);
    // `restore` above puts the flag back.
    bool parameters_here = std::exchange(parameters_context_, takes_parameters);
    if (script_mode_) {
      record_parameter_modes(call);
      if (ast::ExprNode* r = rewrite_script_call(call, parameters_here)) return r;
    }
    // self.parameters() in a model's method other than its constructor (nanoGPT's
    // configure_optimizers): the model, whose trainable weights an optimizer
    // reads when it steps (a Keras model makes them at its first call).
    if (auto* m = ast::as<ast::Attribute>(call->func);
        m && m->attr == "parameters" && call->args.empty() && call->keywords.empty() && is_self(m->value) &&
        current_class_ != nullptr && current_function_ != nullptr && current_function_->name != "__init__")
      return b_.name("self");
    auto p = resolve(call->func);
    std::vector<ast::ExprNode*> args;
    for (ast::ExprNode* a : call->args) args.push_back(rewrite_ctor_expr(a));
    std::vector<ast::Keyword*> kws;
    for (ast::Keyword* kw : call->keywords) kws.push_back(b_.keyword(kw->arg, rewrite_ctor_expr(kw->value)));
    ast::ExprNode* result = nullptr;
    // A catalog function's or method's form (of `self`) for this call; null after an error.
    auto made_by = [&](const Entry* entry, ast::ExprNode* self, const ast::ExprNode* self_source) -> ast::ExprNode* {
      InstantiateRequest req;
      req.entry = entry;
      req.self = self;
      req.args = args;
      req.keywords = kws;
      req.channels_last = opt_.channels_last && !script_mode_;  // script code keeps PyTorch's shapes
      // What an argument is, for `.to(...)`'s overloads: a made tensor, or a device
      // (a string, or a name for one: `device`, `dev`), as forward code tells.
      auto source_of = [&](const ast::ExprNode* x) -> const ast::ExprNode* {
        for (std::size_t i = 0; i < args.size(); ++i)
          if (args[i] == x) return call->args[i];
        for (std::size_t i = 0; i < kws.size(); ++i)
          if (kws[i]->value == x) return call->keywords[i]->value;
        return nullptr;
      };
      req.is_tensor = [&](const ast::ExprNode* x) {
        const ast::ExprNode* source = source_of(x);
        return source != nullptr && made_tensor(source);
      };
      req.is_device = [&](const ast::ExprNode* x) { return !req.is_tensor(x) && names_device(x); };
      InstantiateResult r = instantiate(req, b_);
      if (r.expr == nullptr) error(diag::Kind::UnsupportedArgument, call, r.error);
      for (auto& h : r.helpers) out_.helpers.insert(h);
      if (r.expr != nullptr) {
        std::vector<Val> vals;
        for (std::size_t i = 0; i < args.size(); ++i) vals.push_back(ctor_val(args[i], call->args[i]));
        std::vector<std::pair<ast::Keyword*, Val>> kw_vals;
        for (std::size_t i = 0; i < kws.size(); ++i) kw_vals.push_back({kws[i], ctor_val(kws[i]->value, call->keywords[i]->value)});
        Val self_val = self != nullptr ? ctor_val(self, self_source) : Val{nullptr, {}};
        const Val* primary = self != nullptr ? &self_val : vals.empty() ? nullptr : &vals[0];
        ctor_expr_dtypes_[r.expr] = result_dtype(*entry, r.expr, primary, vals, kw_vals);
      }
      return r.expr;
    };
    if (p) {
      if (const Entry* entry = catalog_.find_module(*p)) {
        InstantiateRequest req;
        req.entry = entry;
        req.args = args;
        req.keywords = kws;
        auto torch_order = torch_order_layers_.find(call);
        req.channels_last = opt_.channels_last && !script_mode_ &&
                            (torch_order == torch_order_layers_.end() || !torch_order->second);
        req.training_code = trains_;
        req.rank = entry->rank;
        InstantiateResult r = instantiate(req, b_);
        if (r.undecided) {
          // Arguments known only at run time: the entry's factory decides then.
          result = b_.call(b_.name(factory(entry)), args, kws);
        } else if (r.expr == nullptr) {
          error(diag::Kind::UnsupportedArgument, call, r.error);
          return e;
        } else {
          for (auto& h : r.helpers) out_.helpers.insert(h);
          for (const std::string& w : r.warnings) error(diag::Kind::TrainingDifference, call, w);
          result = r.expr;
        }
      } else if (*p == "torch.nn.Sequential") {
        result = args.empty() ? b_.call("keras.Sequential", {}) : b_.call("keras.Sequential", {sequential_layers(args)});
      } else if (*p == "torch.nn.Parameter" && !args.empty()) {
        // nn.Parameter(value[, requires_grad]): a weight of the layer being built.
        out_.helpers.insert("pytorch_parameter");
        std::vector<ast::ExprNode*> pargs{b_.name("self")};
        pargs.insert(pargs.end(), args.begin(), args.end());
        // Stored as it broadcasts against channels-last activations (place_parameter).
        if (auto pl = parameter_layouts_.find(call); pl != parameter_layouts_.end() && pl->second > 0)
          kws.push_back(b_.keyword("channels_last_rank", b_.integer(pl->second)));
        result = b_.call(b_.name("pytorch_parameter"), pargs, kws);
      } else if (const Entry* fn = catalog_.find_function(*p)) {
        // A tensor made in constructor code (torch.ones(c, 1, 1)): its catalog form.
        if ((result = made_by(fn, nullptr, nullptr)) == nullptr) return e;
      } else if (*p == "copy.deepcopy" && args.size() == 1 && kws.empty()) {
        // A copy of a layer with its own weights (PyTorch's deepcopy of a module).
        result = deepcopy_function();
        result = b_.call(result, args);
      } else if (*p == "torch.nn.ModuleList") {
        // nn.ModuleList([...]) is the list itself; other iterables become a list.
        if (args.empty()) result = b_.list({});
        else if (ast::is<ast::List>(args[0]) || ast::is<ast::ListComp>(args[0])) result = args[0];
        else result = b_.call("list", {args[0]});
      } else if (*p == "torch.nn.ModuleDict") {
        // A dict of layers (Keras tracks their weights): nn.ModuleDict(dict(wte=...))
        // is that dict(...), nn.ModuleDict({...}) that {...} (and an OrderedDict made
        // there that OrderedDict); a mapping made elsewhere or (key, module) pairs
        // are copied into one.
        const ast::ExprNode* given = call->args.empty() ? nullptr : call->args[0];
        ast::ExprNode* modules = args.empty() ? nullptr : args[0];
        for (std::size_t i = 0; i < kws.size(); ++i)
          if (kws[i]->arg == "modules") given = call->keywords[i]->value, modules = kws[i]->value;
        auto* given_call = ast::as<ast::Call>(given);
        auto* given_func = given_call ? ast::as<ast::Name>(given_call->func) : nullptr;
        bool made_here = ast::is<ast::Dict>(given) || (given_func && given_func->id == "dict") ||
                         (given_call && resolve(given_call->func).value_or("") == "collections.OrderedDict");
        if (modules == nullptr) result = b_.dict({}, {});
        else if (made_here) result = modules;
        else result = b_.call("dict", {modules});
      }
    } else if (auto* m = ast::as<ast::Attribute>(call->func); m && made_tensor(m->value)) {
      // A method of a tensor made in constructor code (torch.tensor(v).view(1, 3, 1, 1)).
      // `.item()` / `.tolist()` read its value, as constructor code runs eagerly
      // (timm's drop-path rates: [x.item() for x in torch.linspace(0, rate, depth)]).
      if (m->attr == "numpy" && call->args.empty()) {  // `.numpy(force=...)` the same
        result = b_.call("ops.convert_to_numpy", {rewrite_ctor_expr(m->value)});
      } else if ((m->attr == "item" || m->attr == "tolist") && call->args.empty() && call->keywords.empty()) {
        result = b_.call(b_.attr(b_.call("ops.convert_to_numpy", {rewrite_ctor_expr(m->value)}), m->attr), {});
      } else if (const Entry* method = catalog_.find_method(m->attr)) {
        if ((result = made_by(method, rewrite_ctor_expr(m->value), m->value)) == nullptr) return e;
      } else if (const Entry* plain = m->attr.ends_with("_") && !m->attr.ends_with("__") && !ast::is<ast::Name>(m->value)
                                          ? catalog_.find_method(m->attr.substr(0, m->attr.size() - 1))
                                          : nullptr) {
        // An in-place method of a temporary (Whisper's
        // torch.empty(n, n).fill_(-inf).triu_(1)): its value, as the plain method's.
        if ((result = made_by(plain, rewrite_ctor_expr(m->value), m->value)) == nullptr) return e;
      } else {
        error(diag::Kind::UnsupportedOp, call,
              "tensor method `." + std::string(m->attr) + "()` is not supported yet (no catalog entry)");
        return e;
      }
    }
    if (result == nullptr) {
      auto* c = b_.clone(call);
      c->func = rewrite_ctor_expr(call->func);
      c->args = b_.seq(args);
      c->keywords = b_.seq(kws);
      result = c;
      // Script code's `criterion(out, y)`: a loss module's value is a float tensor.
      if (auto* fn = script_mode_ ? ast::as<ast::Name>(call->func) : nullptr; fn && script_kind(fn) == ScriptKind::Loss)
        ctor_expr_dtypes_[result] = DType::Float;
    }
    // A Permute layer on channels-last data: the permutation of the stored axes.
    if (auto pl = permute_layers_.find(call); pl != permute_layers_.end() && pl->second.stored) {
      const std::vector<int64_t>& axes = *pl->second.stored;
      result = axes.empty() ? b_.call("layers.Identity", {}) : permute_layer(b_, axes);
    }
    // A Linear reading a channels-last flatten: its weight rows are permuted at load time.
    if (auto fl = flat_inputs_.find(call); fl != flat_inputs_.end() && fl->second > 1) {
      out_.helpers.insert("pytorch_flattened_input");
      result = b_.call("pytorch_flattened_input", {result},
                       {b_.keyword("spatial_size", b_.integer(fl->second))});
    }
    // A layer that needs its input in another layout gets a Permute in front.
    if (auto w = wraps_.find(call); w != wraps_.end()) {
      // layers.Permute dims are 1-based and leave the batch axis out.
      auto permute = [this](std::pair<bool, int> conversion) {
        auto [to_cl, rank] = conversion;
        return permute_layer(b_, to_cl ? axes_to_cl(rank) : axes_to_torch(rank));
      };
      std::vector<ast::ExprNode*> items;
      if (w->second.before) items.push_back(permute(*w->second.before));
      items.push_back(result);
      if (w->second.after) items.push_back(permute(*w->second.after));
      result = b_.call("keras.Sequential", {b_.list(items)});
    }
    return result;
  }
  // A layer's parameter or setting read in script code (`model.fc.weight`,
  // `model.conv.out_channels`), anywhere in a chain (`model.fc.weight.pow(2)`).
  if (auto* a = ast::as<ast::Attribute>(e); a && script_mode_) {
    static const std::set<std::string_view> layer_attributes = {
        "weight", "bias", "running_mean", "running_var", "in_features", "out_features", "in_channels",
        "out_channels", "kernel_size", "stride", "padding", "num_features", "hidden_size", "num_layers",
        "embedding_dim", "num_embeddings"};
    const ast::Attribute* read = nullptr;
    for (const ast::ExprNode* x = a; x != nullptr;) {
      if (auto* xa = ast::as<ast::Attribute>(x)) {
        if (ast::is<ast::Attribute>(xa->value) && module_like(script_kind(xa->value)) &&
            layer_attributes.count(xa->attr))
          read = xa;
        x = xa->value;
      } else if (auto* xc = ast::as<ast::Call>(x)) {
        x = xc->func;
      } else if (auto* xs = ast::as<ast::Subscript>(x)) {
        x = xs->value;
      } else {
        break;
      }
    }
    if (read != nullptr) {
      error(diag::Kind::UnsupportedConstruct, read,
            "reading `" + syntax::unparse(read) + "` in training code is not converted yet: the Keras layer keeps "
            "its parameters and settings under other names and shapes (`kernel`, transposed; `filters`)");
      refused_.insert(e);
      return e;
    }
  }
  // A tensor's shape in script code: ops.shape(x), whose unknown sizes are
  // tensors where x.shape has None (a batch inside a compiled train_step).
  if (auto* a = ast::as<ast::Attribute>(e);
      a && script_mode_ && a->attr == "shape" && a->ctx == ast::ExprContext::Load &&
      script_kind(a->value) == ScriptKind::Tensor)
    return b_.call("ops.shape", {rewrite_ctor_expr(a->value)});
  if (auto* j = ast::as<ast::JoinedStr>(e)) {  // f"{loss.item():.4f}"
    auto* c = b_.clone(j);
    std::vector<ast::ExprNode*> values;
    for (ast::ExprNode* v : j->values) values.push_back(rewrite_ctor_expr(v));
    c->values = b_.seq(values);
    return c;
  }
  if (auto* f = ast::as<ast::FormattedValue>(e)) {
    auto* c = b_.clone(f);
    c->value = rewrite_ctor_expr(f->value);
    return c;
  }
  if (auto* a = ast::as<ast::Attribute>(e); a && script_mode_ && a->ctx == ast::ExprContext::Load &&
                                            ast::is<ast::Call>(a->value)) {
    // `.values` / `.indices` of a named-tuple form (x.max(dim=1).values).
    ast::ExprNode* value = rewrite_ctor_expr(a->value);
    if (ast::ExprNode* item = named_tuple_item(a->value, value, ConstValue::str(std::string(a->attr)))) return item;
    auto* c = b_.clone(a);
    c->value = value;
    return c;
  }
  if (auto* a = ast::as<ast::Attribute>(e)) {
    // self.fc.in_features, self.qkv.bias in constructor code: a converted layer
    // keeps its settings and weights under Keras' names (its declared settings aside).
    if (auto d = a->ctx == ast::ExprContext::Load ? ctor_layer(a->value) : std::nullopt; d && !keeps_setting(*d, a->attr))
      error(diag::Kind::UnsupportedConstruct, e,
            "reading `" + syntax::unparse(e) + "` of a converted `" + d->entry->keys[0] +
                "` in constructor code is not supported yet: its Keras layer keeps weights and settings "
                "under other names and shapes");
    if (ast::Attribute* c = keras_attribute(a)) {
      bool seen = false;
      for (auto& r : out_.renames) seen = seen || r.first == a->attr;
      if (!seen) out_.renames.emplace_back(std::string(a->attr), std::string(a->attr) + "_");
      return c;
    }
    // self.transformer.wte, a module of a ModuleDict: self.transformer["wte"] (read
    // or assigned), the dict's item.
    if (auto owner = module_dict_method(a->attr) ? std::nullopt : ctor_module(a->value); owner && module_dict(*owner)) {
      check_dict_key(*owner, a->value, a->attr, e);
      auto* item = b_.subscript(rewrite_ctor_expr(a->value), b_.string(a->attr));
      item->ctx = a->ctx;
      return item;
    }
    // self.transformer.h[0].attn: the path from self, rewritten where it reads a ModuleDict.
    if (ctor_module(a->value)) {
      ast::ExprNode* value = rewrite_ctor_expr(a->value);
      if (value != a->value) {
        auto* c = b_.clone(a);
        c->value = value;
        return c;
      }
    }
    // A torch.nn class used as a value (`norm_layer = nn.BatchNorm2d`): its factory.
    if (auto p = resolve(e)) {
      if (const Entry* entry = catalog_.find_module(*p)) return b_.name(factory(entry));
      // A torch function used as a value (`activation=F.gelu`): its catalog entry
      // as a function with PyTorch's signature.
      if (const Entry* entry = catalog_.find_function(*p)) return b_.name(factory(entry));
      // torch.float32: the Keras dtype name (catalog/dtypes.py).
      if (const std::string* dtype = is_torch_path(*p) ? catalog_.find_dtype(*p) : nullptr) return b_.string(*dtype);
      if (*p == "copy.deepcopy") return deepcopy_function();  // `c = copy.deepcopy`
    }
    // Script code: what the attribute is read from, rewritten (`data[1].cpu().numpy`).
    if (script_mode_ && (ast::is<ast::Call>(a->value) || ast::is<ast::Subscript>(a->value))) {
      ast::ExprNode* value = rewrite_ctor_expr(a->value);
      if (value != a->value) {
        auto* c = b_.clone(a);
        c->value = value;
        return c;
      }
    }
    return e;
  }
  if (auto* n = ast::as<ast::Name>(e)) {
    if (auto p = resolve(e)) {
      if (const Entry* entry = catalog_.find_module(*p)) return b_.name(factory(entry));
      if (*p == "copy.deepcopy") return deepcopy_function();  // `from copy import deepcopy`
    }
    return n;
  }
  if (auto* l = ast::as<ast::List>(e)) {
    std::vector<ast::ExprNode*> out;
    for (ast::ExprNode* x : l->elts) out.push_back(rewrite_ctor_expr(x));
    return b_.list(out);
  }
  if (auto* t = ast::as<ast::Tuple>(e)) {
    std::vector<ast::ExprNode*> out;
    for (ast::ExprNode* x : t->elts) out.push_back(rewrite_ctor_expr(x));
    auto* c = b_.tuple(out);
    c->ctx = t->ctx;
    return c;
  }
  if (auto* s = ast::as<ast::Starred>(e)) {
    auto* c = b_.clone(s);
    c->value = rewrite_ctor_expr(s->value);
    return c;
  }
  if (auto* d = ast::as<ast::Dict>(e)) {
    auto* c = b_.clone(d);
    std::vector<ast::ExprNode*> values;
    for (ast::ExprNode* v : d->values) values.push_back(rewrite_ctor_expr(v));
    c->values = b_.seq(values);
    return c;
  }
  if (auto* bo = ast::as<ast::BinOp>(e)) {
    auto* c = b_.clone(bo);
    c->left = rewrite_ctor_expr(bo->left);
    c->right = rewrite_ctor_expr(bo->right);
    // Arithmetic on made tensors PyTorch promotes and TensorFlow does not, as in
    // forward code (Promotion): torch.arange(0, d, 2) * -0.5.
    const char* op = keras_operator(bo->op);
    if (op == nullptr || !(made_tensor(bo->left) || made_tensor(bo->right))) return c;
    Promotion p = promote(bo->op == ast::OperatorKind::Div, false, operand(ctor_val(c->left, bo->left)),
                          operand(ctor_val(c->right, bo->right)));
    ast::ExprNode* result = p.keras_op ? static_cast<ast::ExprNode*>(b_.call(op, {c->left, c->right})) : c;
    ctor_expr_dtypes_[result] = p.dtype;
    return result;
  }
  // [elt for ...], {elt for ...}, (elt for ...): the iterables, conditions and
  // element rewritten; a name iterating over a made tensor holds one.
  auto comprehension = [&](auto* comp) -> ast::ExprNode* {
    auto* c = b_.clone(comp);
    std::vector<ast::Comprehension*> gens;
    std::vector<std::string> bound;
    for (ast::Comprehension* g : comp->generators) {
      auto* cg = b_.clone(g);
      cg->iter = rewrite_ctor_expr(g->iter);
      if (auto* n = ast::as<ast::Name>(g->target); n && made_tensor(g->iter)) {
        bind_ctor_tensor(std::string(n->id), g->iter);
        bound.emplace_back(n->id);
      }
      std::vector<ast::ExprNode*> ifs;
      for (ast::ExprNode* x : g->ifs) ifs.push_back(rewrite_ctor_expr(x));
      cg->ifs = b_.seq(ifs);
      gens.push_back(cg);
    }
    c->generators = b_.seq(gens);
    c->elt = rewrite_ctor_expr(comp->elt);
    for (const std::string& n : bound) ctor_tensors_.erase(n);
    return c;
  };
  if (auto* lc = ast::as<ast::ListComp>(e)) return comprehension(lc);
  if (auto* sc = ast::as<ast::SetComp>(e)) return comprehension(sc);
  if (auto* ge = ast::as<ast::GeneratorExp>(e)) return comprehension(ge);
  if (auto* ie = ast::as<ast::IfExp>(e)) {
    auto* c = b_.clone(ie);
    c->test = rewrite_ctor_expr(ie->test);
    // Script code's `"cuda" if torch.cuda.is_available() else "cpu"`: the test is False.
    if (auto* k = ast::as<ast::Constant>(c->test);
        script_mode_ && k && (k->value.kind == ast::ConstantValue::Kind::True || k->value.kind == ast::ConstantValue::Kind::False))
      return rewrite_ctor_expr(k->value.kind == ast::ConstantValue::Kind::True ? ie->body : ie->orelse);
    c->body = rewrite_ctor_expr(ie->body);
    c->orelse = rewrite_ctor_expr(ie->orelse);
    return c;
  }
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    // self.transformer.h[0], self.heads["a"]: the path from self, rewritten where it
    // reads a ModuleDict (an unknown key is an error).
    if (auto owner = ctor_module(sub->value)) {
      if (ConstValue k = analysis::literal_value(sub->slice); k.kind == ConstValue::Kind::Str)
        check_dict_key(*owner, sub->value, k.text, e);
      auto* c = b_.clone(sub);
      c->value = rewrite_ctor_expr(sub->value);
      return c;
    }
    auto* c = b_.clone(sub);  // an item of a made tensor: torch.arange(n)[None]
    c->value = rewrite_ctor_expr(sub->value);
    c->slice = rewrite_ctor_expr(sub->slice);
    // An item of a named-tuple form (`q(s).max(1)[1]`): that item alone; the
    // tuple would compute its argument once per item (a model called twice).
    if (ast::ExprNode* item = named_tuple_item(sub->value, c->value, analysis::literal_value(sub->slice))) return item;
    // t[index] with a tensor `index` of integers (`centers[labels]`): its rows, as
    // in forward code (keras.ops.take along axis 0; a mask not known to be
    // boolean fails loudly in the gather).
    if (!ast::is<ast::Tuple>(sub->slice) && made_tensor(sub->value) && made_tensor(sub->slice) &&
        ctor_val(c->slice, sub->slice).fact.dtype != DType::Bool) {
      ast::ExprNode* rows = b_.call("ops.take", {c->value, c->slice}, {b_.keyword("axis", b_.integer(0))});
      ctor_expr_dtypes_[rows] = ctor_val(c->value, sub->value).fact.dtype;
      return rows;
    }
    return c;
  }
  if (auto* u = ast::as<ast::UnaryOp>(e)) {  // -torch.arange(0, d, 2)
    auto* c = b_.clone(u);
    c->operand = rewrite_ctor_expr(u->operand);
    return c;
  }
  if (auto* cmp = ast::as<ast::Compare>(e)) {
    auto* c = b_.clone(cmp);
    c->left = rewrite_ctor_expr(cmp->left);
    std::vector<ast::ExprNode*> rest;
    for (ast::ExprNode* x : cmp->comparators) rest.push_back(rewrite_ctor_expr(x));
    c->comparators = b_.seq(rest);
    // Script code comparing tensors (`pred == labels`): keras.ops, which promotes
    // the dtypes as PyTorch does (TensorFlow's == would refuse int32 against int64).
    if (const char* op = script_mode_ && cmp->ops.size() == 1 ? keras_comparison(cmp->ops[0]) : nullptr;
        op && (made_tensor(cmp->left) || made_tensor(cmp->comparators[0])))
      return b_.call(op, {c->left, rest[0]});
    return c;
  }
  if (auto* bo = ast::as<ast::BoolOp>(e)) {
    auto* c = b_.clone(bo);
    std::vector<ast::ExprNode*> values;
    for (ast::ExprNode* x : bo->values) values.push_back(rewrite_ctor_expr(x));
    c->values = b_.seq(values);
    return c;
  }
  return e;
}

// Constructor code's path from self to a module (`self.fc`, `self.transformer.wte`,
// `self.blocks[0]`): what it holds; nullopt when `e` is no such path.
std::optional<ModuleDesc> Lowerer::ctor_module(const ast::ExprNode* e) {
  if (current_class_ == nullptr) return std::nullopt;
  if (auto* a = ast::as<ast::Attribute>(e)) {
    if (auto* self = ast::as<ast::Name>(a->value); self && self->id == "self") {
      if (method(current_class_, a->attr) != nullptr) return std::nullopt;
      return values_.attr(current_class_, a->attr);
    }
    auto owner = ctor_module(a->value);
    return owner ? module_member(*owner, a->attr) : std::nullopt;
  }
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    auto owner = ctor_module(sub->value);
    if (owner && (owner->kind == ModuleDesc::List || owner->kind == ModuleDesc::Seq || module_dict(*owner)))
      return module_item(*owner, sub->slice);
  }
  return std::nullopt;
}

std::vector<ast::StmtNode*> Lowerer::rewrite_ctor_body(ast::Seq<ast::StmtNode*> body, bool in_init) {
  std::vector<ast::StmtNode*> out;
  for (ast::StmtNode* s : body) {
    if (script_mode_ && rewrite_script_statement(s, out)) continue;
    switch (s->kind) {
      case ast::NodeKind::Expr: {
        auto* e = static_cast<ast::Expr*>(s);
        auto* call = ast::as<ast::Call>(e->value);
        if (call != nullptr) {
          auto p = resolve(call->func);
          if (p && p->starts_with("torch.nn.init.")) {
            if (ast::StmtNode* st = translate_initializer(call, *p)) {
              st->loc = s->loc;
              out.push_back(st);
              continue;
            }
            error(diag::Kind::DroppedInitialization, s,
                  "dropped `" + *p + "(...)`: load_torch_state_dict sets the weights");
            continue;
          }
          // `self.fc.bias.data.zero_()`: an in-place start value for a converted
          // layer's parameter, which load_torch_state_dict sets.
          if (changes_layer_parameter(call)) {
            error(diag::Kind::DroppedInitialization, s,
                  "dropped `" + syntax::unparse(call) + "`: load_torch_state_dict sets the weights");
            continue;
          }
          // self.apply(self._init_weights): PyTorch's per-module initialisation;
          // the method it names goes too (it reads PyTorch's module classes).
          if (auto* m = ast::as<ast::Attribute>(call->func);
              m && m->attr == "apply" && call->args.size() == 1 && is_self(m->value)) {
            error(diag::Kind::DroppedInitialization, s,
                  "dropped the weight initialisation `" + syntax::unparse(call) +
                      "`: load_torch_state_dict sets the weights");
            if (auto* fn = ast::as<ast::Attribute>(call->args[0]);
                fn && is_self(fn->value))
              init_only_methods_.insert(std::string(fn->attr));
            continue;
          }
          auto* fname = ast::as<ast::Name>(call->func);
          // print(... self.get_num_params() ...) in a constructor: a Keras model has
          // no weights before its first call, so what the method counts or reads is
          // not there yet (nanoGPT prints its parameter count).
          if (const ast::Call* m = fname && fname->id == "print" && !scope_.binding("print") ? self_method_call(call)
                                                                                          : nullptr) {
            error(diag::Kind::DroppedCode, s,
                  "left out `print(...)`: it calls `" + syntax::unparse(m->func) +
                      "()` in the constructor, where the Keras model has no weights yet (Keras makes them at "
                      "the first call)");
            continue;
          }
          if ((p && p->ends_with("_log_api_usage_once")) || (fname && fname->id == "_log_api_usage_once")) {
            error(diag::Kind::DroppedTelemetry, s, "dropped the PyTorch telemetry call `_log_api_usage_once`");
            continue;
          }
          // super(Net, self).__init__(...) -> super().__init__(...)
          auto* a = ast::as<ast::Attribute>(call->func);
          if (in_init && is_super_init(call)) {
            auto* c = b_.clone(call);
            auto* sa = b_.clone(a);
            sa->value = b_.call("super", {});
            c->func = sa;
            std::vector<ast::ExprNode*> args;
            for (ast::ExprNode* x : call->args) args.push_back(rewrite_ctor_expr(x));
            // nn.Sequential's super().__init__(a, b) is keras.Sequential's super().__init__([a, b]).
            bool sequential_parent = false;
            if (current_class_ != nullptr)
              for (const std::string& bp : current_class_->base_paths) sequential_parent = sequential_parent || bp == "torch.nn.Sequential";
            if (!args.empty() && sequential_parent) args = {sequential_layers(args)};
            c->args = b_.seq(args);
            std::vector<ast::Keyword*> kws;
            for (ast::Keyword* kw : call->keywords) {
              ast::Keyword* k = b_.clone(kw);
              k->value = rewrite_ctor_expr(kw->value);
              kws.push_back(k);
            }
            c->keywords = b_.seq(kws);
            auto* st = b_.expr_stmt(c);
            st->loc = s->loc;
            out.push_back(st);
            continue;
          }
          // self.register_buffer("name", value[, persistent]) -> a non-trainable weight
          // (persistent: it is in the state_dict) or a constant tensor;
          // self.register_parameter("name", nn.Parameter(v)) -> an attribute.
          if (a && is_self(a->value) &&
              (a->attr == "register_buffer" || a->attr == "register_parameter") && call->args.size() >= 2) {
            ConstValue k = analysis::literal_value(call->args[0]);
            if (k.kind == ConstValue::Kind::Str) {
              ast::ExprNode* value = rewrite_ctor_expr(call->args[1]);
              bool persistent = true;
              for (ast::Keyword* kw : call->keywords)
                if (kw->arg == "persistent") persistent = analysis::literal_value(kw->value).truth().value_or(true);
              if (call->args.size() > 2) persistent = analysis::literal_value(call->args[2]).truth().value_or(true);
              ast::ExprNode* made = value;
              if (a->attr == "register_buffer" && !(ast::is<ast::Constant>(value))) {
                if (persistent) {
                  out_.helpers.insert("pytorch_parameter");
                  std::vector<ast::Keyword*> kws{b_.keyword("requires_grad", b_.boolean(false))};
                  // Stored as it broadcasts against channels-last activations (place_parameter).
                  if (auto pl = parameter_layouts_.find(call); pl != parameter_layouts_.end() && pl->second > 0)
                    kws.push_back(b_.keyword("channels_last_rank", b_.integer(pl->second)));
                  made = b_.call(b_.name("pytorch_parameter"), {b_.name("self"), value}, kws);
                } else {
                  made = b_.call("ops.convert_to_tensor", {value});
                }
              }
              // Through rewrite_ctor_expr: a name Keras reserves gets its rename.
              auto* st = b_.assign(rewrite_ctor_expr(b_.attr(b_.name("self"), k.text)), made);
              st->loc = s->loc;
              out.push_back(st);
              continue;
            }
          }
          // self.features.add_module("name", m) on a Sequential attribute:
          // self.features.add(pytorch_named(m, "name")).
          if (a && a->attr == "add_module" && call->args.size() == 2 && current_class_ != nullptr) {
            auto* owner = ast::as<ast::Attribute>(a->value);
            auto* owner_self = owner ? ast::as<ast::Name>(owner->value) : nullptr;
            if (owner_self && owner_self->id == "self") {
              auto d = values_.attr(current_class_, owner->attr);
              if (d && d->kind == ModuleDesc::Seq) {
                out_.helpers.insert("pytorch_named");
                auto* add = b_.clone(owner);
                auto* st = b_.expr_stmt(b_.call(b_.attr(add, "add"),
                                                {b_.call("pytorch_named", {rewrite_ctor_expr(call->args[1]), call->args[0]})}));
                st->loc = s->loc;
                out.push_back(st);
                continue;
              }
              // On a ModuleDict (a dict of layers): self.heads["name"] = m.
              if (d && module_dict(*d)) {
                auto* item = b_.subscript(rewrite_ctor_expr(owner), call->args[0]);
                item->ctx = ast::ExprContext::Store;
                auto* st = b_.assign(item, rewrite_ctor_expr(call->args[1]));
                st->loc = s->loc;
                out.push_back(st);
                continue;
              }
            }
          }
          // seq.add_module("name", m) on a local nn.Sequential() (crnn.pytorch's
          // `cnn = nn.Sequential()`): seq.add(pytorch_named(m, "name")); on a local
          // ModuleDict: seq["name"] = m.
          if (auto* local = a && a->attr == "add_module" && call->args.size() == 2 ? ast::as<ast::Name>(a->value)
                                                                                      : nullptr;
              local != nullptr && current_function_ != nullptr) {
            std::optional<std::string> made;  // what every assignment of the name makes
            bool one_kind = true;
            std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
              if (auto* as = ast::as<ast::Assign>(n))
                for (const ast::ExprNode* t : as->targets)
                  if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == local->id) {
                    auto* v = ast::as<ast::Call>(as->value);
                    std::string path = v != nullptr ? resolve(v->func).value_or("") : "";
                    one_kind = one_kind && (!made || *made == path);
                    made = path;
                  }
              ast::for_each_child(const_cast<ast::Node*>(n), scan);
            };
            scan(current_function_);
            if (one_kind && made == "torch.nn.Sequential") {
              out_.helpers.insert("pytorch_named");
              auto* st = b_.expr_stmt(b_.call(b_.attr(b_.name(local->id), "add"),
                                              {b_.call("pytorch_named", {rewrite_ctor_expr(call->args[1]), call->args[0]})}));
              st->loc = s->loc;
              out.push_back(st);
              continue;
            }
            if (one_kind && made == "torch.nn.ModuleDict") {
              auto* item = b_.subscript(b_.name(local->id), call->args[0]);
              item->ctx = ast::ExprContext::Store;
              auto* st = b_.assign(item, rewrite_ctor_expr(call->args[1]));
              st->loc = s->loc;
              out.push_back(st);
              continue;
            }
          }
          // self.add_module("name", m) -> setattr(self, "name", m); in a Sequential
          // subclass, self.add(pytorch_named(m, "name")) (the name finds its weights).
          if (a && is_self(a->value) &&
              a->attr == "add_module" && call->args.size() == 2) {
            bool sequential = current_class_ != nullptr && current_class_->torch_base == analysis::TorchBase::Sequential;
            bool module_dict = current_class_ != nullptr && current_class_->torch_class == "torch.nn.ModuleDict";
            ast::ExprNode* m = rewrite_ctor_expr(call->args[1]);
            if (sequential) out_.helpers.insert("pytorch_named");
            auto* st = b_.expr_stmt(sequential    ? b_.call("self.add", {b_.call("pytorch_named", {m, call->args[0]})})
                                    : module_dict ? b_.call("self.add_module", {call->args[0], m})
                                                  : b_.call("setattr", {b_.name("self"), call->args[0], m}));
            st->loc = s->loc;
            out.push_back(st);
            continue;
          }
        }
        auto* c = b_.clone(e);
        c->value = rewrite_ctor_expr(e->value);
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::Assign: {
        auto* a = static_cast<ast::Assign*>(s);
        if (ast::StmtNode* tie = tied_parameters(a)) {
          out.push_back(tie);
          continue;
        }
        if (auto* t = a->targets.size() == 1 ? ast::as<ast::Subscript>(a->targets[0]) : nullptr;
            t && ctor_tensor_item(t)) {
          out.push_back(ctor_item_assign(t, rewrite_ctor_expr(a->value), s));
          continue;
        }
        // `self.h = ...` replacing what a base class's constructor assigned (after
        // super().__init__()): Keras would keep tracking the old value's layers and
        // variables; pytorch_untrack lets go of them first.
        // So does `self.cls_token = None` after the constructor made it a parameter
        // (PyTorch unregisters it; Keras would keep the variable).
        auto* t = a->targets.size() == 1 ? ast::as<ast::Attribute>(a->targets[0]) : nullptr;
        bool self_target = in_init && t && is_self(t->value) &&
                           current_class_ != nullptr;
        bool unset = self_target && analysis::literal_value(a->value).kind == ConstValue::Kind::None &&
                     (assigned_before(t->attr, s) || base_assigns(current_class_, t->attr, 0)) &&
                     (tensor_attribute(current_class_, t->attr) || holds_modules(t));
        if (self_target && (unset || (base_assigns(current_class_, t->attr, 0) && holds_modules(t)))) {
          out_.helpers.insert("pytorch_untrack");
          auto* untrack = b_.expr_stmt(b_.call("pytorch_untrack", {b_.name("self"), b_.string(t->attr)}));
          untrack->loc = s->loc;
          out.push_back(untrack);
        }
        // `self.mlpf = lambda x: ...`: forward runs its body inlined.
        if (auto* t = a->targets.size() == 1 ? ast::as<ast::Attribute>(a->targets[0]) : nullptr;
            in_init && t && ast::is<ast::Lambda>(a->value) && inlined_lambdas_.count({current_class_, std::string(t->attr)}))
          continue;
        auto* c = b_.clone(a);
        c->value = rewrite_ctor_expr(a->value);
        // `_, predicted = torch.max(out, 1)`: a named tuple's items that are kept
        // only (ops.argmax alone, no unused ops.max).
        ast::ExprNode* kept_target = nullptr;
        if (auto* tv = ast::as<ast::Tuple>(c->value); tv && a->targets.size() == 1 && named_tuple_entry(a->value, c->value))
          if (auto* tt = ast::as<ast::Tuple>(a->targets[0]); tt && tt->elts.size() == tv->elts.size()) {
            std::vector<ast::ExprNode*> targets, values;
            for (std::size_t i = 0; i < tt->elts.size(); ++i)
              if (auto* n = ast::as<ast::Name>(tt->elts[i]); n == nullptr || n->id != "_")
                targets.push_back(tt->elts[i]), values.push_back(tv->elts[i]);
            if (targets.size() == 1) kept_target = targets[0], c->value = values[0];
          }
        if (ast::StmtNode* input = named_tuple_input(a->value, c)) out.push_back(input);
        for (ast::ExprNode* t : a->targets)
          if (auto* n = ast::as<ast::Name>(t)) {
            bind_ctor_tensor(std::string(n->id), a->value);
            ctor_dtypes_[std::string(n->id)] = ctor_val(c->value, a->value).fact.dtype;
          }
        std::vector<ast::ExprNode*> targets;
        for (ast::ExprNode* t : a->targets) targets.push_back(rewrite_ctor_expr(t));
        if (kept_target != nullptr) targets = {rewrite_ctor_expr(kept_target)};
        c->targets = b_.seq(targets);
        // Script code's `x, y = x.to(device), y.to(device)` is `x, y = x, y` now.
        if (script_mode_ && targets.size() == 1 && syntax::unparse(targets[0]) == syntax::unparse(c->value)) {
          out_.left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
          continue;
        }
        if (empty_sequential_attribute(a)) c->value = b_.call("layers.Identity", {});
        if (std::vector<ast::StmtNode*> builds = build_read_layers(a); !builds.empty()) {
          out.push_back(c);
          out.insert(out.end(), builds.begin(), builds.end());
          continue;
        }
        // `self.norm = layer` in a Sequential subclass is one of its items, in
        // order: self.add(pytorch_named(layer, "norm")).
        if (auto* t = a->targets.size() == 1 ? ast::as<ast::Attribute>(a->targets[0]) : nullptr;
            t && in_init && current_class_ != nullptr && current_class_->torch_base == analysis::TorchBase::Sequential &&
            is_self(t->value)) {
          auto d = values_.attr(current_class_, t->attr);
          if (d && (d->kind == ModuleDesc::Leaf || d->kind == ModuleDesc::User || d->kind == ModuleDesc::Seq)) {
            out_.helpers.insert("pytorch_named");
            auto* st = b_.expr_stmt(b_.call("self.add", {b_.call("pytorch_named", {c->value, b_.string(t->attr)})}));
            st->loc = s->loc;
            out.push_back(st);
            continue;
          }
        }
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::AnnAssign: {
        auto* a = static_cast<ast::AnnAssign*>(s);
        auto* c = b_.clone(a);
        c->target = rewrite_ctor_expr(a->target);
        c->value = rewrite_ctor_expr(a->value);
        c->annotation = strip_annotation(a->annotation);
        if (c->annotation == nullptr) {
          if (c->value == nullptr) continue;
          auto* as = b_.assign(c->target, c->value);
          as->loc = s->loc;
          out.push_back(as);
          continue;
        }
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::AugAssign: {
        auto* a = static_cast<ast::AugAssign*>(s);
        // t[i] += v on a made tensor: t = pytorch_setitem(t, i, t[i] + v).
        if (auto* t = ast::as<ast::Subscript>(a->target); t && ctor_tensor_item(t)) {
          auto* item = b_.clone(t);
          item->value = rewrite_ctor_expr(t->value);
          item->slice = rewrite_ctor_expr(t->slice);
          item->ctx = ast::ExprContext::Load;
          auto* op = b_.arena().make<ast::BinOp>();
          op->kind = ast::NodeKind::BinOp;
          op->left = item;
          op->op = a->op;
          op->right = rewrite_ctor_expr(a->value);
          out.push_back(ctor_item_assign(t, op, s));
          continue;
        }
        auto* c = b_.clone(a);
        c->value = rewrite_ctor_expr(a->value);
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::For: {
        auto* f = static_cast<ast::For*>(s);
        // for m in self.modules(): <initialisation> -> dropped.
        auto* call = ast::as<ast::Call>(f->iter);
        auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
        if (m && (m->attr == "modules" || m->attr == "named_modules" || m->attr == "parameters" ||
                  m->attr == "named_parameters")) {
          error(diag::Kind::DroppedInitialization, s,
                "dropped the weight-initialisation loop over `" + std::string(m->attr) +
                    "()`: load_torch_state_dict sets the weights");
          continue;
        }
        auto* c = b_.clone(f);
        c->iter = rewrite_ctor_expr(f->iter);
        c->body = b_.seq(rewrite_ctor_body(f->body, in_init));
        c->orelse = b_.seq(rewrite_ctor_body(f->orelse, in_init));
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::If: {
        auto* i = static_cast<ast::If*>(s);
        // `if isinstance(self.conv, nn.Conv2d): nn.init...(self.conv.weight)`: the
        // whole block goes (its test often names torch classes or attributes).
        if (bool initializes = false; in_init && initialization_only(i->body, i, initializes) &&
                                      initialization_only(i->orelse, i, initializes) && initializes) {
          error(diag::Kind::DroppedInitialization, s,
                "dropped the weight-initialisation block `if " + syntax::unparse(i->test) +
                    ":`: load_torch_state_dict sets the weights");
          continue;
        }
        auto* c = b_.clone(i);
        c->test = rewrite_ctor_expr(i->test);
        c->body = b_.seq(rewrite_ctor_body(i->body, in_init));
        c->orelse = b_.seq(rewrite_ctor_body(i->orelse, in_init));
        if (c->body.empty()) {
          auto* pass = b_.arena().make<ast::Pass>();
          pass->kind = ast::NodeKind::Pass;
          c->body = b_.seq(std::vector<ast::StmtNode*>{pass});
        }
        out.push_back(c);
        continue;
      }
      case ast::NodeKind::Return: {
        auto* r = static_cast<ast::Return*>(s);
        auto* c = b_.clone(r);
        c->value = rewrite_ctor_expr(r->value);
        out.push_back(c);
        continue;
      }
      default:
        out.push_back(s);
        continue;
    }
  }
  return out;
}

// `self.qkv = nn.Linear(dim, 3 * dim)` where forward reads self.qkv.weight:
// `self.qkv.build((dim,))` after it (the catalog's @build entry), so the Keras
// variables exist before any call; the same for a layer of a ModuleDict made in
// the assignment (`self.transformer["proj"].build((8,))`). Nothing otherwise.
std::vector<ast::StmtNode*> Lowerer::build_read_layers(const ast::Assign* a) {
  std::vector<ast::StmtNode*> out;
  auto* t = a->targets.size() == 1 ? ast::as<ast::Attribute>(a->targets[0]) : nullptr;
  auto* self = t ? ast::as<ast::Name>(t->value) : nullptr;
  if (self == nullptr || self->id != "self") return out;
  // `layer.build(...)` for the layer `call` makes, with its arguments.
  auto build = [&](const ast::Call* call, ast::ExprNode* layer) {
    auto p = resolve(call->func);
    const Entry* entry = p ? catalog_.find_build(*p) : nullptr;
    if (entry == nullptr) return;
    InstantiateRequest req;
    req.entry = entry;
    for (ast::ExprNode* x : call->args) req.args.push_back(rewrite_ctor_expr(x));
    for (ast::Keyword* kw : call->keywords) req.keywords.push_back(b_.keyword(kw->arg, rewrite_ctor_expr(kw->value)));
    req.channels_last = opt_.channels_last;
    InstantiateResult r = instantiate(req, b_);
    if (r.expr == nullptr) return;
    std::vector<ast::ExprNode*> shape;
    if (auto* c = ast::as<ast::Constant>(r.expr); !c || c->value.kind != ast::ConstantValue::Kind::None)
      shape.push_back(r.expr);
    auto* st = b_.expr_stmt(b_.call(b_.attr(layer, "build"), shape));
    st->loc = a->loc;
    out.push_back(st);
  };
  if (auto* call = ast::as<ast::Call>(a->value); call && read_parameters_.count(std::string(t->attr)))
    build(call, rewrite_ctor_expr(b_.clone(t)));
  std::string prefix = std::string(t->attr) + ".";
  for (const std::string& path : read_parameters_) {
    if (!path.starts_with(prefix)) continue;
    ast::ExprNode* layer = b_.attr(b_.name("self"), t->attr);  // self.transformer.proj
    for (std::size_t from = prefix.size(), dot; from <= path.size(); from = dot + 1) {
      dot = std::min(path.find('.', from), path.size());
      layer = b_.attr(layer, path.substr(from, dot - from));
    }
    auto d = ctor_module(layer);
    bool made_here = false;  // its constructor's arguments are in scope
    std::function<void(const ast::Node*)> find = [&](const ast::Node* n) {
      if (n == nullptr || made_here) return;
      made_here = d && n == d->ctor;
      ast::for_each_child(const_cast<ast::Node*>(n), find);
    };
    if (d && d->kind == ModuleDesc::Leaf) find(a->value);
    if (made_here) build(d->ctor, rewrite_ctor_expr(layer));
  }
  return out;
}

// `self.qkv.bias[n:2 * n].data.zero_()`: an in-place method on (a part of) a
// parameter of a converted layer, which the Keras layer holds under its own names.
bool Lowerer::changes_layer_parameter(const ast::Call* call) {
  auto* m = ast::as<ast::Attribute>(call->func);
  if (m == nullptr || !m->attr.ends_with("_") || m->attr.ends_with("__")) return false;
  const ast::ExprNode* x = m->value;
  while (true) {
    if (auto* d = ast::as<ast::Attribute>(x); d && d->attr == "data") x = d->value;
    else if (auto* sub = ast::as<ast::Subscript>(x)) x = sub->value;
    else break;
  }
  auto* param = ast::as<ast::Attribute>(x);
  return param != nullptr && ctor_layer(param->value).has_value();
}

// Whether `stmts` (inside `block`) only initialise weights: torch.nn.init calls,
// `pass`, locals those read (`fan_in = ...`, not read after `block`) and `if`s
// of the same. `initializes` is set when one of them calls torch.nn.init.
bool Lowerer::initialization_only(ast::Seq<ast::StmtNode*> stmts, const ast::Node* block, bool& initializes) {
  for (ast::StmtNode* s : stmts) {
    if (ast::is<ast::Pass>(s)) continue;
    if (auto* e = ast::as<ast::Expr>(s)) {
      auto* call = ast::as<ast::Call>(e->value);
      auto p = call ? resolve(call->func) : std::nullopt;
      if ((p && p->starts_with("torch.nn.init.")) || (call && changes_layer_parameter(call))) {
        initializes = true;
        continue;
      }
      return false;
    }
    if (auto* i = ast::as<ast::If>(s)) {
      if (!initialization_only(i->body, block, initializes) || !initialization_only(i->orelse, block, initializes))
        return false;
      continue;
    }
    auto* a = ast::as<ast::Assign>(s);
    if (a == nullptr || current_function_ == nullptr) return false;
    for (ast::ExprNode* t : a->targets) {
      auto* name = ast::as<ast::Name>(t);
      if (name == nullptr || live_after(current_function_, std::string(name->id), block->loc)) return false;
    }
  }
  return true;
}

ast::FunctionDef* Lowerer::rewrite_function(const ast::FunctionDef* f, bool in_init, bool) {
  const ast::FunctionDef* saved_function = current_function_;
  current_function_ = f;
  std::map<std::string, std::string> saved_tensors = std::exchange(ctor_tensors_, {});
  struct Restore {
    const ast::FunctionDef*& slot;
    const ast::FunctionDef* value;
    ~Restore() { slot = value; }
  } restore{current_function_, saved_function};
  auto* c = b_.clone(f);
  c->args = strip_arguments(f->args, false);
  c->returns = strip_annotation(f->returns);
  std::vector<ast::ExprNode*> decorators;
  for (ast::ExprNode* d : f->decorator_list) {
    auto p = resolve(d);
    auto* call = ast::as<ast::Call>(d);
    if (!p && call) p = resolve(call->func);
    if (ast::ExprNode* no_grad = no_grad_decorator(d)) {
      decorators.push_back(no_grad);
      continue;
    }
    if (p && is_torch_path(*p)) continue;  // @torch.jit.unused...
    decorators.push_back(d);
  }
  c->decorator_list = b_.seq(decorators);
  c->body = b_.seq(rewrite_ctor_body(f->body, in_init));
  ctor_tensors_ = std::move(saved_tensors);
  return c;
}

// ---------------------------------------------------------------------------
// Pass 3: script code (see the members' comment).

namespace {

// Methods of a module that give the module itself in script code: a device
// move, a float32 cast (Keras' default already), a mode change used as a value.
bool module_passthrough(std::string_view attr) {
  return attr == "to" || attr == "cuda" || attr == "cpu" || attr == "float" || attr == "train" || attr == "eval";
}

// torch.nn.Module methods a Keras model does not have and script code does not
// convert yet (an error at the call, rather than an AttributeError at run time).
bool unconverted_module_method(std::string_view attr) {
  static const std::set<std::string_view> names = {
      "state_dict", "load_state_dict", "named_parameters", "named_modules", "modules", "children",
      "named_children", "apply", "half", "double", "bfloat16", "register_buffer",
      "register_parameter", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
      "buffers", "named_buffers", "get_submodule", "get_parameter", "share_memory", "type", "to_empty"};
  return names.count(attr) > 0;
}

// torch's grad-mode context managers: their block runs as it is (the converted
// code records gradients only inside the GradientTapes it writes).
bool grad_mode_context(std::string_view path) {
  return path == "torch.no_grad" || path == "torch.enable_grad" || path == "torch.inference_mode" ||
         path == "torch.set_grad_enabled" || path == "torch.autograd.no_grad" ||
         path == "torch.autograd.grad_mode.no_grad";
}

}  // namespace

Lowerer::ScriptKind Lowerer::script_kind(const ast::ExprNode* e) const {
  using K = ScriptKind;
  if (e == nullptr) return K::Other;
  if (auto* n = ast::as<ast::Name>(e)) {
    if (auto it = script_kinds_.find(std::string(n->id)); it != script_kinds_.end()) return it->second;
    return ctor_tensors_.count(std::string(n->id)) ? K::Tensor : K::Other;
  }
  auto tensor_if = [](bool t) { return t ? K::Tensor : K::Other; };
  // An attribute the code assigned (`self.images = torch.randn(...)` in a
  // Dataset), or a submodule of a model (`model.fc1`, `model.features[0]`).
  if (auto* a = ast::as<ast::Attribute>(e)) {
    if (ast::is<ast::Name>(a->value))
      if (auto it = script_kinds_.find(syntax::unparse(e)); it != script_kinds_.end()) return it->second;
    K owner = script_kind(a->value);
    return owner == K::Model || module_like(owner) ? K::Module : K::Other;
  }
  if (auto* sub = ast::as<ast::Subscript>(e)) {
    K owner = script_kind(sub->value);
    return owner == K::Model || module_like(owner) ? K::Module : tensor_if(owner == K::Tensor);
  }
  if (auto* bo = ast::as<ast::BinOp>(e))
    return tensor_if(script_kind(bo->left) == K::Tensor || script_kind(bo->right) == K::Tensor);
  if (auto* u = ast::as<ast::UnaryOp>(e)) return tensor_if(script_kind(u->operand) == K::Tensor);
  if (auto* cmp = ast::as<ast::Compare>(e)) {
    bool t = script_kind(cmp->left) == K::Tensor;
    for (ast::ExprNode* x : cmp->comparators) t = t || script_kind(x) == K::Tensor;
    return tensor_if(t);
  }
  auto* call = ast::as<ast::Call>(e);
  if (call == nullptr) return K::Other;
  if (auto* n = ast::as<ast::Name>(call->func)) {
    if (model_class(n->id) != nullptr) return K::Model;
    if (auto r = script_returns_.find(std::string(n->id)); r != script_returns_.end() && r->second.size() == 1)
      return r->second[0];
    K k = script_kind(n);
    if (k == K::Model || module_like(k)) return K::Tensor;  // out = model(x), loss = criterion(out, y)
  }
  if (auto p = resolve(call->func)) {
    if (*p == "torch.nn.Sequential") return K::Model;
    if (*p == "copy.deepcopy" && !call->args.empty()) return script_kind(call->args[0]);
    if (p->starts_with("torch.optim.lr_scheduler.")) return K::Scheduler;
    if (p->starts_with("torch.optim.")) return K::Optimizer;
    if (*p == "torch.utils.data.DataLoader" || *p == "torch.utils.data.dataloader.DataLoader") return K::Loader;
    if (const Entry* module = catalog_.find_module(*p))
      return module->returns_dtype == catalog::ResultDType::Float ? K::Loss : K::Module;
    // A function of values that gives a tensor says its dtype (clip_grad_norm_'s
    // total norm: returns="float").
    if (const Entry* f = catalog_.find_function(*p))
      return tensor_if((f->layout != Layout::Value && f->layout != Layout::Shape) ||
                       f->returns_dtype != catalog::ResultDType::Same);
    return K::Other;
  }
  if (auto* m = ast::as<ast::Attribute>(call->func)) {
    // A module held in an attribute the code assigned, called: `self.criterion(out, y)`.
    if (auto it = script_kinds_.find(syntax::unparse(m));
        it != script_kinds_.end() && (it->second == K::Model || module_like(it->second)))
      return K::Tensor;
    // A method of the script's class: what it returns (`self.compute_loss(x, y)`).
    if (auto it = script_kinds_.find(syntax::unparse(m) + "()"); it != script_kinds_.end()) return it->second;
    K owner = script_kind(m->value);
    if (owner == K::Model || module_like(owner)) return module_passthrough(m->attr) ? owner : K::Other;
    if (owner == K::Tensor) {
      const Entry* entry = catalog_.find_method(m->attr);
      return tensor_if(entry != nullptr && entry->layout != Layout::Value && entry->layout != Layout::Shape);
    }
  }
  return K::Other;
}

std::map<std::string, Lowerer::ScriptKind> Lowerer::scan_script_kinds(ast::Seq<ast::StmtNode*> body,
                                                                      std::map<std::string, ScriptKind> kinds) const {
  using K = ScriptKind;
  // script_kind reads script_kinds_: the scan's map stands in for it meanwhile.
  auto& current = const_cast<std::map<std::string, ScriptKind>&>(script_kinds_);
  std::map<std::string, ScriptKind> saved = std::exchange(current, std::move(kinds));
  std::set<std::string> conflicts;
  auto bind = [&](const std::string& name, K k) {
    if (k == K::Other || conflicts.count(name)) return;
    auto it = current.find(name);
    if (it == current.end() || it->second == K::Other) current[name] = k;
    else if (it->second != k) conflicts.insert(name), current[name] = K::Other;
  };
  std::function<void(const ast::ExprNode*, K)> bind_target = [&](const ast::ExprNode* t, K k) {
    if (auto* n = ast::as<ast::Name>(t)) bind(std::string(n->id), k);
    else if (auto* a = ast::as<ast::Attribute>(t); a && ast::is<ast::Name>(a->value)) bind(syntax::unparse(t), k);
    else if (auto* s = ast::as<ast::Starred>(t)) bind_target(s->value, k);
    else if (auto* tu = ast::as<ast::Tuple>(t))
      for (ast::ExprNode* x : tu->elts) bind_target(x, k == K::Tensor ? K::Tensor : K::Other);
    else if (auto* l = ast::as<ast::List>(t))
      for (ast::ExprNode* x : l->elts) bind_target(x, k == K::Tensor ? K::Tensor : K::Other);
  };
  std::function<void(ast::Seq<ast::StmtNode*>)> walk = [&](ast::Seq<ast::StmtNode*> stmts) {
    for (ast::StmtNode* s : stmts) {
      if (auto* a = ast::as<ast::Assign>(s)) {
        auto* tv = ast::as<ast::Tuple>(a->value);
        auto* tt = a->targets.size() == 1 ? ast::as<ast::Tuple>(a->targets[0]) : nullptr;
        auto* vc = ast::as<ast::Call>(a->value);
        auto* vf = vc ? ast::as<ast::Name>(vc->func) : nullptr;
        auto returned = vf ? script_returns_.find(std::string(vf->id)) : script_returns_.end();
        if (tv && tt && tv->elts.size() == tt->elts.size()) {
          for (std::size_t i = 0; i < tt->elts.size(); ++i) bind_target(tt->elts[i], script_kind(tv->elts[i]));
        } else if (tt && returned != script_returns_.end() && returned->second.size() == tt->elts.size()) {
          for (std::size_t i = 0; i < tt->elts.size(); ++i) bind_target(tt->elts[i], returned->second[i]);
        } else {
          for (ast::ExprNode* t : a->targets) bind_target(t, script_kind(a->value));
        }
      } else if (auto* an = ast::as<ast::AnnAssign>(s); an && an->value) {
        bind_target(an->target, script_kind(an->value));
      } else if (auto* f = ast::as<ast::For>(s)) {
        // A loader's batches and a tensor's rows are tensors; so are the items
        // enumerate(loader) pairs with their index.
        K k = script_kind(f->iter);
        auto* call = ast::as<ast::Call>(f->iter);
        auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
        auto* pair = ast::as<ast::Tuple>(f->target);
        if (k == K::Loader || k == K::Tensor) bind_target(f->target, K::Tensor);
        else if (fn && fn->id == "enumerate" && !call->args.empty() && pair && pair->elts.size() == 2 &&
                 (script_kind(call->args[0]) == K::Loader || script_kind(call->args[0]) == K::Tensor))
          bind_target(pair->elts[1], K::Tensor);
        walk(f->body);
        walk(f->orelse);
      } else if (auto* w = ast::as<ast::While>(s)) {
        walk(w->body);
        walk(w->orelse);
      } else if (auto* i = ast::as<ast::If>(s)) {
        walk(i->body);
        walk(i->orelse);
      } else if (auto* w = ast::as<ast::With>(s)) {
        walk(w->body);
      } else if (auto* t = ast::as<ast::Try>(s)) {
        walk(t->body);
        walk(t->orelse);
        walk(t->finalbody);
      }
    }
  };
  for (int round = 0; round < 3; ++round) walk(body);  // a later assignment may tell an earlier use
  std::map<std::string, ScriptKind> out = std::exchange(current, std::move(saved));
  return out;
}

std::optional<std::vector<Lowerer::ScriptKind>> Lowerer::return_kinds(
    const ast::FunctionDef* f, const std::map<std::string, ScriptKind>& kinds) const {
  auto& current = const_cast<std::map<std::string, ScriptKind>&>(script_kinds_);
  std::map<std::string, ScriptKind> saved = std::exchange(current, kinds);
  std::optional<std::vector<ScriptKind>> returns;
  std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
    if (n == nullptr || ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n) || ast::is<ast::ClassDef>(n)) return;
    if (auto* r = ast::as<ast::Return>(n); r && r->value) {
      std::vector<ScriptKind> k;
      if (auto* t = ast::as<ast::Tuple>(r->value))
        for (ast::ExprNode* x : t->elts) k.push_back(script_kind(x));
      else
        k.push_back(script_kind(r->value));
      if (!returns) returns = k;
      else if (*returns != k) returns = std::vector<ScriptKind>(k.size() == returns->size() ? k.size() : 1, ScriptKind::Other);
    }
    ast::for_each_child(const_cast<ast::Node*>(n), scan);
  };
  for (ast::StmtNode* st : f->body) scan(st);
  current = std::move(saved);
  return returns;
}

void Lowerer::infer_script_parameters(const std::vector<const ast::FunctionDef*>& functions,
                                      const std::vector<ast::StmtNode*>& module_code) {
  std::map<std::string, const ast::FunctionDef*> by_name;
  for (const ast::FunctionDef* f : functions) by_name[std::string(f->name)] = f;
  std::map<const ast::FunctionDef*, std::set<std::string>> conflicts;
  // A call passing a value of no known kind leaves the others' kind, except a
  // DataLoader's: a loop over it becomes model.fit(), which a list of batches
  // cannot feed.
  std::map<const ast::FunctionDef*, std::set<std::string>> unknown;
  auto merge = [&](const ast::FunctionDef* g, const std::string& param, ScriptKind k) {
    if (conflicts[g].count(param)) return;
    auto& kinds = script_params_[g];
    auto it = kinds.find(param);
    if (k == ScriptKind::Other) {
      unknown[g].insert(param);
      if (it != kinds.end() && it->second == ScriptKind::Loader) conflicts[g].insert(param), it->second = k;
      return;
    }
    if (k == ScriptKind::Loader && unknown[g].count(param)) conflicts[g].insert(param), kinds[param] = ScriptKind::Other;
    else if (it == kinds.end()) kinds[param] = k;
    else if (it->second != k) conflicts[g].insert(param), kinds[param] = ScriptKind::Other;
  };
  // The calls of script functions in `body`, with its names' kinds.
  auto visit = [&](ast::Seq<ast::StmtNode*> body, std::map<std::string, ScriptKind> kinds) {
    std::map<std::string, ScriptKind> saved = std::exchange(script_kinds_, std::move(kinds));
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n)) {
        auto* fn = ast::as<ast::Name>(call->func);
        auto g = fn ? by_name.find(std::string(fn->id)) : by_name.end();
        if (g != by_name.end())
          for (const auto& [param, arg] : bound_arguments(g->second, call)) merge(g->second, param, script_kind(arg));
        auto ctor = fn ? script_classes_.find(std::string(fn->id)) : script_classes_.end();
        if (ctor != script_classes_.end())
          for (const auto& [param, arg] : bound_arguments(ctor->second, call, 1)) merge(ctor->second, param, script_kind(arg));
      }
      ast::for_each_child(const_cast<ast::Node*>(n), scan);
    };
    for (ast::StmtNode* s : body) scan(s);
    script_kinds_ = std::move(saved);
  };
  ast::Seq<ast::StmtNode*> module_body = b_.seq(module_code);
  infer_uncalled_parameters(functions, module_code);
  for (int round = 0; round < 3; ++round) {  // main() -> train(model, ...) -> step(model, ...)
    std::map<std::string, ScriptKind> globals = scan_script_kinds(module_body, {});
    visit(module_body, globals);
    for (const ast::FunctionDef* f : functions) {
      std::map<std::string, ScriptKind> kinds = scan_script_kinds(f->body, script_params_[f]);
      visit(f->body, kinds);
      if (auto returns = return_kinds(f, kinds)) script_returns_[std::string(f->name)] = *returns;
    }
  }
}

void Lowerer::infer_uncalled_parameters(const std::vector<const ast::FunctionDef*>& functions,
                                        const std::vector<ast::StmtNode*>& module_code) {
  // The functions some code of the file calls by name.
  std::set<std::string> called;
  std::function<void(const ast::Node*)> calls = [&](const ast::Node* n) {
    if (n == nullptr) return;
    if (auto* call = ast::as<ast::Call>(n))
      if (auto* fn = ast::as<ast::Name>(call->func)) called.emplace(fn->id);
    // A function passed on (`run(train)`, a callback) is called elsewhere.
    if (auto* name = ast::as<ast::Name>(n); name && name->ctx == ast::ExprContext::Load) called.emplace(name->id);
    ast::for_each_child(const_cast<ast::Node*>(n), calls);
  };
  for (const ast::StmtNode* st : module_code) calls(st);
  for (const ast::FunctionDef* f : functions)
    for (const ast::StmtNode* st : f->body) calls(st);
  static const std::set<std::string_view> kModuleMethods = {
      "parameters", "named_parameters", "train",    "eval",  "state_dict", "load_state_dict",
      "modules",    "named_modules",    "children", "apply", "requires_grad_"};
  // Methods modules, optimizers and tensors share, and those of Python's lists,
  // dicts, sets and strings (values.sort(), seen.add(x), line.split(",")): no
  // evidence of either.
  static const std::set<std::string_view> kShared = {
      "to",     "cuda",  "cpu",    "type",    "zero_grad", "step",   "float",   "double", "half",
      "register_buffer", "sort", "add",     "split",     "index",  "count",   "copy",   "append",
      "extend", "pop",   "remove", "insert",  "reverse",   "clear",  "update",  "keys",   "values",
      "items",  "get",   "join",   "strip",   "replace",   "format", "lower",   "upper",  "startswith",
      "endswith", "find", "sum",   "max",     "min",       "mean",   "numpy",   "tolist", "item"};
  const auto& catalog = catalog::Catalog::instance();
  for (const ast::FunctionDef* f : functions) {
    if (called.count(std::string(f->name))) continue;
    // What the body calls on each name: its methods.
    std::map<std::string, std::set<std::string>> methods;
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n))
        if (auto* m = ast::as<ast::Attribute>(call->func); m && ast::is<ast::Name>(m->value))
          methods[std::string(static_cast<const ast::Name*>(m->value)->id)].emplace(m->attr);
      ast::for_each_child(const_cast<ast::Node*>(n), scan);
    };
    for (const ast::StmtNode* st : f->body) scan(st);
    auto& kinds = script_params_[f];
    std::vector<ast::Arg*> params(f->args->posonlyargs.begin(), f->args->posonlyargs.end());
    params.insert(params.end(), f->args->args.begin(), f->args->args.end());
    params.insert(params.end(), f->args->kwonlyargs.begin(), f->args->kwonlyargs.end());
    for (const ast::Arg* p : params) {
      std::string name(p->arg);
      if (kinds.count(name) || !methods.count(name)) continue;
      const std::set<std::string>& used = methods[name];
      bool module = false, tensor = false;
      // (An optimizer has state_dict() too: with step() it is one.)
      bool stepped = used.count("step") > 0;
      for (const std::string& m : used) {
        module = module || (kModuleMethods.count(m) && !(stepped && (m == "state_dict" || m == "load_state_dict")));
        tensor = tensor || (!kShared.count(m) && !kModuleMethods.count(m) && catalog.find_method(m) != nullptr) ||
                 m == "backward";
      }
      if (module && !tensor) kinds[name] = ScriptKind::Model;
      else if (tensor && !module) kinds[name] = ScriptKind::Tensor;
      else if (!module && !tensor && stepped &&
               (used.count("zero_grad") || used.count("state_dict") || used.count("load_state_dict")))
        kinds[name] = ScriptKind::Optimizer;
    }
    // A parameter called for a value whose backward() or item() the body calls
    // (`loss = criterion(out, y)`, `loss.backward()`): a loss module.
    std::set<std::string> losses;  // names with backward() / item() called
    for (const auto& [n, used] : methods)
      if (used.count("backward") || used.count("item")) losses.insert(n);
    std::function<void(const ast::Node*)> loss_calls = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* a = ast::as<ast::Assign>(n); a && a->targets.size() == 1 && ast::is<ast::Name>(a->targets[0]) &&
                                             losses.count(std::string(static_cast<ast::Name*>(a->targets[0])->id)))
        if (auto* call = ast::as<ast::Call>(a->value))
          if (auto* fn = ast::as<ast::Name>(call->func); fn && !kinds.count(std::string(fn->id)) &&
                                                           !methods.count(std::string(fn->id)))
            for (const ast::Arg* q : params)
              if (q->arg == fn->id) kinds[std::string(fn->id)] = ScriptKind::Loss;
      ast::for_each_child(const_cast<ast::Node*>(n), loss_calls);
    };
    for (const ast::StmtNode* st : f->body) loss_calls(st);
    // A parameter a loop iterates (`for x, y in loader`, enumerate(loader)),
    // nothing else called on it, whose body calls a model or backward(): a
    // DataLoader.
    std::set<std::string> models;
    for (const auto& [n, k] : kinds)
      if (k == ScriptKind::Model) models.insert(n);
    std::function<bool(const ast::Node*)> trains = [&](const ast::Node* n) {
      if (n == nullptr) return false;
      if (auto* call = ast::as<ast::Call>(n)) {
        if (auto* fn = ast::as<ast::Name>(call->func); fn && models.count(std::string(fn->id))) return true;
        if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "backward") return true;
      }
      bool found = false;
      ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { found = found || trains(c); });
      return found;
    };
    std::function<void(const ast::Node*)> loops = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* loop = ast::as<ast::For>(n)) {
        const ast::ExprNode* iter = loop->iter;
        if (auto* en = ast::as<ast::Call>(iter); en && ast::is<ast::Name>(en->func) &&
                                                 static_cast<const ast::Name*>(en->func)->id == "enumerate" &&
                                                 !en->args.empty())
          iter = en->args[0];
        bool body_trains = false;
        for (const ast::StmtNode* st : loop->body) body_trains = body_trains || trains(st);
        if (auto* p = ast::as<ast::Name>(iter); p && body_trains) {
          std::string name(p->id);
          bool param = false;
          for (const ast::Arg* a : params) param = param || a->arg == p->id;
          if (param && !kinds.count(name) && !methods.count(name)) kinds[name] = ScriptKind::Loader;
        }
      }
      ast::for_each_child(const_cast<ast::Node*>(n), loops);
    };
    for (const ast::StmtNode* st : f->body) loops(st);
  }
}

Lowerer::Mode Lowerer::value_mode(const ast::ExprNode* e) const {
  for (const ast::ExprNode* x = e;;) {
    if (auto* call = ast::as<ast::Call>(x)) {
      // A constructor (`nn.Sequential(...)` is an attribute call too).
      if (auto p = resolve(call->func); p && *p == "torch.nn.Sequential") return Mode::Train;
      if (auto* m = ast::as<ast::Attribute>(call->func)) {
        if (m->attr == "eval") return Mode::Eval;
        if (m->attr == "train") {
          // train(), train(False), train(mode=False).
          const ast::ExprNode* flag = call->args.empty() ? nullptr : call->args[0];
          for (const ast::Keyword* kw : call->keywords)
            if (kw->arg == "mode") flag = kw->value;
          if (flag == nullptr) return call->keywords.empty() ? Mode::Train : Mode::Unknown;
          std::optional<bool> on = analysis::literal_value(flag).truth();
          return !on ? Mode::Unknown : *on ? Mode::Train : Mode::Eval;
        }
        if (module_passthrough(m->attr)) {
          x = m->value;
          continue;
        }
        return Mode::Unknown;
      }
      auto* fn = ast::as<ast::Name>(call->func);
      if (fn && model_class(fn->id) != nullptr) return Mode::Train;  // PyTorch modules start in training mode
      if (resolve(call->func).value_or("") == "copy.deepcopy" && !call->args.empty()) {
        x = call->args[0];
        continue;
      }
      return Mode::Unknown;
    }
    if (ast::is<ast::Name>(x) || ast::is<ast::Attribute>(x)) {
      auto it = script_modes_.find(syntax::unparse(x));
      return it != script_modes_.end() ? it->second : Mode::Unknown;
    }
    return Mode::Unknown;
  }
}

Lowerer::Mode Lowerer::mode_after(ast::Seq<ast::StmtNode*> body, const std::string& key, Mode entry) const {
  // `model.train()` / `model.eval()` as a statement: the mode it sets, for `key`.
  auto sets = [&](const ast::StmtNode* s) -> std::optional<Mode> {
    auto* e = ast::as<ast::Expr>(s);
    auto* call = e ? ast::as<ast::Call>(e->value) : nullptr;
    auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
    if (m == nullptr || (m->attr != "train" && m->attr != "eval") || syntax::unparse(m->value) != key) return std::nullopt;
    return value_mode(call);
  };
  // A call of a script function that sets the mode of `key` passed to it
  // (script_mode_effects_): the mode it leaves.
  auto effect = [&](const ast::Node* n) -> std::optional<Mode> {
    auto* call = ast::as<ast::Call>(n);
    auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
    auto g = fn ? script_functions_.find(std::string(fn->id)) : script_functions_.end();
    if (g == script_functions_.end()) return std::nullopt;
    auto effects = script_mode_effects_.find(g->second);
    if (effects == script_mode_effects_.end()) return std::nullopt;
    for (const auto& [param, arg] : bound_arguments(g->second, call))
      if (syntax::unparse(arg) == key)
        if (auto e = effects->second.find(param); e != effects->second.end()) return e->second;
    return std::nullopt;
  };
  Mode mode = entry;
  for (ast::StmtNode* s : body) {
    if (std::optional<Mode> m = sets(s)) {
      mode = *m;
      continue;
    }
    if (auto* e = ast::as<ast::Expr>(s))
      if (std::optional<Mode> m = effect(e->value)) {
        mode = *m;
        continue;
      }
    bool inside = false;
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
      if (n == nullptr || inside) return;
      if (auto* st = ast::as<ast::Expr>(n); st && n != s && sets(st)) inside = true;
      if (effect(n)) inside = true;
      ast::for_each_child(const_cast<ast::Node*>(n), scan);
    };
    scan(s);
    if (inside) mode = Mode::Unknown;
  }
  return mode;
}

ast::Keyword* Lowerer::training_keyword(const ast::ExprNode* func, const ast::Node* at) {
  if (script_kind(func) != ScriptKind::Model) return nullptr;
  if (!opt_.io_torch && warned_modes_.insert("<io-layout>").second)
    error(diag::Kind::UnsupportedConstruct, at,
          "the training code calls `" + syntax::unparse(func) +
              "` with tensors in PyTorch's shapes, but --io-layout keras makes the models take channels-last "
              "images; convert with --io-layout torch");
  std::string key = syntax::unparse(func);
  auto it = script_modes_.find(key);
  Mode mode = it != script_modes_.end() ? it->second : Mode::Unknown;
  std::string where = current_function_ != nullptr ? std::string(current_function_->name) : std::string();
  if (mode == Mode::Unknown && warned_modes_.insert(key + "@" + where).second)
    error(diag::Kind::AssumedTrainingMode, at,
          "whether `" + key + "` is in training or evaluation mode here is not known (it is set by `" + key +
              ".train()` / `" + key + ".eval()` elsewhere): training, PyTorch's default, is assumed; call `" +
              key + ".train()` or `" + key + ".eval()` before, in this function");
  ast::Keyword* kw = b_.keyword("training", b_.boolean(mode != Mode::Eval));
  if (mode == Mode::Unknown) assumed_modes_.insert(kw);
  return kw;
}

ast::ExprNode* Lowerer::rewrite_script_call(const ast::Call* call, bool parameters_argument) {
  using K = ScriptKind;
  // copy.deepcopy(model.state_dict()): a copy of the model's weights (the best
  // epoch's, for load_state_dict later), Keras' get_weights().
  if (auto p = resolve(call->func); p && *p == "copy.deepcopy" && call->args.size() == 1) {
    auto* sd = ast::as<ast::Call>(call->args[0]);
    auto* sm = sd && sd->args.empty() ? ast::as<ast::Attribute>(sd->func) : nullptr;
    if (sm && sm->attr == "state_dict" && script_kind(sm->value) == K::Model)
      return b_.call(b_.attr(rewrite_ctor_expr(sm->value), "get_weights"), {});
  }
  // loss.backward(): kept for the GradientTape pass (insert_gradient_tapes).
  if (auto* m = ast::as<ast::Attribute>(call->func); m && m->attr == "backward" && call->args.empty()) {
    for (ast::Keyword* kw : call->keywords)
      if (kw->arg != "retain_graph")
        error(diag::Kind::UnsupportedArgument, call,
              "`backward(" + std::string(kw->arg) + "=...)` is not converted (a GradientTape gives first-order "
              "gradients of a scalar loss)");
    auto* c = b_.clone(call);
    c->func = b_.attr(rewrite_ctor_expr(m->value), "backward");
    c->keywords = {};
    return c;
  }
  if (auto* m = ast::as<ast::Attribute>(call->func)) {
    K owner = script_kind(m->value);
    if (owner == K::Model || module_like(owner)) {
      // model.parameters(): the model (an optimizer reads its trainable weights
      // when it steps: a Keras model makes them at its first call).
      if (m->attr == "parameters" && call->args.empty() && !parameters_argument) {
        error(diag::Kind::UnsupportedConstruct, call,
              "`" + syntax::unparse(call) + "` used as an iterable is not converted yet (it converts as an "
              "optimizer's or clip_grad_norm_'s argument, and in `for p in m.parameters(): p.requires_grad = ...`)");
        refused_.insert(call);
        return const_cast<ast::Call*>(call);
      }
      if ((m->attr == "parameters" && call->args.empty()) || module_passthrough(m->attr))
        return rewrite_ctor_expr(m->value);
      // model.zero_grad(), model.features.requires_grad_(False): the runtime's
      // function of the module, its arguments after it.
      if (m->attr == "zero_grad" || m->attr == "requires_grad_") {
        std::string helper = "pytorch_" + std::string(m->attr);
        out_.helpers.insert(helper);
        std::vector<ast::ExprNode*> args{rewrite_ctor_expr(m->value)};
        for (ast::ExprNode* a : call->args) args.push_back(rewrite_ctor_expr(a));
        std::vector<ast::Keyword*> kws;
        for (ast::Keyword* kw : call->keywords) kws.push_back(b_.keyword(kw->arg, rewrite_ctor_expr(kw->value)));
        return b_.call(helper, args, kws);
      }
      if (unconverted_module_method(m->attr)) {
        error(diag::Kind::UnsupportedOp, call,
              "`" + syntax::unparse(call->func) + "()` (a torch.nn.Module method) is not converted in training "
              "code yet" + (m->attr == "state_dict" || m->attr == "load_state_dict"
                                ? std::string("; `torch.save(model.state_dict(), path)` and "
                                              "`model.load_state_dict(torch.load(path))` are")
                                : std::string()));
        refused_.insert(call);
        return const_cast<ast::Call*>(call);
      }
    }
  }
  // A device move of a value of any kind (`x.to(device)` of a dataset item,
  // `out.cpu()`): Keras places values itself, the value stays as it is.
  if (auto* m = ast::as<ast::Attribute>(call->func); m && script_kind(m->value) == K::Other && call->keywords.empty()) {
    if (((m->attr == "cpu" || m->attr == "cuda") && call->args.empty()) ||
        (m->attr == "to" && call->args.size() == 1 && names_device(call->args[0])))
      return rewrite_ctor_expr(m->value);
  }
  // optimizer.state_dict() / load_state_dict(): not the runtime optimizers'.
  if (auto* m = ast::as<ast::Attribute>(call->func);
      m && (m->attr == "state_dict" || m->attr == "load_state_dict") && script_kind(m->value) == K::Optimizer) {
    error(diag::Kind::UnsupportedConstruct, call,
          "`" + syntax::unparse(call->func) + "()` of an optimizer is not converted yet (checkpoints of the "
          "optimizer's state)");
    refused_.insert(call);
    return const_cast<ast::Call*>(call);
  }
  // model(x): called with the training= its mode gives.
  if (ast::Keyword* training = training_keyword(call->func, call)) {
    auto* c = b_.clone(call);
    c->func = rewrite_ctor_expr(call->func);
    std::vector<ast::ExprNode*> args;
    for (ast::ExprNode* a : call->args) args.push_back(rewrite_ctor_expr(a));
    std::vector<ast::Keyword*> kws;
    for (ast::Keyword* kw : call->keywords) kws.push_back(b_.keyword(kw->arg, rewrite_ctor_expr(kw->value)));
    kws.push_back(training);
    c->args = b_.seq(args);
    c->keywords = b_.seq(kws);
    return c;
  }
  return nullptr;
}

ast::ExprNode* Lowerer::weights_path(ast::ExprNode* path) {
  // Keras saves weights to a file named *.weights.h5: "net.pt" -> "net.weights.h5".
  if (auto* c = ast::as<ast::Constant>(path); c && c->value.kind == ast::ConstantValue::Kind::Str) {
    std::string text(c->value.text);
    std::size_t slash = text.find_last_of('/');
    std::size_t dot = text.find_last_of('.');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) text = text.substr(0, dot);
    return b_.string(text + ".weights.h5");
  }
  out_.helpers.insert("pytorch_weights_file");
  return b_.call("pytorch_weights_file", {path});
}

bool Lowerer::rewrite_script_statement(ast::StmtNode* s, std::vector<ast::StmtNode*>& out) {
  using K = ScriptKind;
  auto emit = [&](ast::StmtNode* st) {
    st->loc = s->loc;
    out.push_back(st);
    return true;
  };
  // A function defined in script code (a closure running an epoch) is script code
  // too, seeing the names around it with their kinds.
  if (auto* f = ast::as<ast::FunctionDef>(s); f && current_class_ == nullptr) {
    std::map<std::string, Mode> outer_modes = script_modes_;
    out.push_back(rewrite_script_function(f, {}));
    script_modes_ = std::move(outer_modes);
    return true;
  }
  if (auto* e = ast::as<ast::Expr>(s)) {
    auto* call = ast::as<ast::Call>(e->value);
    auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
    // model.train() / model.eval(): the training= of the model's next calls.
    if (m && (m->attr == "train" || m->attr == "eval") && script_kind(m->value) == K::Module) {
      error(diag::Kind::UnsupportedConstruct, s,
            "`" + syntax::unparse(call) + "`: the mode of a part of a model (or of a layer called on its "
            "own) is not converted (Keras passes one training flag to all the layers of a model's call)");
      refused_.insert(s);
      out.push_back(s);
      return true;
    }
    // A loss module's mode changes nothing it computes.
    if (m && (m->attr == "train" || m->attr == "eval") && script_kind(m->value) == K::Loss) {
      out_.left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
      return true;
    }
    bool mode_keyword = call != nullptr && call->keywords.size() == 1 && call->keywords[0]->arg == "mode";
    if (m && (m->attr == "train" || m->attr == "eval") && (call->keywords.empty() || mode_keyword) &&
        script_kind(m->value) == K::Model) {
      script_modes_[syntax::unparse(m->value)] = value_mode(call);
      out_.left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
      return true;
    }
    auto p = call ? resolve(call->func) : std::nullopt;
    // torch.save(model.state_dict(), path): a Keras weights file.
    if (p && *p == "torch.save") {
      auto* sd = call->args.size() == 2 ? ast::as<ast::Call>(call->args[0]) : nullptr;
      auto* sm = sd && sd->args.empty() ? ast::as<ast::Attribute>(sd->func) : nullptr;
      if (sm && sm->attr == "state_dict" && script_kind(sm->value) == K::Model)
        return emit(b_.expr_stmt(
            b_.call(b_.attr(rewrite_ctor_expr(sm->value), "save_weights"), {weights_path(rewrite_ctor_expr(call->args[1]))})));
      error(diag::Kind::UnsupportedOp, s,
            "`torch.save` of anything but a model's `state_dict()` is not converted yet (a model's weights "
            "become a Keras weights file)");
      refused_.insert(s);
      out.push_back(s);
      return true;
    }
    // model.load_state_dict(torch.load(path)): the Keras weights file torch.save's
    // conversion wrote (the model must be built: called once).
    if (m && m->attr == "load_state_dict" && script_kind(m->value) == K::Model && call->args.size() == 1) {
      auto* load = ast::as<ast::Call>(call->args[0]);
      auto lp = load ? resolve(load->func) : std::nullopt;
      if (lp && *lp == "torch.load" && !load->args.empty())
        return emit(b_.expr_stmt(
            b_.call(b_.attr(rewrite_ctor_expr(m->value), "load_weights"), {weights_path(rewrite_ctor_expr(load->args[0]))})));
      // model.load_state_dict(best), `best = copy.deepcopy(model.state_dict())`
      // (get_weights above): set_weights.
      if (auto* saved = ast::as<ast::Name>(call->args[0]); saved && call->keywords.empty()) {
        bool copied = false;
        std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
          if (n == nullptr || copied) return;
          if (auto* as = ast::as<ast::Assign>(n))
            for (const ast::ExprNode* t : as->targets)
              if (auto* tn = ast::as<ast::Name>(t); tn && tn->id == saved->id) {
                auto* c = ast::as<ast::Call>(as->value);
                copied = c && resolve(c->func).value_or("") == "copy.deepcopy";
              }
          ast::for_each_child(const_cast<ast::Node*>(n), scan);
        };
        if (current_function_ != nullptr) scan(current_function_);
        if (copied)
          return emit(b_.expr_stmt(b_.call(b_.attr(rewrite_ctor_expr(m->value), "set_weights"), {b_.name(saved->id)})));
      }
    }
    // label.fill_(v) on a tensor name: label = <fill's value> (PyTorch changes the
    // tensor in place; the name is rebound to the new value).
    if (auto* target = m && m->attr.ends_with("_") && !m->attr.ends_with("__") ? ast::as<ast::Name>(m->value) : nullptr;
        target && made_tensor(target)) {
      // The plain method's value (`add_` as `add`), or the in-place one's own
      // entry where the catalog has one (`fill_`: the filled tensor).
      std::string plain(m->attr.substr(0, m->attr.size() - 1));
      if (catalog_.find_method(plain) != nullptr || catalog_.find_method(m->attr) != nullptr) {
        auto* value = b_.clone(call);
        value->func = catalog_.find_method(plain) != nullptr ? b_.attr(b_.name(target->id), plain) : call->func;
        return emit(b_.assign(b_.name(target->id, ast::ExprContext::Store), rewrite_ctor_expr(value)));
      }
    }
    return false;
  }
  if (auto* w = ast::as<ast::With>(s)) {
    // `with torch.no_grad():`; `with torch.autocast(...)`: its block in float32
    // (exact when enabled=False).
    bool grad_mode = true, autocast = !w->items.empty();
    for (ast::WithItem* item : w->items) {
      auto* call = ast::as<ast::Call>(item->context_expr);
      auto p = resolve(call ? call->func : item->context_expr);
      grad_mode = grad_mode && item->optional_vars == nullptr && p && grad_mode_context(*p);
      autocast = autocast && item->optional_vars == nullptr && p &&
                 (*p == "torch.autocast" || *p == "torch.amp.autocast" || *p == "torch.cuda.amp.autocast" ||
                  *p == "torch.cpu.amp.autocast");
      bool disabled = false;
      for (ast::Keyword* kw : call ? call->keywords : ast::Seq<ast::Keyword*>{})
        disabled = disabled || (kw->arg == "enabled" && analysis::literal_value(kw->value).truth() == false);
      if (autocast && !disabled)
        error(diag::Kind::MixedPrecision, item->context_expr,
              "`" + syntax::unparse(item->context_expr) + "`: the converted code runs this block in float32, "
              "where PyTorch computes parts of it in lower precision (the numbers differ slightly)");
    }
    // In script code, a block that computes without gradients (no_grad,
    // inference_mode) is kept, marked, for the training passes: inside a
    // GradientTape it is `with tape.stop_recording():` (its values are
    // constants to backward(), as PyTorch's), elsewhere its block
    // (lower_training; kNoGradMarker).
    bool no_grad = grad_mode && script_mode_;
    for (ast::WithItem* item : w->items) {
      auto* call = ast::as<ast::Call>(item->context_expr);
      auto p = resolve(call ? call->func : item->context_expr);
      bool disabling = p && (*p == "torch.no_grad" || *p == "torch.inference_mode" || *p == "torch.autograd.no_grad" ||
                             *p == "torch.autograd.grad_mode.no_grad");
      bool off = p && *p == "torch.set_grad_enabled" && call != nullptr && call->args.size() == 1 &&
                 analysis::literal_value(call->args[0]).truth() == false;
      no_grad = no_grad && ((disabling && (call == nullptr || call->args.empty())) || off);
    }
    if (no_grad) {
      auto* c = b_.clone(w);
      auto* item = b_.arena().make<ast::WithItem>();
      item->kind = ast::NodeKind::WithItem;
      item->context_expr = b_.name(kNoGradMarker);
      c->items = b_.seq(std::vector<ast::WithItem*>{item});
      c->body = b_.seq(rewrite_ctor_body(w->body, false));
      out.push_back(c);
      return true;
    }
    if (grad_mode || autocast) {  // `with torch.no_grad():` -> its block
      out_.left_out.emplace_back(w->loc.lineno, w->loc.lineno);  // the header line
      for (ast::StmtNode* st : rewrite_ctor_body(w->body, false)) out.push_back(st);
      return true;
    }
    auto* c = b_.clone(w);
    std::vector<ast::WithItem*> items;
    for (ast::WithItem* item : w->items) {
      auto* ci = b_.clone(item);
      ci->context_expr = rewrite_ctor_expr(item->context_expr);
      items.push_back(ci);
    }
    c->items = b_.seq(items);
    c->body = b_.seq(rewrite_ctor_body(w->body, false));
    out.push_back(c);
    return true;
  }
  // `for p in model.fc.parameters(): p.requires_grad = False`: the layer frozen.
  if (auto* f = ast::as<ast::For>(s)) {
    auto* call = ast::as<ast::Call>(f->iter);
    auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
    auto* param = ast::as<ast::Name>(f->target);
    auto* a = f->body.size() == 1 ? ast::as<ast::Assign>(f->body[0]) : nullptr;
    auto* t = a && a->targets.size() == 1 ? ast::as<ast::Attribute>(a->targets[0]) : nullptr;
    auto* tn = t ? ast::as<ast::Name>(t->value) : nullptr;
    std::optional<bool> on = a ? analysis::literal_value(a->value).truth() : std::nullopt;
    // The flag: a constant, or any value not naming the loop's parameter (`= flag`).
    std::set<std::string> flag_names;
    if (a != nullptr) ast::collect_names(a->value, flag_names);
    if (m && m->attr == "parameters" && param && tn && tn->id == param->id && t->attr == "requires_grad" &&
        !flag_names.count(std::string(param->id)) &&
        (script_kind(m->value) == K::Model || module_like(script_kind(m->value))) && f->orelse.empty()) {
      out_.helpers.insert("pytorch_requires_grad_");
      ast::ExprNode* flag = on ? b_.boolean(*on) : rewrite_ctor_expr(a->value);
      return emit(b_.expr_stmt(b_.call("pytorch_requires_grad_", {rewrite_ctor_expr(m->value), flag})));
    }
  }
  // Loops and ifs: the models' modes where their blocks start and after them.
  if (ast::is<ast::For>(s) || ast::is<ast::While>(s)) {
    ast::Seq<ast::StmtNode*> body = ast::is<ast::For>(s) ? static_cast<ast::For*>(s)->body : static_cast<ast::While*>(s)->body;
    std::map<std::string, Mode> entry = script_modes_;
    for (auto& [key, mode] : script_modes_)
      if (mode_after(body, key, mode) != mode) mode = Mode::Unknown;  // the next iteration starts otherwise
    std::vector<ast::StmtNode*> body_out = rewrite_ctor_body(body, false);
    ast::StmtNode* c = nullptr;
    if (auto* f = ast::as<ast::For>(s)) {
      auto* cf = b_.clone(f);
      cf->iter = rewrite_ctor_expr(f->iter);
      cf->body = b_.seq(body_out);
      cf->orelse = b_.seq(rewrite_ctor_body(f->orelse, false));
      c = cf;
    } else {
      auto* w = static_cast<ast::While*>(s);
      auto* cw = b_.clone(w);
      cw->test = rewrite_ctor_expr(w->test);
      cw->body = b_.seq(body_out);
      cw->orelse = b_.seq(rewrite_ctor_body(w->orelse, false));
      c = cw;
    }
    for (auto& [key, mode] : script_modes_)  // the loop may not run
      if (auto it = entry.find(key); it == entry.end() || it->second != mode) mode = Mode::Unknown;
    out.push_back(c);
    return true;
  }
  if (auto* i = ast::as<ast::If>(s)) {
    std::map<std::string, Mode> entry = script_modes_;
    auto* c = b_.clone(i);
    c->test = rewrite_ctor_expr(i->test);
    c->body = b_.seq(rewrite_ctor_body(i->body, false));
    std::map<std::string, Mode> after_body = std::exchange(script_modes_, entry);
    c->orelse = b_.seq(rewrite_ctor_body(i->orelse, false));
    for (auto& [key, mode] : script_modes_)
      if (auto it = after_body.find(key); it == after_body.end() || it->second != mode) mode = Mode::Unknown;
    for (auto& [key, mode] : after_body)
      if (!script_modes_.count(key)) script_modes_[key] = Mode::Unknown;
    if (c->body.empty()) {
      auto* pass = b_.arena().make<ast::Pass>();
      pass->kind = ast::NodeKind::Pass;
      c->body = b_.seq(std::vector<ast::StmtNode*>{pass});
    }
    out.push_back(c);
    return true;
  }
  if (auto* a = ast::as<ast::Assign>(s); a && a->targets.size() == 1) {
    if (auto* t = ast::as<ast::Attribute>(a->targets[0]); t && t->attr == "requires_grad") {
      error(diag::Kind::UnsupportedConstruct, s,
            "setting `" + syntax::unparse(t) + "` is not converted yet; freeze a layer's parameters with "
            "`for p in layer.parameters(): p.requires_grad = False`");
      refused_.insert(s);
      out.push_back(s);
      return true;
    }
  }
  if (auto* a = ast::as<ast::Assign>(s)) {  // model = Net().to(device): in training mode
    for (ast::ExprNode* t : a->targets)
      if (auto* n = ast::as<ast::Name>(t); n && script_kind(a->value) == K::Model)
        script_modes_[std::string(n->id)] = value_mode(a->value);
  }
  return false;
}

std::vector<const ast::FunctionDef*> Lowerer::callers_first(const std::set<const ast::FunctionDef*>& functions) const {
  std::vector<const ast::FunctionDef*> in_file;
  for (ast::StmtNode* s : module_->body)
    if (auto* f = ast::as<ast::FunctionDef>(s); f && functions.count(f)) in_file.push_back(f);
  // callers[g]: the script functions that call g.
  std::map<const ast::FunctionDef*, std::set<const ast::FunctionDef*>> callers;
  for (const ast::FunctionDef* f : in_file) {
    std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n))
        if (auto* fn = ast::as<ast::Name>(call->func))
          for (const ast::FunctionDef* g : in_file)
            if (g != f && g->name == fn->id) callers[g].insert(f);
      ast::for_each_child(const_cast<ast::Node*>(n), scan);
    };
    scan(f);
  }
  std::vector<const ast::FunctionDef*> order;
  std::set<const ast::FunctionDef*> done;
  while (order.size() < in_file.size()) {
    const ast::FunctionDef* next = nullptr;
    for (const ast::FunctionDef* f : in_file) {
      if (done.count(f)) continue;
      bool ready = true;
      for (const ast::FunctionDef* caller : callers[f]) ready = ready && done.count(caller) > 0;
      if (ready) {
        next = f;
        break;
      }
    }
    if (next == nullptr)  // a cycle: the first left, in file order
      for (const ast::FunctionDef* f : in_file)
        if (!done.count(f) && next == nullptr) next = f;
    order.push_back(next);
    done.insert(next);
  }
  return order;
}

void Lowerer::find_mode_effects(const std::vector<const ast::FunctionDef*>& functions) {
  for (int round = 0; round < 3; ++round) {  // effects through calls of other script functions
    for (const ast::FunctionDef* f : functions) {
      std::vector<ast::Arg*> params(f->args->posonlyargs.begin(), f->args->posonlyargs.end());
      params.insert(params.end(), f->args->args.begin(), f->args->args.end());
      params.insert(params.end(), f->args->kwonlyargs.begin(), f->args->kwonlyargs.end());
      for (ast::Arg* param : params) {
        std::string name(param->arg);
        bool changes = false;  // a train()/eval() of it, or a call passing it to a function that changes it
        std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
          if (n == nullptr || changes) return;
          if (auto* call = ast::as<ast::Call>(n)) {
            auto* m = ast::as<ast::Attribute>(call->func);
            auto* v = m ? ast::as<ast::Name>(m->value) : nullptr;
            changes = v && v->id == name && (m->attr == "train" || m->attr == "eval");
            auto* fn = ast::as<ast::Name>(call->func);
            auto g = fn ? script_functions_.find(std::string(fn->id)) : script_functions_.end();
            if (g != script_functions_.end() && script_mode_effects_.count(g->second))
              for (const auto& [param, arg] : bound_arguments(g->second, call))
                if (auto* an = ast::as<ast::Name>(arg); an && an->id == name) changes = true;
          }
          ast::for_each_child(const_cast<ast::Node*>(n), scan);
        };
        for (ast::StmtNode* st : f->body) scan(st);
        if (!changes) continue;
        // Its mode after the body: from statement-level train()/eval(), else unknown.
        Mode after = mode_after(f->body, name, Mode::Unknown);
        for (ast::StmtNode* st : f->body) {  // a later call that changes it makes it unknown
          auto* e = ast::as<ast::Expr>(st);
          auto* call = e ? ast::as<ast::Call>(e->value) : nullptr;
          auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
          if (fn && script_functions_.count(std::string(fn->id))) {
            for (ast::ExprNode* a : call->args)
              if (auto* an = ast::as<ast::Name>(a); an && an->id == name) after = Mode::Unknown;
          }
        }
        script_mode_effects_[f][name] = after;
      }
    }
  }
}

void Lowerer::record_parameter_modes(const ast::Call* call) {
  auto* fn = ast::as<ast::Name>(call->func);
  auto it = fn ? script_functions_.find(std::string(fn->id)) : script_functions_.end();
  if (it == script_functions_.end()) return;
  const ast::FunctionDef* g = it->second;
  std::vector<std::pair<std::string, const ast::ExprNode*>> passed = bound_arguments(g, call);
  for (const auto& [param, arg] : passed) {
    if (script_kind(arg) != ScriptKind::Model) continue;
    Mode mode = value_mode(arg);
    auto [at, fresh] = script_parameter_modes_[g].emplace(param, mode);
    if (!fresh && at->second != mode) at->second = Mode::Unknown;
  }
  // The models it changes the mode of are in the mode it leaves them in.
  if (auto effects = script_mode_effects_.find(g); effects != script_mode_effects_.end())
    for (const auto& [param, arg] : passed)
      if (auto e = effects->second.find(param); e != effects->second.end() && script_kind(arg) == ScriptKind::Model)
        script_modes_[syntax::unparse(arg)] = e->second;
}

std::vector<ast::StmtNode*> Lowerer::lower_training(const std::vector<ast::StmtNode*>& body,
                                                    const std::set<std::string>& read_elsewhere) {
  ScriptFacts facts;
  facts.tensorflow = tensorflow_alias();
  facts.mode_assumed = [this](const ast::Keyword* kw) { return assumed_modes_.count(kw) > 0; };
  facts.role_of = [this](const ast::ExprNode* e) {
    if (auto* n = ast::as<ast::Name>(e); n && script_functions_.count(std::string(n->id)))
      return TrainingRole::Function;
    switch (script_kind(e)) {
      case ScriptKind::Model:
        return TrainingRole::Model;
      case ScriptKind::Module:
        return TrainingRole::Module;
      case ScriptKind::Loss:
        return TrainingRole::Loss;
      case ScriptKind::Loader:
        return TrainingRole::Loader;
      case ScriptKind::Optimizer:
        return TrainingRole::Optimizer;
      case ScriptKind::Scheduler:
        return TrainingRole::Scheduler;
      default:
        return TrainingRole::Other;
    }
  };
  std::vector<ast::StmtNode*> fitted = fit_standard_loops(body, b_, facts, read_elsewhere, out_.helpers, out_.left_out);
  bool used = false;
  std::vector<ast::StmtNode*> out = insert_gradient_tapes(
      fitted, b_,
      [this](const ast::Node* at, std::string message) { error(diag::Kind::UnsupportedConstruct, at, std::move(message)); },
      used, tensorflow_alias());
  // The no_grad blocks no tape took: their statements.
  out = unmark_no_grad_blocks(out, b_, out_.left_out);
  if (used || out_.helpers.count("PyTorchTrainStep")) {  // a train_step has a tape too
    uses_tape_ = true;
    out_.helpers.insert("pytorch_backward");
  }
  return out;
}

std::vector<std::pair<std::string, const ast::ExprNode*>> Lowerer::bound_arguments(const ast::FunctionDef* g,
                                                                                   const ast::Call* call,
                                                                                   std::size_t skip) {
  std::vector<ast::Arg*> params(g->args->posonlyargs.begin(), g->args->posonlyargs.end());
  params.insert(params.end(), g->args->args.begin(), g->args->args.end());
  params.erase(params.begin(), params.begin() + static_cast<std::ptrdiff_t>(std::min(skip, params.size())));
  std::vector<std::pair<std::string, const ast::ExprNode*>> bound;
  for (std::size_t i = 0; i < call->args.size() && i < params.size(); ++i) {
    if (ast::is<ast::Starred>(call->args[i])) break;
    bound.emplace_back(std::string(params[i]->arg), call->args[i]);
  }
  for (ast::Keyword* kw : call->keywords)
    if (kw->arg.data() != nullptr) bound.emplace_back(std::string(kw->arg), kw->value);
  return bound;
}

ast::FunctionDef* Lowerer::rewrite_script_function(const ast::FunctionDef* f,
                                                   const std::map<std::string, ScriptKind>& params) {
  bool saved_mode = std::exchange(script_mode_, true);
  std::map<std::string, ScriptKind> globals = script_kinds_;
  std::map<std::string, ScriptKind> kinds = scan_script_kinds(f->body, params);
  for (const auto& [name, kind] : globals) kinds.emplace(name, kind);  // module names it reads
  std::map<std::string, ScriptKind> saved_kinds = std::exchange(script_kinds_, std::move(kinds));
  // Its model parameters start in the mode its calls pass them in; a module-level
  // model no code ever calls train()/eval() of is in training mode (PyTorch's
  // default) wherever it is used.
  std::map<std::string, Mode> saved_modes = std::exchange(script_modes_, script_parameter_modes_[f]);
  for (const auto& [name, mode] : script_global_modes_) script_modes_.emplace(name, mode);
  ast::FunctionDef* c = rewrite_function(f, false, false);
  c->body = b_.seq(lower_training({c->body.begin(), c->body.end()}, {}));
  script_modes_ = std::move(saved_modes);
  script_kinds_ = std::move(saved_kinds);
  script_mode_ = saved_mode;
  return c;
}

ast::ClassDef* Lowerer::lower_class(const ClassInfo& cls) {
  current_class_ = &cls;
  struct Reset {
    const ClassInfo*& c;
    ~Reset() { c = nullptr; }
  } reset{current_class_};
  auto* c = b_.clone(cls.node);
  bool top = false;
  for (const ModelInfo& m : out_.models)
    if (m.name == cls.node->name) top = m.top_level;
  std::vector<ast::ExprNode*> bases;
  for (std::size_t i = 0; i < cls.node->bases.size(); ++i) {
    ast::ExprNode* base = cls.node->bases[i];
    const std::string& path = cls.base_paths[i];
    auto* base_name = ast::as<ast::Name>(base);
    if (base_name != nullptr && model_class(base_name->id) != nullptr) bases.push_back(base);
    else if (path == "torch.nn.Module") bases.push_back(b_.dotted(top ? "keras.Model" : "keras.layers.Layer"));
    else if (path == "torch.nn.Sequential") bases.push_back(b_.dotted("keras.Sequential"));
    else if (const Entry* entry = catalog_.find_module(path); entry && !entry->subclass_base.empty()) {
      // A subclass of a torch.nn layer reads PyTorch's attributes (self.weight,
      // self.eps): it derives from the runtime class that has them.
      out_.helpers.insert(entry->subclass_base);
      bases.push_back(b_.name(entry->subclass_base));
    } else if (path == "torch.nn.ModuleDict") {
      // Keras has no dict of layers: a Layer with ModuleDict's methods (runtime helper).
      out_.helpers.insert("PyTorchModuleDict");
      bases.push_back(b_.name("PyTorchModuleDict"));
    } else if (is_torch_path(path)) {
      error(diag::Kind::UnsupportedConstruct, base, "subclassing `" + path + "` is not supported yet");
      bases.push_back(base);
    } else {
      bases.push_back(base);
    }
  }
  c->bases = b_.seq(bases);
  std::vector<ast::StmtNode*> body;
  for (std::size_t i = 0; i < cls.node->body.size(); ++i) {
    ast::StmtNode* s = cls.node->body[i];
    auto* f = ast::as<ast::FunctionDef>(s);
    // A def that a later def of the same name replaces (`@torch.jit._overload_method`
    // stubs before the real `forward`) never runs.
    bool replaced = false;
    for (std::size_t j = i + 1; f != nullptr && j < cls.node->body.size(); ++j)
      if (auto* g = ast::as<ast::FunctionDef>(cls.node->body[j]); g && g->name == f->name) replaced = true;
    if (replaced) {
      int first = f->loc.lineno;
      for (ast::ExprNode* d : f->decorator_list) first = std::min(first, d->loc.lineno);
      out_.left_out.emplace_back(first - 1, f->loc.end_lineno);
      continue;
    }
    if (f == nullptr) {
      if (auto* a = ast::as<ast::AnnAssign>(s); a && references_torch(a->annotation)) {
        if (a->value != nullptr) {
          auto* as = b_.assign(a->target, a->value);
          as->loc = s->loc;
          body.push_back(as);
        }
        continue;
      }
      body.push_back(s);
      continue;
    }
    auto u = units_.find({&cls, f});
    if (u != units_.end() && u->second.lowered != nullptr) {
      body.push_back(u->second.lowered);
      continue;
    }
    if (f->name == "forward") {
      body.push_back(unit(&cls, f).lowered);
      continue;
    }
    // A method Keras never runs goes with its comments; what was said about it too.
    auto leave_out = [&](diag::Kind kind, const std::string& why) {
      forget_diagnostics_in(f);
      error(kind, f, "left out method `" + std::string(f->name) + "` of class `" + std::string(cls.node->name) + "`: " + why);
      out_.left_out.emplace_back(f->loc.lineno - 1, f->loc.end_lineno);
    };
    if (init_only_methods_.count(std::string(f->name))) {
      leave_out(diag::Kind::DroppedInitialization,
                "only `self.apply(...)` runs it (weight initialisation; load_torch_state_dict sets the weights)");
      continue;
    }
    // PyTorch's state_dict hooks (torchvision's MLPBlock renames legacy keys): Keras
    // never calls them; load_torch_state_dict reads the keys the model has now.
    if (f->name == "_load_from_state_dict" || f->name == "_save_to_state_dict") {
      leave_out(diag::Kind::DroppedCode,
                "a PyTorch state_dict hook, which Keras never calls (load_torch_state_dict reads the "
                "state_dict keys of the current model)");
      continue;
    }
    // A method nothing in the class calls (nanoGPT's generate and
    // configure_optimizers, called by the user's own code) is converted where it
    // can be; one with no Keras form is left out with a warning instead of failing
    // the model.
    std::size_t errors_before = error_count();
    ast::FunctionDef* rewritten = rewrite_function(f, f->name == "__init__", true);
    bool unused = f->name != "__init__" && !called_in_class(f->name);
    bool leftover = false;
    if (unused) check_leftover_torch(rewritten, leftover);
    if (unused && error_count() > errors_before) {
      std::string first;
      for (const diag::Diagnostic& d : out_.diagnostics)
        if (d.severity == diag::Severity::Error && d.lineno >= f->loc.lineno && d.lineno <= f->loc.end_lineno) {
          first = d.message;
          break;
        }
      leave_out(diag::Kind::DroppedCode, "nothing in the class calls it and it has no Keras form (" + first + ")");
      continue;
    }
    body.push_back(rewritten);
  }
  // An inherited forward lowered differently for this class (it is the top-level
  // model, its base a block): its own `call`.
  if (const ast::FunctionDef* fwd = method(&cls, "forward")) {
    bool own = false;
    for (ast::StmtNode* s : cls.node->body) own = own || s == fwd;
    auto mine = units_.find({&cls, fwd});
    if (!own && mine != units_.end() && mine->second.lowered != nullptr) {
      const ClassInfo* owner = nullptr;
      for (const ClassInfo& k : classes_)
        for (ast::StmtNode* s : k.node->body)
          if (s == fwd) owner = &k;
      auto base = owner ? units_.find({owner, fwd}) : units_.end();
      bool same = base != units_.end() && base->second.lowered != nullptr &&
                  syntax::unparse(base->second.lowered) == syntax::unparse(mine->second.lowered);
      if (!same) body.push_back(mine->second.lowered);
    }
  }
  c->body = b_.seq(body);
  return c;
}

// A class that is not a model (a config, a helper) and uses PyTorch only in some
// methods or annotations: those methods are left out with a warning, torch
// annotations of fields become strings (a dataclass keeps its fields), method
// annotations are dropped. Null when the class needs PyTorch elsewhere (its
// bases, class-level statements): it is left out whole by the caller.
ast::ClassDef* Lowerer::rewrite_plain_class(const ast::ClassDef* cd) {
  if (!references_torch(const_cast<ast::ClassDef*>(cd))) return nullptr;  // kept as it is
  // A map-style torch.utils.data.Dataset (__len__, __getitem__) is a plain class:
  // the runtime's DataLoader takes any such object. Its methods are script code.
  std::vector<ast::ExprNode*> bases;
  bool dataset = false;
  for (ast::ExprNode* b : cd->bases) {
    auto p = resolve(b);
    if (p && (*p == "torch.utils.data.Dataset" || *p == "torch.utils.data.dataset.Dataset")) {
      dataset = true;
      continue;
    }
    if (references_torch(b)) return nullptr;
    bases.push_back(b);
  }
  for (ast::Keyword* k : cd->keywords)
    if (references_torch(k)) return nullptr;
  for (ast::ExprNode* d : cd->decorator_list)
    if (references_torch(d)) return nullptr;
  // A class of script code (a Trainer): its constructor's parameters have the
  // kinds its calls give them.
  auto ctor = script_classes_.find(std::string(cd->name));
  const ast::FunctionDef* init = ctor != script_classes_.end() && ctor->second != nullptr ? ctor->second : nullptr;
  bool script = dataset || init != nullptr;
  // What the methods store in `self.<name>` (a tensor made in __init__), for all of them.
  std::map<std::string, ScriptKind> attributes;
  for (ast::StmtNode* st : cd->body)
    if (auto* f = ast::as<ast::FunctionDef>(st); f && script)
      for (const auto& [name, kind] : scan_script_kinds(f->body, f == init ? script_params_[init] : std::map<std::string, ScriptKind>{}))
        if (name.starts_with("self.")) attributes.emplace(name, kind);
  // What its methods return, under "self.<method>()" (`loss = self.compute_loss(x, y)`:
  // a tensor); twice, as one method may return another's.
  for (int round = 0; round < 2 && script; ++round)
    for (ast::StmtNode* st : cd->body)
      if (auto* f = ast::as<ast::FunctionDef>(st); f && f != init)
        if (auto returns = return_kinds(f, scan_script_kinds(f->body, attributes)); returns && returns->size() == 1)
          attributes["self." + std::string(f->name) + "()"] = (*returns)[0];
  std::vector<ast::StmtNode*> body;
  std::vector<const ast::FunctionDef*> dropped;
  bool saved_plain = std::exchange(plain_self_, script);
  struct Restore {
    bool& flag;
    bool value;
    ~Restore() { flag = value; }
  } restore{plain_self_, saved_plain};
  for (ast::StmtNode* st : cd->body) {
    if (auto* f = ast::as<ast::FunctionDef>(st)) {
      std::map<std::string, ScriptKind> kinds = attributes;
      if (f == init)
        for (const auto& [name, kind] : script_params_[init]) kinds.emplace(name, kind);
      ast::FunctionDef* r = script ? rewrite_script_function(f, kinds) : rewrite_function(f, false, false);
      if (!references_torch(r)) {
        body.push_back(r);
        continue;
      }
      dropped.push_back(f);
      if (script) {
        // A method of script code that does not convert raises with the reason
        // (a Dataset's __init__ left out would fail later, far from its cause).
        std::string first = first_torch_reference(r);
        std::string why = "torch2keras could not convert method `" + std::string(f->name) + "` of class `" +
                          std::string(cd->name) + "` (" + opt_.filename + ":" + std::to_string(f->loc.lineno) + "): " +
                          (first.empty() ? std::string("it uses PyTorch") : "`" + first + "` is not converted");
        auto* stub = b_.clone(r);
        stub->decorator_list = {};
        stub->returns = nullptr;
        stub->body = b_.seq(std::vector<ast::StmtNode*>{b_.raise_stmt(b_.call("NotImplementedError", {b_.string(why)}))});
        body.push_back(stub);
      }
    } else if (auto* a = ast::as<ast::AnnAssign>(st); a && !references_torch(a->target) &&
                                                        (a->value == nullptr || !references_torch(a->value))) {
      auto* c = b_.clone(a);
      if (references_torch(a->annotation)) c->annotation = b_.string(syntax::unparse(a->annotation));
      body.push_back(c);
    } else if (references_torch(st)) {
      return nullptr;
    } else {
      body.push_back(st);
    }
  }
  if (body.empty()) return nullptr;
  for (const ast::FunctionDef* f : dropped) {
    if (script) {  // what kept it from converting stays said, as a warning (the rest converts)
      for (diag::Diagnostic& d : out_.diagnostics)
        if (d.lineno >= f->loc.lineno && d.lineno <= f->loc.end_lineno && d.severity == diag::Severity::Error)
          d.severity = diag::Severity::Warning;
    } else {
      forget_diagnostics_in(f);
    }
    error(diag::Kind::DroppedCode, f,
          "left out method `" + std::string(f->name) + "` of class `" + std::string(cd->name) +
              "`: it is not model code and uses PyTorch" + (script ? "; it raises NotImplementedError" : ""));
  }
  auto* c = b_.clone(cd);
  c->bases = b_.seq(bases);
  c->body = b_.seq(body);
  return c;
}

void Lowerer::check_leftover_torch(ast::Node* n, bool& found) {
  if (n == nullptr) return;
  if (refused_.count(n)) {  // reported as a whole
    found = true;
    return;
  }
  // getattr(nn, rnn_type): a torch class or function chosen by name at run time.
  if (auto* c = ast::as<ast::Call>(n); c && c->args.size() >= 2) {
    auto* fn = ast::as<ast::Name>(c->func);
    auto p = fn && fn->id == "getattr" && !scope_.binding("getattr") ? resolve(c->args[0]) : std::nullopt;
    if (p && is_torch_path(*p)) {
      found = true;
      error(diag::Kind::UnsupportedConstruct, n,
            "`" + syntax::unparse(c) + "` chooses a `" + *p +
                "` member by name at run time, which is not supported yet; name the candidates "
                "(`nn.LSTM(...) if rnn_type == \"LSTM\" else nn.GRU(...)`)");
      return;
    }
  }
  if (ast::is<ast::Name>(n) || ast::is<ast::Attribute>(n)) {
    auto* e = static_cast<ast::ExprNode*>(n);
    if (auto p = resolve(e); p && is_torch_path(*p)) {
      found = true;
      if (catalog_.find_function(*p) != nullptr || catalog_.find_module(*p) != nullptr)
        error(diag::Kind::UnsupportedOp, n,
              "`" + *p + "` is converted where it is called; used as a value (a function or class "
              "passed on, or inside a lambda) it is not supported yet");
      else
        error(diag::Kind::UnsupportedOp, n, "`" + *p + "` is not supported yet (no catalog entry)");
      return;
    }
    if (auto* name = ast::as<ast::Name>(n); name && dropped_names_.count(std::string(name->id))) {
      found = true;
      auto why = drop_reasons_.find(std::string(name->id));
      error(diag::Kind::UnsupportedOp, n,
            "`" + std::string(name->id) + "` " +
                (why != drop_reasons_.end() ? why->second
                                            : std::string("comes from a package-relative import, which is not "
                                                          "converted yet")));
      return;
    }
  }
  ast::for_each_child(n, [&](ast::Node* c) { check_leftover_torch(c, found); });
}

// The names a module-level statement binds (def, class, assignment targets).
std::vector<std::string> defined_names(const ast::StmtNode* s) {
  std::vector<std::string> out;
  if (auto* f = ast::as<ast::FunctionDef>(s)) out.emplace_back(f->name);
  else if (auto* c = ast::as<ast::ClassDef>(s)) out.emplace_back(c->name);
  else if (auto* a = ast::as<ast::Assign>(s)) {
    for (ast::ExprNode* t : a->targets)
      if (auto* n = ast::as<ast::Name>(t)) out.emplace_back(n->id);
  } else if (auto* a = ast::as<ast::AnnAssign>(s)) {
    if (auto* n = ast::as<ast::Name>(a->target)) out.emplace_back(n->id);
  }
  return out;
}

// The generated module binds `keras`, `layers`, `ops` and `np` at module level;
// the input's own variables, parameters and functions with those names are
// renamed while lowering (`layers = []` -> `layers_ = []`), unless an import
// binds the name to the same module; `layers` and `ops` bound only in functions
// get their names back afterwards (restore_local_names).
void Lowerer::rename_reserved_names() {
  static const std::map<std::string_view, std::string_view> modules = {
      {"keras", "keras"}, {"layers", "keras.layers"}, {"ops", "keras.ops"}, {"np", "numpy"}};
  std::map<std::string, std::string> renames;
  for (auto& [name, path] : modules) {
    auto bound = scope_.binding(name);
    if (!bound || *bound != path) renames[std::string(name)] = std::string(name) + "_";
  }
  // `layers` and `ops` bound only inside functions (a constructor parameter
  // `layers=2`) get their names back after lowering (restore_local_names), the
  // generated code of those functions reading keras.layers / keras.ops.
  std::set<std::string> module_level;
  for (const ast::StmtNode* st : module_->body) {
    std::vector<std::string> names;
    if (auto* a = ast::as<ast::Assign>(st))
      for (const ast::ExprNode* t : a->targets) ast::collect_names(const_cast<ast::ExprNode*>(t), module_level);
    if (auto* f = ast::as<ast::FunctionDef>(st)) module_level.insert(std::string(f->name));
    if (auto* c = ast::as<ast::ClassDef>(st)) module_level.insert(std::string(c->name));
    if (auto* f = ast::as<ast::For>(st)) ast::collect_names(f->target, module_level);
  }
  bool taken = false;  // the input uses a renamed spelling itself (`layers_`): keep the renames
  std::function<void(const ast::Node*)> spelled = [&](const ast::Node* n) {
    if (auto* x = ast::as<ast::Name>(n); x && (x->id == "layers_" || x->id == "ops_")) taken = true;
    if (auto* x = ast::as<ast::Arg>(n); x && (x->arg == "layers_" || x->arg == "ops_")) taken = true;
    ast::for_each_child(const_cast<ast::Node*>(n), spelled);
  };
  spelled(module_);
  for (const char* name : {"layers", "ops"})
    if (renames.count(name) && !module_level.count(name) && !scope_.binding(name) && !taken)
      locally_renamed_.insert(name);
  std::function<void(ast::Node*)> walk = [&](ast::Node* n) {
    if (n == nullptr) return;
    if (auto* name = ast::as<ast::Name>(n)) {
      if (auto it = renames.find(std::string(name->id)); it != renames.end() && !scope_.binding(name->id))
        name->id = b_.arena().copy_string(it->second);
    } else if (auto* arg = ast::as<ast::Arg>(n)) {
      if (auto it = renames.find(std::string(arg->arg)); it != renames.end())
        arg->arg = b_.arena().copy_string(it->second);
    }
    ast::for_each_child(n, walk);
  };
  walk(const_cast<ast::Module*>(module_));
}

void Lowerer::rename_call_parameters() {
  for (const ClassInfo& c : classes_) {
    if (c.torch_base == analysis::TorchBase::None) continue;
    const ast::FunctionDef* fwd = nullptr;
    for (ast::StmtNode* st : c.node->body)
      if (auto* f = ast::as<ast::FunctionDef>(st); f && f->name == "forward") fwd = f;
    if (fwd == nullptr) continue;
    std::set<std::string> taken;
    for (const auto* list : {&fwd->args->posonlyargs, &fwd->args->args, &fwd->args->kwonlyargs})
      for (const ast::Arg* a : *list)
        if (a->arg == "mask" || a->arg == "training") taken.insert(std::string(a->arg));
    if (taken.empty()) continue;
    // Every such name in the method is the parameter (or a variable of a nested
    // function, renamed alike: the same program).
    std::function<void(ast::Node*)> walk = [&](ast::Node* n) {
      if (auto* name = ast::as<ast::Name>(n); name && taken.count(std::string(name->id)))
        name->id = b_.arena().copy_string(std::string(name->id) + "_");
      if (auto* arg = ast::as<ast::Arg>(n); arg && taken.count(std::string(arg->arg)))
        arg->arg = b_.arena().copy_string(std::string(arg->arg) + "_");
      ast::for_each_child(n, walk);
    };
    walk(const_cast<ast::FunctionDef*>(fwd));
    call_params_renamed_[&c] = std::move(taken);
  }
}

void Lowerer::restore_local_names() {
  if (locally_renamed_.empty()) return;
  auto renamed = [&](std::string_view id) -> std::string {
    if (id.size() > 1 && id.back() == '_') {
      std::string base(id.substr(0, id.size() - 1));
      if (locally_renamed_.count(base)) return base;
    }
    return "";
  };
  // Whether a function binds one of the names (as a parameter or a local).
  std::function<bool(const ast::Node*)> binds = [&](const ast::Node* n) {
    if (auto* a = ast::as<ast::Arg>(n); a && !renamed(a->arg).empty()) return true;
    if (auto* x = ast::as<ast::Name>(n); x && !renamed(x->id).empty()) return true;
    bool any = false;
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { any = any || binds(c); });
    return any;
  };
  // Inside such a function: keras module references qualified, names restored.
  std::function<void(ast::Node*)> fix = [&](ast::Node* n) {
    if (n == nullptr) return;
    if (auto* a = ast::as<ast::Attribute>(n))
      if (auto* v = ast::as<ast::Name>(a->value); v && locally_renamed_.count(std::string(v->id)))
        a->value = b_.attr(b_.name("keras"), v->id);
    if (auto* x = ast::as<ast::Name>(n))
      if (std::string base = renamed(x->id); !base.empty()) x->id = b_.arena().copy_string(base);
    if (auto* a = ast::as<ast::Arg>(n))
      if (std::string base = renamed(a->arg); !base.empty()) a->arg = b_.arena().copy_string(base);
    if (auto* k = ast::as<ast::Keyword>(n); k && k->arg.data() != nullptr)
      if (std::string base = renamed(k->arg); !base.empty()) k->arg = b_.arena().copy_string(base);
    ast::for_each_child(n, fix);
  };
  // Keywords anywhere (`Net(layers_=2)`, a call of a renamed parameter's owner).
  std::function<void(ast::Node*)> keywords = [&](ast::Node* n) {
    if (n == nullptr) return;
    if (auto* k = ast::as<ast::Keyword>(n); k && k->arg.data() != nullptr)
      if (std::string base = renamed(k->arg); !base.empty()) k->arg = b_.arena().copy_string(base);
    if (auto* f = ast::as<ast::FunctionDef>(n); f && binds(f)) {
      fix(f);
      return;
    }
    ast::for_each_child(n, keywords);
  };
  for (ast::StmtNode* st : out_.body) keywords(st);
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (ModelInfo& m : out_.models)
    for (const std::string& base : locally_renamed_)
      for (std::string* text : {&m.signature, &m.call_args})
        for (std::size_t at = text->find(base + "_"); at != std::string::npos; at = text->find(base + "_", at + 1)) {
          std::size_t end = at + base.size() + 1;
          if ((at > 0 && ident((*text)[at - 1])) || (end < text->size() && ident((*text)[end]))) continue;
          text->erase(at + base.size(), 1);
        }
}

LowerOutput Lowerer::run() {
  // backward(), or train() (a model run in training mode: BatchNorm statistics
  // recalibrated with forward passes alone update running_var too).
  std::function<void(const ast::Node*)> find_training = [&](const ast::Node* n) {
    if (n == nullptr || trains_) return;
    auto* call = ast::as<ast::Call>(n);
    auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
    bool train = m != nullptr && m->attr == "train" && call->keywords.empty() &&
                 (call->args.empty() || (call->args.size() == 1 && syntax::unparse(call->args[0]) == "True"));
    trains_ = m != nullptr && ((m->attr == "backward" && call->args.empty()) || train);
    ast::for_each_child(const_cast<ast::Node*>(n), find_training);
  };
  find_training(module_);
  rename_reserved_names();
  rename_call_parameters();
  for (ast::StmtNode* s : module_->body) {
    if (auto* from = ast::as<ast::ImportFrom>(s); from && from->level > 0) {
      for (ast::Alias* a : from->names)
        dropped_names_.insert(std::string(a->asname.data() ? a->asname : a->name));
    }
  }
  // Which model classes are top level (keras.Model): those not used by another
  // model class. A class passed around as a value (`_resnet(BasicBlock, ...)`)
  // is a building block of another model.
  std::set<std::string> used;
  std::string_view current_class;  // `super(Net, self)` inside Net is not a use
  std::function<void(ast::Node*, bool)> scan_uses = [&](ast::Node* n, bool in_model) {
    if (n == nullptr) return;
    if (auto* call = ast::as<ast::Call>(n)) {
      for (ast::ExprNode* a : call->args)
        if (auto* nm = ast::as<ast::Name>(a); nm && model_class(nm->id) && nm->id != current_class)
          internal_classes_.insert(std::string(nm->id));
      for (ast::Keyword* kw : call->keywords)
        if (auto* nm = ast::as<ast::Name>(kw->value); nm && model_class(nm->id) && nm->id != current_class)
          internal_classes_.insert(std::string(nm->id));
    }
    if (auto* nm = ast::as<ast::Name>(n); nm && in_model && model_class(nm->id) && nm->id != current_class)
      used.insert(std::string(nm->id));
    ast::for_each_child(n, [&](ast::Node* c) { scan_uses(c, in_model); });
  };
  std::set<const ast::FunctionDef*> model_functions;
  for (ast::StmtNode* s : module_->body) {
    if (auto* cd = ast::as<ast::ClassDef>(s)) {
      bool is_model = model_class(cd->name) != nullptr;
      current_class = cd->name;
      for (ast::StmtNode* x : cd->body) scan_uses(x, is_model);
      current_class = {};
    } else {
      scan_uses(s, false);
    }
  }
  // Classes that are submodules of another model class, however they get there
  // (`_stack(...)` building a Sequential of blocks in a module function).
  std::set<const ClassInfo*> submodules;
  for (const ClassInfo& c : classes_) {
    if (c.torch_base == analysis::TorchBase::None) continue;
    for (const ClassInfo* sub : values_.submodule_classes(&c))
      if (sub != &c) submodules.insert(sub);
  }
  for (const ClassInfo& c : classes_) {
    if (c.torch_base == analysis::TorchBase::None) continue;
    ModelInfo m;
    m.name = std::string(c.node->name);
    // A base of another model class without a forward of its own
    // (ConvNormActivation) only builds layers; one with a forward may be used as
    // a model itself, and a subclass lowered differently gets its own `call`.
    bool is_base = false;
    bool own_forward = false;
    for (ast::StmtNode* st : c.node->body)
      if (auto* f = ast::as<ast::FunctionDef>(st); f && f->name == "forward") own_forward = true;
    for (const ClassInfo& other : classes_)
      for (ast::ExprNode* b : other.node->bases)
        if (auto* n = ast::as<ast::Name>(b); n && n->id == c.node->name && !own_forward) is_base = true;
    m.top_level = !used.count(m.name) && !internal_classes_.count(m.name) && !submodules.count(&c) && !is_base &&
                  !opt_.imported_elsewhere.count(m.name);
    if (const ast::FunctionDef* init = method(&c, "__init__")) {
      auto* args = strip_arguments(init->args, false);
      m.signature = "(" + syntax::unparse(args) + ")";
      // Model(name, ..., name=default); *args and **kwargs left out.
      const ast::Arguments* a = init->args;
      std::vector<ast::Arg*> positional(a->posonlyargs.begin(), a->posonlyargs.end());
      positional.insert(positional.end(), a->args.begin(), a->args.end());
      std::size_t first_default = positional.size() - a->defaults.size();
      std::vector<ast::ExprNode*> call_args;
      std::vector<ast::Keyword*> call_keywords;
      for (std::size_t i = 1; i < positional.size(); ++i) {
        if (i < first_default) call_args.push_back(b_.name(positional[i]->arg));
        else call_keywords.push_back(b_.keyword(positional[i]->arg, rewrite_ctor_expr(a->defaults[i - first_default])));
      }
      for (std::size_t i = 0; i < a->kwonlyargs.size(); ++i)
        call_keywords.push_back(b_.keyword(a->kwonlyargs[i]->arg,
                                           a->kw_defaults[i] ? rewrite_ctor_expr(a->kw_defaults[i]) : b_.name("...")));
      std::string call = syntax::unparse(b_.call(b_.name(m.name), call_args, call_keywords));
      m.call_args = call.substr(m.name.size() + 1, call.size() - m.name.size() - 2);
    } else {
      m.signature = "()";
    }
    out_.models.push_back(m);
  }
  // Pass 2: every forward path, callees first through `unit`. Top-level models
  // go first, so that a block is lowered at its first call (which may pass it a
  // list of tensors); blocks nothing calls follow on their own.
  for (int round = 0; round < 2; ++round) {
    for (const ClassInfo& c : classes_) {
      if (c.torch_base == analysis::TorchBase::None) continue;
      bool top = false;
      for (const ModelInfo& m : out_.models)
        if (m.name == c.node->name) top = m.top_level;
      if (top != (round == 0)) continue;
      if (const ast::FunctionDef* fwd = method(&c, "forward")) {
        bool own = false;
        for (ast::StmtNode* s : c.node->body) own = own || s == fwd;
        // A top-level model that inherits forward gets its own lowering (its
        // inputs and outputs are in the io layout; the base's may not be).
        if (own || top) unit(&c, fwd);
      }
    }
  }
  // Methods nothing in the file calls but the user's code may (the translation
  // tutorial's encode/decode, a `project` head): lowered as forward code is, when
  // they run modules of the class; a method that does not convert so falls back to
  // the constructor-code rewriting of lower_class (and may be left out there).
  for (const ClassInfo& c : classes_) {
    if (c.torch_base == analysis::TorchBase::None) continue;
    for (ast::StmtNode* st : c.node->body) {
      auto* f = ast::as<ast::FunctionDef>(st);
      if (f == nullptr || f->name == "forward" || f->name.starts_with("__") || f->args->args.size() < 2 ||
          called_in_class(f->name) || units_.count({&c, f}) || !f->decorator_list.empty())
        continue;
      bool runs_modules = false;
      std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
        if (runs_modules || n == nullptr) return;
        // A call of self.<module> or of something read from one (self.transformer.encoder).
        if (auto* call = ast::as<ast::Call>(n)) {
          const ast::ExprNode* e = call->func;
          while (auto* a = ast::as<ast::Attribute>(e)) {
            if (auto* v = ast::as<ast::Name>(a->value); v && v->id == "self") {
              std::optional<ModuleDesc> d = self_module(&c, a);
              runs_modules = runs_modules || (d && d->kind != ModuleDesc::Unknown && d->kind != ModuleDesc::None);
              break;
            }
            e = a->value;
          }
        }
        ast::for_each_child(const_cast<ast::Node*>(n), scan);
      };
      scan(f);
      if (!runs_modules) continue;
      std::size_t errors_before = error_count();
      unit(&c, f);
      if (error_count() > errors_before) {
        forget_diagnostics_in(f);
        units_.erase({&c, f});
      }
    }
  }
  // Module-level functions that model classes call.
  std::set<std::string> called;
  std::function<void(ast::Node*)> scan_calls = [&](ast::Node* n) {
    if (n == nullptr) return;
    if (auto* nm = ast::as<ast::Name>(n)) called.insert(std::string(nm->id));
    ast::for_each_child(n, scan_calls);
  };
  for (const ClassInfo& c : classes_)
    if (c.torch_base != analysis::TorchBase::None) scan_calls(const_cast<ast::ClassDef*>(c.node));

  // Script code: the functions no model class calls and the module-level
  // statements that bind nothing model code reads (the data and training code).
  std::set<const ast::FunctionDef*> script_functions;
  std::set<const ast::StmtNode*> script_statements;
  {
    std::vector<const ast::FunctionDef*> functions;
    std::vector<ast::StmtNode*> statements;
    for (ast::StmtNode* s : module_->body) {
      // A plain class no model uses, with PyTorch in it and a constructor.
      if (auto* cd = ast::as<ast::ClassDef>(s); cd && !opt_.hidden.count(s) && !called.count(std::string(cd->name)) &&
                                                 cd->bases.empty() && references_torch(cd)) {
        bool model = false;
        for (const ClassInfo& c : classes_) model = model || (c.node == cd && c.torch_base != analysis::TorchBase::None);
        for (ast::StmtNode* st : cd->body)
          if (auto* init = ast::as<ast::FunctionDef>(st); init && !model && init->name == "__init__")
            script_classes_[std::string(cd->name)] = init;
      }
      if (opt_.hidden.count(s) || ast::is<ast::Import>(s) || ast::is<ast::ImportFrom>(s) || ast::is<ast::ClassDef>(s))
        continue;
      bool needed = false;
      for (const std::string& n : defined_names(s)) needed = needed || called.count(n) > 0;
      if (needed) continue;
      if (auto* f = ast::as<ast::FunctionDef>(s)) {
        if (auto u = units_.find({nullptr, f}); u != units_.end() && u->second.lowered) continue;
        functions.push_back(f);
        script_functions.insert(f);
      } else {
        statements.push_back(s);
        script_statements.insert(s);
      }
    }
    infer_script_parameters(functions, statements);
    // The names functions read without binding them: module-level names.
    for (ast::StmtNode* st : module_->body)
      if (auto* f = ast::as<ast::FunctionDef>(st)) {
        std::set<std::string> all, bound;
        ast::collect_names(f, all);
        std::function<void(const ast::Node*)> binds = [&](const ast::Node* n) {
          if (auto* name = ast::as<ast::Name>(n); name && name->ctx == ast::ExprContext::Store)
            bound.insert(std::string(name->id));
          if (auto* arg = ast::as<ast::Arg>(n)) bound.insert(std::string(arg->arg));
          ast::for_each_child(const_cast<ast::Node*>(n), binds);
        };
        binds(f);
        for (const std::string& n : all)
          if (!bound.count(n)) module_reads_.insert(n);
      }
    for (const ast::FunctionDef* f : functions) script_functions_[std::string(f->name)] = f;
    // Module-level models made by a constructor whose train()/eval() nothing calls.
    std::set<std::string> mode_set;
    std::function<void(const ast::Node*)> scan_modes = [&](const ast::Node* n) {
      if (n == nullptr) return;
      if (auto* call = ast::as<ast::Call>(n))
        if (auto* m = ast::as<ast::Attribute>(call->func); m && (m->attr == "train" || m->attr == "eval"))
          mode_set.insert(syntax::unparse(m->value));
      ast::for_each_child(const_cast<ast::Node*>(n), scan_modes);
    };
    scan_modes(module_);
    for (ast::StmtNode* st : statements)
      if (auto* a = ast::as<ast::Assign>(st); a && a->targets.size() == 1)
        if (auto* n = ast::as<ast::Name>(a->targets[0]); n && !mode_set.count(std::string(n->id)))
          if (script_kind(a->value) == ScriptKind::Model && value_mode(a->value) == Mode::Train)
            script_global_modes_[std::string(n->id)] = Mode::Train;
    script_globals_ = scan_script_kinds(b_.seq(statements), {});
  }

  // Script code is rewritten before the rest of pass 3: the module-level
  // statements in order (the models' modes flow through them), then the script
  // functions callers first, so that a function's model parameters start in the
  // mode its calls pass them in (script_parameter_modes_).
  std::vector<const ast::FunctionDef*> script_order = callers_first(script_functions);
  find_mode_effects(script_order);
  std::map<const ast::StmtNode*, std::vector<ast::StmtNode*>> script_results;
  for (ast::StmtNode* s : module_->body) {
    if (!script_statements.count(s)) continue;
    script_mode_ = true;
    script_kinds_ = script_globals_;
    std::set<std::string> read_elsewhere = module_reads_;
    for (const ast::StmtNode* other : script_statements)
      if (other != s) ast::collect_names(other, read_elsewhere);
    script_results[s] =
        lower_training(rewrite_ctor_body(b_.seq(std::vector<ast::StmtNode*>{s}), false), read_elsewhere);
    script_mode_ = false;
    script_kinds_.clear();
  }
  for (const ast::FunctionDef* f : script_order) {
    script_kinds_ = script_globals_;
    script_results[f] = {rewrite_script_function(f, script_params_[f])};
    script_kinds_.clear();
  }

  // Pass 3. The module docstring goes into the generated one (emit).
  std::vector<ast::StmtNode*> origins;  // the input statement of each out_.body statement
  for (ast::StmtNode* s : module_->body) {
    if (s == module_->body[0] && ast::is<ast::Expr>(s) && ast::is<ast::Constant>(static_cast<ast::Expr*>(s)->value)) {
      auto* c = static_cast<ast::Constant*>(static_cast<ast::Expr*>(s)->value);
      if (c->value.kind == ast::ConstantValue::Kind::Str) {
        out_.docstring = std::string(c->value.text);
        continue;
      }
    }
    if (ast::is<ast::Import>(s) || ast::is<ast::ImportFrom>(s)) {
      bool torch_import = false;
      if (auto* im = ast::as<ast::Import>(s)) {
        for (ast::Alias* a : im->names)
          torch_import = torch_import || is_torch_path(std::string(a->name));
      } else {
        auto* from = static_cast<ast::ImportFrom*>(s);
        std::string mod = from->module.data() ? std::string(from->module) : "";
        torch_import = from->level == 0 && is_torch_path(mod);
        if (from->level > 0) torch_import = true;  // package-relative: see kept_imports
      }
      // `import numpy as np` / `import keras`: the generated module's own imports.
      bool header_import = false;
      if (auto* im = ast::as<ast::Import>(s); im && im->names.size() == 1) {
        std::string name(im->names[0]->name), as(im->names[0]->asname.data() ? im->names[0]->asname : "");
        header_import = (name == "numpy" && as == "np") || (name == "keras" && as.empty());
      }
      if (!torch_import && !header_import) out_.body.push_back(s), origins.push_back(s);
      continue;
    }
    if (opt_.hidden.count(s)) continue;  // written by its own file's conversion
    if (auto* cd = ast::as<ast::ClassDef>(s)) {
      if (const ClassInfo* ci = model_class(cd->name)) {
        out_.body.push_back(lower_class(*ci));
        origins.push_back(s);
        continue;
      }
      if (ast::ClassDef* plain = rewrite_plain_class(cd)) {
        out_.body.push_back(plain);
        origins.push_back(s);
        continue;
      }
    }
    ast::StmtNode* converted = s;
    std::vector<ast::StmtNode*> produced;  // what a script statement became (nothing: model.train())
    bool script = false;
    bool needed = false;
    if (auto* f = ast::as<ast::FunctionDef>(s); f && script_functions.count(f)) {
      converted = script_results[s][0];
    } else if (auto* f = ast::as<ast::FunctionDef>(s)) {
      auto u = units_.find({nullptr, f});
      converted = u != units_.end() && u->second.lowered ? u->second.lowered : rewrite_function(f, false, false);
      needed = called.count(std::string(f->name)) > 0;
    } else if (script_statements.count(s)) {
      script = true;
      produced = script_results[s];
    } else if (auto* a = ast::as<ast::Assign>(s)) {
      auto* c = b_.clone(a);
      c->value = rewrite_ctor_expr(a->value);
      converted = c;
      for (ast::ExprNode* t : a->targets)
        if (auto* n = ast::as<ast::Name>(t)) needed = needed || called.count(std::string(n->id)) > 0;
    }
    // A custom gradient (torch.autograd.Function subclass): an error, here and
    // where it is used.
    if (auto* cd = ast::as<ast::ClassDef>(s)) {
      bool autograd = false;
      for (ast::ExprNode* base : cd->bases) autograd = autograd || resolve(base).value_or("") == "torch.autograd.Function";
      if (autograd) {
        error(diag::Kind::UnsupportedConstruct, s,
              "`" + std::string(cd->name) + "` is a torch.autograd.Function (a custom gradient), which is not "
              "converted yet");
        dropped_names_.insert(std::string(cd->name));
        drop_reasons_[std::string(cd->name)] =
            "is a torch.autograd.Function (a custom gradient), which is not converted yet";
        continue;
      }
    }
    // Script code that does not convert (an error of its own, or PyTorch left in
    // it) is left out with warnings that say why: the models still convert.
    bool script_code = script || (ast::is<ast::FunctionDef>(s) && script_functions.count(static_cast<ast::FunctionDef*>(s)));
    // Its diagnostics: those on its lines.
    auto own = [&](const diag::Diagnostic& d) {
      return script_code && d.lineno >= s->loc.lineno && d.lineno <= s->loc.end_lineno;
    };
    bool failed = false;
    for (const diag::Diagnostic& d : out_.diagnostics) failed = failed || (own(d) && d.severity == diag::Severity::Error);
    if (script && !failed) {
      bool tied = false;
      for (ast::StmtNode* p : produced) tied = tied || references_torch(p);
      if (!tied) {
        for (ast::StmtNode* p : produced) out_.body.push_back(p), origins.push_back(s);
        continue;
      }
    }
    // Not model code and still tied to PyTorch: left out with a warning.
    if ((!needed && references_torch(converted)) || failed) {
      std::string what = ast::is<ast::FunctionDef>(s) ? "function `" + std::string(static_cast<ast::FunctionDef*>(s)->name) + "`"
                         : ast::is<ast::ClassDef>(s) ? "class `" + std::string(static_cast<ast::ClassDef*>(s)->name) + "`"
                                                     : std::string("this statement");
      if (!script_code) forget_diagnostics_in(s);
      std::string reason = "it is not model code and uses PyTorch";
      if (failed) {
        reason = "it does not convert (the warnings in it say where)";
      } else if (script_code) {  // what kept it from converting
        std::string first;
        for (ast::StmtNode* p : produced.empty() ? std::vector<ast::StmtNode*>{converted} : produced)
          if (first.empty()) first = first_torch_reference(p);
        if (!first.empty()) reason = "`" + first + "` is not converted (no catalog entry, or left out itself)";
      }
      for (diag::Diagnostic& d : out_.diagnostics)
        if (own(d) && d.severity == diag::Severity::Error) d.severity = diag::Severity::Warning;
      // A script function or the `if __name__ == "__main__":` block becomes a stub
      // that raises with the reason: running the script stops there, loudly,
      // and the code calling the function still converts.
      auto* main_guard = ast::as<ast::If>(s);
      if (auto* cmp = main_guard ? ast::as<ast::Compare>(main_guard->test) : nullptr;
          !cmp || syntax::unparse(cmp) != "__name__ == '__main__'")
        main_guard = nullptr;
      auto* fn = ast::as<ast::FunctionDef>(s);
      // So does a module-level statement of training code: one making a model, a
      // loader or an optimizer, or a block that trains (backward(), step()); the
      // script must not go on and train nothing. Other statements (a metadata
      // dict, `print(torch.__version__)`) are only left out.
      bool trains = false;
      std::function<void(const ast::Node*)> scan = [&](const ast::Node* n) {
        if (auto* c = ast::as<ast::Call>(n))
          if (auto* m = ast::as<ast::Attribute>(c->func); m && (m->attr == "backward" || m->attr == "step"))
            trains = true;
        ast::for_each_child(const_cast<ast::Node*>(n), scan);
      };
      if (!ast::is<ast::Assign>(s)) scan(s);
      if (auto* a = ast::as<ast::Assign>(s)) {
        script_kinds_ = script_globals_;
        ScriptKind k = script_kind(a->value);
        script_kinds_.clear();
        trains = k == ScriptKind::Model || k == ScriptKind::Loader || k == ScriptKind::Optimizer;
      }
      bool statement_stub = script && fn == nullptr && main_guard == nullptr && trains;
      if (statement_stub) {
        std::string why = "torch2keras could not convert the statement at " + opt_.filename + ":" +
                          std::to_string(s->loc.lineno) + ": " + reason;
        auto* raise = b_.raise_stmt(b_.call("NotImplementedError", {b_.string(why)}));
        raise->loc = s->loc;
        error(diag::Kind::DroppedCode, s, "left out " + what + ": " + reason + "; it raises NotImplementedError");
        out_.left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
        out_.body.push_back(raise);
        origins.push_back(s);
        for (const std::string& n : defined_names(s)) {
          dropped_names_.insert(n);
          drop_reasons_[n] = "was left out (it is not model code and uses PyTorch)";
        }
        continue;
      }
      if (script_code && (fn != nullptr || main_guard != nullptr)) {
        std::string name = fn ? "`" + std::string(fn->name) + "`" : std::string("the `__main__` block");
        auto* raise = b_.raise_stmt(b_.call("NotImplementedError", {b_.string(
            "torch2keras could not convert " + name + " (" + opt_.filename + ":" + std::to_string(s->loc.lineno) +
            "): " + reason)}));
        ast::StmtNode* stub = nullptr;
        if (fn != nullptr) {
          auto* c = b_.clone(fn);
          c->args = strip_arguments(fn->args, false);
          c->returns = nullptr;
          c->decorator_list = {};
          c->body = b_.seq(std::vector<ast::StmtNode*>{raise});
          stub = c;
        } else {
          auto* c = b_.clone(main_guard);
          c->body = b_.seq(std::vector<ast::StmtNode*>{raise});
          c->orelse = {};
          stub = c;
        }
        error(diag::Kind::DroppedCode, s, "left out " + what + ": " + reason + "; it raises NotImplementedError");
        out_.left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
        out_.body.push_back(stub);
        origins.push_back(s);
        continue;
      }
      error(diag::Kind::DroppedCode, s, "left out " + what + ": " + reason);
      for (const std::string& n : defined_names(s)) {
        dropped_names_.insert(n);
        drop_reasons_[n] = "was left out (it is not model code and uses PyTorch)";
      }
      continue;
    }
    out_.body.push_back(converted);
    origins.push_back(s);
  }
  // Code that uses what was left out goes too (a builder annotated with a
  // left-out weights class would fail at import).
  for (bool again = true; again;) {
    again = false;
    for (std::size_t i = 0; i < out_.body.size(); ++i) {
      ast::StmtNode* s = out_.body[i];
      if (!(ast::is<ast::FunctionDef>(s) || ast::is<ast::Assign>(s) || ast::is<ast::ClassDef>(s))) continue;
      if (auto* cd = ast::as<ast::ClassDef>(s); cd && model_class(cd->name)) continue;
      std::vector<std::string> names = defined_names(s);
      bool needed = false;
      for (const std::string& n : names) needed = needed || called.count(n) > 0;
      if (needed || !references_torch(s)) continue;
      forget_diagnostics_in(origins[i]);
      error(diag::Kind::DroppedCode, origins[i],
            "left out `" + (names.empty() ? std::string("this statement") : names[0]) +
                "`: it uses code that was left out");
      for (const std::string& n : names) {
        dropped_names_.insert(n);
        drop_reasons_[n] = "was left out (it uses code that was left out)";
      }
      out_.body.erase(out_.body.begin() + static_cast<std::ptrdiff_t>(i));
      origins.erase(origins.begin() + static_cast<std::ptrdiff_t>(i));
      again = true;
      break;
    }
  }
  // `__all__` names only what the Keras module defines (`from m import *` would
  // fail on a left-out name).
  for (ast::StmtNode*& s : out_.body) {
    auto* a = ast::as<ast::Assign>(s);
    auto* t = a && a->targets.size() == 1 ? ast::as<ast::Name>(a->targets[0]) : nullptr;
    auto* l = t && t->id == "__all__" ? ast::as<ast::List>(a->value) : nullptr;
    if (l == nullptr) continue;
    std::vector<ast::ExprNode*> kept;
    for (ast::ExprNode* x : l->elts) {
      auto* c = ast::as<ast::Constant>(x);
      bool gone = c && c->value.kind == ast::ConstantValue::Kind::Str && dropped_names_.count(std::string(c->value.text));
      if (!gone) kept.push_back(x);
    }
    if (kept.size() == l->elts.size()) continue;
    auto* copy = b_.clone(a);
    copy->value = b_.list(kept);
    s = copy;
  }
  // Layer factories after the input's own imports.
  std::size_t at = 0;
  while (at < out_.body.size() && (ast::is<ast::Import>(out_.body[at]) || ast::is<ast::ImportFrom>(out_.body[at]))) ++at;
  out_.body.insert(out_.body.begin() + static_cast<std::ptrdiff_t>(at), factory_defs_.begin(), factory_defs_.end());
  out_.body.insert(out_.body.begin() + static_cast<std::ptrdiff_t>(at), opt_.kept_imports.begin(),
                   opt_.kept_imports.end());
  bool found = false;
  for (ast::StmtNode* s : out_.body) check_leftover_torch(s, found);
  restore_local_names();
  // One diagnostic per place and code (an unconverted call is also leftover torch).
  std::vector<diag::Diagnostic> unique;
  for (diag::Diagnostic& d : out_.diagnostics) {
    bool seen = false;
    // An unconverted callee after the error that explains it is no news.
    for (const diag::Diagnostic& u : unique)
      seen = seen || ((u.kind == d.kind || (d.kind == diag::Kind::UnsupportedOp &&
                                            u.severity == diag::Severity::Error)) &&
                      u.lineno == d.lineno && u.col_offset == d.col_offset);
    if (!seen) unique.push_back(std::move(d));
  }
  // In source order, as a compiler reports; file-level ones (line 0) last.
  std::stable_sort(unique.begin(), unique.end(), [](const diag::Diagnostic& a, const diag::Diagnostic& b) {
    auto line = [](const diag::Diagnostic& d) { return d.lineno > 0 ? d.lineno : std::numeric_limits<int32_t>::max(); };
    return line(a) < line(b) || (line(a) == line(b) && a.col_offset < b.col_offset);
  });
  out_.diagnostics = std::move(unique);
  out_.uses_tensorflow = uses_tape_;
  out_.tensorflow_alias = tensorflow_alias();
  for (auto& [attr, renamed] : out_.renames)
    error(diag::Kind::RenamedAttribute, nullptr,
          "attribute `" + attr + "` is `" + renamed + "` in Keras (`" + attr + "` is a Keras attribute)");
  return std::move(out_);
}

}  // namespace

LowerOutput lower_module(const ast::Module* module, const analysis::ImportScope& scope,
                         const std::vector<analysis::ClassInfo>& classes, Builder& builder,
                         const LowerOptions& options) {
  return Lowerer(module, scope, classes, builder, options).run();
}

}  // namespace t2k::lowering
