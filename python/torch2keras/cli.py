"""The ``torch2keras`` command.

Subcommands (DESIGN.md section 2.1):
  convert INPUT [INPUT...] [-o OUT] [--layout ...] [--io-layout ...] [--report R.json]
          [--explain-layout] [--check] [--force]
                  convert PyTorch source files (or package folders) to Keras source
  verify INPUT --model EXPR --input-shape 1,3,224,224 [...]
                  convert, then compare the Keras model with the PyTorch one
  dump-ast FILE   print ast.dump of FILE exactly as CPython does (debugging aid)
  unparse FILE    print FILE reparsed and reprinted, comments kept (debugging aid)

Exit status: 0 success; 1 errors in the input (or, for verify, outputs out of
tolerance); 2 usage or I/O error. Diagnostics go to stderr as
``path:line:col: error|warning|note: message [code]`` with the source line and a
caret.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import torch2keras

LAYOUT_NOTE = "T2K109"  # --explain-layout notes (printed only when asked for)

EXIT_OK, EXIT_INPUT_ERROR, EXIT_USAGE = 0, 1, 2


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        reason = e.strerror or str(e)
        print(f"{path}: error: cannot read input: {reason} [T2K006]", file=sys.stderr)
        return None


def _dump_ast(args: argparse.Namespace) -> int:
    data = _read(args.file)
    if data is None:
        return EXIT_USAGE
    try:
        text = torch2keras.dump_ast(
            data,
            filename=args.file,
            include_attributes=args.include_attributes,
            python=args.python,
            mode=args.mode,
        )
    except torch2keras.SourceSyntaxError as e:
        sys.stderr.write(e.diagnostic.rendered)
        return EXIT_INPUT_ERROR
    sys.stdout.write(text + "\n")
    return EXIT_OK


def _unparse(args: argparse.Namespace) -> int:
    data = _read(args.file)
    if data is None:
        return EXIT_USAGE
    try:
        text = torch2keras.unparse(data, filename=args.file, python=args.python)
    except torch2keras.SourceSyntaxError as e:
        sys.stderr.write(e.diagnostic.rendered)
        return EXIT_INPUT_ERROR
    sys.stdout.write(text)
    return EXIT_OK


class _UsageError(Exception):
    """A problem with the command line or the file system (exit status 2)."""


def _missing_input(path) -> str:
    reason = os.strerror(errno.ENOENT)
    return f"{path}: error: cannot read input: {reason} [T2K006]"


def _python_files(folder: Path, skip: Optional[Path]) -> List[Path]:
    """Every ``.py`` file under ``folder``, sorted; hidden folders, ``__pycache__``
    and the output folder ``skip`` are left out."""
    found = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d != "__pycache__"
            and (skip is None or os.path.abspath(root_path / d) != str(skip))
        )
        found.extend(root_path / f for f in sorted(files) if f.endswith(".py"))
    return found


def _plan(inputs: List[str], out: Optional[str]) -> List[Tuple[Path, Path]]:
    """The (input file, output file) pairs.

    One file: OUT is a file (default ``<stem>_keras.py`` beside it; an existing
    folder given as OUT receives the file under its own name). One folder: OUT is
    a folder (default ``<folder>_keras`` beside it) mirroring the folder's layout.
    Several inputs: ``-o`` is required and is a folder; the files keep their
    paths relative to the inputs' common parent folder.
    """
    paths = [Path(p) for p in inputs]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise _UsageError("\n".join(_missing_input(p) for p in missing))
    if len(paths) == 1 and paths[0].is_file():
        src = paths[0]
        if out is None:
            return [(src, torch2keras.default_output_path(src))]
        target = Path(out)
        if target.is_dir():
            target = target / src.name
        return [(src, target)]
    if len(paths) == 1:
        folder = Path(os.path.abspath(paths[0]))
        out_dir = (
            Path(out) if out is not None else folder.with_name(folder.name + "_keras")
        )
        skip = Path(os.path.abspath(out_dir))
        jobs = [
            (f, out_dir / f.relative_to(paths[0]))
            for f in _python_files(paths[0], skip)
        ]
        return jobs
    if out is None:
        raise _UsageError(
            "torch2keras convert: error: several inputs need -o OUT (a folder)"
        )
    out_dir = Path(out)
    skip = Path(os.path.abspath(out_dir))
    bases = [os.path.dirname(os.path.abspath(p)) for p in paths]
    common = Path(os.path.commonpath(bases))
    jobs, seen = [], set()
    for p in paths:
        files = [p] if p.is_file() else _python_files(p, skip)
        for f in files:
            key = os.path.abspath(f)
            if key not in seen:
                seen.add(key)
                jobs.append((f, out_dir / Path(key).relative_to(common)))
    return jobs


def _check_outputs(jobs, report: Optional[str], force: bool, check: bool) -> None:
    """Refuses, before anything is written, to overwrite an input, or an existing
    output without ``--force`` (the report may be overwritten)."""
    inputs = {os.path.realpath(src) for src, _ in jobs}
    targets = [] if check else [(dst, force) for _, dst in jobs]
    if report is not None:
        targets.append((Path(report), True))
    problems = []
    for dst, may_overwrite in targets:
        if os.path.realpath(dst) in inputs:
            problems.append(f"{dst}: error: refusing to overwrite an input file")
        elif dst.is_dir():
            problems.append(f"{dst}: error: output is a folder")
        elif dst.exists() and not may_overwrite:
            problems.append(f"{dst}: error: output exists; use --force to overwrite it")
    if problems:
        raise _UsageError("\n".join(problems))


def _print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        text = (
            d.rendered
            or f"{d.filename}:{d.line}:{d.col}: {d.severity}: {d.message} [{d.code}]"
        )
        sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _convert(args: argparse.Namespace) -> int:
    try:
        jobs = _plan(args.inputs, args.output)
        _check_outputs(jobs, args.report, args.force, args.check)
    except _UsageError as e:
        print(e, file=sys.stderr)
        return EXIT_USAGE
    status = EXIT_OK
    entries = []
    # Files converted together import each other's converted versions (the output
    # keeps their relative paths).
    together = [str(src) for src, _ in jobs] if len(jobs) > 1 else None
    for src, dst in jobs:
        data = _read(str(src))
        if data is None:
            return EXIT_USAGE
        result = torch2keras.convert(
            data,
            filename=str(src),
            layout=args.layout,
            io_layout=args.io_layout,
            package_files=together,
            explain_layout=args.explain_layout or args.report is not None,
        )
        _print_diagnostics(
            d for d in result.diagnostics if args.explain_layout or d.code != LAYOUT_NOTE
        )
        written = False
        if not result.ok:
            status = EXIT_INPUT_ERROR
        elif not args.check:
            try:
                torch2keras.write_atomic(dst, result.code)
            except OSError as e:
                print(
                    f"{dst}: error: cannot write output: {e.strerror or e}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            written = True
        entries.append(
            {
                "input": str(src),
                "output": str(dst),
                "written": written,
                "diagnostics": [dataclasses.asdict(d) for d in result.diagnostics],
            }
        )
    if args.report is not None:
        try:
            torch2keras.write_atomic(
                args.report, json.dumps({"files": entries}, indent=2) + "\n"
            )
        except OSError as e:
            print(
                f"{args.report}: error: cannot write report: {e.strerror or e}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    return status


def _shape(text: str) -> Tuple[int, ...]:
    try:
        shape = tuple(int(n) for n in text.split(","))
    except ValueError:
        shape = ()
    if not shape or any(n < 0 for n in shape):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated sizes like 1,3,224,224, not {text!r}"
        )
    return shape


def _verify(args: argparse.Namespace) -> int:
    from torch2keras.verify import VerifyUsageError, verify

    if not Path(args.input).exists():
        print(_missing_input(args.input), file=sys.stderr)
        return EXIT_USAGE
    try:
        report = verify(
            args.input,
            args.model,
            args.input_shape,
            layout=args.layout,
            io_layout=args.io_layout,
            atol=args.atol,
            rtol=args.rtol,
            seed=args.seed,
            trials=args.trials,
            input_dtype=args.input_dtype or "float32",
            compiled=args.compiled,
            int_high=args.int_high,
        )
    except VerifyUsageError as e:
        print(f"torch2keras verify: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    _print_diagnostics(report.diagnostics)
    sys.stdout.write(report.format())
    return EXIT_OK if report.ok else EXIT_INPUT_ERROR


def _add_layout_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--layout",
        choices=list(torch2keras.LAYOUTS),
        default="channels_last",
        help="channels_last: idiomatic NHWC Keras (default); channels_first: keep NCHW",
    )
    p.add_argument(
        "--io-layout",
        choices=list(torch2keras.IO_LAYOUTS),
        default="torch",
        help="torch: inputs and outputs keep the PyTorch shapes (default); "
        "keras: image-like inputs and outputs are channels_last",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torch2keras",
        description="Convert PyTorch model source code to Keras 3 source code.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dump = sub.add_parser(
        "dump-ast", help="print the file's AST as CPython's ast.dump does"
    )
    dump.add_argument("file", metavar="FILE")
    dump.add_argument(
        "--include-attributes",
        action="store_true",
        help="include line and column attributes",
    )
    dump.add_argument(
        "--python",
        choices=["3.11", "3.12"],
        default="3.11",
        help="Python version whose syntax and AST to use (default: 3.11)",
    )
    dump.add_argument(
        "--mode",
        choices=["exec", "eval", "single", "func_type"],
        default="exec",
        help="what to parse the file as (as in compile())",
    )
    dump.set_defaults(run=_dump_ast)

    unparse_cmd = sub.add_parser(
        "unparse", help="print the file reparsed and reprinted (comments kept)"
    )
    unparse_cmd.add_argument("file", metavar="FILE")
    unparse_cmd.add_argument(
        "--python",
        choices=["3.11", "3.12"],
        default="3.11",
        help="Python version whose syntax to read and write (default: 3.11)",
    )
    unparse_cmd.set_defaults(run=_unparse)

    conv = sub.add_parser(
        "convert",
        help="convert PyTorch source to Keras source",
        description="Convert PyTorch source files (or a package folder) to Keras 3 source.",
    )
    conv.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="a .py file or a folder"
    )
    conv.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file for one input file (default <stem>_keras.py beside it); "
        "output folder for a folder (default <folder>_keras) or several inputs (required)",
    )
    _add_layout_options(conv)
    conv.add_argument(
        "--report",
        metavar="REPORT.json",
        help="write a JSON report (diagnostics, the layout notes of --explain-layout included)",
    )
    conv.add_argument(
        "--explain-layout",
        action="store_true",
        help="print a note (T2K109) for each layout change the converted model keeps, "
        "saying what needs it",
    )
    conv.add_argument(
        "--check", action="store_true", help="convert in memory, write nothing"
    )
    conv.add_argument("--force", action="store_true", help="overwrite existing outputs")
    conv.set_defaults(run=_convert)

    ver = sub.add_parser(
        "verify",
        help="check a conversion numerically",
        description="Convert INPUT, then run the PyTorch and the Keras model on seeded "
        "random inputs and compare their outputs.",
    )
    ver.add_argument("input", metavar="INPUT")
    ver.add_argument(
        "--model", required=True, metavar="EXPR", help='e.g. "SimpleConv()"'
    )
    ver.add_argument(
        "--input-shape",
        type=_shape,
        action="append",
        required=True,
        metavar="N,C,H,W",
        help="PyTorch shape of one positional input (repeat for several inputs)",
    )
    ver.add_argument(
        "--input-dtype",
        action="append",
        metavar="DTYPE",
        help="dtype of the inputs (float32 by default): once for all, or once per --input-shape, in order",
    )
    ver.add_argument(
        "--int-high",
        type=int,
        default=10,
        help="integer inputs are drawn from [0, INT_HIGH) (default 10)",
    )
    ver.add_argument("--atol", type=float, default=1e-4)
    ver.add_argument("--rtol", type=float, default=1e-4)
    _add_layout_options(ver)
    ver.add_argument("--seed", type=int, default=0)
    ver.add_argument("--trials", type=int, default=3)
    ver.add_argument(
        "--compiled",
        action="store_true",
        help="also run the Keras model inside tf.function",
    )
    ver.set_defaults(run=_verify)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
