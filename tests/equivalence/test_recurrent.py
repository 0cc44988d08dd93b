"""Issue 6, recurrent layers: nn.RNN / LSTM / GRU and their cells.

Every option is checked against real PyTorch with all parameters randomised
(harness.check / check_calls: eagerly and inside tf.function), so a gate order,
a bias or a direction loaded wrongly shows; the returned states (h_n, c_n) are
compared as well as the output.
"""

import numpy as np
import pytest

from harness import assert_conversion_error, check, check_calls, convert, flat

HEAD = """
import torch
import torch.nn as nn
"""

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
