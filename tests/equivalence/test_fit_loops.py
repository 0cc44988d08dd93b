"""Issue 7, standard training loops as Keras' compile() + fit() (lowering/training.h,
fit_standard_loops): each form of the usual loop over a DataLoader (zero_grad,
forward, loss, backward, step; a per-batch scheduler; the losses recorded), run
by PyTorch and, converted, by model.fit in a compiled train step (TensorFlow
backend), from the same weights and batches: per-step losses and final weights
within 1e-5 relative.

Rules exercised: PyTorchCriterion (the loss in PyTorch's argument order,
integer targets kept; a module, a function, a lambda of the outputs and
targets); the runtime optimizers in fit (SGD nesterov + weight decay, Adam
amsgrad), moving only their own parameters (a head-only optimizer, parameter
groups, a layer frozen by requires_grad_); OneCycleLR stepped per batch by
PyTorchSchedulerStep; PyTorchBatchLosses for `losses.append(loss.item())` and
`total += loss.item()`; BatchNorm's running variance (unbiased) in fit; an epoch
loop around the batch loop as one fit() of that many epochs, StepLR stepped
after each by PyTorchSchedulerStep.
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

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x))))


def make_optimizer(model, kind):
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=0.01, amsgrad=True, weight_decay=0.01)
    if kind == "head":
        return torch.optim.SGD(model.fc2.parameters(), lr=0.1)
    return torch.optim.SGD([{"params": model.fc1.parameters(), "lr": 0.01},
                            {"params": model.fc2.parameters(), "weight_decay": 0.1},
                            {"params": model.bn.parameters()}], lr=0.1, momentum=0.9)


def train_outputs(model, loader, optimizer):
    """The forward pass on its own line, F.cross_entropy, the losses recorded."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_inline(model, loader, optimizer, criterion):
    """The forward pass inside the loss module's call; OneCycleLR stepped per batch."""
    model.train()
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=len(loader))
    losses = []
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def train_penalty(model, loader, optimizer):
    """A loss expression of the outputs and targets; a running total."""
    model.train()
    losses, total = [], 0.0
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y, label_smoothing=0.1) + 0.01 * (out**2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        total += loss.item()
    return losses + [total]


def train_clipped(model, loader, optimizer):
    """An epoch with clip_grad_norm_ between backward() and step(), one with clip_grad_value_."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.3)
        optimizer.step()
        losses.append(loss.item())
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.01)
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_all(model, loader, optimizer, epochs):
    """The epoch loop around the batch loop, StepLR stepped after each epoch."""
    model.train()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    losses = []
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses


def run(x, y, form, kind, freeze=False, epochs=2):
    model = Net()
    if freeze:
        model.fc1.requires_grad_(False)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    optimizer = make_optimizer(model, kind)
    criterion = nn.CrossEntropyLoss()
    if form == "all":
        return model, train_all(model, loader, optimizer, epochs)
    history = []
    for epoch in range(epochs):
        if form == "outputs":
            history += train_outputs(model, loader, optimizer)
        elif form == "clipped":
            history += train_clipped(model, loader, optimizer)
        elif form == "inline":
            history += train_inline(model, loader, optimizer, criterion)
        else:
            history += train_penalty(model, loader, optimizer)
    return model, history
'''


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")  # 3 classes
    return x, y


@pytest.fixture(scope="module")
def modules():
    code = convert(SCRIPT, "channels_last")
    for name in ("train_outputs", "train_inline", "train_penalty"):
        assert "model.fit(loader, epochs=1, shuffle=False, verbose=0" in function(code, name)
    # No loop is left to a GradientTape: the module does not need TensorFlow.
    assert "GradientTape" not in code and "import tensorflow" not in code
    assert "loss=PyTorchCriterion(pytorch_cross_entropy)" in function(code, "train_outputs")
    assert "loss=PyTorchCriterion(criterion)" in function(code, "train_inline")
    assert "PyTorchSchedulerStep(scheduler, per_batch=True)" in function(code, "train_inline")
    assert "total += sum(batch_losses.losses)" in function(code, "train_penalty")
    # Clipping: the optimizer's Keras setting, for that fit() only.
    assert ("optimizer.global_clipnorm = 0.3 model.compile(optimizer=optimizer, loss=PyTorchCriterion("
            "pytorch_cross_entropy)) model.fit(loader, epochs=1, shuffle=False, verbose=0, callbacks=[batch_losses]) "
            "optimizer.global_clipnorm = None") in function(code, "train_clipped")
    assert "optimizer.clipvalue = 0.01" in function(code, "train_clipped")
    # The epoch loop too: one fit() of `epochs` epochs, the scheduler stepped after each.
    assert ("model.fit(loader, epochs=epochs, shuffle=False, verbose=0, "
            "callbacks=[batch_losses, PyTorchSchedulerStep(scheduler)])") in function(code, "train_all")
    return load_module(SCRIPT, "torch_fit_script"), load_module(code, "keras_fit_script")


@pytest.mark.parametrize(
    "form, kind, freeze",
    [("outputs", "sgd", False), ("outputs", "adam", False), ("inline", "adam", False), ("inline", "sgd", False),
     ("penalty", "sgd", False), ("outputs", "head", False), ("outputs", "groups", False), ("penalty", "adam", True),
     ("all", "sgd", False), ("all", "adam", False), ("clipped", "sgd", False), ("clipped", "adam", False)],
    ids=["sgd-nesterov", "adam-amsgrad", "onecycle-adam", "onecycle-sgd", "penalty-total", "head-only",
         "param-groups", "frozen-layer", "epochs-steplr-sgd", "epochs-steplr-adam", "clip-sgd", "clip-adam"])
def test_fit_trains_as_the_pytorch_loop(modules, monkeypatch, form, kind, freeze):
    torch_module, keras_module = modules
    torch.manual_seed(0)
    torch_model = torch_module.Net()
    keras_model = keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    start = {name: p.detach().clone().numpy() for name, p in torch_model.named_parameters()}
    monkeypatch.setattr(torch_module, "Net", lambda: torch_model)
    monkeypatch.setattr(keras_module, "Net", lambda: keras_model)
    x, y = data(1)

    _, torch_history = torch_module.run(torch.from_numpy(x), torch.from_numpy(y), form, kind, freeze)
    _, keras_history = keras_module.run(x, y, form, kind, freeze)

    # 64 samples in batches of 8, 2 epochs (+ the totals; two passes an epoch clipped)
    steps = 2 * 8 * (2 if form == "clipped" else 1) + (2 if form == "penalty" else 0)
    assert len(keras_history) == len(torch_history) == steps
    np.testing.assert_allclose(keras_history, torch_history, rtol=1e-5)
    # (fc1's bias is left out: BatchNorm subtracts it again, so its gradient is zero
    # up to rounding, which Adam scales up to steps of the rate.)
    pairs = [(keras_model.fc1.kernel, torch_model.fc1.weight.T), (keras_model.fc2.kernel, torch_model.fc2.weight.T), (keras_model.fc2.bias, torch_model.fc2.bias),
             (keras_model.bn.gamma, torch_model.bn.weight), (keras_model.bn.moving_variance, torch_model.bn.running_var)]
    # Within 1e-5 of each tensor's scale: an entry whose gradients are near zero
    # (a unit ReLU mostly silences) moves by Adam's normalized steps of rounding
    # noise, the same in the GradientTape form of the loop (measured: 1.7e-6 of 0.05).
    for keras_value, torch_value in pairs:
        expected = torch_value.detach().numpy()
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_value), expected, rtol=1e-5,
                                   atol=1e-5 * np.abs(expected).max())
    # What the optimizer does not hold stays where it was; the rest moved.
    moved = {name: not np.array_equal(p.detach().numpy(), start[name]) for name, p in torch_model.named_parameters()}
    assert moved["fc2.weight"]
    assert moved["fc1.weight"] == (kind != "head" and not freeze)


TRAINER = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class Trainer:
    \"\"\"The model, its optimizer and loader, and the loop, held together.\"\"\"

    def __init__(self, model, loader, lr=0.05):
        self.model = model
        self.loader = loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        self.history = []

    def train_epoch(self):
        self.model.train()
        for x, y in self.loader:
            self.optimizer.zero_grad()
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self.history.append(loss.item())

    def run(self, epochs):
        for _ in range(epochs):
            self.train_epoch()
        return self.history


def main(x, y):
    model = Net()
    trainer = Trainer(model, DataLoader(TensorDataset(x, y), batch_size=8))
    return model, trainer.run(2)
"""


def test_a_trainer_class_is_script_code_and_its_loop_fits():
    # A plain class holding the training objects: its constructor's parameters
    # take the kinds its call gives them, `self.<attr>` theirs, and the methods
    # are script code (no Keras attribute renames: `self` is no layer).
    code = convert(TRAINER, "channels_last")
    method = function(code, "train_epoch")
    assert "self.model.compile(optimizer=self.optimizer, loss=PyTorchCriterion(self.criterion))" in method
    assert "self.model.fit(self.loader, epochs=1, shuffle=False, verbose=0, callbacks=[batch_losses])" in method
    assert "self.optimizer = PyTorchSGD(self.model, learning_rate=lr, momentum=0.9)" in code
    torch_module, keras_module = load_module(TRAINER, "torch_trainer"), load_module(code, "keras_trainer")
    torch.manual_seed(0)
    torch_model, keras_model = torch_module.Net(), keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    torch_module.Net, keras_module.Net = (lambda: torch_model), (lambda: keras_model)
    x, y = data(3)
    _, torch_history = torch_module.main(torch.from_numpy(x), torch.from_numpy(y))
    _, keras_history = keras_module.main(x, y)
    assert len(keras_history) == len(torch_history) == 16
    np.testing.assert_allclose(keras_history, torch_history, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_model.fc2.kernel), torch_model.fc2.weight.detach().numpy().T,
                               rtol=1e-5, atol=1e-6)
