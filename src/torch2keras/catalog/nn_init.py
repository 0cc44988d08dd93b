"""torch.nn.init functions applied to one layer's parameter in constructor code
(`nn.init.kaiming_normal_(self.conv.weight, mode="fan_out")`): the Keras
initializer drawing from the same distribution. The engine writes it to the
layer's initializer attribute (INITIALIZER_ATTRIBUTES) before the layer is built.
A form with a `require` that fails is not direct: the call is dropped with a
warning (load_torch_state_dict sets the weights anyway).

Facts (torch/nn/init.py, keras/src/initializers):
* PyTorch and Keras compute fan_in/fan_out alike for Linear/Dense and
  convolution kernels (receptive field x input / output channels).
* kaiming_*: std = gain / sqrt(fan), bound = gain * sqrt(3 / fan); Keras
  VarianceScaling(scale) has std = sqrt(scale / fan), limit = sqrt(3 scale / fan):
  scale = gain^2, with gain^2 = 2 for relu and 2 / (1 + a^2) for leaky_relu.
* xavier_*: std = gain * sqrt(2 / (fan_in + fan_out)); VarianceScaling "fan_avg":
  scale = gain^2.
* trunc_normal_ cuts at absolute bounds a, b; Keras TruncatedNormal at two
  standard deviations from the mean: equal only when a = mean - 2 std, b = mean + 2 std.
"""

INITIALIZER_ATTRIBUTES = {
    "layers.Conv1D": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Conv2D": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Conv3D": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Conv1DTranspose": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Conv2DTranspose": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Conv3DTranspose": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.Dense": dict(weight="kernel_initializer", bias="bias_initializer"),
    "layers.BatchNormalization": dict(weight="gamma_initializer", bias="beta_initializer"),
    "layers.LayerNormalization": dict(weight="gamma_initializer", bias="beta_initializer"),
    "layers.GroupNormalization": dict(weight="gamma_initializer", bias="beta_initializer"),
}


@initializer("torch.nn.init.zeros_")
def zeros_(tensor):
    ignore(tensor)
    return keras.initializers.Zeros()


@initializer("torch.nn.init.ones_")
def ones_(tensor):
    ignore(tensor)
    return keras.initializers.Ones()


@initializer("torch.nn.init.constant_")
def constant_(tensor, val):
    ignore(tensor)
    return keras.initializers.Constant(val)


@initializer("torch.nn.init.normal_")
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    ignore(tensor, generator)
    return keras.initializers.RandomNormal(mean=mean, stddev=std)


@initializer("torch.nn.init.uniform_")
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    ignore(tensor, generator)
    return keras.initializers.RandomUniform(minval=a, maxval=b)


@initializer("torch.nn.init.trunc_normal_")
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    ignore(tensor, generator)
    require(a == mean - 2 * std and b == mean + 2 * std,
            "`trunc_normal_` cut at a={a}, b={b} is not Keras' cut at two standard deviations")
    return keras.initializers.TruncatedNormal(mean=mean, stddev=std)


@initializer("torch.nn.init.kaiming_normal_")
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    ignore(tensor, generator)
    require(nonlinearity == "relu" or nonlinearity == "leaky_relu",
            "`nonlinearity={nonlinearity}` is not supported yet (relu, leaky_relu)")
    if nonlinearity == "relu":
        return keras.initializers.VarianceScaling(scale=2.0, mode=mode, distribution="untruncated_normal")
    return keras.initializers.VarianceScaling(scale=2.0 / (1 + a * a), mode=mode,
                                              distribution="untruncated_normal")


@initializer("torch.nn.init.kaiming_uniform_")
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    ignore(tensor, generator)
    require(nonlinearity == "relu" or nonlinearity == "leaky_relu",
            "`nonlinearity={nonlinearity}` is not supported yet (relu, leaky_relu)")
    if nonlinearity == "relu":
        return keras.initializers.VarianceScaling(scale=2.0, mode=mode, distribution="uniform")
    return keras.initializers.VarianceScaling(scale=2.0 / (1 + a * a), mode=mode, distribution="uniform")


@initializer("torch.nn.init.xavier_uniform_")
def xavier_uniform_(tensor, gain=1.0, generator=None):
    ignore(tensor, generator)
    return keras.initializers.VarianceScaling(scale=gain * gain, mode="fan_avg", distribution="uniform")


@initializer("torch.nn.init.xavier_normal_")
def xavier_normal_(tensor, gain=1.0, generator=None):
    ignore(tensor, generator)
    return keras.initializers.VarianceScaling(scale=gain * gain, mode="fan_avg",
                                              distribution="untruncated_normal")
