"""Issue 6, recurrent layers: nn.RNN / LSTM / GRU and their cells.

Every option is checked against real PyTorch with all parameters randomised
(harness.check / check_calls: eagerly and inside tf.function), so a gate order,
a bias or a direction loaded wrongly shows; the returned states (h_n, c_n) are
compared as well as the output.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from harness import assert_conversion_error, check, check_calls, convert, flat, load_module

HEAD = """
import torch
import torch.nn as nn
"""

# PyTorch's CPU LSTM says it computes projections without oneDNN: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

L, N, H_IN = 5, 3, 4  # sequence length, batch, input features


# --- The sequence layers called the usual way, every state returned.

SEQUENCE = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.{layer}

    def forward(self, x):
        out, h = self.rnn(x)
        return out, h
"""

LAYERS = [
    "RNN(4, 6)",
    "RNN(4, 6, nonlinearity='relu')",
    "RNN(4, 6, 2, 'relu', dropout=0.3)",
    "RNN(4, 6, num_layers=2, bidirectional=True, bias=False)",
    "LSTM(4, 6)",
    "LSTM(4, 6, num_layers=2, dropout=0.5)",
    "LSTM(4, 6, bidirectional=True)",
    "LSTM(4, 6, num_layers=3, bidirectional=True, dropout=0.2)",
    "LSTM(4, 6, bias=False, num_layers=2)",
    "LSTM(4, 6, proj_size=3)",  # Keras's LSTM has no projection: PyTorchProjectedLSTM
    "LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=2, bias=False)",
    "GRU(4, 6)",
    "GRU(4, 6, num_layers=2, dropout=0.5)",
    "GRU(4, 6, 2, bidirectional=True)",
    "GRU(4, 6, bias=False, bidirectional=True)",
]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layer", LAYERS)
def test_sequence_layers_return_output_and_states_as_pytorch(layer, batch_first):
    if batch_first:
        layer = layer[:-1] + ", batch_first=True)"
    shape = (N, L, H_IN) if batch_first else (L, N, H_IN)
    check(SEQUENCE.format(layer=layer), "Net()", [shape])


# --- Written the usual ways: nested unpacking, initial states passed in, the
# last layer's state (h_n[-1]), both directions' last states joined, `[0]` of
# the result, flatten_parameters() (a no-op in Keras).

TAGGER = HEAD + """
class Net(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=batch_first,
                            dropout=0.1)
        self.gru = nn.GRU(12, 5, batch_first=batch_first)
        self.rnn = nn.RNN(4, 3, nonlinearity="relu", batch_first=batch_first)
        self.fc = nn.Linear(12, 2)

    def forward(self, x, h0, c0, g0):
        self.lstm.flatten_parameters()
        output, (h_n, c_n) = self.lstm(x, (h0, c0))
        out, h = self.gru(output, g0)
        last = torch.cat((h_n[-2], h_n[-1]), dim=1)
        seq = self.rnn(x)[0]
        return self.fc(last), out, h, c_n[-1], seq
"""


# A sequence model in layout="torch" entries gives the same numbers in both layouts.
@pytest.mark.parametrize("batch_first,layout", [(False, "channels_last"), (True, "channels_last"),
                                                (True, "channels_first")])
def test_initial_states_and_the_usual_unpacking(batch_first, layout):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, L, H_IN) if batch_first else (L, N, H_IN)).astype("float32")
    h0, c0 = (rng.normal(size=(4, N, 6)).astype("float32") for _ in range(2))
    g0 = rng.normal(size=(1, N, 5)).astype("float32")
    check_calls(TAGGER, f"Net({batch_first})", [((x, h0, c0, g0), {})], layout=layout)


def test_the_usual_unpacking_reads_like_pytorch():
    text = flat(convert(TAGGER, "channels_last"))
    assert "self.lstm = PyTorchLSTM(4, 6, num_layers=2, batch_first=batch_first, dropout=0.1, bidirectional=True)" in text
    assert "output, (h_n, c_n) = self.lstm(x, (h0, c0))" in text
    assert "self.rnn = PyTorchRNN(4, 3, nonlinearity='relu', batch_first=batch_first)" in text
    assert "seq = self.rnn(x)[0]" in text


# --- LSTM's projection (proj_size, which Keras's LSTM lacks): h has proj_size
# features, c hidden_size; a proj_size known only when the model is built
# (here a constructor argument, 0 included) takes the same runtime class.

PROJECTED = HEAD + """
class Net(nn.Module):
    def __init__(self, proj):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=proj)

    def forward(self, x, h0, c0):
        output, (h_n, c_n) = self.lstm(x, (h0, c0))
        return output, h_n, c_n
"""


@pytest.mark.parametrize("proj", [0, 3])
def test_projected_lstm_with_initial_states(proj):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(L, N, H_IN)).astype("float32")
    h0 = rng.normal(size=(4, N, proj or 6)).astype("float32")
    c0 = rng.normal(size=(4, N, 6)).astype("float32")
    check_calls(PROJECTED, f"Net({proj})", [((x, h0, c0), {})])


# --- A convolutional front end read as a sequence (CRNN): the image features
# reach the LSTM in PyTorch's (W, N, C) order whatever the layout inside.

CRNN = HEAD + """
class CRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.MaxPool2d((4, 1)))
        self.rnn = nn.LSTM(8, 10, bidirectional=True)
        self.fc = nn.Linear(20, 5)

    def forward(self, x):
        features = self.cnn(x).squeeze(2).permute(2, 0, 1)  # (W, N, C)
        out, _ = self.rnn(features)
        return self.fc(out).log_softmax(2)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_crnn_feeds_image_features_to_an_lstm(layout):
    check(CRNN, "CRNN()", [(2, 1, 4, 7)], layout=layout)


# --- Unbatched input: (L, H_in) in, unbatched results out, with and without hx.

UNBATCHED = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True)
        self.gru = nn.GRU(4, 5, batch_first=True)

    def forward(self, x, h0):
        out, (h, c) = self.lstm(x)
        out2, h2 = self.gru(x, h0)
        return out, h, c, out2, h2
"""


def test_unbatched_sequences_give_unbatched_results():
    rng = np.random.default_rng(5)
    calls = [((rng.normal(size=(L, H_IN)).astype("float32"),
               rng.normal(size=(1, 5)).astype("float32")), {}) for _ in range(2)]
    check_calls(UNBATCHED, "Net()", calls)


# --- Cells: a loop over time steps, states given or not, unbatched input.

CELLS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTMCell(4, 6)
        self.gru = nn.GRUCell(4, 5)
        self.rnn = nn.RNNCell(4, 3, nonlinearity="relu")
        self.tanh = nn.RNNCell(4, 3, bias=False)
        self.plain = nn.LSTMCell(4, 2, bias=False)

    def forward(self, x):
        h = torch.zeros(x.size(0), 6)
        c = torch.zeros(x.size(0), 6)
        g = self.gru(x[:, 0])
        r = self.rnn(x[:, 0])
        for t in range(x.size(1)):
            h, c = self.lstm(x[:, t], (h, c))
            g = self.gru(x[:, t], g)
            r = self.rnn(x[:, t], r)
        first, carry = self.plain(x[:, 0])
        return h, c, g, r, self.tanh(x[:, -1]), first, carry
"""


def test_cells_step_as_pytorch():
    check(CELLS, "Net()", [(N, L, H_IN)])


UNBATCHED_CELLS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTMCell(4, 6)
        self.gru = nn.GRUCell(4, 5)

    def forward(self, x, h0):
        h, c = self.lstm(x)
        return h, c, self.gru(x, h0), self.gru(x)
"""


def test_cells_take_unbatched_input():
    rng = np.random.default_rng(6)
    check_calls(UNBATCHED_CELLS, "Net()",
                [((rng.normal(size=(H_IN,)).astype("float32"),
                   rng.normal(size=(5,)).astype("float32")), {})])


# --- Dropout acts between layers and in training only: the first layer's final
# state never sees it, the last layer's output does.

DROPOUT = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 32, num_layers=2, dropout=0.5)

    def forward(self, x):
        return self.lstm(x)
"""


def test_dropout_between_layers_in_training_only():
    model = load_module(convert(DROPOUT, "channels_last"), "keras_dropout").Net()
    x = np.random.default_rng(7).normal(size=(L, N, H_IN)).astype("float32")
    out, (h, c) = model(x, training=False)
    out_t, (h_t, c_t) = model(x, training=True)
    np.testing.assert_allclose(np.asarray(h_t)[0], np.asarray(h)[0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(c_t)[0], np.asarray(c)[0], atol=1e-6)
    assert np.abs(np.asarray(out_t) - np.asarray(out)).max() > 1e-3


# --- examples/lstm_tagger.py: embedding with a padding row, bidirectional
# two-layer LSTM (batch_first), Linear, log_softmax; padded batches.

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def token_ids(seed, shape=(3, 9)):
    ids = np.random.default_rng(seed).integers(1, 100, size=shape).astype("int64")
    ids[-1, -2:] = 0  # right-padded
    ids[0, -3:] = 0
    return ids


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_example_lstm_tagger(layout):
    source = (EXAMPLES / "lstm_tagger.py").read_text()
    calls = [((token_ids(1),), {}), ((token_ids(2, (2, 4)),), {})]
    check_calls(source, "LSTMTagger()", calls, layout=layout)


def test_example_lstm_tagger_reads_like_keras():
    text = flat(convert((EXAMPLES / "lstm_tagger.py").read_text(), "channels_last"))
    assert ("self.lstm = PyTorchLSTM(embedding_dim, hidden_dim, num_layers=num_layers, "
            "batch_first=True, dropout=dropout, bidirectional=True)") in text
    assert "lstm_out, _ = self.lstm(embeds)" in text
    assert "layers.LSTM(" in text  # made of Keras's own LSTM layers


# --- The loader names the parameter that does not fit.

@pytest.mark.parametrize("change,message", [
    (lambda sd: sd.update({"rnn.weight_hh_l0": sd["rnn.weight_hh_l0"][:, :5]}),
     "shape mismatch for 'weight_hh_l0': PyTorch shape (24, 5)"),
    (lambda sd: sd.pop("rnn.bias_hh_l0_reverse"), "no 'bias_hh_l0_reverse'"),
    (lambda sd: sd.update({"rnn.weight_hr_l0": sd["rnn.weight_hh_l0"]}), "no parameter 'weight_hr_l0'"),
])
def test_loading_a_state_dict_that_does_not_fit_names_the_parameter(change, message):
    source = SEQUENCE.format(layer="LSTM(4, 6, bidirectional=True)")
    torch_model = load_module(source, "torch_loader").Net()
    keras_ns = load_module(convert(source, "channels_last"), "keras_loader")
    model = keras_ns.Net()
    model(np.zeros((L, N, H_IN), "float32"))
    state_dict = {k: v.numpy() for k, v in torch_model.state_dict().items()}
    change(state_dict)
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_ns.load_torch_state_dict(model, state_dict)


# --- Options without an exact form are errors.

@pytest.mark.parametrize("layer,message", [
    ("RNN(4, 6, nonlinearity='gelu')", "`nonlinearity='gelu'` is not supported"),
])
def test_options_without_an_exact_form_are_errors(layer, message):
    assert_conversion_error(SEQUENCE.format(layer=layer), message)


def test_cell_options_without_an_exact_form_are_errors():
    assert_conversion_error(CELLS.replace('nonlinearity="relu"', 'nonlinearity="sigmoid"'),
                            "`nonlinearity='sigmoid'` is not supported")


NESTED_STATE = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 16, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        # The usual way to take the last layer's final states of both directions.
        _, (h_n, c_n) = self.lstm(x)
        h_n = h_n.view(2, 2, x.size(0), 16)[-1]
        return torch.cat([h_n[0], h_n[1]], dim=1) + c_n.sum(0).repeat(1, 2)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_states_unpacked_in_a_nested_tuple_are_tensors(layout):
    x = np.random.default_rng(3).normal(size=(3, 5, 6)).astype("float32")
    check_calls(NESTED_STATE, "Net()", [((x,), {})], layout=layout)


WORD_LM = """
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, ntoken, nhid, nlayers):
        super().__init__()
        self.nhid, self.nlayers = nhid, nlayers
        self.encoder = nn.Embedding(ntoken, nhid)
        self.rnn = nn.LSTM(nhid, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, input, h, c):
        output, (h, c) = self.rnn(self.encoder(input), (h, c))
        return self.decoder(output), h, c

    def init_hidden(self, bsz):
        # pytorch/examples' word language model: the states get the weights' dtype.
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid))
"""


def test_init_hidden_made_from_the_parameters_dtype():
    import keras

    # Called before the first forward, as a training loop does.
    keras_model = load_module(convert(WORD_LM, "channels_last"), "keras_word_lm").RNNModel(11, 8, 2)
    h, c = keras_model.init_hidden(3)
    torch_h, _ = load_module(WORD_LM, "torch_word_lm").RNNModel(11, 8, 2).init_hidden(3)
    assert tuple(h.shape) == tuple(torch_h.shape) and keras.backend.standardize_dtype(h.dtype) == "float32"
    assert not np.asarray(h).any() and not np.asarray(c).any()
    ids = np.random.default_rng(4).integers(0, 11, size=(5, 3))
    zeros = np.zeros((2, 3, 8), "float32")
    check_calls(WORD_LM, "RNNModel(11, 8, 2)", [((ids, zeros, zeros + 0.5), {})])


# The usual LSTM classifier read-out: each sequence's last valid step, picked by
# advanced indexing with two index tensors (time first and batch first), and a
# single index tensor on axis 1; lengths as an int64 input.
LAST_STEP = """
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, batch_first):
        super().__init__()
        self.batch_first = batch_first
        self.emb = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, batch_first=batch_first)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids, lengths):
        out, _ = self.lstm(self.emb(ids))
        if self.batch_first:
            last = out[torch.arange(out.size(0)), lengths - 1]
            first = out[:, lengths * 0]
        else:
            last = out[lengths - 1, torch.arange(out.size(1))]
            first = out[lengths * 0]
        return self.fc(last), first
"""


@pytest.mark.parametrize("batch_first", [True, False])
def test_last_valid_step_by_advanced_indexing(batch_first):
    rng = np.random.default_rng(6)
    shape = (3, 7) if batch_first else (7, 3)
    ids = rng.integers(0, 20, size=shape).astype("int64")
    lengths = np.array([7, 2, 4], "int64")
    check_calls(LAST_STEP, f"Classifier({batch_first})", [((ids, lengths), {})])
