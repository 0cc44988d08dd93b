"""Issue 7, training code converted as it is written (script code: lower.cc;
GradientTapes: lowering/training.h): each rule on a small training script run by
PyTorch and, converted, by Keras (TensorFlow backend), from the same weights and
batches. Per-step losses within 1e-5 relative, the evaluation's predictions and
accuracy as PyTorch's.

Rules exercised: model.train()/eval() as training=; loss.backward() as a
GradientTape and pytorch_backward, gradients accumulating until zero_grad();
optimizer.step() with weight decay and parameter groups; a StepLR made from the
optimizer and stepped by the loop; clip_grad_norm_; frozen parameters
(requires_grad = False: left out of what optimizers train, the layers still in
training mode); `with torch.no_grad():`; tensor
methods of batches and outputs (argmax, ==, sum, item, size); BatchNorm's running
variance updated as PyTorch's (unbiased), also by forward passes alone in a file
that trains nothing (model.train()); a GradScaler (the unscaled step, in
float32) and `torch.autocast(enabled=False)`.
"""

import re

import keras
import numpy as np
import pytest
import torch
from harness import convert, load_module

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


def train(model, loader, clip=None, accumulate=1, freeze=False, groups=False, freeze_bn=False, amp=False):
    if freeze:
        for p in model.fc1.parameters():
            p.requires_grad = False
    if freeze_bn:
        model.bn.requires_grad_(False)
    if groups:
        optimizer = torch.optim.SGD([{"params": model.fc2.parameters(), "lr": 0.02},
                                     {"params": model.bn.parameters()}], lr=0.1, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    scaler = torch.amp.GradScaler("cpu", enabled=amp)
    model.train()
    losses = []
    for step, (x, y) in enumerate(loader):
        with torch.autocast("cpu", enabled=False):
            out = model(x)
            loss = criterion(out, y) / accumulate
        scaler.scale(loss).backward()
        if clip is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        if (step + 1) % accumulate == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
            scheduler.step()
        losses.append(loss.item())
    return losses


def evaluate(model, loader):
    model.eval()
    correct, total = 0, 0
    outputs = []
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            outputs.append(out)
            correct += (out.argmax(dim=1) == y).sum().item()
            total += y.size(0)
    return correct / total, torch.cat(outputs)


def run(x_train, y_train, x_test, y_test, **options):
    model = Net()
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=8)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=16)
    losses = train(model, train_loader, **options)
    accuracy, outputs = evaluate(model, test_loader)
    return model, losses, accuracy, outputs
'''


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")  # 3 classes
    return x, y


@pytest.fixture(scope="module")
def modules():
    code = convert(SCRIPT, "channels_last")
    # The converted script as a careful Keras engineer would write it.
    assert "with tf.GradientTape() as tape:" in code and "pytorch_backward(tape, loss)" in code
    assert "out = model(x, training=True)" in code and "out = model(x, training=False)" in code
    assert "pytorch_requires_grad_(model.fc1, False)" in code
    assert not re.search(r"\btorch\b", code.split("# --- Converted code. ---")[1].split("# --- Weight loader")[0])
    return load_module(SCRIPT, "torch_training_script"), load_module(code, "keras_training_script")


@pytest.mark.parametrize("options", [dict(), dict(clip=0.05), dict(accumulate=3), dict(freeze=True),
                                     dict(groups=True), dict(freeze_bn=True), dict(amp=True, clip=0.05)],
                         ids=["adam-steplr", "clip", "accumulate", "freeze", "groups", "freeze-batchnorm",
                              "grad-scaler"])
def test_training_script_matches_pytorch(modules, monkeypatch, options):
    torch_module, keras_module = modules
    torch.manual_seed(0)
    torch_model = torch_module.Net()
    keras_model = keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    start = torch_model.fc1.weight.detach().clone().numpy()
    bn_start = torch_model.bn.weight.detach().clone().numpy()
    monkeypatch.setattr(torch_module, "Net", lambda: torch_model)
    monkeypatch.setattr(keras_module, "Net", lambda: keras_model)
    (x, y), (xt, yt) = data(1), data(2)

    _, torch_losses, torch_accuracy, torch_outputs = torch_module.run(
        torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(xt), torch.from_numpy(yt), **options)
    _, keras_losses, keras_accuracy, keras_outputs = keras_module.run(x, y, xt, yt, **options)

    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-5, atol=1e-7)
    assert keras_accuracy == torch_accuracy
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_outputs), torch_outputs.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(keras_model.fc1.kernel.numpy(), torch_model.fc1.weight.detach().numpy().T,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras_model.bn.moving_variance.numpy(), torch_model.bn.running_var.numpy(), rtol=1e-5)
    if options.get("freeze_bn"):  # frozen, yet normalizing with batch statistics (the running ones moved)
        np.testing.assert_array_equal(torch_model.bn.weight.detach().numpy(), bn_start)
        np.testing.assert_allclose(keras_model.bn.gamma.numpy(), bn_start)
    if options.get("freeze"):
        np.testing.assert_array_equal(torch_model.fc1.weight.detach().numpy(), start)
    else:
        assert not np.allclose(torch_model.fc1.weight.detach().numpy(), start) or options.get("groups")


RECALIBRATE = '''
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8, momentum=0.3)

    def forward(self, x):
        return self.bn(self.fc(x))


def recalibrate(model, batches):
    """BatchNorm statistics from forward passes in training mode, no training."""
    model.train()
    with torch.no_grad():
        for x in batches:
            model(x)
    model.eval()
    return model(batches[0])
'''


def test_batchnorm_statistics_recalibrated_without_training_are_pytorchs():
    # A file that runs its model in training mode (model.train()) but trains
    # nothing still updates running_var with the unbiased batch variance.
    code = convert(RECALIBRATE, "channels_last")
    assert "self.bn = PyTorchBatchNormalization(" in code
    torch_module, keras_module = load_module(RECALIBRATE, "torch_recalibrate"), load_module(code, "keras_recalibrate")
    torch.manual_seed(0)
    torch_model, keras_model = torch_module.Net(), keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    batches = list(np.random.default_rng(3).normal(size=(4, 6, 4)).astype("float32"))

    torch_out = torch_module.recalibrate(torch_model, [torch.from_numpy(b) for b in batches])
    keras_out = keras_module.recalibrate(keras_model, batches)

    np.testing.assert_allclose(keras_model.bn.moving_variance.numpy(), torch_model.bn.running_var.numpy(), rtol=1e-5)
    np.testing.assert_allclose(keras_model.bn.moving_mean.numpy(), torch_model.bn.running_mean.numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_out), torch_out.detach().numpy(), rtol=1e-4, atol=1e-5)


DATASET_ITEMS = '''
import torch
from torch.utils.data import Dataset


class Marked(Dataset):
    """Items written into the tensor the constructor made."""

    def __init__(self, x):
        self.x = torch.as_tensor(x).clone()
        self.x[0, 1:] = 1.0
        self.x[1] += 2.0
        self.x[:, 0] *= -1

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def items(x):
    data = Marked(x)
    return [data[i] for i in range(len(data))]
'''


def test_dataset_writes_into_its_attribute_tensor_as_pytorch():
    code = convert(DATASET_ITEMS, "channels_last")
    assert "self.x = pytorch_setitem(self.x, np.s_[0, 1:], 1.0)" in code, code
    x = np.random.default_rng(5).normal(size=(4, 3)).astype("float32")
    expected = load_module(DATASET_ITEMS, "torch_dataset_items").items(torch.from_numpy(x))
    got = load_module(code, "keras_dataset_items").items(x)
    np.testing.assert_allclose(np.stack([keras.ops.convert_to_numpy(v) for v in got]),
                               np.stack([v.numpy() for v in expected]), rtol=1e-6)


INDEXED = '''
import torch


def make_data():
    """Points at the centers their labels name (an integer-tensor index)."""
    labels = torch.arange(10) % 4
    centers = torch.linspace(-1.0, 1.0, 12).reshape(4, 3)
    return centers[labels], centers[labels][:, 0] * 2
'''


def test_indexing_with_an_integer_tensor_in_script_code_gathers_rows():
    code = convert(INDEXED, "channels_last")
    assert "return ops.take(centers, labels, axis=0), ops.take(centers, labels, axis=0)[:, 0] * 2" in code, code
    expected = load_module(INDEXED, "torch_indexed").make_data()
    got = load_module(code, "keras_indexed").make_data()
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(value), reference.numpy(), rtol=1e-6)
