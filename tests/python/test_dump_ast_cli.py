"""`torch2keras dump-ast` and the Python API, as a user runs them."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import torch2keras


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "torch2keras", *args],
                          capture_output=True, text=True)


def test_dump_ast_prints_what_cpython_prints(tmp_path):
    src = "import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n        return x @ x.T\n"
    path = tmp_path / "m.py"
    path.write_text(src)
    r = run_cli("dump-ast", str(path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ast.dump(ast.parse(src)) + "\n"
    r = run_cli("dump-ast", "--include-attributes", str(path))
    assert r.stdout == ast.dump(ast.parse(src), include_attributes=True) + "\n"


def test_dump_ast_modes():
    assert torch2keras.dump_ast("a + 1", mode="eval") == ast.dump(ast.parse("a + 1", mode="eval"))
    assert torch2keras.dump_ast("(int, str) -> None", mode="func_type") == \
        ast.dump(ast.parse("(int, str) -> None", mode="func_type"))
    assert torch2keras.dump_ast("x = 1", mode="single") == ast.dump(ast.parse("x = 1", mode="single"))


def test_syntax_error_diagnostic(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("x = 1\nif x\n    pass\n")
    r = run_cli("dump-ast", str(path))
    assert r.returncode == 1
    assert r.stdout == ""
    first, line, caret = r.stderr.splitlines()[:3]
    assert first == f"{path}:2:5: error: expected ':' [T2K001]"
    assert line.strip() == "if x"
    assert caret.strip() == "^"


def test_unclosed_bracket_names_the_bracket(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("x = foo(1,\n      2\n")
    r = run_cli("dump-ast", str(path))
    assert r.returncode == 1
    assert f"{path}:1:8: error: '(' was never closed [T2K001]" in r.stderr


def test_indentation_error_code(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def f():\nreturn 1\n")
    r = run_cli("dump-ast", str(path))
    assert r.returncode == 1
    assert "expected an indented block after function definition on line 1 [T2K002]" in r.stderr


def test_missing_file_is_a_usage_error(tmp_path):
    r = run_cli("dump-ast", str(tmp_path / "nope.py"))
    assert r.returncode == 2
    assert "cannot read input" in r.stderr and "[T2K006]" in r.stderr


def test_api_raises_syntax_error_subclass():
    with pytest.raises(SyntaxError) as info:
        torch2keras.dump_ast("x = (1,")
    err = info.value
    assert isinstance(err, torch2keras.SourceSyntaxError)
    assert err.kind == "SyntaxError"
    assert err.diagnostic.code == "T2K001"
    assert (err.diagnostic.line, err.diagnostic.col) == (1, 5)


def test_tab_error_kind():
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(b"if 1:\n\tx = 1\n        y = 2\n")
    assert info.value.kind == "TabError"
    assert info.value.diagnostic.code == "T2K003"


def test_python_version_is_checked():
    with pytest.raises(ValueError):
        torch2keras.dump_ast("x", python="2.7")


def test_too_deep_nesting_is_rejected_like_cpython():
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast("x = " + "-" * 5000 + "1\n")
    assert info.value.kind == "RecursionError"
    assert info.value.diagnostic.code == "T2K004"


def test_encodings(tmp_path):
    latin1 = "# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1")
    assert torch2keras.dump_ast(latin1) == ast.dump(ast.parse(latin1))
    koi8 = "# coding: koi8-r\ns = '\u043f\u0440\u0438\u0432\u0435\u0442'\n".encode("koi8-r")
    assert torch2keras.dump_ast(koi8) == ast.dump(ast.parse(koi8))
    bom = b"\xef\xbb\xbfx = 1\n"
    assert torch2keras.dump_ast(bom, include_attributes=True) == \
        ast.dump(ast.parse(bom), include_attributes=True)
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(b"# coding: no-such-codec\nx = 1\n")
    assert info.value.diagnostic.code == "T2K005"
    assert "unknown encoding: no-such-codec" in info.value.diagnostic.message
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(b"\xef\xbb\xbf# coding: latin-1\nx = 1\n")
    assert info.value.diagnostic.message == "encoding problem: iso-8859-1 with BOM"


def test_every_diagnostic_code_has_a_test():
    root = Path(__file__).resolve().parents[2]
    kinds = (root / "src/torch2keras/diag/diagnostic_kinds.def").read_text()
    codes = re.findall(r'T2K_DIAGNOSTIC\(\w+, "(T2K\d+)"', kinds)
    assert codes, "no diagnostics declared?"
    tests = "".join(p.read_text() for p in (root / "tests").rglob("test_*.py"))
    untested = [c for c in codes if f'"{c}"' not in tests and f"[{c}]" not in tests]
    assert not untested, f"diagnostics without a test: {untested}"


def test_diagnostic_for_undecodable_bytes_is_valid_text(tmp_path):
    path = tmp_path / "bad.py"
    path.write_bytes(b'print("b\xf6se")\n')
    r = subprocess.run([sys.executable, "-m", "torch2keras", "dump-ast", str(path)],
                       capture_output=True)
    assert r.returncode == 1
    text = r.stderr.decode("utf-8")  # must not raise
    assert "(unicode error) 'utf-8' codec can't decode byte 0xf6" in text
    assert 'print("b\ufffdse")' in text


def test_unparse_command_keeps_comments(tmp_path):
    src = ("import torch.nn as nn  # the layers\n\n\n"
           "class Net(nn.Module):\n"
           "    # a comment before forward\n"
           "    def forward(self, x):\n"
           "        return (x + 1) * 2  # scale\n")
    path = tmp_path / "net.py"
    path.write_text(src)
    r = run_cli("unparse", str(path))
    assert r.returncode == 0, r.stderr
    assert ast.dump(ast.parse(r.stdout)) == ast.dump(ast.parse(src))
    for comment in ("# the layers", "# a comment before forward", "# scale"):
        assert comment in r.stdout
    assert torch2keras.unparse(src) == r.stdout


def test_str_source_is_text_like_ast_parse_of_str():
    src = '# coding: latin-1\nx = "\u00e9"\n'
    assert torch2keras.dump_ast(src) == ast.dump(ast.parse(src))
    assert torch2keras.dump_ast("# coding: ascii\nx = '\u00e9'\n") == \
        ast.dump(ast.parse("# coding: ascii\nx = '\u00e9'\n"))
    with pytest.raises(torch2keras.SourceSyntaxError):
        torch2keras.dump_ast("\ufeffx = 1\n")  # CPython: invalid non-printable U+FEFF
