"""Issue 7, training scripts: examples/mnist_train.py and examples/dcgan_train.py,
converted and run end to end under Keras (TensorFlow backend), against the
PyTorch scripts step for step.

Each script runs as written (its main()), on both sides, with three things made
equal that the two frameworks draw from different random generators: the models'
initial weights (the converted models are loaded from the PyTorch models'
state_dicts), the order of the batches (shuffle off: PyTorch's sampler draws from
torch's generator, the converted loader from numpy's) and, for the GAN, the
noise each step feeds the generator. The first 20 training losses then equal the
PyTorch script's within 1e-5 relative.
"""

from pathlib import Path

import keras
import numpy as np
import pytest
import torch
import torch2keras
from harness import convert, load_module, same_noise

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name):
    source = (EXAMPLES / name).read_text()
    result = torch2keras.convert(source, filename=name)
    # The examples convert cleanly: no error, no warning, no note.
    assert result.diagnostics == [], [d.rendered for d in result.diagnostics]
    stem = name[:-3]
    return load_module(source, f"torch_{stem}"), load_module(convert(source, "channels_last"), f"keras_{stem}")


def twins(monkeypatch, torch_module, keras_module, cls, input_shape):
    """Patches both modules' `cls` to give one model each, the Keras one with the
    PyTorch one's weights; returns them."""
    torch_model = getattr(torch_module, cls)()
    keras_model = getattr(keras_module, cls)()
    keras_model(np.zeros(input_shape, "float32"))
    keras_module.load_torch_state_dict(keras_model, torch_model.state_dict())
    monkeypatch.setattr(torch_module, cls, lambda *args, **kwargs: torch_model)
    monkeypatch.setattr(keras_module, cls, lambda *args, **kwargs: keras_model)
    return torch_model, keras_model


def in_order(monkeypatch, torch_module, keras_module):
    """Both scripts' DataLoaders without shuffling."""
    torch_loader, keras_loader = torch_module.DataLoader, keras_module.PyTorchDataLoader
    monkeypatch.setattr(torch_module, "DataLoader", lambda *a, **k: torch_loader(*a, **{**k, "shuffle": False}))
    monkeypatch.setattr(keras_module, "PyTorchDataLoader", lambda *a, **k: keras_loader(*a, **{**k, "shuffle": False}))


def test_mnist_script_trains_as_pytorch(monkeypatch, tmp_path):
    torch_module, keras_module = load_example("mnist_train.py")
    torch.manual_seed(1)
    torch_model, keras_model = twins(monkeypatch, torch_module, keras_module, "Net", (1, 1, 28, 28))
    in_order(monkeypatch, torch_module, keras_module)
    monkeypatch.chdir(tmp_path)

    torch_losses = np.array(torch_module.main(epochs=2))
    keras_losses = np.array(keras_module.main(epochs=2))

    assert len(keras_losses) == len(torch_losses) == 40  # 640 images, batches of 32, 2 epochs
    np.testing.assert_allclose(keras_losses[:20], torch_losses[:20], rtol=1e-5)
    np.testing.assert_allclose(keras_losses, torch_losses, rtol=1e-4)
    assert torch_losses[-1] < torch_losses[0] / 2  # it learned: a wrong step could not stand still
    # torch.save(model.state_dict(), "mnist_cnn.pt") became a Keras weights file,
    # which loads into a new model with the trained weights.
    assert (tmp_path / "mnist_cnn.pt").exists() and (tmp_path / "mnist_cnn.weights.h5").exists()
    images = np.random.default_rng(3).random((4, 1, 28, 28), dtype=np.float32)
    reloaded = type(keras_model)()
    reloaded(images)
    reloaded.load_weights(tmp_path / "mnist_cnn.weights.h5")
    torch_model.eval()
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(images)).numpy()
    # After 40 steps both models predict the same (eval mode: the running
    # statistics, BatchNorm's variance updated unbiased as PyTorch's), up to the
    # drift of the losses above.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(images, training=False)), expected,
                               rtol=1e-3, atol=1e-3)


def test_dcgan_script_trains_as_pytorch(monkeypatch, tmp_path):
    torch_module, keras_module = load_example("dcgan_train.py")
    # Two models, two optimizers, three backward() calls: not fit()'s compiled
    # loss, but an overridden train_step that fit() runs.
    code = convert((EXAMPLES / "dcgan_train.py").read_text(), "channels_last")
    assert "    class TrainStep(PyTorchTrainStep):\n" in code and "        trainer.fit(loader, epochs=1" in code
    torch.manual_seed(2)
    twins(monkeypatch, torch_module, keras_module, "Generator", (1, torch_module.NZ, 1, 1))
    twins(monkeypatch, torch_module, keras_module, "Discriminator", (1, 1, 16, 16))
    in_order(monkeypatch, torch_module, keras_module)
    # The same noise on both sides, step by step. The Keras loop is a train_step
    # that fit() traces once: its noise comes from variables (the next of the
    # arrays at each run of the step), not from Python.
    noise = [np.random.default_rng(i).normal(size=(32, torch_module.NZ, 1, 1)).astype("float32") for i in range(20)]
    drawn = same_noise(monkeypatch, noise)
    monkeypatch.chdir(tmp_path)

    torch_history = np.array(torch_module.main(epochs=2))
    keras_history = np.array(keras_module.main(epochs=2))

    assert torch_history.shape == keras_history.shape == (20, 2)  # 320 images, batches of 32, 2 epochs
    # Float32 rounding differs between the frameworks' kernels by ~1e-7 per op; the
    # two Adam-driven networks, each training on the other's output, carry it on at
    # about 5e-7 relative per step (measured: 1.3e-7 at step 1, 1.1e-5 at step 19),
    # where a wrong rule (the loss, Adam's update, gradients accumulated over the
    # discriminator's two backward() calls) is off by far more from the first steps.
    np.testing.assert_allclose(keras_history[:15], torch_history[:15], rtol=1e-5)
    np.testing.assert_allclose(keras_history, torch_history, rtol=2e-5)
    assert int(drawn.numpy()) == 20  # one draw a step: the step ran (compiled) for each batch
    assert torch_history[-1, 0] < torch_history[0, 0]  # the discriminator learned
    assert (tmp_path / "generator.weights.h5").exists()


@pytest.mark.parametrize("name", ["mnist_train.py", "dcgan_train.py"])
def test_converted_example_runs_as_a_script(monkeypatch, tmp_path, capsys, name):
    # Run as it is, the converted script's models are built by their first call,
    # inside fit()'s compiled step: a flatten before a Dense must keep its size
    # static there (pytorch_flatten), and so on for what the step builds.
    code = convert((EXAMPLES / name).read_text(), "channels_last")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(compile(code, name, "exec"), namespace)
    printed = capsys.readouterr().out
    assert printed.count("epoch ") == (3 if name == "mnist_train.py" else 2), printed
