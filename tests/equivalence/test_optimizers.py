"""Issue 7, optimizers: the runtime's PyTorch optimizers (emit/runtime/layers.py)
against torch.optim, step for step.

From identical weights (a converted model loaded from the PyTorch state_dict) and
the same batches in the same order, 20 steps of each optimizer, with weight decay,
momentum, dampening, Nesterov, amsgrad, centered, lr_decay and a learning rate that
changes mid-run, give PyTorch's per-step losses and final weights within 1e-5
relative (pitfalls P53, P54: Keras' own optimizers differ in each of these). The
Keras steps run inside tf.function.
"""

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from harness import convert, load_module

RUNTIME_PATH = Path(__file__).resolve().parents[2] / "src" / "torch2keras" / "emit" / "runtime" / "layers.py"
_spec = importlib.util.spec_from_file_location("t2k_runtime_optimizers", RUNTIME_PATH)
runtime = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runtime)

MODEL = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh())
"""

# (torch optimizer, keyword arguments, runtime class, its keyword arguments)
CASES = [
    ("SGD", dict(lr=0.1), "PyTorchSGD", dict(learning_rate=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01), "PyTorchSGD",
     dict(learning_rate=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3), "PyTorchSGD",
     dict(learning_rate=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3), "PyTorchSGD",
     dict(learning_rate=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01), "PyTorchAdam", dict(learning_rate=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True), "PyTorchAdam",
     dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01), "PyTorchAdamW", dict(learning_rate=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True), "PyTorchAdamW",
     dict(learning_rate=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01), "PyTorchRMSprop", dict(learning_rate=0.01)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5, centered=True),
     "PyTorchRMSprop", dict(learning_rate=0.005, alpha=0.9, epsilon=1e-6, weight_decay=0.01, momentum=0.5,
                            centered=True)),
    ("Adagrad", dict(lr=0.1), "PyTorchAdagrad", dict(learning_rate=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-8),
     "PyTorchAdagrad", dict(learning_rate=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1,
                            epsilon=1e-8)),
]


def twins(seed=0):
    torch.manual_seed(seed)
    torch_model = load_module(MODEL, "torch_optim_model").Net()
    keras_ns = load_module(convert(MODEL, "channels_last"), "keras_optim_model")
    keras_model = keras_ns.Net()
    keras_model(np.zeros((1, 4), "float32"))
    keras_ns.load_torch_state_dict(keras_model, torch_model.state_dict())
    return torch_model, keras_model


def batches(n=20, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(5, 3)).astype("float32"))
            for _ in range(n)]


def run(torch_name, torch_kwargs, keras_optimizer, lr_at=None, scheduler=None, batches_per_epoch=4):
    """Per-step losses of both, and the final weights (torch, keras) per layer.
    `lr_at(step)`: the learning rate PyTorch uses from that step; `scheduler(optimizer)`:
    a torch scheduler stepped after every `batches_per_epoch` batches."""
    torch_model, keras_model = twins()
    optimizer = getattr(torch.optim, torch_name)(torch_model.parameters(), **torch_kwargs)
    schedule = scheduler(optimizer) if scheduler is not None else None
    torch_losses = []
    for step, (x, y) in enumerate(batches()):
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(torch_model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        torch_losses.append(loss.item())
        if schedule is not None and (step + 1) % batches_per_epoch == 0:
            schedule.step()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(keras_model(x, training=True) - y))
        grads = tape.gradient(loss, keras_model.trainable_variables)
        keras_optimizer.apply_gradients(zip(grads, keras_model.trainable_variables))
        return loss

    keras_losses = [float(train_step(x, y)) for x, y in batches()]
    weights = [(torch_model.fc1.weight.detach().numpy().T, keras_model.fc1.kernel.numpy()),
               (torch_model.fc1.bias.detach().numpy(), keras_model.fc1.bias.numpy()),
               (torch_model.fc2.weight.detach().numpy().T, keras_model.fc2.kernel.numpy()),
               (torch_model.fc2.bias.detach().numpy(), keras_model.fc2.bias.numpy())]
    return np.array(torch_losses), np.array(keras_losses), weights


def assert_same_training(torch_losses, keras_losses, weights):
    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-5, atol=1e-7)
    for torch_value, keras_value in weights:
        np.testing.assert_allclose(keras_value, torch_value, rtol=1e-5, atol=1e-6)
    # The run learned something: a wrong rule could not pass by standing still.
    assert torch_losses[-1] < torch_losses[0]


@pytest.mark.parametrize("torch_name, torch_kwargs, keras_name, keras_kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_optimizer_matches_pytorch_step_for_step(torch_name, torch_kwargs, keras_name, keras_kwargs):
    optimizer = getattr(runtime, keras_name)(**keras_kwargs)
    assert_same_training(*run(torch_name, torch_kwargs, optimizer))


def test_learning_rate_change_mid_run_with_momentum():
    # P54: PyTorch's SGD keeps the learning rate outside the momentum buffer, so a
    # drop of the rate at step 5 changes the very next step (Keras' SGD would carry
    # the old rate inside its velocity).
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([4], [0.1, 0.01])
    optimizer = runtime.PyTorchSGD(learning_rate=schedule, momentum=0.9)
    assert_same_training(*run("SGD", dict(lr=0.1, momentum=0.9), optimizer,
                              lr_at=lambda step: 0.1 if step < 5 else 0.01))


def test_scheduler_stepped_per_epoch():
    # StepLR stepped after each epoch of 4 batches, as the usual loop does.
    schedule = runtime.PyTorchStepLR(0.1, step_size=2, gamma=0.5, steps_per_epoch=4)
    optimizer = runtime.PyTorchSGD(learning_rate=schedule, momentum=0.9, nesterov=True)
    assert_same_training(*run("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), optimizer,
                              scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)))
    schedule = runtime.PyTorchCosineAnnealingLR(0.01, T_max=3, steps_per_epoch=4)
    assert_same_training(*run("AdamW", dict(lr=0.01), runtime.PyTorchAdamW(learning_rate=schedule),
                              scheduler=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 3)))


def test_keras_own_optimizers_differ():
    # The reason for the runtime's: Keras' Adam (epsilon before the bias
    # correction) and SGD with weight decay (decoupled) train differently.
    torch_losses, keras_losses, _ = run("Adam", dict(lr=0.01, eps=1e-3),
                                        keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-3))
    assert np.abs(keras_losses - torch_losses).max() > 1e-4
    torch_losses, keras_losses, _ = run("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1),
                                        keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.1))
    assert np.abs(keras_losses - torch_losses).max() > 1e-4


# Training code converted as it is written: loss.backward() is pytorch_backward
# over a GradientTape, optimizer.step() / zero_grad() are the runtime
# optimizer's, with PyTorch's accumulation of gradients until zero_grad.


def eager_torch(make_optimizer, clip=None, accumulate=1, scheduler=None):
    torch_model, keras_model = twins()
    optimizer = make_optimizer(torch_model)
    schedule = scheduler(optimizer) if scheduler else None
    losses = []
    for step, (x, y) in enumerate(batches()):
        loss = torch.nn.functional.mse_loss(torch_model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(torch_model.parameters(), clip)
        if (step + 1) % accumulate == 0:
            optimizer.step()
            optimizer.zero_grad()
            if schedule is not None:
                schedule.step()
        losses.append(loss.item())
    return torch_model, keras_model, np.array(losses)


def eager_keras(keras_model, optimizer, clip=None, accumulate=1, schedule=None):
    losses = []
    for step, (x, y) in enumerate(batches()):
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(keras_model(x, training=True) - y))
        runtime.pytorch_backward(tape, loss)
        if clip is not None:
            runtime.pytorch_clip_grad_norm_(keras_model, clip)
        if (step + 1) % accumulate == 0:
            optimizer.step()
            optimizer.zero_grad()
            if schedule is not None:
                schedule.step()
        losses.append(float(loss))
    return np.array(losses)


def final_weights(torch_model, keras_model):
    return [(torch_model.fc1.weight.detach().numpy().T, keras_model.fc1.kernel.numpy()),
            (torch_model.fc1.bias.detach().numpy(), keras_model.fc1.bias.numpy()),
            (torch_model.fc2.weight.detach().numpy().T, keras_model.fc2.kernel.numpy()),
            (torch_model.fc2.bias.detach().numpy(), keras_model.fc2.bias.numpy())]


@pytest.mark.parametrize("clip, accumulate", [(None, 1), (0.5, 1), (None, 3), (0.3, 2)])
def test_step_and_zero_grad_as_written(clip, accumulate):
    torch_model, keras_model, torch_losses = eager_torch(
        lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        clip=clip, accumulate=accumulate)
    optimizer = runtime.PyTorchSGD(keras_model, learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    keras_losses = eager_keras(keras_model, optimizer, clip=clip, accumulate=accumulate)
    assert_same_training(torch_losses, keras_losses, final_weights(torch_model, keras_model))


def test_parameter_groups_and_scheduler_on_the_optimizer():
    # Each group's own lr and weight_decay; StepLR made from the optimizer scales every group.
    torch_model, keras_model, torch_losses = eager_torch(
        lambda m: torch.optim.Adam([{"params": m.fc1.parameters(), "lr": 0.003, "weight_decay": 0.1},
                                    {"params": m.fc2.parameters()}], lr=0.01),
        scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5))
    optimizer = runtime.PyTorchAdam([{"params": keras_model.fc1, "lr": 0.003, "weight_decay": 0.1},
                                     {"params": keras_model.fc2}], learning_rate=0.01)
    schedule = runtime.PyTorchStepLR(optimizer, step_size=5, gamma=0.5)
    keras_losses = eager_keras(keras_model, optimizer, schedule=schedule)
    assert_same_training(torch_losses, keras_losses, final_weights(torch_model, keras_model))
    assert schedule.get_last_lr() == pytest.approx([0.01 * 0.5 ** 4])


def test_clip_grad_norm_returns_pytorch_total_norm():
    torch_model, keras_model = twins()
    x, y = batches(1)[0]
    torch.nn.functional.mse_loss(torch_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(keras_model(x, training=True) - y))
    optimizer = runtime.PyTorchSGD(keras_model, learning_rate=0.1)  # its parameters get gradients
    runtime.pytorch_backward(tape, loss)
    for norm_type in (2.0, 1.0, float("inf")):
        expected = torch.nn.utils.clip_grad_norm_(torch_model.parameters(), 1e9, norm_type=norm_type)
        got = runtime.pytorch_clip_grad_norm_(keras_model, 1e9, norm_type=norm_type)
        np.testing.assert_allclose(float(got), float(expected), rtol=1e-5)
    assert optimizer.params is keras_model
    # Clipping the whole model while the optimizer holds its head only: PyTorch's
    # norm has the other layers' gradients, which backward() did not compute here.
    head_only = runtime.PyTorchSGD(keras_model.fc2, learning_rate=0.1)
    del optimizer
    import gc

    gc.collect()
    with pytest.raises(NotImplementedError, match="no optimizer holds"):
        runtime.pytorch_clip_grad_norm_(keras_model, 1.0)
    assert head_only.params is keras_model.fc2


def test_two_optimizers_share_one_persistent_tape():
    # A GAN's step: two losses on one tape, each backward() fills the gradients of
    # every optimizer's parameters, each zero_grad() forgets only its own.
    torch_model, keras_model = twins()
    first = torch.optim.SGD(torch_model.fc1.parameters(), lr=0.1)
    second = torch.optim.SGD(torch_model.fc2.parameters(), lr=0.2, momentum=0.5)
    k_first = runtime.PyTorchSGD(keras_model.fc1, learning_rate=0.1)
    k_second = runtime.PyTorchSGD(keras_model.fc2, learning_rate=0.2, momentum=0.5)
    torch_losses, keras_losses = [], []
    for x, y in batches(8):
        first.zero_grad()
        out = torch_model(torch.from_numpy(x))
        a = torch.nn.functional.mse_loss(out, torch.from_numpy(y))
        a.backward()
        first.step()
        second.zero_grad()
        b = torch_model(torch.from_numpy(x)).pow(2).mean()
        b.backward()
        second.step()
        torch_losses += [a.item(), b.item()]
        k_first.zero_grad()
        with tf.GradientTape(persistent=True) as tape:
            out = keras_model(x, training=True)
            a = keras.ops.mean(keras.ops.square(out - y))
            runtime.pytorch_backward(tape, a)
            k_first.step()
            k_second.zero_grad()
            b = keras.ops.mean(keras.ops.square(keras_model(x, training=True)))
        runtime.pytorch_backward(tape, b)
        k_second.step()
        keras_losses += [float(a), float(b)]
    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-5, atol=1e-7)
    for torch_value, keras_value in final_weights(torch_model, keras_model):
        np.testing.assert_allclose(keras_value, torch_value, rtol=1e-5, atol=1e-6)


def torch_step(model, optimizer, x, y):
    """One step of the usual loop (MSE); its loss."""
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y))
    if loss.requires_grad:  # every parameter frozen: PyTorch refuses backward()
        loss.backward()
    optimizer.step()
    return loss.item()


def keras_step(model, optimizer, x, y):
    """The same step as the converted training code takes it."""
    optimizer.zero_grad()
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x, training=True) - y))
    runtime.pytorch_backward(tape, loss)
    optimizer.step()
    return float(loss)


def test_param_groups_read_and_set_the_rate_as_pytorch():
    # The manual decay of many scripts: `for g in optimizer.param_groups: g["lr"] = ...`.
    torch_model, keras_model = twins()
    torch_optimizer = torch.optim.SGD([{"params": torch_model.fc1.parameters(), "lr": 0.02},
                                       {"params": torch_model.fc2.parameters()}], lr=0.1, momentum=0.9)
    keras_optimizer = runtime.PyTorchSGD([{"params": keras_model.fc1, "lr": 0.02}, {"params": keras_model.fc2}],
                                         learning_rate=0.1, momentum=0.9)
    torch_losses, keras_losses = [], []
    for step, (x, y) in enumerate(batches(12)):
        if step % 4 == 3:
            for torch_group, keras_group in zip(torch_optimizer.param_groups, keras_optimizer.param_groups):
                assert keras_group["lr"] == pytest.approx(torch_group["lr"])
                torch_group["lr"] = torch_group["lr"] * 0.5
                keras_group["lr"] = keras_group["lr"] * 0.5
        torch_losses.append(torch_step(torch_model, torch_optimizer, x, y))
        keras_losses.append(keras_step(keras_model, keras_optimizer, x, y))
    assert_same_training(np.array(torch_losses), np.array(keras_losses), final_weights(torch_model, keras_model))
    assert [g["lr"] for g in keras_optimizer.param_groups] == pytest.approx([0.02 / 8, 0.1 / 8])
    assert len(keras_optimizer.param_groups[0]["params"]) == 2


# Optimizers whose update depends on the parameter's own step count (PyTorch's
# state["step"], from its first gradient): Adam's bias correction, SGD's first
# momentum buffer with dampening.
PER_PARAMETER_STEPS = {
    "sgd": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
            lambda m: runtime.PyTorchSGD(m, learning_rate=0.1, momentum=0.9)),
    "sgd-dampening": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
                      lambda m: runtime.PyTorchSGD(m, learning_rate=0.1, momentum=0.9, dampening=0.5)),
    "adam": (lambda p: torch.optim.Adam(p, lr=0.01), lambda m: runtime.PyTorchAdam(m, learning_rate=0.01)),
    "adagrad-lr-decay": (lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.1),
                         lambda m: runtime.PyTorchAdagrad(m, learning_rate=0.1, lr_decay=0.1)),
}


@pytest.mark.parametrize("optimizer", list(PER_PARAMETER_STEPS))
@pytest.mark.parametrize("case", ["unfreeze-head", "unfreeze-after-steps", "head-then-body"])
def test_freezing_as_pytorch_per_parameter(case, optimizer):
    # PyTorch's requires_grad is per parameter, the last setting wins; unfreezing
    # after steps adds parameters the optimizer already holds, which start their
    # own step count then.
    make_torch, make_keras = PER_PARAMETER_STEPS[optimizer]
    torch_model, keras_model = twins()
    torch_optimizer = keras_optimizer = None
    torch_losses, keras_losses = [], []
    for step, (x, y) in enumerate(batches(10)):
        if step == 0:
            for p in torch_model.parameters():
                p.requires_grad = False
            runtime.pytorch_requires_grad_(keras_model, False)
            if case in ("unfreeze-head", "head-then-body"):
                for p in torch_model.fc2.parameters():
                    p.requires_grad = True
                runtime.pytorch_requires_grad_(keras_model.fc2, True)
            torch_optimizer = make_torch(torch_model.parameters())
            keras_optimizer = make_keras(keras_model)
        if case in ("unfreeze-after-steps", "head-then-body") and step == 4:
            for p in torch_model.fc1.parameters():
                p.requires_grad = True
            runtime.pytorch_requires_grad_(keras_model.fc1, True)
        torch_losses.append(torch_step(torch_model, torch_optimizer, x, y))
        keras_losses.append(keras_step(keras_model, keras_optimizer, x, y))
    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-5, atol=1e-7)
    for torch_value, keras_value in final_weights(torch_model, keras_model):
        np.testing.assert_allclose(keras_value, torch_value, rtol=1e-5, atol=1e-6)


def test_freezing_belongs_to_the_layers_not_to_reused_ids():
    # A frozen model dropped, new ones made: Python reuses the freed objects' ids,
    # and none of the new layers may inherit the old ones' flag.
    import gc

    def model():
        m = keras.Sequential([keras.layers.Dense(3), keras.layers.Dense(2)])
        m(np.zeros((1, 4), "float32"))
        return m

    for _ in range(15):
        frozen = model()
        runtime.pytorch_requires_grad_(frozen, False)
        assert runtime._t2k_parameters(frozen) == []
        del frozen
        gc.collect()
        fresh = model()
        assert len(runtime._t2k_parameters(fresh)) == len(fresh.trainable_weights) == 4
