"""Tensor methods (`x.view(...)`, `x.mean(...)`): `self` is the tensor.

Facts (pitfalls.md):
* P31: view/reshape/permute/transpose work in PyTorch axis order (layout="torch").
* P35: repeat is ops.tile, repeat_interleave is ops.repeat.
"""


@method("view", "reshape", layout="torch")
def view(self, *shape):
    return ops.reshape(self, shape)


@method("flatten", layout="torch")
def flatten(self, start_dim=0, end_dim=-1):
    if start_dim == 1 and end_dim == -1:
        return ops.reshape(self, (ops.shape(self)[0], -1))
    if start_dim == 0 and end_dim == -1:
        return ops.reshape(self, (-1,))
    return pytorch_flatten(self, start_dim, end_dim)


@method("expand_as", layout="any")
def expand_as(self, other):
    return ops.broadcast_to(self, ops.shape(other))


@method("permute", layout="torch")
def permute(self, *dims):
    return ops.transpose(self, dims)


@method("transpose", layout="torch")
def transpose(self, dim0, dim1):
    return ops.swapaxes(self, dim0, dim1)


@method("contiguous", layout="any")
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


@method("mean", layout="reduce", tensor="self", dims=("dim",))
def mean(self, dim=None, keepdim=False, dtype=None):
    require(dtype is None, "`dtype={dtype}` is not supported")
    return ops.mean(self, axis=dim, keepdims=keepdim)


@method("sum", layout="reduce", tensor="self", dims=("dim",))
def sum(self, dim=None, keepdim=False, dtype=None):
    require(dtype is None, "`dtype={dtype}` is not supported")
    return ops.sum(self, axis=dim, keepdims=keepdim)


@method("amax", layout="reduce", tensor="self", dims=("dim",))
def amax(self, dim=(), keepdim=False):
    return ops.max(self, axis=dim, keepdims=keepdim)


@method("chunk", layout="dim", tensor="self", dims=("dim",), returns="list")
def chunk(self, chunks, dim=0):
    return ops.split(self, chunks, axis=dim)


@method("split", layout="dim", tensor="self", dims=("dim",), returns="list")
def split(self, split_size, dim=0):
    return pytorch_split(self, split_size, dim)


@method("relu", "relu_", layout="any")
def relu(self):
    return ops.relu(self)


@method("sigmoid", layout="any")
def sigmoid(self):
    return ops.sigmoid(self)


@method("tanh", layout="any")
def tanh(self):
    return ops.tanh(self)


@method("softmax", layout="dim", tensor="self", dims=("dim",))
def softmax(self, dim):
    return ops.softmax(self, axis=dim)


@method("unsqueeze", layout="torch")
def unsqueeze(self, dim):
    return ops.expand_dims(self, dim)


@method("squeeze", layout="torch")
def squeeze(self, dim=None):
    return ops.squeeze(self, axis=dim)


@method("repeat", layout="torch")
def repeat(self, *sizes):
    return ops.tile(self, sizes)


@method("detach", layout="any")
def detach(self):
    return ops.stop_gradient(self)


@method("clone", layout="any")
def clone(self, memory_format=None):
    ignore(memory_format)
    return self


@method("float", layout="any")
def float(self):
    return ops.cast(self, "float32")


@attribute("requires_grad", layout="value")
def requires_grad(self):
    # Keras tensors carry no autograd flag; gradients are taken with a GradientTape /
    # jax.grad around the call. Model code reads it to choose gradient checkpointing
    # (DenseNet's memory_efficient), which changes memory, not values.
    ignore(self)
    return False
