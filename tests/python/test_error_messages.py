"""Syntax error messages and locations for common mistakes match CPython's: each
case is compared with the running interpreter's SyntaxError (class, message, line,
column), so the expectation is never hand-copied."""

import ast

import pytest

import torch2keras

CASES = [
    "foo(1, 2\n", "if x\n    pass\n", "x = = 1\n", "print 'x'\n", "def f(:\n  pass\n",
    "a = 1 +\n", "f(a for a in b, c)\n", "x = 1 2\n", "if x = 1:\n  pass\n", "else:\n  pass\n",
    "x = 'abc\n", "x = 1)\n", "  x = 1\n", "if x:\npass\n", "class A\n  pass\n",
    "for x in y\n  pass\n", "while x\n  pass\n", "def f()\n  pass\n", "import\n",
    "from x import\n", "x = [1, 2\ny = 3\n", "x = (1, 2]\n", "return = 1\n", "x += \n",
    "f(**a, *b)\n", "f(a=1, b)\n", "x = {1: 2, 3}\n", "x = 1 if 2\n",
    "with open(f) as g\n  pass\n", "def f(a=1, b):\n  pass\n", "True = 1\n", "f() = 1\n",
    "x = 3abc\n", "x = 0777\n", "\tif x:\n", "x = $a\n", "a, b += 1\n", "(a, b): int\n",
    "if a:\n\tb\n        c\n", "x = '''abc\n", "def f():\nreturn\n", "x = f'{a!x}'\n",
    "x = 'a' b'b'\n", "x = '\\N{NOPE}'\n",
    "del f()\n", "del *a\n", "del (a, f())\n", "for f() in x: pass\n",
    "with a as f(): pass\n", "def f(*): pass\n", "def f(/, x): pass\n",
    "def f(x, /, /): pass\n", "def f(**k, x): pass\n",
]
# CPython's column for these comes from rules we do not mirror exactly; the class
# and message must still match.
MESSAGE_ONLY = {"if x:\n    a\n  b\n", "try:\n  pass\n"}
CASES += sorted(MESSAGE_ONLY)


def cpython_error(src):
    try:
        ast.parse(src)
    except SyntaxError as e:
        return type(e).__name__, e.msg, e.lineno, e.offset
    raise AssertionError(f"CPython accepts {src!r}")


@pytest.mark.parametrize("src", CASES)
def test_error_matches_cpython(src):
    kind, message, line, col = cpython_error(src)
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(src)
    err = info.value
    assert (err.kind, err.diagnostic.message) == (kind, message)
    if src not in MESSAGE_ONLY:
        assert (err.diagnostic.line, err.diagnostic.col) == (line, col)

# Missing commas, the most common typo in layer lists.
COMMA_CASES = [
    "layers = [\n    nn.Conv2d(3, 8, 3)\n    nn.ReLU()\n]\n",
    "f(x=1 y=2)\n", "x = [1, 2 3]\n", "x = (1\n     y)\n", "x = {1, 2 3}\n", "f(a b)\n",
]


@pytest.mark.parametrize("src", COMMA_CASES)
def test_missing_comma_matches_cpython(src):
    kind, message, line, col = cpython_error(src)
    assert message == "invalid syntax. Perhaps you forgot a comma?"
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(src)
    assert (info.value.diagnostic.message, info.value.diagnostic.line, info.value.diagnostic.col) == \
        (message, line, col)


def test_invalid_utf8_outside_strings_matches_cpython():
    data = b"x = 1\n\xff\n"
    try:
        ast.parse(data)
    except SyntaxError as e:
        expected = e.msg
    with pytest.raises(torch2keras.SourceSyntaxError) as info:
        torch2keras.dump_ast(data)
    assert info.value.diagnostic.message == expected
