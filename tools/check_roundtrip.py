#!/usr/bin/env python3
"""Round-trip check of the unparser against CPython, at scale.

For each Python file (the arguments, or a seeded random sample of the running
interpreter's standard library), this runs our unparser on it and checks that

  1. CPython parses the output to the same tree: ast.dump(ast.parse(original))
     == ast.dump(ast.parse(output)), without positions;
  2. our own parser accepts the output (the binary is run on it again; that its
     second output equals the first is reported as "idempotent");
  3. no comment is lost: the `#` comments that the tokenize module finds in the
     original all appear in the output (a `# -*- coding: utf-8 -*-` line that the
     unparser adds in front of another encoding's cookie is allowed).

Files that CPython itself rejects are skipped; files that our parser rejects are
counted apart (a parser problem, not an unparser one). The binary is any build
of the engine that understands

    BINARY --unparse [--python 3.X] FILE     (prints unparse(parse(FILE)))

With --python 3.12 on an older interpreter, CPython cannot judge; the trees are
then compared with our own ast.dump (--dump-binary, `t2k-dump --python 3.12`).

Usage:
    tools/check_roundtrip.py --binary build/t2k-dump --sample 2000 --seed 1
    tools/check_roundtrip.py --binary build/t2k-dump path/to/file.py ...
Exit status: 0 when every checked file passes.
"""

from __future__ import annotations

import argparse
import ast
import collections
import concurrent.futures
import io
import os
import random
import subprocess
import sys
import sysconfig
import tempfile
import tokenize

UTF8_COOKIE = "# -*- coding: utf-8 -*-"


def stdlib_files(include_site_packages: bool) -> list[str]:
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if not include_site_packages and "site-packages" in dirnames:
            dirnames.remove("site-packages")
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".py"):
                found.append(os.path.join(dirpath, name))
    return found


def comments_of(source: bytes) -> collections.Counter | None:
    """The `#` comments of a source, trailing whitespace removed; None if it cannot
    be tokenized."""
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(source).readline))
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return collections.Counter(
        t.string.rstrip(" \t\f") for t in tokens if t.type == tokenize.COMMENT
    )


def cpython_dump(source: bytes) -> str:
    return ast.dump(ast.parse(source))


class Checker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.binary = args.binary
        self.dump_binary = args.dump_binary
        self.python = args.python
        self.timeout = args.timeout
        running = f"{sys.version_info[0]}.{sys.version_info[1]}"
        self.use_cpython = args.python == running

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(argv), capture_output=True, timeout=self.timeout, check=False
        )

    def unparse(self, path: str) -> subprocess.CompletedProcess:
        return self.run(self.binary, "--unparse", "--python", self.python, path)

    def our_dump(self, path: str) -> str | None:
        result = self.run(self.dump_binary, "--python", self.python, path)
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None

    def check(self, path: str) -> tuple[str, str]:
        """Returns (status, detail); status is pass, fail, skip or parser."""
        with open(path, "rb") as f:
            original = f.read()
        if self.use_cpython:
            try:
                expected = cpython_dump(original)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
                return "skip", f"CPython rejects it: {type(e).__name__}"
        first = self.unparse(path)
        if first.returncode != 0:
            return "parser", first.stderr.decode("utf-8", "replace").strip()
        output = first.stdout
        with tempfile.NamedTemporaryFile(suffix=".py", delete=False) as tmp:
            tmp.write(output)
            out_path = tmp.name
        try:
            if self.use_cpython:
                try:
                    actual = cpython_dump(output)
                except (SyntaxError, ValueError) as e:
                    return "fail", f"CPython rejects the output: {e!r}"
                if actual != expected:
                    return "fail", "CPython parses the output to a different tree"
            else:
                expected_ours = self.our_dump(path)
                actual_ours = self.our_dump(out_path)
                if expected_ours is None or actual_ours != expected_ours:
                    return "fail", "our ast.dump of the output differs"
            second = self.unparse(out_path)
            if second.returncode != 0:
                return "fail", "our parser rejects the output: " + second.stderr.decode(
                    "utf-8", "replace"
                ).strip()
            idempotent = second.stdout == output
            before = comments_of(original)
            after = comments_of(output)
            if before is not None:
                if after is None:
                    return "fail", "the output cannot be tokenized"
                after[UTF8_COOKIE] -= 1 if before[UTF8_COOKIE] < after[UTF8_COOKIE] else 0
                lost = before - after
                added = after - before
                if lost:
                    return "fail", f"comments lost: {sorted(lost.elements())[:3]!r}"
                if added:
                    return "fail", f"comments added: {sorted(added.elements())[:3]!r}"
            return "pass", "idempotent" if idempotent else "not idempotent"
        finally:
            os.unlink(out_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="Python files (default: a stdlib sample)")
    parser.add_argument("--binary", required=True, help="engine binary with --unparse")
    parser.add_argument("--dump-binary", help="t2k-dump, for --python 3.12 (default: --binary)")
    parser.add_argument("--python", default=f"{sys.version_info[0]}.{sys.version_info[1]}")
    parser.add_argument("--sample", type=int, default=2000, help="stdlib files to sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-site-packages", action="store_true",
                        help="sample the standard library proper only")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every file")
    args = parser.parse_args()
    args.dump_binary = args.dump_binary or args.binary

    files = args.files
    if not files:
        pool = stdlib_files(not args.no_site_packages)
        files = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
        print(f"sampled {len(files)} of {len(pool)} files under "
              f"{sysconfig.get_paths()['stdlib']} (seed {args.seed})")

    checker = Checker(args)
    counts: collections.Counter = collections.Counter()
    not_idempotent = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(checker.check, f): f for f in files}
        for future in concurrent.futures.as_completed(futures):
            path = futures[future]
            try:
                status, detail = future.result()
            except subprocess.TimeoutExpired:
                status, detail = "fail", "timeout"
            except OSError as e:  # the binary could not be run
                status, detail = "fail", f"cannot run: {e}"
            counts[status] += 1
            if status == "pass" and detail == "not idempotent":
                not_idempotent.append(path)
            if status != "pass" or args.verbose:
                print(f"{status.upper():6} {path}: {detail}")

    checked = counts["pass"] + counts["fail"]
    print(f"passed {counts['pass']} of {checked} "
          f"(skipped {counts['skip']} that CPython rejects, "
          f"{counts['parser']} that our parser rejects); "
          f"{checked - counts['fail'] - len(not_idempotent)} idempotent")
    for path in not_idempotent[:20]:
        print(f"  not idempotent: {path}")
    return 0 if counts["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
