"""Activation modules.

Facts (pitfalls.md):
* P36: LeakyReLU defaults differ (PyTorch 0.01, Keras layer 0.3): always passed.
* P37: nn.GELU() is the exact (erf) form = Keras "gelu" activation; `keras.ops.gelu`
  defaults to the tanh approximation, so the approximation is always spelled out.
* P38: Keras 3 hard_sigmoid / hard_silu equal PyTorch Hardsigmoid / Hardswish.
* P39: PReLU has one parameter (or one per channel), Keras one per element: the
  PyTorchPReLU helper shares it across the other axes.
* `inplace` has no meaning for immutable tensors; the result is used as returned.
"""


@module("torch.nn.ReLU", layout="any")
def ReLU(inplace=False):
    ignore(inplace)
    return layers.ReLU()


@module("torch.nn.ReLU6", layout="any")
def ReLU6(inplace=False):
    ignore(inplace)
    return layers.ReLU(max_value=6.0)


@module("torch.nn.LeakyReLU", layout="any")
def LeakyReLU(negative_slope=0.01, inplace=False):
    ignore(inplace)
    return layers.LeakyReLU(negative_slope=negative_slope)


@module("torch.nn.ELU", layout="any")
def ELU(alpha=1.0, inplace=False):
    ignore(inplace)
    return layers.ELU(alpha=alpha)


@module("torch.nn.SELU", layout="any")
def SELU(inplace=False):
    ignore(inplace)
    return layers.Activation("selu")


@module("torch.nn.GELU", layout="any")
def GELU(approximate="none"):
    require(approximate == "none" or approximate == "tanh",
            "`approximate={approximate}` must be 'none' or 'tanh'")
    if approximate == "none":
        return layers.Activation("gelu")
    return PyTorchGELU(approximate=True)


@module("torch.nn.SiLU", layout="any")
def SiLU(inplace=False):
    ignore(inplace)
    return layers.Activation("silu")


@module("torch.nn.Mish", layout="any")
def Mish(inplace=False):
    ignore(inplace)
    return layers.Activation("mish")


@module("torch.nn.Hardswish", layout="any")
def Hardswish(inplace=False):
    ignore(inplace)
    return layers.Activation("hard_silu")


@module("torch.nn.Hardsigmoid", layout="any")
def Hardsigmoid(inplace=False):
    ignore(inplace)
    return layers.Activation("hard_sigmoid")


@module("torch.nn.Sigmoid", layout="any")
def Sigmoid():
    return layers.Activation("sigmoid")


@module("torch.nn.Tanh", layout="any")
def Tanh():
    return layers.Activation("tanh")


@module("torch.nn.Softsign", layout="any")
def Softsign():
    return layers.Activation("softsign")


@module("torch.nn.Softplus", layout="any")
def Softplus(beta=1.0, threshold=20.0):
    # PyTorch is the identity where beta * x > threshold; at the default 20 the two
    # differ by log1p(exp(-20)) ~ 2e-9, below float32 resolution.
    if beta == 1 and threshold == 20:
        return layers.Activation("softplus")
    return PyTorchSoftplus(beta=beta, threshold=threshold)


@module("torch.nn.GLU", layout="dim", tensor="input", dims=("dim",))
def GLU(dim=-1):
    # The first half along `dim` times the sigmoid of the second.
    return PyTorchGLU(axis=dim)


@module("torch.nn.Softmax", input="float", layout="dim", tensor="input", dims=("dim",))
def Softmax(dim=None):
    require(dim is not None, "`nn.Softmax()` without `dim` uses PyTorch's implicit dim; pass `dim`")
    return layers.Softmax(axis=dim)


@module("torch.nn.PReLU", input="float", layout="torch")
def PReLU(num_parameters=1, init=0.25, device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchPReLU(num_parameters, init)


@module("torch.nn.CELU", layout="any")
def CELU(alpha=1.0, inplace=False):
    ignore(inplace)
    return PyTorchCELU(alpha)


@module("torch.nn.Hardtanh", layout="any")
def Hardtanh(min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
    ignore(inplace)
    require(min_value is None and max_value is None,
            "`min_value`/`max_value` are deprecated in PyTorch; use min_val/max_val")
    if min_val == 0 and max_val == 6:
        return layers.ReLU(max_value=6.0)
    return PyTorchHardtanh(min_val, max_val)


@module("torch.nn.Tanhshrink", layout="any")
def Tanhshrink():
    return PyTorchTanhshrink()


@module("torch.nn.Threshold", layout="any")
def Threshold(threshold, value, inplace=False):
    ignore(inplace)
    return PyTorchThreshold(threshold, value)


@module("torch.nn.LogSoftmax", input="float", layout="dim", tensor="input", dims=("dim",))
def LogSoftmax(dim=None):
    require(dim is not None, "`nn.LogSoftmax()` without `dim` uses PyTorch's implicit dim; pass `dim`")
    return PyTorchLogSoftmax(axis=dim)
