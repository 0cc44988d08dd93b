"""Issue 7, training loops that are not standard as an overridden train_step
(lowering/training.cc, step_loop): a loop over a DataLoader with several losses,
two optimizers, two backward() calls adding up, clipping, a per-batch scheduler
and records of .item() values becomes a PyTorchTrainStep subclass whose
train_step is the loop's body, run by fit() in a compiled graph (TensorFlow
backend). Each is run by PyTorch and, converted, by Keras, from the same weights
and batches: the recorded values of each step and the final weights within 1e-5
relative.

Rules exercised: the batch as PyTorch's loop received it (data[0]: a tuple of
three); the records replayed from PyTorchBatchLogs; the runtime's gradient store
inside a traced step (accumulation over two backward() calls of one step, two
optimizers each stepping its own part, clip_grad_norm_); OneCycleLR stepped per
batch by PyTorchSchedulerStep; a Trainer class's loop (`self` in the step).
(Gradients carried from one batch to the next: test_gradient_accumulation.py.)
"""

import keras
import numpy as np
import pytest
import torch
from harness import convert, converted_function as function, load_module, same_noise

SCRIPT = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """A shared body and two heads: 3 class logits and a value."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.cls = nn.Linear(8, 3)
        self.reg = nn.Linear(8, 1)

    def forward(self, x):
        h = F.relu(self.bn(self.fc1(x)))
        return self.cls(h), self.reg(h).squeeze(-1)


def train_two_heads(model, loader, optimizer):
    """Several losses of a model with two outputs; two values recorded a step."""
    model.train()
    history = []
    for x, y, z in loader:
        optimizer.zero_grad()
        logits, value = model(x)
        loss_cls = F.cross_entropy(logits, y)
        loss_reg = F.mse_loss(value, z)
        loss = loss_cls + 0.5 * loss_reg
        loss.backward()
        optimizer.step()
        history.append((loss_cls.item(), loss_reg.item()))
    return history


def train_two_optimizers(model, loader, opt_body, opt_heads, scheduler):
    """Two optimizers on one loss, clipping, a per-batch scheduler, a running total."""
    model.train()
    history, total = [], 0.0
    for batch in loader:
        x, y, z = batch
        opt_body.zero_grad()
        opt_heads.zero_grad()
        logits, value = model(x)
        loss = F.cross_entropy(logits, y) + F.smooth_l1_loss(value, z)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt_body.step()
        opt_heads.step()
        scheduler.step()
        history.append(loss.item())
        total += loss.item()
    return history + [total]


def train_two_backward(model, loader, optimizer):
    """Two backward() calls whose gradients add up before one step."""
    model.train()
    history = []
    for i, (x, y, z) in enumerate(loader):
        optimizer.zero_grad()
        logits, value = model(x)
        loss_a = F.cross_entropy(logits, y)
        loss_a.backward(retain_graph=True)
        loss_b = F.mse_loss(value, z)
        loss_b.backward()
        optimizer.step()
        history.append(loss_a.item() + loss_b.item())
    return history


def train_metrics(model, loader, optimizer):
    """Values of expressions taken with .item() and sizes, summed by Python code."""
    model.train()
    accs, seen, total = [], 0, 0.0
    for x, y, z in loader:
        optimizer.zero_grad()
        logits, value = model(x)
        loss = F.cross_entropy(logits, y) + F.mse_loss(value, z)
        loss.backward()
        optimizer.step()
        accs.append((logits.argmax(1) == y).float().mean().item())
        total += F.cross_entropy(logits, y).item() * x.size(0)
        seen += x.size(0)
    return accs + [total / seen, seen]


def evaluate(model, loader):
    """An evaluation loop: the mean loss and the accuracy."""
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for x, y, z in loader:
            logits, value = model(x)
            total += (F.cross_entropy(logits, y, reduction="sum") + F.mse_loss(value, z, reduction="sum")).item()
            correct += (logits.argmax(dim=1) == y).sum().item()
    return [total / len(loader.dataset), correct]


class Trainer:
    """The loop as a method: the step reads the model and optimizer through self."""

    def __init__(self, model, loader):
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.01, weight_decay=0.01)
        self.history = []

    def epoch(self):
        self.model.train()
        for x, y, z in self.loader:
            self.optimizer.zero_grad()
            logits, value = self.model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1) + F.l1_loss(value, z)
            loss.backward()
            self.optimizer.step()
            self.history.append(loss.item())


def run(x, y, z, form, epochs=2):
    model = Net()
    loader = DataLoader(TensorDataset(x, y, z), batch_size=8)
    if form == "trainer":
        trainer = Trainer(model, loader)
        for epoch in range(epochs):
            trainer.epoch()
        return trainer.history
    if form == "two_optimizers":
        opt_body = torch.optim.SGD(model.fc1.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        opt_heads = torch.optim.Adam(list(model.cls.parameters()) + list(model.reg.parameters()) +
                                     list(model.bn.parameters()), lr=0.01, amsgrad=True)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt_heads, max_lr=0.05, total_steps=epochs * len(loader))
        history = []
        for epoch in range(epochs):
            history += train_two_optimizers(model, loader, opt_body, opt_heads, scheduler)
        return history
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    history = []
    for epoch in range(epochs):
        if form == "two_heads":
            history += train_two_heads(model, loader, optimizer)
        elif form == "metrics":
            history += train_metrics(model, loader, optimizer)
            history += evaluate(model, loader)
        else:
            history += train_two_backward(model, loader, optimizer)
    return history
'''


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")  # 3 classes
    z = (x[:, 2] * 2.0 - x[:, 3]).astype("float32")
    return x, y, z


@pytest.fixture(scope="module")
def modules():
    code = convert(SCRIPT, "channels_last")
    for name in ("train_two_heads", "train_two_optimizers", "train_two_backward", "train_metrics"):
        text = function(code, name)
        assert "(PyTorchTrainStep):" in text and "def train_step(self, data):" in text, text
        assert "trainer.fit(loader, epochs=1, shuffle=False, verbose=0, callbacks=[batch_logs" in text, text
        assert "model.fit(" not in text and "for x, y, z in loader" not in text, text
    assert "x, y, z = data[0]" in function(code, "train_two_heads")
    assert "return {'loss_cls': loss_cls, 'loss_reg': loss_reg}" in function(code, "train_two_heads")
    assert "history.append((logs['loss_cls'], logs['loss_reg']))" in function(code, "train_two_heads")
    assert "callbacks=[batch_logs, PyTorchSchedulerStep(scheduler, per_batch=True)]" in function(
        code, "train_two_optimizers")
    assert "total += logs['loss']" in function(code, "train_two_optimizers")
    assert "history.append(logs['loss_a'] + logs['loss_b'])" in function(code, "train_two_backward")
    # Expressions read with .item() and sizes are computed in the step and returned.
    assert ("batch_accs = ops.mean(ops.cast(ops.equal(ops.argmax(logits, axis=1), y), 'float32')) "
            "batch_total = pytorch_cross_entropy(logits, y) x_size = ops.shape(x)[0]") in function(code, "train_metrics")
    assert ("for logs in batch_logs.logs: accs.append(logs['batch_accs']) total += logs['batch_total'] * "
            "logs['x_size'] seen += logs['x_size']") in function(code, "train_metrics")
    # The evaluation loop: a test_step that evaluate() runs.
    text = function(code, "evaluate")
    assert "class EvalStep(PyTorchEvalStep):" in text and "def test_step(self, data):" in text, text
    assert "evaluator.evaluate(loader, verbose=0, callbacks=[batch_logs])" in text, text
    assert "logits, value = model(x, training=False)" in text
    # In a method, the step's own parameter is not `self`: the body reads the Trainer's.
    assert "def train_step(keras_self, data):" in function(code, "epoch")
    return load_module(SCRIPT, "torch_step_script"), load_module(code, "keras_step_script")


@pytest.mark.parametrize("form", ["two_heads", "two_optimizers", "two_backward", "trainer", "metrics"])
def test_train_step_trains_as_the_pytorch_loop(modules, monkeypatch, form):
    torch_module, keras_module = modules
    torch.manual_seed(0)
    torch_model = torch_module.Net()
    keras_model = keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    monkeypatch.setattr(torch_module, "Net", lambda: torch_model)
    monkeypatch.setattr(keras_module, "Net", lambda: keras_model)
    x, y, z = data(1)

    torch_history = torch_module.run(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(z), form)
    keras_history = keras_module.run(x, y, z, form)

    # 64 samples in batches of 8, 2 epochs (+ each epoch's total; the metrics'
    # mean loss and count, and the evaluation's loss and number correct)
    steps = 2 * 8 + {"two_optimizers": 2, "metrics": 8}.get(form, 0)
    assert len(keras_history) == len(torch_history) == steps
    np.testing.assert_allclose(keras_history, torch_history, rtol=1e-5)
    if form == "metrics":  # counts stay ints, as PyTorch's size() and item() of an int64 give
        assert [type(v) for v in keras_history[-4:]] == [type(v) for v in torch_history[-4:]] == [float, int, float, int]
        assert keras_history[-3] == 64
    pairs = [(keras_model.fc1.kernel, torch_model.fc1.weight.T), (keras_model.cls.kernel, torch_model.cls.weight.T),
             (keras_model.reg.kernel, torch_model.reg.weight.T), (keras_model.reg.bias, torch_model.reg.bias),
             (keras_model.bn.gamma, torch_model.bn.weight), (keras_model.bn.moving_variance, torch_model.bn.running_var)]
    for keras_value, torch_value in pairs:
        expected = torch_value.detach().numpy()
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_value), expected, rtol=1e-5,
                                   atol=1e-5 * np.abs(expected).max())


def test_train_step_runs_compiled(modules, monkeypatch):
    # fit() traces the step into a graph: the body's Python runs once per trace,
    # not once per batch.
    torch_module, keras_module = modules
    calls = []
    step_class = keras_module.PyTorchTrainStep
    original = step_class.fit

    def fit(self, loader, **kwargs):
        calls.append(self.run_eagerly)
        return original(self, loader, **kwargs)

    monkeypatch.setattr(step_class, "fit", fit)
    x, y, z = data(2)
    model = keras_module.Net()
    model(np.zeros((2, 4), "float32"))
    monkeypatch.setattr(keras_module, "Net", lambda: model)
    count = {"n": 0}
    original_call = type(model).call

    def call(self, *args, **kwargs):
        count["n"] += 1
        return original_call(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "call", call)
    history = keras_module.run(x, y, z, "two_heads")
    assert len(history) == 16 and calls == [False, False]
    # Traced once or twice an epoch (the first batch's shapes, maybe a relaxed
    # shape), far fewer than the 16 batches.
    assert count["n"] <= 4, count


GAN = '''
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x).view(-1)


def train(netG, netD, dataloader, num_epochs):
    """The PyTorch DCGAN tutorial's loop: values taken with .item() in the middle
    of the step, statistics printed every other batch, a counter."""
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    G_losses, D_losses, stats = [], [], []
    iters = 0
    for epoch in range(num_epochs):
        for i, data in enumerate(dataloader, 0):
            netD.zero_grad()
            real = data[0]
            b_size = real.size(0)
            label = torch.full((b_size,), 1.0)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(b_size, 8)
            fake = netG(noise)
            label.fill_(0.0)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()

            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            if i % 2 == 0:
                print("[%d/%d][%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f"
                      % (epoch, num_epochs, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
            G_losses.append(errG.item())
            D_losses.append(errD.item())
            stats.append((D_x, D_G_z1, D_G_z2))
            iters += 1
    return G_losses, D_losses, stats, iters, i


def main(real):
    netG, netD = Generator(), Discriminator()
    netG.train()
    netD.train()
    loader = DataLoader(TensorDataset(real), batch_size=8)
    return train(netG, netD, loader, 2)
'''


def test_values_taken_in_the_step_and_printed_statistics_are_replayed(monkeypatch, capsys):
    code = convert(GAN, "channels_last")
    text = function(code, "train")
    # The item assignments' tensors are computed where they were and returned;
    # the host statements (the print every other batch, the records, the
    # counter) run after fit(), batch by batch, from the returned values.
    assert "D_G_z1 = ops.mean(output) errD = errD_real + errD_fake" in text, text
    assert "return {'D_x': D_x, 'D_G_z1': D_G_z1, 'D_G_z2': D_G_z2, 'errD': errD, 'errG': errG}" in text
    assert ("for i, logs in enumerate(batch_logs.logs, 0): D_x = logs['D_x'] D_G_z1 = logs['D_G_z1'] "
            "D_G_z2 = logs['D_G_z2'] if i % 2 == 0: print(") in text, text
    assert "G_losses.append(logs['errG']) D_losses.append(logs['errD'])" in text and "iters += 1" in text
    torch_module, keras_module = load_module(GAN, "torch_gan_step"), load_module(code, "keras_gan_step")
    torch.manual_seed(0)
    pairs = []
    for cls, shape in (("Generator", (2, 8)), ("Discriminator", (2, 4))):
        torch_model, keras_model = getattr(torch_module, cls)(), getattr(keras_module, cls)()
        keras_model(np.zeros(shape, "float32"))
        keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
        monkeypatch.setattr(torch_module, cls, lambda m=torch_model: m)
        monkeypatch.setattr(keras_module, cls, lambda m=keras_model: m)
        pairs.append((torch_model, keras_model))
    # The same noise on both sides, a batch a step: from variables on the Keras
    # side, which the compiled step reads at each run.
    drawn = same_noise(monkeypatch, list(np.random.default_rng(5).normal(size=(10, 8, 8)).astype("float32")))
    real = np.random.default_rng(6).normal(size=(40, 4)).astype("float32") * 0.5 + 1.0

    torch_result = torch_module.main(torch.from_numpy(real))
    torch_printed = capsys.readouterr().out
    keras_result = keras_module.main(real)
    keras_printed = capsys.readouterr().out

    assert int(drawn.numpy()) == 10  # 5 batches, 2 epochs: the step ran for each
    for torch_values, keras_values in zip(torch_result[:3], keras_result[:3]):
        assert len(torch_values) == len(keras_values) == 10
        np.testing.assert_allclose(np.array(keras_values), np.array(torch_values), rtol=1e-5)
    assert torch_result[3:] == keras_result[3:] == (10, 4)  # the counter, and i after the loop
    assert torch_printed.count("\n") == keras_printed.count("\n") == 6  # batches 0, 2, 4 of each epoch
    assert [line[:12] for line in torch_printed.splitlines()] == [line[:12] for line in keras_printed.splitlines()]
    for torch_model, keras_model in pairs:
        torch_kernel = torch_model.net[-2 if isinstance(torch_model.net[-1], torch.nn.Sigmoid) else -1].weight
        keras_kernel = keras_model.net.layers[-2 if isinstance(torch_model.net[-1], torch.nn.Sigmoid) else -1].kernel
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_kernel), torch_kernel.detach().numpy().T,
                                   rtol=1e-5, atol=1e-5)


NO_DETACH = '''
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)).view(-1)


def train(netG, netD, loader, optG, optD, epochs):
    """The discriminator's loss without detach(): its backward() adds to G's
    gradients too (kept from the last batch), which netG.zero_grad() clears
    before G's step; D's gradients are zeroed (kept as zeros) at the end."""
    netG.train()
    netD.train()
    bce = nn.BCELoss()
    history = []
    for epoch in range(epochs):
        for (real,) in loader:
            fake = netG(real * 0.5)
            loss_d = bce(netD(real), torch.ones(real.shape[0])) + bce(netD(fake), torch.zeros(real.shape[0]))
            loss_d.backward(retain_graph=True)
            optD.step()
            netG.zero_grad()
            loss_g = bce(netD(fake), torch.ones(real.shape[0]))
            loss_g.backward()
            optG.step()
            optD.zero_grad(set_to_none=False)
            history.append((loss_d.item(), loss_g.item()))
    return history


def main(real, netG, netD):
    loader = DataLoader(TensorDataset(real), batch_size=8)
    optG = torch.optim.Adam(netG.parameters(), lr=0.01)
    optD = torch.optim.SGD(netD.parameters(), lr=0.1, momentum=0.9)
    return train(netG, netD, loader, optG, optD, 2)
'''


def test_gradients_added_then_cleared_and_zeros_kept_train_as_pytorch():
    # The runtime's bookkeeping: G's gradients of the last batch, added to by the
    # discriminator's backward(), are cleared before G's step (no error); D's
    # zeros from zero_grad(set_to_none=False) are zeros in any step.
    code = convert(NO_DETACH, "channels_last")
    assert "class TrainStep(PyTorchTrainStep):" in code
    torch_module, keras_module = load_module(NO_DETACH, "torch_no_detach"), load_module(code, "keras_no_detach")
    torch.manual_seed(1)
    pairs = []
    for cls in ("G", "D"):
        torch_model, keras_model = getattr(torch_module, cls)(), getattr(keras_module, cls)()
        keras_model(np.zeros((2, 4), "float32"))
        keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
        pairs.append((torch_model, keras_model))
    real = np.random.default_rng(7).normal(size=(36, 4)).astype("float32")  # a last batch of 4: a second trace

    torch_history = np.array(torch_module.main(torch.from_numpy(real), *(t for t, _ in pairs)))
    keras_history = np.array(keras_module.main(real, *(k for _, k in pairs)))

    assert torch_history.shape == keras_history.shape == (10, 2)
    np.testing.assert_allclose(keras_history, torch_history, rtol=1e-5)
    for torch_model, keras_model in pairs:
        np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_model.fc.kernel),
                                   torch_model.fc.weight.detach().numpy().T, rtol=1e-5, atol=1e-6)


def test_an_empty_loader_runs_no_step(modules):
    # PyTorch's loop over a loader with no batch (drop_last, fewer samples than a
    # batch) runs no step; Keras' fit() would raise on a PyDataset of length 0.
    _, keras_module = modules
    calls = []

    class Step(keras_module.PyTorchTrainStep):
        def train_step(self, data):
            calls.append(data)
            return {}

    x, y, z = data(4)
    loader = keras_module.PyTorchDataLoader(keras_module.PyTorchTensorDataset(x[:5], y[:5], z[:5]), batch_size=8,
                                            drop_last=True)
    assert len(loader) == 0
    trainer = Step()
    trainer.compile()
    assert trainer.fit(loader, epochs=1, verbose=0) is None and calls == []


NO_GRAD = '''
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


@torch.no_grad()
def soft_targets(model, x):
    return F.softmax(model(x * 0.5), dim=1)


def train(model, loader, optimizer):
    """Targets the model computes without gradients: a no_grad block, one in a
    loop, a @torch.no_grad() helper. Their values are constants to backward()."""
    model.train()
    history = []
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        with torch.no_grad():
            target = F.softmax(model(x * 2.0), dim=1)
        loss = F.cross_entropy(out, y) + ((F.softmax(out, dim=1) - target) ** 2).sum()
        for k in range(2):
            with torch.no_grad():
                other = F.softmax(model(x * (1.0 + k)), dim=1)
            loss = loss + 0.5 * ((F.softmax(out, dim=1) - other) ** 2).sum()
        loss = loss + ((F.softmax(out, dim=1) - soft_targets(model, x)) ** 2).sum()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def main(x, y, model):
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    return train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
'''


def test_values_computed_without_gradients_are_constants_to_backward():
    code = convert(NO_GRAD, "channels_last")
    assert function(code, "train").count("with tape.stop_recording():") == 2, function(code, "train")
    assert "@pytorch_no_grad\ndef soft_targets" in code
    torch_module, keras_module = load_module(NO_GRAD, "torch_no_grad"), load_module(code, "keras_no_grad")
    torch.manual_seed(3)
    torch_model, keras_model = torch_module.Net(), keras_module.Net()
    keras_model(np.zeros((2, 4), "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    x, y, _ = data(5)
    torch_history = torch_module.main(torch.from_numpy(x), torch.from_numpy(y), torch_model)
    keras_history = keras_module.main(x, y, keras_model)
    assert len(torch_history) == len(keras_history) == 8
    np.testing.assert_allclose(keras_history, torch_history, rtol=1e-5)
    # With gradients through the targets the weights would move elsewhere.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_model.fc1.kernel),
                               torch_model.fc1.weight.detach().numpy().T, rtol=1e-5, atol=1e-6)


def test_sizes_known_when_traced_stay_ints(modules):
    # x.size(1) is a Python int in the traced step: the replay gets an int back.
    _, keras_module = modules

    class Holder:
        pass

    holder = Holder()
    logs = keras_module._t2k_logs(holder, {"features": 4, "flag": True, "loss": keras.ops.ones(())})
    assert holder._t2k_log_types == {"features": int, "flag": bool, "loss": float} and set(logs) == {
        "features", "flag", "loss"}
