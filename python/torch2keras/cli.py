"""The ``torch2keras`` command.

Subcommands (DESIGN.md section 2.1):
  dump-ast FILE   print ast.dump of FILE exactly as CPython does (debugging aid)
  unparse FILE    print FILE reparsed and reprinted, comments kept (debugging aid)
  convert, verify arrive with the conversion engine (issue 3).

Exit status: 0 success; 1 errors in the input; 2 usage or I/O error.
Diagnostics go to stderr as ``path:line:col: error: message [code]``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

import torch2keras

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
        text = torch2keras.dump_ast(data, filename=args.file,
                                    include_attributes=args.include_attributes,
                                    python=args.python, mode=args.mode)
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


def _not_yet(args: argparse.Namespace) -> int:
    print(f"torch2keras: error: '{args.command}' is not implemented yet", file=sys.stderr)
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torch2keras",
        description="Convert PyTorch model source code to Keras 3 source code.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dump = sub.add_parser("dump-ast", help="print the file's AST as CPython's ast.dump does")
    dump.add_argument("file", metavar="FILE")
    dump.add_argument("--include-attributes", action="store_true",
                      help="include line and column attributes")
    dump.add_argument("--python", choices=["3.11", "3.12"], default="3.11",
                      help="Python version whose syntax and AST to use (default: 3.11)")
    dump.add_argument("--mode", choices=["exec", "eval", "single", "func_type"],
                      default="exec", help="what to parse the file as (as in compile())")
    dump.set_defaults(run=_dump_ast)

    unparse_cmd = sub.add_parser("unparse",
                                 help="print the file reparsed and reprinted (comments kept)")
    unparse_cmd.add_argument("file", metavar="FILE")
    unparse_cmd.add_argument("--python", choices=["3.11", "3.12"], default="3.11",
                             help="Python version whose syntax to read and write (default: 3.11)")
    unparse_cmd.set_defaults(run=_unparse)

    for name, what in (("convert", "convert PyTorch source to Keras source"),
                       ("verify", "check a conversion numerically")):
        p = sub.add_parser(name, help=f"{what} (not implemented yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(run=_not_yet)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
