#!/usr/bin/env python3
"""Inference speed of converted models against keras.applications and PyTorch.

For resnet50, mobilenet_v2 and densenet121, converted from torchvision's installed
source, and resnet50_v1 (bench/models/resnet50_v1.py: keras.applications' ResNet50
architecture written in PyTorch, since torchvision's is v1.5), one process per model
times on the CPU, at batch 1 and batch 8:

* converted CL: the torch2keras model, --layout channels_last --io-layout keras
  (verified against PyTorch at 1e-4 first, weights loaded from the state_dict);
* converted CF: the same model converted with --layout channels_first (NCHW);
* keras.applications: ResNet50 / MobileNetV2 / DenseNet121 (weights=None), the same
  architectures written by the Keras team, channels-last;
* torch: the PyTorch model, eval mode, under no_grad.

Every Keras model runs inside tf.function (TensorFlow backend). The Keras variants
are timed round-robin (one call of each in turn, each round starting with another
one, `--runs` rounds after two warm-up calls) so that load changes hit all of them
alike; PyTorch is timed after them (its OpenMP threads spin on after a call and
would slow the next TensorFlow call). The table prints medians in ms
and the ratios converted CL / keras.applications (issue 5's goal: at most 1.05),
converted CL / converted CF (the channels-last gain) and converted CL / torch.

    ~/.cache/torch2keras/venv-py311/bin/python bench/inference.py [--models resnet50] [--runs 20]
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# name: (file under torchvision/models, or a path, constructor expression, keras.applications class)
MODELS = {
    "resnet50": ("resnet.py", "ResNet(Bottleneck, [3, 4, 6, 3])", "ResNet50"),
    # torchvision's resnet50 is v1.5 (about 5% more FLOPs than Keras' v1): the same
    # architecture as keras.applications.ResNet50, written in PyTorch, for a like-for-like ratio.
    "resnet50_v1": (str(Path(__file__).resolve().parent / "models" / "resnet50_v1.py"), "ResNet50V1()", "ResNet50"),
    "mobilenet_v2": ("mobilenetv2.py", "MobileNetV2()", "MobileNetV2"),
    "densenet121": ("densenet.py", "DenseNet(32, (6, 12, 24, 16), 64)", "DenseNet121"),
}
SIZE = 224


def torchvision_models_dir() -> Path:
    """torchvision/models of the installed package, found without importing it."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        sys.exit("bench/inference.py needs torchvision installed (pip install torchvision==0.29.1)")
    return Path(spec.origin).parent / "models"


def load_converted(path: Path, expr: str, layout: str, state_dict, example):
    """The model of `expr` converted from `path` in `layout` (io layout torch), built
    on `example` and loaded from `state_dict`."""
    import torch2keras

    result = torch2keras.convert(path.read_bytes(), filename=str(path), layout=layout)
    if not result.ok:
        raise RuntimeError(f"converting {path.name} ({layout}) failed")
    with tempfile.TemporaryDirectory(prefix="t2k-bench-") as tmp:
        generated = Path(tmp) / f"{path.stem}_{layout}.py"
        generated.write_text(result.code, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(generated.stem, generated)
        module = importlib.util.module_from_spec(spec)
        sys.modules[generated.stem] = module
        spec.loader.exec_module(module)
    model = eval(expr, module.__dict__)  # noqa: S307 - torchvision's own constructor
    model(example)
    module.load_torch_state_dict(model, state_dict)
    return model


def worker(name: str, batches, runs: int) -> list:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import numpy as np
    import torch

    from torch2keras import verify as v

    file, expr, app_name = MODELS[name]
    path = Path(file) if Path(file).is_absolute() else torchvision_models_dir() / file
    # Verified first (and torch imported before TensorFlow: the other order crashes).
    report = v.verify(path, expr, [(1, 3, SIZE, SIZE)], layout="channels_last", io_layout="keras",
                      trials=1, return_models=True)
    if not report.ok:
        raise RuntimeError(f"{name}: the converted model does not verify: {report.error or report.outputs}")
    import keras
    import tensorflow as tf

    torch_model, converted_cl = report.torch_model, report.keras_model
    example = np.zeros((1, 3, SIZE, SIZE), "float32")
    converted_cf = load_converted(path, expr, "channels_first", torch_model.state_dict(), example)
    app = getattr(keras.applications, app_name)(weights=None, input_shape=(SIZE, SIZE, 3))
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    rows = []
    for batch in batches:
        rng = np.random.default_rng(batch)
        nchw = rng.standard_normal((batch, 3, SIZE, SIZE)).astype("float32")
        nhwc = tf.constant(np.ascontiguousarray(np.moveaxis(nchw, 1, -1)))
        nchw_tf, nchw_torch = tf.constant(nchw), torch.from_numpy(nchw)

        def keras_fn(model, x):
            compiled = tf.function(lambda t: model(t, training=False))
            return lambda: compiled(x).numpy()

        def torch_fn():
            with torch.no_grad():
                torch_model(nchw_torch)

        variants = {
            "converted_cl": keras_fn(converted_cl, nhwc),
            "converted_cf": keras_fn(converted_cf, nchw_tf),
            "keras_app": keras_fn(app, nhwc),
        }
        times = {k: [] for k in variants}
        for _ in range(2):  # warm-up: tracing, allocation
            for fn in variants.values():
                fn()
        names = list(variants)
        for round_ in range(runs):
            # Each round starts with another variant: no variant always follows the same one.
            for k in names[round_ % len(names):] + names[:round_ % len(names)]:
                start = time.perf_counter()
                variants[k]()
                times[k].append((time.perf_counter() - start) * 1e3)
        # PyTorch last and apart: its OpenMP threads keep spinning after a call and
        # would slow whichever TensorFlow call came next.
        times["torch"] = []
        for i in range(runs + 2):
            start = time.perf_counter()
            torch_fn()
            if i >= 2:
                times["torch"].append((time.perf_counter() - start) * 1e3)
        row = {"model": name, "batch": batch, "max_error": max(o.max_abs for o in report.outputs)}
        row.update({k: statistics.median(t) for k, t in times.items()})
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--runs", type=int, default=20, help="timed rounds per batch size")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",") if b]

    if args.worker:
        print("BENCH-ROWS " + json.dumps(worker(args.worker, batches, args.runs)), flush=True)
        return 0

    names = [n for n in args.models.split(",") if n]
    unknown = set(names) - set(MODELS)
    if unknown:
        parser.error(f"unknown models: {', '.join(sorted(unknown))}")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    header = ("model", "batch", "converted CL", "converted CF", "keras.app", "torch",
              "CL/keras.app", "CL/CF", "CL/torch")
    widths = (14, 6, 13, 13, 10, 8, 13, 7, 9)
    print(f"median ms per call on {os.cpu_count()} CPU threads, TensorFlow backend, tf.function", flush=True)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)), flush=True)
    rows, failed = [], []
    for name in names:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--batches", args.batches, "--runs", str(args.runs)],
            capture_output=True, text=True, env=env)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-ROWS ")), None)
        if line is None:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{name}: worker exited with {proc.returncode}: {tail}", flush=True)
            failed.append(name)
            continue
        for row in json.loads(line[len("BENCH-ROWS "):]):
            rows.append(row)
            cells = (row["model"], str(row["batch"]), f"{row['converted_cl']:.1f}", f"{row['converted_cf']:.1f}",
                     f"{row['keras_app']:.1f}", f"{row['torch']:.1f}",
                     f"{row['converted_cl'] / row['keras_app']:.2f}",
                     f"{row['converted_cl'] / row['converted_cf']:.2f}",
                     f"{row['converted_cl'] / row['torch']:.2f}")
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip(), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    met = [r for r in rows if r["converted_cl"] / r["keras_app"] <= 1.05]
    print(f"\n{len(met)}/{len(rows)} rows meet converted CL / keras.applications <= 1.05")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
