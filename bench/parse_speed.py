#!/usr/bin/env python3
"""Parser throughput: torch2keras's C++ parser against CPython's ast.parse on the
same corpus, in one run. Prints MB/s for each and their ratio (goal: >= 3x).

Both parse bytes (decoding included). ast.parse builds Python AST objects, which is
what a Python-based converter would have to do; ours builds its C++ tree. Each side
runs `--repeat` times and the best time counts.

    ~/.cache/torch2keras/venv-py311/bin/python bench/parse_speed.py [--files N] [--repeat R]
"""

import argparse
import ast
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "conformance"))
from corpus import corpus_files, sample  # noqa: E402

from torch2keras import _engine  # noqa: E402


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=0, help="sample size (0: whole corpus)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    files = corpus_files()
    if args.files:
        files = sample(files, args.files)
    sources = []
    warnings.simplefilter("ignore")
    for f in files:
        data = f.read_bytes()
        try:
            ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        sources.append(data)
    total = sum(len(s) for s in sources)

    def cpython():
        for s in sources:
            ast.parse(s)

    def ours():
        for s in sources:
            _engine.parse_check(s, 11)

    t_cpython = best_time(cpython, args.repeat)
    t_ours = best_time(ours, args.repeat)
    mb = total / 1e6
    print(f"corpus: {len(sources)} files, {mb:.1f} MB")
    print(f"CPython ast.parse : {mb / t_cpython:8.1f} MB/s ({t_cpython:.2f} s)")
    print(f"torch2keras parser: {mb / t_ours:8.1f} MB/s ({t_ours:.2f} s)")
    print(f"ratio: {t_cpython / t_ours:.2f}x")


if __name__ == "__main__":
    main()
