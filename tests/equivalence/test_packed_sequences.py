"""Packed sequences: torch.nn.utils.rnn.pack_padded_sequence into nn.RNN / LSTM /
GRU, and pad_packed_sequence of what they return (pitfalls.md P27).

PyTorch runs each sequence of a packed batch over its own length only: h_n and
c_n are the states at each sequence's last valid step, a reverse direction
starts at that step, and pad_packed_sequence writes zeros (or padding_value)
past each length, max(lengths) steps long unless total_length is given. Every
check is against real PyTorch with all parameters randomised, eagerly and inside
tf.function (harness.check_calls), on batches whose lengths really differ:
unsorted, with a length-1 sequence, and (in the second call) none as long as
the padded input, so the padded output is shorter than the input.
"""

import numpy as np
import pytest

from harness import assert_conversion_error, check_calls, convert, flat

HEAD = """
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
"""

N, T, H_IN = 4, 6, 3  # batch, padded length, input features
# Unsorted, a length-1 sequence; the second batch's longest is shorter than T.
LENGTHS = [np.array([4, 6, 1, 3]), np.array([2, 5, 1, 5])]


def _sequences(batch_first, seed=0):
    rng = np.random.default_rng(seed)
    shape = (N, T, H_IN) if batch_first else (T, N, H_IN)
    return [rng.normal(size=shape).astype("float32") for _ in LENGTHS]


# --- The canonical classifier: embedding -> pack -> bidirectional LSTM ->
# pad_packed -> both directions' last states -> Linear.

CLASSIFIER = HEAD + """
class PackedLSTM(nn.Module):
    def __init__(self, vocab=60, emb=16, hidden=24, num_classes=5):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward(self, ids, lengths):
        x = self.emb(ids)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=ids.size(1))
        hidden = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return self.fc(hidden), out, h_n, c_n
"""


def _padded_ids(lengths, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 60, size=(len(lengths), T))
    for row, n in enumerate(lengths):
        ids[row, n:] = 0  # padding_idx past each length
    return ids.astype("int64")


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_packed_bidirectional_lstm_classifier(layout):
    calls = [((_padded_ids(n, i), n.astype("int64")), {}) for i, n in enumerate(LENGTHS)]
    check_calls(CLASSIFIER, "PackedLSTM()", calls, layout=layout)


def test_packed_code_reads_like_pytorch():
    text = flat(convert(CLASSIFIER, "channels_last"))
    assert "packed = pytorch_pack_padded_sequence(x, lengths, batch_first=True)" in text
    assert "packed_out, (h_n, c_n) = self.lstm(packed)" in text
    assert ("out, _ = pytorch_pad_packed_sequence(packed_out, batch_first=True, "
            "total_length=ops.shape(ids)[1])") in text
    assert "class PyTorchPackedSequence(tuple):" in text


# --- Every sequence layer, both directions, one and two layers, both batch
# orders: the padded output and every final state against PyTorch.

LAYER = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{layer}

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first={batch_first}, enforce_sorted=False)
        packed_out, state = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(packed_out, batch_first={batch_first})
        return out, state, out_lengths
"""


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_sequence_layers_match_pytorch(kind, bidirectional, layers, batch_first):
    layer = f"{kind}({H_IN}, 5, num_layers={layers}, bidirectional={bidirectional}, batch_first={batch_first})"
    source = LAYER.format(layer=layer, batch_first=batch_first)
    calls = [((x, n), {}) for x, n in zip(_sequences(batch_first), LENGTHS)]
    check_calls(source, "Net()", calls)


# --- Initial states given, lengths sorted (enforce_sorted's default), the
# other spellings of the functions and of the lengths, padding_value and a
# total_length longer than the input, an RNN's result indexed with [0].

SPELLINGS = """
import torch
import torch.nn as nn
from torch.nn.utils import rnn as rnn_utils


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
        self.gru = nn.GRU(8, 5, batch_first=True)
        self.rnn = nn.RNN(3, 2, nonlinearity="relu")

    def forward(self, x, lengths, h0, c0, g0):
        packed = rnn_utils.pack_padded_sequence(x, lengths.to("cpu"))
        packed_out, (h_n, c_n) = self.lstm(packed, (h0, c0))
        seq, seq_lengths = nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True)
        again = torch.nn.utils.rnn.pack_padded_sequence(seq, seq_lengths, batch_first=True)
        g_out, g_n = self.gru(again, g0)
        padded, _ = rnn_utils.pad_packed_sequence(g_out, padding_value=-1.0, total_length=9)
        r_out = self.rnn(rnn_utils.pack_padded_sequence(x, lengths))[0]
        r_padded = rnn_utils.pad_packed_sequence(r_out, total_length=x.size(0))[0]
        return seq, h_n, c_n, padded, g_n, r_padded
"""


def test_initial_states_sorted_lengths_and_other_spellings():
    rng = np.random.default_rng(4)
    calls = []
    for lengths in (np.array([6, 4, 3, 1]), np.array([5, 5, 2, 1])):
        x = rng.normal(size=(T, N, H_IN)).astype("float32")
        h0, c0 = (rng.normal(size=(4, N, 4)).astype("float32") for _ in range(2))
        g0 = rng.normal(size=(1, N, 5)).astype("float32")
        calls.append(((x, lengths, h0, c0, g0), {}))
    check_calls(SPELLINGS, "Net()", calls)


# --- Lengths as a Python list; pack then pad with no RNN between (the input
# with the padding value past each length); the returned lengths are int64 and
# divide a float sum as PyTorch promotes (a mean over the valid steps).

LIST_LENGTHS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 4, bidirectional=True)

    def forward(self, x):
        packed = pack_padded_sequence(x, [3, 6, 1, 2], enforce_sorted=False)
        out, h = self.gru(packed)
        padded, lengths = pad_packed_sequence(out)
        mean = padded.sum(0) / lengths.unsqueeze(1)
        same, _ = pad_packed_sequence(packed, batch_first=True, padding_value=7.0)
        return padded, h, lengths, same, mean
"""


def test_lengths_as_a_list_and_pack_then_pad():
    rng = np.random.default_rng(6)
    calls = [((rng.normal(size=(T, N, H_IN)).astype("float32"),), {}) for _ in range(2)]
    check_calls(LIST_LENGTHS, "Net()", calls)


# --- A PackedSequence goes only into an RNN and pad_packed_sequence: any other
# use is an error at the use (PyTorch's packed data is laid out by time step,
# which the converted model never builds).

MISUSE = HEAD + """
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4)
        self.fc = nn.Linear(3, 2)

    def helper(self, p):
        return p

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, _ = self.lstm(packed)
        {use}
        return x
"""


@pytest.mark.parametrize("use,message", [
    ("y = packed.data", "reading `packed.data` of a PackedSequence is not supported"),
    ("y = packed.batch_sizes", "reading `packed.batch_sizes` of a PackedSequence is not supported"),
    ("y = packed.sorted_indices", "reading `packed.sorted_indices` of a PackedSequence is not supported"),
    ("y = out.data", "reading `out.data` of a PackedSequence is not supported"),
    ("y = packed[0]", "indexing the PackedSequence `packed` is not supported"),
    ("y = self.fc(packed)", "`packed` is a PackedSequence; the converter passes one only to an RNN"),
    ("y = F.relu(out)", "`out` is a PackedSequence; the converter passes one only to an RNN"),
    ("y = packed.to('cpu')", "`packed` is a PackedSequence; the converter passes one only to an RNN"),
    ("y = self.helper(packed)", "`packed` is a PackedSequence; the converter passes one only to an RNN"),
    ("return out", "`out` is a PackedSequence; the converter passes one only to an RNN"),
    ("self.saved = packed", "`packed` is a PackedSequence; the converter passes one only to an RNN"),
    ("y = pad_packed_sequence(x)", "`x` is not a PackedSequence made in this function"),
    ("y = torch.cat(self.lstm(packed))", "holds a PackedSequence (its first item)"),
])
def test_other_uses_of_a_packed_sequence_are_errors(use, message):
    assert_conversion_error(MISUSE.format(use=use), message)


def test_the_error_points_at_the_use():
    import torch2keras

    result = torch2keras.convert(MISUSE.format(use="y = packed.data"), filename="model.py")
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    assert errors[0].rendered.startswith("model.py:21:13: error: reading `packed.data`")
