"""torch.* and torch.nn.functional.* functions used in forward code.

Facts (pitfalls.md):
* P32: torch.cat(dim) is ops.concatenate(axis); chunk into equal parts is ops.split
  (Keras raises when the size does not divide, PyTorch would not: loud, not silent).
* P33: softmax needs an explicit dim.
* P37: ops.gelu defaults to the tanh approximation; F.gelu to the exact form.
* P36: F.leaky_relu defaults to 0.01, ops.leaky_relu to 0.2: always passed.
* P30: flatten works in PyTorch axis order (layout="flatten": the engine gives it a
  PyTorch-order input unless the spatial size is 1, where both orders agree).
"""


@function("torch.nn.functional.relu", layout="any")
def relu(input, inplace=False):
    ignore(inplace)
    return ops.relu(input)


# Its own entry: a function value of its own (F.relu passed as an activation takes
# PyTorch's transformer fast path, torch.relu does not).
@function("torch.relu", layout="any", method="relu")
def torch_relu(input):
    return ops.relu(input)


@function("torch.nn.functional.relu6", layout="any")
def relu6(input, inplace=False):
    ignore(inplace)
    return ops.relu6(input)


@function("torch.nn.functional.leaky_relu", layout="any")
def leaky_relu(input, negative_slope=0.01, inplace=False):
    ignore(inplace)
    return ops.leaky_relu(input, negative_slope=negative_slope)


@function("torch.nn.functional.elu", layout="any")
def elu(input, alpha=1.0, inplace=False):
    ignore(inplace)
    return ops.elu(input, alpha=alpha)


@function("torch.nn.functional.gelu", layout="any")
def gelu(input, approximate="none"):
    require(approximate == "none" or approximate == "tanh",
            "`approximate={approximate}` must be 'none' or 'tanh'")
    return ops.gelu(input, approximate=approximate == "tanh")


@function("torch.nn.functional.silu", layout="any")
def silu(input, inplace=False):
    ignore(inplace)
    return ops.silu(input)


@function("torch.nn.functional.hardswish", layout="any")
def hardswish(input, inplace=False):
    ignore(inplace)
    return ops.hard_silu(input)


@function("torch.nn.functional.hardsigmoid", layout="any")
def hardsigmoid(input, inplace=False):
    ignore(inplace)
    return ops.hard_sigmoid(input)


@function("torch.sigmoid", "torch.nn.functional.sigmoid", layout="any", returns="float", method="sigmoid")
def sigmoid(input):
    return ops.sigmoid(input)


@function("torch.tanh", "torch.nn.functional.tanh", layout="any", returns="float", method="tanh")
def tanh(input):
    return ops.tanh(input)


@function("torch.sin", layout="any", returns="float", method="sin")
def sin(input):
    return ops.sin(input)


@function("torch.cos", layout="any", returns="float", method="cos")
def cos(input):
    return ops.cos(input)


@function("torch.rsqrt", layout="any", returns="float", method="rsqrt")
def rsqrt(input):
    return ops.rsqrt(input)


@function("torch.exp", layout="any", returns="float", method="exp")
def exp(input):
    return ops.exp(input)


@function("torch.log", layout="any", returns="float", method="log")
def log(input):
    return ops.log(input)


@function("torch.log2", layout="any", returns="float", method="log2")
def log2(input):
    return ops.log2(input)


@function("torch.sign", layout="any", method="sign")
def sign(input):
    return ops.sign(input)


@function("torch.floor", layout="any", method="floor")
def floor(input):
    return ops.floor(input)


@function("torch.ceil", layout="any", method="ceil")
def ceil(input):
    return ops.ceil(input)


# Halves round to the even neighbour in both (TensorFlow's round is banker's).
@function("torch.round", layout="any", method="round")
def round(input, *, decimals=0):
    if decimals == 0:
        return ops.round(input)
    return ops.round(input, decimals=decimals)


# Python's modulo (the result has the divisor's sign), as keras.ops.mod.
@function("torch.remainder", layout="any", method="remainder")
def remainder(input, other):
    return ops.mod(input, other)


# x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along `dim` (PyTorch's documented
# formula), both in PyTorch's axis order.
@function("torch.nn.functional.cosine_similarity", input="float", layout="torch")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return ops.sum(x1 / ops.maximum(ops.norm(x1, axis=dim, keepdims=True), eps)
                   * (x2 / ops.maximum(ops.norm(x2, axis=dim, keepdims=True), eps)), axis=dim)


@function("torch.norm", layout="reduce", tensor="input", dims=("dim",), returns="float")
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    # As x.norm (tensor_methods.py).
    require(out is None, "`out=` is not supported")
    require(dtype is None, "`dtype={dtype}` is not supported")
    if dim is None:
        require(p == "fro" or p == 2, "`norm(p={p})` over every axis is not supported yet")
        return ops.sqrt(ops.sum(ops.square(input), keepdims=keepdim))
    require(is_int(dim), "`norm` over several axes is not supported yet")
    if p == "fro":  # over one axis: the 2-norm
        return ops.norm(input, ord=2, axis=dim, keepdims=keepdim)
    return ops.norm(input, ord=p, axis=dim, keepdims=keepdim)


@function("torch.clamp", "torch.clip", layout="any")
def clamp(input, min=None, max=None):
    if min is None:
        return ops.minimum(input, max)
    if max is None:
        return ops.maximum(input, min)
    return ops.clip(input, min, max)


@function("torch.sqrt", layout="any", returns="float", method="sqrt")
def sqrt(input):
    return ops.sqrt(input)


@function("torch.abs", layout="any", method="abs")
def abs(input):
    return ops.abs(input)


@function("torch.nn.functional.softmax", "torch.softmax", input="float", layout="dim", tensor="input",
          dims=("dim",), returns="float")
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    ignore(_stacklevel)
    require(dim is not None, "`softmax` without `dim` uses PyTorch's implicit dim; pass `dim`")
    if given(dtype):  # PyTorch casts the input first
        return ops.softmax(ops.cast(input, dtype), axis=dim)
    return ops.softmax(input, axis=dim)


@function("torch.nn.functional.log_softmax", "torch.log_softmax", input="float", layout="dim", tensor="input",
          dims=("dim",), returns="float")
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    ignore(_stacklevel)
    require(dim is not None, "`log_softmax` without `dim` uses PyTorch's implicit dim; pass `dim`")
    if given(dtype):  # PyTorch casts the input first
        return ops.log_softmax(ops.cast(input, dtype), axis=dim)
    return ops.log_softmax(input, axis=dim)


@function("torch.nn.functional.adaptive_avg_pool1d", input="float", layout="spatial", rank=3,
          spatial_size="output_size")
def adaptive_avg_pool1d(input, output_size):
    if all_equal(output_size, 1):
        return ops.mean(input, axis=SPATIAL_AXES, keepdims=True)
    return pytorch_adaptive_pool(input, "avg", output_size, data_format=DATA_FORMAT)


@function("torch.nn.functional.adaptive_max_pool1d", layout="spatial", rank=3, spatial_size="output_size")
def adaptive_max_pool1d(input, output_size, return_indices=False):
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(output_size, 1):
        return ops.max(input, axis=SPATIAL_AXES, keepdims=True)
    return pytorch_adaptive_pool(input, "max", output_size, data_format=DATA_FORMAT)


@function("torch.nn.functional.adaptive_avg_pool2d", input="float", layout="spatial", rank=4, spatial_size="output_size")
def adaptive_avg_pool2d(input, output_size):
    if all_equal(output_size, 1):
        return ops.mean(input, axis=SPATIAL_AXES, keepdims=True)
    if any_equal(output_size, 1):
        return pytorch_adaptive_pool(input, "avg", output_size, data_format=DATA_FORMAT)
    if any_equal(output_size, None):
        return pytorch_adaptive_pool(input, "avg", output_size, data_format=DATA_FORMAT)
    return ops.adaptive_average_pool(input, output_size, data_format=DATA_FORMAT)


@function("torch.nn.functional.adaptive_max_pool2d", layout="spatial", rank=4, spatial_size="output_size")
def adaptive_max_pool2d(input, output_size, return_indices=False):
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(output_size, 1):
        return ops.max(input, axis=SPATIAL_AXES, keepdims=True)
    if any_equal(output_size, 1):
        return pytorch_adaptive_pool(input, "max", output_size, data_format=DATA_FORMAT)
    if any_equal(output_size, None):
        return pytorch_adaptive_pool(input, "max", output_size, data_format=DATA_FORMAT)
    return ops.adaptive_max_pool(input, output_size, data_format=DATA_FORMAT)


@function("torch.nn.functional.max_pool2d", layout="spatial", rank=4)
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    require(all_equal(dilation, 1), "`dilation={dilation}` is not supported in pooling yet")
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(padding, 0) and ceil_mode == False:
        return ops.max_pool(input, kernel_size, strides=stride, data_format=DATA_FORMAT)
    return pytorch_pool(input, "max", kernel_size, strides=stride, padding=padding,
                        ceil_mode=ceil_mode, data_format=DATA_FORMAT)


@function("torch.nn.functional.max_pool1d", layout="spatial", rank=3)
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    # As max_pool2d over the one spatial axis of (N, C, L).
    require(all_equal(dilation, 1), "`dilation={dilation}` is not supported in pooling yet")
    require(return_indices == False, "`return_indices=True` is not supported")
    # A window over the whole sequence (F.max_pool1d(h, h.size(2)), Kim's max over
    # time) is a max over the axis; another window known only when the model runs
    # is the runtime's, as keras.ops.max_pool needs Python ints.
    if full_length(kernel_size, input) and (stride is None or full_length(stride, input)):
        require(all_equal(padding, 0), "`padding={padding}` with a window over the whole sequence is not supported")
        ignore(ceil_mode)
        return ops.max(input, axis=SPATIAL_AXES, keepdims=True)
    if all_equal(padding, 0) and ceil_mode == False and is_known(kernel_size):
        return ops.max_pool(input, kernel_size, strides=stride, data_format=DATA_FORMAT)
    return pytorch_pool(input, "max", kernel_size, strides=stride, padding=padding,
                        ceil_mode=ceil_mode, data_format=DATA_FORMAT)


@function("torch.nn.functional.avg_pool1d", input="float", layout="spatial", rank=3)
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    if full_length(kernel_size, input) and (stride is None or full_length(stride, input)):
        require(all_equal(padding, 0), "`padding={padding}` with a window over the whole sequence is not supported")
        ignore(ceil_mode, count_include_pad)
        return ops.mean(input, axis=SPATIAL_AXES, keepdims=True)
    if all_equal(padding, 0) and ceil_mode == False and is_known(kernel_size):
        return ops.average_pool(input, kernel_size, strides=stride, data_format=DATA_FORMAT)
    return pytorch_pool(input, "avg", kernel_size, strides=stride, padding=padding,
                        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                        data_format=DATA_FORMAT)


@function("torch.nn.functional.avg_pool2d", input="float", layout="spatial", rank=4)
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    require(divisor_override is None, "`divisor_override={divisor_override}` is not supported")
    if all_equal(padding, 0) and ceil_mode == False:
        return ops.average_pool(input, kernel_size, strides=stride, data_format=DATA_FORMAT)
    return pytorch_pool(input, "avg", kernel_size, strides=stride, padding=padding,
                        ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                        data_format=DATA_FORMAT)


@function("torch.nn.functional.interpolate", layout="spatial", rank="input")
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    ignore(recompute_scale_factor)
    require(mode == "nearest" or mode == "linear" or mode == "bilinear",
            "`mode={mode}` is not supported yet (nearest, linear, bilinear)")
    require(align_corners is None or align_corners == False, "`align_corners=True` is not supported yet")
    require(antialias == False, "`antialias=True` is not supported yet")
    # PyTorch's nearest rounds source positions down, Keras' from pixel centres: equal
    # for integer upscaling only; bilinear uses the given scale in its coordinates.
    require((size is None and is_int(scale_factor)) or (mode != "nearest" and scale_factor is None),
            "`interpolate` converts with an integer scale_factor, or a size for linear and bilinear, only yet")
    return pytorch_interpolate(input, size=size, scale_factor=scale_factor, mode=mode, data_format=DATA_FORMAT)


@function("torch.nn.functional.dropout", alias=True, layout="any")
def dropout(input, p=0.5, training=True, inplace=False):
    ignore(inplace)
    if training == False:
        return input
    return keras.random.dropout(input, p) if training else input


@function("torch.nn.functional.layer_norm", input="float", layout="torch", spatial_size="input")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    return pytorch_layer_norm(input, normalized_shape, weight=weight, bias=bias, eps=eps)


@function("torch.jit.is_scripting", "torch.jit.is_tracing", layout="value")
def is_scripting():
    return False


@function("torch.flatten", view=True, layout="flatten", tensor="input", dims=("start_dim", "end_dim"), method="flatten")
def flatten(input, start_dim=0, end_dim=-1):
    # (pytorch_flatten keeps the merged size static where the axes' are: a Dense
    # after it is built by its first call, which may be inside a compiled step,
    # where ops.reshape(x, (ops.shape(x)[0], -1)) has no known size.)
    if start_dim == 0 and end_dim == -1:
        return ops.reshape(input, (-1,))
    if end_dim == -1:
        return pytorch_flatten(input, start_dim)
    return pytorch_flatten(input, start_dim, end_dim)


@function("torch.nn.functional.pad", layout="torch")
def pad(input, pad, mode="constant", value=None):
    require(mode == "constant" or mode == "reflect" or mode == "replicate" or mode == "circular",
            "`mode={mode}` is not a padding mode (constant, reflect, replicate, circular)")
    return pytorch_pad(input, pad, mode=mode, value=value)


@function("torch.cat", "torch.concat", "torch.concatenate", layout="dim", tensor="tensors",
          dims=("dim",))
def cat(tensors, dim=0):
    return ops.concatenate(tensors, axis=dim)


@function("torch.split", view=True, layout="dim", tensor="tensor", dims=("dim",), returns="list")
def split(tensor, split_size_or_sections, dim=0):
    return pytorch_split(tensor, split_size_or_sections, dim)


@function("torch.stack", layout="torch")
def stack(tensors, dim=0):
    return ops.stack(tensors, axis=dim)


@function("torch.matmul", layout="torch", method="matmul")
def matmul(input, other):
    return ops.matmul(input, other)


@function("torch.meshgrid", layout="torch", returns="list")
def meshgrid(*tensors, indexing="ij"):
    # PyTorch's default is "ij" (matrix indexing), Keras' "xy": always written.
    return ops.meshgrid(*tensors, indexing=indexing)


@function("torch.outer", "torch.ger", layout="torch")
def outer(input, vec2):
    return ops.outer(input, vec2)


@function("torch.eye", layout="torch")
def eye(n, m=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    require(out is None, "`out=` is not supported")
    ignore(layout, device, requires_grad)
    if m is None:
        return ops.eye(n, dtype=dtype)
    return ops.eye(n, m, dtype=dtype)


@function("torch.t", view=True, layout="torch", method="t")
def t(input):
    # A 2-D tensor transposed; one of fewer dimensions is itself (as ops.transpose
    # leaves it).
    return ops.transpose(input)


@function("torch.unbind", layout="torch", returns="list", method="unbind")
def unbind(input, dim=0):
    # Each item lacks the `dim` axis (PyTorch order: the items of a channels-last
    # tensor would need a layout of their own).
    return ops.unstack(input, axis=dim)


@function("torch.repeat_interleave", layout="dim", tensor="input", dims=("dim",))
def repeat_interleave(input, repeats=None, dim=None, output_size=None):
    # P35: ops.repeat; without dim both repeat the flattened tensor (PyTorch order).
    require(given(repeats), "`torch.repeat_interleave(repeats)` (counts from a tensor) is not supported")
    ignore(output_size)
    return ops.repeat(input, repeats, axis=dim)


@function("torch.einsum", layout="torch", vararg="items")
def einsum(equation, *operands):
    return ops.einsum(equation, *operands)


@function("torch.transpose", view=True, layout="permute", tensor="input", dims=("dim0", "dim1"), method="transpose")
def transpose(input, dim0, dim1):
    return ops.swapaxes(input, dim0, dim1)


@function("torch.unsqueeze", view=True, layout="unsqueeze", tensor="input", dims=("dim",), method="unsqueeze")
def unsqueeze(input, dim):
    return ops.expand_dims(input, dim)


@function("torch.squeeze", view=True, layout="torch", method="squeeze")
def squeeze(input, dim=None):
    return ops.squeeze(input, axis=dim)


@function("torch.permute", view=True, layout="permute", tensor="input", dims=("dims",))
def permute(input, dims):
    return ops.transpose(input, dims)


@function("torch.reshape", view=True, layout="reshape", tensor="input", dims=("shape",))
def reshape(input, shape):
    return ops.reshape(input, shape)


@function("torch.mean", input="float", layout="reduce", tensor="input", dims=("dim",), returns="float", method="mean")
def mean(input, dim=None, keepdim=False, dtype=None):
    if given(dtype):  # PyTorch casts the input first
        return ops.mean(ops.cast(input, dtype), axis=dim, keepdims=keepdim)
    return ops.mean(input, axis=dim, keepdims=keepdim)


@function("torch.sum", layout="reduce", tensor="input", dims=("dim",), returns="sum", method="sum")
def sum(input, dim=None, keepdim=False, dtype=None):
    if given(dtype):  # PyTorch casts the input first
        return ops.sum(ops.cast(input, dtype), axis=dim, keepdims=keepdim)
    return ops.sum(input, axis=dim, keepdims=keepdim)


@function("torch.amax", layout="reduce", tensor="input", dims=("dim",), method="amax")
def amax(input, dim=(), keepdim=False):
    if dim == ():  # PyTorch: every dimension; Keras: axis=None (axis=() reduces none)
        return ops.max(input, keepdims=keepdim)
    return ops.max(input, axis=dim, keepdims=keepdim)


@function("torch.amin", layout="reduce", tensor="input", dims=("dim",), method="amin")
def amin(input, dim=(), keepdim=False):
    if dim == ():  # PyTorch: every dimension; Keras: axis=None (axis=() reduces none)
        return ops.min(input, keepdims=keepdim)
    return ops.min(input, axis=dim, keepdims=keepdim)


# PyTorch's overloads: max(input), a 0-d tensor; max(input, dim, keepdim), the
# named tuple (values, indices); max(input, other), element-wise (a tensor where
# `dim` is, or `other=`: the engine then treats the call as layout "any"). Among
# equal maxima both give the first index (PyTorch documents it; TensorFlow's
# argmax does it, though its documentation does not promise it). A NaN is the
# maximum in PyTorch, not in TensorFlow.
@function("torch.max", layout="reduce", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def max(input, dim=None, keepdim=False, *, other=None, out=None):
    require(out is None, "`out=` is not supported")
    if is_tensor(dim):
        return ops.maximum(input, dim)
    if given(other):
        return ops.maximum(input, other)
    if dim is None:
        return ops.max(input)
    return (ops.max(input, axis=dim, keepdims=keepdim), ops.argmax(input, axis=dim, keepdims=keepdim))


@function("torch.min", layout="reduce", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def min(input, dim=None, keepdim=False, *, other=None, out=None):
    require(out is None, "`out=` is not supported")
    if is_tensor(dim):
        return ops.minimum(input, dim)
    if given(other):
        return ops.minimum(input, other)
    if dim is None:
        return ops.min(input)
    return (ops.min(input, axis=dim, keepdims=keepdim), ops.argmin(input, axis=dim, keepdims=keepdim))


# The order that sorts `input` along `dim` (torch.sort's indices alone; the same
# stability note below applies). Descending is the ascending order of -input.
@function("torch.argsort", layout="dim", tensor="input", dims=("dim",), returns="int", method="argsort")
def argsort(input, dim=-1, descending=False, *, stable=False):
    require(descending == True or descending == False,
            "`descending={descending}` must be True or False")
    ignore(stable)
    if descending:
        return ops.argsort(-input, axis=dim)
    return ops.argsort(input, axis=dim)


# TensorFlow's sort is stable (equal values keep their order, TensorFlow's top_k
# puts the lower index first), which PyTorch promises only with stable=True: with
# PyTorch's default the indices of equal values may differ. Descending is the
# ascending sort of -input (stable too; not for unsigned or boolean tensors).
# NaNs sort last in PyTorch, not in TensorFlow.
@function("torch.sort", layout="dim", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    require(out is None, "`out=` is not supported")
    require(descending == True or descending == False,
            "`descending={descending}` must be True or False")
    ignore(stable)
    if descending:
        return (-ops.sort(-input, axis=dim), ops.argsort(-input, axis=dim))
    return (ops.sort(input, axis=dim), ops.argsort(input, axis=dim))


# PyTorch's dim=None is the last axis (written -1 here, so that it is remapped).
# keras.ops.top_k takes the largest along the last axis; pytorch_topk moves the
# axis and negates for largest=False. Among equal values the lower index comes
# first (TensorFlow's top_k; PyTorch documents no order). Both return sorted
# values; with sorted=False PyTorch's order is unspecified (Keras': sorted).
@function("torch.topk", layout="dim", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    require(out is None, "`out=` is not supported")
    ignore(sorted)
    if dim == -1 and largest == True:
        return tuple(ops.top_k(input, k))
    return tuple(pytorch_topk(input, k, axis=dim, largest=largest))


# PyTorch's median is the lower of the two middle values of an even count (numpy's
# and keras.ops.median average them): quantile 0.5 with method "lower". With dim,
# the named tuple (values, indices); PyTorch documents no index among equal values
# (pytorch_median: the first in a stable sort).
@function("torch.median", layout="reduce", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def median(input, dim=None, keepdim=False, *, out=None):
    require(out is None, "`out=` is not supported")
    if dim is None:
        return ops.quantile(input, 0.5, method="lower")
    return tuple(pytorch_median(input, axis=dim, keepdims=keepdim))


# The k-th smallest value (k from 1) along dim and its index (kthvalue's dim
# defaults to the last axis).
@function("torch.kthvalue", layout="reduce", tensor="input", dims=("dim",), returns=("values", "indices"), items=("same", "int"))
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    require(out is None, "`out=` is not supported")
    return tuple(pytorch_kthvalue(input, k, axis=dim, keepdims=keepdim))


@function("torch.chunk", view=True, layout="dim", tensor="input", dims=("dim",), returns="list", method="chunk")
def chunk(input, chunks, dim=0):
    return pytorch_chunk(input, chunks, axis=dim)


@function("torch.cumsum", layout="dim", tensor="input", dims=("dim",), returns="sum")
def cumsum(input, dim, dtype=None, out=None):
    # PyTorch sums integers and booleans as int64, Keras (TensorFlow) as int32: the
    # same values below 2**31.
    require(out is None, "`out=` is not supported")
    return ops.cumsum(input, axis=dim, dtype=dtype)


@function("torch.nn.functional.glu", layout="dim", tensor="input", dims=("dim",))
def glu(input, dim=-1):
    # Both: the first half times the sigmoid of the second.
    return ops.glu(input, axis=dim)


@function("torch.logsumexp", input="float", layout="reduce", tensor="input", dims=("dim",), returns="float", method="logsumexp")
def logsumexp(input, dim, keepdim=False):
    return ops.logsumexp(input, axis=dim, keepdims=keepdim)


@function("torch.all", layout="reduce", tensor="input", dims=("dim",), returns="bool", method="all")
def all(input, dim=None, keepdim=False):
    # Non-zero is true, as PyTorch reads numbers.
    return ops.all(input, axis=dim, keepdims=keepdim)


@function("torch.any", layout="reduce", tensor="input", dims=("dim",), returns="bool", method="any")
def any(input, dim=None, keepdim=False):
    return ops.any(input, axis=dim, keepdims=keepdim)


@function("torch.pow", layout="any", method="pow")
def pow(input, exponent):
    return ops.power(input, exponent)


@function("torch.square", layout="any", method="square")
def square(input):
    return ops.square(input)


@function("torch.erf", "torch.special.erf", layout="any", returns="float", method="erf")
def erf(input):
    return ops.erf(input)


@function("torch.erfc", "torch.special.erfc", layout="any", returns="float")
def erfc(input):
    # 1 - erf: exact to float32's absolute resolution (erfc itself is < 2e-12 where
    # the difference shows, far below the 1e-4 tolerance).
    return 1.0 - ops.erf(input)


@function("torch.nn.functional.softplus", layout="any", returns="float")
def softplus(input, beta=1.0, threshold=20.0):
    # PyTorch's softplus is the identity where beta * x > threshold.
    return pytorch_softplus(input, beta=beta, threshold=threshold)


@function("torch.index_select", layout="dim", tensor="input", dims=("dim",))
def index_select(input, dim, index, out=None):
    require(out is None, "`out=` is not supported")
    return ops.take(input, index, axis=dim)


@function("torch.gather", layout="torch")
def gather(input, dim, index, sparse_grad=False, out=None):
    # out[i][j] = input[index[i][j]][j] (dim=0): take_along_axis for an index of
    # the input's rank and, off `dim`, its sizes (PyTorch also takes smaller ones,
    # where Keras broadcasts or fails).
    require(out is None, "`out=` is not supported")
    ignore(sparse_grad)
    return ops.take_along_axis(input, index, axis=dim)


@function("torch.nn.functional.one_hot", layout="torch")
def one_hot(tensor, num_classes=-1):
    # num_classes=-1 takes the largest id in the data plus one: a shape that depends
    # on the data. PyTorch's result is int64.
    # A count known only when the model runs (self.n + 1, a Python int then) is fine.
    require(not is_known(num_classes) or num_classes > 0,
            "`one_hot` needs a positive `num_classes`; -1 (PyTorch's default) gives a shape that "
            "depends on the data")
    return ops.one_hot(tensor, num_classes, dtype="int64")


@function("torch.nn.functional.linear", input="float", layout="features")
def linear(input, weight, bias=None):
    if bias is None:
        return ops.matmul(input, ops.transpose(weight))
    return ops.matmul(input, ops.transpose(weight)) + bias


# Tensors made in constructor code (nn.Parameter values, buffers) and forward code.
@function("torch.zeros_like", layout="any")
def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    # No dtype: the input's, in both.
    ignore(device, requires_grad, memory_format)
    return ops.zeros_like(input, dtype=dtype)


@function("torch.ones_like", layout="any")
def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    # No dtype: the input's, in both.
    ignore(device, requires_grad, memory_format)
    return ops.ones_like(input, dtype=dtype)


@function("torch.ones", layout="torch")
def ones(*size, dtype=None, device=None, requires_grad=False):
    # No dtype: float32 in both (PyTorch's default dtype, Keras' floatx).
    ignore(device, requires_grad)
    if len(size) > 1:  # torch.ones(2, n): the sizes as they are
        return ops.ones(size, dtype=dtype)
    return ops.ones(pytorch_size(size), dtype=dtype)


@function("torch.zeros", layout="torch")
def zeros(*size, dtype=None, device=None, requires_grad=False):
    # No dtype: float32 in both (PyTorch's default dtype, Keras' floatx).
    ignore(device, requires_grad)
    if len(size) > 1:  # torch.zeros(2, n): the sizes as they are
        return ops.zeros(size, dtype=dtype)
    return ops.zeros(pytorch_size(size), dtype=dtype)


@function("torch.empty", layout="torch")
def empty(*size, dtype=None, device=None, requires_grad=False, memory_format=None):
    # Unset values in both (a parameter's start: `.normal_()` or the loader fills it).
    ignore(device, requires_grad, memory_format)
    if len(size) > 1:
        return ops.empty(size, dtype=dtype)
    return ops.empty(pytorch_size(size), dtype=dtype)


@function("torch.nn.functional.embedding", input="int", layout="torch")
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    require(max_norm is None, "`max_norm={max_norm}` is not supported yet")
    require(scale_grad_by_freq == False, "`scale_grad_by_freq=True` is not supported yet")
    ignore(norm_type, sparse)
    return pytorch_embedding(input, weight, padding_idx)


@function("torch.nn.functional.embedding_bag", input="int", layout="torch")
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    # As nn.EmbeddingBag (nn_misc.py); the tensors offsets and per_sample_weights pass through.
    require(max_norm is None, "`max_norm={max_norm}` is not supported yet")
    require(scale_grad_by_freq == False, "`scale_grad_by_freq=True` is not supported yet")
    ignore(norm_type, sparse)
    return pytorch_embedding_bag(input, weight, offsets, mode=mode,
                                 per_sample_weights=per_sample_weights,
                                 include_last_offset=include_last_offset, padding_idx=padding_idx)


@function("torch.var", input="float", layout="reduce", tensor="input", dims=("dim",), returns="float", method="var")
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    # PyTorch divides by N - correction (default 1); keras.ops.var by N.
    if given(correction):
        return pytorch_var(input, dim, correction, keepdim)
    if unbiased:
        return pytorch_var(input, dim, 1, keepdim)
    return pytorch_var(input, dim, 0, keepdim)


@function("torch.std", input="float", layout="reduce", tensor="input", dims=("dim",), returns="float", method="std")
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    if given(correction):
        return pytorch_var(input, dim, correction, keepdim, std=True)
    if unbiased:
        return pytorch_var(input, dim, 1, keepdim, std=True)
    return pytorch_var(input, dim, 0, keepdim, std=True)


# (var, mean) / (std, mean) of one pass, a plain tuple in PyTorch (no field names).
@function("torch.var_mean", input="float", layout="reduce", tensor="input", dims=("dim",), returns=("var", "mean"),
          items=("same", "same"))
def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    if given(correction):
        return (pytorch_var(input, dim, correction, keepdim), ops.mean(input, axis=dim, keepdims=keepdim))
    if unbiased:
        return (pytorch_var(input, dim, 1, keepdim), ops.mean(input, axis=dim, keepdims=keepdim))
    return (pytorch_var(input, dim, 0, keepdim), ops.mean(input, axis=dim, keepdims=keepdim))


@function("torch.std_mean", input="float", layout="reduce", tensor="input", dims=("dim",), returns=("std", "mean"),
          items=("same", "same"))
def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):
    if given(correction):
        return (pytorch_var(input, dim, correction, keepdim, std=True), ops.mean(input, axis=dim, keepdims=keepdim))
    if unbiased:
        return (pytorch_var(input, dim, 1, keepdim, std=True), ops.mean(input, axis=dim, keepdims=keepdim))
    return (pytorch_var(input, dim, 0, keepdim, std=True), ops.mean(input, axis=dim, keepdims=keepdim))


@function("torch.argmax", layout="reduce", tensor="input", dims=("dim",), returns="int", method="argmax")
def argmax(input, dim=None, keepdim=False):
    # Without dim PyTorch indexes the flattened tensor, whose order a layout changes.
    require(given(dim), "`argmax()` without `dim` is not supported yet; flatten first: x.flatten().argmax(0)")
    return ops.argmax(input, axis=dim, keepdims=keepdim)


@function("torch.maximum", layout="any")
def maximum(input, other):
    return ops.maximum(input, other)


@function("torch.minimum", layout="any")
def minimum(input, other):
    return ops.minimum(input, other)


@function("torch.bmm", layout="torch", method="bmm")
def bmm(input, mat2):
    return ops.matmul(input, mat2)


@function("torch.flip", layout="dim", tensor="input", dims=("dims",))
def flip(input, dims):
    return ops.flip(input, axis=dims)


@function("torch.roll", layout="dim", tensor="input", dims=("dims",), method="roll")
def roll(input, shifts, dims=None):
    require(given(dims), "`roll` without `dims` rolls the flattened tensor; not supported yet")
    return ops.roll(input, shifts, axis=dims)


@function("torch.nn.functional.normalize", layout="dim", tensor="input", dims=("dim",))
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    # input / max(||input||_p over dim, eps), as PyTorch computes it.
    require(out is None, "`out=` is not supported")
    return input / ops.maximum(ops.norm(input, ord=p, axis=dim, keepdims=True), eps)


@function("torch.nn.functional.rms_norm", input="float", layout="torch")
def rms_norm(input, normalized_shape, weight=None, eps=None):
    return pytorch_rms_norm(input, normalized_shape, weight=weight, eps=eps)


@function("torch.nn.functional.scaled_dot_product_attention", input="float", layout="torch")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    # A boolean attn_mask keeps the True scores (runtime helper's docstring).
    require(enable_gqa == False, "`enable_gqa=True` is not supported yet")
    return pytorch_scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                                                is_causal=is_causal, scale=scale)


@function("torch.linspace", layout="torch", returns="float")
def linspace(start, end, steps, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    # PyTorch's default dtype is float32, as Keras' floatx.
    require(out is None, "`out=` is not supported")
    ignore(layout, device, requires_grad)
    # keras.ops.linspace needs `steps` as a Python int; a size read when the model
    # runs (torch.linspace(0, 1, x.size(1))) may be a graph tensor: the runtime's.
    if not is_known(steps) and given(dtype):
        return pytorch_linspace(start, end, steps, dtype=dtype)
    if not is_known(steps):
        return pytorch_linspace(start, end, steps)
    if given(dtype):
        return ops.linspace(start, end, steps, dtype=dtype)
    return ops.linspace(start, end, steps, dtype="float32")


@function("torch.addmm", input="float", layout="torch")
def addmm(input, mat1, mat2, beta=1, alpha=1, out=None):
    # beta * input + alpha * (mat1 @ mat2) (Hugging Face's Conv1D of GPT-2).
    require(out is None, "`out=` is not supported")
    if beta == 1 and alpha == 1:
        return input + ops.matmul(mat1, mat2)
    return beta * input + alpha * ops.matmul(mat1, mat2)


@function("torch.div", "torch.divide", "torch.true_divide", layout="any")
def div(input, other, rounding_mode=None, out=None):
    require(out is None, "`out=` is not supported")
    if rounding_mode is None:
        return input / other
    if rounding_mode == "floor":
        return ops.floor_divide(input, other)
    require(rounding_mode == "trunc", "`rounding_mode={rounding_mode}` is not supported")
    return ops.trunc(input / other)


@function("torch.triu", layout="torch", method="triu")
def triu(input, diagonal=0):
    return ops.triu(input, k=diagonal)


@function("torch.tril", layout="torch", method="tril")
def tril(input, diagonal=0):
    return ops.tril(input, k=diagonal)


@function("torch.nn.Transformer.generate_square_subsequent_mask", layout="torch")
def generate_square_subsequent_mask(sz, device=None, dtype=None):
    # A float (sz, sz) mask: -inf above the diagonal (later positions), 0 elsewhere.
    require(dtype is None, "`dtype={dtype}` is not supported yet")
    ignore(device)
    return ops.where(ops.triu(ops.ones((sz, sz)), k=1) > 0, float("-inf"), 0.0)


@function("torch.tensor", layout="torch", returns="number")
def tensor(data, dtype=None, device=None, requires_grad=False):
    # Python floats become float32 tensors as in PyTorch, ints int32 (PyTorch: int64)
    # unless a dtype is given.
    ignore(device, requires_grad)
    return ops.convert_to_tensor(data, dtype=dtype)


@function("torch.randn", layout="torch")
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    # Keras' random generator, not PyTorch's: other values from the same
    # distribution (a parameter's start, replaced by load_torch_state_dict).
    require(generator is None, "`generator=` is not supported")
    require(dtype is None, "`dtype={dtype}` is not supported yet")
    ignore(device, requires_grad)
    if len(size) > 1:
        return keras.random.normal(size)
    return keras.random.normal(pytorch_size(size))


@function("torch.randint", layout="torch", returns="int")
def randint(low, high, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    # torch.randint(high, size) or torch.randint(low, high, size): integers in
    # [low, high), int64 unless dtype says, from Keras' generator (see randn).
    require(generator is None, "`generator=` is not supported")
    ignore(device, requires_grad)
    if not given(size) and given(dtype):
        return keras.random.randint(high, 0, low, dtype=dtype)
    if not given(size):
        return keras.random.randint(high, 0, low, dtype="int64")
    if given(dtype):
        return keras.random.randint(size, low, high, dtype=dtype)
    return keras.random.randint(size, low, high, dtype="int64")


@function("torch.randn_like", layout="any")
def randn_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    # Keras' generator (see randn), the input's shape and float dtype.
    require(dtype is None, "`dtype={dtype}` is not supported yet")
    ignore(layout, device, requires_grad, memory_format)
    return keras.random.normal(ops.shape(input), dtype=input.dtype)


@function("torch.rand_like", layout="any")
def rand_like(input, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    require(dtype is None, "`dtype={dtype}` is not supported yet")
    ignore(layout, device, requires_grad, memory_format)
    return keras.random.uniform(ops.shape(input), dtype=input.dtype)


@function("torch.rand", layout="torch")
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    # Keras' random generator (see randn).
    require(generator is None, "`generator=` is not supported")
    ignore(device, requires_grad)
    if given(dtype):  # timm's drop_path: torch.rand(shape, dtype=x.dtype)
        return keras.random.uniform(pytorch_size(size), dtype=dtype)
    if len(size) > 1:
        return keras.random.uniform(size)
    return keras.random.uniform(pytorch_size(size))


@function("torch.device", layout="value")
def device(type, index=None):
    # A device names where tensors live: the string is all `.to(...)` reads (Keras
    # places tensors itself).
    ignore(index)
    return type


@function("torch._assert", layout="value")
def _assert(condition, message):
    # A check of Python values (sizes known when the model is traced) raises as
    # PyTorch does; a check of tensor values is left out (pytorch_assert).
    return pytorch_assert(condition, message)


@function("torch.arange", layout="torch", returns="number")
def arange(start, end=None, step=1, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    # torch.arange(end) counts from 0, as keras.ops.arange(stop) does. Without a
    # dtype PyTorch makes int64 from ints and float32 otherwise; Keras int32 from
    # ints: the same values.
    require(out is None, "`out=` is not supported")
    ignore(layout, device, requires_grad, pin_memory)
    if not given(end):
        return ops.arange(start, dtype=dtype)
    if step == 1:
        return ops.arange(start, end, dtype=dtype)
    return ops.arange(start, end, step, dtype=dtype)


@function("torch.full", layout="torch")
def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    # Without a dtype PyTorch takes fill_value's type (an int: int64), Keras float32.
    ignore(device, requires_grad)
    return ops.full(size, fill_value, dtype=dtype)


@function("torch.full_like", layout="any")
def full_like(input, fill_value, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    # No dtype: the input's, in both (a float fill of an int tensor is truncated).
    ignore(layout, device, requires_grad, memory_format)
    return ops.full_like(input, fill_value, dtype=dtype)


# Comparisons as functions (the operators `x > y` are lowered as such).
@function("torch.eq", layout="any", returns="bool", method="eq")
def eq(input, other):
    return ops.equal(input, other)


@function("torch.ne", "torch.not_equal", layout="any", returns="bool")
def ne(input, other):
    return ops.not_equal(input, other)


@function("torch.lt", "torch.less", layout="any", returns="bool")
def lt(input, other):
    return ops.less(input, other)


@function("torch.le", "torch.less_equal", layout="any", returns="bool")
def le(input, other):
    return ops.less_equal(input, other)


@function("torch.gt", "torch.greater", layout="any", returns="bool")
def gt(input, other):
    return ops.greater(input, other)


@function("torch.ge", "torch.greater_equal", layout="any", returns="bool")
def ge(input, other):
    return ops.greater_equal(input, other)


@function("torch.where", layout="any")
def where(condition, input=None, other=None):
    require(given(input), "`torch.where(condition)` gives a shape that depends on the data, "
            "which a compiled graph cannot hold")
    return ops.where(condition, input, other)


# Ops whose output shape depends on the data: a compiled Keras graph (XLA,
# tf.function with static shapes, jax.jit) cannot hold them, so they are errors.
@function("torch.nonzero", "torch.argwhere", layout="torch", returns="int")
def nonzero(input, as_tuple=False):
    require(False, "`torch.nonzero` gives a shape that depends on the data, which a compiled graph "
            "cannot hold; use a mask with torch.where(mask, x, y)")
    ignore(as_tuple)
    return input


@function("torch.masked_select", layout="torch")
def masked_select(input, mask):
    require(False, "`torch.masked_select` gives a shape that depends on the data, which a compiled "
            "graph cannot hold; use torch.where(mask, x, 0)")
    ignore(mask)
    return input


@function("torch.unique", layout="torch")
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    require(False, "`torch.unique` gives a shape that depends on the data, which a compiled graph "
            "cannot hold")
    ignore(sorted, return_inverse, return_counts, dim)
    return input


# A dtype's limits (Hugging Face's additive masks: torch.finfo(dtype).min): numpy's
# finfo/iinfo give the same IEEE and integer limits (min, max, eps, tiny, bits).
@function("torch.finfo", layout="value")
def finfo(type=None):
    if not given(type):  # PyTorch's default dtype
        return np.finfo("float32")
    return np.finfo(keras.backend.standardize_dtype(type))


@function("torch.iinfo", layout="value")
def iinfo(type):
    return np.iinfo(keras.backend.standardize_dtype(type))


