"""Issue 4, custom layers: user modules holding nn.Parameter and register_buffer
tensors (persistent and not) become Keras layers with add_weight (trainable /
non-trainable), created with the right shape and initial value and mapped by
load_torch_state_dict; parameters and buffers are randomised by the harness."""

from pathlib import Path

import numpy as np
import pytest

from harness import check, convert, load_module

LAYOUTS = ["channels_last", "channels_first"]
SOURCE = (Path(__file__).resolve().parents[1] / "golden" / "custom_layer" / "input.py").read_text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_custom_layer_matches_pytorch(layout):
    check(SOURCE, "Net()", [(2, 3, 7, 9)], layout=layout)


def test_custom_layer_weights_have_pytorch_shapes_values_and_trainability():
    keras_ns = load_module(convert(SOURCE, "channels_last"), "keras_custom")
    layer = keras_ns.ScaleShift(8, tokens=5, dim=6)
    weights = {w.path.split("/")[-1]: w for w in layer.weights}
    assert len(layer.trainable_weights) == 3 and len(layer.non_trainable_weights) == 1
    assert tuple(layer.pos.shape) == (1, 5, 6)  # torch.zeros(1, tokens, dim)
    np.testing.assert_array_equal(np.asarray(layer.gamma), np.ones(8))
    np.testing.assert_array_equal(np.asarray(layer.running_mean), np.zeros(8))
    assert not any(w is layer.running_mean for w in layer.trainable_weights)
    # A non-persistent buffer is not a weight (it is not in the state_dict) but keeps
    # its constructor value.
    np.testing.assert_array_equal(np.asarray(layer.two), np.full(8, 2.0))
    assert len(weights) == 4
