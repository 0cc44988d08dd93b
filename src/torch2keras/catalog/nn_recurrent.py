"""Recurrent layers: RNN, LSTM, GRU and their cells.

They work in PyTorch's axis order (layout="torch"): (L, N, H_in), or (N, L, H_in)
with batch_first, or unbatched (L, H_in); states (D * num_layers, N, H_out). The
runtime classes (PyTorchRNN, PyTorchLSTM, PyTorchGRU, PyTorchRNNCell,
PyTorchLSTMCell, PyTorchGRUCell) take PyTorch's constructor arguments, return
PyTorch's structure (`output, h_n`; LSTM `output, (h_n, c_n)`; cells `h'` or
`(h', c')`) and are made of Keras's own SimpleRNN / LSTM / GRU layers and cells.

Facts (pitfalls.md):
* P24: PyTorch LSTM gates (i, f, g, o) are Keras's (i, f, c, o); the loader sums
  bias_ih and bias_hh into Keras's one bias.
* P25: PyTorch GRU gates (r, z, n) are Keras's (z, r, h) re-ordered; PyTorch's
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) is Keras's reset_after=True, whose
  bias (2, 3H) holds [b_ih; b_hh].
* P26: dropout acts between layers (training only), not as Keras's `dropout=`
  (input dropout at every step); the reverse direction's weights are `*_reverse`.
* LSTM proj_size (P26): Keras's LSTM has no projection; PyTorchLSTM then runs
  keras.layers.RNN over PyTorchProjectedLSTMCell, an LSTMCell that projects h
  (PyTorchProjectedLSTM).
* P27, packed sequences: pack_padded_sequence makes a PyTorchPackedSequence
  (the padded batch, batch-major, and the lengths); the sequence layers take
  one as `input` (`packed="input"`) and run each sequence masked to its length,
  so h_n and c_n are the states at each sequence's last valid step and a
  reverse direction starts there; pad_packed_sequence writes the padding value
  past each length. A PackedSequence goes nowhere else (an error: its `.data`
  is laid out by time step, which the converted model does not build).
"""


@module("torch.nn.RNN", input="float", layout="torch", packed="input",
        settings=("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"))
def RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
        dropout=0.0, bidirectional=False, device=None, dtype=None):
    require(nonlinearity == "tanh" or nonlinearity == "relu",
            "`nonlinearity={nonlinearity}` is not supported (PyTorch takes \"tanh\" or \"relu\")")
    ignore(device, dtype)
    warn(TRAINING_CODE and bias,
         "trained in Keras, this layer differs from PyTorch's: Keras keeps one bias (bias_ih + bias_hh) where "
         "PyTorch trains the two apart (inference is the same); `bias=False` trains exactly")
    return PyTorchRNN(input_size, hidden_size, num_layers=num_layers, nonlinearity=nonlinearity,
                      bias=bias, batch_first=batch_first, dropout=dropout,
                      bidirectional=bidirectional)


@module("torch.nn.LSTM", input="float", layout="torch", packed="input",
        settings=("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"))
def LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
         bidirectional=False, proj_size=0, device=None, dtype=None):
    ignore(device, dtype)
    warn(TRAINING_CODE and bias,
         "trained in Keras, this layer differs from PyTorch's: Keras keeps one bias (bias_ih + bias_hh) where "
         "PyTorch trains the two apart (inference is the same); `bias=False` trains exactly")
    if proj_size == 0:
        return PyTorchLSTM(input_size, hidden_size, num_layers=num_layers, bias=bias,
                           batch_first=batch_first, dropout=dropout, bidirectional=bidirectional)
    return PyTorchProjectedLSTM(input_size, hidden_size, num_layers=num_layers, bias=bias,
                                batch_first=batch_first, dropout=dropout,
                                bidirectional=bidirectional, proj_size=proj_size)


@module("torch.nn.GRU", input="float", layout="torch", packed="input",
        settings=("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional"))
def GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False, device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchGRU(input_size, hidden_size, num_layers=num_layers, bias=bias,
                      batch_first=batch_first, dropout=dropout, bidirectional=bidirectional)


@module("torch.nn.RNNCell", input="float", layout="torch", settings=("input_size", "hidden_size", "bias"))
def RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
    require(nonlinearity == "tanh" or nonlinearity == "relu",
            "`nonlinearity={nonlinearity}` is not supported (PyTorch takes \"tanh\" or \"relu\")")
    ignore(device, dtype)
    warn(TRAINING_CODE and bias,
         "trained in Keras, this layer differs from PyTorch's: Keras keeps one bias (bias_ih + bias_hh) where "
         "PyTorch trains the two apart (inference is the same); `bias=False` trains exactly")
    return PyTorchRNNCell(input_size, hidden_size, bias=bias, nonlinearity=nonlinearity)


@module("torch.nn.LSTMCell", input="float", layout="torch", settings=("input_size", "hidden_size", "bias"))
def LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None):
    ignore(device, dtype)
    warn(TRAINING_CODE and bias,
         "trained in Keras, this layer differs from PyTorch's: Keras keeps one bias (bias_ih + bias_hh) where "
         "PyTorch trains the two apart (inference is the same); `bias=False` trains exactly")
    return PyTorchLSTMCell(input_size, hidden_size, bias=bias)


@module("torch.nn.GRUCell", input="float", layout="torch", settings=("input_size", "hidden_size", "bias"))
def GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchGRUCell(input_size, hidden_size, bias=bias)


@function("torch.nn.utils.rnn.pack_padded_sequence", layout="torch", returns="packed")
def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    # enforce_sorted=True only makes PyTorch refuse lengths that do not decrease;
    # the converted model needs no order, and computes for any lengths what
    # enforce_sorted=False gives.
    ignore(enforce_sorted)
    return pytorch_pack_padded_sequence(input, lengths, batch_first=batch_first)


@function("torch.nn.utils.rnn.pad_packed_sequence", layout="torch", packed="sequence",
          items=("same", "int"))
def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    return tuple(pytorch_pad_packed_sequence(sequence, batch_first=batch_first,
                                             padding_value=padding_value,
                                             total_length=total_length))


# The runtime classes' own defaults (PyTorch's): a keyword left at its default is
# not written (the catalog reads KERAS_DEFAULTS from every file).
KERAS_DEFAULTS = {
    "PyTorchRNN": dict(num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                       dropout=0.0, bidirectional=False),
    "PyTorchLSTM": dict(num_layers=1, bias=True, batch_first=False, dropout=0.0,
                        bidirectional=False),
    "PyTorchProjectedLSTM": dict(num_layers=1, bias=True, batch_first=False, dropout=0.0,
                                 bidirectional=False),
    "PyTorchGRU": dict(num_layers=1, bias=True, batch_first=False, dropout=0.0,
                       bidirectional=False),
    "PyTorchRNNCell": dict(bias=True, nonlinearity="tanh"),
    "PyTorchLSTMCell": dict(bias=True),
    "PyTorchGRUCell": dict(bias=True),
    "pytorch_pack_padded_sequence": dict(batch_first=False),
    "pytorch_pad_packed_sequence": dict(batch_first=False, padding_value=0.0, total_length=None),
}
