"""Convolutions: torch.nn.Conv1d/2d/3d, ConvTranspose1d/2d/3d.

Facts (../../../../shared/reference/pitfalls.md):
* P01: weights OIHW -> HWIO is done by load_torch_state_dict, not here.
* P02: PyTorch pads `padding` on both sides; Keras "same" pads the odd pixel after,
  so "same" is used only where the two agree (stride 1, padding = dilation*(k-1)/2);
  otherwise the padding is explicit (ZeroPadding) before a "valid" convolution.
* P04/P05: groups map to Keras `groups`, kernel (k..., in/groups, out) with the
  same output-channel order as PyTorch; depthwise (groups == in_channels) maps to
  DepthwiseConv with depth_multiplier = out/in, kernel (k..., in, out/in).
* P06: padding_mode "reflect", "replicate" or "circular" pads with that mode's
  values (PyTorchConvPadding) before a "valid" convolution.
* P08/P09: ConvTranspose crops `padding` at both ends of the full output; Keras
  "valid" with `output_padding` given is that full output, (in - 1) * stride +
  dilation * (k - 1) + 1 + output_padding (without it, Keras makes in * stride when
  the kernel is shorter than the stride), so `padding` is a crop after it.
"""


@module("torch.nn.Conv1d", input="float", layout="spatial", rank=3)
def Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
           bias=True, padding_mode="zeros", device=None, dtype=None):
    ignore(device, dtype)
    require(padding_mode == "zeros" or padding_mode == "reflect" or padding_mode == "replicate"
            or padding_mode == "circular", "`padding_mode={padding_mode}` is not a PyTorch padding mode")
    if padding_mode != "zeros" and not (all_equal(padding, 0) or padding == "valid"):
        return keras.Sequential([
            PyTorchConvPadding(padding, kernel_size, dilation, 1, padding_mode, data_format=DATA_FORMAT),
            layers.Conv1D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                          groups=groups, use_bias=bias, data_format=DATA_FORMAT),
        ])
    # Depthwise (groups == in_channels): DepthwiseConv1D, much faster than a grouped
    # Conv1D on CPU; TensorFlow needs stride 1 where the dilation is not 1.
    if (groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1))
            and (all_equal(padding, 0) or padding == "valid")):
        return layers.DepthwiseConv1D(kernel_size, strides=stride,
                                      depth_multiplier=out_channels // in_channels,
                                      dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT)
    if (groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1))
            and (padding == "same" or same_padding(padding, kernel_size, stride, dilation))):
        return layers.DepthwiseConv1D(kernel_size, strides=stride, padding="same",
                                      depth_multiplier=out_channels // in_channels,
                                      dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT)
    if groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1)):
        return keras.Sequential([
            layers.ZeroPadding1D(padding, data_format=DATA_FORMAT),
            layers.DepthwiseConv1D(kernel_size, strides=stride,
                                   depth_multiplier=out_channels // in_channels,
                                   dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT),
        ])
    if all_equal(padding, 0) or padding == "valid":
        return layers.Conv1D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                             groups=groups, use_bias=bias, data_format=DATA_FORMAT)
    if padding == "same" or same_padding(padding, kernel_size, stride, dilation):
        return layers.Conv1D(out_channels, kernel_size, strides=stride, padding="same",
                             dilation_rate=dilation, groups=groups, use_bias=bias,
                             data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.ZeroPadding1D(padding, data_format=DATA_FORMAT),
        layers.Conv1D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                      groups=groups, use_bias=bias, data_format=DATA_FORMAT),
    ])


@module("torch.nn.Conv2d", input="float", layout="spatial", rank=4)
def Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
           bias=True, padding_mode="zeros", device=None, dtype=None):
    ignore(device, dtype)
    require(padding_mode == "zeros" or padding_mode == "reflect" or padding_mode == "replicate"
            or padding_mode == "circular", "`padding_mode={padding_mode}` is not a PyTorch padding mode")
    if padding_mode != "zeros" and not (all_equal(padding, 0) or padding == "valid"):
        return keras.Sequential([
            PyTorchConvPadding(padding, kernel_size, dilation, 2, padding_mode, data_format=DATA_FORMAT),
            layers.Conv2D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                          groups=groups, use_bias=bias, data_format=DATA_FORMAT),
        ])
    # Depthwise (groups == in_channels): DepthwiseConv2D, much faster than a grouped
    # Conv2D on CPU; TensorFlow needs stride 1 where the dilation is not 1.
    if (groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1))
            and (all_equal(padding, 0) or padding == "valid")):
        return layers.DepthwiseConv2D(kernel_size, strides=stride,
                                      depth_multiplier=out_channels // in_channels,
                                      dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT)
    if (groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1))
            and (padding == "same" or same_padding(padding, kernel_size, stride, dilation))):
        return layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same",
                                      depth_multiplier=out_channels // in_channels,
                                      dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT)
    if groups > 1 and groups == in_channels and (all_equal(stride, 1) or all_equal(dilation, 1)):
        return keras.Sequential([
            layers.ZeroPadding2D(padding, data_format=DATA_FORMAT),
            layers.DepthwiseConv2D(kernel_size, strides=stride,
                                   depth_multiplier=out_channels // in_channels,
                                   dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT),
        ])
    if all_equal(padding, 0) or padding == "valid":
        return layers.Conv2D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                             groups=groups, use_bias=bias, data_format=DATA_FORMAT)
    if padding == "same" or same_padding(padding, kernel_size, stride, dilation):
        return layers.Conv2D(out_channels, kernel_size, strides=stride, padding="same",
                             dilation_rate=dilation, groups=groups, use_bias=bias,
                             data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.ZeroPadding2D(padding, data_format=DATA_FORMAT),
        layers.Conv2D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                      groups=groups, use_bias=bias, data_format=DATA_FORMAT),
    ])


@module("torch.nn.Conv3d", input="float", layout="spatial", rank=5)
def Conv3d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
           bias=True, padding_mode="zeros", device=None, dtype=None):
    ignore(in_channels, device, dtype)
    require(padding_mode == "zeros" or padding_mode == "reflect" or padding_mode == "replicate"
            or padding_mode == "circular", "`padding_mode={padding_mode}` is not a PyTorch padding mode")
    if padding_mode != "zeros" and not (all_equal(padding, 0) or padding == "valid"):
        return keras.Sequential([
            PyTorchConvPadding(padding, kernel_size, dilation, 3, padding_mode, data_format=DATA_FORMAT),
            layers.Conv3D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                          groups=groups, use_bias=bias, data_format=DATA_FORMAT),
        ])
    if all_equal(padding, 0) or padding == "valid":
        return layers.Conv3D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                             groups=groups, use_bias=bias, data_format=DATA_FORMAT)
    if padding == "same" or same_padding(padding, kernel_size, stride, dilation):
        return layers.Conv3D(out_channels, kernel_size, strides=stride, padding="same",
                             dilation_rate=dilation, groups=groups, use_bias=bias,
                             data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.ZeroPadding3D(padding, data_format=DATA_FORMAT),
        layers.Conv3D(out_channels, kernel_size, strides=stride, dilation_rate=dilation,
                      groups=groups, use_bias=bias, data_format=DATA_FORMAT),
    ])


@module("torch.nn.ConvTranspose2d", input="float", layout="spatial", rank=4)
def ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
                    output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                    device=None, dtype=None):
    ignore(in_channels, device, dtype)
    require(padding_mode == "zeros", "`padding_mode={padding_mode}` is not supported")
    require(all_equal(groups, 1),
            "`groups={groups}` is not supported: Keras transposed convolutions have no groups")
    require(all_equal(stride, 1) or all_equal(dilation, 1),
            "`stride={stride}` with `dilation={dilation}` is not supported: Keras transposed "
            "convolutions take no stride above 1 with a dilation above 1")
    if all_equal(padding, 0):
        return layers.Conv2DTranspose(out_channels, kernel_size, strides=stride,
                                      output_padding=output_padding, dilation_rate=dilation,
                                      use_bias=bias, data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.Conv2DTranspose(out_channels, kernel_size, strides=stride, output_padding=output_padding,
                               dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT),
        PyTorchCropping(padding, 2, data_format=DATA_FORMAT),
    ])


@module("torch.nn.ConvTranspose1d", input="float", layout="spatial", rank=3)
def ConvTranspose1d(in_channels, out_channels, kernel_size, stride=1, padding=0,
                    output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                    device=None, dtype=None):
    ignore(in_channels, device, dtype)
    require(padding_mode == "zeros", "`padding_mode={padding_mode}` is not supported")
    require(all_equal(groups, 1),
            "`groups={groups}` is not supported: Keras transposed convolutions have no groups")
    require(all_equal(stride, 1) or all_equal(dilation, 1),
            "`stride={stride}` with `dilation={dilation}` is not supported: Keras transposed "
            "convolutions take no stride above 1 with a dilation above 1")
    if all_equal(padding, 0):
        return layers.Conv1DTranspose(out_channels, kernel_size, strides=stride,
                                      output_padding=output_padding, dilation_rate=dilation,
                                      use_bias=bias, data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.Conv1DTranspose(out_channels, kernel_size, strides=stride, output_padding=output_padding,
                               dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT),
        PyTorchCropping(padding, 1, data_format=DATA_FORMAT),
    ])


@module("torch.nn.ConvTranspose3d", input="float", layout="spatial", rank=5)
def ConvTranspose3d(in_channels, out_channels, kernel_size, stride=1, padding=0,
                    output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                    device=None, dtype=None):
    ignore(in_channels, device, dtype)
    require(padding_mode == "zeros", "`padding_mode={padding_mode}` is not supported")
    require(all_equal(groups, 1),
            "`groups={groups}` is not supported: Keras transposed convolutions have no groups")
    require(all_equal(stride, 1) or all_equal(dilation, 1),
            "`stride={stride}` with `dilation={dilation}` is not supported: Keras transposed "
            "convolutions take no stride above 1 with a dilation above 1")
    if all_equal(padding, 0):
        return layers.Conv3DTranspose(out_channels, kernel_size, strides=stride,
                                      output_padding=output_padding, dilation_rate=dilation,
                                      use_bias=bias, data_format=DATA_FORMAT)
    return keras.Sequential([
        layers.Conv3DTranspose(out_channels, kernel_size, strides=stride, output_padding=output_padding,
                               dilation_rate=dilation, use_bias=bias, data_format=DATA_FORMAT),
        PyTorchCropping(padding, 3, data_format=DATA_FORMAT),
    ])
