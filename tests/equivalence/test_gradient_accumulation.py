"""Issue 7, gradient accumulation over batches as an overridden train_step
(lowering/training.cc, step_loop and step_if; runtime pytorch_if and _T2KCarry):
a loop whose backward() adds each batch's gradients to the last ones' and whose
optimizer steps (and zero_grad) run under a condition of the batch index,
`if (i + 1) % accum_steps == 0:`, becomes a PyTorchTrainStep whose train_step
reads the index from data[1][0] and runs the conditional part through
pytorch_if (keras.ops.cond), the gradients kept from one batch to the next in
variables. Each form is run by PyTorch and, converted, by Keras (fit() in a
compiled graph, TensorFlow backend) from the same weights and batches: the
losses of each step and the final weights within 1e-5 relative.

Rules exercised: the usual form (the loss divided, step and zero_grad every
accum_steps batches, the leftover of a pass dropped by the next pass's
zero_grad); `or i + 1 == len(loader)` (ops.logical_or) with clipping in the
conditional part and statistics printed from the replay; a conditional
zero_grad() before backward() and enumerate(loader, 1); a OneCycleLR stepped with the optimizer (in the
conditional part: its rate and SGD momentum are variables); a Trainer class whose
leftover gradients of one pass go into the next (zero_grad once, Adam: skipped
steps count no Adam step); backward() with no zero_grad() in the loop at all;
a float count (`12 / 4`: the index is a float64); zero_grad(set_to_none=False),
which zeroes only the gradients there are (a detached part has none: no
weight decay moves it); a part frozen while it holds a leftover gradient,
which the next step still applies (the loop written out); a LambdaLR warm-up
of Python's min() stepped every batch (the function called with ints, its
value a variable the compiled step reads); a loss returned by a method of a
Trainer class (a tensor: its .item() converted).
Where a step has a gradient in some batches only (a zero_grad() under the if,
step() before backward()), step() updates the parameter where it has one only,
as PyTorch skips a parameter without a gradient. A gradient another compiled
step left raises.
"""

import keras
import numpy as np
import pytest
import torch
from harness import convert, converted_function as function, load_module

SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)
        self.aux = nn.Linear(4, 3)

    def forward(self, x):
        # aux never gets a gradient: no optimizer step moves it (weight decay neither).
        return self.fc2(F.relu(self.bn(self.fc1(x)))) + 0.1 * self.aux(x).detach()


def accumulate(model, loader, optimizer, accum_steps):
    """The usual form: the loss divided, a step every accum_steps batches."""
    model.train()
    losses = []
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def accumulate_to_the_end(model, loader, optimizer, accum_steps):
    """A step at the pass's end too, clipped; statistics printed."""
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y)
        (loss / accum_steps).backward()
        if (i + 1) % accum_steps == 0 or i + 1 == len(loader):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            optimizer.zero_grad()
        if i % 4 == 0:
            print(f"batch {i}: {loss.item():.4f}")
        losses.append(loss.item())
    return losses


def zero_first(model, loader, optimizer, accum_steps):
    """zero_grad() at the first batch of each group, counted from 1."""
    model.train()
    losses = []
    for step, (x, y) in enumerate(loader, 1):
        if step % accum_steps == 1:
            optimizer.zero_grad()
        loss = F.mse_loss(model(x), F.one_hot(y, 3).float())
        loss.backward()
        if step % accum_steps == 0:
            optimizer.step()
        losses.append(loss.item())
    return losses


def keeping_zeros(model, loader, optimizer, accum_steps):
    """zero_grad(set_to_none=False): zeros for the gradients there are (aux has none)."""
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad(set_to_none=False)
        losses.append(loss.item())
    return losses


def zeroed_in_some_batches(model, loader, optimizer):
    """zero_grad() after backward() in even batches: step() has no gradient
    there and moves nothing (momentum and weight decay neither)."""
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if i % 2 == 0:
            optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


def stepped_first(model, loader, optimizer):
    """step() before backward(): each batch applies the one before's gradient
    (none in the first batch; the last one's goes into the next pass)."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.step()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
    return losses


def warmed_up(model, loader, optimizer, scheduler):
    """A warm-up LambdaLR of Python's min(), stepped every batch."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def freezing(model, loader, optimizer, accum_steps, epoch):
    """fc1 frozen with a leftover gradient, which the next step still applies
    (a print under the if: the loop written out)."""
    if epoch == 1:
        model.fc1.requires_grad_(False)
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
            print("step", i)
        losses.append(loss.item())
    return losses


def scheduled(model, loader, optimizer, scheduler, accum_steps):
    """A scheduler stepped with the optimizer, every accum_steps batches."""
    model.train()
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(model(x), y) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def never_zeroed(model, loader, optimizer):
    """No zero_grad() in the loop: each step's gradient is the sum of all so far.
    (The mean of a sum by the batch's size: an int tensor in the compiled step.)"""
    model.train()
    losses = []
    for x, y in loader:
        loss = F.cross_entropy(model(x), y, reduction="none").sum() / x.size(0)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class Trainer:
    """zero_grad() once: a pass's leftover gradients go into the next pass's first step."""

    def __init__(self, model, loader, accum_steps):
        self.model = model
        self.loader = loader
        self.accum_steps = accum_steps
        self.optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)
        self.optimizer.zero_grad()
        self.losses = []

    def epoch(self):
        self.model.train()
        for i, (x, y) in enumerate(self.loader):
            loss = F.cross_entropy(self.model(x), y, label_smoothing=0.1) / self.accum_steps
            loss.backward()
            if (i + 1) % self.accum_steps == 0:
                self.optimizer.step()
                self.optimizer.zero_grad()
            self.losses.append(loss.item())


class Runner:
    """The loss from a method of its own: a tensor, read with .item() (the loop
    stays written out: the step calls the script's code)."""

    def __init__(self, model, loader, accum_steps):
        self.model = model
        self.loader = loader
        self.accum_steps = accum_steps
        self.optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        self.losses = []

    def compute_loss(self, x, y):
        return F.cross_entropy(self.model(x), y) / self.accum_steps

    def run_epoch(self):
        for i, (x, y) in enumerate(self.loader):
            loss = self.compute_loss(x, y)
            loss.backward()
            if (i + 1) % self.accum_steps == 0:
                self.optimizer.step()
                self.optimizer.zero_grad()
            self.losses.append(loss.item())


def run(x, y, form, epochs=3, accum_steps=3):
    model = Net()
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    if form == "trainer":
        trainer = Trainer(model, loader, accum_steps)
        for epoch in range(epochs):
            trainer.epoch()
        return trainer.losses
    if form == "runner":
        runner = Runner(model, loader, accum_steps)
        for epoch in range(epochs):
            runner.run_epoch()
        return runner.losses
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    optimizer.zero_grad()
    # (OneCycleLR cycles SGD's momentum too: a variable the compiled step reads.)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1,
                                                    total_steps=int(epochs * (len(loader) // accum_steps)))
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 5)) if form == "warmup" else None
    losses = []
    for epoch in range(epochs):
        if form == "accumulate":
            losses += accumulate(model, loader, optimizer, accum_steps)
        elif form == "to_the_end":
            losses += accumulate_to_the_end(model, loader, optimizer, accum_steps)
        elif form == "zero_first":
            losses += zero_first(model, loader, optimizer, accum_steps)
        elif form == "scheduled":
            losses += scheduled(model, loader, optimizer, scheduler, accum_steps)
        elif form == "zeroed_in_some_batches":
            losses += zeroed_in_some_batches(model, loader, optimizer)
        elif form == "stepped_first":
            losses += stepped_first(model, loader, optimizer)
        elif form == "warmup":
            losses += warmed_up(model, loader, optimizer, warmup)
        elif form == "keeping_zeros":
            losses += keeping_zeros(model, loader, optimizer, accum_steps)
        elif form == "freezing":
            losses += freezing(model, loader, optimizer, accum_steps, epoch)
        else:
            losses += never_zeroed(model, loader, optimizer)
    return losses
'''


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 4)).astype("float32")  # 8 batches, the last of 4
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x, y


@pytest.fixture(scope="module")
def modules():
    code = convert(SCRIPT, "channels_last")
    for name in ("accumulate", "accumulate_to_the_end", "zero_first", "scheduled", "keeping_zeros", "never_zeroed",
                 "zeroed_in_some_batches", "stepped_first", "epoch"):
        text = function(code, name)
        assert "(PyTorchTrainStep):" in text and "trainer.fit(" in text, text
        assert "GradientTape" in text and "for x, y in" not in text and "in enumerate(loader" not in text, text
    assert "for i, (x, y) in enumerate(loader):" in function(code, "freezing")  # the loop written out
    assert "self.losses.append(ops.convert_to_numpy(loss).item())" in function(code, "run_epoch")
    assert "callbacks=[batch_losses, PyTorchSchedulerStep(scheduler, per_batch=True)]" in function(code, "warmed_up")
    text = function(code, "accumulate")
    assert "x, y = data[0] i = data[1][0]" in text, text
    assert "def update(): optimizer.step() optimizer.zero_grad() pytorch_if((i + 1) % accum_steps == 0, update)" in text
    text = function(code, "accumulate_to_the_end")
    assert "pytorch_if(ops.logical_or((i + 1) % accum_steps == 0, i + 1 == len(loader)), update)" in text, text
    assert "for i, logs in enumerate(batch_logs.logs): if i % 4 == 0: print(f\"batch {i}: {logs['loss']:.4f}\")" in text
    text = function(code, "zero_first")
    assert "step = data[1][0] + 1 def zero_gradients(): optimizer.zero_grad() pytorch_if(" in text, text
    # The conditional zero_grad() is before the tape: the tape records from there.
    assert text.index("pytorch_if(step % accum_steps == 1") < text.index("with tf.GradientTape()"), text
    assert "pytorch_if((i + 1) % self.accum_steps == 0, update)" in function(code, "epoch")
    assert "def update(): optimizer.step() scheduler.step() optimizer.zero_grad()" in function(code, "scheduled")
    return load_module(SCRIPT, "torch_accumulation"), load_module(code, "keras_accumulation")


@pytest.mark.parametrize("form, accum_steps", [
    ("accumulate", 3), ("accumulate", 12 / 4), ("to_the_end", 3), ("zero_first", 3), ("scheduled", 3),
    ("keeping_zeros", 3), ("freezing", 3), ("never_zeroed", 3), ("zeroed_in_some_batches", 3), ("stepped_first", 3),
    ("warmup", 3), ("trainer", 3), ("runner", 3)],
    ids=["accumulate", "float-count", "to-the-end", "zero-first", "scheduled", "keeping-zeros", "freezing",
         "never-zeroed", "zeroed-in-some-batches", "stepped-first", "lambda-warmup", "trainer", "runner"])
def test_accumulating_train_step_trains_as_the_pytorch_loop(modules, monkeypatch, capsys, form, accum_steps):
    torch_module, keras_module = modules
    torch.manual_seed(0)
    torch_model = torch_module.Net()
    keras_model = keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    monkeypatch.setattr(torch_module, "Net", lambda: torch_model)
    monkeypatch.setattr(keras_module, "Net", lambda: keras_model)
    x, y = data(1)

    torch_losses = torch_module.run(torch.from_numpy(x), torch.from_numpy(y), form, accum_steps=accum_steps)
    torch_printed = capsys.readouterr().out
    keras_losses = keras_module.run(x, y, form, accum_steps=accum_steps)
    keras_printed = capsys.readouterr().out

    assert len(keras_losses) == len(torch_losses) == 3 * 8
    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-5)
    assert keras_printed == torch_printed
    assert torch_printed.count("batch") == (6 if form == "to_the_end" else 0)
    assert torch_printed.count("step") == (6 if form == "freezing" else 0)
    pairs = [(keras_model.fc1.kernel, torch_model.fc1.weight.T), (keras_model.fc2.kernel, torch_model.fc2.weight.T),
             (keras_model.fc2.bias, torch_model.fc2.bias), (keras_model.bn.gamma, torch_model.bn.weight),
             (keras_model.bn.moving_mean, torch_model.bn.running_mean), (keras_model.aux.kernel, torch_model.aux.weight.T)]
    for keras_value, torch_value in pairs:
        expected = torch_value.detach().numpy()
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_value), expected, rtol=1e-5,
                                   atol=1e-5 * np.abs(expected).max())
    # What the last pass left in .grad (the leftover batches' sum, or none after
    # a step's zero_grad) is the gradient eager code finds after fit() (not
    # model.fit()'s: the converter keeps a loop whose gradients are read after).
    held = () if form == "warmup" else ((keras_model.fc1.kernel, torch_model.fc1.weight),
                                        (keras_model.fc2.bias, torch_model.fc2.bias))
    for keras_variable, torch_parameter in held:
        stored = keras_module._t2k_stored_gradient(keras_variable)
        if torch_parameter.grad is None:
            assert stored is None
        else:
            expected = torch_parameter.grad.numpy()
            expected = expected.T if expected.ndim == 2 else expected
            np.testing.assert_allclose(keras.ops.convert_to_numpy(stored), expected, rtol=1e-5,
                                       atol=1e-5 * np.abs(expected).max())


def test_gradients_another_compiled_step_left_raise(modules):
    # A compiled step carries the gradients it does not zero first from one
    # batch to the next (above). One that another compiled step (fit()) left
    # stays in that step's graph: using it raises rather than train differently.
    _, keras_module = modules
    tf = keras_module.tf
    model = keras_module.Net()
    model(np.zeros((2, 4), "float32"))
    optimizer = keras_module.PyTorchSGD(model, learning_rate=0.1)
    criterion = keras_module.pytorch_cross_entropy
    x, y = data(3)
    loader = keras_module.PyTorchDataLoader(keras_module.PyTorchTensorDataset(x, y), batch_size=8)

    def backward(x, y):
        with tf.GradientTape() as tape:
            loss = criterion(model(x, training=True), y)
        keras_module.pytorch_backward(tape, loss)
        return loss

    def fit(train_step):
        trainer = type("Step", (keras_module.PyTorchTrainStep,), {"train_step": train_step})()
        trainer.compile()
        trainer.fit(loader, epochs=1, shuffle=False, verbose=0)

    def zero_first(self, data):
        x, y = data[0]
        optimizer.zero_grad()
        loss = backward(x, y)
        optimizer.step()
        return {"loss": loss}

    def add_to_the_last(self, data):
        x, y = data[0]
        loss = backward(x, y)
        optimizer.step()
        return {"loss": loss}

    optimizer.zero_grad()
    fit(zero_first)  # carries nothing: its step zeroes first
    with pytest.raises(NotImplementedError, match="left by another compiled training step"):
        fit(add_to_the_last)
    with pytest.raises(NotImplementedError, match="left by a compiled training step"):
        optimizer.step()  # eager code reading it
    optimizer.zero_grad()
    fit(add_to_the_last)  # from no gradient: carried, exact, as above


def test_models_built_by_the_traced_step_train(modules):
    # A converted script's models are built by their first call, inside the
    # traced step: a conditional zero_grad() before it must not build an
    # optimizer with no variables (Keras' optimizer knows only those it was
    # built with), nor the optimizer of a model another loop trains later.
    # Each model, built so, trains as the same model built first (same seed).
    _, keras_module = modules
    x, y = data(4)

    def train(prebuild):
        keras.utils.set_random_seed(7)
        first, second = keras_module.Net(), keras_module.Net()
        if prebuild:
            for model in (first, second):
                model(np.zeros((2, 4), "float32"))
        keras.utils.set_random_seed(8)
        loader = keras_module.PyTorchDataLoader(keras_module.PyTorchTensorDataset(x, y), batch_size=8)
        first_optimizer = keras_module.PyTorchSGD(first, learning_rate=0.05, momentum=0.9)
        second_optimizer = keras_module.PyTorchAdam(second, learning_rate=0.01)
        losses = keras_module.zero_first(first, loader, first_optimizer, 3)
        losses += keras_module.accumulate(second, loader, second_optimizer, 3)
        return losses, [keras.ops.convert_to_numpy(w) for w in first.weights + second.weights]

    built_losses, built_weights = train(prebuild=True)
    losses, weights = train(prebuild=False)
    assert len(losses) == 16
    np.testing.assert_allclose(losses, built_losses, rtol=1e-6)
    for value, expected in zip(weights, built_weights):
        np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-7)
