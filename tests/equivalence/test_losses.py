"""Issue 7, losses: each torch.nn loss module and its functional form, with every
option, against real PyTorch (harness.check_calls: eagerly and inside tf.function).

The values are PyTorch's, not Keras' (pitfalls P51, P52): a weighted mean divides
by the summed class weights of the targets, ignored targets are not counted, BCE
clamps its logs at -100, SmoothL1 is not Keras' Huber, KLDiv's "mean" averages
every element. Inputs include ignored indices, saturated probabilities and both
target signs, so a wrong rule shows.
"""

import numpy as np
import pytest
from harness import assert_conversion_error, check_calls, convert, flat

TEMPLATE = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.loss = {module}

    def forward(self, {params}):
        return self.loss({params}), {functional}
"""

rng = np.random.default_rng(0)


def classes(shape=(6, 4)):
    """Logits (N, C[, d]) and class indices with some equal to 2 (an ignore_index below)."""
    logits = rng.normal(size=shape).astype("float32") * 2
    target = rng.integers(0, shape[1], size=(shape[0],) + shape[2:]).astype("int64")
    target.flat[::3] = 2
    return logits, target


def probabilities(shape=(6, 4)):
    logits = rng.normal(size=shape).astype("float32")
    p = rng.random(shape).astype("float32")
    return logits, p / p.sum(axis=1, keepdims=True)


def binary(shape=(6, 3)):
    # Saturated probabilities too: PyTorch clamps the log at -100, Keras clips at 1e-7.
    p = rng.random(shape).astype("float32")
    p.flat[:3] = [1.0, 0.0, 0.9999999]
    y = (rng.random(shape) > 0.5).astype("float32")
    y.flat[:3] = [0.0, 1.0, 0.0]
    return p, y


def logits_binary(shape=(6, 3)):
    x = rng.normal(size=shape).astype("float32") * 4
    return x, (rng.random(shape) > 0.5).astype("float32")


def regression(shape=(6, 3)):
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")


def kl(shape=(6, 4)):
    x = rng.normal(size=shape).astype("float32")
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    q = rng.random(shape).astype("float32")
    q[0, 0] = 0.0  # a zero target adds nothing (PyTorch's xlogy)
    return log_p.astype("float32"), q / q.sum(axis=1, keepdims=True)


def cosine(shape=(6, 5)):
    y = np.where(rng.random(shape[0]) > 0.5, 1, -1).astype("int64")
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32"), y


W4 = "torch.tensor([1.0, 2.0, 0.5, 3.0])"
CASES = [
    # (module, functional form, inputs)
    ("nn.CrossEntropyLoss()", "F.cross_entropy(input, target)", classes),
    (f"nn.CrossEntropyLoss(weight={W4}, ignore_index=2)",
     f"F.cross_entropy(input, target, {W4}, ignore_index=2, reduction='sum')", classes),
    (f"nn.CrossEntropyLoss(weight={W4}, label_smoothing=0.2)",
     f"F.cross_entropy(input, target, weight={W4}, ignore_index=2, label_smoothing=0.1, reduction='none')",
     classes),
    ("nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.3, reduction='sum')",
     "F.cross_entropy(input, target, ignore_index=2, label_smoothing=0.3)", classes),
    # Classes on axis 1 of (N, C, d): segmentation-style.
    (f"nn.CrossEntropyLoss(weight={W4}, ignore_index=2, label_smoothing=0.1)",
     "F.cross_entropy(input, target, reduction='none')", lambda: classes((3, 4, 5))),
    # Probability targets: weights scale classes, "mean" divides by N.
    (f"nn.CrossEntropyLoss(weight={W4})", "F.cross_entropy(input, target, label_smoothing=0.2)", probabilities),
    (f"nn.NLLLoss(weight={W4}, ignore_index=2)", "F.nll_loss(input.log_softmax(1), target, reduction='none')",
     classes),
    ("nn.NLLLoss(reduction='sum')", f"F.nll_loss(input, target, weight={W4})", classes),
    ("nn.BCELoss()", "F.binary_cross_entropy(input, target, reduction='sum')", binary),
    ("nn.BCELoss(weight=torch.tensor([1.0, 0.5, 2.0]), reduction='none')",
     "F.binary_cross_entropy(input, target, weight=torch.tensor([2.0, 1.0, 0.5]))", binary),
    ("nn.BCEWithLogitsLoss()", "F.binary_cross_entropy_with_logits(input, target, reduction='none')",
     logits_binary),
    ("nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0, 1.0, 0.5]), weight=torch.tensor([1.0, 2.0, 1.0]))",
     "F.binary_cross_entropy_with_logits(input, target, pos_weight=torch.tensor([0.5, 2.0, 4.0]))",
     logits_binary),
    ("nn.MSELoss()", "F.mse_loss(input, target, reduction='sum')", regression),
    ("nn.MSELoss(reduction='none')", "F.mse_loss(input, target)", regression),
    ("nn.L1Loss()", "F.l1_loss(input, target, reduction='none')", regression),
    ("nn.SmoothL1Loss()", "F.smooth_l1_loss(input, target, beta=0.5)", regression),
    ("nn.SmoothL1Loss(beta=2.0, reduction='sum')", "F.smooth_l1_loss(input, target, beta=0.0)", regression),
    ("nn.HuberLoss(delta=0.5)", "F.huber_loss(input, target, reduction='none', delta=2.0)", regression),
    ("nn.KLDivLoss(reduction='batchmean')", "F.kl_div(input, target)", kl),
    ("nn.KLDivLoss(reduction='sum', log_target=True)", "F.kl_div(input, target.log(), reduction='none', log_target=True)",
     kl),
]


@pytest.mark.parametrize("module, functional, make", CASES, ids=[c[0] + " | " + c[1] for c in CASES])
def test_loss_matches_pytorch(module, functional, make):
    source = TEMPLATE.format(module=module, params="input, target", functional=functional)
    check_calls(source, "Net()", [(make(), {})])


def test_loss_modules_called_by_keyword():
    # PyTorch's forward(input, target) called as loss(input=..., target=...).
    source = TEMPLATE.replace("self.loss({params})", "self.loss(input={params_a}, target={params_b})").format(
        module="nn.CrossEntropyLoss(label_smoothing=0.1)", params="input, target", params_a="input",
        params_b="target", functional="F.cross_entropy(input=input, target=target)")
    check_calls(source, "Net()", [(classes(), {})])
    source = TEMPLATE.replace("self.loss({params})", "self.loss(input1, input2, target=target)").format(
        module="nn.CosineEmbeddingLoss(margin=0.2)", params="input1, input2, target",
        functional="F.cosine_embedding_loss(input1, input2, target=target)")
    check_calls(source, "Net()", [(cosine(), {})])


def test_cosine_embedding_loss():
    source = TEMPLATE.format(module="nn.CosineEmbeddingLoss(margin=0.2)", params="input1, input2, target",
                             functional="F.cosine_embedding_loss(input1, input2, target, reduction='none')")
    check_calls(source, "Net()", [(cosine(), {})])


def test_pitfall_examples():
    # P51: logits [[2, 1, 0]] twice, target 0 and 1, weights [2, 4, 6]: the mean
    # divides by 2 + 4, not by 2. P52: saturated probabilities cost up to 100 each.
    source = TEMPLATE.format(module="nn.CrossEntropyLoss(weight=torch.tensor([2.0, 4.0, 6.0]))",
                             params="input, target", functional="F.cross_entropy(input, target)")
    logits = np.array([[2.0, 1.0, 0.0], [2.0, 1.0, 0.0]], "float32")
    check_calls(source, "Net()", [((logits, np.array([0, 1], "int64")), {})])
    source = TEMPLATE.format(module="nn.BCELoss(reduction='none')", params="input, target",
                             functional="F.binary_cross_entropy(input, target)")
    p = np.array([0.9999999, 0.9999999, 1e-7, 0.0], "float32")
    check_calls(source, "Net()", [((p, np.array([0.0, 1.0, 0.0, 1.0], "float32")), {})])


# A loss of logits from a convolution: channels-last inside, the loss in PyTorch's
# axis order (classes on axis 1), the class weights a buffer in the state_dict.
SEGMENTATION = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.criterion = nn.CrossEntropyLoss(weight=torch.ones(4), ignore_index=2)

    def forward(self, x, target):
        logits = self.conv(x)
        return self.criterion(logits, target), F.cross_entropy(logits, target, reduction="none")
"""


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_loss_of_a_convolution_with_weights_from_the_state_dict(layout):
    code = flat(convert(SEGMENTATION, layout))
    assert "self.criterion = PyTorchLoss(pytorch_cross_entropy, weight=ops.ones(" in code
    assert "ignore_index=2)" in code
    x = rng.normal(size=(2, 3, 5, 6)).astype("float32")
    target = rng.integers(0, 4, size=(2, 5, 6)).astype("int64")
    # randomize() gives the `criterion.weight` buffer random values: the loader must load them.
    check_calls(SEGMENTATION, "Net()", [((x, target), {})], layout=layout)


def test_deprecated_reduction_arguments_are_errors():
    assert_conversion_error(TEMPLATE.format(module="nn.MSELoss(size_average=False)", params="input, target",
                                            functional="0"),
                            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
