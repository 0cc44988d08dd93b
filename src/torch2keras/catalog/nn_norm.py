"""Normalization: BatchNorm, LayerNorm, GroupNorm, InstanceNorm.

Facts (pitfalls.md):
* P11: PyTorch momentum m updates running = (1-m)*running + m*batch; Keras
  momentum is the weight of the old value, so Keras momentum = 1 - m.
* P12/P16/P17: PyTorch eps defaults to 1e-5, Keras epsilon to 1e-3: always passed.
* P13: the channel axis is the last one in channels_last (-1), 1 in channels_first.
* Training: PyTorch updates running_var with the unbiased batch variance, Keras its
  moving variance with the biased one (which both normalize with); a file that
  trains its models or runs them in training mode, model.train()
  (TRAINING_CODE), gets the runtime's PyTorchBatchNormalization.
* P15: track_running_stats=False normalises with batch statistics in eval too.
* P18: InstanceNorm is GroupNormalization(groups=-1).
"""


@module("torch.nn.BatchNorm1d", input="float", layout="channel", rank=3)
def BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,
                device=None, dtype=None):
    ignore(num_features, device, dtype)
    require(track_running_stats == True,
            "`track_running_stats={track_running_stats}` is not supported yet: PyTorch then "
            "uses batch statistics in eval mode too (pitfall P15)")
    require(momentum is not None,
            "`momentum=None` (cumulative average) has no Keras equivalent")
    if TRAINING_CODE:  # PyTorch's running_var update (unbiased)
        return PyTorchBatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                         center=affine, scale=affine)
    return layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                     center=affine, scale=affine)


@module("torch.nn.BatchNorm2d", input="float", layout="spatial", rank=4, spatial_size="input")
def BatchNorm2d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,
                device=None, dtype=None):
    ignore(num_features, device, dtype)
    require(track_running_stats == True,
            "`track_running_stats={track_running_stats}` is not supported yet: PyTorch then "
            "uses batch statistics in eval mode too (pitfall P15)")
    require(momentum is not None,
            "`momentum=None` (cumulative average) has no Keras equivalent")
    if TRAINING_CODE:  # PyTorch's running_var update (unbiased)
        return PyTorchBatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                         center=affine, scale=affine)
    return layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                     center=affine, scale=affine)


@module("torch.nn.BatchNorm3d", input="float", layout="spatial", rank=5, spatial_size="input")
def BatchNorm3d(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,
                device=None, dtype=None):
    ignore(num_features, device, dtype)
    require(track_running_stats == True,
            "`track_running_stats={track_running_stats}` is not supported yet: PyTorch then "
            "uses batch statistics in eval mode too (pitfall P15)")
    require(momentum is not None,
            "`momentum=None` (cumulative average) has no Keras equivalent")
    if TRAINING_CODE:  # PyTorch's running_var update (unbiased)
        return PyTorchBatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                         center=affine, scale=affine)
    return layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=1 - momentum, epsilon=eps,
                                     center=affine, scale=affine)


@module("torch.nn.LayerNorm", input="float", layout="torch", base="PyTorchLayerNorm")
def LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None,
              dtype=None):
    ignore(device, dtype)
    if is_int(normalized_shape):
        return layers.LayerNormalization(axis=-1, epsilon=eps, center=elementwise_affine and bias,
                                         scale=elementwise_affine)
    if len(normalized_shape) == 1:
        return layers.LayerNormalization(axis=-1, epsilon=eps, center=elementwise_affine and bias,
                                         scale=elementwise_affine)
    # Over several trailing axes: PyTorch's weight and bias have their shape.
    return PyTorchLayerNorm(normalized_shape, eps=eps, elementwise_affine=elementwise_affine, bias=bias)


@module("torch.nn.RMSNorm", input="float", layout="torch")
def RMSNorm(normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchRMSNorm(normalized_shape, eps=eps, elementwise_affine=elementwise_affine)


@module("torch.nn.GroupNorm", input="float", layout="spatial", rank="input", spatial_size="input")
def GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, device=None, dtype=None):
    ignore(num_channels, device, dtype)
    return layers.GroupNormalization(groups=num_groups, axis=CHANNEL_AXIS, epsilon=eps,
                                     center=affine, scale=affine)


@module("torch.nn.InstanceNorm2d", input="float", layout="spatial", rank=4, spatial_size="input")
def InstanceNorm2d(num_features, eps=1e-05, momentum=0.1, affine=False,
                   track_running_stats=False, device=None, dtype=None):
    ignore(num_features, momentum, device, dtype)
    require(track_running_stats == False,
            "`track_running_stats={track_running_stats}` is not supported yet")
    return layers.GroupNormalization(groups=-1, axis=CHANNEL_AXIS, epsilon=eps, center=affine,
                                     scale=affine)


@module("torch.nn.InstanceNorm1d", input="float", layout="spatial", rank=3, spatial_size="input")
def InstanceNorm1d(num_features, eps=1e-05, momentum=0.1, affine=False,
                   track_running_stats=False, device=None, dtype=None):
    ignore(num_features, momentum, device, dtype)
    require(track_running_stats == False,
            "`track_running_stats={track_running_stats}` is not supported yet")
    return layers.GroupNormalization(groups=-1, axis=CHANNEL_AXIS, epsilon=eps, center=affine,
                                     scale=affine)


@module("torch.nn.LocalResponseNorm", input="float", layout="torch")
def LocalResponseNorm(size, alpha=0.0001, beta=0.75, k=1.0):
    return PyTorchLocalResponseNorm(size, alpha, beta, k)
