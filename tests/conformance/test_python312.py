"""3.12 mode against a real Python 3.12: a seeded sample of that interpreter's own
standard library (PEP 701 f-strings, PEP 695 generics included) must dump exactly as
python3.12's ast.dump does, with attributes. Skipped when no Python 3.12 exists."""

import glob
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import torch2keras

ORACLE = r"""
import ast, json, sys, warnings
warnings.simplefilter("ignore")
out = {}
for path in json.load(sys.stdin):
    data = open(path, "rb").read()
    try:
        out[path] = ast.dump(ast.parse(data), include_attributes=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out[path] = None
json.dump(out, sys.stdout)
"""


def python312():
    candidates = [os.environ.get("T2K_PYTHON312"), shutil.which("python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    for exe in candidates:
        if exe and subprocess.run([exe, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                  capture_output=True).returncode == 0:
            return exe
    return None


def test_python312_stdlib_sample():
    exe = python312()
    if exe is None:
        pytest.skip("no Python 3.12 interpreter on this machine")
    stdlib = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    files = sorted(str(p) for p in Path(stdlib).rglob("*.py") if "site-packages" not in p.parts)
    sample = sorted(random.Random(312).sample(files, min(300, len(files))))
    expected = json.loads(subprocess.run([exe, "-c", ORACLE], input=json.dumps(sample),
                                         capture_output=True, text=True, check=True).stdout)
    failures = []
    for path in sample:
        data = Path(path).read_bytes()
        try:
            got = torch2keras.dump_ast(data, include_attributes=True, python="3.12")
        except torch2keras.SourceSyntaxError as e:
            got = None
            if expected[path] is not None:
                failures.append(f"{path}: rejected: {e.diagnostic.message}")
            continue
        if got != expected[path]:
            failures.append(f"{path}: dump differs" if expected[path] else f"{path}: accepted")
    assert not failures, "\n".join(failures[:10])
