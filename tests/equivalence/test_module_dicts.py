"""nn.ModuleDict in model code: a dict of Keras layers (Keras tracks the layers of
a dict assigned to an attribute), read by key.

`self.transformer.wte` in PyTorch is `self.transformer["wte"]` in the Keras model;
`self.transformer["wte"]`, `.items()`, `.values()`, `.keys()`, `len` and `in` are the
dict's own. load_torch_state_dict walks `transformer.wte.weight` through the dict,
and weight tying through it (`self.transformer.wte.weight = self.lm_head.weight`)
makes one Keras variable. Each model is checked against real PyTorch with random
parameters, eagerly and inside tf.function (harness.check_calls).
"""

import numpy as np
import pytest

from harness import assert_conversion_error, check_calls, convert, flat, load_module

HEAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""

LAYOUTS = ["channels_last", "channels_first"]


def ids(seed, shape=(2, 6), high=20):
    return np.random.default_rng(seed).integers(0, high, size=shape).astype("int64")


# --- nanoGPT's layout: the model's parts in a ModuleDict made from dict(...), the
# blocks a ModuleList inside it, the output head tied to the token embedding.

NANOGPT = HEAD + """
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln = nn.LayerNorm(c)
        self.fc = nn.Linear(c, c)

    def forward(self, x):
        return x + F.gelu(self.fc(self.ln(x)))


class GPT(nn.Module):
    def __init__(self, vocab=20, block_size=8, c=16, n_layer=2):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, c),
            wpe=nn.Embedding(block_size, c),
            drop=nn.Dropout(0.1),
            h=nn.ModuleList([Block(c) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(c),
        ))
        self.lm_head = nn.Linear(c, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        return self.lm_head(x)
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_nanogpt_module_dict_matches_pytorch(layout):
    check_calls(NANOGPT, "GPT()", [((ids(1),), {}), ((ids(2, (3, 8)),), {})], layout=layout)


def test_nanogpt_module_dict_reads_as_a_dict_of_layers():
    code = flat(convert(NANOGPT, "channels_last"))
    # The ModuleDict is the dict(...) it was made from; no wrapper class.
    assert "self.transformer = dict(wte=layers.Embedding(vocab, c), wpe=layers.Embedding(block_size, c)," in code
    assert "h=[Block(c) for _ in range(n_layer)]" in code
    # Attribute access into it is an item read by key.
    assert "self.transformer['drop'](self.transformer['wte'](idx) + self.transformer['wpe'](pos))" in code
    assert "for block in self.transformer['h']:" in code
    assert "x = self.transformer['ln_f'](x)" in code
    assert "self.transformer.wte" not in code
    # Tying names PyTorch's parameter paths (the state_dict keys).
    assert "pytorch_tie_weights(self, 'transformer.wte.weight', 'lm_head.weight')" in code


def test_weights_tied_through_a_module_dict_are_one_keras_variable():
    torch_model = load_module(NANOGPT, "torch_gpt_dict").GPT()
    model = load_module(convert(NANOGPT, "channels_last"), "keras_gpt_dict").GPT()
    model(ids(3))
    assert model.lm_head.embedding is model.transformer["wte"]
    assert len(model.trainable_weights) == len(list(torch_model.parameters()))
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == \
        sum(p.numel() for p in torch_model.parameters())


# --- The literal forms: {"key": module}, OrderedDict and (key, module) pairs,
# read by attribute and by subscript; dicts nested in dicts; a Sequential and a
# block of the input held in one.

LITERAL = HEAD + """
from collections import OrderedDict


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(20, 8),
            "ln_f": nn.LayerNorm(8),
        })
        self.ordered = nn.ModuleDict(OrderedDict([("a", nn.Linear(8, 8)), ("b", nn.Linear(8, 8))]))
        self.acts = nn.ModuleDict([("relu", nn.ReLU()), ("tanh", nn.Tanh())])
        self.nested = nn.ModuleDict({
            "inner": nn.ModuleDict({"mlp": nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8))}),
            "head": Head(),
        })

    def forward(self, idx):
        x = self.transformer.wte(idx)
        x = self.transformer["ln_f"](x)
        x = self.acts.relu(self.ordered.a(x)) + self.acts["tanh"](self.ordered["b"](x))
        for layer in self.nested.inner.mlp:
            x = layer(x)
        x = x + self.nested["inner"]["mlp"](x)
        return self.nested.head(x) + self.nested.head.fc(x)
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_literal_module_dicts_match_pytorch(layout):
    check_calls(LITERAL, "Net()", [((ids(4),), {})], layout=layout)


def test_literal_module_dicts_keep_their_form():
    code = flat(convert(LITERAL, "channels_last"))
    assert "self.transformer = {'wte': layers.Embedding(20, 8), 'ln_f': layers.LayerNormalization(" in code
    assert "self.ordered = OrderedDict([('a', layers.Dense(8)), ('b', layers.Dense(8))])" in code
    assert "self.acts = dict([('relu', layers.ReLU()), ('tanh', layers.Activation('tanh'))])" in code
    assert "for layer in self.nested['inner']['mlp'].layers:" in code
    assert "self.nested['head'](x) + self.nested['head'].fc(x)" in code


# --- Iteration and the dict's own methods; a ModuleDict filled after it is made
# (item and attribute assignment, add_module, update), with keys from a loop.

ITERATION = HEAD + """
class Net(nn.Module):
    def __init__(self, names=("a", "b")):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.heads = nn.ModuleDict()
        for n in names:
            self.heads[n] = nn.Linear(6, 6)
        self.heads.add_module("c", nn.Linear(6, 6))
        self.heads.d = nn.Linear(6, 6)
        self.more = nn.ModuleDict()
        self.more.update({"proj": nn.Linear(6, 3)})

    def forward(self, idx):
        x = self.emb(idx)
        outs = []
        for name, head in self.heads.items():
            outs.append(head(x).sum(-1, keepdim=True))
        for head in self.heads.values():
            x = torch.tanh(head(x))
        for name in self.heads.keys():
            x = x + self.heads[name](x) * 0.5
        for name in self.heads:
            x = x - self.heads[name](x) * 0.25
        if "c" in self.heads and "z" not in self.heads:
            x = x * len(self.heads)
        x = self.heads.d(self.heads.c(x))
        if hasattr(self.heads, "c") and not hasattr(self.heads, "z"):
            x = getattr(self.heads, "c")(x)
        return self.more.proj(x), torch.cat(outs, -1)
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_module_dict_iteration_and_methods_match_pytorch(layout):
    check_calls(ITERATION, "Net()", [((ids(5),), {})], layout=layout)
    check_calls(ITERATION, "Net(names=('x',))", [((ids(6),), {})], layout=layout)


def test_module_dict_filled_after_it_is_made_reads_as_a_dict():
    code = flat(convert(ITERATION, "channels_last"))
    assert "self.heads = {}" in code
    assert "self.heads[n] = layers.Dense(6)" in code
    assert "self.heads['c'] = layers.Dense(6)" in code
    assert "self.heads['d'] = layers.Dense(6)" in code
    assert "self.more.update({'proj': layers.Dense(3)})" in code
    assert "x = self.heads['d'](self.heads['c'](x))" in code
    assert "if 'c' in self.heads and 'z' not in self.heads: x = self.heads['c'](x)" in code


# --- Tying where the Linear is the ModuleDict's: it becomes a PyTorchTiedDense
# in the dict.

TIED_IN_DICT = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.heads = nn.ModuleDict({"norm": nn.LayerNorm(8), "out": nn.Linear(8, 20)})
        self.heads.out.weight = self.emb.weight

    def forward(self, idx):
        return self.heads.out(self.heads.norm(self.emb(idx)))
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tied_linear_inside_a_module_dict_matches_pytorch(layout):
    check_calls(TIED_IN_DICT, "Net()", [((ids(7),), {})], layout=layout)
    model = load_module(convert(TIED_IN_DICT, layout), "keras_tied_in_dict").Net()
    model(ids(8))
    assert model.heads["out"].embedding is model.emb


# --- Parameters of a ModuleDict's layers read in forward code (F.linear with a
# tied or own weight), one of them never called: its constructor builds it.

PARAMETER_READS = HEAD + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(20, 8), proj=nn.Linear(8, 8)))

    def forward(self, idx):
        x = self.transformer.wte(idx)
        y = F.linear(x, self.transformer.proj.weight, self.transformer["proj"].bias)
        return F.linear(y, self.transformer.wte.weight)
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_module_dict_layer_parameters_read_in_forward(layout):
    check_calls(PARAMETER_READS, "Net()", [((ids(9),), {})], layout=layout)
    assert "self.transformer['proj'].build((8,))" in convert(PARAMETER_READS, layout)


# --- Errors stay loud: a key the ModuleDict does not have, in forward and in
# constructor code (PyTorch raises too).

def unknown_key(forward, init=""):
    return HEAD + f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(20, 8), ln_f=nn.LayerNorm(8)))
        self.head = nn.Linear(8, 20, bias=False)
        {init}

    def forward(self, idx):
        {forward}
"""


@pytest.mark.parametrize("forward, init", [
    ("return self.transformer.wpe(idx)", ""),
    ("return self.transformer['wpe'](idx)", ""),
    ("return self.transformer.wte(idx)", "self.transformer.wpe.weight = self.head.weight"),
    ("return self.transformer.wte(idx)", "self.first = self.transformer['wpe']"),
])
def test_unknown_module_dict_key_is_an_error(forward, init):
    assert_conversion_error(unknown_key(forward, init),
                            "`wpe` is not a module of the nn.ModuleDict `self.transformer` (its keys: `wte`, `ln_f`)")


def test_setattr_on_a_module_dict_is_an_error():
    assert_conversion_error(unknown_key("setattr(self.transformer, 'ln_f', self.head)\n        return idx"),
                            "`setattr` on the nn.ModuleDict `self.transformer` is not supported")


# minGPT's Block: the MLP as a ModuleDict read through a constructor alias in a
# lambda kept in an attribute (`self.mlpf = lambda x: m.dropout(m.c_proj(...))`),
# and a forward that names the ModuleDict locally (`m = self.mlp; m.c_fc(x)`).
MINGPT_BLOCK = HEAD + """
class Block(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.ModuleDict(dict(
            c_fc=nn.Linear(d, 4 * d),
            c_proj=nn.Linear(4 * d, d),
            act=nn.GELU(),
            dropout=nn.Dropout(0.1),
        ))
        m = self.mlp
        self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))  # MLP forward

    def forward(self, x):
        x = x + self.mlpf(self.ln_2(x))
        m = self.mlp
        return x + m.c_proj(m.act(m.c_fc(x)))
"""


@pytest.mark.parametrize("layout", LAYOUTS)
def test_mingpt_lambda_and_local_module_dict_alias_match_pytorch(layout):
    code = convert(MINGPT_BLOCK, layout)
    assert "lambda" not in code.split("class Block")[1].split("# --- Weight loader")[0]
    assert "m['c_proj'](m['act'](m['c_fc'](x)))" in code
    x = np.random.default_rng(2).normal(size=(2, 5, 8)).astype("float32")
    check_calls(MINGPT_BLOCK, "Block()", [((x,), {})], layout=layout)
