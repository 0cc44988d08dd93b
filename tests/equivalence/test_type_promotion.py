"""PyTorch's type promotion where TensorFlow's operators differ (lowering's DType).

PyTorch promotes mixed operands: an int or bool tensor with a float is float, an
int true division is float, int32 with int64 is int64. TensorFlow's operators
refuse mixed operands (int32 * 0.5, int32 < int64) or, with a boolean operand,
compute in bool (float * bool is bool). The converter writes keras.ops, which
promotes as PyTorch does, where the operands' dtypes may differ, and keeps the
operators where they agree (float with float, a float with a Python number).
Each test here fails with the operators: a crash, or wrong numbers for booleans.
"""
import numpy as np
import pytest

from harness import check_calls, convert, flat

LAYOUTS = ["channels_last", "channels_first"]
RNG = np.random.default_rng(7)


def floats(*shape):
    return RNG.normal(size=shape).astype("float32")


# --- Constructor code: the sinusoidal positional encoding of the PyTorch
# tutorial, an int64 torch.arange times a Python float and times a float tensor.
POSITIONAL_ENCODING = '''
import math
import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model=8, max_len=16):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(1)]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.pos = PositionalEncoding()
        self.out = nn.Linear(8, 3)

    def forward(self, ids):
        return self.out(self.pos(self.embed(ids)))
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_int_arange_times_float_in_constructor_code(layout):
    ids = RNG.integers(0, 20, size=(2, 7)).astype("int64")
    check_calls(POSITIONAL_ENCODING, "Net()", [((ids,), {})], layout=layout)


def test_float_operands_keep_the_operators():
    # The embedding's output is float (a layer's), so `x + self.pe[...]` in the
    # module it is passed to reads as written; the int arange gets keras.ops.
    code = flat(convert(POSITIONAL_ENCODING, "channels_last"))
    assert "return x + self.pe[: ops.shape(x)[1]]" in code or "return x + self.pe[:ops.shape(x)[1]]" in code
    assert "ops.multiply(ops.arange(0, d_model, 2), -math.log(10000.0) / d_model)" in code
    assert "ops.sin(ops.multiply(position, div_term))" in code


# --- Model inputs of integer and boolean dtypes.
MASKS = '''
import torch
import torch.nn as nn


class LengthMask(nn.Module):
    """An int32 arange compared with int64 lengths (int64 in PyTorch)."""

    def forward(self, x, lengths):
        mask = torch.arange(x.size(1))[None, :] < lengths[:, None]
        return x * mask.unsqueeze(-1)


class MaskedMean(nn.Module):
    """A float sum divided by a count of booleans (an int64 sum)."""

    def forward(self, x, ids):
        keep = ids != 0
        return (x * keep.unsqueeze(-1)).sum(1) / keep.sum(1, keepdim=True).clamp(min=1)


class AdditiveMask(nn.Module):
    """BERT's additive mask from an int64 attention mask: float - int."""

    def forward(self, scores, mask):
        return scores + (1.0 - mask[:, None, :]) * -10000.0


class BoolInput(nn.Module):
    """A boolean model input times floats: PyTorch promotes it to float."""

    def forward(self, x, mask):
        return x * mask.unsqueeze(-1) + mask.unsqueeze(-1)


class IntDivision(nn.Module):
    """An int64 input's true division is float; floor division stays int."""

    def forward(self, ids):
        return ids / 4, ids // 4, ids * 0.5


class IntTimesIntTensor(nn.Module):
    """int64 input times an int32 arange: int64."""

    def forward(self, ids):
        return ids * torch.arange(ids.size(1))
'''


def lengths(n, t):
    return RNG.integers(1, t + 1, size=(n,)).astype("int64")


def padded_ids(n, t):
    ids = RNG.integers(1, 9, size=(n, t)).astype("int64")
    for row in range(1, n):
        ids[row, RNG.integers(1, t):] = 0
    return ids


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name, make", [
    ("LengthMask", lambda: (floats(3, 6, 4), lengths(3, 6))),
    ("MaskedMean", lambda: (floats(3, 6, 4), padded_ids(3, 6))),
    ("AdditiveMask", lambda: (floats(3, 6, 6), RNG.integers(0, 2, size=(3, 6)).astype("int64"))),
    ("BoolInput", lambda: (floats(3, 6, 4), RNG.random((3, 6)) > 0.5)),
    ("IntDivision", lambda: (RNG.integers(-9, 9, size=(3, 6)).astype("int64"),)),
    ("IntTimesIntTensor", lambda: (RNG.integers(-9, 9, size=(3, 6)).astype("int64"),)),
])
def test_inputs_of_other_dtypes(layout, name, make):
    check_calls(MASKS, f"{name}()", [(make(), {}), (make(), {})], layout=layout)


def test_inputs_of_unknown_dtype_get_keras_ops():
    code = flat(convert(MASKS, "channels_last"))
    assert "ops.less(ops.arange(ops.shape(x)[1])[None, :], lengths[:, None])" in code
    assert "ops.subtract(1.0, mask_[:, None, :])" in code
    assert "ops.divide(ids, 4)" in code


# --- A parameter's dtype from its uses: a layer taking floats or indices.
USES = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.fc(F.relu(x))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.block = Block()

    def forward(self, ids):
        h = self.block(self.embed(ids))
        return h, ids * 2, ids / 2
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dtype_from_uses(layout):
    ids = RNG.integers(0, 10, size=(2, 5)).astype("int64")
    check_calls(USES, "Tagger()", [((ids,), {})], layout=layout)


def test_dtype_from_uses_reads_as_written():
    code = flat(convert(USES, "channels_last"))
    # x goes into a Linear (through F.relu): a float; ids into an Embedding: an int.
    assert "return x + self.fc(ops.relu(x))" in code
    assert "return h, ids * 2, ops.divide(ids, 2)" in code


# --- Buffers: their dtype is the one the constructor code gives them.
BUFFERS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, n=5):
        super().__init__()
        self.proj = nn.Linear(5, 5)
        self.register_buffer("keep", torch.triu(torch.ones(n, n), 1).bool())
        self.register_buffer("pe", torch.zeros(n, n))
        steps = torch.arange(n)
        self.register_buffer("steps", steps * 2)

    def forward(self, x):
        x = self.proj(x)
        return x * self.keep + self.pe + self.steps * 0.5, self.steps // 2
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_buffer_dtypes(layout):
    check_calls(BUFFERS, "Net()", [((floats(2, 5, 5),), {})], layout=layout)


def test_buffer_dtypes_read_as_written():
    code = flat(convert(BUFFERS, "channels_last"))
    # A float buffer with a float tensor: the operator; an int one with 0.5 and a
    # bool one with a float: keras.ops and a cast.
    assert "x * ops.cast(self.keep, x.dtype) + self.pe + ops.multiply(self.steps, 0.5)" in code
    assert "self.steps // 2" in code


# --- Items of lists and named tuples: chunks keep the input's dtype, a
# (values, indices) tuple's indices are int64 whatever the values are.
ITEMS = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)

    def forward(self, x, ids):
        x = self.fc(x)
        values, indices = x.max(1)
        a, b = self.fc(ids.float()).chunk(2, 1)
        low, high = (ids + 1).chunk(2, 1)
        return values * 2.0, indices * 0.5, x.max(1).indices / 2, a * b, low * 0.5 + high / 2
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_item_dtypes(layout):
    ids = RNG.integers(0, 9, size=(3, 4)).astype("int64")
    check_calls(ITEMS, "Net()", [((floats(3, 4), ids), {})], layout=layout)


# --- The translation tutorial's positional encoding: a negated int arange, math.log.
TRANSLATION_PE = '''
import math
import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size=8, maxlen=12):
        super().__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.register_buffer("pos_embedding", pos_embedding)

    def forward(self, token_embedding):
        return token_embedding + self.pos_embedding[: token_embedding.size(0), :]
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_negated_int_arange_in_constructor_code(layout):
    check_calls(TRANSLATION_PE, "PositionalEncoding()", [((floats(7, 2, 8),), {})], layout=layout)
    code = flat(convert(TRANSLATION_PE, "channels_last"))
    assert "ops.exp(ops.multiply(-ops.arange(0, emb_size, 2), math.log(10000)) / emb_size)" in code


# --- Hugging Face's additive attention mask: an int64 mask cast to the scores'
# dtype, scaled by torch.finfo(dtype).min (numpy's finfo has the same limits).
HF_MASK = '''
import torch
import torch.nn as nn


class Scores(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(4, 6)

    def forward(self, x, attention_mask):
        scores = self.query(x)
        extended = attention_mask[:, None, :].to(dtype=scores.dtype)
        extended = (1.0 - extended) * torch.finfo(scores.dtype).min
        return (scores + extended).softmax(-1), torch.iinfo(torch.int32).max - attention_mask
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_finfo_min_additive_mask(layout):
    mask = np.ones((3, 6), "int64")
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    check_calls(HF_MASK, "Scores()", [((floats(3, 5, 4), mask), {})], layout=layout)


# --- A dtype class through an `if` that only one branch assigns (Hugging Face's
# default mask: torch.ones_like(ids) of int64 ids when no mask is given).
DEFAULT_MASK = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 4)

    def forward(self, ids, attention_mask=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(ids)
        return self.emb(ids) + (1 - attention_mask[:, :, None]) * -1e4
'''


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dtype_joined_over_branches(layout):
    ids = RNG.integers(0, 20, size=(2, 6)).astype("int64")
    mask = np.ones((2, 6), "int64")
    mask[1, 3:] = 0
    check_calls(DEFAULT_MASK, "Net()", [((ids,), {}), ((ids, mask), {})], layout=layout)
