"""Pins a TensorFlow defect that the channels_first layout runs into.

TF 2.21 on CPU (oneDNN, which channels_first convolutions need there) computes a
channels_first Conv2D with bias wrongly in eager mode when the number of filters
equals the output width; inside tf.function it is right. README "Known limits"
documents it. When this test fails, TF fixed it: drop the note and the shape
workarounds in the tests that mention it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def test_tf_onednn_channels_first_conv_bias_defect_is_still_present():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 16, 16)).astype("float32")
    layer = keras.layers.Conv2D(16, 3, padding="same", data_format="channels_first")
    layer(x)
    layer.bias.assign(rng.normal(size=16).astype("float32"))
    eager = np.asarray(layer(x))
    graph = np.asarray(tf.function(layer)(x))
    assert np.abs(eager - graph).max() > 1e-3


def test_tf_onednn_fused_conv_add_leaky_relu_defect_is_still_present():
    """TF 2.21 (oneDNN on CPU) fuses Conv2D + bias + Add + LeakyReLU inside
    tf.function and computes it wrongly (the negative slope is lost); eager and
    TF_ENABLE_ONEDNN_OPTS=0 are right. A converted block `leaky_relu(conv(x) + x)`
    (found by a review: an in-place LeakyReLU after a residual add) meets it in a
    compiled graph. When this test fails, TF fixed it: drop the README note."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 9, 4)).astype("float32")
    conv = keras.layers.Conv2D(4, 3, padding="same")
    conv(x)

    def block(t):
        return keras.ops.leaky_relu(conv(t) + t, 0.1)

    c = np.asarray(conv(x)) + x
    reference = np.where(c > 0, c, 0.1 * c)
    assert np.abs(np.asarray(block(x)) - reference).max() < 1e-5
    assert np.abs(np.asarray(tf.function(block)(x)) - reference).max() > 1e-2


def test_tf_onednn_conv_maximum_of_a_multiple_defect_is_still_present():
    """TF 2.21 (oneDNN on CPU) rewrites `maximum(y, a * y)` after a Conv2D with bias
    inside tf.function into a fused LeakyReLU of slope `a`, which is that maximum
    only for a <= 1: with a = 2 the compiled graph gives min(y, 2y) for positive
    y. Eager and TF_ENABLE_ONEDNN_OPTS=0 are right. `torch.max(y, 2 * y)` (or
    torch.maximum) of a convolution's output meets it; README "Known limits" says
    so. When this test fails, TF fixed it: drop the README note."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    conv = keras.layers.Conv2D(4, 3, padding="same")
    conv(x)
    conv.bias.assign(rng.normal(size=4).astype("float32"))

    def block(t):
        y = conv(t)
        return keras.ops.maximum(y, y * 2)

    y = np.asarray(conv(x))
    reference = np.maximum(y, 2 * y)
    assert np.abs(np.asarray(block(x)) - reference).max() < 1e-5
    assert np.abs(np.asarray(tf.function(block)(x)) - reference).max() > 1e-2


def test_tf_onednn_dilated_channels_first_conv1d_defect_is_still_present():
    """The same defect for a dilated channels_first Conv1D with bias whose filters
    equal the output width, and inside tf.function too (found by the issue-6
    review: an audio model's dilated convolutions). When this test fails, TF fixed
    it: drop the README note."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 16, 36)).astype("float32")  # width 36 - 2 * 2 = 32 = filters
    layer = keras.layers.Conv1D(32, 3, dilation_rate=2, data_format="channels_first")
    layer(x)
    layer.bias.assign(rng.normal(size=32).astype("float32"))
    kernel = np.asarray(layer.kernel)
    expected = np.stack([
        sum(np.einsum("nc,co->no", x[:, :, t + 2 * k], kernel[k]) for k in range(3))
        for t in range(32)], axis=-1) + np.asarray(layer.bias)[None, :, None]
    graph = np.asarray(tf.function(layer)(x))
    assert np.abs(graph - expected).max() > 1e-3
