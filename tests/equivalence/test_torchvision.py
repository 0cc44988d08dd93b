"""torchvision's own model files convert and verify (issue 3, "real input").

The installed torchvision 0.29 sources are converted as they are (never copied
into this repository), including the definitions they import from the rest of
the package (ops/misc.py for MobileNetV2). `torch2keras verify` runs in a
subprocess: it imports torch, torchvision and TensorFlow together, which is
kept out of the pytest process. A fast subset runs here; bench/zoo runs all.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Located, not imported: importing torchvision next to TensorFlow in the pytest
# process crashes it (TF 2.21 + torch 2.14 extension clash), so only the
# subprocess imports it.
_SPEC = importlib.util.find_spec("torchvision")
if _SPEC is None or not _SPEC.submodule_search_locations:
    pytest.skip("torchvision is not installed", allow_module_level=True)
MODELS = Path(list(_SPEC.submodule_search_locations)[0]) / "models"

CASES = [
    ("resnet.py", "ResNet(BasicBlock, [2, 2, 2, 2])", "channels_last"),  # resnet18
    ("squeezenet.py", "SqueezeNet('1_1')", "channels_first"),
    ("mobilenetv2.py", "MobileNetV2()", "channels_last"),  # pulls ops/misc.py in
    # setattr stages, a channel shuffle function, empty Sequential branches.
    ("shufflenetv2.py", "ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024])", "channels_last"),
    # SqueezeExcitation imported under an alias, class-valued partials, Hardswish.
    ("mobilenetv3.py", "MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_small'))", "channels_first"),
    # Block classes from a list, **kwargs into nn.Conv2d, ceil_mode pooling.
    ("googlenet.py", "GoogLeNet(aux_logits=False, init_weights=False)", "channels_first"),
    # A ModuleDict subclass fed lists of feature maps, Sequentials grown in a loop.
    ("densenet.py", "DenseNet(32, (6, 12, 24, 16), 64)", "channels_last"),
    # A subclass of nn.LayerNorm, nn.Parameter layer scales, Permute modules.
    ("convnext.py", "ConvNeXt([CNBlockConfig(96, 192, 3), CNBlockConfig(192, 384, 3), "
                    "CNBlockConfig(384, 768, 9), CNBlockConfig(768, None, 3)])", "channels_first"),
    # vit_b_16's configuration: a subclass of torchvision.ops.MLP given nn.GELU as a
    # class, initialisation blocks under isinstance tests, torch.empty(...).normal_().
    ("vision_transformer.py", "VisionTransformer(image_size=224, patch_size=16, num_layers=12, "
                              "num_heads=12, hidden_dim=768, mlp_dim=3072)", "channels_last"),
    # swin_t's configuration: Linear weights read by a function (F.linear), a
    # relative position index built with in-place item updates in __init__, an
    # integer buffer indexing a table, list parameters (`shift_size.copy()`).
    ("swin_transformer.py", "SwinTransformer(patch_size=[4, 4], embed_dim=96, depths=[2, 2, 6, 2], "
                            "num_heads=[3, 6, 12, 24], window_size=[7, 7], stochastic_depth_prob=0.2)",
     "channels_first"),
]


@pytest.mark.parametrize("file,expr,layout", CASES, ids=[c[0] for c in CASES])
def test_torchvision_model_verifies(file, expr, layout):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run(
        [sys.executable, "-m", "torch2keras", "verify", str(MODELS / file), "--model", expr,
         "--input-shape", "1,3,224,224", "--layout", layout, "--trials", "1", "--compiled"],
        capture_output=True, text=True, env=env, timeout=900)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "OK" in report
