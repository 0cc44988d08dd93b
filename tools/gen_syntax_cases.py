#!/usr/bin/env python3
"""Regenerates the expected outputs of the parser's syntax cases from CPython.

Each case is a file tests/data/syntax/NAME[.MODE][.312].py holding exact source
bytes; MODE is eval, single or func_type (default exec); `.312` means Python 3.12
(default 3.11). Its expectation NAME...expected is what CPython prints:
`ast.dump(tree, include_attributes=True)`, or `ERROR <ExceptionClass>` when CPython
rejects the source. The oracle for 3.12 cases is a Python 3.12 interpreter
($T2K_PYTHON312, or python3.12 on PATH, or pyenv's).

    tools/gen_syntax_cases.py           # rewrite the .expected files
    tools/gen_syntax_cases.py --check   # exit 1 if any .expected file is stale
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "syntax"

ORACLE = r"""
import ast, json, sys, warnings
warnings.simplefilter("ignore")
out = {}
for path, mode in json.load(sys.stdin):
    data = open(path, "rb").read()
    try:
        out[path] = ast.dump(ast.parse(data, mode=mode), include_attributes=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        out[path] = "ERROR " + type(e).__name__
json.dump(out, sys.stdout)
"""


def interpreter(minor):
    if minor == 11:
        return os.environ.get("T2K_PYTHON311") or shutil.which("python3.11") or sys.executable
    candidates = [os.environ.get("T2K_PYTHON312"), shutil.which("python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    for c in candidates:
        if c and os.path.exists(c) and subprocess.run([c, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                                      capture_output=True).returncode == 0:
            return c
    return None


def case_options(path: Path):
    parts = path.name[:-len(".py")].split(".")
    minor = 12 if "312" in parts[1:] else 11
    mode = next((p for p in parts[1:] if p in ("eval", "single", "func_type")), "exec")
    return minor, mode


def expectations():
    by_minor = {}
    for path in sorted(CASES.glob("*.py")):
        minor, mode = case_options(path)
        by_minor.setdefault(minor, []).append((str(path), mode))
    result = {}
    for minor, items in by_minor.items():
        exe = interpreter(minor)
        if exe is None:
            sys.exit(f"no Python 3.{minor} interpreter found for the 3.{minor} cases")
        r = subprocess.run([exe, "-c", ORACLE], input=json.dumps(items), capture_output=True,
                           text=True, check=True)
        result.update(json.loads(r.stdout))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for path, text in expectations().items():
        expected = Path(path[:-len(".py")] + ".expected")
        if not expected.exists() or expected.read_text() != text + "\n":
            stale.append(expected.name)
            if not args.check:
                expected.write_text(text + "\n")
    if args.check and stale:
        print("stale expectations (run tools/gen_syntax_cases.py):", *stale, sep="\n  ")
        return 1
    print(f"{len(stale)} expectation(s) {'stale' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
