"""torch.nn.init calls on one layer's parameter become that Keras layer's
initializer: the freshly built Keras weights follow the same distribution as the
PyTorch ones (compared by mean and standard deviation over large layers, and by
exact value for constants). No weights are loaded here."""

import numpy as np
import pytest

from harness import convert, load_module

TEMPLATE = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = {layer}
        {init}

    def forward(self, x):
        return self.layer(x)
"""

CONV = "nn.Conv2d(64, 128, 3)"
DENSE = "nn.Linear(512, 256)"
NORM = "nn.BatchNorm2d(64)"
CASES = [
    # (layer, init statement, torch parameter, Keras attribute, input shape)
    (CONV, 'nn.init.kaiming_normal_(self.layer.weight, mode="fan_out", nonlinearity="relu")',
     "weight", "kernel", (1, 64, 5, 5)),
    (CONV, "nn.init.kaiming_normal_(self.layer.weight)", "weight", "kernel", (1, 64, 5, 5)),
    (CONV, "nn.init.kaiming_uniform_(self.layer.weight, a=1)", "weight", "kernel", (1, 64, 5, 5)),
    (DENSE, "nn.init.xavier_uniform_(self.layer.weight, gain=2.0)", "weight", "kernel", (1, 512)),
    (DENSE, "nn.init.xavier_normal_(self.layer.weight)", "weight", "kernel", (1, 512)),
    (DENSE, "nn.init.normal_(self.layer.weight, 0.5, 0.01)", "weight", "kernel", (1, 512)),
    (DENSE, "nn.init.uniform_(self.layer.weight, -0.3, 0.1)", "weight", "kernel", (1, 512)),
    (DENSE, "nn.init.trunc_normal_(self.layer.weight, std=0.5, a=-1.0, b=1.0)", "weight", "kernel",
     (1, 512)),
    (DENSE, "nn.init.constant_(self.layer.bias, 0.25)", "bias", "bias", (1, 512)),
    (NORM, "nn.init.zeros_(self.layer.weight)", "weight", "gamma", (1, 64, 3, 3)),
    (NORM, "nn.init.ones_(self.layer.bias)", "bias", "beta", (1, 64, 3, 3)),
]


@pytest.mark.parametrize("layer,init,param,attribute,shape", CASES, ids=[c[1] for c in CASES])
def test_initializer_matches_pytorch_distribution(layer, init, param, attribute, shape):
    source = TEMPLATE.format(layer=layer, init=init)
    torch_model = load_module(source, "torch_init").Net()
    expected = getattr(torch_model.layer, param).detach().numpy()
    code = convert(source, "channels_last")
    assert f"self.layer.{attribute}_initializer = keras.initializers." in code
    keras_model = load_module(code, "keras_init").Net()
    keras_model(np.zeros(shape, "float32"))
    got = np.asarray(getattr(keras_model.layer, attribute))
    assert got.size == expected.size
    assert abs(got.mean() - expected.mean()) <= 0.05 * expected.std() + 1e-6
    assert abs(got.std() - expected.std()) <= 0.05 * expected.std() + 1e-6
    if any(k in init for k in ("uniform", "trunc", "constant", "zeros", "ones")):
        # Bounded distributions: the same bounds.
        assert got.min() >= expected.min() - 0.02 * expected.std() - 1e-6
        assert got.max() <= expected.max() + 0.02 * expected.std() + 1e-6


def test_initializer_without_exact_keras_form_is_dropped():
    import torch2keras

    source = TEMPLATE.format(layer=DENSE, init="nn.init.trunc_normal_(self.layer.weight, std=0.02)")
    result = torch2keras.convert(source, filename="model.py")
    assert result.ok
    assert [d.code for d in result.diagnostics] == ["T2K104"]
    assert "initializer" not in result.code.split("class Net")[1].split("def call")[0]


PARAMETER_START = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.empty(1, 256, 64).normal_({args}))

    def forward(self, x):
        return x + self.pos
"""


@pytest.mark.parametrize("args", ["std=0.02", "0.5, 0.1", "mean=-1.0"])
def test_parameter_started_with_normal_follows_pytorch_distribution(args):
    # torchvision's ViT: nn.Parameter(torch.empty(...).normal_(std=0.02)).
    source = PARAMETER_START.format(args=args)
    expected = load_module(source, "torch_start").Net().pos.detach().numpy()
    code = convert(source, "channels_last")
    assert "keras.random.normal((1, 256, 64)" in code  # the shape of torch.empty(...)
    got = np.asarray(load_module(code, "keras_start").Net().pos)
    assert got.shape == expected.shape
    assert abs(got.mean() - expected.mean()) <= 0.05 * expected.std() + 1e-3
    assert abs(got.std() - expected.std()) <= 0.05 * expected.std()


INIT_CODE = """
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, ntoken, nhid):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, nhid)
        self.rnn = nn.GRU(nhid, nhid, batch_first=True)
        self.decoder = nn.Linear(nhid, ntoken)
        self.init_weights()
        self.apply(self._init_weights)

    def init_weights(self):
        initrange = 0.1
        self.encoder.weight.data.uniform_(-initrange, initrange)
        self.decoder.bias.data.zero_()
        self.decoder.weight.data.uniform_(-initrange, initrange)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def init_hidden(self, bsz, device):
        return torch.zeros(1, bsz, self.rnn.hidden_size).to(device)

    def forward(self, x):
        h = self.init_hidden(x.size(0), x.device)
        out, _ = self.rnn(self.encoder(x), h)
        return self.decoder(out)
"""


def test_tutorial_initialisation_through_data_and_apply_is_dropped():
    # pytorch/examples' word language model and nanoGPT's self.apply(self._init_weights).
    import torch2keras
    from harness import check_calls

    result = torch2keras.convert(INIT_CODE, filename="model.py")
    assert result.ok, [d.rendered for d in result.diagnostics]
    messages = [d.message for d in result.diagnostics]
    assert [d.code for d in result.diagnostics] == ["T2K104"] * 5, messages
    assert any("left out method `_init_weights`" in m for m in messages)
    assert ".data" not in result.code.split("class RNNModel")[1].split("# ---")[0]
    ids = np.random.default_rng(0).integers(0, 11, size=(2, 6))
    check_calls(INIT_CODE, "RNNModel(11, 8)", [((ids,), {})])
