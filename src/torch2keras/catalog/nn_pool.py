"""Pooling: MaxPool, AvgPool, adaptive pooling.

Facts (pitfalls.md):
* P19: PyTorch max pooling pads with -inf; Keras "same" max pooling also ignores the
  padding, and equals PyTorch when stride is 1 and padding = (k-1)/2.
* P20: with stride > 1 Keras "same" pads after only: explicit padding instead.
* P21: count_include_pad=True counts the zero padding: ZeroPadding + "valid" average.
* P22: ceil_mode adds a last window; the PyTorchPooling helpers compute it.
* P23: adaptive pooling bins [floor(i*In/Out), ceil((i+1)*In/Out)); Keras >= 3.13
  AdaptiveAveragePooling uses the same bins. Output 1 is a global pool. Keras'
  two-pool method fails when one axis pools to 1 and another does not (its window
  for that axis, ceil(In/Out) + 1, is longer than the axis) and takes no None
  (PyTorch: keep that axis): the runtime's PyTorchAdaptive*Pooling2D then.
* P68: Keras strides=None means stride = pool size, like PyTorch stride=None.
"""


@module("torch.nn.MaxPool1d", layout="spatial", rank=3)
def MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
              ceil_mode=False):
    require(all_equal(dilation, 1), "`dilation={dilation}` is not supported in pooling yet")
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(padding, 0) and ceil_mode == False:
        return layers.MaxPooling1D(kernel_size, strides=stride, data_format=DATA_FORMAT)
    return PyTorchMaxPooling1D(kernel_size, strides=stride, padding=padding,
                               ceil_mode=ceil_mode, data_format=DATA_FORMAT)


@module("torch.nn.MaxPool2d", layout="spatial", rank=4)
def MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
              ceil_mode=False):
    require(all_equal(dilation, 1), "`dilation={dilation}` is not supported in pooling yet")
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(padding, 0) and ceil_mode == False:
        return layers.MaxPooling2D(kernel_size, strides=stride, data_format=DATA_FORMAT)
    if all_equal(stride, 1) and ceil_mode == False and same_padding(padding, kernel_size, 1, 1):
        return layers.MaxPooling2D(kernel_size, strides=1, padding="same",
                                   data_format=DATA_FORMAT)
    return PyTorchMaxPooling2D(kernel_size, strides=stride, padding=padding,
                               ceil_mode=ceil_mode, data_format=DATA_FORMAT)


@module("torch.nn.MaxPool3d", layout="spatial", rank=5)
def MaxPool3d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
              ceil_mode=False):
    require(all_equal(dilation, 1), "`dilation={dilation}` is not supported in pooling yet")
    require(return_indices == False, "`return_indices=True` is not supported")
    require(all_equal(padding, 0) and ceil_mode == False,
            "`padding={padding}` / `ceil_mode={ceil_mode}` is not supported in MaxPool3d yet")
    return layers.MaxPooling3D(kernel_size, strides=stride, data_format=DATA_FORMAT)


@module("torch.nn.AvgPool1d", input="float", layout="spatial", rank=3)
def AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    if all_equal(padding, 0) and ceil_mode == False:
        return layers.AveragePooling1D(kernel_size, strides=stride, data_format=DATA_FORMAT)
    return PyTorchAveragePooling1D(kernel_size, strides=stride, padding=padding,
                                   ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                                   data_format=DATA_FORMAT)


@module("torch.nn.AvgPool2d", input="float", layout="spatial", rank=4)
def AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
              divisor_override=None):
    require(divisor_override is None, "`divisor_override={divisor_override}` is not supported")
    if all_equal(padding, 0) and ceil_mode == False:
        return layers.AveragePooling2D(kernel_size, strides=stride, data_format=DATA_FORMAT)
    if count_include_pad == True and ceil_mode == False:
        return keras.Sequential([
            layers.ZeroPadding2D(padding, data_format=DATA_FORMAT),
            layers.AveragePooling2D(kernel_size, strides=stride, data_format=DATA_FORMAT),
        ])
    return PyTorchAveragePooling2D(kernel_size, strides=stride, padding=padding,
                                   ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                                   data_format=DATA_FORMAT)


@module("torch.nn.AvgPool3d", input="float", layout="spatial", rank=5)
def AvgPool3d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
              divisor_override=None):
    require(divisor_override is None, "`divisor_override={divisor_override}` is not supported")
    require(all_equal(padding, 0) and ceil_mode == False,
            "`padding={padding}` / `ceil_mode={ceil_mode}` is not supported in AvgPool3d yet")
    ignore(count_include_pad)
    return layers.AveragePooling3D(kernel_size, strides=stride, data_format=DATA_FORMAT)


@module("torch.nn.AdaptiveAvgPool1d", input="float", layout="spatial", rank=3, spatial_size="output_size")
def AdaptiveAvgPool1d(output_size):
    if all_equal(output_size, 1):
        return layers.GlobalAveragePooling1D(keepdims=True, data_format=DATA_FORMAT)
    return layers.AdaptiveAveragePooling1D(output_size, data_format=DATA_FORMAT)


@module("torch.nn.AdaptiveAvgPool2d", input="float", layout="spatial", rank=4, spatial_size="output_size")
def AdaptiveAvgPool2d(output_size):
    if all_equal(output_size, 1):
        return layers.GlobalAveragePooling2D(keepdims=True, data_format=DATA_FORMAT)
    if any_equal(output_size, 1):
        return PyTorchAdaptiveAveragePooling2D(output_size, data_format=DATA_FORMAT)
    if any_equal(output_size, None):
        return PyTorchAdaptiveAveragePooling2D(output_size, data_format=DATA_FORMAT)
    return layers.AdaptiveAveragePooling2D(output_size, data_format=DATA_FORMAT)


@module("torch.nn.AdaptiveMaxPool1d", layout="spatial", rank=3, spatial_size="output_size")
def AdaptiveMaxPool1d(output_size, return_indices=False):
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(output_size, 1):
        return layers.GlobalMaxPooling1D(keepdims=True, data_format=DATA_FORMAT)
    return layers.AdaptiveMaxPooling1D(output_size, data_format=DATA_FORMAT)


@module("torch.nn.AdaptiveMaxPool2d", layout="spatial", rank=4, spatial_size="output_size")
def AdaptiveMaxPool2d(output_size, return_indices=False):
    require(return_indices == False, "`return_indices=True` is not supported")
    if all_equal(output_size, 1):
        return layers.GlobalMaxPooling2D(keepdims=True, data_format=DATA_FORMAT)
    if any_equal(output_size, 1):
        return PyTorchAdaptiveMaxPooling2D(output_size, data_format=DATA_FORMAT)
    if any_equal(output_size, None):
        return PyTorchAdaptiveMaxPooling2D(output_size, data_format=DATA_FORMAT)
    return layers.AdaptiveMaxPooling2D(output_size, data_format=DATA_FORMAT)
