#!/usr/bin/env python3
"""The torchvision CNN zoo: convert each model from torchvision's installed source,
verify it against PyTorch, and time both on the CPU. Prints one table row per model
and layout:

    model  layout  converted?  max error  transposes (keras io / torch io)  convert ms  keras ms  torch ms  keras/torch

* converted?: the conversion had no errors and the Keras outputs match PyTorch's at
  atol = rtol = 1e-4 (torch2keras.verify.verify, parameters and buffers randomised,
  one trial, batch 1, 224x224 or 299x299 for inception_v3), converted with
  --io-layout torch and with --io-layout keras;
* max error: the largest |keras - torch| over the outputs;
* transposes: Transpose operations in the Keras model's compiled graph (tf.function,
  nested function graphs included), Keras' own included: with --io-layout keras (the
  model takes channels-last images: issue 5's goal is 0) / with --io-layout torch
  (PyTorch-shaped inputs and outputs: at best one per image input and output);
* convert ms: torch2keras.convert on the model's file (the C++ engine, best of 3);
* keras ms / torch ms: median CPU inference time at batch 1, the Keras model inside
  tf.function (TensorFlow backend), the PyTorch model in eval mode under no_grad.

Each model runs in a worker subprocess (torch, torchvision and TensorFlow in one
process, one model at a time). Needs torch==2.14.1, torchvision==0.29.1, keras and
tensorflow-cpu (the test venv has them):

    ~/.cache/torch2keras/venv-py311/bin/python bench/zoo.py [--models a,b] [--layouts channels_last]
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# (name, file under torchvision/models, constructor expression, image size)
ZOO = [
    ("alexnet", "alexnet.py", "AlexNet()", 224),
    ("vgg11_bn", "vgg.py", "VGG(make_layers(cfgs['A'], batch_norm=True))", 224),
    ("resnet18", "resnet.py", "ResNet(BasicBlock, [2, 2, 2, 2])", 224),
    ("resnet50", "resnet.py", "ResNet(Bottleneck, [3, 4, 6, 3])", 224),
    ("resnext50_32x4d", "resnet.py", "ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4)", 224),
    ("wide_resnet50_2", "resnet.py", "ResNet(Bottleneck, [3, 4, 6, 3], width_per_group=128)", 224),
    ("squeezenet1_1", "squeezenet.py", "SqueezeNet('1_1')", 224),
    ("densenet121", "densenet.py", "DenseNet(32, (6, 12, 24, 16), 64)", 224),
    ("shufflenet_v2_x1_0", "shufflenetv2.py", "ShuffleNetV2([4, 8, 4], [24, 116, 232, 464, 1024])", 224),
    ("mnasnet1_0", "mnasnet.py", "MNASNet(1.0)", 224),
    ("mobilenet_v2", "mobilenetv2.py", "MobileNetV2()", 224),
    ("mobilenet_v3_small", "mobilenetv3.py", "MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_small'))", 224),
    ("efficientnet_b0", "efficientnet.py",
     "EfficientNet(_efficientnet_conf('efficientnet_b0', width_mult=1.0, depth_mult=1.0)[0], 0.2)", 224),
    # BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8,
    # se_ratio=0.25) computes these with torch (left out of the Keras module).
    ("regnet_y_400mf", "regnet.py",
     "RegNet(BlockParams([1, 3, 6, 6], [48, 104, 208, 440], [8, 8, 8, 8], [1.0, 1.0, 1.0, 1.0], [2, 2, 2, 2], 0.25))",
     224),
    ("convnext_tiny", "convnext.py",
     "ConvNeXt([CNBlockConfig(96, 192, 3), CNBlockConfig(192, 384, 3), CNBlockConfig(384, 768, 9), "
     "CNBlockConfig(768, None, 3)], stochastic_depth_prob=0.1)", 224),
    ("googlenet", "googlenet.py", "GoogLeNet(aux_logits=False, init_weights=False)", 224),
    ("inception_v3", "inception.py", "Inception3(aux_logits=False, init_weights=False)", 299),
    # vit_b_16's configuration (torchvision.models.vit_b_16 passes these).
    ("vit_b_16", "vision_transformer.py",
     "VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, "
     "mlp_dim=3072)", 224),
    # swin_t's configuration (torchvision.models.swin_t passes these).
    ("swin_t", "swin_transformer.py",
     "SwinTransformer(patch_size=[4, 4], embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], "
     "window_size=[7, 7], stochastic_depth_prob=0.2)", 224),
]
LAYOUTS = ("channels_last", "channels_first")


def torchvision_models_dir() -> Path:
    """torchvision/models of the installed package, found without importing it."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        sys.exit("bench/zoo.py needs torchvision installed (pip install torchvision==0.29.1)")
    return Path(spec.origin).parent / "models"


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up (tracing, allocation)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2]


def worker(name: str, layout: str, runs: int, io_layout: str = "torch") -> dict:
    """One model in one layout; returns the table row as a dict. With
    io_layout="keras" only the verification and the transpose count."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import numpy as np
    import torch

    import torch2keras
    from torch2keras import verify as v

    _, file, expr, size = next(z for z in ZOO if z[0] == name)
    path = torchvision_models_dir() / file
    row = {"model": name, "layout": layout, "converted": False, "max_error": None, "transposes": None,
           "convert_ms": None, "keras_ms": None, "torch_ms": None, "error": ""}
    data = path.read_bytes()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = torch2keras.convert(data, filename=str(path), layout=layout, io_layout=io_layout)
        best = min(best, time.perf_counter() - start)
    row["convert_ms"] = best * 1e3
    if not result.ok:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        row["error"] = f"{len(errors)} conversion errors; first: {errors[0].message if errors else '?'}"
        return row
    shape = (1, 3, size, size)
    report = v.verify(path, expr, [shape], layout=layout, io_layout=io_layout, trials=1, return_models=True)
    if report.outputs:
        row["max_error"] = max(o.max_abs for o in report.outputs)
    row["converted"] = report.ok
    if report.error:
        row["error"] = report.error.strip().splitlines()[-1]
        return row

    import tensorflow as tf

    torch_model, keras_model = report.torch_model, report.keras_model
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    compiled = tf.function(lambda t: keras_model(t, training=False))
    xt = tf.constant(x if io_layout == "torch" else np.moveaxis(x, 1, -1))
    row["transposes"] = transpose_count(compiled.get_concrete_function(xt).graph)
    if io_layout == "keras":
        return row
    row["keras_ms"] = median_ms(lambda: compiled(xt).numpy(), runs)
    xp = torch.from_numpy(x)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    def run_torch():
        with torch.no_grad():
            torch_model(xp)

    row["torch_ms"] = median_ms(run_torch, runs)
    return row


def transpose_count(graph) -> int:
    """Transpose operations in a tf.Graph and the function graphs it calls."""
    count = 0
    seen = set()
    stack = [graph]
    while stack:
        g = stack.pop()
        for op in g.get_operations():
            count += op.type == "Transpose"
        for name, fn in getattr(g, "_functions", {}).items():
            if name not in seen and hasattr(fn, "graph"):
                seen.add(name)
                stack.append(fn.graph)
    return count


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="", help="comma-separated names (default: all)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--runs", type=int, default=10, help="timed inference runs per model")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--worker", nargs=3, metavar=("MODEL", "LAYOUT", "IO_LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print("ZOO-ROW " + json.dumps(worker(args.worker[0], args.worker[1], args.runs, args.worker[2])),
              flush=True)
        return 0

    names = [n for n in args.models.split(",") if n] or [z[0] for z in ZOO]
    unknown = set(names) - {z[0] for z in ZOO}
    if unknown:
        parser.error(f"unknown models: {', '.join(sorted(unknown))}")
    layouts = [lay for lay in args.layouts.split(",") if lay]
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    header = ("model", "layout", "converted?", "max error", "transposes", "convert ms", "keras ms",
              "torch ms", "keras/torch")
    widths = (20, 14, 10, 10, 10, 10, 9, 9, 11)
    print("transposes: in the compiled graph with --io-layout keras / --io-layout torch", flush=True)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)), flush=True)

    def run_worker(name, layout, io_layout):
        # One process per model and io layout (torchvision registers its models
        # once per process).
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", name, layout, io_layout, "--runs", str(args.runs)],
            capture_output=True, text=True, env=env)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("ZOO-ROW ")), None)
        if line is not None:
            return json.loads(line[len("ZOO-ROW "):])
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"model": name, "layout": layout, "converted": False, "max_error": None,
                "transposes": None, "convert_ms": None, "keras_ms": None, "torch_ms": None,
                "error": f"worker exited with {proc.returncode}: {tail}"}

    rows = []
    for name in names:
        for layout in layouts:
            row = run_worker(name, layout, "torch")
            keras_io = run_worker(name, layout, "keras")
            row["transposes_keras_io"] = keras_io["transposes"]
            row["converted"] = row["converted"] and keras_io["converted"]
            if keras_io["max_error"] is not None:
                row["max_error"] = max(row["max_error"] or 0.0, keras_io["max_error"])
            if keras_io["error"] and not row["error"]:
                row["error"] = "io-layout keras: " + keras_io["error"]
            rows.append(row)
            ratio = (row["keras_ms"] / row["torch_ms"]) if row["keras_ms"] and row["torch_ms"] else None
            cells = (name, layout, "yes" if row["converted"] else "no", fmt(row["max_error"], ".2e"),
                     f"{fmt(row['transposes_keras_io'], 'd')} / {fmt(row['transposes'], 'd')}",
                     fmt(row["convert_ms"], ".1f"), fmt(row["keras_ms"], ".1f"), fmt(row["torch_ms"], ".1f"),
                     fmt(ratio, ".2f"))
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
                  + (f"  ({row['error']})" if row["error"] else ""), flush=True)
    converted = sum(r["converted"] for r in rows)
    print(f"\n{converted}/{len(rows)} model/layout pairs convert and verify at 1e-4")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if converted == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
