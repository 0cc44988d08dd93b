"""Golden tests: tests/golden/<case>/input.py converts to tests/golden/<case>/expected.py.

They show what generated code looks like, construct by construct; equivalence tests
(tests/equivalence) prove it computes the same numbers. The runtime helpers and the
weight loader copied into every generated module are shown as one marker line each
(their own tests cover them). A case may hold `options.txt` with `layout=...`.

Regenerate after an intended change of output with
    T2K_REGEN_GOLDEN=1 python -m pytest tests/python/test_golden.py
and review the diff like code.
"""

import os
import re
from pathlib import Path

import pytest

import torch2keras

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.py").exists())


def snapshot(code: str) -> str:
    """`code` with the copied runtime helpers and loader folded to marker lines."""
    code = re.sub(r"(# --- Runtime helpers, copied from torch2keras[^\n]*\n).*?(?=# --- Converted code)",
                  r"\1\n\n", code, flags=re.S)
    code = re.sub(r"(# --- Weight loader, copied from torch2keras[^\n]*\n).*", r"\1", code, flags=re.S)
    return code


def options(case: Path) -> dict:
    path = case / "options.txt"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().split("\n") if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.mark.parametrize("name", CASES)
def test_golden(name):
    case = GOLDEN / name
    result = torch2keras.convert((case / "input.py").read_text(), filename="input.py", **options(case))
    assert result.ok, "\n".join(d.rendered for d in result.diagnostics)
    got = snapshot(result.code)
    expected = case / "expected.py"
    if os.environ.get("T2K_REGEN_GOLDEN") == "1" or not expected.exists():
        expected.write_text(got)
        if os.environ.get("T2K_REGEN_GOLDEN") != "1":
            pytest.fail(f"{expected} was missing and has been written; review and commit it")
    assert got == expected.read_text(), f"generated code differs from {expected}"


def test_there_are_golden_cases():
    assert len(CASES) >= 5
