"""Linear, Identity, Flatten, Dropout.

Facts (pitfalls.md):
* P10: Linear weight (out, in) is Dense kernel (in, out): load_torch_state_dict
  transposes it. Dense, like Linear, acts on the last axis.
* P30/P61: nn.Flatten flattens in PyTorch order (C, H, W); the engine gives it its
  input in PyTorch layout (layout="torch").
* P46: Dropout2d drops whole channels = SpatialDropout2D.
"""


@module("torch.nn.Linear", layout="features")
def Linear(in_features, out_features, bias=True, device=None, dtype=None):
    ignore(in_features, device, dtype)
    return layers.Dense(out_features, use_bias=bias)


@module("torch.nn.Identity", layout="any")
def Identity(*args, **kwargs):
    ignore(args, kwargs)
    return layers.Identity()


@module("torch.nn.Flatten", layout="torch")
def Flatten(start_dim=1, end_dim=-1):
    require(start_dim == 1 and end_dim == -1,
            "`nn.Flatten({start_dim}, {end_dim})` is not supported yet; only Flatten(1, -1)")
    return layers.Flatten()


@module("torch.nn.Dropout", layout="any")
def Dropout(p=0.5, inplace=False):
    ignore(inplace)
    return layers.Dropout(p)


@module("torch.nn.Dropout1d", layout="spatial", rank=3)
def Dropout1d(p=0.5, inplace=False):
    ignore(inplace)
    return layers.SpatialDropout1D(p)


@module("torch.nn.Dropout2d", layout="spatial", rank=4)
def Dropout2d(p=0.5, inplace=False):
    ignore(inplace)
    return layers.SpatialDropout2D(p, data_format=DATA_FORMAT)


@module("torch.nn.AlphaDropout", layout="any")
def AlphaDropout(p=0.5, inplace=False):
    ignore(inplace)
    return layers.AlphaDropout(p)


@module("torchvision.ops.StochasticDepth", "torchvision.ops.stochastic_depth.StochasticDepth",
        layout="any")
def StochasticDepth(p, mode):
    return PyTorchStochasticDepth(p, mode)


@function("torchvision.ops.stochastic_depth", "torchvision.ops.stochastic_depth.stochastic_depth",
          layout="any")
def stochastic_depth(input, p, mode, training=True):
    if training == False:
        return input
    return pytorch_stochastic_depth(input, p, mode, training)
