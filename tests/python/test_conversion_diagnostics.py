"""Conversion diagnostics: each names the construct and its location, and an error
means no code (and, from the CLI, no file)."""

import subprocess
import sys

import torch2keras

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.init as init\n\n\n"


def convert(body: str):
    return torch2keras.convert(HEADER + body, filename="m.py")


def codes(result):
    return [d.code for d in result.diagnostics]


def test_unsupported_argument_is_an_error_at_the_call():
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.c = nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect')\n")
    assert not r.ok and r.code == ""
    d = r.diagnostics[0]
    assert d.code == "T2K101" and d.line == 9 and d.col == 18
    assert "`padding_mode='reflect'` is not supported" in d.message
    assert "m.py:9:18: error:" in d.rendered and "[T2K101]" in d.rendered


def test_transposed_convolution_with_stride_and_dilation_is_an_error():
    # Keras' transposed convolutions refuse strides > 1 with dilation_rate > 1.
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.c = nn.ConvTranspose1d(3, 4, 3, stride=2, dilation=2)\n")
    assert not r.ok and codes(r) == ["T2K101"]
    assert "`stride=2` with `dilation=2` is not supported" in r.diagnostics[0].message


def test_unknown_torch_op_is_an_error_naming_it():
    r = convert("class N(nn.Module):\n"
                "    def forward(self, x):\n"
                "        return torch.frobnicate(x)\n")
    assert not r.ok
    assert codes(r) == ["T2K102"]
    assert "`torch.frobnicate` is not supported yet" in r.diagnostics[0].message
    assert r.diagnostics[0].line == 8


def test_unsupported_forward_statement_is_an_error():
    r = convert("class N(nn.Module):\n"
                "    def forward(self, x):\n"
                "        try:\n"
                "            x = x + 1\n"
                "        except ValueError:\n"
                "            pass\n"
                "        return x\n")
    assert not r.ok and "T2K103" in codes(r)
    assert "`try` statements in forward code are not supported yet" in r.diagnostics[0].message


def test_weight_initialisation_is_dropped_with_a_warning():
    # A loop over modules() and an initializer with no exact Keras form are dropped;
    # a direct one becomes the layer's Keras initializer.
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.fc = nn.Linear(2, 3)\n"
                "        init.zeros_(self.fc.bias)\n"
                "        init.trunc_normal_(self.fc.weight, std=0.02)\n"
                "        for m in self.modules():\n"
                "            pass\n"
                "    def forward(self, x):\n"
                "        return self.fc(x)\n")
    assert r.ok, [d.rendered for d in r.diagnostics]
    assert codes(r) == ["T2K104", "T2K104"]
    assert all(d.severity == "warning" for d in r.diagnostics)
    assert "trunc_normal_" not in r.code and "self.modules()" not in r.code
    assert "self.fc.bias_initializer = keras.initializers.Zeros()" in r.code


def test_initialisation_block_under_if_is_dropped_whole():
    # torchvision's ViT: the test names a torch class, a local feeds only the
    # initializers. The block goes with one warning; a local read later keeps it.
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.proj = nn.Conv2d(3, 8, 2)\n"
                "        if isinstance(self.proj, nn.Conv2d):\n"
                "            fan_in = self.proj.in_channels * 4\n"
                "            init.trunc_normal_(self.proj.weight, std=fan_in ** -0.5)\n"
                "            if self.proj.bias is not None:\n"
                "                init.zeros_(self.proj.bias)\n"
                "        elif self.proj is None:\n"
                "            pass\n"
                "        fan_in = 2\n"
                "        self.scale = fan_in\n"
                "    def forward(self, x):\n"
                "        return self.proj(x) * self.scale\n")
    assert r.ok, [d.rendered for d in r.diagnostics]
    assert codes(r) == ["T2K104"]
    assert "dropped the weight-initialisation block `if isinstance(self.proj, nn.Conv2d):`" in r.diagnostics[0].message
    assert "isinstance(self.proj" not in r.code and "fan_in = self" not in r.code
    kept = convert("class N(nn.Module):\n"
                   "    def __init__(self):\n"
                   "        super().__init__()\n"
                   "        self.fc = nn.Linear(2, 3)\n"
                   "        if True:\n"
                   "            n = 3\n"
                   "            init.zeros_(self.fc.bias)\n"
                   "        self.n = n\n"
                   "    def forward(self, x):\n"
                   "        return self.fc(x) * self.n\n")
    assert kept.ok and "self.n = n" in kept.code and "n = 3" in kept.code


def test_errors_inside_left_out_code_are_warnings():
    # A utility function that is not model code goes whole when something in it has
    # no Keras form (torchvision's interpolate_embeddings); what that is comes as a
    # warning, and the model still converts.
    r = convert("class N(nn.Module):\n"
                "    def forward(self, x):\n"
                "        return x\n\n\n"
                "def resize(x, mode: str):\n"
                "    return nn.functional.interpolate(x, scale_factor=2, mode=mode)\n")
    assert r.ok, [d.rendered for d in r.diagnostics]
    assert codes(r) == ["T2K106", "T2K101"] and "left out function `resize`" in r.diagnostics[0].message
    assert "does not convert" in r.diagnostics[0].message
    assert all(d.severity == "warning" for d in r.diagnostics)
    # A stub that says so where the function is called.
    assert "def resize(x, mode: str):\n    raise NotImplementedError(" in r.code


def test_state_dict_hook_methods_are_left_out():
    r = convert("class N(nn.Module):\n"
                "    def forward(self, x):\n"
                "        return x\n"
                "    def _load_from_state_dict(self, state_dict, prefix, *args):\n"
                "        # renames legacy keys\n"
                "        state_dict[prefix + 'w'] = state_dict.pop(prefix + 'old')\n"
                "        super()._load_from_state_dict(state_dict, prefix, *args)\n")
    assert r.ok and codes(r) == ["T2K106"]
    assert "left out method `_load_from_state_dict` of class `N`: a PyTorch state_dict hook" in r.diagnostics[0].message
    assert "_load_from_state_dict" not in r.code and "legacy keys" not in r.code


def test_telemetry_call_is_dropped_with_a_note():
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        torch._C._log_api_usage_once(self)\n"
                "    def forward(self, x):\n"
                "        return x\n")
    assert r.ok and codes(r) == ["T2K105"]
    assert r.diagnostics[0].severity == "note"
    assert "_log_api_usage_once" not in r.code


def test_module_level_torch_code_is_left_out_with_a_warning():
    r = convert("class N(nn.Module):\n"
                "    def forward(self, x):\n"
                "        return x\n\n\n"
                "def save(state):\n"
                "    torch.save(state, 'm.pt')\n\n\n"
                "def save_model(model):\n"
                "    torch.save(model.state_dict(), 'm.pt')\n")
    # Nothing calls save(): `state` is not known to be a model's state_dict(), so
    # torch.save of it does not convert (a warning says so).
    assert r.ok and codes(r) == ["T2K106", "T2K102"]
    assert "left out function `save`" in r.diagnostics[0].message
    assert "`torch.save` of anything but a model's `state_dict()`" in r.diagnostics[1].message
    assert "def save(state):\n    raise NotImplementedError(" in r.code
    # Nothing calls save_model() either, but what it calls on `model` is a
    # module's: a model, whose weights go to a Keras weights file.
    assert "def save_model(model):\n    model.save_weights('m.weights.h5')\n" in r.code


def test_attribute_clashing_with_keras_is_renamed_and_loadable():
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.layers = nn.Linear(2, 3)\n"
                "    def forward(self, x):\n"
                "        return self.layers(x)\n")
    assert r.ok and codes(r) == ["T2K107"]
    assert "self.layers_ = layers.Dense(3)" in r.code
    assert "_TORCH_ATTRIBUTE_RENAMES = {'layers': 'layers_'}" in r.code


def test_cli_writes_nothing_for_an_unsupported_op(tmp_path):
    src = tmp_path / "bad.py"
    src.write_text(HEADER + "class N(nn.Module):\n    def forward(self, x):\n"
                   "        return torch.frobnicate(x)\n")
    out = tmp_path / "bad_keras.py"
    r = subprocess.run([sys.executable, "-m", "torch2keras", "convert", str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "bad.py:8:16: error: `torch.frobnicate` is not supported yet" in r.stderr
    assert not out.exists()


def test_a_spatial_module_given_another_rank_is_an_error():
    # A Conv2d reading a Conv1d's (N, C, L): channels-last, its axes would be read
    # wrongly; PyTorch's unbatched (C, H, W) inputs are refused the same way.
    r = convert("class N(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.c1 = nn.Conv1d(3, 4, 3)\n"
                "        self.c2 = nn.Conv2d(4, 4, 1)\n"
                "    def forward(self, x):\n"
                "        return self.c2(self.c1(x))\n")
    assert not r.ok and codes(r) == ["T2K103"]
    d = r.diagnostics[0]
    assert d.line == 12 and "`torch.nn.Conv2d` takes a batch of 4 axes" in d.message
    assert "this input has 3" in d.message


def test_python_random_and_time_in_model_code_warn():
    # Drawn once when Keras traces the model (fit(), a tf.function): the same
    # value at every step, where PyTorch draws at each call.
    r = convert("import random\nimport time\nimport numpy as np\n\n\n"
                "class N(nn.Module):\n"
                "    def __init__(self, p=0.5):\n"
                "        super().__init__()\n"
                "        self.p = p\n"
                "        self.fc = nn.Linear(4, 4)\n\n"
                "    def forward(self, x):\n"
                "        if self.training and random.random() < self.p:\n"
                "            return x\n"
                "        return self.fc(x) * np.random.uniform() + time.time()\n\n\n"
                "def seed_draw():\n"
                "    return random.random()\n")
    assert r.ok, [d.rendered for d in r.diagnostics]
    found = [(d.code, d.line, d.severity) for d in r.diagnostics]
    assert found == [("T2K113", 18, "warning"), ("T2K113", 20, "warning"), ("T2K113", 20, "warning")], found
    assert "`random.random()` in model code runs once when Keras compiles the model" in r.diagnostics[0].message
    assert "`numpy.random.uniform()`" in r.diagnostics[1].message and "`time.time()`" in r.diagnostics[2].message


def test_a_script_class_method_that_does_not_convert_raises_with_its_reason():
    # A Dataset's __init__ left out would make `Toy(8)` fail far from the cause:
    # the method raises NotImplementedError naming it, and the diagnostics of
    # what kept it from converting stay, as warnings.
    r = convert("from torch.utils.data import Dataset\n\n\n"
                "class Toy(Dataset):\n"
                "    def __init__(self, n, seed=0):\n"
                "        g = torch.Generator().manual_seed(seed)\n"
                "        self.x = torch.randint(1, 10, (n, 5), generator=g)\n\n"
                "    def __len__(self):\n"
                "        return len(self.x)\n")
    assert r.ok, [d.rendered for d in r.diagnostics]
    assert [(d.code, d.line, d.severity) for d in r.diagnostics] == [
        ("T2K106", 10, "warning"), ("T2K101", 12, "warning")], [d.rendered for d in r.diagnostics]
    assert "`generator=` is not supported" in r.diagnostics[1].message
    namespace = {}
    exec(r.code, namespace)
    try:
        namespace["Toy"](8)
    except NotImplementedError as e:
        assert "could not convert method `__init__` of class `Toy` (m.py:10): `torch.Generator` is not converted" in str(e)
    else:
        raise AssertionError("Toy(8) did not raise")
    assert namespace["Toy"].__len__.__code__.co_names == ("len", "x")  # the other methods converted
