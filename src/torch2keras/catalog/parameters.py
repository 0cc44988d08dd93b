"""Parameters and buffers of a converted layer read as tensors in forward code
(`F.linear(x, self.qkv.weight, self.qkv.bias)`, as torchvision's Swin does): the
Keras variable, in PyTorch's shape. Keys are "<Keras layer>.<PyTorch name>"; the
Keras layer is what the module's constructor became, and `self` is that layer.
A read with no entry here is an error that names it.

Facts (the loader's rules, emit/runtime/loader.py, which write the same variables):
* Dense kernel (in, out) is Linear weight (out, in) transposed.
* ConvND kernel (*k, in/groups, out) is Conv weight (out, in/groups, *k) with the
  axes moved; ConvNDTranspose kernel (*k, out/groups, in) is ConvTranspose weight
  (in, out/groups, *k) with the same move. Neither depends on data_format.
* Embedding embeddings (num, dim) is weight as is.
* BatchNormalization gamma, beta, moving_mean, moving_variance are weight, bias,
  running_mean, running_var; LayerNormalization gamma, beta are weight, bias
  (normalized_shape). A missing affine part is None in both (bias=False,
  affine=False, elementwise_affine=False).

A layer whose parameters are read this way may never be called: the constructor
builds it (`self.qkv.build((dim,))`) from the input shape its @build entry gives.
"""


@build("torch.nn.Linear")
def linear_build(in_features, out_features, bias=True, device=None, dtype=None):
    ignore(out_features, bias, device, dtype)
    return (in_features,)


@build("torch.nn.Embedding")
def embedding_build(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                    scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
                    dtype=None):
    # Keras' Embedding builds its table from its own settings.
    ignore(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
           sparse, _weight, _freeze, device, dtype)
    return None



@parameter("layers.Dense.weight", layout="torch")
def dense_weight(self):
    return ops.transpose(self.kernel)


@parameter("layers.Dense.bias", "layers.Conv1D.bias", "layers.Conv2D.bias", "layers.Conv3D.bias",
           "layers.Conv1DTranspose.bias", "layers.Conv2DTranspose.bias",
           "layers.Conv3DTranspose.bias", layout="torch")
def layer_bias(self):
    return self.bias


@parameter("layers.Conv1D.weight", "layers.Conv1DTranspose.weight", layout="torch")
def conv1d_weight(self):
    return ops.transpose(self.kernel, (2, 1, 0))


@parameter("layers.Conv2D.weight", "layers.Conv2DTranspose.weight", layout="torch")
def conv2d_weight(self):
    return ops.transpose(self.kernel, (3, 2, 0, 1))


@parameter("layers.Conv3D.weight", "layers.Conv3DTranspose.weight", layout="torch")
def conv3d_weight(self):
    return ops.transpose(self.kernel, (4, 3, 0, 1, 2))


@parameter("layers.Embedding.weight", "PyTorchEmbedding.weight", layout="torch")
def embedding_weight(self):
    return self.embeddings


@parameter("layers.BatchNormalization.weight", "layers.LayerNormalization.weight", layout="torch")
def norm_weight(self):
    return self.gamma


@parameter("layers.BatchNormalization.bias", "layers.LayerNormalization.bias", layout="torch")
def norm_bias(self):
    return self.beta


@parameter("layers.BatchNormalization.running_mean", layout="torch")
def running_mean(self):
    return self.moving_mean


@parameter("layers.BatchNormalization.running_var", layout="torch")
def running_var(self):
    return self.moving_variance



@build("torch.nn.Conv1d")
def conv1d_build(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
    # Only the channel axis and the rank matter to the kernel.
    ignore(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device,
           dtype)
    if DATA_FORMAT == "channels_last":
        return (None, None, in_channels)
    return (None, in_channels, None)


@build("torch.nn.Conv2d")
def conv2d_build(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
    ignore(out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device,
           dtype)
    if DATA_FORMAT == "channels_last":
        return (None, None, None, in_channels)
    return (None, in_channels, None, None)


@build("torch.nn.BatchNorm2d")
def batchnorm2d_build(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True,
                      device=None, dtype=None):
    ignore(eps, momentum, affine, track_running_stats, device, dtype)
    if DATA_FORMAT == "channels_last":
        return (None, None, None, num_features)
    return (None, num_features, None, None)


@build("torch.nn.LayerNorm")
def layernorm_build(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True, device=None,
                    dtype=None):
    # The normalised trailing axes are the whole shape built from.
    ignore(eps, elementwise_affine, bias, device, dtype)
    if is_int(normalized_shape):
        return (normalized_shape,)
    return normalized_shape


@parameter("layers.Dropout.p", layout="value")
def dropout_p(self):
    # nn.Dropout's probability (timm passes self.attn_drop.p to SDPA's dropout_p).
    return self.rate
