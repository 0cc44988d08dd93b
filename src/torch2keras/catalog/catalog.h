// The PyTorch -> Keras catalog, loaded from the embedded data files in this folder
// (see catalog/README.md for their format). The catalog only indexes entries;
// lowering/instantiate applies one to a call.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "torch2keras/analysis/const_eval.h"
#include "torch2keras/syntax/ast.h"
#include "torch2keras/syntax/parser.h"

namespace t2k::catalog {

// How an op treats tensor axes (catalog/README.md, lowering/layout.h).
enum class Layout : uint8_t {
  Any,       // element-wise: works in any axis order, keeps it
  Spatial,   // conv/pool/norm: needs channels-last input of `rank` (channels_last mode)
  Channel,   // BatchNorm1d: (N, C) as is, (N, C, L) channels-last
  Features,  // acts on the last PyTorch axis (Linear)
  Torch,     // needs PyTorch axis order
  Dim,       // `dims` parameters are axes of `tensor`: remapped; keeps the layout
  Reduce,    // like Dim, the axes are reduced (with `keepdim`)
  Shape,     // returns sizes of `tensor` (`dims` remapped), not a tensor
  Value,     // returns a non-tensor that does not depend on axis order
  Flatten,   // merges the axes `dims` = (start_dim, end_dim) of `tensor` (P30)
  Reshape,   // view/reshape to the `dims` shape; (x.size(0), -1) is a flatten
  Permute,   // permute by the `dims` axes: moving the channel axis last or back relabels
  Unsqueeze, // a size-1 axis at `dims`: at axis 1 of an (N, H, W) in PyTorch order, channels-last
};
const char* name(Layout layout);

// Attribute: a tensor attribute (`x.requires_grad`); like a method without arguments.
// Initializer: a torch.nn.init function; the form is the Keras initializer.
// Parameter: a parameter or buffer of a converted layer read as a tensor
// (`self.fc.weight`); keyed "<Keras callee>.<PyTorch name>", `self` is the layer.
// Build: the input shape that builds the Keras layer of a torch.nn class from its
// constructor's arguments, for a layer whose parameters are read before any call.
// The dtype class of an op's value (Entry::returns_dtype).
enum class ResultDType : uint8_t { Same, Bool, Int, Float, Number, Sum, Cast };

enum class EntryKind : uint8_t { Module, Function, Method, Attribute, Initializer, Parameter, Build };

struct Entry {
  EntryKind kind = EntryKind::Module;
  const ast::FunctionDef* def = nullptr;  // PyTorch's signature; the body says what to emit
  std::string file;                        // "catalog/nn_conv.py"
  std::vector<std::string> keys;           // torch paths, or method names
  Layout layout = Layout::Torch;
  // Spatial/Channel: the input rank (N, C, spatial...); kRankOfInput (`rank="input"`):
  // any rank from 3 to 5, the input's (4 when the engine does not know it), as
  // PyTorch's interpolate and Upsample take.
  static constexpr int kRankOfInput = -1;
  int rank = 0;
  std::string tensor_param;                // Dim/Reduce/Shape: the tensor parameter
  std::vector<std::string> dim_params;     // Dim/Reduce/Shape: the axis parameters
  // Module: the runtime class (emit/runtime/layers.py) a subclass of this torch.nn
  // class derives from, with PyTorch's attributes ("PyTorchLayerNorm"); "" if none.
  std::string subclass_base;
  // Module: PyTorch attributes the Keras layer keeps under the same names and
  // values (`settings=("hidden_size", ...)`): forward code may read them.
  std::vector<std::string> settings;
  // Function/Method: the value is a list of tensors (chunk, split), `returns="list"`.
  bool returns_list = false;
  // Function: the value is a PackedSequence (torch.nn.utils.rnn, `returns="packed"`:
  // pack_padded_sequence), which only the parameters named by `packed_param` take.
  bool returns_packed = false;
  // `packed=`: Function: the parameter that takes a PackedSequence, and nothing
  // else (pad_packed_sequence's "sequence"). Module: "input", the first argument
  // of its call, which may be a PackedSequence; the first item of its result is
  // then one too (an RNN's output). "" when the entry takes none.
  std::string packed_param;
  // Function/Method: PyTorch returns a named tuple of tensors with these fields
  // (`returns=("values", "indices")`: x.max(dim), sort, topk) from the forms whose
  // value is a tuple; its other forms return a tensor (x.max() without dim).
  // Which forms give a tuple is decided per form (lowering/instantiate.h).
  std::vector<std::string> fields;
  // Function/Method: the dtype class of the value (`returns="bool"`, "int",
  // "float"; "number": int when every number argument is an int, as torch.arange
  // makes int64 from ints and float32 otherwise; "sum": torch.sum's rule, booleans
  // and ints sum to int64, floats keep their type; "cast": the dtype the form
  // names, x.to(dtype), unknown when it names none). Same: the primary tensor's
  // (element-wise ops, views, reductions), or float for a factory without one.
  // PyTorch promotes mixed operands of arithmetic; TensorFlow's operators do not.
  ResultDType returns_dtype = ResultDType::Same;
  // Function/Method with a tuple form: the dtype class of each item of the tuple
  // (`items=("same", "int")`: pad_packed_sequence's padded output and its int64
  // lengths); Same is the value's (returns_dtype). Empty: every item the value's.
  std::vector<ResultDType> item_dtypes;
  // Module/Function/Method: the dtype class PyTorch requires of the layer's
  // input, the function's first argument or the method's tensor (`input="int"`:
  // Embedding's indices; "float": x.mean(),
  // Linear, convolutions, norms, RNNs), Same when it takes any. A model input
  // passed to it has that dtype (Lowerer::param_dtype).
  ResultDType input_dtype = ResultDType::Same;
  // Function/Method: the `*` parameter takes items (`vararg="items"`:
  // TensorDataset's tensors, einsum's operands): a single name passed to it is
  // one item. Otherwise it is a size (`*size`, `*shape`), and a single name not
  // known to be a tensor is the whole size (x.view(shape)).
  bool vararg_items = false;
  // Function/Method: PyTorch returns a view sharing the input's storage
  // (`view=True`: view, permute, x[...]); an in-place change of one changes the
  // other (P48).
  bool view = false;
  // Function/Method/Module: the result is the input itself, or shares its storage
  // with the same shape and values (`alias=True`: detach, nn.Identity, dropout in
  // inference): a change of one is a change of the other, followed exactly.
  bool alias = false;
  // Spatial: the result's spatial size when known at conversion time
  // (`spatial_size=`): "input" (norms keep it) or the parameter giving it
  // (`output_size` of the adaptive pools: an int for every spatial axis, or a
  // tuple); "" when the op changes it in a way only the input shape decides.
  std::string spatial_size;
};

class Catalog {
 public:
  // The catalog built from the embedded files, parsed on first use.
  static const Catalog& instance();

  const Entry* find_module(std::string_view torch_path) const;
  const Entry* find_function(std::string_view torch_path) const;
  const Entry* find_method(std::string_view name) const;
  const Entry* find_attribute(std::string_view name) const;
  const Entry* find_initializer(std::string_view torch_path) const;
  // How to read PyTorch parameter `torch_param` ("weight") of the Keras layer
  // `keras_callee` ("layers.Dense") in PyTorch's shape (parameters.py), or null.
  const Entry* find_parameter(std::string_view keras_callee, std::string_view torch_param) const;
  const Entry* find_build(std::string_view torch_path) const;
  // The attribute of the Keras layer `keras_callee` ("layers.Conv2D") that holds
  // the initializer of PyTorch parameter `torch_param` ("weight" ->
  // "kernel_initializer"); null when there is none (nn_init.py).
  const std::string* initializer_attribute(std::string_view keras_callee, std::string_view torch_param) const;
  // The Keras dtype name of a torch dtype ("torch.long" -> "int64", dtypes.py), or null.
  const std::string* find_dtype(std::string_view torch_path) const;
  // Whether `name` is a Keras dtype name some torch dtype maps to ("float32").
  bool is_dtype_name(std::string_view name) const;
  // True when `path` names a torch.nn class or torch function the catalog maps,
  // or one of the containers (torch.nn.Sequential...): used for star imports.
  bool knows_path(std::string_view path) const;

  // The Keras default of `keyword` for `callee` ("layers.Conv2D"), or null.
  const analysis::ConstValue* keras_default(std::string_view callee,
                                            std::string_view keyword) const;

  const std::vector<std::unique_ptr<Entry>>& entries() const { return entries_; }
  // Problems found while loading (malformed entries); empty in a good build.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  Catalog();
  void load_file(std::string_view path, std::string_view text);

  std::vector<std::unique_ptr<syntax::ParsedSource>> sources_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, const Entry*> modules_, functions_, methods_, attributes_, initializers_,
      parameters_, builds_;
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> initializer_attributes_;
  std::unordered_map<std::string, std::string> dtypes_;
  std::unordered_map<std::string, std::unordered_map<std::string, analysis::ConstValue>>
      keras_defaults_;
  std::vector<std::string> problems_;
};

}  // namespace t2k::catalog
