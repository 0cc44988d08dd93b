"""The syntax cases' expectations (tests/data/syntax/*.expected) are what CPython
prints today: regenerating them from the interpreters changes nothing."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_expectations_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_syntax_cases.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
