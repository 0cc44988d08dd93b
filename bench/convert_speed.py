#!/usr/bin/env python3
"""Conversion speed on all of torchvision/models/: every .py file under it
(classification, detection, segmentation, video, quantization, optical flow),
converted by torch2keras in one run. Goal (issue 3): under 1 s on one core.

Prints, in one run:
* engine: torch2keras.convert on every file in this process (the C++ engine is
  single-threaded), best of `--repeat`;
* cli: one `torch2keras convert DIR -o OUT` command, end to end (Python start-up,
  reading and writing files included), best of `--repeat`;
* peer: CPython's ast.parse + ast.unparse of the same files, the least a
  Python-based converter does before any analysis, and the engine's ratio to it.

Files with conversion errors (models outside the catalog yet) still count: the
engine parses, analyses and reports them.

    ~/.cache/torch2keras/venv-py311/bin/python bench/convert_speed.py [--repeat R]
"""

import argparse
import ast
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch2keras


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench/convert_speed.py needs torchvision installed (pip install torchvision==0.29.1)")
    models = Path(list(spec.submodule_search_locations)[0]) / "models"
    files = sorted(p for p in models.rglob("*.py"))
    sources = [(str(p), p.read_bytes()) for p in files]
    size_kb = sum(len(d) for _, d in sources) / 1024

    results = []

    def engine():
        results.clear()
        for name, data in sources:
            results.append(torch2keras.convert(data, filename=name))

    engine_s = best_time(engine, args.repeat)
    ok = sum(r.ok for r in results)

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _, data in sources:
                ast.unparse(ast.parse(data))

    peer_s = best_time(peer, args.repeat)

    def cli():
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, "-m", "torch2keras", "convert", str(models), "-o",
                            os.path.join(out, "models_keras")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    cli_s = best_time(cli, args.repeat)

    print(f"torchvision/models: {len(files)} files, {size_kb:.0f} KiB; {ok} convert without errors")
    print(f"engine  torch2keras.convert, all files   {engine_s * 1e3:8.1f} ms  (goal < 1000 ms)")
    print(f"cli     torch2keras convert DIR -o OUT   {cli_s * 1e3:8.1f} ms  (process start-up included)")
    print(f"peer    ast.parse + ast.unparse          {peer_s * 1e3:8.1f} ms")
    print(f"ratio   peer / engine                    {peer_s / engine_s:8.2f}x")
    return 0 if engine_s < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
