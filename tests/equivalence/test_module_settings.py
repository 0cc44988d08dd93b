"""Settings a converted layer keeps under PyTorch's names (catalog `settings=`):
forward code may read them (`self.lstm.hidden_size`), so each one must hold
PyTorch's value on the Keras layer. Every entry that declares settings is built
here with non-default arguments and compared attribute by attribute."""

import ast
from pathlib import Path

import pytest

from harness import check, convert, load_module

CATALOG = Path(__file__).resolve().parents[2] / "src" / "torch2keras" / "catalog"

# A constructor with non-default arguments for every torch.nn class whose catalog
# entry declares settings.
CONSTRUCTORS = {
    "torch.nn.RNN": "nn.RNN(4, 6, num_layers=2, bias=False, batch_first=True, dropout=0.25, bidirectional=True)",
    "torch.nn.LSTM": "nn.LSTM(5, 3, num_layers=3, batch_first=True, dropout=0.5)",
    "torch.nn.GRU": "nn.GRU(2, 7, bias=False, bidirectional=True)",
    "torch.nn.RNNCell": "nn.RNNCell(3, 5, bias=False)",
    "torch.nn.LSTMCell": "nn.LSTMCell(4, 2)",
    "torch.nn.GRUCell": "nn.GRUCell(6, 3, bias=False)",
    "torch.nn.MultiheadAttention": "nn.MultiheadAttention(8, 2, dropout=0.1, kdim=3, batch_first=True)",
    "torch.nn.EmbeddingBag": "nn.EmbeddingBag(9, 4, mode='max', include_last_offset=True, padding_idx=-2)",
    "torch.nn.Transformer": "nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, "
                           "dim_feedforward=16, batch_first=True)",
}


def declared_settings():
    """(torch path, settings) of every catalog entry with `settings=`."""
    found = []
    for path in sorted(CATALOG.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "module"):
                    continue
                for kw in deco.keywords:
                    if kw.arg == "settings":
                        for key in deco.args:
                            found.append((key.value, ast.literal_eval(kw.value)))
    return found


SETTINGS = declared_settings()


def test_every_entry_with_settings_is_tested():
    assert SETTINGS, "no catalog entry declares settings"
    assert sorted(p for p, _ in SETTINGS) == sorted(CONSTRUCTORS)


@pytest.mark.parametrize("path,settings", SETTINGS, ids=[p for p, _ in SETTINGS])
def test_settings_hold_pytorchs_values(path, settings):
    source = f"import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n" \
             f"        super().__init__()\n        self.m = {CONSTRUCTORS[path]}\n"
    torch_module = load_module(source, "torch_settings").Net().m
    keras_layer = load_module(convert(source, "channels_last"), "keras_settings").Net().m
    for name in settings:
        assert getattr(keras_layer, name) == getattr(torch_module, name), name


READER = """
import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x):
        # The usual tutorial code: initial states sized from the module's settings.
        directions = 2 if self.lstm.bidirectional else 1
        h0 = torch.zeros(self.lstm.num_layers * directions, x.size(0), self.lstm.hidden_size).to(x.device)
        c0 = torch.ones(self.lstm.num_layers * directions, x.size(0), self.lstm.hidden_size).to(x)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out)
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_forward_reading_settings_and_moving_tensors(layout):
    check(READER, "Tagger()", [(2, 5, 4)], layout=layout)
