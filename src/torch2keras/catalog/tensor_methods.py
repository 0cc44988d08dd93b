"""Tensor methods (`x.view(...)`, `x.mean(...)`): `self` is the tensor.

Facts (pitfalls.md):
* P31: view/reshape/permute/transpose work in PyTorch axis order (layout="torch").
* P35: repeat is ops.tile, repeat_interleave is ops.repeat.
* P48: `view=True` marks results that share the input's storage in another shape
  (view, permute, x[...]); `alias=True` results that are the input itself or share
  it with the same shape and values (detach, contiguous; nn.Identity and dropout
  in inference): an in-place change of one changes the other.
"""


@method("view", "reshape", view=True, layout="reshape", tensor="self", dims=("shape",))
def view(self, *shape):
    return ops.reshape(self, shape)


@method("expand_as", view=True, layout="any")
def expand_as(self, other):
    return ops.broadcast_to(self, ops.shape(other))


@method("expand", view=True, layout="torch")
def expand(self, *size):
    # -1 keeps an axis' size; new leading axes may be added (pytorch_expand).
    return pytorch_expand(self, pytorch_size(size))


@method("permute", view=True, layout="permute", tensor="self", dims=("dims",))
def permute(self, *dims):
    return ops.transpose(self, dims)


@method("contiguous", alias=True, layout="any")
def contiguous(self, memory_format=None):
    ignore(memory_format)
    return self


@method("size", layout="shape", tensor="self", dims=("dim",))
def size(self, dim=None):
    if dim is None:
        return ops.shape(self)
    return ops.shape(self)[dim]


@method("dim", "ndimension", layout="value")
def dim(self):
    return ops.ndim(self)


# As torch.max / torch.min (functional.py): x.max() is a 0-d tensor, x.max(dim)
# the named tuple (values, indices), x.max(other) element-wise.
@method("max", layout="reduce", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def max(self, dim=None, keepdim=False, *, other=None):
    if is_tensor(dim):
        return ops.maximum(self, dim)
    if given(other):
        return ops.maximum(self, other)
    if dim is None:
        return ops.max(self)
    return (ops.max(self, axis=dim, keepdims=keepdim), ops.argmax(self, axis=dim, keepdims=keepdim))


@method("min", layout="reduce", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def min(self, dim=None, keepdim=False, *, other=None):
    if is_tensor(dim):
        return ops.minimum(self, dim)
    if given(other):
        return ops.minimum(self, other)
    if dim is None:
        return ops.min(self)
    return (ops.min(self, axis=dim, keepdims=keepdim), ops.argmin(self, axis=dim, keepdims=keepdim))


# As torch.sort, torch.topk, torch.median, torch.kthvalue (functional.py, where
# their tie and NaN behaviour is described); x.topk's and x.kthvalue's dim=None is
# the last axis.
@method("sort", layout="dim", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def sort(self, dim=-1, descending=False, *, stable=False):
    require(descending == True or descending == False,
            "`descending={descending}` must be True or False")
    ignore(stable)
    if descending:
        return (-ops.sort(-self, axis=dim), ops.argsort(-self, axis=dim))
    return (ops.sort(self, axis=dim), ops.argsort(self, axis=dim))


@method("topk", layout="dim", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def topk(self, k, dim=-1, largest=True, sorted=True):
    ignore(sorted)
    if dim == -1 and largest == True:
        return tuple(ops.top_k(self, k))
    return tuple(pytorch_topk(self, k, axis=dim, largest=largest))


@method("median", layout="reduce", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def median(self, dim=None, keepdim=False):
    if dim is None:
        return ops.quantile(self, 0.5, method="lower")
    return tuple(pytorch_median(self, axis=dim, keepdims=keepdim))


@method("kthvalue", layout="reduce", tensor="self", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def kthvalue(self, k, dim=-1, keepdim=False):
    return tuple(pytorch_kthvalue(self, k, axis=dim, keepdims=keepdim))


@method("split", view=True, layout="dim", tensor="self", dims=("dim",), returns="list")
def split(self, split_size, dim=0):
    return pytorch_split(self, split_size, dim)


@method("softmax", input="float", layout="dim", tensor="self", dims=("dim",), returns="float")
def softmax(self, dim, dtype=None):
    if given(dtype):  # PyTorch casts the tensor first
        return ops.softmax(ops.cast(self, dtype), axis=dim)
    return ops.softmax(self, axis=dim)


@method("repeat", layout="torch")
def repeat(self, *sizes):
    return ops.tile(self, sizes)


@method("detach", alias=True, layout="any")
def detach(self):
    return ops.stop_gradient(self)


@method("clone", layout="any")
def clone(self, memory_format=None):
    ignore(memory_format)
    return self


@method("float", alias=True, layout="any", returns="float")
def float(self):
    return ops.cast(self, "float32")


# Casts to another dtype: new tensors (x.float() of a float32 tensor is x itself).

@method("long", layout="any", returns="int")
def long(self):
    return ops.cast(self, "int64")


@method("int", layout="any", returns="int")
def int(self):
    return ops.cast(self, "int32")


@method("bool", layout="any", returns="bool")
def bool(self):
    return ops.cast(self, "bool")


@method("double", layout="any", returns="float")
def double(self):
    return ops.cast(self, "float64")


@method("half", layout="any", returns="float")
def half(self):
    return ops.cast(self, "float16")


@attribute("data", alias=True, layout="any")
def data(self):
    # The tensor outside autograd: the same values in inference code.
    return self


@attribute("T", layout="torch")
def T(self):
    # Every axis reversed (PyTorch deprecates it for other than 2-D; same values).
    return ops.transpose(self)


@attribute("mT", layout="torch")
def mT(self):
    # The last two axes swapped (a batch of matrices transposed).
    return ops.swapaxes(self, -1, -2)


@attribute("device", layout="value")
def device(self):
    # Where the tensor lives; only ever passed on to `.to(...)` / `device=` (ignored).
    return self.device


@attribute("dtype", layout="value")
def dtype(self):
    # The Keras tensor's dtype: compares equal to the dtype names torch.float32 and
    # friends convert to (catalog/dtypes.py), and `ops.cast` takes it.
    return self.dtype


@attribute("ndim", layout="value")
def ndim(self):
    # The number of axes: the same in either layout.
    return ops.ndim(self)


@attribute("is_cuda", layout="value")
def is_cuda(self):
    # The converted model runs where Keras places it; model code reads this to
    # choose a fused GPU kernel or the plain path, which compute the same values:
    # the plain path is taken.
    ignore(self)
    return False


@method("to", alias=True, layout="any", returns="cast")
def to(self, target=None, dtype=None, non_blocking=False, copy=False, memory_format=None, device=None):
    # PyTorch's three forms: x.to(device[, dtype]), x.to(dtype), x.to(other) (other's
    # dtype and device). Keras places tensors itself: a device is no change. A
    # target that is none of these at conversion time is an error, never a guess.
    ignore(non_blocking, copy, memory_format, device)
    if is_dtype(target):
        return ops.cast(self, target)
    if is_tensor(target) and not is_device(target):
        return ops.cast(self, target.dtype)
    require(not given(target) or is_device(target),
            "cannot tell whether `{target}` is a device, a dtype or a tensor; write "
            "`device=` or `dtype=`")
    if given(dtype):
        return ops.cast(self, dtype)
    return self


@method("cuda", "cpu", alias=True, layout="any")
def cuda(self, device=None, non_blocking=False, memory_format=None):
    # Keras places tensors itself.
    ignore(device, non_blocking, memory_format)
    return self


@attribute("requires_grad", layout="value")
def requires_grad(self):
    # Keras tensors carry no autograd flag; gradients are taken with a GradientTape /
    # jax.grad around the call. Model code reads it to choose gradient checkpointing
    # (DenseNet's memory_efficient), which changes memory, not values.
    ignore(self)
    return False


# Element-wise arithmetic and math. An in-place form (`x.add_(y)`, `x.clamp_(0)`)
# is the same entry: the lowering rebinds the receiver (P48).
@method("add", layout="any")
def add(self, other, alpha=1):
    if alpha == 1:
        return self + other
    return self + other * alpha


@method("sub", "subtract", layout="any")
def sub(self, other, alpha=1):
    if alpha == 1:
        return self - other
    return self - other * alpha


@method("mul", "multiply", layout="any")
def mul(self, other):
    return self * other


@method("div", "divide", "true_divide", layout="any")
def div(self, other, rounding_mode=None):
    if rounding_mode is None:
        return self / other
    if rounding_mode == "floor":
        return ops.floor_divide(self, other)
    require(rounding_mode == "trunc", "`rounding_mode={rounding_mode}` is not supported")
    return ops.trunc(self / other)


@method("clamp", "clip", layout="any")
def clamp(self, min=None, max=None):
    if min is None:
        return ops.minimum(self, max)
    if max is None:
        return ops.maximum(self, min)
    return ops.clip(self, min, max)


@method("masked_fill", layout="any")
def masked_fill(self, mask, value):
    return ops.where(mask, value, self)


@method("neg", "negative", layout="any")
def neg(self):
    return ops.negative(self)


# Reshaped to `other`'s shape, both in PyTorch's axis order.
@method("view_as", "reshape_as", view=True, layout="torch")
def view_as(self, other):
    return ops.reshape(self, ops.shape(other))


@method("new_zeros", layout="torch")
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    # A tensor of self's dtype (and device) unless dtype is given, shaped as given.
    ignore(device, requires_grad, layout, pin_memory)
    if given(dtype):
        return ops.zeros(pytorch_size(size), dtype=dtype)
    if len(size) > 1:
        return ops.zeros(size, dtype=self.dtype)
    return ops.zeros(pytorch_size(size), dtype=self.dtype)


@method("new_empty", layout="torch")
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    # Unset values of self's dtype (timm's drop_path fills them with bernoulli_).
    ignore(device, requires_grad, layout, pin_memory)
    if given(dtype):
        return ops.empty(pytorch_size(size), dtype=dtype)
    return ops.empty(pytorch_size(size), dtype=self.dtype)


@method("bernoulli", layout="any")
def bernoulli(self, p=0.5, generator=None):
    # x.bernoulli_(p): 1 with probability p, else 0, in x's shape and dtype (Keras'
    # random generator: the same distribution, not PyTorch's numbers).
    require(generator is None, "`generator=` is not supported")
    return ops.cast(keras.random.uniform(ops.shape(self)) < p, self.dtype)


@method("new_ones", layout="torch")
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    ignore(device, requires_grad, layout, pin_memory)
    if given(dtype):
        return ops.ones(pytorch_size(size), dtype=dtype)
    if len(size) > 1:
        return ops.ones(size, dtype=self.dtype)
    return ops.ones(pytorch_size(size), dtype=self.dtype)


@method("new_full", layout="torch")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    ignore(device, requires_grad, layout, pin_memory)
    if given(dtype):
        return ops.full(size, fill_value, dtype=dtype)
    return ops.full(size, fill_value, dtype=self.dtype)


@method("new_tensor", layout="torch")
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    ignore(device, requires_grad, layout, pin_memory)
    if given(dtype):
        return ops.convert_to_tensor(data, dtype=dtype)
    return ops.convert_to_tensor(data, dtype=self.dtype)


@method("zero_", layout="any")
def zero_(self):
    return ops.zeros_like(self)


@method("fill_", layout="any")
def fill_(self, value):
    return ops.full_like(self, value)


@method("normal_", layout="any")
def normal_(self, mean=0.0, std=1.0, generator=None):
    # Keras' random generator: the same distribution, other values (a parameter's
    # start, replaced by load_torch_state_dict).
    require(generator is None, "`generator=` is not supported")
    return keras.random.normal(ops.shape(self), mean=mean, stddev=std)


# Shapes that depend on the data (see functional.py): errors.
@method("nonzero", "argwhere", layout="torch", returns="int")
def nonzero(self, as_tuple=False):
    require(False, "`x.nonzero()` gives a shape that depends on the data, which a compiled graph "
            "cannot hold; use a mask with torch.where(mask, x, y)")
    ignore(as_tuple)
    return self


@method("masked_select", layout="torch")
def masked_select(self, mask):
    require(False, "`x.masked_select(mask)` gives a shape that depends on the data, which a compiled "
            "graph cannot hold; use torch.where(mask, x, 0)")
    ignore(mask)
    return self


@method("unique", layout="torch")
def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
    require(False, "`x.unique()` gives a shape that depends on the data, which a compiled graph "
            "cannot hold")
    ignore(sorted, return_inverse, return_counts, dim)
    return self


@method("numpy", layout="value")
def numpy(self, force=False):
    # Script code's `out.cpu().numpy()` reads the values eagerly (lowering, as
    # `.item()`); model code cannot.
    ignore(force)
    require(False, "`x.numpy()` reads a tensor's values into numpy, which a compiled graph cannot do")
    return self


@method("item", "tolist", layout="value")
def item(self):
    require(False, "`x.item()` / `x.tolist()` read a tensor's value into Python, which a compiled "
            "graph cannot do; keep it a tensor (a tensor condition becomes keras.ops.cond)")
    return self


@method("log_softmax", input="float", layout="dim", tensor="self", dims=("dim",), returns="float")
def log_softmax(self, dim, dtype=None):
    if given(dtype):  # PyTorch casts the tensor first
        return ops.log_softmax(ops.cast(self, dtype), axis=dim)
    return ops.log_softmax(self, axis=dim)


@method("argmin", layout="reduce", tensor="self", dims=("dim",), returns="int")
def argmin(self, dim=None, keepdim=False):
    require(given(dim), "`argmin()` without `dim` is not supported yet; flatten first: x.flatten().argmin(0)")
    return ops.argmin(self, axis=dim, keepdims=keepdim)


@method("flip", layout="dim", tensor="self", dims=("dims",))
def flip(self, *dims):
    return ops.flip(self, axis=dims)


@method("numel", layout="value")
def numel(self):
    return pytorch_numel(self)


@method("norm", layout="reduce", tensor="self", dims=("dim",), returns="float")
def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    require(dtype is None, "`dtype={dtype}` is not supported")
    if dim is None:
        require(p == "fro" or p == 2, "`norm(p={p})` over every axis is not supported yet")
        return ops.sqrt(ops.sum(ops.square(self), keepdims=keepdim))
    require(is_int(dim), "`norm` over several axes is not supported yet")
    if p == "fro":  # over one axis: the 2-norm
        return ops.norm(self, ord=2, axis=dim, keepdims=keepdim)
    return ops.norm(self, ord=p, axis=dim, keepdims=keepdim)


@method("cumsum", layout="dim", tensor="self", dims=("dim",), returns="sum")
def cumsum(self, dim, dtype=None):
    # PyTorch sums integers and booleans as int64, Keras (TensorFlow) as int32.
    return ops.cumsum(self, axis=dim, dtype=dtype)


@method("type_as", layout="any", returns="cast")
def type_as(self, other):
    return ops.cast(self, other.dtype)


@method("type", layout="any", returns="cast")
def type(self, dtype=None, non_blocking=False):
    # x.type() without a dtype is the type's name ("torch.FloatTensor"), a string.
    ignore(non_blocking)
    require(is_dtype(dtype), "`x.type()` converts only with a torch dtype argument (torch.float32, ...)")
    return ops.cast(self, dtype)


# Comparisons as methods (the operators `x > y` are lowered as such; x.eq is
# torch.eq's method=).
@method("ne", "not_equal", layout="any", returns="bool")
def ne(self, other):
    return ops.not_equal(self, other)


@method("lt", "less", layout="any", returns="bool")
def lt(self, other):
    return ops.less(self, other)


@method("le", "less_equal", layout="any", returns="bool")
def le(self, other):
    return ops.less_equal(self, other)


@method("gt", "greater", layout="any", returns="bool")
def gt(self, other):
    return ops.greater(self, other)


@method("ge", "greater_equal", layout="any", returns="bool")
def ge(self, other):
    return ops.greater_equal(self, other)


@method("repeat_interleave", layout="dim", tensor="self", dims=("dim",))
def repeat_interleave(self, repeats, dim=None, output_size=None):
    # P35: ops.repeat; without dim both repeat the flattened tensor (PyTorch order).
    ignore(output_size)
    return ops.repeat(self, repeats, axis=dim)


@method("gather", layout="torch")
def gather(self, dim, index, sparse_grad=False):
    # As torch.gather (functional.py): an index of self's sizes off `dim`.
    ignore(sparse_grad)
    return ops.take_along_axis(self, index, axis=dim)


@method("index_select", layout="dim", tensor="self", dims=("dim",))
def index_select(self, dim, index):
    return ops.take(self, index, axis=dim)


@method("requires_grad_", alias=True, layout="any")
def requires_grad_(self, requires_grad=True):
    # Autograd's flag: no meaning in Keras inference (see the attribute).
    ignore(requires_grad)
    return self
