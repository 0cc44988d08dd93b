"""The conformance corpus: every .py file of the running interpreter's standard
library and site-packages, and CPython itself as the oracle.

Shared by tests/conformance (a fixed, seeded sample on every run) and
bench/conformance_all.py (the whole corpus).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import random
import site
import sysconfig
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

HERE = Path(__file__).resolve().parent
EXCLUSIONS_FILE = HERE / "exclusions.txt"
SAMPLE_SEED = 20261129


def corpus_roots() -> List[Path]:
    """The stdlib and every site-packages directory of this interpreter."""
    roots = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"]]
    roots += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    seen, out = set(), []
    for r in roots:
        p = Path(r).resolve()
        if p.is_dir() and p not in seen:
            seen.add(p)
            out.append(p)
    return out


def corpus_files() -> List[Path]:
    """All .py files under the corpus roots, sorted, without duplicates."""
    roots = corpus_roots()
    files = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            # site-packages nested inside the stdlib tree is walked as its own root
            dirnames[:] = sorted(d for d in dirnames
                                 if Path(dirpath, d).resolve() not in roots[1:] or
                                 Path(dirpath) == root)
            for name in filenames:
                if name.endswith(".py"):
                    files.add(Path(dirpath, name).resolve())
    return sorted(files)


def sample(files: List[Path], n: int, seed: int = SAMPLE_SEED) -> List[Path]:
    """A reproducible sample of `n` files."""
    if len(files) <= n:
        return list(files)
    return sorted(random.Random(seed).sample(files, n))


def load_exclusions() -> List[Tuple[str, str]]:
    """(glob pattern, reason) pairs from exclusions.txt: `pattern  # reason`."""
    out = []
    for line in EXCLUSIONS_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition("#")
        out.append((pattern.strip(), reason.strip()))
    return out


def excluded(path: Path, exclusions: List[Tuple[str, str]]) -> Optional[str]:
    for pattern, reason in exclusions:
        if fnmatch.fnmatch(str(path), pattern):
            return reason
    return None


def oracle_dump(data: bytes, include_attributes: bool) -> Optional[str]:
    """ast.dump of CPython's parse of `data`, or None if CPython rejects it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    try:
        return ast.dump(tree, include_attributes=include_attributes)
    except (RecursionError, ValueError):  # ValueError: an int of over 4300 digits
        return None


def check_file(path: Path) -> Optional[str]:
    """None if our dump equals CPython's (with and without attributes) or both
    reject the file; otherwise a description of the first difference."""
    import torch2keras

    data = path.read_bytes()
    for include_attributes in (False, True):
        expected = oracle_dump(data, include_attributes)
        try:
            got = torch2keras.dump_ast(data, filename=str(path),
                                       include_attributes=include_attributes)
        except torch2keras.SourceSyntaxError as e:
            if expected is None:
                return None
            return f"rejected valid file: {e.diagnostic.rendered.strip()}"
        if expected is None:
            return "accepted a file CPython rejects"
        if got != expected:
            i = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b),
                     min(len(got), len(expected)))
            return (f"dump differs (include_attributes={include_attributes}) at char {i}:\n"
                    f"  cpython: ...{expected[max(0, i - 120):i + 80]}\n"
                    f"  ours:    ...{got[max(0, i - 120):i + 80]}")
    return None
