"""Issue 7, transforms: the runtime's torchvision transforms (emit/runtime/layers.py)
against torchvision's, on the same PIL images and arrays.

Deterministic transforms give torchvision's values (ToTensor's HWC -> CHW and /255,
Normalize, CenterCrop with its rounding and padding, Resize of PIL images by PIL);
random ones are checked where they are determined (p = 0 or 1, a crop as large as
the padded image) and, where not, for what every draw must satisfy.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

RUNTIME_PATH = Path(__file__).resolve().parents[2] / "src" / "torch2keras" / "emit" / "runtime" / "layers.py"
_spec = importlib.util.spec_from_file_location("t2k_runtime_transforms", RUNTIME_PATH)
runtime = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runtime)

rng = np.random.default_rng(0)
RGB = rng.integers(0, 256, size=(13, 18, 3), dtype=np.uint8)
GRAY = rng.integers(0, 256, size=(9, 7), dtype=np.uint8)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.numpy()
    return np.asarray(x)


def assert_same(torch_out, keras_out):
    a, b = as_numpy(torch_out), as_numpy(keras_out)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("image", [Image.fromarray(RGB), Image.fromarray(GRAY), RGB, RGB.astype("float32") / 7])
def test_to_tensor(image):
    assert_same(T.ToTensor()(image), runtime.PyTorchToTensor()(image))


def test_imagenet_pipeline_on_a_pil_image():
    torch_pipeline = T.Compose([T.Resize(11), T.CenterCrop(9), T.ToTensor(), T.Normalize(MEAN, STD)])
    keras_pipeline = runtime.PyTorchCompose([runtime.PyTorchResize(11), runtime.PyTorchCenterCrop(9),
                                             runtime.PyTorchToTensor(), runtime.PyTorchNormalize(MEAN, STD)])
    assert_same(torch_pipeline(Image.fromarray(RGB)), keras_pipeline(Image.fromarray(RGB)))


@pytest.mark.parametrize("size", [10, (6, 11), (13, 18), (16, 21), (4, 20), 1])
def test_center_crop_arrays_and_images(size):
    chw = torch.from_numpy(RGB.transpose(2, 0, 1).copy())
    assert_same(T.CenterCrop(size)(chw), runtime.PyTorchCenterCrop(size)(chw.numpy()))
    assert_same(T.CenterCrop(size)(Image.fromarray(RGB)), runtime.PyTorchCenterCrop(size)(Image.fromarray(RGB)))


@pytest.mark.parametrize("size, max_size", [(9, None), ((7, 20), None), (12, 14), ([5], None)])
def test_resize_pil(size, max_size):
    for image in (Image.fromarray(RGB), Image.fromarray(GRAY)):
        assert_same(T.Resize(size, max_size=max_size)(image), runtime.PyTorchResize(size, max_size=max_size)(image))


def test_resize_array_is_close():
    chw = RGB.transpose(2, 0, 1).astype("float32") / 255
    expected = T.Resize((7, 9))(torch.from_numpy(chw)).numpy()
    got = runtime.PyTorchResize((7, 9))(chw)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=0.03)


def test_horizontal_flip_when_certain():
    chw = RGB.transpose(2, 0, 1).copy()
    for p in (0.0, 1.0):
        assert_same(T.RandomHorizontalFlip(p)(torch.from_numpy(chw)), runtime.PyTorchRandomHorizontalFlip(p)(chw))
        assert_same(T.RandomHorizontalFlip(p)(Image.fromarray(RGB)),
                    runtime.PyTorchRandomHorizontalFlip(p)(Image.fromarray(RGB)))


@pytest.mark.parametrize("padding, mode", [(2, "constant"), ((1, 3), "edge"), ((1, 2, 3, 4), "reflect"),
                                           (2, "symmetric")])
def test_random_crop(padding, mode):
    chw = RGB.transpose(2, 0, 1).copy()
    padded = T.Pad(padding, padding_mode=mode)(torch.from_numpy(chw)).numpy()
    h, w = padded.shape[1:]
    # As large as the padded image: no choice left, PyTorch's padding exactly.
    assert_same(padded, runtime.PyTorchRandomCrop((h, w), padding=padding, padding_mode=mode)(chw))
    # Smaller: some window of the padded image.
    out = runtime.PyTorchRandomCrop((h - 3, w - 2), padding=padding, padding_mode=mode)(chw)
    windows = [padded[:, i:i + h - 3, j:j + w - 2] for i in range(4) for j in range(3)]
    assert any(np.array_equal(out, window) for window in windows)


def test_random_crop_pads_if_needed():
    # torchvision pads each side of a short axis by the shortfall, then crops.
    small = RGB[:5, :6].transpose(2, 0, 1).copy()
    padded = T.Pad((14 - 6, 9 - 5), fill=3)(torch.from_numpy(small)).numpy()
    out = runtime.PyTorchRandomCrop((9, 14), pad_if_needed=True, fill=3)(small)
    windows = [padded[:, i:i + 9, j:j + 14] for i in range(padded.shape[1] - 8) for j in range(padded.shape[2] - 13)]
    assert any(np.array_equal(out, window) for window in windows)


def test_random_resized_crop_window_and_resize():
    # A given window, resized: torchvision's resized_crop (PIL by PIL), exactly.
    crop = runtime.PyTorchRandomResizedCrop((7, 9))
    for top, left, h, w in [(0, 0, 13, 18), (2, 3, 8, 10), (5, 1, 6, 4)]:
        assert_same(T.functional.resized_crop(Image.fromarray(RGB), top, left, h, w, [7, 9]),
                    crop.resized_crop(Image.fromarray(RGB), top, left, h, w))
    # Where the draw is determined (the whole area, a ratio the image cannot have):
    # torchvision's fallback window, the centred one of the nearest ratio.
    torch_crop = T.RandomResizedCrop((7, 9), scale=(1.0, 1.0), ratio=(3.0, 4.0))
    keras_crop = runtime.PyTorchRandomResizedCrop((7, 9), scale=(1.0, 1.0), ratio=(3.0, 4.0))
    assert tuple(torch_crop.get_params(Image.fromarray(RGB), (1.0, 1.0), (3.0, 4.0))) == keras_crop.get_params(13, 18)
    assert_same(torch_crop(Image.fromarray(RGB)), keras_crop(Image.fromarray(RGB)))
    # Any draw: a window inside the image, within the area and ratio bounds when tries succeed.
    for _ in range(50):
        top, left, h, w = runtime.PyTorchRandomResizedCrop(5).get_params(13, 18)
        assert 0 <= top and top + h <= 13 and 0 <= left and left + w <= 18 and h > 0 and w > 0


@pytest.mark.parametrize("which, factor", [(0, 0.6), (0, 1.4), (1, 0.5), (1, 1.7), (2, 0.3), (2, 1.8),
                                           (3, 0.12), (3, -0.3)])
def test_color_jitter_adjustments(which, factor):
    # Each adjustment with a given factor, on a PIL image and on tensors (uint8 and float).
    adjust = [T.functional.adjust_brightness, T.functional.adjust_contrast, T.functional.adjust_saturation,
              T.functional.adjust_hue][which]
    assert_same(adjust(Image.fromarray(RGB), factor), runtime.PyTorchColorJitter.adjust(Image.fromarray(RGB), which,
                                                                                      factor))
    chw = torch.from_numpy(RGB.transpose(2, 0, 1).copy())
    for tensor in (chw, chw.float() / 255):
        expected = adjust(tensor, factor).numpy()
        got = runtime.PyTorchColorJitter.adjust(tensor.numpy(), which, factor)
        assert got.dtype == expected.dtype
        if expected.dtype == np.uint8:  # float rounding may move a value across .5
            assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
        else:
            np.testing.assert_allclose(got, expected, atol=2e-6)


def test_color_jitter_draws_within_its_ranges():
    jitter = runtime.PyTorchColorJitter(brightness=0.4, contrast=(0.5, 0.9), saturation=0, hue=0.1)
    assert jitter.brightness == (0.6, 1.4) and jitter.contrast == (0.5, 0.9) and jitter.saturation is None
    assert jitter.hue == (-0.1, 0.1)
    torch_ranges = T.ColorJitter(brightness=0.4, contrast=(0.5, 0.9), saturation=0, hue=0.1)
    assert tuple(torch_ranges.brightness) == jitter.brightness and torch_ranges.saturation is None
    out = jitter(Image.fromarray(RGB))
    assert out.size == (18, 13) and out.mode == "RGB"
