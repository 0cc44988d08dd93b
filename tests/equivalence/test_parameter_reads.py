"""Code that reads layers' parameters and builds tensors in constructors, as
torchvision's Swin Transformer does (issue 6): `F.linear(x, self.qkv.weight,
self.qkv.bias)` on a Linear that is never called, a relative position index built
with in-place item updates in `__init__`, an integer buffer indexing a table.

Each catalog @parameter entry (catalog/parameters.py) is read here with
randomised parameters and buffers, in both layouts, eager and in tf.function."""

import numpy as np
import pytest

import torch2keras
from harness import check, check_calls, convert, load_module

LAYOUTS = ["channels_last", "channels_first"]

READS = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 5)
        self.conv = nn.Conv2d(3, 4, 3)
        self.conv1d = nn.Conv1d(3, 2, 2)
        self.emb = nn.Embedding(7, 5)
        self.bn = nn.BatchNorm2d(5)
        self.ln = nn.LayerNorm(5)

    def forward(self, x):
        # None of these layers is called: their variables are read as PyTorch's.
        y = F.linear(x, self.fc.weight, self.fc.bias)
        y = y + self.conv.weight.flatten(1)[:, :5].sum(0) + self.conv.bias[1]
        y = y + self.conv1d.weight.reshape(-1)[:5] * self.conv1d.bias[0]
        y = y + self.emb.weight[2]
        y = (y - self.bn.running_mean) / torch.sqrt(self.bn.running_var + 1.0)
        return y * self.bn.weight + self.bn.bias + self.ln.weight * self.ln.bias
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_parameters_of_layers_never_called_read_as_pytorch(layout):
    # Wrong axis orders (kernel not transposed back) or a wrong variable (gamma
    # for beta, moving_mean for running_var) change the sum.
    check(READS, "Net()", [(3, 6)], layout=layout)


def test_layers_whose_parameters_are_read_are_built_in_the_constructor():
    code = convert(READS, "channels_last")
    assert "self.fc.build((6,))" in code
    assert "self.conv.build((None, None, None, 3))" in code
    assert "self.conv1d.build((None, None, 3))" in code
    assert "ops.matmul(x, self.fc.kernel) + self.fc.bias" in code  # F.linear's transposes cancel
    assert "self.conv.build((None, 3, None, None))" in convert(READS, "channels_first")


def test_reading_a_setting_of_a_converted_layer_is_an_error():
    source = READS.replace("return y *", "return self.fc.in_features * y *")
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any("reading `self.fc.in_features` of a converted `torch.nn.Linear`" in d.message
               for d in result.diagnostics)


WINDOW = """
import torch
import torch.nn as nn
import torch.nn.functional as F


def relative_bias(table: torch.Tensor, index: torch.Tensor, window_size: list[int]) -> torch.Tensor:
    n = window_size[0] * window_size[1]
    return table[index].view(n, n, -1).permute(2, 0, 1)


def attend(x, qkv_weight, window_size: list[int], heads: int, shift_size: list[int], qkv_bias=None):
    shift_size = shift_size.copy()
    if window_size[0] >= x.shape[1]:
        shift_size[0] = 0
    qkv = F.linear(x, qkv_weight, qkv_bias)
    if sum(shift_size) > 0:
        qkv = torch.roll(qkv, shifts=shift_size[0], dims=1)
    return qkv


class Window(nn.Module):
    def __init__(self, dim: int, window_size: list[int], shift_size: list[int], heads: int):
        super().__init__()
        self.window_size = window_size
        self.shift_size = shift_size
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.table = nn.Parameter(torch.zeros((2 * window_size[0] - 1) * (2 * window_size[1] - 1), heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window_size[0]), torch.arange(window_size[1]),
                                            indexing="ij"))
        flat = torch.flatten(coords, 1)
        rel = flat[:, :, None] - flat[:, None, :]
        rel = rel.permute(1, 2, 0).contiguous()
        rel[:, :, 0] += window_size[0] - 1
        rel[:, :, 1] += window_size[1] - 1
        rel[:, :, 0] *= 2 * window_size[1] - 1
        self.register_buffer("index", rel.sum(-1).flatten())

    def forward(self, x):
        bias = relative_bias(self.table, self.index, self.window_size)
        y = attend(x, self.qkv.weight, self.window_size, self.heads, shift_size=self.shift_size,
                   qkv_bias=self.qkv.bias)
        return y[:, :, :4] + bias.sum()
"""


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shift", [0, 1])
def test_swin_style_window_attention_pieces(layout, shift):
    # The integer index buffer is loaded from the state_dict too, so a wrong
    # constructor computation would still pass: test_constructor_tensor_code checks it.
    check(WINDOW, f"Window(4, [2, 3], [{shift}, {shift}], 2)", [(2, 5, 4)], layout=layout)


def test_constructor_tensor_code_computes_pytorchs_values():
    # No state_dict here: the Keras buffer is what the converted constructor computed.
    torch_model = load_module(WINDOW, "torch_window").Window(4, [3, 2], [1, 1], 2)
    keras_model = load_module(convert(WINDOW, "channels_last"), "keras_window").Window(4, [3, 2], [1, 1], 2)
    expected = torch_model.index.numpy()
    got = np.asarray(keras_model.index)
    assert np.issubdtype(got.dtype, np.integer) and got.shape == expected.shape  # int32: Keras' int
    np.testing.assert_array_equal(got, expected)


def test_constructor_item_update_of_a_view_read_later_is_an_error():
    source = WINDOW.replace("rel = rel.permute(1, 2, 0).contiguous()",
                            "view = rel.permute(1, 2, 0)\n        rel = view").replace(
        'self.register_buffer("index", rel.sum(-1).flatten())',
        'self.register_buffer("index", rel.sum(-1).flatten() + view.sum())')
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any("shares its storage with `view`" in d.message for d in result.diagnostics), \
        [d.message for d in result.diagnostics]


def test_constructor_tensor_method_without_entry_is_an_error():
    source = WINDOW.replace("rel.sum(-1).flatten()", "rel.sum(-1).flatten().cumprod(0)")
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any("tensor method `.cumprod()` is not supported yet" in d.message for d in result.diagnostics)


def test_reading_a_converted_layer_in_constructor_code_is_an_error():
    # Outside a weight-initialisation block (dropped whole), the value is used.
    source = READS.replace("        self.ln = nn.LayerNorm(5)\n",
                           "        self.ln = nn.LayerNorm(5)\n        self.width = self.fc.out_features * 2\n")
    result = torch2keras.convert(source, filename="model.py")
    assert not result.ok
    assert any("reading `self.fc.out_features` of a converted `torch.nn.Linear` in constructor code" in d.message
               for d in result.diagnostics), [d.message for d in result.diagnostics]
    # A declared setting of a runtime layer is read as it is.
    kept = torch2keras.convert(WINDOW.replace("self.heads = heads\n", "self.heads = heads\n        self.n = 1\n")
                               .replace("self.qkv = nn.Linear(dim, dim * 3)",
                                        "self.qkv = nn.Linear(dim, dim * 3)\n        self.gru = nn.GRU(dim, 3)\n"
                                        "        self.n = self.gru.hidden_size"), filename="model.py")
    assert kept.ok, [d.message for d in kept.diagnostics]
    assert "self.n = self.gru.hidden_size" in kept.code


# x.T (every axis reversed) and x.mT (the last two swapped), of parameters and of
# a converted layer's weight read in PyTorch's shape.
DOT_T = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, vocab=30, d=8):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, d)
        self.W = nn.Parameter(torch.randn(6, d))

    def forward(self, idx):
        x = self.tok_emb(idx)
        return x @ self.tok_emb.weight.T, x @ self.W.T, (x.mT @ x).sum(-1)
'''


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_transpose_attributes(layout):
    idx = np.random.default_rng(4).integers(0, 30, size=(2, 5)).astype("int64")
    check_calls(DOT_T, "Net()", [((idx,), {})], layout=layout)


# Other tensor attributes: dtype (compared with torch dtypes and cast to), ndim,
# is_cuda (the plain path: a converted model has no CUDA-only branch).
ATTRIBUTES = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        if y.is_cuda:
            y = y * 100
        if y.dtype == torch.float32:
            y = y + 1
        return y * y.ndim + x.mean().to(y.dtype)
'''


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_tensor_attributes_with_catalog_entries(layout):
    check(ATTRIBUTES, "Net()", [(2, 3, 6, 7)], layout=layout)  # not width 4 (test_backend_defects)


@pytest.mark.parametrize("attribute", ["H", "grad", "is_leaf", "real"])
def test_other_tensor_attributes_are_errors(attribute):
    r = torch2keras.convert(ATTRIBUTES.replace("y * y.ndim", f"y * y.{attribute}"), filename="m.py")
    assert not r.ok
    assert [d.code for d in r.diagnostics] == ["T2K102"]
    assert f"tensor attribute `.{attribute}` (in `y.{attribute}`) is not in the catalog" in r.diagnostics[0].message


# Constructor code reading a buffer registered before (Hugging Face's BERT
# embeddings: token_type_ids zeros shaped like position_ids), and a None buffer.
BUFFER_READS = '''
import torch
import torch.nn as nn


class Embeddings(nn.Module):
    def __init__(self, n=8):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("position_ids", torch.arange(n).expand((1, -1)), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(self.position_ids.size(), dtype=torch.long),
                             persistent=False)
        self.register_buffer("extra", None)

    def forward(self, x):
        y = self.fc(x) + self.token_type_ids[:, : x.size(1), None]
        if self.extra is not None:
            y = y + self.extra
        return y + self.position_ids[:, : x.size(1), None] * 0.5
'''


def test_constructor_code_reads_buffers_registered_before():
    code = convert(BUFFER_READS, "channels_last")
    assert "ops.shape(self.position_ids)" in code
    check(BUFFER_READS, "Embeddings()", [(2, 5, 4)])


# The weight of an Embedding with padding_idx (PyTorchEmbedding) read in forward:
# an output head tied by hand (`x @ self.emb.weight.T`).
PADDED_TABLE = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(30, 8, padding_idx=0)

    def forward(self, idx):
        return self.emb(idx) @ self.emb.weight.T
'''


def test_weight_of_an_embedding_with_padding_idx():
    idx = np.random.default_rng(4).integers(0, 30, size=(2, 5)).astype("int64")
    idx[:, -1] = 0
    check_calls(PADDED_TABLE, "Net()", [((idx,), {})])


# nn.ParameterList / nn.ParameterDict: Python containers of the Keras variables,
# iterated, indexed and read by key; the loader reaches `ps.0` and `pd.scale`.
PARAMETER_CONTAINERS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, d=8, n=3):
        super().__init__()
        self.ps = nn.ParameterList([nn.Parameter(torch.randn(d)) for _ in range(n)])
        self.pd = nn.ParameterDict({"scale": nn.Parameter(torch.ones(d)), "shift": nn.Parameter(torch.zeros(d))})
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        for p in self.ps:
            x = x + p
        x = x * self.pd["scale"] + self.pd["shift"]
        return self.fc(x) * self.ps[0]
'''


def test_parameter_lists_and_dicts():
    check(PARAMETER_CONTAINERS, "Net()", [(2, 8)])
