"""The runtime weight loader (src/torch2keras/emit/runtime/loader.py) on real torch and Keras.

Each case builds a small torch module and a hand-written Keras 3 equivalent with the same
attribute names, randomises every torch parameter and buffer, loads the state_dict and
compares the outputs in inference mode. Image-like tensors are NCHW for torch and NHWC for
Keras; the tests transpose at the boundary themselves.
"""

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402

LOADER_PATH = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "torch2keras"
    / "emit"
    / "runtime"
    / "loader.py"
)
ATOL = RTOL = 1e-4


def _import_loader():
    spec = importlib.util.spec_from_file_location("t2k_runtime_loader", LOADER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loader = _import_loader()


# ---------------------------------------------------------------------------- helpers


class TorchWrap(nn.Module):
    """A torch module with the given submodules/parameters and forward function."""

    def __init__(self, forward, **children):
        super().__init__()
        self._forward = forward
        for name, child in children.items():
            setattr(self, name, child)

    def forward(self, x):
        return self._forward(self, x)


class KerasWrap(keras.Model):
    """A Keras model with the given attributes and call function."""

    def __init__(self, call, **children):
        super().__init__()
        self._call = call
        for name, child in children.items():
            setattr(self, name, child)

    def call(self, x, training=None):
        return self._call(self, x, training)


def randomise(module, seed=0):
    """Every float parameter and buffer random; running_var positive."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(
            module.named_buffers()
        ):
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                value = rng.uniform(0.5, 1.5, tensor.shape)
            else:
                value = rng.normal(0.0, 0.5, tensor.shape)
            tensor.copy_(torch.from_numpy(value.astype(np.float32)))
    return module


def to_last(x):
    """NC... -> N...C for rank >= 3."""
    return np.moveaxis(x, 1, -1) if x.ndim >= 3 else x


def to_first(x):
    return np.moveaxis(x, -1, 1) if x.ndim >= 3 else x


def load_and_compare(tmodel, kmodel, shape, *, transpose=True, seed=0, state_dict=None):
    randomise(tmodel, seed).eval()
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=shape).astype(np.float32)
    xk = to_last(x) if transpose else x
    kmodel(xk)  # builds the variables
    loader.load_torch_state_dict(kmodel, state_dict or tmodel.state_dict())
    with torch.no_grad():
        ref = tmodel(torch.from_numpy(x)).numpy()
    out = keras.ops.convert_to_numpy(kmodel(xk, training=False))
    if transpose:
        out = to_first(out)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, atol=ATOL, rtol=RTOL)


def single(attr="m"):
    """(torch forward, keras call) applying the one child ``attr``."""
    return (
        lambda self, x: getattr(self, attr)(x),
        lambda self, x, training: (
            getattr(self, attr)(x, training=training)
            if isinstance(
                getattr(self, attr), (layers.BatchNormalization, keras.Sequential)
            )
            else getattr(self, attr)(x)
        ),
    )


# ------------------------------------------------------------------- layer mappings

CASES = {
    "conv1d": (lambda: nn.Conv1d(4, 6, 3), lambda: layers.Conv1D(6, 3), (2, 4, 11)),
    "conv2d_groups2": (
        lambda: nn.Conv2d(4, 6, 3, groups=2, stride=2),
        lambda: layers.Conv2D(6, 3, strides=2, groups=2),
        (2, 4, 9, 9),
    ),
    "conv2d_depthwise_multiplier2": (
        lambda: nn.Conv2d(4, 8, 3, groups=4),
        lambda: layers.Conv2D(8, 3, groups=4),
        (2, 4, 8, 8),
    ),
    "depthwise_conv2d_layer": (
        lambda: nn.Conv2d(4, 8, 3, groups=4),
        lambda: layers.DepthwiseConv2D(3, depth_multiplier=2),
        (2, 4, 8, 8),
    ),
    "conv2d_no_bias": (
        lambda: nn.Conv2d(3, 5, (3, 2), bias=False),
        lambda: layers.Conv2D(5, (3, 2), use_bias=False),
        (2, 3, 7, 6),
    ),
    "conv3d": (
        lambda: nn.Conv3d(2, 4, 3),
        lambda: layers.Conv3D(4, 3),
        (2, 2, 5, 6, 7),
    ),
    "conv_transpose2d": (
        lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=0),
        lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="valid"),
        (2, 4, 5, 6),
    ),
    "conv_transpose1d": (
        lambda: nn.ConvTranspose1d(4, 3, 4, stride=2),
        lambda: layers.Conv1DTranspose(3, 4, strides=2, padding="valid"),
        (2, 4, 7),
    ),
    "linear": (lambda: nn.Linear(5, 7), lambda: layers.Dense(7), (3, 5)),
    "batchnorm2d": (
        lambda: nn.BatchNorm2d(4),
        lambda: layers.BatchNormalization(epsilon=1e-5, momentum=0.9),
        (2, 4, 5, 5),
    ),
    "layernorm_last_dim": (
        lambda: nn.LayerNorm(6),
        lambda: layers.LayerNormalization(epsilon=1e-5),
        (2, 3, 6),
    ),
    "layernorm_two_dims": (
        lambda: nn.LayerNorm([4, 5]),
        lambda: layers.LayerNormalization(axis=[-2, -1], epsilon=1e-5),
        (2, 3, 4, 5),
    ),
    "groupnorm": (
        lambda: nn.GroupNorm(2, 4),
        lambda: layers.GroupNormalization(groups=2, epsilon=1e-5),
        (2, 4, 5, 5),
    ),
    "prelu_per_channel": (
        lambda: nn.PReLU(4),
        lambda: layers.PReLU(shared_axes=[1, 2]),
        (2, 4, 5, 5),
    ),
    "prelu_single": (
        lambda: nn.PReLU(),
        lambda: layers.PReLU(shared_axes=[1, 2]),
        (2, 4, 5, 5),
    ),
    "sequential_padding_wrapper": (
        lambda: nn.Conv2d(3, 5, 3, padding=1),
        lambda: keras.Sequential([layers.ZeroPadding2D(1), layers.Conv2D(5, 3)]),
        (2, 3, 6, 6),
    ),
    "embedding": (lambda: nn.Embedding(10, 4), lambda: layers.Embedding(10, 4), None),
}

# Torch and Keras tensors that keep the torch layout (no boundary transposes).
UNTRANSPOSED = {"layernorm_last_dim", "layernorm_two_dims", "linear"}


@pytest.mark.parametrize("case", [c for c in CASES if c != "embedding"])
def test_layer_mapping_matches_torch(case):
    make_torch, make_keras, shape = CASES[case]
    tf, kf = single()
    load_and_compare(
        TorchWrap(tf, m=make_torch()),
        KerasWrap(kf, m=make_keras()),
        shape,
        transpose=case not in UNTRANSPOSED,
    )


def test_embedding():
    tmodel = randomise(TorchWrap(lambda self, x: self.emb(x), emb=nn.Embedding(10, 4)))
    kmodel = KerasWrap(
        lambda self, x, training: self.emb(x), emb=layers.Embedding(10, 4)
    )
    ids = np.array([[1, 2, 9], [0, 3, 3]], dtype=np.int64)
    kmodel(ids)
    loader.load_torch_state_dict(kmodel, tmodel.state_dict())
    ref = tmodel(torch.from_numpy(ids)).detach().numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kmodel(ids)), ref, atol=ATOL)


def test_batchnorm_uses_running_statistics_and_ignores_num_batches_tracked():
    tf, kf = single("bn")
    tmodel = TorchWrap(tf, bn=nn.BatchNorm2d(3))
    assert "bn.num_batches_tracked" in tmodel.state_dict()
    kmodel = KerasWrap(kf, bn=layers.BatchNormalization(epsilon=1e-5))
    load_and_compare(tmodel, kmodel, (4, 3, 2, 2), seed=3)
    bn = kmodel.bn
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(bn.moving_variance), tmodel.bn.running_var.numpy()
    )


def test_numpy_values_are_accepted():
    tf, kf = single("fc")
    tmodel = randomise(TorchWrap(tf, fc=nn.Linear(3, 2)))
    kmodel = KerasWrap(kf, fc=layers.Dense(2))
    state = {k: v.numpy().astype(np.float64) for k, v in tmodel.state_dict().items()}
    load_and_compare(tmodel, kmodel, (2, 3), transpose=False, state_dict=state)


# ------------------------------------------------------------- nesting and naming


class TorchBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class KerasBlock(keras.layers.Layer):
    def __init__(self, c, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.Sequential([layers.ZeroPadding2D(1), layers.Conv2D(c, 3)])
        self.bn = layers.BatchNormalization(epsilon=1e-5)

    def call(self, x, training=None):
        return keras.ops.relu(self.bn(self.conv(x), training=training))


def test_nested_sequential_list_and_dict_names():
    def tforward(self, x):
        x = self.blocks(x)
        x = x.mean(dim=(2, 3))
        x = self.head[1](torch.relu(self.head[0](x)))
        return self.extra["out"](x)

    def kcall(self, x, training):
        x = self.blocks(x, training=training)
        x = keras.ops.mean(x, axis=(1, 2))
        x = self.head[1](keras.ops.relu(self.head[0](x)))
        return self.extra["out"](x)

    tmodel = TorchWrap(
        tforward,
        blocks=nn.Sequential(TorchBlock(4), TorchBlock(4)),
        head=nn.ModuleList([nn.Linear(4, 6), nn.Linear(6, 5)]),
        extra=nn.ModuleDict({"out": nn.Linear(5, 2)}),
    )
    assert "blocks.1.conv.weight" in tmodel.state_dict()
    assert "head.1.weight" in tmodel.state_dict()
    assert "extra.out.bias" in tmodel.state_dict()
    kmodel = KerasWrap(
        kcall,
        blocks=keras.Sequential([KerasBlock(4), KerasBlock(4)]),
        head=[layers.Dense(6), layers.Dense(5)],
        extra={"out": layers.Dense(2)},
    )
    randomise(tmodel)
    x = np.random.default_rng(1).normal(size=(2, 4, 6, 6)).astype(np.float32)
    kmodel(to_last(x))
    loader.load_torch_state_dict(kmodel, tmodel.state_dict())
    with torch.no_grad():
        ref = tmodel.eval()(torch.from_numpy(x)).numpy()
    out = keras.ops.convert_to_numpy(kmodel(to_last(x), training=False))
    np.testing.assert_allclose(out, ref, atol=ATOL, rtol=RTOL)


def _renamed_models(torch_name, keras_name):
    """A torch attribute ``torch_name`` that the Keras model calls ``keras_name``.

    ``pre`` comes first so that ``model.layers`` (a Keras property) does not happen
    to list the renamed layers at the same indices.
    """

    def tf(self, x):
        stack = getattr(self, torch_name)
        return stack[1](torch.relu(stack[0](self.pre(x))))

    def kf(self, x, training):
        stack = getattr(self, keras_name)
        return stack[1](keras.ops.relu(stack[0](self.pre(x))))

    tmodel = TorchWrap(
        tf,
        pre=nn.Linear(3, 3),
        **{torch_name: nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 2)])},
    )
    kmodel = KerasWrap(
        kf, pre=layers.Dense(3), **{keras_name: [layers.Dense(4), layers.Dense(2)]}
    )
    return tmodel, kmodel


def test_attribute_rename_map(monkeypatch):
    monkeypatch.setattr(loader, "_TORCH_ATTRIBUTE_RENAMES", {"layers": "layers_"})
    tmodel, kmodel = _renamed_models("layers", "layers_")
    load_and_compare(tmodel, kmodel, (2, 3), transpose=False)


def test_without_the_rename_map_the_keys_are_unexpected():
    tmodel, kmodel = _renamed_models("stages", "stages_")
    kmodel(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"unexpected key 'stages\.0\.weight'"):
        loader.load_torch_state_dict(kmodel, tmodel.state_dict())


def test_parameter_attribute_of_a_custom_layer():
    class TorchScale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1, 4, 1, 1))
            self.register_buffer("shift", torch.zeros(1, 4, 1, 1))

        def forward(self, x):
            return x * self.scale + self.shift

    class KerasScale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(1, 4, 1, 1), name="scale")
            self.shift = self.add_weight(
                shape=(1, 4, 1, 1), name="shift", trainable=False
            )

        def call(self, x):
            return x * self.scale + self.shift

    tf, kf = single("s")
    load_and_compare(
        TorchWrap(tf, s=TorchScale()),
        KerasWrap(kf, s=KerasScale()),
        (2, 4, 3, 3),
        transpose=False,
    )


def test_load_torch_params_hook_receives_the_whole_module():
    received = {}

    class KerasLinear(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), name="w")
            self.b = self.add_weight(shape=(3,), name="b")

        def call(self, x):
            return x @ self.w + self.b

        def load_torch_params(self, params):
            received.update(params)
            self.w.assign(params["weight"].T)
            self.b.assign(params["bias"])

    tf, kf = single("fc")
    load_and_compare(
        TorchWrap(tf, fc=nn.Linear(5, 3)),
        KerasWrap(kf, fc=KerasLinear()),
        (2, 5),
        transpose=False,
    )
    assert sorted(received) == ["bias", "weight"]
    assert all(isinstance(v, np.ndarray) for v in received.values())


def test_layer_of_an_unexecuted_branch_is_built_from_torch_shapes():
    class TorchCond(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 3)
            self.conv2 = nn.Conv2d(3, 4, 5, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 2)

        def forward(self, x, condition):
            if condition:
                return self.conv1(x)
            return self.fc(self.bn(self.conv2(x)).mean(dim=(2, 3)))

    class KerasCond(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = layers.Conv2D(4, 3)
            self.conv2 = keras.Sequential(
                [layers.ZeroPadding2D(1), layers.Conv2D(4, 5)]
            )
            self.bn = layers.BatchNormalization(epsilon=1e-5)
            self.fc = layers.Dense(2)

        def call(self, x, condition=False, training=None):
            if condition:
                return self.conv1(x)
            x = self.bn(self.conv2(x), training=training)
            return self.fc(keras.ops.mean(x, axis=(1, 2)))

    tmodel = randomise(TorchCond()).eval()
    kmodel = KerasCond()
    x = np.random.default_rng(2).normal(size=(2, 3, 8, 8)).astype(np.float32)
    kmodel(to_last(x), condition=True)  # builds conv1 only
    assert not kmodel.conv2.built and not kmodel.fc.built
    loader.load_torch_state_dict(kmodel, tmodel.state_dict())
    with torch.no_grad():
        ref = tmodel(torch.from_numpy(x), False).numpy()
    out = keras.ops.convert_to_numpy(
        kmodel(to_last(x), condition=False, training=False)
    )
    np.testing.assert_allclose(out, ref, atol=ATOL, rtol=RTOL)


# ------------------------------------------------------------------------- errors


def _built_linear_pair():
    tf, kf = single("fc")
    tmodel = randomise(TorchWrap(tf, fc=nn.Linear(3, 2)))
    kmodel = KerasWrap(kf, fc=layers.Dense(2))
    kmodel(np.zeros((1, 3), np.float32))
    return tmodel, kmodel


def test_unexpected_key_strict_and_not_strict():
    tmodel, kmodel = _built_linear_pair()
    state = dict(tmodel.state_dict())
    state["fc.weight2"] = torch.zeros(2, 3)
    state["nothing.weight"] = torch.zeros(2)
    with pytest.raises(ValueError) as e:
        loader.load_torch_state_dict(kmodel, state)
    assert "unexpected key 'fc.weight2'" in str(e.value)
    assert "unexpected key 'nothing.weight'" in str(e.value)
    loader.load_torch_state_dict(kmodel, state, strict=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(kmodel.fc.kernel),
        tmodel.fc.weight.detach().numpy().T,
    )


def test_bias_into_a_layer_without_bias_is_unexpected():
    tf, kf = single("fc")
    tmodel = TorchWrap(tf, fc=nn.Linear(3, 2))
    kmodel = KerasWrap(kf, fc=layers.Dense(2, use_bias=False))
    kmodel(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"unexpected key 'fc\.bias'"):
        loader.load_torch_state_dict(kmodel, tmodel.state_dict())


def test_missing_entry_names_the_keras_variable():
    tmodel, kmodel = _built_linear_pair()
    state = dict(tmodel.state_dict())
    del state["fc.bias"]
    with pytest.raises(ValueError) as e:
        loader.load_torch_state_dict(kmodel, state)
    message = str(e.value)
    assert "missing: no state_dict entry for Keras variable" in message
    assert kmodel.fc.bias.path in message and "fc.bias" in message
    assert "kernel" not in message
    loader.load_torch_state_dict(kmodel, state, strict=False)


def test_shape_mismatch_names_key_and_shapes_even_when_not_strict():
    tf, kf = single("conv")
    tmodel = TorchWrap(tf, conv=nn.Conv2d(3, 6, 3))
    kmodel = KerasWrap(kf, conv=layers.Conv2D(6, 3))
    kmodel(np.zeros((1, 5, 5, 4), np.float32))  # 4 input channels, not 3
    for strict in (True, False):
        with pytest.raises(ValueError) as e:
            loader.load_torch_state_dict(kmodel, tmodel.state_dict(), strict=strict)
        message = str(e.value)
        assert "'conv.weight'" in message
        assert "(6, 3, 3, 3)" in message  # torch
        assert "(3, 3, 3, 6)" in message  # transformed
        assert "(3, 3, 4, 6)" in message  # expected


def test_unbuilt_model_is_refused():
    tf, kf = single("fc")
    tmodel = TorchWrap(tf, fc=nn.Linear(3, 2))
    kmodel = KerasWrap(kf, fc=layers.Dense(2))
    with pytest.raises(ValueError, match="call it once on an input"):
        loader.load_torch_state_dict(kmodel, tmodel.state_dict())


def test_keras_layer_without_rule_names_key_and_class():
    tmodel = TorchWrap(lambda self, x: x, rnn=nn.RNN(3, 4, batch_first=True))
    kmodel = KerasWrap(lambda self, x, t: self.rnn(x), rnn=layers.SimpleRNN(4))
    kmodel(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError) as e:
        loader.load_torch_state_dict(kmodel, tmodel.state_dict())
    assert "'rnn.weight_ih_l0'" in str(e.value) and "SimpleRNN" in str(e.value)


def test_ambiguous_sequential_is_refused():
    tf = lambda self, x: self.seq(x)  # noqa: E731
    tmodel = TorchWrap(tf, seq=nn.Linear(3, 3))
    kmodel = KerasWrap(
        lambda self, x, t: self.seq(x),
        seq=keras.Sequential([layers.Dense(3), layers.Dense(3)]),
    )
    kmodel(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"'seq\.weight'"):
        loader.load_torch_state_dict(kmodel, tmodel.state_dict())


# ----------------------------------------------------------- the file as data


def test_loader_depends_on_numpy_and_keras_only():
    import ast

    tree = ast.parse(LOADER_PATH.read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in imports] == ["import numpy as np", "import keras"]
    public = [
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")
    ]
    assert public == ["load_torch_state_dict"]
    assert "_TORCH_ATTRIBUTE_RENAMES = {}\n" in LOADER_PATH.read_text()
