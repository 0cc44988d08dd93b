"""torch2keras: converts PyTorch model source code to Keras 3 source code.

The engine is C++ (``torch2keras._engine``); this package is the thin layer
around it: the Python API, the ``torch2keras`` command and ``verify``.

Python API::

    import torch2keras
    result = torch2keras.convert(source, filename="model.py")
    if result.ok:
        print(result.code)                     # the generated Keras module
    for d in result.diagnostics:               # errors, warnings and notes
        print(d.rendered)
    torch2keras.convert_file("model.py")       # writes model_keras.py beside it

    text = torch2keras.dump_ast(source)        # == ast.dump(ast.parse(source))
    text = torch2keras.unparse(source)         # the source reprinted, comments kept

Syntax errors in ``dump_ast``/``unparse`` raise :class:`SourceSyntaxError` (a
:class:`SyntaxError`) whose ``diagnostic`` attribute holds the engine's
diagnostic; ``convert`` reports them as diagnostics instead.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

from torch2keras import _engine

__all__ = [
    "ConversionResult",
    "Diagnostic",
    "SourceSyntaxError",
    "convert",
    "convert_file",
    "dump_ast",
    "parse_check",
    "unparse",
]

LAYOUTS = ("channels_last", "channels_first")
IO_LAYOUTS = ("torch", "keras")

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
        super().__init__(
            diagnostic.message,
            (diagnostic.filename, diagnostic.line, diagnostic.col, None),
        )
        self.diagnostic = diagnostic
        self.kind = kind


def _to_bytes(source: Union[str, bytes]) -> bytes:
    return source.encode("utf-8") if isinstance(source, str) else bytes(source)


def _minor(python: str) -> int:
    try:
        return _PYTHON_VERSIONS[python]
    except KeyError:
        raise ValueError(
            f"python must be one of {sorted(_PYTHON_VERSIONS)}, not {python!r}"
        ) from None


def _diagnostic(error: dict, filename: str) -> Diagnostic:
    rendered = error["rendered"]
    # The rendered header carries the character column; recover it for the API.
    col = 0
    head = rendered.split(": ", 1)[0].rsplit(":", 2)
    if len(head) == 3 and head[2].isdigit():
        col = int(head[2])
    return Diagnostic(
        "error",
        error["code"],
        error["message"],
        filename,
        error["lineno"],
        col,
        rendered,
    )


def dump_ast(
    source: Union[str, bytes],
    *,
    filename: str = "<unknown>",
    include_attributes: bool = False,
    python: str = "3.11",
    mode: str = "exec",
) -> str:
    """Returns what ``ast.dump(ast.parse(source, mode=mode), include_attributes=...)``
    prints on CPython ``python`` ("3.11" or "3.12"), computed by the C++ parser.

    ``source`` as bytes is decoded as CPython decodes files (BOM, coding cookie);
    as str it is taken as text, like ``ast.parse(str)`` (cookies are ignored).
    Raises SourceSyntaxError when the source is not valid for that version.
    """
    text, error = _engine.dump_ast(
        _to_bytes(source),
        filename,
        include_attributes,
        _minor(python),
        mode,
        isinstance(source, str),
    )
    if error is not None:
        raise SourceSyntaxError(_diagnostic(error, filename), error["kind"])
    return text


def parse_check(source: Union[str, bytes], *, python: str = "3.11") -> bool:
    """True if ``source`` is valid Python ``python``; parses without building output."""
    return _engine.parse_check(_to_bytes(source), _minor(python))


def unparse(
    source: Union[str, bytes], *, filename: str = "<unknown>", python: str = "3.11"
) -> str:
    """Parses ``source`` and prints it back as Python source with its comments.

    The result parses to the same AST as ``source`` (positions aside). Raises
    SourceSyntaxError when the source is not valid for that version.
    """
    text, error = _engine.unparse(
        _to_bytes(source), filename, _minor(python), isinstance(source, str)
    )
    if error is not None:
        raise SourceSyntaxError(_diagnostic(error, filename), error["kind"])
    return text


@dataclass(frozen=True)
class ConversionResult:
    """What :func:`convert` returns.

    ``code`` is the generated Keras module (``''`` when there are errors);
    ``diagnostics`` lists every :class:`Diagnostic` (errors, warnings, notes) in
    source order.
    """

    code: str
    diagnostics: List[Diagnostic]

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.severity == "error" for d in self.diagnostics)


def _check_options(layout: str, io_layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, not {layout!r}")
    if io_layout not in IO_LAYOUTS:
        raise ValueError(
            f"io_layout must be one of {list(IO_LAYOUTS)}, not {io_layout!r}"
        )


def _conversion_diagnostic(d: dict, filename: str) -> Diagnostic:
    return Diagnostic(
        d["severity"],
        d["code"],
        d["message"],
        filename,
        d["lineno"],
        d["col"],
        d["rendered"],
    )


def convert(
    source: Union[str, bytes],
    *,
    filename: str = "<string>",
    layout: str = "channels_last",
    io_layout: str = "torch",
    package_files: Optional[Sequence[str]] = None,
    explain_layout: bool = False,
) -> ConversionResult:
    """Converts PyTorch model source to Keras 3 source, statically.

    ``source`` as bytes is decoded as CPython decodes files (BOM, coding cookie);
    as str it is taken as text. ``filename`` only names the input in diagnostics.
    ``layout``: "channels_last" (idiomatic NHWC Keras) or "channels_first" (keeps
    NCHW, ``data_format="channels_first"``). ``io_layout``: "torch" (the model
    takes and returns the PyTorch shapes) or "keras" (image-like inputs and
    outputs are channels_last). Invalid options raise ValueError; problems in the
    source (including syntax errors) are reported as diagnostics, never raised.

    A file inside a package (found from ``filename``) pulls in the definitions it
    imports from the package. ``package_files``: the paths converted together
    with this one (``torch2keras convert PKG_DIR``); what the file imports from
    them stays an import of their converted version (same relative path).
    ``explain_layout``: add a note (code T2K109) at each layout change the
    converted model keeps (a transpose, a reordering of flattened features, a
    Permute layer), saying what needs it.
    """
    _check_options(layout, io_layout)
    code, diagnostics = _engine.convert(
        _to_bytes(source),
        filename,
        layout,
        io_layout,
        isinstance(source, str),
        [os.path.abspath(p) for p in (package_files or [])],
        explain_layout,
    )
    result = ConversionResult(
        code, [_conversion_diagnostic(d, filename) for d in diagnostics]
    )
    if not result.ok and result.code:
        result = ConversionResult("", result.diagnostics)
    return result


def default_output_path(path: Union[str, os.PathLike]) -> Path:
    """``<stem>_keras.py`` beside ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_keras.py")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (
            a.exists() and b.exists() and a.samefile(b)
        )
    except OSError:
        return False


def write_atomic(path: Union[str, os.PathLike], text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` through a temporary file in the same
    folder and ``os.replace``, so ``path`` is never seen half-written. Creates
    missing parent folders. Raises OSError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def convert_file(
    path: Union[str, os.PathLike],
    out: Optional[Union[str, os.PathLike]] = None,
    *,
    layout: str = "channels_last",
    io_layout: str = "torch",
    force: bool = False,
) -> ConversionResult:
    """Converts the file ``path`` and, when there are no errors, writes the result
    to ``out`` (default ``<stem>_keras.py`` beside the input) atomically.

    Raises ValueError when ``out`` is the input itself or an option is invalid,
    FileExistsError when ``out`` exists and ``force`` is false (both checked
    before converting), OSError when the input cannot be read or the output
    cannot be written. With errors in the input, nothing is written and the
    result's ``ok`` is false.
    """
    _check_options(layout, io_layout)
    path = Path(path)
    out = default_output_path(path) if out is None else Path(out)
    if _same_file(path, out):
        raise ValueError(f"{out}: refusing to overwrite the input file {path}")
    if out.exists() and not force:
        raise FileExistsError(f"{out}: output exists; pass force=True to overwrite it")
    data = path.read_bytes()
    result = convert(data, filename=str(path), layout=layout, io_layout=io_layout)
    if result.ok:
        write_atomic(out, result.code)
    return result
