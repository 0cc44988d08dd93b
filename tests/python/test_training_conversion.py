"""Training code (issue 7) at conversion: what script code becomes, and the
diagnostics where it cannot convert exactly. Its numbers are checked against
PyTorch in tests/equivalence/test_training_code.py and test_training_scripts.py."""

import pytest
import torch2keras

HEADER = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


"""


def convert(body: str, **options):
    return torch2keras.convert(HEADER + body, filename="m.py", **options)


def codes(result):
    return [d.code for d in result.diagnostics]


def converted(result):
    """The converted statements: after the runtime helpers (or the imports), before the loader."""
    code = result.code.split("# --- Weight loader")[0]
    return code.split("# --- Converted code. ---")[1] if "# --- Converted code. ---" in code else code


def test_a_function_takes_the_mode_its_callers_pass_its_model_in():
    # main() sets eval before calling evaluate(): evaluate's model calls are in eval mode.
    r = convert("def evaluate(model, x):\n"
                "    return model(x)\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    model.eval()\n"
                "    return evaluate(model, torch.zeros(1, 4))\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert "return model(x, training=False)" in r.code


def test_a_model_of_unknown_mode_is_called_in_training_mode_with_a_warning():
    # Called once in each mode: which one is not known inside predict().
    r = convert("def predict(model, x):\n"
                "    return model(x)\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    a = predict(model, torch.zeros(1, 4))\n"
                "    model.eval()\n"
                "    return a, predict(model, torch.zeros(1, 4))\n")
    assert r.ok and codes(r) == ["T2K110"], [d.rendered for d in r.diagnostics]
    assert r.diagnostics[0].severity == "warning" and r.diagnostics[0].line == 15
    assert "whether `model` is in training or evaluation mode here is not known" in r.diagnostics[0].message
    assert "return model(x, training=True)" in r.code


def test_train_and_eval_set_the_mode_of_the_calls_after_them():
    r = convert("def main():\n"
                "    model = Net()\n"
                "    a = model(torch.zeros(1, 4))\n"
                "    model.eval()\n"
                "    b = model(torch.zeros(1, 4))\n"
                "    model.train(False)\n"
                "    c = model(torch.zeros(1, 4))\n"
                "    model.train()\n"
                "    return a, b, c, model(torch.zeros(1, 4))\n")
    assert r.ok and codes(r) == []
    code = converted(r)
    # A new PyTorch module is in training mode.
    assert "a = model(ops.zeros((1, 4)), training=True)" in code
    assert "b = model(ops.zeros((1, 4)), training=False)" in code
    assert "c = model(ops.zeros((1, 4)), training=False)" in code
    assert "return a, b, c, model(ops.zeros((1, 4)), training=True)" in code
    assert ".eval()" not in code and ".train(" not in code


def test_a_mode_changed_later_in_a_loop_is_unknown_at_its_start():
    r = convert("def main(batches):\n"
                "    model = Net()\n"
                "    for x in batches:\n"
                "        y = model(x)\n"
                "        model.eval()\n")
    assert r.ok and codes(r) == ["T2K110"]
    assert "y = model(x, training=True)" in r.code


def test_backward_of_a_loss_computed_outside_its_block_is_left_out_with_why():
    # The tape would have to record the loss before the loop: it records nothing.
    r = convert("def train(model, x, optimizer):\n"
                "    loss = model(x).sum()\n"
                "    for _ in range(3):\n"
                "        optimizer.zero_grad()\n"
                "        loss.backward()\n"
                "        optimizer.step()\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    train(model, torch.zeros(1, 4), torch.optim.SGD(model.parameters(), lr=0.1))\n")
    messages = [d.message for d in r.diagnostics]
    assert r.ok and "T2K103" in codes(r), messages
    assert any("follows no computation in its block" in m for m in messages)
    assert any("left out function `train`: it does not convert" in m for m in messages)
    assert "def train(model, x, optimizer):\n    raise NotImplementedError(" in r.code


def test_backward_options_and_unconverted_module_methods_are_named():
    r = convert("def train(model, x):\n"
                "    model(x).sum().backward(create_graph=True)\n"
                "    return dict(model.named_parameters())\n\n\n"
                "def main():\n"
                "    train(Net(), torch.zeros(1, 4))\n")
    messages = [d.message for d in r.diagnostics]
    assert r.ok and {"T2K101", "T2K102"} <= set(codes(r)), messages
    assert any("`backward(create_graph=...)` is not converted" in m for m in messages)
    assert any("`model.named_parameters()` (a torch.nn.Module method) is not converted" in m for m in messages)


def test_training_code_needs_pytorch_shaped_inputs():
    r = convert("def main():\n"
                "    model = Net()\n"
                "    return model(torch.zeros(1, 4))\n", io_layout="keras")
    assert any("convert with --io-layout torch" in d.message for d in r.diagnostics)
    assert "def main():\n    raise NotImplementedError(" in r.code


def test_module_level_training_script_converts():
    r = convert("model = Net()\n"
                "optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n"
                "for step in range(3):\n"
                "    optimizer.zero_grad()\n"
                "    loss = model(torch.ones(2, 4)).pow(2).mean()\n"
                "    loss.backward()\n"
                "    optimizer.step()\n"
                "torch.save(model.state_dict(), f'net_{step}.pt')\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    code = converted(r)
    assert "optimizer = PyTorchSGD(model, learning_rate=0.1, momentum=0.9)" in code
    assert "    with tf.GradientTape() as tape:\n        loss = ops.mean(" in code
    assert "    pytorch_backward(tape, loss)\n    optimizer.step()" in code
    # A path known only at run time: the runtime names the Keras weights file.
    assert "model.save_weights(pytorch_weights_file(f'net_{step}.pt'))" in code
    assert "import tensorflow as tf" in r.code and "runs on the TensorFlow backend" in r.code


def test_two_losses_share_a_persistent_tape():
    r = convert("def step(g, d, opt_g, opt_d, z):\n"
                "    d.zero_grad()\n"
                "    fake = g(z)\n"
                "    loss_d = d(fake.detach()).mean()\n"
                "    loss_d.backward()\n"
                "    opt_d.step()\n"
                "    g.zero_grad()\n"
                "    loss_g = -d(fake).mean()\n"
                "    loss_g.backward()\n"
                "    opt_g.step()\n\n\n"
                "def main():\n"
                "    g, d = Net(), Net()\n"
                "    g.train()\n"
                "    d.train()\n"
                "    step(g, d, torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters()), torch.ones(1, 4))\n")
    code = converted(r)
    assert "with tf.GradientTape(persistent=True) as tape:" in code, code
    assert "pytorch_zero_grad(d)\n    with tf.GradientTape(persistent=True) as tape:\n        fake = g(z" in code
    assert "        pytorch_backward(tape, loss_d)\n        opt_d.step()\n        pytorch_zero_grad(g)" in code
    assert "    pytorch_backward(tape, loss_g)\n    opt_g.step()" in code


def test_frozen_parameters_and_dataset_classes():
    r = convert("from torch.utils.data import Dataset, DataLoader\n\n\n"
                "class Pairs(Dataset):\n"
                "    def __init__(self, n):\n"
                "        self.x = torch.randn(n, 4)\n\n"
                "    def __len__(self):\n"
                "        return len(self.x)\n\n"
                "    def __getitem__(self, i):\n"
                "        return self.x[i], self.x[i].sum()\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    for p in model.fc.parameters():\n"
                "        p.requires_grad = False\n"
                "    return DataLoader(Pairs(8), batch_size=4)\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    code = converted(r)
    assert "class Pairs:\n" in code and "return self.x[i], ops.sum(self.x[i])" in code
    assert "pytorch_requires_grad_(model.fc, False)" in code
    assert "return PyTorchDataLoader(Pairs(8), batch_size=4)" in code


LSTM_MODEL = """import torch
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, bias=True):
        super().__init__()
        self.rnn = nn.LSTM(4, 8, batch_first=True{})

    def forward(self, x):
        return self.rnn(x)[0]


"""
TRAIN = "def main():\n    model = Tagger()\n    model(torch.ones(1, 2, 4)).sum().backward()\n"


def test_training_an_lstm_with_biases_is_a_warning():
    # Keras sums PyTorch's bias_ih and bias_hh: the same in inference, not in training.
    for bias in ("", ", bias=bias"):  # biases, or maybe (a value known at run time)
        r = torch2keras.convert(LSTM_MODEL.format(bias) + TRAIN, filename="m.py")
        assert r.ok and codes(r) == ["T2K112"] and r.diagnostics[0].line == 8
        assert "Keras keeps one bias (bias_ih + bias_hh)" in r.diagnostics[0].message
    assert codes(torch2keras.convert(LSTM_MODEL.format(", bias=False") + TRAIN, filename="m.py")) == []
    assert codes(torch2keras.convert(LSTM_MODEL.format(""), filename="m.py")) == []  # no training: exact


def test_autocast_is_a_warning_unless_disabled_and_grad_scaler_converts():
    r = convert("def train(model, x, optimizer):\n"
                "    scaler = torch.amp.GradScaler('cpu')\n"
                "    with torch.autocast('cpu', dtype=torch.bfloat16):\n"
                "        loss = model(x).sum()\n"
                "    with torch.autocast('cpu', enabled=False):\n"
                "        other = model(x).sum()\n"
                "    scaler.scale(loss + other).backward()\n"
                "    scaler.step(optimizer)\n"
                "    scaler.update()\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    train(model, torch.ones(1, 4), torch.optim.SGD(model.parameters(), lr=0.1))\n")
    assert r.ok and codes(r) == ["T2K111"], [d.rendered for d in r.diagnostics]
    assert r.diagnostics[0].line == 16 and "runs this block in float32" in r.diagnostics[0].message
    code = converted(r)
    assert "scaler = PyTorchGradScaler()" in code and "autocast" not in code
    assert "pytorch_backward(tape, scaler.scale(ops.add(loss, other)))" in code


def test_best_weights_copied_and_restored():
    # The best epoch's weights kept with copy.deepcopy(model.state_dict()), restored
    # with load_state_dict: Keras' get_weights() / set_weights() (copies, as deepcopy).
    r = convert("import copy\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    best = copy.deepcopy(model.state_dict())\n"
                "    model.load_state_dict(best)\n\n\n"
                "def other():\n"
                "    model = Net()\n"
                "    return model.state_dict()\n")
    code = converted(r)
    assert "best = model.get_weights()" in code and "model.set_weights(best)" in code, code
    # A state_dict() kept without a copy would alias the weights in PyTorch: not converted.
    assert codes(r) == ["T2K106", "T2K102"] and "model.state_dict()" in r.diagnostics[1].message


EPOCHS = ("def train_epoch(model, x):\n"
          "    model.train()\n"
          "    return model(x)\n\n\n"
          "def evaluate(model, x):\n"
          "    return model(x)\n\n\n"
          "def main():\n"
          "    model = Net()\n"
          "    model.eval()\n"
          "    for epoch in range(2):\n"
          "        {}(model, torch.ones(1, 4))\n"
          "        {}(model, torch.ones(1, 4))\n")


def test_a_mode_a_called_function_sets_carries_on_after_the_call():
    # train_epoch() leaves the model in training mode: evaluate() after it runs in it.
    r = convert(EPOCHS.format("train_epoch", "evaluate"))
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert "def evaluate(model, x):\n    return model(x, training=True)" in r.code
    # Called before it in the loop: eval the first time, training after: unknown.
    r = convert(EPOCHS.format("evaluate", "train_epoch"))
    assert codes(r) == ["T2K110"] and r.diagnostics[0].line == 20


def test_modes_of_parts_and_layer_reads_are_diagnosed():
    r = convert("def main():\n"
                "    model = Net()\n"
                "    head = model.fc\n"
                "    head.eval()\n")
    assert codes(r) == ["T2K106", "T2K103"] and "the mode of a part of a model" in r.diagnostics[1].message
    r = convert("def main():\n"
                "    model = Net()\n"
                "    optimizer = torch.optim.SGD(list(model.parameters())[1:], lr=0.1)\n"
                "    penalty = 0.01 * model.fc.weight.pow(2).sum()\n"
                "    state = optimizer.state_dict()\n")
    messages = [d.message for d in r.diagnostics]
    assert "`model.parameters()` used as an iterable is not converted yet" in messages[1]
    assert "reading `model.fc.weight` in training code is not converted yet" in messages[2]
    assert "`optimizer.state_dict()` of an optimizer is not converted yet" in messages[3]
    # A list of parameter groups is an optimizer's argument as written.
    r = convert("def main():\n"
                "    model = Net()\n"
                "    return torch.optim.SGD([{'params': model.fc.parameters(), 'lr': 0.01}], lr=0.1)\n")
    assert codes(r) == [] and "PyTorchSGD([{'params': model.fc, 'lr': 0.01}], learning_rate=0.1)" in r.code


def test_a_module_level_model_nothing_switches_is_in_training_mode():
    r = convert("generator = nn.Sequential(nn.Linear(2, 2))\n\n\n"
                "def train():\n"
                "    for epoch in range(2):\n"
                "        y = generator(torch.ones(1, 2))\n"
                "    return y\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert "y = generator(ops.ones((1, 2)), training=True)" in r.code


def test_device_moves_of_values_of_any_kind_disappear():
    # A dataset item or a function's result: `.to(device)`, `.cpu()` keep the value.
    r = convert("def main(data, device):\n"
                "    model = Net().to(device)\n"
                "    x = data[0].to(device)\n"
                "    return model(x).cpu(), data[1].cpu().numpy(), data[2].to(torch.float64)\n")
    code = converted(r)
    assert "x = data[0]\n" in code and "model(x, training=True), data[1].numpy()" in code, code
    # A dtype is no device: that conversion is left as written (a loud error if wrong).
    assert "data[2].to(" in code


# The standard loop (fit_standard_loops): a loader of (inputs, targets), the
# model in training mode, one optimizer.
LOOP = ("def train(model, loader, optimizer, criterion):\n"
        "    model.train()\n"
        "    losses = []\n"
        "    for x, y in loader:\n"
        "        optimizer.zero_grad()\n"
        "        out = model(x)\n"
        "        loss = criterion(out, y)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        losses.append(loss.item())\n"
        "    return losses\n\n\n"
        "def main():\n"
        "    model = Net()\n"
        "    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), batch_size=4)\n"
        "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    return train(model, loader, optimizer, nn.CrossEntropyLoss())\n")
DATA = "from torch.utils.data import DataLoader, TensorDataset\n\n\n"
# LOOP's loop with the index: {0} follows the loss, {1} is the optimizer's step.
ENUMERATED = ("    for i, (x, y) in enumerate(loader):\n        out = model(x)\n        loss = criterion(out, y){0}\n"
              "        loss.backward()\n{1}")


def test_the_standard_loop_becomes_compile_and_fit():
    r = convert(DATA + LOOP)
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    code = converted(r)
    assert ("    losses = []\n"
            "    batch_losses = PyTorchBatchLosses()\n"
            "    model.compile(optimizer=optimizer, loss=PyTorchCriterion(criterion))\n"
            "    model.fit(loader, epochs=1, shuffle=False, verbose=0, callbacks=[batch_losses])\n"
            "    losses.extend(batch_losses.losses)\n"
            "    return losses\n") in code, code
    # Nothing is left for a GradientTape: the module runs without TensorFlow.
    assert "GradientTape" not in r.code and "import tensorflow" not in r.code


def form_of(code):
    """How the training loop of `code` converted: "fit", "train_step" (a
    PyTorchTrainStep subclass fit() runs) or "tape" (the loop written out)."""
    if "(PyTorchTrainStep):" in code:
        assert "trainer.fit(loader, epochs=1, shuffle=False, verbose=0" in code and "model.fit(" not in code
        return "train_step"
    if ".fit(" in code:
        return "fit"
    assert "with tf.GradientTape() as tape:" in code
    return "tape"


@pytest.mark.parametrize("change, form, why", [
    (("    return losses\n", "    print(loss.item())\n    return losses\n"), "tape", "the loss is read after the loop"),
    (("        losses.append(loss.item())\n", "        losses.append(loss.item())\n        print(x.shape)\n"),
     "tape", "print() of a tensor of the step: only .item() values can be replayed after fit()"),
    (("        optimizer.step()\n", "        torch.nn.utils.clip_grad_norm_(model.fc.parameters(), 1.0)\n"
                                   "        optimizer.step()\n"), "train_step", "clipping a part of the model"),
    (("    model.train()\n", "    model.eval()\n"), "train_step", "evaluation mode: fit() would train the model"),
    (("        loss = criterion(out, y)\n", "        loss = criterion(out, x)\n"), "train_step",
     "the loss of the inputs"),
    (("        optimizer.zero_grad()\n", ""), "train_step",
     "no zero_grad: gradients accumulate over batches, carried from step to step"),
    (("        optimizer.step()\n", "        optimizer.step()\n        out = out.detach()\n"), "train_step",
     "the prediction used again"),
    (("        out = model(x)\n", "        out = model(x)\n        print(out.shape)\n"), "tape",
     "print() of a tensor inside the step"),
    (("        out = model(x)\n", "        out = model(x + np.random.rand())\n"), "tape",
     "numpy in the step: drawn once, when traced"),
    (("        loss = criterion(out, y)\n", "        loss = criterion(out, y) + 0.0 * prev\n"
                                          "        prev = loss.detach()\n"), "tape",
     "a name read before the step assigns it: the previous batch's"),
    (("    for x, y in loader:\n", "    for i, (x, y) in enumerate(loader):\n"), "fit", "the index unused"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n",
      "    optimizer.zero_grad()\n    for i, (x, y) in enumerate(loader):\n"),
     "train_step", "no zero_grad in the loop: gradients accumulate over batches, carried from step to step"),
    (("        optimizer.step()\n", "        if len(losses) % 2:\n            optimizer.step()\n"),
     "tape", "an optimizer step under an if of Python state the loop changes"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n        optimizer.step()\n", ENUMERATED.format(" * (i + 1)", "        optimizer.step()\n")), "tape",
     "the index read by the step outside an if's condition (a tensor in the step)"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n        optimizer.step()\n", ENUMERATED.format("", "        if (i + 1) % 2 == 0:\n            optimizer.step()\n")), "train_step",
     "a step every other batch: the condition of the index run by pytorch_if"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n        optimizer.step()\n", ENUMERATED.format("", "        if loss.item() > 1.0:\n            optimizer.step()\n")), "tape",
     "an if of a tensor of the step"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n        optimizer.step()\n", ENUMERATED.format("", "        if (i + 1) % 2 == 0:\n            optimizer.step()\n"
                                     "            print(i)\n")), "tape",
     "an if of the index with Python code in its body"),
    (("    for x, y in loader:\n        optimizer.zero_grad()\n        out = model(x)\n        loss = criterion(out, y)\n        loss.backward()\n        optimizer.step()\n", ENUMERATED.format("", "        if (i + 1) % 2 == 0:\n            optimizer.step()\n"
                                     "        else:\n            optimizer.zero_grad()\n")), "tape",
     "an if with an else"),
], ids=["loss-read-after", "extra-statement", "clip-part", "eval-mode", "autoencoder", "no-zero-grad", "reuse",
        "print", "numpy", "previous-batch", "enumerate", "accumulate", "step-under-if", "index-in-step",
        "step-if", "tensor-if", "host-in-if", "if-else"])
def test_other_loops_are_a_train_step_or_keep_their_tape(change, form, why):
    source = DATA + "import numpy as np\n" + LOOP.replace(*change)
    assert LOOP.replace(*change) != LOOP
    r = convert(source)
    assert form_of(converted(r)) == form, why


def test_names_of_the_loop_a_later_loop_binds_again_do_not_keep_it():
    # The evaluation loop assigns `out` and `loss` before reading them: the
    # training loop's values are not read after it.
    r = convert(DATA + LOOP.replace(
        "    return losses\n",
        "    model.eval()\n"
        "    with torch.no_grad():\n"
        "        for x, y in loader:\n"
        "            out = model(x)\n"
        "            loss = criterion(out, y)\n"
        "            losses.append(loss.item())\n"
        "    return losses\n"))
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    code = converted(r)
    assert "model.fit(loader" in code and "GradientTape" not in code
    assert "        out = model(x, training=False)\n" in code


def test_inline_forward_pass_and_loss_expressions():
    r = convert(DATA + LOOP.replace("        out = model(x)\n        loss = criterion(out, y)\n",
                                    "        loss = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)\n"))
    assert ("        loss=PyTorchCriterion(\n"
            "            lambda outputs, y: pytorch_cross_entropy(outputs, y, label_smoothing=0.1)\n"
            "        ),\n") in converted(r)
    assert "model.fit(loader" in converted(r)


def test_a_module_level_loop_converts_unless_later_code_reads_its_names():
    script = ("model = Net()\n"
              "loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), batch_size=4)\n"
              "optimizer = torch.optim.Adam(model.parameters())\n"
              "criterion = nn.CrossEntropyLoss()\n"
              "for epoch in range(2):\n"
              "    for inputs, targets in loader:\n"
              "        optimizer.zero_grad()\n"
              "        loss = criterion(model(inputs), targets)\n"
              "        loss.backward()\n"
              "        optimizer.step()\n")
    r = convert(DATA + script)
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    # The epoch loop around it is fit()'s epochs.
    assert ("model.compile(optimizer=optimizer, loss=PyTorchCriterion(criterion))\n"
            "model.fit(loader, epochs=2, shuffle=False, verbose=0)\n") in converted(r)
    r = convert(DATA + script + "print(loss.item())\n")
    assert "with tf.GradientTape() as tape:" in converted(r) and ".fit(" not in converted(r)
    # An epoch loop doing more than the batch loop and scheduler steps keeps its
    # loop; the batch loop inside it still fits, one epoch at a time.
    r = convert(DATA + script + "    print(epoch)\n")
    assert ("for epoch in range(2):\n"
            "    model.compile(optimizer=optimizer, loss=PyTorchCriterion(criterion))\n"
            "    model.fit(loader, epochs=1, shuffle=False, verbose=0)\n"
            "    print(epoch)\n") in converted(r)


@pytest.mark.parametrize("changes, why", [
    ([("        loss = criterion(out, y)\n", "        loss = criterion(out[0], y)\n")],
     "an item of the prediction: Keras applies a loss to each output of a tuple"),
    ([("        loss = criterion(out, y)\n", "        loss = criterion(out, y['label'])\n")], "an item of the target"),
    ([("def train(", "head = nn.Linear(2, 2)\n\n\ndef train("),
      ("        loss = criterion(out, y)\n", "        loss = criterion(head(out), y)\n")],
     "a module outside the model: fit() would not train it"),
    ([("def train(", "def penalty(a, b):\n    return ((a - b) ** 2).mean()\n\n\ndef train("),
      ("        loss = criterion(out, y)\n", "        loss = penalty(out, y)\n")],
     "a function of the script: eager code"),
    ([("    model.train()\n", "    global loss\n    model.train()\n")], "a global loss: read elsewhere"),
    ([("    return train(model, loader, optimizer, nn.CrossEntropyLoss())\n",
       "    train(model, [(torch.randn(4, 4), torch.randint(0, 2, (4,)))], optimizer, nn.CrossEntropyLoss())\n"
       "    return train(model, loader, optimizer, nn.CrossEntropyLoss())\n")],
     "a list of batches in one call: fit() needs a loader"),
], ids=["prediction-item", "target-item", "outside-module", "script-function", "global", "list-of-batches"])
def test_losses_fit_cannot_compile_are_a_train_step_or_keep_the_tape(changes, why):
    source = LOOP
    for old, new in changes:
        assert old in source
        source = source.replace(old, new)
    r = convert(DATA + source)
    # A loss fit() cannot compile (an item of the prediction or target, another
    # module) is a train_step; one that calls a function of the script (eager
    # code), reads a global or iterates no DataLoader keeps its loop.
    form = "tape" if why.startswith(("a function", "a global", "a list")) else "train_step"
    assert form_of(converted(r)) == form, why


def test_a_loss_module_mode_is_dropped():
    # A loss has no mode: criterion.train() / .eval() change nothing.
    r = convert(DATA + LOOP.replace("    model.train()\n", "    model.train()\n    criterion.train()\n"))
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert "criterion.train()" not in converted(r) and "model.fit(loader" in converted(r)


def test_module_level_statements_the_script_goes_on_from_raise_where_they_were():
    # The optimizer does not convert: the script must not go on and train nothing.
    r = convert(DATA +
                "model, head = Net(), nn.Linear(2, 2)\n"
                "optimizer = torch.optim.SGD(list(model.parameters())[1:], lr=0.1)\n"
                "print(torch.__version__)\n"
                "for x in range(2):\n"
                "    optimizer.step()\n")
    assert r.ok and codes(r)[0] == "T2K106", [d.rendered for d in r.diagnostics]
    code = converted(r)
    assert "raise NotImplementedError(\n    'torch2keras could not convert the statement at m.py:18: " in code, code
    assert "raise NotImplementedError(\n    'torch2keras could not convert the statement at m.py:20: " in code
    # A lone call is only left out (with its warning).
    assert "print(" not in code


def test_freezing_by_a_flag_of_the_caller():
    r = convert("def set_frozen(model, frozen):\n"
                "    for p in model.fc.parameters():\n"
                "        p.requires_grad = not frozen\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    set_frozen(model, True)\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert "    pytorch_requires_grad_(model.fc, not frozen)\n" in converted(r)


@pytest.mark.parametrize("argument, converted_to", [
    ("[p for p in model.parameters() if p.requires_grad]", "model"),
    ("(p for p in model.fc.parameters())", "model.fc"),
    ("filter(lambda p: p.requires_grad, model.parameters())", "model"),
    ("list(model.parameters())", "model"),
    ("list(model.parameters()) + list(head.parameters())", "[model, head]"),
])
def test_optimizer_arguments_spelling_the_trainable_parameters(argument, converted_to):
    # The same parameters: the runtime leaves the frozen ones out itself.
    r = convert("def main():\n"
                "    model, head = Net(), nn.Linear(2, 2)\n"
                f"    return torch.optim.SGD({argument}, lr=0.1)\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert f"return PyTorchSGD({converted_to}, learning_rate=0.1)" in converted(r)


def test_a_function_defined_in_script_code_is_script_code():
    # A closure that runs an epoch sees the loader, optimizer and loss around it.
    r = convert(DATA +
                "def make_runner(model, loader):\n"
                "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                "    criterion = nn.CrossEntropyLoss()\n\n"
                "    def run_epoch():\n"
                "        model.train()\n"
                "        for x, y in loader:\n"
                "            optimizer.zero_grad()\n"
                "            loss = criterion(model(x), y)\n"
                "            loss.backward()\n"
                "            optimizer.step()\n\n"
                "    return run_epoch\n\n\n"
                "def main():\n"
                "    model = Net()\n"
                "    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), batch_size=4)\n"
                "    make_runner(model, loader)()\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    assert ("    def run_epoch():\n"
            "        model.compile(optimizer=optimizer, loss=PyTorchCriterion(criterion))\n"
            "        model.fit(loader, epochs=1, shuffle=False, verbose=0)\n") in converted(r)


GAN_LOOP = ("def train(gen, critic, loader, opt_g, opt_d, scheduler):\n"
            "    gen.train()\n"
            "    critic.train()\n"
            "    losses, steps = [], 0\n"
            "    for i, (real, _) in enumerate(loader):\n"
            "        opt_d.zero_grad()\n"
            "        fake = gen(torch.randn(real.shape[0], 4))\n"
            "        loss_d = critic(fake.detach()).mean() - critic(real).mean()\n"
            "        loss_d.backward()\n"
            "        d_real = critic(real).mean().item()\n"
            "        opt_d.step()\n"
            "        opt_g.zero_grad()\n"
            "        loss_g = -critic(fake).mean()\n"
            "        loss_g.backward()\n"
            "        opt_g.step()\n"
            "        scheduler.step()\n"
            "        if i % 10 == 0:\n"
            "            print(f'{i}: {loss_d.item():.3f} {loss_g.item():.3f} {d_real:.3f}')\n"
            "        losses.append(loss_g.item())\n"
            "        steps += 1\n"
            "    return losses, steps\n\n\n"
            "def main():\n"
            "    gen, critic = Net(), Net()\n"
            "    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randn(8, 2)), batch_size=4)\n"
            "    opt_g = torch.optim.Adam(gen.parameters())\n"
            "    opt_d = torch.optim.Adam(critic.parameters())\n"
            "    return train(gen, critic, loader, opt_g, opt_d, torch.optim.lr_scheduler.StepLR(opt_g, 5))\n")


def test_host_statements_of_a_step_are_replayed_after_fit():
    r = convert(DATA + GAN_LOOP)
    assert r.ok, [d.rendered for d in r.diagnostics]
    code = converted(r)
    flat = " ".join(code.split()).replace("( ", "(").replace(", )", ")")
    assert form_of(flat) == "train_step" and "class TrainStep(PyTorchTrainStep):" in code
    # d_real's tensor is computed where .item() was, and returned with the
    # losses the host statements read.
    assert "        d_real = ops.mean(critic(real, training=True))\n" in code, code
    assert "return {'d_real': d_real, 'loss_d': loss_d, 'loss_g': loss_g}" in code
    assert "callbacks=[batch_logs, PyTorchSchedulerStep(scheduler, per_batch=True)]" in code
    assert ("    for i, logs in enumerate(batch_logs.logs):\n"
            "        d_real = logs['d_real']\n"
            "        if i % 10 == 0:\n"
            "            print(f\"{i}: {logs['loss_d']:.3f} {logs['loss_g']:.3f} {d_real:.3f}\")\n"
            "        losses.append(logs['loss_g'])\n"
            "        steps += 1\n") in code, code


@pytest.mark.parametrize("change, form, why", [
    (("        steps += 1\n", "        steps += 1\n        print(gen(real).mean().item())\n"), "train_step",
     "a model called inside .item(): computed in the step where the print was (after the optimizer steps)"),
    (("        losses.append(loss_g.item())\n", "        losses.append(loss_d.item())\n"
                                                "        loss_d = loss_g * 2\n"), "train_step",
     "an .item() of a name the step assigns again later: computed where it was read"),
    (("        steps += 1\n", "        steps += 1\n        print(gen.training)\n"), "tape",
     "a model read by host code"),
    (("        steps += 1\n", "        steps += 1\n        print(scheduler.get_last_lr())\n"), "tape",
     "another object's method: the scheduler's rate after the epoch"),
    (("        opt_g.step()\n        scheduler.step()\n", "        scheduler.step()\n        opt_g.step()\n"), "tape",
     "a scheduler stepped before an optimizer: the rate of that step"),
    (("        steps += 1\n", "        steps += 1\n        real = real * 2\n        print(real.shape)\n"), "tape",
     "host code reading a tensor"),
    (("        steps += 1\n", "        steps += 1\n        if steps > 100:\n            break\n"), "tape",
     "a break: the replay would run every batch"),
], ids=["model-in-item", "item-reassigned", "model-in-host", "scheduler-state", "scheduler-first", "tensor-in-host",
        "break"])
def test_host_statements_replayed_or_keeping_the_loop(change, form, why):
    source = GAN_LOOP.replace(*change)
    assert source != GAN_LOOP
    r = convert(DATA + source)
    code = " ".join(converted(r).replace("with tf.GradientTape(persistent=True)", "with tf.GradientTape()").split())
    assert form_of(code.replace("( ", "(").replace(", )", ")")) == form, why
    if why.startswith("an .item() of a name"):
        # loss_d's value where it was read: before the step assigns it again.
        assert "batch_losses = loss_d loss_d = loss_g * 2 return {" in code, code


def test_a_single_tensor_given_to_tensor_dataset_or_einsum_is_one_item():
    # `*tensors` takes items: TensorDataset(real) of an unknown parameter is a
    # dataset of one tensor, not of real's rows (`*real`); a size's `*size`
    # takes a name as the whole size (x.view(shape)).
    r = convert(DATA + "def make(real, y):\n"
                "    return TensorDataset(real), TensorDataset(real, y), torch.einsum('ii', real)\n")
    code = " ".join(converted(r).split())
    assert "return PyTorchTensorDataset(real), PyTorchTensorDataset(real, y), ops.einsum('ii', real)" in code, code


def test_a_function_nothing_calls_takes_kinds_from_what_it_does_with_its_parameters():
    # train() and accuracy() are the entry points of another file: their
    # parameters' kinds come from their use (train(), zero_grad() + step(), a
    # tensor method, the loop over a loader calling the model), so their code
    # converts as if main() had passed a model, an optimizer and a DataLoader.
    r = convert("import torch.nn.functional as F\n\n\n"
                "def accuracy(output, target):\n"
                "    return (output.argmax(1) == target).float().mean().item()\n\n\n"
                "def train(model, loader, optimizer):\n"
                "    model.train()\n"
                "    losses = []\n"
                "    for x, y in loader:\n"
                "        optimizer.zero_grad()\n"
                "        logits = model(x)\n"
                "        loss = F.cross_entropy(logits, y)\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "        losses.append((loss.item(), x.size(0)))\n"
                "    return losses\n")
    assert r.ok and codes(r) == [], [d.rendered for d in r.diagnostics]
    code = " ".join(converted(r).split())
    assert ("return ops.convert_to_numpy( ops.mean(ops.cast(ops.equal(ops.argmax(output, axis=1), target), "
            "'float32')) ).item()") in code, code
    assert "class TrainStep(PyTorchTrainStep):" in code and "x_size = ops.shape(x)[0]" in code
    assert "losses.append((logs['loss'], logs['x_size']))" in code


# Loops a review found converted wrongly (helper-28): each keeps its written-out
# loop now, or converts with the right values.
REVIEW_LOOP = ("def train(gen, critic, loader, opt_g, opt_d):\n"
               "    gen.train()\n"
               "    critic.train()\n"
               "    history = []\n"
               "    for real, _ in loader:\n"
               "        opt_d.zero_grad()\n"
               "        fake = gen(torch.randn(real.shape[0], 4))\n"
               "        loss_d = critic(fake.detach()).mean() - critic(real).mean()\n"
               "        loss_d.backward()\n"
               "        opt_d.step()\n"
               "        opt_g.zero_grad()\n"
               "        loss_g = -critic(fake).mean()\n"
               "        loss_g.backward()\n"
               "        opt_g.step()\n"
               "        history.append(loss_g.item())\n"
               "    return history\n\n\n"
               "def main():\n"
               "    gen, critic = Net(), Net()\n"
               "    loader = DataLoader(TensorDataset(torch.randn(8, 4), torch.randn(8, 2)), batch_size=4)\n"
               "    opt_g = torch.optim.Adam(gen.parameters())\n"
               "    opt_d = torch.optim.Adam(critic.parameters())\n"
               "    return train(gen, critic, loader, opt_g, opt_d)\n")


@pytest.mark.parametrize("changes, why", [
    ([("    history = []\n", "    history = []\n    annealer = Annealer()\n"),
      ("        loss_g = -critic(fake).mean()\n", "        loss_g = -critic(fake).mean() * annealer.beta\n"),
      ("        opt_g.step()\n", "        opt_g.step()\n        annealer.step()\n"),
      ("def train(", "class Annealer:\n    def __init__(self):\n        self.beta = 0.0\n\n"
                    "    def step(self):\n        self.beta = min(1.0, self.beta + 0.1)\n\n\ndef train(")],
     "an object with a step() the step reads (a KL warm-up): its value would be traced once"),
    ([("    history = []\n", "    history = []\n    group = opt_g.param_groups[0]\n"),
      ("        history.append(loss_g.item())\n", "        history.append(group['lr'])\n")],
     "host code reading an optimizer's param group: the rate after fit(), not the batch's"),
    ([("    history = []\n", "    history = []\n    monitor = Monitor()\n"),
      ("        history.append(loss_g.item())\n", "        monitor.update()\n"),
      ("def train(", "class Monitor:\n    def update(self):\n        pass\n\n\ndef train(")],
     "a method of another object in host code (it may read the weights)"),
    ([("    for real, _ in loader:\n", "    for i, (real, _) in enumerate(loader):\n"),
      ("        history.append(loss_g.item())\n", ""),
      ("    return history\n", "    print(i)\n    return history\n")],
     "the index read after the loop, and no host code to replay that would bind it"),
    ([("    history = []\n", "    history = []\n\n    def last():\n        return loss_g.item()\n\n"),
      ("    return history\n", "    return history, last()\n")],
     "a closure reading a step name, called after the loop"),
    ([("    return history\n", "    torch.nn.utils.clip_grad_norm_(gen.parameters(), 1e6)\n    return history\n")],
     "gradients read after the loop (the last batch's in PyTorch)"),
    ([("        loss_g = -critic(fake).mean()\n", "        loss_g = -critic(fake).mean()\n"
                                                  "        worst = max(loss_g, loss_d)\n"),
      ("        history.append(loss_g.item())\n", "        history.append(worst.item())\n")],
     "max() of tensors: a Python bool of a traced tensor"),
    ([("        loss_g = -critic(fake).mean()\n", "        loss_g = -critic(fake).mean() if real.shape[0] > 2 else loss_d\n")],
     "a conditional expression in the step"),
], ids=["annealer", "param-group", "monitor", "index-after", "closure", "grad-after", "max", "ifexp"])
def test_loops_a_compiled_step_would_get_wrong_keep_their_tape(changes, why):
    source = REVIEW_LOOP
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new)
    assert form_of(converted(convert(DATA + REVIEW_LOOP))) == "train_step"
    code = converted(convert(DATA + source)).replace("with tf.GradientTape(persistent=True)", "with tf.GradientTape()")
    assert form_of(code) == "tape", why


def test_an_item_assigned_twice_is_returned_twice():
    source = REVIEW_LOOP.replace(
        "        loss_d.backward()\n",
        "        score = critic(real).mean().item()\n"
        "        history.append(score)\n"
        "        score = critic(fake).mean().item()\n"
        "        history.append(score)\n"
        "        loss_d.backward()\n")
    code = " ".join(converted(convert(DATA + source)).split())
    # Each value under a name of its own, computed where it was read.
    assert "score = ops.mean(critic(real, training=True)) score_ = ops.mean(critic(fake, training=True))" in code, code
    assert ("score = logs['score'] history.append(score) score = logs['score_'] history.append(score)") in code, code


def test_private_attributes_keep_the_loop():
    # Inside the step's class, self.__opt would be mangled to _TrainStep__opt.
    source = ("class Trainer:\n"
              "    def __init__(self, model, loader):\n"
              "        self.__model = model\n"
              "        self.loader = loader\n"
              "        self.__opt = torch.optim.SGD(model.parameters(), lr=0.1)\n\n"
              "    def epoch(self):\n"
              "        self.__model.train()\n"
              "        out = []\n"
              "        for x, y in self.loader:\n"
              "            self.__opt.zero_grad()\n"
              "            a = self.__model(x)\n"
              "            loss = (a - y).pow(2).mean() + a.abs().mean()\n"
              "            loss.backward()\n"
              "            self.__opt.step()\n"
              "            out.append((loss.item(), a.mean().item()))\n"
              "        return out\n\n\n"
              "def main():\n"
              "    return Trainer(Net(), DataLoader(TensorDataset(torch.randn(8, 4), torch.randn(8, 2)), batch_size=4)).epoch()\n")
    code = converted(convert(DATA + source))
    assert "PyTorchTrainStep" not in code and "with tf.GradientTape() as tape:" in code, code


def test_the_norm_clip_grad_norm_returns_is_a_tensor():
    # gn = clip_grad_norm_(...); gn.item(): the total norm, a tensor.
    source = REVIEW_LOOP.replace(
        "        opt_g.step()\n",
        "        gn = torch.nn.utils.clip_grad_norm_(gen.parameters(), 0.3)\n"
        "        opt_g.step()\n").replace("history.append(loss_g.item())", "history.append((loss_g.item(), gn.item()))")
    code = " ".join(converted(convert(DATA + source)).split())
    assert "gn = pytorch_clip_grad_norm_(gen, 0.3)" in code, code
    assert "history.append((logs['loss_g'], logs['gn']))" in code, code


def test_a_name_tf_of_the_code_moves_the_tensorflow_import_aside():
    # `tf` is the teacher-forcing ratio here: tensorflow is imported as tf_.
    source = REVIEW_LOOP.replace("    history = []\n", "    history = []\n    tf = 0.5\n").replace(
        "        loss_g = -critic(fake).mean()\n", "        loss_g = -critic(fake).mean() * tf\n")
    r = convert(DATA + source)
    assert "import tensorflow as tf_\n" in r.code and "with tf_.GradientTape(persistent=True) as tape:" in r.code
    assert "import tensorflow as tf\n" not in r.code


# A second review (helper-29): host values and kinds of functions nothing calls.
EVAL_LOOP = ("def evaluate(model, loader):\n"
             "    model.eval()\n"
             "    hits, total = [], 0\n"
             "    with torch.no_grad():\n"
             "        for x, y in loader:\n"
             "            out = model(x)\n"
             "            c = (out.argmax(1) == y).float()\n"
             "            total += c.sum().item()\n"
             "    return hits, total\n\n\n"
             "def main():\n"
             "    return evaluate(Net(), DataLoader(TensorDataset(torch.randn(8, 4), torch.randint(0, 2, (8,))), "
             "batch_size=4))\n")


@pytest.mark.parametrize("change, form, why", [
    (None, "eval_step", "an evaluation loop"),
    (("            total += c.sum().item()\n", "            for i in range(2):\n"
                                               "                hits.append(c[i].item())\n"), "loop",
     "a value of a host loop's name (c[i]): computed once in the step"),
    (("            total += c.sum().item()\n", "            if total < 3:\n"
                                               "                hits.append(model(x * 2).mean().item())\n"), "loop",
     "a value under a host if: the step would compute it (a model call) every batch"),
    (("            total += c.sum().item()\n", "            thr = total * 0.1\n"
                                               "            total += (out > thr).sum().item()\n"), "loop",
     "a value reading a name host code assigns"),
], ids=["eval", "host-loop-name", "host-if", "host-name"])
def test_evaluation_loops_and_values_the_step_cannot_compute(change, form, why):
    source = EVAL_LOOP if change is None else EVAL_LOOP.replace(*change)
    code = converted(convert(DATA + source))
    if form == "eval_step":
        assert "class EvalStep(PyTorchEvalStep):" in code and "evaluator.evaluate(loader, verbose=0" in code, code
    else:
        assert "PyTorchEvalStep" not in code and "for x, y in loader:" in code, why


def test_uncalled_functions_infer_a_loss_and_leave_lists_alone():
    r = convert("def train_one_epoch(model, loader, optimizer, criterion, device):\n"
                "    model.train()\n"
                "    total = 0.0\n"
                "    for x, y in loader:\n"
                "        x, y = x.to(device), y.to(device)\n"
                "        optimizer.zero_grad()\n"
                "        loss = criterion(model(x), y)\n"
                "        loss.backward()\n"
                "        optimizer.step()\n"
                "        total += loss.item()\n"
                "    return total / len(loader)\n\n\n"
                "def median_of(values):\n"
                "    values.sort()\n"
                "    return values[len(values) // 2]\n")
    code = converted(r)
    # criterion: called for the value whose backward() is called, a loss.
    assert "model.compile(optimizer=optimizer, loss=PyTorchCriterion(criterion))" in code, code
    assert "total += sum(batch_losses.losses)" in code
    # values.sort() is a list's as much as a tensor's: no evidence, kept.
    assert "    values.sort()\n" in code


def test_train_mode_keyword_and_named_tuple_items():
    r = convert("def main(x):\n"
                "    model = Net()\n"
                "    model.train(mode=False)\n"
                "    a = model(x).max(1)[1]\n"
                "    b = model(x).max(dim=1).values\n"
                "    v, i = model(x).max(1)\n"
                "    _, predicted = torch.max(model(x), 1)\n"
                "    return a, b, v, i, predicted\n")
    code = converted(r)
    # Both items of a named tuple from one computation: it is made once.
    assert ("    max_input = model(x, training=False)\n"
            "    v, i = ops.max(max_input, axis=1), ops.argmax(max_input, axis=1)\n") in code, code
    # train(mode=False) is evaluation mode; an item of a named tuple calls the model once.
    assert "a = ops.argmax(model(x, training=False), axis=1)" in code, code
    assert "b = ops.max(model(x, training=False), axis=1)" in code, code
    # `_, predicted = torch.max(...)`: the kept item only (no unused ops.max).
    assert "    predicted = ops.argmax(model(x, training=False), axis=1)\n" in code, code


def test_an_uncalled_optimizer_with_a_state_dict_is_no_model():
    # step() and state_dict(): an optimizer (a model's weights file would be wrong).
    r = convert("def step_and_keep(opt):\n"
                "    opt.step()\n"
                "    return opt.state_dict()\n")
    assert "opt.save_weights" not in r.code and "opt.get_weights" not in r.code
    assert any("state_dict" in d.message for d in r.diagnostics) or "opt.state_dict()" in converted(r), converted(r)
