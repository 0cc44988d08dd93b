"""Issue 7, data: the runtime's DataLoader, TensorDataset, Subset, random_split and
default collate (emit/runtime/layers.py) against torch.utils.data.

Without shuffling the batches are PyTorch's, value for value and dtype for dtype
(Python floats collate to float64, ints to int64, as torch tensors do); with it,
each epoch holds the same samples in another order (numpy's generator, not torch's).
"""

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

RUNTIME_PATH = Path(__file__).resolve().parents[2] / "src" / "torch2keras" / "emit" / "runtime" / "layers.py"
_spec = importlib.util.spec_from_file_location("t2k_runtime_data", RUNTIME_PATH)
runtime = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runtime)

rng = np.random.default_rng(0)
X = rng.normal(size=(23, 3, 4)).astype("float32")
Y = rng.integers(0, 5, size=23).astype("int64")


class Samples(Dataset):
    """Samples of every kind default_collate handles."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"image": X[i], "label": int(Y[i]), "weight": 0.5 * i, "name": f"s{i}", "pair": (X[i, 0], i % 2 == 0)}


def flatten(batch):
    if isinstance(batch, dict):
        return [v for k in sorted(batch) for v in flatten(batch[k])]
    if isinstance(batch, (tuple, list)) and not (batch and isinstance(batch[0], str)):
        return [v for item in batch for v in flatten(item)]
    if isinstance(batch, list):  # strings
        return [batch]
    return [batch.numpy() if isinstance(batch, torch.Tensor) else np.asarray(batch)]


def assert_same_batches(torch_loader, keras_loader):
    torch_batches, keras_batches = list(torch_loader), list(keras_loader)
    assert len(keras_loader) == len(torch_loader) == len(torch_batches) == len(keras_batches)
    for t, k in zip(torch_batches, keras_batches):
        for a, b in zip(flatten(t), flatten(k), strict=True):
            if isinstance(a, list):
                assert a == b
            else:
                assert b.dtype == a.dtype and b.shape == a.shape
                np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("batch_size, drop_last", [(5, False), (5, True), (1, False), (23, False), (30, True)])
def test_tensor_dataset_batches(batch_size, drop_last):
    assert_same_batches(DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=batch_size,
                                   drop_last=drop_last),
                        runtime.PyTorchDataLoader(runtime.PyTorchTensorDataset(X, Y), batch_size=batch_size,
                                                  drop_last=drop_last))


def test_default_collate_of_every_kind():
    assert_same_batches(DataLoader(Samples(), batch_size=4), runtime.PyTorchDataLoader(Samples(), batch_size=4))


def test_subset_and_collate_fn():
    def pad(samples):  # a collate_fn: variable-length rows padded to the longest
        longest = max(len(s) for s in samples)
        return np.stack([np.pad(s, (0, longest - len(s))) for s in samples])

    rows = [np.arange(n, dtype="float32") for n in (3, 1, 4, 2, 5)]
    torch_loader = DataLoader(Subset(rows, [4, 0, 2, 1]), batch_size=2, collate_fn=pad)
    keras_loader = runtime.PyTorchDataLoader(runtime.PyTorchSubset(rows, [4, 0, 2, 1]), batch_size=2,
                                             collate_fn=pad)
    for t, k in zip(torch_loader, keras_loader, strict=True):
        np.testing.assert_array_equal(k, t)


def test_shuffle_reorders_each_epoch_and_keeps_the_samples():
    keras.utils.set_random_seed(3)
    loader = runtime.PyTorchDataLoader(runtime.PyTorchTensorDataset(X, Y), batch_size=4, shuffle=True)
    epochs = [np.concatenate([y for _, y in loader]) for _ in range(2)]
    for labels in epochs:
        np.testing.assert_array_equal(np.sort(labels), np.sort(Y))
    first = np.concatenate([x[:, 0, 0] for x, _ in loader])
    assert not np.array_equal(first, X[:, 0, 0])  # not the dataset's order
    keras.utils.set_random_seed(3)
    again = runtime.PyTorchDataLoader(runtime.PyTorchTensorDataset(X, Y), batch_size=4, shuffle=True)
    np.testing.assert_array_equal(np.concatenate([y for _, y in again]), epochs[0])  # seeded


def test_random_split_sizes():
    # PyTorch's sizes for fractions: the floors, then one more each from the first.
    for lengths in ([0.5, 0.3, 0.2], [10, 13], [0.7, 0.3]):
        expected = [len(s) for s in torch.utils.data.random_split(range(23), lengths)]
        got = runtime.pytorch_random_split(runtime.PyTorchTensorDataset(X, Y), lengths, seed=0)
        assert [len(s) for s in got] == expected
        items = sorted(int(i) for s in got for i in s.indices)
        assert items == list(range(23))


def test_fit_takes_the_loader():
    # Keras' fit reads batches from it as a PyDataset.
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(5)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(runtime.PyTorchDataLoader(runtime.PyTorchTensorDataset(X, Y), batch_size=8, shuffle=True),
                        epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_shuffled_batches_asked_from_several_threads_share_one_permutation():
    # Keras' workers (num_workers > 0) ask for the batches of an epoch from
    # several threads at once: they must all read one permutation.
    import time
    from concurrent.futures import ThreadPoolExecutor

    class Slow:
        def __len__(self):
            time.sleep(0.001)  # widens the window between "no permutation yet" and drawing one
            return 64

        def __getitem__(self, i):
            return np.array(i)

    loader = runtime.PyTorchDataLoader(Slow(), batch_size=8, shuffle=True, num_workers=4)
    with ThreadPoolExecutor(8) as pool:
        for _ in range(10):
            batches = list(pool.map(lambda i: loader[i], range(len(loader))))
            assert sorted(np.concatenate(batches).tolist()) == list(range(64))
            loader.on_epoch_end()
