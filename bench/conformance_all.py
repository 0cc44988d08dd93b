#!/usr/bin/env python3
"""Runs the parser conformance check on the whole corpus (every .py file of this
interpreter's stdlib and site-packages) and prints the pass count.

A file passes when our ast.dump output equals CPython's, with and without
attributes, or when both reject it. Run with the test venv's python:

    ~/.cache/torch2keras/venv-py311/bin/python bench/conformance_all.py [-j N] [--show N]
"""

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "conformance"))
from corpus import check_file, corpus_files, corpus_roots, excluded, load_exclusions  # noqa: E402


def _check(path):
    try:
        return str(path), check_file(path)
    except Exception as e:  # a crash of the harness itself is a failure too
        return str(path), f"harness error: {e!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--show", type=int, default=20, help="failures to print")
    args = parser.parse_args()

    files = corpus_files()
    exclusions = load_exclusions()
    todo = [f for f in files if not excluded(f, exclusions)]
    start = time.perf_counter()
    failures = []
    with multiprocessing.Pool(args.jobs) as pool:
        for path, problem in pool.imap_unordered(_check, todo, chunksize=16):
            if problem is not None:
                failures.append((path, problem))
    elapsed = time.perf_counter() - start
    failures.sort()
    for path, problem in failures[:args.show]:
        print(f"FAIL {path}\n  {problem}\n")
    print("roots:", ", ".join(str(r) for r in corpus_roots()))
    passed = len(todo) - len(failures)
    print(f"conformance: {passed}/{len(todo)} files pass "
          f"({100.0 * passed / max(1, len(todo)):.2f}%), "
          f"{len(files) - len(todo)} excluded, {elapsed:.0f}s")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
