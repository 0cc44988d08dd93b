"""torch2keras: converts PyTorch model source code to Keras 3 source code.

The engine is C++ (``torch2keras._engine``); this package is the thin layer
around it: the Python API, the ``torch2keras`` command and ``verify``.

Python API (so far)::

    import torch2keras
    text = torch2keras.dump_ast(source)        # == ast.dump(ast.parse(source))
    text = torch2keras.unparse(source)         # the source reprinted, comments kept

Syntax errors raise :class:`SourceSyntaxError` (a :class:`SyntaxError`) whose
``diagnostic`` attribute holds the engine's diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from torch2keras import _engine

__all__ = ["Diagnostic", "SourceSyntaxError", "dump_ast", "parse_check", "unparse"]

_PYTHON_VERSIONS = {"3.11": 11, "3.12": 12}


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the input.

    ``line`` is 1-based; ``col`` is the 1-based character column (0 when the
    problem has no column, as for an undecodable file).
    """

    severity: str  # "error", "warning" or "note"
    code: str  # stable, e.g. "T2K001"
    message: str
    filename: str
    line: int
    col: int
    rendered: str  # "path:line:col: error: message [code]" plus source line and caret


class SourceSyntaxError(SyntaxError):
    """The input is not valid Python for the chosen version.

    ``kind`` is the exception class CPython would raise ("SyntaxError",
    "IndentationError", "TabError" or "RecursionError").
    """

    def __init__(self, diagnostic: Diagnostic, kind: str):
        super().__init__(diagnostic.message,
                         (diagnostic.filename, diagnostic.line, diagnostic.col, None))
        self.diagnostic = diagnostic
        self.kind = kind


def _to_bytes(source: Union[str, bytes]) -> bytes:
    return source.encode("utf-8") if isinstance(source, str) else bytes(source)


def _minor(python: str) -> int:
    try:
        return _PYTHON_VERSIONS[python]
    except KeyError:
        raise ValueError(f"python must be one of {sorted(_PYTHON_VERSIONS)}, not {python!r}") from None


def _diagnostic(error: dict, filename: str) -> Diagnostic:
    rendered = error["rendered"]
    # The rendered header carries the character column; recover it for the API.
    col = 0
    head = rendered.split(": ", 1)[0].rsplit(":", 2)
    if len(head) == 3 and head[2].isdigit():
        col = int(head[2])
    return Diagnostic("error", error["code"], error["message"], filename, error["lineno"], col,
                      rendered)


def dump_ast(source: Union[str, bytes], *, filename: str = "<unknown>",
             include_attributes: bool = False, python: str = "3.11", mode: str = "exec") -> str:
    """Returns what ``ast.dump(ast.parse(source, mode=mode), include_attributes=...)``
    prints on CPython ``python`` ("3.11" or "3.12"), computed by the C++ parser.

    ``source`` as bytes is decoded as CPython decodes files (BOM, coding cookie);
    as str it is taken as text, like ``ast.parse(str)`` (cookies are ignored).
    Raises SourceSyntaxError when the source is not valid for that version.
    """
    text, error = _engine.dump_ast(_to_bytes(source), filename, include_attributes,
                                   _minor(python), mode, isinstance(source, str))
    if error is not None:
        raise SourceSyntaxError(_diagnostic(error, filename), error["kind"])
    return text


def parse_check(source: Union[str, bytes], *, python: str = "3.11") -> bool:
    """True if ``source`` is valid Python ``python``; parses without building output."""
    return _engine.parse_check(_to_bytes(source), _minor(python))


def unparse(source: Union[str, bytes], *, filename: str = "<unknown>",
            python: str = "3.11") -> str:
    """Parses ``source`` and prints it back as Python source with its comments.

    The result parses to the same AST as ``source`` (positions aside). Raises
    SourceSyntaxError when the source is not valid for that version.
    """
    text, error = _engine.unparse(_to_bytes(source), filename, _minor(python),
                                  isinstance(source, str))
    if error is not None:
        raise SourceSyntaxError(_diagnostic(error, filename), error["kind"])
    return text
