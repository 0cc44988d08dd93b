"""Issue 7, schedulers: the runtime's PyTorch learning-rate schedules
(emit/runtime/layers.py) against torch.optim.lr_scheduler, rate for rate.

A PyTorch scheduler changes the rate when the loop calls scheduler.step() (after
each epoch here, after each batch for OneCycleLR); a Keras schedule is evaluated at
every optimizer step (pitfalls P57). With 3 batches per epoch, the rate Keras uses
at each of the steps equals the rate PyTorch's optimizer has at that step.
"""

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import torch

RUNTIME_PATH = Path(__file__).resolve().parents[2] / "src" / "torch2keras" / "emit" / "runtime" / "layers.py"
_spec = importlib.util.spec_from_file_location("t2k_runtime_schedules", RUNTIME_PATH)
runtime = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runtime)

LR = 0.1
EPOCHS, BATCHES = 14, 3
S = torch.optim.lr_scheduler


def torch_rates(make, per_batch=False, epochs=EPOCHS, batches=BATCHES):
    """The rate PyTorch's optimizer uses at each step of the usual loop."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    scheduler = make(optimizer)
    rates = []
    for _ in range(epochs):
        for _ in range(batches):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return np.array(rates)


def keras_rates(schedule, steps=EPOCHS * BATCHES):
    return np.array([float(schedule(step)) for step in range(steps)])


CASES = [
    (lambda o: S.StepLR(o, step_size=3, gamma=0.5), lambda: runtime.PyTorchStepLR(LR, 3, 0.5, steps_per_epoch=BATCHES)),
    (lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3),
     lambda: runtime.PyTorchMultiStepLR(LR, [2, 5, 9], 0.3, steps_per_epoch=BATCHES)),
    (lambda o: S.ExponentialLR(o, gamma=0.8), lambda: runtime.PyTorchExponentialLR(LR, 0.8, steps_per_epoch=BATCHES)),
    # Past T_max PyTorch's cosine rises again; Keras' CosineDecay would stay down.
    (lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
     lambda: runtime.PyTorchCosineAnnealingLR(LR, 5, 0.01, steps_per_epoch=BATCHES)),
    (lambda o: S.LinearLR(o, start_factor=0.25, total_iters=4),
     lambda: runtime.PyTorchLinearLR(LR, 0.25, 1.0, 4, steps_per_epoch=BATCHES)),
    (lambda o: S.LinearLR(o), lambda: runtime.PyTorchLinearLR(LR, steps_per_epoch=BATCHES)),
    (lambda o: S.LambdaLR(o, lr_lambda=lambda epoch: 0.9 ** epoch + 0.1 * epoch),
     lambda: runtime.PyTorchLambdaLR(LR, lambda epoch: 0.9 ** epoch + 0.1 * epoch, steps_per_epoch=BATCHES)),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.01),
     lambda: runtime.PyTorchCosineAnnealingWarmRestarts(LR, 3, eta_min=0.01, steps_per_epoch=BATCHES)),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
     lambda: runtime.PyTorchCosineAnnealingWarmRestarts(LR, 2, T_mult=2, steps_per_epoch=BATCHES)),
    # Warm-up then decay.
    (lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=3), S.StepLR(o, 2, 0.5)],
                              milestones=[3]),
     lambda: runtime.PyTorchSequentialLR(LR, [runtime.PyTorchLinearLR(LR, 0.1, 1.0, 3),
                                             runtime.PyTorchStepLR(LR, 2, 0.5)], [3], steps_per_epoch=BATCHES)),
]


@pytest.mark.parametrize("make_torch, make_keras", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_schedule_matches_pytorch_per_step(make_torch, make_keras):
    expected = torch_rates(make_torch)
    np.testing.assert_allclose(keras_rates(make_keras()), expected, rtol=1e-6, atol=1e-9)
    assert len(set(np.round(expected, 8))) > 2  # the rate does change


@pytest.mark.parametrize("options", [dict(), dict(pct_start=0.4, anneal_strategy="linear", div_factor=10.0),
                                     dict(three_phase=True, final_div_factor=100.0)])
def test_one_cycle_stepped_every_batch(options):
    total = EPOCHS * BATCHES
    expected = torch_rates(lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=total, cycle_momentum=False, **options),
                           per_batch=True)
    np.testing.assert_allclose(keras_rates(runtime.PyTorchOneCycleLR(None, 0.5, total, steps_per_epoch=1, **options)),
                               expected, rtol=1e-5, atol=1e-9)
    # Counting its own steps, as the converted loop's scheduler.step() after each batch.
    schedule = runtime.PyTorchOneCycleLR(None, 0.5, total, **options)
    counted = []
    for step in range(total):
        counted.append(float(schedule(step)))
        schedule.step()
    np.testing.assert_allclose(counted, expected, rtol=1e-5, atol=1e-9)


def test_scheduler_stepped_by_the_loop_or_by_fit():
    # scheduler.step() after each epoch, called by the loop (the schedule counts
    # its own steps) or by model.fit through PyTorchSchedulerStep.
    expected = torch_rates(lambda o: S.StepLR(o, step_size=2, gamma=0.5))
    schedule = runtime.PyTorchStepLR(LR, 2, 0.5)
    rates = []
    for _ in range(EPOCHS):
        rates += [float(schedule(None)) for _ in range(BATCHES)]
        schedule.step()
    np.testing.assert_allclose(rates, expected, rtol=1e-6)

    import keras

    schedule = runtime.PyTorchStepLR(LR, 2, 0.5)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(schedule(None)))

    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer=runtime.PyTorchSGD(learning_rate=schedule), loss="mse")
    x = np.ones((BATCHES * 4, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=EPOCHS, verbose=0, shuffle=False,
              callbacks=[Record(), runtime.PyTorchSchedulerStep(schedule)])
    np.testing.assert_allclose(seen, expected, rtol=1e-6)


@pytest.mark.parametrize("optimizer, options", [
    ("SGD", dict()), ("Adam", dict(three_phase=True)), ("SGD", dict(anneal_strategy="linear", base_momentum=0.8)),
])
def test_one_cycle_cycles_momentum_as_pytorch(optimizer, options):
    # cycle_momentum (PyTorch's default): momentum (SGD) or beta1 (Adam) goes the
    # other way from the rate, set at every scheduler.step().
    total = 20
    weight = torch.zeros(1, requires_grad=True)
    torch_optimizer = getattr(torch.optim, optimizer)([weight], lr=0.1, **({"momentum": 0.9} if optimizer == "SGD" else {}))
    torch_schedule = S.OneCycleLR(torch_optimizer, max_lr=0.5, total_steps=total, **options)
    keras_optimizer = getattr(runtime, "PyTorch" + optimizer)(learning_rate=0.1)
    keras_schedule = runtime.PyTorchOneCycleLR(keras_optimizer, 0.5, total, **options)
    expected, got = [], []
    for step in range(total):
        group = torch_optimizer.param_groups[0]
        expected.append((group["lr"], group["momentum"] if optimizer == "SGD" else group["betas"][0]))
        momentum = keras_optimizer.momentum if optimizer == "SGD" else keras_optimizer.beta_1
        got.append((float(keras_schedule(step)), float(keras.ops.convert_to_numpy(momentum))))
        torch_optimizer.step()
        torch_schedule.step()
        keras_schedule.step()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert len({round(m, 6) for _, m in expected}) > 3  # the momentum does cycle


@pytest.mark.parametrize("options", [dict(), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                     dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=0.02),
                                     dict(mode="max", threshold_mode="abs", threshold=0.1, patience=2)])
def test_reduce_lr_on_plateau_as_pytorch(options):
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.89, 0.9, 0.9, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.79, 0.9, 0.9, 0.9,
               0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    metrics = metrics if options.get("mode") != "max" else [-m for m in metrics]
    torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    torch_schedule = S.ReduceLROnPlateau(torch_optimizer, **options)
    keras_optimizer = runtime.PyTorchSGD(learning_rate=LR)
    keras_schedule = runtime.PyTorchReduceLROnPlateau(keras_optimizer, **options)
    expected, got = [], []
    for metric in metrics:
        torch_schedule.step(metric)
        keras_schedule.step(metric)
        expected.append(torch_optimizer.param_groups[0]["lr"])
        got.append(float(keras_optimizer.learning_rate))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert len(set(expected)) > 1  # the rate was reduced


def run_epochs(step_torch, step_keras, epochs=6):
    """The rate of a PyTorch SGD and of the runtime's at the start of each epoch,
    `step_*(optimizer, epoch, state)` making and stepping schedulers once an epoch."""
    torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    keras_optimizer = runtime.PyTorchSGD(learning_rate=LR)
    torch_state, keras_state, expected, got = {}, {}, [], []
    for epoch in range(epochs):
        expected.append(torch_optimizer.param_groups[0]["lr"])
        got.append(runtime._t2k_current_lr(keras_optimizer))
        torch_optimizer.step()
        step_torch(torch_optimizer, epoch, torch_state)
        step_keras(keras_optimizer, epoch, keras_state)
    return np.array(got), np.array(expected)


def remade_each_epoch(make):
    def step(optimizer, epoch, state):
        make(optimizer).step()
    return step


def phases(first, second):
    # A second phase: another scheduler on the same optimizer from epoch 3 on.
    def step(optimizer, epoch, state):
        if epoch in (0, 3):
            state["s"] = (first if epoch == 0 else second)(optimizer)
        state["s"].step()
    return step


@pytest.mark.parametrize("step_torch, step_keras", [
    (remade_each_epoch(lambda o: S.StepLR(o, 1, 0.5)), remade_each_epoch(lambda o: runtime.PyTorchStepLR(o, 1, 0.5))),
    (phases(lambda o: S.StepLR(o, 1, 0.5), lambda o: S.ExponentialLR(o, 0.8)),
     phases(lambda o: runtime.PyTorchStepLR(o, 1, 0.5), lambda o: runtime.PyTorchExponentialLR(o, 0.8))),
    (phases(lambda o: S.ExponentialLR(o, 0.5), lambda o: S.CosineAnnealingLR(o, T_max=4)),
     phases(lambda o: runtime.PyTorchExponentialLR(o, 0.5), lambda o: runtime.PyTorchCosineAnnealingLR(o, 4))),
    (phases(lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=2), S.StepLR(o, 1, 0.5)], milestones=[2]),
            lambda o: S.StepLR(o, 1, 0.9)),
     phases(lambda o: runtime.PyTorchSequentialLR(o, [runtime.PyTorchLinearLR(o, 0.5, 1.0, 2),
                                                      runtime.PyTorchStepLR(o, 1, 0.5)], [2]),
            lambda o: runtime.PyTorchStepLR(o, 1, 0.9))),
], ids=["remade-each-epoch", "second-phase", "cosine-after-decay", "sequential-then-steplr"])
def test_a_scheduler_goes_on_from_the_rate_it_finds(step_torch, step_keras):
    # PyTorch's schedulers step from the group's lr: one made later starts where
    # the rate is, not where the optimizer started.
    got, expected = run_epochs(step_torch, step_keras)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert len(set(np.round(expected, 8))) > 3


def test_two_schedulers_stepped_together_are_refused():
    # PyTorch chains them (each multiplies the rate the other left); the runtime
    # has one rate per optimizer: the earlier scheduler raises when stepped.
    optimizer = runtime.PyTorchSGD(learning_rate=LR)
    decay = runtime.PyTorchExponentialLR(optimizer, 0.9)
    drops = runtime.PyTorchMultiStepLR(optimizer, [2], 0.1)
    drops.step()
    with pytest.raises(NotImplementedError, match="chains schedulers"):
        decay.step()


def test_last_epoch_counts_the_steps_as_pytorch():
    # scheduler.last_epoch, read by training code (to log it, to stop).
    torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    torch_scheduler = S.StepLR(torch_optimizer, step_size=2, gamma=0.5)
    keras_scheduler = runtime.PyTorchStepLR(runtime.PyTorchSGD(None, learning_rate=LR), step_size=2, gamma=0.5)
    seen = []
    for _ in range(5):
        torch_optimizer.step()
        torch_scheduler.step()
        keras_scheduler.step()
        seen.append((torch_scheduler.last_epoch, keras_scheduler.last_epoch))
    assert [k for _, k in seen] == [t for t, _ in seen] == [1, 2, 3, 4, 5]
